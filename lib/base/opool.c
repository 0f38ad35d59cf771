/* opool.c - an ordered pool of worker threads (see opool.h). */
#include "base/opool.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct slot {
	void *job;
	int done;		/* guarded by lock */
};

struct opool {
	opool_work_fn work;
	void *arg;
	unsigned nthreads;	/* workers running; 0: jobs run in take */
	pthread_t thread[OPOOL_THREADS_MAX];
	unsigned started;	/* handed out as worker numbers */
	pthread_mutex_t lock;
	pthread_cond_t queued;	/* a job to run, or stopping */
	pthread_cond_t finished;	/* a job has run */
	int stopping;
	/* Job i (counted from 0 since the start) is in slot[i % window].
	 * [head, tail) are in flight; [next, tail) wait for a worker. Only
	 * the caller writes head and tail, under lock; workers write next
	 * and the slots' done, under lock. */
	size_t window, head, next, tail;
	struct slot *slot;
};

unsigned
opool_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > OPOOL_THREADS_MAX ? OPOOL_THREADS_MAX : (unsigned)n;
}

static void *
worker(void *arg)
{
	struct opool *p = arg;
	struct slot *s;
	unsigned me;

	pthread_mutex_lock(&p->lock);
	me = p->started++;
	for (;;) {
		while (p->next == p->tail && !p->stopping)
			pthread_cond_wait(&p->queued, &p->lock);
		if (p->stopping)
			break;
		s = &p->slot[p->next++ % p->window];
		pthread_mutex_unlock(&p->lock);
		p->work(s->job, me, p->arg);
		pthread_mutex_lock(&p->lock);
		s->done = 1;
		pthread_cond_signal(&p->finished);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct opool *
opool_start(unsigned threads, size_t window, opool_work_fn work, void *arg)
{
	struct opool *p;
	unsigned i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->work = work;
	p->arg = arg;
	p->window = window > 0 ? window : 1;
	if ((p->slot = calloc(p->window, sizeof(*p->slot))) == NULL) {
		free(p);
		return NULL;
	}
	if (threads > OPOOL_THREADS_MAX)
		threads = OPOOL_THREADS_MAX;
	if (threads <= 1)
		return p;
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		return p;
	if (pthread_cond_init(&p->queued, NULL) != 0) {
		pthread_mutex_destroy(&p->lock);
		return p;
	}
	if (pthread_cond_init(&p->finished, NULL) != 0) {
		pthread_cond_destroy(&p->queued);
		pthread_mutex_destroy(&p->lock);
		return p;
	}
	/* The threads that could be started do the work: fewer are slower,
	 * not wrong. Nothing is queued yet, so none reads nthreads. */
	for (i = 0; i < threads; i++) {
		if (pthread_create(&p->thread[i], NULL, worker, p) != 0)
			break;
		p->nthreads++;
	}
	if (p->nthreads == 0) {
		pthread_cond_destroy(&p->finished);
		pthread_cond_destroy(&p->queued);
		pthread_mutex_destroy(&p->lock);
	}
	return p;
}

unsigned
opool_threads(const struct opool *p)
{
	return p->nthreads > 0 ? p->nthreads : 1;
}

size_t
opool_pending(const struct opool *p)
{
	return p->tail - p->head;
}

int
opool_full(const struct opool *p)
{
	return p->tail - p->head >= p->window;
}

void
opool_submit(struct opool *p, void *job)
{
	struct slot *s = &p->slot[p->tail % p->window];

	if (p->nthreads == 0) {
		s->job = job;
		s->done = 0;
		p->tail++;
		return;
	}
	pthread_mutex_lock(&p->lock);
	s->job = job;
	s->done = 0;
	p->tail++;
	pthread_cond_signal(&p->queued);
	pthread_mutex_unlock(&p->lock);
}

void *
opool_take(struct opool *p)
{
	struct slot *s;
	void *job;

	if (p->head == p->tail)
		return NULL;
	s = &p->slot[p->head % p->window];
	if (p->nthreads == 0) {
		p->work(s->job, 0, p->arg);
		p->head++;
		return s->job;
	}
	pthread_mutex_lock(&p->lock);
	while (!s->done)
		pthread_cond_wait(&p->finished, &p->lock);
	job = s->job;
	s->job = NULL;
	p->head++;
	pthread_mutex_unlock(&p->lock);
	return job;
}

void
opool_stop(struct opool *p, void (*drop)(void *job, void *arg), void *arg)
{
	unsigned i;

	if (p == NULL)
		return;
	if (p->nthreads > 0) {
		pthread_mutex_lock(&p->lock);
		p->stopping = 1;
		pthread_cond_broadcast(&p->queued);
		pthread_mutex_unlock(&p->lock);
		for (i = 0; i < p->nthreads; i++)
			pthread_join(p->thread[i], NULL);
		pthread_cond_destroy(&p->finished);
		pthread_cond_destroy(&p->queued);
		pthread_mutex_destroy(&p->lock);
	}
	/* The workers are gone: what they wrote is ours (joined). */
	for (; p->head != p->tail; p->head++)
		if (drop != NULL)
			drop(p->slot[p->head % p->window].job, arg);
	free(p->slot);
	free(p);
}
