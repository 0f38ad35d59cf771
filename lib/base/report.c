/* report.c - a library call's diagnostics, kept for its caller (report.h). */
#include "base/report.h"

#include "base/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

void
report_clear(struct report *r)
{
	if (r == NULL)
		return;
	r->code = 0;
	r->nlines = 0;
	r->dropped = 0;
}

static void
add(struct report *r, enum report_level level, const char *tail,
    const char *fmt, va_list ap)
{
	struct report_line *l;
	int n;

	if (r->nlines >= REPORT_LINES) {
		r->dropped++;
		return;
	}
	l = &r->line[r->nlines++];
	l->level = level;
	n = vsnprintf(l->text, sizeof(l->text), fmt, ap);
	if (n < 0) {
		l->text[0] = '\0';
		n = 0;
	}
	if (tail != NULL && (size_t)n < sizeof(l->text))
		snprintf(l->text + n, sizeof(l->text) - (size_t)n, ": %s",
		    tail);
}

static int
add_error(struct report *r, int code, const char *tail, const char *fmt,
    va_list ap)
{
	if (r == NULL)
		return code;
	if (r->code == 0)
		r->code = code;
	add(r, REPORT_ERROR, tail, fmt, ap);
	return code;
}

int
report_error(struct report *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error(r, code, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int
report_errno(struct report *r, int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	add_error(r, code, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
	return code;
}

int
report_crypto(struct report *r, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256];

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		report_error(r, E2E_EX_SOFTWARE, "%s failed (%s)", what, buf);
	} else {
		report_error(r, E2E_EX_SOFTWARE, "%s failed", what);
	}
	ERR_clear_error();
	return E2E_EX_SOFTWARE;
}

int
report_oom(struct report *r)
{
	return report_error(r, E2E_EX_SOFTWARE, "out of memory");
}

#define LEVEL_FN(name, level)					\
void								\
name(struct report *r, const char *fmt, ...)			\
{								\
	va_list ap;						\
								\
	if (r == NULL)						\
		return;						\
	va_start(ap, fmt);					\
	add(r, level, NULL, fmt, ap);				\
	va_end(ap);						\
}

LEVEL_FN(report_warn, REPORT_WARNING)
LEVEL_FN(report_hint, REPORT_HINT)
LEVEL_FN(report_note, REPORT_NOTE)

int
report_add(struct report *dst, const struct report *src)
{
	int i;

	if (src == NULL)
		return 0;
	if (dst == NULL || dst == src)
		return src->code;
	if (dst->code == 0)
		dst->code = src->code;
	for (i = 0; i < src->nlines; i++) {
		if (dst->nlines >= REPORT_LINES) {
			dst->dropped++;
			continue;
		}
		dst->line[dst->nlines++] = src->line[i];
	}
	dst->dropped += src->dropped;
	return src->code;
}

const char *
report_message(const struct report *r)
{
	int i;

	if (r == NULL)
		return "";
	for (i = 0; i < r->nlines; i++)
		if (r->line[i].level == REPORT_ERROR)
			return r->line[i].text;
	return "";
}

int
report_said(const struct report *r)
{
	return r != NULL && (r->nlines > 0 || r->dropped > 0);
}
