/*
 * The private files of the client's home and their locks (lib/base/fileio.h):
 * file_read_private under each caller's policy (a symbolic link, a FIFO
 * or a folder, another user's file, one others may read or change, one
 * too large: refused; an absent one: said so; a file swapped between
 * the open and the checks: the checks and the read are of the file
 * opened), file_read_private_report (each result said, in the caller's
 * words where they are its), and file_lock (two processes, a holder
 * killed with -9, many processes counting under it, a lock file that is
 * a link).
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"

static char home[64], path[128], other[128], lock_path[128];
static char why[512];

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

/* Writes text at p with mode (exactly: chmod after the umask). */
static void
put(const char *p, const char *text, mode_t mode)
{
	size_t n = strlen(text);
	int fd;

	unlink(p);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    write(fd, text, n) != (ssize_t)n || close(fd) != 0 ||
	    chmod(p, mode) != 0)
		die(p);
}

/* Writes n bytes of 'x' at p, mode 0600. */
static void
put_n(const char *p, size_t n)
{
	char *text = malloc(n + 1);

	if (text == NULL)
		die("malloc");
	memset(text, 'x', n);
	text[n] = '\0';
	put(p, text, 0600);
	free(text);
}

static void
fresh(void)
{
	unlink(path);
	unlink(other);
	unlink(lock_path);
	rmdir(path);
}

/* The descriptors this process has open: none may leak. */
static int
open_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 256; fd++)
		n += fcntl(fd, F_GETFD) != -1;
	return n;
}

/* Reads path under pol into b, which starts full of other bytes so that
 * a refusal can be seen to empty it. */
static enum file_status
rd(const struct file_policy *pol, struct buf *b)
{
	buf_clear(b);
	if (buf_append_str(b, "stale bytes") != 0)
		die("buf");
	return file_read_private(path, pol, b);
}

/* ---- file_read_private ---- */

/* The policies are the ones fileio.h lists. */
static void
policies_as_documented(void)
{
	CHECK(file_policy_config.forbid == 022 &&
	    file_policy_config.flags == (FILE_ROOT_MAY_OWN | FILE_FOLLOW) &&
	    file_policy_config.max == 65535);
	CHECK(file_policy_session.forbid == 077 &&
	    file_policy_session.flags == 0 &&
	    file_policy_session.max == 65536);
	CHECK(file_policy_keyring.forbid == 022 &&
	    file_policy_keyring.flags == 0 &&
	    file_policy_keyring.max == (size_t)16 << 20);
}

static void
reads_whole(void)
{
	struct buf b = BUF_SECRET_INIT;

	fresh();
	put(path, "{\"token\":\"t\"}\n", 0600);
	CHECK(rd(&file_policy_session, &b) == FILE_OK);
	CHECK(b.len == 14 && memcmp(b.p, "{\"token\":\"t\"}\n", 14) == 0);
	CHECK(b.p[b.len] == '\0');
	/* The buffer stays the caller's kind: a secret one is wiped. */
	CHECK(b.secret == 1);
	/* Empty: read, with a buffer to point at. */
	put(path, "", 0600);
	CHECK(rd(&file_policy_keyring, &b) == FILE_OK);
	CHECK(b.len == 0 && b.p != NULL && b.p[0] == '\0');
	buf_free(&b);
}

static void
absent(void)
{
	struct buf b = BUF_INIT;

	fresh();
	CHECK(rd(&file_policy_session, &b) == FILE_ABSENT && b.len == 0);
	CHECK(rd(&file_policy_config, &b) == FILE_ABSENT && b.len == 0);
	/* A link to nothing: refused where links are, absent where they
	 * are followed. */
	CHECK(symlink(other, path) == 0);
	CHECK(rd(&file_policy_session, &b) == FILE_SYMLINK && b.len == 0);
	CHECK(rd(&file_policy_config, &b) == FILE_ABSENT && b.len == 0);
	buf_free(&b);
}

/* C2: a link, even to a good file of ours, is refused; the config
 * follows one and checks the file reached. */
static void
symlink_policy(void)
{
	struct buf b = BUF_INIT;

	fresh();
	put(other, "good\n", 0600);
	CHECK(symlink(other, path) == 0);
	errno = 0;
	CHECK(rd(&file_policy_session, &b) == FILE_SYMLINK && b.len == 0);
	CHECK(errno == ELOOP);
	CHECK(rd(&file_policy_keyring, &b) == FILE_SYMLINK && b.len == 0);
	CHECK(rd(&file_policy_config, &b) == FILE_OK && b.len == 5 &&
	    memcmp(b.p, "good\n", 5) == 0);
	CHECK(chmod(other, 0620) == 0);
	CHECK(rd(&file_policy_config, &b) == FILE_EXPOSED && b.len == 0);
	buf_free(&b);
}

/* Each policy's mode bits, on the file itself. */
static void
modes(void)
{
	static const struct {
		const struct file_policy *pol;
		mode_t mode;
		enum file_status want;
	} t[] = {
		{ &file_policy_session, 0600, FILE_OK },
		{ &file_policy_session, 0400, FILE_OK },
		{ &file_policy_session, 0700, FILE_OK },
		{ &file_policy_session, 0640, FILE_EXPOSED },
		{ &file_policy_session, 0604, FILE_EXPOSED },
		{ &file_policy_session, 0610, FILE_EXPOSED },
		{ &file_policy_session, 0601, FILE_EXPOSED },
		{ &file_policy_session, 0620, FILE_EXPOSED },
		{ &file_policy_session, 0666, FILE_EXPOSED },
		{ &file_policy_keyring, 0600, FILE_OK },
		{ &file_policy_keyring, 0644, FILE_OK },
		{ &file_policy_keyring, 0755, FILE_OK },
		{ &file_policy_keyring, 0620, FILE_EXPOSED },
		{ &file_policy_keyring, 0602, FILE_EXPOSED },
		{ &file_policy_keyring, 0666, FILE_EXPOSED },
		{ &file_policy_config, 0644, FILE_OK },
		{ &file_policy_config, 0400, FILE_OK },
		{ &file_policy_config, 0660, FILE_EXPOSED },
		{ &file_policy_config, 0622, FILE_EXPOSED },
	};
	struct buf b = BUF_INIT;
	enum file_status st;
	size_t i;

	fresh();
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		put(path, "x", t[i].mode);
		st = rd(t[i].pol, &b);
		CHECKF(st == t[i].want && b.len == (st == FILE_OK ? 1u : 0u),
		    "case %zu: mode %o: status %d", i, t[i].mode, st);
	}
	buf_free(&b);
}

/* Owned by another user: root's file as a user (the config may be
 * root's, the session and the keyring may not); as root, a file given
 * away. */
static void
owner(void)
{
	struct buf b = BUF_INIT;
	struct stat st;

	fresh();
	if (geteuid() != 0) {
		/* /etc/passwd: root's, 0644, small, on any Linux. */
		if (stat("/etc/passwd", &st) != 0 || st.st_uid != 0 ||
		    (st.st_mode & 022) != 0 || st.st_size > 65535) {
			harness_skip("no small root-owned /etc/passwd");
			return;
		}
		CHECK(symlink("/etc/passwd", path) == 0);
		CHECK(rd(&file_policy_config, &b) == FILE_OK &&
		    b.len == (size_t)st.st_size);
		unlink(path);
		CHECK(file_read_private("/etc/passwd", &file_policy_session,
		    &b) == FILE_NOT_OWNER && b.len == 0);
		CHECK(file_read_private("/etc/passwd", &file_policy_keyring,
		    &b) == FILE_NOT_OWNER && b.len == 0);
	} else {
		put(path, "x", 0600);
		CHECK(chown(path, 12345, (gid_t)-1) == 0);
		CHECK(rd(&file_policy_session, &b) == FILE_NOT_OWNER);
		CHECK(rd(&file_policy_keyring, &b) == FILE_NOT_OWNER);
		CHECK(rd(&file_policy_config, &b) == FILE_NOT_OWNER);
	}
	buf_free(&b);
}

/* A FIFO is refused, not waited on (a cron job must not hang): in a
 * child, with an alarm. A folder and a device are refused. */
static void
not_regular(void)
{
	struct buf b = BUF_INIT;
	pid_t pid;
	int st = -1;

	fresh();
	CHECK(mkfifo(path, 0600) == 0);
	if ((pid = fork()) == 0) {
		alarm(5);
		_exit(rd(&file_policy_session, &b) == FILE_NOT_REGULAR ? 0 :
		    1);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a FIFO: %s %d",
	    WIFSIGNALED(st) ? "hung, killed by signal" : "exit",
	    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	unlink(path);
	CHECK(mkdir(path, 0700) == 0);
	CHECK(rd(&file_policy_keyring, &b) == FILE_NOT_REGULAR && b.len == 0);
	rmdir(path);
	/* A device, reached through a link the config follows. */
	CHECK(symlink("/dev/null", path) == 0);
	CHECK(rd(&file_policy_config, &b) == FILE_NOT_REGULAR && b.len == 0);
	buf_free(&b);
}

/* The cap: max bytes are read, one more is refused. */
static void
size_cap(void)
{
	struct file_policy small = { 077, 0, 100 };
	struct buf b = BUF_INIT;

	fresh();
	put_n(path, 100);
	CHECK(rd(&small, &b) == FILE_OK && b.len == 100);
	put_n(path, 101);
	CHECK(rd(&small, &b) == FILE_TOO_LARGE && b.len == 0);
	/* The named policies' caps, at their edges. */
	put_n(path, 65535);
	CHECK(rd(&file_policy_config, &b) == FILE_OK && b.len == 65535);
	put_n(path, 65536);
	CHECK(rd(&file_policy_config, &b) == FILE_TOO_LARGE);
	CHECK(rd(&file_policy_session, &b) == FILE_OK && b.len == 65536);
	put_n(path, 65537);
	CHECK(rd(&file_policy_session, &b) == FILE_TOO_LARGE);
	buf_free(&b);
}

/* errno says why a file could not be opened. */
static void
cannot_open(void)
{
	struct buf b = BUF_INIT;
	char below[160];

	fresh();
	put(other, "x", 0600);
	snprintf(below, sizeof(below), "%s/x", other);
	errno = 0;
	CHECK(file_read_private(below, &file_policy_session, &b) ==
	    FILE_CANNOT_OPEN && errno == ENOTDIR);
	if (geteuid() != 0) {
		put(path, "x", 0000);
		errno = 0;
		CHECK(rd(&file_policy_session, &b) == FILE_CANNOT_OPEN &&
		    errno == EACCES && b.len == 0);
	}
	buf_free(&b);
}

/* What the hook does between the open and the checks. */
static enum { SWAP_NONE, SWAP_BAD_IN, SWAP_GOOD_IN, SWAP_LINK_IN,
	SWAP_GROW } swap;

static void
swap_file(const char *p)
{
	int fd;

	switch (swap) {
	case SWAP_BAD_IN:
		/* Another user's idea of the file, readable by all. */
		put(other, "evil\n", 0666);
		if (rename(other, p) != 0)
			die("rename");
		break;
	case SWAP_GOOD_IN:
		put(other, "good\n", 0600);
		if (rename(other, p) != 0)
			die("rename");
		break;
	case SWAP_LINK_IN:
		put(other, "elsewhere\n", 0600);
		if (unlink(p) != 0 || symlink(other, p) != 0)
			die("symlink");
		break;
	case SWAP_GROW:
		/* Grows past the cap after its size was checked. */
		if ((fd = open(p, O_WRONLY | O_APPEND)) < 0 ||
		    write(fd, "0123456789", 10) != 10 || close(fd) != 0)
			die(p);
		break;
	default:
		break;
	}
}

/* A file replaced after the open cannot be the one checked or read: the
 * checks and the read are both on the descriptor opened. */
static void
swapped_after_open(void)
{
	struct file_policy small = { 077, 0, 100 };
	struct buf b = BUF_INIT;

	fresh();
	fileio_test_set_after_open(swap_file);
	/* Opened good, replaced by a bad one: the good one is read. */
	put(path, "mine\n", 0600);
	swap = SWAP_BAD_IN;
	CHECK(rd(&file_policy_session, &b) == FILE_OK && b.len == 5 &&
	    memcmp(b.p, "mine\n", 5) == 0);
	/* Opened bad, replaced by a good one: still refused. */
	put(path, "exposed\n", 0644);
	swap = SWAP_GOOD_IN;
	CHECK(rd(&file_policy_session, &b) == FILE_EXPOSED && b.len == 0);
	/* Opened good, replaced by a link: the file opened is read. */
	put(path, "mine\n", 0600);
	swap = SWAP_LINK_IN;
	CHECK(rd(&file_policy_session, &b) == FILE_OK && b.len == 5 &&
	    memcmp(b.p, "mine\n", 5) == 0);
	unlink(path);
	/* Within the cap when checked, past it when read: cut, refused. */
	put_n(path, 95);
	swap = SWAP_GROW;
	CHECK(rd(&small, &b) == FILE_TOO_LARGE && b.len == 0);
	fileio_test_set_after_open(NULL);
	swap = SWAP_NONE;
	buf_free(&b);
}

/* No descriptor is left open, whatever the outcome. */
static void
no_descriptor_leaked(void)
{
	struct buf b = BUF_INIT;
	int before = open_fds(), fd;

	fresh();
	put(path, "x", 0600);
	CHECK(rd(&file_policy_session, &b) == FILE_OK);
	put(path, "x", 0644);
	CHECK(rd(&file_policy_session, &b) == FILE_EXPOSED);
	put_n(path, 65536);
	CHECK(rd(&file_policy_config, &b) == FILE_TOO_LARGE);
	unlink(path);
	CHECK(mkdir(path, 0700) == 0);
	CHECK(rd(&file_policy_session, &b) == FILE_NOT_REGULAR);
	rmdir(path);
	CHECK(file_lock(lock_path, FILE_LOCK_WAIT, &fd) == FILE_OK);
	file_unlock(&fd);
	CHECK(fd == -1);
	CHECKF(open_fds() == before, "%d descriptors open, %d before",
	    open_fds(), before);
	buf_free(&b);
}

/* ---- file_lock ---- */

/* Waits up to ms milliseconds for one byte on fd; 1 when it came. */
static int
wait_byte(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c;

	return poll(&p, 1, ms) == 1 && read(fd, &c, 1) == 1;
}

/* The holder says it has the lock on tell and lets go when it reads a
 * byte on hold; a waiter says it got the lock on got. */
static int tell[2], hold[2], got[2];

static void
open_pipes(void)
{
	if (pipe(tell) != 0 || pipe(hold) != 0 || pipe(got) != 0)
		die("pipe");
}

static void
close_pipes(void)
{
	int *v[] = { tell, hold, got };
	size_t i;

	for (i = 0; i < 3; i++) {
		close(v[i][0]);
		close(v[i][1]);
	}
}

/*
 * A child that takes the lock (waiting), says so on tell, then holds it
 * until it reads a byte on hold (or is killed). Returns its pid.
 */
static pid_t
holder(void)
{
	pid_t pid = fork();
	int fd;
	char c;

	if (pid != 0)
		return pid;
	alarm(30);
	if (file_lock(lock_path, FILE_LOCK_WAIT, &fd) != FILE_OK)
		_exit(1);
	if (write(tell[1], "L", 1) != 1 || read(hold[0], &c, 1) < 0)
		_exit(1);
	file_unlock(&fd);
	_exit(0);
}

static void
lock_basics(void)
{
	struct stat st;
	int fd = -1, fd2 = 123;

	fresh();
	CHECK(file_lock(lock_path, FILE_LOCK_TRY, &fd) == FILE_OK && fd >= 0);
	/* Created 0600, not leaked to programs this one runs. */
	CHECK(stat(lock_path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 07777) == 0600);
	CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	/* flock belongs to the open file: a second open in the same
	 * process is kept out as another process would be. */
	errno = 0;
	CHECK(file_lock(lock_path, FILE_LOCK_TRY, &fd2) == FILE_BUSY &&
	    fd2 == -1 && errno == EWOULDBLOCK);
	file_unlock(&fd);
	CHECK(fd == -1);
	file_unlock(&fd);	/* again: nothing */
	/* The lock file stays: removing it would let two hold "the" lock. */
	CHECK(access(lock_path, F_OK) == 0);
	CHECK(file_lock(lock_path, FILE_LOCK_TRY, &fd2) == FILE_OK);
	file_unlock(&fd2);
}

/* Two processes: the second is kept out (TRY) or waits (WAIT) until the
 * first lets go, and gets it then. */
static void
two_processes(void)
{
	int fd = -1, st;
	pid_t h, w;

	fresh();
	open_pipes();
	h = holder();
	CHECK(wait_byte(tell[0], 10000));
	CHECK(file_lock(lock_path, FILE_LOCK_TRY, &fd) == FILE_BUSY &&
	    fd == -1);
	if ((w = fork()) == 0) {
		alarm(30);
		if (file_lock(lock_path, FILE_LOCK_WAIT, &fd) != FILE_OK ||
		    write(got[1], "G", 1) != 1)
			_exit(1);
		file_unlock(&fd);
		_exit(0);
	}
	/* Still waiting while the first holds it (a wrong "got" would
	 * show here; a slow machine only makes this weaker, never
	 * wrong). */
	CHECK(!wait_byte(got[0], 300));
	CHECK(write(hold[1], "R", 1) == 1);
	CHECK(wait_byte(got[0], 10000));
	CHECK(waitpid(h, &st, 0) == h && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0);
	CHECK(waitpid(w, &st, 0) == w && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0);
	CHECK(file_lock(lock_path, FILE_LOCK_TRY, &fd) == FILE_OK);
	file_unlock(&fd);
	close_pipes();
}

/* A holder killed with -9 leaves its lock file but no lock: the next
 * one takes it at once, with nothing to clean up. */
static void
holder_killed(void)
{
	int fd = -1, st;
	pid_t h;

	fresh();
	open_pipes();
	h = holder();
	CHECK(wait_byte(tell[0], 10000));
	CHECK(file_lock(lock_path, FILE_LOCK_TRY, &fd) == FILE_BUSY);
	CHECK(kill(h, SIGKILL) == 0);
	CHECK(waitpid(h, &st, 0) == h && WIFSIGNALED(st) &&
	    WTERMSIG(st) == SIGKILL);
	CHECK(access(lock_path, F_OK) == 0);
	CHECK(file_lock(lock_path, FILE_LOCK_TRY, &fd) == FILE_OK);
	file_unlock(&fd);
	close_pipes();
}

/* Contention: processes that read, add one and write back a counter,
 * each under the lock, lose no update. */
#define WORKERS 4
#define ROUNDS 150
static void
counting_under_the_lock(void)
{
	char text[32];
	pid_t pid[WORKERS];
	int i, k, fd, cfd, ok = 1, st;
	long v;
	ssize_t n;

	fresh();
	put(other, "0", 0600);
	for (i = 0; i < WORKERS; i++) {
		if ((pid[i] = fork()) != 0)
			continue;
		alarm(60);
		for (k = 0; k < ROUNDS; k++) {
			if (file_lock(lock_path, FILE_LOCK_WAIT, &fd) !=
			    FILE_OK || (cfd = open(other, O_RDWR)) < 0 ||
			    (n = pread(cfd, text, sizeof(text) - 1, 0)) <= 0)
				_exit(1);
			text[n] = '\0';
			v = strtol(text, NULL, 10);
			/* Let the others run between the read and the
			 * write: without the lock, updates get lost. */
			sched_yield();
			n = snprintf(text, sizeof(text), "%ld", v + 1);
			if (ftruncate(cfd, 0) != 0 ||
			    pwrite(cfd, text, (size_t)n, 0) != n)
				_exit(1);
			close(cfd);
			file_unlock(&fd);
		}
		_exit(0);
	}
	for (i = 0; i < WORKERS; i++)
		ok &= waitpid(pid[i], &st, 0) == pid[i] && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0;
	CHECK(ok);
	if ((cfd = open(other, O_RDONLY)) < 0 ||
	    (n = read(cfd, text, sizeof(text) - 1)) <= 0)
		die(other);
	close(cfd);
	text[n] = '\0';
	CHECKF(strtol(text, NULL, 10) == WORKERS * ROUNDS, "counted %s",
	    text);
}

/* A lock file that is a link is refused and nothing is created through
 * it; one that cannot be opened says why. */
static void
lock_refusals(void)
{
	char below[160];
	int fd = 5;

	fresh();
	CHECK(symlink(other, lock_path) == 0);
	errno = 0;
	CHECK(file_lock(lock_path, FILE_LOCK_WAIT, &fd) == FILE_SYMLINK &&
	    fd == -1 && errno == ELOOP);
	CHECK(access(other, F_OK) != 0);
	CHECK(file_lock_report(lock_path, FILE_SYMLINK,
	    &t_rep) == E2E_EX_CANTCREAT &&
	    t_rep.code == E2E_EX_CANTCREAT);
	snprintf(why, sizeof(why), "%s", report_message(&t_rep));
	report_clear(&t_rep);
	CHECKF(strstr(why, "keyring.lock is a symbolic link") != NULL, "%s",
	    why);
	unlink(lock_path);
	snprintf(below, sizeof(below), "%s/no-such-folder/x.lock", home);
	errno = 0;
	CHECK(file_lock(below, FILE_LOCK_WAIT, &fd) == FILE_CANNOT_OPEN &&
	    fd == -1 && errno == ENOENT);
	CHECK(file_lock_report(below, FILE_CANNOT_OPEN,
	    &t_rep) == E2E_EX_CANTCREAT &&
	    t_rep.code == E2E_EX_CANTCREAT);
	snprintf(why, sizeof(why), "%s", report_message(&t_rep));
	report_clear(&t_rep);
	CHECKF(strstr(why, "cannot open") != NULL &&
	    strstr(why, "No such file") != NULL, "%s", why);
}

/* ---- file_read_private_report ---- */

/* file_read_private_report under pol with words w: its code, what it
 * said (errors and hints) in cap_text, and b's length in *len. */
static int
said(const char *p, const struct file_policy *pol,
    const struct file_refusal *w, size_t *len)
{
	struct buf b = BUF_INIT;
	int rc;

	capture_begin();
	rc = file_read_private_report(p, pol, &b, 77, w, &t_rep);
	rep_shown();
	capture_end();
	*len = b.len;
	buf_free(&b);
	return rc;
}

/* Every result said alike, in the caller's words where they are its. */
static void
reported(void)
{
	static const struct file_refusal plain = {
		.refused = "is not yours alone",
	};
	static const struct file_refusal own = {
		.refused = "is not yours alone",
		.not_owner = "is another's",
		.exposed = "is open to others",
		.hint = "start again",
	};
	struct file_policy small = { 077, 0, 100 };
	char under[160];
	size_t len;
	int rc;

	fresh();
	CHECK(said(path, &small, &plain, &len) == -1 && cap_len == 0);
	put(path, "fine", 0600);
	CHECK(said(path, &small, &plain, &len) == 0 && len == 4 &&
	    cap_len == 0);
	put_n(path, 101);
	rc = said(path, &small, &plain, &len);
	CHECKF(rc == 77 && len == 0 && strstr(cap_text, "/session is too "
	    "large (larger than 100 bytes); not using it"), "%s", cap_text);
	put(path, "fine", 0644);
	rc = said(path, &small, &plain, &len);
	CHECKF(rc == 77 && strstr(cap_text, "/session is not yours alone; "
	    "not using it") && strstr(cap_text, "hint: chmod 600 ") &&
	    strstr(cap_text, "/session, if it is yours"), "%s", cap_text);
	rc = said(path, &small, &own, &len);
	CHECKF(rc == 77 && strstr(cap_text, "/session is open to others; "
	    "not using it") && strstr(cap_text, "hint: start again") &&
	    !strstr(cap_text, "chmod"), "%s", cap_text);
	unlink(path);
	CHECK(mkdir(path, 0700) == 0);
	rc = said(path, &small, &own, &len);
	CHECKF(rc == 77 && strstr(cap_text, "/session is not yours alone; "
	    "not using it") && !strstr(cap_text, "hint"), "%s", cap_text);
	rmdir(path);
	put(other, "fine", 0600);
	CHECK(symlink(other, path) == 0);
	rc = said(path, &small, &own, &len);
	CHECKF(rc == 77 && strstr(cap_text, "/session is a symbolic link; "
	    "not using it"), "%s", cap_text);
	unlink(path);
	snprintf(under, sizeof(under), "%s/x", other);
	rc = said(under, &small, &own, &len);
	CHECKF(rc == 77 && strstr(cap_text, "cannot open ") &&
	    strstr(cap_text, "Not a directory"), "%s", cap_text);
	if (geteuid() != 0) {
		harness_skip("not root: no file of another user to test");
		return;
	}
	put(path, "fine", 0600);
	CHECK(chown(path, 12345, (gid_t)-1) == 0);
	rc = said(path, &small, &own, &len);
	CHECKF(rc == 77 && strstr(cap_text, "/session is another's; not "
	    "using it"), "%s", cap_text);
	rc = said(path, &small, &plain, &len);
	CHECKF(rc == 77 && strstr(cap_text, "/session is not yours alone; "
	    "not using it") && !strstr(cap_text, "hint"), "%s", cap_text);
}

int
main(void)
{
	char tmpl[] = "/tmp/e2e-test-fileio-XXXXXX";

	err_setprog("test_fileio_private");
	if (mkdtemp(tmpl) == NULL)
		die("mkdtemp");
	snprintf(home, sizeof(home), "%s", tmpl);
	snprintf(path, sizeof(path), "%s/session", home);
	snprintf(other, sizeof(other), "%s/other", home);
	snprintf(lock_path, sizeof(lock_path), "%s/keyring.lock", home);

	RUN(policies_as_documented);
	RUN(reads_whole);
	RUN(absent);
	RUN(symlink_policy);
	RUN(modes);
	RUN(owner);
	RUN(not_regular);
	RUN(size_cap);
	RUN(cannot_open);
	RUN(reported);
	RUN(swapped_after_open);
	RUN(no_descriptor_leaked);
	RUN(lock_basics);
	RUN(two_processes);
	RUN(holder_killed);
	RUN(counting_under_the_lock);
	RUN(lock_refusals);

	fresh();
	if (rmdir(home) != 0)
		fprintf(stderr, "%s not empty after the test\n", home);
	return harness_end();
}
