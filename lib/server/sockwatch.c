/* sockwatch.c - hang-ups of suspended requests and lingering closes (see
 * sockwatch.h). */
#include "server/sockwatch.h"
#include "base/err.h"
#include "server/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

enum { FREE, WATCH, LINGER };

/* Read per socket and wake-up, so one fast sender cannot starve the
 * others (epoll is level-triggered: the rest comes next round). */
#define ROUND_BYTES ((size_t)1 << 20)
#define MAX_EVENTS 64

struct slot {
	int kind;
	int fd;
	uint32_t gen;
	void *arg;
	int64_t deadline_ms;
	size_t bytes;
	size_t next_free;
};

/* The slots: [0, max_lingering) for lingering sockets (the deadline
 * scans see only those), the rest for watched ones; a free list each. */
struct sockwatch {
	struct sockwatch_config cfg;
	pthread_mutex_t lock;
	pthread_t thread;
	int started;
	int ep, wake;
	int stop;		/* under lock */
	struct slot *slots;
	size_t nslots, free_head[2], nwatched, nlinger;
	char scratch[64 * 1024];
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t
id_of(struct sockwatch *sw, struct slot *s)
{
	return (uint64_t)s->gen << 32 | (uint64_t)(s - sw->slots + 1);
}

static struct slot *
lookup(struct sockwatch *sw, uint64_t id)
{
	uint64_t i = (id & 0xffffffffu);
	struct slot *s;

	if (i == 0 || i > sw->nslots)
		return NULL;
	s = &sw->slots[i - 1];
	if (s->kind == FREE || s->gen != (uint32_t)(id >> 32))
		return NULL;
	return s;
}

static struct slot *
alloc_slot(struct sockwatch *sw, int kind)
{
	size_t *head = &sw->free_head[kind == LINGER];
	struct slot *s;

	if (*head == SIZE_MAX)
		return NULL;
	s = &sw->slots[*head];
	*head = s->next_free;
	s->kind = kind;
	s->gen++;
	s->bytes = 0;
	return s;
}

/* Takes s out of the epoll set (before any close, or the registration
 * outlives the descriptor while MHD still holds the socket) and frees
 * it. */
static void
release(struct sockwatch *sw, struct slot *s)
{
	size_t *head = &sw->free_head[s->kind == LINGER];

	(void)epoll_ctl(sw->ep, EPOLL_CTL_DEL, s->fd, NULL);
	if (s->kind == LINGER) {
		close(s->fd);
		sw->nlinger--;
	} else {
		sw->nwatched--;
	}
	s->kind = FREE;
	s->fd = -1;
	s->arg = NULL;
	s->next_free = *head;
	*head = (size_t)(s - sw->slots);
}

/* Reads and discards what a lingering socket has; closes it at its end,
 * on an error, or past its byte budget. */
static void
drain(struct sockwatch *sw, struct slot *s)
{
	size_t round = 0;
	ssize_t n;

	while (round < ROUND_BYTES) {
		n = read(s->fd, sw->scratch, sizeof(sw->scratch));
		if (n > 0) {
			round += (size_t)n;
			s->bytes += (size_t)n;
			if (s->bytes >= sw->cfg.linger_bytes)
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		break;	/* the client closed, or the connection broke */
	}
	if (round >= ROUND_BYTES && s->bytes < sw->cfg.linger_bytes)
		return;
	release(sw, s);
}

static int
timeout_ms(struct sockwatch *sw)
{
	int64_t earliest = INT64_MAX, now;
	size_t i;

	if (sw->nlinger == 0)
		return -1;
	for (i = 0; i < sw->cfg.max_lingering; i++)
		if (sw->slots[i].kind == LINGER &&
		    sw->slots[i].deadline_ms < earliest)
			earliest = sw->slots[i].deadline_ms;
	now = now_ms();
	if (earliest <= now)
		return 0;
	return earliest - now > 60000 ? 60000 : (int)(earliest - now);
}

static void *
run(void *arg)
{
	struct sockwatch *sw = arg;
	struct epoll_event ev[MAX_EVENTS];
	void *resume[MAX_EVENTS];
	struct slot *s;
	size_t nresume, i;
	uint64_t junk;
	int n, k, timeout;
	int64_t now;

	for (;;) {
		pthread_mutex_lock(&sw->lock);
		timeout = timeout_ms(sw);
		pthread_mutex_unlock(&sw->lock);
		n = epoll_wait(sw->ep, ev, MAX_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			log_errno("sockwatch: epoll_wait");
			break;
		}
		nresume = 0;
		pthread_mutex_lock(&sw->lock);
		if (sw->stop) {
			pthread_mutex_unlock(&sw->lock);
			break;
		}
		for (k = 0; k < n; k++) {
			if (ev[k].data.u64 == 0) {
				if (read(sw->wake, &junk, sizeof(junk)) < 0)
					continue;
				continue;
			}
			if ((s = lookup(sw, ev[k].data.u64)) == NULL)
				continue;	/* unwatched meanwhile */
			if (s->kind == LINGER) {
				drain(sw, s);
				continue;
			}
			arg = s->arg;
			release(sw, s);
			if (sw->cfg.gone(arg))
				resume[nresume++] = arg;
		}
		now = now_ms();
		for (i = 0; sw->nlinger > 0 && i < sw->cfg.max_lingering; i++)
			if (sw->slots[i].kind == LINGER &&
			    sw->slots[i].deadline_ms <= now)
				release(sw, &sw->slots[i]);
		pthread_mutex_unlock(&sw->lock);
		for (i = 0; i < nresume; i++)
			sw->cfg.resume(resume[i]);
	}
	return NULL;
}

static void
poke(struct sockwatch *sw)
{
	uint64_t one = 1;

	if (write(sw->wake, &one, sizeof(one)) < 0)
		return;	/* already pending: the thread wakes anyway */
}

struct sockwatch *
sockwatch_new(const struct sockwatch_config *c, struct report *rep)
{
	struct sockwatch *sw = calloc(1, sizeof(*sw));
	struct epoll_event ev;
	size_t i;

	if (sw == NULL) {
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		return NULL;
	}
	sw->cfg = *c;
	sw->ep = sw->wake = -1;
	pthread_mutex_init(&sw->lock, NULL);
	sw->nslots = c->max_watched + c->max_lingering;
	if (sw->nslots == 0 || sw->nslots >= UINT32_MAX ||
	    (sw->slots = calloc(sw->nslots, sizeof(*sw->slots))) == NULL) {
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		goto fail;
	}
	for (i = 0; i < sw->nslots; i++) {
		sw->slots[i].fd = -1;
		sw->slots[i].next_free = i + 1 == c->max_lingering ||
		    i + 1 == sw->nslots ? SIZE_MAX : i + 1;
	}
	sw->free_head[1] = c->max_lingering > 0 ? 0 : SIZE_MAX;
	sw->free_head[0] = c->max_watched > 0 ? c->max_lingering : SIZE_MAX;
	if ((sw->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (sw->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		report_errno(rep, E2E_EX_SOFTWARE, "sockwatch");
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = 0;
	if (epoll_ctl(sw->ep, EPOLL_CTL_ADD, sw->wake, &ev) != 0 ||
	    pthread_create(&sw->thread, NULL, run, sw) != 0) {
		report_error(rep, E2E_EX_SOFTWARE,
		    "cannot start the socket watcher");
		goto fail;
	}
	sw->started = 1;
	return sw;
fail:
	sockwatch_free(sw);
	return NULL;
}

void
sockwatch_free(struct sockwatch *sw)
{
	size_t i;

	if (sw == NULL)
		return;
	if (sw->started) {
		pthread_mutex_lock(&sw->lock);
		sw->stop = 1;
		pthread_mutex_unlock(&sw->lock);
		poke(sw);
		pthread_join(sw->thread, NULL);
	}
	for (i = 0; sw->slots != NULL && i < sw->nslots; i++)
		if (sw->slots[i].kind != FREE)
			release(sw, &sw->slots[i]);
	if (sw->ep >= 0)
		close(sw->ep);
	if (sw->wake >= 0)
		close(sw->wake);
	free(sw->slots);
	pthread_mutex_destroy(&sw->lock);
	free(sw);
}

int
sockwatch_watch(struct sockwatch *sw, int fd, void *arg, uint64_t *id)
{
	struct epoll_event ev;
	struct slot *s;
	int rc = -1;

	pthread_mutex_lock(&sw->lock);
	if (sw->nwatched >= sw->cfg.max_watched ||
	    (s = alloc_slot(sw, WATCH)) == NULL)
		goto out;
	s->fd = fd;
	s->arg = arg;
	sw->nwatched++;
	memset(&ev, 0, sizeof(ev));
	/* Only the hang-up: whatever the client sends meanwhile is MHD's
	 * to read once the request resumes. */
	ev.events = EPOLLRDHUP | EPOLLONESHOT;
	ev.data.u64 = id_of(sw, s);
	if (epoll_ctl(sw->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		release(sw, s);
		goto out;
	}
	*id = ev.data.u64;
	rc = 0;
out:
	pthread_mutex_unlock(&sw->lock);
	return rc;
}

int
sockwatch_unwatch(struct sockwatch *sw, uint64_t id)
{
	struct slot *s;
	int rc = 0;

	pthread_mutex_lock(&sw->lock);
	if ((s = lookup(sw, id)) != NULL && s->kind == WATCH) {
		release(sw, s);
		rc = 1;
	}
	pthread_mutex_unlock(&sw->lock);
	return rc;
}

void
sockwatch_linger(struct sockwatch *sw, int fd)
{
	struct epoll_event ev;
	struct slot *s;

	pthread_mutex_lock(&sw->lock);
	if (sw->cfg.linger_ms == 0 || sw->nlinger >= sw->cfg.max_lingering ||
	    (s = alloc_slot(sw, LINGER)) == NULL) {
		pthread_mutex_unlock(&sw->lock);
		close(fd);
		return;
	}
	s->fd = fd;
	s->deadline_ms = now_ms() + sw->cfg.linger_ms;
	sw->nlinger++;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = id_of(sw, s);
	if (epoll_ctl(sw->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		release(sw, s);
	pthread_mutex_unlock(&sw->lock);
	/* The thread's timeout may have to shrink to this deadline. */
	poke(sw);
}

size_t
sockwatch_lingering(struct sockwatch *sw)
{
	size_t n;

	pthread_mutex_lock(&sw->lock);
	n = sw->nlinger;
	pthread_mutex_unlock(&sw->lock);
	return n;
}
