/*
 * waiters.c - many receivers waiting at once on e2e-server, for
 * bench/server.sh.
 *
 *   waiters HOST PORT USERS N [SECONDS]
 *
 * Opens N connections (non-blocking, a few hundred connecting at a
 * time), writes on each a GET /messages?wait=60 as the next user of
 * USERS ("NAME TOKEN" lines, in turn), and keeps them all open without
 * reading, until SIGTERM or SIGINT or SECONDS (default 120). Prints
 * "sent N" once every request is written; on SIGUSR1 a line "EARLY
 * {...}" with the counts so far; at the end one line "JSON {...}":
 * requests written, connections that failed, got an answer (the server
 * should answer none before the wait ends, and every one when it shuts
 * down), or were closed by the server. One thread, a few dozen bytes per
 * connection: the client stays cheap.
 */
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include "httpc.h"

#define CONNECTING_MAX 256

enum { IDLE, CONNECTING, WAITING, ANSWERED, CLOSED, FAILED };

struct w {
	int fd;
	unsigned char state;
};

static volatile sig_atomic_t stop, report;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		report = 1;
	else
		stop = 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in addr;
	struct epoll_event ev, evs[512];
	struct hc_user *users;
	struct rlimit rl;
	struct w *ws, *w;
	char **reqs, buf[4096];
	int *lens, ep, k, nev, err, first_status = 0;
	size_t nu, i, next = 0;
	long n, connecting = 0, sent = 0, answered = 0, closed = 0, failed = 0;
	int64_t start, sent_ns = 0, until;
	socklen_t elen;
	ssize_t r;
	double seconds = 120;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: waiters HOST PORT USERS N [SECONDS]\n");
		return 2;
	}
	hc_addr(&addr, argv[1], argv[2]);
	users = hc_users(argv[3], &nu);
	n = strtol(argv[4], NULL, 10);
	if (argc == 6)
		seconds = strtod(argv[5], NULL);
	if (n <= 0 || n > 1000000 || seconds <= 0) {
		fprintf(stderr, "waiters: bad N or SECONDS\n");
		return 2;
	}
	/* One descriptor per connection, and a few more. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 32) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)n + 32 ? rl.rlim_max :
		    (rlim_t)n + 32;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		if (getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
		    rl.rlim_cur < (rlim_t)n + 32) {
			fprintf(stderr, "waiters: %ld connections need ulimit -n "
			    "%ld (it is %lu)\n", n, n + 32,
			    (unsigned long)rl.rlim_cur);
			return 1;
		}
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGUSR1, on_signal);
	signal(SIGPIPE, SIG_IGN);
	ws = calloc((size_t)n, sizeof(*ws));
	reqs = calloc(nu, sizeof(*reqs));
	lens = calloc(nu, sizeof(*lens));
	if (ws == NULL || reqs == NULL || lens == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		hc_die("set-up");
	for (i = 0; i < nu; i++) {
		if ((reqs[i] = malloc(1024)) == NULL)
			hc_die("out of memory");
		lens[i] = hc_format(reqs[i], 1024, "GET",
		    "/messages?wait=60", users[i].token, NULL);
		if (lens[i] < 0)
			hc_die("token too long");
	}

	start = hc_now_ns();
	until = start + (int64_t)(seconds * 1e9);
	while (!stop && hc_now_ns() < until) {
		/* More connections, a bounded number at a time. */
		while (next < (size_t)n && connecting < CONNECTING_MAX) {
			w = &ws[next++];
			if ((w->fd = hc_connect(&addr, 1)) < 0) {
				w->state = FAILED;
				failed++;
				continue;
			}
			w->state = CONNECTING;
			connecting++;
			ev.events = EPOLLOUT;
			ev.data.ptr = w;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, w->fd, &ev) != 0)
				hc_die("epoll_ctl");
		}
		nev = epoll_wait(ep, evs, 512, 100);
		if (nev < 0 && errno != EINTR)
			hc_die("epoll_wait");
		for (k = 0; k < nev; k++) {
			w = evs[k].data.ptr;
			if (w->state == CONNECTING) {
				connecting--;
				err = 0;
				elen = sizeof(err);
				(void)getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err,
				    &elen);
				i = (size_t)(w - ws) % nu;
				if (err != 0 || write(w->fd, reqs[i],
				    (size_t)lens[i]) != lens[i]) {
					w->state = FAILED;
					failed++;
					epoll_ctl(ep, EPOLL_CTL_DEL, w->fd, NULL);
					close(w->fd);
					continue;
				}
				w->state = WAITING;
				ev.events = EPOLLIN | EPOLLRDHUP;
				ev.data.ptr = w;
				epoll_ctl(ep, EPOLL_CTL_MOD, w->fd, &ev);
				if (++sent == n) {
					sent_ns = hc_now_ns() - start;
					printf("sent %ld\n", sent);
					fflush(stdout);
				}
				continue;
			}
			/* Anything from the server now is too early. */
			r = read(w->fd, buf, sizeof(buf) - 1);
			if (r > 0 && w->state == WAITING) {
				w->state = ANSWERED;
				answered++;
				if (first_status == 0 && r > 12)
					first_status = (buf[9] - '0') * 100 +
					    (buf[10] - '0') * 10 + (buf[11] - '0');
			}
			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				w->state = CLOSED;
				closed++;
				epoll_ctl(ep, EPOLL_CTL_DEL, w->fd, NULL);
				close(w->fd);
			}
		}
		if (report) {
			report = 0;
			printf("EARLY {\"answered\":%ld,\"closed\":%ld}\n",
			    answered, closed);
			fflush(stdout);
		}
		if (next == (size_t)n && connecting == 0 && sent_ns == 0) {
			/* Some failed: say so, the script is waiting. */
			sent_ns = hc_now_ns() - start;
			printf("sent %ld\n", sent);
			fflush(stdout);
		}
	}
	printf("JSON {\"n\":%ld,\"sent\":%ld,\"failed\":%ld,\"answered\":%ld,"
	    "\"closed\":%ld,\"first_status\":%d,\"send_ms\":%.0f}\n", n, sent,
	    failed, answered, closed, first_status, (double)sent_ns / 1e6);
	return 0;
}
