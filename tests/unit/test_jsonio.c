/*
 * Unit tests of strict JSON reading's report (lib/base/jsonio.c): a value
 * parsed says nothing; a refusal is one error, 65, "REASON at line L,
 * column C", terminal-safe, which callers quote in their own sentence
 * ("malformed JSON: %s", "not a record: not JSON: %s"); jansson out of
 * memory is "out of memory", 70; a NULL report keeps the verdict only.
 */
#include "harness.h"

#include "base/jsonio.h"
#include "base/report.h"

/* text parsed with flags: NULL expected when want is not NULL, and then
 * exactly one error of code with the text want. */
static void
parsed(const char *text, size_t len, size_t flags, int code,
    const char *want)
{
	struct report rep = { 0 };
	json_t *v = jsonio_parse_flags(text, len, flags, &rep);

	if (want == NULL) {
		CHECKF(v != NULL, "%s: refused: %s", text,
		    report_message(&rep));
		CHECKF(!report_said(&rep), "%s: said %s", text,
		    report_message(&rep));
	} else {
		CHECKF(v == NULL, "%s: parsed", text);
		CHECKF(rep.code == code && rep.nlines == 1 &&
		    rep.line[0].level == REPORT_ERROR, "%s: code %d, %d lines",
		    text, rep.code, rep.nlines);
		CHECKF(strcmp(report_message(&rep), want) == 0,
		    "%s: \"%s\", not \"%s\"", text, report_message(&rep), want);
	}
	json_decref(v);
	/* The verdict alone is the same. */
	v = jsonio_parse_flags(text, len, flags, NULL);
	CHECKF((v == NULL) == (want != NULL), "%s: NULL report", text);
	json_decref(v);
}

static void
reasons(void)
{
	static const char nul[] = "{\"a\":\"\\u0000\"}";

	parsed("{\"a\":[1,2]}", 11, 0, 0, NULL);
	parsed("hello", 5, 0, E2E_EX_DATAERR,
	    "'[' or '{' expected near 'hello' at line 1, column 5");
	parsed("{\"a\":1,\"a\":2}", 13, 0, E2E_EX_DATAERR,
	    "duplicate object key near '\"a\"' at line 1, column 10");
	parsed("{\"a\":1}\n{", 9, 0, E2E_EX_DATAERR,
	    "end of file expected near '{' at line 2, column 1");
	/* \u0000 in words of ours, not jansson's flag name; allowed when
	 * asked (the seed format). */
	parsed(nul, sizeof(nul) - 1, 0, E2E_EX_DATAERR,
	    "\\u0000 is not allowed at line 1, column 13");
	parsed(nul, sizeof(nul) - 1, JSON_ALLOW_NUL, 0, NULL);
	/* jansson quotes the input: it comes out escaped. */
	parsed("\x1b[2J", 4, 0, E2E_EX_DATAERR,
	    "'[' or '{' expected near '\\x1b' at line 1, column 1");
	/* jsonio_parse is jsonio_parse_flags with no flag. */
	{
		struct report rep = { 0 };

		CHECK(jsonio_parse("[", 1, &rep) == NULL);
		CHECK(rep.code == E2E_EX_DATAERR && rep.nlines == 1);
	}
}

/* An allocator that fails after `left` blocks. */
static int left;

static void *
failing_malloc(size_t n)
{
	if (left <= 0)
		return NULL;
	left--;
	return malloc(n);
}

/* jansson's first blocks are its reader's: without them it gives no
 * reason at all, which is said as "out of memory". (A block refused
 * later may be taken by jansson for a syntax error: it says so.) */
static void
out_of_memory(void)
{
	struct report rep = { 0 };
	json_t *v;
	int n;

	for (n = 0; n < 3; n++) {
		report_clear(&rep);
		left = n;
		json_set_alloc_funcs(failing_malloc, free);
		v = jsonio_parse("{\"a\":\"b\"}", 9, &rep);
		json_set_alloc_funcs(malloc, free);
		CHECK(v == NULL);
		json_decref(v);
		CHECKF(rep.code == E2E_EX_SOFTWARE && rep.nlines == 1 &&
		    strcmp(report_message(&rep), "out of memory") == 0,
		    "%d blocks: code %d, %d lines: %s", n, rep.code,
		    rep.nlines, report_message(&rep));
	}
}

int
main(void)
{
	RUN(reasons);
	RUN(out_of_memory);
	return harness_end();
}
