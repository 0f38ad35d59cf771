/*
 * err.h - diagnostics and exit codes shared by every e2e-chat tool.
 *
 * Every message is one line on stderr, prefixed with the program name:
 *   e2e-decrypt: error: cannot open bob.key: No such file or directory
 *   e2e-decrypt: hint: give your private key with -i
 * Untrusted text (names, server errors) must go through term_escape()
 * before it reaches these helpers.
 *
 * Only the tools' mains (cmd/) and the server's voice (server/log.c)
 * print: the library reports (base/report.h), and make lint checks it.
 */
#ifndef E2E_ERR_H
#define E2E_ERR_H

#include <stdarg.h>
#include <stddef.h>

#include "base/report.h"

/* Exit codes follow sysexits.h and mean the same in every tool. */
enum {
	E2E_EX_OK = 0,		/* success */
	E2E_EX_USAGE = 64,	/* the command line was wrong */
	E2E_EX_DATAERR = 65,	/* bad data: malformed envelope, cannot decrypt, bad signature */
	E2E_EX_NOINPUT = 66,	/* an input file or key cannot be read */
	E2E_EX_NOUSER = 67,	/* no such user (a recipient) */
	E2E_EX_UNAVAILABLE = 69, /* the server's identity cannot be verified;
				  * e2e-encrypt --require-fs: no prekey */
	E2E_EX_SOFTWARE = 70,	/* internal error */
	E2E_EX_CANTCREAT = 73,	/* an output file cannot be created */
	E2E_EX_IOERR = 74,	/* an I/O error */
	E2E_EX_TEMPFAIL = 75,	/* temporary failure, worth retrying */
	E2E_EX_PROTOCOL = 76,	/* the server's answer is not the protocol */
	E2E_EX_NOPERM = 77,	/* permission refused: wrong passphrase, refused token */
	E2E_EX_CONFIG = 78,	/* the client's configuration is wrong */
};

/* The exit code table, as printed by every tool's --help. */
extern const char err_exit_codes_help[];

/* Sets the name printed before every message (basename of argv[0]). */
void err_setprog(const char *argv0);
const char *err_prog(void);

void err_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* As err_error, followed by ": " and strerror(errno). */
void err_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void err_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void err_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void err_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints line as it is, with no prefix: a network tool's -v trace of
 * the HTTP exchange (net/client.h's client_opts.trace). */
void err_trace(const char *line);

/*
 * Prints a library call's report (base/report.h), one line per entry,
 * each as err_error, err_warn, err_hint or err_note would, then
 * "PROG: N more lines not shown" if lines were dropped. Empties
 * nothing: the caller may still read r. Returns r's code (0 if none).
 */
int err_print(const struct report *r);

#endif
