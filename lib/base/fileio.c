/* fileio.c - bounded reads and atomic writes (see fileio.h). */
#include "base/fileio.h"
#include "base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define WBUF_SIZE (64 * 1024)
/* A temporary file's write-back is started every this many bytes. */
#define WRITEBACK_STEP ((size_t)8 << 20)

/*
 * The temporary file being written, so that an interrupted tool (SIGINT,
 * SIGTERM, SIGHUP) removes it instead of leaving a partial output, maybe
 * a plaintext, behind (fileio_on_signal).
 */
static char pending[PATH_MAX];
static volatile sig_atomic_t have_pending;

static void
set_pending(const char *tmp)
{
	have_pending = 0;
	if (tmp != NULL && strlen(tmp) < sizeof(pending)) {
		memcpy(pending, tmp, strlen(tmp) + 1);
		have_pending = 1;
	}
}

static void
on_signal(int sig)
{
	if (have_pending)
		(void)unlink(pending);
	signal(sig, SIG_DFL);
	raise(sig);
}

void
fileio_on_signal(void)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
}

int
file_is_std(const char *path)
{
	return path == NULL || strcmp(path, "-") == 0;
}

/* "standard input", or what and the path ("key file bob"). */
static const char *
display(const char *what, const char *path, char *tmp, size_t size)
{
	if (file_is_std(path))
		return "standard input";
	snprintf(tmp, size, "%s %s", what, path);
	return tmp;
}

int
file_exposed(const char *path)
{
	struct stat st;

	return !file_is_std(path) && stat(path, &st) == 0 &&
	    S_ISREG(st.st_mode) && (st.st_mode & 077) != 0;
}

void
file_warn_if_exposed(const char *path, const char *what,
    struct report *rep)
{
	if (file_exposed(path)) {
		report_warn(rep, "%s %s can be read by group or others", what,
		    path);
		report_hint(rep, "chmod 600 %s", path);
	}
}

int
file_read(const char *path, size_t max, const char *what, struct buf *out,
    struct report *rep)
{
	struct stat st;
	unsigned char probe[4096];
	char name[512];
	int fd, rc = 0, is_std = file_is_std(path);
	size_t grow;
	ssize_t n;

	buf_clear(out);
	/* Growing past the cap would only be to fail. */
	out->limit = max;
	if (is_std) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			report_errno(rep, E2E_EX_NOINPUT, "cannot open %s %s",
			    what, path);
			return E2E_EX_NOINPUT;
		}
	}
	if (fstat(fd, &st) != 0) {
		report_errno(rep, E2E_EX_NOINPUT, "cannot read %s",
		    display(what, path, name,
		    sizeof(name)));
		rc = E2E_EX_NOINPUT;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		report_error(rep, E2E_EX_NOINPUT, "%s is a directory",
		    display(what, path, name,
		    sizeof(name)));
		rc = E2E_EX_NOINPUT;
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
		report_error(rep, E2E_EX_DATAERR,
		    "%s is larger than the limit of %zu bytes",
		    display(what, path, name, sizeof(name)), max);
		rc = E2E_EX_DATAERR;
		goto out;
	}
	/* Read the exact size when known, in one allocation. */
	if (S_ISREG(st.st_mode) && buf_reserve(out, (size_t)st.st_size) != 0) {
		rc = report_oom(rep);
		goto out;
	}
	for (;;) {
		unsigned char *dst;
		size_t room = out->cap > out->len + 1 ? out->cap - out->len - 1 : 0;

		/* When full, probe for more before growing: a file read at its
		 * known size is never copied to a larger block. */
		dst = room > 0 ? out->p + out->len : probe;
		n = read(fd, dst, room > 0 ? room : sizeof(probe));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			report_errno(rep, is_std ?
			    E2E_EX_IOERR : E2E_EX_NOINPUT, "cannot read %s",
			    display(what, path, name,
			    sizeof(name)));
			rc = is_std ? E2E_EX_IOERR : E2E_EX_NOINPUT;
			goto out;
		}
		if (n == 0)
			break;
		if (room > 0) {
			out->len += (size_t)n;
			continue;
		}
		/* The probe may hold a secret (a passphrase from a pipe). */
		if ((size_t)n > max - out->len) {
			report_error(rep, E2E_EX_DATAERR,
			    "%s is larger than the limit of %zu bytes",
			    display(what, path, name, sizeof(name)), max);
			rc = E2E_EX_DATAERR;
			goto out;
		}
		/* Double, but never beyond the cap. */
		grow = out->len < 65536 ? 65536 : out->len;
		if (grow > max - out->len)
			grow = max - out->len;
		if (buf_reserve(out, grow) != 0 ||
		    buf_append(out, probe, (size_t)n) != 0) {
			rc = report_oom(rep);
			goto out;
		}
	}
out:
	wipe(probe, sizeof(probe));
	if (!is_std)
		close(fd);
	out->limit = 0;
	if (rc != 0)
		buf_clear(out);
	return rc;
}

int
infile_open(struct infile *in, const char *path, uint64_t max,
    const char *what, struct report *rep)
{
	struct stat st;
	char name[512];
	int rc;

	memset(in, 0, sizeof(*in));
	in->is_std = file_is_std(path);
	in->path = path;
	in->what = what;
	in->max = max;
	if (in->is_std) {
		in->fd = STDIN_FILENO;
	} else if ((in->fd = open(path, O_RDONLY | O_CLOEXEC |
	    O_NOCTTY)) < 0) {
		report_errno(rep, E2E_EX_NOINPUT, "cannot open %s %s", what,
		    path);
		return E2E_EX_NOINPUT;
	}
	if (fstat(in->fd, &st) != 0) {
		rc = report_errno(rep, E2E_EX_NOINPUT, "cannot read %s",
		    display(what, path, name, sizeof(name)));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = report_error(rep, E2E_EX_NOINPUT, "%s is a directory",
		    display(what, path, name, sizeof(name)));
		goto fail;
	}
	in->regular = S_ISREG(st.st_mode);
	in->size = in->regular ? (uint64_t)st.st_size : 0;
	if (in->regular && in->size > max) {
		rc = report_error(rep, E2E_EX_DATAERR,
		    "%s is larger than the limit of %llu bytes",
		    display(what, path, name, sizeof(name)),
		    (unsigned long long)max);
		goto fail;
	}
	return 0;
fail:
	infile_close(in);
	return rc;
}

int
infile_read(struct infile *in, void *p, size_t cap, size_t *got,
    struct report *rep)
{
	char name[512];
	size_t have = 0;
	ssize_t n;

	*got = 0;
	/* Fill the buffer: a pipe gives a little at a time. */
	while (have < cap) {
		n = read(in->fd, (uint8_t *)p + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			report_errno(rep, in->is_std ? E2E_EX_IOERR :
			    E2E_EX_NOINPUT, "cannot read %s",
			    display(in->what, in->path, name, sizeof(name)));
			return in->is_std ? E2E_EX_IOERR : E2E_EX_NOINPUT;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if (have > in->max - in->done) {
		report_error(rep, E2E_EX_DATAERR,
		    "%s is larger than the limit of %llu bytes",
		    display(in->what, in->path, name, sizeof(name)),
		    (unsigned long long)in->max);
		return E2E_EX_DATAERR;
	}
	in->done += have;
	*got = have;
	return 0;
}

int
infile_pread(struct infile *in, void *p, size_t n, uint64_t off,
    struct report *rep)
{
	char name[512];
	size_t have = 0;
	ssize_t r;

	while (have < n) {
		r = pread(in->fd, (uint8_t *)p + have, n - have,
		    (off_t)(off + have));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;	/* it shrank meanwhile */
			report_errno(rep, E2E_EX_NOINPUT, "cannot read %s",
			    display(in->what, in->path, name, sizeof(name)));
			return E2E_EX_NOINPUT;
		}
		have += (size_t)r;
	}
	return 0;
}

static int
infile_source_read(void *ctx, uint8_t *p, size_t cap, size_t *got,
    struct report *rep)
{
	return infile_read(ctx, p, cap, got, rep);
}

struct source
infile_source(struct infile *in)
{
	struct source s = { infile_source_read, in };

	return s;
}

void
infile_close(struct infile *in)
{
	if (!in->is_std && in->fd >= 0)
		close(in->fd);
	in->fd = -1;
}

int
file_view(const char *path, size_t max, const char *what,
    struct input_view *v, struct report *rep)
{
	struct stat st;
	void *map;
	int fd, rc;

	memset(v, 0, sizeof(*v));
	v->b.secret = 1;
	if (!file_is_std(path) && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uintmax_t)st.st_size >= FILEIO_MAP_MIN &&
	    (uintmax_t)st.st_size <= max) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0) {
			map = mmap(NULL, (size_t)st.st_size, PROT_READ,
			    MAP_PRIVATE | MAP_POPULATE, fd, 0);
			close(fd);
			if (map != MAP_FAILED) {
				v->map = map;
				v->map_len = (size_t)st.st_size;
				v->p = map;
				v->len = v->map_len;
				return 0;
			}
		}
		/* Otherwise read it: file_read says what is wrong. */
	}
	if ((rc = file_read(path, max, what, &v->b, rep)) != 0)
		return rc;
	v->p = v->b.p;
	v->len = v->b.len;
	return 0;
}

void
file_view_free(struct input_view *v)
{
	if (v->map != NULL)
		munmap(v->map, v->map_len);
	buf_free(&v->b);
	memset(v, 0, sizeof(*v));
	v->b.secret = 1;
}

int
file_check_new(const char *path, int force, struct report *rep)
{
	struct stat st;
	size_t n = strlen(path);

	if (n == 0 || path[n - 1] == '/') {
		report_error(rep, E2E_EX_CANTCREAT,
		    "cannot create %s: not a file name", path);
		return E2E_EX_CANTCREAT;
	}
	if (lstat(path, &st) != 0)
		return 0;
	if (!force) {
		report_error(rep, E2E_EX_CANTCREAT, "%s already exists", path);
		report_hint(rep, "use --force to overwrite it");
		return E2E_EX_CANTCREAT;
	}
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		report_error(rep, E2E_EX_CANTCREAT,
		    "cannot replace %s: not a regular file", path);
		return E2E_EX_CANTCREAT;
	}
	return 0;
}

static char *
dup_str(const char *s, struct report *rep)
{
	char *d = strdup(s);

	if (d == NULL)
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	return d;
}

/*
 * An existing output that is not a regular file. Devices (/dev/null, a
 * terminal) are written to in place: a file renamed over one would
 * replace it. A FIFO only when it is ours: one planted in a shared folder
 * by someone else would carry keys or plaintext to them. The checks are
 * made on the opened descriptor, not on the name (no stat-then-open
 * race). Returns 1 (o->fd opened), 0 (not special: use a temporary file),
 * or an exit code (reported).
 */
static int
open_special(struct outfile *o, const char *path, int allow,
    struct report *rep)
{
	struct stat st, lst;
	int fd, flags = O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;

	if (lstat(path, &lst) != 0)
		return 0;		/* a new file */
	if (S_ISREG(lst.st_mode))
		return 0;
	if (S_ISDIR(lst.st_mode)) {
		errno = EISDIR;
		report_errno(rep, E2E_EX_CANTCREAT, "cannot create %s", path);
		return E2E_EX_CANTCREAT;
	}
	if (S_ISLNK(lst.st_mode)) {
		/* A link to a regular file (or to nothing) is replaced like
		 * a regular file; to anything else, followed below. */
		if (stat(path, &st) != 0 || S_ISREG(st.st_mode))
			return 0;
	} else {
		flags |= O_NOFOLLOW;
	}
	if (!allow) {
		report_error(rep, E2E_EX_CANTCREAT,
		    "cannot create %s: it exists and is not a regular "
		    "file", path);
		return E2E_EX_CANTCREAT;
	}
	if ((fd = open(path, flags)) < 0) {
		report_errno(rep, E2E_EX_CANTCREAT, "cannot open %s", path);
		return E2E_EX_CANTCREAT;
	}
	if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode) ||
	    !(S_ISCHR(st.st_mode) || (S_ISFIFO(st.st_mode) &&
	    st.st_uid == geteuid()))) {
		close(fd);
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			report_errno(rep, E2E_EX_CANTCREAT, "cannot create %s",
			    path);
		} else {
			report_error(rep, E2E_EX_CANTCREAT,
			    "cannot write to %s: not a regular file, a "
			    "device, or a pipe of yours", path);
		}
		return E2E_EX_CANTCREAT;
	}
	/* Blocking writes from here on. */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	o->fd = fd;
	o->direct = 1;
	return 1;
}

int
outfile_open(struct outfile *o, const char *path, mode_t mode,
    int allow_devices, struct report *rep)
{
	const char *slash, *base;
	size_t dirlen, need;
	unsigned tries;
	mode_t mask;
	int rc;

	o->wlen = 0;
	o->wbuf = malloc(WBUF_SIZE);
	if (o->wbuf == NULL) {
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		return E2E_EX_SOFTWARE;
	}
	if (file_is_std(path) || strcmp(path, "/dev/stdout") == 0) {
		o->direct = 1;
		o->fd = STDOUT_FILENO;
		return 0;
	}
	if ((o->path = dup_str(path, rep)) == NULL)
		return E2E_EX_SOFTWARE;
	if ((rc = open_special(o, path, allow_devices, rep)) != 0)
		return rc == 1 ? 0 : rc;
	slash = strrchr(path, '/');
	dirlen = slash != NULL ? (size_t)(slash - path) + 1 : 0;
	base = path + dirlen;
	if (*base == '\0') {
		report_error(rep, E2E_EX_CANTCREAT,
		    "cannot create %s: not a file name", path);
		return E2E_EX_CANTCREAT;
	}
	need = strlen(path) + 16;
	if ((o->tmp = malloc(need)) == NULL) {
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		return E2E_EX_SOFTWARE;
	}
	/* The temporary name is beside the target so rename() is atomic. */
	for (tries = 0; tries < 100; tries++) {
		unsigned r = (unsigned)getpid() * 2654435761u + tries * 40503u +
		    (unsigned)(uintptr_t)o;
		int n = snprintf(o->tmp, need, "%.*s.%s.%06x~", (int)dirlen,
		    path, base, r & 0xffffff);
		if (n < 0 || (size_t)n >= need) {
			report_error(rep, E2E_EX_CANTCREAT,
			    "cannot create %s: name too long", path);
			return E2E_EX_CANTCREAT;
		}
		/* Read and write: a temporary file may be changed in place
		 * (outfile_pread). */
		o->fd = open(o->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, mode);
		if (o->fd >= 0 || errno != EEXIST)
			break;
	}
	if (o->fd < 0) {
		report_errno(rep, E2E_EX_CANTCREAT, "cannot create %s", path);
		free(o->tmp);
		o->tmp = NULL;
		return E2E_EX_CANTCREAT;
	}
	set_pending(o->tmp);
	/* Secret files get exactly their mode; others what the umask lets
	 * them have, as any new file would. */
	if ((mode & 077) != 0) {
		mask = umask(0);
		umask(mask);
		mode &= ~mask;
	}
	if (fchmod(o->fd, mode) != 0) {
		report_errno(rep, E2E_EX_CANTCREAT, "cannot set the mode of %s",
		    path);
		outfile_abort(o);
		return E2E_EX_CANTCREAT;
	}
	return 0;
}

int
outfile_is_terminal(const struct outfile *o)
{
	return o->fd >= 0 && isatty(o->fd);
}

static int
write_all(struct outfile *o, const unsigned char *p, size_t n,
    struct report *rep)
{
	ssize_t w;

	while (n > 0) {
		w = write(o->fd, p, n > SSIZE_MAX ? SSIZE_MAX : n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			report_errno(rep, E2E_EX_IOERR, "cannot write %s",
			    o->path != NULL ? o->path : "standard output");
			return E2E_EX_IOERR;
		}
		p += w;
		n -= (size_t)w;
		o->unsynced += (size_t)w;
	}
	/*
	 * The commit's fsync waits for every dirty page: a large output's
	 * write-back is begun as it grows (not waited for), so that the disk
	 * writes while the tool computes, and the fsync finds little left
	 * (64 MiB: 50 ms less). Failures are the fsync's to report.
	 */
	if (!o->direct && o->unsynced >= WRITEBACK_STEP) {
		(void)sync_file_range(o->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		o->unsynced = 0;
	}
	return 0;
}

static int
flush(struct outfile *o, struct report *rep)
{
	int rc = 0;

	if (o->wlen > 0)
		/* wbuf stays in *o; outfile_commit or _abort frees it. */
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		rc = write_all(o, o->wbuf, o->wlen, rep);
	o->wlen = 0;
	return rc;
}

int
outfile_write(struct outfile *o, const void *p, size_t n,
    struct report *rep)
{
	int rc;

	if (o->fd < 0)
		return E2E_EX_IOERR;
	if (o->wlen + n <= WBUF_SIZE) {
		memcpy(o->wbuf + o->wlen, p, n);
		o->wlen += n;
		return 0;
	}
	if ((rc = flush(o, rep)) != 0)
		return rc;
	if (n >= WBUF_SIZE)
		return write_all(o, p, n, rep);
	memcpy(o->wbuf, p, n);
	o->wlen = n;
	return 0;
}

/* What the in-place calls say when they fail. */
static int
inplace_failed(struct outfile *o, struct report *rep)
{
	return report_errno(rep, E2E_EX_IOERR, "cannot write %s",
	    o->path != NULL ? o->path : "standard output");
}

/* outfile_pread and outfile_pwrite: n bytes at off, in as many calls as
 * the kernel takes, past EINTR. Reading, an early end of file is EIO. */
static int
inplace_io(struct outfile *o, uint8_t *rp, const uint8_t *wp, size_t n,
    uint64_t off, struct report *rep)
{
	size_t have = 0;
	ssize_t r;
	int rc;

	if (o->fd < 0 || o->direct) {
		errno = EINVAL;
		return inplace_failed(o, rep);
	}
	/* Only when something is buffered: then a worker thread's pwrite
	 * and this thread's pread touch nothing shared. */
	if (o->wlen > 0 && (rc = flush(o, rep)) != 0)
		return rc;
	while (have < n) {
		if (rp != NULL)
			r = pread(o->fd, rp + have, n - have,
			    (off_t)(off + have));
		else
			r = pwrite(o->fd, wp + have, n - have,
			    (off_t)(off + have));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r == 0 && rp != NULL)) {
			if (r == 0)
				errno = EIO;
			return inplace_failed(o, rep);
		}
		have += (size_t)r;
	}
	return 0;
}

int
outfile_pread(struct outfile *o, void *p, size_t n, uint64_t off,
    struct report *rep)
{
	return inplace_io(o, p, NULL, n, off, rep);
}

int
outfile_pwrite(struct outfile *o, const void *p, size_t n, uint64_t off,
    struct report *rep)
{
	return inplace_io(o, NULL, p, n, off, rep);
}

int
outfile_truncate(struct outfile *o, uint64_t len, struct report *rep)
{
	int rc;

	if (o->fd < 0 || o->direct) {
		errno = EINVAL;
		return inplace_failed(o, rep);
	}
	if ((rc = flush(o, rep)) != 0)
		return rc;
	while (ftruncate(o->fd, (off_t)len) != 0)
		if (errno != EINTR)
			return inplace_failed(o, rep);
	return 0;
}

int
outfile_rewind(struct outfile *o, struct report *rep)
{
	int rc;

	/* Whatever is buffered goes first, then everything. */
	if ((rc = outfile_truncate(o, 0, rep)) != 0)
		return rc;
	if (lseek(o->fd, 0, SEEK_SET) != 0)
		return inplace_failed(o, rep);
	return 0;
}

static int
outfile_sink_write(void *ctx, const void *p, size_t n)
{
	struct outfile *o = ctx;

	return outfile_write(o, p, n, o->sink_rep);
}

struct sink
sink_outfile(struct outfile *o, struct report *rep)
{
	struct sink s = { outfile_sink_write, o };

	o->sink_rep = rep;

	return s;
}

int
outfile_puts(struct outfile *o, const char *s, struct report *rep)
{
	return outfile_write(o, s, strlen(s), rep);
}

static void
release(struct outfile *o)
{
	set_pending(NULL);
	if (o->wbuf != NULL) {
		/* The buffer may have held plaintext. */
		wipe(o->wbuf, WBUF_SIZE);
		free(o->wbuf);
	}
	o->wbuf = NULL;
	o->wlen = 0;
	free(o->path);
	free(o->tmp);
	o->path = o->tmp = NULL;
	o->fd = -1;
}

static void
sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Returns 1 when path is a file that begins like a PEM private key. */
static int
holds_private_key(const char *path)
{
	char head[128];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	head[n] = '\0';
	return strstr(head, "-----BEGIN ") != NULL &&
	    strstr(head, "PRIVATE KEY-----") != NULL;
}

int
outfile_commit(struct outfile *o, int noclobber, struct report *rep)
{
	int rc;

	if ((rc = flush(o, rep)) != 0)
		goto fail;
	if (o->direct) {
		if (o->fd != STDOUT_FILENO && close(o->fd) != 0) {
			o->fd = -1;
			report_errno(rep, E2E_EX_IOERR, "cannot write %s",
			    o->path);
			rc = E2E_EX_IOERR;
			goto fail;
		}
		release(o);
		return 0;
	}
	if (fsync(o->fd) != 0) {
		report_errno(rep, E2E_EX_IOERR, "cannot write %s", o->path);
		rc = E2E_EX_IOERR;
		goto fail;
	}
	if (close(o->fd) != 0) {
		o->fd = -1;
		report_errno(rep, E2E_EX_IOERR, "cannot write %s", o->path);
		rc = E2E_EX_IOERR;
		goto fail;
	}
	o->fd = -1;
	/* An output never silently replaces a private key (e2e-decrypt -i
	 * bob -o bob), unless the caller forces it (noclobber < 0). */
	if (noclobber == 0 && holds_private_key(o->path)) {
		report_error(rep, E2E_EX_CANTCREAT,
		    "%s holds a private key; not overwriting it",
		    o->path);
		report_hint(rep, "use --force to overwrite it");
		rc = E2E_EX_CANTCREAT;
		goto fail;
	}
	if (noclobber > 0) {
		/* Both fail if the target exists: no window for a race.
		 * renameat2 where the filesystem has it, else link(). */
		if (renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->path,
		    RENAME_NOREPLACE) == 0) {
			;
		} else if (errno != EINVAL && errno != ENOSYS &&
		    errno != EEXIST) {
			report_errno(rep, E2E_EX_CANTCREAT, "cannot create %s",
			    o->path);
			rc = E2E_EX_CANTCREAT;
			goto fail;
		} else if (errno == EEXIST || link(o->tmp, o->path) != 0) {
			if (errno == EEXIST) {
				report_error(rep, E2E_EX_CANTCREAT,
				    "%s already exists", o->path);
				report_hint(rep, "use --force to overwrite it");
			} else {
				report_errno(rep, E2E_EX_CANTCREAT,
				    "cannot create %s", o->path);
			}
			rc = E2E_EX_CANTCREAT;
			goto fail;
		} else {
			(void)unlink(o->tmp);
		}
	} else if (rename(o->tmp, o->path) != 0) {
		report_errno(rep, E2E_EX_CANTCREAT, "cannot create %s",
		    o->path);
		rc = E2E_EX_CANTCREAT;
		goto fail;
	}
	sync_dir(o->path);
	release(o);
	return 0;
fail:
	outfile_abort(o);
	return rc;
}

void
outfile_abort(struct outfile *o)
{
	if (o->fd >= 0 && o->fd != STDOUT_FILENO)
		close(o->fd);
	if (o->tmp != NULL)
		(void)unlink(o->tmp);
	release(o);
}

int
file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, int noclobber, struct report *rep)
{
	struct outfile o = OUTFILE_INIT;
	int rc;

	if ((rc = outfile_open(&o, path, mode, 0, rep)) != 0) {
		outfile_abort(&o);
		return rc;
	}
	if ((rc = outfile_write(&o, data, len, rep)) != 0) {
		outfile_abort(&o);
		return rc;
	}
	return outfile_commit(&o, noclobber, rep);
}

/* ---- private files ---- */

const struct file_policy file_policy_config = {
	022, FILE_ROOT_MAY_OWN | FILE_FOLLOW, (size_t)64 * 1024 - 1
};
const struct file_policy file_policy_session = {
	077, 0, (size_t)64 * 1024
};
const struct file_policy file_policy_keyring = {
	022, 0, (size_t)16 << 20
};
const struct file_policy file_policy_prekeys = {
	077, 0, (size_t)8 << 20
};

#ifdef E2E_TEST_HOOKS
static void (*test_after_open)(const char *path);

void
fileio_test_set_after_open(void (*fn)(const char *path))
{
	test_after_open = fn;
}
#endif

/* The checks of file_read_private, on the descriptor opened. */
static enum file_status
check_private(int fd, const struct file_policy *pol, struct stat *st)
{
	if (fstat(fd, st) != 0)
		return FILE_CANNOT_READ;
	if (!S_ISREG(st->st_mode))
		return FILE_NOT_REGULAR;
	if (st->st_uid != geteuid() &&
	    !((pol->flags & FILE_ROOT_MAY_OWN) && st->st_uid == 0))
		return FILE_NOT_OWNER;
	if ((st->st_mode & pol->forbid) != 0)
		return FILE_EXPOSED;
	if ((uintmax_t)st->st_size > pol->max)
		return FILE_TOO_LARGE;
	return FILE_OK;
}

/* Reads fd to its end into out, refusing more than max bytes. */
static enum file_status
read_capped(int fd, size_t max, size_t size, struct buf *out)
{
	ssize_t n;

	/* The size it had when checked, and the byte that shows the end. */
	if (buf_reserve(out, size + 1) != 0)
		return FILE_NO_MEMORY;
	for (;;) {
		if (out->cap - out->len < 2 && buf_reserve(out, 4096) != 0)
			return FILE_NO_MEMORY;
		n = read(fd, out->p + out->len, out->cap - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return FILE_CANNOT_READ;
		if (n == 0)
			break;
		out->len += (size_t)n;
		if (out->len > max)
			return FILE_TOO_LARGE;
	}
	out->p[out->len] = '\0';
	return FILE_OK;
}

enum file_status
file_read_private(const char *path, const struct file_policy *pol,
    struct buf *out)
{
	struct stat st;
	enum file_status rc;
	int fd, e, flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;

	buf_clear(out);
	if (!(pol->flags & FILE_FOLLOW))
		flags |= O_NOFOLLOW;
	if ((fd = open(path, flags)) < 0) {
		if (errno == ENOENT)
			return FILE_ABSENT;
		if (errno == ELOOP && !(pol->flags & FILE_FOLLOW))
			return FILE_SYMLINK;
		return FILE_CANNOT_OPEN;
	}
#ifdef E2E_TEST_HOOKS
	if (test_after_open != NULL)
		test_after_open(path);
#endif
	if ((rc = check_private(fd, pol, &st)) == FILE_OK)
		rc = read_capped(fd, pol->max, (size_t)st.st_size, out);
	e = errno;
	close(fd);
	if (rc != FILE_OK)
		buf_clear(out);
	errno = e;
	return rc;
}

enum file_status
file_lock(const char *path, int wait, int *fd)
{
	int k, e;

	if ((*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0)
		return errno == ELOOP ? FILE_SYMLINK : FILE_CANNOT_OPEN;
	while ((k = flock(*fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB)) != 0 &&
	    errno == EINTR)
		;
	if (k == 0)
		return FILE_OK;
	e = errno;
	file_unlock(fd);
	errno = e;
	return e == EWOULDBLOCK ? FILE_BUSY : FILE_CANNOT_LOCK;
}

void
file_unlock(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int
file_read_private_report(const char *path, const struct file_policy *pol,
    struct buf *out, int code, const struct file_refusal *why,
    struct report *rep)
{
	const char *words = why->refused;

	switch (file_read_private(path, pol, out)) {
	case FILE_OK:
		return 0;
	case FILE_ABSENT:
		return -1;
	case FILE_SYMLINK:
		words = "is a symbolic link";
		break;
	case FILE_CANNOT_OPEN:
		return report_errno(rep, code, "cannot open %s", path);
	case FILE_CANNOT_READ:
		return report_errno(rep, code, "cannot read %s", path);
	case FILE_TOO_LARGE:
		return report_error(rep, code, "%s is too large (larger than "
		    "%zu bytes); not using it", path, pol->max);
	case FILE_NO_MEMORY:
		return report_oom(rep);
	case FILE_NOT_OWNER:
		if (why->not_owner != NULL)
			words = why->not_owner;
		break;
	case FILE_EXPOSED:
		report_error(rep, code, "%s %s; not using it", path,
		    why->exposed != NULL ? why->exposed : why->refused);
		if (why->hint != NULL)
			report_hint(rep, "%s", why->hint);
		else
			report_hint(rep, "chmod 600 %s, if it is yours", path);
		return code;
	default:
		break;
	}
	return report_error(rep, code, "%s %s; not using it", path, words);
}

int
file_lock_report(const char *path, enum file_status st,
    struct report *rep)
{
	if (st == FILE_SYMLINK)
		report_error(rep, E2E_EX_CANTCREAT,
		    "%s is a symbolic link; refused", path);
	else if (st == FILE_CANNOT_LOCK || st == FILE_BUSY)
		report_errno(rep, E2E_EX_CANTCREAT, "cannot lock %s", path);
	else
		report_errno(rep, E2E_EX_CANTCREAT, "cannot open %s", path);
	return E2E_EX_CANTCREAT;
}
