/*
 * passphrase.h - where a passphrase (or a password) comes from, never
 * from argv:
 * --passphrase-file FILE (its first line), else the E2E_PASSPHRASE
 * environment variable, else the terminal (/dev/tty, without echo).
 */
#ifndef E2E_PASSPHRASE_H
#define E2E_PASSPHRASE_H

#include <stddef.h>

#include "base/report.h"

#define PASSPHRASE_MAX 1024

struct passphrase_src {
	const char *file;	/* --passphrase-file, or NULL */
	const char *label;	/* names the key in the prompt */
};

/*
 * Fills out (PASSPHRASE_MAX bytes) with a NUL-terminated passphrase.
 * confirm asks twice on a terminal (when creating a key). Returns 0,
 * or an exit code with the error in rep (a warning too, for a file
 * others can read): 66 (file unreadable),
 * 64 (no source available), 65 (empty, or the two entries differ).
 * The caller wipes out after use.
 */
int passphrase_get(const struct passphrase_src *src, int confirm,
    char *out, struct report *rep);

/*
 * The same for an account's password (account names it in the prompt):
 * --password-file FILE, else E2E_PASSWORD, else the terminal, asked twice
 * when confirm is set. out holds PASSPHRASE_MAX bytes.
 */
int password_get(const char *file, const char *account, int confirm,
    char *out, struct report *rep);

/*
 * The current and a new password of account, for a password change:
 * from file (its first line is the current password, its second the new
 * one; "-" for standard input), else the terminal (the current one asked
 * once, the new one twice). E2E_PASSWORD is not used: it holds one
 * password, not two. cur and fresh hold PASSPHRASE_MAX bytes each, wiped
 * by the caller. Returns 0, or an exit code with the error in rep:
 * 66 (file unreadable), 64 (no terminal and no file), 65 (a line missing
 * or empty, the two entries differ).
 */
int password_change_get(const char *file, const char *account, char *cur,
    char *fresh, struct report *rep);

/* Reads a line from the terminal without echo (for passwords too).
 * Returns 0, or an exit code with the error in rep; 64 with nothing said
 * when there is no terminal (the caller says what it needed). */
int tty_read_secret(const char *prompt, char *out, size_t size,
    struct report *rep);

/* The same with echo, for answers that are not secret. */
int tty_read_line(const char *prompt, char *out, size_t size,
    struct report *rep);

/* Reads the first line of file ("-" for stdin) as a secret. Returns 0
 * or an exit code, with what there is to say in rep. */
int secret_from_file(const char *file, const char *what, char *out,
    size_t size, struct report *rep);

#endif
