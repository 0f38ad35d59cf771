/*
 * e2e-recv's memory (lib/net/recvlog.c): HOME/recv-USERID.log, lines
 * "P ID DEV INO OFFSET" (about to print), "D ID" (printed), "A ID"
 * (acknowledged), and a lock on HOME/recv-USERID.lock. What a kill can
 * leave behind is written here by hand and read back; the whole tool
 * under SIGKILL is tests/bats/client_recv_crash.bats.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "base/err.h"
#include "net/recvlog.h"

#define USER "01HZX3K4M5N6P7Q8R9S0T1V2W3"
#define ID_A "06H2A3MCM45VFGGXF6RPKVTJPC"
#define ID_B "06H2A3MCSXGF8F7AP0JT2ZZ8SN"
#define ID_C "06H2A3MCZ9EKY7GV2K37FMWBBH"
#define LINE_A "{\"id\":\"" ID_A "\",\"from\":\"alice\",\"to\":\"bob\"," \
	"\"sent_at\":1,\"message\":{\"iv\":\"AAAA\"}}\n"
/* Lines cut short. */
#define PART_A "{\"id\":\"" ID_A "\",\"fr"
#define PART_B "{\"id\":\"" ID_B "\",\"fr"
#define PRIOR "{\"id\":\"" ID_C "\",\"older\":true}\n"

static char home[64], log_path[160], lock_path[160], out_path[160];
static char why[REPORT_TEXT];

static char *
read_file(const char *path)
{
	static char text[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	text[0] = '\0';
	if (fd < 0)
		return text;
	n = read(fd, text, sizeof(text) - 1);
	text[n < 0 ? 0 : n] = '\0';
	close(fd);
	return text;
}

/* The output as ">> inbox" opens it, holding PRIOR already. */
static int
open_out(void)
{
	int fd;

	put_str(out_path, PRIOR);
	fd = open(out_path, O_WRONLY | O_APPEND);
	if (fd < 0) {
		perror(out_path);
		exit(2);
	}
	return fd;
}

static int
open_log(int out_fd, struct recvlog **l)
{
	struct report rep = { 0 };
	int rc;

	rc = recvlog_open(home, USER, out_fd, l, &rep);
	snprintf(why, sizeof(why), "%s", report_message(&rep));
	CHECKF(rep.code == rc, "rc %d, report's code %d", rc, rep.code);
	return rc;
}

static void
fresh(void)
{
	unlink(log_path);
	unlink(lock_path);
	unlink(out_path);
}

static void
write_str(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s)) {
		perror("write");
		exit(2);
	}
}

/* flock belongs to the open file description: a second open in the
 * same process is kept out as another process would be. */
static void
lock_twice(void)
{
	struct recvlog *l1 = NULL, *l2 = (struct recvlog *)1;
	struct stat st;
	int out;

	fresh();
	out = open_out();
	CHECK(open_log(out, &l1) == 0 && l1 != NULL);
	CHECK(open_log(out, &l2) == E2E_EX_TEMPFAIL);
	CHECK(l2 == NULL);
	CHECKF(strstr(why, "another e2e-recv is running") != NULL, "%s",
	    why);
	recvlog_close(l1);
	/* Free again once the first is closed. */
	CHECK(open_log(out, &l2) == 0 && l2 != NULL);
	recvlog_close(l2);
	CHECK(stat(log_path, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(stat(lock_path, &st) == 0 && (st.st_mode & 07777) == 0600);
	close(out);
}

/* Printed and not acknowledged: remembered across runs; acknowledged:
 * forgotten, and the log emptied once nothing is left. */
static void
printed_remembered(void)
{
	struct recvlog *l;
	const char *a[] = { ID_A }, *b[] = { ID_B };
	int out;

	fresh();
	out = open_out();
	CHECK(open_log(out, &l) == 0);
	CHECK(!recvlog_printed(l, ID_A));
	CHECK(recvlog_begin(l, ID_A, NULL) == 0);
	CHECK(!recvlog_printed(l, ID_A));
	CHECK(recvlog_done(l, ID_A, NULL) == 0);
	CHECK(recvlog_printed(l, ID_A));
	CHECK(recvlog_begin(l, ID_B, NULL) == 0 &&
	    recvlog_done(l, ID_B, NULL) == 0);
	recvlog_close(l);

	CHECK(open_log(out, &l) == 0);
	CHECK(recvlog_printed(l, ID_A));
	CHECK(recvlog_printed(l, ID_B));
	CHECK(!recvlog_printed(l, ID_C));
	CHECK(recvlog_acked(l, a, 1, NULL) == 0);
	CHECK(!recvlog_printed(l, ID_A));
	CHECK(size_of(log_path) > 0);
	recvlog_close(l);

	CHECK(open_log(out, &l) == 0);
	CHECK(!recvlog_printed(l, ID_A));
	CHECK(recvlog_printed(l, ID_B));
	CHECK(recvlog_acked(l, b, 1, NULL) == 0);
	CHECKF(size_of(log_path) == 0, "log of %lld bytes with nothing "
	    "pending", (long long)size_of(log_path));
	recvlog_close(l);

	CHECK(open_log(out, &l) == 0);
	CHECK(!recvlog_printed(l, ID_A) && !recvlog_printed(l, ID_B));
	recvlog_close(l);
	close(out);
}

/* Begun to a pipe, no D: it cannot be looked at, so it is printed
 * again (at least once rather than lost). */
static void
begun_to_pipe(void)
{
	struct recvlog *l;
	int p[2];

	fresh();
	CHECK(pipe(p) == 0);
	CHECK(open_log(p[1], &l) == 0);
	CHECK(recvlog_begin(l, ID_A, NULL) == 0);
	recvlog_close(l);
	CHECK(strcmp(read_file(log_path), "P " ID_A " - - -\n") == 0);
	CHECK(open_log(p[1], &l) == 0);
	CHECK(!recvlog_printed(l, ID_A));
	recvlog_close(l);
	close(p[0]);
	close(p[1]);
}

/* Begun to a file, no D, the whole line there: printed. */
static void
begun_line_whole(void)
{
	struct recvlog *l;
	int out;
	char want[160];
	struct stat st;

	fresh();
	out = open_out();
	CHECK(open_log(out, &l) == 0);
	CHECK(recvlog_begin(l, ID_A, NULL) == 0);
	CHECK(fstat(out, &st) == 0);
	snprintf(want, sizeof(want), "P %s %ju %ju %zu\n", ID_A,
	    (uintmax_t)st.st_dev, (uintmax_t)st.st_ino, strlen(PRIOR));
	CHECKF(strcmp(read_file(log_path), want) == 0, "log: %s",
	    read_file(log_path));
	write_str(out, LINE_A);
	recvlog_close(l);
	CHECK(open_log(out, &l) == 0);
	CHECK(recvlog_printed(l, ID_A));
	recvlog_close(l);
	CHECK(size_of(out_path) == (off_t)(strlen(PRIOR) + strlen(LINE_A)));
	close(out);
}

/* Begun to a file, no D, a partial line (cut after len bytes): 1 when
 * it is cut off and not taken as printed (so printed again, whole). */
static int
begun_line_cut_at(size_t len)
{
	struct recvlog *l;
	int out, ok;

	fresh();
	out = open_out();
	if (open_log(out, &l) != 0 || recvlog_begin(l, ID_A, NULL) != 0 ||
	    write(out, LINE_A, len) != (ssize_t)len)
		exit(2);
	recvlog_close(l);
	if (open_log(out, &l) != 0)
		exit(2);
	ok = !recvlog_printed(l, ID_A) && strcmp(read_file(out_path),
	    PRIOR) == 0;
	recvlog_close(l);
	close(out);
	return ok;
}

static void
begun_line_partial(void)
{
	size_t len, first = 0, last = 0, bad = 0;

	/* Every cut from 1 byte to all but the newline: a kill (or a full
	 * disk) can stop a write at any page boundary, so also within
	 * {"id":"ID" - the first page of a line may hold only a few bytes
	 * of it. */
	for (len = 1; len < strlen(LINE_A); len++)
		if (!begun_line_cut_at(len)) {
			if (bad++ == 0)
				first = len;
			last = len;
		}
	CHECKF(bad == 0, "%zu of %zu cuts not removed, from %zu to %zu "
	    "bytes", bad, strlen(LINE_A) - 1, first, last);
}

/* stdout not opened for appending (e2e-recv > file): the offset is the
 * file position, not the size. */
static void
begun_at_position(void)
{
	struct recvlog *l;
	int out;

	fresh();
	put_str(out_path, PRIOR PRIOR);
	out = open(out_path, O_WRONLY);
	CHECK(out >= 0 && lseek(out, (off_t)strlen(PRIOR), SEEK_SET) ==
	    (off_t)strlen(PRIOR));
	CHECK(open_log(out, &l) == 0);
	CHECK(recvlog_begin(l, ID_A, NULL) == 0);
	write_str(out, LINE_A);
	recvlog_close(l);
	CHECK(open_log(out, &l) == 0);
	CHECK(recvlog_printed(l, ID_A));
	recvlog_close(l);
	close(out);
}

/* Begun to another file (rotated since): cannot tell, printed again;
 * neither file is touched. */
static void
begun_other_file(void)
{
	struct recvlog *l;
	char other[192];
	int out, out2;

	fresh();
	out = open_out();
	CHECK(open_log(out, &l) == 0);
	CHECK(recvlog_begin(l, ID_A, NULL) == 0);
	write_str(out, PART_A);
	recvlog_close(l);
	snprintf(other, sizeof(other), "%s.new", out_path);
	put_str(other, "");
	out2 = open(other, O_WRONLY | O_APPEND);
	CHECK(open_log(out2, &l) == 0);
	CHECK(!recvlog_printed(l, ID_A));
	recvlog_close(l);
	CHECK(size_of(out_path) == (off_t)(strlen(PRIOR) + strlen(PART_A)));
	CHECK(size_of(other) == 0);
	close(out);
	close(out2);
	unlink(other);
}

/* A P whose offset holds another id's line: not ours, kept. */
static void
begun_someone_elses_line(void)
{
	struct recvlog *l;
	int out;

	fresh();
	out = open_out();
	CHECK(open_log(out, &l) == 0);
	CHECK(recvlog_begin(l, ID_A, NULL) == 0);
	write_str(out, PART_B);
	recvlog_close(l);
	CHECK(open_log(out, &l) == 0);
	CHECK(!recvlog_printed(l, ID_A));
	recvlog_close(l);
	CHECK(size_of(out_path) == (off_t)(strlen(PRIOR) + strlen(PART_B)));
	close(out);
}

/* A last line cut short (a kill or a full disk while writing a record)
 * is ignored... */
static void
broken_last_line_ignored(void)
{
	struct recvlog *l;
	int out;

	fresh();
	out = open_out();
	put_str(log_path, "P " ID_A " - - -\nD " ID_A "\nA " ID_A);
	CHECK(open_log(out, &l) == 0);
	CHECK(recvlog_printed(l, ID_A));
	recvlog_close(l);
	put_str(log_path, "D " ID_A "\nA 06H2A3");
	CHECK(open_log(out, &l) == 0);
	CHECK(recvlog_printed(l, ID_A));
	recvlog_close(l);
	close(out);
}

/* ...and does not swallow the record appended after it: the next "P"
 * would otherwise join the broken line, be skipped, and a kill after
 * the print would print the message twice. */
static void
broken_last_line_then_more(void)
{
	struct recvlog *l;
	int out;

	fresh();
	out = open_out();
	put_str(log_path, "P " ID_B " - - -\nD " ID_B "\nP 06H2A3");
	CHECK(open_log(out, &l) == 0);
	CHECK(recvlog_printed(l, ID_B));
	CHECK(recvlog_begin(l, ID_A, NULL) == 0);
	write_str(out, LINE_A);
	/* killed here: no D */
	recvlog_close(l);
	CHECK(open_log(out, &l) == 0);
	CHECKF(recvlog_printed(l, ID_A), "the P after a broken line was "
	    "lost; log:\n%s", read_file(log_path));
	recvlog_close(l);
	close(out);
}

/* Lines that are not records (or name no valid id) are skipped. */
static void
garbage_skipped(void)
{
	struct recvlog *l;
	int out;

	fresh();
	out = open_out();
	put_str(log_path, "\n\nX " ID_A "\nD 06h2a3mcm45vfggxf6rpkvtjpc\n"
	    "D " ID_A "X\nP ../../x - - -\nD\nP " ID_B " 1 2\n"
	    "D " ID_C "\n");
	CHECK(open_log(out, &l) == 0);
	CHECK(!recvlog_printed(l, ID_A));
	CHECK(!recvlog_printed(l, "06h2a3mcm45vfggxf6rpkvtjpc"));
	CHECK(!recvlog_printed(l, ID_B));	/* P without position */
	CHECK(recvlog_printed(l, ID_C));
	recvlog_close(l);
	close(out);
}

static void
too_large(void)
{
	struct recvlog *l = (struct recvlog *)1;
	int fd, out;

	fresh();
	out = open_out();
	fd = open(log_path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0 && ftruncate(fd, ((off_t)16 << 20) + 1) == 0);
	close(fd);
	CHECK(open_log(out, &l) == E2E_EX_CANTCREAT);
	CHECK(l == NULL);
	CHECKF(strstr(why, "too large") != NULL, "%s", why);
	close(out);
}

/* Never through a symlink: the log or the lock planted elsewhere. */
static void
symlinks_refused(void)
{
	struct recvlog *l = (struct recvlog *)1;
	char target[192];
	int out;

	fresh();
	out = open_out();
	snprintf(target, sizeof(target), "%s/target", home);
	put_str(target, "untouched\n");
	CHECK(symlink(target, log_path) == 0);
	CHECK(open_log(out, &l) == E2E_EX_CANTCREAT && l == NULL);
	unlink(log_path);
	unlink(lock_path);
	CHECK(symlink(target, lock_path) == 0);
	l = (struct recvlog *)1;
	CHECK(open_log(out, &l) == E2E_EX_CANTCREAT && l == NULL);
	unlink(lock_path);
	CHECK(strcmp(read_file(target), "untouched\n") == 0);
	unlink(target);
	close(out);
}

int
main(void)
{
	char tmpl[] = "/tmp/e2e-test-recvlog-XXXXXX";

	err_setprog("test_net_recvlog");
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(home, sizeof(home), "%s", tmpl);
	snprintf(log_path, sizeof(log_path), "%s/recv-%s.log", home, USER);
	snprintf(lock_path, sizeof(lock_path), "%s/recv-%s.lock", home, USER);
	snprintf(out_path, sizeof(out_path), "%s/inbox.jsonl", home);

	RUN(lock_twice);
	RUN(printed_remembered);
	RUN(begun_to_pipe);
	RUN(begun_line_whole);
	RUN(begun_line_partial);
	RUN(begun_at_position);
	RUN(begun_other_file);
	RUN(begun_someone_elses_line);
	RUN(broken_last_line_ignored);
	RUN(broken_last_line_then_more);
	RUN(garbage_skipped);
	RUN(too_large);
	RUN(symlinks_refused);

	fresh();
	if (rmdir(home) != 0)
		fprintf(stderr, "%s not empty after the test\n", home);
	return harness_end();
}
