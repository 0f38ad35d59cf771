/* opool.c - an ordered pool of worker threads (see opool.h). */
#include "base/opool.h"

#include "base/buf.h"
#include "base/fileio.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The most a cgroup file read here may hold. */
#define CGROUP_FILE_MAX 65536

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

/* The cores of one cpu.max text (NUL-ended): 0 for "max" or anything
 * unreadable. */
static unsigned
quota_cores(const char *text)
{
	unsigned long long quota, period;
	char *end;

	if (strncmp(text, "max", 3) == 0)
		return 0;
	quota = strtoull(text, &end, 10);
	if (end == text || *end != ' ')
		return 0;
	period = strtoull(end + 1, &end, 10);
	if (period == 0 || quota == 0 || (*end != '\n' && *end != '\0'))
		return 0;
	quota = (quota + period - 1) / period;
	return quota > OPOOL_THREADS_MAX ? OPOOL_THREADS_MAX : (unsigned)quota;
}

unsigned
opool_cgroup_cores(const char *cgroup_fs, const char *self_cgroup)
{
	struct buf b = BUF_INIT;
	struct report quiet = { 0 };	/* no cgroup v2 is no error */
	char path[4096], dir[4096];
	const char *line, *next;
	char *slash;
	size_t len;
	unsigned best = 0, n;

	if (file_read(self_cgroup, CGROUP_FILE_MAX, "cgroup", &b,
	    &quiet) != 0 || buf_append(&b, "", 1) != 0)
		goto out;
	for (line = (const char *)b.p; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			next++;
		if (strncmp(line, "0::/", 4) == 0)
			break;
	}
	if (line == NULL)
		goto out;
	line += 3;
	len = next != NULL ? (size_t)(next - 1 - line) : strlen(line);
	if (len >= sizeof(dir))
		goto out;
	memcpy(dir, line, len);
	dir[len] = '\0';
	/* The cgroup and each parent up to the root, whose limits hold too. */
	for (;;) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s/cpu.max",
		    cgroup_fs, dir) < sizeof(path) &&
		    file_read(path, CGROUP_FILE_MAX, "cgroup", &b,
		    &quiet) == 0 && buf_append(&b, "", 1) == 0 &&
		    (n = quota_cores((const char *)b.p)) > 0 &&
		    (best == 0 || n < best))
			best = n;
		report_clear(&quiet);
		if ((slash = strrchr(dir, '/')) == NULL || dir[0] == '\0')
			break;
		*slash = '\0';
	}
out:
	report_clear(&quiet);
	buf_free(&b);
	return best;
}

unsigned
opool_cores(void)
{
	cpu_set_t set;
	long n = -1;
	unsigned quota;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	if (n < 1)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	quota = opool_cgroup_cores("/sys/fs/cgroup", "/proc/self/cgroup");
	if (quota > 0 && (long)quota < n)
		n = quota;
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
	/* The threads that could be started do the work, with the caller's
	 * (opool_take): fewer are slower, not wrong. Nothing is queued yet,
	 * so none reads nthreads. */
	for (i = 0; i + 1 < threads; i++) {
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
	return p->nthreads + 1;
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
	struct slot *s, *t;
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
	while (!s->done) {
		/*
		 * The caller is the last worker: rather than sleep while a
		 * job waits for a thread, it runs that job (the oldest not
		 * started; the head itself when no worker has it yet). On n
		 * cores n threads work, not n workers and a caller woken for
		 * each job (a context switch per job).
		 */
		if (p->next != p->tail) {
			t = &p->slot[p->next++ % p->window];
			pthread_mutex_unlock(&p->lock);
			p->work(t->job, p->nthreads, p->arg);
			pthread_mutex_lock(&p->lock);
			t->done = 1;
			continue;
		}
		pthread_cond_wait(&p->finished, &p->lock);
	}
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
