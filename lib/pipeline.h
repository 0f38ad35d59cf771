/*
 * pipeline.h - two-stage processing of one large buffer on two cores.
 *
 * The calling thread produces bytes into a buffer in order (decoding,
 * encrypting) and says how far it got; a worker thread runs a function
 * over each newly produced range, in order (a MAC, GCM). The two stages
 * never touch the same bytes at the same time: the worker only reads
 * below the produced mark, the producer only writes above it.
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
/* The worker is handed at least this much at a time (the last piece
 * excepted). */
#define PIPELINE_STEP ((size_t)256 << 10)

/* The consumer: returns 0, or non-zero to stop (kept and returned by
 * pipeline_finish). */
typedef int (*pipeline_fn)(void *ctx, uint8_t *p, size_t n);

struct pipeline;

/* Starts a pipeline over buf for a job of about total bytes. Returns NULL
 * only when out of memory (reported). */
struct pipeline *pipeline_start(uint8_t *buf, size_t total, pipeline_fn fn,
    void *ctx);

/* Publishes that buf[0..upto) is produced. upto never decreases. */
void pipeline_produced(struct pipeline *pl, size_t upto);

/* Waits until every produced byte was consumed, ends the worker and frees
 * the pipeline. Returns the first non-zero result of fn, or 0. */
int pipeline_finish(struct pipeline *pl);

#endif
