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

/* Writes all of p to fd at once. */
static int
write_out(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			err_errno("cannot write standard output");
			return E2E_EX_IOERR;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Decrypts one record line and writes its output line. Returns 0, 65
 * (the record failed: reported, nothing written), 70, or 74 (output).
 * What a stranger chose (id, name) is escaped before it is shown.
 */
static int
one_record(const struct stream_opts *o, struct trust *t,
    unsigned long long lineno, const char *line, size_t len)
{
	struct open_opts oo = *o->open;
	struct record r;
	struct message m;
	struct buf out = BUF_SECRET_INIT;
	char why[320], id[128], from[128], warning[512];
	int rc;

	memset(&m, 0, sizeof(m));
	{
		struct report rep = { 0 };	/* errs: transitional */

		rc = record_parse(line, len, &r, &rep);
		snprintf(why, sizeof(why), "%s", report_message(&rep));
	}
	if (rc != 0) {
		if (r.id != NULL)
			term_escape(r.id, strlen(r.id), id, sizeof(id));
		if (r.from != NULL)
			term_escape(r.from, strlen(r.from), from, sizeof(from));
		if (r.id != NULL && r.from != NULL)
			err_error("line %llu: message %s from %s: %s", lineno,
			    id, from, why);
		else if (r.id != NULL)
			err_error("line %llu: message %s: %s", lineno, id, why);
		else
			err_error("line %llu: %s", lineno, why);
		rc = E2E_EX_DATAERR;
		goto out;
	}
	term_escape(r.id, strlen(r.id), id, sizeof(id));
	term_escape(r.from, strlen(r.from), from, sizeof(from));
	/* Without --verify, the signer is looked up among the keys pinned
	 * for the record's sender. */
	if (oo.verify == NULL && oo.signer_key == NULL)
		trust_prepare(t, r.from, &oo);
	{
		struct report rep = { 0 };	/* errs: transitional */
		int i;

		rc = message_open_text(&oo, r.envelope, r.envelope_len, &m,
		    &rep);
		if (rc == E2E_EX_DATAERR && report_message(&rep)[0] != '\0') {
			err_error("message %s from %s: %s", id, from,
			    report_message(&rep));
			for (i = 0; i < rep.nlines; i++)
				if (rep.line[i].level == REPORT_HINT)
					err_hint("%s", rep.line[i].text);
		} else if (rc != 0) {
			err_print(&rep);
			err_error("message %s from %s: internal error", id,
			    from);
		}
	}
	if (rc != 0)
		goto out;
	if ((rc = trust_judge(t, r.from, r.id, &m, (int64_t)time(NULL),
	    warning, sizeof(warning), why, sizeof(why))) != 0) {
		err_error("message %s from %s: %s", id, from, why);
		goto out;
	}
	/* The one warning of message_report() that no output field carries;
	 * rare (e2e-encrypt never writes such a message). */
	if (m.uncommitted_group)
		err_warn("message %s from %s: A256GCM with several recipients "
		    "and no key commitment: other recipients may have read a "
		    "different message", id, from);
	/* Text, unless the Latin-1 holds a NUL: "data" then carries the
	 * bytes as decrypted. */
	if (o->seed_utf8 && (m.pt_len == 0 || memchr(m.pt, '\0',
	    m.pt_len) == NULL) && (rc = message_seed_utf8(&m)) != 0)
		goto out;
	if ((rc = record_format(&r, &m, warning, o->ascii, &out)) != 0)
		goto out;
	if ((rc = write_out(o->fd, out.p, out.len)) != 0)
		goto out;
	rc = trust_shown(t, r.from, r.id, &m);
out:
	buf_free(&out);		/* wipes the plaintext written */
	message_free(&m);
	record_free(&r);
	return rc;
}

int
stream_decrypt(struct record_reader *in, const struct stream_opts *o,
    const char *first, size_t len)
{
	struct trust *t;
	const char *line = first;
	int rc, have_line = first != NULL, failed = 0, internal = 0;

	if ((rc = trust_open(o->me, o->open->kid, &t)) != 0)
		return rc;
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
				err_error("line %llu: longer than the limit of "
				    "%zu bytes (--max-size): skipped",
				    in->lineno, in->max);
				failed = 1;
				continue;
			}
		}
		have_line = 0;
		rc = one_record(o, t, in->lineno, line, len);
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
