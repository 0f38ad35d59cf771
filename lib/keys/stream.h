/*
 * stream.h - e2e-decrypt's stream mode: each record line of e2e-recv
 * (format/records.h) decrypted as soon as it has arrived, judged beyond
 * its cryptography (trust.h: the signer pinned for its sender, the
 * names it signs, replays), and written out as one output line
 * (record_format). It lives in keys/ because trust needs the keyring
 * and the replay cache.
 */
#ifndef E2E_STREAM_H
#define E2E_STREAM_H

#include <stddef.h>

#include "base/report.h"
#include "format/message.h"
#include "format/records.h"

struct trust;

struct stream_opts {
	const struct open_opts *open;	/* the reader's key; --verify */
	const char *me;		/* my account name, or NULL when unknown */
	int seed_utf8;		/* a seed message's Latin-1 text as UTF-8 */
	int ascii;		/* every non-ASCII character escaped */
	unsigned threads;	/* records opened at once, on as many threads
				 * (1 to OPOOL_THREADS_MAX; 0 is 1); the
				 * output keeps the input's order */
	int fd;			/* where the output lines go: standard output,
				 * as its errors say (a test gives a file) */
	/* What one record has to say (its error, a warning), handed over
	 * as soon as it is known, before the record's output line is
	 * written: e2e-decrypt prints it (err_print), so that stderr and
	 * stdout keep their order. NULL: the lines are added to rep. */
	void (*said)(const struct report *rep, void *arg);
	void *said_arg;
	/* Called, in input order, once a record's line is written: a
	 * one-time prekey is marked used (e2e-decrypt). Returns 0, or an
	 * exit code with the error in rep. NULL: nothing to do. */
	int (*shown)(const struct message *m, void *arg, struct report *rep);
	void *shown_arg;
};

/*
 * Decrypts every record line of in, and writes each one's output line
 * to o->fd with one write, in input order, as soon as it and those
 * before it are decrypted (no stdio buffer keeps a copy of a
 * plaintext). With o->threads > 1 the records are opened (RSA, the
 * decryption, the signature) on that many threads (this one, between
 * its output lines, among them: opool.h), a few records read
 * ahead (at most 4 per thread, and 16 MiB unless one record is larger);
 * what depends on the records before (replays, what the keyring
 * remembers) is decided in input order, as with one thread, so the
 * output and the exit status are the same. first (len bytes) is the first line
 * when it was read already, else NULL. A record that fails is reported
 * (o->said) with its line number, id and sender (escaped), and the
 * others go on; so is a line longer than in->max. Returns 0 when every
 * record was written, 65 when some failed, 70 when some hit an internal
 * error; or at once 74 when the output fails (reported through
 * o->said), or the exit code of a read error; or before any record the
 * exit code of opening the keyring and the replay cache (reported in
 * rep).
 */
int stream_decrypt(struct record_reader *in, const struct stream_opts *o,
    const char *first, size_t len, struct report *rep);

/*
 * Opens one parsed record r (its id, from and envelope are used) and
 * judges it with t (trust.h): the signer among the keys pinned for its
 * sender unless open says whose; the signed names, replays. Returns 0
 * with m holding the plaintext (seed text as UTF-8 with seed_utf8) and
 * warning (wsize bytes) saying what is off, m->verified cleared when not
 * verified; or 65 (refused) or 70, why in item, naming the message and
 * its sender (escaped), m then empty. After showing it, the caller
 * calls trust_shown. This is e2e-decrypt's stream mode for one record,
 * and e2e-chat's for each message it shows.
 */
int stream_open_record(struct trust *t, const struct open_opts *open,
    int seed_utf8, const struct record *r, struct message *m,
    char *warning, size_t wsize, struct report *item);

#endif
