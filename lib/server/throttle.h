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
