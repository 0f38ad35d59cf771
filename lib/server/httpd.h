/*
 * httpd.h - the HTTP layer (httpd.c) as the routes (routes.c) and the
 * guards (guard.c) see it: the server's state and one request's, the
 * answers, suspending and resuming a request. Internal to lib/server;
 * the server's public interface is server.h.
 */
#ifndef E2E_HTTPD_H
#define E2E_HTTPD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "base/buf.h"
#include "format/keyproof.h"
#include "server/auth.h"
#include "server/budget.h"
#include "server/cache.h"
#include "server/metrics.h"
#include "server/peers.h"
#include "server/rate.h"
#include "server/server.h"
#include "server/sockwatch.h"
#include "server/store.h"
#include "server/throttle.h"
#include "server/waiters.h"
#include "server/workers.h"

struct req;
/* The test driver's stand-in for a libmicrohttpd connection (tests and
 * fuzz targets only: httpd_test_run). */
struct test_conn;

/* What a route needs: a body (and how big), a signed-in user. */
struct route {
	const char *method;
	const char *path;	/* a trailing '/' takes one more segment */
	int auth;
	size_t body_cap;	/* 0: no body; SIZE_MAX: the message limit */
	void (*handle)(struct req *r);
	const char *name;	/* for metrics */
	unsigned flags;		/* ROUTE_* */
};

/* The route may give the writer a job: counted under way while it runs
 * (store_commit_delay), so that the writer waits for it; a route that
 * only reads never makes a lone send wait the commit delay. */
#define ROUTE_WRITES 1u
/* Its job reads the sender again in the writer's transaction
 * (store_send, in the send's own statement on PostgreSQL): the token's
 * user is then read once per request, at the headers, and a sign-out or
 * a deletion while the body was on its way is still refused (T4). */
#define ROUTE_SENDER_IN_JOB 2u

extern const struct route routes[];
extern const size_t nroutes;

struct server {
	struct server_config cfg;
	struct store store;
	struct auth_keys keys;
	struct MHD_Daemon *daemon;
	struct waiters *waiters;
	struct workers *slow;		/* bcrypt */
	struct throttle *signin_pairs, *signin_addrs, *signup_addrs;
	/* Accounts, mailboxes and rates (guard.c). */
	struct rate *send_rates, *signin_account_rates, *signin_addr_rates;
	struct auth_costs costs;
	struct metrics *metrics;
	struct cache *cache;		/* recent tokens and names */
	const char *route_names[32];
	char dummy_hash[STORE_HASH_MAX + 1];
	atomic_int stopping;		/* read by request threads */
	/* The HTTP layer's limits (httpd.c). */
	struct budget bodies;		/* --max-body-memory */
	struct sockwatch *watch;	/* hang-ups, lingering closes */
	struct addr_counts *conns;	/* connections per peer key */
	struct addr_counts *inflight;	/* requests per client key */
	struct ipnet *trusted;		/* --trusted-proxy */
	size_t ntrusted;
	struct ipnet *metrics_allow;	/* --metrics-allow */
	size_t nmetrics_allow;
	pthread_mutex_t active_lock;
	pthread_cond_t idle;
	unsigned active;		/* requests not completed */
	int closed;			/* stop saw none: no more counted */
	atomic_uint under_way;		/* requests neither answered nor
					 * suspended (store_commit_delay) */
	/* The aud of key proofs (keyproof_url form), set once the port is
	 * bound; public_url_ready says so (release/acquire). */
	char public_url[KEYPROOF_URL_MAX];
	int public_url_ready;
};

struct req {
	struct server *srv;
	struct MHD_Connection *conn;
	struct test_conn *test;	/* NULL but in httpd_test_run */
	const struct route *route;
	size_t route_index;
	char method[8];
	char path[256];
	char param[128];	/* the segment after a prefix route */
	/* The client: behind a trusted proxy the one it names, else the
	 * peer. addr is the key of every per-address limit and the log's:
	 * an IPv4 address, or an IPv6 client's /64 ("2001:db8:1:2::/64"). */
	char addr[64];
	struct ipaddr client;	/* the whole address */
	struct ipaddr key;	/* what addr says */
	int counted;		/* holds one of srv->inflight */
	int uncounted;		/* not in srv->active (closed) */
	int64_t start_ns;
	unsigned status;
	int answered;
	int dispatched;
	int broken;		/* a header or argument held a NUL byte */

	struct buf body;
	size_t cap;
	int too_large;
	size_t discarded;
	json_t *params;		/* the body's fields */
	int has_body;		/* a Content-Length over 0, or chunked */
	int body_done;		/* the last call came: the body is in */
	int early;		/* answered before the body was in */
	size_t reserved;	/* of srv->bodies */
	int anon;		/* no token header: a small body, anon budget */
	int authed;		/* the token header was checked (r->user) */
	int sender_in_job;	/* r->user is read again by the job */
	unsigned retry_after;	/* seconds, for 429 and 503 */

	struct store_user user;	/* the token's user, when route->auth */

	/* Waiting for a job or a message. */
	int suspended;
	int resumed;
	int under_way;		/* counted in srv->under_way */
	void (*cont)(struct req *r);
	int result;		/* a store job's result */
	/* A watched suspension (req_suspend_watched). */
	uint64_t watch_id;
	int (*cancel)(struct req *r);
	int gone;		/* the client hung up while suspended */

	/* Scratch space of the routes. */
	struct store_job job;
	struct work work;
	struct waiter waiter;
	struct throttle_waiter twait;
	int name_turn, addr_turn;
	uint64_t seq;
	int64_t wait_until_ms;
	int attempts;
	char *secret;		/* a password, wiped */
	size_t secret_len;
	size_t secret_split;	/* a password change: the old one, then the
				 * new one from here */
	int pw_change;
	int del_account;	/* an account's deletion: its password checked
				 * as a sign-in first */
	int busy;		/* the bcrypt queue refused it (workers.h) */
	int rates_taken;	/* the sign-in's tokens of its rates */
	int shared;		/* the limits every server shares (guard.h):
				 * 1 asked, 2 let through, -1 not counted
				 * (the database failed) */
	const char *limited;	/* their refusal's words (429) */
	char pair[48];		/* the sign-in's name and address (guard.h) */
	int ok;
	char hash[STORE_HASH_MAX + 1];
	struct store_user other;
	struct store_message msg;
	struct store_message_list list;
	struct store_key_list keys;
	char **ids;
	size_t nids, deleted;
	char from[STORE_NAME_MAX + 1];
	char after[STORE_ID_LEN + 1];
	size_t limit;
	/* Identity: the name a new one clashes with, when it was deleted;
	 * the key refused. */
	char clash[STORE_NAME_MAX + 1];
	int64_t clash_at;
	size_t bad_key;
	/* Prekeys (routes.c): the identity keys' stock; the prekeys
	 * published (the one-time ones, then the signed one) or claimed
	 * (two a key of stock: its one-time one, then its signed one). */
	struct store_prekey_stock_list stock;
	struct store_prekey *prekeys;
	size_t nprekeys;
	int has_signed;
	char prekey_kid[STORE_KID_LEN + 1];
	size_t added;
	int64_t one_time;
};

/* Answers; body is consumed (may be NULL). */
void respond_json(struct req *r, unsigned status, json_t *body);
void respond_error(struct req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void respond_text(struct req *r, unsigned status, const char *type,
    struct buf *body);
/* A JSON answer already encoded: text (len bytes, malloc'd) is taken. */
void respond_json_text(struct req *r, unsigned status, char *text,
    size_t len);

/* Suspends r until req_resume(); cont then runs on a connection thread.
 * Call from a handler or continuation, before handing r to another
 * thread. */
void req_suspend(struct req *r, void (*cont)(struct req *r));
/* From any thread. */
void req_resume(struct req *r);

/*
 * As req_suspend, for a wait that only a hang-up should cut short (a
 * long-poll): if the client goes away meanwhile, cancel(r) runs (on
 * another thread, under a lock: it must not block) and returns 1 when it
 * took r out of whatever would have resumed it; the request then ends at
 * once, without cont, freeing its connection and its per-address slot.
 * When cancel returns 0, the pending resume ends it instead.
 */
void req_suspend_watched(struct req *r, void (*cont)(struct req *r),
    int (*cancel)(struct req *r));

/* A string field of the body: NULL when absent; a present field of
 * another type answers 400 and sets *bad. */
const char *req_field(struct req *r, const char *name, size_t *len,
    int *bad);

/* A query argument: NULL when absent (or broken, see r->broken). */
const char *req_query(struct req *r, const char *name);

/* Seconds since the epoch. */
int64_t srv_now(void);

/* A user by name, through the cache (for recipients; not for sign-in,
 * which must see the stored hash as it is now). */
int srv_user_by_name(struct server *s, const char *name,
    struct store_user *u);

/* The server's URL for key proofs, once known (else NULL). */
const char *srv_public_url(struct server *s);

#ifdef E2E_TEST_HOOKS
/*
 * Tests and fuzz targets only (never in a normal build): the server
 * without libmicrohttpd and without sockets. httpd_test_open does what
 * server_run does before it listens (the store, the secret, the guards,
 * the workers, the waiters; c->public_url must be set); httpd_test_run
 * takes one request through the steps libmicrohttpd's callbacks take
 * (the same begin, body, dispatch, routes, continuations and completion)
 * on the calling thread, and gives its answer.
 */
struct httpd_test_header {
	const char *name;	/* a C string */
	const char *value;	/* value_len bytes, NUL bytes allowed */
	size_t value_len;
};

struct httpd_test_request {
	const char *method;
	const char *target;	/* the path, then '?' and the query, as on
				 * the request line (percent-encoded) */
	const struct httpd_test_header *headers;
	size_t nheaders;
	/* The bytes after the headers. As libmicrohttpd hands them over:
	 * with a Transfer-Encoding (taken as decoded), all of them; with
	 * a Content-Length, that many (fewer: the client stops sending and
	 * the connection times out); with neither, none. */
	const void *body;
	size_t body_len;
	const char *peer;	/* the client's IPv4 or IPv6 address */
	/* A request still suspended and watched (a long-poll) after this
	 * long: its client hangs up (the watched descriptor's other end is
	 * closed). */
	unsigned hangup_ms;
};

struct httpd_test_answer {
	unsigned status;	/* 0: none (the connection was dropped) */
	struct buf body;
	char type[64];		/* Content-Type, Retry-After, Allow */
	char retry_after[16];
	char allow[64];
	int close;		/* Connection: close */
	/* srv->under_way when the route's handler began (this request
	 * included when it is counted). */
	unsigned under_way;
};

/* Returns 0, or an exit code (said in rep); *out is then still to be
 * closed. */
int httpd_test_open(const struct server_config *c, struct server **out,
    struct report *rep);
/* Returns 0, or -1 when a suspended request was not resumed within a
 * generous bound (a hang: the request is left as it is). */
int httpd_test_run(struct server *s, const struct httpd_test_request *rq,
    struct httpd_test_answer *a);
void httpd_test_answer_free(struct httpd_test_answer *a);
/* Stops and frees what httpd_test_open started. */
void httpd_test_close(struct server *s);
#endif

#endif
