/*
 * metrics.h - what GET /metrics reports, in the Prometheus text format:
 * requests by route and status, request durations, messages stored,
 * receivers waiting, request-body memory, lingering connections, the
 * store's commits and the bcrypt cost failed sign-ins are padded to.
 */
#ifndef E2E_METRICS_H
#define E2E_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct metrics;

/* names: one per route (index), kept by the caller. */
struct metrics *metrics_new(const char *const *names, size_t nroutes);
void metrics_free(struct metrics *m);

void metrics_request(struct metrics *m, size_t route, unsigned status,
    double seconds);
/* The messages stored now (by every server on the database, counted
 * there); -1: unknown, left out. */
void metrics_set_messages(struct metrics *m, int64_t n);
/* The HTTP layer's gauges: request-body bytes reserved, connections in a
 * lingering close. */
void metrics_set_http(struct metrics *m, size_t body_bytes,
    size_t lingering);
/* The store's transactions committed and the jobs they held
 * (store_commit_counts): jobs per commit is writes per fdatasync. */
void metrics_set_store(struct metrics *m, uint64_t commits, uint64_t jobs);
/* The time those commits took (store_commit_ns): divided by the
 * commits, the flush's mean duration. */
void metrics_set_commit_time(struct metrics *m, uint64_t ns);
/* The bcrypt cost every failed sign-in takes as long as (A10): the
 * highest cost of the stored hashes, at least the current one. */
void metrics_set_pad_cost(struct metrics *m, unsigned cost);

/* Appends the text exposition; waiting is the number of receivers
 * waiting now. Returns 0 or -1. */
int metrics_render(struct metrics *m, size_t waiting, struct buf *out);

#endif
