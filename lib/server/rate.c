/* rate.c - token buckets per key (see rate.h). */
#include "server/rate.h"
#include "base/err.h"
#include "format/crypto.h"
#include "server/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY_MAX 80
#define PROBE 16

struct entry {
	char key[KEY_MAX];
	int used;
	double tokens;
	int64_t last_ms;	/* when tokens was last brought up to date */
};

struct rate {
	pthread_mutex_t lock;
	double per_ms, burst;
	uint64_t seed;
	size_t size;		/* a power of two */
	struct entry *e;
};

int64_t
rate_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct rate *
rate_new(double per_s, double burst, unsigned max_keys)
{
	struct rate *r = calloc(1, sizeof(*r));
	size_t size = 64;

	if (r == NULL)
		return NULL;
	while (size < (size_t)max_keys * 2)
		size *= 2;
	if ((r->e = calloc(size, sizeof(*r->e))) == NULL) {
		free(r);
		return NULL;
	}
	/* Keyed per table, so that nobody can aim keys at another key's
	 * slots and push it out. */
	{
		struct report rep = { 0 };	/* said in the log */

		if (crypto_random(&r->seed, sizeof(r->seed), &rep) != 0)
			r->seed = (uint64_t)(uintptr_t)r ^
			    1469598103934665603ull;
		log_report(&rep);
	}
	pthread_mutex_init(&r->lock, NULL);
	r->per_ms = per_s / 1000.0;
	r->burst = burst;
	r->size = size;
	return r;
}

void
rate_free(struct rate *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->e);
	free(r);
}

/* The tokens of e at now_ms. */
static double
level(const struct rate *r, const struct entry *e, int64_t now_ms)
{
	double t;

	if (!e->used)
		return r->burst;
	t = e->tokens + (double)(now_ms > e->last_ms ? now_ms - e->last_ms :
	    0) * r->per_ms;
	return t > r->burst ? r->burst : t;
}

/* FNV-1a of the key, seeded. */
static size_t
slot(const struct rate *r, const char *key)
{
	uint64_t h = r->seed;
	size_t n = 0;

	while (n < KEY_MAX - 1 && key[n] != '\0')
		h = (h ^ (unsigned char)key[n++]) * 1099511628211ull;
	return (size_t)h & (r->size - 1);
}

/* key's entry, brought up to date; NULL when not remembered and !create.
 * Created: in a free slot or one whose bucket is full again (nothing
 * lost), else in the fullest of the probed run. */
static struct entry *
find(struct rate *r, const char *key, int64_t now_ms, int create)
{
	struct entry *e, *best = NULL;
	double t, best_t = -1;
	size_t i = slot(r, key), j;

	for (j = 0; j < PROBE; j++) {
		e = &r->e[(i + j) & (r->size - 1)];
		t = level(r, e, now_ms);
		if (e->used && strncmp(e->key, key, KEY_MAX - 1) == 0) {
			e->tokens = t;
			e->last_ms = now_ms;
			return e;
		}
		if (t > best_t) {
			best = e;
			best_t = t;
		}
	}
	if (!create)
		return NULL;
	memset(best, 0, sizeof(*best));
	strncpy(best->key, key, KEY_MAX - 1);
	best->used = 1;
	best->tokens = r->burst;
	best->last_ms = now_ms;
	return best;
}

int
rate_take(struct rate *r, const char *key, int64_t now_ms, unsigned *wait_s)
{
	struct entry *e;
	double need;
	int ok = 1;

	*wait_s = 0;
	pthread_mutex_lock(&r->lock);
	e = find(r, key, now_ms, 1);
	if (e->tokens >= 1.0) {
		e->tokens -= 1.0;
	} else {
		ok = 0;
		need = (1.0 - e->tokens) / r->per_ms / 1000.0;
		*wait_s = (unsigned)need + 1;
	}
	pthread_mutex_unlock(&r->lock);
	return ok;
}

void
rate_give(struct rate *r, const char *key, int64_t now_ms)
{
	struct entry *e;

	pthread_mutex_lock(&r->lock);
	if ((e = find(r, key, now_ms, 0)) != NULL) {
		e->tokens += 1.0;
		if (e->tokens > r->burst)
			e->tokens = r->burst;
	}
	pthread_mutex_unlock(&r->lock);
}
