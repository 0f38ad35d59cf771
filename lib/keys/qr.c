/* qr.c - a public key as a QR code (see qr.h). */
#include "keys/qr.h"
#include "base/b64.h"
#include "base/err.h"
#include "base/fileio.h"
#include "format/rsa.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include <png.h>
#include <qrencode.h>

/* zbarimg writes "QR-Code:" before the text unless given --raw. */
#define ZBAR_PREFIX "QR-Code:"
/* QR_PREFIX without its version: what tells an old program's code (or
 * a newer one's) from text that is no key at all. */
#define KEY_PREFIX "e2e-key:"
/* The quiet zone of the PNG image: the standard's 4 modules, as an image
 * may be shown anywhere, with nothing around it. */
#define PNG_QUIET 4

/*
 * The checks every key in a QR code passes: those of every tool, and a
 * size a code can carry. Returns 0 or 65 (reported).
 */
static int
check_key(EVP_PKEY *k, const char *what, struct report *rep)
{
	int rc, bits;

	if ((rc = rsa_check(k, what, rep)) != 0)
		return rc;
	if ((bits = EVP_PKEY_get_bits(k)) > QR_MAX_BITS)
		return report_error(rep, E2E_EX_DATAERR, "%s is a %d-bit RSA "
		    "key; a QR code carries at most %d bits", what, bits,
		    QR_MAX_BITS);
	return 0;
}

int
qr_payload(const char *name, EVP_PKEY *pub, struct buf *out,
    struct report *rep)
{
	char kid[KID_SIZE];
	unsigned char *der = NULL;
	size_t nlen = name != NULL ? strlen(name) : 0;
	int der_len, rc;

	buf_clear(out);
	if (nlen > 0 && !name_valid(name, nlen)) {
		/* Not repeated: it may hold anything. */
		return report_error(rep, E2E_EX_DATAERR, "cannot make a key QR "
		    "code: the name is not a valid user name");
	}
	if ((rc = check_key(pub, "the key", rep)) != 0 ||
	    (rc = jwk_thumbprint(pub, kid, rep)) != 0)
		return rc;
	/* The public half only, whatever pub holds. */
	if ((der_len = i2d_PUBKEY(pub, &der)) <= 0) {
		rc = report_crypto(rep, "encoding the public key");
		goto out;
	}
	if (buf_append_str(out, QR_PREFIX) != 0 ||
	    buf_append(out, name, nlen) != 0 ||
	    buf_append_str(out, ":") != 0 ||
	    buf_append_str(out, kid) != 0 ||
	    buf_append_str(out, ":") != 0 ||
	    b64url_append(out, der, (size_t)der_len) != 0 ||
	    buf_terminate(out) != 0) {
		rc = report_oom(rep);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(der);
	if (rc != 0)
		buf_clear(out);
	return rc;
}

static int
refuse(struct report *rep, const char *msg)
{
	return report_error(rep, E2E_EX_DATAERR, "%s", msg);
}

/*
 * Decodes the SPKI part and runs every check on the key it holds.
 * Returns 0 with *out set, or 65 reported with the reason.
 */
static int
parse_key(const char *b64, size_t len, EVP_PKEY **out, struct report *rep)
{
	struct report checked = { 0 };
	uint8_t der[QR_TEXT_MAX];
	unsigned char *again = NULL;
	const unsigned char *p = der;
	long long n;
	int again_len, rc;
	EVP_PKEY *k = NULL;

	*out = NULL;
	if (len == 0)
		return refuse(rep, "the key is missing");
	/* The caller's cap on the text makes this hold; checked anyway, as
	 * der is on the stack. */
	if (b64url_declen(len) > sizeof(der))
		return refuse(rep, "the key is too long");
	if ((n = b64url_decode(b64, len, der)) < 0)
		return refuse(rep, "the key is not base64url");
	if ((k = d2i_PUBKEY(NULL, &p, (long)n)) == NULL) {
		rc = refuse(rep, "the key is not a DER public key "
		    "(SubjectPublicKeyInfo)");
		goto out;
	}
	if (p != der + n) {
		rc = refuse(rep, "the key is followed by other bytes");
		goto out;
	}
	/* One text per key: BER leniencies the decoder lets through (long
	 * length forms, say) would give a key two QR codes. */
	again_len = i2d_PUBKEY(k, &again);
	if (again_len != (int)n || memcmp(again, der, (size_t)n) != 0) {
		rc = refuse(rep, "the key is not in canonical DER form");
		goto out;
	}
	if (check_key(k, "the key", &checked) != 0) {
		rc = refuse(rep, report_message(&checked)[0] != '\0' ?
		    report_message(&checked) : "the key is refused");
		goto out;
	}
	*out = k;
	k = NULL;
	rc = 0;
out:
	OPENSSL_free(again);
	EVP_PKEY_free(k);
	ERR_clear_error();
	return rc;
}

int
qr_payload_parse(const char *text, size_t len,
    char name[NAME_LEN_MAX + 1], char kid[KID_SIZE], EVP_PKEY **pub,
    struct report *rep)
{
	const size_t plen = sizeof(QR_PREFIX) - 1;
	const char *c1, *c2, *spki, *end;
	struct report computed = { 0 };
	char thumb[KID_SIZE];
	size_t i, nlen;
	EVP_PKEY *k = NULL;
	int rc;

	*pub = NULL;
	name[0] = '\0';
	kid[0] = '\0';
	if (len > QR_TEXT_MAX)
		return refuse(rep, "the text is too long to be a "
		    "key QR code");
	if (len >= sizeof(ZBAR_PREFIX) - 1 &&
	    memcmp(text, ZBAR_PREFIX, sizeof(ZBAR_PREFIX) - 1) == 0) {
		text += sizeof(ZBAR_PREFIX) - 1;
		len -= sizeof(ZBAR_PREFIX) - 1;
	}
	if (len >= 2 && text[len - 2] == '\r' && text[len - 1] == '\n')
		len -= 2;
	else if (len >= 1 && text[len - 1] == '\n')
		len--;
	if (len == 0)
		return refuse(rep, "the text is empty");
	/* Only printable ASCII without spaces from here on: so every
	 * check below sees text, and nothing is hidden after a NUL. */
	if (memchr(text, '\0', len) != NULL)
		return refuse(rep, "the text holds a NUL byte");
	for (i = 0; i < len; i++)
		if ((unsigned char)text[i] <= ' ' ||
		    (unsigned char)text[i] > '~')
			return refuse(rep, "the text holds a space, "
			    "a control character or a non-ASCII byte");
	if (len < sizeof(KEY_PREFIX) - 1 ||
	    memcmp(text, KEY_PREFIX, sizeof(KEY_PREFIX) - 1) != 0)
		return refuse(rep, "not an e2e-chat key: the text "
		    "does not begin with e2e-key:");
	if (len < plen || memcmp(text, QR_PREFIX, plen) != 0)
		return refuse(rep, "a key QR code of another "
		    "version: this program reads v1");
	end = text + len;
	text += plen;
	/* NAME:KID:SPKI, and none of them holds a ':'. */
	if ((c1 = memchr(text, ':', (size_t)(end - text))) == NULL ||
	    (c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1))) == NULL)
		return refuse(rep, "parts are missing: NAME:KID:KEY "
		    "should follow e2e-key:v1:");
	spki = c2 + 1;
	if (memchr(spki, ':', (size_t)(end - spki)) != NULL)
		return refuse(rep, "too many parts: NAME:KID:KEY "
		    "should follow e2e-key:v1:");
	nlen = (size_t)(c1 - text);
	if (nlen > 0 && !name_valid(text, nlen))
		return refuse(rep, "the name is not a valid user "
		    "name");
	if (!jwk_is_kid(c1 + 1, (size_t)(c2 - c1 - 1)))
		return refuse(rep, "the key id is malformed");
	if ((rc = parse_key(spki, (size_t)(end - spki), &k, rep)) != 0)
		return rc;
	if ((rc = jwk_thumbprint(k, thumb, &computed)) != 0) {
		report_error(rep, rc, "%s", report_message(&computed)[0] !=
		    '\0' ? report_message(&computed) :
		    "cannot compute the key id");
		goto out;
	}
	/* The id a user compares must be the key's: a code made to show
	 * one id while carrying another key stops here. */
	if (memcmp(thumb, c1 + 1, KID_LEN) != 0) {
		rc = refuse(rep, "the key id does not match the key");
		goto out;
	}
	memcpy(name, text, nlen);
	name[nlen] = '\0';
	memcpy(kid, thumb, KID_SIZE);
	*pub = k;
	k = NULL;
out:
	EVP_PKEY_free(k);
	return rc;
}

/*
 * The QR code of text: 8-bit mode, so the text is taken byte for byte;
 * level M, which survives a smudged screen or a glare spot; the smallest
 * version it fits. Returns the code, or NULL (reported).
 */
static QRcode *
encode(const char *text, struct report *rep)
{
	size_t len = strlen(text);
	QRcode *qr;

	if (len == 0 || len > INT_MAX) {
		report_error(rep, E2E_EX_SOFTWARE, "cannot make a QR code of "
		    "%zu bytes", len);
		return NULL;
	}
	errno = 0;
	qr = QRcode_encodeData((int)len, (const unsigned char *)text, 0,
	    QR_ECLEVEL_M);
	if (qr == NULL) {
		if (errno == ERANGE)
			report_error(rep, E2E_EX_SOFTWARE, "cannot make a QR "
			    "code: %zu bytes are more than one holds", len);
		else
			report_errno(rep, E2E_EX_SOFTWARE, "cannot make a QR "
			    "code");
		return NULL;
	}
	if (qr->data == NULL || qr->width < 21 || qr->width > 177) {
		report_error(rep, E2E_EX_SOFTWARE, "cannot make a QR code: "
		    "libqrencode returned a %d-module code", qr->width);
		QRcode_free(qr);
		return NULL;
	}
	return qr;
}

/* 1 when the module at (x, y), counted from the corner of the quiet
 * zone, is dark. The quiet zone is light. */
static int
is_dark(const QRcode *qr, int quiet, int x, int y)
{
	x -= quiet;
	y -= quiet;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 0;
	return qr->data[(size_t)y * (size_t)qr->width + (size_t)x] & 1;
}

int
qr_render_text(const char *text, int quiet, int invert, struct sink *out,
    struct report *rep)
{
	/* Indexed by (top drawn) * 2 + (bottom drawn). */
	static const char *const cell[4] = {
		" ", "\xe2\x96\x84", "\xe2\x96\x80", "\xe2\x96\x88"
	};
	struct buf b = BUF_INIT;
	QRcode *qr = NULL;
	int side, x, y, top, bottom, rc = E2E_EX_SOFTWARE;

	if (quiet < 0 || quiet > QR_QUIET_MAX)
		return report_error(rep, E2E_EX_SOFTWARE, "a QR code's quiet "
		    "zone must be 0 to %d modules", QR_QUIET_MAX);
	invert = invert != 0;
	if ((qr = encode(text, rep)) == NULL)
		goto out;
	side = qr->width + 2 * quiet;
	for (y = 0; y < side; y += 2) {
		for (x = 0; x < side; x++) {
			/* A block is drawn where the module's colour is the
			 * text colour's: light ones unless inverted. Below
			 * the last row (side is odd when quiet is even)
			 * nothing is drawn: the terminal's own background. */
			top = is_dark(qr, quiet, x, y) == invert;
			bottom = y + 1 < side &&
			    is_dark(qr, quiet, x, y + 1) == invert;
			if (buf_append_str(&b, cell[top * 2 + bottom]) != 0) {
				rc = report_oom(rep);
				goto out;
			}
		}
		if (buf_append_str(&b, "\n") != 0) {
			rc = report_oom(rep);
			goto out;
		}
	}
	rc = sink_write(out, b.p, b.len);
out:
	QRcode_free(qr);
	buf_free(&b);
	return rc;
}

static void
png_fail(png_structp png, png_const_charp msg)
{
	report_error(png_get_error_ptr(png), E2E_EX_SOFTWARE, "cannot make "
	    "the PNG image: %s", msg);
	png_longjmp(png, 1);
}

static void
png_warning_ignored(png_structp png, png_const_charp msg)
{
	/* Warnings are about ancillary data this writer never sets. */
	(void)png;
	(void)msg;
}

static void
png_append(png_structp png, png_bytep p, size_t n)
{
	if (buf_append(png_get_io_ptr(png), p, n) != 0)
		png_error(png, "out of memory");
}

static void
png_no_flush(png_structp png)
{
	(void)png;
}

/* The libpng calls that may jump back (png_error): called under the
 * setjmp of png_encode, with nothing of their own to clean up. */
static void
png_rows(png_structp png, png_infop info, const QRcode *qr, int scale,
    unsigned char *row, size_t rowbytes)
{
	size_t side = (size_t)(qr->width + 2 * PNG_QUIET) * (size_t)scale;
	size_t px;
	int x, y, i;

	png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 1,
	    PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < qr->width + 2 * PNG_QUIET; y++) {
		/* 1-bit gray, most significant bit first: 1 is white. */
		memset(row, 0xff, rowbytes);
		for (x = 0; x < qr->width + 2 * PNG_QUIET; x++) {
			if (!is_dark(qr, PNG_QUIET, x, y))
				continue;
			for (i = 0; i < scale; i++) {
				px = (size_t)x * (size_t)scale + (size_t)i;
				row[px / 8] &=
				    (unsigned char)~(0x80u >> (px % 8));
			}
		}
		for (i = 0; i < scale; i++)
			png_write_row(png, row);
	}
	png_write_end(png, info);
}

/*
 * The PNG image of qr into out. libpng reports errors by longjmp: this
 * is the one function with a setjmp, and everything it frees was made
 * before it, so a jump skips no cleanup. Returns 0 or 70 (reported).
 */
static int
png_encode(const QRcode *qr, int scale, struct buf *out, struct report *rep)
{
	size_t side = (size_t)(qr->width + 2 * PNG_QUIET) * (size_t)scale;
	size_t rowbytes = (side + 7) / 8;
	unsigned char *row = NULL;
	png_structp png = NULL;
	png_infop info = NULL;
	volatile int rc = E2E_EX_SOFTWARE;

	if ((row = malloc(rowbytes)) == NULL) {
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		goto out;
	}
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, rep, png_fail,
	    png_warning_ignored);
	if (png == NULL || (info = png_create_info_struct(png)) == NULL) {
		report_error(rep, E2E_EX_SOFTWARE, "cannot make the PNG image: "
		    "out of memory");
		goto out;
	}
	/* The io pointer is set here, not in png_rows, so that png_append
	 * finds out whatever happens. */
	png_set_write_fn(png, out, png_append, png_no_flush);
	if (setjmp(png_jmpbuf(png)) == 0) {
		png_rows(png, info, qr, scale, row, rowbytes);
		rc = 0;
	}
out:
	if (png != NULL)
		png_destroy_write_struct(&png, &info);
	free(row);
	if (rc != 0)
		buf_free(out);
	return rc;
}

int
qr_write_png(const char *text, int scale, const char *path,
    struct report *rep)
{
	struct outfile o = OUTFILE_INIT;
	struct buf png = BUF_INIT;
	QRcode *qr = NULL;
	int rc;

	if (scale < QR_SCALE_MIN || scale > QR_SCALE_MAX)
		return report_error(rep, E2E_EX_SOFTWARE, "a QR code's PNG "
		    "scale must be %d to %d pixels per module", QR_SCALE_MIN,
		    QR_SCALE_MAX);
	if ((qr = encode(text, rep)) == NULL) {
		rc = E2E_EX_SOFTWARE;
		goto out;
	}
	/* The whole image is made before the output is opened: a failure
	 * leaves no file, and no jump can cross the outfile's cleanup. */
	if ((rc = png_encode(qr, scale, &png, rep)) != 0 ||
	    (rc = outfile_open(&o, path, 0644, 1, rep)) != 0)
		goto out;
	if (outfile_is_terminal(&o)) {
		rc = report_error(rep, E2E_EX_USAGE, "not writing a PNG image "
		    "to a terminal");
		report_hint(rep, "give a file name, or redirect standard "
		    "output");
		goto out;
	}
	if ((rc = outfile_write(&o, png.p, png.len, rep)) != 0)
		goto out;
	rc = outfile_commit(&o, 0, rep);
out:
	if (rc != 0)
		outfile_abort(&o);
	QRcode_free(qr);
	buf_free(&png);
	return rc;
}
