/*
 * buf.h - growable byte buffers that know whether they hold secrets.
 *
 * A secret buffer is wiped whenever its memory is released or moved
 * (growth copies, then wipes the old block), so key material and
 * plaintext never linger on the heap after buf_free().
 */
#ifndef E2E_BUF_H
#define E2E_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	int secret;
	size_t limit;	/* when not 0, doubling never overshoots limit + 1 bytes */
};

#define BUF_INIT { NULL, 0, 0, 0, 0 }
#define BUF_SECRET_INIT { NULL, 0, 0, 1, 0 }

/* Makes room for at least extra more bytes. Returns 0, or -1 on overflow
 * or when out of memory. The buf functions never print: their caller
 * reports the failure (report_oom) or passes it up. */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
/* Appends a NUL after the data without counting it in len. */
int buf_terminate(struct buf *b);
/* Wipes (when secret) and frees the memory; the buffer can be reused. */
void buf_free(struct buf *b);
/* Empties the buffer without releasing its memory (wiping when secret). */
void buf_clear(struct buf *b);

/* Where a writer sends its output: a buffer, a file, standard output. */
struct sink {
	/* Returns 0, or an exit code with the error reported. */
	int (*write)(void *ctx, const void *p, size_t n);
	void *ctx;
};

int sink_write(struct sink *s, const void *p, size_t n);
int sink_puts(struct sink *s, const char *str);
/* A sink that appends to b. Out of memory is 70 with nothing said: for a
 * caller that says it itself (or a test); sink_buf_to says it. */
struct sink sink_buf(struct buf *b);

/* A sink that appends to bs->b and says "out of memory" in bs->rep (may
 * be NULL). bs must outlive the sink. */
struct report;
struct buf_sink {
	struct buf *b;
	struct report *rep;
};

struct sink sink_buf_to(struct buf_sink *bs);

/*
 * Where a streamed input comes from (the counterpart of a sink): read
 * fills p with up to cap bytes, fewer only at the end (*got 0: the end).
 * Returns 0 or an exit code (with the error in rep).
 */
struct source {
	int (*read)(void *ctx, uint8_t *p, size_t cap, size_t *got,
	    struct report *rep);
	void *ctx;
};

/* A source reading n bytes at p (ms must outlive it). */
struct mem_source {
	const uint8_t *p;
	size_t left;
};
struct source source_mem(struct mem_source *ms, const uint8_t *p, size_t n);

/* malloc() for buffers that may be large: from BIG_ALLOC_MIN bytes on,
 * asks for huge pages. Free with free(). */
#define BIG_ALLOC_MIN ((size_t)4 << 20)
void *big_alloc(size_t n);

#ifdef E2E_TEST_HOOKS
/* Test builds only: fn sees every block a buffer releases, just before it
 * is freed (after the wipe, for a secret buffer). */
void buf_test_set_release_hook(void (*fn)(const void *p, size_t n));
/* Test builds only: the buffers' next n growths succeed, the one after
 * fails as if out of memory, and so do all later ones until the hook is
 * set again; n < 0 turns the failures off. */
void buf_test_fail_alloc_after(long n);
#endif

/* Wipes n bytes in a way the compiler may not optimise away. */
void wipe(void *p, size_t n);

/* Turns off core dumps, so a crash cannot write keys or plaintext to disk. */
void secure_process(void);

#endif
