/* err.c - one message style for every tool (see err.h). */
#include "base/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char err_exit_codes_help[] =
	"Exit status:\n"
	"  0   success\n"
	"  64  usage error\n"
	"  65  bad data: malformed envelope, cannot decrypt, signature not valid\n"
	"  66  an input file or key cannot be read\n"
	"  70  internal error\n"
	"  73  an output file cannot be created\n"
	"  74  I/O error\n"
	"  75  temporary failure, worth retrying\n"
	"  77  permission refused: wrong passphrase, refused or expired token\n";

static const char *prog = "e2e";

void
err_setprog(const char *argv0)
{
	const char *slash;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	slash = strrchr(argv0, '/');
	prog = slash != NULL ? slash + 1 : argv0;
}

const char *
err_prog(void)
{
	return prog;
}

static void
vmsg(const char *kind, const char *fmt, va_list ap, const char *tail)
{
	/* One fprintf per line would interleave badly with other writers;
	 * format into a buffer and write it in one call. */
	char line[1024];
	int n;

	n = snprintf(line, sizeof(line), "%s: %s", prog, kind);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	fprintf(stderr, "%s%s%s\n", line, tail ? ": " : "", tail ? tail : "");
}

void
err_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error: ", fmt, ap, NULL);
	va_end(ap);
}

void
err_errno(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vmsg("error: ", fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
err_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap, NULL);
	va_end(ap);
}

void
err_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("hint: ", fmt, ap, NULL);
	va_end(ap);
}

void
err_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap, NULL);
	va_end(ap);
}

int
err_print(const struct report *r)
{
	static const char *const kind[] = {
		[REPORT_ERROR] = "error: ",
		[REPORT_WARNING] = "warning: ",
		[REPORT_HINT] = "hint: ",
		[REPORT_NOTE] = "",
	};
	int i;

	if (r == NULL)
		return 0;
	/* One write per line, as vmsg, so that lines from two writers do
	 * not interleave within a line. */
	for (i = 0; i < r->nlines; i++)
		fprintf(stderr, "%s: %s%s\n", prog, kind[r->line[i].level],
		    r->line[i].text);
	if (r->dropped > 0)
		fprintf(stderr, "%s: %d more lines not shown\n", prog,
		    r->dropped);
	return r->code;
}

void
err_trace(const char *line)
{
	fprintf(stderr, "%s\n", line);
}
