/* pipeline.c - a producer and one consumer over one buffer (see pipeline.h). */
#include "pipeline.h"
#include "err.h"

#include <pthread.h>
#include <stdlib.h>

struct pipeline {
	uint8_t *buf;
	pipeline_fn fn;
	void *ctx;
	int threaded;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more;
	size_t produced;	/* guarded by lock */
	size_t latest;		/* the producer's own: produced so far */
	size_t published;	/* the producer's own: last value handed over */
	int done;		/* guarded by lock: no more will come */
	size_t consumed;	/* the consumer's own */
	int rc;			/* the consumer's own until joined */
};

static void *
consume(void *arg)
{
	struct pipeline *pl = arg;
	size_t upto;
	int done;

	for (;;) {
		pthread_mutex_lock(&pl->lock);
		while (pl->produced == pl->consumed && !pl->done)
			pthread_cond_wait(&pl->more, &pl->lock);
		upto = pl->produced;
		done = pl->done;
		pthread_mutex_unlock(&pl->lock);
		if (upto > pl->consumed) {
			if (pl->rc == 0)
				pl->rc = pl->fn(pl->ctx, pl->buf + pl->consumed,
				    upto - pl->consumed);
			pl->consumed = upto;
		} else if (done) {
			return NULL;
		}
	}
}

struct pipeline *
pipeline_start(uint8_t *buf, size_t total, pipeline_fn fn, void *ctx)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));

	if (pl == NULL) {
		err_error("out of memory");
		return NULL;
	}
	pl->buf = buf;
	pl->fn = fn;
	pl->ctx = ctx;
	if (total < PIPELINE_MIN_PARALLEL)
		return pl;
	if (pthread_mutex_init(&pl->lock, NULL) != 0)
		return pl;
	if (pthread_cond_init(&pl->more, NULL) != 0) {
		pthread_mutex_destroy(&pl->lock);
		return pl;
	}
	if (pthread_create(&pl->thread, NULL, consume, pl) != 0) {
		pthread_cond_destroy(&pl->more);
		pthread_mutex_destroy(&pl->lock);
		return pl;
	}
	pl->threaded = 1;
	return pl;
}

void
pipeline_produced(struct pipeline *pl, size_t upto)
{
	if (!pl->threaded) {
		if (upto > pl->consumed && pl->rc == 0)
			pl->rc = pl->fn(pl->ctx, pl->buf + pl->consumed,
			    upto - pl->consumed);
		pl->consumed = upto;
		return;
	}
	/* Hand over in steps of at least PIPELINE_STEP: waking the worker
	 * for every small chunk costs more than the work. */
	pl->latest = upto;
	if (upto - pl->published < PIPELINE_STEP)
		return;
	pl->published = upto;
	pthread_mutex_lock(&pl->lock);
	pl->produced = upto;
	pthread_cond_signal(&pl->more);
	pthread_mutex_unlock(&pl->lock);
}

int
pipeline_finish(struct pipeline *pl)
{
	int rc;

	if (pl->threaded) {
		pthread_mutex_lock(&pl->lock);
		pl->produced = pl->latest;
		pl->done = 1;
		pthread_cond_signal(&pl->more);
		pthread_mutex_unlock(&pl->lock);
		pthread_join(pl->thread, NULL);
		pthread_cond_destroy(&pl->more);
		pthread_mutex_destroy(&pl->lock);
	}
	rc = pl->rc;
	free(pl);
	return rc;
}
