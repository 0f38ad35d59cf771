/* cli.c - shared command-line plumbing (see cli.h). */
#include "base/cli.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"

#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
cli_start(const char *argv0)
{
	int fd;

	err_setprog(argv0);
	signal(SIGPIPE, SIG_IGN);
	fileio_on_signal();
	/* A closed fd 0-2 would let a file we open take its place. It is
	 * reopened so that using it fails (stdin write-only, stdout and
	 * stderr read-only): output to a closed stdout is an I/O error, not
	 * silently lost. */
	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
		    open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY) != fd)
			_exit(E2E_EX_SOFTWARE);
	secure_process();
}

void
cli_version(void)
{
	printf("%s %s\n", err_prog(), E2E_VERSION);
}

int
cli_parse_size(const char *opt, const char *s, size_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	if (*s < '0' || *s > '9')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		goto bad;
	if (*end == 'K' || *end == 'k')
		shift = 10, end++;
	else if (*end == 'M' || *end == 'm')
		shift = 20, end++;
	else if (*end == 'G' || *end == 'g')
		shift = 30, end++;
	if (*end != '\0' || v == 0 || v > (~0ULL >> 1) >> shift ||
	    (v << shift) > (unsigned long long)SIZE_MAX)
		goto bad;
	*out = (size_t)(v << shift);
	return 0;
bad:
	return cli_usage_error("%s needs a positive size such as 4096, 64K, "
	    "256M or 1G", opt);
}

int
cli_parse_duration(const char *opt, const char *s, long long max,
    long long *out)
{
	unsigned long long v;
	long long unit = 1;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		goto bad;
	switch (*end) {
	case 'd':
		unit = 86400;
		end++;
		break;
	case 'h':
		unit = 3600;
		end++;
		break;
	case 'm':
		unit = 60;
		end++;
		break;
	case 's':
		end++;
		break;
	default:
		break;
	}
	if (*end != '\0' || max < 0 ||
	    v > (unsigned long long)(max / unit))
		goto bad;
	*out = (long long)v * unit;
	return 0;
bad:
	return cli_usage_error("%s needs a duration from 0 to %lld seconds, "
	    "such as 3600, 30d, 12h, 10m or 5s", opt, max);
}

int
cli_once(int *seen, const char *opt)
{
	if ((*seen)++ == 0)
		return 0;
	return cli_usage_error("%s given more than once", opt);
}

int
cli_usage_error(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	err_error("%s", line);
	err_hint("see %s --help", err_prog());
	return E2E_EX_USAGE;
}

int
cli_bad_option(int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	char name[64];
	size_t n;

	if (strncmp(arg, "--", 2) == 0) {
		n = strcspn(arg, "=");
		snprintf(name, sizeof(name), "%.*s", (int)n, arg);
	} else if (optopt != 0) {
		snprintf(name, sizeof(name), "-%c", optopt);
	} else {
		snprintf(name, sizeof(name), "%s", arg);
	}
	if (c == ':')
		return cli_usage_error("option %s needs a value", name);
	if (strncmp(arg, "--", 2) == 0 && strchr(arg, '=') != NULL &&
	    optopt != 0)
		return cli_usage_error("option %s takes no value", name);
	return cli_usage_error("unknown option %s", name);
}

int
cli_one_stdin(const char *const *names, const char *const *paths, size_t n)
{
	const char *first = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (paths[i] == NULL || strcmp(paths[i], "-") != 0)
			continue;
		if (first != NULL)
			return cli_usage_error("%s and %s cannot both read "
			    "standard input", first, names[i]);
		first = names[i];
	}
	return 0;
}

/* The long option name of arg ("--name=value"), into name. */
static void
long_name(const char *arg, char *name, size_t size)
{
	size_t n = strcspn(arg + 2, "=");

	snprintf(name, size, "%.*s", (int)n, arg + 2);
}

/* --password, --password=..., and its abbreviations (--pass, --passw),
 * but not abbreviations of --password-file that go past "password-". */
static int
looks_like_password(const char *name)
{
	size_t n = strlen(name);

	if (strncmp(name, "password", 8) == 0)
		return n == 8 || strncmp(name, "password-file", n) != 0;
	return n >= 4 && strncmp("password", name, n) == 0;
}

int
cli_exact_options(int argc, char **argv, const char *shortopts,
    const struct option *longopts)
{
	const struct option *o;
	const char *arg, *p;
	char name[64];
	int i;

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "--") == 0)
			break;
		if (strncmp(arg, "--", 2) == 0) {
			long_name(arg, name, sizeof(name));
			for (o = longopts; o->name != NULL; o++)
				if (strcmp(o->name, name) == 0)
					break;
			if (o->name != NULL) {
				if (o->has_arg == required_argument &&
				    strchr(arg, '=') == NULL)
					i++;
				continue;
			}
			if (looks_like_password(name)) {
				err_error("there is no --password option: a "
				    "password on the command line can be read "
				    "by other users");
				err_hint("use --password-file FILE (- for "
				    "standard input), set E2E_PASSWORD, or "
				    "type it when asked");
				return E2E_EX_USAGE;
			}
			/* getopt_long would take "--serv" for "--server". */
			for (o = longopts; o->name != NULL; o++)
				if (strncmp(o->name, name, strlen(name)) == 0)
					return cli_usage_error("option --%s is "
					    "abbreviated; write --%s in full",
					    name, o->name);
			return cli_usage_error("unknown option --%s", name);
		}
		if (arg[0] != '-' || arg[1] == '\0')
			continue;
		for (p = arg + 1; *p != '\0'; p++) {
			const char *s = strchr(shortopts, *p);

			if (*p != ':' && s != NULL && s[1] == ':') {
				if (p[1] == '\0')
					i++;
				break;
			}
		}
	}
	return 0;
}
