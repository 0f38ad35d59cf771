/*
 * cli.h - what every tool's main() does the same way: the version, sizes
 * on the command line, repeated options, and the process set-up.
 */
#ifndef E2E_CLI_H
#define E2E_CLI_H

#include <stddef.h>

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
 * Returns 0, or 64 with the error reported naming opt. */
int cli_parse_size(const char *opt, const char *s, size_t *out);

/* Parses a duration: seconds, or a number with a suffix s, m, h or d
 * (30d, 12h, 10m, 5s), from 0 to max seconds. Returns 0, or 64 with the
 * error reported naming opt. */
int cli_parse_duration(const char *opt, const char *s, long long max,
    long long *out);

/* Refuses an option given twice: returns 0 the first time, 64 (reported)
 * after. */
int cli_once(int *seen, const char *opt);

/*
 * Reports what getopt_long found wrong (c is its '?' or ':' return, with
 * the option string starting with ':' and opterr = 0). Returns 64.
 */
int cli_bad_option(int c, char **argv);

/*
 * Standard input can be read once: refuses two of the n inputs reading
 * it. paths[i] is the path given for names[i] (NULL when not used; "-"
 * for stdin, also for a FILE that defaults to stdin). Returns 0 or 64
 * (reported).
 */
int cli_one_stdin(const char *const *names, const char *const *paths,
    size_t n);

/*
 * Refuses, before getopt_long sees them, long options that are not
 * spelled out in full (getopt_long would take "--pass" for
 * "--passphrase-file", or "--password x" for "--password-file x"), with
 * a hint about password files for anything like --password. Returns 0 or
 * 64 (reported).
 */
struct option;
int cli_exact_options(int argc, char **argv, const char *shortopts,
    const struct option *longopts);

/* Reports a usage error with a hint to run --help; returns 64. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
