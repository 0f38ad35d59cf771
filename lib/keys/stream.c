/* stream.c - e2e-decrypt's stream mode (see stream.h). */
#include "keys/stream.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/term.h"
#include "keys/trust.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Hands what a record had to say to the caller now, in order with the
 * output lines (o->said), or keeps it in rep; then empties item. */
static void
flush(const struct stream_opts *o, struct report *item, struct report *rep)
{
	if (report_said(item)) {
		if (o->said != NULL)
			o->said(item, o->said_arg);
		else
			report_add(rep, item);
	}
	report_clear(item);
}

/* Writes all of p to fd at once. */
static int
write_out(int fd, const uint8_t *p, size_t n, struct report *rep)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return report_errno(rep, E2E_EX_IOERR, "cannot write "
			    "standard output");
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Decrypts one record line and writes its output line. Returns 0, 65
 * (the record failed: reported in item, nothing written), 70, or 74
 * (output). What item holds is flushed before the line is written.
 * What a stranger chose (id, name) is escaped before it is shown.
 */
static int
one_record(const struct stream_opts *o, struct trust *t,
    unsigned long long lineno, const char *line, size_t len,
    struct report *item, struct report *rep)
{
	struct open_opts oo = *o->open;
	struct record r;
	struct message m;
	struct buf out = BUF_SECRET_INIT;
	char id[128], from[128], warning[512];
	struct report said = { 0 };	/* the callee's, quoted in item's */
	const char *why;
	int rc, i;

	memset(&m, 0, sizeof(m));
	if (record_parse(line, len, &r, &said) != 0) {
		why = report_message(&said);
		if (r.id != NULL)
			term_escape(r.id, strlen(r.id), id, sizeof(id));
		if (r.from != NULL)
			term_escape(r.from, strlen(r.from), from, sizeof(from));
		if (r.id != NULL && r.from != NULL)
			rc = report_error(item, E2E_EX_DATAERR, "line %llu: "
			    "message %s from %s: %s", lineno, id, from, why);
		else if (r.id != NULL)
			rc = report_error(item, E2E_EX_DATAERR, "line %llu: "
			    "message %s: %s", lineno, id, why);
		else
			rc = report_error(item, E2E_EX_DATAERR, "line %llu: %s",
			    lineno, why);
		goto out;
	}
	term_escape(r.id, strlen(r.id), id, sizeof(id));
	term_escape(r.from, strlen(r.from), from, sizeof(from));
	/* Without --verify, the signer is looked up among the keys pinned
	 * for the record's sender. */
	if (oo.verify == NULL && oo.signer_key == NULL)
		trust_prepare(t, r.from, &oo);
	rc = message_open_text(&oo, r.envelope, r.envelope_len, &m, &said);
	if (rc == E2E_EX_DATAERR && report_message(&said)[0] != '\0') {
		/* The reason, with its hints, named by message and sender. */
		report_error(item, rc, "message %s from %s: %s", id, from,
		    report_message(&said));
		for (i = 0; i < said.nlines; i++)
			if (said.line[i].level == REPORT_HINT)
				report_hint(item, "%s", said.line[i].text);
		goto out;
	} else if (rc != 0) {
		report_add(item, &said);
		report_error(item, rc, "message %s from %s: internal error", id,
		    from);
		goto out;
	}
	report_clear(&said);
	if ((rc = trust_judge(t, r.from, r.id, &m, (int64_t)time(NULL),
	    warning, sizeof(warning), &said)) != 0) {
		report_error(item, rc, "message %s from %s: %s", id, from,
		    report_message(&said));
		goto out;
	}
	/* The one warning of message_report() that no output field carries;
	 * rare (e2e-encrypt never writes such a message). */
	if (m.uncommitted_group)
		report_warn(item, "message %s from %s: A256GCM with several "
		    "recipients and no key commitment: other recipients may "
		    "have read a different message", id, from);
	/* Text, unless the Latin-1 holds a NUL: "data" then carries the
	 * bytes as decrypted. */
	if (o->seed_utf8 && (m.pt_len == 0 || memchr(m.pt, '\0',
	    m.pt_len) == NULL) && (rc = message_seed_utf8(&m)) != 0) {
		report_oom(item);
		goto out;
	}
	if ((rc = record_format(&r, &m, warning, o->ascii, &out)) != 0) {
		report_oom(item);
		goto out;
	}
	flush(o, item, rep);
	if ((rc = write_out(o->fd, out.p, out.len, item)) != 0)
		goto out;
	rc = trust_shown(t, r.from, r.id, &m, item);
out:
	buf_free(&out);		/* wipes the plaintext written */
	message_free(&m);
	record_free(&r);
	return rc;
}

int
stream_decrypt(struct record_reader *in, const struct stream_opts *o,
    const char *first, size_t len, struct report *rep)
{
	struct report item = { 0 };
	struct trust *t;
	const char *line = first;
	int rc, have_line = first != NULL, failed = 0, internal = 0;

	if ((rc = trust_open(o->me, o->open->kid, &t, rep)) != 0)
		return rc;
	/* The replay cache's warnings come before the first record. */
	if (o->said != NULL && report_said(rep)) {
		o->said(rep, o->said_arg);
		report_clear(rep);
	}
	for (;;) {
		if (!have_line) {
			rc = record_read_line(in, &line, &len);
			if (rc == RECORD_READ_EOF)
				break;
			if (rc == RECORD_READ_ERROR) {
				trust_close(t);
				return in->rc;
			}
			if (rc == RECORD_READ_TOO_LONG) {
				report_error(&item, E2E_EX_DATAERR, "line "
				    "%llu: longer than the limit of %zu bytes "
				    "(--max-size): skipped", in->lineno,
				    in->max);
				flush(o, &item, rep);
				failed = 1;
				continue;
			}
		}
		have_line = 0;
		rc = one_record(o, t, in->lineno, line, len, &item, rep);
		flush(o, &item, rep);
		if (rc == E2E_EX_IOERR) {
			trust_close(t);
			return rc;
		}
		if (rc == E2E_EX_DATAERR)
			failed = 1;
		else if (rc != 0)
			internal = 1;
	}
	trust_close(t);
	return internal ? E2E_EX_SOFTWARE : failed ? E2E_EX_DATAERR : 0;
}
