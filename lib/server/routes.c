/*
 * routes.c - what each route of e2e-server does. A route checks its
 * input, answers at once, or hands slow work to another thread (bcrypt to
 * the workers, writes to the store's writer) and continues when resumed.
 * Every route acts as the token's user only: the sender is always the
 * token's user, and only that user's messages are listed, taken,
 * acknowledged or deleted (T5).
 */
#include "server/httpd.h"
#include "base/err.h"
#include "base/jsonio.h"
#include "base/names.h"
#include "format/jwk.h"
#include "format/keyfile.h"
#include "format/keyproof.h"
#include "format/prekeyproof.h"
#include "server/guard.h"
#include "server/log.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIST_DEFAULT 100
#define LIST_MAX 1000
#define ACK_MAX 1000

#define REQ_OF(p, member) \
	((struct req *)(void *)((char *)(p) - offsetof(struct req, member)))

static void
job_done(struct store_job *j, int result)
{
	struct req *r = REQ_OF(j, job);

	r->result = result;
	req_resume(r);
}

/* Runs fn on the writer thread, then cont on a connection thread. */
static void
write_then(struct req *r, int (*fn)(struct store *, struct store_job *),
    void (*cont)(struct req *))
{
	r->job.run = fn;
	r->job.done = job_done;
	req_suspend(r, cont);
	store_submit(&r->srv->store, &r->job);
}

static json_t *
message_json(const struct store_message *m)
{
	return json_pack("{s:s,s:s,s:s,s:I,s:s%}", "id", m->id, "from", m->from,
	    "to", m->to, "sent_at", (json_int_t)m->sent_at, "message", m->body,
	    m->body_len);
}

static int
take_secret(struct req *r, const char *pw, size_t len)
{
	if ((r->secret = malloc(len + 1)) == NULL)
		return -1;
	memcpy(r->secret, pw, len);
	r->secret[len] = '\0';
	r->secret_len = len;
	return 0;
}

/* Name and password fields of the account routes. 0, or answered. */
static int
credentials(struct req *r, const char **name, size_t *name_len,
    const char **pw, size_t *pw_len)
{
	int bad = 0;

	*name = req_field(r, "name", name_len, &bad);
	*pw = req_field(r, "password", pw_len, &bad);
	if (bad)
		return -1;
	if (*name == NULL || *pw == NULL) {
		respond_error(r, 400, "\"name\" and \"password\" are needed");
		return -1;
	}
	if (!name_valid(*name, *name_len)) {
		respond_error(r, 400, "a name is 1 to %d letters, digits, "
		    "'.', '_' or '-'", STORE_NAME_MAX);
		return -1;
	}
	/* Passwords are compared as the bytes given (UTF-8, checked by the
	 * body parsers, no normalisation), never empty (B6), bounded. */
	if (*pw_len == 0 || *pw_len > AUTH_PASSWORD_MAX) {
		respond_error(r, 400, "a password is 1 to %d bytes",
		    AUTH_PASSWORD_MAX);
		return -1;
	}
	return 0;
}

/* ---- identity: names that look alike, names and keys that rest ---- */

/* The time a deleted name or key was deleted before which it is free
 * (quarantine). */
static int64_t
rest_since(const struct server *s)
{
	return srv_now() - s->cfg.name_quarantine;
}

/* "30 days", "12 hours", ...: the quarantine, as the refusals say it. */
static void
say_duration(int64_t t, char *out, size_t size)
{
	static const struct {
		int64_t secs;
		const char *unit;
	} units[] = { { 86400, "day" }, { 3600, "hour" }, { 60, "minute" },
		{ 1, "second" } };
	size_t i;

	for (i = 0; i < 3 && (t == 0 || t % units[i].secs != 0); i++)
		;
	snprintf(out, size, "%lld %s%s", (long long)(t / units[i].secs),
	    units[i].unit, t == units[i].secs ? "" : "s");
}

/* When something deleted at t is free again, as UTC ISO 8601. */
static void
say_free_at(const struct server *s, int64_t t, char *out, size_t size)
{
	time_t when = (time_t)(t + s->cfg.name_quarantine);
	struct tm tm;

	if (gmtime_r(&when, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, size, "later");
}

/* Answers the refusal of a new name (409): it is taken, too close to
 * another, or resting. */
static void
refuse_name(struct req *r, const char *name, int rc)
{
	char how_long[32], free_at[32];

	say_duration(r->srv->cfg.name_quarantine, how_long, sizeof(how_long));
	say_free_at(r->srv, r->clash_at, free_at, sizeof(free_at));
	if (rc == STORE_CLASH && strcmp(name, r->clash) != 0)
		respond_error(r, 409, "the name %s is too close to the existing "
		    "name %s", name, r->clash);
	else if (rc == STORE_CLASH || rc == STORE_CONFLICT)
		respond_error(r, 409, "the name %s is taken", name);
	else if (strcmp(name, r->clash) == 0)
		respond_error(r, 409, "the name %s rests until %s: its account "
		    "was deleted less than %s ago", name, free_at, how_long);
	else
		respond_error(r, 409, "the name %s is too close to %s, the name "
		    "of an account deleted less than %s ago; it rests until %s",
		    name, r->clash, how_long, free_at);
}

/* A new password: at least --min-password bytes. 0, or answered. */
static int
new_password_ok(struct req *r, size_t len, const char *field)
{
	size_t min = r->srv->cfg.min_password;

	if (len < min) {
		respond_error(r, 400, "%s is too short: at least %zu bytes",
		    field, min);
		return -1;
	}
	return 0;
}

/*
 * Hands r's bcrypt work to the workers, in the queue of its address;
 * cont runs once it is done. When the queue is full, cont runs at once
 * with r->busy set (busy_answer says so).
 */
static void
to_workers(struct req *r, void (*cont)(struct req *r))
{
	int rc;

	req_suspend(r, cont);
	/* r is the workers' from here: only a refusal is written to it. */
	if ((rc = workers_submit_keyed(r->srv->slow, &r->work, r->addr)) !=
	    WORKERS_OK) {
		r->busy = rc;
		req_resume(r);
	}
}

/* Answers a refusal of the bcrypt queue (r->busy): 1 when answered. */
static int
busy_answer(struct req *r)
{
	if (r->busy == WORKERS_OK)
		return 0;
	/* 503 with Retry-After: clients retry by themselves. */
	r->result = 1;
	if (r->busy == WORKERS_KEY_FULL)
		respond_error(r, 503, "too many sign-ins at once from your "
		    "address; try again in a moment");
	else
		respond_error(r, 503, "the server is busy; try again in a "
		    "moment");
	return 1;
}

/*
 * The answer of a job of the limits every server shares (guard.h): 0
 * when it let r through; else 1, answered: 429 with its wait, or 503
 * when they could not be counted (never through uncounted).
 */
static int
shared_refused(struct req *r)
{
	if (r->result == STORE_OK)
		return 0;
	if (r->result == STORE_LIMITED) {
		respond_error(r, 429, "%s", r->limited);
		return 1;
	}
	r->retry_after = 2;
	respond_error(r, 503, "the limits cannot be counted now; try again in "
	    "a moment");
	return 1;
}

/* ---- POST /users/signup ---- */

static int
signup_run(struct store *s, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);
	struct store_user *u = &r->other;
	char skel[STORE_NAME_MAX + 1];
	int rc;

	if (!r->ok || store_new_id(u->id) != 0)
		return STORE_ERROR;
	/* Checked again here, where it counts: a look-alike may have
	 * signed up while the password was hashed. */
	name_skeleton(u->name, strlen(u->name), skel);
	if ((rc = s->be->name_clash(s, 1, skel, rest_since(r->srv), r->clash,
	    &r->clash_at)) != STORE_OK)
		return rc;
	memcpy(u->hash, r->hash, sizeof(u->hash));
	u->token_version = 0;
	u->created_at = srv_now();
	return s->be->user_create(s, u);
}

static void
signup_hashed(struct work *w)
{
	struct req *r = REQ_OF(w, work);

	r->ok = auth_password_hash(r->secret, r->secret_len,
	    r->srv->cfg.bcrypt_cost, r->hash) == 0;
	r->job.run = signup_run;
	r->job.done = job_done;
	store_submit(&r->srv->store, &r->job);
}

static void
signup_cont(struct req *r)
{
	if (busy_answer(r))
		return;
	switch (r->result) {
	case STORE_OK:
		auth_costs_count(&r->srv->costs, r->hash, +1);
		/* Never the hash. */
		respond_json(r, 200, json_pack("{s:s,s:s}", "id", r->other.id,
		    "name", r->other.name));
		break;
	case STORE_CONFLICT:
	case STORE_CLASH:
	case STORE_RESTING:
		refuse_name(r, r->other.name, r->result);
		break;
	default:
		respond_error(r, 500, "internal error");
	}
}

/* Counted by every server's count of its address: on to bcrypt. */
static void
signup_admitted(struct req *r)
{
	if (!shared_refused(r))
		to_workers(r, signup_cont);
}

static void
h_signup(struct req *r)
{
	struct server *s = r->srv;
	const char *name, *pw;
	char skel[STORE_NAME_MAX + 1];
	size_t name_len, pw_len;
	unsigned wait;
	int rc;

	if ((wait = throttle_check(s->signup_addrs, r->addr,
	    store_limit_now_ms())) > 0) {
		r->result = (int)wait;
		respond_error(r, 429, "too many sign-ups; try again later");
		return;
	}
	if (credentials(r, &name, &name_len, &pw, &pw_len) != 0 ||
	    new_password_ok(r, pw_len, "the password") != 0)
		return;
	/* An option-like or hidden-file-like name: not for new accounts. */
	if (!name_valid_new(name, name_len)) {
		respond_error(r, 400, "a new name may not start with '-' or "
		    "'.'");
		return;
	}
	switch (s->store.be->user_by_name(&s->store, name, &r->other)) {
	case STORE_OK:
		respond_error(r, 409, "the name %s is taken", name);
		return;
	case STORE_NOT_FOUND:
		break;
	default:
		respond_error(r, 500, "internal error");
		return;
	}
	/* Before bcrypt's work: a name like another's is refused (I3). */
	name_skeleton(name, name_len, skel);
	rc = s->store.be->name_clash(&s->store, 0, skel, rest_since(s),
	    r->clash, &r->clash_at);
	if (rc == STORE_CLASH || rc == STORE_RESTING) {
		refuse_name(r, name, rc);
		return;
	}
	if (rc != STORE_OK) {
		respond_error(r, 500, "internal error");
		return;
	}
	throttle_fail(s->signup_addrs, r->addr, store_limit_now_ms());
	memset(&r->other, 0, sizeof(r->other));
	memcpy(r->other.name, name, name_len + 1);
	if (take_secret(r, pw, pw_len) != 0) {
		respond_error(r, 500, "internal error");
		return;
	}
	r->work.run = signup_hashed;
	write_then(r, guard_signup_run, signup_admitted);
}

/*
 * ---- POST /users/signin, and the old password of POST /users/password
 *
 * A sign-in takes, in order: a turn of its name and address (failures
 * there back off exponentially, A8: strangers elsewhere cannot lock the
 * owner out), a turn of its address (failures over all names), a token
 * of the account's and of the address's rate of successful sign-ins
 * (given back if it fails, A5), a place in the bcrypt queue of its
 * address (fair between addresses, bounded: 503 when full), and then
 * the check, padded when it fails to the time of a check at the highest
 * cost in use (A10).
 */

struct rehash {
	struct store_job job;
	struct server *srv;
	char id[STORE_ID_LEN + 1];
	char old[STORE_HASH_MAX + 1];
	char hash[STORE_HASH_MAX + 1];
};

static int
rehash_run(struct store *s, struct store_job *j)
{
	struct rehash *h = (struct rehash *)(void *)j;
	int64_t version;

	/* Only if no other change came first. */
	return s->be->user_set_hash(s, h->id, h->old, h->hash, 0, &version);
}

static void
rehash_done(struct store_job *j, int result)
{
	struct rehash *h = (struct rehash *)(void *)j;

	if (result == STORE_OK) {
		auth_costs_count(&h->srv->costs, h->old, -1);
		auth_costs_count(&h->srv->costs, h->hash, +1);
	}
	free(h);
}

/* A hash of another cost than today's is made again at today's (B3). */
static void
rehash(struct req *r, const char *pw, size_t len)
{
	struct server *s = r->srv;
	struct rehash *h;

	if (auth_hash_current(r->hash, s->cfg.bcrypt_cost) ||
	    (h = calloc(1, sizeof(*h))) == NULL)
		return;
	h->srv = s;
	memcpy(h->id, r->other.id, sizeof(h->id));
	memcpy(h->old, r->hash, sizeof(h->old));
	if (auth_password_hash(pw, len, s->cfg.bcrypt_cost, h->hash) != 0) {
		free(h);
		return;
	}
	h->job.run = rehash_run;
	h->job.done = rehash_done;
	store_submit(&s->store, &h->job);
}

static int
password_run(struct store *s, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);

	/* The hash that was checked is replaced, and every token issued
	 * so far stops working (A9). */
	return s->be->user_set_hash(s, r->other.id, r->other.hash, r->hash, 1,
	    &r->other.token_version);
}

static void
signin_checked(struct work *w)
{
	struct req *r = REQ_OF(w, work);
	struct server *s = r->srv;
	size_t len = r->pw_change ? r->secret_split : r->secret_len;

	r->ok = auth_password_check(r->secret, len, r->hash) &&
	    r->other.id[0] != '\0';
	if (!r->ok) {
		/* As long as a check at the highest cost in use, whatever the
		 * name and whatever its hash's cost (A10). */
		auth_pad(auth_hash_cost(r->hash), auth_costs_max(&s->costs,
		    s->cfg.bcrypt_cost));
	} else if (r->pw_change) {
		/* The old password is right: the new one replaces it. */
		if (auth_password_hash(r->secret + r->secret_split,
		    r->secret_len - r->secret_split, s->cfg.bcrypt_cost,
		    r->hash) == 0) {
			r->job.run = password_run;
			r->job.done = job_done;
			store_submit(&s->store, &r->job);
			return;
		}
		r->result = STORE_ERROR;
	} else if (!r->del_account) {
		rehash(r, r->secret, len);
	}
	req_resume(r);
}

/* Gives back the tokens of the rates of successful sign-ins. */
static void
give_rates(struct req *r)
{
	int64_t now = rate_now_ms();

	if (!r->rates_taken)
		return;
	rate_give(r->srv->signin_account_rates, r->from, now);
	rate_give(r->srv->signin_addr_rates, r->addr, now);
	r->rates_taken = 0;
}

/* The end of an attempt that has its turns: failed (counted) or not. */
static void
attempt_end(struct req *r, int failed)
{
	struct server *s = r->srv;
	int64_t now = store_limit_now_ms();

	throttle_end(s->signin_pairs, r->pair, now, failed);
	throttle_end(s->signin_addrs, r->addr, now, failed);
	r->name_turn = r->addr_turn = 0;
	if (r->shared == 2)
		guard_signin_end(r, r->ok ? GUARD_SIGNED_IN : failed ?
		    GUARD_FAILED : GUARD_UNCOUNTED);
	r->shared = 0;
	if (r->ok)
		throttle_succeeded(s->signin_pairs, r->pair, now);
	else
		give_rates(r);
}

/* 200 {id, token, expires_at}: a new token for r->other. */
static void
respond_token(struct req *r)
{
	char *token = NULL;
	int64_t exp;

	if (auth_token_issue(&r->srv->keys, &r->other, srv_now(), &token,
	    &exp) != 0) {
		respond_error(r, 500, "internal error");
		return;
	}
	respond_json(r, 200, json_pack("{s:s,s:s,s:I}", "id", r->other.id,
	    "token", token, "expires_at", (json_int_t)exp));
	wipe(token, strlen(token));
	free(token);
}

static void
settled(struct store_job *j, int result)
{
	(void)result;	/* a failure is in the log: the counts stay the
			 * stricter ones */
	req_resume(REQ_OF(j, job));
}

/* The attempt's shared counts settled before its answer (guard.h);
 * cont runs again then. Returns 1 when r waits for it. */
static int
settle_then(struct req *r, void (*cont)(struct req *r))
{
	if (r->shared != 2)
		return 0;
	r->shared = 3;
	r->job.run = guard_signin_settle;
	r->job.done = settled;
	req_suspend(r, cont);
	store_submit(&r->srv->store, &r->job);
	return 1;
}

/*
 * The password check is over, for every route that checks one like a
 * sign-in: the shared counts settled first (cont runs again then), a
 * refusal of the bcrypt queue answered, the attempt ended, counted as
 * failed when the password was wrong. Returns 1 when r waits or has
 * its answer; 0 when the caller answers from r->ok.
 */
static int
check_over(struct req *r, void (*cont)(struct req *r))
{
	if (settle_then(r, cont))
		return 1;
	if (busy_answer(r)) {
		attempt_end(r, 0);
		return 1;
	}
	attempt_end(r, !r->ok);
	return 0;
}

static void
signin_cont(struct req *r)
{
	if (check_over(r, signin_cont))
		return;
	if (!r->ok) {
		/* The same answer for an unknown name and a wrong password. */
		respond_error(r, 403, "authentication failed");
		return;
	}
	respond_token(r);
}

static void
password_cont(struct req *r)
{
	struct server *s = r->srv;

	if (check_over(r, password_cont))
		return;
	if (!r->ok) {
		respond_error(r, 403, "the current password is wrong");
		return;
	}
	switch (r->result) {
	case STORE_OK:
		break;
	case STORE_CONFLICT:
		respond_error(r, 409, "the password was changed meanwhile; "
		    "sign in again");
		return;
	case STORE_NOT_FOUND:
		respond_error(r, 404, "no such user");
		return;
	default:
		respond_error(r, 500, "internal error");
		return;
	}
	auth_costs_count(&s->costs, r->other.hash, -1);
	auth_costs_count(&s->costs, r->hash, +1);
	/* Every other session ended; the caller's goes on with a new token
	 * (docs/SERVER.md). */
	respond_token(r);
}

static void signin_admitted(struct req *r);
static void user_delete_checked(struct req *r);

static void
signin_woken(struct throttle_waiter *w)
{
	req_resume(REQ_OF(w, twait));
}

/*
 * Takes a turn with throttle t for key (throttle.h). Returns 1 when the
 * attempt may go on, 0 when it waits its turn (suspended: retried by
 * signin_admitted), -1 when answered (429).
 */
static int
take_turn(struct req *r, struct throttle *t, const char *key)
{
	unsigned wait;

	switch (throttle_try(t, key, store_limit_now_ms(), &wait)) {
	case THROTTLE_GO:
		return 1;
	case THROTTLE_WAIT:
		r->result = (int)wait;
		respond_error(r, 429, "too many failed sign-ins; try again "
		    "later");
		return -1;
	default:
		/* Suspended first: the wake-up may come at once. */
		r->twait.wake = signin_woken;
		req_suspend(r, signin_admitted);
		if (!throttle_enqueue(t, key, store_limit_now_ms(),
		    &r->twait))
			req_resume(r);	/* a turn came free meanwhile */
		return 0;
	}
}

/* Takes a token of the account's and of the address's rate of
 * successful sign-ins. 0, or answered (429). */
static int
take_rates(struct req *r)
{
	struct server *s = r->srv;
	int64_t now = rate_now_ms();
	unsigned wait = 0;

	if (rate_take(s->signin_account_rates, r->from, now, &wait)) {
		if (rate_take(s->signin_addr_rates, r->addr, now, &wait)) {
			r->rates_taken = 1;
			return 0;
		}
		rate_give(s->signin_account_rates, r->from, now);
	}
	r->result = (int)wait;
	respond_error(r, 429, "too many sign-ins; try again later");
	return -1;
}

/* The sign-in, once it has (or waits for) its turns, name and address
 * then address: also the continuation of a wait. */
static void
signin_admitted(struct req *r)
{
	struct server *s = r->srv;
	int rc;

	if (!r->name_turn) {
		if ((rc = take_turn(r, s->signin_pairs, r->pair)) <= 0)
			return;
		r->name_turn = 1;
	}
	if (!r->addr_turn) {
		if ((rc = take_turn(r, s->signin_addrs, r->addr)) < 0) {
			throttle_end(s->signin_pairs, r->pair,
			    store_limit_now_ms(), 0);
			return;
		}
		if (rc == 0)
			return;
		r->addr_turn = 1;
	}
	if (!r->rates_taken && take_rates(r) != 0) {
		attempt_end(r, 0);
		return;
	}
	/* What every server on the database counted decides (guard.h):
	 * asked on the writer, then here again. */
	if (r->shared == 0) {
		r->shared = 1;
		write_then(r, guard_signin_run, signin_admitted);
		return;
	}
	if (r->shared != 2 && r->result != STORE_OK) {
		attempt_end(r, 0);
		shared_refused(r);
		return;
	}
	r->shared = 2;
	/* A password change or a deletion checks the token's user as it
	 * is now. */
	rc = r->pw_change || r->del_account ? s->store.be->user_by_id(
	    &s->store, r->user.id, &r->other) : s->store.be->user_by_name(
	    &s->store, r->from, &r->other);
	switch (rc) {
	case STORE_OK:
		memcpy(r->hash, r->other.hash, sizeof(r->hash));
		break;
	case STORE_NOT_FOUND:
		/* Checked against a dummy hash all the same (B4). */
		memset(&r->other, 0, sizeof(r->other));
		memcpy(r->hash, s->dummy_hash, sizeof(r->hash));
		break;
	default:
		attempt_end(r, 0);
		respond_error(r, 500, "internal error");
		return;
	}
	r->work.run = signin_checked;
	to_workers(r, r->pw_change ? password_cont : r->del_account ?
	    user_delete_checked : signin_cont);
}

/* The sign-in's name and the key of its name and address. 0, or
 * answered. */
static int
signin_begin(struct req *r, const char *name)
{
	memcpy(r->from, name, strlen(name) + 1);
	if (guard_pair_key(r->from, r->addr, r->pair) != 0) {
		respond_error(r, 500, "internal error");
		return -1;
	}
	return 0;
}

static void
h_signin(struct req *r)
{
	const char *name, *pw;
	size_t name_len, pw_len;

	if (credentials(r, &name, &name_len, &pw, &pw_len) != 0)
		return;
	if (take_secret(r, pw, pw_len) != 0) {
		respond_error(r, 500, "internal error");
		return;
	}
	if (signin_begin(r, name) == 0)
		signin_admitted(r);
}

/* ---- POST /users/password: change it; every token revoked (A9) ---- */

static void
h_password(struct req *r)
{
	const char *old, *fresh;
	size_t old_len = 0, new_len = 0;
	int bad = 0;

	old = req_field(r, "old_password", &old_len, &bad);
	fresh = req_field(r, "new_password", &new_len, &bad);
	if (bad)
		return;
	if (old == NULL || fresh == NULL) {
		respond_error(r, 400, "\"old_password\" and \"new_password\" "
		    "are needed");
		return;
	}
	if (old_len == 0 || old_len > AUTH_PASSWORD_MAX ||
	    new_len > AUTH_PASSWORD_MAX) {
		respond_error(r, 400, "a password is 1 to %d bytes",
		    AUTH_PASSWORD_MAX);
		return;
	}
	if (new_password_ok(r, new_len, "the new password") != 0)
		return;
	/* Both in one wiped buffer: the old one, then the new one. */
	if ((r->secret = malloc(old_len + new_len + 1)) == NULL) {
		respond_error(r, 500, "internal error");
		return;
	}
	memcpy(r->secret, old, old_len);
	memcpy(r->secret + old_len, fresh, new_len);
	r->secret[old_len + new_len] = '\0';
	r->secret_len = old_len + new_len;
	r->secret_split = old_len;
	r->pw_change = 1;
	if (signin_begin(r, r->user.name) == 0)
		signin_admitted(r);
}

/* ---- POST /users/signout: every token of the account revoked (A9) */

static int
signout_run(struct store *s, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);

	return s->be->user_revoke(s, r->user.id, &r->user.token_version);
}

static void
signout_cont(struct req *r)
{
	if (r->result == STORE_OK)
		respond_json(r, 200, json_pack("{s:s,s:b}", "id", r->user.id,
		    "signed_out", 1));
	else if (r->result == STORE_NOT_FOUND)
		respond_error(r, 404, "no such user");
	else
		respond_error(r, 500, "internal error");
}

static void
h_signout(struct req *r)
{
	write_then(r, signout_run, signout_cont);
}

/* ---- DELETE /users/:id, {"password": PASSWORD} ---- */

static int
user_delete_run(struct store *s, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);
	int64_t now = srv_now();
	int rc;

	/* Its hash as it is now, whose cost then leaves the costs in use
	 * (A10); the one whose password was checked, or it changed since. */
	if ((rc = s->be->user_current(s, r->user.id, &r->other)) != STORE_OK)
		return rc;
	if (strcmp(r->other.hash, r->hash) != 0)
		return STORE_CONFLICT;
	/* Its name and key ids rest first, so no one else takes them at
	 * once (I4); then the account, its keys and its mailbox go. */
	if ((rc = s->be->quarantine_user(s, r->user.id, now,
	    now - r->srv->cfg.name_quarantine)) != STORE_OK)
		return rc;
	return s->be->user_delete(s, r->user.id);
}

static void
user_delete_cont(struct req *r)
{
	if (r->result == STORE_OK)
		auth_costs_count(&r->srv->costs, r->other.hash, -1);
	if (r->result == STORE_OK)
		respond_json(r, 200, json_pack("{s:s,s:b}", "id", r->user.id,
		    "deleted", 1));
	else if (r->result == STORE_NOT_FOUND)
		respond_error(r, 404, "no such user");
	else if (r->result == STORE_CONFLICT)
		respond_error(r, 409, "the password was changed meanwhile; "
		    "nothing deleted");
	else
		respond_error(r, 500, "internal error");
}

/* Right after the commit, on the writer: the user's tokens stop working
 * here at once (cache.h). */
static void
user_delete_done(struct store_job *j, int result)
{
	struct req *r = REQ_OF(j, job);

	if (result == STORE_OK)
		cache_clear(r->srv->cache);
	job_done(j, result);
}

/* The password checked as a sign-in's (signin_admitted): counted like
 * one, right or wrong (A8), then the deletion. */
static void
user_delete_checked(struct req *r)
{
	if (check_over(r, user_delete_checked))
		return;
	if (!r->ok) {
		respond_error(r, 403, "the password is wrong; nothing deleted");
		return;
	}
	r->job.run = user_delete_run;
	r->job.done = user_delete_done;
	req_suspend(r, user_delete_cont);
	store_submit(&r->srv->store, &r->job);
}

/*
 * A token alone does not delete an account (a stolen session would take
 * the name with it, to rest, docs/KEYS.md): its password too, checked
 * like a sign-in's, through the bcrypt queue, the sign-in throttles of
 * the name and the address and the same padding.
 */
static void
h_user_delete(struct req *r)
{
	const char *pw;
	size_t len = 0;
	int bad = 0;

	/* Only one's own account. */
	if (strcmp(r->param, r->user.id) != 0) {
		respond_error(r, 403, "you can only delete your own account");
		return;
	}
	if ((pw = req_field(r, "password", &len, &bad)) == NULL) {
		if (!bad)
			respond_error(r, 400, "\"password\" is needed: the "
			    "account's password confirms its deletion");
		return;
	}
	if (len == 0 || len > AUTH_PASSWORD_MAX) {
		respond_error(r, 400, "a password is 1 to %d bytes",
		    AUTH_PASSWORD_MAX);
		return;
	}
	if (take_secret(r, pw, len) != 0) {
		respond_error(r, 500, "internal error");
		return;
	}
	r->del_account = 1;
	if (signin_begin(r, r->user.name) == 0)
		signin_admitted(r);
}

/* ---- sending: POST /messages, POST /messages/sendmessage ---- */

static int
send_run(struct store *s, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);

	if (store_new_ordered_id(r->msg.id) != 0)
		return STORE_ERROR;
	r->msg.sent_at = srv_now();
	/* The sender's send rate, as every server counted it (A3); then
	 * the quota, decided here, on the writer, with the recipient's row
	 * held (A2); a recipient deleted meanwhile: STORE_NOT_FOUND; the
	 * sender signed out or deleted while the body was on its way
	 * (authenticate() left it to this job): STORE_REVOKED, nothing
	 * stored. */
	return guard_send_put(s, r, &r->msg, r->other.id,
	    r->srv->cfg.mailbox_max_messages, r->srv->cfg.mailbox_max_bytes);
}

static void
send_done(struct store_job *j, int result)
{
	struct req *r = REQ_OF(j, job);

	r->msg.body = NULL;	/* it was the body's, not ours */
	r->result = result;
	/* Waiting receivers learn of it at once. */
	if (result == STORE_OK)
		waiters_bump(r->srv->waiters, r->other.id);
	req_resume(r);
}

static void
send_cont(struct req *r)
{
	if (r->result == STORE_OK)
		respond_json(r, 200, json_pack("{s:s}", "id", r->msg.id));
	else if (r->result == STORE_REVOKED)
		respond_error(r, 403, "authentication failed");
	else if (r->result == STORE_NOT_FOUND)
		respond_error(r, 404, "no such user: %s", r->other.name);
	else if (r->result == STORE_FULL)
		respond_error(r, 507, "%s's mailbox is full", r->other.name);
	/* A send's rate is counted in the statement that stores it
	 * (store_send), whose failure a backend may learn only at the
	 * commit: the database there, that failure is the limits'. */
	else if (r->result == STORE_LIMITED || r->shared < 0 ||
	    (r->result == STORE_ERROR && !store_unavailable(&r->srv->store)))
		shared_refused(r);
	else
		respond_error(r, 500, "internal error");
}

static void
h_send(struct req *r)
{
	struct server *s = r->srv;
	const char *to, *from, *message;
	size_t to_len, from_len = 0, len;
	unsigned wait;
	int bad = 0;

	/* Every send counts against the sender's rate (A3). */
	if (!rate_take(s->send_rates, r->user.id, rate_now_ms(), &wait)) {
		r->result = (int)wait;
		respond_error(r, 429, "too many messages; slow down");
		return;
	}
	to = req_field(r, "to", &to_len, &bad);
	from = req_field(r, "from", &from_len, &bad);
	message = req_field(r, "message", &len, &bad);
	if (bad)
		return;
	if (to == NULL || message == NULL) {
		respond_error(r, 400, "\"to\" and \"message\" are needed");
		return;
	}
	if (!name_valid(to, to_len)) {
		respond_error(r, 400, "\"to\" is not a valid name");
		return;
	}
	/* The sender is the token's user, whatever "from" says. */
	if (from != NULL && strcmp(from, r->user.name) != 0) {
		respond_error(r, 403, "you can only send as yourself");
		return;
	}
	if (len == 0) {
		respond_error(r, 400, "the message is empty");
		return;
	}
	switch (srv_user_by_name(s, to, &r->other)) {
	case STORE_OK:
		break;
	case STORE_NOT_FOUND:
		respond_error(r, 404, "no such user: %s", to);
		return;
	default:
		respond_error(r, 500, "internal error");
		return;
	}
	memcpy(r->msg.from, r->user.name, sizeof(r->msg.from));
	memcpy(r->msg.from_id, r->user.id, sizeof(r->msg.from_id));
	memcpy(r->msg.to, r->other.name, sizeof(r->msg.to));
	r->msg.body = (char *)message;
	r->msg.body_len = len;
	r->job.run = send_run;
	r->job.done = send_done;
	req_suspend(r, send_cont);
	store_submit(&s->store, &r->job);
}

/* ---- POST /messages/getmessage (the original: take one) ---- */

static int
take_run(struct store *s, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);

	return s->be->message_take_oldest(s, r->user.id, r->from, &r->msg);
}

static void
take_cont(struct req *r)
{
	if (r->result == STORE_OK) {
		respond_json(r, 200, message_json(&r->msg));
	} else if (r->result == STORE_EMPTY) {
		respond_json(r, 204, NULL);
	} else {
		respond_error(r, 500, "internal error");
	}
}

static void
h_getmessage(struct req *r)
{
	const char *from, *to;
	size_t from_len, to_len;
	int bad = 0;

	from = req_field(r, "from", &from_len, &bad);
	to = req_field(r, "to", &to_len, &bad);
	if (bad)
		return;
	if (from == NULL || !name_valid(from, from_len)) {
		respond_error(r, 400, "\"from\" must name a user");
		return;
	}
	/* Only one's own mailbox. */
	if (to != NULL && strcmp(to, r->user.name) != 0) {
		respond_error(r, 403, "you can only read your own messages");
		return;
	}
	memcpy(r->from, from, from_len + 1);
	write_then(r, take_run, take_cont);
}

/* ---- GET /messages: list, long-poll ---- */

static void list_once(struct req *r, int again);

static void
list_woken(struct waiter *w)
{
	req_resume(REQ_OF(w, waiter));
}

/* The receiver hung up: out of the registry, unless already woken. */
static int
list_cancel(struct req *r)
{
	return waiters_cancel(r->srv->waiters, &r->waiter);
}

/*
 * Woken: by a message, the deadline, or the poll interval (waiters.h).
 * The account may have signed out or been deleted meanwhile, maybe
 * through another server on the database: its token is looked at again
 * with the messages listed (T4).
 */
static void
list_cont(struct req *r)
{
	store_message_list_free(&r->list);
	list_once(r, 1);
}

/*
 * The answer to a list: as many of the messages found as fit in
 * --max-answer-bytes of JSON (at least one, whatever its size), and
 * "more": true when some were left out for it (A4). Each message is
 * encoded twice (sized, then written in place) rather than kept twice.
 */
static void
list_answer(struct req *r)
{
	static const char head[] = "{\"messages\":[", tail[] = "]}",
	    more_tail[] = "],\"more\":true}";
	size_t cap = r->srv->cfg.max_answer_bytes, total, n, k, *len;
	char *text = NULL, *p;
	json_t *o;
	int more;

	if ((len = calloc(r->list.n + 1, sizeof(*len))) == NULL)
		goto fail;
	total = sizeof(head) - 1 + sizeof(more_tail) - 1;
	for (n = 0; n < r->list.n; n++) {
		o = message_json(&r->list.v[n]);
		k = o ? json_dumpb(o, NULL, 0, JSON_COMPACT) : 0;
		json_decref(o);
		if (k == 0)
			goto fail;
		if (n > 0 && total + 1 + k > cap)
			break;
		len[n] = k;
		total += k + (n > 0);
	}
	more = n < r->list.n || r->list.cut;
	if ((text = malloc(total + 1)) == NULL)
		goto fail;
	p = text;
	memcpy(p, head, sizeof(head) - 1);
	p += sizeof(head) - 1;
	for (k = 0; k < n; k++) {
		if (k > 0)
			*p++ = ',';
		o = message_json(&r->list.v[k]);
		if (o == NULL || json_dumpb(o, p, len[k], JSON_COMPACT) !=
		    len[k]) {
			json_decref(o);
			goto fail;
		}
		json_decref(o);
		p += len[k];
	}
	if (more) {
		memcpy(p, more_tail, sizeof(more_tail) - 1);
		p += sizeof(more_tail) - 1;
	} else {
		memcpy(p, tail, sizeof(tail) - 1);
		p += sizeof(tail) - 1;
	}
	*p = '\0';
	free(len);
	/* The bodies are in the answer now: not kept twice while it goes. */
	store_message_list_free(&r->list);
	respond_json_text(r, 200, text, (size_t)(p - text));
	return;
fail:
	free(len);
	free(text);
	respond_error(r, 500, "internal error");
}

/* Lists the messages, or waits for one; again: woken, and the token
 * looked at again with them (one look at the database: a receiver woken
 * across servers waits for it). */
static void
list_once(struct req *r, int again)
{
	struct server *s = r->srv;
	const char *from = r->from[0] ? r->from : NULL,
	    *after = r->after[0] ? r->after : NULL;
	int rc;

	r->seq = waiters_seq(s->waiters);
	/* Enough bodies for an answer of the largest size, not limit's. */
	r->list.max_bytes = s->cfg.max_answer_bytes;
	rc = again ? store_messages_for(&s->store, r->user.id,
	    r->user.token_version, from, after, r->limit, &r->list) :
	    s->store.be->messages(&s->store, r->user.id, from, after,
	    r->limit, &r->list);
	if (rc == STORE_NOT_FOUND && again) {
		respond_error(r, 403, "authentication failed");
		return;
	}
	if (rc != STORE_OK) {
		respond_error(r, 500, "internal error");
		return;
	}
	if (r->list.n > 0 || s->stopping ||
	    waiters_now_ms() >= r->wait_until_ms) {
		list_answer(r);
		return;
	}
	/* Nothing yet: wait, suspended, for a message or the deadline. The
	 * connection is suspended first, so a wake-up cannot come before. */
	memset(&r->waiter, 0, sizeof(r->waiter));
	memcpy(r->waiter.user, r->user.id, STORE_ID_LEN + 1);
	r->waiter.deadline_ms = r->wait_until_ms;
	r->waiter.wake = list_woken;
	req_suspend_watched(r, list_cont, list_cancel);
	if (waiters_add(s->waiters, &r->waiter, r->seq) != 0)
		req_resume(r);	/* something arrived meanwhile: look again */
}

static int
query_uint(struct req *r, const char *name, unsigned long max,
    unsigned long *out)
{
	const char *v = req_query(r, name);
	char *end;

	if (r->broken) {
		respond_error(r, 400, "an argument holds a NUL byte");
		return -1;
	}
	if (v == NULL)
		return 0;
	errno = 0;
	*out = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || errno != 0 || *end != '\0' ||
	    *out > max) {
		respond_error(r, 400, "%s must be a number from 0 to %lu", name,
		    max);
		return -1;
	}
	return 0;
}

static void
h_list(struct req *r)
{
	struct server *s = r->srv;
	const char *from, *after;
	unsigned long limit = LIST_DEFAULT, wait = 0;

	from = req_query(r, "from");
	after = req_query(r, "after");
	if (r->broken) {
		respond_error(r, 400, "an argument holds a NUL byte");
		return;
	}
	if (from != NULL) {
		if (!name_valid(from, strlen(from))) {
			respond_error(r, 400, "from must name a user");
			return;
		}
		memcpy(r->from, from, strlen(from) + 1);
	}
	if (after != NULL) {
		if (!store_is_id(after)) {
			respond_error(r, 400, "after must be a message id");
			return;
		}
		memcpy(r->after, after, STORE_ID_LEN + 1);
	}
	if (query_uint(r, "limit", LIST_MAX, &limit) != 0 ||
	    query_uint(r, "wait", s->cfg.max_wait, &wait) != 0)
		return;
	r->limit = limit == 0 ? LIST_DEFAULT : limit;
	r->wait_until_ms = waiters_now_ms() + (int64_t)wait * 1000;
	list_once(r, 0);
}

/* ---- POST /messages/ack, DELETE /messages/:id ---- */

static int
ack_run(struct store *s, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);

	return s->be->messages_delete(s, r->user.id,
	    (const char *const *)r->ids, r->nids, &r->deleted);
}

static void
ack_cont(struct req *r)
{
	if (r->result != STORE_OK) {
		respond_error(r, 500, "internal error");
		return;
	}
	/* DELETE of one message: someone else's, or unknown, is 404. */
	if (r->route->method[0] == 'D' && r->deleted == 0)
		respond_error(r, 404, "no such message");
	else
		respond_json(r, 200, json_pack("{s:I}", "deleted",
		    (json_int_t)r->deleted));
}

static int
add_id(struct req *r, const char *id, size_t len)
{
	char **v;

	if (len != STORE_ID_LEN || strlen(id) < len) {
		respond_error(r, 400, "not a message id");
		return -1;
	}
	if ((v = realloc(r->ids, (r->nids + 1) * sizeof(*v))) == NULL) {
		respond_error(r, 500, "internal error");
		return -1;
	}
	r->ids = v;
	if ((v[r->nids] = strndup(id, len)) == NULL ||
	    !store_is_id(v[r->nids])) {
		free(v[r->nids]);
		respond_error(r, v[r->nids] ? 400 : 500, "not a message id");
		return -1;
	}
	r->nids++;
	return 0;
}

static void
h_ack(struct req *r)
{
	const json_t *ids = json_object_get(r->params, "ids"), *v;
	const char *s, *comma;
	size_t i;

	if (json_is_array(ids)) {
		if (json_array_size(ids) == 0 ||
		    json_array_size(ids) > ACK_MAX) {
			respond_error(r, 400, "\"ids\" holds 1 to %d ids",
			    ACK_MAX);
			return;
		}
		json_array_foreach(ids, i, v) {
			if (!json_is_string(v)) {
				respond_error(r, 400, "\"ids\" holds strings");
				return;
			}
			if (add_id(r, json_string_value(v),
			    json_string_length(v)) != 0)
				return;
		}
	} else if (json_is_string(ids)) {
		/* A form body: ids=A,B,C, no empty item. */
		s = json_string_value(ids);
		for (;;) {
			comma = s + strcspn(s, ",");
			if (r->nids == ACK_MAX) {
				respond_error(r, 400, "\"ids\" holds 1 to %d "
				    "ids", ACK_MAX);
				return;
			}
			if (add_id(r, s, (size_t)(comma - s)) != 0)
				return;
			if (*comma == '\0')
				break;
			s = comma + 1;
		}
	} else {
		respond_error(r, 400, "\"ids\" must list message ids");
		return;
	}
	write_then(r, ack_run, ack_cont);
}

static void
h_message_delete(struct req *r)
{
	if (!store_is_id(r->param)) {
		respond_error(r, 404, "no such message");
		return;
	}
	if (add_id(r, r->param, strlen(r->param)) != 0)
		return;
	write_then(r, ack_run, ack_cont);
}

/* ---- the key directory: PUT /keys, GET /keys/:name, DELETE /keys/:kid */

#define KEY_PEM_MAX (16 * 1024)

static json_t *
keys_json(const char *id, const char *name, const struct store_key_list *l)
{
	json_t *arr = json_array(), *k;
	size_t i;

	for (i = 0; arr != NULL && i < l->n; i++) {
		/* proof null: published before proofs were asked for. */
		k = json_pack("{s:s,s:s,s:I,s:o}", "kid", l->v[i].kid, "pem",
		    l->v[i].pem, "created_at", (json_int_t)l->v[i].created_at,
		    "proof", l->v[i].proof ? json_string(l->v[i].proof) :
		    json_null());
		if (k == NULL || json_array_append_new(arr, k) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr ? json_pack("{s:s,s:s,s:o}", "name", name, "id", id,
	    "keys", arr) : NULL;
}

/* Answers the keys of user (id, name) as they are now. */
static void
respond_keys(struct req *r, const char *id, const char *name)
{
	struct store *st = &r->srv->store;
	json_t *o;

	store_key_list_free(&r->keys);
	if (st->be->keys(st, id, &r->keys) != STORE_OK ||
	    (o = keys_json(id, name, &r->keys)) == NULL) {
		respond_error(r, 500, "internal error");
		return;
	}
	respond_json(r, 200, o);
}

/*
 * The proof of possession of key pk (id k->kid) given as keys[i].proof:
 * made with that key, for the token's user (id and name), this server's
 * URL, within KEYPROOF_SKEW seconds of now (keyproof.h). Kept in k. 0,
 * or answered (400, each refusal its own words).
 */
static int
key_proof(struct req *r, size_t i, const json_t *e, EVP_PKEY *pk,
    struct store_key *k)
{
	const json_t *p = json_object_get(e, "proof");
	struct keyproof_want want;
	struct report why = { 0 };	/* what keyproof_check says */
	char msg[KEYPROOF_URL_MAX * 2 + 256 + 32];

	if (p == NULL || json_is_null(p)) {
		respond_error(r, 400, "keys[%zu] has no proof of possession "
		    "(\"proof\"): publish it with e2e-keys publish, which "
		    "proves you hold its private key", i);
		return -1;
	}
	if (!json_is_string(p)) {
		respond_error(r, 400, "keys[%zu].proof must be a compact JWS", i);
		return -1;
	}
	if ((want.aud = srv_public_url(r->srv)) == NULL) {
		respond_error(r, 503, "the server is starting");
		return -1;
	}
	want.id = r->user.id;
	want.name = r->user.name;
	want.now = srv_now();
	want.skew = KEYPROOF_SKEW;
	if (keyproof_check(json_string_value(p), json_string_length(p), pk,
	    k->kid, &want, NULL, &why) != KEYPROOF_OK) {
		/* Longer than respond_error's line: two URLs may be in it. */
		snprintf(msg, sizeof(msg), "keys[%zu].proof %s", i,
		    report_message(&why));
		respond_json(r, 400, json_pack("{s:s}", "error", msg));
		return -1;
	}
	if ((k->proof = strdup(json_string_value(p))) == NULL) {
		respond_error(r, 500, "internal error");
		return -1;
	}
	return 0;
}

/*
 * One published key: a PEM SubjectPublicKeyInfo of an RSA key of 2048
 * to 4096 bits with e = 65537 (the checks every tool makes), whose id
 * the server computes, and which must match an id given. The PEM kept is
 * the server's own encoding of the key, nothing else of what was sent.
 * 0, or answered (400).
 */
static int
key_from_json(struct req *r, size_t i, const json_t *e, struct store_key *k)
{
	static const char *const allowed[] = { "pem", "kid", "proof", NULL };
	const char *pem, *kid;
	size_t len, kid_len;
	struct report rep = { 0 };
	char what[32];
	struct buf out = BUF_INIT;
	EVP_PKEY *pk = NULL;
	int rc = -1;

	if (!json_is_object(e) || jsonio_unknown_member(e, allowed) != NULL) {
		respond_error(r, 400, "keys[%zu] must be {\"pem\", "
		    "\"proof\"} with an optional \"kid\"", i);
		return -1;
	}
	pem = jsonio_str(e, "pem", &len);
	kid = jsonio_str(e, "kid", &kid_len);
	if (pem == NULL || len == 0 || len > KEY_PEM_MAX) {
		respond_error(r, 400, "keys[%zu].pem must be a PEM public key "
		    "of at most %d bytes", i, KEY_PEM_MAX);
		return -1;
	}
	if (json_object_get(e, "kid") != NULL && (kid == NULL ||
	    !jwk_is_kid(kid, kid_len))) {
		respond_error(r, 400, "keys[%zu].kid is not a key id", i);
		return -1;
	}
	snprintf(what, sizeof(what), "keys[%zu]", i);
	/* The library's refusal is the client's answer (its first error;
	 * warnings are for terminals). */
	rc = keyfile_parse_public((const uint8_t *)pem, len, what, &pk, &rep);
	if (rc == 0)
		rc = jwk_thumbprint(pk, k->kid, &rep);
	if (rc == 0)
		rc = keyfile_public_pem(pk, &out, &rep);
	if (rc != 0) {
		respond_error(r, rc == E2E_EX_SOFTWARE ? 500 : 400, "%s",
		    report_message(&rep)[0] ? report_message(&rep) :
		    "internal error");
		goto out;
	}
	if (kid != NULL && strcmp(kid, k->kid) != 0) {
		respond_error(r, 400, "keys[%zu].kid is %s but the key's id "
		    "is %s", i, kid, k->kid);
		rc = -1;
		goto out;
	}
	if (key_proof(r, i, e, pk, k) != 0) {
		rc = -1;
		goto out;
	}
	if (buf_terminate(&out) != 0) {
		log_error("out of memory");
		respond_error(r, 500, "internal error");
		rc = -1;
		goto out;
	}
	k->pem = (char *)out.p;
	out.p = NULL;
out:
	if (rc != 0) {
		/* Not counted in r->keys: freed here. */
		free(k->proof);
		k->proof = NULL;
	}
	buf_free(&out);
	EVP_PKEY_free(pk);
	return rc == 0 ? 0 : -1;
}

static int
keys_put_run(struct store *s, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);
	int64_t now = srv_now();
	int64_t since = rest_since(r->srv);
	size_t i;
	int rc = STORE_OK;

	for (i = 0; i < r->keys.n && rc == STORE_OK; i++) {
		r->bad_key = i;
		/* A key belongs to one account (I1), also for a while after
		 * that account is deleted (I4). */
		if ((rc = s->be->kid_clash(s, 1, r->keys.v[i].kid, r->user.id,
		    since, &r->clash_at)) != STORE_OK)
			break;
		r->keys.v[i].created_at = now;
		rc = store_key_put(s, r->user.id, &r->keys.v[i]);
	}
	return rc;
}

static void
keys_put_cont(struct req *r)
{
	char how_long[32], free_at[32];
	const char *kid = r->bad_key < r->keys.n ?
	    r->keys.v[r->bad_key].kid : "?";

	if (r->result == STORE_TAKEN) {
		respond_error(r, 409, "key %s is another account's: a key "
		    "belongs to one account", kid);
		return;
	}
	if (r->result == STORE_RESTING) {
		say_duration(r->srv->cfg.name_quarantine, how_long,
		    sizeof(how_long));
		say_free_at(r->srv, r->clash_at, free_at, sizeof(free_at));
		respond_error(r, 409, "key %s was another account's less than "
		    "%s ago (withdrawn, or its account deleted); it rests until "
		    "%s", kid, how_long, free_at);
		return;
	}
	if (r->result == STORE_OK)
		respond_keys(r, r->user.id, r->user.name);
	else if (r->result == STORE_CONFLICT)
		respond_error(r, 409, "at most %d keys per user; delete one "
		    "first", STORE_KEYS_MAX);
	else if (r->result == STORE_NOT_FOUND)
		respond_error(r, 404, "no such user");
	else
		respond_error(r, 500, "internal error");
}

static void
h_keys_put(struct req *r)
{
	const json_t *keys = json_object_get(r->params, "keys"), *e;
	size_t i;

	if (!json_is_array(keys) || json_array_size(keys) == 0 ||
	    json_array_size(keys) > STORE_KEYS_MAX) {
		respond_error(r, 400, "\"keys\" must list 1 to %d keys",
		    STORE_KEYS_MAX);
		return;
	}
	if ((r->keys.v = calloc(json_array_size(keys),
	    sizeof(*r->keys.v))) == NULL) {
		respond_error(r, 500, "internal error");
		return;
	}
	json_array_foreach(keys, i, e) {
		if (key_from_json(r, i, e, &r->keys.v[i]) != 0)
			return;
		r->keys.n++;
	}
	write_then(r, keys_put_run, keys_put_cont);
}

static void
h_keys_get(struct req *r)
{
	if (!name_valid(r->param, strlen(r->param))) {
		respond_error(r, 404, "no such user");
		return;
	}
	switch (srv_user_by_name(r->srv, r->param, &r->other)) {
	case STORE_OK:
		respond_keys(r, r->other.id, r->other.name);
		break;
	case STORE_NOT_FOUND:
		respond_error(r, 404, "no such user: %s", r->param);
		break;
	default:
		respond_error(r, 500, "internal error");
	}
}

static int
key_delete_run(struct store *s, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);
	int64_t now = srv_now();
	int rc;

	/* A withdrawn key rests as a deleted account's does (I4): else
	 * withdrawing every key before deleting the account would free
	 * them at once. Not found: nothing was quarantined either. */
	if ((rc = s->be->quarantine_key(s, r->user.id, r->param, now,
	    now - r->srv->cfg.name_quarantine)) != STORE_OK)
		return rc;
	return s->be->key_delete(s, r->user.id, r->param);
}

static void
key_delete_cont(struct req *r)
{
	if (r->result == STORE_OK)
		respond_json(r, 200, json_pack("{s:s,s:b}", "kid", r->param,
		    "deleted", 1));
	else if (r->result == STORE_NOT_FOUND)
		respond_error(r, 404, "no such key");
	else
		respond_error(r, 500, "internal error");
}

static void
h_key_delete(struct req *r)
{
	/* Only one's own keys: another user's key id is not found. */
	if (!jwk_is_kid(r->param, strlen(r->param))) {
		respond_error(r, 404, "no such key");
		return;
	}
	write_then(r, key_delete_run, key_delete_cont);
}

/* ---- prekeys (issue 16): PUT /prekeys, GET /prekeys, GET /prekeys/:name */

/* What a claim without a one-time prekey says (in the kind of a claimed
 * one-time slot left empty, see struct req). */
enum { CLAIM_EMPTY = -1, CLAIM_RATE = -2 };

#define PREKEYS_BODY_MAX (1024 * 1024)

/*
 * One prekey of PUT /prekeys, where (e.g. "one_time[3]"): {"x", "proof"}
 * exactly, the proof made by the identity key pk (id kid) for the token's
 * user, this server, kind, within KEYPROOF_SKEW of now, for x. Kept in
 * p. 0, or answered (400).
 */
static int
prekey_from_json(struct req *r, const char *where, const json_t *e,
    EVP_PKEY *pk, const char *kid, int kind, struct store_prekey *p)
{
	static const char *const allowed[] = { "x", "proof", NULL };
	struct prekeyproof_want want;
	struct prekeyproof_claims got;
	struct report why = { 0 };	/* what prekeyproof_check says */
	const char *x, *proof;
	size_t x_len, proof_len;
	char msg[KEYPROOF_URL_MAX * 2 + 256 + 32];

	x = jsonio_str(e, "x", &x_len);
	proof = jsonio_str(e, "proof", &proof_len);
	if (!json_is_object(e) || jsonio_unknown_member(e, allowed) != NULL ||
	    x == NULL || proof == NULL) {
		respond_error(r, 400, "%s must be {\"x\", \"proof\"} (strings)",
		    where);
		return -1;
	}
	if ((want.key.aud = srv_public_url(r->srv)) == NULL) {
		respond_error(r, 503, "the server is starting");
		return -1;
	}
	want.key.id = r->user.id;
	want.key.name = r->user.name;
	want.key.now = srv_now();
	want.key.skew = KEYPROOF_SKEW;
	want.kind = kind;
	want.max_age = 0;
	if (prekeyproof_check(proof, proof_len, pk, kid, &want, &got, &why) !=
	    KEYPROOF_OK) {
		/* Longer than respond_error's line: two URLs may be in it. */
		snprintf(msg, sizeof(msg), "%s.proof %s", where,
		    report_message(&why));
		respond_json(r, 400, json_pack("{s:s}", "error", msg));
		return -1;
	}
	if (x_len != PREKEY_X_LEN || strcmp(x, got.x) != 0) {
		respond_error(r, 400, "%s.x is not the prekey its proof signs "
		    "(%s)", where, got.x);
		return -1;
	}
	memcpy(p->pkid, got.pkid, sizeof(p->pkid));
	memcpy(p->x, got.x, sizeof(p->x));
	p->kind = kind;
	p->iat = got.key.iat;
	p->created_at = want.key.now;
	if ((p->proof = strdup(proof)) == NULL) {
		respond_error(r, 500, "internal error");
		return -1;
	}
	return 0;
}

/* The identity key kid of the token's user, into *pk. 0, or answered:
 * 403 when it is another account's, 404 when no one's. */
static int
own_key(struct req *r, const char *kid, EVP_PKEY **pk)
{
	struct store *st = &r->srv->store;
	struct report rep = { 0 };
	int64_t at;
	size_t i;

	*pk = NULL;
	if (st->be->keys(st, r->user.id, &r->keys) != STORE_OK) {
		respond_error(r, 500, "internal error");
		return -1;
	}
	for (i = 0; i < r->keys.n; i++)
		if (strcmp(r->keys.v[i].kid, kid) == 0)
			break;
	if (i == r->keys.n) {
		if (st->be->kid_clash(st, 0, kid, r->user.id, 0, &at) ==
		    STORE_TAKEN)
			respond_error(r, 403, "key %s is another account's: "
			    "publish prekeys for your own keys", kid);
		else
			respond_error(r, 404, "you have published no key %s: "
			    "publish it first (e2e-keys publish)", kid);
		return -1;
	}
	if (keyfile_parse_public((const uint8_t *)r->keys.v[i].pem,
	    strlen(r->keys.v[i].pem), "key", pk, &rep) != 0) {
		log_report(&rep);
		respond_error(r, 500, "internal error");
		return -1;
	}
	return 0;
}

static int
prekeys_put_run(struct store *s, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);
	size_t n = r->nprekeys - (r->has_signed ? 1 : 0);
	int rc;

	rc = store_prekeys_put(s, r->user.id, r->prekey_kid, r->has_signed ?
	    &r->prekeys[n] : NULL, r->prekeys, n, r->srv->cfg.prekeys_max,
	    &r->added, &r->one_time);
	if (rc == STORE_OK)
		rc = s->be->prekey_stock(s, 1, r->user.id, &r->stock);
	return rc;
}

/* The stock of one key as the owner reads it. */
static json_t *
stock_json(const struct store_prekey_stock *e)
{
	return json_pack("{s:s,s:I,s:o,s:o}", "kid", e->kid, "one_time",
	    (json_int_t)e->one_time, "signed", e->signed_pkid[0] ?
	    json_string(e->signed_pkid) : json_null(), "signed_iat",
	    e->signed_pkid[0] ? json_integer(e->signed_iat) : json_null());
}

static void
prekeys_put_cont(struct req *r)
{
	size_t i;
	json_t *o;

	switch (r->result) {
	case STORE_OK:
		for (i = 0; i < r->stock.n; i++)
			if (strcmp(r->stock.v[i].kid, r->prekey_kid) == 0)
				break;
		if (i == r->stock.n || (o = stock_json(&r->stock.v[i])) ==
		    NULL || json_object_set_new(o, "added",
		    json_integer((json_int_t)r->added)) != 0 ||
		    json_object_del(o, "signed_iat") != 0) {
			respond_error(r, 500, "internal error");
			return;
		}
		respond_json(r, 200, o);
		return;
	case STORE_FULL:
		respond_error(r, 409, "at most %zu one-time prekeys per key: "
		    "key %s has %lld, and %zu more would pass it",
		    r->srv->cfg.prekeys_max, r->prekey_kid,
		    (long long)r->one_time, r->nprekeys - (r->has_signed ?
		    1 : 0));
		return;
	case STORE_CONFLICT:
		respond_error(r, 409, "the signed prekey %s is one of key %s's "
		    "one-time prekeys", r->prekeys[r->nprekeys - 1].pkid,
		    r->prekey_kid);
		return;
	case STORE_NOT_FOUND:
		respond_error(r, 404, "you have published no key %s: publish "
		    "it first (e2e-keys publish)", r->prekey_kid);
		return;
	default:
		respond_error(r, 500, "internal error");
	}
}

static void
h_prekeys_put(struct req *r)
{
	static const char *const allowed[] = { "kid", "signed", "one_time",
		NULL };
	const json_t *sg = json_object_get(r->params, "signed");
	const json_t *ot = json_object_get(r->params, "one_time"), *e;
	const char *kid, *unknown;
	size_t kid_len, i, k, n;
	char where[32];
	EVP_PKEY *pk = NULL;

	kid = jsonio_str(r->params, "kid", &kid_len);
	if ((unknown = jsonio_unknown_member(r->params, allowed)) != NULL) {
		respond_error(r, 400, "the body must be {\"kid\", \"signed\", "
		    "\"one_time\"}: no other member");
		return;
	}
	if (kid == NULL || !jwk_is_kid(kid, kid_len)) {
		respond_error(r, 400, "\"kid\" must be the id of one of your "
		    "keys");
		return;
	}
	if ((sg != NULL && !json_is_object(sg)) || (ot != NULL &&
	    (!json_is_array(ot) || json_array_size(ot) == 0 ||
	    json_array_size(ot) > r->srv->cfg.prekeys_batch))) {
		respond_error(r, 400, "\"signed\" must be {\"x\", \"proof\"} "
		    "and \"one_time\" a list of 1 to %u of them",
		    r->srv->cfg.prekeys_batch);
		return;
	}
	if (sg == NULL && ot == NULL) {
		respond_error(r, 400, "nothing to publish: give \"signed\", "
		    "\"one_time\" or both");
		return;
	}
	memcpy(r->prekey_kid, kid, kid_len + 1);
	if (own_key(r, kid, &pk) != 0)
		return;
	n = (ot ? json_array_size(ot) : 0) + (sg ? 1 : 0);
	if ((r->prekeys = calloc(n, sizeof(*r->prekeys))) == NULL) {
		respond_error(r, 500, "internal error");
		goto out;
	}
	json_array_foreach(ot, i, e) {
		snprintf(where, sizeof(where), "one_time[%zu]", i);
		if (prekey_from_json(r, where, e, pk, kid, PREKEY_ONE_TIME,
		    &r->prekeys[r->nprekeys]) != 0)
			goto out;
		r->nprekeys++;
	}
	if (sg != NULL) {
		if (prekey_from_json(r, "signed", sg, pk, kid, PREKEY_SIGNED,
		    &r->prekeys[r->nprekeys]) != 0)
			goto out;
		r->nprekeys++;
		r->has_signed = 1;
	}
	/* One prekey once: a batch holding one twice is the client's bug. */
	for (i = 1; i < r->nprekeys; i++)
		for (k = 0; k < i; k++)
			if (strcmp(r->prekeys[i].pkid, r->prekeys[k].pkid) ==
			    0) {
				respond_error(r, 400, "prekey %s is in the "
				    "request twice", r->prekeys[i].pkid);
				goto out;
			}
	write_then(r, prekeys_put_run, prekeys_put_cont);
out:
	EVP_PKEY_free(pk);
}

static void
h_prekeys_get(struct req *r)
{
	struct store *st = &r->srv->store;
	json_t *arr = json_array(), *e;
	size_t i;

	if (arr == NULL || st->be->prekey_stock(st, 0, r->user.id,
	    &r->stock) != STORE_OK)
		goto fail;
	for (i = 0; i < r->stock.n; i++)
		if ((e = stock_json(&r->stock.v[i])) == NULL ||
		    json_array_append_new(arr, e) != 0)
			goto fail;
	respond_json(r, 200, json_pack("{s:o}", "keys", arr));
	return;
fail:
	json_decref(arr);
	respond_error(r, 500, "internal error");
}

/*
 * A claim, on the writer: for each key of the user claimed, one one-time
 * prekey (deleted here, within this transaction: no other claim gets
 * it) while the caller's rate allows (A13), and the signed prekey.
 */
static int
claim_run(struct store *s, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);
	struct store_prekey *ot, *sg;
	int rc, limited = 0;
	size_t i;

	if ((rc = s->be->prekey_stock(s, 1, r->other.id, &r->stock)) !=
	    STORE_OK)
		return rc;
	if (r->stock.n > 0 && (r->prekeys = calloc(2 * r->stock.n,
	    sizeof(*r->prekeys))) == NULL)
		return STORE_ERROR;
	r->nprekeys = 2 * r->stock.n;
	for (i = 0; i < r->stock.n; i++) {
		ot = &r->prekeys[2 * i];
		sg = &r->prekeys[2 * i + 1];
		rc = STORE_EMPTY;
		if (r->stock.v[i].one_time > 0 && !limited) {
			rc = guard_prekey_take(s, r);
			if (rc == STORE_LIMITED) {
				limited = 1;
			} else if (rc != STORE_OK) {
				return rc;
			} else if ((rc = s->be->prekey_claim(s,
			    r->stock.v[i].kid, STORE_PREKEY_ONE_TIME, ot)) ==
			    STORE_EMPTY && (rc = guard_prekey_give(s, r)) ==
			    STORE_OK) {
				rc = STORE_EMPTY;
			}
		} else if (r->stock.v[i].one_time > 0) {
			limited = 1;
		}
		if (rc != STORE_OK && rc != STORE_EMPTY && rc != STORE_LIMITED)
			return rc;
		if (rc != STORE_OK)
			ot->kind = limited ? CLAIM_RATE : CLAIM_EMPTY;
		rc = s->be->prekey_claim(s, r->stock.v[i].kid,
		    STORE_PREKEY_SIGNED, sg);
		if (rc != STORE_OK && rc != STORE_EMPTY)
			return rc;
	}
	return STORE_OK;
}

/* A prekey handed out, or null. */
static json_t *
prekey_json(const struct store_prekey *p)
{
	if (p->pkid[0] == '\0')
		return json_null();
	return json_pack("{s:s,s:s,s:s}", "pkid", p->pkid, "x", p->x, "proof",
	    p->proof);
}

static void
claim_cont(struct req *r)
{
	json_t *arr, *e, *o;
	size_t i;
	int limited = 0;

	if (r->result == STORE_NOT_FOUND) {
		respond_error(r, 404, "no such user: %s", r->other.name);
		return;
	}
	if (r->result != STORE_OK) {
		/* The limits could not be counted: never a prekey uncounted. */
		if (r->shared < 0) {
			shared_refused(r);
			return;
		}
		respond_error(r, 500, "internal error");
		return;
	}
	if ((arr = json_array()) == NULL)
		goto fail;
	for (i = 0; i < r->stock.n; i++) {
		const struct store_prekey *ot = &r->prekeys[2 * i];

		e = json_pack("{s:s,s:o,s:o}", "kid", r->stock.v[i].kid,
		    "one_time", prekey_json(ot), "signed",
		    prekey_json(&r->prekeys[2 * i + 1]));
		if (e != NULL && ot->pkid[0] == '\0' && json_object_set_new(e,
		    "no_one_time", json_string(ot->kind == CLAIM_RATE ? "rate" :
		    "empty")) != 0) {
			json_decref(e);
			e = NULL;
		}
		limited |= ot->pkid[0] == '\0' && ot->kind == CLAIM_RATE;
		if (e == NULL || json_array_append_new(arr, e) != 0) {
			json_decref(arr);
			goto fail;
		}
	}
	/* The id, as GET /keys/NAME gives it: what the proofs' sub say. */
	o = json_pack("{s:s,s:s,s:o}", "name", r->other.name, "id",
	    r->other.id, "keys", arr);
	if (o != NULL && limited && json_object_set_new(o, "retry_after",
	    json_integer((json_int_t)r->retry_after)) != 0) {
		json_decref(o);
		o = NULL;
	}
	if (o == NULL)
		goto fail;
	/* Not a Retry-After header: the answer is a success. */
	r->retry_after = 0;
	respond_json(r, 200, o);
	return;
fail:
	respond_error(r, 500, "internal error");
}

static void
h_prekeys_claim(struct req *r)
{
	if (!name_valid(r->param, strlen(r->param))) {
		respond_error(r, 404, "no such user");
		return;
	}
	switch (srv_user_by_name(r->srv, r->param, &r->other)) {
	case STORE_OK:
		write_then(r, claim_run, claim_cont);
		break;
	case STORE_NOT_FOUND:
		respond_error(r, 404, "no such user: %s", r->param);
		break;
	default:
		respond_error(r, 500, "internal error");
	}
}

/* ---- GET /healthz, GET /metrics ---- */

static void
h_healthz(struct req *r)
{
	/* Not ready while the database does not answer: a load balancer
	 * sends to another instance meanwhile. */
	if (store_ping(&r->srv->store) != STORE_OK) {
		r->retry_after = 2;
		respond_json(r, 503, json_pack("{s:s}", "status",
		    "not ready"));
		return;
	}
	respond_json(r, 200, json_pack("{s:s}", "status",
	    r->srv->stopping ? "stopping" : "ok"));
}

static void
h_metrics(struct req *r)
{
	struct store *st = &r->srv->store;
	struct buf b = BUF_INIT;
	uint64_t commits, jobs;
	int64_t n;

	/* The messages every server stored, as the database holds them now;
	 * unknown (left out) while it does not answer. */
	if (st->be->count_messages(st, &n) != STORE_OK)
		n = -1;
	metrics_set_messages(r->srv->metrics, n);
	store_commit_counts(st, &commits, &jobs);
	metrics_set_store(r->srv->metrics, commits, jobs);
	metrics_set_commit_time(r->srv->metrics, store_commit_ns(st));
	metrics_set_pad_cost(r->srv->metrics, auth_costs_max(&r->srv->costs,
	    r->srv->cfg.bcrypt_cost));
	if (metrics_render(r->srv->metrics, waiters_count(r->srv->waiters),
	    &b) != 0) {
		log_error("out of memory");
		respond_error(r, 500, "internal error");
	} else {
		respond_text(r, 200, "text/plain; version=0.0.4", &b);
	}
	buf_free(&b);
}

#define SMALL (16 * 1024)

/* ROUTE_WRITES: every route whose handler may give the writer a job;
 * only the readers (list, keys_get, prekeys_get, healthz, metrics) go
 * without. */
#define W ROUTE_WRITES
#define WS (ROUTE_WRITES | ROUTE_SENDER_IN_JOB)

const struct route routes[] = {
	{ "POST", "/users/signup", 0, SMALL, h_signup, "signup", W },
	{ "POST", "/users/signin", 0, SMALL, h_signin, "signin", W },
	{ "POST", "/users/signout", 1, SMALL, h_signout, "signout", W },
	{ "POST", "/users/password", 1, SMALL, h_password, "password", W },
	{ "DELETE", "/users/", 1, SMALL, h_user_delete, "user_delete", W },
	{ "POST", "/messages", 1, SIZE_MAX, h_send, "send", WS },
	{ "GET", "/messages", 1, SMALL, h_list, "list", 0 },
	{ "POST", "/messages/sendmessage", 1, SIZE_MAX, h_send,
	    "sendmessage", WS },
	{ "POST", "/messages/getmessage", 1, SMALL, h_getmessage,
	    "getmessage", W },
	{ "POST", "/messages/ack", 1, 256 * 1024, h_ack, "ack", W },
	{ "DELETE", "/messages/", 1, SMALL, h_message_delete,
	    "message_delete", W },
	{ "PUT", "/keys", 1, 256 * 1024, h_keys_put, "keys_put", W },
	{ "GET", "/keys/", 1, SMALL, h_keys_get, "keys_get", 0 },
	{ "DELETE", "/keys/", 1, SMALL, h_key_delete, "key_delete", W },
	{ "PUT", "/prekeys", 1, PREKEYS_BODY_MAX, h_prekeys_put,
	    "prekeys_put", W },
	{ "GET", "/prekeys", 1, SMALL, h_prekeys_get, "prekeys_get", 0 },
	{ "GET", "/prekeys/", 1, SMALL, h_prekeys_claim, "prekeys_claim",
	    W },
	{ "GET", "/healthz", 0, 0, h_healthz, "healthz", 0 },
	{ "GET", "/metrics", 0, 0, h_metrics, "metrics", 0 },
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
