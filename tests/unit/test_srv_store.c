/*
 * test_srv_store.c - the store conformance suite: drives the storage
 * interface (server/store.h) itself, every entry and every result it
 * documents, and the concurrency that matters (the writer's group
 * commit, quotas under concurrent sends, readers beside the writer).
 *
 * The same tests run unchanged against every backend: SQLite always, and
 * PostgreSQL when E2E_TEST_STORE_PG_URL names an empty database (make
 * check-pg makes one in its throwaway cluster). Each backend starts from
 * an empty database.
 */
#include "harness.h"

#include "base/names.h"
#include "server/store.h"

#include <inttypes.h>
#include <pthread.h>
#include <time.h>

static char tmpdir[256];

/* ---- running a call on the writer thread ---- */

struct args {
	const char *a, *b, *c;
	const struct store_user *u;
	const struct store_message *m;
	const struct store_key *k;
	const char *const *ids;
	size_t n1, n2, *count;
	int64_t t1, t2, *out;
	struct store_message *got;
	int refuse;	/* a job that fails after its write */
	const struct store_limit *l;
	double d;
	unsigned wait;
	struct store_prekey *pk;	/* one-time ones, or a claim's */
	struct store_prekey *pk2;	/* a signed one */
};

struct call {
	struct store_job job;
	int (*fn)(struct store *, struct args *);
	struct args *args;
};

static int
call_run(struct store *s, struct store_job *j)
{
	struct call *c = (struct call *)j;
	int rc = c->fn(s, c->args);

	return rc == STORE_OK && c->args->refuse ? STORE_CONFLICT : rc;
}

static void
call_done(struct store_job *j, int result)
{
	(void)j;
	(void)result;
}

static int
on_writer(struct store *s, int (*fn)(struct store *, struct args *),
    struct args *a)
{
	struct call c = { { call_run, call_done, NULL }, fn, a };

	return store_run(s, &c.job);
}

static int
w_user_create(struct store *s, struct args *a)
{
	return s->be->user_create(s, a->u);
}

static int
w_user_update_hash(struct store *s, struct args *a)
{
	return s->be->user_update_hash(s, a->a, a->b);
}

static int
w_user_current(struct store *s, struct args *a)
{
	struct store_user u;
	int rc = s->be->user_current(s, a->a, &u);

	if (rc == STORE_OK)
		*a->out = u.token_version;
	return rc;
}

static int
w_user_set_hash(struct store *s, struct args *a)
{
	return s->be->user_set_hash(s, a->a, a->b, a->c, (int)a->t1, a->out);
}

static int
w_user_revoke(struct store *s, struct args *a)
{
	return s->be->user_revoke(s, a->a, a->out);
}

static int
w_user_delete(struct store *s, struct args *a)
{
	return s->be->user_delete(s, a->a);
}

static int
w_message_put(struct store *s, struct args *a)
{
	return s->be->message_put(s, a->m, a->a);
}

static int
w_message_put_within(struct store *s, struct args *a)
{
	return store_message_put_within(s, a->m, a->a, a->n1, a->n2);
}

static int
w_take_oldest(struct store *s, struct args *a)
{
	return s->be->message_take_oldest(s, a->a, a->b, a->got);
}

static int
w_messages_delete(struct store *s, struct args *a)
{
	return s->be->messages_delete(s, a->a, a->ids, a->n1, a->count);
}

static int
w_mailbox_usage(struct store *s, struct args *a)
{
	return s->be->mailbox_usage(s, 1, a->a, &a->t1, &a->t2);
}

static int
w_meta_put_new(struct store *s, struct args *a)
{
	return s->be->meta_put_new(s, a->a, (const uint8_t *)a->b,
	    strlen(a->b));
}

static int
w_meta_set(struct store *s, struct args *a)
{
	return s->be->meta_set(s, a->a, (const uint8_t *)a->b, strlen(a->b));
}

static int
w_key_put(struct store *s, struct args *a)
{
	return store_key_put(s, a->a, a->k);
}

static int
w_key_delete(struct store *s, struct args *a)
{
	return s->be->key_delete(s, a->a, a->b);
}

static int
w_name_clash(struct store *s, struct args *a)
{
	char clash[STORE_NAME_MAX + 1];

	return s->be->name_clash(s, 1, a->a, a->t1, clash, a->out);
}

static int
w_quarantine_user(struct store *s, struct args *a)
{
	return s->be->quarantine_user(s, a->a, a->t1, a->t2);
}

static int
w_quarantine_key(struct store *s, struct args *a)
{
	return s->be->quarantine_key(s, a->a, a->b, a->t1, a->t2);
}

/* a->b: the rate's key; a->a: the recipient's id. */
static int
w_store_send(struct store *s, struct args *a)
{
	return store_send(s, a->l, a->b, a->t1, &a->wait, a->m, NULL, a->a,
	    100, 100000);
}

static int
w_limit_get(struct store *s, struct args *a)
{
	return s->be->limit_get(s, a->a, &a->d, &a->t1, &a->t2);
}

static int
w_limit_put(struct store *s, struct args *a)
{
	return s->be->limit_put(s, a->a, a->d, a->t1, a->t2);
}

/* A limit's count, then a user's row held: the job ends there. */
static int
w_limit_put_user_lock(struct store *s, struct args *a)
{
	int rc = s->be->limit_put(s, a->a, a->d, a->t1, a->t2);

	return rc != STORE_OK ? rc : s->be->user_lock(s, a->b);
}

static int
w_limit_sweep(struct store *s, struct args *a)
{
	return s->be->limit_sweep(s, a->t1, a->n1, a->count);
}

static int
w_prekeys_put(struct store *s, struct args *a)
{
	return store_prekeys_put(s, a->a, a->b, a->pk2, a->pk, a->n1, a->n2,
	    a->count, a->out);
}

static int
w_prekey_claim(struct store *s, struct args *a)
{
	return s->be->prekey_claim(s, a->b, (int)a->t1, a->pk);
}

static int
w_limit_take(struct store *s, struct args *a)
{
	return store_limit_take(s, a->l, a->a, a->t1, &a->wait);
}

static int
w_limit_give(struct store *s, struct args *a)
{
	return store_limit_give(s, a->l, a->a, a->t1);
}

static int
w_limit_clear(struct store *s, struct args *a)
{
	return store_limit_clear(s, a->a);
}

/* ---- fixtures ---- */

/* A new user named name; its id into u. */
static int
add_user(struct store *s, const char *name, struct store_user *u)
{
	struct args a = { 0 };

	memset(u, 0, sizeof(*u));
	if (store_new_id(u->id) != 0)
		return STORE_ERROR;
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(u->hash, sizeof(u->hash), "$2b$04$hash-of-%s", name);
	u->created_at = 1700000000;
	a.u = u;
	return on_writer(s, w_user_create, &a);
}

/* m: a message from one user to another, body its text (kept, not
 * copied), with a new ordered id. */
static int
message_init(struct store_message *m, const struct store_user *from,
    const struct store_user *to, const char *body)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->from, sizeof(m->from), "%s", from->name);
	snprintf(m->from_id, sizeof(m->from_id), "%s", from->id);
	snprintf(m->to, sizeof(m->to), "%s", to->name);
	m->body = (char *)body;
	m->body_len = strlen(body);
	return store_new_ordered_id(m->id) == 0 ? STORE_OK : STORE_ERROR;
}

/* A message from one user to another, its body text. */
static int
put_message(struct store *s, const struct store_user *from,
    const struct store_user *to, const char *text, char id[STORE_ID_LEN + 1])
{
	struct store_message m;
	struct args a = { 0 };
	char body[4096];
	int rc;

	snprintf(body, sizeof(body), "%s", text);
	if (message_init(&m, from, to, body) != STORE_OK)
		return STORE_ERROR;
	m.sent_at = 1700000100;
	a.m = &m;
	a.a = to->id;
	rc = on_writer(s, w_message_put, &a);
	if (id != NULL)
		memcpy(id, m.id, STORE_ID_LEN + 1);
	return rc;
}

static struct store_key
make_key(const char *kid, const char *proof)
{
	struct store_key k;

	memset(&k, 0, sizeof(k));
	snprintf(k.kid, sizeof(k.kid), "%s", kid);
	k.pem = (char *)"-----BEGIN PUBLIC KEY-----\nAAAA\n"
	    "-----END PUBLIC KEY-----\n";
	k.proof = (char *)proof;
	k.created_at = 1700000200;
	return k;
}

/* A key id of 43 characters made of tag and n. */
static const char *
kid_of(const char *tag, int n)
{
	static char kids[4][STORE_KID_LEN + 1];
	static int next;
	char *k = kids[next++ % 4];

	memset(k, 'K', STORE_KID_LEN);
	k[STORE_KID_LEN] = '\0';
	memcpy(k, tag, strlen(tag) < 8 ? strlen(tag) : 8);
	k[8] = (char)('A' + n / 26 % 26);
	k[9] = (char)('A' + n % 26);
	return k;
}

/* ---- the backends under test ---- */

struct backend {
	const char *label;
	const struct store_backend *be;
	char where[512];
};

static const struct backend *cur;
static struct store st;
static int opened;

static void
open_store(void)
{
	struct report rep = { 0 };

	memset(&st, 0, sizeof(st));
	opened = store_open(&st, cur->be, cur->where, &rep) == 0;
	CHECKF(opened, "%s: cannot open the store at %s: %s", cur->label,
	    cur->where, report_message(&rep));
}

static void
close_store(void)
{
	if (opened)
		store_close(&st);
	opened = 0;
}

/* A second store on the same database (a second server), into two:
 * 0, or -1 said (and nothing left open). */
static int
open_second(struct store *two)
{
	struct report rep = { 0 };

	memset(two, 0, sizeof(*two));
	if (store_open(two, cur->be, cur->where, &rep) == 0)
		return 0;
	CHECKF(0, "%s: a second store: %s", cur->label, report_message(&rep));
	store_close(two);
	return -1;
}

#define THREADS_MAX 16

/* Runs fn on n threads at once (n up to THREADS_MAX), the i-th given
 * the i-th of the array args (of size-byte elements), and waits for all
 * that started: each must have. */
static void
run_threads(void *(*fn)(void *), void *args, size_t size, int n)
{
	pthread_t th[THREADS_MAX];
	int i, started = 0;

	for (i = 0; i < n && i < THREADS_MAX; i++) {
		if (pthread_create(&th[i], NULL, fn, (char *)args +
		    (size_t)i * size) != 0)
			break;
		started++;
	}
	CHECKF(started == n, "%d threads of %d started", started, n);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

/* ---- users ---- */

static void
test_users(void)
{
	struct store_user u, got, dup;
	struct args a = { 0 };
	int64_t v = -1;

	CHECK(add_user(&st, "users-alice", &u) == STORE_OK);
	CHECK(st.be->user_by_name(&st, "users-alice", &got) == STORE_OK);
	CHECK(strcmp(got.id, u.id) == 0 && strcmp(got.hash, u.hash) == 0);
	CHECK(got.token_version == 0 && got.created_at == u.created_at);
	CHECK(st.be->user_by_id(&st, u.id, &got) == STORE_OK &&
	    strcmp(got.name, "users-alice") == 0);
	/* Byte-wise names: another case is another name. */
	CHECK(st.be->user_by_name(&st, "Users-alice", &got) ==
	    STORE_NOT_FOUND);
	CHECK(st.be->user_by_name(&st, "users-nobody", &got) ==
	    STORE_NOT_FOUND);
	CHECK(st.be->user_by_id(&st, "0123456789ABCDEFGHJKMNPQRS", &got) ==
	    STORE_NOT_FOUND);
	/* The name is taken: another id, same name. */
	CHECK(add_user(&st, "users-alice", &dup) == STORE_CONFLICT);

	a.a = u.id;
	a.b = "$2b$04$new";
	CHECK(on_writer(&st, w_user_update_hash, &a) == STORE_OK);
	CHECK(st.be->user_by_id(&st, u.id, &got) == STORE_OK &&
	    strcmp(got.hash, "$2b$04$new") == 0);
	a.a = "0123456789ABCDEFGHJKMNPQRS";
	CHECK(on_writer(&st, w_user_update_hash, &a) == STORE_NOT_FOUND);

	/* Compare-and-set of the hash, with or without revoking. */
	memset(&a, 0, sizeof(a));
	a.a = u.id;
	a.b = "$2b$04$stale";
	a.c = "$2b$04$newer";
	a.t1 = 1;
	a.out = &v;
	CHECK(on_writer(&st, w_user_set_hash, &a) == STORE_CONFLICT);
	CHECK(st.be->user_by_id(&st, u.id, &got) == STORE_OK &&
	    strcmp(got.hash, "$2b$04$new") == 0 && got.token_version == 0);
	a.b = "$2b$04$new";
	CHECK(on_writer(&st, w_user_set_hash, &a) == STORE_OK && v == 1);
	CHECK(st.be->user_by_id(&st, u.id, &got) == STORE_OK &&
	    strcmp(got.hash, "$2b$04$newer") == 0 && got.token_version == 1);
	a.b = "$2b$04$newer";
	a.c = "$2b$04$third";
	a.t1 = 0;
	CHECK(on_writer(&st, w_user_set_hash, &a) == STORE_OK && v == 1);

	/* Revoking raises the version; the writer sees it at once. */
	memset(&a, 0, sizeof(a));
	a.a = u.id;
	a.out = &v;
	CHECK(on_writer(&st, w_user_revoke, &a) == STORE_OK && v == 2);
	v = -1;
	CHECK(on_writer(&st, w_user_current, &a) == STORE_OK && v == 2);
	CHECK(st.be->user_by_id(&st, u.id, &got) == STORE_OK &&
	    got.token_version == 2);
	a.a = "0123456789ABCDEFGHJKMNPQRS";
	CHECK(on_writer(&st, w_user_revoke, &a) == STORE_NOT_FOUND);
	CHECK(on_writer(&st, w_user_current, &a) == STORE_NOT_FOUND);

	/* Deleting. */
	a.a = u.id;
	CHECK(on_writer(&st, w_user_delete, &a) == STORE_OK);
	CHECK(st.be->user_by_id(&st, u.id, &got) == STORE_NOT_FOUND);
	CHECK(on_writer(&st, w_user_delete, &a) == STORE_NOT_FOUND);
	/* The name is free again (the quarantine is the routes' rule). */
	CHECK(add_user(&st, "users-alice", &dup) == STORE_OK);
}

struct hashes {
	int mine;
	const char *want;
};

static void
each_hash(void *arg, const char *hash)
{
	struct hashes *h = arg;

	if (strcmp(hash, h->want) == 0)
		h->mine++;
}

static void
test_user_hashes(void)
{
	struct store_user u;
	struct hashes h = { 0, "$2b$04$hash-of-hashes-bob" };

	CHECK(add_user(&st, "hashes-bob", &u) == STORE_OK);
	CHECK(st.be->user_hashes(&st, each_hash, &h) == STORE_OK);
	CHECK(h.mine == 1);
}

/* ---- messages ---- */

static void
test_messages(void)
{
	struct store_user al, bo, ca;
	struct store_message_list l = { 0 };
	char ids[5][STORE_ID_LEN + 1];
	int64_t before = 0, after = 0;
	int i;

	CHECK(add_user(&st, "msg-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "msg-bob", &bo) == STORE_OK);
	CHECK(add_user(&st, "msg-carol", &ca) == STORE_OK);
	CHECK(st.be->count_messages(&st, &before) == STORE_OK);
	/* Nothing yet: an empty list, not an error. */
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 10, &l) == STORE_OK &&
	    l.n == 0);
	store_message_list_free(&l);

	for (i = 0; i < 5; i++) {
		char text[32];

		snprintf(text, sizeof(text), "message %d", i);
		CHECK(put_message(&st, i % 2 ? &ca : &al, &bo, text, ids[i]) ==
		    STORE_OK);
	}
	CHECK(st.be->count_messages(&st, &after) == STORE_OK &&
	    after == before + 5);

	/* In the order they were sent, with every field. */
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 10, &l) == STORE_OK);
	CHECK(l.n == 5 && !l.cut);
	for (i = 0; i < 5 && (size_t)i < l.n; i++) {
		char text[32];

		snprintf(text, sizeof(text), "message %d", i);
		CHECK(strcmp(l.v[i].id, ids[i]) == 0);
		CHECK(l.v[i].body_len == strlen(text) &&
		    memcmp(l.v[i].body, text, l.v[i].body_len) == 0 &&
		    l.v[i].body[l.v[i].body_len] == '\0');
		CHECK(strcmp(l.v[i].from, i % 2 ? "msg-carol" :
		    "msg-alice") == 0);
		CHECK(strcmp(l.v[i].from_id, i % 2 ? ca.id : al.id) == 0);
		CHECK(strcmp(l.v[i].to, "msg-bob") == 0);
		CHECK(l.v[i].sent_at == 1700000100);
	}
	store_message_list_free(&l);

	/* A limit, an after, a sender. */
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 2, &l) == STORE_OK &&
	    l.n == 2 && strcmp(l.v[1].id, ids[1]) == 0);
	store_message_list_free(&l);
	CHECK(st.be->messages(&st, bo.id, NULL, ids[2], 10, &l) == STORE_OK &&
	    l.n == 2 && strcmp(l.v[0].id, ids[3]) == 0);
	store_message_list_free(&l);
	CHECK(st.be->messages(&st, bo.id, "msg-carol", NULL, 10, &l) ==
	    STORE_OK && l.n == 2 && strcmp(l.v[0].id, ids[1]) == 0 &&
	    strcmp(l.v[1].id, ids[3]) == 0);
	store_message_list_free(&l);
	CHECK(st.be->messages(&st, bo.id, "msg-nobody", NULL, 10, &l) ==
	    STORE_OK && l.n == 0);
	store_message_list_free(&l);
	/* Another mailbox is not bob's. */
	CHECK(st.be->messages(&st, al.id, NULL, NULL, 10, &l) == STORE_OK &&
	    l.n == 0);
	store_message_list_free(&l);

	/* max_bytes: the rows stop after the one that goes over it. */
	l.max_bytes = 12;	/* "message 0" is 9 bytes */
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 10, &l) == STORE_OK &&
	    l.n == 2 && l.cut);
	store_message_list_free(&l);
	l.max_bytes = 0;
}

/* store_messages_for: the messages of a user whose token version is
 * still the one given, in one look (PostgreSQL's messages_for) or two
 * (SQLite's, through store.c); otherwise not found. */
static void
test_messages_for(void)
{
	struct store_user al, bo, got;
	struct store_message_list l = { 0 };
	struct args a = { 0 };
	char ids[3][STORE_ID_LEN + 1];
	int64_t v = -1;
	int i;

	CHECK(add_user(&st, "for-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "for-bob", &bo) == STORE_OK);
	/* Nothing yet: an empty list for the right version. */
	CHECK(store_messages_for(&st, bo.id, bo.token_version, NULL, NULL,
	    10, &l) == STORE_OK && l.n == 0 && !l.cut);
	store_message_list_free(&l);
	for (i = 0; i < 3; i++)
		CHECK(put_message(&st, &al, &bo, "for you", ids[i]) ==
		    STORE_OK);
	/* As messages() gives them: in order, limit, after, sender. */
	CHECK(store_messages_for(&st, bo.id, bo.token_version, NULL, NULL,
	    10, &l) == STORE_OK && l.n == 3);
	for (i = 0; i < 3 && (size_t)i < l.n; i++)
		CHECK(strcmp(l.v[i].id, ids[i]) == 0 &&
		    strcmp(l.v[i].from, "for-alice") == 0 &&
		    strcmp(l.v[i].from_id, al.id) == 0 &&
		    strcmp(l.v[i].to, "for-bob") == 0 &&
		    l.v[i].body_len == 7 &&
		    memcmp(l.v[i].body, "for you", 7) == 0);
	store_message_list_free(&l);
	CHECK(store_messages_for(&st, bo.id, bo.token_version, NULL, ids[0],
	    1, &l) == STORE_OK && l.n == 1 && strcmp(l.v[0].id, ids[1]) == 0);
	store_message_list_free(&l);
	CHECK(store_messages_for(&st, bo.id, bo.token_version, "for-nobody",
	    NULL, 10, &l) == STORE_OK && l.n == 0);
	store_message_list_free(&l);
	l.max_bytes = 8;	/* "for you" is 7 bytes */
	CHECK(store_messages_for(&st, bo.id, bo.token_version, NULL, NULL,
	    10, &l) == STORE_OK && l.n == 2 && l.cut);
	store_message_list_free(&l);
	l.max_bytes = 0;
	/* Another version, or no such user: not found, nothing listed. */
	CHECK(store_messages_for(&st, bo.id, bo.token_version + 1, NULL, NULL,
	    10, &l) == STORE_NOT_FOUND && l.n == 0 && l.v == NULL);
	CHECK(store_messages_for(&st, "0123456789ABCDEFGHJKMNPQRS", 0, NULL,
	    NULL, 10, &l) == STORE_NOT_FOUND && l.n == 0);
	/* Signed out: the version it had is refused, the new one lists. */
	a.a = bo.id;
	a.out = &v;
	CHECK(on_writer(&st, w_user_revoke, &a) == STORE_OK &&
	    v == bo.token_version + 1);
	CHECK(store_messages_for(&st, bo.id, bo.token_version, NULL, NULL,
	    10, &l) == STORE_NOT_FOUND && l.n == 0);
	CHECK(st.be->user_by_id(&st, bo.id, &got) == STORE_OK);
	CHECK(store_messages_for(&st, bo.id, got.token_version, NULL, NULL,
	    10, &l) == STORE_OK && l.n == 3);
	store_message_list_free(&l);
}

static void
test_take_and_delete(void)
{
	struct store_user al, bo, ev;
	struct store_message got;
	struct store_message_list l = { 0 };
	char ids[4][STORE_ID_LEN + 1];
	const char *del[3];
	size_t n = 99;
	struct args a = { 0 };
	int i;

	CHECK(add_user(&st, "take-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "take-bob", &bo) == STORE_OK);
	CHECK(add_user(&st, "take-eve", &ev) == STORE_OK);
	a.a = bo.id;
	a.got = &got;
	CHECK(on_writer(&st, w_take_oldest, &a) == STORE_EMPTY);
	for (i = 0; i < 4; i++)
		CHECK(put_message(&st, i == 1 ? &ev : &al, &bo, "x", ids[i]) ==
		    STORE_OK);

	/* The oldest goes, and is given. */
	CHECK(on_writer(&st, w_take_oldest, &a) == STORE_OK &&
	    strcmp(got.id, ids[0]) == 0 && got.body_len == 1);
	free(got.body);
	/* The oldest from a sender. */
	a.b = "take-eve";
	CHECK(on_writer(&st, w_take_oldest, &a) == STORE_OK &&
	    strcmp(got.id, ids[1]) == 0);
	free(got.body);
	CHECK(on_writer(&st, w_take_oldest, &a) == STORE_EMPTY);

	/* Deleting by id: only the owner's (T5); unknown ids count 0. */
	del[0] = ids[2];
	del[1] = ids[3];
	del[2] = "0123456789ABCDEFGHJKMNPQRS";
	memset(&a, 0, sizeof(a));
	a.a = ev.id;
	a.ids = del;
	a.n1 = 3;
	a.count = &n;
	CHECK(on_writer(&st, w_messages_delete, &a) == STORE_OK && n == 0);
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 10, &l) == STORE_OK &&
	    l.n == 2);
	store_message_list_free(&l);
	a.a = bo.id;
	a.n1 = 1;
	CHECK(on_writer(&st, w_messages_delete, &a) == STORE_OK && n == 1);
	a.n1 = 3;
	CHECK(on_writer(&st, w_messages_delete, &a) == STORE_OK && n == 1);
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 10, &l) == STORE_OK &&
	    l.n == 0);
	store_message_list_free(&l);
}

static int put_within(struct store *s, const struct store_user *from,
    const struct store_user *to, size_t len, size_t max_n, size_t max_b,
    int refuse);
static int counted_right(struct store *s, const struct store_user *u,
    const char *when);

/* A deleted user's messages go with it; a message to a deleted user is
 * not stored. */
static void
test_delete_cascades(void)
{
	struct store_user al, bo;
	struct store_message_list l = { 0 };
	struct args a = { 0 };
	int rc;

	CHECK(add_user(&st, "cascade-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "cascade-bob", &bo) == STORE_OK);
	CHECK(put_message(&st, &al, &bo, "bye", NULL) == STORE_OK);
	a.a = bo.id;
	CHECK(on_writer(&st, w_user_delete, &a) == STORE_OK);
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 10, &l) == STORE_OK &&
	    l.n == 0);
	store_message_list_free(&l);
	rc = put_message(&st, &al, &bo, "too late", NULL);
	CHECKF(rc == STORE_NOT_FOUND || rc == STORE_CONFLICT,
	    "a message to a deleted user: %d", rc);
	/* What the routes call: the recipient's row first, so not found. */
	rc = put_within(&st, &al, &bo, 8, 10, 1000, 0);
	CHECKF(rc == STORE_NOT_FOUND, "a message to a deleted user: %d", rc);
}

/* ---- quotas ---- */

static int
put_within(struct store *s, const struct store_user *from,
    const struct store_user *to, size_t len, size_t max_n, size_t max_b,
    int refuse)
{
	struct store_message m;
	struct args a = { 0 };
	char body[256];

	memset(&m, 0, sizeof(m));
	if (len >= sizeof(body) || store_new_ordered_id(m.id) != 0)
		return STORE_ERROR;
	snprintf(m.from, sizeof(m.from), "%s", from->name);
	snprintf(m.from_id, sizeof(m.from_id), "%s", from->id);
	snprintf(m.to, sizeof(m.to), "%s", to->name);
	memset(body, 'q', len);
	body[len] = '\0';
	m.body = body;
	m.body_len = len;
	a.m = &m;
	a.a = to->id;
	a.n1 = max_n;
	a.n2 = max_b;
	a.refuse = refuse;
	return on_writer(s, w_message_put_within, &a);
}

static void
test_quota(void)
{
	struct store_user al, bo;
	struct store_message_list l = { 0 };
	const char *del[1];
	size_t n;
	struct args a = { 0 };

	CHECK(add_user(&st, "quota-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "quota-bob", &bo) == STORE_OK);
	/* By count. */
	CHECK(put_within(&st, &al, &bo, 10, 2, 1000, 0) == STORE_OK);
	CHECK(put_within(&st, &al, &bo, 10, 2, 1000, 0) == STORE_OK);
	CHECK(put_within(&st, &al, &bo, 10, 2, 1000, 0) == STORE_FULL);
	/* By bytes: 20 held, 10 more is 30. */
	CHECK(put_within(&st, &al, &bo, 10, 100, 29, 0) == STORE_FULL);
	CHECK(put_within(&st, &al, &bo, 10, 100, 30, 0) == STORE_OK);
	/* A job that stored and then failed takes its usage back. */
	CHECK(put_within(&st, &al, &bo, 10, 100, 1000, 1) == STORE_CONFLICT);
	CHECK(put_within(&st, &al, &bo, 10, 4, 1000, 0) == STORE_OK);
	CHECK(put_within(&st, &al, &bo, 10, 4, 1000, 0) == STORE_FULL);
	/* Room made by a delete counts. */
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 10, &l) == STORE_OK &&
	    l.n == 4);
	del[0] = l.n > 0 ? l.v[0].id : "";
	a.a = bo.id;
	a.ids = del;
	a.n1 = 1;
	a.count = &n;
	CHECK(on_writer(&st, w_messages_delete, &a) == STORE_OK && n == 1);
	store_message_list_free(&l);
	CHECK(put_within(&st, &al, &bo, 10, 4, 1000, 0) == STORE_OK);
	CHECK(put_within(&st, &al, &bo, 10, 4, 1000, 0) == STORE_FULL);
}

/* Concurrent senders never overfill a mailbox: the quota is decided on
 * the writer. */
struct sender {
	const struct store_user *from, *to;
	int ok, full, other;
};

#define QUOTA_SENDERS 4
#define QUOTA_EACH 15
#define QUOTA_MAX 25

static void *
sender_thread(void *arg)
{
	struct sender *t = arg;
	int i, rc;

	for (i = 0; i < QUOTA_EACH; i++) {
		rc = put_within(&st, t->from, t->to, 5, QUOTA_MAX, 100000, 0);
		if (rc == STORE_OK)
			t->ok++;
		else if (rc == STORE_FULL)
			t->full++;
		else
			t->other++;
	}
	return NULL;
}

static void
test_quota_concurrent(void)
{
	struct store_user al, bo;
	struct sender t[QUOTA_SENDERS];
	pthread_t th[QUOTA_SENDERS];
	struct store_message_list l = { 0 };
	int i, ok = 0, full = 0, other = 0;

	CHECK(add_user(&st, "conc-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "conc-bob", &bo) == STORE_OK);
	for (i = 0; i < QUOTA_SENDERS; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].from = &al;
		t[i].to = &bo;
		if (pthread_create(&th[i], NULL, sender_thread, &t[i]) != 0) {
			CHECK(!"pthread_create");
			return;
		}
	}
	for (i = 0; i < QUOTA_SENDERS; i++) {
		pthread_join(th[i], NULL);
		ok += t[i].ok;
		full += t[i].full;
		other += t[i].other;
	}
	CHECKF(ok == QUOTA_MAX && full == QUOTA_SENDERS * QUOTA_EACH -
	    QUOTA_MAX && other == 0, "ok %d full %d other %d", ok, full, other);
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 100, &l) == STORE_OK &&
	    l.n == QUOTA_MAX);
	store_message_list_free(&l);
	CHECK(counted_right(&st, &bo, "concurrent sends"));
}

/* ---- mailbox counters (schema 6) ---- */

/* Whether u's counters, read on the writer and on a reader of s, are
 * the count and bytes of the messages really in u's mailbox (said with
 * when, the step just done, when they are not). */
static int
counted_right(struct store *s, const struct store_user *u, const char *when)
{
	struct store_message_list l = { 0 };
	struct args a = { 0 };
	int64_t n = -1, b = -1, bytes = 0;
	size_t i;
	int ok;

	if (s->be->messages(s, u->id, NULL, NULL, 100000, &l) != STORE_OK) {
		CHECKF(0, "%s: cannot list the mailbox", when);
		return 0;
	}
	for (i = 0; i < l.n; i++)
		bytes += (int64_t)l.v[i].body_len;
	a.a = u->id;
	ok = on_writer(s, w_mailbox_usage, &a) == STORE_OK &&
	    s->be->mailbox_usage(s, 0, u->id, &n, &b) == STORE_OK &&
	    a.t1 == (int64_t)l.n && a.t2 == bytes && n == a.t1 && b == a.t2;
	CHECKF(ok, "%s: %zu messages of %" PRId64 " bytes, counted %" PRId64
	    "/%" PRId64 " (writer) and %" PRId64 "/%" PRId64 " (reader)",
	    when, l.n, bytes, a.t1, a.t2, n, b);
	store_message_list_free(&l);
	return ok;
}

/* The counters equal the mailbox after every kind of change: a message
 * stored (with and without the quota), a send refused (full, or its job
 * failing after its write), one taken, some acknowledged (and another's
 * ids, which delete nothing), a sender's account deleted (its messages
 * stay with their recipient), the recipient's deleted (no row left). */
static void
test_counters(void)
{
	struct store_user al, bo, ev;
	struct store_message got;
	struct store_message_list l = { 0 };
	struct args a = { 0 };
	const char *del[3];
	size_t i, n;
	int64_t c = -1, b = -1;

	CHECK(add_user(&st, "count-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "count-bob", &bo) == STORE_OK);
	CHECK(add_user(&st, "count-eve", &ev) == STORE_OK);
	CHECK(counted_right(&st, &bo, "a new account"));
	CHECK(put_message(&st, &al, &bo, "plain", NULL) == STORE_OK);
	CHECK(counted_right(&st, &bo, "message_put"));
	CHECK(put_within(&st, &al, &bo, 17, 10, 1000, 0) == STORE_OK);
	CHECK(put_within(&st, &ev, &bo, 3, 10, 1000, 0) == STORE_OK);
	CHECK(counted_right(&st, &bo, "message_put_within"));
	CHECK(put_within(&st, &al, &bo, 10, 3, 1000, 0) == STORE_FULL);
	CHECK(counted_right(&st, &bo, "a send refused by count"));
	CHECK(put_within(&st, &al, &bo, 100, 10, 100, 0) == STORE_FULL);
	CHECK(counted_right(&st, &bo, "a send refused by bytes"));
	CHECK(put_within(&st, &al, &bo, 9, 10, 1000, 1) == STORE_CONFLICT);
	CHECK(counted_right(&st, &bo, "a send rolled back"));
	a.a = bo.id;
	a.got = &got;
	CHECK(on_writer(&st, w_take_oldest, &a) == STORE_OK);
	free(got.body);
	CHECK(counted_right(&st, &bo, "take_oldest"));
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 10, &l) == STORE_OK &&
	    l.n == 2);
	for (i = 0; i < 2 && i < l.n; i++)
		del[i] = l.v[i].id;
	del[2] = "0123456789ABCDEFGHJKMNPQRS";
	memset(&a, 0, sizeof(a));
	a.a = ev.id;	/* not theirs: nothing goes */
	a.ids = del;
	a.n1 = l.n >= 2 ? 3 : 0;
	a.count = &n;
	CHECK(on_writer(&st, w_messages_delete, &a) == STORE_OK && n == 0);
	CHECK(counted_right(&st, &bo, "another's acknowledgement"));
	CHECK(counted_right(&st, &ev, "another's acknowledgement"));
	a.a = bo.id;
	a.n1 = l.n >= 2 ? 1 : 0;
	CHECK(on_writer(&st, w_messages_delete, &a) == STORE_OK && n == 1);
	CHECK(counted_right(&st, &bo, "an acknowledgement"));
	store_message_list_free(&l);
	/* The sender goes: what it sent stays, counted. */
	CHECK(put_within(&st, &ev, &al, 5, 10, 1000, 0) == STORE_OK);
	memset(&a, 0, sizeof(a));
	a.a = ev.id;
	CHECK(on_writer(&st, w_user_delete, &a) == STORE_OK);
	CHECK(counted_right(&st, &bo, "its sender deleted"));
	CHECK(counted_right(&st, &al, "its sender deleted"));
	/* The recipient goes: its messages and counters with it. */
	a.a = bo.id;
	CHECK(on_writer(&st, w_user_delete, &a) == STORE_OK);
	CHECK(st.be->mailbox_usage(&st, 0, bo.id, &c, &b) == STORE_NOT_FOUND);
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 10, &l) == STORE_OK &&
	    l.n == 0);
	store_message_list_free(&l);
	CHECK(counted_right(&st, &al, "another account deleted"));
}

/* Two stores on one database (two servers) send to one mailbox at once,
 * under its quota, then one sends on while the other acknowledges: the
 * quota holds across them and the counters stay the truth. */
struct counter_sender {
	struct store *s;
	const struct store_user *from, *to;
	size_t each, max;
	int ok, full, other;
};

static void *
counter_sender(void *arg)
{
	struct counter_sender *t = arg;
	size_t i;
	int rc;

	for (i = 0; i < t->each; i++) {
		rc = put_within(t->s, t->from, t->to, 7 + i % 5, t->max, 100000,
		    0);
		if (rc == STORE_OK)
			t->ok++;
		else if (rc == STORE_FULL)
			t->full++;
		else
			t->other++;
	}
	return NULL;
}

struct counter_acker {
	struct store *s;
	const struct store_user *to;
	size_t deleted;
	int other;
};

static void *
counter_acker(void *arg)
{
	struct counter_acker *t = arg;
	struct store_message_list l = { 0 };
	struct args a = { 0 };
	const char *del[4];
	size_t i, n, round;

	for (round = 0; round < 20; round++) {
		if (t->s->be->messages(t->s, t->to->id, NULL, NULL, 4, &l) !=
		    STORE_OK) {
			t->other++;
			return NULL;
		}
		for (i = 0; i < l.n; i++)
			del[i] = l.v[i].id;
		memset(&a, 0, sizeof(a));
		a.a = t->to->id;
		a.ids = del;
		a.n1 = l.n;
		a.count = &n;
		if (on_writer(t->s, w_messages_delete, &a) != STORE_OK)
			t->other++;
		else
			t->deleted += n;
		store_message_list_free(&l);
	}
	return NULL;
}

static void
test_counters_two_stores(void)
{
	struct store two;
	struct store_user al, bo;
	struct counter_sender t[4];
	struct counter_acker ack;
	pthread_t th[2];
	int i, ok = 0, full = 0, other = 0, started = 0;

	if (open_second(&two) != 0)
		return;
	CHECK(add_user(&st, "ctwo-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "ctwo-bob", &bo) == STORE_OK);
	for (i = 0; i < 4; i++)
		t[i] = (struct counter_sender){ i % 2 ? &two : &st, &al, &bo,
			15, 25, 0, 0, 0 };
	run_threads(counter_sender, t, sizeof(t[0]), 4);
	for (i = 0; i < 4; i++) {
		ok += t[i].ok;
		full += t[i].full;
		other += t[i].other;
	}
	CHECKF(ok == 25 && full == 35 && other == 0, "ok %d full %d other %d",
	    ok, full, other);
	CHECK(counted_right(&st, &bo, "sends through two stores"));
	CHECK(counted_right(&two, &bo, "sends through two stores"));
	/* Sends through st while two acknowledges. */
	t[0] = (struct counter_sender){ &st, &al, &bo, 30, 1000, 0, 0, 0 };
	ack = (struct counter_acker){ &two, &bo, 0, 0 };
	started = 0;
	if (pthread_create(&th[0], NULL, counter_sender, &t[0]) == 0)
		started++;
	if (pthread_create(&th[1], NULL, counter_acker, &ack) == 0)
		started++;
	CHECK(started == 2);
	if (started == 2) {
		pthread_join(th[0], NULL);
		pthread_join(th[1], NULL);
	}
	CHECKF(t[0].ok == 30 && t[0].other == 0 && ack.other == 0 &&
	    ack.deleted > 0, "sent %d (%d failed), acknowledged %zu (%d "
	    "failed)", t[0].ok, t[0].other, ack.deleted, ack.other);
	CHECK(counted_right(&st, &bo, "sends and acknowledgements at once"));
	CHECK(counted_right(&two, &bo, "sends and acknowledgements at once"));
	store_close(&two);
}

/* Readers on many threads at once while the writer writes: every read
 * answers, none sees a half-written message. */
struct reader {
	const struct store_user *to;
	int rounds, bad;
};

static void *
reader_thread(void *arg)
{
	struct reader *r = arg;
	struct store_message_list l = { 0 };
	struct store_user u;
	size_t i;
	int k;

	for (k = 0; k < r->rounds; k++) {
		if (st.be->messages(&st, r->to->id, NULL, NULL, 1000, &l) !=
		    STORE_OK || st.be->user_by_id(&st, r->to->id, &u) !=
		    STORE_OK) {
			r->bad++;
			continue;
		}
		for (i = 0; i < l.n; i++)
			if (l.v[i].body_len != 5 ||
			    memcmp(l.v[i].body, "hello", 5) != 0)
				r->bad++;
		store_message_list_free(&l);
	}
	return NULL;
}

#define READERS 16

static void
test_readers_concurrent(void)
{
	struct store_user al, bo;
	struct reader r[READERS];
	pthread_t th[READERS];
	int i, bad = 0, started = 0;

	CHECK(add_user(&st, "read-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "read-bob", &bo) == STORE_OK);
	for (i = 0; i < READERS; i++) {
		r[i].to = &bo;
		r[i].rounds = 20;
		r[i].bad = 0;
		if (pthread_create(&th[i], NULL, reader_thread, &r[i]) != 0)
			break;
		started++;
	}
	CHECK(started == READERS);
	for (i = 0; i < 40; i++)
		CHECK(put_message(&st, &al, &bo, "hello", NULL) == STORE_OK);
	for (i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		bad += r[i].bad;
	}
	CHECKF(bad == 0, "%d failed or torn reads", bad);
}

/* ---- the writer's transactions ---- */

/* A job that fails undoes its own writes, and only those, even when it
 * shares a transaction with others. */
static pthread_mutex_t batch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t batch_cond = PTHREAD_COND_INITIALIZER;

/* A job of a batch: its result, once it has finished (batch_lock). */
struct batch_end {
	int result;
	int finished;
};

static void
batch_ended(struct batch_end *e, int result)
{
	pthread_mutex_lock(&batch_lock);
	e->result = result;
	e->finished = 1;
	pthread_cond_broadcast(&batch_cond);
	pthread_mutex_unlock(&batch_lock);
}

/* Waits until the job of e has finished. */
static void
batch_wait(struct batch_end *e)
{
	pthread_mutex_lock(&batch_lock);
	while (!e->finished)
		pthread_cond_wait(&batch_cond, &batch_lock);
	pthread_mutex_unlock(&batch_lock);
}

struct batch_job {
	struct store_job job;
	struct store_user u;
	int refuse;
	struct batch_end end;
};

static int
batch_run(struct store *s, struct store_job *j)
{
	struct batch_job *b = (struct batch_job *)j;
	int rc = s->be->user_create(s, &b->u);

	return rc == STORE_OK && b->refuse ? STORE_CONFLICT : rc;
}

static void
batch_done(struct store_job *j, int result)
{
	batch_ended(&((struct batch_job *)j)->end, result);
}

#define BATCH 30

static void
test_group_commit(void)
{
	static struct batch_job b[BATCH];
	struct store_user got;
	int i, kept = 0, gone = 0;

	for (i = 0; i < BATCH; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].job.run = batch_run;
		b[i].job.done = batch_done;
		CHECK(store_new_id(b[i].u.id) == 0);
		snprintf(b[i].u.name, sizeof(b[i].u.name), "batch-%02d", i);
		snprintf(b[i].u.hash, sizeof(b[i].u.hash), "h");
		b[i].refuse = i % 3 == 1;
	}
	/* Submitted at once: most share a transaction. */
	for (i = 0; i < BATCH; i++)
		store_submit(&st, &b[i].job);
	for (i = 0; i < BATCH; i++)
		batch_wait(&b[i].end);
	for (i = 0; i < BATCH; i++) {
		int rc = st.be->user_by_name(&st, b[i].u.name, &got);

		CHECK(b[i].end.result == (b[i].refuse ? STORE_CONFLICT :
		    STORE_OK));
		if (b[i].refuse) {
			CHECK(rc == STORE_NOT_FOUND);
			gone += rc == STORE_NOT_FOUND;
		} else {
			CHECK(rc == STORE_OK);
			kept += rc == STORE_OK;
		}
	}
	CHECK(kept == 20 && gone == 10);
}

/* Sends (a rate's token, then the message within the quota) submitted
 * at once, most sharing a transaction: those past the quota are
 * STORE_FULL and keep nothing (the token given back), whether their
 * backend learns it at once or only with a later job's statement. */
#define SENDS 8
#define SENDS_ROOM 3

struct send_job {
	struct store_job job;
	struct store_message m;
	const char *to_id;
	struct batch_end end;
};

static const struct store_limit send_rate = { STORE_LIMIT_RATE, 0.001,
	100, 0, 0, 0 };

static int
send_run(struct store *s, struct store_job *j)
{
	struct send_job *b = (struct send_job *)j;
	unsigned wait;
	int rc = store_limit_take(s, &send_rate, "sends:alice",
	    store_limit_now_ms(), &wait);

	return rc != STORE_OK ? rc : store_message_put_within(s, &b->m,
	    b->to_id, SENDS_ROOM, 100000);
}

static void
send_done(struct store_job *j, int result)
{
	batch_ended(&((struct send_job *)j)->end, result);
}

static void
test_sends_batched(void)
{
	static struct send_job b[SENDS];
	struct store_user al, bo;
	struct store_message_list l = { 0 };
	struct args a = { 0 };
	int i, ok = 0, full = 0;

	CHECK(add_user(&st, "sends-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "sends-bob", &bo) == STORE_OK);
	for (i = 0; i < SENDS; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].job.run = send_run;
		b[i].job.done = send_done;
		CHECK(message_init(&b[i].m, &al, &bo, "hello") ==
		    STORE_OK);
		b[i].to_id = bo.id;
	}
	for (i = 0; i < SENDS; i++)
		store_submit(&st, &b[i].job);
	for (i = 0; i < SENDS; i++)
		batch_wait(&b[i].end);
	for (i = 0; i < SENDS; i++) {
		ok += b[i].end.result == STORE_OK;
		full += b[i].end.result == STORE_FULL;
		/* In the order they came. */
		CHECKF(b[i].end.result == (i < SENDS_ROOM ? STORE_OK :
		    STORE_FULL), "send %d: %d", i, b[i].end.result);
	}
	CHECKF(ok == SENDS_ROOM && full == SENDS - SENDS_ROOM,
	    "%d stored, %d full", ok, full);
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 100, &l) == STORE_OK &&
	    l.n == SENDS_ROOM);
	store_message_list_free(&l);
	/* The rate counts the sends stored only (a token a second comes
	 * back in 1000 s: none meanwhile). */
	a.a = "sends:alice";
	CHECKF(on_writer(&st, w_limit_get, &a) == STORE_OK && a.d > 2.99 &&
	    a.d < 3.01, "tokens spent: %g", a.d);
	CHECK(counted_right(&st, &bo, "sends in one transaction, some refused "
	    "late"));
}

/*
 * store_send (the rate taken in the send's own statement on PostgreSQL,
 * its answer read with a later job's): a group submitted at once, most
 * sharing a transaction, each refused for its own reason (a recipient
 * gone, a mailbox full, the rate spent) and those alone: the others
 * stored, in the order they came, and the rate counting the sends stored
 * only. The refusal's wait is written for the job's done().
 */
#define SS_N 10
#define SS_BURST 5
#define SS_ROOM 3

struct ss_job {
	struct store_job job;
	struct store_message m;
	const char *to_id;
	unsigned wait;
	int refuse;	/* refused after its send (STORE_CONFLICT) */
	const char *key;	/* the rate's, "ss:alice" when NULL */
	const int64_t *ver;	/* the sender's token version, or NULL */
	struct batch_end end;
};

static const struct store_limit ss_rate = { STORE_LIMIT_RATE, 0.001,
	SS_BURST, 0, 0, 0 };

static int
ss_run(struct store *s, struct store_job *j)
{
	struct ss_job *b = (struct ss_job *)j;
	int rc = store_send(s, &ss_rate, b->key ? b->key : "ss:alice",
	    store_limit_now_ms(), &b->wait, &b->m, b->ver, b->to_id, SS_ROOM,
	    100000);

	return rc == STORE_OK && b->refuse ? STORE_CONFLICT : rc;
}

static void
ss_done(struct store_job *j, int result)
{
	batch_ended(&((struct ss_job *)j)->end, result);
}

static void
test_store_send(void)
{
	static struct ss_job b[SS_N];
	/* To bob (room for SS_ROOM), nobody, carol; what each gets. */
	static const int to[SS_N] = { 0, 1, 0, 0, 0, 2, 1, 2, 2, 2 };
	static const int want[SS_N] = { STORE_OK, STORE_NOT_FOUND, STORE_OK,
		STORE_OK, STORE_FULL, STORE_OK, STORE_NOT_FOUND, STORE_OK,
		STORE_LIMITED, STORE_LIMITED };
	struct store_user al, bo, ca;
	struct store_message_list l = { 0 };
	struct args a = { 0 };
	char ghost[STORE_ID_LEN + 1];
	const char *ids[3];
	int i;

	CHECK(add_user(&st, "ss-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "ss-bob", &bo) == STORE_OK);
	CHECK(add_user(&st, "ss-carol", &ca) == STORE_OK);
	CHECK(store_new_id(ghost) == 0);
	ids[0] = bo.id;
	ids[1] = ghost;
	ids[2] = ca.id;
	for (i = 0; i < SS_N; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].job.run = ss_run;
		b[i].job.done = ss_done;
		CHECK(store_new_ordered_id(b[i].m.id) == 0);
		snprintf(b[i].m.from, sizeof(b[i].m.from), "%s", al.name);
		snprintf(b[i].m.from_id, sizeof(b[i].m.from_id), "%s", al.id);
		snprintf(b[i].m.to, sizeof(b[i].m.to), "to-%d", to[i]);
		b[i].m.body = (char *)"hello";
		b[i].m.body_len = 5;
		b[i].to_id = ids[to[i]];
	}
	for (i = 0; i < SS_N; i++)
		store_submit(&st, &b[i].job);
	for (i = 0; i < SS_N; i++)
		batch_wait(&b[i].end);
	for (i = 0; i < SS_N; i++) {
		CHECKF(b[i].end.result == want[i], "send %d: %d, not %d", i,
		    b[i].end.result, want[i]);
		/* A token a second comes back in 1000 s. */
		if (want[i] == STORE_LIMITED)
			CHECKF(b[i].wait >= 999 && b[i].wait <= 1000,
			    "send %d: wait %u", i, b[i].wait);
	}
	/* In the order they came: bob's first three, carol's two. */
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 100, &l) == STORE_OK &&
	    l.n == SS_ROOM && strcmp(l.v[0].id, b[0].m.id) == 0 &&
	    strcmp(l.v[1].id, b[2].m.id) == 0 &&
	    strcmp(l.v[2].id, b[3].m.id) == 0);
	store_message_list_free(&l);
	CHECK(st.be->messages(&st, ca.id, NULL, NULL, 100, &l) == STORE_OK &&
	    l.n == 2 && strcmp(l.v[0].id, b[5].m.id) == 0 &&
	    strcmp(l.v[1].id, b[7].m.id) == 0);
	store_message_list_free(&l);
	a.a = "ss:alice";
	CHECKF(on_writer(&st, w_limit_get, &a) == STORE_OK &&
	    a.d > SS_BURST - 0.01 && a.d < SS_BURST + 0.01,
	    "tokens spent: %g", a.d);
	CHECK(counted_right(&st, &bo, "store_send refused by the quota"));
	CHECK(counted_right(&st, &ca, "store_send refused by the rate"));
}

/* A job refused after its send stored (none of the server's does:
 * a send is its job's last write): nothing of it stays, and the other
 * jobs of its transaction are either stored or failed (PostgreSQL
 * cannot undo a send sent without a savepoint alone: the whole
 * transaction fails), never told one thing while the other is kept. */
static void
test_store_send_refused_after(void)
{
	static struct ss_job b[4];
	struct store_user al, bo;
	struct store_message_list l = { 0 };
	struct args a = { 0 };
	int i, j, found;

	CHECK(add_user(&st, "sa-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "sa-bob", &bo) == STORE_OK);
	for (i = 0; i < 4; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].job.run = ss_run;
		b[i].job.done = ss_done;
		CHECK(message_init(&b[i].m, &al, &bo, "after") ==
		    STORE_OK);
		b[i].to_id = bo.id;
		b[i].refuse = i == 1;
		b[i].key = i == 1 ? "sa:refused" : "sa:alice";
	}
	for (i = 0; i < 4; i++)
		store_submit(&st, &b[i].job);
	for (i = 0; i < 4; i++)
		batch_wait(&b[i].end);
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 100, &l) == STORE_OK);
	for (i = 0; i < 4; i++) {
		for (found = 0, j = 0; j < (int)l.n; j++)
			found |= strcmp(l.v[j].id, b[i].m.id) == 0;
		CHECKF(found == (b[i].end.result == STORE_OK), "send %d: %d, "
		    "%s", i, b[i].end.result, found ? "stored" : "not stored");
		CHECKF(b[i].end.result == STORE_OK || b[i].end.result ==
		    (i == 1 ? STORE_CONFLICT : STORE_ERROR) ||
		    b[i].end.result == STORE_ERROR, "send %d: %d", i,
		    b[i].end.result);
	}
	CHECK(b[1].end.result != STORE_OK);
	store_message_list_free(&l);
	/* The refused job's token is not spent. */
	a.a = "sa:refused";
	i = on_writer(&st, w_limit_get, &a);
	CHECKF(i == STORE_NOT_FOUND || (i == STORE_OK && a.d < 0.01),
	    "tokens spent: %d %g", i, a.d);
	CHECK(counted_right(&st, &bo, "a job refused after its send"));
}

/* store_send with the sender's token version (a send's body in after
 * its token was read at the headers, T4): a sender signed out or
 * deleted before the send is refused (STORE_REVOKED), nothing stored and
 * its rate not counted; one still at that version is stored. One group
 * (PostgreSQL: the refusals read after their jobs' release, in the
 * statement that stores the send). */
static void
test_store_send_revoked(void)
{
	static struct ss_job b[4];
	static const int want[4] = { STORE_OK, STORE_REVOKED, STORE_OK,
		STORE_REVOKED };
	struct store_user al, gone, bo;
	struct store_message_list l = { 0 };
	struct args a = { 0 };
	int64_t now = 0, old;
	int i;

	CHECK(add_user(&st, "rv-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "rv-gone", &gone) == STORE_OK);
	CHECK(add_user(&st, "rv-bob", &bo) == STORE_OK);
	/* Alice signed out everywhere since her token; gone deleted. */
	old = al.token_version;
	a.a = al.id;
	a.out = &now;
	CHECK(on_writer(&st, w_user_revoke, &a) == STORE_OK &&
	    now == old + 1);
	a.a = gone.id;
	CHECK(on_writer(&st, w_user_delete, &a) == STORE_OK);
	for (i = 0; i < 4; i++) {
		const struct store_user *u = i == 3 ? &gone : &al;

		memset(&b[i], 0, sizeof(b[i]));
		b[i].job.run = ss_run;
		b[i].job.done = ss_done;
		CHECK(message_init(&b[i].m, u, &bo, "revoked?") ==
		    STORE_OK);
		b[i].to_id = bo.id;
		b[i].ver = i == 1 ? &old : i == 3 ? &gone.token_version :
		    &now;
		b[i].key = want[i] == STORE_OK ? "rv:alice" : i == 1 ?
		    "rv:old" : "rv:gone";
	}
	for (i = 0; i < 4; i++)
		store_submit(&st, &b[i].job);
	for (i = 0; i < 4; i++)
		batch_wait(&b[i].end);
	for (i = 0; i < 4; i++)
		CHECKF(b[i].end.result == want[i], "send %d: %d, not %d", i,
		    b[i].end.result, want[i]);
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 100, &l) == STORE_OK &&
	    l.n == 2 && strcmp(l.v[0].id, b[0].m.id) == 0 &&
	    strcmp(l.v[1].id, b[2].m.id) == 0);
	store_message_list_free(&l);
	/* The refused sends' rates are not counted; the others' are. */
	a.a = "rv:alice";
	CHECKF(on_writer(&st, w_limit_get, &a) == STORE_OK && a.d > 1.99 &&
	    a.d < 2.01, "tokens spent: %g", a.d);
	for (i = 0; i < 2; i++) {
		int rc;

		a.a = i == 0 ? "rv:old" : "rv:gone";
		rc = on_writer(&st, w_limit_get, &a);
		CHECKF(rc == STORE_NOT_FOUND || (rc == STORE_OK && a.d < 0.01),
		    "%s: %d %g", a.a, rc, a.d);
	}
	CHECK(counted_right(&st, &bo, "sends of a sender signed out"));
}

/* store_send's rate where the row expired (the bucket full again) and
 * where tokens came back meanwhile: as store_limit_take counts. */
static void
test_store_send_refill(void)
{
	const struct store_limit fast = { STORE_LIMIT_RATE, 1.0, 2, 0, 0,
		0 };
	struct store_user al, bo;
	struct store_message m;
	struct args a = { 0 };
	int64_t t0 = store_limit_now_ms();
	int i;

	CHECK(add_user(&st, "sr-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "sr-bob", &bo) == STORE_OK);
	CHECK(message_init(&m, &al, &bo, "x") == STORE_OK);
	/* t0: two pass, the third waits a second; t0 + 1.5 s: one came
	 * back (1.5 spent - 1.5 back + 1); t0 + 60 s: the row expired. */
	for (i = 0; i < 6; i++) {
		static const int64_t at[6] = { 0, 0, 0, 1500, 1500, 60000 };
		static const int want[6] = { STORE_OK, STORE_OK,
			STORE_LIMITED, STORE_OK, STORE_LIMITED, STORE_OK };
		struct args w = { 0 };

		CHECK(store_new_ordered_id(m.id) == 0);
		w.m = &m;
		w.a = bo.id;
		w.l = &fast;
		w.t1 = t0 + at[i];
		w.b = "sr:alice";
		CHECKF(on_writer(&st, w_store_send, &w) == want[i],
		    "send %d", i);
		if (want[i] == STORE_LIMITED)
			CHECKF(w.wait == 1, "send %d: wait %u", i, w.wait);
	}
	a.a = "sr:alice";
	CHECKF(on_writer(&st, w_limit_get, &a) == STORE_OK && a.d > 0.99 &&
	    a.d < 1.01 && a.t1 == t0 + 60000, "row: %g at %" PRId64, a.d,
	    a.t1 - t0);
}

/* store_send's rate row may outlive the moment its tokens are all back
 * (PostgreSQL's expires on a coarse grid, so that a busy sender's row is
 * updated in place): it expires at that moment or later, never before,
 * and a row past that moment counts as a full bucket, as one expired. */
static void
test_store_send_linger(void)
{
	static const struct store_limit quick = { STORE_LIMIT_RATE, 1000, 2,
		0, 0, 0 };
	struct store_user al, bo;
	struct store_message m;
	struct args a = { 0 };
	int64_t t0 = store_limit_now_ms();
	int i;

	CHECK(add_user(&st, "sl-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "sl-bob", &bo) == STORE_OK);
	CHECK(message_init(&m, &al, &bo, "x") == STORE_OK);
	/* Two a millisecond back: t0 fills the bucket, t0 + 5 ms finds it
	 * full again (its row there still, maybe), and fills it again. */
	for (i = 0; i < 6; i++) {
		static const int64_t at[6] = { 0, 0, 0, 5, 5, 5 };
		static const int want[6] = { STORE_OK, STORE_OK,
			STORE_LIMITED, STORE_OK, STORE_OK, STORE_LIMITED };
		struct args w = { 0 };

		CHECK(store_new_ordered_id(m.id) == 0);
		w.m = &m;
		w.a = bo.id;
		w.l = &quick;
		w.t1 = t0 + at[i];
		w.b = "sl:alice";
		CHECKF(on_writer(&st, w_store_send, &w) == want[i],
		    "send %d", i);
		/* Read back at once: the row of a send just refused. */
		a.a = "sl:alice";
		CHECKF(on_writer(&st, w_limit_get, &a) == STORE_OK &&
		    a.t2 >= a.t1 + (int64_t)(a.d * 1000 / quick.per_s) + 1,
		    "send %d: %g at %" PRId64 " expires %" PRId64, i, a.d,
		    a.t1 - t0, a.t2 - t0);
	}
	CHECKF(a.d == 2 && a.t1 == t0 + 5, "row: %g at %" PRId64, a.d,
	    a.t1 - t0);
}

/* Two stores on one database, 4 threads each sending with store_send on
 * one rate of 25 at once: exactly 25 stored, whoever counted them. */
struct send_taker {
	struct store *s;
	const struct store_user *from, *to;
	int ok, other;
};

static const struct store_limit conc_rate = { STORE_LIMIT_RATE, 0.001, 25,
	0, 0, 0 };

static void *
send_taker(void *arg)
{
	struct send_taker *t = arg;
	struct store_message m;
	int i, rc;

	memset(&m, 0, sizeof(m));
	snprintf(m.from, sizeof(m.from), "%s", t->from->name);
	snprintf(m.from_id, sizeof(m.from_id), "%s", t->from->id);
	snprintf(m.to, sizeof(m.to), "%s", t->to->name);
	m.body = (char *)"c";
	m.body_len = 1;
	for (i = 0; i < 10; i++) {
		struct args a = { 0 };

		if (store_new_ordered_id(m.id) != 0)
			break;
		a.m = &m;
		a.a = t->to->id;
		a.b = "sc:alice";
		a.l = &conc_rate;
		a.t1 = store_limit_now_ms();
		rc = on_writer(t->s, w_store_send, &a);
		if (rc == STORE_OK)
			t->ok++;
		else if (rc != STORE_LIMITED)
			t->other++;
	}
	return NULL;
}

static void
test_store_send_two_stores(void)
{
	struct send_taker t[8];
	struct store two;
	struct store_user al, bo;
	struct store_message_list l = { 0 };
	int i, ok = 0, other = 0;

	CHECK(add_user(&st, "sc-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "sc-bob", &bo) == STORE_OK);
	if (open_second(&two) != 0)
		return;
	for (i = 0; i < 8; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].s = i % 2 ? &two : &st;
		t[i].from = &al;
		t[i].to = &bo;
	}
	run_threads(send_taker, t, sizeof(t[0]), 8);
	for (i = 0; i < 8; i++) {
		ok += t[i].ok;
		other += t[i].other;
	}
	CHECKF(ok == 25 && other == 0, "%d stored, %d failed otherwise", ok,
	    other);
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 100, &l) == STORE_OK &&
	    l.n == 25);
	store_message_list_free(&l);
	store_close(&two);
}

/* ---- settings ---- */

static void
test_meta(void)
{
	struct buf v = BUF_INIT;
	struct args a = { 0 };

	CHECK(st.be->meta_get(&st, "conformance-none", &v) ==
	    STORE_NOT_FOUND);
	a.a = "conformance-key";
	a.b = "value\x01\x02";
	CHECK(on_writer(&st, w_meta_put_new, &a) == STORE_OK);
	CHECK(st.be->meta_get(&st, "conformance-key", &v) == STORE_OK &&
	    v.len == 7 && memcmp(v.p, "value\x01\x02", 7) == 0);
	/* put_new does not replace. */
	a.b = "other";
	CHECK(on_writer(&st, w_meta_put_new, &a) == STORE_CONFLICT);
	CHECK(st.be->meta_get(&st, "conformance-key", &v) == STORE_OK &&
	    v.len == 7);
	/* meta_set (--secret-rotate) replaces, or adds. */
	if (st.be->meta_set == NULL) {
		harness_skip("the backend has no meta_set yet");
		buf_free(&v);
		return;
	}
	CHECK(on_writer(&st, w_meta_set, &a) == STORE_OK);
	CHECK(st.be->meta_get(&st, "conformance-key", &v) == STORE_OK &&
	    v.len == 5 && memcmp(v.p, "other", 5) == 0);
	a.a = "conformance-set";
	a.b = "new";
	CHECK(on_writer(&st, w_meta_set, &a) == STORE_OK);
	CHECK(st.be->meta_get(&st, "conformance-set", &v) == STORE_OK &&
	    v.len == 3 && memcmp(v.p, "new", 3) == 0);
	buf_free(&v);
}

/* ---- keys ---- */

static void
test_keys(void)
{
	struct store_user al, bo;
	struct store_key_list l = { 0 };
	struct store_key k;
	struct args a = { 0 };
	int64_t at;
	int i, rc;

	CHECK(add_user(&st, "keys-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "keys-bob", &bo) == STORE_OK);
	CHECK(st.be->keys(&st, al.id, &l) == STORE_OK && l.n == 0);
	store_key_list_free(&l);

	k = make_key(kid_of("a", 0), "proof-0");
	a.a = al.id;
	a.k = &k;
	CHECK(on_writer(&st, w_key_put, &a) == STORE_OK);
	CHECK(st.be->keys(&st, al.id, &l) == STORE_OK && l.n == 1);
	if (l.n == 1) {
		CHECK(strcmp(l.v[0].kid, kid_of("a", 0)) == 0);
		CHECK(strcmp(l.v[0].pem, k.pem) == 0);
		CHECK(l.v[0].proof != NULL &&
		    strcmp(l.v[0].proof, "proof-0") == 0);
		CHECK(l.v[0].created_at == 1700000200);
	}
	store_key_list_free(&l);
	/* Again without a proof: kept as it was. With one: the new proof. */
	k.proof = NULL;
	CHECK(on_writer(&st, w_key_put, &a) == STORE_OK);
	CHECK(st.be->keys(&st, al.id, &l) == STORE_OK && l.n == 1 &&
	    l.v[0].proof != NULL && strcmp(l.v[0].proof, "proof-0") == 0);
	store_key_list_free(&l);
	k.proof = (char *)"proof-1";
	CHECK(on_writer(&st, w_key_put, &a) == STORE_OK);
	CHECK(st.be->keys(&st, al.id, &l) == STORE_OK && l.n == 1 &&
	    strcmp(l.v[0].proof, "proof-1") == 0);
	store_key_list_free(&l);

	/* Another account's key id. */
	a.a = bo.id;
	CHECK(on_writer(&st, w_key_put, &a) == STORE_TAKEN);
	CHECK(st.be->kid_clash(&st, 0, kid_of("a", 0), bo.id, 0, &at) ==
	    STORE_TAKEN);
	CHECK(st.be->kid_clash(&st, 0, kid_of("a", 0), al.id, 0, &at) ==
	    STORE_OK);

	/* At most STORE_KEYS_MAX keys each. */
	a.a = al.id;
	for (i = 1; i < STORE_KEYS_MAX; i++) {
		k = make_key(kid_of("a", i), "p");
		CHECK(on_writer(&st, w_key_put, &a) == STORE_OK);
	}
	k = make_key(kid_of("a", STORE_KEYS_MAX), "p");
	CHECK(on_writer(&st, w_key_put, &a) == STORE_CONFLICT);
	CHECK(st.be->keys(&st, al.id, &l) == STORE_OK &&
	    l.n == STORE_KEYS_MAX);
	store_key_list_free(&l);

	/* Deleting. */
	a.b = kid_of("a", 3);
	CHECK(on_writer(&st, w_key_delete, &a) == STORE_OK);
	CHECK(on_writer(&st, w_key_delete, &a) == STORE_NOT_FOUND);
	a.a = bo.id;
	a.b = kid_of("a", 4);
	CHECK(on_writer(&st, w_key_delete, &a) == STORE_NOT_FOUND);
	CHECK(st.be->keys(&st, al.id, &l) == STORE_OK &&
	    l.n == STORE_KEYS_MAX - 1);
	store_key_list_free(&l);

	/* A key of a deleted user: not found. */
	a.a = bo.id;
	CHECK(on_writer(&st, w_user_delete, &a) == STORE_OK);
	k = make_key(kid_of("b", 0), "p");
	rc = on_writer(&st, w_key_put, &a);
	CHECKF(rc == STORE_NOT_FOUND, "a key for a deleted user: %d", rc);
}

/* ---- prekeys (schema 5) ---- */

/* n prekeys of kind into v, their pkids and xs made of tag and their
 * number. */
static void
make_prekeys(struct store_prekey *v, size_t n, const char *tag, int kind,
    int64_t created_at)
{
	char head[64];
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		memset(v[i].pkid, 'P', STORE_KID_LEN);
		memset(v[i].x, 'X', STORE_PREKEY_X_LEN);
		/* At most 15 characters of each head, padded to length. */
		k = snprintf(head, sizeof(head), "%s-%05zu", tag, i);
		memcpy(v[i].pkid, head, k >= 0 && k < 15 ? (size_t)k : 15);
		k = snprintf(head, sizeof(head), "x%s-%05zu", tag, i);
		memcpy(v[i].x, head, k >= 0 && k < 15 ? (size_t)k : 15);
		v[i].kind = kind;
		v[i].proof = (char *)"proof";
		v[i].iat = 1700000300;
		v[i].created_at = created_at;
	}
}

/* The stock of kid among user_id's keys: one_time, or -1 when kid is not
 * listed; its signed prekey's id into sig (size STORE_KID_LEN + 1). */
static int64_t
stock_of(struct store *s, const char *user_id, const char *kid, char *sig)
{
	struct store_prekey_stock_list l = { 0 };
	int64_t n = -1;
	size_t i;

	if (s->be->prekey_stock(s, 0, user_id, &l) != STORE_OK)
		return -2;
	for (i = 0; i < l.n; i++)
		if (strcmp(l.v[i].kid, kid) == 0) {
			n = l.v[i].one_time;
			if (sig != NULL)
				memcpy(sig, l.v[i].signed_pkid,
				    STORE_KID_LEN + 1);
		}
	store_prekey_stock_list_free(&l);
	return n;
}

static int
put_prekeys(struct store *s, const char *user_id, const char *kid,
    struct store_prekey *signed_pk, struct store_prekey *one_time, size_t n,
    size_t max, size_t *added, int64_t *stock)
{
	struct args a = { 0 };

	a.a = user_id;
	a.b = kid;
	a.pk2 = signed_pk;
	a.pk = one_time;
	a.n1 = n;
	a.n2 = max;
	a.count = added;
	a.out = stock;
	return on_writer(s, w_prekeys_put, &a);
}

static int
claim(struct store *s, const char *kid, int kind, struct store_prekey *out)
{
	struct args a = { 0 };

	a.b = kid;
	a.t1 = kind;
	a.pk = out;
	return on_writer(s, w_prekey_claim, &a);
}

/* Publishes the key kid for user_id: the prekeys' tests need keys that
 * only their ids tell apart. */
static int
put_key(struct store *s, const char *user_id, const char *kid)
{
	struct store_key k = make_key(kid, "p");
	struct args a = { 0 };

	a.a = user_id;
	a.k = &k;
	return on_writer(s, w_key_put, &a);
}

static void
test_prekeys(void)
{
	struct store_user al, bo;
	struct store_prekey ot[8], sg[2], got;
	struct args a = { 0 };
	char kid[STORE_KID_LEN + 1], kid2[STORE_KID_LEN + 1];
	char sig[STORE_KID_LEN + 1];
	size_t added = 0;
	int64_t stock = 0;
	int rc;

	CHECK(add_user(&st, "pk-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "pk-bob", &bo) == STORE_OK);
	snprintf(kid, sizeof(kid), "%s", kid_of("pk", 0));
	snprintf(kid2, sizeof(kid2), "%s", kid_of("pk", 1));
	CHECK(put_key(&st, al.id, kid) == STORE_OK);
	CHECK(put_key(&st, al.id, kid2) == STORE_OK);
	CHECK(stock_of(&st, al.id, kid, sig) == 0 && sig[0] == '\0');

	make_prekeys(ot, 8, "o", STORE_PREKEY_ONE_TIME, 1700000400);
	make_prekeys(sg, 2, "s", STORE_PREKEY_SIGNED, 1700000400);
	/* Not one of the user's keys (bob's view of alice's key): not
	 * found, nothing stored. */
	CHECK(put_prekeys(&st, bo.id, kid, NULL, ot, 2, 10, &added,
	    &stock) == STORE_NOT_FOUND);
	CHECK(put_prekeys(&st, al.id, kid, &sg[0], ot, 5, 6, &added,
	    &stock) == STORE_OK && added == 5 && stock == 5);
	CHECK(stock_of(&st, al.id, kid, sig) == 5 &&
	    strcmp(sig, sg[0].pkid) == 0);
	CHECK(stock_of(&st, al.id, kid2, sig) == 0);
	/* Sent again: the ones there are skipped; a new signed one replaces
	 * the old. */
	CHECK(put_prekeys(&st, al.id, kid, &sg[1], ot, 6, 6, &added,
	    &stock) == STORE_OK && added == 1 && stock == 6);
	CHECK(stock_of(&st, al.id, kid, sig) == 6 &&
	    strcmp(sig, sg[1].pkid) == 0);
	/* Past the cap: refused, nothing of it kept. */
	rc = put_prekeys(&st, al.id, kid, NULL, &ot[6], 2, 7, &added, &stock);
	CHECKF(rc == STORE_FULL && stock == 6, "%d %lld", rc,
	    (long long)stock);
	CHECK(stock_of(&st, al.id, kid, NULL) == 6);
	/* A signed prekey whose pkid is a one-time one's. */
	ot[0].kind = STORE_PREKEY_SIGNED;
	CHECK(put_prekeys(&st, al.id, kid, &ot[0], NULL, 0, 7, &added,
	    &stock) == STORE_CONFLICT);
	ot[0].kind = STORE_PREKEY_ONE_TIME;
	CHECK(stock_of(&st, al.id, kid, sig) == 6 &&
	    strcmp(sig, sg[1].pkid) == 0);

	/* Claims: the oldest one-time prekey, gone once claimed; the signed
	 * one stays. */
	CHECK(claim(&st, kid, STORE_PREKEY_ONE_TIME, &got) == STORE_OK &&
	    strcmp(got.pkid, ot[0].pkid) == 0 && strcmp(got.x, ot[0].x) == 0 &&
	    got.proof != NULL && strcmp(got.proof, "proof") == 0 &&
	    got.kind == STORE_PREKEY_ONE_TIME && got.iat == 1700000300);
	store_prekey_clear(&got);
	CHECK(stock_of(&st, al.id, kid, NULL) == 5);
	CHECK(claim(&st, kid, STORE_PREKEY_SIGNED, &got) == STORE_OK &&
	    strcmp(got.pkid, sg[1].pkid) == 0);
	store_prekey_clear(&got);
	CHECK(claim(&st, kid, STORE_PREKEY_SIGNED, &got) == STORE_OK);
	store_prekey_clear(&got);
	CHECK(claim(&st, kid2, STORE_PREKEY_ONE_TIME, &got) == STORE_EMPTY);
	CHECK(claim(&st, kid2, STORE_PREKEY_SIGNED, &got) == STORE_EMPTY);
	/* A withdrawn key's prekeys go with it. */
	CHECK(put_prekeys(&st, al.id, kid2, &sg[0], ot, 3, 10, &added,
	    &stock) == STORE_OK && stock == 3);
	a.a = al.id;
	a.b = kid;
	CHECK(on_writer(&st, w_key_delete, &a) == STORE_OK);
	CHECK(stock_of(&st, al.id, kid, NULL) == -1);
	CHECK(claim(&st, kid, STORE_PREKEY_ONE_TIME, &got) == STORE_EMPTY);
	CHECK(claim(&st, kid, STORE_PREKEY_SIGNED, &got) == STORE_EMPTY);
	/* Published again: no prekey of before. */
	CHECK(put_key(&st, al.id, kid) == STORE_OK);
	CHECK(stock_of(&st, al.id, kid, sig) == 0 && sig[0] == '\0');
	/* The account deleted: every prekey of its keys goes. */
	a.a = al.id;
	CHECK(on_writer(&st, w_user_delete, &a) == STORE_OK);
	CHECK(claim(&st, kid2, STORE_PREKEY_ONE_TIME, &got) == STORE_EMPTY);
	CHECK(claim(&st, kid2, STORE_PREKEY_SIGNED, &got) == STORE_EMPTY);
	CHECK(put_prekeys(&st, al.id, kid2, NULL, ot, 1, 10, &added,
	    &stock) == STORE_NOT_FOUND);
}

#define CLAIM_STOCK 60
#define CLAIMERS 6

struct claimer {
	struct store *s;
	const char *kid;
	char got[CLAIM_STOCK][STORE_KID_LEN + 1];
	int n, other;
};

static void *
claimer(void *arg)
{
	struct claimer *c = arg;
	struct store_prekey p;
	int rc;

	for (;;) {
		rc = claim(c->s, c->kid, STORE_PREKEY_ONE_TIME, &p);
		if (rc == STORE_EMPTY)
			break;
		if (rc != STORE_OK || c->n >= CLAIM_STOCK) {
			c->other++;
			store_prekey_clear(&p);
			break;
		}
		memcpy(c->got[c->n++], p.pkid, STORE_KID_LEN + 1);
		store_prekey_clear(&p);
	}
	return NULL;
}

/* Two stores on one database (two servers), three threads each claiming
 * one key's one-time prekeys at once: each prekey handed out exactly
 * once, and all of them. */
static void
test_prekey_claims_concurrent(void)
{
	static struct claimer c[CLAIMERS];
	struct store_prekey ot[CLAIM_STOCK];
	struct store_user al;
	struct store two;
	char kid[STORE_KID_LEN + 1];
	size_t added = 0;
	int64_t stock = 0;
	const char *all[CLAIM_STOCK];
	int i, j, m, n, total = 0, other = 0, dup = 0;

	CHECK(add_user(&st, "pkc-alice", &al) == STORE_OK);
	snprintf(kid, sizeof(kid), "%s", kid_of("pkc", 0));
	CHECK(put_key(&st, al.id, kid) == STORE_OK);
	make_prekeys(ot, CLAIM_STOCK, "c", STORE_PREKEY_ONE_TIME, 1700000500);
	CHECK(put_prekeys(&st, al.id, kid, NULL, ot, CLAIM_STOCK, CLAIM_STOCK,
	    &added, &stock) == STORE_OK && stock == CLAIM_STOCK);
	if (open_second(&two) != 0)
		return;
	memset(c, 0, sizeof(c));
	for (i = 0; i < CLAIMERS; i++) {
		c[i].s = i % 2 ? &two : &st;
		c[i].kid = kid;
	}
	run_threads(claimer, c, sizeof(c[0]), CLAIMERS);
	for (i = 0; i < CLAIMERS; i++) {
		total += c[i].n;
		other += c[i].other;
	}
	/* Every pkid handed out, in one list: none twice. */
	for (i = 0, n = 0; i < CLAIMERS; i++)
		for (m = 0; m < c[i].n && n < CLAIM_STOCK; m++)
			all[n++] = c[i].got[m];
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			dup += strcmp(all[i], all[j]) == 0;
	CHECKF(total == CLAIM_STOCK && other == 0 && dup == 0,
	    "%d claimed of %d, %d twice, %d failed", total, CLAIM_STOCK, dup,
	    other);
	CHECK(stock_of(&st, al.id, kid, NULL) == 0);
	store_close(&two);
}

/* ---- identity: skeletons and the quarantine ---- */

struct groups {
	int n;
	char first[2][STORE_NAME_MAX + 1];
};

static void
each_group(void *arg, const char *const *names, size_t n)
{
	struct groups *g = arg;

	if (n == 2 && strncmp(names[0], "idgrp", 5) == 0) {
		snprintf(g->first[0], sizeof(g->first[0]), "%s", names[0]);
		snprintf(g->first[1], sizeof(g->first[1]), "%s", names[1]);
		g->n++;
	}
}

static void
test_identity(void)
{
	struct store_user al, look, bo;
	struct store_key k;
	struct args a = { 0 };
	char skel[STORE_NAME_MAX + 1], clash[STORE_NAME_MAX + 1];
	int64_t at = 0;
	struct groups g = { 0 };

	CHECK(add_user(&st, "idalice", &al) == STORE_OK);
	name_skeleton("id4lice", 7, skel);
	CHECK(st.be->name_clash(&st, 0, skel, 0, clash, &at) == STORE_OK);
	name_skeleton("idAlice", 7, skel);
	CHECK(st.be->name_clash(&st, 0, skel, 0, clash, &at) == STORE_CLASH &&
	    strcmp(clash, "idalice") == 0);
	a.a = skel;
	a.out = &at;
	CHECK(on_writer(&st, w_name_clash, &a) == STORE_CLASH);

	/* Two names of one skeleton (kept from before): a group. */
	CHECK(add_user(&st, "idgrp-x", &look) == STORE_OK);
	CHECK(add_user(&st, "idgrp_x", &bo) == STORE_OK);
	CHECK(st.be->name_groups(&st, each_group, &g) == STORE_OK);
	CHECK(g.n == 1 && strcmp(g.first[0], "idgrp-x") == 0 &&
	    strcmp(g.first[1], "idgrp_x") == 0);

	/* A deleted account's name and key ids rest. */
	k = make_key(kid_of("q", 0), "p");
	memset(&a, 0, sizeof(a));
	a.a = al.id;
	a.k = &k;
	CHECK(on_writer(&st, w_key_put, &a) == STORE_OK);
	a.t1 = 1700001000;
	a.t2 = 0;
	CHECK(on_writer(&st, w_quarantine_user, &a) == STORE_OK);
	CHECK(on_writer(&st, w_user_delete, &a) == STORE_OK);
	name_skeleton("idalice", 7, skel);
	at = 0;
	CHECK(st.be->name_clash(&st, 0, skel, 1700000500, clash, &at) ==
	    STORE_RESTING && at == 1700001000 &&
	    strcmp(clash, "idalice") == 0);
	/* A rest that ended before since is no clash. */
	CHECK(st.be->name_clash(&st, 0, skel, 1700002000, clash, &at) ==
	    STORE_OK);
	at = 0;
	CHECK(st.be->kid_clash(&st, 0, kid_of("q", 0), bo.id, 1700000500,
	    &at) == STORE_RESTING && at == 1700001000);
	CHECK(st.be->kid_clash(&st, 0, kid_of("q", 0), bo.id, 1700002000,
	    &at) == STORE_OK);

	/* A withdrawn key id rests too. */
	k = make_key(kid_of("q", 1), "p");
	memset(&a, 0, sizeof(a));
	a.a = bo.id;
	a.b = kid_of("q", 1);
	a.k = &k;
	CHECK(on_writer(&st, w_key_put, &a) == STORE_OK);
	a.t1 = 1700003000;
	a.t2 = 0;
	CHECK(on_writer(&st, w_quarantine_key, &a) == STORE_OK);
	CHECK(on_writer(&st, w_key_delete, &a) == STORE_OK);
	at = 0;
	CHECK(st.be->kid_clash(&st, 0, kid_of("q", 1), look.id, 1700002500,
	    &at) == STORE_RESTING && at == 1700003000);

	/* Rows of rests that ended before purge_before go. */
	memset(&a, 0, sizeof(a));
	a.a = look.id;
	a.t1 = 1700004000;
	a.t2 = 1700002000;	/* idalice's rest (1700001000) ends */
	CHECK(on_writer(&st, w_quarantine_user, &a) == STORE_OK);
	CHECK(st.be->name_clash(&st, 0, skel, 0, clash, &at) == STORE_OK);
	CHECK(st.be->kid_clash(&st, 0, kid_of("q", 0), bo.id, 0, &at) ==
	    STORE_OK);
}

/* ---- two stores on one database (several servers, issue 12) ---- */

/* What one store writes, the other reads at once; and the quota of a
 * mailbox counts what the other stored and deleted, though each writer
 * keeps its own memory of the usage. */
static void
test_two_stores(void)
{
	struct store two;
	struct store_user al, bo, got;
	struct store_message_list l = { 0 };
	struct report rep = { 0 };
	struct args a = { 0 };
	const char *del[3];
	size_t i, n = 0;
	int64_t v = -1;

	memset(&two, 0, sizeof(two));
	if (store_open(&two, cur->be, cur->where, &rep) != 0) {
		CHECKF(0, "%s: a second store on %s: %s", cur->label,
		    cur->where, report_message(&rep));
		store_close(&two);
		return;
	}
	CHECK(add_user(&st, "two-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "two-bob", &bo) == STORE_OK);
	CHECK(two.be->user_by_name(&two, "two-bob", &got) == STORE_OK &&
	    strcmp(got.id, bo.id) == 0);
	/* A sign-out through one is seen by the other (T4). */
	a.a = bo.id;
	a.out = &v;
	CHECK(on_writer(&st, w_user_revoke, &a) == STORE_OK && v == 1);
	CHECK(two.be->user_by_id(&two, bo.id, &got) == STORE_OK &&
	    got.token_version == 1);
	/* Filled through st, emptied through two: st stores again. */
	for (i = 0; i < 3; i++)
		CHECK(put_within(&st, &al, &bo, 10, 3, 1000, 0) == STORE_OK);
	CHECK(put_within(&st, &al, &bo, 10, 3, 1000, 0) == STORE_FULL);
	CHECK(two.be->messages(&two, bo.id, NULL, NULL, 10, &l) ==
	    STORE_OK && l.n == 3);
	for (i = 0; i < 3 && i < l.n; i++)
		del[i] = l.v[i].id;
	memset(&a, 0, sizeof(a));
	a.a = bo.id;
	a.ids = del;
	a.n1 = l.n < 3 ? l.n : 3;
	a.count = &n;
	CHECK(on_writer(&two, w_messages_delete, &a) == STORE_OK && n == 3);
	store_message_list_free(&l);
	CHECK(put_within(&st, &al, &bo, 10, 3, 1000, 0) == STORE_OK);
	/* Filled through two: st refuses the fourth. */
	CHECK(put_within(&two, &al, &bo, 10, 3, 1000, 0) == STORE_OK);
	CHECK(put_within(&two, &al, &bo, 10, 3, 1000, 0) == STORE_OK);
	CHECK(put_within(&st, &al, &bo, 10, 3, 1000, 0) == STORE_FULL);
	CHECK(st.be->messages(&st, bo.id, NULL, NULL, 10, &l) == STORE_OK &&
	    l.n == 3);
	store_message_list_free(&l);
	store_close(&two);
}

/* What a listening store heard (test_listen_others): each user's
 * notifications, counted under a lock (the listener's thread). */
struct heard {
	pthread_mutex_t lock;
	const char *a, *b;
	int na, nb;
};

static void
heard_one(void *arg, const char *user_id)
{
	struct heard *h = arg;

	pthread_mutex_lock(&h->lock);
	if (strcmp(user_id, h->a) == 0)
		h->na++;
	else if (strcmp(user_id, h->b) == 0)
		h->nb++;
	pthread_mutex_unlock(&h->lock);
}

/* Whether h has heard b more than nb times, waited for up to 10 s. */
static int
heard_b(struct heard *h, int nb)
{
	struct timespec ms10 = { 0, 10000000 };
	int i, n;

	for (i = 0; i < 1000; i++) {
		pthread_mutex_lock(&h->lock);
		n = h->nb;
		pthread_mutex_unlock(&h->lock);
		if (n > nb)
			return 1;
		nanosleep(&ms10, NULL);
	}
	return 0;
}

/* A store hears of the messages another stores (its receivers woken),
 * not of its own: the server has woken those already. The
 * notifications come in the order of their commits, so the mark stored
 * through the other after one's own is heard after it would have been. */
static void
test_listen_others(void)
{
	struct store two;
	struct store_user al, bo, ca;
	struct report rep = { 0 };
	struct heard h;
	int i, nb, up = 0;

	if (cur->be->listen == NULL)
		return;		/* one process only (SQLite) */
	memset(&two, 0, sizeof(two));
	if (store_open(&two, cur->be, cur->where, &rep) != 0) {
		CHECKF(0, "%s: a second store on %s: %s", cur->label,
		    cur->where, report_message(&rep));
		store_close(&two);
		return;
	}
	CHECK(add_user(&st, "listen-alice", &al) == STORE_OK);
	CHECK(add_user(&st, "listen-bob", &bo) == STORE_OK);
	CHECK(add_user(&st, "listen-carol", &ca) == STORE_OK);
	memset(&h, 0, sizeof(h));
	pthread_mutex_init(&h.lock, NULL);
	h.a = bo.id;
	h.b = ca.id;
	CHECK(store_listen(&st, heard_one, &h, &rep) == 0);
	/* Listening once one of the other's is heard (its connection is
	 * made by its own thread). */
	for (i = 0; i < 20 && !up; i++) {
		CHECK(put_within(&two, &al, &ca, 4, 1000, 100000, 0) ==
		    STORE_OK);
		up = heard_b(&h, 0);
	}
	CHECK(up);
	CHECK(put_within(&st, &al, &bo, 4, 1000, 100000, 0) == STORE_OK);
	pthread_mutex_lock(&h.lock);
	nb = h.nb;
	pthread_mutex_unlock(&h.lock);
	CHECK(put_within(&two, &al, &ca, 4, 1000, 100000, 0) == STORE_OK);
	CHECK(heard_b(&h, nb));
	(void)store_listen(&st, NULL, NULL, NULL);
	CHECKF(h.na == 0, "%s: its own message heard %d times", cur->label,
	    h.na);
	pthread_mutex_destroy(&h.lock);
	store_close(&two);
}

/* ---- limits shared by every server (schema 4) ---- */

/* Whether key has no row that means anything: none, or a row of zeros
 * that expired at once (PostgreSQL's limit_get makes one to lock it). */
static int
limit_absent(struct store *s, const char *key)
{
	struct args a = { 0 };
	int rc;

	a.a = key;
	rc = on_writer(s, w_limit_get, &a);
	return rc == STORE_NOT_FOUND || (rc == STORE_OK && a.d == 0 &&
	    a.t2 == 0);
}

static void
test_limit_rows(void)
{
	struct args a = { 0 };
	size_t n = 0;

	CHECK(limit_absent(&st, "rows:none"));
	/* Kept as given: n a fraction, times in milliseconds. */
	a.a = "rows:one";
	a.d = 1.5;
	a.t1 = 1700000000123;
	a.t2 = 1700000004567;
	CHECK(on_writer(&st, w_limit_put, &a) == STORE_OK);
	memset(&a, 0, sizeof(a));
	a.a = "rows:one";
	CHECK(on_writer(&st, w_limit_get, &a) == STORE_OK && a.d == 1.5 &&
	    a.t1 == 1700000000123 && a.t2 == 1700000004567);
	/* Replaced. */
	a.d = 2;
	a.t2 = 1700000009999;
	CHECK(on_writer(&st, w_limit_put, &a) == STORE_OK);
	a.d = 0;
	CHECK(on_writer(&st, w_limit_get, &a) == STORE_OK && a.d == 2 &&
	    a.t2 == 1700000009999);
	/* Swept: only rows expired before now, at most max of them. */
	memset(&a, 0, sizeof(a));
	a.a = "rows:old1";
	a.t2 = 1000;
	CHECK(on_writer(&st, w_limit_put, &a) == STORE_OK);
	a.a = "rows:old2";
	a.t2 = 2000;
	CHECK(on_writer(&st, w_limit_put, &a) == STORE_OK);
	a.a = "rows:later";
	a.t2 = 5000;
	CHECK(on_writer(&st, w_limit_put, &a) == STORE_OK);
	memset(&a, 0, sizeof(a));
	a.t1 = 3000;
	a.n1 = 1;
	a.count = &n;
	CHECK(on_writer(&st, w_limit_sweep, &a) == STORE_OK && n == 1);
	a.n1 = 100;
	CHECK(on_writer(&st, w_limit_sweep, &a) == STORE_OK && n >= 1);
	CHECK(limit_absent(&st, "rows:old1") && limit_absent(&st,
	    "rows:old2"));
	memset(&a, 0, sizeof(a));
	a.a = "rows:later";
	CHECK(on_writer(&st, w_limit_get, &a) == STORE_OK && a.t2 == 5000);
	a.a = "rows:one";
	CHECK(on_writer(&st, w_limit_get, &a) == STORE_OK && a.d == 2);
}

/* A job's last statements may be answered only at its end (PostgreSQL
 * sends them with the next statement that needs an answer): what they
 * say is still the job's result, and a job they refuse leaves nothing. */
static void
test_job_end(void)
{
	struct store_user u;
	struct args a = { 0 };

	CHECK(add_user(&st, "jobend-alice", &u) == STORE_OK);
	a.a = "jobend:count";
	a.d = 3;
	a.t1 = 1000;
	a.t2 = store_limit_now_ms() + 3600000;
	/* The user gone: STORE_NOT_FOUND, the count not kept. */
	a.b = "00000000000000000000000000";
	CHECK(on_writer(&st, w_limit_put_user_lock, &a) == STORE_NOT_FOUND);
	CHECK(limit_absent(&st, "jobend:count"));
	/* The user there: both kept. */
	a.b = u.id;
	CHECK(on_writer(&st, w_limit_put_user_lock, &a) == STORE_OK);
	a.d = 0;
	CHECK(on_writer(&st, w_limit_get, &a) == STORE_OK && a.d == 3);
	/* Refused by the job itself after both: nothing kept either. */
	a.a = "jobend:refused";
	a.d = 4;
	a.refuse = 1;
	CHECK(on_writer(&st, w_limit_put_user_lock, &a) == STORE_CONFLICT);
	CHECK(limit_absent(&st, "jobend:refused"));
}

/* take or give of key under l at now: the result, and the wait. */
static int
limit_at(int give, const struct store_limit *l, const char *key,
    int64_t now, unsigned *wait)
{
	struct args a = { 0 };
	int rc;

	a.l = l;
	a.a = key;
	a.t1 = now;
	rc = on_writer(&st, give ? w_limit_give : w_limit_take, &a);
	*wait = a.wait;
	return rc;
}

static void
test_limit_rules(void)
{
	const struct store_limit rate = { STORE_LIMIT_RATE, 1, 3, 0, 0, 0 },
	    win = { STORE_LIMIT_WINDOW, 0, 0, 2, 10, 0 },
	    back = { STORE_LIMIT_BACKOFF, 0, 0, 2, 8, 1 };
	const int64_t t0 = 1700000000000;
	struct args a = { 0 };
	unsigned w;
	int i;

	/* A rate: a burst of 3, then one a second; a token given back is
	 * there again. */
	for (i = 0; i < 3; i++)
		CHECK(limit_at(0, &rate, "rule:rate", t0, &w) == STORE_OK);
	CHECK(limit_at(0, &rate, "rule:rate", t0, &w) == STORE_LIMITED &&
	    w == 1);
	CHECK(limit_at(0, &rate, "rule:rate", t0 + 1000, &w) == STORE_OK);
	CHECK(limit_at(0, &rate, "rule:rate", t0 + 1000, &w) ==
	    STORE_LIMITED);
	CHECK(limit_at(1, &rate, "rule:rate", t0 + 1000, &w) == STORE_OK);
	CHECK(limit_at(0, &rate, "rule:rate", t0 + 1000, &w) == STORE_OK);
	/* Full again after 3 s: a burst again. */
	for (i = 0; i < 3; i++)
		CHECK(limit_at(0, &rate, "rule:rate", t0 + 4000, &w) ==
		    STORE_OK);
	CHECK(limit_at(0, &rate, "rule:rate", t0 + 4000, &w) ==
	    STORE_LIMITED);

	/* A window: 2 counts per 10 s from the first; the wait is what is
	 * left of it. */
	CHECK(limit_at(0, &win, "rule:win", t0, &w) == STORE_OK);
	CHECK(limit_at(0, &win, "rule:win", t0 + 2000, &w) == STORE_OK);
	CHECK(limit_at(0, &win, "rule:win", t0 + 2000, &w) ==
	    STORE_LIMITED && w == 8);
	CHECK(limit_at(0, &win, "rule:win", t0 + 9500, &w) ==
	    STORE_LIMITED && w == 1);
	/* A count given back makes room in the same window. */
	CHECK(limit_at(1, &win, "rule:win", t0 + 9500, &w) == STORE_OK);
	CHECK(limit_at(0, &win, "rule:win", t0 + 9500, &w) == STORE_OK);
	CHECK(limit_at(0, &win, "rule:win", t0 + 10000, &w) == STORE_OK);
	CHECK(limit_at(0, &win, "rule:win", t0 + 10000, &w) == STORE_OK);
	CHECK(limit_at(0, &win, "rule:win", t0 + 10000, &w) ==
	    STORE_LIMITED && w == 10);

	/* A backoff: 2 free, then 1 s from the last, doubled, at most 8. */
	CHECK(limit_at(0, &back, "rule:back", t0, &w) == STORE_OK);
	CHECK(limit_at(0, &back, "rule:back", t0, &w) == STORE_OK);
	CHECK(limit_at(0, &back, "rule:back", t0 + 500, &w) ==
	    STORE_LIMITED && w == 1);
	CHECK(limit_at(0, &back, "rule:back", t0 + 1000, &w) == STORE_OK);
	CHECK(limit_at(0, &back, "rule:back", t0 + 2000, &w) ==
	    STORE_LIMITED && w == 1);
	CHECK(limit_at(0, &back, "rule:back", t0 + 3000, &w) == STORE_OK);
	CHECK(limit_at(0, &back, "rule:back", t0 + 3000, &w) ==
	    STORE_LIMITED && w == 4);
	CHECK(limit_at(0, &back, "rule:back", t0 + 7000, &w) == STORE_OK);
	CHECK(limit_at(0, &back, "rule:back", t0 + 7000, &w) ==
	    STORE_LIMITED && w == 8);
	CHECK(limit_at(0, &back, "rule:back", t0 + 15000, &w) == STORE_OK);
	CHECK(limit_at(0, &back, "rule:back", t0 + 15000, &w) ==
	    STORE_LIMITED && w == 8);
	/* Cleared (a success): free again at once. */
	a.a = "rule:back";
	CHECK(on_writer(&st, w_limit_clear, &a) == STORE_OK);
	CHECK(limit_at(0, &back, "rule:back", t0 + 15000, &w) == STORE_OK);
	/* Forgotten twice the longest wait after the last. */
	CHECK(limit_at(0, &back, "rule:back", t0 + 15000, &w) == STORE_OK);
	CHECK(limit_at(0, &back, "rule:back", t0 + 15000, &w) ==
	    STORE_LIMITED);
	CHECK(limit_at(0, &back, "rule:back", t0 + 31000, &w) == STORE_OK);
	CHECK(limit_at(0, &back, "rule:back", t0 + 31000, &w) == STORE_OK);
}

struct limit_taker {
	struct store *s;
	const struct store_limit *l;
	int64_t now;
	int ok, other;
};

static void *
limit_taker(void *arg)
{
	struct limit_taker *t = arg;
	struct args a = { 0 };
	int i, rc;

	for (i = 0; i < 10; i++) {
		memset(&a, 0, sizeof(a));
		a.l = t->l;
		a.a = "conc:sender";
		a.t1 = t->now;
		rc = on_writer(t->s, w_limit_take, &a);
		if (rc == STORE_OK)
			t->ok++;
		else if (rc != STORE_LIMITED)
			t->other++;
	}
	return NULL;
}

/* Two stores on one database (two servers), 4 threads each taking from
 * one bucket of 25 at once: exactly 25 pass, whoever counted them. */
static void
test_limit_two_stores(void)
{
	const struct store_limit rate = { STORE_LIMIT_RATE, 0.001, 25, 0, 0,
		0 };
	struct limit_taker t[8];
	struct store two;
	int i, ok = 0, other = 0;

	if (open_second(&two) != 0)
		return;
	for (i = 0; i < 8; i++)
		t[i] = (struct limit_taker){ i % 2 ? &two : &st, &rate,
			store_limit_now_ms(), 0, 0 };
	run_threads(limit_taker, t, sizeof(t[0]), 8);
	for (i = 0; i < 8; i++) {
		ok += t[i].ok;
		other += t[i].other;
	}
	CHECKF(ok == 25 && other == 0, "%d passed, %d failed otherwise", ok,
	    other);
	store_close(&two);
}

/* ---- what stays across a restart ---- */

static void
test_reopen(void)
{
	struct store_user u, got;
	struct store_message_list l = { 0 };
	struct store_user to;

	CHECK(add_user(&st, "reopen-alice", &u) == STORE_OK);
	CHECK(add_user(&st, "reopen-bob", &to) == STORE_OK);
	CHECK(put_message(&st, &u, &to, "kept", NULL) == STORE_OK);
	close_store();
	open_store();
	if (!opened)
		return;
	CHECK(st.be->user_by_name(&st, "reopen-alice", &got) == STORE_OK &&
	    strcmp(got.id, u.id) == 0);
	CHECK(st.be->messages(&st, to.id, NULL, NULL, 10, &l) == STORE_OK &&
	    l.n == 1 && l.v[0].body_len == 4 &&
	    memcmp(l.v[0].body, "kept", 4) == 0);
	store_message_list_free(&l);
}

static void
run_suite(const struct backend *b)
{
	printf("store conformance: %s (%s)\n", b->label, b->be->name);
	cur = b;
	open_store();
	if (!opened)
		return;
	RUN(test_users);
	RUN(test_user_hashes);
	RUN(test_messages);
	RUN(test_messages_for);
	RUN(test_take_and_delete);
	RUN(test_delete_cascades);
	RUN(test_quota);
	RUN(test_quota_concurrent);
	RUN(test_counters);
	RUN(test_counters_two_stores);
	RUN(test_readers_concurrent);
	RUN(test_group_commit);
	RUN(test_sends_batched);
	RUN(test_store_send);
	RUN(test_store_send_refill);
	RUN(test_store_send_linger);
	RUN(test_store_send_refused_after);
	RUN(test_store_send_revoked);
	RUN(test_store_send_two_stores);
	RUN(test_meta);
	RUN(test_keys);
	RUN(test_identity);
	RUN(test_prekeys);
	RUN(test_prekey_claims_concurrent);
	RUN(test_two_stores);
	RUN(test_listen_others);
	RUN(test_limit_rows);
	RUN(test_job_end);
	RUN(test_limit_rules);
	RUN(test_limit_two_stores);
	RUN(test_reopen);
	close_store();
}

int
main(void)
{
	struct backend b;
	const char *pg;

	harness_tmpdir("store", tmpdir, sizeof(tmpdir));
	memset(&b, 0, sizeof(b));
	b.label = "SQLite";
	b.be = &store_sqlite;
	snprintf(b.where, sizeof(b.where), "%s/conformance.db", tmpdir);
	run_suite(&b);
	/* PostgreSQL: an empty database of a throwaway cluster (make
	 * check-pg names it). */
	pg = getenv("E2E_TEST_STORE_PG_URL");
	if (pg != NULL && *pg != '\0') {
		memset(&b, 0, sizeof(b));
		b.label = "PostgreSQL";
		b.be = store_backend_for(pg);
		snprintf(b.where, sizeof(b.where), "%s", pg);
		CHECKF(b.be != &store_sqlite, "%s is not PostgreSQL's", pg);
		run_suite(&b);
	}
	harness_rmtree(tmpdir);
	return harness_end();
}
