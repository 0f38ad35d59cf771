/* seed.c - the original E2E Chat format (see seed.h). */
#include "format/seed.h"
#include "base/charset.h"
#include "base/err.h"
#include "base/jsonio.h"
#include "format/aead.h"
#include "format/crypto.h"
#include "format/rsa.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#define SEED_KEYS 64	/* EncKey || HMACKey */

/* One byte as json.dumps writes it (ensure_ascii: only space to "~" are
 * literal), with "&" and "+" replaced as the original client did. */
static int
put_latin1_byte(struct buf *b, uint8_t c)
{
	char esc[8];

	/* A table: one case a line. */
	/* clang-format off */
	switch (c) {
	case '"':	return buf_append(b, "\\\"", 2);
	case '\\':	return buf_append(b, "\\\\", 2);
	case '\n':	return buf_append(b, "\\n", 2);
	case '\r':	return buf_append(b, "\\r", 2);
	case '\t':	return buf_append(b, "\\t", 2);
	case '\b':	return buf_append(b, "\\b", 2);
	case '\f':	return buf_append(b, "\\f", 2);
	case '&':	return buf_append(b, "ampersand", 9);
	case '+':	return buf_append(b, "plusplus", 8);
	default:
		break;
	}
	/* clang-format on */
	if (c < 0x20 || c > 0x7e) {
		snprintf(esc, sizeof(esc), "\\u%04x", c);
		return buf_append(b, esc, 6);
	}
	return buf_append(b, &c, 1);
}

static int
put_member(struct buf *b, const char *prefix, const uint8_t *p, size_t n)
{
	size_t i;

	if (buf_append_str(b, prefix) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (put_latin1_byte(b, p[i]) != 0)
			return -1;
	return buf_append(b, "\"", 1);
}

int
seed_encrypt(EVP_PKEY *pub, const uint8_t *pt, size_t pt_len,
    struct sink *out, struct report *rep)
{
	uint8_t keys[SEED_KEYS], iv[16], rsa[RSA_MAX_BYTES], mac[EVP_MAX_MD_SIZE];
	uint8_t *ct = NULL;
	struct buf text = BUF_INIT;
	size_t rsa_len, ct_len = 0, mac_len = 0;
	int rc;

	if ((rc = crypto_random(keys, sizeof(keys), rep)) != 0 ||
	    (rc = crypto_random(iv, sizeof(iv), rep)) != 0)
		goto out;
	rc = E2E_EX_SOFTWARE;
	if ((ct = malloc(pt_len + 32)) == NULL) {
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = rsa_oaep_encrypt(pub, keys, sizeof(keys), rsa,
	    &rsa_len, rep)) != 0)
		goto out;
	if (aes_cbc_encrypt("AES-256-CBC", keys, iv, pt, pt_len, ct,
	    &ct_len, rep) != 0) {
		rc = report_crypto(rep, "AES-CBC encryption");
		goto out;
	}
	if (crypto_hmac("SHA256", keys + 32, 32, ct, ct_len, mac,
	    &mac_len, rep) != 0 || mac_len != 32) {
		rc = report_crypto(rep, "HMAC");
		goto out;
	}
	if (put_member(&text, "{\"RSACipher\": \"", rsa, rsa_len) != 0 ||
	    put_member(&text, ", \"ct\": \"", ct, ct_len) != 0 ||
	    put_member(&text, ", \"iv\": \"", iv, sizeof(iv)) != 0 ||
	    put_member(&text, ", \"tag\": \"", mac, 32) != 0 ||
	    buf_append(&text, "}\n", 2) != 0) {
		rc = report_oom(rep);
		goto out;
	}
	rc = sink_write(out, text.p, text.len);
out:
	wipe(keys, sizeof(keys));
	free(ct);
	buf_free(&text);
	return rc;
}

int
seed_text_from_utf8(const uint8_t *text, size_t len, struct buf *out,
    struct report *rep)
{
	struct latin1_error e;
	int rc;

	out->secret = 1;
	if ((rc = latin1_from_utf8(text, len, out, &e)) == 0)
		return 0;
	buf_clear(out);
	if (rc == -2)
		return report_oom(rep);
	if (e.invalid) {
		report_error(rep, E2E_EX_DATAERR, "the message is not UTF-8 "
		    "text: byte 0x%02X at character %zu (byte offset %zu) is "
		    "not part of a valid character", (unsigned)e.cp, e.index,
		    e.offset);
		report_hint(rep,
		    "the seed format's text is Latin-1, converted from "
		    "UTF-8; --binary sends the bytes as they are");
	} else {
		report_error(rep, E2E_EX_DATAERR, "the message holds U+%04X at "
		    "character %zu (byte offset %zu), which the seed format "
		    "cannot carry: its text is Latin-1 (U+0000 to U+00FF)",
		    (unsigned)e.cp, e.index, e.offset);
		report_hint(rep,
		    "send it as a JWE (without --format seed), or send "
		    "the bytes as they are with --binary");
	}
	return E2E_EX_DATAERR;
}

int
seed_text_to_utf8(const uint8_t *pt, size_t len, struct buf *out)
{
	out->secret = 1;
	/* Only running out of memory fails (the caller says so). */
	return latin1_to_utf8(pt, len, out) == 0 ? 0 : E2E_EX_SOFTWARE;
}

void
seed_unreplace(char *text, size_t *len)
{
	size_t i = 0, o = 0, n = *len;

	/* One left-to-right pass: neither replacement can produce or split
	 * the other's token, so the order of the two undos does not matter. */
	while (i < n) {
		if (text[i] == 'a' && n - i >= 9 &&
		    memcmp(text + i, "ampersand", 9) == 0) {
			text[o++] = '&';
			i += 9;
		} else if (text[i] == 'p' && n - i >= 8 &&
		    memcmp(text + i, "plusplus", 8) == 0) {
			text[o++] = '+';
			i += 8;
		} else {
			text[o++] = text[i++];
		}
	}
	*len = o;
}

/* Converts a JSON string (UTF-8) whose code points are all at most U+00FF
 * to the Latin-1 bytes it stands for. */
static int
latin1(const json_t *obj, const char *name, struct buf *out,
    struct report *rep)
{
	const unsigned char *s;
	size_t len, i;

	buf_clear(out);
	s = (const unsigned char *)jsonio_str(obj, name, &len);
	if (s == NULL) {
		report_error(rep, E2E_EX_DATAERR,
		    "\"%s\" is missing or not a string", name);
		return -1;
	}
	if (buf_reserve(out, len) != 0) {
		report_oom(rep);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (s[i] < 0x80) {
			out->p[out->len++] = s[i];
		} else if ((s[i] == 0xc2 || s[i] == 0xc3) && i + 1 < len &&
		    (s[i + 1] & 0xc0) == 0x80) {
			out->p[out->len++] = (uint8_t)((s[i] & 0x03) << 6 |
			    (s[i + 1] & 0x3f));
			i++;
		} else {
			report_error(rep, E2E_EX_DATAERR, "\"%s\" holds a "
			    "character above U+00FF, which is not a Latin-1 "
			    "byte", name);
			return -1;
		}
	}
	return 0;
}

int
seed_decrypt(const json_t *obj, EVP_PKEY *priv, struct buf *pt,
    struct seed_result *res, struct report *rep)
{
	static const char *const members[] = { "RSACipher", "ct", "iv", "tag",
		NULL };
	struct buf rsa = BUF_INIT, ct = BUF_INIT, iv = BUF_INIT, tag = BUF_INIT;
	uint8_t keys[RSA_MAX_BYTES], mac[EVP_MAX_MD_SIZE];
	const char *extra;
	size_t keys_len = 0, mac_len = 0;
	int rc = E2E_EX_DATAERR, ok;

	memset(res, 0, sizeof(*res));
	buf_clear(pt);
	if ((extra = jsonio_unknown_member(obj, members)) != NULL) {
		report_error(rep, E2E_EX_DATAERR, "unexpected member \"%.40s\"",
		    extra);
		goto out;
	}
	if (latin1(obj, "RSACipher", &rsa, rep) != 0 ||
	    latin1(obj, "ct", &ct, rep) != 0 ||
	    latin1(obj, "iv", &iv, rep) != 0 ||
	    latin1(obj, "tag", &tag, rep) != 0)
		goto out;
	if (rsa.len != rsa_size(priv) || iv.len != 16 || tag.len != 32 ||
	    ct.len == 0 || ct.len % 16 != 0) {
		report_error(rep, E2E_EX_DATAERR,
		    "a member has the wrong length");
		goto out;
	}
	/* As for the JWE: a failed unwrap goes on with random keys. */
	ok = rsa_oaep_decrypt(priv, rsa.p, rsa.len, keys, sizeof(keys),
	    &keys_len) == 0 && keys_len == SEED_KEYS;
	if (!ok && crypto_random(keys, SEED_KEYS, rep) != 0) {
		rc = E2E_EX_SOFTWARE;
		goto out;
	}
	if (crypto_hmac("SHA256", keys + 32, 32, ct.p, ct.len, mac,
	    &mac_len, rep) != 0 || mac_len != 32) {
		rc = report_crypto(rep, "HMAC-SHA256");
		goto out;
	}
	if (CRYPTO_memcmp(mac, tag.p, 32) != 0)
		goto out;
	pt->secret = 1;
	if (buf_reserve(pt, ct.len) != 0) {
		rc = report_oom(rep);
		goto out;
	}
	if (aes_cbc_decrypt("AES-256-CBC", keys, iv.p, ct.p, ct.len, pt->p,
	    &pt->len) != 0) {
		buf_clear(pt);
		goto out;
	}
	res->same_keys = CRYPTO_memcmp(keys, keys + 32, 32) == 0;
	rc = 0;
out:
	wipe(keys, sizeof(keys));
	wipe(mac, sizeof(mac));
	buf_free(&rsa);
	buf_free(&ct);
	buf_free(&iv);
	buf_free(&tag);
	return rc;
}
