/*
 * seed.h - the original E2E Chat message format, kept so the original
 * Python client can talk to these tools:
 *
 *   {"RSACipher": ..., "ct": ..., "iv": ..., "tag": ...}
 *
 * RSACipher is RSA-OAEP-256 of EncKey || HMACKey (two fresh 32-byte
 * keys); ct is AES-256-CBC (PKCS#7) of the plaintext under EncKey with
 * the 16-byte IV iv; tag is HMAC-SHA256 under HMACKey of ct alone. Each
 * byte string is a JSON string of its bytes read as Latin-1, written
 * exactly as Python's json.dumps writes it, and then every "&" in the
 * text is replaced by "ampersand" and every "+" by "plusplus".
 *
 * The format authenticates neither its IV nor its sender: readers warn.
 */
#ifndef E2E_SEED_H
#define E2E_SEED_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "base/buf.h"
#include "base/report.h"

/* Writes a seed message for pub (then "\n") to out. Returns 0 or an exit
 * code (in rep). */
int seed_encrypt(EVP_PKEY *pub, const uint8_t *pt, size_t pt_len,
    struct sink *out, struct report *rep);

/*
 * The seed format's text is Latin-1: the original client encrypted
 * bytes(message, "latin-1") and showed .decode("latin-1"). This converts
 * UTF-8 text to the Latin-1 bytes to encrypt, into out (a secret
 * buffer). A character above U+00FF, or bytes that are not UTF-8, are
 * refused, naming the character (or byte) and where it stands. Returns 0,
 * 65 (in rep, with a hint) or 70.
 */
int seed_text_from_utf8(const uint8_t *text, size_t len, struct buf *out,
    struct report *rep);

/* A seed plaintext (Latin-1) as UTF-8 text, into out (a secret buffer).
 * Returns 0 or 70 (out of memory, nothing said: the caller reports it). */
int seed_text_to_utf8(const uint8_t *pt, size_t len, struct buf *out);

/* Undoes the "ampersand"/"plusplus" replacements in place. */
void seed_unreplace(char *text, size_t *len);

struct seed_result {
	int same_keys;	/* EncKey == HMACKey: a broken or malicious sender */
};

/*
 * Decrypts a parsed seed message (after seed_unreplace) for priv into pt
 * (a secret buffer). Returns 0; 65 when it cannot be decrypted, with an
 * error in rep only for structural problems; or 70 (in rep).
 */
int seed_decrypt(const json_t *obj, EVP_PKEY *priv, struct buf *pt,
    struct seed_result *res, struct report *rep);

#endif
