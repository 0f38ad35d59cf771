/*
 * test_pipeline.c - lib/base/pipeline.c: ranges consumed in order, on a
 * thread or in the caller's; a failure kept, later ranges skipped, and
 * seen by the producer (pipeline_failed) so that it stops early.
 */
#include "harness.h"

#include "base/pipeline.h"

#define BIG (PIPELINE_MIN_PARALLEL * 2)

struct seen {
	size_t calls;
	uint64_t sum;		/* of each range's first byte, in order */
	size_t fail_at;		/* the call that fails (1-based), or 0 */
};

static int
consume(void *ctx, uint8_t *p, size_t n)
{
	struct seen *s = ctx;

	s->calls++;
	s->sum = s->sum * 31 + p[0] + n;
	return s->calls == s->fail_at ? 74 : 0;
}

/* Pushes count ranges from a ring of PIPELINE_DEPTH + 1 buffers, each
 * filled afresh before its push (a range reused early would change the
 * sum). Stops at the first failure seen when stop_early. The ring
 * outlives the call: the last ranges are consumed at the finish. */
static size_t
push_all(struct pipeline *pl, size_t count, int stop_early)
{
	static uint8_t ring[PIPELINE_DEPTH + 1][16];
	size_t k;

	for (k = 0; k < count; k++) {
		uint8_t *slot = ring[k % (PIPELINE_DEPTH + 1)];

		memset(slot, (int)(k * 7 + 1), 16);
		pipeline_push(pl, slot, 1 + k % 16);
		if (stop_early && pipeline_failed(pl) != 0)
			return k + 1;
	}
	return k;
}

static uint64_t
expected_sum(size_t count)
{
	uint64_t sum = 0;
	size_t k;

	for (k = 0; k < count; k++)
		sum = sum * 31 + (uint8_t)(k * 7 + 1) + 1 + k % 16;
	return sum;
}

static void
in_order_threaded_or_not(void)
{
	size_t totals[] = { 0, BIG };
	size_t t;

	for (t = 0; t < 2; t++) {
		struct seen s = { 0, 0, 0 };
		struct pipeline *pl = pipeline_start(totals[t], consume, &s);

		CHECK(pl != NULL);
		if (pl == NULL)
			return;
		CHECK(push_all(pl, 1000, 0) == 1000);
		CHECK(pipeline_failed(pl) == 0);
		CHECK(pipeline_finish(pl) == 0);
		CHECKF(s.calls == 1000 && s.sum == expected_sum(1000),
		    "total %zu: %zu calls", totals[t], s.calls);
	}
}

static void
a_failure_is_kept_and_seen(void)
{
	size_t totals[] = { 0, BIG };
	size_t t, pushed;

	for (t = 0; t < 2; t++) {
		struct seen s = { 0, 0, 5 };
		struct pipeline *pl = pipeline_start(totals[t], consume, &s);

		CHECK(pl != NULL);
		if (pl == NULL)
			return;
		/* Seen at the latest PIPELINE_DEPTH pushes later. */
		pushed = push_all(pl, 1000, 1);
		CHECKF(pushed >= 5 && pushed <= 5 + PIPELINE_DEPTH,
		    "total %zu: stopped after %zu", totals[t], pushed);
		CHECK(pipeline_failed(pl) == 74);
		CHECK(pipeline_finish(pl) == 74);
		/* Nothing consumed after the failure. */
		CHECKF(s.calls == 5, "total %zu: %zu calls", totals[t],
		    s.calls);
	}
}

int
main(void)
{
	RUN(in_order_threaded_or_not);
	RUN(a_failure_is_kept_and_seen);
	return harness_end();
}
