/*
 * qr.h - a public key as a QR code, so that two people in the same room
 * can swap keys by pointing a phone at a screen instead of reading out
 * 43-character key ids: `e2e-keys qr` shows it, `e2e-keys import` reads
 * the scanned text back. The key id inside is checked against the key,
 * so the id import shows is the id of the key it brings in: a code
 * cannot show one id and carry another key. (Whose key it is, only the
 * people comparing ids can tell: anyone can make a valid code.)
 *
 * The text a QR code holds (ASCII, one line):
 *
 *	e2e-key:v1:NAME:KID:SPKI
 *
 *	NAME	the user name (names.h), or empty
 *	KID	the key id: RFC 7638 thumbprint, 43 characters (jwk.h)
 *	SPKI	the DER SubjectPublicKeyInfo of the key, base64url without
 *		padding, in its one canonical form
 *
 * No part can hold a ':', so the text splits one way only. The key must
 * be RSA, 2048 to 4096 bits, e = 65537. At level M a 2048-bit key makes
 * a code of version 16 to 18 (447 to 512 bytes; 81 to 89 modules a
 * side, as the name is empty to 64 characters long), a 4096-bit key
 * version 23 (790 to 854 bytes, 109 modules); larger keys would make
 * codes too dense to scan from a screen.
 */
#ifndef E2E_QR_H
#define E2E_QR_H

#include <stddef.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "base/names.h"
#include "base/report.h"
#include "format/jwk.h"

#define QR_PREFIX "e2e-key:v1:"
/* The largest key a QR code carries. */
#define QR_MAX_BITS 4096
/* Longer scanned text is refused before it is looked at: the largest
 * valid one (4096 bits, a 64-character name) is under 900 bytes. */
#define QR_TEXT_MAX 2048
/* The range of qr_write_png's scale (pixels per module). */
#define QR_SCALE_MIN 1
#define QR_SCALE_MAX 32
/* The range of qr_render_text's quiet zone (modules). */
#define QR_QUIET_MAX 8

/*
 * The text of pub's QR code into out (replacing its content,
 * NUL-terminated, not counted in len). name is a user name, or NULL or ""
 * for none. Returns 0, 65 when pub is not a key a QR code carries (not
 * RSA, not 2048 to 4096 bits, e != 65537) or name is not a valid user
 * name, or 70; reported.
 */
int qr_payload(const char *name, EVP_PKEY *pub, struct buf *out,
    struct report *rep);

/*
 * Reads a QR code's text (len bytes, untrusted) back. Also accepts
 * zbarimg's "QR-Code:" prefix and one final newline ("\n" or "\r\n"),
 * nothing else around it. Checks every part: prefix and version, the
 * name (valid or empty), the form of the key id, the key (canonical DER
 * SubjectPublicKeyInfo, then rsa_check and at most QR_MAX_BITS), and that
 * the key id is the key's thumbprint. Returns 0 with *pub the key (the
 * caller frees it), name and kid filled; or 65 (70 for an internal
 * error) with *pub NULL, name and kid empty and the reason reported in
 * rep (one error line, printable ASCII: it never repeats the input).
 */
int qr_payload_parse(const char *text, size_t len,
    char name[NAME_LEN_MAX + 1], char kid[KID_SIZE], EVP_PKEY **pub,
    struct report *rep);

/*
 * Renders text (a C string) as a QR code for a terminal: libqrencode,
 * 8-bit mode, error correction level M, the smallest version that fits.
 * Each character cell holds two modules, one above the other, drawn with
 * space and the UTF-8 half and full blocks (U+2580, U+2584, U+2588),
 * inside a quiet zone of quiet modules (0 to QR_QUIET_MAX; the standard
 * asks 4, a terminal's own margin adds to it, 2 is enough in practice).
 *
 * A block is drawn in the terminal's text colour, a space shows its
 * background. By default (invert 0) the LIGHT modules are the blocks: on
 * the usual terminal, light text on a dark background, the code then
 * comes out dark on light, as the standard wants and as every scanner
 * reads (the same choice as `qrencode -t UTF8`). invert 1 draws the dark
 * modules as blocks, for dark text on a light background. The wrong one
 * of the two gives a light-on-dark code, which only some scanners read.
 * Every line is (modules + 2 * quiet) characters wide, ending in "\n":
 * 85 to 93 for a 2048-bit key with quiet 2, more than an 80-column
 * terminal shows (the caller may check the width and suggest a PNG).
 * Returns 0 or an exit code (70, or the sink's), reported.
 */
int qr_render_text(const char *text, int quiet, int invert, struct sink *out,
    struct report *rep);

/*
 * Writes the QR code of text (same encoding as above) as a PNG image to
 * path ("-" or NULL: standard output, refused when it is a terminal):
 * 1-bit grayscale, black modules on white, scale pixels per module
 * (QR_SCALE_MIN to QR_SCALE_MAX), a quiet zone of 4 modules all round, so
 * the image is (modules + 8) * scale pixels a side. Written atomically
 * (lib/base/fileio.h), mode 0644 less the umask, replacing an existing file
 * unless it holds a private key. Returns 0, or 64 (standard output is a
 * terminal), 73, 74 or 70; reported.
 */
int qr_write_png(const char *text, int scale, const char *path,
    struct report *rep);

#endif
