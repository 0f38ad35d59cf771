/*
 * httpd.c - e2e-server's HTTP layer on libmicrohttpd: the daemon and its
 * limits, one request's life (route, body, token, handler, suspension
 * for jobs and long-polls, answer, log line), start-up and shutdown.
 */
#include "server/httpd.h"
#include "base/charset.h"
#include "base/cli.h"
#include "base/err.h"
#include "base/jsonio.h"
#include "base/term.h"
#include "format/crypto.h"
#include "server/form.h"
#include "server/guard.h"
#include "server/import.h"
#include "server/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SMALL_BODY (16 * 1024)
/* Lingering closes at once (each holds a descriptor for --linger
 * seconds at most), and what one may read. */
#define LINGER_MAX 1024
#define LINGER_BYTES ((size_t)64 << 20)
/* X-Forwarded-For headers read (the right-most ones). */
#define XFF_MAX 32
/* How long a checked token, or a user looked up by name, is remembered
 * (cache.h). A delete clears this server's cache, not another's on the
 * same database: a name another server deleted is believed this long at
 * most (a send to it still finds no one). */
#define CACHE_MS 1000

void
server_config_defaults(struct server_config *c)
{
	memset(c, 0, sizeof(*c));
	c->listen = "127.0.0.1:8080";
	c->db = "e2e-server.db";
	c->token_ttl = 24 * 3600;
	c->bcrypt_cost = 12;
	c->max_message = 4 << 20;
	c->signin_name_limit = 5;
	c->signin_addr_limit = 50;
	c->signup_addr_limit = 100;
	c->limit_window = 15 * 60;
	c->max_connections = 16384;
	c->max_per_ip = 256;
	c->conn_timeout = 60;
	c->threads = 2;
	c->max_wait = 60;
	c->name_quarantine = 30 * 86400;
	c->signin_backoff = 1;
	c->signin_account_rate = 30;
	c->signin_addr_rate = 600;
	c->bcrypt_workers = 0;
	c->signin_queue = 64;
	c->min_password = 10;
	c->mailbox_max_messages = 10000;
	c->mailbox_max_bytes = (size_t)256 << 20;
	c->send_rate = 20;
	c->send_burst = 200;
	c->max_answer_bytes = (size_t)8 << 20;
	c->max_body_memory = (size_t)256 << 20;
	c->linger = 5;
	c->poll_interval = 1000;
	c->commit_delay = 1000;
	c->prekeys_max = 200;
	c->prekeys_batch = 200;
	c->prekey_claim_rate = 100;
}

int
server_config_net(const char *s)
{
	struct ipnet n;

	return ipnet_parse(s, &n);
}

size_t
server_config_signed_in_bodies(size_t max_body_memory)
{
	return budget_signed_in(max_body_memory);
}

int64_t
srv_now(void)
{
	return crypto_now();
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
srv_user_by_name(struct server *s, const char *name, struct store_user *u)
{
	char key[STORE_NAME_MAX + 3];
	size_t len = strlen(name);
	int64_t now_ms = (int64_t)srv_now() * 1000;
	uint64_t gen;
	int rc;

	if (len > STORE_NAME_MAX)
		return STORE_NOT_FOUND;
	/* "n:" keeps names apart from tokens in the one cache. */
	key[0] = 'n';
	key[1] = ':';
	memcpy(key + 2, name, len);
	if (cache_get(s->cache, key, len + 2, u, now_ms))
		return STORE_OK;
	gen = cache_gen(s->cache);
	rc = s->store.be->user_by_name(&s->store, name, u);
	if (rc == STORE_OK)
		cache_put(s->cache, gen, key, len + 2, u, now_ms + CACHE_MS);
	return rc;
}

const char *
srv_public_url(struct server *s)
{
	return __atomic_load_n(&s->public_url_ready, __ATOMIC_ACQUIRE) ?
	    s->public_url : NULL;
}

/*
 * The URL key proofs name (aud): --public-url, else http://ADDRESS:PORT
 * of the address bound (the port known only now, with port 0). Returns
 * 0 or 64 (said in rep).
 */
static int
set_public_url(struct server *s, const struct sockaddr_storage *ss, int v6,
    unsigned port, struct report *rep)
{
	char host[INET6_ADDRSTRLEN], url[KEYPROOF_URL_MAX + 64];

	if (s->cfg.public_url != NULL) {
		snprintf(url, sizeof(url), "%s", s->cfg.public_url);
	} else {
		if (inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ?
		    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
		    (const void *)&((const struct sockaddr_in *)ss)->sin_addr,
		    host, sizeof(host)) == NULL)
			return E2E_EX_SOFTWARE;
		snprintf(url, sizeof(url), "http://%s%s%s:%u", v6 ? "[" : "",
		    host, v6 ? "]" : "", port);
		if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
			log_warn("key proofs name %s: give --public-url with "
			    "the URL clients use", url);
	}
	if (keyproof_url(url, s->public_url) != 0) {
		cli_usage_error(rep, "--public-url %s is not an http:// or "
		    "https:// URL", url);
		return E2E_EX_USAGE;
	}
	__atomic_store_n(&s->public_url_ready, 1, __ATOMIC_RELEASE);
	return 0;
}

/* Counts r in srv->under_way (on) or not: a request of a route that
 * writes (ROUTE_WRITES), begun and neither answered nor suspended, may
 * yet bring the writer a job, which the writer waits for
 * (store_commit_delay). A request that only reads is never counted: a
 * lone send would wait the delay for it, for nothing. */
static void
under_way(struct req *r, int on)
{
	if (on && (r->route == NULL || !(r->route->flags & ROUTE_WRITES)))
		return;
	if (r->under_way == on)
		return;
	r->under_way = on;
	if (on)
		atomic_fetch_add(&r->srv->under_way, 1);
	else
		atomic_fetch_sub(&r->srv->under_way, 1);
}

/* The writer's question (store_commit_delay). */
static unsigned
requests_under_way(void *arg)
{
	struct server *s = arg;

	return atomic_load(&s->under_way);
}

/* ---- the connection: libmicrohttpd's, or the test driver's ---- */

#ifdef E2E_TEST_HOOKS
static enum MHD_Result test_queue(struct test_conn *tc, unsigned status,
    struct MHD_Response *resp, const char *body, size_t len);
static void test_resume(struct test_conn *tc);
static int test_lookup(struct test_conn *tc, enum MHD_ValueKind kind,
    const char *name, const char **v, size_t *len);
static void test_values(struct test_conn *tc, enum MHD_ValueKind kind,
    MHD_KeyValueIteratorN it, void *cls);
static const struct sockaddr *test_peer(struct test_conn *tc);
static int test_fd(struct test_conn *tc);
static void test_under_way(struct test_conn *tc, unsigned n);
#endif

/* Queues an answer; body and len are what resp holds (for the test
 * driver). */
static enum MHD_Result
conn_queue(struct req *r, unsigned status, struct MHD_Response *resp,
    const char *body, size_t len)
{
#ifdef E2E_TEST_HOOKS
	if (r->test != NULL)
		return test_queue(r->test, status, resp, body, len);
#endif
	(void)body;
	(void)len;
	return MHD_queue_response(r->conn, status, resp);
}

static void
conn_suspend(struct req *r)
{
#ifdef E2E_TEST_HOOKS
	if (r->test != NULL)
		return;
#endif
	MHD_suspend_connection(r->conn);
}

static void
conn_resume(struct req *r)
{
#ifdef E2E_TEST_HOOKS
	if (r->test != NULL) {
		test_resume(r->test);
		return;
	}
#endif
	MHD_resume_connection(r->conn);
}

/* A header or an argument: MHD_YES with *v (maybe NULL) and *len. */
static int
conn_lookup(struct req *r, enum MHD_ValueKind kind, const char *name,
    const char **v, size_t *len)
{
#ifdef E2E_TEST_HOOKS
	if (r->test != NULL)
		return test_lookup(r->test, kind, name, v, len);
#endif
	return MHD_lookup_connection_value_n(r->conn, kind, name, strlen(name),
	    v, len);
}

static void
conn_values(struct req *r, enum MHD_ValueKind kind, MHD_KeyValueIteratorN it,
    void *cls)
{
#ifdef E2E_TEST_HOOKS
	if (r->test != NULL) {
		test_values(r->test, kind, it, cls);
		return;
	}
#endif
	MHD_get_connection_values_n(r->conn, kind, it, cls);
}

/* The peer's address, or NULL. */
static const struct sockaddr *
conn_peer(struct req *r)
{
	const union MHD_ConnectionInfo *ci;

#ifdef E2E_TEST_HOOKS
	if (r->test != NULL)
		return test_peer(r->test);
#endif
	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return ci != NULL ? ci->client_addr : NULL;
}

/* The connection's socket, or -1. */
static int
conn_fd(struct req *r)
{
	const union MHD_ConnectionInfo *ci;

#ifdef E2E_TEST_HOOKS
	if (r->test != NULL)
		return test_fd(r->test);
#endif
	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci != NULL ? ci->connect_fd : -1;
}

/* ---- answers ---- */

static void
queue(struct req *r, unsigned status, struct MHD_Response *resp,
    const char *body, size_t len)
{
	/* An answer before the body is in: the connection closes after it
	 * (MHD would not read the rest), lingering (on_completed). */
	under_way(r, 0);
	if (r->has_body && !r->body_done) {
		r->early = 1;
		if (resp != NULL)
			MHD_add_response_header(resp, "Connection", "close");
	}
	if (resp == NULL) {
		/* Out of memory: nothing can be said; MHD closes. */
		r->answered = 1;
		r->status = 500;
		return;
	}
	if (conn_queue(r, status, resp, body, len) != MHD_YES)
		log_error("cannot queue an answer to %s %s", r->method,
		    r->path);
	MHD_destroy_response(resp);
	r->answered = 1;
	r->status = status;
}

void
respond_json(struct req *r, unsigned status, json_t *body)
{
	struct MHD_Response *resp;
	char *text = NULL;
	unsigned retry;

	if (r->answered) {
		json_decref(body);
		return;
	}
	if (body != NULL) {
		text = jsonio_dump(body);
		json_decref(body);
		if (text == NULL) {
			status = 500;
			text = strdup("{\"error\":\"internal error\"}");
		}
	}
	resp = MHD_create_response_from_buffer(text ? strlen(text) : 0,
	    text ? text : (char *)"", text ? MHD_RESPMEM_MUST_FREE :
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		free(text);
		text = NULL;
	} else {
		if (text != NULL)
			MHD_add_response_header(resp, "Content-Type",
			    "application/json");
		MHD_add_response_header(resp, "Cache-Control", "no-store");
		retry = r->retry_after;
		if (retry == 0 && (status == 429 || status == 503))
			retry = (unsigned)r->result;
		if ((status == 429 || status == 503) && retry > 0) {
			char v[24];

			snprintf(v, sizeof(v), "%u", retry);
			MHD_add_response_header(resp, "Retry-After", v);
		}
		if (status == 405) {
			char allow[64] = "";
			size_t i;

			for (i = 0; i < nroutes; i++)
				if (strcmp(routes[i].path,
				    r->route->path) == 0) {
					if (allow[0] != '\0')
						strncat(allow, ", ",
						    sizeof(allow) -
						    strlen(allow) - 1);
					strncat(allow, routes[i].method,
					    sizeof(allow) - strlen(allow) - 1);
				}
			MHD_add_response_header(resp, "Allow", allow);
		}
	}
	queue(r, status, resp, text, text ? strlen(text) : 0);
}

void
respond_error(struct req *r, unsigned status, const char *fmt, ...)
{
	struct buf text = BUF_INIT;
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The database's disk full: nothing was written; the operator must
	 * make room (507, as a full mailbox, which clients do not retry). */
	if (status == 500 && r->result == STORE_NOSPACE) {
		status = 507;
		snprintf(msg, sizeof(msg), "the server's disk is full; try "
		    "again later");
	}
	/* The database away (restarting, failing over): not the server's
	 * fault, and a retry in a moment will do. */
	else if (status == 500 && store_unavailable(&r->srv->store)) {
		status = 503;
		r->retry_after = 2;
		snprintf(msg, sizeof(msg), "the database is unavailable; try "
		    "again in a moment");
	}
	/* What the request brought (a method of any bytes), or the cut
	 * above through a character, is not always UTF-8: repaired, or
	 * json_pack refuses it and the error goes out without a body. */
	if (utf8_repair((const uint8_t *)msg, strlen(msg), &text) != 0)
		buf_free(&text);
	respond_json(r, status, text.p != NULL ? json_pack("{s:s%}", "error",
	    (const char *)text.p, text.len) : json_pack("{s:s}", "error",
	    "internal error"));
	buf_free(&text);
}

void
respond_json_text(struct req *r, unsigned status, char *text, size_t len)
{
	struct MHD_Response *resp;

	if (r->answered) {
		free(text);
		return;
	}
	resp = MHD_create_response_from_buffer(len, text,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		text = NULL;
		len = 0;
	} else {
		MHD_add_response_header(resp, "Content-Type",
		    "application/json");
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	}
	queue(r, status, resp, text, len);
}

void
respond_text(struct req *r, unsigned status, const char *type,
    struct buf *body)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(body->len, body->p,
	    MHD_RESPMEM_MUST_COPY);
	if (resp != NULL)
		MHD_add_response_header(resp, "Content-Type", type);
	queue(r, status, resp, (const char *)body->p, body->len);
}

/* ---- suspension ---- */

void
req_suspend(struct req *r, void (*cont)(struct req *r))
{
	r->cont = cont;
	r->suspended = 1;
	r->resumed = 0;
	under_way(r, 0);
	conn_suspend(r);
}

void
req_resume(struct req *r)
{
	/* Not watched any more: the socket is MHD's again, and may close. */
	if (r->watch_id != 0)
		(void)sockwatch_unwatch(r->srv->watch, r->watch_id);
	r->resumed = 1;
	conn_resume(r);
}

void
req_suspend_watched(struct req *r, void (*cont)(struct req *r),
    int (*cancel)(struct req *r))
{
	int fd;

	req_suspend(r, cont);
	r->cancel = cancel;
	r->watch_id = 0;
	fd = conn_fd(r);
	/* A full table only means this wait is not cut short. */
	if (fd >= 0 && sockwatch_watch(r->srv->watch, fd, r,
	    &r->watch_id) != 0)
		r->watch_id = 0;
}

/* sockwatch: the client of a watched request hung up (under its lock). */
static int
req_gone(void *arg)
{
	struct req *r = arg;

	r->gone = 1;
	return r->cancel(r);
}

/* sockwatch: after req_gone() took r out of its wait. */
static void
req_gone_resume(void *arg)
{
	struct req *r = arg;

	r->resumed = 1;
	conn_resume(r);
}

/* ---- the body ---- */

const char *
req_field(struct req *r, const char *name, size_t *len, int *bad)
{
	const json_t *v = r->params ? json_object_get(r->params, name) : NULL;

	if (v == NULL)
		return NULL;
	if (!json_is_string(v)) {
		if (!*bad)
			respond_error(r, 400, "\"%s\" must be a string", name);
		*bad = 1;
		return NULL;
	}
	if (len != NULL)
		*len = json_string_length(v);
	return json_string_value(v);
}

/*
 * A header or a query argument by name. A value holding a raw NUL byte
 * (which C strings would cut short) is treated as broken: *bad is set.
 */
static const char *
lookup(struct req *r, enum MHD_ValueKind kind, const char *name, int *bad)
{
	const char *v = NULL;
	size_t len = 0;

	if (conn_lookup(r, kind, name, &v, &len) != MHD_YES || v == NULL)
		return NULL;
	if (strlen(v) != len) {
		*bad = 1;
		return NULL;
	}
	return v;
}

static const char *
header(struct req *r, const char *name)
{
	int bad = 0;
	const char *v = lookup(r, MHD_HEADER_KIND, name, &bad);

	if (bad)
		r->broken = 1;
	return v;
}

const char *
req_query(struct req *r, const char *name)
{
	int bad = 0;
	const char *v = lookup(r, MHD_GET_ARGUMENT_KIND, name, &bad);

	if (bad)
		r->broken = 1;
	return v;
}

struct count {
	const char *name;
	unsigned n;
};

static enum MHD_Result
count_header(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct count *c = cls;

	(void)kind;
	(void)key_size;
	(void)value;
	(void)value_size;
	if (strcasecmp(key, c->name) == 0)
		c->n++;
	return MHD_YES;
}

static unsigned
header_count(struct req *r, const char *name)
{
	struct count c = { name, 0 };

	conn_values(r, MHD_HEADER_KIND, count_header, &c);
	return c.n;
}

/* Parses the body by its content type into r->params. 0, or answered. */
static int
parse_body(struct req *r)
{
	const char *type = header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	struct report rep = { 0 };
	size_t tlen;
	int status;

	if (r->body.len == 0) {
		r->params = json_object();
		return r->params == NULL ? -1 : 0;
	}
	if (type == NULL) {
		respond_error(r, 400, "a body needs a Content-Type");
		return -1;
	}
	tlen = strcspn(type, ";");
	while (tlen > 0 && type[tlen - 1] == ' ')
		tlen--;
	if (tlen == 16 && strncasecmp(type, "application/json", 16) == 0) {
		r->params = jsonio_parse((const char *)r->body.p, r->body.len,
		    &rep);
		if (r->params == NULL) {
			respond_error(r, 400, "malformed JSON: %s",
			    report_message(&rep));
			return -1;
		}
		if (!json_is_object(r->params)) {
			respond_error(r, 400, "the body must be a JSON object");
			return -1;
		}
	} else if (tlen == 33 && strncasecmp(type,
	    "application/x-www-form-urlencoded", 33) == 0) {
		if ((status = form_parse((const char *)r->body.p,
		    r->body.len, &r->params, &rep)) != 0) {
			/* 500: out of memory (the answer stays "internal
			 * error"; the log says why, as buf once did). */
			if (status == 500)
				log_error("out of memory");
			respond_error(r, (unsigned)status, "%s",
			    report_message(&rep));
			return -1;
		}
	} else {
		respond_error(r, 400, "the body must be application/json or "
		    "application/x-www-form-urlencoded");
		return -1;
	}
	return 0;
}

/*
 * The token of the headers: x-access-token (as the original) or
 * Authorization: Bearer, at most one of them, once (T6). Returns 1 with
 * *t and *len, 0 when there is none, -1 when answered.
 */
static int
header_token(struct req *r, const char **t, size_t *len)
{
	const char *h, *auth;
	size_t n = 0;

	if (header_count(r, "x-access-token") > 1 ||
	    header_count(r, "Authorization") > 1)
		goto refuse;
	if ((h = header(r, "x-access-token")) != NULL) {
		*t = h;
		*len = strlen(h);
		n++;
	}
	if ((auth = header(r, "Authorization")) != NULL) {
		/* Exactly "Bearer " and the token: no other case, no other
		 * spacing. */
		if (strncmp(auth, "Bearer ", 7) != 0 || auth[7] == '\0')
			goto refuse;
		*t = auth + 7;
		*len = strlen(*t);
		n++;
	}
	if (r->broken) {
		respond_error(r, 400, "a header or an argument holds a NUL "
		    "byte");
		return -1;
	}
	if (n > 1)
		goto refuse;
	return (int)n;
refuse:
	respond_error(r, 403, "authentication failed");
	return -1;
}

/*
 * Checks a token: its signature and claims, then the user it names must
 * still exist with the same token version (T4); fills r->user. Returns
 * 0, or -1 when answered.
 */
static int
check_token(struct req *r, const char *t, size_t len)
{
	struct server *s = r->srv;
	struct auth_claims c;
	struct store_user who;
	int64_t now_ms, until;

	/* A token checked in the last few seconds is known: its signature
	 * and claims need no second look. Its user is read every time, so
	 * that a deleted user or a new token version takes effect at once
	 * (T4). */
	now_ms = (int64_t)srv_now() * 1000;
	if (!cache_get(s->cache, t, len, &who, now_ms)) {
		if (auth_token_check(&s->keys, t, len, srv_now(), &c) != 0)
			goto refuse;
		memset(&who, 0, sizeof(who));
		memcpy(who.id, c.sub, sizeof(who.id));
		who.token_version = c.ver;
		until = now_ms + CACHE_MS;
		if (until > c.exp * 1000)
			until = c.exp * 1000;
		cache_put(s->cache, cache_gen(s->cache), t, len, &who, until);
	}
	switch (s->store.be->user_by_id(&s->store, who.id, &r->user)) {
	case STORE_OK:
		if (r->user.token_version == who.token_version)
			return 0;
		break;
	case STORE_NOT_FOUND:
		break;
	default:
		respond_error(r, 500, "internal error");
		return -1;
	}
refuse:
	respond_error(r, 403, "authentication failed");
	return -1;
}

/*
 * The token once the body is in. A token header was checked at the
 * headers, and the body may not carry a second one (T6); without a
 * header, the token is the body's "token" field (as the original's
 * clients send it), in a body of SMALL_BODY bytes at most.
 */
static int
authenticate(struct req *r)
{
	const char *t;
	size_t len = 0;
	int bad = 0;

	t = req_field(r, "token", &len, &bad);
	if (bad)
		return -1;
	if (r->authed) {
		if (t != NULL)
			goto refuse;
		/* A slow body may end after its user was deleted or signed
		 * out everywhere: looked at again (T4), by the route's job in
		 * the writer's transaction where it can (store_send: in the
		 * statement that stores the send on PostgreSQL, no round trip
		 * of its own; one read of the user per request), else here. */
		if (r->has_body && (r->route->flags & ROUTE_SENDER_IN_JOB)) {
			r->sender_in_job = 1;
			return 0;
		}
		if (r->has_body) {
			int64_t ver = r->user.token_version;

			switch (r->srv->store.be->user_by_id(&r->srv->store,
			    r->user.id, &r->user)) {
			case STORE_OK:
				if (r->user.token_version == ver)
					return 0;
				goto refuse;
			case STORE_NOT_FOUND:
				goto refuse;
			default:
				respond_error(r, 500, "internal error");
				return -1;
			}
		}
		return 0;
	}
	if (t == NULL || r->broken)
		goto refuse;
	return check_token(r, t, len);
refuse:
	respond_error(r, 403, "authentication failed");
	return -1;
}

static void
too_large(struct req *r)
{
	if (r->anon)
		respond_error(r, 413, "the body is larger than %zu bytes (the "
		    "limit without an x-access-token header)", r->cap);
	else
		respond_error(r, 413, "the body is larger than %zu bytes",
		    r->cap);
}

/* The whole request is in: check it, then run its route. */
static void
dispatch(struct req *r)
{
	if (r->broken) {
		respond_error(r, 400, "a header or an argument holds a NUL "
		    "byte");
		return;
	}
	if (r->too_large) {
		too_large(r);
		return;
	}
	if (parse_body(r) != 0)
		return;
	/* Parsed: its fields are in r->params now. Its reservation stays
	 * until the end, for them. */
	buf_free(&r->body);
	if (r->route->auth && authenticate(r) != 0)
		return;
	/* The HTTP layer's gauges are read when they are asked for. */
	if (strcmp(r->route->name, "metrics") == 0)
		metrics_set_http(r->srv->metrics, budget_used(&r->srv->bodies),
		    sockwatch_lingering(r->srv->watch));
#ifdef E2E_TEST_HOOKS
	if (r->test != NULL)
		test_under_way(r->test, requests_under_way(r->srv));
#endif
	r->route->handle(r);
	if (!r->answered && !r->suspended)
		respond_error(r, 500, "internal error");
}

/* ---- one request's life ---- */

static const struct route *
find_route(const char *method, const char *path, size_t *index,
    int *path_known, char *param, size_t param_size)
{
	size_t i, plen;
	const char *rest;

	*path_known = 0;
	for (i = 0; i < nroutes; i++) {
		plen = strlen(routes[i].path);
		if (routes[i].path[plen - 1] == '/') {
			if (strncmp(path, routes[i].path, plen) != 0)
				continue;
			rest = path + plen;
			/* One non-empty segment, no further slashes (H5). */
			if (*rest == '\0' || strchr(rest, '/') != NULL ||
			    strlen(rest) >= param_size)
				continue;
		} else if (strcmp(path, routes[i].path) != 0) {
			continue;
		} else {
			rest = NULL;
		}
		*path_known = 1;
		if (strcmp(method, routes[i].method) != 0)
			continue;
		if (rest != NULL)
			memcpy(param, rest, strlen(rest) + 1);
		*index = i;
		return &routes[i];
	}
	return NULL;
}

static int
hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

struct xff {
	const char *v[XFF_MAX];
	size_t n;
	int broken;
};

/* Collects the X-Forwarded-For values, the right-most XFF_MAX of them
 * (what the proxies nearest to us added is at the end). */
static enum MHD_Result
collect_xff(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct xff *x = cls;

	(void)kind;
	if (key_size != 15 || strncasecmp(key, "X-Forwarded-For", 15) != 0 ||
	    value == NULL)
		return MHD_YES;
	if (strlen(value) != value_size)
		x->broken = 1;
	if (x->n == XFF_MAX) {
		memmove(x->v, x->v + 1, sizeof(x->v[0]) * (XFF_MAX - 1));
		x->n--;
	}
	x->v[x->n++] = value;
	return MHD_YES;
}

/* r->client, r->key and r->addr: the peer, or the client a trusted proxy
 * names (peers.h). */
static void
client_address(struct req *r)
{
	struct server *s = r->srv;
	const struct sockaddr *sa;
	struct ipaddr peer;
	struct xff x;
	const char *xrip = NULL;

	memset(&r->client, 0, sizeof(r->client));
	memset(&r->key, 0, sizeof(r->key));
	snprintf(r->addr, sizeof(r->addr), "-");
	sa = conn_peer(r);
	if (sa == NULL || ipaddr_from_sockaddr(sa, &peer) != 0)
		return;
	r->client = peer;
	if (s->ntrusted > 0 && ipnets_contain(s->trusted, s->ntrusted, &peer)) {
		memset(&x, 0, sizeof(x));
		conn_values(r, MHD_HEADER_KIND, collect_xff, &x);
		if (x.n == 0)
			xrip = header(r, "X-Real-IP");
		if (x.broken)
			r->broken = 1;
		else
			ipaddr_client(&peer, s->trusted, s->ntrusted, x.v, x.n,
			    xrip, &r->client);
	}
	ipaddr_key(&r->client, &r->key);
	ipaddr_key_str(&r->key, r->addr, sizeof(r->addr));
}

/* A dummy route, so that 405 can list the path's methods. */
static const struct route none_route = { "", "", 0, 0, NULL, "none", 0 };

/* The first call: headers only. Early answers go out before any body
 * is read. */
static struct req *
begin(struct server *s, struct MHD_Connection *conn, struct test_conn *test,
    const char *url, const char *method)
{
	const struct route *rt;
	struct req *r;
	const char *cl, *q, *t = NULL;
	char *end;
	unsigned long long n;
	int known;
	size_t len, tlen = 0, want;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->srv = s;
	r->conn = conn;
	r->test = test;
	r->start_ns = mono_ns();
	r->route_index = nroutes;
	r->body.limit = 0;
	snprintf(r->method, sizeof(r->method), "%s", method);
	len = strlen(url);
	client_address(r);
	/*
	 * Once shutdown has seen no request in flight (wait_idle), it stops
	 * libmicrohttpd, which aborts the process if a connection is then
	 * suspended; a keep-alive connection's next request may still come
	 * in between: it is answered at once, never suspended or counted.
	 */
	pthread_mutex_lock(&s->active_lock);
	if (s->closed)
		r->uncounted = 1;
	else
		s->active++;
	pthread_mutex_unlock(&s->active_lock);
	if (r->uncounted) {
		snprintf(r->path, sizeof(r->path), "(shutting down)");
		r->retry_after = 1;
		respond_error(r, 503, "the server is shutting down; try again "
		    "shortly");
		return r;
	}
	/* Whether a body follows, for lingering after an early answer. */
	if (((cl = header(r, MHD_HTTP_HEADER_CONTENT_LENGTH)) != NULL &&
	    strcmp(cl, "0") != 0) ||
	    header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
		r->has_body = 1;
	if (len >= sizeof(r->path)) {
		snprintf(r->path, sizeof(r->path), "(too long)");
		respond_error(r, 404, "no such route");
		return r;
	}
	memcpy(r->path, url, len + 1);

	rt = find_route(method, url, &r->route_index, &known, r->param,
	    sizeof(r->param));
	if (rt == NULL) {
		size_t i;

		r->route = &none_route;
		if (known) {
			for (i = 0; i < nroutes; i++) {
				size_t plen = strlen(routes[i].path);

				if (routes[i].path[plen - 1] == '/' ?
				    strncmp(url, routes[i].path, plen) == 0 :
				    strcmp(url, routes[i].path) == 0) {
					r->route = &routes[i];
					break;
				}
			}
			respond_error(r, 405, "method %s not allowed here",
			    method);
		} else {
			respond_error(r, 404, "no such route");
		}
		return r;
	}
	r->route = rt;
	under_way(r, 1);
	r->cap = rt->body_cap == SIZE_MAX ? s->cfg.max_message : rt->body_cap;
	if (r->broken) {
		respond_error(r, 400, "a header or an argument holds a NUL "
		    "byte");
		return r;
	}
	/* Requests at once per client, whatever the connections they come
	 * on: behind a trusted proxy, the proxy's connections are not
	 * counted per address (conn_allowed), its clients' requests are. */
	if (r->key.family != 0) {
		if (addr_counts_take(s->inflight, &r->key, s->cfg.max_per_ip) !=
		    0) {
			r->retry_after = 1;
			respond_error(r, 429, "too many requests at once from "
			    "%s (at most %u)", r->addr, s->cfg.max_per_ip);
			return r;
		}
		r->counted = 1;
	}
	/* Traffic analysis: who waits, how many messages (judged by the
	 * client, not by a proxy in front). */
	if (rt->handle != NULL && strcmp(rt->name, "metrics") == 0 &&
	    !ipaddr_is_loopback(&r->client) &&
	    !ipnets_contain(s->metrics_allow, s->nmetrics_allow, &r->client)) {
		respond_error(r, 403, "/metrics is served only to loopback and "
		    "--metrics-allow addresses, not to %s", r->addr);
		return r;
	}
	/* Tokens never travel in URLs, where logs and histories keep them
	 * (T6). */
	if ((q = req_query(r, "token")) != NULL || r->broken) {
		respond_error(r, 400, "tokens are not accepted in the URL");
		return r;
	}
	/* Two lengths, or a length and a transfer coding, are how requests
	 * are smuggled past proxies (H3); libmicrohttpd 0.9.75 lets them
	 * through. */
	if (header_count(r, MHD_HTTP_HEADER_CONTENT_LENGTH) > 1 ||
	    header_count(r, MHD_HTTP_HEADER_TRANSFER_ENCODING) > 1 ||
	    (header(r, MHD_HTTP_HEADER_CONTENT_LENGTH) != NULL &&
	    header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)) {
		respond_error(r, 400, "conflicting Content-Length and "
		    "Transfer-Encoding headers");
		return r;
	}
	/* An announced body over the cap is refused before it is read
	 * (H1). */
	n = 0;
	if ((cl = header(r, MHD_HTTP_HEADER_CONTENT_LENGTH)) != NULL) {
		errno = 0;
		n = strtoull(cl, &end, 10);
		if (errno != 0 || *end != '\0' || n > r->cap) {
			r->too_large = 1;
			too_large(r);
			return r;
		}
	}
	/* The token, before any byte of the body is kept: a request without
	 * a valid one costs its headers only (A1). */
	if (rt->auth) {
		switch (header_token(r, &t, &tlen)) {
		case -1:
			return r;
		case 1:
			if (check_token(r, t, tlen) != 0)
				return r;
			r->authed = 1;
			break;
		default:
			/* Only a small body may still bring one. */
			if (!r->has_body) {
				respond_error(r, 403, "authentication failed");
				return r;
			}
			r->anon = 1;
			if (r->cap > SMALL_BODY)
				r->cap = SMALL_BODY;
			if (n > r->cap) {
				r->too_large = 1;
				too_large(r);
				return r;
			}
		}
	} else {
		r->anon = 1;
	}
	/* What the body may take is reserved now, or the upload is refused
	 * before it starts (--max-body-memory). */
	if (r->has_body) {
		want = cl != NULL ? (size_t)n : r->cap;
		if (budget_take(&s->bodies, want, r->anon) != 0) {
			r->retry_after = 1;
			respond_error(r, 503, "the server is busy receiving "
			    "other uploads; try again shortly");
			return r;
		}
		r->reserved = want;
		r->body.limit = want;
	}
	return r;
}

/* Body bytes beyond the cap (a chunked body says its size only at its
 * end) are counted, not kept, and the answer is 413 once it ends; far
 * beyond the cap, the connection is dropped rather than read on. */
#define DISCARD_MAX ((size_t)64 << 20)

static enum MHD_Result
absorb(struct req *r, const char *data, size_t n)
{
	if (r->too_large || r->body.len + n > r->cap) {
		r->too_large = 1;
		r->discarded += n;
		buf_free(&r->body);
		return r->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
	}
	if (buf_append(&r->body, data, n) != 0) {
		log_error("out of memory");
		return MHD_NO;
	}
	return MHD_YES;
}

/* The last call of a request (its body is in), and each call after a
 * resume: runs its route, or its continuation. */
static void
advance(struct req *r)
{
	r->body_done = 1;
	if (r->answered)
		return;
	if (r->suspended) {
		if (!r->resumed)	/* not ours to run yet */
			return;
		r->suspended = 0;
		r->resumed = 0;
		r->watch_id = 0;
		under_way(r, 1);
		if (r->gone) {
			/* Nobody reads it (499: nginx's "client closed"); it
			 * ends the request at once, freeing its slots. */
			respond_error(r, 499, "the client closed the "
			    "connection");
			return;
		}
		r->cont(r);
		if (!r->answered && !r->suspended)
			respond_error(r, 500, "internal error");
		return;
	}
	if (!r->dispatched) {
		r->dispatched = 1;
		dispatch(r);
	}
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data, size_t *size,
    void **ctx)
{
	struct server *s = cls;
	struct req *r = *ctx;
	enum MHD_Result rc = MHD_YES;

	(void)version;
	if (r == NULL) {
		if ((r = begin(s, conn, NULL, url, method)) == NULL)
			return MHD_NO;
		*ctx = r;
		return MHD_YES;
	}
	if (*size > 0) {
		rc = r->answered ? MHD_YES : absorb(r, data, *size);
		*size = 0;
		return rc;
	}
	advance(r);
	return MHD_YES;
}

static void
note_request(struct req *r)
{
	char path[160];
	double ms = (double)(mono_ns() - r->start_ns) / 1e6;
	const char *q;

	if (r->srv->cfg.quiet)
		return;
	/* The path without its query; never a token, a password or a body. */
	q = strchr(r->path, '?');
	term_escape(r->path, q ? (size_t)(q - r->path) : strlen(r->path),
	    path, sizeof(path));
	log_request(r->addr, r->method, path, r->status, ms);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_RequestTerminationCode code)
{
	struct server *s = cls;
	struct req *r = *ctx;
	size_t i;
	int fd, counted;

	(void)conn;
	if (r == NULL)
		return;
	counted = !r->uncounted;
	/* An early answer went out and MHD is about to close: a copy of the
	 * socket keeps it open to drain what the client still sends, so the
	 * close does not reset the connection under the answer (A11). MHD
	 * has not closed its descriptor yet (it does after this call). */
	if (r->early && !r->body_done &&
	    code == MHD_REQUEST_TERMINATED_COMPLETED_OK &&
	    (fd = conn_fd(r)) >= 0 &&
	    (fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) >= 0) {
		(void)shutdown(fd, SHUT_WR);
		sockwatch_linger(s->watch, fd);
	}
	if (r->watch_id != 0)
		(void)sockwatch_unwatch(s->watch, r->watch_id);
	if (r->reserved > 0)
		budget_give(&s->bodies, r->reserved, r->anon);
	if (r->counted)
		addr_counts_give(s->inflight, &r->key);
	under_way(r, 0);
	/* Closed by its client before an answer (MHD may see the hang-up of
	 * a resumed long-poll before we answer it): 499, as nginx logs it. */
	if (!r->answered && (r->gone ||
	    code == MHD_REQUEST_TERMINATED_CLIENT_ABORT ||
	    code == MHD_REQUEST_TERMINATED_READ_ERROR))
		r->status = 499;
	note_request(r);
	metrics_request(s->metrics, r->route_index, r->status,
	    (double)(mono_ns() - r->start_ns) / 1e9);
	json_decref(r->params);
	buf_free(&r->body);
	if (r->secret != NULL) {
		wipe(r->secret, r->secret_len);
		free(r->secret);
	}
	free(r->msg.body);
	store_message_list_free(&r->list);
	store_key_list_free(&r->keys);
	store_prekey_stock_list_free(&r->stock);
	for (i = 0; i < r->nprekeys; i++)
		store_prekey_clear(&r->prekeys[i]);
	free(r->prekeys);
	for (i = 0; i < r->nids; i++)
		free(r->ids[i]);
	free(r->ids);
	free(r);
	*ctx = NULL;
	pthread_mutex_lock(&s->active_lock);
	if (s->active > 0 && counted)
		s->active--;
	if (s->active == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->active_lock);
}

/*
 * Percent-decoding of the path and query (in place): as MHD's, except
 * that %00 stays as it is, since a NUL would cut the C string short and
 * make "1%00x" look like "1" (H5). No route or name contains "%".
 */
static size_t
unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *in = s, *out = s;
	int hi, lo;

	(void)cls;
	(void)c;
	while (*in != '\0') {
		if (in[0] == '%' && in[1] != '\0' && in[2] != '\0' &&
		    (hi = hexdigit(in[1])) >= 0 && (lo = hexdigit(in[2])) >= 0 &&
		    (hi | lo) != 0) {
			*out++ = (char)(hi << 4 | lo);
			in += 3;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("http: %s", line);
}

/* ---- connections per address ---- */

/*
 * Connections at once per peer (--max-per-ip), an IPv6 peer by its /64;
 * a trusted proxy is not counted (its clients' requests are, in begin).
 * Counted here, before MHD allocates anything for the connection, and
 * given back when it closes (on_connection). MHD checks its own limits
 * before this call and fails after it only when out of memory, which
 * would leave one count behind.
 */
static enum MHD_Result
conn_allowed(void *cls, const struct sockaddr *sa, socklen_t len)
{
	struct server *s = cls;
	struct ipaddr peer, key;

	(void)len;
	if (ipaddr_from_sockaddr(sa, &peer) != 0)
		return MHD_YES;
	if (ipnets_contain(s->trusted, s->ntrusted, &peer))
		return MHD_YES;
	ipaddr_key(&peer, &key);
	return addr_counts_take(s->conns, &key, s->cfg.max_per_ip) == 0 ?
	    MHD_YES : MHD_NO;
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct ipaddr peer, key;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ipaddr_from_sockaddr(ci->client_addr, &peer) != 0 ||
	    ipnets_contain(s->trusted, s->ntrusted, &peer))
		return;
	/* The mark says the count was taken for this connection. */
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_ctx = s;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_ctx == s) {
		ipaddr_key(&peer, &key);
		addr_counts_give(s->conns, &key);
		*socket_ctx = NULL;
	}
}

/* ---- start and stop ---- */

/* Parses the ADDR[/PREFIX] list of an option (checked by main). */
static int
parse_nets(const char *opt, const char *const *v, size_t n,
    struct ipnet **out, struct report *rep)
{
	size_t i;

	*out = NULL;
	if (n == 0)
		return 0;
	if ((*out = calloc(n, sizeof(**out))) == NULL)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	for (i = 0; i < n; i++)
		if (ipnet_parse(v[i], &(*out)[i]) != 0) {
			cli_usage_error(rep, "%s %s is not ADDRESS[/PREFIX]",
			    opt, v[i]);
			return E2E_EX_USAGE;
		}
	return 0;
}

static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len,
    int *v6)
{
	char host[128];
	const char *colon;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (colon == NULL || (size_t)(colon - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(colon - s - 1));
		host[colon - s - 1] = '\0';
		colon++;
	} else {
		/* A bare IPv6 address is ambiguous (is ::1:80 a port?):
		 * it must be in brackets. */
		colon = strchr(s, ':');
		if (colon == NULL || strchr(colon + 1, ':') != NULL ||
		    (size_t)(colon - s) >= sizeof(host))
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || port > 65535)
		return -1;
	*v6 = 0;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) ==
	    1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host,
	    &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in6);
		*v6 = 1;
		return 0;
	}
	return -1;
}

static void
raise_fd_limit(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < want + 64) {
		rl.rlim_cur = want + 64 > rl.rlim_max ? rl.rlim_max : want + 64;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Shows at once what a start-up step said, a warning of a step that
 * went well too: the later steps print on their own (the log, the port
 * on stdout), after it. Returns rc. */
static int
shown(struct report *rep, int rc)
{
	log_report(rep);
	report_clear(rep);
	return rc;
}

/* A message stored by another instance (store_listen): its recipient's
 * waiting receivers look again. */
static void
mail_heard(void *arg, const char *user_id)
{
	waiters_bump(arg, user_id);
}

/* Opens the store and sets up all that a request uses: start() but
 * the listening. */
static int
start_state(struct server *s, struct report *rep)
{
	struct server_config *c = &s->cfg;
	int rc;
	size_t i;
	int64_t n;

	if ((rc = shown(rep, parse_nets("--trusted-proxy", c->trusted_proxies,
	    c->ntrusted_proxies, &s->trusted, rep))) != 0 ||
	    (rc = shown(rep, parse_nets("--metrics-allow", c->metrics_allow,
	    c->nmetrics_allow, &s->metrics_allow, rep))) != 0)
		return rc;
	s->ntrusted = c->ntrusted_proxies;
	s->nmetrics_allow = c->nmetrics_allow;
	json_object_seed(0);	/* before any thread makes objects */
	/* A bad secret file is refused before a database is created. */
	if (c->secret_file != NULL &&
	    (rc = shown(rep, auth_secret_load(&s->keys, c->secret_file, NULL,
	    rep))) != 0)
		return rc;
	if (store_open(&s->store, store_backend_for(c->db), c->db, rep) != 0) {
		/* As the store says: a usage error (a password in the URL),
		 * a database not reachable (75), one that cannot be made. */
		rc = rep->code != 0 ? rep->code : E2E_EX_CANTCREAT;
		return shown(rep, rc);
	}
	if (c->secret_file == NULL &&
	    (rc = shown(rep, auth_secret_load(&s->keys, NULL, &s->store,
	    rep))) != 0)
		return rc;
	/* Every server on the database signs with the same secret. */
	if ((rc = shown(rep, auth_secret_check(&s->keys, c->secret_file,
	    c->secret_rotate, &s->store, rep))) != 0)
		return rc;
	if (c->secret_rotate)
		log_note("the token secret is replaced: tokens issued before "
		    "are refused");
	s->keys.ttl = c->token_ttl;
	/* The hash a sign-in for an unknown name is checked against, so it
	 * takes as long as a real one (B4). */
	if (auth_password_hash("no such user", 12, c->bcrypt_cost,
	    s->dummy_hash) != 0)
		return report_error(rep, E2E_EX_SOFTWARE,
		    "bcrypt does not work here");
	/* An original server's users and messages, before serving. */
	if ((rc = import_run(&s->store, c)) != 0)
		return rc;
	store_commit_delay(&s->store, c->commit_delay, requests_under_way, s);
	for (i = 0; i < nroutes && i < 32; i++)
		s->route_names[i] = routes[i].name;
	s->metrics = metrics_new(s->route_names, nroutes);
	if ((rc = shown(rep, guard_start(s, rep))) != 0)
		return rc;
	s->waiters = waiters_new(c->poll_interval, rep);
	/* Messages stored by other instances wake this one's receivers at
	 * once where the database tells (PostgreSQL); else the poll. */
	if (s->waiters != NULL && store_listen(&s->store, mail_heard,
	    s->waiters, rep) != 0)
		return E2E_EX_SOFTWARE;
	s->cache = cache_new(8192);
	s->conns = addr_counts_new();
	s->inflight = addr_counts_new();
	{
		struct sockwatch_config wc = {
			.max_watched = c->max_connections,
			.max_lingering = LINGER_MAX,
			.linger_ms = c->linger * 1000,
			.linger_bytes = LINGER_BYTES,
			.gone = req_gone,
			.resume = req_gone_resume,
		};

		s->watch = sockwatch_new(&wc, rep);
	}
	if (s->metrics == NULL || s->waiters == NULL || s->cache == NULL ||
	    s->conns == NULL || s->inflight == NULL || s->watch == NULL)
		return report_error(rep, E2E_EX_SOFTWARE,
		    "cannot start the server");
	if (s->store.be->count_messages(&s->store, &n) == STORE_OK)
		metrics_set_messages(s->metrics, n);
	return 0;
}

/* Opens, listens and prints the port. Each step's lines are shown as it
 * ends (shown()); the line of a failure found here, server_run shows. */
static int
start(struct server *s, struct report *rep)
{
	struct server_config *c = &s->cfg;
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *di;
	socklen_t sslen;
	int v6, rc;
	unsigned flags;

	if (parse_listen(c->listen, &ss, &sslen, &v6) != 0) {
		cli_usage_error(rep, "--listen %s is not ADDRESS:PORT",
		    c->listen);
		return E2E_EX_USAGE;
	}
	if ((rc = start_state(s, rep)) != 0)
		return rc;
	raise_fd_limit(c->max_connections + LINGER_MAX);
	flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
	s->daemon = MHD_start_daemon(flags, ntohs(v6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port), conn_allowed, s,
	    on_request, s,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, c->threads,
	    MHD_OPTION_CONNECTION_LIMIT, c->max_connections,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
	    MHD_OPTION_CONNECTION_TIMEOUT, c->conn_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape, s,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024,
	    MHD_OPTION_END);
	if (s->daemon == NULL)
		return report_error(rep, E2E_EX_TEMPFAIL, "cannot listen on %s",
		    c->listen);
	di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	if ((rc = set_public_url(s, &ss, v6, di != NULL ? (unsigned)di->port :
	    0, rep)) != 0)
		return rc;
	log_port(di != NULL ? (unsigned)di->port : 0);
	return 0;
}

/* Returns 0 once no request is in flight, -1 after the deadline. */
static int
wait_idle(struct server *s, int seconds)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&s->active_lock);
	while (s->active > 0 && rc == 0)
		if (pthread_cond_timedwait(&s->idle, &s->active_lock,
		    &until) == ETIMEDOUT)
			rc = -1;
	if (rc == 0)
		s->closed = 1;
	pthread_mutex_unlock(&s->active_lock);
	return rc;
}

/*
 * Shutdown: no new connections; waiting receivers are answered now;
 * requests in flight finish (their bcrypt and database jobs complete and
 * answer); then everything stops. A request stuck past the deadline
 * leaves its memory to the process's exit rather than risk a job waking
 * a freed connection.
 */
static int
stop(struct server *s)
{
	int clean = 1;

	s->stopping = 1;
	if (s->daemon != NULL) {
		(void)MHD_quiesce_daemon(s->daemon);
		if (s->waiters != NULL)
			waiters_wake_all(s->waiters);
		if (wait_idle(s, 5) != 0) {
			log_warn("requests still in flight after 5 s; exiting "
			    "without waiting for them");
			clean = 0;
		} else {
			MHD_stop_daemon(s->daemon);
			s->daemon = NULL;
		}
	}
	if (!clean)
		return -1;
	workers_stop(s->slow);
	(void)store_listen(&s->store, NULL, NULL, NULL);
	waiters_free(s->waiters);
	sockwatch_free(s->watch);
	addr_counts_free(s->conns);
	addr_counts_free(s->inflight);
	budget_destroy(&s->bodies);
	free(s->trusted);
	free(s->metrics_allow);
	store_close(&s->store);
	metrics_free(s->metrics);
	cache_free(s->cache);
	guard_stop(s);
	wipe(&s->keys, sizeof(s->keys));
	return 0;
}

int
server_run(const struct server_config *c)
{
	struct server *s;
	struct report rep = { 0 };
	sigset_t set;
	int sig, rc;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_error("out of memory");
		return E2E_EX_SOFTWARE;
	}
	s->cfg = *c;
	budget_init(&s->bodies, c->max_body_memory);
	pthread_mutex_init(&s->active_lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	/* Every thread started from here on blocks these; this one waits
	 * for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	rc = start(s, &rep);
	log_report(&rep);
	if (rc == 0) {
		if (sigwait(&set, &sig) == 0)
			log_note("%s: shutting down",
			    sig == SIGTERM ? "SIGTERM" : "SIGINT");
	}
	if (stop(s) != 0) {
		/* Threads still run requests: exit() would run the libraries'
		 * atexit cleanups (OpenSSL's) under them, which aborted a
		 * loaded test run (134). The process ends here, touching
		 * nothing else. */
		fflush(NULL);
		_exit(rc);
	}
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->active_lock);
	free(s);
	return rc;
}

#ifdef E2E_TEST_HOOKS
/* ---- the test driver (httpd.h): no libmicrohttpd, no sockets ---- */

#define TEST_ARGS_MAX 64
/* Body bytes per call, as libmicrohttpd hands them over (its buffer). */
#define TEST_PIECE ((size_t)16 * 1024)
/* A suspended request not resumed by then is stuck (a hang). */
#define TEST_BOUND_MS 60000

struct test_conn {
	struct httpd_test_header *headers;	/* copies, NUL-terminated */
	size_t nheaders;
	struct {
		const char *key, *value;	/* value NULL: "key" alone */
		size_t value_len;
	} args[TEST_ARGS_MAX];
	size_t nargs;
	struct sockaddr_storage peer;
	int have_peer;
	/* A pipe standing for the connection: the server watches (and
	 * lingers on) the read end; the client hangs up by closing the
	 * write end. */
	int fd[2];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int resumed;
	int queued;
	struct httpd_test_answer *a;
};

static void
test_header_copy(struct MHD_Response *resp, const char *name, char *out,
    size_t size)
{
	const char *v = MHD_get_response_header(resp, name);

	snprintf(out, size, "%s", v != NULL ? v : "");
}

static enum MHD_Result
test_queue(struct test_conn *tc, unsigned status, struct MHD_Response *resp,
    const char *body, size_t len)
{
	struct httpd_test_answer *a = tc->a;
	char conn[16];

	/* As libmicrohttpd: one answer per request. */
	if (tc->queued)
		return MHD_NO;
	tc->queued = 1;
	a->status = status;
	if (len > 0 && buf_append(&a->body, body, len) != 0)
		return MHD_NO;
	test_header_copy(resp, "Content-Type", a->type, sizeof(a->type));
	test_header_copy(resp, "Retry-After", a->retry_after,
	    sizeof(a->retry_after));
	test_header_copy(resp, "Allow", a->allow, sizeof(a->allow));
	test_header_copy(resp, "Connection", conn, sizeof(conn));
	a->close = strcmp(conn, "close") == 0;
	return MHD_YES;
}

static void
test_under_way(struct test_conn *tc, unsigned n)
{
	tc->a->under_way = n;
}

static void
test_resume(struct test_conn *tc)
{
	pthread_mutex_lock(&tc->lock);
	tc->resumed = 1;
	pthread_cond_broadcast(&tc->cond);
	pthread_mutex_unlock(&tc->lock);
}

/* As libmicrohttpd: the first value of that name, the name's case
 * ignored. */
static int
test_lookup(struct test_conn *tc, enum MHD_ValueKind kind, const char *name,
    const char **v, size_t *len)
{
	size_t i;

	if (kind == MHD_HEADER_KIND) {
		for (i = 0; i < tc->nheaders; i++)
			if (strcasecmp(tc->headers[i].name, name) == 0) {
				*v = tc->headers[i].value;
				*len = tc->headers[i].value_len;
				return MHD_YES;
			}
	} else if (kind == MHD_GET_ARGUMENT_KIND) {
		for (i = 0; i < tc->nargs; i++)
			if (strcasecmp(tc->args[i].key, name) == 0) {
				*v = tc->args[i].value;
				*len = tc->args[i].value_len;
				return MHD_YES;
			}
	}
	return MHD_NO;
}

static void
test_values(struct test_conn *tc, enum MHD_ValueKind kind,
    MHD_KeyValueIteratorN it, void *cls)
{
	size_t i;

	if (kind == MHD_HEADER_KIND) {
		for (i = 0; i < tc->nheaders; i++)
			if (it(cls, kind, tc->headers[i].name,
			    strlen(tc->headers[i].name), tc->headers[i].value,
			    tc->headers[i].value_len) != MHD_YES)
				return;
	} else if (kind == MHD_GET_ARGUMENT_KIND) {
		for (i = 0; i < tc->nargs; i++)
			if (it(cls, kind, tc->args[i].key,
			    strlen(tc->args[i].key), tc->args[i].value,
			    tc->args[i].value_len) != MHD_YES)
				return;
	}
}

static const struct sockaddr *
test_peer(struct test_conn *tc)
{
	return tc->have_peer ? (const struct sockaddr *)&tc->peer : NULL;
}

static int
test_fd(struct test_conn *tc)
{
	return tc->fd[0];
}

/* "a=1&b" into arguments, as libmicrohttpd splits and decodes them ('+'
 * a space, then the unescape callback); q is cut in place. */
static void
test_args(struct test_conn *tc, char *q)
{
	char *p, *eq;

	while (q != NULL && tc->nargs < TEST_ARGS_MAX) {
		p = q;
		if ((q = strchr(q, '&')) != NULL)
			*q++ = '\0';
		if (*p == '\0')
			continue;
		if ((eq = strchr(p, '=')) != NULL)
			*eq++ = '\0';
		for (char *c = p; *c != '\0'; c++)
			if (*c == '+')
				*c = ' ';
		(void)unescape(NULL, NULL, p);
		tc->args[tc->nargs].key = p;
		tc->args[tc->nargs].value = NULL;
		tc->args[tc->nargs].value_len = 0;
		if (eq != NULL) {
			for (char *c = eq; *c != '\0'; c++)
				if (*c == '+')
					*c = ' ';
			tc->args[tc->nargs].value = eq;
			tc->args[tc->nargs].value_len = unescape(NULL, NULL,
			    eq);
		}
		tc->nargs++;
	}
}

static int64_t
test_now_ms(void)
{
	return mono_ns() / 1000000;
}

/* Waits up to ms for a resume: 1 when it came (and is taken), else 0. */
static int
test_wait(struct test_conn *tc, unsigned ms)
{
	struct timespec until;
	int got;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&tc->lock);
	while (!tc->resumed && pthread_cond_timedwait(&tc->cond, &tc->lock,
	    &until) != ETIMEDOUT)
		;
	got = tc->resumed;
	tc->resumed = 0;
	pthread_mutex_unlock(&tc->lock);
	return got;
}

/* How many body bytes libmicrohttpd hands over, and whether the client
 * then stops short of what it announced (*stalls). */
static size_t
test_body_len(struct test_conn *tc, const struct httpd_test_request *rq,
    int *stalls)
{
	const char *v;
	size_t len;
	char *end;
	unsigned long long n;

	*stalls = 0;
	if (test_lookup(tc, MHD_HEADER_KIND, "Transfer-Encoding", &v, &len) ==
	    MHD_YES)
		return rq->body_len;
	if (test_lookup(tc, MHD_HEADER_KIND, "Content-Length", &v, &len) !=
	    MHD_YES)
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0')
		return 0;
	if (n > rq->body_len) {
		*stalls = 1;
		return rq->body_len;
	}
	return (size_t)n;
}

static void
test_conn_free(struct test_conn *tc)
{
	size_t i;

	for (i = 0; i < tc->nheaders; i++) {
		free((char *)tc->headers[i].name);
		free((char *)tc->headers[i].value);
	}
	free(tc->headers);
	if (tc->fd[0] >= 0)
		close(tc->fd[0]);
	if (tc->fd[1] >= 0)
		close(tc->fd[1]);
	pthread_cond_destroy(&tc->cond);
	pthread_mutex_destroy(&tc->lock);
}

static int
test_conn_init(struct test_conn *tc, const struct httpd_test_request *rq,
    struct httpd_test_answer *a)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)&tc->peer;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&tc->peer;
	struct httpd_test_header *h;
	size_t i;

	memset(tc, 0, sizeof(*tc));
	tc->fd[0] = tc->fd[1] = -1;
	tc->a = a;
	pthread_mutex_init(&tc->lock, NULL);
	pthread_cond_init(&tc->cond, NULL);
	if (pipe2(tc->fd, O_NONBLOCK | O_CLOEXEC) != 0)
		return -1;
	if (rq->peer != NULL && inet_pton(AF_INET, rq->peer,
	    &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		tc->have_peer = 1;
	} else if (rq->peer != NULL && inet_pton(AF_INET6, rq->peer,
	    &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		tc->have_peer = 1;
	}
	if (rq->nheaders > 0 && (tc->headers = calloc(rq->nheaders,
	    sizeof(*tc->headers))) == NULL)
		return -1;
	for (i = 0; i < rq->nheaders; i++) {
		h = &tc->headers[tc->nheaders];
		if ((h->name = strdup(rq->headers[i].name)) == NULL ||
		    (h->value = malloc(rq->headers[i].value_len + 1)) == NULL) {
			free((char *)h->name);
			return -1;
		}
		memcpy((char *)h->value, rq->headers[i].value,
		    rq->headers[i].value_len);
		((char *)h->value)[rq->headers[i].value_len] = '\0';
		h->value_len = rq->headers[i].value_len;
		tc->nheaders++;
	}
	return 0;
}

int
httpd_test_run(struct server *s, const struct httpd_test_request *rq,
    struct httpd_test_answer *a)
{
	enum MHD_RequestTerminationCode code =
	    MHD_REQUEST_TERMINATED_COMPLETED_OK;
	const uint8_t *body = rq->body;
	struct test_conn tc;
	struct req *r = NULL;
	char *url = NULL, *q;
	size_t n, at, piece;
	int64_t hangup_at = 0, left;
	int stalls, watched, rc = 0;

	memset(a, 0, sizeof(*a));
	if (test_conn_init(&tc, rq, a) != 0 ||
	    (url = strdup(rq->target)) == NULL)
		goto out;	/* out of memory: no answer */
	/* The query apart, then the path decoded. */
	if ((q = strchr(url, '?')) != NULL)
		*q++ = '\0';
	test_args(&tc, q);
	(void)unescape(NULL, NULL, url);
	if ((r = begin(s, NULL, &tc, url, rq->method)) == NULL)
		goto out;
	if (!r->answered) {
		n = test_body_len(&tc, rq, &stalls);
		for (at = 0; at < n; at += piece) {
			piece = n - at < TEST_PIECE ? n - at : TEST_PIECE;
			if (!r->answered && absorb(r, (const char *)body + at,
			    piece) != MHD_YES) {
				code = MHD_REQUEST_TERMINATED_WITH_ERROR;
				goto done;
			}
		}
		if (stalls) {
			code = MHD_REQUEST_TERMINATED_TIMEOUT_REACHED;
			goto done;
		}
		advance(r);
	}
	while (!r->answered && r->suspended) {
		/* A long-poll woken to look again (the poll) and waiting
		 * again: its client's patience runs from its first wait. */
		watched = r->watch_id != 0 && tc.fd[1] >= 0;
		if (watched && hangup_at == 0)
			hangup_at = test_now_ms() + rq->hangup_ms;
		left = hangup_at - test_now_ms();
		if (!test_wait(&tc, !watched ? TEST_BOUND_MS : left > 0 ?
		    (unsigned)left : 0)) {
			/* Still waiting: the client of a long-poll hangs up
			 * (sockwatch sees it); anything else is stuck. */
			if (watched) {
				close(tc.fd[1]);
				tc.fd[1] = -1;
			}
			if (!watched || !test_wait(&tc, TEST_BOUND_MS)) {
				/* Left as it is (it points at tc): the caller
				 * reports a hang and ends. */
				rc = -1;
				goto out;
			}
		}
		advance(r);
	}
	if (r->gone)
		code = MHD_REQUEST_TERMINATED_CLIENT_ABORT;
done:
	on_completed(s, NULL, (void **)&r, code);
out:
	if (rc == 0) {
		test_conn_free(&tc);
		free(url);
	}
	return rc;
}

void
httpd_test_answer_free(struct httpd_test_answer *a)
{
	buf_free(&a->body);
}

int
httpd_test_open(const struct server_config *c, struct server **out,
    struct report *rep)
{
	struct server *s;
	int rc;

	*out = NULL;
	if (c->public_url == NULL)
		return report_error(rep, E2E_EX_USAGE, "httpd_test_open needs "
		    "a public URL");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	s->cfg = *c;
	budget_init(&s->bodies, c->max_body_memory);
	pthread_mutex_init(&s->active_lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	*out = s;
	if ((rc = start_state(s, rep)) != 0)
		return rc;
	/* With a public URL, no address is looked at. */
	return set_public_url(s, NULL, 0, 0, rep);
}

void
httpd_test_close(struct server *s)
{
	if (s == NULL)
		return;
	if (stop(s) != 0)
		return;
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->active_lock);
	free(s);
}
#endif
