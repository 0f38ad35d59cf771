/*
 * Out of memory (issue 11): the buf functions say nothing when an
 * allocation fails (buf_test_fail_alloc_after makes one fail); the
 * callers that have a report say "out of memory" there, code 70, and
 * nothing reaches stderr until a tool prints the report.
 */
#include "harness.h"

#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/report.h"
#include "format/records.h"
#include "format/seed.h"

static char dir[256];

/* A file of n bytes 'x' in dir; its path. */
static const char *
file_of(const char *name, size_t n)
{
	const char *path = harness_path(dir, name);
	FILE *f = fopen(path, "w");
	size_t i;

	for (i = 0; f != NULL && i < n; i++)
		fputc(i % 64 == 63 ? '\n' : 'x', f);
	if (f == NULL || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	return path;
}

/* rep holds exactly one line, the error "out of memory", code 70. */
static int
said_oom(const struct report *rep)
{
	return rep->code == E2E_EX_SOFTWARE && rep->nlines == 1 &&
	    rep->line[0].level == REPORT_ERROR &&
	    strcmp(report_message(rep), "out of memory") == 0;
}

static void
buf_is_silent(void)
{
	struct buf b = BUF_INIT, s = BUF_SECRET_INIT;

	capture_begin();
	buf_test_fail_alloc_after(0);
	CHECK(buf_append(&b, "abc", 3) == -1);
	CHECK(buf_append_str(&s, "secret") == -1);
	CHECK(buf_terminate(&b) == -1);
	CHECK(b.p == NULL && b.len == 0 && s.p == NULL);
	/* One growth allowed, the next refused: what was there stays. */
	buf_test_fail_alloc_after(1);
	CHECK(buf_append(&b, "abc", 3) == 0);
	CHECK(buf_reserve(&b, 1000) == -1);
	CHECK(b.len == 3 && memcmp(b.p, "abc", 3) == 0);
	buf_test_fail_alloc_after(-1);
	/* An overflow is refused without asking for memory, silently. */
	CHECK(buf_reserve(&b, SIZE_MAX) == -1);
	CHECK(buf_append(&b, "d", 1) == 0 && b.len == 4);
	CHECKF(strcmp(capture_end(), "") == 0, "%s", cap_text);
	buf_free(&b);
	buf_free(&s);
}

/* file_read: 70 and "out of memory" in the caller's report. */
static void
file_read_says_it(void)
{
	struct report rep = { 0 };
	struct buf b = BUF_INIT;
	const char *path = file_of("f", 1000);

	capture_begin();
	buf_test_fail_alloc_after(0);
	CHECK(file_read(path, 4096, "message file", &b, &rep) ==
	    E2E_EX_SOFTWARE);
	buf_test_fail_alloc_after(-1);
	CHECKF(strcmp(capture_end(), "") == 0, "%s", cap_text);
	CHECKF(said_oom(&rep), "%d %d %s", rep.code, rep.nlines,
	    report_message(&rep));
	CHECK(b.len == 0);
	/* Printed by a tool, the line is the one buf used to print. */
	err_setprog("/usr/bin/e2e-test");
	capture_begin();
	CHECK(err_print(&rep) == E2E_EX_SOFTWARE);
	CHECKF(strcmp(capture_end(), "e2e-test: error: out of memory\n") == 0,
	    "%s", cap_text);

	/* The same read with memory: nothing said. */
	report_clear(&rep);
	CHECK(file_read(path, 4096, "message file", &b, &rep) == 0);
	CHECK(b.len == 1000 && !report_said(&rep));
	buf_free(&b);
}

/* The record reader: RECORD_READ_ERROR, in->rc 70, said in its report. */
static void
record_reader_says_it(void)
{
	struct record_reader in;
	struct report rep = { 0 };
	const char *line;
	size_t len;
	int got;

	CHECK(record_reader_open(&in, file_of("r", 300), 1024, &rep) == 0);
	capture_begin();
	buf_test_fail_alloc_after(0);
	got = record_read_line(&in, &line, &len);
	buf_test_fail_alloc_after(-1);
	CHECKF(strcmp(capture_end(), "") == 0, "%s", cap_text);
	CHECK(got == RECORD_READ_ERROR && in.rc == E2E_EX_SOFTWARE);
	CHECKF(said_oom(&rep), "%d %s", rep.code, report_message(&rep));
	record_reader_close(&in);
}

/* A sink into a buffer says it in the report it was given. */
static void
sink_buf_says_it(void)
{
	struct report rep = { 0 };
	struct buf b = BUF_INIT;
	struct buf_sink bs = { &b, &rep };
	struct sink s = sink_buf_to(&bs);

	CHECK(sink_puts(&s, "kept") == 0 && b.len == 4);
	capture_begin();
	buf_test_fail_alloc_after(0);
	CHECK(sink_write(&s, "x", 300) == E2E_EX_SOFTWARE);
	buf_test_fail_alloc_after(-1);
	CHECKF(strcmp(capture_end(), "") == 0, "%s", cap_text);
	CHECK(said_oom(&rep));
	CHECK(b.len == 4);
	buf_free(&b);
}

/* Latin-1 from UTF-8 for a seed message: 70, said, nothing printed. */
static void
seed_text_says_it(void)
{
	struct report rep = { 0 };
	struct buf out = BUF_INIT;

	capture_begin();
	buf_test_fail_alloc_after(0);
	CHECK(seed_text_from_utf8((const uint8_t *)"caf\xc3\xa9", 5, &out,
	    &rep) == E2E_EX_SOFTWARE);
	buf_test_fail_alloc_after(-1);
	CHECKF(strcmp(capture_end(), "") == 0, "%s", cap_text);
	CHECK(said_oom(&rep));
	buf_free(&out);
}

int
main(void)
{
	harness_tmpdir("oom", dir, sizeof(dir));
	RUN(buf_is_silent);
	RUN(file_read_says_it);
	RUN(record_reader_says_it);
	RUN(sink_buf_says_it);
	RUN(seed_text_says_it);
	harness_rmtree(dir);
	return harness_end();
}
