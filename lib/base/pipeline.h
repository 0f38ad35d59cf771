/*
 * pipeline.h - two-stage processing of a large stream on two cores.
 *
 * The calling thread produces ranges of bytes (decoding, encrypting) and
 * pushes them in order; a worker thread runs a function over each range,
 * in the same order (a MAC, GCM). At most PIPELINE_DEPTH pushed ranges
 * wait at any time, so once pipeline_push() returns, every range pushed
 * PIPELINE_DEPTH pushes earlier has been consumed and its memory may be
 * reused: a ring of PIPELINE_DEPTH + 1 buffers is enough.
 *
 * Small jobs, or a failure to start a thread, run the function in the
 * calling thread instead: the result is the same, only slower.
 */
#ifndef E2E_PIPELINE_H
#define E2E_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

/* Jobs smaller than this run in the calling thread. */
#define PIPELINE_MIN_PARALLEL ((size_t)1 << 20)
/* How many pushed ranges may wait for the worker; a sleeping worker
 * (or producer) is woken once PIPELINE_BATCH ranges (or places) wait. */
#define PIPELINE_DEPTH 8
#define PIPELINE_BATCH 4

/* The consumer: returns 0, or non-zero to stop (kept and returned by
 * pipeline_finish; later ranges are then skipped). */
typedef int (*pipeline_fn)(void *ctx, uint8_t *p, size_t n);

struct pipeline;

/* Starts a pipeline for a job of about total bytes. Returns NULL only
 * when out of memory (said by the caller). */
struct pipeline *pipeline_start(size_t total, pipeline_fn fn, void *ctx);

/* Hands p[0..n) to the consumer, waiting while PIPELINE_DEPTH ranges are
 * already waiting. The bytes must stay untouched until consumed. */
void pipeline_push(struct pipeline *pl, uint8_t *p, size_t n);

/* The first non-zero result of fn so far, or 0: a producer stops early
 * on a failure instead of pushing ranges that would be skipped. */
int pipeline_failed(struct pipeline *pl);

/* Waits until every pushed range was consumed, ends the worker and frees
 * the pipeline. Returns the first non-zero result of fn, or 0. */
int pipeline_finish(struct pipeline *pl);

#endif
