/* rsa.c - RSA-OAEP-256 and PS256 on OpenSSL 3 (see rsa.h). */

/*
 * The signature's fast path (pss_sign_hash_direct) uses the RSA-specific
 * calls, which OpenSSL 3 marks deprecated and still supports in 3.x, as
 * keyfile.c's fast decoders do.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "format/rsa.h"
#include "base/err.h"
#include "format/crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <string.h>

int
rsa_generate(unsigned bits, EVP_PKEY **out, struct report *rep)
{
	EVP_PKEY_CTX *ctx;
	int rc = 0;

	*out = NULL;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) != 1 ||
	    EVP_PKEY_generate(ctx, out) != 1)
		rc = report_crypto(rep, "RSA key generation");
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

size_t
rsa_size(EVP_PKEY *k)
{
	int n = EVP_PKEY_get_size(k);

	return n > 0 ? (size_t)n : 0;
}

int
rsa_check(EVP_PKEY *k, const char *what, struct report *rep)
{
	BIGNUM *e = NULL;
	int bits, rc = E2E_EX_DATAERR;

	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
		report_error(rep, E2E_EX_DATAERR, "%s is not an RSA key", what);
		goto out;
	}
	bits = EVP_PKEY_get_bits(k);
	if (bits < RSA_MIN_BITS) {
		report_error(rep, E2E_EX_DATAERR,
		    "%s is a %d-bit RSA key; at least %d bits are needed",
		    what, bits, RSA_MIN_BITS);
		goto out;
	}
	if (bits > RSA_MAX_BITS) {
		report_error(rep, E2E_EX_DATAERR,
		    "%s is a %d-bit RSA key; at most %d bits are "
		    "accepted", what, bits, RSA_MAX_BITS);
		goto out;
	}
	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
		rc = report_crypto(rep, "reading an RSA key");
		goto out;
	}
	if (!BN_is_word(e, RSA_F4)) {
		report_error(rep, E2E_EX_DATAERR,
		    "%s has a public exponent other than 65537", what);
		goto out;
	}
	rc = 0;
out:
	BN_free(e);
	ERR_clear_error();
	return rc;
}

static EVP_PKEY_CTX *
oaep_ctx(EVP_PKEY *k, int decrypt)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);

	if (ctx == NULL)
		return NULL;
	if ((decrypt ? EVP_PKEY_decrypt_init(ctx) :
	    EVP_PKEY_encrypt_init(ctx)) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, "SHA256", NULL) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, "SHA256", NULL) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int
rsa_oaep_encrypt(EVP_PKEY *pub, const uint8_t *in, size_t in_len,
    uint8_t *out, size_t *out_len, struct report *rep)
{
	EVP_PKEY_CTX *ctx = oaep_ctx(pub, 0);
	int rc = 0;

	*out_len = rsa_size(pub);
	if (ctx == NULL || EVP_PKEY_encrypt(ctx, out, out_len, in,
	    in_len) != 1)
		rc = report_crypto(rep, "RSA-OAEP encryption");
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int
rsa_oaep_decrypt(EVP_PKEY *priv, const uint8_t *in, size_t in_len,
    uint8_t *out, size_t out_cap, size_t *out_len)
{
	EVP_PKEY_CTX *ctx;
	int rc = -1;

	*out_len = out_cap;
	/* The ciphertext is exactly the modulus size (RFC 8017 7.1.2). */
	if (in_len != rsa_size(priv) || out_cap < in_len)
		goto out;
	ctx = oaep_ctx(priv, 1);
	if (ctx != NULL && EVP_PKEY_decrypt(ctx, out, out_len, in,
	    in_len) == 1)
		rc = 0;
	EVP_PKEY_CTX_free(ctx);
out:
	ERR_clear_error();
	if (rc != 0)
		*out_len = 0;
	return rc;
}

static EVP_MD_CTX *
pss_ctx(EVP_PKEY *k, const char *md, size_t salt_len, int sign)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if (mctx == NULL)
		return NULL;
	ok = sign ? EVP_DigestSignInit_ex(mctx, &pctx, md, NULL, NULL, k,
	    NULL) : EVP_DigestVerifyInit_ex(mctx, &pctx, md, NULL, NULL, k,
	    NULL);
	if (ok != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)salt_len) != 1) {
		EVP_MD_CTX_free(mctx);
		return NULL;
	}
	return mctx;
}

/*
 * PS256 with the key's own RSA structure, for a key that keyfile.c's
 * fast path decoded (a legacy RSA key, in its CRT form): the general
 * path (EVP_DigestSign) would fetch the signature method and copy the
 * key into the provider, first-use costs a short-lived e2e-encrypt -s
 * pays once per run (bench/README.md, "Signing costs"). The RSA
 * operation keeps OpenSSL's blinding: its set-up (a constant-time
 * modular inverse, about as long as the operation) is kept on the key
 * (RSA's own cache), so that a process signing many times (e2e-chat)
 * pays it once. A message given in pieces (jws.c's stream) is hashed on
 * a plain digest context and signed here at its end, as a whole one is.
 */
/* 1 when priv is a key pss_sign_hash_direct signs. */
static int
pss_direct(EVP_PKEY *priv)
{
	return EVP_PKEY_get0_provider(priv) == NULL &&
	    EVP_PKEY_get_base_id(priv) == EVP_PKEY_RSA;
}

int
rsa_pss_direct(EVP_PKEY *priv)
{
	return pss_direct(priv);
}

#ifdef E2E_TEST_HOOKS
static int test_fail_op;

void
rsa_test_fail_pss_op(int fail)
{
	test_fail_op = fail;
}
#endif

/* The RSA operation on em (n bytes, padded) with r, blinded. */
static int
raw_sign(RSA *r, const uint8_t *em, int n, uint8_t *sig, size_t *sig_len)
{
	int rc = -1;

#ifdef E2E_TEST_HOOKS
	if (test_fail_op)
		return -1;
#endif
	if (r != NULL && RSA_private_encrypt(n, em, sig, r,
	    RSA_NO_PADDING) == n) {
		*sig_len = (size_t)n;
		rc = 0;
	}
	ERR_clear_error();
	return rc;
}

/* PS256 of the SHA-256 hash h with such a key, on its own structure
 * (blinding set up once per key); 0, or -1 (failed). */
static int
pss_sign_hash_direct(EVP_PKEY *priv, const uint8_t *h, uint8_t *sig,
    size_t *sig_len)
{
	uint8_t em[RSA_MAX_BYTES];	/* the padded hash */
	const EVP_MD *md;
	RSA *own = NULL;
	int n, rc = -1;

	if ((md = crypto_md("SHA256", NULL)) == NULL ||
	    (own = EVP_PKEY_get1_RSA(priv)) == NULL)
		goto out;
	n = RSA_size(own);
	if (n <= 0 || (size_t)n > sizeof(em) ||
	    RSA_padding_add_PKCS1_PSS_mgf1(own, em, h, md, md, 32) != 1)
		goto out;
	rc = raw_sign(own, em, n, sig, sig_len);
out:
	RSA_free(own);		/* a reference: the key stays */
	OPENSSL_cleanse(em, sizeof(em));
	ERR_clear_error();
	return rc;
}

int
rsa_pss_sign(EVP_PKEY *priv, const uint8_t *msg, size_t msg_len,
    uint8_t *sig, size_t *sig_len, struct report *rep)
{
	EVP_MD_CTX *mctx = rsa_pss_sign_start(priv);

	if (mctx == NULL)
		return report_crypto(rep, "RSA-PSS signing");
	if (rsa_pss_sign_update(mctx, msg, msg_len) != 1) {
		EVP_MD_CTX_free(mctx);
		return report_crypto(rep, "RSA-PSS signing");
	}
	return rsa_pss_sign_finish(mctx, priv, sig, sig_len, rep);
}

/* A key pss_sign_hash_direct signs gets a plain SHA-256 context (no
 * signature method fetched, no key copied into the provider); any other
 * a signing one. The two are told apart by their key context. */
EVP_MD_CTX *
rsa_pss_sign_start(EVP_PKEY *priv)
{
	EVP_MD_CTX *c;
	const EVP_MD *md;

	if (!pss_direct(priv))
		return pss_ctx(priv, "SHA256", 32, 1);
	if ((md = crypto_md("SHA256", NULL)) == NULL ||
	    (c = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (EVP_DigestInit_ex(c, md, NULL) != 1) {
		EVP_MD_CTX_free(c);
		return NULL;
	}
	return c;
}

int
rsa_pss_sign_update(EVP_MD_CTX *c, const void *data, size_t len)
{
	if (EVP_MD_CTX_get_pkey_ctx(c) == NULL)
		return EVP_DigestUpdate(c, data, len);
	return EVP_DigestSignUpdate(c, data, len);
}

int
rsa_pss_sign_finish(EVP_MD_CTX *c, EVP_PKEY *priv, uint8_t *sig,
    size_t *sig_len, struct report *rep)
{
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	int ok;

	*sig_len = rsa_size(priv);
	if (c == NULL)
		ok = 0;
	else if (EVP_MD_CTX_get_pkey_ctx(c) != NULL)
		ok = EVP_DigestSignFinal(c, sig, sig_len) == 1;
	else
		ok = EVP_DigestFinal_ex(c, h, &hlen) == 1 && hlen == 32 &&
		    pss_sign_hash_direct(priv, h, sig, sig_len) == 0;
	EVP_MD_CTX_free(c);
	return ok ? 0 : report_crypto(rep, "RSA-PSS signing");
}

int
rsa_pss_verify_digest(EVP_PKEY *pub, const uint8_t *h, size_t h_len,
    const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY_CTX *ctx = NULL;
	const EVP_MD *md;
	int ok = 0;

	if (h_len != 32 || sig_len != rsa_size(pub) ||
	    (md = crypto_md("SHA256", NULL)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL)) == NULL)
		goto out;
	if (EVP_PKEY_verify_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, md) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, 32) == 1 &&
	    EVP_PKEY_verify(ctx, sig, sig_len, h, h_len) == 1)
		ok = 1;
out:
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

int
rsa_pss_verify_md(EVP_PKEY *pub, const char *md, size_t salt_len,
    const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *mctx;
	int ok = 0;

	if (sig_len != rsa_size(pub))
		goto out;
	mctx = pss_ctx(pub, md, salt_len, 0);
	if (mctx != NULL && EVP_DigestVerify(mctx, sig, sig_len, msg,
	    msg_len) == 1)
		ok = 1;
	EVP_MD_CTX_free(mctx);
out:
	ERR_clear_error();
	return ok;
}

int
rsa_pss_verify(EVP_PKEY *pub, const uint8_t *msg, size_t msg_len,
    const uint8_t *sig, size_t sig_len)
{
	return rsa_pss_verify_md(pub, "SHA256", 32, msg, msg_len, sig,
	    sig_len);
}
