/* passphrase.c - passphrases from a file, the environment or the terminal. */
#include "base/passphrase.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int
secret_from_file(const char *file, const char *what, char *out, size_t size,
    struct report *rep)
{
	struct buf b = BUF_SECRET_INIT;
	size_t n;
	int rc;

	if ((rc = file_read(file, 64 * 1024, what, &b, rep)) != 0)
		goto out;
	file_warn_if_exposed(file, what, rep);
	/* The first line is the secret; a final newline is not part of it. */
	for (n = 0; n < b.len && b.p[n] != '\n'; n++)
		;
	if (n > 0 && b.p[n - 1] == '\r')
		n--;
	/* (An empty file has no buffer at all.) */
	if (n > 0 && memchr(b.p, '\0', n) != NULL) {
		report_error(rep, E2E_EX_DATAERR, "%s %s contains a NUL byte",
		    what, file);
		rc = E2E_EX_DATAERR;
		goto out;
	}
	if (n >= size) {
		report_error(rep, E2E_EX_DATAERR,
		    "%s in %s is longer than %zu bytes", what, file,
		    size - 1);
		rc = E2E_EX_DATAERR;
		goto out;
	}
	if (n > 0)
		memcpy(out, b.p, n);
	out[n] = '\0';
out:
	buf_free(&b);
	return rc;
}

static int
tty_read(const char *prompt, int echo, char *out, size_t size,
    struct report *rep)
{
	struct termios old, quiet;
	sigset_t block, saved;
	int fd, rc = 0, restore = 0;
	size_t n = 0;
	ssize_t r;
	char c;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return E2E_EX_USAGE;
	/* Keep ^C and ^Z from leaving the terminal without echo. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTSTP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, &saved);
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		if (!echo)
			quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0)
			restore = 1;
	}
	r = write(fd, prompt, strlen(prompt));
	while (r >= 0) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r <= 0 || c == '\n' || c == '\r')
			break;
		if (n + 1 >= size) {
			rc = E2E_EX_DATAERR;
			continue;	/* drain the rest of the line */
		}
		out[n++] = c;
	}
	out[n] = '\0';
	c = 0;
	if (restore)
		(void)tcsetattr(fd, TCSAFLUSH, &old);
	/* The user's Enter was not echoed; end the prompt's line. Cosmetic,
	 * so a failure is ignored. */
	if (!echo && write(fd, "\n", 1) != 1)
		errno = 0;
	sigprocmask(SIG_SETMASK, &saved, NULL);
	close(fd);
	if (r < 0) {
		report_errno(rep, E2E_EX_IOERR,
		    "cannot read from the terminal");
		rc = E2E_EX_IOERR;
	} else if (rc != 0) {
		report_error(rep, E2E_EX_DATAERR,
		    "the secret is longer than %zu bytes", size - 1);
	}
	if (rc != 0)
		wipe(out, size);
	return rc;
}

int
tty_read_secret(const char *prompt, char *out, size_t size,
    struct report *rep)
{
	return tty_read(prompt, 0, out, size, rep);
}

int
tty_read_line(const char *prompt, char *out, size_t size,
    struct report *rep)
{
	return tty_read(prompt, 1, out, size, rep);
}

/* What differs between the secrets asked for: a key's passphrase, an
 * account's password. */
struct secret_kind {
	const char *noun;	/* "passphrase" */
	const char *Noun;	/* "Passphrase" */
	const char *env;	/* "E2E_PASSPHRASE" */
	const char *file_opt;	/* "--passphrase-file" */
};

static int
secret_get(const struct secret_kind *k, const char *file, const char *label,
    int confirm, char *out, struct report *rep)
{
	char prompt[256], again[PASSPHRASE_MAX], what[64];
	const char *env;
	int rc;

	if (file != NULL) {
		snprintf(what, sizeof(what), "%s file", k->noun);
		if ((rc = secret_from_file(file, what, out,
		    PASSPHRASE_MAX, rep)) != 0)
			return rc;
	} else if ((env = getenv(k->env)) != NULL) {
		if (strlen(env) >= PASSPHRASE_MAX) {
			report_error(rep, E2E_EX_DATAERR,
			    "%s is longer than %d bytes", k->env,
			    PASSPHRASE_MAX - 1);
			return E2E_EX_DATAERR;
		}
		memcpy(out, env, strlen(env) + 1);
	} else {
		snprintf(prompt, sizeof(prompt), "%s for %s: ", k->Noun, label);
		rc = tty_read_secret(prompt, out, PASSPHRASE_MAX, rep);
		if (rc == E2E_EX_USAGE) {
			report_error(rep, E2E_EX_USAGE,
			    "a %s is needed for %s and there is no "
			    "terminal to ask it on", k->noun, label);
			report_hint(rep, "use %s FILE or set %s", k->file_opt,
			    k->env);
		}
		if (rc != 0)
			return rc;
		if (confirm) {
			snprintf(prompt, sizeof(prompt), "Same %s again: ",
			    k->noun);
			rc = tty_read_secret(prompt, again, sizeof(again), rep);
			if (rc == 0 && strcmp(out, again) != 0) {
				report_error(rep, E2E_EX_DATAERR,
				    "the two %ss differ", k->noun);
				rc = E2E_EX_DATAERR;
			}
			wipe(again, sizeof(again));
			if (rc != 0) {
				wipe(out, PASSPHRASE_MAX);
				return rc;
			}
		}
	}
	if (out[0] == '\0') {
		report_error(rep, E2E_EX_DATAERR, "the %s is empty", k->noun);
		return E2E_EX_DATAERR;
	}
	return 0;
}

int
passphrase_get(const struct passphrase_src *src, int confirm, char *out,
    struct report *rep)
{
	static const struct secret_kind k = { "passphrase", "Passphrase",
		"E2E_PASSPHRASE", "--passphrase-file" };

	return secret_get(&k, src->file,
	    src->label ? src->label : "the private key", confirm, out, rep);
}

int
password_get(const char *file, const char *account, int confirm, char *out,
    struct report *rep)
{
	static const struct secret_kind k = { "password", "Password",
		"E2E_PASSWORD", "--password-file" };

	return secret_get(&k, file, account, confirm, out, rep);
}

/* Line n (0 or 1) of b into out (size bytes): 0, or 65 reported. */
static int
line_of(const struct buf *b, int n, const char *file, char *out, size_t size,
    struct report *rep)
{
	const char *p = (const char *)b->p, *end = p + b->len, *nl;
	size_t len;

	for (; n > 0 && p < end; n--) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			p = end;
			break;
		}
		p = nl + 1;
	}
	nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
	len = nl ? (size_t)(nl - p) : (size_t)(end - p);
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (n > 0 || len == 0) {
		report_error(rep, E2E_EX_DATAERR,
		    "the password file %s needs the current password on "
		    "its first line and the new one on its second", file);
		return E2E_EX_DATAERR;
	}
	if (memchr(p, '\0', len) != NULL) {
		report_error(rep, E2E_EX_DATAERR,
		    "the password file %s contains a NUL byte", file);
		return E2E_EX_DATAERR;
	}
	if (len >= size) {
		report_error(rep, E2E_EX_DATAERR,
		    "a password in %s is longer than %zu bytes", file,
		    size - 1);
		return E2E_EX_DATAERR;
	}
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

int
password_change_get(const char *file, const char *account, char *cur,
    char *fresh, struct report *rep)
{
	struct buf b = BUF_SECRET_INIT;
	char prompt[256], again[PASSPHRASE_MAX];
	int rc;

	if (file != NULL) {
		if ((rc = file_read(file, 64 * 1024, "password file", &b,
		    rep)) == 0) {
			file_warn_if_exposed(file, "password file", rep);
			if ((rc = line_of(&b, 0, file, cur, PASSPHRASE_MAX,
			    rep)) == 0)
				rc = line_of(&b, 1, file, fresh,
				    PASSPHRASE_MAX, rep);
		}
		buf_free(&b);
		goto out;
	}
	snprintf(prompt, sizeof(prompt), "Current password for %s: ",
	    account);
	rc = tty_read_secret(prompt, cur, PASSPHRASE_MAX, rep);
	if (rc == E2E_EX_USAGE) {
		report_error(rep, E2E_EX_USAGE,
		    "the passwords are needed and there is no terminal "
		    "to ask them on");
		report_hint(rep,
		    "use --password-file FILE: the current password on "
		    "its first line, the new one on its second");
	}
	if (rc != 0)
		goto out;
	snprintf(prompt, sizeof(prompt), "New password for %s: ", account);
	if ((rc = tty_read_secret(prompt, fresh, PASSPHRASE_MAX, rep)) != 0 ||
	    (rc = tty_read_secret("Same new password again: ", again,
	    sizeof(again), rep)) != 0)
		goto out;
	if (strcmp(fresh, again) != 0) {
		report_error(rep, E2E_EX_DATAERR,
		    "the two new passwords differ");
		rc = E2E_EX_DATAERR;
	} else if (cur[0] == '\0' || fresh[0] == '\0') {
		report_error(rep, E2E_EX_DATAERR, "a password is empty");
		rc = E2E_EX_DATAERR;
	}
out:
	wipe(again, sizeof(again));
	if (rc != 0) {
		wipe(cur, PASSPHRASE_MAX);
		wipe(fresh, PASSPHRASE_MAX);
	}
	return rc;
}
