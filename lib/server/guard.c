/* guard.c - the limits of accounts, addresses and mailboxes (see
 * guard.h). */
#include "server/guard.h"
#include "base/err.h"
#include "format/crypto.h"
#include "server/log.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keys each table remembers (about 100 bytes each, 2x for the slots). */
#define KEYS_MAX 100000

static void
count_hash(void *arg, const char *hash)
{
	auth_costs_count(arg, hash, +1);
}

int
guard_start(struct server *s, struct report *rep)
{
	const struct server_config *c = &s->cfg;
	unsigned per_addr;

	auth_costs_init(&s->costs);
	s->signin_pairs = throttle_new_backoff(c->signin_name_limit,
	    c->signin_backoff, c->limit_window, KEYS_MAX);
	s->signin_addrs = throttle_new(c->signin_addr_limit, c->limit_window,
	    KEYS_MAX);
	s->signup_addrs = throttle_new(c->signup_addr_limit, c->limit_window,
	    KEYS_MAX);
	s->send_rates = rate_new(c->send_rate, c->send_burst, KEYS_MAX);
	s->signin_account_rates = rate_new(c->signin_account_rate / 3600.0,
	    c->signin_account_rate, KEYS_MAX);
	s->signin_addr_rates = rate_new(c->signin_addr_rate / 3600.0,
	    c->signin_addr_rate, KEYS_MAX);
	/* One address may fill a quarter of the queue, so that others still
	 * find room; its jobs take their turns with everyone else's. */
	per_addr = c->signin_queue / 4 > 0 ? c->signin_queue / 4 : 1;
	s->slow = workers_start(c->bcrypt_workers, c->signin_queue, per_addr,
	    rep);
	if (s->signin_pairs == NULL || s->signin_addrs == NULL ||
	    s->signup_addrs == NULL || s->send_rates == NULL ||
	    s->signin_account_rates == NULL || s->signin_addr_rates == NULL ||
	    s->slow == NULL) {
		return report_error(rep, E2E_EX_SOFTWARE,
		    "cannot start the server: out of memory");
	}
	/* The costs of the stored hashes: a failed sign-in is padded to the
	 * highest (A10). */
	if (s->store.be->user_hashes(&s->store, count_hash, &s->costs) !=
	    STORE_OK)
		return E2E_EX_SOFTWARE;
	return 0;
}

void
guard_stop(struct server *s)
{
	throttle_free(s->signin_pairs);
	throttle_free(s->signin_addrs);
	throttle_free(s->signup_addrs);
	rate_free(s->send_rates);
	rate_free(s->signin_account_rates);
	rate_free(s->signin_addr_rates);
	auth_costs_destroy(&s->costs);
}

int
guard_pair_key(const char *name, const char *addr, char out[48])
{
	static const char label[] = "e2e-chat sign-in name and address";
	static const char hex[] = "0123456789abcdef";
	uint8_t in[STORE_NAME_MAX + 1 + 128], mac[EVP_MAX_MD_SIZE];
	size_t n = strlen(name), m = strlen(addr), mac_len = 0, i;

	/* name NUL addr: a name holds no NUL, so no two pairs meet. */
	if (n > STORE_NAME_MAX)
		n = STORE_NAME_MAX;
	if (m > 128)
		m = 128;
	memcpy(in, name, n);
	in[n] = '\0';
	memcpy(in + n + 1, addr, m);
	{
		struct report rep = { 0 };	/* said in the log */
		int h = crypto_hmac("SHA256", (const uint8_t *)label,
		    sizeof(label) - 1, in, n + 1 + m, mac, &mac_len, &rep);

		log_report(&rep);
		if (h != 0 || mac_len < 20)
			return -1;
	}
	for (i = 0; i < 20; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[40] = '\0';
	return 0;
}

/* ---- limits shared by every server on the database ---- */

#define REQ_OF(p, member) \
	((struct req *)(void *)((char *)(p) - offsetof(struct req, member)))

/* A key of the limits table: what is counted, then whose. */
#define LIMIT_KEY_MAX (16 + STORE_NAME_MAX + 64)

static void
limit_key(char out[LIMIT_KEY_MAX], const char *what, const char *whose)
{
	snprintf(out, LIMIT_KEY_MAX, "%s:%s", what, whose);
}

static struct store_limit
rate_of(unsigned per_hour)
{
	struct store_limit l = { STORE_LIMIT_RATE, per_hour / 3600.0,
		(double)per_hour, 0, 0, 0 };

	return l;
}

static struct store_limit
window_of(unsigned limit, unsigned window)
{
	struct store_limit l = { STORE_LIMIT_WINDOW, 0, 0, limit, window, 0 };

	return l;
}

static struct store_limit
pair_limit(const struct server_config *c)
{
	struct store_limit l = { STORE_LIMIT_BACKOFF, 0, 0,
		c->signin_name_limit, c->limit_window, c->signin_backoff };

	return l;
}

/* Takes one of key under l; a refusal's wait and words in r. */
static int
take(struct store *st, struct req *r, const struct store_limit *l,
    const char *what, const char *whose, int64_t now, const char *refusal)
{
	char key[LIMIT_KEY_MAX];
	unsigned wait = 0;
	int rc;

	limit_key(key, what, whose);
	rc = store_limit_take(st, l, key, now, &wait);
	if (rc == STORE_LIMITED) {
		r->retry_after = wait;
		r->limited = refusal;
	} else if (rc != STORE_OK) {
		r->shared = -1;
	}
	return rc;
}

int
guard_send_put(struct store *st, struct req *r, const struct store_message *m,
    const char *to_id, size_t max_messages, size_t max_bytes)
{
	const struct server_config *c = &r->srv->cfg;
	struct store_limit l = { STORE_LIMIT_RATE, c->send_rate,
		c->send_burst, 0, 0, 0 };
	char key[LIMIT_KEY_MAX];
	int rc;

	limit_key(key, "send", r->user.id);
	/* Said now: the refusal may be learned after the job's release,
	 * its wait written into r then (store_send). */
	r->limited = "too many messages; slow down";
	rc = store_send(st, &l, key, store_limit_now_ms(), &r->retry_after,
	    m, r->sender_in_job ? &r->user.token_version : NULL, to_id,
	    max_messages, max_bytes);
	if (rc < 0)
		r->shared = -1;
	return rc;
}

static struct store_limit
claim_rate(const struct server_config *c)
{
	return rate_of(c->prekey_claim_rate);
}

int
guard_prekey_take(struct store *st, struct req *r)
{
	struct store_limit l = claim_rate(&r->srv->cfg);

	return take(st, r, &l, "prekey-claim", r->user.id,
	    store_limit_now_ms(), "too many prekeys claimed; slow down");
}

int
guard_prekey_give(struct store *st, struct req *r)
{
	struct store_limit l = claim_rate(&r->srv->cfg);
	char key[LIMIT_KEY_MAX];

	limit_key(key, "prekey-claim", r->user.id);
	return store_limit_give(st, &l, key, store_limit_now_ms());
}

int
guard_signup_run(struct store *st, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);
	const struct server_config *c = &r->srv->cfg;
	struct store_limit l = window_of(c->signup_addr_limit,
	    c->limit_window);

	return take(st, r, &l, "signup-addr", r->addr, store_limit_now_ms(),
	    "too many sign-ups; try again later");
}

int
guard_signin_run(struct store *st, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);
	const struct server_config *c = &r->srv->cfg;
	struct store_limit pair = pair_limit(c), addr = window_of(
	    c->signin_addr_limit, c->limit_window), account = rate_of(
	    c->signin_account_rate), from = rate_of(c->signin_addr_rate);
	static const char failed[] = "too many failed sign-ins; try again "
	    "later", rated[] = "too many sign-ins; try again later";
	int64_t now = store_limit_now_ms();
	int rc;

	/* Always in this order, the rows' locks too. A refusal rolls the
	 * job back: nothing of it stays counted. */
	if ((rc = take(st, r, &pair, "fail-pair", r->pair, now, failed)) !=
	    STORE_OK ||
	    (rc = take(st, r, &addr, "fail-addr", r->addr, now, failed)) !=
	    STORE_OK ||
	    (rc = take(st, r, &account, "signin-name", r->from, now,
	    rated)) != STORE_OK)
		return rc;
	return take(st, r, &from, "signin-addr", r->addr, now, rated);
}

struct signin_end {
	struct store_job job;
	struct server *srv;
	int outcome;
	char pair[48];
	char addr[64];
	char from[STORE_NAME_MAX + 1];
};

static int
give(struct store *st, const struct store_limit *l, const char *what,
    const char *whose, int64_t now)
{
	char key[LIMIT_KEY_MAX];

	limit_key(key, what, whose);
	return store_limit_give(st, l, key, now);
}

/* What became of a sign-in, in its counts (guard_signin_end). */
static int
settle(struct store *st, const struct server_config *c, int outcome,
    const char *pair_key, const char *addr_key, const char *from_key)
{
	struct store_limit pair = pair_limit(c), addr = window_of(
	    c->signin_addr_limit, c->limit_window), account = rate_of(
	    c->signin_account_rate), from = rate_of(c->signin_addr_rate);
	char key[LIMIT_KEY_MAX];
	int64_t now = store_limit_now_ms();
	int rc = STORE_OK;

	if (outcome == GUARD_SIGNED_IN) {
		limit_key(key, "fail-pair", pair_key);
		rc = store_limit_clear(st, key);
	} else if (outcome == GUARD_UNCOUNTED) {
		rc = give(st, &pair, "fail-pair", pair_key, now);
	}
	if (rc == STORE_OK && outcome != GUARD_FAILED)
		rc = give(st, &addr, "fail-addr", addr_key, now);
	/* Failures never use up the owner's rate (A5). */
	if (rc == STORE_OK && outcome != GUARD_SIGNED_IN &&
	    (rc = give(st, &account, "signin-name", from_key, now)) ==
	    STORE_OK)
		rc = give(st, &from, "signin-addr", addr_key, now);
	return rc;
}

int
guard_signin_settle(struct store *st, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);

	return settle(st, &r->srv->cfg, r->busy != WORKERS_OK ?
	    GUARD_UNCOUNTED : r->ok ? GUARD_SIGNED_IN : GUARD_FAILED, r->pair,
	    r->addr, r->from);
}

static int
signin_end_run(struct store *st, struct store_job *j)
{
	struct signin_end *e = (struct signin_end *)(void *)j;

	return settle(st, &e->srv->cfg, e->outcome, e->pair, e->addr,
	    e->from);
}

static void
signin_end_done(struct store_job *j, int result)
{
	/* A failure is in the log (the backend's); the counts stay the
	 * stricter ones. */
	(void)result;
	free(j);
}

void
guard_signin_end(struct req *r, int outcome)
{
	struct signin_end *e = calloc(1, sizeof(*e));

	if (e == NULL) {
		log_error("out of memory");
		return;
	}
	e->srv = r->srv;
	e->outcome = outcome;
	memcpy(e->pair, r->pair, sizeof(e->pair));
	memcpy(e->addr, r->addr, sizeof(e->addr));
	memcpy(e->from, r->from, sizeof(e->from));
	e->job.run = signin_end_run;
	e->job.done = signin_end_done;
	store_submit(&r->srv->store, &e->job);
}
