/*
 * waiters.h - receivers waiting for a message (long-poll).
 *
 * A waiting request is registered under its user's id with a deadline;
 * a stored message wakes every waiter of its recipient at once, a timer
 * thread wakes the others when their deadline passes. Waking calls the
 * waiter's wake() exactly once, from whichever thread woke it.
 *
 * To not miss a message stored between a receiver's query and its
 * registration, every store bumps a global sequence (waiters_bump): a
 * receiver reads it before its query and registers with that value; if
 * the sequence moved meanwhile, registration refuses and the receiver
 * queries again.
 *
 * Only this process's stores bump the sequence. A message stored by
 * another server on the same database is found by polling: with a poll
 * interval, a waiter is also woken when it has waited that long, and
 * queries again (it registers again if there is still nothing).
 */
#ifndef E2E_WAITERS_H
#define E2E_WAITERS_H

#include <stddef.h>
#include <stdint.h>

#include "base/report.h"

struct waiter {
	char user[32];
	int64_t deadline_ms;	/* CLOCK_MONOTONIC */
	int64_t poll_ms;	/* woken then too; set by waiters_add */
	void (*wake)(struct waiter *w);
	struct waiter *prev, *next;	/* the registry's */
	int registered;
	int woken;		/* taken out to be woken */
	int cancelled;		/* waiters_cancel() came first */
};

struct waiters;

/* Starts the long-poll timer; poll_interval_ms: how long a waiter
 * waits before it is woken to look again (0: until its deadline or a
 * message). NULL on failure (said in rep). */
struct waiters *waiters_new(unsigned poll_interval_ms, struct report *rep);
void waiters_free(struct waiters *ws);

uint64_t waiters_seq(struct waiters *ws);
/* Registers w unless the sequence moved past seen, or w was cancelled
 * (returns -1 then). w must be zeroed before its first registration. */
int waiters_add(struct waiters *ws, struct waiter *w, uint64_t seen);
/*
 * The waiter's client went away. Returns 1 when w was registered and is
 * now taken out: it will never be woken, the caller ends it. Otherwise 0:
 * a wake-up is already on its way, or (w not added yet) waiters_add()
 * will refuse it.
 */
int waiters_cancel(struct waiters *ws, struct waiter *w);
/* Called after a message for user was stored. */
void waiters_bump(struct waiters *ws, const char *user);
/* Wakes everyone (shutdown). */
void waiters_wake_all(struct waiters *ws);
size_t waiters_count(struct waiters *ws);

int64_t waiters_now_ms(void);

#endif
