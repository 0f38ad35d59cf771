/*
 * routes.c - what each route of e2e-server does. A route checks its
 * input, answers at once, or hands slow work to another thread (bcrypt to
 * the workers, writes to the store's writer) and continues when resumed.
 * Every route acts as the token's user only: the sender is always the
 * token's user, and only that user's messages are listed, taken,
 * acknowledged or deleted (T5).
 */
#include "srv.h"
#include "err.h"
#include "jsonio.h"
#include "jwk.h"
#include "keyfile.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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
	if (!srv_valid_name(*name, *name_len)) {
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

/* ---- POST /users/signup ---- */

static int
signup_run(struct store *s, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);
	struct store_user *u = &r->other;

	if (!r->ok || store_new_id(u->id) != 0)
		return STORE_ERROR;
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
	switch (r->result) {
	case STORE_OK:
		/* Never the hash. */
		respond_json(r, 200, json_pack("{s:s,s:s}", "id", r->other.id,
		    "name", r->other.name));
		break;
	case STORE_CONFLICT:
		respond_error(r, 409, "the name %s is taken", r->other.name);
		break;
	default:
		respond_error(r, 500, "internal error");
	}
}

static void
h_signup(struct req *r)
{
	struct server *s = r->srv;
	const char *name, *pw;
	size_t name_len, pw_len;
	unsigned wait;

	if ((wait = throttle_check(s->signup_addrs, r->addr, srv_now())) > 0) {
		r->result = (int)wait;
		respond_error(r, 429, "too many sign-ups; try again later");
		return;
	}
	if (credentials(r, &name, &name_len, &pw, &pw_len) != 0)
		return;
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
	throttle_fail(s->signup_addrs, r->addr, srv_now());
	memset(&r->other, 0, sizeof(r->other));
	memcpy(r->other.name, name, name_len + 1);
	if (take_secret(r, pw, pw_len) != 0) {
		respond_error(r, 500, "internal error");
		return;
	}
	r->work.run = signup_hashed;
	req_suspend(r, signup_cont);
	workers_submit(s->slow, &r->work);
}

/* ---- POST /users/signin ---- */

struct rehash {
	struct store_job job;
	char id[STORE_ID_LEN + 1];
	char hash[STORE_HASH_MAX + 1];
};

static int
rehash_run(struct store *s, struct store_job *j)
{
	struct rehash *h = (struct rehash *)(void *)j;

	return s->be->user_update_hash(s, h->id, h->hash);
}

static void
rehash_done(struct store_job *j, int result)
{
	(void)result;
	free(j);
}

static void
signin_checked(struct work *w)
{
	struct req *r = REQ_OF(w, work);
	struct server *s = r->srv;
	struct rehash *h;
	int cost;

	r->ok = auth_password_check(r->secret, r->secret_len, r->hash) &&
	    r->other.id[0] != '\0';
	/* A hash made at a lower cost than today's is made again (B3). */
	cost = auth_hash_cost(r->hash);
	if (r->ok && cost >= 0 && (unsigned)cost < s->cfg.bcrypt_cost &&
	    (h = calloc(1, sizeof(*h))) != NULL) {
		memcpy(h->id, r->other.id, sizeof(h->id));
		if (auth_password_hash(r->secret, r->secret_len,
		    s->cfg.bcrypt_cost, h->hash) == 0) {
			h->job.run = rehash_run;
			h->job.done = rehash_done;
			store_submit(&s->store, &h->job);
		} else {
			free(h);
		}
	}
	req_resume(r);
}

static void
signin_cont(struct req *r)
{
	struct server *s = r->srv;
	char *token = NULL;
	int64_t exp, now = srv_now();

	throttle_end(s->signin_names, r->from, now, !r->ok);
	throttle_end(s->signin_addrs, r->addr, now, !r->ok);
	if (!r->ok) {
		/* The same answer for an unknown name and a wrong password. */
		respond_error(r, 403, "authentication failed");
		return;
	}
	if (auth_token_issue(&s->keys, &r->other, now, &token, &exp) != 0) {
		respond_error(r, 500, "internal error");
		return;
	}
	respond_json(r, 200, json_pack("{s:s,s:s,s:I}", "id", r->other.id,
	    "token", token, "expires_at", (json_int_t)exp));
	wipe(token, strlen(token));
	free(token);
}

static void signin_admitted(struct req *r);

static void
signin_woken(struct throttle_waiter *w)
{
	req_resume(REQ_OF(w, twait));
}

/*
 * Takes a turn with throttle t for key (throttle.h). Returns 1 when the
 * attempt may go on, 0 when it waits its turn (suspended: retried by
 * signin_again), -1 when answered (429).
 */
static int
take_turn(struct req *r, struct throttle *t, const char *key)
{
	unsigned wait;

	switch (throttle_try(t, key, srv_now(), &wait)) {
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
		if (!throttle_enqueue(t, key, srv_now(), &r->twait))
			req_resume(r);	/* a turn came free meanwhile */
		return 0;
	}
}

/* The sign-in, once it has (or waits for) its turns, name then address:
 * also the continuation of a wait. */
static void
signin_admitted(struct req *r)
{
	struct server *s = r->srv;
	int rc;

	if (!r->name_turn) {
		if ((rc = take_turn(r, s->signin_names, r->from)) <= 0)
			return;
		r->name_turn = 1;
	}
	if (!r->addr_turn) {
		if ((rc = take_turn(r, s->signin_addrs, r->addr)) < 0) {
			throttle_end(s->signin_names, r->from, srv_now(), 0);
			return;
		}
		if (rc == 0)
			return;
		r->addr_turn = 1;
	}
	switch (s->store.be->user_by_name(&s->store, r->from, &r->other)) {
	case STORE_OK:
		memcpy(r->hash, r->other.hash, sizeof(r->hash));
		break;
	case STORE_NOT_FOUND:
		/* Checked against a dummy hash all the same (B4). */
		memset(&r->other, 0, sizeof(r->other));
		memcpy(r->hash, s->dummy_hash, sizeof(r->hash));
		break;
	default:
		throttle_end(s->signin_names, r->from, srv_now(), 0);
		throttle_end(s->signin_addrs, r->addr, srv_now(), 0);
		respond_error(r, 500, "internal error");
		return;
	}
	r->work.run = signin_checked;
	req_suspend(r, signin_cont);
	workers_submit(s->slow, &r->work);
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
	memcpy(r->from, name, name_len + 1);
	signin_admitted(r);
}

/* ---- DELETE /users/:id ---- */

static int
user_delete_run(struct store *s, struct store_job *j)
{
	return s->be->user_delete(s, REQ_OF(j, job)->user.id);
}

static void
user_delete_cont(struct req *r)
{
	struct store *st = &r->srv->store;
	int64_t n;

	/* Its messages went with it: count again. */
	if (r->result == STORE_OK && st->be->count_messages(st, &n) ==
	    STORE_OK)
		metrics_set_messages(r->srv->metrics, n);
	if (r->result == STORE_OK)
		respond_json(r, 200, json_pack("{s:s,s:b}", "id", r->user.id,
		    "deleted", 1));
	else if (r->result == STORE_NOT_FOUND)
		respond_error(r, 404, "no such user");
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

static void
h_user_delete(struct req *r)
{
	/* Only one's own account. */
	if (strcmp(r->param, r->user.id) != 0) {
		respond_error(r, 403, "you can only delete your own account");
		return;
	}
	r->job.run = user_delete_run;
	r->job.done = user_delete_done;
	req_suspend(r, user_delete_cont);
	store_submit(&r->srv->store, &r->job);
}

/* ---- sending: POST /messages, POST /messages/sendmessage ---- */

static int
send_run(struct store *s, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);
	int rc;

	if (store_new_ordered_id(r->msg.id) != 0)
		return STORE_ERROR;
	r->msg.sent_at = srv_now();
	rc = s->be->message_put(s, &r->msg, r->other.id);
	/* The recipient was deleted meanwhile. */
	return rc == STORE_CONFLICT ? STORE_NOT_FOUND : rc;
}

static void
send_done(struct store_job *j, int result)
{
	struct req *r = REQ_OF(j, job);

	r->msg.body = NULL;	/* it was the body's, not ours */
	r->result = result;
	if (result == STORE_OK) {
		metrics_messages(r->srv->metrics, 1);
		/* Waiting receivers learn of it at once. */
		waiters_bump(r->srv->waiters, r->other.id);
	}
	req_resume(r);
}

static void
send_cont(struct req *r)
{
	if (r->result == STORE_OK)
		respond_json(r, 200, json_pack("{s:s}", "id", r->msg.id));
	else if (r->result == STORE_NOT_FOUND)
		respond_error(r, 404, "no such user: %s", r->other.name);
	else
		respond_error(r, 500, "internal error");
}

static void
h_send(struct req *r)
{
	struct server *s = r->srv;
	const char *to, *from, *message;
	size_t to_len, from_len = 0, len;
	int bad = 0;

	to = req_field(r, "to", &to_len, &bad);
	from = req_field(r, "from", &from_len, &bad);
	message = req_field(r, "message", &len, &bad);
	if (bad)
		return;
	if (to == NULL || message == NULL) {
		respond_error(r, 400, "\"to\" and \"message\" are needed");
		return;
	}
	if (!srv_valid_name(to, to_len)) {
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
		metrics_messages(r->srv->metrics, -1);
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
	if (from == NULL || !srv_valid_name(from, from_len)) {
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

static void list_once(struct req *r);

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

static void
list_cont(struct req *r)
{
	store_message_list_free(&r->list);
	list_once(r);
}

static void
list_answer(struct req *r)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < r->list.n; i++)
		if (json_array_append_new(arr, message_json(&r->list.v[i])) !=
		    0) {
			json_decref(arr);
			arr = NULL;
		}
	if (arr == NULL) {
		respond_error(r, 500, "internal error");
		return;
	}
	respond_json(r, 200, json_pack("{s:o}", "messages", arr));
}

static void
list_once(struct req *r)
{
	struct server *s = r->srv;

	r->seq = waiters_seq(s->waiters);
	if (s->store.be->messages(&s->store, r->user.id, r->from[0] ?
	    r->from : NULL, r->after[0] ? r->after : NULL, r->limit,
	    &r->list) != STORE_OK) {
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
		if (!srv_valid_name(from, strlen(from))) {
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
	list_once(r);
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
	metrics_messages(r->srv->metrics, -(int64_t)r->deleted);
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
keys_json(const char *name, const struct store_key_list *l)
{
	json_t *arr = json_array(), *k;
	size_t i;

	for (i = 0; arr != NULL && i < l->n; i++) {
		k = json_pack("{s:s,s:s,s:I}", "kid", l->v[i].kid, "pem",
		    l->v[i].pem, "created_at", (json_int_t)l->v[i].created_at);
		if (k == NULL || json_array_append_new(arr, k) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr ? json_pack("{s:s,s:o}", "name", name, "keys", arr) : NULL;
}

/* Answers the keys of user (id, name) as they are now. */
static void
respond_keys(struct req *r, const char *id, const char *name)
{
	struct store *st = &r->srv->store;
	json_t *o;

	store_key_list_free(&r->keys);
	if (st->be->keys(st, id, &r->keys) != STORE_OK ||
	    (o = keys_json(name, &r->keys)) == NULL) {
		respond_error(r, 500, "internal error");
		return;
	}
	respond_json(r, 200, o);
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
	static const char *const allowed[] = { "pem", "kid", NULL };
	const char *pem, *kid;
	size_t len, kid_len;
	char why[256], what[32];
	struct buf out = BUF_INIT;
	EVP_PKEY *pk = NULL;
	int rc = -1;

	if (!json_is_object(e) || jsonio_unknown_member(e, allowed) != NULL) {
		respond_error(r, 400, "keys[%zu] must be {\"pem\": ...} with "
		    "an optional \"kid\"", i);
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
	err_capture_begin(why, sizeof(why));
	rc = keyfile_parse_public((const uint8_t *)pem, len, what, &pk);
	if (rc == 0)
		rc = jwk_thumbprint(pk, k->kid);
	if (rc == 0)
		rc = keyfile_public_pem(pk, &out);
	err_capture_end();
	if (rc != 0) {
		respond_error(r, rc == E2E_EX_SOFTWARE ? 500 : 400, "%s",
		    why[0] ? why : "internal error");
		goto out;
	}
	if (kid != NULL && strcmp(kid, k->kid) != 0) {
		respond_error(r, 400, "keys[%zu].kid is %s but the key's id "
		    "is %s", i, kid, k->kid);
		rc = -1;
		goto out;
	}
	if (buf_terminate(&out) != 0) {
		respond_error(r, 500, "internal error");
		rc = -1;
		goto out;
	}
	k->pem = (char *)out.p;
	out.p = NULL;
out:
	buf_free(&out);
	EVP_PKEY_free(pk);
	return rc == 0 ? 0 : -1;
}

static int
keys_put_run(struct store *s, struct store_job *j)
{
	struct req *r = REQ_OF(j, job);
	int64_t now = srv_now();
	size_t i;
	int rc = STORE_OK;

	for (i = 0; i < r->keys.n && rc == STORE_OK; i++) {
		r->keys.v[i].created_at = now;
		rc = s->be->key_put(s, r->user.id, &r->keys.v[i]);
	}
	return rc;
}

static void
keys_put_cont(struct req *r)
{
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
	if (!srv_valid_name(r->param, strlen(r->param))) {
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

/* ---- GET /healthz, GET /metrics ---- */

static void
h_healthz(struct req *r)
{
	respond_json(r, 200, json_pack("{s:s}", "status",
	    r->srv->stopping ? "stopping" : "ok"));
}

static void
h_metrics(struct req *r)
{
	struct buf b = BUF_INIT;

	if (metrics_render(r->srv->metrics, waiters_count(r->srv->waiters),
	    &b) != 0)
		respond_error(r, 500, "internal error");
	else
		respond_text(r, 200, "text/plain; version=0.0.4", &b);
	buf_free(&b);
}

#define SMALL (16 * 1024)

const struct route routes[] = {
	{ "POST", "/users/signup", 0, SMALL, h_signup, "signup" },
	{ "POST", "/users/signin", 0, SMALL, h_signin, "signin" },
	{ "DELETE", "/users/", 1, SMALL, h_user_delete, "user_delete" },
	{ "POST", "/messages", 1, SIZE_MAX, h_send, "send" },
	{ "GET", "/messages", 1, SMALL, h_list, "list" },
	{ "POST", "/messages/sendmessage", 1, SIZE_MAX, h_send,
	    "sendmessage" },
	{ "POST", "/messages/getmessage", 1, SMALL, h_getmessage,
	    "getmessage" },
	{ "POST", "/messages/ack", 1, 256 * 1024, h_ack, "ack" },
	{ "DELETE", "/messages/", 1, SMALL, h_message_delete,
	    "message_delete" },
	{ "PUT", "/keys", 1, 256 * 1024, h_keys_put, "keys_put" },
	{ "GET", "/keys/", 1, SMALL, h_keys_get, "keys_get" },
	{ "DELETE", "/keys/", 1, SMALL, h_key_delete, "key_delete" },
	{ "GET", "/healthz", 0, 0, h_healthz, "healthz" },
	{ "GET", "/metrics", 0, 0, h_metrics, "metrics" },
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
