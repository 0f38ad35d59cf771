/*
 * opool.h - an ordered pool: jobs handed over in order run on a few
 * worker threads at once, and come back to the caller in the order they
 * were handed over, each once it is done.
 *
 * The caller's thread submits and takes; only the work function runs on
 * the workers, one job on one worker at a time. The caller is one of the
 * workers: a pool of n threads starts n - 1, and opool_take, rather than
 * sleep while the job it waits for runs, runs a job not yet started (so
 * n cores run n threads, and the caller is not woken for each job).
 * What the work function reads besides its job must not change while
 * jobs are in flight (or be guarded by the caller); what it writes must
 * be the job's own. Handing
 * a job over and taking it back go through the pool's lock, so what the
 * caller wrote in a job before opool_submit is seen by its worker, and
 * what the worker wrote is seen by the caller after opool_take.
 *
 * At most `window` jobs are in flight (submitted, not yet taken): the
 * caller's memory stays bounded however far its input runs ahead.
 *
 * With one thread (or when a thread cannot be started) nothing runs in
 * the background: opool_take runs the oldest job in the calling thread,
 * as a plain loop would. The results are the same, only slower.
 */
#ifndef E2E_OPOOL_H
#define E2E_OPOOL_H

#include <stddef.h>

/* The most worker threads a pool runs (and --threads accepts). */
#define OPOOL_THREADS_MAX 64

/*
 * The cores this process may use, 1 to OPOOL_THREADS_MAX: a pool's
 * default size. Those of its CPU affinity (sched_getaffinity; taskset,
 * a container's cpuset), else those online, and no more than its cgroup
 * v2 CPU quota allows (opool_cgroup_cores): more threads than that would
 * only take turns.
 */
unsigned opool_cores(void);

/*
 * The CPU quota (cpu.max, "QUOTA PERIOD" or "max PERIOD") of the cgroup
 * v2 that the file self_cgroup names (its line "0::PATH", as in
 * /proc/self/cgroup), under the mount cgroup_fs, and of its parents:
 * the smallest, in cores rounded up (at least 1); 0 when none sets one
 * or none can be read (no cgroup v2).
 */
unsigned opool_cgroup_cores(const char *cgroup_fs, const char *self_cgroup);

/* Runs one job; worker (0 .. threads - 1) says which thread runs it, for
 * state kept per thread (the last is the caller's). */
typedef void (*opool_work_fn)(void *job, unsigned worker, void *arg);

struct opool;

/*
 * Starts a pool of threads workers, the caller one of them (1 to
 * OPOOL_THREADS_MAX; 1: none in the background, see above),
 * with at most window (>= 1) jobs in flight. Returns NULL only when out
 * of memory (said by the caller).
 */
struct opool *opool_start(unsigned threads, size_t window, opool_work_fn work,
    void *arg);

/* How many workers really run, the caller's take counted (1 when no
 * thread could be started): the caller's state per worker needs this
 * many. */
unsigned opool_threads(const struct opool *p);

/* Jobs submitted and not taken yet. */
size_t opool_pending(const struct opool *p);

/* 1 when window jobs are in flight: submit no more before a take. */
int opool_full(const struct opool *p);

/* Hands job over (never NULL); the pool must not be full. */
void opool_submit(struct opool *p, void *job);

/* The oldest job not taken yet, once it has run (running jobs meanwhile,
 * see above); NULL when none is pending. */
void *opool_take(struct opool *p);

/* Lets the running jobs finish, ends the workers, hands every job not
 * taken yet to drop (oldest first; run or not: the caller's job says),
 * and frees the pool. p may be NULL. */
void opool_stop(struct opool *p, void (*drop)(void *job, void *arg),
    void *arg);

#endif
