/* crypto.c - OpenSSL initialisation, algorithm cache, randomness, clock. */
#include "format/crypto.h"
#include "base/err.h"

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

/* A handful of algorithms are used; a fixed table is enough. */
#define CACHE_SIZE 8

struct cached {
	const char *name;
	void *alg;
};

static struct cached mds[CACHE_SIZE], ciphers[CACHE_SIZE], macs[CACHE_SIZE];

int
crypto_init(struct report *rep)
{
	/*
	 * Nor the legacy name tables (the tools only fetch from providers),
	 * nor OpenSSL's error strings (only internal errors would show them,
	 * by number), nor the atexit cleanup (freeing tables just before the
	 * process ends): each costs a noticeable part of a short run.
	 */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
	    OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_ADD_ALL_DIGESTS |
	    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS | OPENSSL_INIT_NO_ATEXIT,
	    NULL) != 1)
		return report_crypto(rep, "initialising OpenSSL");
	/*
	 * Hash_DRBG with SHA-256 (SP 800-90A, 256-bit strength) instead of
	 * the default CTR_DRBG: every tool fetches SHA-256 anyway, so the
	 * generator's set-up costs no extra algorithm fetch.
	 */
	if (RAND_set_DRBG_type(NULL, "HASH-DRBG", NULL, NULL, "SHA256") != 1)
		return report_crypto(rep, "setting up the random generator");
	return 0;
}

/* The server fetches from several threads, and so do e2e-decrypt's
 * worker threads (stream mode). */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* The algorithm cached as name, or NULL; under cache_lock. *i is where
 * the search stopped: the first free entry, or CACHE_SIZE. */
static void *
find(struct cached *c, const char *name, size_t *i)
{
	for (*i = 0; *i < CACHE_SIZE && c[*i].name != NULL; (*i)++)
		if (strcmp(c[*i].name, name) == 0)
			return c[*i].alg;
	return NULL;
}

/*
 * The fetch itself runs without the lock: a first fetch of each kind
 * builds OpenSSL's table of that kind (hundreds of microseconds), and a
 * thread fetching a digest must not wait for one fetching a cipher. Two
 * threads fetching the same name both fetch; the second's is freed.
 */
static void *
lookup(struct cached *c, const char *name, void *(*fetch)(const char *),
    void (*release)(void *), struct report *rep)
{
	void *alg, *got, *extra = NULL;
	size_t i;

	pthread_mutex_lock(&cache_lock);
	alg = find(c, name, &i);
	pthread_mutex_unlock(&cache_lock);
	if (alg != NULL)
		return alg;
	if ((got = fetch(name)) == NULL) {
		report_crypto(rep, name);
		return NULL;
	}
	pthread_mutex_lock(&cache_lock);
	if ((alg = find(c, name, &i)) != NULL) {
		extra = got;
	} else if (i == CACHE_SIZE) {
		extra = got;
		report_error(rep, E2E_EX_SOFTWARE,
		    "internal error: algorithm cache full");
	} else {
		c[i].alg = alg = got;
		c[i].name = name;
	}
	pthread_mutex_unlock(&cache_lock);
	if (extra != NULL)
		release(extra);
	return alg;
}

static void *
fetch_md(const char *name)
{
	return EVP_MD_fetch(NULL, name, NULL);
}

static void
free_md(void *alg)
{
	EVP_MD_free(alg);
}

static void *
fetch_cipher(const char *name)
{
	return EVP_CIPHER_fetch(NULL, name, NULL);
}

static void
free_cipher(void *alg)
{
	EVP_CIPHER_free(alg);
}

static void *
fetch_mac(const char *name)
{
	return EVP_MAC_fetch(NULL, name, NULL);
}

static void
free_mac(void *alg)
{
	EVP_MAC_free(alg);
}

const EVP_MD *
crypto_md(const char *name, struct report *rep)
{
	return lookup(mds, name, fetch_md, free_md, rep);
}

const EVP_CIPHER *
crypto_cipher(const char *name, struct report *rep)
{
	return lookup(ciphers, name, fetch_cipher, free_cipher, rep);
}

EVP_MAC *
crypto_mac(const char *name, struct report *rep)
{
	return lookup(macs, name, fetch_mac, free_mac, rep);
}

#ifdef E2E_TEST_HOOKS
static uint8_t test_random[4096];
static size_t test_random_len, test_random_pos;
static int64_t test_now;

void
crypto_test_set_random(const uint8_t *p, size_t n)
{
	if (n > sizeof(test_random))
		n = sizeof(test_random);
	if (n > 0)
		memcpy(test_random, p, n);
	test_random_len = n;
	test_random_pos = 0;
}

void
crypto_test_set_now(int64_t t)
{
	test_now = t;
}
#endif

int
crypto_random(void *p, size_t n, struct report *rep)
{
#ifdef E2E_TEST_HOOKS
	if (test_random_pos + n <= test_random_len) {
		memcpy(p, test_random + test_random_pos, n);
		test_random_pos += n;
		return 0;
	}
#endif
	if (n > 0 && RAND_bytes(p, (int)n) != 1)
		return report_crypto(rep, "random number generation");
	return 0;
}

int64_t
crypto_now(void)
{
#ifdef E2E_TEST_HOOKS
	if (test_now != 0)
		return test_now;
#endif
	return (int64_t)time(NULL);
}

int
crypto_hmac(const char *md, const uint8_t *key, size_t key_len,
    const uint8_t *msg, size_t msg_len, uint8_t *out, size_t *out_len,
    struct report *rep)
{
	EVP_MAC *mac = crypto_mac("HMAC", rep);
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx;
	int rc = -1;

	if (mac == NULL || (ctx = EVP_MAC_CTX_new(mac)) == NULL)
		return -1;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)md, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, key_len, params) == 1 &&
	    EVP_MAC_update(ctx, msg, msg_len) == 1 &&
	    EVP_MAC_final(ctx, out, out_len, EVP_MAX_MD_SIZE) == 1)
		rc = 0;
	EVP_MAC_CTX_free(ctx);
	return rc;
}
