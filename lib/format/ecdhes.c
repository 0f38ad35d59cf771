/* ecdhes.c - ECDH-ES+A256KW with X25519 (see ecdhes.h). */
#include "format/ecdhes.h"
#include "base/buf.h"
#include "base/err.h"
#include "format/crypto.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>

static size_t
put_len(uint8_t *p, uint32_t n)
{
	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	return 4;
}

int
ecdhes_concat_kdf(const uint8_t *z, size_t z_len, const char *alg,
    const uint8_t *apu, size_t apu_len, const uint8_t *apv, size_t apv_len,
    uint8_t *out, size_t out_len, struct report *rep)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[4];
	struct buf info = BUF_INIT;
	uint8_t len4[4];
	size_t alg_len = strlen(alg);
	int rc = E2E_EX_SOFTWARE;

	if (alg_len > 255 || apu_len > 65535 || apv_len > 65535 ||
	    out_len > 1024) {
		rc = report_error(rep, E2E_EX_SOFTWARE,
		    "internal error: Concat KDF input too long");
		goto out;
	}
	/* OtherInfo: the three length-prefixed fields, then SuppPubInfo,
	 * the key length in bits (RFC 7518 4.6.2). */
	put_len(len4, (uint32_t)alg_len);
	if (buf_append(&info, len4, 4) != 0 ||
	    buf_append(&info, alg, alg_len) != 0)
		goto oom;
	put_len(len4, (uint32_t)apu_len);
	if (buf_append(&info, len4, 4) != 0 ||
	    (apu_len > 0 && buf_append(&info, apu, apu_len) != 0))
		goto oom;
	put_len(len4, (uint32_t)apv_len);
	if (buf_append(&info, len4, 4) != 0 ||
	    (apv_len > 0 && buf_append(&info, apv, apv_len) != 0))
		goto oom;
	put_len(len4, (uint32_t)(out_len * 8));
	if (buf_append(&info, len4, 4) != 0)
		goto oom;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)z, z_len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    info.p, info.len);
	params[3] = OSSL_PARAM_construct_end();
	if ((kdf = EVP_KDF_fetch(NULL, "SSKDF", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL ||
	    EVP_KDF_derive(ctx, out, out_len, params) != 1) {
		rc = report_crypto(rep, "the Concat KDF");
		goto out;
	}
	rc = 0;
	goto out;
oom:
	rc = report_oom(rep);
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	buf_free(&info);
	return rc;
}

/* One AES-256-WRAP pass (RFC 3394) in direction enc; -1 on failure. */
static int
kw(int enc, const uint8_t kek[ECDHES_KEK_LEN], const uint8_t *in, size_t n,
    uint8_t *out, size_t *out_len, struct report *rep)
{
	const EVP_CIPHER *c = crypto_cipher("AES-256-WRAP", rep);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int l1 = 0, l2 = 0, rc = -1;

	if (c == NULL || ctx == NULL || n > 1024)
		goto out;
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_CipherInit_ex2(ctx, c, kek, NULL, enc, NULL) != 1 ||
	    EVP_CipherUpdate(ctx, out, &l1, in, (int)n) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + l1, &l2) != 1)
		goto out;
	*out_len = (size_t)l1 + (size_t)l2;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int
ecdhes_kw_wrap(const uint8_t kek[ECDHES_KEK_LEN], const uint8_t *in,
    size_t n, uint8_t *out, struct report *rep)
{
	size_t got = 0;

	if (n < 16 || n % 8 != 0 || kw(1, kek, in, n, out, &got, rep) != 0 ||
	    got != n + ECDHES_WRAP_EXTRA)
		return report_crypto(rep, "AES key wrap");
	return 0;
}

int
ecdhes_kw_unwrap(const uint8_t kek[ECDHES_KEK_LEN], const uint8_t *in,
    size_t n, uint8_t *out)
{
	struct report quiet = { 0 };
	size_t got = 0;

	if (n < 24 || n % 8 != 0 || kw(0, kek, in, n, out, &got,
	    &quiet) != 0 || got != n - ECDHES_WRAP_EXTRA) {
		wipe(out, n - ECDHES_WRAP_EXTRA);
		report_clear(&quiet);
		return -1;
	}
	return 0;
}

/* The KEK of shared secret z (RFC 7518 4.6.2: AlgorithmID is "alg" for
 * key agreement with key wrapping; apu and apv are empty). */
static int
kek_of(const uint8_t z[X25519_LEN], uint8_t kek[ECDHES_KEK_LEN],
    struct report *rep)
{
	return ecdhes_concat_kdf(z, X25519_LEN, ECDHES_ALG, NULL, 0, NULL, 0,
	    kek, ECDHES_KEK_LEN, rep);
}

int
ecdhes_wrap(const uint8_t peer[X25519_LEN], const uint8_t *cek,
    size_t cek_len, uint8_t epk[X25519_LEN], uint8_t *ek,
    struct report *rep)
{
	uint8_t esk[X25519_LEN], z[X25519_LEN], kek[ECDHES_KEK_LEN];
	int rc;

	if ((rc = x25519_generate(esk, epk, rep)) != 0)
		goto out;
	if ((rc = x25519_derive(esk, peer, z, rep)) == E2E_EX_DATAERR) {
		report_error(rep, rc, "the recipient's prekey is not a "
		    "usable X25519 key (the shared secret is zero)");
		goto out;
	}
	if (rc != 0 || (rc = kek_of(z, kek, rep)) != 0 ||
	    (rc = ecdhes_kw_wrap(kek, cek, cek_len, ek, rep)) != 0)
		goto out;
out:
	wipe(esk, sizeof(esk));
	wipe(z, sizeof(z));
	wipe(kek, sizeof(kek));
	return rc;
}

int
ecdhes_unwrap(const uint8_t priv[X25519_LEN],
    const uint8_t epk[X25519_LEN], const uint8_t *ek, size_t ek_len,
    uint8_t *cek, size_t cap, size_t *cek_len, struct report *rep)
{
	uint8_t z[X25519_LEN], kek[ECDHES_KEK_LEN];
	int rc;

	*cek_len = 0;
	if (ek_len < 24 || ek_len - ECDHES_WRAP_EXTRA > cap) {
		rc = -1;
		goto out;
	}
	rc = x25519_derive(priv, epk, z, rep);
	if (rc == E2E_EX_DATAERR) {
		rc = -1;
		goto out;
	}
	if (rc != 0 || (rc = kek_of(z, kek, rep)) != 0)
		goto out;
	if (ecdhes_kw_unwrap(kek, ek, ek_len, cek) != 0) {
		rc = -1;
		goto out;
	}
	*cek_len = ek_len - ECDHES_WRAP_EXTRA;
out:
	wipe(z, sizeof(z));
	wipe(kek, sizeof(kek));
	return rc;
}
