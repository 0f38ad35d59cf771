/* throttle.c - fixed-window failure counters (see throttle.h). */
#include "throttle.h"
#include "crypto.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 80

struct entry {
	char key[KEY_MAX];
	int64_t start;		/* of the window; 0 = free slot */
	unsigned count;
};

struct throttle {
	pthread_mutex_t lock;
	unsigned limit, window;
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
	if (crypto_random(&seed, sizeof(seed)) != 0)
		seed ^= (uint64_t)(uintptr_t)t;
	while (size < (size_t)max_keys * 2)
		size *= 2;
	if ((t->e = calloc(size, sizeof(*t->e))) == NULL) {
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->limit = limit;
	t->window = window;
	t->size = size;
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
		wait = (unsigned)(e->start + t->window - now);
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

void
throttle_forgive(struct throttle *t, const char *key, int64_t now)
{
	struct entry *e;

	pthread_mutex_lock(&t->lock);
	if ((e = find(t, key, now, 0)) != NULL && e->count > 0)
		e->count--;
	pthread_mutex_unlock(&t->lock);
}
