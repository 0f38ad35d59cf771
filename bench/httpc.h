/*
 * httpc.h - the little HTTP/1.1 client the bench programs of
 * bench/server.sh share (latency.c, recvack.c, waiters.c): plain sockets,
 * one request at a time per connection, answers with a Content-Length
 * (what e2e-server sends). Header-only: each program is one cc command.
 */
#ifndef BENCH_HTTPC_H
#define BENCH_HTTPC_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline int64_t
hc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void
hc_die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, errno ? strerror(errno) :
	    "failed");
	exit(1);
}

static inline void
hc_addr(struct sockaddr_in *sa, const char *host, const char *port)
{
	char *end;
	unsigned long p;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	errno = 0;
	p = strtoul(port, &end, 10);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1 || *end != '\0' ||
	    p == 0 || p > 65535) {
		fprintf(stderr, "bench: bad address %s:%s\n", host, port);
		exit(2);
	}
	sa->sin_port = htons((uint16_t)p);
}

/* A socket connected to sa, no Nagle (requests go out whole at once). */
static inline int
hc_connect(const struct sockaddr_in *sa, int nonblock)
{
	int one = 1, fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 &&
	    !(nonblock && errno == EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline int
hc_write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A request with an optional JSON body into buf; its length, or -1 when
 * it does not fit. */
static inline int
hc_format(char *buf, size_t size, const char *method, const char *path,
    const char *token, const char *json)
{
	int n;

	if (json != NULL)
		n = snprintf(buf, size, "%s %s HTTP/1.1\r\nHost: bench\r\n"
		    "x-access-token: %s\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n%s", method, path, token,
		    strlen(json), json);
	else
		n = snprintf(buf, size, "%s %s HTTP/1.1\r\nHost: bench\r\n"
		    "x-access-token: %s\r\n\r\n", method, path, token);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

/*
 * Looks for one whole answer at the start of buf[0..len): 1 with its
 * status, body offset and length when complete, 0 when more is needed,
 * -1 when it is not HTTP.
 */
static inline int
hc_parse(const char *buf, size_t len, int *status, size_t *body,
    size_t *body_len)
{
	const char *end, *p, *line;
	size_t hlen, cl = 0;

	if (len < 12)
		return 0;
	if (memcmp(buf, "HTTP/1.", 7) != 0)
		return -1;
	end = memmem(buf, len, "\r\n\r\n", 4);
	if (end == NULL)
		return len > 65536 ? -1 : 0;
	hlen = (size_t)(end - buf) + 4;
	*status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	for (line = buf; line < end; line = p + 2) {
		p = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
		if (p == NULL)
			break;
		if (p - line > 15 && strncasecmp(line, "Content-Length:", 15) ==
		    0)
			cl = strtoul(line + 15, NULL, 10);
	}
	if (len < hlen + cl)
		return 0;
	*body = hlen;
	*body_len = cl;
	return 1;
}

/* A growing receive buffer for blocking reads. */
struct hc_buf {
	char *p;
	size_t len, cap;
};

/* Reads one whole answer on a blocking socket into b (replacing what it
 * held). Returns the status, or -1 when the connection failed. The body
 * is b->p + *body, NUL-terminated. */
static inline int
hc_read_answer(int fd, struct hc_buf *b, size_t *body, size_t *body_len)
{
	int status, rc;
	ssize_t n;

	b->len = 0;
	for (;;) {
		if (b->cap - b->len < 4096) {
			b->cap = b->cap ? b->cap * 2 : 65536;
			if ((b->p = realloc(b->p, b->cap)) == NULL)
				hc_die("out of memory");
		}
		if (b->len > 0 && (rc = hc_parse(b->p, b->len, &status, body,
		    body_len)) != 0) {
			if (rc < 0)
				return -1;
			b->p[*body + *body_len] = '\0';
			return status;
		}
		n = read(fd, b->p + b->len, b->cap - b->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b->len += (size_t)n;
	}
}

/* Tokens: a file of "NAME TOKEN" lines. */
struct hc_user {
	char name[72];
	char token[512];
};

static inline struct hc_user *
hc_users(const char *path, size_t *n)
{
	struct hc_user *u = NULL;
	char line[700];
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	*n = 0;
	if (f == NULL)
		hc_die(path);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			struct hc_user *more = realloc(u, cap * sizeof(*u));

			if (more == NULL)
				hc_die("out of memory");
			u = more;
		}
		if (sscanf(line, "%71s %511s", u[*n].name, u[*n].token) == 2)
			(*n)++;
	}
	fclose(f);
	if (*n == 0) {
		fprintf(stderr, "bench: no users in %s\n", path);
		exit(1);
	}
	return u;
}

#endif
