/* http.c - HTTP exchanges with the server on libcurl (see http.h). */
#include "net/http.h"
#include "base/cli.h"
#include "base/err.h"
#include "base/term.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#define CONNECT_TIMEOUT_MS 10000L
/* An exchange that moves no byte for this long has failed (plus any
 * time the server may hold a long-poll). */
#define STALL_S 60L
#define BACKOFF_FIRST_MS 250L
#define BACKOFF_MAX_MS 4000L
#define VERBOSE_BODY_MAX 2048
#define HEADER_MAX 9216
#define URL_MAX 8192

struct http {
	CURL *curl;
	struct http_opts o;
	char *base;
	char errbuf[CURL_ERROR_SIZE];
	const struct http_req *rq;	/* the request under way, for -v */
	struct http_resp *rs;
	size_t cap;
	int too_large;
	int no_memory;	/* the answer's buffer could not grow */
	/* Plain http: the proxy is decided in http_open, not by libcurl. */
	int fixed_proxy;
	const char *proxy_use;	/* that proxy, or NULL: none */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* localhost, 127.0.0.0/8 and ::1: plain http never leaves the machine. */
static int
is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char h[64];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n > 2 && n < sizeof(h) && host[0] == '[' && host[n - 1] == ']') {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		return inet_pton(AF_INET6, h, &a6) == 1 &&
		    IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return 0;
}

/*
 * A Tor onion service's name (its last label "onion"). Tor encrypts the
 * whole way to the service, and the name is the service's own key: plain
 * http to it through Tor's SOCKS port on this machine keeps the token
 * and the password as secret as https would (check_plain_proxy sees to
 * the proxy).
 */
static int
is_onion(const char *host)
{
	size_t n = strlen(host);

	return n > 6 && strcasecmp(host + n - 6, ".onion") == 0;
}

/* The server URL: http or https, a host, no credentials, query or
 * fragment; plain http only to loopback or an onion service unless
 * allowed. */
static int
check_url(const char *url, int insecure_http, char **base,
    struct report *rep)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *part = NULL, safe[256];
	size_t n;
	int rc = E2E_EX_USAGE;

	term_escape(url, strlen(url), safe, sizeof(safe));
	if (u == NULL)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		report_error(rep, rc, "%s is not a server URL", safe);
		report_hint(rep, "give it as https://HOST[:PORT]");
		goto out;
	}
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		report_error(rep, rc, "%s: only http:// and https:// servers",
		    safe);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
		report_error(rep, rc, "%s: a server URL holds no user, query "
		    "or fragment", safe);
		goto out;
	}
	if (strcmp(scheme, "http") == 0 && !insecure_http &&
	    !is_loopback(host) && !is_onion(host)) {
		report_error(rep, rc, "refusing plain http:// to %s: the token "
		    "and the password would travel unencrypted", safe);
		report_hint(rep, "use https://, or --insecure-http if you "
		    "really mean it");
		goto out;
	}
	/* The URL as given, without a final "/": paths are appended. */
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if ((*base = strndup(url, n)) == NULL) {
		rc = report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		goto out;
	}
	rc = 0;
out:
	curl_free(part);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

/* A proxy URL libcurl can use: a typo is a usage error, not a network
 * failure worth retrying. */
int
http_check_proxy(const char *proxy, struct report *rep)
{
	static const char *const schemes[] = { "http://", "https://",
		"socks4://", "socks4a://", "socks5://", "socks5h://", NULL };
	char safe[256];
	size_t i;

	for (i = 0; schemes[i] != NULL; i++)
		if (strncasecmp(proxy, schemes[i], strlen(schemes[i])) == 0 &&
		    proxy[strlen(schemes[i])] != '\0')
			return 0;
	term_escape(proxy, strlen(proxy), safe, sizeof(safe));
	return report_error(rep, E2E_EX_USAGE, "%s is not a proxy URL "
	    "(http://, https://, socks4://, socks4a://, socks5:// or "
	    "socks5h://HOST:PORT)", safe);
}

/* ---- plain http and proxies ---- */

/* The host part of a proxy URL (libcurl takes one without a scheme as
 * http://), or NULL. Free with curl_free(). */
static char *
proxy_host(const char *proxy)
{
	CURLU *u = curl_url();
	char *host = NULL;

	if (u != NULL && (curl_url_set(u, CURLUPART_URL, proxy,
	    CURLU_NON_SUPPORT_SCHEME | CURLU_GUESS_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK))
		host = NULL;
	curl_url_cleanup(u);
	return host;
}

/* An address in brackets ("[::1]", as URLs write IPv6) without them. */
static int
unbracket(const char *s, size_t n, char *out, size_t size)
{
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n >= size)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* Whether the address a (of family af) is in the no_proxy entry tok, an
 * address with an optional /BITS (none: the address itself). */
static int
cidr_match(int af, const unsigned char *a, const char *tok)
{
	unsigned char net[16];
	char addr[64], *slash, *end;
	unsigned long bits;
	size_t full = af == AF_INET ? 32 : 128, i;

	if (unbracket(tok, strlen(tok), addr, sizeof(addr)) != 0)
		return 0;
	bits = full;
	if ((slash = strchr(addr, '/')) != NULL) {
		*slash = '\0';
		bits = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' ||
		    bits > full)
			return 0;
		if (bits == 0)
			bits = full;	/* as libcurl reads "/0" */
	}
	if (inet_pton(af, addr, net) != 1)
		return 0;
	for (i = 0; i < bits / 8; i++)
		if (a[i] != net[i])
			return 0;
	return bits % 8 == 0 ||
	    ((a[i] ^ net[i]) & (0xff << (8 - bits % 8)) & 0xff) == 0;
}

/*
 * Whether no_proxy (libcurl's syntax: "*", or entries separated by
 * commas or blanks; a name matches itself and its subdomains, an address
 * itself or, with /BITS, its network) names host.
 */
static int
noproxy_match(const char *host, const char *list)
{
	unsigned char a[16];
	char name[256], tok[256];
	const char *p = list, *t;
	size_t n, tl;
	int af = 0;

	if (strcmp(list, "*") == 0)
		return 1;
	if (unbracket(host, strlen(host), name, sizeof(name)) != 0)
		return 0;
	if (inet_pton(AF_INET, name, a) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, name, a) == 1)
		af = AF_INET6;
	n = strlen(name);
	if (af == 0 && n > 0 && name[n - 1] == '.')
		name[--n] = '\0';
	while (*p != '\0') {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		for (t = p; *p != '\0' && *p != ',' && *p != ' ' &&
		    *p != '\t'; p++)
			;
		if ((tl = (size_t)(p - t)) == 0 || tl >= sizeof(tok))
			continue;
		memcpy(tok, t, tl);
		tok[tl] = '\0';
		if (af != 0) {
			if (cidr_match(af, a, tok))
				return 1;
			continue;
		}
		if (tok[tl - 1] == '.')
			tok[--tl] = '\0';
		t = tok[0] == '.' ? tok + 1 : tok;
		tl = strlen(t);
		if (tl == 0)
			continue;
		if ((tl == n && strcasecmp(t, name) == 0) || (tl < n &&
		    name[n - tl - 1] == '.' && strcasecmp(t, name + n - tl) ==
		    0))
			return 1;
	}
	return 0;
}

/*
 * Plain http to host (loopback, or allowed): the proxy libcurl would
 * use, as libcurl 7.88 decides it (url.c), or NULL. *from says where it
 * comes from. HTTP_PROXY is not read, as libcurl does not for http://
 * (a CGI program's request can set it).
 */
static const char *
plain_proxy(const struct http_opts *o, const char *host, const char **from)
{
	static const char *const vars[] = { "http_proxy", "all_proxy",
		"ALL_PROXY", NULL };
	const char *proxy = NULL, *np;
	size_t i;

	*from = o->proxy_from != NULL ? o->proxy_from : "--proxy";
	if (o->proxy != NULL)
		proxy = o->proxy;
	/* An empty variable is as none (curl_getenv), the next is read. */
	for (i = 0; proxy == NULL && vars[i] != NULL; i++)
		if ((proxy = getenv(vars[i])) != NULL && proxy[0] == '\0')
			proxy = NULL;
		else if (proxy != NULL)
			*from = vars[i];
	if (proxy == NULL)
		return NULL;
	if ((np = getenv("no_proxy")) == NULL || np[0] == '\0')
		np = getenv("NO_PROXY");
	if (np != NULL && np[0] != '\0' && noproxy_match(host, np))
		return NULL;
	return proxy;
}

/*
 * Plain http without --insecure-http: directly, or through a proxy on
 * loopback, never through another host that would read the password
 * and the token. Decided here, before any connection, and imposed on
 * libcurl (h->proxy_use), so that it cannot decide otherwise.
 */
static int
check_plain_proxy(struct http *h, const struct http_opts *o,
    struct report *rep)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *phost = NULL, safe[256];
	char shost[256];
	const char *proxy, *from;
	int rc = E2E_EX_SOFTWARE;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, o->server, 0) !=
	    CURLUE_OK || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) !=
	    CURLUE_OK || curl_url_get(u, CURLUPART_HOST, &host, 0) !=
	    CURLUE_OK) {
		report_error(rep, rc, "out of memory");
		goto out;
	}
	rc = 0;
	if (o->insecure_http || strcmp(scheme, "http") != 0)
		goto out;
	h->fixed_proxy = 1;
	term_escape(host, strlen(host), shost, sizeof(shost));
	proxy = plain_proxy(o, host, &from);
	if (proxy != NULL)
		phost = proxy_host(proxy);
	if (is_onion(host)) {
		/* Tor's SOCKS port, which resolves the name (socks5h): a
		 * proxy elsewhere would see the password, a socks5:// one
		 * would ask DNS for the name and fail. */
		if (phost != NULL && is_loopback(phost) &&
		    strncasecmp(proxy, "socks5h://", 10) == 0) {
			h->proxy_use = proxy;
			goto out;
		}
		rc = report_error(rep, E2E_EX_CONFIG, "%s is a Tor onion "
		    "service: it is reached through Tor's SOCKS port on this "
		    "machine, as socks5h://", shost);
		report_hint(rep, "give --proxy socks5h://127.0.0.1:9050 (or "
		    "proxy = in the config file)");
		goto out;
	}
	if (proxy == NULL)
		goto out;
	if (phost != NULL && is_loopback(phost)) {
		h->proxy_use = proxy;
		goto out;
	}
	/* The proxy's URL may hold its password: only its host is shown. */
	if (phost != NULL)
		term_escape(phost, strlen(phost), safe, sizeof(safe));
	else
		snprintf(safe, sizeof(safe), "that cannot be read");
	rc = report_error(rep, E2E_EX_CONFIG, "refusing plain http:// to %s "
	    "through the proxy %s (from %s): the proxy would see the password "
	    "and the token", shost, safe, from);
	report_hint(rep, "use https://, a proxy on this machine, add %s to "
	    "no_proxy, or give --insecure-http if you really mean it", shost);
out:
	curl_free(phost);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

int
http_open(struct http **hp, const struct http_opts *o, struct report *rep)
{
	struct http *h;
	int rc;

	*hp = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	h->o = *o;
	/* Answers grow by doubling up to the cap. glibc would move its
	 * threshold for taking blocks from the kernel up as they are
	 * freed, and the blocks of one answer would then stay in the heap
	 * under the next one's: fixed, every large block goes back. */
	(void)mallopt(M_MMAP_THRESHOLD, (int)BIG_ALLOC_MIN);
	if ((rc = check_url(o->server, o->insecure_http, &h->base,
	    rep)) != 0 || (o->proxy != NULL &&
	    (rc = http_check_proxy(o->proxy, rep)) != 0) ||
	    (rc = check_plain_proxy(h, o, rep)) != 0)
		goto fail;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (h->curl = curl_easy_init()) == NULL) {
		rc = report_error(rep, E2E_EX_SOFTWARE, "cannot start "
		    "libcurl");
		goto fail;
	}
	*hp = h;
	return 0;
fail:
	free(h->base);
	free(h);
	return rc;
}

const char *
http_server(const struct http *h)
{
	return h->base;
}

/* ---- -v ---- */

/* One line of the exchange, to the caller's tracer (http_opts.trace). */
static void
trace(const struct http *h, const char *fmt, ...)
{
	char line[1200];
	va_list ap;

	if (h->o.trace == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	h->o.trace(line);
}

static void
show(const struct http *h, const char *prefix, const char *p, size_t n)
{
	char line[1024];
	const char *end;
	size_t len;

	while (n > 0) {
		end = memchr(p, '\n', n);
		len = end ? (size_t)(end - p) : n;
		if (len > 0 && p[len - 1] == '\r')
			term_escape(p, len - 1, line, sizeof(line));
		else
			term_escape(p, len, line, sizeof(line));
		if (len > 0)
			trace(h, "%s %s", prefix, line);
		if (end == NULL)
			break;
		n -= len + 1;
		p = end + 1;
	}
}

/* Request headers, with the token masked. */
static void
show_headers_out(const struct http *h, const char *p, size_t n)
{
	const char *end;
	size_t len;

	while (n > 0) {
		end = memchr(p, '\n', n);
		len = end ? (size_t)(end - p + 1) : n;
		if (len >= 14 && strncasecmp(p, "Authorization:", 14) == 0)
			trace(h, "> Authorization: ***");
		else if (len >= 20 && strncasecmp(p, "Proxy-Authorization:",
		    20) == 0)
			trace(h, "> Proxy-Authorization: ***");
		else
			show(h, ">", p, len);
		n -= len;
		p += len;
	}
}

static int
debug_cb(CURL *c, curl_infotype type, char *p, size_t n, void *arg)
{
	struct http *h = arg;
	char note[64];

	(void)c;
	switch (type) {
	case CURLINFO_TEXT:
		show(h, "*", p, n);
		break;
	case CURLINFO_HEADER_OUT:
		show_headers_out(h, p, n);
		break;
	case CURLINFO_HEADER_IN:
		show(h, "<", p, n);
		break;
	case CURLINFO_DATA_OUT:
	case CURLINFO_DATA_IN:
		if (h->rq != NULL && h->rq->secret) {
			snprintf(note, sizeof(note), "[%zu bytes not shown: "
			    "they hold secrets]", n);
			show(h, type == CURLINFO_DATA_OUT ? ">" : "<", note,
			    strlen(note));
		} else {
			show(h, type == CURLINFO_DATA_OUT ? ">" : "<", p,
			    n > VERBOSE_BODY_MAX ? VERBOSE_BODY_MAX : n);
			if (n > VERBOSE_BODY_MAX)
				trace(h, "%s [%zu more bytes]",
				    type == CURLINFO_DATA_OUT ? ">" : "<",
				    n - VERBOSE_BODY_MAX);
		}
		break;
	default:
		break;
	}
	return 0;
}

/* ---- the exchange ---- */

/* The cap of every answer (--max-answer). */
static size_t
answer_cap(const struct http *h)
{
	return h->o.max_answer != 0 ? h->o.max_answer : HTTP_ANSWER_MAX;
}

int
http_answer_too_large(const struct http *h)
{
	return h->too_large;
}

static int
progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct http *h = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return *h->o.stop != 0;
}

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http *h = arg;
	size_t n = size * nmemb;

	struct buf *b = &h->rs->body;

	if (b->len + n > h->cap) {
		h->too_large = 1;
		return 0;
	}
	/* Past a quarter of the cap, the next growth takes all of it at
	 * once: doubling near the cap, then again for the last bytes,
	 * would copy the largest block twice (memory: twice the cap). */
	if (b->len + n + 1 > b->cap && b->cap > h->cap / 4 &&
	    buf_reserve(b, h->cap - b->len) != 0) {
		h->no_memory = 1;
		return 0;
	}
	if (buf_append(b, p, n) != 0) {
		h->no_memory = 1;
		return 0;
	}
	return n;
}

#define SET(opt, val) \
	do { \
		if (curl_easy_setopt(h->curl, opt, val) != CURLE_OK) \
			goto fail; \
	} while (0)

static int
prepare(struct http *h, const struct http_req *rq, struct curl_slist **hdrs,
    char *url, size_t url_size)
{
	char line[HEADER_MAX];

	curl_easy_reset(h->curl);
	if ((size_t)snprintf(url, url_size, "%s%s", h->base, rq->path) >=
	    url_size)
		return -1;
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, "e2e-chat/" E2E_VERSION);
	SET(CURLOPT_ERRORBUFFER, h->errbuf);
	SET(CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, STALL_S + rq->wait_s);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->o.cacert != NULL) {
		/* Only the CA given: not every CA of the system besides. */
		SET(CURLOPT_CAINFO, h->o.cacert);
		SET(CURLOPT_CAPATH, (char *)NULL);
	}
	if (h->o.pin != NULL)
		SET(CURLOPT_PINNEDPUBLICKEY, h->o.pin);
	if (h->fixed_proxy)
		/* "": none, whatever the environment says. */
		SET(CURLOPT_PROXY, h->proxy_use != NULL ? h->proxy_use : "");
	else if (h->o.proxy != NULL)
		SET(CURLOPT_PROXY, h->o.proxy);
	if (h->o.stop != NULL) {
		SET(CURLOPT_XFERINFOFUNCTION, progress_cb);
		SET(CURLOPT_XFERINFODATA, h);
		SET(CURLOPT_NOPROGRESS, 0L);
	}
	/* An announced length over the cap is refused before any byte. */
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->cap);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, h);
	if (h->o.verbose) {
		SET(CURLOPT_DEBUGFUNCTION, debug_cb);
		SET(CURLOPT_DEBUGDATA, h);
		SET(CURLOPT_VERBOSE, 1L);
	}
	if (strcmp(rq->method, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(rq->method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, rq->method);
		if (rq->body != NULL) {
			SET(CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)rq->body_len);
			SET(CURLOPT_POSTFIELDS, rq->body);
		}
	}
	/* No "Expect: 100-continue" round trip before large bodies. */
	if ((*hdrs = curl_slist_append(*hdrs, "Expect:")) == NULL)
		goto fail;
	if (rq->type != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", rq->type);
		if ((*hdrs = curl_slist_append(*hdrs, line)) == NULL)
			goto fail;
	}
	if (rq->token != NULL) {
		if ((size_t)snprintf(line, sizeof(line),
		    "Authorization: Bearer %s", rq->token) >= sizeof(line))
			goto fail;
		*hdrs = curl_slist_append(*hdrs, line);
		wipe(line, sizeof(line));
		if (*hdrs == NULL)
			goto fail;
	}
	SET(CURLOPT_HTTPHEADER, *hdrs);
	return 0;
fail:
	return -1;
}

/* What a libcurl failure means for the user, and whether to try again. */
static int
failure(struct http *h, CURLcode cc, const struct http_req *rq,
    int *again)
{
	curl_off_t pre = 0;
	int unsent;

	*again = 0;
	(void)curl_easy_getinfo(h->curl, CURLINFO_PRETRANSFER_TIME_T, &pre);
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
		return E2E_EX_UNAVAILABLE;
	case CURLE_FILESIZE_EXCEEDED:
		h->too_large = 1;
		return E2E_EX_PROTOCOL;
	case CURLE_WRITE_ERROR:
		if (h->too_large)
			return E2E_EX_PROTOCOL;
		return E2E_EX_SOFTWARE;
	case CURLE_OUT_OF_MEMORY:
		return E2E_EX_SOFTWARE;
	case CURLE_ABORTED_BY_CALLBACK:
		return E2E_EX_TEMPFAIL;	/* stopped: not retried */
	case CURLE_UNSUPPORTED_PROTOCOL:
		/* The URL was checked: this is an answer that is not HTTP
		 * (libcurl says so for HTTP/0.9). */
		return E2E_EX_PROTOCOL;
	case CURLE_URL_MALFORMAT:
		return E2E_EX_USAGE;
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PROXY:
		unsent = 1;
		break;
	default:
		/* No request went out before the failure. */
		unsent = pre == 0;
		break;
	}
	*again = unsent || rq->retry == HTTP_RETRY_SAFE;
	return E2E_EX_TEMPFAIL;
}

static void
say_failure(struct http *h, CURLcode cc, int rc, struct report *rep)
{
	char why[CURL_ERROR_SIZE + 64], safe[256];

	snprintf(why, sizeof(why), "%s", h->errbuf[0] ? h->errbuf :
	    curl_easy_strerror(cc));
	term_escape(why, strlen(why), safe, sizeof(safe));
	if (h->no_memory)
		report_oom(rep);
	switch (rc) {
	case E2E_EX_UNAVAILABLE:
		report_error(rep, rc, "the server's identity cannot be "
		    "verified: %s", safe);
		if (cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
			report_hint(rep, "its public key is not the one pinned "
			    "with --pin");
		else if (h->o.cacert == NULL)
			report_hint(rep, "for a private CA, give its "
			    "certificate with --cacert FILE");
		break;
	case E2E_EX_PROTOCOL:
		if (h->too_large) {
			report_error(rep, rc, "the server's answer is larger "
			    "than %zu bytes: refused; is the server URL right?",
			    h->cap);
			if (h->cap == answer_cap(h))
				report_hint(rep, "for a server whose messages "
				    "are that large, raise --max-answer");
		} else
			report_error(rep, rc, "the server's answer is not HTTP "
			    "(%s); is the server URL right?", safe);
		break;
	case E2E_EX_TEMPFAIL:
		report_error(rep, rc, "cannot reach the server %s: %s",
		    h->base, safe);
		break;
	default:
		report_error(rep, rc, "HTTP request failed: %s", safe);
	}
}

/* The header lines hold the token: wiped before they are freed. */
static void
free_headers(struct curl_slist *hdrs)
{
	struct curl_slist *l;

	for (l = hdrs; l != NULL; l = l->next)
		wipe(l->data, strlen(l->data));
	curl_slist_free_all(hdrs);
}

static long
backoff(long delay_ms)
{
	uint8_t r[2];
	long jitter = 0;

	/* Up to a quarter more, so that clients do not retry in step. */
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		jitter = (long)((r[0] << 8 | r[1]) % (delay_ms / 4 + 1));
	return delay_ms + jitter;
}

/* Sleeps ms, or less when a signal sets *stop. */
static void
sleep_ms(long ms, volatile sig_atomic_t *stop)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		if (stop != NULL && *stop)
			return;
}

#ifdef E2E_TEST_HOOKS
static int (*test_responder)(const struct http_req *, struct http_resp *,
    void *);
static void *test_responder_arg;

void
http_test_set_responder(int (*fn)(const struct http_req *rq,
    struct http_resp *rs, void *arg), void *arg)
{
	test_responder = fn;
	test_responder_arg = arg;
}

/* The answer test_responder gives, judged as one from the network. */
static int
test_answer(struct http *h, const struct http_req *rq, struct http_resp *rs,
    struct report *rep)
{
	if (test_responder(rq, rs, test_responder_arg) != 0)
		return report_error(rep, E2E_EX_TEMPFAIL, "cannot connect to "
		    "%s", h->base);
	if (rs->body.len > h->cap) {
		h->too_large = 1;
		return report_error(rep, E2E_EX_PROTOCOL, "the answer of %s "
		    "is larger than %zu bytes", h->base, h->cap);
	}
	if (rs->status >= 500 && rs->status != 507)
		return report_error(rep, E2E_EX_TEMPFAIL, "the server %s "
		    "failed (HTTP %ld)", h->base, rs->status);
	return 0;
}
#endif

int
http_call(struct http *h, const struct http_req *rq, struct http_resp *rs,
    struct report *rep)
{
	struct curl_slist *hdrs = NULL;
	char url[URL_MAX], *type = NULL;
	int64_t deadline = now_ms() + h->o.retry_ms;
	long delay = BACKOFF_FIRST_MS, pause;
	CURLcode cc;
	int rc, again;

	memset(rs, 0, sizeof(*rs));
	rs->body.secret = 1;
	rs->retry_after = -1;
	h->rq = rq;
	h->rs = rs;
	h->cap = answer_cap(h);
	if (rq->max_answer != 0 && rq->max_answer < h->cap)
		h->cap = rq->max_answer;
	/* Growth by doubling stops at the cap, not at twice it. */
	rs->body.limit = h->cap;
#ifdef E2E_TEST_HOOKS
	if (test_responder != NULL) {
		h->too_large = 0;
		rc = test_answer(h, rq, rs, rep);
		h->rq = NULL;
		return rc;
	}
#endif
	for (;;) {
		buf_clear(&rs->body);
		rs->status = 0;
		h->too_large = 0;
		h->no_memory = 0;
		h->errbuf[0] = '\0';
		free_headers(hdrs);
		hdrs = NULL;
		if (prepare(h, rq, &hdrs, url, sizeof(url)) != 0) {
			rc = report_error(rep, E2E_EX_SOFTWARE, "cannot "
			    "prepare the request to %s", h->base);
			goto out;
		}
		cc = curl_easy_perform(h->curl);
		if (cc == CURLE_OK) {
			(void)curl_easy_getinfo(h->curl,
			    CURLINFO_RESPONSE_CODE, &rs->status);
			/* 507: a mailbox full, a refusal with a reason (the
			 * caller reports it), not a failure to retry. */
			if (rs->status < 500 || rs->status == 507) {
				rc = 0;
				break;
			}
			/* A 5xx: the server or a proxy in front failed. */
			rc = E2E_EX_TEMPFAIL;
			/* 503: not taken in. A 502 may come after the server
			 * acted on it: a send is not made twice. */
			again = rq->retry == HTTP_RETRY_SAFE ||
			    rs->status == 503;
		} else {
			rc = failure(h, cc, rq, &again);
		}
		pause = backoff(delay);
		if (h->o.stop != NULL && *h->o.stop)
			goto out;	/* the caller knows why */
		/* The last pause is cut to the deadline, and one more try
		 * made at it. */
		if (pause > deadline - now_ms())
			pause = (long)(deadline - now_ms());
		if (!again || pause <= 0) {
			if (cc != CURLE_OK)
				say_failure(h, cc, rc, rep);
			else
				report_error(rep, rc, "the server %s failed "
				    "(HTTP %ld)", h->base, rs->status);
			goto out;
		}
		if (h->o.verbose)
			trace(h, "* trying again in %ld ms", pause);
		sleep_ms(pause, h->o.stop);
		delay = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
	}
	{
		curl_off_t ra = -1;

		if (curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &ra) ==
		    CURLE_OK && ra > 0)
			rs->retry_after = (long)ra;
	}
	if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &type) ==
	    CURLE_OK && type != NULL)
		rs->json = strncasecmp(type, "application/json", 16) == 0;
out:
	wipe(url, sizeof(url));
	free_headers(hdrs);
	h->rq = NULL;
	return rc;
}

void
http_resp_free(struct http_resp *rs)
{
	buf_free(&rs->body);
}

void
http_close(struct http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	curl_global_cleanup();
	free(h->base);
	free(h);
}
