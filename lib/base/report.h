/*
 * report.h - what a library call has to say, kept for its caller to show.
 *
 * The library never prints. A function that can fail, or that has a
 * warning to give even when it succeeds, takes a struct report * (its
 * last parameter) and returns an exit code from base/err.h (0 on
 * success). The caller decides what to do with the lines: a tool prints
 * them with err_print() (base/err.h), the server answers the first
 * error's text as JSON, a caller that only wants the verdict passes NULL
 * (every report_ function accepts a NULL report and then keeps nothing).
 *
 * Untrusted text (names, server errors) must go through term_escape()
 * before it reaches a report, as before it reached a terminal.
 */
#ifndef E2E_REPORT_H
#define E2E_REPORT_H

#include <stddef.h>

enum report_level {
	REPORT_ERROR,		/* printed "PROG: error: TEXT" */
	REPORT_WARNING,		/* "PROG: warning: TEXT" */
	REPORT_HINT,		/* "PROG: hint: TEXT" */
	REPORT_NOTE,		/* "PROG: TEXT" */
};

/* Enough for the loudest message (a changed key's several lines) and a
 * line as long as a terminal would show; more lines are counted, not
 * kept. */
#define REPORT_LINES 16
#define REPORT_TEXT 1024

struct report_line {
	enum report_level level;
	char text[REPORT_TEXT];
};

struct report {
	int code;		/* the first error's exit code; 0 while none */
	int nlines;
	int dropped;		/* lines past REPORT_LINES */
	struct report_line line[REPORT_LINES];
};

/* Empties r (a zeroed struct report is an empty one too). */
void report_clear(struct report *r);

/*
 * Adds an error line. The first error's code is the report's code (a
 * later error adds its line and keeps the first code). Returns code, so
 * that `return report_error(r, E2E_EX_DATAERR, "...")` reads naturally.
 */
int report_error(struct report *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As report_error, followed by ": " and strerror(errno) (errno kept). */
int report_errno(struct report *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * An OpenSSL failure that is not the user's fault: "WHAT failed (the
 * library's reason)", code E2E_EX_SOFTWARE; empties OpenSSL's error
 * queue. Returns E2E_EX_SOFTWARE.
 */
int report_crypto(struct report *r, const char *what);

/* "out of memory", code E2E_EX_SOFTWARE: what a caller says when a
 * silent allocator (the buf functions) failed. Returns E2E_EX_SOFTWARE. */
int report_oom(struct report *r);

void report_warn(struct report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void report_hint(struct report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void report_note(struct report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Appends src's lines to dst (dst's code is src's if dst had none).
 * Returns src's code. */
int report_add(struct report *dst, const struct report *src);

/* The first error's text (no program name, no level), or "" when none:
 * what a server answers, or what one line of a summary quotes. */
const char *report_message(const struct report *r);

/* 1 when r holds any line (an error, warning, hint or note). */
int report_said(const struct report *r);

#endif
