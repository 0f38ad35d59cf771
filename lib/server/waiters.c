/* waiters.c - the long-poll registry and its timer (see waiters.h). */
#include "server/waiters.h"
#include "base/err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUCKETS 4096

struct waiters {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	pthread_t timer;
	int stop;
	int64_t next_wake;	/* when the timer means to look next */
	uint64_t seq;
	size_t count;
	int64_t poll_interval;	/* ms; 0: no polling */
	struct waiter *bucket[BUCKETS];
};

int64_t
waiters_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t
bucket_of(const char *user)
{
	uint32_t h = 2166136261u;

	while (*user)
		h = (h ^ (unsigned char)*user++) * 16777619u;
	return h % BUCKETS;
}

static void
unlink_waiter(struct waiters *ws, struct waiter *w)
{
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		ws->bucket[bucket_of(w->user)] = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->registered = 0;
	ws->count--;
}

/* When w is to be woken: its deadline, or its next look at the store. */
static int64_t
due_at(const struct waiter *w)
{
	return w->poll_ms > 0 && w->poll_ms < w->deadline_ms ? w->poll_ms :
	    w->deadline_ms;
}

/*
 * The timer: sleeps until the earliest due time (a scan: simple, and
 * cheap next to the work a woken waiter does), wakes the due ones.
 * wake() runs outside the lock, from a list built under it.
 */
static void *
timer(void *arg)
{
	struct waiters *ws = arg;
	struct waiter *w, *next, *due;
	struct timespec until;
	int64_t now, earliest;
	size_t i;

	pthread_mutex_lock(&ws->lock);
	while (!ws->stop) {
		now = waiters_now_ms();
		earliest = now + 1000;
		due = NULL;
		for (i = 0; i < BUCKETS; i++)
			for (w = ws->bucket[i]; w != NULL; w = next) {
				next = w->next;
				if (due_at(w) <= now) {
					unlink_waiter(ws, w);
					w->woken = 1;
					w->next = due;
					due = w;
				} else if (due_at(w) < earliest) {
					earliest = due_at(w);
				}
			}
		if (due != NULL) {
			pthread_mutex_unlock(&ws->lock);
			for (w = due; w != NULL; w = next) {
				next = w->next;
				w->next = NULL;
				w->wake(w);
			}
			pthread_mutex_lock(&ws->lock);
			continue;
		}
		ws->next_wake = earliest;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (earliest - now) / 1000;
		until.tv_nsec += ((earliest - now) % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&ws->changed, &ws->lock, &until);
	}
	pthread_mutex_unlock(&ws->lock);
	return NULL;
}

struct waiters *
waiters_new(unsigned poll_interval_ms, struct report *rep)
{
	struct waiters *ws = calloc(1, sizeof(*ws));

	if (ws == NULL) {
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		return NULL;
	}
	ws->poll_interval = poll_interval_ms;
	pthread_mutex_init(&ws->lock, NULL);
	pthread_cond_init(&ws->changed, NULL);
	if (pthread_create(&ws->timer, NULL, timer, ws) != 0) {
		report_error(rep, E2E_EX_SOFTWARE,
		    "cannot start the long-poll timer");
		free(ws);
		return NULL;
	}
	return ws;
}

void
waiters_free(struct waiters *ws)
{
	if (ws == NULL)
		return;
	waiters_wake_all(ws);
	pthread_mutex_lock(&ws->lock);
	ws->stop = 1;
	pthread_cond_signal(&ws->changed);
	pthread_mutex_unlock(&ws->lock);
	pthread_join(ws->timer, NULL);
	pthread_cond_destroy(&ws->changed);
	pthread_mutex_destroy(&ws->lock);
	free(ws);
}

uint64_t
waiters_seq(struct waiters *ws)
{
	uint64_t s;

	pthread_mutex_lock(&ws->lock);
	s = ws->seq;
	pthread_mutex_unlock(&ws->lock);
	return s;
}

int
waiters_add(struct waiters *ws, struct waiter *w, uint64_t seen)
{
	size_t b = bucket_of(w->user);

	pthread_mutex_lock(&ws->lock);
	if (ws->seq != seen || ws->stop || w->cancelled) {
		pthread_mutex_unlock(&ws->lock);
		return -1;
	}
	w->prev = NULL;
	w->next = ws->bucket[b];
	if (w->next != NULL)
		w->next->prev = w;
	ws->bucket[b] = w;
	w->registered = 1;
	ws->count++;
	w->poll_ms = ws->poll_interval > 0 ? waiters_now_ms() +
	    ws->poll_interval : 0;
	/* The timer may need to wake earlier than it planned. */
	if (due_at(w) < ws->next_wake)
		pthread_cond_signal(&ws->changed);
	pthread_mutex_unlock(&ws->lock);
	return 0;
}

int
waiters_cancel(struct waiters *ws, struct waiter *w)
{
	int rc = 0;

	pthread_mutex_lock(&ws->lock);
	if (w->registered) {
		unlink_waiter(ws, w);
		rc = 1;
	} else if (!w->woken) {
		w->cancelled = 1;
	}
	pthread_mutex_unlock(&ws->lock);
	return rc;
}

static void
wake_matching(struct waiters *ws, const char *user, int bump)
{
	struct waiter *w, *next, *due = NULL;
	size_t i;

	pthread_mutex_lock(&ws->lock);
	if (bump)
		ws->seq++;
	for (i = user != NULL ? bucket_of(user) : 0; i < BUCKETS; i++) {
		if (user != NULL && i != bucket_of(user))
			break;
		for (w = ws->bucket[i]; w != NULL; w = next) {
			next = w->next;
			if (user != NULL && strcmp(w->user, user) != 0)
				continue;
			unlink_waiter(ws, w);
			w->woken = 1;
			w->next = due;
			due = w;
		}
	}
	pthread_mutex_unlock(&ws->lock);
	for (w = due; w != NULL; w = next) {
		next = w->next;
		w->next = NULL;
		w->wake(w);
	}
}

void
waiters_bump(struct waiters *ws, const char *user)
{
	wake_matching(ws, user, 1);
}

void
waiters_wake_all(struct waiters *ws)
{
	wake_matching(ws, NULL, 1);
}

size_t
waiters_count(struct waiters *ws)
{
	size_t n;

	pthread_mutex_lock(&ws->lock);
	n = ws->count;
	pthread_mutex_unlock(&ws->lock);
	return n;
}
