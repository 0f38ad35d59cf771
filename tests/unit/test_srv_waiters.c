/*
 * The long-poll registry (waiters.c): a waiter is woken by a message for
 * its user, at its deadline, and, with a poll interval, when it has waited
 * that long (a message stored by another server on the database is found
 * only so; issue 12). Bounds are generous: the timer thread runs on a
 * loaded machine; only "never before" is exact.
 */
#include "harness.h"

#include <pthread.h>
#include <time.h>

#include "server/waiters.h"

struct probe {
	struct waiter w;	/* first: woken() finds its probe */
	pthread_mutex_t lock;
	int woken;
	int64_t at;		/* waiters_now_ms() when woken */
};

static void
woken(struct waiter *w)
{
	struct probe *p = (struct probe *)w;

	pthread_mutex_lock(&p->lock);
	p->woken++;
	p->at = waiters_now_ms();
	pthread_mutex_unlock(&p->lock);
}

static void
probe_init(struct probe *p, const char *user, int64_t deadline_ms)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	snprintf(p->w.user, sizeof(p->w.user), "%s", user);
	p->w.deadline_ms = deadline_ms;
	p->w.wake = woken;
}

/* Waits up to ms for the probe to be woken; returns how often it was. */
static int
wait_woken(struct probe *p, int ms)
{
	struct timespec tick = { 0, 10 * 1000000 };
	int i, n = 0;

	for (i = 0; i <= ms / 10; i++) {
		pthread_mutex_lock(&p->lock);
		n = p->woken;
		pthread_mutex_unlock(&p->lock);
		if (n > 0)
			break;
		nanosleep(&tick, NULL);
	}
	return n;
}

/* With a poll interval: woken after about that long, long before its
 * deadline, and never before the interval. */
static void
test_poll_wakes(void)
{
	struct waiters *ws = waiters_new(200, NULL);
	struct probe p;
	int64_t t0;

	CHECK(ws != NULL);
	if (ws == NULL)
		return;
	t0 = waiters_now_ms();
	probe_init(&p, "bob", t0 + 60000);
	CHECK(waiters_add(ws, &p.w, waiters_seq(ws)) == 0);
	CHECK(p.w.poll_ms >= t0 + 200 && p.w.poll_ms <= waiters_now_ms() + 200);
	CHECK(waiters_count(ws) == 1);
	CHECK(wait_woken(&p, 10000) == 1);
	CHECK(p.at >= t0 + 200);
	CHECKF(p.at < t0 + 10000, "woken after %lld ms",
	    (long long)(p.at - t0));
	CHECK(waiters_count(ws) == 0);
	/* Taken out: the shutdown's wake-up does not reach it again. */
	waiters_free(ws);
	CHECK(p.woken == 1);
	pthread_mutex_destroy(&p.lock);
}

/* Without one (a server alone on its database): only the deadline or a
 * message wakes it. */
static void
test_no_poll(void)
{
	struct waiters *ws = waiters_new(0, NULL);
	struct probe p, q;
	int64_t t0;

	CHECK(ws != NULL);
	if (ws == NULL)
		return;
	t0 = waiters_now_ms();
	probe_init(&p, "bob", t0 + 400);
	CHECK(waiters_add(ws, &p.w, waiters_seq(ws)) == 0);
	CHECK(p.w.poll_ms == 0);
	CHECK(wait_woken(&p, 10000) == 1);
	CHECK(p.at >= t0 + 400);
	/* A message for its user wakes it at once; another user's does
	 * not. */
	probe_init(&q, "carol", waiters_now_ms() + 60000);
	CHECK(waiters_add(ws, &q.w, waiters_seq(ws)) == 0);
	waiters_bump(ws, "bob");
	CHECK(q.woken == 0 && waiters_count(ws) == 1);
	waiters_bump(ws, "carol");
	CHECK(q.woken == 1 && waiters_count(ws) == 0);
	waiters_free(ws);
	pthread_mutex_destroy(&p.lock);
	pthread_mutex_destroy(&q.lock);
}

/* A deadline sooner than the poll: the deadline. */
static void
test_deadline_first(void)
{
	struct waiters *ws = waiters_new(30000, NULL);
	struct probe p;
	int64_t t0;

	CHECK(ws != NULL);
	if (ws == NULL)
		return;
	t0 = waiters_now_ms();
	probe_init(&p, "bob", t0 + 300);
	CHECK(waiters_add(ws, &p.w, waiters_seq(ws)) == 0);
	CHECK(wait_woken(&p, 10000) == 1);
	CHECK(p.at >= t0 + 300 && p.at < t0 + 10000);
	waiters_free(ws);
	pthread_mutex_destroy(&p.lock);
}

int
main(void)
{
	RUN(test_poll_wakes);
	RUN(test_no_poll);
	RUN(test_deadline_first);
	return harness_end();
}
