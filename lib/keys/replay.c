/* replay.c - e2e-decrypt's memory of shown messages (see replay.h). */
#include "keys/replay.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/home.h"
#include "base/names.h"
#include "format/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "SENDER JTI": the table's key, and the start of a line. */
#define KEY_MAX (NAME_LEN_MAX + 1 + REPLAY_JTI_MAX)
/* A key, a space, an int64 (20 characters with the sign), a newline. */
#define LINE_MAX_LEN (KEY_MAX + 1 + 20 + 1 + REPLAY_MSG_MAX + 1)

struct slot {
	uint64_t h;
	char *key;		/* NULL: empty */
	char msg[REPLAY_MSG_MAX + 1];	/* the message's id, or "" */
};

struct replay {
	int fd;
	char path[HOME_PATH_MAX];
	int64_t window;
	uint64_t k0, k1;	/* the hash key */
	struct slot *t;		/* open addressing, linear probing */
	size_t cap, n;		/* cap a power of 2, n <= cap / 2 */
};

/* SipHash-2-4: the senders choose the jtis, and must not be able to
 * make every lookup collide. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

#ifdef E2E_TEST_HOOKS
static void (*test_before_rename)(void);

void
replay_test_set_before_rename(void (*fn)(void))
{
	test_before_rename = fn;
}
#endif

static uint64_t
siphash(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, k;

	for (i = 0; i + 8 <= len; i += 8) {
		for (m = 0, k = 0; k < 8; k++)
			m |= (uint64_t)in[i + k] << (8 * k);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (k = 0; i + k < len; k++)
		b |= (uint64_t)in[i + k] << (8 * k);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Length of a valid jti of s (len bytes), or 0. */
static size_t
jti_len(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > REPLAY_JTI_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return len;
}

int
replay_valid_jti(const char *jti)
{
	size_t n = strnlen(jti, REPLAY_JTI_MAX + 1);

	return jti_len(jti, n) != 0;
}

/* "SENDER JTI" into key (KEY_MAX + 1 bytes); its length, or 0 when
 * either is not valid. */
static size_t
make_key(const char *sender, const char *jti, char *key)
{
	size_t ls, lj;

	if (sender == NULL || jti == NULL)
		return 0;
	ls = strnlen(sender, NAME_LEN_MAX + 1);
	lj = strnlen(jti, REPLAY_JTI_MAX + 1);
	if (!name_valid(sender, ls) || jti_len(jti, lj) == 0)
		return 0;
	memcpy(key, sender, ls);
	key[ls] = ' ';
	memcpy(key + ls + 1, jti, lj);
	key[ls + 1 + lj] = '\0';
	return ls + 1 + lj;
}

static size_t
find(const struct replay *r, const char *key, size_t len, uint64_t h)
{
	size_t i;

	for (i = (size_t)h & (r->cap - 1);; i = (i + 1) & (r->cap - 1))
		if (r->t[i].key == NULL || (r->t[i].h == h &&
		    strncmp(r->t[i].key, key, len) == 0 &&
		    r->t[i].key[len] == '\0'))
			return i;
}

static int
grow(struct replay *r)
{
	struct slot *old = r->t, *t;
	size_t ncap = r->cap ? r->cap * 2 : 1024, i, k, oldcap = r->cap;

	if ((t = calloc(ncap, sizeof(*t))) == NULL)
		return -1;
	r->t = t;
	r->cap = ncap;
	for (i = 0; i < oldcap; i++) {
		if (old[i].key == NULL)
			continue;
		for (k = (size_t)old[i].h & (ncap - 1); t[k].key != NULL;
		    k = (k + 1) & (ncap - 1))
			;
		t[k] = old[i];
	}
	free(old);
	return 0;
}

/* 1 when added, 0 when there already, -1 when out of memory; *at is
 * the entry. */
static int
insert(struct replay *r, const char *key, size_t len, struct slot **at)
{
	uint64_t h = siphash(r->k0, r->k1, (const uint8_t *)key, len);
	size_t i;
	char *copy;

	if ((r->n + 1) * 2 > r->cap && grow(r) != 0)
		return -1;
	i = find(r, key, len, h);
	*at = &r->t[i];
	if (r->t[i].key != NULL)
		return 0;
	if ((copy = malloc(len + 1)) == NULL)
		return -1;
	memcpy(copy, key, len);
	copy[len] = '\0';
	r->t[i].h = h;
	r->t[i].key = copy;
	r->n++;
	return 1;
}

static const struct slot *
lookup(const struct replay *r, const char *key, size_t len)
{
	uint64_t h = siphash(r->k0, r->k1, (const uint8_t *)key, len);
	const struct slot *sl;

	if (r->cap == 0)
		return NULL;
	sl = &r->t[find(r, key, len, h)];
	return sl->key != NULL ? sl : NULL;
}

static int64_t
oldest(int64_t now, int64_t window)
{
	return now < INT64_MIN + window ? INT64_MIN : now - window;
}

/*
 * One line (len bytes, without its newline): 1 with *key_len, *iat and
 * msg set when it is "SENDER JTI IAT" or "SENDER JTI IAT ID", else 0.
 */
static int
parse_line(const char *s, size_t len, size_t *key_len, int64_t *iat,
    char msg[REPLAY_MSG_MAX + 1])
{
	const char *sp1, *sp2, *sp3, *p, *end = s + len;
	uint64_t v = 0, lim;
	int neg = 0;

	if ((sp1 = memchr(s, ' ', len)) == NULL ||
	    !name_valid(s, (size_t)(sp1 - s)) ||
	    (sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))) == NULL ||
	    jti_len(sp1 + 1, (size_t)(sp2 - sp1 - 1)) == 0)
		return 0;
	p = sp2 + 1;
	msg[0] = '\0';
	/* A fourth field, when there is one: the message id. */
	if ((sp3 = memchr(p, ' ', (size_t)(end - p))) != NULL) {
		if ((size_t)(end - sp3 - 1) > REPLAY_MSG_MAX ||
		    jti_len(sp3 + 1, (size_t)(end - sp3 - 1)) == 0)
			return 0;
		memcpy(msg, sp3 + 1, (size_t)(end - sp3 - 1));
		msg[end - sp3 - 1] = '\0';
		end = sp3;
	}
	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	if (p == end)
		return 0;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || v > (lim - (uint64_t)(*p - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*key_len = (size_t)(sp2 - s);
	*iat = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
	    -(int64_t)v) : (int64_t)v;
	return 1;
}

/* Reads [off, off + len) of fd into p; the count read, or -1. */
static ssize_t
read_at(int fd, char *p, size_t len, off_t off)
{
	size_t got = 0;
	ssize_t k;

	while (got < len) {
		k = pread(fd, p + got, len - got, off + (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

/* One write(2): with O_APPEND, a line of another process never lands
 * inside ours. 0 or -1. */
static int
append(int fd, const char *line, size_t len)
{
	ssize_t k;

	do
		k = write(fd, line, len);
	while (k < 0 && errno == EINTR);
	return k == (ssize_t)len ? 0 : -1;
}

/*
 * Loads the complete lines of text[0, n) inside the window. Dropped
 * lines (outside, malformed, repeated) get a NUL as first byte, so a
 * rewrite can skip them. Returns -1 when out of memory, else the count
 * of dropped lines; *lines gets the count of lines, *good the length of
 * the complete lines.
 */
static long long
load_lines(struct replay *r, char *text, size_t n, int64_t from,
    size_t *lines, size_t *good)
{
	char *line = text, *nl, *end = text + n;
	size_t key_len;
	int64_t iat;
	long long dropped = 0;
	struct slot *at;
	char msg[REPLAY_MSG_MAX + 1];
	int added;

	*lines = 0;
	for (; line < end && (nl = memchr(line, '\n', (size_t)(end - line))) !=
	    NULL; line = nl + 1) {
		++*lines;
		added = 0;
		if (parse_line(line, (size_t)(nl - line), &key_len, &iat,
		    msg) && iat >= from &&
		    (added = insert(r, line, key_len, &at)) < 0)
			return -1;
		if (added)
			memcpy(at->msg, msg, sizeof(at->msg));
		if (!added) {
			dropped++;
			if (nl > line)
				line[0] = '\0';
		}
	}
	*good = (size_t)(line - text);
	return dropped;
}

/* The lines of text[0, good) that load_lines kept, appended to out.
 * Out of memory is a warning in rep: the compaction it stops is one. */
static int
kept_lines(const char *text, size_t good, struct buf *out,
    struct report *rep)
{
	const char *line, *nl;

	for (line = text; line < text + good; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(text + good - line));
		if (nl > line && line[0] != '\0' &&
		    buf_append(out, line, (size_t)(nl - line) + 1) != 0) {
			report_warn(rep, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* Opens the log at r->path for appending; 0 or 73 (reported). */
static int
open_log(struct replay *r, struct report *rep)
{
	/* O_NONBLOCK: a FIFO put there must not hang the open. */
	r->fd = open(r->path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600);
	if (r->fd >= 0)
		return 0;
	if (errno == ELOOP)
		return report_error(rep, E2E_EX_CANTCREAT, "%s is a symbolic "
		    "link; refused", r->path);
	return report_errno(rep, E2E_EX_CANTCREAT, "cannot open %s",
	    r->path);
}

/*
 * Rewrites the log with the lines of text[0, good) not marked dropped
 * (file_write_atomic: a temporary file 0600 beside it, fsync, rename),
 * then carries over what others appended since it was read (from offset
 * n on). Returns 0 with *done set; *done 0 when it failed before the
 * rename, which leaves the old log in use (a warning, not an error); or
 * 73 (reported) when the new log cannot be opened.
 */
static int
compact(struct replay *r, char *text, size_t good, size_t n, int64_t from,
    int *done, struct report *rep)
{
	struct buf keep = BUF_INIT;
	struct stat st;
	size_t lines, tail_good;
	char *tail = NULL;
	ssize_t got;
	int old = r->fd;

	*done = 0;
	if (kept_lines(text, good, &keep, rep) != 0)
		goto fail;
#ifdef E2E_TEST_HOOKS
	if (test_before_rename != NULL)
		test_before_rename();
#endif
	if (file_write_atomic(r->path, keep.p != NULL ? (const char *)keep.p :
	    "", keep.len, 0600, -1, rep) != 0)
		goto fail;
	/* The new log, to append to (the lock is held: no other rewrite
	 * can replace it meanwhile). */
	if (open_log(r, rep) != 0) {
		r->fd = old;
		buf_free(&keep);
		return E2E_EX_CANTCREAT;
	}
	/*
	 * Lines appended to the old file after it was read: carried over.
	 * Those appended from now on are written again by their writers,
	 * who find the old file without a name (replay_record).
	 */
	if (fstat(old, &st) == 0 && (size_t)st.st_size > n &&
	    (size_t)st.st_size - n <= REPLAY_LOG_MAX &&
	    (tail = malloc((size_t)st.st_size - n)) != NULL &&
	    (got = read_at(old, tail, (size_t)st.st_size - n,
	    (off_t)n)) > 0) {
		buf_clear(&keep);
		if (load_lines(r, tail, (size_t)got, from, &lines,
		    &tail_good) < 0 ||
		    kept_lines(tail, tail_good, &keep, rep) != 0 ||
		    (keep.len > 0 && append(r->fd, (const char *)keep.p,
		    keep.len) != 0))
			report_warn(rep, "cannot carry lines over to the new "
			    "%s", r->path);
	}
	free(tail);
	buf_free(&keep);
	close(old);
	*done = 1;
	return 0;
fail:
	report_warn(rep, "%s was not rewritten; it stays as it was", r->path);
	buf_free(&keep);
	return 0;
}

/*
 * Reads the log (under the lock), drops a broken last line and compacts
 * when more than half of the lines are dropped. 0 or an exit code.
 */
static int
load(struct replay *r, int64_t now, struct report *rep)
{
	char *text = NULL;
	struct stat st;
	size_t lines, good, n;
	long long dropped;
	ssize_t got;
	int64_t from = oldest(now, r->window);
	int rc = E2E_EX_IOERR, done = 0;

	if (fstat(r->fd, &st) != 0)
		return report_errno(rep, E2E_EX_IOERR, "cannot read %s",
		    r->path);
	if (!S_ISREG(st.st_mode))
		return report_error(rep, E2E_EX_CANTCREAT, "%s is not a "
		    "regular file; refused", r->path);
	if ((uintmax_t)st.st_size > REPLAY_LOG_MAX) {
		report_error(rep, E2E_EX_CANTCREAT, "%s is larger than %zu "
		    "MiB; refused", r->path, REPLAY_LOG_MAX >> 20);
		report_hint(rep, "remove it: messages already shown may then "
		    "be shown again");
		return E2E_EX_CANTCREAT;
	}
	if (st.st_size == 0)
		return 0;
	if ((text = malloc((size_t)st.st_size)) == NULL)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	if ((got = read_at(r->fd, text, (size_t)st.st_size, 0)) < 0) {
		report_errno(rep, E2E_EX_IOERR, "cannot read %s", r->path);
		goto out;
	}
	n = (size_t)got;
	if ((dropped = load_lines(r, text, n, from, &lines, &good)) < 0) {
		rc = report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		goto out;
	}
	if (lines > 0 && (size_t)dropped * 2 > lines &&
	    ((rc = compact(r, text, good, n, from, &done, rep)) != 0 ||
	    done))
		goto out;
	/*
	 * A last line cut short by a kill goes, or the next one appended
	 * would be glued to it and lost. Only when nobody appended since
	 * it was read: then the piece is no longer last.
	 */
	if (good < n && fstat(r->fd, &st) == 0 && (size_t)st.st_size == n &&
	    ftruncate(r->fd, (off_t)good) != 0) {
		rc = report_errno(rep, E2E_EX_IOERR, "cannot repair %s",
		    r->path);
		goto out;
	}
	rc = 0;
out:
	free(text);
	return rc;
}

int
replay_open(const char *home, int64_t window_s, int64_t now,
    struct replay **out, struct report *rep)
{
	char lock_path[HOME_PATH_MAX];
	uint8_t seed[16];
	struct replay *r;
	enum file_status st;
	int lock_fd = -1, rc = E2E_EX_CANTCREAT;

	*out = NULL;
	if (window_s <= 0)
		return report_error(rep, E2E_EX_SOFTWARE, "internal error: "
		    "replay window %" PRId64, window_s);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	r->fd = -1;
	r->window = window_s;
	if ((rc = crypto_random(seed, sizeof(seed), rep)) != 0)
		goto out;
	memcpy(&r->k0, seed, 8);
	memcpy(&r->k1, seed + 8, 8);
	rc = E2E_EX_CANTCREAT;
	if (home_file(home, "replay.lock", lock_path, sizeof(lock_path),
	    rep) != 0 || home_file(home, "replay.log", r->path,
	    sizeof(r->path), rep) != 0)
		goto out;
	/* Held while reading and rewriting only; appends take no lock. */
	if ((st = file_lock(lock_path, FILE_LOCK_WAIT, &lock_fd)) !=
	    FILE_OK) {
		rc = file_lock_report(lock_path, st, rep);
		goto out;
	}
	if ((rc = open_log(r, rep)) != 0 || (rc = load(r, now, rep)) != 0)
		goto out;
	file_unlock(&lock_fd);
	*out = r;
	return 0;
out:
	file_unlock(&lock_fd);
	replay_close(r);
	return rc;
}

enum replay_verdict
replay_check(const struct replay *r, const char *sender, const char *jti,
    int64_t iat, const char *msg, int64_t now)
{
	const struct slot *sl;
	char key[KEY_MAX + 1];
	size_t len;

	if ((len = make_key(sender, jti, key)) != 0 &&
	    (sl = lookup(r, key, len)) != NULL) {
		/* The same message read again (a saved inbox): not a copy. */
		if (msg != NULL && sl->msg[0] != '\0' &&
		    strcmp(sl->msg, msg) == 0)
			return REPLAY_AGAIN;
		return REPLAY_SEEN;
	}
	if (iat < oldest(now, r->window))
		return REPLAY_TOO_OLD;
	if (now <= INT64_MAX - REPLAY_FUTURE_MAX &&
	    iat > now + REPLAY_FUTURE_MAX)
		return REPLAY_FUTURE;
	return REPLAY_NEW;
}

int
replay_record(struct replay *r, const char *sender, const char *jti,
    int64_t iat, const char *msg, struct report *rep)
{
	char key[KEY_MAX + 1], line[LINE_MAX_LEN + 1];
	struct stat st;
	struct slot *at;
	size_t len;
	int n, k, tries;

	if ((len = make_key(sender, jti, key)) == 0) {
		/* Not echoed: either may hold control characters. */
		return report_error(rep, E2E_EX_DATAERR, "cannot remember the "
		    "message: its sender or id (jti) is not valid");
	}
	if (msg != NULL && (strlen(msg) > REPLAY_MSG_MAX ||
	    jti_len(msg, strlen(msg)) == 0))
		msg = NULL;	/* not kept: only a copy can then be told */
	if ((k = insert(r, key, len, &at)) < 0)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	if (k == 0)
		return 0;
	snprintf(at->msg, sizeof(at->msg), "%s", msg ? msg : "");
	n = snprintf(line, sizeof(line), "%s %" PRId64 "%s%s\n", key, iat,
	    msg ? " " : "", msg ? msg : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		return report_error(rep, E2E_EX_SOFTWARE, "internal error: "
		    "replay line too long");
	for (tries = 0;; tries++) {
		if (append(r->fd, line, (size_t)n) != 0)
			return report_errno(rep, E2E_EX_IOERR, "cannot write "
			    "to %s", r->path);
		/* Still the log's file? A compaction by another process
		 * may have replaced it: then the line goes to the new one. */
		if (tries == 2 || fstat(r->fd, &st) != 0 || st.st_nlink > 0)
			return 0;
		close(r->fd);
		if (open_log(r, rep) != 0)
			return E2E_EX_IOERR;
		if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode))
			return report_error(rep, E2E_EX_IOERR, "%s is not a "
			    "regular file; refused", r->path);
	}
}

void
replay_close(struct replay *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	for (i = 0; i < r->cap; i++)
		free(r->t[i].key);
	free(r->t);
	free(r);
}
