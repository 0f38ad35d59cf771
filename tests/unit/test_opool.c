/*
 * Unit tests of lib/base/opool.c, the ordered pool behind e2e-decrypt's
 * stream mode on several threads (issue 14): jobs of uneven length come
 * back in the order they went in, each run once, on a worker numbered
 * below the pool's size; never more than the window in flight; one
 * thread runs each job in the caller's thread, when it is taken; with
 * more, the caller's take runs jobs too, as the last worker; a stop
 * with jobs in flight hands each of them to drop once; and a job's
 * writes are seen by the caller after the take.
 */
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/opool.h"

#define NJOBS 500

struct job {
	unsigned n;		/* its place in the input */
	unsigned spin;		/* how long it runs */
	int runs;		/* written by its worker */
	unsigned worker;
	pthread_t thread;
	unsigned long result;
	int dropped;
};

struct shared {
	unsigned threads;	/* the pool's size, for the worker check */
	pthread_mutex_t lock;
	int running, most_running;	/* jobs running at once */
};

/* Deterministic, uneven work: later jobs often finish first. */
static void
work(void *arg_job, unsigned worker, void *arg)
{
	struct job *j = arg_job;
	struct shared *s = arg;
	struct timespec ts = { 0, 0 };
	unsigned long x = j->n;
	unsigned i;

	pthread_mutex_lock(&s->lock);
	if (++s->running > s->most_running)
		s->most_running = s->running;
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < j->spin; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	/* Now and then a job sleeps, so others overtake it. */
	if (j->n % 7 == 3) {
		ts.tv_nsec = 200000;
		nanosleep(&ts, NULL);
	}
	j->result = x;
	j->runs++;
	j->worker = worker;
	j->thread = pthread_self();
	pthread_mutex_lock(&s->lock);
	s->running--;
	pthread_mutex_unlock(&s->lock);
}

static unsigned long
expected(const struct job *j)
{
	unsigned long x = j->n;
	unsigned i;

	for (i = 0; i < j->spin; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	return x;
}

static void
drop(void *arg_job, void *arg)
{
	struct job *j = arg_job;

	(void)arg;
	j->dropped++;
}

/* Submits NJOBS jobs through a pool of threads with the given window,
 * taking whenever it is full, and checks what comes back. */
static void
run_in_order(unsigned threads, size_t window)
{
	static struct job jobs[NJOBS];
	struct shared s = { .threads = threads };
	struct opool *p;
	struct job *j;
	unsigned i, next = 0, taken = 0;
	int in_order = 1, once = 1, right = 1, workers_ok = 1;
	size_t most_pending = 0;

	pthread_mutex_init(&s.lock, NULL);
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < NJOBS; i++) {
		jobs[i].n = i;
		jobs[i].spin = (i * 7919u) % 20000u;
	}
	p = opool_start(threads, window, work, &s);
	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECKF(opool_threads(p) == (threads > 1 ? threads : 1u), "%u "
	    "threads, %u asked", opool_threads(p), threads);
	CHECK(opool_take(p) == NULL);	/* nothing pending */
	while (taken < NJOBS) {
		while (next < NJOBS && !opool_full(p)) {
			opool_submit(p, &jobs[next++]);
			if (opool_pending(p) > most_pending)
				most_pending = opool_pending(p);
		}
		j = opool_take(p);
		if (j == NULL)
			break;
		if (j->n != taken)
			in_order = 0;
		if (j->runs != 1)
			once = 0;
		if (j->result != expected(j))
			right = 0;
		if (j->worker >= opool_threads(p))
			workers_ok = 0;
		if (threads <= 1 && !pthread_equal(j->thread, pthread_self()))
			workers_ok = 0;
		/* With threads, the last worker number is the caller's
		 * (opool_take runs jobs too), and only it. */
		if (threads > 1 && (j->worker == opool_threads(p) - 1) !=
		    pthread_equal(j->thread, pthread_self()))
			workers_ok = 0;
		taken++;
	}
	CHECK(opool_take(p) == NULL);
	opool_stop(p, drop, NULL);
	CHECKF(taken == NJOBS, "%u taken", taken);
	CHECKF(in_order, "threads %u window %zu: out of order", threads,
	    window);
	CHECKF(once, "threads %u: a job ran twice or never", threads);
	CHECKF(right, "threads %u: a job's result was not seen", threads);
	CHECKF(workers_ok, "threads %u: a wrong worker number or thread",
	    threads);
	CHECKF(most_pending <= window, "%zu in flight, window %zu",
	    most_pending, window);
	CHECKF(s.most_running <= (int)(threads > 1 ? threads : 1),
	    "%d jobs ran at once on %u threads", s.most_running, threads);
	for (i = 0; i < NJOBS; i++)
		if (jobs[i].dropped != 0)
			break;
	CHECK(i == NJOBS);
	pthread_mutex_destroy(&s.lock);
}

static void
test_order(void)
{
	run_in_order(1, 1);
	run_in_order(1, 8);
	run_in_order(2, 1);
	run_in_order(2, 8);
	run_in_order(4, 16);
	run_in_order(4, 3);
	run_in_order(OPOOL_THREADS_MAX, 256);
}

/* A stop with jobs in flight: each one not taken is dropped once, run
 * or not, and none is run after the stop returns. */
static void
test_stop(void)
{
	static struct job jobs[64];
	struct shared s = { .threads = 3 };
	struct opool *p;
	struct job *j;
	unsigned i, threads;
	int ok = 1;

	for (threads = 1; threads <= 3; threads += 2) {
		pthread_mutex_init(&s.lock, NULL);
		memset(jobs, 0, sizeof(jobs));
		for (i = 0; i < 64; i++) {
			jobs[i].n = i;
			jobs[i].spin = 50000;
		}
		p = opool_start(threads, 64, work, &s);
		CHECK(p != NULL);
		if (p == NULL)
			return;
		for (i = 0; i < 64; i++)
			opool_submit(p, &jobs[i]);
		CHECK(opool_full(p));
		j = opool_take(p);
		CHECK(j == &jobs[0] && j->runs == 1);
		opool_stop(p, drop, NULL);
		CHECK(jobs[0].dropped == 0);
		for (i = 1; i < 64; i++)
			if (jobs[i].dropped != 1 || jobs[i].runs > 1)
				ok = 0;
		CHECKF(ok, "threads %u: a job dropped twice, never, or run "
		    "twice", threads);
		/* With one thread, nothing ran but the job taken. */
		if (threads == 1)
			for (i = 1; i < 64; i++)
				CHECK(jobs[i].runs == 0);
		pthread_mutex_destroy(&s.lock);
	}
	opool_stop(NULL, drop, NULL);
}

/* Two jobs that each wait for the other (up to 10 s: a failure, not a
 * hang): on a pool of two threads, one worker, both finish only when
 * the caller's take runs one of them while the worker runs the other. */
struct pair {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int in[2], saw[2];
	pthread_t thread[2];
};

static void
pair_work(void *arg_job, unsigned worker, void *arg)
{
	unsigned *me = arg_job;
	struct pair *pr = arg;
	struct timespec until;

	(void)worker;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&pr->lock);
	pr->in[*me] = 1;
	pr->thread[*me] = pthread_self();
	pthread_cond_broadcast(&pr->cond);
	while (!pr->in[1 - *me] && pthread_cond_timedwait(&pr->cond,
	    &pr->lock, &until) == 0)
		;
	pr->saw[*me] = pr->in[1 - *me];
	pthread_mutex_unlock(&pr->lock);
}

static void
test_caller_works(void)
{
	static unsigned ids[2] = { 0, 1 };
	struct pair pr;
	struct opool *p;

	memset(&pr, 0, sizeof(pr));
	pthread_mutex_init(&pr.lock, NULL);
	pthread_cond_init(&pr.cond, NULL);
	p = opool_start(2, 2, pair_work, &pr);
	CHECK(p != NULL && opool_threads(p) == 2);
	if (p == NULL)
		return;
	opool_submit(p, &ids[0]);
	opool_submit(p, &ids[1]);
	CHECK(opool_take(p) == &ids[0]);
	CHECK(opool_take(p) == &ids[1]);
	opool_stop(p, drop, NULL);
	CHECKF(pr.saw[0] && pr.saw[1], "the jobs did not run at once "
	    "(%d %d): the caller ran none", pr.saw[0], pr.saw[1]);
	CHECK(pthread_equal(pr.thread[0], pthread_self()) ||
	    pthread_equal(pr.thread[1], pthread_self()));
	pthread_cond_destroy(&pr.cond);
	pthread_mutex_destroy(&pr.lock);
}

static void
test_cores(void)
{
	unsigned n = opool_cores();

	CHECK(n >= 1 && n <= OPOOL_THREADS_MAX);
}

/* put DIR NAME TEXT: writes TEXT to DIR/NAME. */
static void
put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* The cgroup v2 CPU quota: the smallest of a cgroup's and its parents',
 * in cores rounded up; none (max, no v2 line, no file) is 0. */
static void
test_cgroup_quota(void)
{
	char root[] = "/tmp/e2e-opool-XXXXXX", fs[600], self[600], d[700];

	if (mkdtemp(root) == NULL) {
		CHECK(0);
		return;
	}
	snprintf(fs, sizeof(fs), "%s/fs", root);
	snprintf(self, sizeof(self), "%s/self", root);
	CHECK(opool_cgroup_cores(fs, self) == 0);	/* no file */
	snprintf(d, sizeof(d), "%s/a/b", fs);
	CHECK(mkdir(fs, 0700) == 0);
	snprintf(d, sizeof(d), "%s/a", fs);
	CHECK(mkdir(d, 0700) == 0);
	snprintf(d, sizeof(d), "%s/a/b", fs);
	CHECK(mkdir(d, 0700) == 0);
	/* A cgroup v1 system: no "0::" line. */
	put(root, "self", "4:memory:/a/b\n1:cpu:/a/b\n");
	put(d, "cpu.max", "50000 100000\n");
	CHECK(opool_cgroup_cores(fs, self) == 0);
	put(root, "self", "4:memory:/x\n0::/a/b\n");
	CHECK(opool_cgroup_cores(fs, self) == 1);	/* half a core */
	put(d, "cpu.max", "max 100000\n");
	CHECK(opool_cgroup_cores(fs, self) == 0);
	snprintf(d, sizeof(d), "%s/a", fs);
	put(d, "cpu.max", "150000 100000\n");	/* the parent's: 1.5 */
	CHECK(opool_cgroup_cores(fs, self) == 2);
	snprintf(d, sizeof(d), "%s/a/b", fs);
	put(d, "cpu.max", "300000 100000\n");	/* the smaller wins */
	CHECK(opool_cgroup_cores(fs, self) == 2);
	put(d, "cpu.max", "100000 100000");
	CHECK(opool_cgroup_cores(fs, self) == 1);
	put(d, "cpu.max", "garbage\n");
	CHECK(opool_cgroup_cores(fs, self) == 2);
	snprintf(d, sizeof(d), "%s/a/b/cpu.max", fs);
	unlink(d);
	snprintf(d, sizeof(d), "%s/a/cpu.max", fs);
	unlink(d);
	snprintf(d, sizeof(d), "%s/a/b", fs);
	rmdir(d);
	snprintf(d, sizeof(d), "%s/a", fs);
	rmdir(d);
	rmdir(fs);
	unlink(self);
	rmdir(root);
}

int
main(void)
{
	RUN(test_order);
	RUN(test_stop);
	RUN(test_caller_works);
	RUN(test_cores);
	RUN(test_cgroup_quota);
	return harness_end();
}
