/*
 * cli.h - what every tool's main() does the same way: the version,
 * exact long options, numbers, sizes, durations and user names on the
 * command line, repeated options, a table of options, and the process
 * set-up.
 */
#ifndef E2E_CLI_H
#define E2E_CLI_H

#include <stddef.h>

#include "base/report.h"

#define E2E_VERSION "0.1.0"

/*
 * Process set-up shared by every tool: the program name for messages,
 * SIGPIPE ignored (a closed pipe is an I/O error, reported, not a silent
 * death), stdin/stdout/stderr guaranteed open, no core dumps.
 */
void cli_start(const char *argv0);

/* Prints "PROG VERSION" on stdout. */
void cli_version(void);

/* Parses a byte count with an optional K, M or G suffix (powers of 1024).
 * Returns 0, or 64 with the error in rep naming opt. */
int cli_parse_size(const char *opt, const char *s, size_t *out,
    struct report *rep);

/* Parses a duration: seconds, or a number with a suffix s, m, h or d
 * (30d, 12h, 10m, 5s), from 0 to max seconds. Returns 0, or 64 with the
 * error in rep naming opt. */
int cli_parse_duration(const char *opt, const char *s, long long max,
    long long *out, struct report *rep);

/*
 * Parses a decimal number from min to max into *out: only digits (no
 * sign, space, base prefix or suffix). Returns 0, or -1 (nothing
 * reported) when s is not such a number.
 */
int cli_number(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *out);

/* cli_number, in rep: returns 0, or 64 with "OPT needs a number from
 * MIN to MAX". */
int cli_parse_number(const char *opt, const char *s, unsigned long long min,
    unsigned long long max, unsigned long long *out, struct report *rep);

/* cli_parse_size, then min <= *out <= max, else 64 in rep as
 * "OPT RANGE" (range: "is at most 1G"). */
int cli_parse_size_in(const char *opt, const char *s, size_t min, size_t max,
    const char *range, size_t *out, struct report *rep);

/* --max-size SIZE (e2e-encrypt, e2e-decrypt, e2e-send): once, a size, at
 * most FILEIO_MAX_MAX. Returns 0 or 64 (in rep). */
int cli_max_size(int *seen, const char *s, size_t *out, struct report *rep);
/* The same for an input that streams: at most FILEIO_STREAM_MAX (32G). */
int cli_max_size_stream(int *seen, const char *s, size_t *out,
    struct report *rep);

/* A user name (names.h) given on the command line: 0, or 64 in rep as
 * "OPT takes a user name" (or, when opt is NULL, with the rule). */
int cli_user_name(const char *opt, const char *s, struct report *rep);

/* Refuses an option given twice: returns 0 the first time, 64 (in rep)
 * after. */
int cli_once(int *seen, const char *opt, struct report *rep);

/*
 * Reports what getopt_long found wrong (c is its '?' or ':' return, with
 * the option string starting with ':' and opterr = 0). Returns 64.
 */
int cli_bad_option(int c, char **argv, struct report *rep);

/*
 * Standard input can be read once: refuses two of the n inputs reading
 * it. paths[i] is the path given for names[i] (NULL when not used; "-"
 * for stdin, also for a FILE that defaults to stdin). Returns 0 or 64
 * (in rep).
 */
int cli_one_stdin(const char *const *names, const char *const *paths,
    size_t n, struct report *rep);

/*
 * Refuses, before getopt_long sees them, long options that are not
 * spelled out in full (getopt_long would take "--pass" for
 * "--passphrase-file", or "--password x" for "--password-file x"), with
 * a hint about password files for anything like --password. Returns 0 or
 * 64 (in rep).
 */
struct option;
int cli_exact_options(int argc, char **argv, const char *shortopts,
    const struct option *longopts, struct report *rep);

/*
 * What every tool does before getopt_long: cli_exact_options, and getopt
 * made quiet (its errors are reported by cli_bad_option). Returns 0 or
 * 64 (in rep).
 */
int cli_options(int argc, char **argv, const char *shortopts,
    const struct option *longopts, struct report *rep);

/*
 * A table of options (e2e-server's), parsed with cli_parse: each says
 * what its value is and where it goes.
 */
enum cli_kind {
	CLI_FLAG = 1,	/* int: set to 1 */
	CLI_STRING,	/* const char *: the value (in argv) */
	CLI_UINT,	/* unsigned: a number from min to max */
	CLI_INT64,	/* int64_t: a number from min to max */
	CLI_COUNT,	/* size_t: a number from min to max */
	CLI_SIZE,	/* size_t: a size (cli_parse_size_in) */
	CLI_DURATION,	/* int64_t: seconds, up to max (cli_parse_duration) */
	CLI_LIST,	/* struct cli_list: repeatable, each value kept */
	/* Met first, they stop the parse: cli_parse returns them. */
	CLI_HELP = 256,
	CLI_VERSION,
};

/* The values of a CLI_LIST option, in argv: v holds max of them. */
struct cli_list {
	const char **v;
	size_t n, max;
};

/* An entry names its option and kind, then the other fields it needs
 * by name: { "threads", CLI_UINT, .dst = &n, .min = 1, .max = 64 }. */
struct cli_opt {
	const char *name;	/* the long option, without "--" */
	enum cli_kind kind;
	void *dst;		/* where the value goes (kind says its type) */
	unsigned long long min, max;	/* numbers, sizes; durations: max */
	const char *range;	/* a size out of min..max: "is at most 1G" */
	/* A string's or list value's check: 0, or 64 in rep. */
	int (*check)(const char *opt, const char *value, struct report *rep);
	int letter;		/* its short option, or 0 */
	int repeat;		/* may be given more than once (a flag) */
};

#define CLI_OPTS_MAX 64

/*
 * Parses argv's options with the table opts (n of them, at most
 * CLI_OPTS_MAX): exact long options (cli_exact_options), each option
 * but a list or a repeatable flag once, each value checked and stored.
 * Returns 0 with optind at the first operand; 64 (in rep); or
 * CLI_HELP or CLI_VERSION when that option came first (what follows it
 * is not read).
 */
int cli_parse(int argc, char **argv, const struct cli_opt *opts, size_t n,
    struct report *rep);

/*
 * Puts a usage error in rep (code 64) with a hint to run --help, and
 * returns rep, so that a main writes
 *   return err_print(cli_usage_error(&rep, "more than one input FILE"));
 * (rep comes first: the format's arguments follow it).
 */
struct report *cli_usage_error(struct report *rep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
