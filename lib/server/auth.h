/*
 * auth.h - passwords and tokens.
 *
 * Passwords: bcrypt ($2b$, libxcrypt's crypt_rn, thread-safe) over a
 * pre-hash: base64(HMAC-SHA-256(label, password)). bcrypt reads at most
 * 72 bytes and stops at a NUL; the 44-character pre-hash has neither
 * problem, so passwords that differ anywhere never match (B1, B2).
 *
 * Tokens: HS256 JWTs made with libjwt, naming the user's id ("sub"), name,
 * the user's token version ("ver"), "iat" and "exp". Checking one is
 * strict (T1-T7): at most AUTH_TOKEN_MAX bytes and three strict base64url
 * parts before anything is parsed; the HMAC compared in constant time
 * here (libjwt 1.10 compares it with strcmp, CVE-2024-25189) before libjwt
 * decodes it; a header of "alg":"HS256" and at most "typ":"JWT"; integer
 * claims; not expired, not issued in the future, not living longer than
 * the configured lifetime.
 */
#ifndef E2E_AUTH_H
#define E2E_AUTH_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "server/store.h"

#define AUTH_PASSWORD_MAX 1024
#define AUTH_TOKEN_MAX 4096
#define AUTH_SECRET_MIN 32
#define AUTH_SECRET_MAX 4096

/* Hashes a password at the given bcrypt cost (4..31). Returns 0 or -1. */
int auth_password_hash(const char *pw, size_t len, unsigned cost,
    char out[STORE_HASH_MAX + 1]);

/* Returns 1 when pw matches hash (a $2b$ bcrypt hash, or an original
 * server's hash, below), else 0. Takes the hash's own cost in time
 * whether it matches or not. */
int auth_password_check(const char *pw, size_t len, const char *hash);

/* The bcrypt cost of a stored hash (this scheme's, or an original
 * server's, below), or -1 when it is not one the server checks: the one
 * place that reads a hash's cost (B3, A10). */
int auth_hash_cost(const char *hash);

/* 1 when hash is this scheme's at the given cost: one that needs no
 * re-hashing at the next sign-in (an original server's never is). */
int auth_hash_current(const char *hash, unsigned cost);

/*
 * An account imported from the original server (docs/COMPAT.md) keeps
 * that server's hash until its first sign-in: a plain bcrypt hash of the
 * password ($2a$ or $2b$, no pre-hash, so bcrypt's 72-byte limit applies
 * as it did there), stored behind this prefix. auth_original_hash()
 * checks that bcrypt is such a hash and writes its stored form to out.
 * Returns 0 or -1.
 */
#define AUTH_ORIGINAL_PREFIX "original:"
int auth_original_hash(const char *bcrypt, char out[STORE_HASH_MAX + 1]);
/*
 * Timing (A10): a failed check must take as long whatever the name, so
 * every failed sign-in is padded to the time of a check at the highest
 * cost in use: the costs of the stored hashes, counted at start and kept
 * up to date as hashes come and go, and the current one (of new hashes
 * and of the dummy hash unknown names are checked against).
 */
struct auth_costs {
	pthread_mutex_t lock;
	uint64_t n[32];		/* stored hashes per cost */
};

void auth_costs_init(struct auth_costs *c);
void auth_costs_destroy(struct auth_costs *c);
/* Counts hash (delta +1 when stored, -1 when gone); a hash without a
 * cost is not counted. */
void auth_costs_count(struct auth_costs *c, const char *hash, int delta);
/* The highest cost in use, at least current. */
unsigned auth_costs_max(struct auth_costs *c, unsigned current);

/*
 * Works as long as the rest of a check at cost to after a check at cost
 * done (-1: none was made, say for a hash without a cost): one bcrypt at
 * each cost from done to to - 1, whose times add up to the difference
 * (bcrypt's time doubles with each cost).
 */
void auth_pad(int done, unsigned to);

struct auth_keys {
	uint8_t secret[AUTH_SECRET_MAX];
	size_t secret_len;
	int64_t ttl;		/* token lifetime, seconds */
};

/*
 * The token secret: the bytes of file (at least AUTH_SECRET_MIN) when
 * file is not NULL; otherwise the one kept in the store, made (256 random
 * bits) and kept on first start. Returns 0 or an exit code (said in
 * rep; the store's failures in the log).
 */
int auth_secret_load(struct auth_keys *k, const char *file, struct store *s,
    struct report *rep);

/*
 * Several servers on one database must sign tokens with one secret, or
 * each refuses the others' tokens. The database keeps a check of the
 * secret, HMAC-SHA-256(secret, "e2e-server secret check v1") (which
 * tells nothing of the secret), written at the first start and compared
 * at every start. With rotate, k's secret replaces the one the database
 * knows instead (every token issued before is refused); when it is the
 * database's own (file NULL: no --secret-file), a fresh one is made,
 * kept, and put in k. file names the secret file in messages. Returns
 * 0, or E2E_EX_CONFIG when the secret is not the database's, or another
 * exit code (said in rep).
 */
int auth_secret_check(struct auth_keys *k, const char *file, int rotate,
    struct store *s, struct report *rep);

/* Makes a token for u, valid from now for k->ttl seconds. *token is
 * malloc'd. Returns 0 or -1. */
int auth_token_issue(const struct auth_keys *k, const struct store_user *u,
    int64_t now, char **token, int64_t *expires_at);

struct auth_claims {
	char sub[STORE_ID_LEN + 1];
	char name[STORE_NAME_MAX + 1];
	int64_t ver;
	int64_t exp;
};

/* Checks a token (len bytes, not necessarily NUL-terminated). Returns 0
 * with the claims, or -1: refused, for whatever reason (403). */
int auth_token_check(const struct auth_keys *k, const char *token,
    size_t len, int64_t now, struct auth_claims *c);

#endif
