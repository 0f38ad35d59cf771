/*
 * throttle.h - counting failed sign-ins per key (a user name, an address)
 * over a fixed window, to answer 429 once a key has failed too often.
 * Memory is bounded: when the table is full, the oldest windows go.
 */
#ifndef E2E_THROTTLE_H
#define E2E_THROTTLE_H

#include <stdint.h>

struct throttle;

/* limit failures per window seconds; at most max_keys keys remembered. */
struct throttle *throttle_new(unsigned limit, unsigned window,
    unsigned max_keys);
void throttle_free(struct throttle *t);

/* Returns 0 when key may try now, else the seconds until it may. */
unsigned throttle_check(struct throttle *t, const char *key, int64_t now);
/* Counts a failure of key (an attempt, counted before it is known to
 * fail, so that parallel attempts cannot slip past the limit). */
void throttle_fail(struct throttle *t, const char *key, int64_t now);
/* Takes back one count of key (the attempt succeeded). */
void throttle_forgive(struct throttle *t, const char *key, int64_t now);

#endif
