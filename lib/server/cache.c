/* cache.c - a fixed-size table of recent users (see cache.h). */
#include "server/cache.h"
#include "base/buf.h"
#include "base/err.h"
#include "format/crypto.h"
#include "server/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	char *key;
	size_t len;
	int64_t until_ms;
	struct store_user u;
};

struct cache {
	pthread_mutex_t lock;
	size_t n;		/* a power of two */
	uint64_t seed;
	uint64_t gen;		/* bumped by every clear */
	struct slot *s;
};

struct cache *
cache_new(size_t slots)
{
	struct cache *c = calloc(1, sizeof(*c));
	size_t n = 16;

	if (c == NULL)
		return NULL;
	while (n < slots)
		n *= 2;
	if ((c->s = calloc(n, sizeof(*c->s))) == NULL) {
		free(c);
		return NULL;
	}
	{
		struct report rep = { 0 };	/* said in the log */

		if (crypto_random(&c->seed, sizeof(c->seed), &rep) != 0)
			c->seed = 1469598103934665603ull;
		log_report(&rep);
	}
	c->n = n;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

static void
empty(struct slot *s)
{
	if (s->key != NULL) {
		wipe(s->key, s->len);
		free(s->key);
	}
	wipe(s, sizeof(*s));
}

void
cache_clear(struct cache *c)
{
	size_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->n; i++)
		empty(&c->s[i]);
	c->gen++;
	pthread_mutex_unlock(&c->lock);
}

uint64_t
cache_gen(struct cache *c)
{
	uint64_t g;

	pthread_mutex_lock(&c->lock);
	g = c->gen;
	pthread_mutex_unlock(&c->lock);
	return g;
}

void
cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	cache_clear(c);
	pthread_mutex_destroy(&c->lock);
	free(c->s);
	free(c);
}

/* A keyed FNV-1a: nobody can aim keys at a slot. One slot per key: a
 * collision only costs a lookup in the database. */
static struct slot *
slot_of(struct cache *c, const char *key, size_t len)
{
	uint64_t h = c->seed;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
	return &c->s[h & (c->n - 1)];
}

int
cache_get(struct cache *c, const char *key, size_t len, struct store_user *u,
    int64_t now_ms)
{
	struct slot *s;
	int hit = 0;

	pthread_mutex_lock(&c->lock);
	s = slot_of(c, key, len);
	if (s->key != NULL && s->len == len && memcmp(s->key, key, len) == 0) {
		if (s->until_ms > now_ms) {
			*u = s->u;
			hit = 1;
		} else {
			empty(s);
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void
cache_put(struct cache *c, uint64_t gen, const char *key, size_t len,
    const struct store_user *u, int64_t until_ms)
{
	struct slot *s;
	char *k = malloc(len);

	if (k == NULL)
		return;
	memcpy(k, key, len);
	pthread_mutex_lock(&c->lock);
	/* Read before a clear that happened since: it may be stale. */
	if (gen != c->gen) {
		pthread_mutex_unlock(&c->lock);
		free(k);
		return;
	}
	s = slot_of(c, key, len);
	empty(s);
	s->key = k;
	s->len = len;
	s->until_ms = until_ms;
	s->u = *u;
	pthread_mutex_unlock(&c->lock);
}
