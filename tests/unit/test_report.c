/*
 * base/report: a library call's lines kept in order with their levels,
 * the first error's code, NULL reports that keep nothing, the overflow
 * counted, and err_print writing each line as the err_ printers do.
 */
#include "harness.h"

#include <errno.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "base/err.h"
#include "base/report.h"

static void
test_levels_and_code(void)
{
	struct report r = { 0 };

	CHECK(!report_said(&r));
	CHECK(strcmp(report_message(&r), "") == 0);
	report_warn(&r, "mode %o", 0644);
	CHECK(report_said(&r));
	CHECK(r.code == 0);
	CHECK(report_error(&r, E2E_EX_DATAERR, "bad %s", "tag") ==
	    E2E_EX_DATAERR);
	CHECK(report_error(&r, E2E_EX_IOERR, "second") == E2E_EX_IOERR);
	report_hint(&r, "try %d", 2);
	report_note(&r, "noted");
	CHECK(r.code == E2E_EX_DATAERR);
	CHECK(r.nlines == 5);
	CHECK(r.line[0].level == REPORT_WARNING);
	CHECK(strcmp(r.line[0].text, "mode 644") == 0);
	CHECK(r.line[1].level == REPORT_ERROR);
	CHECK(r.line[3].level == REPORT_HINT);
	CHECK(r.line[4].level == REPORT_NOTE);
	CHECK(strcmp(report_message(&r), "bad tag") == 0);
	report_clear(&r);
	CHECK(!report_said(&r) && r.code == 0);
}

static void
test_null_keeps_nothing(void)
{
	errno = ENOENT;
	CHECK(report_error(NULL, E2E_EX_NOINPUT, "x") == E2E_EX_NOINPUT);
	CHECK(report_errno(NULL, E2E_EX_NOINPUT, "x") == E2E_EX_NOINPUT);
	report_warn(NULL, "x");
	report_hint(NULL, "x");
	report_note(NULL, "x");
	report_clear(NULL);
	CHECK(!report_said(NULL));
	CHECK(strcmp(report_message(NULL), "") == 0);
	CHECK(report_add(NULL, NULL) == 0);
	CHECK(err_print(NULL) == 0);
}

static void
test_errno_tail(void)
{
	struct report r = { 0 };

	errno = ENOENT;
	report_errno(&r, E2E_EX_NOINPUT, "cannot open %s", "k.pem");
	CHECK(errno == ENOENT);
	CHECKF(strcmp(r.line[0].text,
	    "cannot open k.pem: No such file or directory") == 0, "%s",
	    r.line[0].text);
}

static void
test_overflow_and_long_lines(void)
{
	struct report r = { 0 };
	char big[3000];
	int i;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	report_error(&r, E2E_EX_DATAERR, "%s", big);
	CHECK(strlen(r.line[0].text) == REPORT_TEXT - 1);
	for (i = 0; i < REPORT_LINES + 3; i++)
		report_note(&r, "n%d", i);
	CHECK(r.nlines == REPORT_LINES);
	CHECK(r.dropped == 4);
	CHECK(r.code == E2E_EX_DATAERR);
}

static void
test_add(void)
{
	struct report a = { 0 }, b = { 0 };

	report_warn(&a, "first");
	report_error(&b, E2E_EX_NOPERM, "refused");
	report_hint(&b, "sign in");
	CHECK(report_add(&a, &b) == E2E_EX_NOPERM);
	CHECK(a.code == E2E_EX_NOPERM && a.nlines == 3);
	CHECK(strcmp(a.line[2].text, "sign in") == 0);
	CHECK(report_add(&a, &a) == E2E_EX_NOPERM && a.nlines == 3);
	CHECK(report_add(NULL, &b) == E2E_EX_NOPERM);
}

static void
test_crypto(void)
{
	struct report r = { 0 };

	/* A cipher that does not exist leaves an error on the queue. */
	CHECK(EVP_CIPHER_fetch(NULL, "no-such-cipher", NULL) == NULL);
	CHECK(report_crypto(&r, "fetching") == E2E_EX_SOFTWARE);
	CHECK(r.code == E2E_EX_SOFTWARE);
	CHECK(strncmp(r.line[0].text, "fetching failed (", 17) == 0);
	CHECK(ERR_peek_error() == 0);
	report_clear(&r);
	report_crypto(&r, "nothing queued");
	CHECK(strcmp(r.line[0].text, "nothing queued failed") == 0);
}

static void
test_oom(void)
{
	struct report r = { 0 };

	CHECK(report_oom(&r) == E2E_EX_SOFTWARE);
	CHECK(r.code == E2E_EX_SOFTWARE && r.nlines == 1);
	CHECK(r.line[0].level == REPORT_ERROR);
	CHECK(strcmp(report_message(&r), "out of memory") == 0);
	CHECK(report_oom(NULL) == E2E_EX_SOFTWARE);
}

static void
test_print_matches_printers(void)
{
	struct report r = { 0 };
	char printed[4096];
	int i;

	err_setprog("/usr/bin/e2e-test");
	capture_begin();
	err_error("e %d", 1);
	err_warn("w");
	err_hint("h");
	err_note("n");
	snprintf(printed, sizeof(printed), "%s", capture_end());

	report_error(&r, E2E_EX_DATAERR, "e %d", 1);
	report_warn(&r, "w");
	report_hint(&r, "h");
	report_note(&r, "n");
	capture_begin();
	CHECK(err_print(&r) == E2E_EX_DATAERR);
	CHECKF(strcmp(capture_end(), printed) == 0, "%s", cap_text);
	CHECK(strcmp(printed, "e2e-test: error: e 1\ne2e-test: warning: w\n"
	    "e2e-test: hint: h\ne2e-test: n\n") == 0);

	report_clear(&r);
	for (i = 0; i < REPORT_LINES + 2; i++)
		report_note(&r, "n");
	capture_begin();
	CHECK(err_print(&r) == 0);
	CHECK(strstr(capture_end(), "e2e-test: 2 more lines not shown\n") !=
	    NULL);
}

int
main(void)
{
	RUN(test_levels_and_code);
	RUN(test_null_keeps_nothing);
	RUN(test_errno_tail);
	RUN(test_overflow_and_long_lines);
	RUN(test_add);
	RUN(test_crypto);
	RUN(test_oom);
	RUN(test_print_matches_printers);
	return harness_end();
}
