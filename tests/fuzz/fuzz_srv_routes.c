/*
 * fuzz_srv_routes.c - e2e-server's request handling on arbitrary
 * requests, in process, without libmicrohttpd and without sockets: each
 * request goes through the HTTP layer's real steps (route, limits,
 * token, body, dispatch, the routes' handlers and continuations, the
 * completion) by httpd.h's test seam, against a real SQLite store in a
 * temporary file, made afresh for every input with two accounts and a
 * message, so that an input replays the same way.
 *
 * Input: one to MAX_REQUESTS requests, separated by a line "%%". A
 * request is a line "METHOD TARGET [PEER]" (TARGET: the path and query
 * as sent; PEER: the client's address, 127.0.0.1 when absent; one in
 * 10.0.0.0/8 or fd00::/8 is a trusted proxy), header
 * lines "Name: value" (a value may hold any byte but a newline), an
 * empty line, then the body. A '\r' before a newline is dropped. In the
 * target, header values and the body, these stand for what the fuzzer
 * cannot guess:
 *   @T1@ @T2@  a valid token of alice, of bob
 *   @TO@       alice's token of an older version (signed out since: T4)
 *   @TE@       alice's token, expired
 *   @TX@       a token, well signed, of an account that does not exist
 *   @I1@ @I2@  alice's and bob's ids
 *   @M1@       the id of the message from bob to alice
 *   @KP@       a key entry of PUT /keys for alice, {"pem", "proof"},
 *              its proof valid (a key made for the run)
 *   @KD@       that key's id
 *   @PS@ @P1@ @P2@  PUT /prekeys entries {"x", "proof"} for that key,
 *              their proofs valid: a signed prekey, two one-time ones
 *   @PL@       one whose x is a low-order point (u = 1), its proof
 *              valid: refused all the same
 *   @L@        the body's length (for Content-Length)
 *
 * Properties: no crash, leak or sanitizer finding; every request ends
 * (a suspended request is resumed within a bound: no hang); the answer's
 * status is one the server documents, never 500; a refusal is JSON, and
 * a JSON answer parses, an error's as {"error": "..."} (also when the
 * request's bytes are not UTF-8); 405 names the allowed methods, 429
 * says when to retry; no answer holds a password hash.
 *
 * Not reached: a waiting receiver woken by a message (requests run one
 * at a time, so no message comes while one waits: a long-poll ends by
 * its client's hang-up after HANGUP_MS, or by the poll), and what needs
 * several connections at once (per-address counts, the body budget
 * under contention, a full bcrypt queue, a sign-in waiting its turn);
 * libmicrohttpd's own parsing (the request line, header syntax, chunked
 * coding), which the seam starts after; the PostgreSQL backend.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rsa.h>

#include "format/crypto.h"
#include "format/jwk.h"
#include "format/keyfile.h"
#include "format/keyproof.h"
#include "format/prekeyproof.h"
#include "../unit/srv_fixture.h"
#include "fuzz.h"
#include "server/httpd.h"

#define NOW SRV_FIXTURE_NOW
#define MAX_REQUESTS 8
#define MAX_HEADERS 64
#define HANGUP_MS 20
#define PASSWORD SRV_FIXTURE_PASSWORD
#define PUBLIC_URL SRV_FIXTURE_URL

static char dir[64];
static char db[sizeof(dir) + 16];
static char hash[STORE_HASH_MAX + 1];
static char msg_id[STORE_ID_LEN + 1];
static const char alice_id[] = "0123456789ABCDEFGHJKMNPQRA";
static const char bob_id[] = "0123456789ABCDEFGHJKMNPQRB";
static const char nobody_id[] = "0123456789ABCDEFGHJKMNPQRZ";
static char *key_entry;
static char kid[KID_SIZE];
/* The prekey entries @PS@ @P1@ @P2@ @PL@. */
static char *prekey_entry[4];

/* The values of the markers, for the input being run. */
struct marks {
	char *t1, *t2, *to, *te, *tx;
};

static void
remove_db(void)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
	char path[sizeof(db) + 16];
	size_t i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", db, ext[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			abort();
	}
}

static void
cleanup(void)
{
	remove_db();
	(void)rmdir(dir);
}

/* A PUT /prekeys entry {"x", "proof"} of kind for x, made by pk. */
static char *
prekey(EVP_PKEY *pk, int kind, const char *x)
{
	struct buf proof = BUF_INIT;
	struct report rep = { 0 };
	json_t *e;
	char *s;

	if (prekeyproof_make(pk, alice_id, "alice", PUBLIC_URL, NOW, kind, x,
	    &proof, &rep) != 0)
		abort();
	e = json_pack("{s:s,s:s}", "x", x, "proof", (const char *)proof.p);
	if (e == NULL || (s = json_dumps(e, JSON_COMPACT)) == NULL)
		abort();
	json_decref(e);
	buf_free(&proof);
	return s;
}

/* A key of alice's, its PUT /keys entry with a valid proof, and
 * prekeys for it. */
static void
make_key(void)
{
	struct buf pem = BUF_INIT, proof = BUF_INIT;
	struct report rep = { 0 };
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	json_t *e;

	if (pk == NULL || keyfile_public_pem(pk, &pem, &rep) != 0 ||
	    jwk_thumbprint(pk, kid, &rep) != 0 ||
	    keyproof_make(pk, alice_id, "alice", PUBLIC_URL, NOW, &proof,
	    &rep) != 0 || buf_append(&pem, "", 1) != 0)
		abort();
	e = json_pack("{s:s,s:s}", "pem", (const char *)pem.p, "proof",
	    (const char *)proof.p);
	if (e == NULL || (key_entry = json_dumps(e, JSON_COMPACT)) == NULL)
		abort();
	json_decref(e);
	/* RFC 7748 section 6.1's public keys, one of RFC 8037's, and u = 1
	 * (low order). */
	prekey_entry[0] = prekey(pk, PREKEY_SIGNED,
	    "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo");
	prekey_entry[1] = prekey(pk, PREKEY_ONE_TIME,
	    "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08");
	prekey_entry[2] = prekey(pk, PREKEY_ONE_TIME,
	    "iSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo");
	prekey_entry[3] = prekey(pk, PREKEY_ONE_TIME,
	    "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	buf_free(&pem);
	buf_free(&proof);
	EVP_PKEY_free(pk);
}

static void
setup(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	/* In memory where there is a tmpfs: a database made and synced per
	 * input costs a few milliseconds there, ten times that on a disk. */
	snprintf(dir, sizeof(dir), "%s/fuzz-srv-routes-XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(db, sizeof(db), "%s/e2e.db", dir);
	atexit(cleanup);
	if (auth_password_hash(PASSWORD, strlen(PASSWORD), 4, hash) != 0 ||
	    store_new_ordered_id(msg_id) != 0 || !store_is_id(alice_id) ||
	    !store_is_id(bob_id))
		abort();
	crypto_test_set_now(NOW);
	make_key();
}

struct fill {
	struct store_job job;
	int rc;
};

static int
fill_run(struct store *s, struct store_job *j)
{
	struct store_user u;
	struct store_message m;
	int rc;

	(void)j;
	memset(&u, 0, sizeof(u));
	memcpy(u.id, alice_id, sizeof(alice_id));
	snprintf(u.name, sizeof(u.name), "alice");
	memcpy(u.hash, hash, sizeof(u.hash));
	u.token_version = 1;
	u.created_at = NOW;
	if ((rc = s->be->user_create(s, &u)) != STORE_OK)
		return rc;
	memcpy(u.id, bob_id, sizeof(bob_id));
	snprintf(u.name, sizeof(u.name), "bob");
	u.token_version = 0;
	if ((rc = s->be->user_create(s, &u)) != STORE_OK)
		return rc;
	memset(&m, 0, sizeof(m));
	memcpy(m.id, msg_id, sizeof(msg_id));
	snprintf(m.from, sizeof(m.from), "bob");
	memcpy(m.from_id, bob_id, sizeof(bob_id));
	snprintf(m.to, sizeof(m.to), "alice");
	m.sent_at = NOW;
	m.body = (char *)"hello alice";
	m.body_len = strlen(m.body);
	return s->be->message_put(s, &m, alice_id);
}

static void
fill_done(struct store_job *j, int result)
{
	(void)j;
	(void)result;
}

static char *
token(struct server *s, const char *id, const char *name, int64_t version,
    int64_t at)
{
	struct store_user u;
	char *t = NULL;
	int64_t exp;

	memset(&u, 0, sizeof(u));
	snprintf(u.id, sizeof(u.id), "%s", id);
	snprintf(u.name, sizeof(u.name), "%s", name);
	u.token_version = version;
	if (auth_token_issue(&s->keys, &u, at, &t, &exp) != 0)
		abort();
	return t;
}

static struct server *
open_server(struct marks *mk)
{
	static const char *const proxies[] = { "10.0.0.0/8", "fd00::/8" };
	struct server_config c;
	struct server *s;
	struct fill f = { { fill_run, fill_done, NULL }, 0 };

	remove_db();
	srv_fixture_config(&c, db);
	/* The request log (hostile paths escaped) with FUZZ_SRV_LOG set:
	 * for a fuzzing run (-close_fd_mask=2 keeps its lines away), not
	 * for the corpus replayed in make unit. */
	c.quiet = getenv("FUZZ_SRV_LOG") == NULL;
	c.signin_queue = 8;
	c.max_message = 64 * 1024;
	c.max_wait = 2;
	c.poll_interval = 5;
	c.max_connections = 64;
	c.mailbox_max_messages = 4;
	c.mailbox_max_bytes = 4096;
	c.send_burst = 4;
	c.signin_name_limit = 2;
	c.signin_backoff = 1;
	c.signup_addr_limit = 4;
	c.max_body_memory = 256 * 1024;
	c.max_answer_bytes = 2048;
	/* A peer in these is a proxy: its X-Forwarded-For and X-Real-IP
	 * name the client. */
	c.trusted_proxies = proxies;
	c.ntrusted_proxies = sizeof(proxies) / sizeof(proxies[0]);
	if ((s = srv_fixture_open(&c, "fuzz_srv_routes")) == NULL)
		abort();
	if (store_run(&s->store, &f.job) != STORE_OK)
		abort();
	mk->t1 = token(s, alice_id, "alice", 1, NOW);
	mk->t2 = token(s, bob_id, "bob", 0, NOW);
	mk->to = token(s, alice_id, "alice", 0, NOW);
	mk->te = token(s, alice_id, "alice", 1, NOW - 2 * c.token_ttl);
	mk->tx = token(s, nobody_id, "nobody", 0, NOW);
	return s;
}

static void
close_server(struct server *s, struct marks *mk)
{
	httpd_test_close(s);
	free(mk->t1);
	free(mk->t2);
	free(mk->to);
	free(mk->te);
	free(mk->tx);
}

/* The value of the 4-byte marker at p, or NULL. */
static const char *
mark_value(const struct marks *mk, const uint8_t *p)
{
	static const char *const marks[] = { "@T1@", "@T2@", "@TO@", "@TE@",
		"@TX@", "@I1@", "@I2@", "@M1@", "@KD@", "@KP@", "@PS@", "@P1@",
		"@P2@", "@PL@" };
	const char *const values[] = { mk->t1, mk->t2, mk->to, mk->te, mk->tx,
		alice_id, bob_id, msg_id, kid, key_entry, prekey_entry[0],
		prekey_entry[1], prekey_entry[2], prekey_entry[3] };
	size_t i;

	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (memcmp(p, marks[i], 4) == 0)
			return values[i];
	return NULL;
}

/* p[0..n) with the markers replaced, into out (NUL-terminated). */
static void
expand(const struct marks *mk, const uint8_t *p, size_t n, size_t body_len,
    struct buf *out)
{
	char len[24];
	const char *v;
	size_t i, k;

	buf_clear(out);
	for (i = 0; i < n; i += k) {
		v = NULL;
		k = 1;
		if (p[i] == '@' && n - i >= 3 && memcmp(p + i, "@L@", 3) == 0) {
			snprintf(len, sizeof(len), "%zu", body_len);
			v = len;
			k = 3;
		} else if (p[i] == '@' && n - i >= 4 &&
		    (v = mark_value(mk, p + i)) != NULL) {
			k = 4;
		}
		if (v == NULL)
			v = (const char *)p + i;
		if (buf_append(out, v, k == 1 ? 1 : strlen(v)) != 0)
			abort();
	}
	if (buf_append(out, "", 1) != 0)
		abort();
	out->len--;
}

/* The next line of p[*at..n): its start and length (no '\n', no final
 * '\r'); *at moves past it. Returns 0 at the end. */
static int
next_line(const uint8_t *p, size_t n, size_t *at, const uint8_t **line,
    size_t *len)
{
	const uint8_t *nl;

	if (*at >= n)
		return 0;
	*line = p + *at;
	nl = memchr(*line, '\n', n - *at);
	*len = nl != NULL ? (size_t)(nl - *line) : n - *at;
	*at += *len + (nl != NULL);
	if (*len > 0 && (*line)[*len - 1] == '\r')
		(*len)--;
	return 1;
}

/* A C string of p[0..n), cut at a NUL as a C caller would see it. */
static char *
cstr(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static int
status_known(unsigned st)
{
	static const unsigned known[] = { 200, 204, 400, 403, 404, 405, 409,
		413, 429, 499, 503, 507 };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (st == known[i])
			return 1;
	return 0;
}

static void
check_answer(const struct httpd_test_answer *a)
{
	json_t *v;
	json_error_t e;

	/* 0: the connection dropped (a body that stalled, or far too
	 * large). */
	if (a->status == 0)
		return;
	FUZZ_ASSERT(status_known(a->status));
	/* Every refusal says why, in JSON. */
	if (a->status >= 400)
		FUZZ_ASSERT(strcmp(a->type, "application/json") == 0);
	if (strcmp(a->type, "application/json") == 0) {
		v = json_loadb((const char *)a->body.p, a->body.len,
		    JSON_REJECT_DUPLICATES, &e);
		FUZZ_ASSERT(v != NULL && json_is_object(v));
		if (a->status >= 400 && a->status != 503)
			FUZZ_ASSERT(json_is_string(json_object_get(v,
			    "error")));
		json_decref(v);
	}
	if (a->status == 405)
		FUZZ_ASSERT(a->allow[0] != '\0');
	if (a->status == 429)
		FUZZ_ASSERT(a->retry_after[0] != '\0');
	/* Never a stored hash. */
	FUZZ_ASSERT(a->body.len == 0 || (memmem(a->body.p, a->body.len,
	    "$2b$", 4) == NULL && memmem(a->body.p, a->body.len, "$2a$",
	    4) == NULL));
}

/* Runs the request p[0..n) on s. */
static void
run_one(struct server *s, const struct marks *mk, const uint8_t *p, size_t n)
{
	struct httpd_test_header h[MAX_HEADERS];
	struct httpd_test_request rq;
	struct httpd_test_answer a;
	struct buf target = BUF_INIT, body = BUF_INIT, vals[MAX_HEADERS];
	const uint8_t *line, *sp, *colon, *first, *lines[MAX_HEADERS];
	size_t at = 0, len, first_len, lens[MAX_HEADERS], i, nh = 0, nl = 0, k;
	char *method, *peer = NULL, *names[MAX_HEADERS];

	memset(&rq, 0, sizeof(rq));
	if (!next_line(p, n, &at, &first, &first_len))
		return;
	/* The headers up to an empty line; the body after it (first, for
	 * @L@ in a header is its length). */
	while (next_line(p, n, &at, &line, &len) && len > 0)
		if (nl < MAX_HEADERS) {
			lines[nl] = line;
			lens[nl++] = len;
		}
	expand(mk, p + at, n - at, 0, &body);
	sp = memchr(first, ' ', first_len);
	method = cstr(first, sp != NULL ? (size_t)(sp - first) : first_len);
	if (sp != NULL) {
		line = sp + 1;
		len = first_len - (size_t)(line - first);
		sp = memchr(line, ' ', len);
		expand(mk, line, sp != NULL ? (size_t)(sp - line) : len,
		    body.len, &target);
		if (sp != NULL)
			peer = cstr(sp + 1, len - (size_t)(sp + 1 - line));
	} else {
		expand(mk, (const uint8_t *)"/", 1, 0, &target);
	}
	for (i = 0; i < nl; i++) {
		line = lines[i];
		len = lens[i];
		if ((colon = memchr(line, ':', len)) == NULL)
			continue;
		names[nh] = cstr(line, (size_t)(colon - line));
		/* As libmicrohttpd: the value without its leading blanks. */
		k = (size_t)(colon + 1 - line);
		while (k < len && (line[k] == ' ' || line[k] == '\t'))
			k++;
		vals[nh] = (struct buf)BUF_INIT;
		expand(mk, line + k, len - k, body.len, &vals[nh]);
		h[nh].name = names[nh];
		h[nh].value = (const char *)vals[nh].p;
		h[nh].value_len = vals[nh].len;
		nh++;
	}
	rq.method = method;
	/* The target as a C string: cut at a NUL, as on_request sees it. */
	rq.target = (const char *)target.p;
	rq.headers = h;
	rq.nheaders = nh;
	rq.body = body.p;
	rq.body_len = body.len;
	rq.peer = peer != NULL ? peer : "127.0.0.1";
	rq.hangup_ms = HANGUP_MS;
	/* A hang is a finding: the request cannot be left behind. */
	FUZZ_ASSERT(httpd_test_run(s, &rq, &a) == 0);
	/* FUZZ_SHOW=1: each answer on stderr, to write seeds by. */
	if (getenv("FUZZ_SHOW") != NULL)
		fprintf(stderr, "%s %s -> %u %.*s\n", method, rq.target,
		    a.status, (int)(a.body.len > 300 ? 300 : a.body.len),
		    a.body.p != NULL ? (const char *)a.body.p : "");
	check_answer(&a);
	httpd_test_answer_free(&a);
	for (i = 0; i < nh; i++) {
		free(names[i]);
		buf_free(&vals[i]);
	}
	buf_free(&target);
	buf_free(&body);
	free(method);
	free(peer);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n%%\n";
	struct server *s;
	struct marks mk;
	const uint8_t *end;
	size_t at = 0, n;
	int i;

	setup();
	s = open_server(&mk);
	for (i = 0; i < MAX_REQUESTS && at < size; i++) {
		end = memmem(data + at, size - at, sep, sizeof(sep) - 1);
		n = end != NULL ? (size_t)(end - (data + at)) : size - at;
		run_one(s, &mk, data + at, n);
		at += n + (end != NULL ? sizeof(sep) - 1 : 0);
	}
	close_server(s, &mk);
	return 0;
}
