/* recvlog.c - e2e-recv's memory of printed ids (see recvlog.h). */
#include "net/recvlog.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/home.h"
#include "base/names.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_MAX ((size_t)16 << 20)
/* Rewritten when larger (see compact). */
#define LOG_COMPACT_AT (256 * 1024)

struct entry {
	char id[ID_LEN + 1];
	int printed;		/* 1: surely; 0: begun, maybe not */
	int have_pos;		/* where the line was to go */
	dev_t dev;
	ino_t ino;
	off_t off;
};

struct recvlog {
	int fd, lock_fd, out_fd;
	char path[HOME_PATH_MAX];
	struct entry *v;	/* pending: printed (or begun), not acked */
	size_t n, cap;
	int torn;		/* a line may have been cut in a pipe */
};

static struct entry *
find(const struct recvlog *l, const char *id)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].id, id) == 0)
			return &l->v[i];
	return NULL;
}

static struct entry *
add(struct recvlog *l, const char *id)
{
	struct entry *e, *nv;
	size_t ncap;

	if ((e = find(l, id)) != NULL)
		return e;
	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 64;
		if ((nv = realloc(l->v, ncap * sizeof(*nv))) == NULL)
			return NULL;
		l->v = nv;
		l->cap = ncap;
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->id, id, ID_LEN + 1);
	return e;
}

static void
drop(struct recvlog *l, const char *id)
{
	struct entry *e = find(l, id);

	if (e != NULL)
		*e = l->v[--l->n];
}

/* One line of the log; broken lines (a kill in mid-write) are skipped. */
static int
replay(struct recvlog *l, char *line)
{
	char kind, id[ID_LEN + 2];
	unsigned long long dev, ino;
	long long off;
	struct entry *e;

	if (sscanf(line, "%c %27s", &kind, id) != 2 || !id_valid(id))
		return 0;
	if (kind == 'A' || kind == 'X') {
		drop(l, id);
		return 0;
	}
	if (kind != 'P' && kind != 'D')
		return 0;
	if ((e = add(l, id)) == NULL)
		return -1;
	if (kind == 'D') {
		e->printed = 1;
		return 0;
	}
	/* NOLINTNEXTLINE(cert-err34-c): our own log; dev and ino must match */
	if (sscanf(line, "P %*s %llu %llu %lld", &dev, &ino,
	    &off) == 3 && off >= 0) {
		e->have_pos = 1;
		e->dev = (dev_t)dev;
		e->ino = (ino_t)ino;
		e->off = (off_t)off;
	}
	return 0;
}

/*
 * A line begun but not known to be done: stdout, when it is the same
 * file, shows whether it got there. A partial line of ours at the end
 * is cut off.
 */
static void
settle(struct recvlog *l, struct entry *e, struct report *rep)
{
	char want[ID_LEN + 16], got[ID_LEN + 16], chunk[4096], proc[64];
	struct stat st, rst;
	size_t wl;
	off_t pos;
	ssize_t n = -1;
	int rfd;

	if (!e->have_pos || fstat(l->out_fd, &st) != 0 ||
	    !S_ISREG(st.st_mode) || st.st_dev != e->dev ||
	    st.st_ino != e->ino || st.st_size <= e->off)
		return;
	/* stdout is often opened for writing only (">> inbox"). */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", l->out_fd);
	if ((rfd = open(proc, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (fstat(rfd, &rst) != 0 ||
	    rst.st_dev != st.st_dev || rst.st_ino != st.st_ino)
		goto out;
	wl = (size_t)snprintf(want, sizeof(want), "{\"id\":\"%s\"", e->id);
	/* Even a few bytes of our line's start, up to the end, are ours. */
	if (st.st_size - e->off < (off_t)wl)
		wl = (size_t)(st.st_size - e->off);
	if (pread(rfd, got, wl, e->off) != (ssize_t)wl ||
	    memcmp(want, got, wl) != 0)
		goto out;
	for (pos = e->off + (off_t)wl;; pos += n) {
		n = pread(rfd, chunk, sizeof(chunk), pos);
		if (n <= 0)
			break;
		if (memchr(chunk, '\n', (size_t)n) != NULL) {
			e->printed = 1;
			goto out;
		}
	}
	/* Ours, cut short by a kill: remove it, it is printed again. */
	if (n == 0 && ftruncate(l->out_fd, e->off) != 0)
		report_warn(rep, "cannot remove a partial line from the "
		    "output");
out:
	close(rfd);
}

static int
load(struct recvlog *l, struct report *rep)
{
	char *text = NULL, *line, *nl;
	struct stat st;
	size_t i;
	ssize_t n;

	if (fstat(l->fd, &st) != 0)
		goto fail;
	if (st.st_size == 0)
		return 0;
	if ((size_t)st.st_size > LOG_MAX)
		return report_error(rep, E2E_EX_CANTCREAT, "%s is too large; "
		    "remove it", l->path);
	if ((text = malloc((size_t)st.st_size + 1)) == NULL ||
	    (n = pread(l->fd, text, (size_t)st.st_size, 0)) < 0)
		goto fail;
	text[n] = '\0';
	for (line = text; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			break;
		*nl = '\0';
		if (replay(l, line) != 0)
			goto fail;
	}
	/* A last record cut short by a kill goes, or the next one appended
	 * would be glued to it and lost. */
	if (line < text + n && ftruncate(l->fd, line - text) != 0)
		goto fail;
	free(text);
	for (i = 0; i < l->n; i++) {
		if (l->v[i].printed)
			continue;
		settle(l, &l->v[i], rep);
		/* Begun into a pipe: a piece of a line may be out there. */
		if (!l->v[i].printed && !l->v[i].have_pos)
			l->torn = 1;
	}
	/* The ones that never got out are as if never begun. */
	for (i = 0; i < l->n;)
		if (!l->v[i].printed)
			l->v[i] = l->v[--l->n];
		else
			i++;
	return 0;
fail:
	free(text);
	return report_errno(rep, E2E_EX_CANTCREAT, "cannot read %s", l->path);
}

/*
 * A log that keeps growing (ids whose acknowledgement was lost, when
 * only --from runs ever come) is rewritten with what is pending: one
 * "D ID" line each. The lock is held, so no one appends meanwhile.
 */
static int
compact(struct recvlog *l, struct report *rep)
{
	struct buf b = BUF_INIT;
	struct stat st;
	size_t i;
	int rc = 0;

	if (fstat(l->fd, &st) != 0 || st.st_size <= LOG_COMPACT_AT)
		return 0;
	for (i = 0; i < l->n && rc == 0; i++)
		if (buf_append_str(&b, "D ") != 0 ||
		    buf_append_str(&b, l->v[i].id) != 0 ||
		    buf_append_str(&b, "\n") != 0)
			rc = report_oom(rep);
	if (rc == 0)
		rc = file_write_atomic(l->path, b.p ? (char *)b.p : "", b.len,
		    0600, -1, rep);
	if (rc == 0) {
		close(l->fd);
		if ((l->fd = open(l->path, O_RDWR | O_APPEND | O_NOFOLLOW |
		    O_CLOEXEC)) < 0)
			rc = report_errno(rep, E2E_EX_CANTCREAT, "cannot open "
			    "%s", l->path);
	}
	buf_free(&b);
	return rc;
}

int
recvlog_open(const char *home, const char *user_id, int out_fd,
    struct recvlog **out, struct report *rep)
{
	char name[64], lock_path[HOME_PATH_MAX];
	struct recvlog *l;
	enum file_status st;
	int rc = E2E_EX_CANTCREAT;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	l->fd = l->lock_fd = -1;
	l->out_fd = out_fd;
	snprintf(name, sizeof(name), "recv-%s.lock", user_id);
	if (home_file(home, name, lock_path, sizeof(lock_path), rep) != 0)
		goto out;
	snprintf(name, sizeof(name), "recv-%s.log", user_id);
	if (home_file(home, name, l->path, sizeof(l->path), rep) != 0)
		goto out;
	/* Not waited for: the holder may --follow for days. */
	if ((st = file_lock(lock_path, FILE_LOCK_TRY, &l->lock_fd)) ==
	    FILE_BUSY) {
		rc = report_error(rep, E2E_EX_TEMPFAIL, "another e2e-recv is "
		    "running for this user");
		goto out;
	}
	if (st != FILE_OK) {
		rc = file_lock_report(lock_path, st, rep);
		goto out;
	}
	if ((l->fd = open(l->path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		report_errno(rep, rc, "cannot open %s", l->path);
		goto out;
	}
	if ((rc = load(l, rep)) != 0 || (rc = compact(l, rep)) != 0)
		goto out;
	*out = l;
	return 0;
out:
	recvlog_close(l);
	return rc;
}

int
recvlog_printed(const struct recvlog *l, const char *id)
{
	const struct entry *e = find(l, id);

	return e != NULL && e->printed;
}

static int
append(struct recvlog *l, const char *line, size_t len, struct report *rep)
{
	ssize_t n;

	/* One write: a kill leaves the line whole or cut, never mixed. A
	 * short one (a disk just full) goes on, to learn why it stopped. */
	while (len > 0) {
		n = write(l->fd, line, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return report_errno(rep, E2E_EX_IOERR, "cannot write "
			    "to %s", l->path);
		line += n;
		len -= (size_t)n;
	}
	return 0;
}

int
recvlog_begin(struct recvlog *l, const char *id, struct report *rep)
{
	char line[128];
	struct stat st;
	struct entry *e;
	off_t end;
	int n;

	/* Where the line will start: the end for ">>", else the offset. */
	if (fstat(l->out_fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (end = (fcntl(l->out_fd, F_GETFL) & O_APPEND) ? st.st_size :
	    lseek(l->out_fd, 0, SEEK_CUR)) >= 0)
		n = snprintf(line, sizeof(line), "P %s %ju %ju %jd\n", id,
		    (uintmax_t)st.st_dev, (uintmax_t)st.st_ino,
		    (intmax_t)end);
	else
		n = snprintf(line, sizeof(line), "P %s - - -\n", id);
	if ((e = add(l, id)) == NULL)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	e->printed = 0;
	return append(l, line, (size_t)n, rep);
}

int
recvlog_done(struct recvlog *l, const char *id, struct report *rep)
{
	char line[64];
	struct entry *e;
	int n;

	if ((e = find(l, id)) != NULL)
		e->printed = 1;
	n = snprintf(line, sizeof(line), "D %s\n", id);
	return append(l, line, (size_t)n, rep);
}

int
recvlog_unbegin(struct recvlog *l, const char *id, struct report *rep)
{
	char line[64];
	int n;

	drop(l, id);
	n = snprintf(line, sizeof(line), "X %s\n", id);
	return append(l, line, (size_t)n, rep);
}

int
recvlog_acked(struct recvlog *l, const char *const *ids, size_t n,
    struct report *rep)
{
	char line[64];
	size_t i;
	int len, rc;

	for (i = 0; i < n; i++)
		drop(l, ids[i]);
	if (l->n == 0) {
		if (ftruncate(l->fd, 0) != 0)
			return report_errno(rep, E2E_EX_IOERR, "cannot empty "
			    "%s", l->path);
		return 0;
	}
	for (i = 0; i < n; i++) {
		len = snprintf(line, sizeof(line), "A %s\n", ids[i]);
		if ((rc = append(l, line, (size_t)len, rep)) != 0)
			return rc;
	}
	return 0;
}

int
recvlog_distrust(struct recvlog *l, struct report *rep)
{
	l->n = 0;
	/* Synced, or a crash could bring back the records it held. */
	if (ftruncate(l->fd, 0) == 0 && fsync(l->fd) == 0)
		return 0;
	if (unlink(l->path) == 0 || errno == ENOENT)
		return 0;
	return report_errno(rep, E2E_EX_IOERR, "cannot empty or remove %s",
	    l->path);
}

const char *
recvlog_path(const struct recvlog *l)
{
	return l->path;
}

int
recvlog_torn(const struct recvlog *l)
{
	return l->torn;
}

int
recvlog_prune(struct recvlog *l, const char *const *listed, size_t n,
    struct report *rep)
{
	size_t i, k;

	for (i = 0; i < l->n;) {
		for (k = 0; k < n; k++)
			if (strcmp(l->v[i].id, listed[k]) == 0)
				break;
		if (k == n)
			l->v[i] = l->v[--l->n];
		else
			i++;
	}
	if (l->n == 0 && ftruncate(l->fd, 0) != 0)
		return report_errno(rep, E2E_EX_IOERR, "cannot empty %s",
		    l->path);
	return 0;
}

void
recvlog_close(struct recvlog *l)
{
	if (l == NULL)
		return;
	if (l->fd >= 0)
		close(l->fd);
	file_unlock(&l->lock_fd);
	free(l->v);
	free(l);
}
