/* aead.c - AES-CBC with HMAC-SHA2 and AES-GCM as JWE defines them. */
#include "format/aead.h"
#include "base/buf.h"
#include "base/err.h"
#include "format/crypto.h"

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

static const struct aead_alg algs[] = {
	{ "A128CBC-HS256", "AES-128-CBC", "SHA256", 32, 16, 16 },
	{ "A192CBC-HS384", "AES-192-CBC", "SHA384", 48, 16, 24 },
	{ "A256CBC-HS512", "AES-256-CBC", "SHA512", 64, 16, 32 },
	{ "A128GCM", "AES-128-GCM", NULL, 16, 12, 16 },
	{ "A192GCM", "AES-192-GCM", NULL, 24, 12, 16 },
	{ "A256GCM", "AES-256-GCM", NULL, 32, 12, 16 },
};

const struct aead_alg *
aead_alg_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

/* RFC 7518 5.2.2.1: the first half of the key is MAC_KEY, the second
 * ENC_KEY; the tag is the first T_LEN (= half the key) bytes. */
static EVP_MAC_CTX *
hmac_start(const struct aead_alg *alg, const uint8_t *mac_key,
    struct report *rep)
{
	EVP_MAC *mac = crypto_mac("HMAC", rep);
	EVP_MAC_CTX *ctx;
	OSSL_PARAM params[2];

	if (mac == NULL || crypto_md(alg->md, rep) == NULL)
		return NULL;
	if ((ctx = EVP_MAC_CTX_new(mac)) == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)alg->md, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, mac_key, alg->key_len / 2, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* The 64-bit big-endian number of bits of AAD (RFC 7518 5.2.2.1 "AL"),
 * computed in 64 bits so a large AAD cannot overflow it. */
static void
put_al(uint8_t al[8], uint64_t bits)
{
	int i;

	for (i = 7; i >= 0; i--) {
		al[i] = (uint8_t)bits;
		bits >>= 8;
	}
}

int
aead_encrypt_init(struct aead_enc *c, const struct aead_alg *alg,
    const uint8_t *key, const uint8_t *iv, const uint8_t *aad,
    size_t aad_len, struct report *rep)
{
	const EVP_CIPHER *cipher = crypto_cipher(alg->cipher, rep);
	int outl;

	memset(c, 0, sizeof(*c));
	c->alg = alg;
	if (cipher == NULL)
		return E2E_EX_SOFTWARE;
	if ((c->cipher = EVP_CIPHER_CTX_new()) == NULL)
		goto fail;
	if (alg->md != NULL) {
		if ((c->mac = hmac_start(alg, key, rep)) == NULL)
			goto fail;
		if (EVP_EncryptInit_ex2(c->cipher, cipher,
		    key + alg->key_len / 2, iv, NULL) != 1)
			goto fail;
		if (EVP_MAC_update(c->mac, aad, aad_len) != 1 ||
		    EVP_MAC_update(c->mac, iv, alg->iv_len) != 1)
			goto fail;
		c->aad_bits = (uint64_t)aad_len * 8;
	} else {
		if (EVP_EncryptInit_ex2(c->cipher, cipher, key, iv, NULL) != 1)
			goto fail;
		if (aad_len > 0 && EVP_EncryptUpdate(c->cipher, NULL, &outl,
		    aad, (int)aad_len) != 1)
			goto fail;
	}
	return 0;
fail:
	aead_encrypt_free(c);
	return report_crypto(rep, "content encryption");
}

int
aead_encrypt_cipher(struct aead_enc *c, const uint8_t *in, size_t n,
    uint8_t *out, size_t *out_len, struct report *rep)
{
	int outl = 0;

	*out_len = 0;
	/* EVP takes int lengths: the caller feeds chunks, but be safe. */
	if (n > (size_t)1 << 30)
		return report_crypto(rep,
		    "content encryption (chunk too large)");
	if (EVP_EncryptUpdate(c->cipher, out, &outl, in, (int)n) != 1)
		return report_crypto(rep, "content encryption");
	*out_len = (size_t)outl;
	return 0;
}

int
aead_encrypt_mac(struct aead_enc *c, const uint8_t *ct, size_t n,
    struct report *rep)
{
	if (c->mac != NULL && EVP_MAC_update(c->mac, ct, n) != 1)
		return report_crypto(rep, "content authentication");
	return 0;
}

int
aead_encrypt_update(struct aead_enc *c, const uint8_t *in, size_t n,
    uint8_t *out, size_t *out_len, struct report *rep)
{
	int rc;

	if ((rc = aead_encrypt_cipher(c, in, n, out, out_len, rep)) != 0)
		return rc;
	return aead_encrypt_mac(c, out, *out_len, rep);
}

int
aead_encrypt_final(struct aead_enc *c, uint8_t *out, size_t *out_len,
    uint8_t *tag, struct report *rep)
{
	uint8_t full[EVP_MAX_MD_SIZE], al[8];
	size_t full_len = 0;
	int outl = 0;

	*out_len = 0;
	if (EVP_EncryptFinal_ex(c->cipher, out, &outl) != 1)
		return report_crypto(rep, "content encryption");
	if (c->mac != NULL) {
		put_al(al, c->aad_bits);
		if (EVP_MAC_update(c->mac, out, (size_t)outl) != 1 ||
		    EVP_MAC_update(c->mac, al, sizeof(al)) != 1 ||
		    EVP_MAC_final(c->mac, full, &full_len, sizeof(full)) != 1 ||
		    full_len < c->alg->tag_len)
			return report_crypto(rep, "content authentication");
		memcpy(tag, full, c->alg->tag_len);
		wipe(full, sizeof(full));
	} else if (EVP_CIPHER_CTX_ctrl(c->cipher, EVP_CTRL_GCM_GET_TAG,
	    (int)c->alg->tag_len, tag) != 1) {
		return report_crypto(rep, "content encryption");
	}
	*out_len = (size_t)outl;
	return 0;
}

void
aead_encrypt_free(struct aead_enc *c)
{
	EVP_CIPHER_CTX_free(c->cipher);	/* also cleanses the key schedule */
	EVP_MAC_CTX_free(c->mac);
	c->cipher = NULL;
	c->mac = NULL;
}

int
aead_encrypt(const struct aead_alg *alg, const uint8_t *key,
    const uint8_t *iv, const uint8_t *aad, size_t aad_len,
    const uint8_t *pt, size_t pt_len, uint8_t *ct, size_t *ct_len,
    uint8_t *tag, struct report *rep)
{
	struct aead_enc c;
	size_t n1 = 0, n2 = 0, off = 0, chunk;
	int rc;

	if ((rc = aead_encrypt_init(&c, alg, key, iv, aad, aad_len, rep)) != 0)
		return rc;
	while (off < pt_len) {
		chunk = pt_len - off > ((size_t)1 << 20) ? (size_t)1 << 20 :
		    pt_len - off;
		if ((rc = aead_encrypt_update(&c, pt + off, chunk, ct + n1,
		    &n2, rep)) != 0)
			goto out;
		off += chunk;
		n1 += n2;
	}
	if ((rc = aead_encrypt_final(&c, ct + n1, &n2, tag, rep)) != 0)
		goto out;
	*ct_len = n1 + n2;
out:
	aead_encrypt_free(&c);
	return rc;
}

int
aes_cbc_decrypt(const char *name, const uint8_t *key, const uint8_t *iv,
    const uint8_t *ct, size_t ct_len, uint8_t *pt, size_t *pt_len)
{
	const EVP_CIPHER *cipher = crypto_cipher(name, NULL);
	EVP_CIPHER_CTX *cctx = NULL;
	int outl, rc = -1;

	if (cipher == NULL || ct_len == 0 || ct_len % 16 != 0 ||
	    ct_len > INT_MAX - 64)
		goto out;
	if ((cctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex2(cctx, cipher, key, iv, NULL) != 1)
		goto out;
	/* One call, so in-place decryption never sees shifted overlapping
	 * buffers. */
	if (EVP_DecryptUpdate(cctx, pt, &outl, ct, (int)ct_len) != 1)
		goto out;
	*pt_len = (size_t)outl;
	if (EVP_DecryptFinal_ex(cctx, pt + *pt_len, &outl) != 1)
		goto out;
	*pt_len += (size_t)outl;
	rc = 0;
out:
	/* A padding failure comes after all but the last block were written:
	 * none of that may remain. */
	if (rc != 0 && cctx != NULL)
		wipe(pt, ct_len);
	EVP_CIPHER_CTX_free(cctx);
	ERR_clear_error();
	return rc;
}

int
aes_cbc_encrypt(const char *name, const uint8_t *key, const uint8_t *iv,
    const uint8_t *pt, size_t pt_len, uint8_t *ct, size_t *ct_len,
    struct report *rep)
{
	const EVP_CIPHER *cipher = crypto_cipher(name, rep);
	EVP_CIPHER_CTX *cctx = NULL;
	int outl, rc = -1;

	if (cipher == NULL || pt_len > INT_MAX - 64)
		goto out;
	if ((cctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex2(cctx, cipher, key, iv, NULL) != 1 ||
	    EVP_EncryptUpdate(cctx, ct, &outl, pt, (int)pt_len) != 1)
		goto out;
	*ct_len = (size_t)outl;
	if (EVP_EncryptFinal_ex(cctx, ct + *ct_len, &outl) != 1)
		goto out;
	*ct_len += (size_t)outl;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(cctx);
	return rc;
}

int
aead_decrypt_init(struct aead_dec *d, const struct aead_alg *alg,
    const uint8_t *key, const uint8_t *iv, size_t iv_len,
    const uint8_t *aad, size_t aad_len)
{
	const EVP_CIPHER *cipher;
	int outl;

	memset(d, 0, sizeof(*d));
	d->alg = alg;
	d->failed = 1;
	/* Lengths are exact: never "compare the first n bytes". */
	if (iv_len != alg->iv_len || aad_len > INT_MAX)
		return -1;
	memcpy(d->key, key, alg->key_len);
	memcpy(d->iv, iv, iv_len);
	if (alg->md != NULL) {
		if ((d->mac = hmac_start(alg, key, NULL)) == NULL ||
		    EVP_MAC_update(d->mac, aad, aad_len) != 1 ||
		    EVP_MAC_update(d->mac, iv, iv_len) != 1)
			return -1;
		d->aad_bits = (uint64_t)aad_len * 8;
	} else {
		if ((cipher = crypto_cipher(alg->cipher, NULL)) == NULL ||
		    (d->cipher = EVP_CIPHER_CTX_new()) == NULL ||
		    EVP_DecryptInit_ex2(d->cipher, cipher, key, iv, NULL) != 1)
			return -1;
		if (aad_len > 0 && EVP_DecryptUpdate(d->cipher, NULL, &outl,
		    aad, (int)aad_len) != 1)
			return -1;
	}
	d->failed = 0;
	return 0;
}

int
aead_decrypt_update(struct aead_dec *d, uint8_t *ct, size_t n)
{
	int outl;

	if (d->failed)
		return -1;
	if (d->mac != NULL) {
		if (EVP_MAC_update(d->mac, ct, n) != 1)
			d->failed = 1;
	} else {
		/* GCM is a stream cipher: in place, same length. */
		if (n > INT_MAX || EVP_DecryptUpdate(d->cipher, ct, &outl, ct,
		    (int)n) != 1 || (size_t)outl != n)
			d->failed = 1;
	}
	return d->failed ? -1 : 0;
}

/* CBC-HMAC: finishes the MAC and compares it, in constant time, over
 * exactly T_LEN bytes. */
static int
cbc_verify(struct aead_dec *d, size_t ct_len, const uint8_t *tag)
{
	uint8_t full[EVP_MAX_MD_SIZE], al[8];
	size_t full_len = 0;
	int rc = -1;

	/* CBC ciphertext is whole blocks, never empty (PKCS#7). */
	if (ct_len == 0 || ct_len % 16 != 0)
		goto out;
	put_al(al, d->aad_bits);
	if (EVP_MAC_update(d->mac, al, sizeof(al)) != 1 ||
	    EVP_MAC_final(d->mac, full, &full_len, sizeof(full)) != 1 ||
	    full_len < d->alg->tag_len)
		goto out;
	if (CRYPTO_memcmp(full, tag, d->alg->tag_len) == 0)
		rc = 0;
out:
	wipe(full, sizeof(full));
	return rc;
}

int
aead_decrypt_final(struct aead_dec *d, uint8_t *buf, size_t ct_len,
    const uint8_t *tag, size_t tag_len, size_t *pt_len)
{
	const struct aead_alg *alg = d->alg;
	uint8_t tagcopy[16];
	int outl, rc = -1;

	*pt_len = 0;
	if (d->failed || tag_len != alg->tag_len || ct_len > INT_MAX - 64)
		goto out;
	if (d->mac != NULL) {
		/* The tag first: no plaintext exists before it matched. */
		if (cbc_verify(d, ct_len, tag) != 0 ||
		    aes_cbc_decrypt(alg->cipher, d->key + alg->key_len / 2,
		    d->iv, buf, ct_len, buf, pt_len) != 0)
			goto out;
	} else {
		memcpy(tagcopy, tag, sizeof(tagcopy));
		if (EVP_CIPHER_CTX_ctrl(d->cipher, EVP_CTRL_GCM_SET_TAG,
		    sizeof(tagcopy), tagcopy) != 1 ||
		    EVP_DecryptFinal_ex(d->cipher, buf + ct_len, &outl) != 1 ||
		    outl != 0) {
			wipe(buf, ct_len);	/* unauthenticated plaintext */
			goto out;
		}
		*pt_len = ct_len;
	}
	rc = 0;
out:
	/* GCM decrypted in place as it went: nothing unauthenticated may
	 * stay, whichever check failed. */
	if (rc != 0 && d->mac == NULL)
		wipe(buf, ct_len);
	/* OpenSSL's reasons (bad padding, bad tag) must not leak out. */
	ERR_clear_error();
	return rc;
}

int
aead_decrypt_check(struct aead_dec *d, uint64_t ct_len, const uint8_t *tag,
    size_t tag_len)
{
	const struct aead_alg *alg = d->alg;
	uint8_t tagcopy[16], last[16];
	int outl, rc = -1;

	if (d->failed || tag_len != alg->tag_len)
		goto out;
	if (d->mac != NULL) {
		if (ct_len > SIZE_MAX || cbc_verify(d, (size_t)ct_len,
		    tag) != 0)
			goto out;
	} else {
		memcpy(tagcopy, tag, sizeof(tagcopy));
		if (EVP_CIPHER_CTX_ctrl(d->cipher, EVP_CTRL_GCM_SET_TAG,
		    sizeof(tagcopy), tagcopy) != 1 ||
		    EVP_DecryptFinal_ex(d->cipher, last, &outl) != 1 ||
		    outl != 0)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		d->failed = 1;
	ERR_clear_error();
	return rc;
}

int
aead_cbc_start(struct aead_cbc *c, const struct aead_dec *d)
{
	const struct aead_alg *alg = d->alg;
	const EVP_CIPHER *cipher;

	c->cipher = NULL;
	if (d->mac == NULL ||
	    (cipher = crypto_cipher(alg->cipher, NULL)) == NULL ||
	    (c->cipher = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex2(c->cipher, cipher, d->key + alg->key_len / 2,
	    d->iv, NULL) != 1) {
		aead_cbc_free(c);
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int
aead_cbc_update(struct aead_cbc *c, const uint8_t *in, size_t n,
    uint8_t *out, size_t *out_len)
{
	int outl = 0;

	*out_len = 0;
	if (c->cipher == NULL || n > INT_MAX - 16 ||
	    EVP_DecryptUpdate(c->cipher, out, &outl, in, (int)n) != 1) {
		ERR_clear_error();
		return -1;
	}
	*out_len = (size_t)outl;
	return 0;
}

int
aead_cbc_final(struct aead_cbc *c, uint8_t *out, size_t *out_len)
{
	int outl = 0;

	*out_len = 0;
	/* After a matching tag: the sender's own bad padding, no oracle. */
	if (c->cipher == NULL ||
	    EVP_DecryptFinal_ex(c->cipher, out, &outl) != 1) {
		ERR_clear_error();
		return -1;
	}
	*out_len = (size_t)outl;
	return 0;
}

void
aead_cbc_free(struct aead_cbc *c)
{
	EVP_CIPHER_CTX_free(c->cipher);
	c->cipher = NULL;
}

void
aead_decrypt_free(struct aead_dec *d)
{
	wipe(d->key, sizeof(d->key));
	EVP_MAC_CTX_free(d->mac);
	EVP_CIPHER_CTX_free(d->cipher);
	d->mac = NULL;
	d->cipher = NULL;
}

int
aead_decrypt(const struct aead_alg *alg, const uint8_t *key,
    const uint8_t *iv, size_t iv_len, const uint8_t *aad, size_t aad_len,
    const uint8_t *ct, size_t ct_len, const uint8_t *tag, size_t tag_len,
    uint8_t *pt, size_t *pt_len)
{
	struct aead_dec d;
	int rc = -1;

	*pt_len = 0;
	if (tag_len != alg->tag_len || ct_len > INT_MAX - 64)
		return -1;
	if (aead_decrypt_init(&d, alg, key, iv, iv_len, aad, aad_len) != 0)
		goto out;
	if (alg->md != NULL) {
		/* The MAC only reads the ciphertext; pt is written only
		 * after the tag matched. */
		if (aead_decrypt_update(&d, (uint8_t *)ct, ct_len) == 0 &&
		    cbc_verify(&d, ct_len, tag) == 0 &&
		    aes_cbc_decrypt(alg->cipher, key + alg->key_len / 2, iv,
		    ct, ct_len, pt, pt_len) == 0)
			rc = 0;
	} else {
		if (pt != ct)
			memmove(pt, ct, ct_len);
		if (aead_decrypt_update(&d, pt, ct_len) == 0 &&
		    aead_decrypt_final(&d, pt, ct_len, tag, tag_len,
		    pt_len) == 0)
			rc = 0;
		else
			wipe(pt, ct_len);
	}
out:
	aead_decrypt_free(&d);
	ERR_clear_error();
	return rc;
}
