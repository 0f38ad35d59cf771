/*
 * harness.h - the unit tests' small harness: CHECK counts, a failure
 * prints where it happened, and harness_end() prints "N passed, N failed"
 * and returns the exit status. Helpers for hex, the shared test data,
 * stderr captured around a call that reports, and temporary folders and
 * files. (The committed test keys are keys_fixture.h's.)
 */
#ifndef E2E_HARNESS_H
#define E2E_HARNESS_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"

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
/* The CPU time this process has used, in seconds: what a test of "stays
 * fast" measures, since a loaded machine stretches wall time without
 * bound (a shared CI machine at a load of 30 has doubled it). */
static inline double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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
		/* NOLINTNEXTLINE(cert-err34-c): two digits cannot overflow */
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

/* Members of a Wycheproof test: a string ("" when absent), an integer,
 * hex bytes (malloc'd; test data is trusted, so a missing member stops
 * the run rather than being counted). */
static inline const char *
jstr(const json_t *t, const char *name)
{
	const char *s = json_string_value(json_object_get(t, name));

	return s != NULL ? s : "";
}

static inline int
jint(const json_t *t, const char *name)
{
	return (int)json_integer_value(json_object_get(t, name));
}

static inline uint8_t *
jhex(const json_t *t, const char *name, size_t *len)
{
	const char *s = json_string_value(json_object_get(t, name));

	if (s == NULL) {
		fprintf(stderr, "test data: no \"%s\"\n", name);
		exit(2);
	}
	return hex_decode(s, len);
}

/*
 * stderr captured around calls that report: the text is checked, and
 * expected errors do not clutter the test output. capture_end() restores
 * stderr and returns what was written (the first 4095 bytes, also in
 * cap_text; cap_len is the whole length).
 */
static FILE *cap_file;
static int cap_saved = -1;
static char cap_text[4096];
static long cap_len;

static inline void
capture_begin(void)
{
	fflush(stderr);
	cap_file = tmpfile();
	cap_saved = dup(STDERR_FILENO);
	if (cap_file == NULL || cap_saved < 0 ||
	    dup2(fileno(cap_file), STDERR_FILENO) < 0) {
		perror("capturing stderr");
		exit(2);
	}
}

static inline const char *
capture_end(void)
{
	struct stat st;
	size_t n;

	fflush(stderr);
	dup2(cap_saved, STDERR_FILENO);
	close(cap_saved);
	cap_saved = -1;
	cap_len = fstat(fileno(cap_file), &st) == 0 ? (long)st.st_size : -1;
	rewind(cap_file);
	n = fread(cap_text, 1, sizeof(cap_text) - 1, cap_file);
	cap_text[n] = '\0';
	fclose(cap_file);
	cap_file = NULL;
	return cap_text;
}

/*
 * The report a call under test fills (base/report.h): rep_shown() prints it
 * as a tool would (err_print), usually inside a capture so that its text
 * is checked in cap_text, then empties it. Returns the report's code.
 */
static struct report t_rep __attribute__((unused));

static inline int
rep_shown(void)
{
	int code = err_print(&t_rep);

	report_clear(&t_rep);
	return code;
}

/* rc, once t_rep is shown (rep_shown): for a helper that returns what the
 * call under test returned. */
static inline int
rep_shown_rc(int rc)
{
	rep_shown();
	return rc;
}

/* The first error's text of t_rep into why (size bytes), for a test that
 * checks the words a server would answer; empties t_rep. Returns its
 * code. */
static inline int
rep_why(char *why, size_t size)
{
	int code = t_rep.code;

	snprintf(why, size, "%s", report_message(&t_rep));
	report_clear(&t_rep);
	return code;
}

/* rc, once rep_why put t_rep's error in why: for a call whose refusal's
 * words a test checks, as it did when they came in a buffer. */
static inline int
rep_why_rc(int rc, char *why, size_t size)
{
	rep_why(why, size);
	return rc;
}

/* A new folder /tmp/e2e-test-NAME-XXXXXX (or under $TMPDIR) into out. */
static inline void
harness_tmpdir(const char *name, char *out, size_t size)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if ((size_t)snprintf(out, size, "%s/e2e-test-%s-XXXXXX", base,
	    name) >= size || mkdtemp(out) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
}

static inline int
harness_rm_one(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* Removes dir and everything in it (a test's temporary folder). */
static inline void
harness_rmtree(const char *dir)
{
	if (nftw(dir, harness_rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* dir "/" name, in one of eight static buffers (a call may take a few
 * at once). */
static inline const char *
harness_path(const char *dir, const char *name)
{
	static char paths[8][512];
	static int next;
	char *p = paths[next++ % 8];

	if ((size_t)snprintf(p, sizeof(paths[0]), "%s/%s", dir, name) >=
	    sizeof(paths[0])) {
		fprintf(stderr, "test path too long: %s/%s\n", dir, name);
		exit(2);
	}
	return p;
}

/* How many entries dir holds (. and .. aside), or -1: a failed write
 * must leave no temporary file behind. */
static inline int
harness_entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Writes len bytes of text to path (created or truncated) with mode. */
static inline void
put_bytes(const char *path, const char *text, size_t len,
    mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len ||
	    fchmod(fd, mode) != 0 || close(fd) != 0) {
		perror(path);
		exit(2);
	}
}

/* The same for a string, mode 0600. */
static inline void
put_str(const char *path, const char *text)
{
	put_bytes(path, text, strlen(text), 0600);
}

/* The whole of path, NUL-terminated, malloc'd (test data is trusted:
 * a file that cannot be read stops the run). */
static inline char *
harness_read(const char *path)
{
	char *text;
	long n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (text = malloc((size_t)n + 1)) == NULL ||
	    fread(text, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	text[n] = '\0';
	return text;
}

/* The size of path, or -1 when it does not exist. */
static inline off_t
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

#endif
