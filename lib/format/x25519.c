/* x25519.c - X25519 prekeys as JWKs (see x25519.h). */
#include "format/x25519.h"
#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/jsonio.h"
#include "format/crypto.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

int
x25519_public(const uint8_t priv[X25519_LEN], uint8_t pub[X25519_LEN],
    struct report *rep)
{
	EVP_PKEY *k;
	size_t n = X25519_LEN;
	int rc = 0;

	k = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv,
	    X25519_LEN);
	if (k == NULL || EVP_PKEY_get_raw_public_key(k, pub, &n) != 1 ||
	    n != X25519_LEN)
		rc = report_crypto(rep, "making an X25519 public key");
	EVP_PKEY_free(k);
	return rc;
}

int
x25519_generate(uint8_t priv[X25519_LEN], uint8_t pub[X25519_LEN],
    struct report *rep)
{
	int rc;

	/* Any 32 bytes are a key (RFC 7748 section 5 clamps them). */
	if ((rc = crypto_random(priv, X25519_LEN, rep)) != 0 ||
	    (rc = x25519_public(priv, pub, rep)) != 0)
		wipe(priv, X25519_LEN);
	return rc;
}

int
x25519_derive(const uint8_t priv[X25519_LEN],
    const uint8_t peer[X25519_LEN], uint8_t z[X25519_LEN],
    struct report *rep)
{
	EVP_PKEY *k = NULL, *p = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t acc = 0;
	size_t n = X25519_LEN, i;
	int rc = E2E_EX_SOFTWARE;

	k = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv,
	    X25519_LEN);
	p = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer,
	    X25519_LEN);
	if (k == NULL || p == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer_ex(ctx, p, 0) != 1) {
		rc = report_crypto(rep, "X25519 key agreement");
		goto out;
	}
	/* OpenSSL itself refuses an all-zero result: that is the same
	 * refusal, not an internal error. */
	if (EVP_PKEY_derive(ctx, z, &n) != 1 || n != X25519_LEN) {
		rc = E2E_EX_DATAERR;
		goto out;
	}
	for (i = 0; i < X25519_LEN; i++)
		acc |= z[i];
	rc = acc == 0 ? E2E_EX_DATAERR : 0;
out:
	if (rc != 0)
		wipe(z, X25519_LEN);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(k);
	EVP_PKEY_free(p);
	return rc;
}

int
x25519_pkid(const uint8_t pub[X25519_LEN], char pkid[KID_SIZE],
    struct report *rep)
{
	const EVP_MD *md = crypto_md("SHA256", rep);
	char x[X25519_B64_LEN + 1], text[96];
	uint8_t d[32];
	unsigned int dlen = 0;
	int n;

	b64url_encode(pub, X25519_LEN, x);
	x[X25519_B64_LEN] = '\0';
	/* RFC 7638 section 3.2: the required members, in order, no space. */
	n = snprintf(text, sizeof(text),
	    "{\"crv\":\"X25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
	if (md == NULL || n < 0 || (size_t)n >= sizeof(text) ||
	    EVP_Digest(text, (size_t)n, d, &dlen, md, NULL) != 1 ||
	    dlen != sizeof(d))
		return report_crypto(rep, "computing a prekey id");
	b64url_encode(d, sizeof(d), pkid);
	pkid[KID_LEN] = '\0';
	return 0;
}

json_t *
x25519_jwk(const uint8_t pub[X25519_LEN])
{
	char x[X25519_B64_LEN + 1];

	b64url_encode(pub, X25519_LEN, x);
	x[X25519_B64_LEN] = '\0';
	return json_pack("{s:s,s:s,s:s}", "kty", "OKP", "crv", "X25519",
	    "x", x);
}

/* The field's prime p = 2^255 - 19, little-endian as X25519's values. */
static const uint8_t field_p[X25519_LEN] = {
	0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
};

/* The u-coordinates of small order, reduced: 0, 1, the two points of
 * order 8 and p - 1 (order 4 on the twist, 2 and 4 for 0 and 1). */
static const uint8_t low_order[][X25519_LEN] = {
	{ 0 },
	{ 1 },
	{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae,
	  0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
	  0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd,
	  0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00 },
	{ 0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24,
	  0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
	  0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86,
	  0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57 },
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
};

/* 1 when the 256-bit u, reduced modulo p, is one of low_order. */
static int
low_order_mod_p(const uint8_t u[X25519_LEN])
{
	uint8_t v[X25519_LEN];
	unsigned int borrow, d;
	size_t i, k;
	int ge;

	memcpy(v, u, sizeof(v));
	/* 2^256 - 1 < 3p: at most two subtractions. */
	for (k = 0; k < 2; k++) {
		ge = 1;
		for (i = X25519_LEN; i-- > 0;)
			if (v[i] != field_p[i]) {
				ge = v[i] > field_p[i];
				break;
			}
		if (!ge)
			break;
		borrow = 0;
		for (i = 0; i < X25519_LEN; i++) {
			d = (unsigned int)v[i] - field_p[i] - borrow;
			v[i] = (uint8_t)d;
			borrow = (d >> 8) & 1;
		}
	}
	for (k = 0; k < sizeof(low_order) / sizeof(low_order[0]); k++)
		if (memcmp(v, low_order[k], X25519_LEN) == 0)
			return 1;
	return 0;
}

int
x25519_low_order(const uint8_t pub[X25519_LEN])
{
	uint8_t masked[X25519_LEN];

	/* Both readings: the whole 256 bits, and RFC 7748's, bit 255
	 * cleared (what OpenSSL computes with). */
	memcpy(masked, pub, sizeof(masked));
	masked[X25519_LEN - 1] &= 0x7f;
	return low_order_mod_p(pub) || low_order_mod_p(masked);
}

int
x25519_decode_x(const char *x, size_t len, uint8_t pub[X25519_LEN])
{
	uint8_t tmp[X25519_LEN + 3];

	if (x == NULL || len != X25519_B64_LEN ||
	    b64url_decode(x, len, tmp) != X25519_LEN)
		return -1;
	memcpy(pub, tmp, X25519_LEN);
	return 0;
}

int
x25519_jwk_read(const json_t *jwk, const char *what,
    uint8_t pub[X25519_LEN], struct report *rep)
{
	static const char *const members[] = { "kty", "crv", "x", NULL };
	const char *kty, *crv, *x, *extra;
	size_t xlen = 0;

	if (!json_is_object(jwk))
		return report_error(rep, E2E_EX_DATAERR,
		    "%s is not a JSON object", what);
	kty = jsonio_str(jwk, "kty", NULL);
	crv = jsonio_str(jwk, "crv", NULL);
	x = jsonio_str(jwk, "x", &xlen);
	/* The curve first: a NIST curve's key is refused for what it is. */
	if (kty == NULL || strcmp(kty, "OKP") != 0 || crv == NULL ||
	    strcmp(crv, "X25519") != 0)
		return report_error(rep, E2E_EX_DATAERR,
		    "%s: kty \"%.10s\", crv \"%.20s\" is not accepted (only "
		    "an X25519 key: kty \"OKP\", crv \"X25519\")", what,
		    kty ? kty : "", crv ? crv : "");
	/* As the envelope's headers: an unknown member is refused, never
	 * ignored (it could be a "d", or a parameter we do not honour). */
	if ((extra = jsonio_unknown_member(jwk, members)) != NULL)
		return report_error(rep, E2E_EX_DATAERR,
		    "unexpected member \"%.40s\" in %s", extra, what);
	if (x25519_decode_x(x, xlen, pub) != 0)
		return report_error(rep, E2E_EX_DATAERR,
		    "%s: \"x\" is not 32 bytes of base64url", what);
	return 0;
}
