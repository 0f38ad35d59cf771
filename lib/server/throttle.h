/*
 * throttle.h - counting failed sign-ins per key (an address; a name and
 * an address), to answer 429 once a key has failed too often: over a
 * fixed window, or with exponential backoff. Memory is bounded: when the
 * table is full, the oldest windows go.
 */
#ifndef E2E_THROTTLE_H
#define E2E_THROTTLE_H

#include <stdint.h>

struct throttle;

/* Times (now) are milliseconds of the wall clock, as the shared counts'
 * (store_limit_now_ms): a wait said in whole seconds, rounded up, then
 * ends no sooner here than there. Limits and waits are in seconds. */

/* limit failures per window seconds; at most max_keys keys remembered. */
struct throttle *throttle_new(unsigned limit, unsigned window,
    unsigned max_keys);

/*
 * Exponential backoff instead of a window: limit failures are free;
 * after the limit-th, the key waits base seconds from its last failure,
 * and twice as long after each further one, at most max_wait. A key is
 * forgotten 2 * max_wait seconds after its last failure, and at once by
 * throttle_succeeded().
 */
struct throttle *throttle_new_backoff(unsigned limit, unsigned base,
    unsigned max_wait, unsigned max_keys);

/* A success: a backoff key starts afresh (a window key is unchanged). */
void throttle_succeeded(struct throttle *t, const char *key, int64_t now);
void throttle_free(struct throttle *t);

/* Returns 0 when key may try now, else the seconds until it may. */
unsigned throttle_check(struct throttle *t, const char *key, int64_t now);
/* Counts a failure (or any event that is limited, such as a sign-up). */
void throttle_fail(struct throttle *t, const char *key, int64_t now);

/*
 * For attempts whose outcome comes later (a sign-in's bcrypt check).
 * While a key's failures and its attempts in flight together reach the
 * limit, a new attempt waits for one in flight to end: so parallel wrong
 * guesses get no more than the limit, and parallel right ones all get
 * through, a few at a time.
 *
 * throttle_try: THROTTLE_GO (the attempt is now in flight: end it with
 * throttle_end), THROTTLE_WAIT (answer 429; *wait seconds), or
 * THROTTLE_QUEUE: then throttle_enqueue(w), which returns 1 when queued
 * (w->wake is called once, from another thread, when it may try again)
 * or 0 when it may try again at once.
 */
enum { THROTTLE_GO, THROTTLE_WAIT, THROTTLE_QUEUE };

struct throttle_waiter {
	char key[80];
	void (*wake)(struct throttle_waiter *w);
	struct throttle_waiter *next;
};

int throttle_try(struct throttle *t, const char *key, int64_t now,
    unsigned *wait);
int throttle_enqueue(struct throttle *t, const char *key, int64_t now,
    struct throttle_waiter *w);
void throttle_end(struct throttle *t, const char *key, int64_t now,
    int failed);

#endif
