/*
 * cache.h - a small, short-lived memory: which user id and token
 * version a token names (after its full check), which user a name is.
 * A send otherwise checks a token's HMAC and parses it, and reads the
 * recipient from the database. Entries live a few seconds at most (a
 * token's never past its expiry), and the whole cache is emptied when an
 * account is deleted.
 */
#ifndef E2E_CACHE_H
#define E2E_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "server/store.h"

struct cache;

struct cache *cache_new(size_t slots);
void cache_free(struct cache *c);

/* Returns 1 and fills u when key (len bytes) is known and fresh. */
int cache_get(struct cache *c, const char *key, size_t len,
    struct store_user *u, int64_t now_ms);
/* The generation: take it before reading the database, and give it to
 * cache_put, which then keeps nothing read before a clear. */
uint64_t cache_gen(struct cache *c);
/* Remembers key -> u until until_ms, unless cleared since gen. */
void cache_put(struct cache *c, uint64_t gen, const char *key, size_t len,
    const struct store_user *u, int64_t until_ms);
void cache_clear(struct cache *c);

#endif
