/* auth.c - bcrypt passwords and HS256 tokens (see auth.h). */
#include "server/auth.h"
#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/jsonio.h"
#include "format/crypto.h"
#include "server/log.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/crypto.h>

#define PREHASH_LABEL "e2e-chat password v1"
#define CLOCK_SKEW 60		/* seconds a token's iat may be ahead */
#define SECRET_KEY "jwt_secret"
#define CHECK_KEY "jwt_secret_check"
#define CHECK_LABEL "e2e-server secret check v1"

/* base64(HMAC-SHA-256(label, pw)): 44 characters, no NUL. */
static int
prehash(const char *pw, size_t len, char out[64])
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	struct buf b = BUF_SECRET_INIT;
	size_t mac_len = 0;
	struct report rep = { 0 };	/* said in the log */
	int rc = -1, h;

	h = crypto_hmac("SHA256", (const uint8_t *)PREHASH_LABEL,
	    sizeof(PREHASH_LABEL) - 1, (const uint8_t *)pw, len, mac,
	    &mac_len, &rep);
	log_report(&rep);
	if (h != 0 || mac_len != 32)
		goto out;
	if (b64_append(&b, mac, 32) != 0) {
		log_error("out of memory");
		goto out;
	}
	if (b.len >= 64)
		goto out;
	memcpy(out, b.p, b.len);
	out[b.len] = '\0';
	rc = 0;
out:
	wipe(mac, sizeof(mac));
	buf_free(&b);
	return rc;
}

int
auth_password_hash(const char *pw, size_t len, unsigned cost,
    char out[STORE_HASH_MAX + 1])
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE], input[64];
	struct crypt_data *cd;
	const char *h;
	int rc = -1;

	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return -1;
	if (prehash(pw, len, input) != 0)
		goto out;
	if (crypt_gensalt_rn("$2b$", cost, NULL, 0, setting,
	    sizeof(setting)) == NULL)
		goto out;
	h = crypt_rn(input, setting, cd, sizeof(*cd));
	if (h == NULL || h[0] == '*' || strlen(h) > STORE_HASH_MAX)
		goto out;
	memcpy(out, h, strlen(h) + 1);
	rc = 0;
out:
	wipe(input, sizeof(input));
	wipe(cd, sizeof(*cd));
	free(cd);
	return rc;
}

/*
 * A bcrypt hash as the original server's bcrypt wrote it: $2a$ or $2b$,
 * a cost of 04 to 31, 22 characters of salt and 31 of hash in bcrypt's
 * base64. Returns 1 or 0.
 */
static int
plain_bcrypt(const char *h)
{
	static const char b64[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	int cost;

	if ((strncmp(h, "$2a$", 4) != 0 && strncmp(h, "$2b$", 4) != 0) ||
	    h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9' ||
	    h[6] != '$' || strlen(h) != 60 || strspn(h + 7, b64) != 53)
		return 0;
	cost = (h[4] - '0') * 10 + (h[5] - '0');
	return cost >= 4 && cost <= 31;
}

/* The original server's hash in a stored hash (AUTH_ORIGINAL_PREFIX and
 * a plain bcrypt hash), or NULL: the one place that tells them apart. */
static const char *
original_hash(const char *hash)
{
	size_t n = sizeof(AUTH_ORIGINAL_PREFIX) - 1;

	if (strncmp(hash, AUTH_ORIGINAL_PREFIX, n) != 0 ||
	    !plain_bcrypt(hash + n))
		return NULL;
	return hash + n;
}

int
auth_original_hash(const char *bcrypt, char out[STORE_HASH_MAX + 1])
{
	if (!plain_bcrypt(bcrypt))
		return -1;
	snprintf(out, STORE_HASH_MAX + 1, "%s%s", AUTH_ORIGINAL_PREFIX, bcrypt);
	return 0;
}

/*
 * The original's check: bcrypt of the password as given, which bcrypt
 * reads up to its first 72 bytes (so did the original). A password
 * holding a NUL cannot be given to crypt (and never reaches here: both
 * body parsers refuse it). Takes the hash's own cost in time.
 */
static int
original_check(const char *pw, size_t len, const char *bcrypt)
{
	char input[73];
	struct crypt_data *cd;
	const char *h;
	int ok = 0;

	if (memchr(pw, '\0', len) != NULL)
		return 0;
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return 0;
	if (len > 72)
		len = 72;
	memcpy(input, pw, len);
	input[len] = '\0';
	h = crypt_rn(input, bcrypt, cd, sizeof(*cd));
	ok = h != NULL && strlen(h) == 60 && CRYPTO_memcmp(h, bcrypt, 60) == 0;
	wipe(input, sizeof(input));
	wipe(cd, sizeof(*cd));
	free(cd);
	return ok;
}

int
auth_hash_cost(const char *hash)
{
	/* $2b$NN$ and 53 more characters. */
	const char *orig = original_hash(hash);
	int cost;

	/* An original server's hash takes its own cost's time, too. */
	if (orig != NULL)
		return (orig[4] - '0') * 10 + (orig[5] - '0');
	if (strncmp(hash, "$2b$", 4) != 0 || hash[4] < '0' || hash[4] > '9' ||
	    hash[5] < '0' || hash[5] > '9' || hash[6] != '$' ||
	    strlen(hash) != 60)
		return -1;
	cost = (hash[4] - '0') * 10 + (hash[5] - '0');
	return cost >= 4 && cost <= 31 ? cost : -1;
}

int
auth_hash_current(const char *hash, unsigned cost)
{
	return original_hash(hash) == NULL && auth_hash_cost(hash) == (int)cost;
}

int
auth_password_check(const char *pw, size_t len, const char *hash)
{
	char input[64];
	struct crypt_data *cd;
	const char *h;
	int ok = 0;

	if (original_hash(hash) != NULL)
		return original_check(pw, len, original_hash(hash));
	/* Only our own kind of hash: $2x$/$2y$/$2$ are never accepted (B3). */
	if (auth_hash_cost(hash) <= 0)
		return 0;
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return 0;
	if (prehash(pw, len, input) == 0) {
		h = crypt_rn(input, hash, cd, sizeof(*cd));
		ok = h != NULL && strlen(h) == strlen(hash) &&
		    CRYPTO_memcmp(h, hash, strlen(hash)) == 0;
	}
	wipe(input, sizeof(input));
	wipe(cd, sizeof(*cd));
	free(cd);
	return ok;
}

void
auth_costs_init(struct auth_costs *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
}

void
auth_costs_destroy(struct auth_costs *c)
{
	pthread_mutex_destroy(&c->lock);
}

void
auth_costs_count(struct auth_costs *c, const char *hash, int delta)
{
	int cost = auth_hash_cost(hash);

	if (cost < 0)
		return;
	pthread_mutex_lock(&c->lock);
	if (delta > 0)
		c->n[cost]++;
	else if (c->n[cost] > 0)
		c->n[cost]--;
	pthread_mutex_unlock(&c->lock);
}

unsigned
auth_costs_max(struct auth_costs *c, unsigned current)
{
	unsigned cost, max = current;

	pthread_mutex_lock(&c->lock);
	for (cost = current + 1; cost < 32; cost++)
		if (c->n[cost] > 0)
			max = cost;
	pthread_mutex_unlock(&c->lock);
	return max;
}

/* One bcrypt at cost, on a throwaway salt. */
static void
pad_once(struct crypt_data *cd, unsigned cost)
{
	/* Any input: the work does not depend on it. */
	static const char input[] = "padding to the time of a check at a cost";
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];

	if (crypt_gensalt_rn("$2b$", cost, NULL, 0, setting,
	    sizeof(setting)) != NULL)
		(void)crypt_rn(input, setting, cd, sizeof(*cd));
}

void
auth_pad(int done, unsigned to)
{
	struct crypt_data *cd;
	unsigned cost;

	if ((done >= 0 && (unsigned)done >= to) ||
	    (cd = calloc(1, sizeof(*cd))) == NULL)
		return;
	if (done < 0)
		pad_once(cd, to);
	else
		for (cost = (unsigned)done; cost < to; cost++)
			pad_once(cd, cost);
	free(cd);
}

struct secret_job {
	struct store_job job;
	const uint8_t *value;
	size_t len;
};

static int
secret_put(struct store *s, struct store_job *j)
{
	struct secret_job *sj = (struct secret_job *)j;

	return s->be->meta_put_new(s, SECRET_KEY, sj->value, sj->len);
}

int
auth_secret_load(struct auth_keys *k, const char *file, struct store *s,
    struct report *rep)
{
	struct buf b = BUF_SECRET_INIT;
	struct secret_job sj;
	uint8_t fresh[32];
	int rc = E2E_EX_SOFTWARE, r;

	k->secret_len = 0;
	if (file != NULL) {
		if ((rc = file_read(file, AUTH_SECRET_MAX, "secret file", &b,
		    rep)) != 0)
			goto out;
		file_warn_if_exposed(file, "secret file", rep);
		rc = E2E_EX_DATAERR;
		/* RFC 7518 3.2: an HS256 key of at least 256 bits (T2). */
		if (b.len < AUTH_SECRET_MIN) {
			report_error(rep, rc, "the secret in %s has %zu bytes; "
			    "at least %d are needed", file, b.len,
			    AUTH_SECRET_MIN);
			goto out;
		}
	} else if (s == NULL) {
		goto out;
	} else {
		r = s->be->meta_get(s, SECRET_KEY, &b);
		if (r == STORE_NOT_FOUND) {
			/* First start: make one and keep it. */
			if (crypto_random(fresh, sizeof(fresh), rep) != 0)
				goto out;
			memset(&sj, 0, sizeof(sj));
			sj.job.run = secret_put;
			sj.value = fresh;
			sj.len = sizeof(fresh);
			r = store_run(s, &sj.job);
			wipe(fresh, sizeof(fresh));
			/* Another server on the same database may have won. */
			if ((r != STORE_OK && r != STORE_CONFLICT) ||
			    s->be->meta_get(s, SECRET_KEY, &b) != STORE_OK) {
				report_error(rep, rc, "cannot keep the token "
				    "secret in the database");
				goto out;
			}
		} else if (r != STORE_OK) {
			goto out;
		}
		if (b.len < AUTH_SECRET_MIN || b.len > AUTH_SECRET_MAX) {
			rc = report_error(rep, E2E_EX_DATAERR, "the token "
			    "secret kept in the database is damaged");
			goto out;
		}
	}
	memcpy(k->secret, b.p, b.len);
	k->secret_len = b.len;
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

/* What the database keeps of a secret: its HMAC of CHECK_LABEL. */
static int
secret_check_value(const struct auth_keys *k, uint8_t out[32],
    struct report *rep)
{
	size_t len = 0;

	if (crypto_hmac("SHA256", k->secret, k->secret_len,
	    (const uint8_t *)CHECK_LABEL, sizeof(CHECK_LABEL) - 1, out, &len,
	    rep) != 0)
		return -1;
	return len == 32 ? 0 : -1;
}

struct check_job {
	struct store_job job;
	const uint8_t *check;		/* 32 bytes */
	const uint8_t *secret;		/* a new kept secret, or NULL */
	size_t secret_len;
	int rotate;
};

static int
check_put(struct store *s, struct store_job *j)
{
	struct check_job *cj = (struct check_job *)j;
	int rc;

	if (!cj->rotate)
		return s->be->meta_put_new(s, CHECK_KEY, cj->check, 32);
	if (cj->secret != NULL && (rc = s->be->meta_set(s, SECRET_KEY,
	    cj->secret, cj->secret_len)) != STORE_OK)
		return rc;
	return s->be->meta_set(s, CHECK_KEY, cj->check, 32);
}

int
auth_secret_check(struct auth_keys *k, const char *file, int rotate,
    struct store *s, struct report *rep)
{
	uint8_t check[32];
	struct buf kept = BUF_INIT;
	struct check_job cj;
	int rc = E2E_EX_SOFTWARE, r;

	memset(&cj, 0, sizeof(cj));
	cj.job.run = check_put;
	cj.check = check;
	cj.rotate = rotate;
	if (rotate && s->be->meta_set == NULL) {
		rc = report_error(rep, E2E_EX_CONFIG, "--secret-rotate is not "
		    "supported by the %s store yet", s->be->name);
		goto out;
	}
	/* The database's own secret is replaced by a fresh one. */
	if (rotate && file == NULL) {
		if (crypto_random(k->secret, 32, rep) != 0)
			goto out;
		k->secret_len = 32;
		cj.secret = k->secret;
		cj.secret_len = 32;
	}
	if (secret_check_value(k, check, rep) != 0)
		goto out;
	if (rotate) {
		if (store_run(s, &cj.job) != STORE_OK) {
			rc = report_error(rep, rc, "cannot keep the new token "
			    "secret in the database");
			goto out;
		}
		rc = 0;
		goto out;
	}
	r = s->be->meta_get(s, CHECK_KEY, &kept);
	if (r == STORE_NOT_FOUND) {
		/* First start (or the first since checks were kept); another
		 * server starting at once may have won: compared below. */
		r = store_run(s, &cj.job);
		if ((r != STORE_OK && r != STORE_CONFLICT) ||
		    s->be->meta_get(s, CHECK_KEY, &kept) != STORE_OK) {
			rc = report_error(rep, rc, "cannot keep the token "
			    "secret's check in the database");
			goto out;
		}
	} else if (r != STORE_OK) {
		rc = report_error(rep, rc, "cannot read the token secret's "
		    "check from the database");
		goto out;
	}
	if (kept.len == 32 && CRYPTO_memcmp(kept.p, check, 32) == 0)
		rc = 0;
	else if (file != NULL)
		rc = report_error(rep, E2E_EX_CONFIG, "the token secret in %s "
		    "is not the one the database is served with: give every "
		    "server on it the same --secret-file, or --secret-rotate "
		    "to replace the secret (every token issued is then "
		    "refused)", file);
	else
		rc = report_error(rep, E2E_EX_CONFIG, "the database is served "
		    "with a --secret-file: give this server the same one, or "
		    "--secret-rotate to go back to a secret kept in the "
		    "database (every token issued is then refused)");
out:
	wipe(check, sizeof(check));
	buf_free(&kept);
	return rc;
}

int
auth_token_issue(const struct auth_keys *k, const struct store_user *u,
    int64_t now, char **token, int64_t *expires_at)
{
	jwt_t *jwt = NULL;
	char *s;
	int rc = -1;

	*token = NULL;
	*expires_at = now + k->ttl;
	if (jwt_new(&jwt) != 0 ||
	    jwt_add_grant(jwt, "sub", u->id) != 0 ||
	    jwt_add_grant(jwt, "name", u->name) != 0 ||
	    jwt_add_grant_int(jwt, "ver", (long)u->token_version) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)now) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)*expires_at) != 0 ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, k->secret,
	    (int)k->secret_len) != 0)
		goto out;
	if ((s = jwt_encode_str(jwt)) == NULL)
		goto out;
	*token = s;
	rc = 0;
out:
	jwt_free(jwt);
	return rc;
}

static json_t *
decode_part(const char *p, size_t n)
{
	struct buf b = BUF_INIT;
	json_t *v = NULL;

	if (b64url_decode_buf(p, n, &b) == 0)
		v = jsonio_parse((const char *)b.p, b.len, NULL);
	buf_free(&b);
	if (v != NULL && !json_is_object(v)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

static int
int_claim(const json_t *o, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(o, name);

	/* Integers only: not strings, not floats (T3). */
	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	return 0;
}

int
auth_token_check(const struct auth_keys *k, const char *token, size_t len,
    int64_t now, struct auth_claims *c)
{
	uint8_t mac[EVP_MAX_MD_SIZE], sig[40];
	const char *d1, *d2, *alg, *typ, *sub, *name;
	json_t *hdr = NULL, *claims = NULL;
	jwt_t *jwt = NULL;
	char *copy = NULL;
	size_t mac_len = 0;
	int64_t iat, exp, ver, nbf;
	long long n;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	/* Bounded, and split only once its shape is right (T6). */
	if (len == 0 || len > AUTH_TOKEN_MAX || memchr(token, '\0', len))
		return -1;
	d1 = memchr(token, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
	if (d1 == NULL || d2 == NULL || d1 == token || d2 == d1 + 1 ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
		return -1;
	/* The signature: 32 bytes, strict base64url, compared in constant
	 * time before anything else is believed (T7). */
	if ((size_t)(token + len - (d2 + 1)) != 43 ||
	    (n = b64url_decode(d2 + 1, 43, sig)) != 32)
		return -1;
	{
		struct report rep = { 0 };	/* said in the log */

		n = crypto_hmac("SHA256", k->secret, k->secret_len,
		    (const uint8_t *)token, (size_t)(d2 - token), mac,
		    &mac_len, &rep);
		log_report(&rep);
	}
	if (n != 0 || mac_len != 32 || CRYPTO_memcmp(mac, sig, 32) != 0)
		goto out;
	/* The header: HS256 and nothing else (T1): no kid, jku, none... */
	hdr = decode_part(token, (size_t)(d1 - token));
	alg = jsonio_str(hdr, "alg", NULL);
	typ = jsonio_str(hdr, "typ", NULL);
	if (hdr == NULL || alg == NULL || strcmp(alg, "HS256") != 0 ||
	    (json_object_get(hdr, "typ") != NULL &&
	    (typ == NULL || strcmp(typ, "JWT") != 0)) ||
	    json_object_size(hdr) != (json_object_get(hdr, "typ") ? 2u : 1u))
		goto out;
	claims = decode_part(d1 + 1, (size_t)(d2 - d1 - 1));
	sub = jsonio_str(claims, "sub", NULL);
	name = jsonio_str(claims, "name", NULL);
	if (claims == NULL || sub == NULL || !store_is_id(sub) ||
	    name == NULL || strlen(name) > STORE_NAME_MAX ||
	    int_claim(claims, "iat", &iat) != 0 ||
	    int_claim(claims, "exp", &exp) != 0 ||
	    int_claim(claims, "ver", &ver) != 0)
		goto out;
	/* Not expired, not from the future, not longer-lived than we issue
	 * (T3). Bounded first, so the subtraction cannot overflow. */
	if (iat < 0 || exp <= now || iat > now + CLOCK_SKEW || exp < iat ||
	    exp > now + k->ttl + CLOCK_SKEW || exp - iat > k->ttl)
		goto out;
	/* We never issue "nbf"; one that is there must be honoured. */
	if (json_object_get(claims, "nbf") != NULL &&
	    (int_claim(claims, "nbf", &nbf) != 0 || nbf > now + CLOCK_SKEW))
		goto out;
	/* And libjwt agrees, as the checker of record. */
	if ((copy = strndup(token, len)) == NULL ||
	    jwt_decode(&jwt, copy, k->secret, (int)k->secret_len) != 0 ||
	    jwt_get_alg(jwt) != JWT_ALG_HS256)
		goto out;
	memcpy(c->sub, sub, strlen(sub) + 1);
	memcpy(c->name, name, strlen(name) + 1);
	c->ver = ver;
	c->exp = exp;
	rc = 0;
out:
	wipe(mac, sizeof(mac));
	jwt_free(jwt);
	free(copy);
	json_decref(hdr);
	json_decref(claims);
	return rc;
}
