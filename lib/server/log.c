/* log.c - what e2e-server writes, on stderr and stdout (log.h). */
#include "server/log.h"

#include "base/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

void
log_request(const char *addr, const char *method, const char *path,
    unsigned status, double ms)
{
	fprintf(stderr, "%s %s %s %u %.1fms\n", addr, method, path, status,
	    ms);
}

int
log_report(const struct report *r)
{
	return err_print(r);
}

/* The printers take no va_list: format the line here, print it as one
 * argument (the same bytes: err.c's buffer is the shorter); errno
 * kept for log_errno. */
#define LOG_FN(name, printer)					\
void								\
name(const char *fmt, ...)					\
{								\
	char line[1024];					\
	int saved = errno;					\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	vsnprintf(line, sizeof(line), fmt, ap);			\
	va_end(ap);						\
	errno = saved;						\
	printer("%s", line);					\
}

LOG_FN(log_error, err_error)
LOG_FN(log_errno, err_errno)
LOG_FN(log_warn, err_warn)
LOG_FN(log_note, err_note)

void
log_port(unsigned port)
{
	printf("%u\n", port);
	fflush(stdout);
}

int
log_names(const char *const *names, size_t n)
{
	int rc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (printf("%s%s", i ? " " : "", names[i]) < 0)
			rc = -1;
	if (putchar('\n') == EOF)
		rc = -1;
	return rc;
}

int
log_flush(void)
{
	return fflush(stdout) == EOF ? -1 : 0;
}
