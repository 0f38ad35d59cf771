/* receive.c - e2e-recv's loop (see receive.h). */
#include "net/receive.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/jsonio.h"
#include "net/api.h"
#include "net/recvlog.h"
#include "net/recvseen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAGE 100
/* Longest single long-poll: below e2e-server's default --max-wait. */
#define POLL_S 25
#define FOLLOW_BACKOFF_MAX_S 30
/* An empty answer to a long-poll sooner than this is not a wait that
 * ended: the next question waits a second (as the original client). */
#define EMPTY_SOON_MS 1000

/* The stored text as the line shows it: a JWE as a JSON object, a
 * seed-format message (or anything else) as the string it is. */
static json_t *
message_value(const json_t *m)
{
	const json_t *v = json_object_get(m, "message");
	json_t *o;

	o = jsonio_parse(json_string_value(v), json_string_length(v), NULL);
	if (json_is_object(o) && json_object_get(o, "RSACipher") == NULL)
		return o;
	json_decref(o);
	return json_copy((json_t *)v);
}

/* Writes all n bytes; *done (when not NULL) counts those written. */
static int
write_all(int fd, const char *p, size_t n, size_t *done, struct report *rep)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return report_errno(rep, E2E_EX_IOERR, "cannot write "
			    "to standard output");
		p += w;
		n -= (size_t)w;
		if (done != NULL)
			*done += (size_t)w;
	}
	return 0;
}

/*
 * Writes the line, with DEL (the one control character jansson's ASCII
 * output leaves raw; it can only be inside a string) as \u007F.
 */
static int
write_escaping_del(const char *p, size_t n, size_t *done,
    struct report *rep)
{
	struct buf b = BUF_INIT;
	const char *del;
	int rc;

	if (memchr(p, 0x7f, n) == NULL)
		return write_all(STDOUT_FILENO, p, n, done, rep);
	while ((del = memchr(p, 0x7f, n)) != NULL) {
		if (buf_append(&b, p, (size_t)(del - p)) != 0 ||
		    buf_append(&b, "\\u007F", 6) != 0) {
			buf_free(&b);
			return report_oom(rep);
		}
		n -= (size_t)(del - p) + 1;
		p = del + 1;
	}
	rc = buf_append(&b, p, n) != 0 ? report_oom(rep) :
	    write_all(STDOUT_FILENO, (const char *)b.p, b.len, done, rep);
	buf_free(&b);
	return rc;
}

/* Writes m's line to stdout in one go (stdout is not buffered here). */
static int
print_message(const json_t *m, size_t *done, struct report *rep)
{
	json_t *line;
	char *s;
	size_t n;
	int rc;

	line = json_pack("{s:O,s:O,s:O,s:O,s:o}", "id",
	    json_object_get(m, "id"), "from", json_object_get(m, "from"),
	    "to", json_object_get(m, "to"), "sent_at",
	    json_object_get(m, "sent_at"), "message", message_value(m));
	/* What others wrote is escaped to ASCII: no C1 control or bidi
	 * mark reaches a terminal (a JSON reader gets the same values). */
	s = line ? jsonio_dump_ascii(line) : NULL;
	json_decref(line);
	if (s == NULL)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	n = strlen(s);
	s[n] = '\n';	/* jsonio_dump leaves room: the NUL's byte */
	rc = write_escaping_del(s, n + 1, done, rep);
	free(s);
	return rc;
}

/*
 * Lines in a file reach the disk before the server forgets them. When
 * the sync fails, what the log says was printed may be lost: it is
 * forgotten, so the next run prints it again (recvlog_distrust).
 */
static int
sync_output(struct recvlog *log, struct report *rep)
{
	int e;

	if (fdatasync(STDOUT_FILENO) == 0 || errno == EINVAL ||
	    errno == EROFS || errno == ENOTSUP || errno == EBADF)
		return 0;
	e = errno;
	if (log != NULL && recvlog_distrust(log, NULL) != 0) {
		errno = e;
		return report_errno(rep, E2E_EX_IOERR, "cannot sync standard "
		    "output, nor forget what %s says was printed (remove it "
		    "before the next run, which then prints them again)",
		    recvlog_path(log));
	}
	errno = e;
	return report_errno(rep, E2E_EX_IOERR, "cannot sync standard output "
	    "(nothing acknowledged; the next run prints these messages "
	    "again)");
}

static void
sleep_s(long s, volatile sig_atomic_t *stop)
{
	struct timespec ts = { s, 0 };

	while (!*stop && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* After an error in --follow: whether to go on (after a pause). The
 * error is shown before the pause, as it happened. */
static int
follow_on(const struct client *c, const struct receive_opts *o, int rc,
    long *pause, struct report *rep)
{
	if (!o->follow || rc != E2E_EX_TEMPFAIL || *o->stop)
		return 0;
	client_say(c, rep);
	sleep_s(*pause, o->stop);
	*pause = *pause * 2 > FOLLOW_BACKOFF_MAX_S ? FOLLOW_BACKOFF_MAX_S :
	    *pause * 2;
	return 1;
}

/* The record is for the signed-in user. */
static int
mine(const struct client *c, const json_t *m)
{
	return strcmp(json_string_value(json_object_get(m, "to")),
	    c->sess.name) == 0;
}

/* A record for someone else: the server mixes up mailboxes. Names and
 * ids were checked (api_message_valid): safe to show. */
static int
refuse_foreign(const struct client *c, const json_t *m, struct report *rep)
{
	report_error(rep, E2E_EX_PROTOCOL, "message %s is for %s, not for "
	    "you (%s): refused, neither printed nor acknowledged",
	    json_string_value(json_object_get(m, "id")),
	    json_string_value(json_object_get(m, "to")), c->sess.name);
	report_hint(rep, "the server gives out other users' messages: tell "
	    "its operator");
	return E2E_EX_PROTOCOL;
}

static int
repeating(const char *id, struct report *rep)
{
	return report_error(rep, E2E_EX_PROTOCOL, "the server lists again "
	    "only messages this run already received (%s...): it is "
	    "repeating itself; stopping", id);
}

static int
receive_legacy(struct client *c, const struct receive_opts *o,
    struct recvseen *seen, struct report *rep)
{
	time_t deadline = time(NULL) + o->wait_s;
	unsigned long count = 0;
	long pause = 1;
	const char *id;
	json_t *m;
	int rc;

	while (!*o->stop) {
		if ((rc = api_take(c, o->from, &m, rep)) != 0) {
			if (follow_on(c, o, rc, &pause, rep))
				continue;
			return *o->stop ? 0 : rc;
		}
		pause = 1;
		if (m == NULL) {
			/* The original client asked every second. */
			if (!o->follow && (count > 0 || time(NULL) >= deadline))
				break;
			sleep_s(1, o->stop);
			continue;
		}
		/* Taking deletes: the same message cannot come twice. */
		id = json_string_value(json_object_get(m, "id"));
		if (!mine(c, m))
			rc = refuse_foreign(c, m, rep);
		else if (recvseen_get(seen, id) != RECVSEEN_NEW)
			rc = repeating(id, rep);
		else if ((rc = recvseen_set(seen, id, RECVSEEN_ACKED,
		    rep)) == 0)
			rc = print_message(m, NULL, rep);
		json_decref(m);
		if (rc != 0)
			return rc;
		if (++count == o->limit)
			break;
	}
	return 0;
}

struct acks {
	const char *v[PAGE];
	size_t n;
};

/*
 * Whether a page brings anything to do: an id this run has not printed,
 * or (acknowledging) one whose deletion the server has not confirmed (an
 * acknowledgement that failed is made again). A server that lists only
 * what it already confirmed deleted is repeating itself.
 */
static int
page_news(const struct recvseen *seen, const json_t *arr, int peek)
{
	enum recvseen_state st;
	const json_t *m;
	size_t i;

	json_array_foreach(arr, i, m) {
		st = recvseen_get(seen, json_string_value(json_object_get(m,
		    "id")));
		if (st == RECVSEEN_NEW || (!peek && st == RECVSEEN_PRINTED))
			return 1;
	}
	return 0;
}

/* Prints what is new on a page (each line out before the next), and
 * collects the ids to acknowledge. A record for another user stops it
 * (76, *foreign set): what came before it is printed and collected. */
static int
print_page(struct client *c, struct recvlog *log, struct recvseen *seen,
    const json_t *arr, struct acks *a, unsigned long *count,
    const char **last, int *torn, int *foreign, struct report *rep)
{
	enum recvseen_state st;
	const json_t *m;
	const char *id;
	size_t i, done;
	int rc;

	json_array_foreach(arr, i, m) {
		id = json_string_value(json_object_get(m, "id"));
		if (!mine(c, m)) {
			*foreign = 1;
			return refuse_foreign(c, m, rep);
		}
		/* Deleted, yet listed again: not printed twice. */
		if ((st = recvseen_get(seen, id)) == RECVSEEN_ACKED)
			continue;
		if (st == RECVSEEN_NEW && (log == NULL ||
		    !recvlog_printed(log, id))) {
			/* After a line cut short in a pipe, a line of its own. */
			if (*torn && (rc = write_all(STDOUT_FILENO, "\n", 1,
			    NULL, rep)) != 0)
				return rc;
			*torn = 0;
			done = 0;
			if (log != NULL && (rc = recvlog_begin(log, id,
			    rep)) != 0)
				return rc;
			if ((rc = print_message(m, &done, rep)) != 0) {
				/* Nothing of it went out: no piece to mend. */
				if (log != NULL && done == 0)
					(void)recvlog_unbegin(log, id, rep);
				return rc;
			}
			if (log != NULL && (rc = recvlog_done(log, id,
			    rep)) != 0)
				return rc;
			(*count)++;
		}
		if ((rc = recvseen_set(seen, id, RECVSEEN_PRINTED, rep)) != 0)
			return rc;
		a->v[a->n++] = id;
		*last = id;
	}
	return 0;
}

/* Acknowledges the ids collected (after syncing their lines), and
 * remembers it. Returns 0 or an exit code (in rep). */
static int
acknowledge(struct client *c, struct recvlog *log, struct recvseen *seen,
    const struct acks *a, struct report *rep)
{
	size_t i;
	int rc;

	if ((rc = sync_output(log, rep)) != 0 ||
	    (rc = api_ack(c, a->v, a->n, rep)) != 0 ||
	    (rc = recvlog_acked(log, a->v, a->n, rep)) != 0)
		return rc;
	for (i = 0; i < a->n; i++)
		if ((rc = recvseen_set(seen, a->v[i], RECVSEEN_ACKED,
		    rep)) != 0)
			return rc;
	return 0;
}

static int
prune(struct recvlog *log, const json_t *arr, struct report *rep)
{
	const char *ids[PAGE];
	const json_t *m;
	size_t i;

	json_array_foreach(arr, i, m)
		ids[i] = json_string_value(json_object_get(m, "id"));
	return recvlog_prune(log, ids, json_array_size(arr), rep);
}

/* Milliseconds of a monotonic clock. */
static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
receive_pages(struct client *c, const struct receive_opts *o,
    struct recvseen *seen, struct report *rep)
{
	struct report page_rep;
	struct recvlog *log = NULL;
	struct acks a;
	char after[ID_LEN + 1] = "";
	const char *last;
	time_t deadline = time(NULL) + o->wait_s;
	unsigned long count = 0, page, page_max = PAGE;
	long pause = 1, wait;
	long long asked;
	json_t *arr = NULL;
	int rc = 0, torn, foreign = 0, more = 0;

	if (!o->peek && (rc = recvlog_open(c->home, c->sess.id,
	    STDOUT_FILENO, &log, rep)) != 0)
		return rc;
	torn = log != NULL && recvlog_torn(log);
	while (!*o->stop) {
		/* What was said so far comes out before the next line. */
		client_say(c, rep);
		page = o->limit > 0 && o->limit - count < page_max ?
		    o->limit - count : page_max;
		/* Wait only while nothing came (and always with --follow). */
		wait = o->follow ? POLL_S : count > 0 ? 0 :
		    (long)(deadline - time(NULL));
		wait = wait < 0 ? 0 : wait > POLL_S ? POLL_S : wait;
		json_decref(arr);
		arr = NULL;
		asked = mono_ms();
		/* A page over --max-answer: ask again for half as many (an
		 * honest server's large messages), down to one; the refusal
		 * is said only for one. */
		report_clear(&page_rep);
		rc = api_list(c, o->from, after[0] ? after : NULL,
		    (unsigned)page, (unsigned)wait, &arr, &more, &page_rep);
		if (rc == E2E_EX_PROTOCOL && page > 1 &&
		    http_answer_too_large(c->http)) {
			page_max = page / 2;
			continue;
		}
		report_add(rep, &page_rep);
		if (rc != 0) {
			if (follow_on(c, o, rc, &pause, rep))
				continue;
			if (*o->stop)
				rc = 0;
			break;
		}
		pause = 1;
		/* The whole of the mailbox: what is remembered and not in it
		 * was acknowledged already and cannot come again. A page cut
		 * short for the server's answer size is not the whole. */
		if (log != NULL && o->from == NULL && after[0] == '\0' &&
		    json_array_size(arr) < page && !more &&
		    (rc = prune(log, arr, rep)) != 0)
			break;
		if (json_array_size(arr) == 0) {
			if (o->follow || (count == 0 &&
			    time(NULL) < deadline)) {
				/* Not a long-poll that ended: no busy loop. */
				if (wait > 0 &&
				    mono_ms() - asked < EMPTY_SOON_MS)
					sleep_s(1, o->stop);
				continue;
			}
			break;
		}
		if (!page_news(seen, arr, o->peek)) {
			rc = repeating(json_string_value(json_object_get(
			    json_array_get(arr, 0), "id")), rep);
			break;
		}
		a.n = 0;
		last = NULL;
		if ((rc = print_page(c, log, seen, arr, &a, &count, &last,
		    &torn, &foreign, rep)) != 0) {
			/* Before a foreign record: printed, so acknowledged
			 * now (else remembered, and acknowledged next time). */
			if (foreign && !o->peek && a.n > 0) {
				client_say(c, rep);
				(void)acknowledge(c, log, seen, &a, rep);
			}
			break;
		}
		if (o->peek) {
			if (last != NULL)
				memcpy(after, last, ID_LEN + 1);
		} else if ((rc = acknowledge(c, log, seen, &a, rep)) != 0) {
			/* Printed and remembered: acknowledged next time. */
			if (follow_on(c, o, rc, &pause, rep))
				continue;
			if (*o->stop && rc == E2E_EX_TEMPFAIL)
				rc = 0;	/* interrupted: a clean stop */
			break;
		}
		if (o->limit > 0 && count >= o->limit)
			break;
		if (!o->follow && json_array_size(arr) < page && !more)
			break;
	}
	json_decref(arr);
	recvlog_close(log);
	return rc;
}

int
receive_run(struct client *c, const struct receive_opts *o,
    struct report *rep)
{
	struct recvseen *seen;
	int rc;

	if ((seen = recvseen_new()) == NULL)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	rc = o->legacy ? receive_legacy(c, o, seen, rep) :
	    receive_pages(c, o, seen, rep);
	recvseen_free(seen);
	return rc;
}
