/* throttle.c - failure counters: fixed windows, or exponential backoff
 * (see throttle.h). */
#include "server/throttle.h"
#include "base/err.h"
#include "format/crypto.h"
#include "server/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 80

struct entry {
	char key[KEY_MAX];
	int64_t start;		/* ms: of the window, or (backoff) of the
				 * last failure; 0 = free slot */
	unsigned count;
	unsigned pending;	/* attempts begun, not yet ended */
};

struct throttle {
	pthread_mutex_t lock;
	struct throttle_waiter *queue;	/* attempts waiting for a turn */
	unsigned limit;
	int64_t window;		/* ms: how long a key is remembered */
	int64_t base, max_wait;	/* ms; backoff; base 0: a fixed window */
	size_t size;		/* a power of two */
	struct entry *e;
};

/* FNV-1a, keyed per process so that nobody can aim names at another
 * name's slots and push its window out. */
static uint64_t seed = 1469598103934665603ull;

struct throttle *
throttle_new(unsigned limit, unsigned window, unsigned max_keys)
{
	struct throttle *t = calloc(1, sizeof(*t));
	size_t size = 64;

	if (t == NULL)
		return NULL;
	{
		struct report rep = { 0 };	/* said in the log */

		if (crypto_random(&seed, sizeof(seed), &rep) != 0)
			seed ^= (uint64_t)(uintptr_t)t;
		log_report(&rep);
	}
	while (size < (size_t)max_keys * 2)
		size *= 2;
	if ((t->e = calloc(size, sizeof(*t->e))) == NULL) {
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->limit = limit;
	t->window = (int64_t)window * 1000;
	t->size = size;
	return t;
}

struct throttle *
throttle_new_backoff(unsigned limit, unsigned base, unsigned max_wait,
    unsigned max_keys)
{
	struct throttle *t;

	if (max_wait == 0)
		max_wait = 1;
	if (base == 0)
		base = 1;
	if (base > max_wait)
		base = max_wait;
	if ((t = throttle_new(limit, 2 * max_wait, max_keys)) != NULL) {
		t->base = (int64_t)base * 1000;
		t->max_wait = (int64_t)max_wait * 1000;
	}
	return t;
}

void
throttle_free(struct throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->e);
	free(t);
}

static uint64_t
hash_n(const char *s, size_t max)
{
	uint64_t h = seed;

	while (*s && max-- > 0)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* The whole seconds from now until until, rounded up: a client that
 * waits them finds the wait over (a count kept in seconds would let it
 * come back up to a second early, before the shared counts' own end). */
static unsigned
seconds_until(int64_t until, int64_t now)
{
	return until > now ? (unsigned)((until - now + 999) / 1000) : 1;
}

/* The entry of key, or NULL. An open-addressed table probed a short way:
 * past that, the oldest entry of the probed run is reused, so an attacker
 * filling the table only ever forgets old windows. */
static struct entry *
find(struct throttle *t, const char *key, int64_t now, int create)
{
	size_t i, j, mask = t->size - 1, probe = 16;
	struct entry *e, *oldest = NULL;

	i = (size_t)hash_n(key, KEY_MAX - 1) & mask;
	for (j = 0; j < probe; j++) {
		e = &t->e[(i + j) & mask];
		if (e->start != 0 && now - e->start >= t->window)
			e->start = 0;	/* expired: free */
		/* Keys are kept cut to KEY_MAX - 1 bytes, and compared so. */
		if (e->start != 0 && strncmp(e->key, key, KEY_MAX - 1) == 0)
			return e;
		if (oldest == NULL || e->start < oldest->start)
			oldest = e;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	strncpy(oldest->key, key, KEY_MAX - 1);
	oldest->start = now;
	return oldest;
}

unsigned
throttle_check(struct throttle *t, const char *key, int64_t now)
{
	struct entry *e;
	unsigned wait = 0;

	pthread_mutex_lock(&t->lock);
	e = find(t, key, now, 0);
	if (e != NULL && e->count >= t->limit)
		wait = seconds_until(e->start + t->window, now);
	pthread_mutex_unlock(&t->lock);
	return wait;
}

void
throttle_fail(struct throttle *t, const char *key, int64_t now)
{
	struct entry *e;

	pthread_mutex_lock(&t->lock);
	if ((e = find(t, key, now, 1)) != NULL)
		e->count++;
	pthread_mutex_unlock(&t->lock);
}

/* When a key that has failed count times (at least the limit) may try
 * again: its last failure plus base, doubled for each failure past the
 * limit, at most max_wait. */
static int64_t
backoff_until(const struct throttle *t, const struct entry *e)
{
	unsigned over = e->count - t->limit;
	int64_t wait = t->max_wait;

	if (over < 32 && t->base <= t->max_wait >> over)
		wait = t->base << over;
	return e->start + wait;
}

/* Whether key may begin an attempt now: THROTTLE_GO, or THROTTLE_WAIT
 * with *wait set, or THROTTLE_QUEUE. Called with the lock held. */
static int
admit(struct throttle *t, struct entry *e, int64_t now, unsigned *wait)
{
	unsigned room;
	int64_t until;

	/* While failures and attempts in flight together reach the limit,
	 * later attempts wait for those in flight to end (queued): then
	 * parallel guesses cannot get more than the limit, and parallel
	 * right answers all get through, a few at a time. Past the limit,
	 * a backoff key gets one attempt at a time, once its wait is over. */
	if (e->count >= t->limit) {
		until = t->base > 0 ? backoff_until(t, e) : e->start + t->window;
		if (t->base == 0 || now < until) {
			*wait = seconds_until(until, now);
			return THROTTLE_WAIT;
		}
		room = 1;
	} else {
		room = t->limit - e->count;
	}
	if (e->pending >= room)
		return THROTTLE_QUEUE;
	return THROTTLE_GO;
}

int
throttle_try(struct throttle *t, const char *key, int64_t now,
    unsigned *wait)
{
	struct entry *e;
	int rc = THROTTLE_GO;

	*wait = 0;
	pthread_mutex_lock(&t->lock);
	if ((e = find(t, key, now, 1)) != NULL &&
	    (rc = admit(t, e, now, wait)) == THROTTLE_GO)
		e->pending++;
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int
throttle_enqueue(struct throttle *t, const char *key, int64_t now,
    struct throttle_waiter *w)
{
	struct entry *e;
	unsigned wait;
	int queued = 0;

	pthread_mutex_lock(&t->lock);
	/* Queued only if it still has to wait: else the caller retries. */
	if ((e = find(t, key, now, 1)) != NULL &&
	    admit(t, e, now, &wait) == THROTTLE_QUEUE) {
		snprintf(w->key, sizeof(w->key), "%s", key);
		w->next = t->queue;
		t->queue = w;
		queued = 1;
	}
	pthread_mutex_unlock(&t->lock);
	return queued;
}

void
throttle_end(struct throttle *t, const char *key, int64_t now, int failed)
{
	struct throttle_waiter **pp, *w, *wake = NULL;
	struct entry *e;

	pthread_mutex_lock(&t->lock);
	if ((e = find(t, key, now, failed)) != NULL) {
		if (e->pending > 0)
			e->pending--;
		if (failed) {
			e->count++;
			/* A backoff counts from the last failure. */
			if (t->base > 0)
				e->start = now;
		}
	}
	/* Everyone waiting on this key looks again. */
	for (pp = &t->queue; (w = *pp) != NULL;) {
		if (strncmp(w->key, key, sizeof(w->key) - 1) == 0) {
			*pp = w->next;
			w->next = wake;
			wake = w;
		} else {
			pp = &w->next;
		}
	}
	pthread_mutex_unlock(&t->lock);
	while ((w = wake) != NULL) {
		wake = w->next;
		w->next = NULL;
		w->wake(w);
	}
}

void
throttle_succeeded(struct throttle *t, const char *key, int64_t now)
{
	struct entry *e;

	if (t->base == 0)
		return;
	pthread_mutex_lock(&t->lock);
	if ((e = find(t, key, now, 0)) != NULL)
		e->count = 0;
	pthread_mutex_unlock(&t->lock);
}
