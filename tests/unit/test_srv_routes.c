/*
 * The server's request handling without libmicrohttpd (httpd.h's test
 * seam, which tests/fuzz/fuzz_srv_routes.c drives): that a request run
 * through it meets the real routing, limits, token checks, handlers and
 * continuations and gives their answers, so that the fuzz target cannot
 * quietly test nothing; and the regressions the fuzzer found.
 * server_routes.bats drives the same routes through a real server.
 */
#include "harness.h"

#include "srv_fixture.h"

#define PASSWORD SRV_FIXTURE_PASSWORD

static struct server *srv;
static char dir[512];
static char *alice_token;

static unsigned
run(const char *method, const char *target, const char *const *hdrs,
    const char *body, struct httpd_test_answer *a)
{
	struct httpd_test_header h[8];
	struct httpd_test_request rq;
	char len[24];
	size_t n = 0;
	int has_len = 0;

	memset(&rq, 0, sizeof(rq));
	for (; hdrs != NULL && hdrs[2 * n] != NULL && n < 7; n++) {
		h[n].name = hdrs[2 * n];
		h[n].value = hdrs[2 * n + 1];
		h[n].value_len = strlen(hdrs[2 * n + 1]);
		has_len |= strcmp(h[n].name, "Content-Length") == 0;
	}
	/* A body's length, unless the test says another. */
	if (body != NULL && !has_len) {
		snprintf(len, sizeof(len), "%zu", strlen(body));
		h[n].name = "Content-Length";
		h[n].value = len;
		h[n++].value_len = strlen(len);
	}
	rq.method = method;
	rq.target = target;
	rq.headers = h;
	rq.nheaders = n;
	rq.body = body;
	rq.body_len = body != NULL ? strlen(body) : 0;
	rq.peer = "127.0.0.1";
	rq.hangup_ms = 50;
	CHECK(httpd_test_run(srv, &rq, a) == 0);
	return a->status;
}

/* The status of one request, its answer dropped. */
static unsigned
status_of(const char *method, const char *target, const char *const *hdrs,
    const char *body)
{
	struct httpd_test_answer a;
	unsigned st = run(method, target, hdrs, body, &a);

	httpd_test_answer_free(&a);
	return st;
}

static void
test_open(void)
{
	struct server_config c;
	char db[600];

	harness_tmpdir("srv_routes", dir, sizeof(dir));
	snprintf(db, sizeof(db), "%s/e2e.db", dir);
	srv_fixture_config(&c, db);
	c.max_wait = 5;
	c.max_connections = 16;
	c.max_message = 1024;
	CHECK((srv = srv_fixture_open(&c, "test_srv_routes")) != NULL);
}

static void
test_basic_routes(void)
{
	static const char *const json[] = { "Content-Type",
		"application/json", NULL };
	struct httpd_test_answer a;
	json_t *v;
	const char *t;
	char hdr[4200];

	CHECK(run("GET", "/healthz", NULL, NULL, &a) == 200);
	CHECK(strcmp(a.type, "application/json") == 0);
	httpd_test_answer_free(&a);
	/* The path is decoded as libmicrohttpd's callback decodes it. */
	CHECK(status_of("GET", "/%68ealthz", NULL, NULL) == 200);
	CHECK(status_of("GET", "/nowhere", NULL, NULL) == 404);
	CHECK(run("POST", "/healthz", NULL, NULL, &a) == 405);
	CHECK(strcmp(a.allow, "GET") == 0);
	httpd_test_answer_free(&a);
	/* A sign-up goes through the bcrypt workers and the store's writer
	 * (two suspensions); the sign-in through its turns and the workers
	 * again. */
	CHECK(status_of("POST", "/users/signup", json,
	    "{\"name\":\"alice\",\"password\":\"" PASSWORD "\"}") ==
	    200);
	CHECK(run("POST", "/users/signin", json,
	    "{\"name\":\"alice\",\"password\":\"" PASSWORD "\"}", &a) ==
	    200);
	v = json_loadb((const char *)a.body.p, a.body.len, 0, NULL);
	t = v != NULL ? json_string_value(json_object_get(v, "token")) : NULL;
	CHECK(t != NULL);
	alice_token = t != NULL ? strdup(t) : NULL;
	json_decref(v);
	httpd_test_answer_free(&a);
	if (alice_token == NULL)
		return;
	snprintf(hdr, sizeof(hdr), "Bearer %s", alice_token);
	{
		const char *const auth[] = { "Authorization", hdr, NULL };

		CHECK(run("GET", "/messages?limit=5", auth, NULL, &a) == 200);
		CHECK(a.body.len == 15 && memcmp(a.body.p,
		    "{\"messages\":[]}", 15) == 0);
		httpd_test_answer_free(&a);
		/* Query arguments reach the route, decoded. */
		CHECK(status_of("GET", "/messages?limit=1%300", auth, NULL) ==
		    200);
		CHECK(status_of("GET", "/messages?limit=1001", auth, NULL) ==
		    400);
		CHECK(status_of("GET", "/messages?tok%65n=x", NULL, NULL) ==
		    400);
		/* A long-poll whose client hangs up: sockwatch sees it, and
		 * the request ends as nginx logs it. */
		CHECK(status_of("GET", "/messages?wait=5", auth, NULL) == 499);
	}
	CHECK(status_of("GET", "/messages", NULL, NULL) == 403);
}

/* Found by fuzz_srv_routes: a method that is not UTF-8 got a 405
 * without a body (json_pack refused the message naming it). */
static void
test_error_not_utf8(void)
{
	struct httpd_test_answer a;
	json_t *v;
	const char *e;

	CHECK(run("\xff\xfe", "/healthz", NULL, NULL, &a) == 405);
	CHECK(strcmp(a.type, "application/json") == 0);
	v = json_loadb((const char *)a.body.p, a.body.len, 0, NULL);
	e = v != NULL ? json_string_value(json_object_get(v, "error")) : NULL;
	CHECKF(e != NULL && strcmp(e, "method \xef\xbf\xbd\xef\xbf\xbd "
	    "not allowed here") == 0, "%.*s", (int)a.body.len,
	    a.body.p != NULL ? (const char *)a.body.p : "");
	CHECK(strcmp(a.allow, "GET") == 0);
	json_decref(v);
	httpd_test_answer_free(&a);
}

/* What libmicrohttpd hands over of a body, and early answers. */
static void
test_bodies(void)
{
	static const char *const stalled[] = { "Content-Type",
		"application/json", "Content-Length", "100", NULL };
	static const char *const big[] = { "Content-Type",
		"application/json", "Content-Length", "20000", NULL };
	struct httpd_test_answer a;
	struct httpd_test_header h = { "Content-Type", "a\0b", 3 };
	struct httpd_test_request rq;

	/* Fewer bytes than announced: the client stops, nothing is
	 * answered. */
	CHECK(status_of("POST", "/users/signin", stalled, "{}") == 0);
	/* An announced body over the cap: 413 before it is read, and the
	 * connection closes after it. */
	CHECK(run("POST", "/users/signin", big, "{}", &a) == 413);
	CHECK(a.close);
	httpd_test_answer_free(&a);
	/* A header holding a NUL byte. */
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.target = "/users/signin";
	rq.headers = &h;
	rq.nheaders = 1;
	rq.peer = "127.0.0.1";
	CHECK(httpd_test_run(srv, &rq, &a) == 0);
	CHECK(a.status == 400);
	httpd_test_answer_free(&a);
}

/*
 * Shutdown: once stop has seen no request in flight it stops
 * libmicrohttpd, which aborts if a connection is suspended then (seen in
 * CI: a keep-alive connection's next request came in between). A request
 * begun after that is answered 503 at once, never suspended (a long-poll
 * answered, not waiting for its deadline nor its client's hang-up) and
 * never counted as in flight.
 */
static void
test_closed(void)
{
	struct httpd_test_answer a;
	unsigned before;
	char hdr[4200];

	if (alice_token == NULL)
		return;
	snprintf(hdr, sizeof(hdr), "Bearer %s", alice_token);
	{
		const char *const auth[] = { "Authorization", hdr, NULL };

		pthread_mutex_lock(&srv->active_lock);
		srv->closed = 1;
		before = srv->active;
		pthread_mutex_unlock(&srv->active_lock);
		CHECK(run("GET", "/messages?wait=5", auth, NULL, &a) == 503);
		CHECK(a.body.len > 0 && memmem(a.body.p, a.body.len,
		    "shutting down", 13) != NULL);
		httpd_test_answer_free(&a);
		CHECK(status_of("POST", "/users/signin", NULL,
		    "{\"name\":\"alice\"}") == 503);
		pthread_mutex_lock(&srv->active_lock);
		CHECKF(srv->active == before, "%u in flight, %u before",
		    srv->active, before);
		srv->closed = 0;
		pthread_mutex_unlock(&srv->active_lock);
		CHECK(status_of("GET", "/messages?limit=1", auth, NULL) ==
		    200);
	}
}

/*
 * Only a request of a route that may write is counted under way (the
 * writer waits the commit delay while any is): a GET that only reads,
 * running beside a lone send, would make it wait for nothing (issue
 * 12's notes). a.under_way is the count when the route's handler began.
 */
static void
test_under_way_writes(void)
{
	static const char *const json[] = { "Content-Type",
		"application/json", NULL };
	struct httpd_test_answer a;
	char hdr[4200];

	CHECK(run("GET", "/healthz", NULL, NULL, &a) == 200);
	CHECKF(a.under_way == 0, "GET /healthz: %u under way", a.under_way);
	httpd_test_answer_free(&a);
	CHECK(run("GET", "/metrics", NULL, NULL, &a) == 200);
	CHECKF(a.under_way == 0, "GET /metrics: %u under way", a.under_way);
	httpd_test_answer_free(&a);
	/* A sign-in writes (its throttles' rows). */
	CHECK(run("POST", "/users/signin", json,
	    "{\"name\":\"alice\",\"password\":\"" PASSWORD "\"}", &a) ==
	    200);
	CHECKF(a.under_way == 1, "sign-in: %u under way", a.under_way);
	httpd_test_answer_free(&a);
	if (alice_token == NULL)
		return;
	snprintf(hdr, sizeof(hdr), "Bearer %s", alice_token);
	{
		const char *const auth[] = { "Authorization", hdr, NULL };
		const char *const send[] = { "Authorization", hdr,
			"Content-Type", "application/json", NULL };

		CHECK(run("GET", "/messages?limit=5", auth, NULL, &a) == 200);
		CHECKF(a.under_way == 0, "GET /messages: %u under way",
		    a.under_way);
		httpd_test_answer_free(&a);
		CHECK(run("POST", "/messages", send,
		    "{\"to\":\"alice\",\"message\":\"m\"}", &a) == 200);
		CHECKF(a.under_way == 1, "a send: %u under way", a.under_way);
		httpd_test_answer_free(&a);
		/* Taken back, so that the list above stays empty for the
		 * others. */
		CHECK(status_of("POST", "/messages/getmessage", send,
		    "{\"from\":\"alice\"}") == 200);
	}
}

struct current_job {
	struct store_job job;
	const char *id;
	int64_t version;
};

static int
current_run(struct store *s, struct store_job *j)
{
	struct current_job *c = (struct current_job *)j;

	return store_user_current(s, c->id, c->version);
}

static void
current_done(struct store_job *j, int result)
{
	(void)j;
	(void)result;
}

/*
 * A send's body in, its sender is read again by its job, on the writer,
 * instead of by the request (store_send; on PostgreSQL in the send's
 * own statement, test_srv_store's test_store_send_revoked): the same
 * account at the same token version, or refused. server_conn.bats has
 * the whole of it (an account deleted while its upload was on its
 * way: 403, nothing stored).
 */
static void
test_sender_in_job(void)
{
	struct current_job c = { { current_run, current_done, NULL }, NULL,
		0 };
	struct store_user u;

	CHECK(srv->store.be->user_by_name(&srv->store, "alice", &u) ==
	    STORE_OK);
	c.id = u.id;
	c.version = u.token_version;
	CHECK(store_run(&srv->store, &c.job) == STORE_OK);
	/* Signed out since (another version), or never there. */
	c.version = u.token_version + 1;
	CHECK(store_run(&srv->store, &c.job) == STORE_NOT_FOUND);
	c.version = u.token_version;
	c.id = "0123456789ABCDEFGHJKMNPQRS";
	CHECK(store_run(&srv->store, &c.job) == STORE_NOT_FOUND);
}

int
main(void)
{
	RUN(test_open);
	if (srv != NULL) {
		RUN(test_basic_routes);
		RUN(test_bodies);
		RUN(test_error_not_utf8);
		RUN(test_closed);
		RUN(test_under_way_writes);
		RUN(test_sender_in_job);
	}
	httpd_test_close(srv);
	free(alice_token);
	if (dir[0] != '\0')
		harness_rmtree(dir);
	return harness_end();
}
