/*
 * recvack.c - the receive-and-acknowledge rate of e2e-server, for
 * bench/server.sh.
 *
 *   recvack HOST PORT USERS LIMIT SECONDS
 *
 * One kept-alive connection per user of USERS ("NAME TOKEN" lines), all
 * driven by one epoll loop, each doing what a client draining its
 * mailbox does: GET /messages?limit=LIMIT, then POST /messages/ack with
 * the ids it got, again and again. The mailboxes are filled beforehand.
 * It stops after SECONDS, or as soon as one mailbox is found empty (from
 * then on fewer users would be working). Prints one line "JSON {...}":
 * the messages acknowledged (the "deleted" counts the server answered)
 * within the time measured, and that time.
 */
#include <sys/epoll.h>

#include "httpc.h"

#define IDS_MAX 1000

struct conn {
	const struct hc_user *u;
	int fd;
	int acking;		/* waiting for the answer to an ack */
	char in[256 * 1024];
	size_t len;
};

static long gets, acks, fetched, acked, errors;

static void
send_req(struct conn *c, const char *method, const char *path,
    const char *json)
{
	static char req[IDS_MAX * 30 + 1024];
	int n = hc_format(req, sizeof(req), method, path, c->u->token, json);

	/* One small request on an idle connection: the socket buffer takes
	 * it whole. */
	if (n < 0 || write(c->fd, req, (size_t)n) != n)
		hc_die("write");
	c->len = 0;
}

/* The ids of an answer to GET, as a JSON body for the ack; their count. */
static size_t
ack_body(const char *body, char *out, size_t size)
{
	const char *p = body;
	size_t used, n = 0;

	used = (size_t)snprintf(out, size, "{\"ids\":[");
	while ((p = strstr(p, "\"id\":\"")) != NULL && used + 40 < size) {
		p += 6;
		used += (size_t)snprintf(out + used, size - used, "%s\"%.26s\"",
		    n ? "," : "", p);
		n++;
	}
	snprintf(out + used, size - used, "]}");
	return n;
}

int
main(int argc, char **argv)
{
	static char path[64], ackjson[IDS_MAX * 30 + 64];
	struct sockaddr_in addr;
	struct epoll_event ev, evs[256];
	struct hc_user *users;
	struct conn *cs, *c;
	size_t nu, i, body, blen, n;
	int64_t start, end = 0, limit_ns;
	long limit;
	int ep, k, nev, status, rc, empty = 0;
	const char *d;
	ssize_t r;

	if (argc != 6) {
		fprintf(stderr, "usage: recvack HOST PORT USERS LIMIT SECONDS\n");
		return 2;
	}
	hc_addr(&addr, argv[1], argv[2]);
	users = hc_users(argv[3], &nu);
	limit = strtol(argv[4], NULL, 10);
	limit_ns = (int64_t)(strtod(argv[5], NULL) * 1e9);
	if (limit < 1 || limit > IDS_MAX || limit_ns <= 0) {
		fprintf(stderr, "recvack: bad LIMIT or SECONDS\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/messages?limit=%ld", limit);
	if ((cs = calloc(nu, sizeof(*cs))) == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		hc_die("set-up");
	for (i = 0; i < nu; i++) {
		cs[i].u = &users[i];
		if ((cs[i].fd = hc_connect(&addr, 0)) < 0)
			hc_die("connect");
		ev.events = EPOLLIN;
		ev.data.ptr = &cs[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) != 0)
			hc_die("epoll_ctl");
	}
	start = hc_now_ns();
	for (i = 0; i < nu; i++) {
		send_req(&cs[i], "GET", path, NULL);
		gets++;
	}
	while (end == 0) {
		nev = epoll_wait(ep, evs, 256, 100);
		if (nev < 0 && errno != EINTR)
			hc_die("epoll_wait");
		for (k = 0; k < nev && end == 0; k++) {
			c = evs[k].data.ptr;
			r = read(c->fd, c->in + c->len, sizeof(c->in) - c->len - 1);
			if (r <= 0)
				hc_die("read (the server closed a connection)");
			c->len += (size_t)r;
			rc = hc_parse(c->in, c->len, &status, &body, &blen);
			if (rc == 0)
				continue;
			if (rc < 0)
				hc_die("not an HTTP answer");
			c->in[body + blen] = '\0';
			if (status != 200) {
				errors++;
				c->acking = 0;
				send_req(c, "GET", path, NULL);
				gets++;
				continue;
			}
			if (c->acking) {
				c->acking = 0;
				acks++;
				if ((d = strstr(c->in + body, "\"deleted\":")) !=
				    NULL)
					acked += strtol(d + 10, NULL, 10);
				send_req(c, "GET", path, NULL);
				gets++;
				continue;
			}
			n = ack_body(c->in + body, ackjson, sizeof(ackjson));
			if (n == 0) {
				empty = 1;
				end = hc_now_ns();
				break;
			}
			fetched += (long)n;
			c->acking = 1;
			send_req(c, "POST", "/messages/ack", ackjson);
		}
		if (end == 0 && hc_now_ns() - start >= limit_ns)
			end = hc_now_ns();
	}
	printf("JSON {\"users\":%zu,\"limit\":%ld,\"elapsed_us\":%.0f,"
	    "\"acked\":%ld,\"fetched\":%ld,\"gets\":%ld,\"acks\":%ld,"
	    "\"errors\":%ld,\"ran_empty\":%s}\n", nu, limit,
	    (double)(end - start) / 1e3, acked, fetched, gets, acks, errors,
	    empty ? "true" : "false");
	return 0;
}
