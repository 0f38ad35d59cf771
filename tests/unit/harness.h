/*
 * harness.h - the unit tests' small harness: CHECK counts, a failure
 * prints where it happened, and harness_end() prints "N passed, N failed"
 * and returns the exit status. Helpers for hex and the shared test data.
 */
#ifndef E2E_HARNESS_H
#define E2E_HARNESS_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

static int harness_passed, harness_failed, harness_skipped;
static const char *harness_current = "";

#define CHECK(cond) CHECKF((cond), "%s", #cond)

#define CHECKF(cond, ...) do {						\
	if (cond) {							\
		harness_passed++;					\
	} else {							\
		harness_failed++;					\
		fprintf(stderr, "FAIL %s:%d [%s]: ", __FILE__, __LINE__, \
		    harness_current);					\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

#define CHECK_MEM(a, b, n) CHECKF(memcmp((a), (b), (n)) == 0,		\
	"%s differs from %s", #a, #b)

#define RUN(fn) do {							\
	harness_current = #fn;						\
	fn();								\
} while (0)

static inline void
harness_skip(const char *why)
{
	harness_skipped++;
	printf("skip [%s]: %s\n", harness_current, why);
}

static inline int
harness_end(void)
{
	if (harness_skipped > 0)
		printf("%d skipped\n", harness_skipped);
	printf("%d passed, %d failed\n", harness_passed, harness_failed);
	return harness_failed == 0 ? 0 : 1;
}

/* Decodes hex into a malloc'd buffer; *len gets the length. Aborts on
 * malformed hex: test data is trusted. */
static inline uint8_t *
hex_decode(const char *hex, size_t *len)
{
	size_t n = strlen(hex), i;
	uint8_t *out;
	unsigned v;

	if (n % 2 != 0) {
		fprintf(stderr, "bad hex in test data: %s\n", hex);
		exit(2);
	}
	out = malloc(n / 2 + 1);
	if (out == NULL)
		exit(2);
	for (i = 0; i < n / 2; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
			fprintf(stderr, "bad hex in test data: %s\n", hex);
			exit(2);
		}
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return out;
}

/*
 * The shared test data folder (../shared/testdata from the project root,
 * or $E2E_TESTDATA). Returns NULL when absent: tests then skip with a
 * notice, never fail.
 */
static inline const char *
harness_testdata(void)
{
	static char path[4096];
	const char *env = getenv("E2E_TESTDATA");

	if (env != NULL && *env != '\0')
		snprintf(path, sizeof(path), "%s", env);
	else
		snprintf(path, sizeof(path), "%s", "../shared/testdata");
	return access(path, R_OK) == 0 ? path : NULL;
}

/* Loads testdata/wycheproof/NAME, or returns NULL after a skip notice. */
static inline json_t *
harness_wycheproof(const char *name)
{
	const char *dir = harness_testdata();
	char path[4096];
	json_error_t e;
	json_t *v;

	if (dir == NULL) {
		harness_skip("../shared/testdata is absent: Wycheproof vectors "
		    "not run");
		return NULL;
	}
	if (snprintf(path, sizeof(path), "%s/wycheproof/%s", dir,
	    name) >= (int)sizeof(path) || access(path, R_OK) != 0) {
		harness_skip("a Wycheproof file is absent: not run");
		return NULL;
	}
	v = json_load_file(path, 0, &e);
	if (v == NULL) {
		fprintf(stderr, "cannot parse %s: %s\n", path, e.text);
		harness_failed++;
	}
	return v;
}

#endif
