/*
 * rsa.h - the RSA operations of the message format: key generation and
 * checks, RSAES-OAEP with SHA-256 and MGF1-SHA-256 (JOSE "RSA-OAEP-256"),
 * and RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt ("PS256").
 */
#ifndef E2E_RSA_H
#define E2E_RSA_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "base/report.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384
#define RSA_MAX_BYTES (RSA_MAX_BITS / 8)

/* Generates a key of bits bits with e = 65537. Returns 0 or 70. */
int rsa_generate(unsigned bits, EVP_PKEY **out, struct report *rep);

/*
 * Checks that k is an RSA key this project accepts: at least 2048 and at
 * most 16384 bits, public exponent 65537. what names the key in the
 * message. Returns 0 or 65 (in rep).
 */
int rsa_check(EVP_PKEY *k, const char *what, struct report *rep);

/* Modulus size in bytes. */
size_t rsa_size(EVP_PKEY *k);

/* Encrypts in (at most rsa_size - 66 bytes) to out (rsa_size bytes).
 * Returns 0 or 70 (in rep). */
int rsa_oaep_encrypt(EVP_PKEY *pub, const uint8_t *in, size_t in_len,
    uint8_t *out, size_t *out_len, struct report *rep);

/*
 * Decrypts in into out (room for out_cap bytes). Returns 0 with *out_len
 * set, or -1 on any failure, silently and with OpenSSL's error queue
 * emptied: callers continue with a random key (RFC 7516 section 11.5)
 * so that nothing distinguishes a failed unwrap.
 */
int rsa_oaep_decrypt(EVP_PKEY *priv, const uint8_t *in, size_t in_len,
    uint8_t *out, size_t out_cap, size_t *out_len);

/* PS256 over msg. sig receives rsa_size bytes. Returns 0 or 70. */
int rsa_pss_sign(EVP_PKEY *priv, const uint8_t *msg, size_t msg_len,
    uint8_t *sig, size_t *sig_len, struct report *rep);

/*
 * PS256 signing of a message given in pieces: start, then
 * rsa_pss_sign_update on the context (1 on success), then finish, which
 * frees it. start returns NULL when OpenSSL fails.
 */
EVP_MD_CTX *rsa_pss_sign_start(EVP_PKEY *priv);
int rsa_pss_sign_update(EVP_MD_CTX *c, const void *data, size_t len);
int rsa_pss_sign_finish(EVP_MD_CTX *c, EVP_PKEY *priv, uint8_t *sig,
    size_t *sig_len, struct report *rep);

/* 1 when priv is signed with its own RSA structure (a key keyfile.c's
 * fast path decoded; see rsa.c), 0 when through the provider. */
int rsa_pss_direct(EVP_PKEY *priv);
#ifdef E2E_TEST_HOOKS
/* Makes every PS256 RSA operation of a key from the fast path fail
 * (fail 1), as a key that cannot sign would. */
void rsa_test_fail_pss_op(int fail);
#endif

/* Returns 1 when sig is a valid PS256 signature of msg by pub (salt
 * length exactly 32, signature exactly rsa_size bytes), else 0. */
int rsa_pss_verify(EVP_PKEY *pub, const uint8_t *msg, size_t msg_len,
    const uint8_t *sig, size_t sig_len);

/* The same check of a message already hashed (h: its SHA-256, h_len 32):
 * a message read in pieces before the key to check it is known. */
int rsa_pss_verify_digest(EVP_PKEY *pub, const uint8_t *h, size_t h_len,
    const uint8_t *sig, size_t sig_len);

/* The same check with another digest (RFC 7520's PS384 example). */
int rsa_pss_verify_md(EVP_PKEY *pub, const char *md, size_t salt_len,
    const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len);

#endif
