/*
 * workers.h - a few threads for slow work (bcrypt takes a quarter of a
 * second) so that the threads serving connections never block on it.
 *
 * Work submitted with a key (the client's address) waits in a bounded
 * queue that is fair between keys: the threads take one job of each key
 * in turn, so a client who floods the queue delays another client by at
 * most one of its jobs per round, not by all of them.
 */
#ifndef E2E_WORKERS_H
#define E2E_WORKERS_H

#include "base/report.h"

#define WORKERS_KEY_MAX 64

struct work {
	void (*run)(struct work *w);	/* on a worker thread */
	struct work *next;
	char key[WORKERS_KEY_MAX];	/* its queue; set by the submit */
};

struct workers;

/*
 * n threads (0: one per core). At most queue_max keyed jobs wait, and
 * at most per_key_max of them under one key (0: no limit for either).
 * Returns NULL when the threads cannot be started (said in rep).
 */
struct workers *workers_start(unsigned n, unsigned queue_max,
    unsigned per_key_max, struct report *rep);

/* The number of threads started. */
unsigned workers_count(const struct workers *ws);

/* Queues w, outside the bounds and the turns of keyed work. */
void workers_submit(struct workers *ws, struct work *w);

/* Queues w under key: WORKERS_OK, or (nothing queued) WORKERS_FULL when
 * queue_max jobs wait, WORKERS_KEY_FULL when per_key_max of key's do. */
enum { WORKERS_OK, WORKERS_FULL, WORKERS_KEY_FULL };
int workers_submit_keyed(struct workers *ws, struct work *w, const char *key);

/* Runs what is queued, then stops the threads. */
void workers_stop(struct workers *ws);

#endif
