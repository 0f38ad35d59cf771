/* stream.c - e2e-decrypt's stream mode (see stream.h). */
#include "keys/stream.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/opool.h"
#include "base/term.h"
#include "keys/trust.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
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
 * The part of opening a record that depends on nothing a record before
 * it changes, so records may be opened on several threads at once: the
 * RSA unwrap, the decryption, the signer looked up (l) among the pinned
 * keys (which stay as they are while the stream runs) and its signature
 * checked. open is the caller's, with OpenSSL objects no other thread
 * uses. Returns 0, or 65 or 70 with why in item (m then empty).
 */
static int
open_part(struct trust *t, struct trust_lookup *l,
    const struct open_opts *open, const struct record *r, struct message *m,
    struct report *item)
{
	struct open_opts oo = *open;
	struct report said = { 0 };	/* the callee's, quoted in item's */
	char id[128], from[128];
	int rc, i;

	memset(m, 0, sizeof(*m));
	/* Without --verify, the signer is looked up among the keys pinned
	 * for the record's sender. */
	if (oo.verify == NULL && oo.signer_key == NULL)
		trust_prepare(t, l, r->from, &oo);
	rc = message_open_text(&oo, r->envelope, r->envelope_len, m, &said);
	if (rc == 0)
		return 0;
	term_escape(r->id, strlen(r->id), id, sizeof(id));
	term_escape(r->from, strlen(r->from), from, sizeof(from));
	if (rc == E2E_EX_DATAERR && report_message(&said)[0] != '\0') {
		/* The reason, with its hints, named by message and sender. */
		report_error(item, rc, "message %s from %s: %s", id, from,
		    report_message(&said));
		for (i = 0; i < said.nlines; i++)
			if (said.line[i].level == REPORT_HINT)
				report_hint(item, "%s", said.line[i].text);
	} else {
		report_add(item, &said);
		report_error(item, rc, "message %s from %s: internal error", id,
		    from);
	}
	return rc;
}

/*
 * The part that depends on the records before: replays and the contact's
 * past (trust_judge), taken in input order. l is open_part's lookup.
 * Returns 0 with m ready to show, or 65 or 70 (item says why; m freed).
 */
static int
judge_part(struct trust *t, const struct trust_lookup *l, int seed_utf8,
    const struct record *r, struct message *m, char *warning, size_t wsize,
    struct report *item)
{
	struct report said = { 0 };	/* the callee's, quoted in item's */
	char id[128], from[128];
	int rc;

	warning[0] = '\0';
	term_escape(r->id, strlen(r->id), id, sizeof(id));
	term_escape(r->from, strlen(r->from), from, sizeof(from));
	if ((rc = trust_judge(t, l, r->from, r->id, m,
	    (int64_t)time(NULL), warning, wsize, &said)) != 0) {
		report_error(item, rc, "message %s from %s: %s", id, from,
		    report_message(&said));
		goto out;
	}
	/* The one warning of message_report() that no output field carries;
	 * rare (e2e-encrypt never writes such a message). */
	if (m->uncommitted_group)
		report_warn(item, "message %s from %s: A256GCM with several "
		    "recipients and no key commitment: other recipients may "
		    "have read a different message", id, from);
	/* Text, unless the Latin-1 holds a NUL: "data" then carries the
	 * bytes as decrypted. */
	if (seed_utf8 && (m->pt_len == 0 || memchr(m->pt, '\0',
	    m->pt_len) == NULL) && (rc = message_seed_utf8(m)) != 0)
		report_oom(item);
out:
	if (rc != 0)
		message_free(m);
	return rc;
}

int
stream_open_record(struct trust *t, const struct open_opts *open,
    int seed_utf8, const struct record *r, struct message *m,
    char *warning, size_t wsize, struct report *item)
{
	struct trust_lookup l = { 0 };
	int rc;

	warning[0] = '\0';
	if ((rc = open_part(t, &l, open, r, m, item)) == 0)
		rc = judge_part(t, &l, seed_utf8, r, m, warning, wsize, item);
	trust_lookup_free(&l);
	return rc;
}

/* ---- the stream, its records opened on a pool of threads ---- */

/* Records in flight per worker thread, and their bytes at most (a longer
 * record is still read, alone): the memory a stream ahead of its output
 * may take. */
#define STREAM_AHEAD_PER_THREAD 4
#define STREAM_AHEAD_BYTES ((size_t)16 << 20)

/* One line of the input, from its reading to its output line. */
struct job {
	unsigned long long lineno;
	int too_long;		/* longer than --max-size: no copy */
	char *line;		/* a copy of the line (len bytes) */
	size_t len;
	/* Written by the worker that opens it (open_record): */
	int ran;
	int rc;			/* 0: opened; else refused, item says why */
	struct record r;
	struct message m;
	struct trust_lookup look;
	struct report item;
};

/* One worker's own OpenSSL objects: the options it opens records with,
 * holding its copies of the keys. */
struct hand {
	struct open_opts oo;
	/* The caller's lookup of a signer's key (--verify NAME with several
	 * keys), which hands out keys it shares: this worker uses a copy. */
	EVP_PKEY *(*signer_key)(void *arg, const char *kid);
	void *signer_arg;
	EVP_PKEY *signer;	/* the copy last handed out */
};

/* What the workers share, read-only while records are in flight, and
 * each worker's own hand. */
struct crew {
	const struct stream_opts *o;
	struct trust *t;
	struct hand *h;		/* one per worker */
	unsigned n;
	int own_keys;		/* h's keys are copies, freed with it */
};

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	message_free(&j->m);
	trust_lookup_free(&j->look);
	record_free(&j->r);
	report_clear(&j->item);
	free(j->line);
	free(j);
}

static void
job_drop(void *job, void *arg)
{
	(void)arg;
	job_free(job);
}

/*
 * The parallel part of one record: parsed, opened (open_part). Runs on a
 * worker; touches only the job, the worker's own open_opts, and what
 * nothing changes while records are in flight (the keyring, options).
 * What a stranger chose (id, name) is escaped before it is shown.
 */
static void
open_record(void *job, unsigned worker, void *arg)
{
	struct job *j = job;
	struct crew *c = arg;
	struct report said = { 0 };	/* the callee's, quoted in item's */
	char id[128], from[128];
	const char *why;

	j->ran = 1;
	if (j->too_long)
		return;
	if (record_parse(j->line, j->len, &j->r, &said) != 0) {
		why = report_message(&said);
		if (j->r.id != NULL)
			term_escape(j->r.id, strlen(j->r.id), id, sizeof(id));
		if (j->r.from != NULL)
			term_escape(j->r.from, strlen(j->r.from), from,
			    sizeof(from));
		if (j->r.id != NULL && j->r.from != NULL)
			j->rc = report_error(&j->item, E2E_EX_DATAERR, "line "
			    "%llu: message %s from %s: %s", j->lineno, id, from,
			    why);
		else if (j->r.id != NULL)
			j->rc = report_error(&j->item, E2E_EX_DATAERR, "line "
			    "%llu: message %s: %s", j->lineno, id, why);
		else
			j->rc = report_error(&j->item, E2E_EX_DATAERR, "line "
			    "%llu: %s", j->lineno, why);
		return;
	}
	j->rc = open_part(c->t, &j->look, &c->h[worker < c->n ? worker : 0].oo,
	    &j->r, &j->m, &j->item);
}

/*
 * The ordered part of one record, in input order: judged, its output
 * line written, remembered. Returns 0, 65 (the record failed: reported
 * in item, nothing written), 70, or 74 (output). What item holds is
 * flushed before the line is written.
 */
static int
show_record(const struct stream_opts *o, struct trust *t, size_t max,
    struct job *j, struct report *rep)
{
	struct buf out = BUF_SECRET_INIT;
	char warning[512];
	int rc;

	if (j->too_long)
		return report_error(&j->item, E2E_EX_DATAERR, "line %llu: "
		    "longer than the limit of %zu bytes (--max-size): "
		    "skipped", j->lineno, max);
	if ((rc = j->rc) != 0)
		return rc;
	if ((rc = judge_part(t, &j->look, o->seed_utf8, &j->r, &j->m, warning,
	    sizeof(warning), &j->item)) != 0)
		goto out;
	if ((rc = record_format(&j->r, &j->m, warning, o->ascii, &out)) != 0) {
		report_oom(&j->item);
		goto out;
	}
	flush(o, &j->item, rep);
	if ((rc = write_out(o->fd, out.p, out.len, &j->item)) != 0)
		goto out;
	rc = trust_shown(t, j->r.from, j->r.id, &j->m, &j->item);
	if (rc == 0 && o->shown != NULL)
		rc = o->shown(&j->m, o->shown_arg, &j->item);
out:
	buf_free(&out);		/* wipes the plaintext written */
	return rc;
}

/* The signer's key the caller's lookup finds, as this worker's copy.
 * A copy that cannot be made (out of memory) is no key: the record is
 * then refused, or left unverified, as for an unknown signer. */
static EVP_PKEY *
own_signer(void *arg, const char *kid)
{
	struct hand *h = arg;
	EVP_PKEY *k;

	EVP_PKEY_free(h->signer);
	h->signer = NULL;
	if ((k = h->signer_key(h->signer_arg, kid)) != NULL)
		h->signer = EVP_PKEY_dup(k);
	return h->signer;
}

/* Each worker's copy of the reader's keys: no OpenSSL object is used by
 * two threads. Returns 0 or 70 (in rep). */
static int
crew_keys(struct crew *c, const struct open_opts *open, unsigned n,
    struct report *rep)
{
	struct hand *h;
	unsigned i;

	if ((c->h = calloc(n, sizeof(*c->h))) == NULL)
		return report_oom(rep);
	c->n = n;
	c->own_keys = 1;
	for (i = 0; i < n; i++) {
		h = &c->h[i];
		h->oo = *open;
		h->oo.key = NULL;
		h->oo.verify = NULL;
		if (open->signer_key != NULL) {
			h->signer_key = open->signer_key;
			h->signer_arg = open->signer_arg;
			h->oo.signer_key = own_signer;
			h->oo.signer_arg = h;
		}
		if ((h->oo.key = EVP_PKEY_dup(open->key)) == NULL ||
		    (open->verify != NULL && (h->oo.verify =
		    EVP_PKEY_dup(open->verify)) == NULL))
			return report_error(rep, E2E_EX_SOFTWARE, "cannot copy "
			    "a key for each thread (out of memory?)");
	}
	return 0;
}

static void
crew_free(struct crew *c)
{
	unsigned i;

	for (i = 0; c->own_keys && c->h != NULL && i < c->n; i++) {
		EVP_PKEY_free(c->h[i].oo.key);
		EVP_PKEY_free(c->h[i].oo.verify);
		EVP_PKEY_free(c->h[i].signer);
	}
	free(c->h);
}

/* A job for the line just read (too_long: only its number). NULL when
 * out of memory. */
static struct job *
job_new(unsigned long long lineno, int too_long, const char *line,
    size_t len)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->lineno = lineno;
	j->too_long = too_long;
	if (!too_long) {
		/* One byte more: an empty line still gets a buffer. */
		if ((j->line = malloc(len + 1)) == NULL) {
			free(j);
			return NULL;
		}
		memcpy(j->line, line, len);
		j->line[len] = '\0';
		j->len = len;
	}
	return j;
}

int
stream_decrypt(struct record_reader *in, const struct stream_opts *o,
    const char *first, size_t len, struct report *rep)
{
	struct crew crew = { 0 };
	struct opool *pool = NULL;
	struct trust *t = NULL;
	struct job *j;
	const char *line = first;
	size_t ahead = 0;
	unsigned threads = o->threads > 0 ? o->threads : 1;
	int rc, have_line = first != NULL, eof = 0, read_rc = 0;
	int failed = 0, internal = 0;

	if ((rc = trust_open(o->me, o->open->kid, &t, rep)) != 0)
		return rc;
	/* The replay cache's warnings come before the first record. */
	if (o->said != NULL && report_said(rep)) {
		o->said(rep, o->said_arg);
		report_clear(rep);
	}
	crew.o = o;
	crew.t = t;
	if (threads > 1 && (rc = crew_keys(&crew, o->open, threads, rep)) != 0)
		goto out;
	if (threads == 1) {
		/* One thread: the records are opened in this one, one at a
		 * time, with the caller's keys. */
		if ((crew.h = calloc(1, sizeof(*crew.h))) == NULL) {
			rc = report_oom(rep);
			goto out;
		}
		crew.h[0].oo = *o->open;
		crew.n = 1;
	}
	if ((pool = opool_start(threads, threads > 1 ? threads *
	    STREAM_AHEAD_PER_THREAD : 1, open_record, &crew)) == NULL) {
		rc = report_oom(rep);
		goto out;
	}
	for (;;) {
		/*
		 * Read on while there is room ahead, and either nothing is
		 * in flight (then wait for input) or a line can be read
		 * without waiting: a record that arrived is never held back
		 * by the wait for the next one.
		 */
		while (!eof && !opool_full(pool) && (opool_pending(pool) == 0 ||
		    (ahead < STREAM_AHEAD_BYTES && record_reader_ready(in)))) {
			if (!have_line) {
				rc = record_read_line(in, &line, &len);
				if (rc == RECORD_READ_EOF || rc ==
				    RECORD_READ_ERROR) {
					/* The records read before come out
					 * first. */
					if (rc == RECORD_READ_ERROR)
						read_rc = in->rc;
					eof = 1;
					break;
				}
			} else {
				rc = RECORD_READ_LINE;
			}
			have_line = 0;
			if ((j = job_new(in->lineno, rc == RECORD_READ_TOO_LONG,
			    line, len)) == NULL) {
				rc = report_oom(rep);
				goto out;
			}
			ahead += j->len;
			opool_submit(pool, j);
		}
		if ((j = opool_take(pool)) == NULL)
			break;
		ahead -= j->len;
		rc = show_record(o, t, in->max, j, rep);
		flush(o, &j->item, rep);
		job_free(j);
		if (rc == E2E_EX_IOERR)
			goto out;
		if (rc == E2E_EX_DATAERR)
			failed = 1;
		else if (rc != 0)
			internal = 1;
	}
	rc = read_rc != 0 ? read_rc : internal ? E2E_EX_SOFTWARE : failed ?
	    E2E_EX_DATAERR : 0;
out:
	/* After an output error, the records decrypted ahead are wiped
	 * unseen. */
	opool_stop(pool, job_drop, NULL);
	crew_free(&crew);
	trust_close(t);
	return rc;
}
