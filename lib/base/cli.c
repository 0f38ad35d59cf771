/* cli.c - shared command-line plumbing (see cli.h). */
#include "base/cli.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/names.h"

#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A usage error in rep, with the hint to run --help; returns 64. */
static int usage(struct report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

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
cli_parse_size(const char *opt, const char *s, size_t *out, struct report *rep)
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
	return usage(rep, "%s needs a positive size such as 4096, 64K, "
	    "256M or 1G", opt);
}

int
cli_parse_duration(const char *opt, const char *s, long long max,
    long long *out, struct report *rep)
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
	return usage(rep, "%s needs a duration from 0 to %lld seconds, "
	    "such as 3600, 30d, 12h, 10m or 5s", opt, max);
}

int
cli_number(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long v;
	char *end;

	/* strtoull alone would take spaces, signs and "0x". */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cli_parse_number(const char *opt, const char *s, unsigned long long min,
    unsigned long long max, unsigned long long *out, struct report *rep)
{
	if (cli_number(s, min, max, out) == 0)
		return 0;
	return usage(rep, "%s needs a number from %llu to %llu", opt, min,
	    max);
}

int
cli_parse_size_in(const char *opt, const char *s, size_t min, size_t max,
    const char *range, size_t *out, struct report *rep)
{
	if (cli_parse_size(opt, s, out, rep) != 0)
		return E2E_EX_USAGE;
	if (*out < min || *out > max)
		return usage(rep, "%s %s", opt, range);
	return 0;
}

int
cli_max_size(int *seen, const char *s, size_t *out, struct report *rep)
{
	if (cli_once(seen, "--max-size", rep) != 0)
		return E2E_EX_USAGE;
	return cli_parse_size_in("--max-size", s, 0, FILEIO_MAX_MAX,
	    "is at most 1G", out, rep);
}

int
cli_max_size_stream(int *seen, const char *s, size_t *out,
    struct report *rep)
{
	if (cli_once(seen, "--max-size", rep) != 0)
		return E2E_EX_USAGE;
	return cli_parse_size_in("--max-size", s, 0,
	    (size_t)FILEIO_STREAM_MAX, "is at most 32G", out, rep);
}

int
cli_user_name(const char *opt, const char *s, struct report *rep)
{
	if (name_valid(s, strlen(s)))
		return 0;
	if (opt != NULL)
		return usage(rep, "%s takes a user name", opt);
	return usage(rep, "a name is 1 to %d letters, digits, '.', '_' "
	    "or '-'", NAME_LEN_MAX);
}

int
cli_once(int *seen, const char *opt, struct report *rep)
{
	if ((*seen)++ == 0)
		return 0;
	return usage(rep, "%s given more than once", opt);
}

static int
vusage(struct report *rep, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	report_error(rep, E2E_EX_USAGE, "%s", line);
	report_hint(rep, "see %s --help", err_prog());
	return E2E_EX_USAGE;
}

static int
usage(struct report *rep, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vusage(rep, fmt, ap);
	va_end(ap);
	return E2E_EX_USAGE;
}

struct report *
cli_usage_error(struct report *rep, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vusage(rep, fmt, ap);
	va_end(ap);
	return rep;
}

int
cli_bad_option(int c, char **argv, struct report *rep)
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
		return usage(rep, "option %s needs a value", name);
	if (strncmp(arg, "--", 2) == 0 && strchr(arg, '=') != NULL &&
	    optopt != 0)
		return usage(rep, "option %s takes no value", name);
	return usage(rep, "unknown option %s", name);
}

int
cli_one_stdin(const char *const *names, const char *const *paths, size_t n,
    struct report *rep)
{
	const char *first = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (paths[i] == NULL || strcmp(paths[i], "-") != 0)
			continue;
		if (first != NULL)
			return usage(rep, "%s and %s cannot both read "
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
    const struct option *longopts, struct report *rep)
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
				report_error(rep, E2E_EX_USAGE, "there is no "
				    "--password option: a password on the "
				    "command line can be read by other users");
				report_hint(rep, "use --password-file FILE (- "
				    "for standard input), set E2E_PASSWORD, or "
				    "type it when asked");
				return E2E_EX_USAGE;
			}
			/* getopt_long would take "--serv" for "--server". */
			for (o = longopts; o->name != NULL; o++)
				if (strncmp(o->name, name, strlen(name)) == 0)
					return usage(rep, "option --%s is "
					    "abbreviated; write --%s in full",
					    name, o->name);
			return usage(rep, "unknown option --%s", name);
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

int
cli_options(int argc, char **argv, const char *shortopts,
    const struct option *longopts, struct report *rep)
{
	int rc;

	if ((rc = cli_exact_options(argc, argv, shortopts, longopts, rep)) != 0)
		return rc;
	opterr = 0;
	return 0;
}

/* Takes the value of table option o, called label on the command line. */
static int
take(const struct cli_opt *o, const char *label, const char *arg,
    struct report *rep)
{
	struct cli_list *l;
	unsigned long long n = 0;
	long long d = 0;
	int rc;

	switch (o->kind) {
	case CLI_FLAG:
		*(int *)o->dst = 1;
		return 0;
	case CLI_STRING:
		if (o->check != NULL && (rc = o->check(label, arg, rep)) != 0)
			return rc;
		*(const char **)o->dst = arg;
		return 0;
	case CLI_UINT:
	case CLI_INT64:
	case CLI_COUNT:
		if (cli_parse_number(label, arg, o->min, o->max, &n, rep) != 0)
			return E2E_EX_USAGE;
		if (o->kind == CLI_UINT)
			*(unsigned *)o->dst = (unsigned)n;
		else if (o->kind == CLI_INT64)
			*(int64_t *)o->dst = (int64_t)n;
		else
			*(size_t *)o->dst = (size_t)n;
		return 0;
	case CLI_SIZE:
		return cli_parse_size_in(label, arg, (size_t)o->min,
		    (size_t)o->max, o->range, (size_t *)o->dst, rep);
	case CLI_DURATION:
		if (cli_parse_duration(label, arg, (long long)o->max, &d,
		    rep) != 0)
			return E2E_EX_USAGE;
		*(int64_t *)o->dst = (int64_t)d;
		return 0;
	case CLI_LIST:
		l = o->dst;
		if (o->check != NULL && (rc = o->check(label, arg, rep)) != 0)
			return rc;
		if (l->n == l->max)
			return usage(rep, "at most %zu %s", l->max, label);
		l->v[l->n++] = arg;
		return 0;
	default:
		return report_error(rep, E2E_EX_SOFTWARE,
		    "option %s: unknown kind %d", label, (int)o->kind);
	}
}

int
cli_parse(int argc, char **argv, const struct cli_opt *opts, size_t n,
    struct report *rep)
{
	struct option lo[CLI_OPTS_MAX + 1];
	char shortopts[2 * CLI_OPTS_MAX + 2], label[64];
	int seen[CLI_OPTS_MAX];
	const struct cli_opt *o;
	size_t i, ns = 0;
	int ch, rc;

	if (n > CLI_OPTS_MAX) {
		return report_error(rep, E2E_EX_SOFTWARE,
		    "more than %d options in a table", CLI_OPTS_MAX);
	}
	shortopts[ns++] = ':';
	for (i = 0; i < n; i++) {
		o = &opts[i];
		lo[i].name = o->name;
		lo[i].has_arg = o->kind == CLI_FLAG || o->kind >= CLI_HELP ?
		    no_argument : required_argument;
		lo[i].flag = NULL;
		/* Long options only are told apart by their index. */
		lo[i].val = o->letter != 0 ? o->letter : 256 + (int)i;
		if (o->letter != 0) {
			shortopts[ns++] = (char)o->letter;
			if (lo[i].has_arg == required_argument)
				shortopts[ns++] = ':';
		}
		seen[i] = 0;
	}
	memset(&lo[n], 0, sizeof(lo[n]));
	shortopts[ns] = '\0';
	if ((rc = cli_options(argc, argv, shortopts, lo, rep)) != 0)
		return rc;
	while ((ch = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		for (i = 0; i < n; i++)
			if (lo[i].val == ch)
				break;
		if (i == n)
			return cli_bad_option(ch, argv, rep);
		o = &opts[i];
		if (o->kind >= CLI_HELP)
			return (int)o->kind;
		snprintf(label, sizeof(label), "--%s", o->name);
		if (o->kind != CLI_LIST && !o->repeat &&
		    cli_once(&seen[i], label, rep) != 0)
			return E2E_EX_USAGE;
		if ((rc = take(o, label, optarg, rep)) != 0)
			return rc;
	}
	return 0;
}
