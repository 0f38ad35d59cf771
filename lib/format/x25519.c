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
