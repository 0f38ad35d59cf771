/* buf.c - growable byte buffers that wipe secrets (see buf.h). */
#include "base/buf.h"
#include "base/err.h"
#include "base/report.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <openssl/crypto.h>

void
wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

#ifdef E2E_TEST_HOOKS
static void (*release_hook)(const void *p, size_t n);
static long alloc_fail_after = -1;

void
buf_test_fail_alloc_after(long n)
{
	alloc_fail_after = n;
}

/* 1 when the test asked this growth to fail (as if out of memory). */
static int
alloc_fails(void)
{
	if (alloc_fail_after < 0)
		return 0;
	if (alloc_fail_after == 0)
		return 1;
	alloc_fail_after--;
	return 0;
}

void
buf_test_set_release_hook(void (*fn)(const void *p, size_t n))
{
	release_hook = fn;
}
#endif

/* Wipes (when secret) and frees a buffer's block; tests can watch. */
static void
release_block(struct buf *b, uint8_t *p, size_t cap)
{
	if (b->secret)
		wipe(p, cap);
#ifdef E2E_TEST_HOOKS
	if (release_hook != NULL)
		release_hook(p, cap);
#endif
	free(p);
}

void *
big_alloc(size_t n)
{
	const size_t huge = (size_t)2 << 20;
	size_t rounded;
	void *p;

	if (n < BIG_ALLOC_MIN || n > SIZE_MAX - huge)
		return malloc(n);
	/* Aligned and rounded to 2 MiB so the kernel can back it with huge
	 * pages: a 64 MiB buffer then costs 32 page faults, not 16384. */
	rounded = (n + huge - 1) / huge * huge;
	if ((p = aligned_alloc(huge, rounded)) == NULL)
		return NULL;
	(void)madvise(p, rounded, MADV_HUGEPAGE);
	return p;
}

int
buf_reserve(struct buf *b, size_t extra)
{
	size_t need, ncap;
	uint8_t *np;

	/* Silent: the caller reports the out-of-memory where it has a
	 * report (report_oom). */
	if (extra > SIZE_MAX - 1 - b->len)
		return -1;
	need = b->len + extra + 1;	/* room for buf_terminate() */
	if (need <= b->cap)
		return 0;
	/* A first reservation is taken at its word (a file read at its
	 * known size); growth after that doubles. */
	if (b->cap == 0)
		ncap = need > 256 ? need : 256;
	else
		ncap = b->cap;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (b->limit != 0 && ncap > b->limit + 1 && need <= b->limit + 1)
		ncap = b->limit + 1;
#ifdef E2E_TEST_HOOKS
	if (alloc_fails())
		return -1;
#endif
	if (b->secret) {
		/* realloc could leave a copy of the secret behind. */
		np = big_alloc(ncap);
		if (np != NULL && b->p != NULL) {
			memcpy(np, b->p, b->len);
			release_block(b, b->p, b->cap);
		}
	} else if (b->p == NULL) {
		np = big_alloc(ncap);
	} else {
		np = realloc(b->p, ncap);
	}
	if (np == NULL)
		return -1;
	b->p = np;
	b->cap = ncap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) != 0)
		return -1;
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

int
buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_terminate(struct buf *b)
{
	if (buf_reserve(b, 0) != 0)
		return -1;
	b->p[b->len] = '\0';
	return 0;
}

void
buf_clear(struct buf *b)
{
	if (b->secret)
		wipe(b->p, b->len);
	b->len = 0;
}

void
buf_free(struct buf *b)
{
	/* big_alloc's memory: wiped here, freed with free(). */
	if (b->p != NULL)
		release_block(b, b->p, b->cap);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
secure_process(void)
{
	struct rlimit rl = { 0, 0 };

	/* Best effort: failure only means a crash might dump core. */
	(void)setrlimit(RLIMIT_CORE, &rl);
#ifndef __SANITIZE_ADDRESS__
	/* Also keeps other processes of the same user from reading our
	 * memory through ptrace or /proc. LeakSanitizer needs ptrace on
	 * itself, so sanitizer builds leave this out. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

int
sink_write(struct sink *s, const void *p, size_t n)
{
	return n == 0 ? 0 : s->write(s->ctx, p, n);
}

int
sink_puts(struct sink *s, const char *str)
{
	return sink_write(s, str, strlen(str));
}

static int
buf_sink_write(void *ctx, const void *p, size_t n)
{
	return buf_append(ctx, p, n) == 0 ? 0 : E2E_EX_SOFTWARE;
}

static int
mem_read(void *ctx, uint8_t *p, size_t cap, size_t *got, struct report *rep)
{
	struct mem_source *m = ctx;

	(void)rep;
	*got = m->left < cap ? m->left : cap;
	if (*got > 0)
		memcpy(p, m->p, *got);
	m->p += *got;
	m->left -= *got;
	return 0;
}

struct source
source_mem(struct mem_source *ms, const uint8_t *p, size_t n)
{
	struct source s = { mem_read, ms };

	ms->p = p;
	ms->left = n;
	return s;
}

struct sink
sink_buf(struct buf *b)
{
	struct sink s = { buf_sink_write, b };

	return s;
}

static int
buf_sink_to_write(void *ctx, const void *p, size_t n)
{
	struct buf_sink *bs = ctx;

	return buf_append(bs->b, p, n) == 0 ? 0 : report_oom(bs->rep);
}

struct sink
sink_buf_to(struct buf_sink *bs)
{
	struct sink s = { buf_sink_to_write, bs };

	return s;
}
