/*
 * http.h - one HTTP exchange with the server, on libcurl, as every client
 * tool needs it: TLS verified by libcurl's checks (with --cacert and
 * --pin on top, never switched off), plain http only to loopback unless
 * allowed, proxies as libcurl reads them, no redirects followed (a
 * redirect would carry the token elsewhere), answers capped in size,
 * failures to connect and 5xx answers retried with backoff within a
 * bounded time, and -v showing the exchange with every secret masked.
 */
#ifndef E2E_HTTP_H
#define E2E_HTTP_H

#include <signal.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/report.h"

struct http_opts {
	const char *server;	/* base URL: http(s)://host[:port][/prefix] */
	const char *cacert;	/* trust only this CA file, or NULL */
	const char *pin;	/* "sha256//..." public key pin(s), or NULL */
	const char *proxy;	/* or NULL: libcurl's environment variables */
	const char *proxy_from;	/* where proxy comes from, for errors
				 * (NULL: "--proxy") */
	int insecure_http;	/* plain http to a host that is not loopback,
				 * or through a proxy that is not */
	int verbose;
	/* -v: each line of the exchange (secrets masked), as it happens,
	 * without its newline; NULL: not shown. */
	void (*trace)(const char *line);
	long retry_ms;		/* time allowed for retries; 0: none */
	/* When set and it becomes non-zero (a signal handler), the exchange
	 * under way is abandoned within about a second (http_call: 75,
	 * nothing reported). */
	volatile sig_atomic_t *stop;
	size_t max_answer;	/* no answer larger; 0: HTTP_ANSWER_MAX */
};

/* Whether a request may be sent again after a failure that may have
 * happened after the server acted on it (a lost answer). */
enum http_retry {
	HTTP_RETRY_SAFE,	/* reading, or acting twice does no harm */
	HTTP_RETRY_UNSENT,	/* only when it surely never arrived */
};

struct http_req {
	const char *method;	/* "GET", "POST", "DELETE" */
	const char *path;	/* "/messages?limit=10", appended to server */
	const char *type;	/* Content-Type of body, or NULL */
	const void *body;
	size_t body_len;
	const char *token;	/* sent as "Authorization: Bearer", or NULL */
	int secret;		/* -v shows neither body (passwords, token) */
	enum http_retry retry;
	long wait_s;		/* the server may hold the answer this long */
	/* The route's own cap (0: none), under http_opts.max_answer. */
	size_t max_answer;
};

#define HTTP_ANSWER_MAX ((size_t)64 << 20)

struct http_resp {
	long status;
	struct buf body;	/* wiped when freed */
	long retry_after;	/* seconds, from Retry-After, or -1 */
	int json;		/* Content-Type is application/json */
};

struct http;

/*
 * Checks the options (the URL's scheme and host, plain http to loopback
 * only) and prepares a connection. Plain http (without insecure_http)
 * goes only directly or through a proxy on loopback: the proxy libcurl
 * would use (proxy, else http_proxy, all_proxy, ALL_PROXY, unless
 * no_proxy or NO_PROXY names the host) is decided here, before any
 * connection, and then imposed on libcurl. Returns 0, or an exit code
 * (in rep): 64 (a bad or refused URL), 78 (plain http through a proxy
 * that is not on loopback), 70.
 */
int http_open(struct http **hp, const struct http_opts *o,
    struct report *rep);

/* Refuses (64, in rep) a proxy URL libcurl would not use. */
int http_check_proxy(const char *proxy, struct report *rep);

/*
 * Sends rq and receives the answer into rs (any status). Returns 0 when
 * an answer came (a 5xx only when the retries are spent), or an exit
 * code, in rep: 75 (cannot connect, timeout, 5xx), 69 (the server's
 * certificate or pin is refused), 76 (the answer is too large: refused
 * as soon as it passes the cap, never buffered beyond it), 70. The -v
 * lines, a pause's "* trying again" among them, go to http_opts.trace
 * as they happen.
 */
int http_call(struct http *h, const struct http_req *rq,
    struct http_resp *rs, struct report *rep);

/* 1 when the last http_call failed because the answer passed its cap
 * (a caller that then asks for less drops that report). */
int http_answer_too_large(const struct http *h);

void http_resp_free(struct http_resp *rs);

/* The base URL in use (without a final "/"). */
const char *http_server(const struct http *h);

void http_close(struct http *h);

#ifdef E2E_TEST_HOOKS
/*
 * Tests and fuzz targets only: http_call asks fn for the answer instead
 * of the network (fn fills rs: status, body, json, retry_after, and
 * returns 0). A 5xx other than 507 is a failure (75), an answer over
 * the cap is refused (76), as from the network. NULL: the network.
 */
void http_test_set_responder(int (*fn)(const struct http_req *rq,
    struct http_resp *rs, void *arg), void *arg);
#endif

#endif
