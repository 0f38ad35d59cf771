/*
 * aead.h - JWE content encryption (RFC 7518 section 5): the
 * AES_CBC_HMAC_SHA2 family (5.2) and AES GCM (5.3).
 *
 * All six algorithms are implemented so the RFC known answers for each
 * key size run through the same code; which ones a message may use is
 * decided by the JWE layer (jwe.h), not here.
 *
 * Decryption checks the tag, in constant time and at exactly the
 * algorithm's length, before any plaintext exists (CBC), or releases the
 * plaintext only after the tag verified (GCM). Every failure is the same
 * -1: no padding or tag oracle.
 */
#ifndef E2E_AEAD_H
#define E2E_AEAD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "base/report.h"

struct aead_alg {
	const char *name;	/* JOSE "enc" value */
	const char *cipher;	/* OpenSSL cipher name */
	const char *md;		/* HMAC digest for CBC-HMAC, NULL for GCM */
	size_t key_len;		/* CEK length */
	size_t iv_len;
	size_t tag_len;
};

#define AEAD_MAX_KEY 64
#define AEAD_MAX_IV 16
#define AEAD_MAX_TAG 32

/* Looks up an "enc" value; NULL when unknown. */
const struct aead_alg *aead_alg_by_name(const char *name);

/*
 * Streaming encryption; the tag comes out of aead_encrypt_final.
 * aead_encrypt_update encrypts and authenticates. A caller that wants the
 * MAC on another core uses aead_encrypt_cipher, then passes the same
 * ciphertext, in order, to aead_encrypt_mac (from one thread at a time),
 * and every byte must have been through aead_encrypt_mac before
 * aead_encrypt_final, which authenticates what it outputs itself.
 */
struct aead_enc {
	const struct aead_alg *alg;
	EVP_CIPHER_CTX *cipher;
	EVP_MAC_CTX *mac;
	uint64_t aad_bits;
};

/* Returns 0 or 70 (in rep). */
int aead_encrypt_init(struct aead_enc *c, const struct aead_alg *alg,
    const uint8_t *key, const uint8_t *iv, const uint8_t *aad,
    size_t aad_len, struct report *rep);
/* out needs room for n + 16 bytes; *out_len receives what was written. */
int aead_encrypt_update(struct aead_enc *c, const uint8_t *in, size_t n,
    uint8_t *out, size_t *out_len, struct report *rep);
int aead_encrypt_cipher(struct aead_enc *c, const uint8_t *in, size_t n,
    uint8_t *out, size_t *out_len, struct report *rep);
/* Nothing to do for GCM, whose tag the cipher computes. */
int aead_encrypt_mac(struct aead_enc *c, const uint8_t *ct, size_t n,
    struct report *rep);
/* out needs 16 bytes; tag receives alg->tag_len bytes. */
int aead_encrypt_final(struct aead_enc *c, uint8_t *out, size_t *out_len,
    uint8_t *tag, struct report *rep);
/* Releases the contexts (safe after a failure). */
void aead_encrypt_free(struct aead_enc *c);

/*
 * Streaming decryption, in place, in three steps: init; update over the
 * ciphertext in order (CBC: the MAC only; GCM: decrypts in place, but
 * the bytes must not be used before final accepted the tag); final
 * checks the tag and, for CBC, only then decrypts the whole buffer in
 * place. Every failure is -1; after a failed final the buffer holds no
 * plaintext. update may run on another thread than init and final.
 */
struct aead_dec {
	const struct aead_alg *alg;
	EVP_CIPHER_CTX *cipher;
	EVP_MAC_CTX *mac;
	uint64_t aad_bits;
	uint8_t key[AEAD_MAX_KEY];
	uint8_t iv[AEAD_MAX_IV];
	int failed;
};

int aead_decrypt_init(struct aead_dec *d, const struct aead_alg *alg,
    const uint8_t *key, const uint8_t *iv, size_t iv_len,
    const uint8_t *aad, size_t aad_len);
int aead_decrypt_update(struct aead_dec *d, uint8_t *ct, size_t n);
int aead_decrypt_final(struct aead_dec *d, uint8_t *buf, size_t ct_len,
    const uint8_t *tag, size_t tag_len, size_t *pt_len);
/* Wipes the key and releases the contexts (safe after a failure). */
void aead_decrypt_free(struct aead_dec *d);

/*
 * The same for a ciphertext too large to hold, given in pieces: init,
 * update over all of it (CBC: the MAC; GCM: decrypts in place, bytes
 * the caller may only write where nobody sees them before the tag is
 * checked), then aead_decrypt_check (ct_len bytes in all; CBC: the tag,
 * in constant time; GCM: the tag, ending the job). Every failure is -1.
 */
int aead_decrypt_check(struct aead_dec *d, uint64_t ct_len,
    const uint8_t *tag, size_t tag_len);

/*
 * CBC's cipher for such a ciphertext, in a context of its own: it runs
 * in the same pass as the MAC, on another thread (aead_decrypt_update
 * and these touch nothing in common once started). Its output is
 * unauthenticated until aead_decrypt_check passed: the caller keeps it
 * where nobody sees it, and calls aead_cbc_final (the padding) only
 * after the tag matched, so that a bad padding is never told apart from
 * a bad tag. aead_cbc_update's out needs n + 16 bytes and may not
 * overlap in (it lags the input by up to a block); aead_cbc_final's, 16.
 * Every failure is -1.
 */
struct aead_cbc {
	EVP_CIPHER_CTX *cipher;
};

int aead_cbc_start(struct aead_cbc *c, const struct aead_dec *d);
int aead_cbc_update(struct aead_cbc *c, const uint8_t *in, size_t n,
    uint8_t *out, size_t *out_len);
int aead_cbc_final(struct aead_cbc *c, uint8_t *out, size_t *out_len);
/* Releases the context, which also cleanses the key schedule. */
void aead_cbc_free(struct aead_cbc *c);

/*
 * One-shot decryption. pt may equal ct (in place) and needs ct_len bytes.
 * Returns 0 with *pt_len set, or -1 for any failure (wrong lengths,
 * tag mismatch, bad padding), with nothing usable in pt. An internal
 * OpenSSL failure is also -1: callers report one generic error.
 */
int aead_decrypt(const struct aead_alg *alg, const uint8_t *key,
    const uint8_t *iv, size_t iv_len, const uint8_t *aad, size_t aad_len,
    const uint8_t *ct, size_t ct_len, const uint8_t *tag, size_t tag_len,
    uint8_t *pt, size_t *pt_len);

/* One-shot encryption into caller buffers (ct needs pt_len + 16 and must
 * not overlap pt). */
int aead_encrypt(const struct aead_alg *alg, const uint8_t *key,
    const uint8_t *iv, const uint8_t *aad, size_t aad_len,
    const uint8_t *pt, size_t pt_len, uint8_t *ct, size_t *ct_len,
    uint8_t *tag, struct report *rep);

/*
 * AES-CBC with PKCS#7 padding, no authentication: the building block of
 * the CBC-HMAC algorithms and of the seed format. name is OpenSSL's
 * ("AES-256-CBC"). ct needs pt_len + 16 bytes; for decryption pt may
 * equal ct. Returns 0 or -1 (bad length or padding), silently.
 */
int aes_cbc_encrypt(const char *name, const uint8_t *key, const uint8_t *iv,
    const uint8_t *pt, size_t pt_len, uint8_t *ct, size_t *ct_len,
    struct report *rep);
int aes_cbc_decrypt(const char *name, const uint8_t *key, const uint8_t *iv,
    const uint8_t *ct, size_t ct_len, uint8_t *pt, size_t *pt_len);

#endif
