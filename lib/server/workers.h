/*
 * workers.h - a few threads for slow work (bcrypt takes a quarter of a
 * second) so that the threads serving connections never block on it.
 */
#ifndef E2E_WORKERS_H
#define E2E_WORKERS_H

struct work {
	void (*run)(struct work *w);	/* on a worker thread */
	struct work *next;
};

struct workers;

/* Returns NULL when the threads cannot be started (reported). */
struct workers *workers_start(unsigned n);
void workers_submit(struct workers *ws, struct work *w);
/* Runs what is queued, then stops the threads. */
void workers_stop(struct workers *ws);

#endif
