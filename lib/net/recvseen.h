/*
 * recvseen.h - what one run of e2e-recv has printed, and which of those
 * the server said it deleted, so that a server that lists the same
 * messages again (a loop, a bug, a hostile server) is noticed and
 * nothing is printed twice in a run. Memory is bounded: the last
 * RECVSEEN_MAX ids are remembered, the oldest forgotten first (a cycle
 * longer than that goes unnoticed; one page is at most 100).
 */
#ifndef E2E_RECVSEEN_H
#define E2E_RECVSEEN_H

#include "base/report.h"

#define RECVSEEN_MAX 32768

enum recvseen_state {
	RECVSEEN_NEW = 0,	/* not seen in this run */
	RECVSEEN_PRINTED,	/* printed (or to acknowledge), not deleted */
	RECVSEEN_ACKED,		/* the server said it deleted it */
};

struct recvseen;

/* An empty memory, or NULL when out of memory (nothing said: the
 * caller says it). */
struct recvseen *recvseen_new(void);

/* id's state (RECVSEEN_NEW when unknown or forgotten). */
enum recvseen_state recvseen_get(const struct recvseen *s, const char *id);

/* Records id's state. Returns 0, or 70 (in rep) when out of memory. */
int recvseen_set(struct recvseen *s, const char *id,
    enum recvseen_state st, struct report *rep);

void recvseen_free(struct recvseen *s);

#endif
