/* pipeline.c - a producer and one consumer of ranges (see pipeline.h). */
#include "base/pipeline.h"
#include "base/err.h"

#include <pthread.h>
#include <stdlib.h>

struct range {
	uint8_t *p;
	size_t n;
};

struct pipeline {
	pipeline_fn fn;
	void *ctx;
	int threaded;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	/* Guarded by lock: a ring of waiting ranges, and who sleeps. */
	struct range q[PIPELINE_DEPTH];
	size_t head, count;
	int done;
	int consumer_waits, producer_waits;
	int rc;			/* the consumer's: guarded by lock */
};

static void *
consume(void *arg)
{
	struct pipeline *pl = arg;
	struct range r;
	int rc;

	for (;;) {
		pthread_mutex_lock(&pl->lock);
		while (pl->count == 0 && !pl->done) {
			pl->consumer_waits = 1;
			pthread_cond_wait(&pl->changed, &pl->lock);
			pl->consumer_waits = 0;
		}
		if (pl->count == 0) {	/* done, and nothing left */
			pthread_mutex_unlock(&pl->lock);
			return NULL;
		}
		r = pl->q[pl->head];
		rc = pl->rc;	/* written by this thread alone */
		pthread_mutex_unlock(&pl->lock);

		if (rc == 0)
			rc = pl->fn(pl->ctx, r.p, r.n);

		/* Only now is the range's memory free for reuse. */
		pthread_mutex_lock(&pl->lock);
		pl->rc = rc;
		pl->head = (pl->head + 1) % PIPELINE_DEPTH;
		pl->count--;
		/* Woken with room for a batch, not for each range: each
		 * wake-up costs a switch, and the threads run longer. */
		if (pl->producer_waits &&
		    pl->count <= PIPELINE_DEPTH - PIPELINE_BATCH)
			pthread_cond_signal(&pl->changed);
		pthread_mutex_unlock(&pl->lock);
	}
}

struct pipeline *
pipeline_start(size_t total, pipeline_fn fn, void *ctx)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));

	if (pl == NULL)
		return NULL;
	pl->fn = fn;
	pl->ctx = ctx;
	if (total < PIPELINE_MIN_PARALLEL)
		return pl;
	if (pthread_mutex_init(&pl->lock, NULL) != 0)
		return pl;
	if (pthread_cond_init(&pl->changed, NULL) != 0) {
		pthread_mutex_destroy(&pl->lock);
		return pl;
	}
	if (pthread_create(&pl->thread, NULL, consume, pl) != 0) {
		pthread_cond_destroy(&pl->changed);
		pthread_mutex_destroy(&pl->lock);
		return pl;
	}
	pl->threaded = 1;
	return pl;
}

void
pipeline_push(struct pipeline *pl, uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if (!pl->threaded) {
		if (pl->rc == 0)
			pl->rc = pl->fn(pl->ctx, p, n);
		return;
	}
	pthread_mutex_lock(&pl->lock);
	while (pl->count == PIPELINE_DEPTH) {
		pl->producer_waits = 1;
		pthread_cond_wait(&pl->changed, &pl->lock);
		pl->producer_waits = 0;
	}
	pl->q[(pl->head + pl->count) % PIPELINE_DEPTH].p = p;
	pl->q[(pl->head + pl->count) % PIPELINE_DEPTH].n = n;
	pl->count++;
	/* The same: a sleeping consumer is woken for a batch (the rest,
	 * if shorter, by pipeline_finish). */
	if (pl->consumer_waits && pl->count >= PIPELINE_BATCH)
		pthread_cond_signal(&pl->changed);
	pthread_mutex_unlock(&pl->lock);
}

int
pipeline_failed(struct pipeline *pl)
{
	int rc;

	if (!pl->threaded)
		return pl->rc;
	pthread_mutex_lock(&pl->lock);
	rc = pl->rc;
	pthread_mutex_unlock(&pl->lock);
	return rc;
}

int
pipeline_finish(struct pipeline *pl)
{
	int rc;

	if (pl->threaded) {
		pthread_mutex_lock(&pl->lock);
		pl->done = 1;
		pthread_cond_signal(&pl->changed);
		pthread_mutex_unlock(&pl->lock);
		pthread_join(pl->thread, NULL);
		pthread_cond_destroy(&pl->changed);
		pthread_mutex_destroy(&pl->lock);
	}
	rc = pl->rc;
	free(pl);
	return rc;
}
