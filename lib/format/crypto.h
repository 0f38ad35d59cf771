/*
 * crypto.h - OpenSSL set-up shared by the tools: initialisation without
 * the system configuration file, algorithm handles fetched once and
 * kept, randomness and the clock (which tests can pin, see below).
 */
#ifndef E2E_CRYPTO_H
#define E2E_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "base/report.h"

/*
 * Initialises libcrypto without reading openssl.cnf: the tools need
 * nothing from it, reading it costs start-up time, and a system-wide
 * setting must not change which algorithms a message is made with.
 * Returns 0 or 70 (in rep).
 */
int crypto_init(struct report *rep);

/* Fetched once per process; NULL with the error in rep on failure.
 * Names are OpenSSL's ("SHA256", "AES-256-CBC", "HMAC"). */
const EVP_MD *crypto_md(const char *name, struct report *rep);
const EVP_CIPHER *crypto_cipher(const char *name, struct report *rep);
EVP_MAC *crypto_mac(const char *name, struct report *rep);

/* One-shot HMAC with digest md; out needs EVP_MAX_MD_SIZE bytes.
 * Returns 0 or -1 (an OpenSSL failure; rep says it when HMAC itself
 * cannot be fetched). */
int crypto_hmac(const char *md, const uint8_t *key, size_t key_len,
    const uint8_t *msg, size_t msg_len, uint8_t *out, size_t *out_len,
    struct report *rep);

/* Fills p with n random bytes. Returns 0 or 70 (in rep). */
int crypto_random(void *p, size_t n, struct report *rep);

/* Seconds since the epoch. */
int64_t crypto_now(void);

#ifdef E2E_TEST_HOOKS
/*
 * Test builds only (never in a normal build): crypto_random() hands out
 * these bytes, in order, before falling back to real randomness, and
 * crypto_now() returns the given time when it is not 0. This is how the
 * golden vectors fix the content key, the IV and the message id.
 */
void crypto_test_set_random(const uint8_t *p, size_t n);
void crypto_test_set_now(int64_t t);
#endif

#endif
