/*
 * The replay cache of e2e-decrypt's stream mode (lib/keys/replay.c, E4):
 * HOME/replay.log, lines "SENDER JTI IAT", remembered across runs within
 * the iat window; what a kill, garbage or another process can leave in
 * the file is written here by hand and read back.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "base/err.h"
#include "keys/replay.h"

#define NOW ((int64_t)1700000000)
#define WIN ((int64_t)REPLAY_WINDOW_DEFAULT)
#define OLD (NOW - WIN - 10)	/* outside the window */

static char home[128], log_path[160], lock_path[160];
static char why[512];

/* The whole log (static, NUL-terminated; empty when absent). */
static char *
read_log(void)
{
	static char *text;
	size_t cap = 1 << 16, len = 0;
	ssize_t n;
	int fd = open(log_path, O_RDONLY);
	char *fresh = malloc(cap);

	if (fresh == NULL)
		exit(2);
	free(text);
	text = fresh;
	text[0] = '\0';
	if (fd < 0)
		return text;
	for (;;) {
		if (len + 1 == cap) {
			char *more = realloc(text, cap *= 2);

			if (more == NULL)
				exit(2);
			text = more;
		}
		n = read(fd, text + len, cap - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	text[len] = '\0';
	close(fd);
	return text;
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* Files in home other than the log and its lock: a temporary file left
 * behind by a rewrite. */
static int
strays(void)
{
	DIR *d = opendir(home);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") !=
		    0 && strcmp(e->d_name, "replay.log") != 0 &&
		    strcmp(e->d_name, "replay.lock") != 0)
			n++;
	closedir(d);
	return n;
}

/* why: the first error of the call's report, if any. */
static void
reported(const struct report *rep)
{
	if (report_message(rep)[0] != '\0')
		snprintf(why, sizeof(why), "%s", report_message(rep));
}

static int
open_at(int64_t now, struct replay **r)
{
	struct report rep = { 0 };
	int rc;

	rc = replay_open(home, WIN, now, r, &rep);
	why[0] = '\0';
	reported(&rep);
	CHECKF(rc == 0 || rep.code == 0 || rep.code == rc, "%d, reported %d",
	    rc, rep.code);
	return rc;
}

static int
record(struct replay *r, const char *sender, const char *jti, int64_t iat)
{
	struct report rep = { 0 };
	int rc;

	rc = replay_record(r, sender, jti, iat, NULL, &rep);
	why[0] = '\0';
	reported(&rep);
	CHECKF(rep.code == rc, "%d, reported %d", rc, rep.code);
	return rc;
}

static enum replay_verdict
check(const struct replay *r, const char *sender, const char *jti,
    int64_t iat)
{
	return replay_check(r, sender, jti, iat, NULL, NOW);
}

static void
fresh(void)
{
	unlink(log_path);
	rmdir(log_path);
	unlink(lock_path);
}

/* New, then seen: in this run and after close and reopen (E4). */
static void
new_then_seen(void)
{
	struct replay *r = NULL;
	struct stat st;
	char line[64];

	fresh();
	CHECK(open_at(NOW, &r) == 0 && r != NULL);
	CHECK(stat(log_path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 07777) == 0600);
	CHECK(stat(lock_path, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(check(r, "alice", "j1", NOW) == REPLAY_NEW);
	CHECK(record(r, "alice", "j1", NOW) == 0);
	CHECK(check(r, "alice", "j1", NOW) == REPLAY_SEEN);
	/* The iat does not matter for a seen pair (a signed iat cannot be
	 * changed anyway). */
	CHECK(check(r, "alice", "j1", NOW - 5) == REPLAY_SEEN);
	CHECK(check(r, "alice", "j2", NOW) == REPLAY_NEW);
	/* A second record of the same pair writes nothing. */
	CHECK(record(r, "alice", "j1", NOW) == 0);
	replay_close(r);
	snprintf(line, sizeof(line), "alice j1 %" PRId64 "\n", NOW);
	CHECKF(strcmp(read_log(), line) == 0, "log: %s", read_log());

	CHECK(open_at(NOW + 3600, &r) == 0);
	CHECK(check(r, "alice", "j1", NOW) == REPLAY_SEEN);
	CHECK(check(r, "alice", "j2", NOW) == REPLAY_NEW);
	replay_close(r);
	CHECK(strays() == 0);
}

/* The same jti from two senders: two messages. */
static void
per_sender(void)
{
	struct replay *r;

	fresh();
	CHECK(open_at(NOW, &r) == 0);
	CHECK(record(r, "alice", "same-id", NOW) == 0);
	CHECK(check(r, "bob", "same-id", NOW) == REPLAY_NEW);
	CHECK(check(r, "alice", "same-id", NOW) == REPLAY_SEEN);
	CHECK(record(r, "bob", "same-id", NOW) == 0);
	CHECK(check(r, "bob", "same-id", NOW) == REPLAY_SEEN);
	/* Names are case-sensitive, as the server's. */
	CHECK(check(r, "Alice", "same-id", NOW) == REPLAY_NEW);
	/* Neither holds a space, so "SENDER JTI" keys cannot collide. */
	CHECK(record(r, "a", "b.c", NOW) == 0);
	CHECK(check(r, "a.b", "c", NOW) == REPLAY_NEW);
	replay_close(r);
	CHECK(open_at(NOW, &r) == 0);
	CHECK(check(r, "alice", "same-id", NOW) == REPLAY_SEEN);
	CHECK(check(r, "bob", "same-id", NOW) == REPLAY_SEEN);
	CHECK(check(r, "carol", "same-id", NOW) == REPLAY_NEW);
	CHECK(check(r, "a", "b.c", NOW) == REPLAY_SEEN);
	CHECK(check(r, "a.b", "c", NOW) == REPLAY_NEW);
	replay_close(r);
}

/* iat older than the window: cannot be told from a replay; newer than
 * the skew allowance: refused too. The bounds are inclusive. */
static void
time_window(void)
{
	struct replay *r;

	fresh();
	CHECK(open_at(NOW, &r) == 0);
	CHECK(check(r, "alice", "j", NOW - WIN - 1) == REPLAY_TOO_OLD);
	CHECK(check(r, "alice", "j", NOW - WIN) == REPLAY_NEW);
	CHECK(check(r, "alice", "j", INT64_MIN) == REPLAY_TOO_OLD);
	CHECK(check(r, "alice", "j", NOW + REPLAY_FUTURE_MAX) == REPLAY_NEW);
	CHECK(check(r, "alice", "j", NOW + REPLAY_FUTURE_MAX + 1) ==
	    REPLAY_FUTURE);
	CHECK(check(r, "alice", "j", INT64_MAX) == REPLAY_FUTURE);
	/* Seen comes first. */
	CHECK(record(r, "alice", "j", NOW - WIN) == 0);
	CHECK(check(r, "alice", "j", NOW - WIN) == REPLAY_SEEN);
	CHECK(replay_check(r, "alice", "j", NOW - WIN, NULL, NOW + 10) ==
	    REPLAY_SEEN);
	/* Extreme clocks do not overflow. */
	CHECK(replay_check(r, "bob", "j", 0, NULL, INT64_MIN + 5) == REPLAY_FUTURE);
	CHECK(replay_check(r, "bob", "j", INT64_MIN, NULL, INT64_MIN + 5) ==
	    REPLAY_NEW);
	CHECK(replay_check(r, "bob", "j", INT64_MAX, NULL, INT64_MAX) ==
	    REPLAY_NEW);
	replay_close(r);
	/* Extreme iats are written and read back. */
	fresh();
	CHECK(open_at(NOW, &r) == 0);
	CHECK(record(r, "alice", "min", INT64_MIN) == 0);
	CHECK(record(r, "alice", "max", INT64_MAX) == 0);
	replay_close(r);
	CHECK(strstr(read_log(), "alice min -9223372036854775808\n") != NULL);
	CHECK(strstr(read_log(), "alice max 9223372036854775807\n") != NULL);
	CHECK(replay_open(home, WIN, INT64_MIN + 5, &r, NULL) == 0);
	CHECK(replay_check(r, "alice", "min", 0, NULL, INT64_MIN + 5) ==
	    REPLAY_SEEN);
	CHECK(replay_check(r, "alice", "max", 0, NULL, INT64_MIN + 5) ==
	    REPLAY_SEEN);
	replay_close(r);
	/* A window of 0 or less is the caller's bug. */
	CHECK(replay_open(home, 0, NOW, &r, NULL) == E2E_EX_SOFTWARE &&
	    r == NULL);
	CHECK(replay_open(home, -1, NOW, &r, NULL) == E2E_EX_SOFTWARE &&
	    r == NULL);
}

/* Entries outside the window are not loaded; when they are more than
 * half of the lines, the file is rewritten without them. */
static void
compaction(void)
{
	struct replay *r;
	struct stat st0, st;
	char text[4096], keep[512];
	size_t o = 0, k = 0;
	int i;

	fresh();
	for (i = 0; i < 10; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
		    "old%d j%d %" PRId64 "\n", i, i, OLD);
	for (i = 0; i < 3; i++)
		k += (size_t)snprintf(keep + k, sizeof(keep) - k,
		    "new%d j%d %" PRId64 "\n", i, i, NOW - WIN + i);
	/* Interleaved: old, new, old, ... */
	snprintf(text + o, sizeof(text) - o, "%s", keep);
	put_str(log_path, text);
	CHECK(stat(log_path, &st0) == 0);
	CHECK(open_at(NOW, &r) == 0);
	CHECK(stat(log_path, &st) == 0);
	CHECK(st.st_size < st0.st_size);
	CHECK(st.st_ino != st0.st_ino);	/* a new file, renamed into place */
	CHECK((st.st_mode & 07777) == 0600);
	CHECKF(strcmp(read_log(), keep) == 0, "log: %s", read_log());
	CHECK(check(r, "new0", "j0", NOW) == REPLAY_SEEN);
	CHECK(check(r, "new2", "j2", NOW) == REPLAY_SEEN);
	CHECK(check(r, "old0", "j0", NOW) == REPLAY_NEW);
	CHECK(strays() == 0);
	/* Appends go to the new file. */
	CHECK(record(r, "carol", "x", NOW) == 0);
	replay_close(r);
	CHECK(strstr(read_log(), "carol x ") != NULL);
	CHECK(count_lines(read_log()) == 4);
	CHECK(open_at(NOW, &r) == 0);
	CHECK(check(r, "carol", "x", NOW) == REPLAY_SEEN);
	CHECK(check(r, "new1", "j1", NOW) == REPLAY_SEEN);
	replay_close(r);

	/* Later, the same entries have aged out in turn: the log empties. */
	CHECK(open_at(NOW + WIN + 10, &r) == 0);
	CHECK(replay_check(r, "carol", "x", NOW + WIN + 10, NULL, NOW + WIN + 10) ==
	    REPLAY_NEW);
	replay_close(r);
	CHECK(size_of(log_path) == 0);

	/* Half or fewer outside: left as it is (no rewrite per run). */
	fresh();
	snprintf(text, sizeof(text), "old0 j %" PRId64 "\nold1 j %" PRId64
	    "\nnew0 j %" PRId64 "\nnew1 j %" PRId64 "\n", OLD, OLD, NOW, NOW);
	put_str(log_path, text);
	CHECK(stat(log_path, &st0) == 0);
	CHECK(open_at(NOW, &r) == 0);
	CHECK(stat(log_path, &st) == 0 && st.st_ino == st0.st_ino);
	CHECK(strcmp(read_log(), text) == 0);
	CHECK(check(r, "old0", "j", NOW) == REPLAY_NEW);	/* not loaded */
	CHECK(check(r, "new1", "j", NOW) == REPLAY_SEEN);
	replay_close(r);
	CHECK(strays() == 0);
}

/* A second process that opened the log before another's rewrite: its
 * next line lands in the new file, not in the replaced one. */
static void
compaction_by_other(void)
{
	struct replay *r1, *r2, *r3;
	char text[4096];
	size_t o = 0;
	int i, fd;

	fresh();
	CHECK(open_at(NOW, &r1) == 0);
	CHECK(record(r1, "alice", "before", NOW) == 0);
	/* Enough old lines appended behind its back for a rewrite. */
	for (i = 0; i < 5; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
		    "old%d j %" PRId64 "\n", i, OLD);
	fd = open(log_path, O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && write(fd, text, o) == (ssize_t)o);
	close(fd);
	CHECK(open_at(NOW, &r2) == 0);	/* rewrites */
	CHECK(count_lines(read_log()) == 1);
	CHECK(record(r1, "alice", "after", NOW) == 0);
	CHECK(record(r2, "bob", "after", NOW) == 0);
	CHECK(strstr(read_log(), "alice after ") != NULL);
	CHECK(count_lines(read_log()) == 3);
	/* r1 keeps writing to the new file. */
	CHECK(record(r1, "alice", "later", NOW) == 0);
	CHECK(count_lines(read_log()) == 4);
	replay_close(r1);
	replay_close(r2);
	CHECK(open_at(NOW, &r3) == 0);
	CHECK(check(r3, "alice", "before", NOW) == REPLAY_SEEN);
	CHECK(check(r3, "alice", "after", NOW) == REPLAY_SEEN);
	CHECK(check(r3, "alice", "later", NOW) == REPLAY_SEEN);
	CHECK(check(r3, "bob", "after", NOW) == REPLAY_SEEN);
	replay_close(r3);
	CHECK(strays() == 0);
}

/* What another process appends while a rewrite runs. */
static void
append_meanwhile(void)
{
	char text[256];
	int n, fd = open(log_path, O_WRONLY | O_APPEND);

	n = snprintf(text, sizeof(text), "dave late %" PRId64 "\n"
	    "dave stale %" PRId64 "\nalice kept %" PRId64 "\ndave cut",
	    NOW, OLD, NOW);
	if (fd < 0 || write(fd, text, (size_t)n) != n) {
		perror(log_path);
		exit(2);
	}
	close(fd);
}

/* Lines appended between the read and the rename are carried over to
 * the new file (but not those outside the window, repeated, or cut). */
static void
compaction_carries_over(void)
{
	struct replay *r;
	char text[4096], want[256];
	size_t o = 0;
	int i;

	fresh();
	o += (size_t)snprintf(text + o, sizeof(text) - o,
	    "alice kept %" PRId64 "\n", NOW);
	for (i = 0; i < 5; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
		    "old%d j %" PRId64 "\n", i, OLD);
	put_str(log_path, text);
	replay_test_set_before_rename(append_meanwhile);
	CHECK(open_at(NOW, &r) == 0);
	replay_test_set_before_rename(NULL);
	snprintf(want, sizeof(want), "alice kept %" PRId64 "\n"
	    "dave late %" PRId64 "\n", NOW, NOW);
	CHECKF(strcmp(read_log(), want) == 0, "log: %s", read_log());
	CHECK(check(r, "dave", "late", NOW) == REPLAY_SEEN);
	CHECK(check(r, "dave", "stale", NOW) == REPLAY_NEW);
	CHECK(check(r, "dave", "cut", NOW) == REPLAY_NEW);
	replay_close(r);
	CHECK(strays() == 0);
}

/* A last line cut short by a kill is ignored and cut off; the next line
 * appended is whole. */
static void
broken_last_line(void)
{
	struct replay *r;
	char whole[64], want[128];

	fresh();
	snprintf(whole, sizeof(whole), "alice j1 %" PRId64 "\n", NOW);
	snprintf(want, sizeof(want), "%sbob j2 17", whole);
	put_str(log_path, want);
	CHECK(open_at(NOW, &r) == 0);
	CHECKF(strcmp(read_log(), whole) == 0, "log: %s", read_log());
	CHECK(check(r, "alice", "j1", NOW) == REPLAY_SEEN);
	CHECK(check(r, "bob", "j2", NOW) == REPLAY_NEW);
	CHECK(record(r, "carol", "j3", NOW) == 0);
	replay_close(r);
	snprintf(want, sizeof(want), "%scarol j3 %" PRId64 "\n", whole, NOW);
	CHECKF(strcmp(read_log(), want) == 0, "log: %s", read_log());
	CHECK(open_at(NOW, &r) == 0);
	CHECK(check(r, "carol", "j3", NOW) == REPLAY_SEEN);
	CHECK(check(r, "alice", "j1", NOW) == REPLAY_SEEN);
	replay_close(r);

	/* Nothing but a piece of a line. */
	fresh();
	put_str(log_path, "alice j");
	CHECK(open_at(NOW, &r) == 0);
	CHECK(size_of(log_path) == 0);
	replay_close(r);

	/* A whole record without its newline is still a piece. */
	fresh();
	snprintf(want, sizeof(want), "%salice j9 %" PRId64, whole, NOW);
	put_str(log_path, want);
	CHECK(open_at(NOW, &r) == 0);
	CHECK(check(r, "alice", "j9", NOW) == REPLAY_NEW);
	CHECK(strcmp(read_log(), whole) == 0);
	replay_close(r);
}

/* Lines of any other shape are ignored, whatever is around them. */
static void
garbage_ignored(void)
{
	static const char *const bad[] = {
		"alice",
		"alice g1",
		"alice g2 ",
		"alice g3 x",
		"alice g4 12x",
		"alice g5 +12",
		"alice g6 -",
		"alice g7 1 2",
		"alice  g8 1",
		" alice g9 1",
		"al/ice g10 1",
		"alice g\001 1",
		"alice g\377 1",
		"alice g13 99999999999999999999",
		"alice g14 9223372036854775808",
		"alice g15\t1",
		"",
	};
	struct replay *r;
	char text[8192], jti129[130], jti128[129], name65[66];
	size_t o = 0, i;

	fresh();
	memset(jti128, 'q', 128);
	jti128[128] = '\0';
	memset(jti129, 'q', 129);
	jti129[129] = '\0';
	memset(name65, 'n', 65);
	name65[65] = '\0';
	o += (size_t)snprintf(text + o, sizeof(text) - o,
	    "alice ok1 %" PRId64 "\n", NOW);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s\n",
		    bad[i]);
	o += (size_t)snprintf(text + o, sizeof(text) - o,
	    "alice %s %" PRId64 "\nbob %s %" PRId64 "\n%s j %" PRId64
	    "\nbob ok2 %" PRId64 "\n", jti129, NOW, jti128, NOW, name65, NOW,
	    NOW);
	/* A NUL inside a line. */
	memcpy(text + o, "alice g\0 1\n", 11);
	o += 11;
	o += (size_t)snprintf(text + o, sizeof(text) - o,
	    "carol ok3 %" PRId64 "\n", NOW);
	put_bytes(log_path, text, o, 0600);
	CHECK(open_at(NOW, &r) == 0);
	CHECK(check(r, "alice", "ok1", NOW) == REPLAY_SEEN);
	CHECK(check(r, "bob", "ok2", NOW) == REPLAY_SEEN);
	CHECK(check(r, "bob", jti128, NOW) == REPLAY_SEEN);
	CHECK(check(r, "carol", "ok3", NOW) == REPLAY_SEEN);
	CHECK(check(r, "alice", jti129, NOW) == REPLAY_NEW);
	CHECK(check(r, "alice", "g3", NOW) == REPLAY_NEW);
	CHECK(check(r, "alice", "g7", NOW) == REPLAY_NEW);
	CHECK(check(r, "alice", "g13", NOW) == REPLAY_NEW);
	CHECK(check(r, "alice", "g14", NOW) == REPLAY_NEW);
	replay_close(r);
	/* Mostly garbage: rewritten with the good lines only. */
	CHECK(count_lines(read_log()) == 4);
	CHECK(strays() == 0);
	CHECK(open_at(NOW, &r) == 0);
	CHECK(check(r, "bob", jti128, NOW) == REPLAY_SEEN);
	CHECK(check(r, "carol", "ok3", NOW) == REPLAY_SEEN);
	replay_close(r);
}

/* replay_record refuses (65) what could not be written as one line and
 * read back: nothing recorded, nothing written. */
static void
bad_ids_refused(void)
{
	static const char *const jtis[] = {
		"", "a b", "a\tb", "a\nb", "a\rb", "\033[2J", "caf\303\251",
		"a\177",
	};
	static char name65[66], name64[65];
	const char *const senders[] = {
		"", "bob smith", "bob\n", "b/ob", "b\033",
		name65,
	};
	struct replay *r;
	char jti129[130], jti128[129];
	off_t size;
	size_t i;

	fresh();
	memset(jti128, 'z', 128);
	jti128[128] = '\0';
	memset(jti129, 'z', 129);
	jti129[129] = '\0';
	memset(name64, 'n', 64);
	name64[64] = '\0';
	memset(name65, 'n', 65);
	name65[65] = '\0';
	CHECK(open_at(NOW, &r) == 0);
	for (i = 0; i < sizeof(jtis) / sizeof(jtis[0]); i++) {
		CHECKF(record(r, "alice", jtis[i], NOW) == E2E_EX_DATAERR,
		    "jti %zu", i);
		CHECKF(check(r, "alice", jtis[i], NOW) == REPLAY_NEW,
		    "jti %zu", i);
	}
	CHECK(record(r, "alice", jti129, NOW) == E2E_EX_DATAERR);
	CHECK(strstr(why, "not valid") != NULL);
	CHECK(strchr(why, '\033') == NULL);
	CHECK(record(r, "alice", NULL, NOW) == E2E_EX_DATAERR);
	for (i = 0; i < sizeof(senders) / sizeof(senders[0]); i++)
		CHECKF(record(r, senders[i], "j", NOW) == E2E_EX_DATAERR,
		    "sender %zu", i);
	CHECK(record(r, NULL, "j", NOW) == E2E_EX_DATAERR);
	CHECK(size_of(log_path) == 0);
	/* The limits themselves are fine. */
	CHECK(record(r, "alice", jti128, NOW) == 0);
	CHECK(record(r, name64, "!~", NOW) == 0);
	size = size_of(log_path);
	CHECK(check(r, "alice", jti128, NOW) == REPLAY_SEEN);
	replay_close(r);
	CHECK(count_lines(read_log()) == 2);
	CHECK(open_at(NOW, &r) == 0);
	CHECK(check(r, "alice", jti128, NOW) == REPLAY_SEEN);
	CHECK(size_of(log_path) == size);
	replay_close(r);
}

/* Tens of thousands of entries stay fast to record, load and look up
 * (in CPU time: a loaded machine stretched the wall time past 2 s). */
static void
many(void)
{
	struct replay *r;
	char sender[32], jti[32];
	double t0, t_rec, t_load;
	int i, seen = 0, fresh_ = 0;

	fresh();
	t0 = cpu_seconds();
	CHECK(open_at(NOW, &r) == 0);
	for (i = 0; i < 20000; i++) {
		snprintf(sender, sizeof(sender), "user%d", i % 50);
		snprintf(jti, sizeof(jti), "01HZX%08dABCDEF", i);
		if (record(r, sender, jti, NOW - i) != 0)
			break;
	}
	CHECK(i == 20000);
	for (i = 0; i < 20000; i++) {
		snprintf(sender, sizeof(sender), "user%d", i % 50);
		snprintf(jti, sizeof(jti), "01HZX%08dABCDEF", i);
		seen += check(r, sender, jti, NOW) == REPLAY_SEEN;
		/* The same jti from the next sender: not seen. */
		snprintf(sender, sizeof(sender), "user%d", (i + 1) % 50);
		fresh_ += check(r, sender, jti, NOW) == REPLAY_NEW;
	}
	replay_close(r);
	t_rec = cpu_seconds() - t0;
	CHECK(seen == 20000);
	CHECK(fresh_ == 20000);
	CHECK(count_lines(read_log()) == 20000);

	t0 = cpu_seconds();
	CHECK(open_at(NOW, &r) == 0);
	for (seen = 0, i = 0; i < 20000; i++) {
		snprintf(sender, sizeof(sender), "user%d", i % 50);
		snprintf(jti, sizeof(jti), "01HZX%08dABCDEF", i);
		seen += check(r, sender, jti, NOW) == REPLAY_SEEN;
	}
	replay_close(r);
	t_load = cpu_seconds() - t0;
	CHECK(seen == 20000);
	CHECKF(t_rec < 2.0, "record and check: %.3f s", t_rec);
	CHECKF(t_load < 2.0, "load and check: %.3f s", t_load);
}

/* Processes appending at once never mix their lines. */
static void
concurrent_appends(void)
{
	struct replay *r;
	char sender[32], jti[32];
	int c, i, status, ok = 1, seen = 0;
	pid_t pid[4];

	fresh();
	CHECK(open_at(NOW, &r) == 0);
	replay_close(r);
	for (c = 0; c < 4; c++) {
		if ((pid[c] = fork()) < 0) {
			perror("fork");
			exit(2);
		}
		if (pid[c] == 0) {
			if (open_at(NOW, &r) != 0)
				_exit(1);
			snprintf(sender, sizeof(sender), "child%d", c);
			for (i = 0; i < 500; i++) {
				snprintf(jti, sizeof(jti), "m%d", i);
				if (record(r, sender, jti, NOW) != 0)
					_exit(1);
			}
			replay_close(r);
			_exit(0);
		}
	}
	for (c = 0; c < 4; c++)
		if (waitpid(pid[c], &status, 0) != pid[c] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ok = 0;
	CHECK(ok);
	CHECK(count_lines(read_log()) == 2000);
	CHECK(open_at(NOW, &r) == 0);
	for (c = 0; c < 4; c++)
		for (i = 0; i < 500; i++) {
			snprintf(sender, sizeof(sender), "child%d", c);
			snprintf(jti, sizeof(jti), "m%d", i);
			seen += check(r, sender, jti, NOW) == REPLAY_SEEN;
		}
	CHECK(seen == 2000);
	replay_close(r);
	/* Every line well formed: nothing rewritten on open. */
	CHECK(count_lines(read_log()) == 2000);
}

/* A log that is a symlink, not a regular file or too large: refused. */
static void
refused_files(void)
{
	struct replay *r = (struct replay *)1;
	char target[200];
	int fd;

	fresh();
	snprintf(target, sizeof(target), "%s/elsewhere", home);
	put_str(target, "keep me\n");
	CHECK(symlink(target, log_path) == 0);
	CHECK(open_at(NOW, &r) == E2E_EX_CANTCREAT && r == NULL);
	CHECKF(strstr(why, "symbolic link") != NULL, "%s", why);
	CHECK(size_of(target) == 8);
	unlink(log_path);
	/* A dangling one: not created through it. */
	unlink(target);
	CHECK(symlink(target, log_path) == 0);
	CHECK(open_at(NOW, &r) == E2E_EX_CANTCREAT);
	CHECK(access(target, F_OK) != 0);
	unlink(log_path);

	/* The lock file too. */
	fresh();
	CHECK(symlink(target, lock_path) == 0);
	CHECK(open_at(NOW, &r) == E2E_EX_CANTCREAT);
	CHECKF(strstr(why, "symbolic link") != NULL, "%s", why);
	CHECK(access(target, F_OK) != 0);
	unlink(lock_path);

	fresh();
	CHECK(mkfifo(log_path, 0600) == 0);
	CHECK(open_at(NOW, &r) == E2E_EX_CANTCREAT);
	CHECKF(strstr(why, "not a regular file") != NULL, "%s", why);
	unlink(log_path);

	fresh();
	CHECK(mkdir(log_path, 0700) == 0);
	CHECK(open_at(NOW, &r) == E2E_EX_CANTCREAT);
	CHECKF(strstr(why, "replay.log") != NULL, "%s", why);
	rmdir(log_path);

	fresh();
	fd = open(log_path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)REPLAY_LOG_MAX + 1) == 0);
	close(fd);
	CHECK(open_at(NOW, &r) == E2E_EX_CANTCREAT);
	CHECKF(strstr(why, "larger than 64 MiB") != NULL, "%s", why);
	CHECK(size_of(log_path) == (off_t)REPLAY_LOG_MAX + 1);
	fd = open(log_path, O_WRONLY);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)REPLAY_LOG_MAX) == 0);
	close(fd);
	/* At the limit: read (all NULs, one broken line, cut off). */
	CHECK(open_at(NOW, &r) == 0);
	replay_close(r);
	CHECK(size_of(log_path) == 0);

	/* No home folder. */
	fresh();
	{
		size_t n = strlen(home);

		memcpy(home + n, "/absent", sizeof("/absent"));
		CHECK(open_at(NOW, &r) == E2E_EX_CANTCREAT);
		home[n] = '\0';
	}
	CHECK(strays() == 0);
}

/* E4: the same message read again (same message id: a saved inbox) is
 * no replay; the same jti in another message is, also after a reopen. */
static void
same_message_again(void)
{
	struct replay *r = NULL;

	fresh();
	CHECK(open_at(NOW, &r) == 0);
	CHECK(replay_record(r, "alice", "j1", NOW, "06H2A8JWGNFX4THX5J4CCG277S",
	    NULL) == 0);
	CHECK(replay_check(r, "alice", "j1", NOW, "06H2A8JWGNFX4THX5J4CCG277S",
	    NOW) == REPLAY_AGAIN);
	CHECK(replay_check(r, "alice", "j1", NOW, "06H2A8JWHWVSY23E5RF9CV5P2Q",
	    NOW) == REPLAY_SEEN);
	CHECK(replay_check(r, "alice", "j1", NOW, NULL, NOW) == REPLAY_SEEN);
	/* Recorded without an id: any second delivery is a copy. */
	CHECK(replay_record(r, "alice", "j2", NOW, NULL, NULL) == 0);
	CHECK(replay_check(r, "alice", "j2", NOW, "06H2A8JWGNFX4THX5J4CCG277S",
	    NOW) == REPLAY_SEEN);
	/* A message id that could break the line is not kept. */
	CHECK(replay_record(r, "alice", "j3", NOW, "a b", NULL) == 0);
	CHECK(replay_check(r, "alice", "j3", NOW, "a b", NOW) == REPLAY_SEEN);
	replay_close(r);
	r = NULL;
	CHECK(open_at(NOW, &r) == 0);
	CHECK(replay_check(r, "alice", "j1", NOW, "06H2A8JWGNFX4THX5J4CCG277S",
	    NOW) == REPLAY_AGAIN);
	CHECK(replay_check(r, "alice", "j1", NOW, "other", NOW) ==
	    REPLAY_SEEN);
	CHECK(replay_check(r, "alice", "j2", NOW, NULL, NOW) == REPLAY_SEEN);
	CHECK(replay_check(r, "alice", "j3", NOW, "a", NOW) == REPLAY_SEEN);
	replay_close(r);
}

int
main(void)
{
	char tmpl[] = "/tmp/e2e-test-replay-XXXXXX";

	err_setprog("test_replay");
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(home, sizeof(home), "%s", tmpl);
	snprintf(log_path, sizeof(log_path), "%s/replay.log", home);
	snprintf(lock_path, sizeof(lock_path), "%s/replay.lock", home);

	RUN(new_then_seen);
	RUN(per_sender);
	RUN(time_window);
	RUN(compaction);
	RUN(compaction_by_other);
	RUN(compaction_carries_over);
	RUN(broken_last_line);
	RUN(garbage_ignored);
	RUN(bad_ids_refused);
	RUN(many);
	RUN(concurrent_appends);
	RUN(refused_files);
	RUN(same_message_again);

	fresh();
	if (rmdir(home) != 0)
		fprintf(stderr, "%s not empty after the test\n", home);
	return harness_end();
}
