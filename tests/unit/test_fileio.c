/*
 * Every file the tools read or write (lib/base/fileio.c): reading with a
 * size cap (regular files, standard input, pipes and FIFOs, devices),
 * "-" as standard input and output, directories refused; outputs written
 * to a temporary file beside the target with the final mode (0600 exact)
 * and renamed into place only on commit, never over an existing file when
 * asked not to, never over a private key unless forced; devices and the
 * user's own FIFOs written in place only when allowed; a failure, an
 * abort or a signal leaves no temporary file behind.
 */
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"

static char dir[256];

/* dir/name. */
static const char *
at(const char *name)
{
	return harness_path(dir, name);
}

/* A fresh, empty dir. */
static void
fresh(void)
{
	if (dir[0] != '\0')
		harness_rmtree(dir);
	harness_tmpdir("fileio", dir, sizeof(dir));
}

/* The whole of path, NUL-terminated (static). */
static const char *
contents(const char *path)
{
	static char text[4096];
	ssize_t n = -1;
	int fd = open(path, O_RDONLY);

	if (fd >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
	}
	text[n > 0 ? n : 0] = '\0';
	return text;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* Runs file_read(path) with fd as standard input (-1: as it is). */
static int
read_with_stdin(int fd, const char *path, size_t max, struct buf *out)
{
	int saved = -1, rc;

	if (fd >= 0) {
		saved = dup(STDIN_FILENO);
		dup2(fd, STDIN_FILENO);
	}
	capture_begin();
	rc = file_read(path, max, "key file", out, &t_rep);
	rep_shown();
	capture_end();
	if (fd >= 0) {
		dup2(saved, STDIN_FILENO);
		close(saved);
	}
	return rc;
}

/* A child writing len bytes of 'a' into the write end of a pipe, or into
 * the FIFO path (opened for writing). Returns its pid; the caller keeps
 * the read end. */
static pid_t
writer(int wfd, const char *fifo, size_t len)
{
	char chunk[4096];
	pid_t pid;
	size_t n;

	fflush(NULL);
	if ((pid = fork()) != 0)
		return pid;
	if (fifo != NULL && (wfd = open(fifo, O_WRONLY)) < 0)
		_exit(1);
	memset(chunk, 'a', sizeof(chunk));
	signal(SIGPIPE, SIG_DFL);
	while (len > 0) {
		n = len < sizeof(chunk) ? len : sizeof(chunk);
		if (write(wfd, chunk, n) != (ssize_t)n)
			_exit(1);
		len -= n;
	}
	_exit(0);
}

static void
reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

/* Reading a regular file: whole, capped, empty, missing, a directory. */
static void
read_files(void)
{
	struct buf b = BUF_INIT;
	int rc;

	fresh();
	put_str(at("k"), "0123456789");
	CHECK(read_with_stdin(-1, at("k"), 10, &b) == 0);
	CHECK(b.len == 10 && memcmp(b.p, "0123456789", 10) == 0);
	CHECK(cap_len == 0);
	/* A byte over the cap: 65, and nothing kept. */
	rc = read_with_stdin(-1, at("k"), 9, &b);
	CHECK(rc == 65 && b.len == 0);
	CHECKF(strstr(cap_text, "key file ") && strstr(cap_text, "/k is "
	    "larger than the limit of 9 bytes"), "%s", cap_text);
	CHECK(b.limit == 0);
	put_str(at("empty"), "");
	CHECK(read_with_stdin(-1, at("empty"), 10, &b) == 0 && b.len == 0);
	CHECK(read_with_stdin(-1, "/dev/null", 10, &b) == 0 && b.len == 0);

	rc = read_with_stdin(-1, at("missing"), 10, &b);
	CHECK(rc == 66 && b.len == 0);
	CHECKF(strstr(cap_text, "error: cannot open key file ") &&
	    strstr(cap_text, "/missing: No such file or directory"), "%s",
	    cap_text);
	rc = read_with_stdin(-1, dir, 10, &b);
	CHECK(rc == 66);
	CHECKF(strstr(cap_text, "is a directory"), "%s", cap_text);
	/* A read that fails after the open: 66 for a file. */
	rc = read_with_stdin(-1, "/proc/self/mem", 10, &b);
	CHECKF(rc == 66 && b.len == 0, "%d", rc);
	CHECKF(strstr(cap_text, "cannot read key file /proc/self/mem"),
	    "%s", cap_text);
	buf_free(&b);
}

/* "-" and NULL are standard input, a file or a pipe; in messages it is
 * "standard input". */
static void
read_stdin(void)
{
	struct buf b = BUF_INIT;
	int p[2], fd, rc;
	pid_t pid;

	fresh();
	put_str(at("in"), "from stdin");
	fd = open(at("in"), O_RDONLY);
	CHECK(read_with_stdin(fd, "-", 100, &b) == 0);
	CHECK(b.len == 10 && memcmp(b.p, "from stdin", 10) == 0);
	lseek(fd, 0, SEEK_SET);
	CHECK(read_with_stdin(fd, NULL, 100, &b) == 0 && b.len == 10);
	lseek(fd, 0, SEEK_SET);
	rc = read_with_stdin(fd, "-", 4, &b);
	CHECK(rc == 65 && b.len == 0);
	CHECKF(strstr(cap_text, "error: standard input is larger than the "
	    "limit of 4 bytes"), "%s", cap_text);
	close(fd);

	/* Through a pipe, in pieces, past the 64 KiB first block: at the
	 * cap exactly, and one byte over it. */
	CHECK(pipe(p) == 0);
	pid = writer(p[1], NULL, 200000);
	close(p[1]);
	CHECK(read_with_stdin(p[0], "-", 200000, &b) == 0 &&
	    b.len == 200000 && b.p[0] == 'a' && b.p[199999] == 'a');
	close(p[0]);
	reap(pid);
	CHECK(pipe(p) == 0);
	pid = writer(p[1], NULL, 200001);
	close(p[1]);
	rc = read_with_stdin(p[0], "-", 200000, &b);
	CHECK(rc == 65 && b.len == 0);
	CHECKF(strstr(cap_text, "standard input is larger than the limit of "
	    "200000 bytes"), "%s", cap_text);
	close(p[0]);
	reap(pid);

	/* Standard input that cannot be read: an I/O error (74). */
	fd = open(at("in"), O_WRONLY);
	rc = read_with_stdin(fd, "-", 100, &b);
	CHECK(rc == 74);
	CHECKF(strstr(cap_text, "cannot read standard input"), "%s",
	    cap_text);
	close(fd);
	/* A directory on standard input. */
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	rc = read_with_stdin(fd, "-", 100, &b);
	CHECK(rc == 66);
	CHECKF(strstr(cap_text, "standard input is a directory"), "%s",
	    cap_text);
	close(fd);
	buf_free(&b);
}

/* A FIFO is read as a stream, with the same cap. */
static void
read_fifo(void)
{
	struct buf b = BUF_INIT;
	pid_t pid;
	int rc;

	fresh();
	CHECK(mkfifo(at("fifo"), 0600) == 0);
	pid = writer(-1, at("fifo"), 5000);
	CHECK(read_with_stdin(-1, at("fifo"), 5000, &b) == 0 &&
	    b.len == 5000);
	reap(pid);
	pid = writer(-1, at("fifo"), 5001);
	rc = read_with_stdin(-1, at("fifo"), 5000, &b);
	CHECK(rc == 65 && b.len == 0);
	reap(pid);
	buf_free(&b);
}

/* file_view maps a large regular file, reads anything else, with
 * file_read's limits. */
static void
views(void)
{
	struct input_view v;
	char *big = malloc(FILEIO_MAP_MIN);
	int rc;

	fresh();
	if (big == NULL)
		exit(2);
	memset(big, 'b', FILEIO_MAP_MIN);
	put_bytes(at("big"), big, FILEIO_MAP_MIN, 0600);
	put_str(at("small"), "small");
	CHECK(file_view(at("big"), FILEIO_MAP_MIN, "input", &v, NULL) == 0);
	CHECK(v.map != NULL && v.len == FILEIO_MAP_MIN && v.p[0] == 'b' &&
	    v.p[FILEIO_MAP_MIN - 1] == 'b');
	file_view_free(&v);
	CHECK(v.map == NULL && v.p == NULL && v.len == 0);
	CHECK(file_view(at("small"), 100, "input", &v, NULL) == 0);
	CHECK(v.map == NULL && v.len == 5 && memcmp(v.p, "small", 5) == 0);
	file_view_free(&v);
	/* Over the cap: not mapped, refused by the read. */
	capture_begin();
	rc = file_view(at("big"), FILEIO_MAP_MIN - 1, "input", &v, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65 && v.map == NULL);
	CHECKF(strstr(cap_text, "is larger than the limit"), "%s", cap_text);
	file_view_free(&v);
	capture_begin();
	rc = file_view(at("missing"), 100, "input", &v, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 66);
	file_view_free(&v);
	capture_begin();
	rc = file_view(dir, 100, "input", &v, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 66 && strstr(cap_text, "is a directory"));
	file_view_free(&v);
	free(big);
}

static void
std_names(void)
{
	CHECK(file_is_std(NULL) == 1);
	CHECK(file_is_std("-") == 1);
	CHECK(file_is_std("--") == 0);
	CHECK(file_is_std("./-") == 0);
	CHECK(file_is_std("") == 0);
}

static void
exposed(void)
{
	fresh();
	put_bytes(at("key"), "k", 1, 0644);
	capture_begin();
	file_warn_if_exposed(at("key"), "private key file", &t_rep);
	rep_shown();
	capture_end();
	CHECKF(strstr(cap_text, "warning: private key file ") &&
	    strstr(cap_text, "/key can be read by group or others") &&
	    strstr(cap_text, "hint: chmod 600 "), "%s", cap_text);
	put_bytes(at("key"), "k", 1, 0640);
	capture_begin();
	file_warn_if_exposed(at("key"), "private key file", &t_rep);
	rep_shown();
	capture_end();
	CHECK(cap_len > 0);
	/* Nothing to say: private, standard input, not a file, absent. */
	put_bytes(at("key"), "k", 1, 0600);
	capture_begin();
	file_warn_if_exposed(at("key"), "private key file", &t_rep);
	file_warn_if_exposed("-", "private key file", &t_rep);
	file_warn_if_exposed(NULL, "private key file", &t_rep);
	file_warn_if_exposed(dir, "private key file", &t_rep);
	file_warn_if_exposed(at("missing"), "private key file", &t_rep);
	rep_shown();
	capture_end();
	CHECKF(cap_len == 0, "%s", cap_text);
}

static void
check_new(void)
{
	static const struct {
		const char *name;	/* in dir; "" for dir itself + "/" */
		int force, want;
		const char *says;
	} t[] = {
		{ "new", 0, 0, NULL },
		{ "new", 1, 0, NULL },
		{ "file", 0, 73, "already exists" },
		{ "file", 1, 0, NULL },
		{ "link", 0, 73, "already exists" },
		{ "link", 1, 0, NULL },
		{ "dangling", 0, 73, "already exists" },
		{ "sub", 0, 73, "already exists" },
		{ "sub", 1, 73, "not a regular file" },
		{ "fifo", 1, 73, "not a regular file" },
		{ "sub/", 1, 73, "not a file name" },
	};
	char path[512];
	size_t i;
	int rc;

	fresh();
	put_str(at("file"), "x");
	CHECK(symlink(at("file"), at("link")) == 0);
	CHECK(symlink(at("nothing"), at("dangling")) == 0);
	CHECK(mkdir(at("sub"), 0700) == 0);
	CHECK(mkfifo(at("fifo"), 0600) == 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(path, sizeof(path), "%s", at(t[i].name));
		capture_begin();
		rc = file_check_new(path, t[i].force, &t_rep);
		rep_shown();
		capture_end();
		CHECKF(rc == t[i].want, "%s force %d: %d", t[i].name,
		    t[i].force, rc);
		if (t[i].says != NULL)
			CHECKF(strstr(cap_text, t[i].says), "%s: %s",
			    t[i].name, cap_text);
		else
			CHECKF(cap_len == 0, "%s: %s", t[i].name, cap_text);
		if (t[i].want == 73 && !t[i].force &&
		    strcmp(t[i].says, "already exists") == 0)
			CHECK(strstr(cap_text, "hint: use --force to overwrite "
			    "it") != NULL);
	}
	capture_begin();
	rc = file_check_new("", 0, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 73 && strstr(cap_text, "not a file name"));
}

/* Opens path (mode 0600 unless said), writes text, and commits with
 * noclobber; or returns the first failure. Everything is captured. */
static int
write_out(const char *path, const char *text, mode_t mode, int allow,
    int noclobber)
{
	struct outfile o = OUTFILE_INIT;
	int rc;

	capture_begin();
	if ((rc = outfile_open(&o, path, mode, allow, &t_rep)) != 0 ||
	    (rc = outfile_puts(&o, text, &t_rep)) != 0) {
		outfile_abort(&o);
		rep_shown();
		capture_end();
		return rc;
	}
	rc = outfile_commit(&o, noclobber, &t_rep);
	rep_shown();
	capture_end();
	return rc;
}

/* The output is a temporary file beside the target until commit. */
static void
atomic_output(void)
{
	struct outfile o = OUTFILE_INIT;
	struct dirent *e;
	const char *base;
	mode_t old = umask(022);
	DIR *d;
	int seen = 0;

	fresh();
	CHECK(outfile_open(&o, at("out"), 0600, 0, NULL) == 0);
	CHECK(outfile_is_terminal(&o) == 0);
	CHECK(outfile_puts(&o, "secret", NULL) == 0);
	/* One file, hidden, ending in "~", mode 0600 from the start; no
	 * target yet. */
	CHECK(harness_entries(dir) == 1 && access(at("out"), F_OK) != 0);
	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			base = e->d_name;
			if (base[0] == '.' && strncmp(base, ".out.", 5) == 0 &&
			    base[strlen(base) - 1] == '~') {
				seen = 1;
				CHECK(mode_of(at(base)) == 0600);
			}
		}
		closedir(d);
	}
	CHECK(seen);
	CHECK(outfile_commit(&o, 1, NULL) == 0);
	CHECK(harness_entries(dir) == 1);
	CHECK(strcmp(contents(at("out")), "secret") == 0);
	CHECK(mode_of(at("out")) == 0600);
	/* Committing closed it; aborting after is harmless. */
	outfile_abort(&o);
	CHECK(strcmp(contents(at("out")), "secret") == 0);

	/* Aborted: nothing at all. */
	CHECK(outfile_open(&o, at("gone"), 0600, 0, NULL) == 0);
	CHECK(outfile_puts(&o, "never", NULL) == 0);
	outfile_abort(&o);
	outfile_abort(&o);
	CHECK(harness_entries(dir) == 1 && access(at("gone"), F_OK) != 0);
	/* A write after the abort fails. */
	CHECK(outfile_write(&o, "x", 1, NULL) == 74);
	umask(old);
}

/* Rewound, a temporary file starts again empty: what was written before,
 * buffered or not, is gone; once closed, rewinding fails (74). */
static void
rewound_output(void)
{
	struct outfile o = OUTFILE_INIT;
	static char big[100000];

	fresh();
	memset(big, 'x', sizeof(big));
	CHECK(outfile_open(&o, at("out"), 0600, 0, NULL) == 0);
	CHECK(outfile_write(&o, big, sizeof(big), NULL) == 0);
	CHECK(outfile_puts(&o, "buffered", NULL) == 0);
	CHECK(outfile_rewind(&o, NULL) == 0);
	CHECK(outfile_puts(&o, "again", NULL) == 0);
	CHECK(outfile_commit(&o, 1, NULL) == 0);
	CHECK(strcmp(contents(at("out")), "again") == 0);
	CHECK(outfile_rewind(&o, NULL) == 74);
	outfile_abort(&o);
}

/* 0600 is exact whatever the umask; other modes less the umask. */
static void
modes(void)
{
	static const struct { mode_t mode, mask, want; } t[] = {
		{ 0600, 022, 0600 },
		{ 0600, 0, 0600 },
		{ 0600, 077, 0600 },
		{ 0644, 022, 0644 },
		{ 0644, 077, 0600 },
		{ 0666, 0, 0666 },
		{ 0666, 027, 0640 },
		{ 0606, 022, 0604 },
		{ 0660, 077, 0600 },
	};
	mode_t old;
	size_t i;

	fresh();
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		old = umask(t[i].mask);
		unlink(at("m"));
		CHECK(write_out(at("m"), "m", t[i].mode, 0, 1) == 0);
		CHECKF(mode_of(at("m")) == t[i].want, "mode %o umask %o: %o",
		    (unsigned)t[i].mode, (unsigned)t[i].mask,
		    (unsigned)mode_of(at("m")));
		umask(old);
		unlink(at("w"));
		CHECK(file_write_atomic(at("w"), "w", 1, t[i].mode, 1,
		    NULL) == 0);
		CHECK(mode_of(at("w")) == (t[i].mode == 0600 ? 0600 :
		    (t[i].mode & ~old)));
	}
}

#define PRIVATE_PEM "-----BEGIN PRIVATE KEY-----\nMIIE\n" \
	"-----END PRIVATE KEY-----\n"

/* What commit does to an existing target: noclobber > 0 keeps it, 0
 * replaces anything but a private key, < 0 replaces everything. A
 * refusal leaves the target as it was and no temporary file. */
static void
clobbering(void)
{
	static const struct {
		const char *before;	/* NULL: no target */
		int noclobber, want;
		const char *says;
	} t[] = {
		{ NULL, 1, 0, NULL },
		{ "old", 1, 73, "already exists" },
		{ "old", 0, 0, NULL },
		{ "old", -1, 0, NULL },
		{ PRIVATE_PEM, 0, 73, "holds a private key; not overwriting "
		    "it" },
		{ "-----BEGIN RSA PRIVATE KEY-----\n", 0, 73, "holds a private "
		    "key" },
		{ "-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 0, 73, "holds a "
		    "private key" },
		{ PRIVATE_PEM, 1, 73, "already exists" },
		{ PRIVATE_PEM, -1, 0, NULL },
		{ "-----BEGIN PUBLIC KEY-----\n", 0, 0, NULL },
	};
	size_t i;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fresh();
		if (t[i].before != NULL)
			put_str(at("t"), t[i].before);
		rc = write_out(at("t"), "new", 0600, 0, t[i].noclobber);
		CHECKF(rc == t[i].want, "case %zu: %d %s", i, rc, cap_text);
		CHECKF(strcmp(contents(at("t")), rc == 0 ? "new" :
		    t[i].before ? t[i].before : "") == 0, "case %zu: %s", i,
		    contents(at("t")));
		CHECKF(harness_entries(dir) == (rc == 0 || t[i].before ? 1 :
		    0), "case %zu: %d entries", i, harness_entries(dir));
		if (t[i].says != NULL) {
			CHECKF(strstr(cap_text, t[i].says), "case %zu: %s", i,
			    cap_text);
			CHECK(strstr(cap_text, "hint: use --force to overwrite "
			    "it") != NULL);
		}
	}
	/* The same through file_write_atomic. */
	fresh();
	put_str(at("t"), "old");
	capture_begin();
	CHECK(file_write_atomic(at("t"), "new", 3, 0600, 1, &t_rep) == 73);
	CHECK(file_write_atomic(at("t"), "new", 3, 0600, -1, &t_rep) == 0);
	rep_shown();
	capture_end();
	CHECK(strcmp(contents(at("t")), "new") == 0);
	CHECK(harness_entries(dir) == 1);
}

/* What cannot be an output: a folder, a name that is not a file's, a
 * missing folder, a name too long; and what is written in place only
 * when allowed: devices, the user's own FIFOs. */
static void
special_outputs(void)
{
	char longname[300], fifo_text[16] = "";
	struct stat st;
	int rfd, rc;
	ssize_t n;

	fresh();
	CHECK(mkdir(at("sub"), 0700) == 0);
	rc = write_out(at("sub"), "x", 0600, 1, 1);
	CHECK(rc == 73 && strstr(cap_text, "Is a directory"));
	rc = write_out(at("sub/"), "x", 0600, 0, 1);
	CHECK(rc == 73);
	rc = write_out(at("no/such/out"), "x", 0600, 0, 1);
	CHECK(rc == 73 && strstr(cap_text, "cannot create ") &&
	    strstr(cap_text, "No such file or directory"));
	memset(longname, 'n', 250);
	longname[250] = '\0';
	rc = write_out(at(longname), "x", 0600, 0, 1);
	CHECKF(rc == 73, "%d %s", rc, cap_text);
	CHECK(harness_entries(dir) == 1);

	/* Devices: in place when allowed, refused otherwise. */
	CHECK(write_out("/dev/null", "x", 0600, 1, 0) == 0);
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
	rc = write_out("/dev/null", "x", 0600, 0, 0);
	CHECK(rc == 73 && strstr(cap_text, "it exists and is not a regular "
	    "file"));
	/* A device that fails: the error is the commit's (74). */
	rc = write_out("/dev/full", "x", 0600, 1, 0);
	CHECKF(rc == 74 && strstr(cap_text, "cannot write /dev/full"),
	    "%d %s", rc, cap_text);

	/* A FIFO of mine, with a reader: written in place when allowed. */
	CHECK(mkfifo(at("fifo"), 0600) == 0);
	rc = write_out(at("fifo"), "x", 0600, 0, 0);
	CHECK(rc == 73 && strstr(cap_text, "not a regular file"));
	rfd = open(at("fifo"), O_RDONLY | O_NONBLOCK);
	CHECK(rfd >= 0);
	CHECK(write_out(at("fifo"), "to the fifo", 0600, 1, 0) == 0);
	n = read(rfd, fifo_text, sizeof(fifo_text) - 1);
	fifo_text[n > 0 ? n : 0] = '\0';
	CHECK(strcmp(fifo_text, "to the fifo") == 0);
	close(rfd);
	CHECK(lstat(at("fifo"), &st) == 0 && S_ISFIFO(st.st_mode));
	/* Without a reader it cannot be opened (not blocking). */
	rc = write_out(at("fifo"), "x", 0600, 1, 0);
	CHECK(rc == 73 && strstr(cap_text, "cannot open "));
	/* Someone else's FIFO: refused even when allowed (root can make
	 * one to test with). */
	if (geteuid() == 0 && chown(at("fifo"), 65534, 65534) == 0) {
		rfd = open(at("fifo"), O_RDONLY | O_NONBLOCK);
		rc = write_out(at("fifo"), "x", 0600, 1, 0);
		CHECKF(rc == 73 && strstr(cap_text, "not a regular file, a "
		    "device, or a pipe of yours"), "%d %s", rc, cap_text);
		close(rfd);
	} else {
		harness_skip("not root: no FIFO of another user to test");
	}
	CHECK(harness_entries(dir) == 2);
}

/* A symbolic link to a regular file (or to nothing) is replaced like a
 * file: the link goes, what it pointed to stays. To a folder, refused. */
static void
links(void)
{
	struct stat st;
	int rc;

	fresh();
	put_str(at("target"), "target");
	CHECK(symlink(at("target"), at("link")) == 0);
	CHECK(write_out(at("link"), "new", 0600, 0, 0) == 0);
	CHECK(strcmp(contents(at("target")), "target") == 0);
	CHECK(lstat(at("link"), &st) == 0 && S_ISREG(st.st_mode));
	CHECK(strcmp(contents(at("link")), "new") == 0);
	CHECK(mode_of(at("link")) == 0600);
	CHECK(symlink(at("nothing"), at("dangling")) == 0);
	CHECK(write_out(at("dangling"), "new", 0600, 0, 0) == 0);
	CHECK(access(at("nothing"), F_OK) != 0);
	CHECK(strcmp(contents(at("dangling")), "new") == 0);
	CHECK(mkdir(at("sub"), 0700) == 0);
	CHECK(symlink(at("sub"), at("sublink")) == 0);
	rc = write_out(at("sublink"), "x", 0600, 0, 0);
	CHECK(rc == 73 && strstr(cap_text, "not a regular file"));
	rc = write_out(at("sublink"), "x", 0600, 1, 0);
	CHECK(rc == 73);
	CHECK(harness_entries(dir) == 5);
	CHECK(harness_entries(at("sub")) == 0);
}

/* "-", NULL and /dev/stdout are standard output, written in place. */
static void
std_output(void)
{
	struct outfile o = OUTFILE_INIT;
	struct sink s;
	char text[64] = "";
	FILE *f = tmpfile();
	int saved = dup(STDOUT_FILENO);
	const char *names[] = { "-", NULL, "/dev/stdout" };
	size_t i, n;

	if (f == NULL || saved < 0)
		exit(2);
	fflush(stdout);
	dup2(fileno(f), STDOUT_FILENO);
	for (i = 0; i < 3; i++) {
		CHECK(outfile_open(&o, names[i], 0600, 0, NULL) == 0);
		s = sink_outfile(&o, NULL);
		CHECK(sink_puts(&s, i == 0 ? "one " : i == 1 ? "two " :
		    "three") == 0);
		CHECK(outfile_commit(&o, 1, NULL) == 0);
	}
	dup2(saved, STDOUT_FILENO);
	close(saved);
	CHECK(fcntl(STDOUT_FILENO, F_GETFD) >= 0);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	CHECKF(strcmp(text, "one two three") == 0, "%s", text);
}

/* The committed "big" holds the n bytes of big, which is freed. */
static void
big_committed(char *big, size_t n)
{
	struct buf b = BUF_INIT;

	capture_begin();
	CHECK(file_read(at("big"), n, "output", &b, &t_rep) == 0);
	rep_shown();
	capture_end();
	CHECK(b.len == n && memcmp(b.p, big, n) == 0);
	buf_free(&b);
	free(big);
}

/* Writes larger than the buffer, in pieces and at once. */
static void
large_writes(void)
{
	struct outfile o = OUTFILE_INIT;
	size_t n = 300000, i;
	char *big = malloc(n);

	if (big == NULL)
		exit(2);
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	fresh();
	CHECK(outfile_open(&o, at("big"), 0644, 0, NULL) == 0);
	CHECK(outfile_write(&o, big, 100, NULL) == 0);
	CHECK(outfile_write(&o, big + 100, 70000, NULL) == 0);
	CHECK(outfile_write(&o, big + 70100, n - 70100, NULL) == 0);
	CHECK(outfile_commit(&o, 1, NULL) == 0);
	big_committed(big, n);
}

/* An output past 8 MiB has its write-back begun as it grows (the count
 * since the last start stays under 8 MiB), and commits whole, written
 * in pieces through the buffer and past it. */
static void
writeback_as_it_grows(void)
{
	struct outfile o = OUTFILE_INIT;
	size_t n = (size_t)20 << 20, i, k, step;
	char *big = malloc(n);
	int ok = 1;

	if (big == NULL)
		exit(2);
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 23);
	fresh();
	CHECK(outfile_open(&o, at("big"), 0644, 0, NULL) == 0);
	for (i = 0, k = 0; i < n; i += step, k++) {
		step = k % 2 ? 1000 : 300001;
		if (step > n - i)
			step = n - i;
		ok &= outfile_write(&o, big + i, step, NULL) == 0;
		ok &= o.unsynced < ((size_t)8 << 20);
	}
	CHECK(ok);
	CHECK(outfile_commit(&o, 1, NULL) == 0);
	big_committed(big, n);
}

/* SIGTERM while an output is being written: fileio_on_signal's handler
 * removes the temporary file, and the process still dies of the
 * signal. */
static void
signals(void)
{
	struct outfile o = OUTFILE_INIT;
	pid_t pid;
	int st;

	fresh();
	fflush(NULL);
	if ((pid = fork()) == 0) {
		fileio_on_signal();
		if (outfile_open(&o, at("out"), 0600, 0, NULL) != 0 ||
		    outfile_puts(&o, "half", NULL) != 0 ||
		    harness_entries(dir) != 1)
			_exit(1);
		raise(SIGTERM);
		_exit(2);
	}
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status %d", st);
	CHECK(harness_entries(dir) == 0);
}

int
main(void)
{
	err_setprog("test_fileio");
	RUN(read_files);
	RUN(read_stdin);
	RUN(read_fifo);
	RUN(views);
	RUN(std_names);
	RUN(exposed);
	RUN(check_new);
	RUN(atomic_output);
	RUN(rewound_output);
	RUN(modes);
	RUN(clobbering);
	RUN(special_outputs);
	RUN(links);
	RUN(std_output);
	RUN(large_writes);
	RUN(writeback_as_it_grows);
	RUN(signals);
	harness_rmtree(dir);
	return harness_end();
}
