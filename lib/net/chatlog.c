/* chatlog.c - e2e-chat's history (see chatlog.h). */
#include "net/chatlog.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/jsonio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The whole file (at most CHATLOG_MAX * 2, else its end) into b. */
static int
read_all(struct chatlog *l, struct buf *b, struct report *rep)
{
	struct stat st;
	off_t from = 0;
	ssize_t r;

	if (fstat(l->fd, &st) != 0)
		return report_errno(rep, E2E_EX_IOERR, "cannot read %s",
		    l->path);
	if ((size_t)st.st_size > 2 * CHATLOG_MAX)
		from = st.st_size - (off_t)(2 * CHATLOG_MAX);
	if (buf_reserve(b, (size_t)(st.st_size - from) + 1) != 0)
		return report_oom(rep);
	while (b->len < (size_t)(st.st_size - from)) {
		r = pread(l->fd, b->p + b->len, (size_t)(st.st_size - from) -
		    b->len, from + (off_t)b->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return report_errno(rep, E2E_EX_IOERR, "cannot read %s",
			    l->path);
		if (r == 0)
			break;
		b->len += (size_t)r;
	}
	return 0;
}

/* A history grown past CHATLOG_MAX keeps its last half. */
static int
trim(struct chatlog *l, struct report *rep)
{
	struct buf b = BUF_SECRET_INIT;
	const uint8_t *nl;
	size_t cut;
	int rc, fd;

	if ((rc = read_all(l, &b, rep)) != 0 || b.len <= CHATLOG_MAX)
		goto out;
	cut = b.len - CHATLOG_MAX / 2;
	if ((nl = memchr(b.p + cut, '\n', b.len - cut)) == NULL)
		goto out;
	cut = (size_t)(nl + 1 - b.p);
	if ((rc = file_write_atomic(l->path, b.p + cut, b.len - cut, 0600, 0,
	    rep)) != 0)
		goto out;
	fd = open(l->path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = report_errno(rep, E2E_EX_IOERR, "cannot open %s", l->path);
		goto out;
	}
	close(l->fd);
	l->fd = fd;
out:
	buf_free(&b);
	return rc;
}

int
chatlog_open(struct chatlog *l, const char *home, const char *peer,
    struct report *rep)
{
	char dir[HOME_PATH_MAX];
	int rc;

	l->fd = -1;
	if ((rc = home_file(home, "chats", dir, sizeof(dir), rep)) != 0 ||
	    (rc = home_create(dir, rep)) != 0 ||
	    (rc = home_file(dir, peer, l->path, sizeof(l->path), rep)) != 0)
		return rc;
	l->fd = open(l->path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (l->fd < 0)
		return report_errno(rep, E2E_EX_CANTCREAT, "cannot open the "
		    "history %s", l->path);
	/* Made by someone else's umask or copied in: ours alone. */
	if (fchmod(l->fd, 0600) != 0) {
		rc = report_errno(rep, E2E_EX_CANTCREAT, "cannot make %s "
		    "private", l->path);
		chatlog_close(l);
		return rc;
	}
	return trim(l, rep);
}

int
chatlog_add(struct chatlog *l, int64_t t, const char *who, const char *text,
    const char *mark, struct report *rep)
{
	json_t *o;
	char *s;
	size_t n, done = 0;
	ssize_t w;
	int rc = 0;

	o = json_pack("{s:I,s:s,s:s}", "t", (json_int_t)t, "who", who, "text",
	    text);
	if (o != NULL && mark != NULL && json_object_set_new(o, "mark",
	    json_string(mark)) != 0) {
		json_decref(o);
		o = NULL;
	}
	s = o != NULL ? jsonio_dump(o) : NULL;
	json_decref(o);
	if (s == NULL)
		return report_oom(rep);
	n = strlen(s);
	s[n++] = '\n';	/* jsonio_dump leaves room: the NUL's byte */
	/* One write: O_APPEND keeps a line whole. */
	while (done < n) {
		w = write(l->fd, s + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = report_errno(rep, E2E_EX_IOERR, "cannot write the "
			    "history %s", l->path);
			break;
		}
		done += (size_t)w;
	}
	wipe(s, n);
	free(s);
	return rc;
}

int
chatlog_tail(struct chatlog *l, size_t n, json_t **out, struct report *rep)
{
	struct buf b = BUF_SECRET_INIT;
	const uint8_t *end, *start;
	json_t *arr, *o;
	size_t len;
	int rc;

	*out = NULL;
	if ((arr = json_array()) == NULL)
		return report_oom(rep);
	if ((rc = read_all(l, &b, rep)) != 0)
		goto out;
	/* From the end backwards, n lines that parse. */
	len = b.len;
	while (len > 0 && json_array_size(arr) < n) {
		end = b.p + len;
		start = end;
		while (start > b.p && start[-1] != '\n')
			start--;
		len = start > b.p ? (size_t)(start - 1 - b.p) : 0;
		if (end == start)
			continue;
		o = jsonio_parse((const char *)start, (size_t)(end - start),
		    NULL);
		if (json_is_object(o) && json_is_integer(json_object_get(o,
		    "t")) && json_is_string(json_object_get(o, "who")) &&
		    json_is_string(json_object_get(o, "text")) &&
		    json_array_insert_new(arr, 0, o) == 0)
			continue;
		json_decref(o);
	}
	*out = arr;
	arr = NULL;
out:
	json_decref(arr);
	buf_free(&b);
	return rc;
}

void
chatlog_close(struct chatlog *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
