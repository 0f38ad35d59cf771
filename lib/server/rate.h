/*
 * rate.h - token buckets per key (an account, an address): a key may
 * spend up to burst tokens at once, and gets them back at a steady rate.
 * Used for the send rate per account and for successful sign-ins per
 * account and per address.
 *
 * Memory is bounded: at most about max_keys keys are remembered. A key
 * not remembered has a full bucket, so a key is forgotten only when its
 * bucket has filled up again, or, when the table is full, the fullest of
 * the few it may use goes: forgetting can only ever be generous to a key
 * that has been quiet, never to one spending now.
 */
#ifndef E2E_RATE_H
#define E2E_RATE_H

#include <stdint.h>

struct rate;

/* per_s tokens a second, burst at most (both > 0). NULL: out of memory. */
struct rate *rate_new(double per_s, double burst, unsigned max_keys);
void rate_free(struct rate *r);

/*
 * Takes one token of key at now_ms (a monotonic clock). Returns 1 when
 * taken; 0 when the bucket is empty, with *wait_s set to the whole
 * seconds until a token is back (at least 1).
 */
int rate_take(struct rate *r, const char *key, int64_t now_ms,
    unsigned *wait_s);

/* Gives back a token taken for an attempt that did not count. */
void rate_give(struct rate *r, const char *key, int64_t now_ms);

/* Milliseconds of a monotonic clock. */
int64_t rate_now_ms(void);

#endif
