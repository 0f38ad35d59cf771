/*
 * Passphrases and passwords (lib/base/passphrase.c), never from argv: a
 * file's first line (a final CR or LF is not part of it; empty, a NUL
 * byte or too long refused), else the environment, else the terminal
 * without echo (asked twice when confirming), and a clear refusal when
 * there is no terminal to ask on. The terminal is a pseudo-terminal that
 * a child takes as its controlling terminal.
 */
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "base/err.h"
#include "base/passphrase.h"

static char dir[256];
static char path[512];

/* dir/name, holding len bytes of text. */
static const char *
file_with(const char *name, const char *text, size_t len)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	put_bytes(path, text, len, 0600);
	return path;
}

static void
no_env(void)
{
	unsetenv("E2E_PASSPHRASE");
	unsetenv("E2E_PASSWORD");
}

/* A file's first line, as it is taken, or refused. */
static void
first_lines(void)
{
	static const struct {
		const char *text;
		size_t len;
		int want;
		const char *secret, *says;
	} t[] = {
		{ "pw\n", 3, 0, "pw", NULL },
		{ "pw", 2, 0, "pw", NULL },
		{ "pw\r\n", 4, 0, "pw", NULL },
		{ "pw\r", 3, 0, "pw", NULL },
		{ "p\rw\n", 4, 0, "p\rw", NULL },
		{ "pw\nsecond line\n", 15, 0, "pw", NULL },
		{ " spaced pw \n", 12, 0, " spaced pw ", NULL },
		{ "pw\n\0after\n", 10, 0, "pw", NULL },
		{ "\n", 1, 0, "", NULL },
		{ "\r\n", 2, 0, "", NULL },
		{ "", 0, 0, "", NULL },
		{ "p\0w\n", 4, 65, NULL, "contains a NUL byte" },
		{ "\0\n", 2, 65, NULL, "contains a NUL byte" },
	};
	char out[PASSPHRASE_MAX];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		file_with("pw", t[i].text, t[i].len);
		memset(out, 'x', sizeof(out));
		capture_begin();
		rc = secret_from_file(path, "passphrase file", out,
		    sizeof(out), &t_rep);
		rep_shown();
		capture_end();
		CHECKF(rc == t[i].want, "case %zu: %d %s", i, rc, cap_text);
		if (t[i].secret != NULL)
			CHECKF(rc == 0 && strcmp(out, t[i].secret) == 0 &&
			    cap_len == 0, "case %zu: \"%s\" %s", i, out,
			    cap_text);
		else
			CHECKF(strstr(cap_text, t[i].says) &&
			    strstr(cap_text, "error: passphrase file "),
			    "case %zu: %s", i, cap_text);
	}
}

/* The size given, less the NUL: at it, accepted; over it, refused; a
 * file over 64 KiB refused before its first line is looked at. */
static void
lengths(void)
{
	char text[70000], out[16];
	int rc;

	memset(text, 'a', sizeof(text));
	text[15] = '\n';
	file_with("pw", text, 16);
	capture_begin();
	rc = secret_from_file(path, "password file", out, sizeof(out), &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 0 && strlen(out) == 15);
	file_with("pw", text, 15);
	CHECK(secret_from_file(path, "password file", out, sizeof(out),
	    NULL) == 0);
	text[15] = 'a';
	text[16] = '\n';
	file_with("pw", text, 17);
	capture_begin();
	rc = secret_from_file(path, "password file", out, sizeof(out), &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65);
	CHECKF(strstr(cap_text, "error: password file in ") &&
	    strstr(cap_text, "is longer than 15 bytes"), "%s", cap_text);
	/* Even when the line ends with CR LF. */
	text[15] = '\r';
	text[16] = '\n';
	file_with("pw", text, 17);
	capture_begin();
	rc = secret_from_file(path, "password file", out, sizeof(out), &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 0 && strlen(out) == 15);
	text[16] = '\n';
	file_with("pw", text, 64 * 1024 + 1);
	capture_begin();
	rc = secret_from_file(path, "password file", out, sizeof(out), &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65 && strstr(cap_text, "larger than the limit"));
	snprintf(path, sizeof(path), "%s/missing", dir);
	capture_begin();
	rc = secret_from_file(path, "password file", out, sizeof(out), &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 66 && strstr(cap_text, "cannot open password file"));
	capture_begin();
	rc = secret_from_file(dir, "password file", out, sizeof(out), &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 66 && strstr(cap_text, "is a directory"));
}

/* A file readable by others works, with a warning. */
static void
exposed_file(void)
{
	char out[PASSPHRASE_MAX];

	file_with("pw", "pw\n", 3);
	chmod(path, 0644);
	capture_begin();
	CHECK(secret_from_file(path, "passphrase file", out, sizeof(out),
	    &t_rep) ==
	    0 && strcmp(out, "pw") == 0);
	rep_shown();
	capture_end();
	CHECKF(strstr(cap_text, "warning: passphrase file ") &&
	    strstr(cap_text, "can be read by group or others"), "%s",
	    cap_text);
}

/* "-": the first line of standard input. */
static void
from_stdin(void)
{
	char out[PASSPHRASE_MAX];
	int fd, saved = dup(STDIN_FILENO), rc;

	file_with("pw", "from stdin\nmore\n", 16);
	fd = open(path, O_RDONLY);
	dup2(fd, STDIN_FILENO);
	close(fd);
	capture_begin();
	rc = secret_from_file("-", "password file", out, sizeof(out), &t_rep);
	rep_shown();
	capture_end();
	dup2(saved, STDIN_FILENO);
	close(saved);
	CHECK(rc == 0 && strcmp(out, "from stdin") == 0 && cap_len == 0);
}

/* The sources in order: the file, else the environment; an empty
 * secret is refused from either. */
static void
sources(void)
{
	struct passphrase_src ps = { NULL, "alice's key" };
	char out[PASSPHRASE_MAX], big[PASSPHRASE_MAX + 1];
	int rc;

	no_env();
	setenv("E2E_PASSPHRASE", "from the environment", 1);
	CHECK(passphrase_get(&ps, 0, out, NULL) == 0 &&
	    strcmp(out, "from the environment") == 0);
	/* Confirming asks nothing more of the environment. */
	CHECK(passphrase_get(&ps, 1, out, NULL) == 0 &&
	    strcmp(out, "from the environment") == 0);
	ps.file = file_with("pw", "from the file\n", 14);
	CHECK(passphrase_get(&ps, 1, out, NULL) == 0 &&
	    strcmp(out, "from the file") == 0);
	ps.file = file_with("pw", "\nsecond\n", 8);
	capture_begin();
	rc = passphrase_get(&ps, 0, out, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65 && strcmp(cap_text, "test_passphrase: error: the "
	    "passphrase is empty\n") == 0);
	ps.file = file_with("pw", "a\0b", 3);
	capture_begin();
	rc = passphrase_get(&ps, 0, out, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65 && strstr(cap_text, "passphrase file ") &&
	    strstr(cap_text, "contains a NUL byte"));
	snprintf(path, sizeof(path), "%s/missing", dir);
	ps.file = path;
	capture_begin();
	rc = passphrase_get(&ps, 0, out, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 66);
	ps.file = NULL;
	setenv("E2E_PASSPHRASE", "", 1);
	capture_begin();
	rc = passphrase_get(&ps, 0, out, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65 && strstr(cap_text, "the passphrase is empty"));
	/* The environment's limit: 1023 bytes, as the buffer's. */
	memset(big, 'e', sizeof(big));
	big[PASSPHRASE_MAX - 1] = '\0';
	setenv("E2E_PASSPHRASE", big, 1);
	CHECK(passphrase_get(&ps, 0, out, NULL) == 0 &&
	    strlen(out) == PASSPHRASE_MAX - 1);
	big[PASSPHRASE_MAX - 1] = 'e';
	big[PASSPHRASE_MAX] = '\0';
	setenv("E2E_PASSPHRASE", big, 1);
	capture_begin();
	rc = passphrase_get(&ps, 0, out, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65 && strcmp(cap_text, "test_passphrase: error: "
	    "E2E_PASSPHRASE is longer than 1023 bytes\n") == 0);

	/* A password: its own variable, the same rules. */
	no_env();
	setenv("E2E_PASSPHRASE", "not this one", 1);
	setenv("E2E_PASSWORD", "the password", 1);
	CHECK(password_get(NULL, "alice", 0, out, NULL) == 0 &&
	    strcmp(out, "the password") == 0);
	CHECK(password_get(file_with("pw", "pw file\n", 8), "alice", 1,
	    out, NULL) == 0 && strcmp(out, "pw file") == 0);
	setenv("E2E_PASSWORD", "", 1);
	capture_begin();
	rc = password_get(NULL, "alice", 0, out, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65 && strstr(cap_text, "the password is empty"));
	no_env();
}

/* The current and the new password from one file: two lines. */
static void
change_file(void)
{
	static const struct {
		const char *text;
		size_t len;
		int want;
		const char *cur, *fresh;
	} t[] = {
		{ "old pw\nnew pw\n", 14, 0, "old pw", "new pw" },
		{ "old pw\nnew pw", 13, 0, "old pw", "new pw" },
		{ "old pw\r\nnew pw\r\n", 16, 0, "old pw", "new pw" },
		{ "old\nnew\nthird\n", 14, 0, "old", "new" },
		{ "old pw\n", 7, 65, NULL, NULL },
		{ "old pw", 6, 65, NULL, NULL },
		{ "\nnew pw\n", 8, 65, NULL, NULL },
		{ "old pw\n\n", 8, 65, NULL, NULL },
		{ "", 0, 65, NULL, NULL },
		{ "o\0ld\nnew\n", 9, 65, NULL, NULL },
		{ "old\nn\0ew\n", 9, 65, NULL, NULL },
	};
	char cur[PASSPHRASE_MAX], fresh[PASSPHRASE_MAX];
	char *longline;
	size_t i;
	int rc;

	setenv("E2E_PASSWORD", "never used here", 1);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		file_with("pw2", t[i].text, t[i].len);
		memset(cur, 'x', sizeof(cur));
		memset(fresh, 'x', sizeof(fresh));
		capture_begin();
		rc = password_change_get(path, "alice", cur, fresh, &t_rep);
		rep_shown();
		capture_end();
		CHECKF(rc == t[i].want, "case %zu: %d %s", i, rc, cap_text);
		if (t[i].want == 0) {
			CHECKF(strcmp(cur, t[i].cur) == 0 &&
			    strcmp(fresh, t[i].fresh) == 0, "case %zu: %s / %s",
			    i, cur, fresh);
			continue;
		}
		CHECKF(strstr(cap_text, "needs the current password on its "
		    "first line") || strstr(cap_text, "contains a NUL byte"),
		    "case %zu: %s", i, cap_text);
		/* Nothing of either is left on failure. */
		CHECKF(cur[0] == '\0' && fresh[0] == '\0' &&
		    memcmp(cur, cur + 1, sizeof(cur) - 1) == 0, "case %zu", i);
	}
	if ((longline = malloc(PASSPHRASE_MAX + 8)) == NULL)
		exit(2);
	memset(longline, 'l', PASSPHRASE_MAX + 8);
	memcpy(longline, "old\n", 4);
	file_with("pw2", longline, PASSPHRASE_MAX + 8);
	capture_begin();
	rc = password_change_get(path, "alice", cur, fresh, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65 && strstr(cap_text, "is longer than 1023 bytes"));
	free(longline);
	snprintf(path, sizeof(path), "%s/missing", dir);
	capture_begin();
	rc = password_change_get(path, "alice", cur, fresh, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 66);
	no_env();
}

/* ---- the terminal ---- */

enum what { PASS, PASS_CONFIRM, PASSWORD_CONFIRM, CHANGE, LINE, SECRET };

struct tty_result {
	int rc;
	char out[PASSPHRASE_MAX];
	char out2[PASSPHRASE_MAX];
	char err[4096];
};

static int
call(enum what w, struct tty_result *r)
{
	struct passphrase_src ps = { NULL, "alice's key" };

	switch (w) {
	case PASS:
		return passphrase_get(&ps, 0, r->out, &t_rep);
	case PASS_CONFIRM:
		return passphrase_get(&ps, 1, r->out, &t_rep);
	case PASSWORD_CONFIRM:
		return password_get(NULL, "alice", 1, r->out, &t_rep);
	case CHANGE:
		return password_change_get(NULL, "alice", r->out, r->out2,
		    &t_rep);
	case LINE:
		return tty_read_line("Answer: ", r->out, 8, &t_rep);
	case SECRET:
		return tty_read_secret("Secret: ", r->out, 8, &t_rep);
	}
	return -1;
}

/*
 * Runs w in a child whose controlling terminal is a new pseudo-terminal,
 * typing each line of answers (NULL-terminated) when the terminal shows a
 * prompt (text ending in ": "); what the terminal showed goes to shown.
 * Without a terminal at all (notty), the child has none. Returns 0, or
 * -1 when no pseudo-terminal can be had.
 */
static int
on_tty(enum what w, const char *const *answers, int notty,
    struct tty_result *r, char *shown, size_t shown_size)
{
	struct pollfd pfd;
	size_t seen = 0, given = 0;
	char *name;
	time_t deadline = time(NULL) + 25;
	int master = -1, res[2], st, done = 0;
	ssize_t n;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	shown[0] = '\0';
	if (!notty && ((master = posix_openpt(O_RDWR | O_NOCTTY)) < 0 ||
	    grantpt(master) != 0 || unlockpt(master) != 0 ||
	    (name = ptsname(master)) == NULL)) {
		if (master >= 0)
			close(master);
		return -1;
	}
	if (pipe(res) != 0)
		exit(2);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		int fd;

		/* A child left waiting for an answer dies, and the parent
		 * reads no result: a failure, not a hang. */
		alarm(20);
		close(res[0]);
		if (setsid() < 0)
			_exit(2);
		/* The terminal stays open until the child exits, so that
		 * the parent sees its end only then. */
		if (!notty) {
			close(master);
			if ((fd = open(name, O_RDWR)) < 0 ||
			    ioctl(fd, TIOCSCTTY, 0) != 0)
				_exit(2);
		}
		capture_begin();
		r->rc = call(w, r);
		rep_shown();
		capture_end();
		snprintf(r->err, sizeof(r->err), "%s", cap_text);
		if (write(res[1], r, sizeof(*r)) != (ssize_t)sizeof(*r))
			_exit(2);
		_exit(0);
	}
	close(res[1]);
	while (!notty && !done && time(NULL) < deadline) {
		pfd.fd = master;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		n = read(master, shown + seen, shown_size - 1 - seen);
		if (n <= 0) {
			/* No terminal open at the other end: not yet, or
			 * no more (the child exited). */
			done = waitpid(pid, &st, WNOHANG) == pid;
			if (!done)
				usleep(10000);
			continue;
		}
		seen += (size_t)n;
		shown[seen] = '\0';
		if (seen >= 2 && strcmp(shown + seen - 2, ": ") == 0 &&
		    answers[given] != NULL) {
			/* Typed after the prompt: echo is off by then. */
			if (write(master, answers[given],
			    strlen(answers[given])) < 0 ||
			    write(master, "\n", 1) != 1)
				break;
			given++;
		}
	}
	if (read(res[0], r, sizeof(*r)) != (ssize_t)sizeof(*r))
		r->rc = -1;
	close(res[0]);
	if (!done)
		waitpid(pid, &st, 0);
	if (master >= 0)
		close(master);
	return 0;
}

static void
terminal(void)
{
	static const char *const good[] = { "typed pw", "typed pw", NULL };
	static const char *const differ[] = { "typed pw", "other pw", NULL };
	static const char *const empty[] = { "", NULL };
	static const char *const one[] = { "typed pw", NULL };
	static const char *const change[] = { "old pw", "new pw", "new pw",
		NULL };
	static const char *const change_differ[] = { "old pw", "new pw",
		"new pW", NULL };
	static const char *const change_empty[] = { "", "new pw", "new pw",
		NULL };
	static const char *const short_line[] = { "1234567", NULL };
	static const char *const long_line[] = { "12345678", NULL };
	struct tty_result r;
	char shown[4096];

	no_env();
	if (on_tty(PASS, one, 0, &r, shown, sizeof(shown)) != 0) {
		harness_skip("no pseudo-terminal");
		return;
	}
	CHECKF(r.rc == 0 && strcmp(r.out, "typed pw") == 0, "%d %s", r.rc,
	    r.err);
	CHECKF(strstr(shown, "Passphrase for alice's key: ") != NULL, "%s",
	    shown);
	/* Never echoed. */
	CHECKF(strstr(shown, "typed") == NULL, "echoed: %s", shown);

	on_tty(PASS_CONFIRM, good, 0, &r, shown, sizeof(shown));
	CHECK(r.rc == 0 && strcmp(r.out, "typed pw") == 0);
	CHECKF(strstr(shown, "Same passphrase again: ") != NULL, "%s",
	    shown);
	CHECK(strstr(shown, "typed") == NULL);
	on_tty(PASS_CONFIRM, differ, 0, &r, shown, sizeof(shown));
	CHECKF(r.rc == 65 && strstr(r.err, "the two passphrases differ"),
	    "%d %s", r.rc, r.err);
	CHECK(r.out[0] == '\0');
	on_tty(PASS, empty, 0, &r, shown, sizeof(shown));
	CHECK(r.rc == 65 && strstr(r.err, "the passphrase is empty"));

	on_tty(PASSWORD_CONFIRM, good, 0, &r, shown, sizeof(shown));
	CHECK(r.rc == 0 && strcmp(r.out, "typed pw") == 0);
	CHECKF(strstr(shown, "Password for alice: ") &&
	    strstr(shown, "Same password again: "), "%s", shown);
	on_tty(PASSWORD_CONFIRM, differ, 0, &r, shown, sizeof(shown));
	CHECK(r.rc == 65 && strstr(r.err, "the two passwords differ"));

	on_tty(CHANGE, change, 0, &r, shown, sizeof(shown));
	CHECKF(r.rc == 0 && strcmp(r.out, "old pw") == 0 &&
	    strcmp(r.out2, "new pw") == 0, "%d %s", r.rc, r.err);
	CHECKF(strstr(shown, "Current password for alice: ") &&
	    strstr(shown, "New password for alice: ") &&
	    strstr(shown, "Same new password again: "), "%s", shown);
	CHECK(strstr(shown, " pw") == NULL);
	on_tty(CHANGE, change_differ, 0, &r, shown, sizeof(shown));
	CHECK(r.rc == 65 && strstr(r.err, "the two new passwords differ") &&
	    r.out[0] == '\0' && r.out2[0] == '\0');
	on_tty(CHANGE, change_empty, 0, &r, shown, sizeof(shown));
	CHECK(r.rc == 65 && strstr(r.err, "a password is empty"));

	/* The size given, less the NUL; over it refused, and wiped. */
	on_tty(SECRET, short_line, 0, &r, shown, sizeof(shown));
	CHECK(r.rc == 0 && strcmp(r.out, "1234567") == 0);
	on_tty(SECRET, long_line, 0, &r, shown, sizeof(shown));
	CHECKF(r.rc == 65 && strstr(r.err, "the secret is longer than 7 "
	    "bytes") && r.out[0] == '\0', "%d %s", r.rc, r.err);
	/* An answer that is not secret is echoed. */
	on_tty(LINE, short_line, 0, &r, shown, sizeof(shown));
	CHECK(r.rc == 0 && strcmp(r.out, "1234567") == 0);
	CHECKF(strstr(shown, "Answer: 1234567") != NULL, "%s", shown);
}

/* No controlling terminal (cron, a pipe, an agent): 64, saying which
 * options give the secret instead. */
static void
no_terminal(void)
{
	static const char *const none[] = { NULL };
	struct tty_result r;
	char shown[16];

	no_env();
	on_tty(PASS, none, 1, &r, shown, sizeof(shown));
	CHECK(r.rc == 64);
	CHECKF(strcmp(r.err, "test_passphrase: error: a passphrase is needed "
	    "for alice's key and there is no terminal to ask it on\n"
	    "test_passphrase: hint: use --passphrase-file FILE or set "
	    "E2E_PASSPHRASE\n") == 0, "%s", r.err);
	on_tty(PASSWORD_CONFIRM, none, 1, &r, shown, sizeof(shown));
	CHECK(r.rc == 64);
	CHECKF(strstr(r.err, "a password is needed for alice and there is no "
	    "terminal") && strstr(r.err, "hint: use --password-file FILE "
	    "or set E2E_PASSWORD"), "%s", r.err);
	on_tty(CHANGE, none, 1, &r, shown, sizeof(shown));
	CHECK(r.rc == 64);
	CHECKF(strstr(r.err, "the passwords are needed and there is no "
	    "terminal to ask them on") && strstr(r.err, "hint: use "
	    "--password-file FILE: the current password on its first line"),
	    "%s", r.err);
	on_tty(SECRET, none, 1, &r, shown, sizeof(shown));
	CHECK(r.rc == 64);
}

int
main(void)
{
	err_setprog("test_passphrase");
	harness_tmpdir("passphrase", dir, sizeof(dir));
	RUN(first_lines);
	RUN(lengths);
	RUN(exposed_file);
	RUN(from_stdin);
	RUN(sources);
	RUN(change_file);
	RUN(terminal);
	RUN(no_terminal);
	harness_rmtree(dir);
	return harness_end();
}
