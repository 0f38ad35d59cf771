/*
 * store_pg.c - the PostgreSQL backend (see store.h), for several
 * e2e-server instances over one database.
 *
 * One connection for the writer thread; a small fixed pool for the
 * reading threads (a PGconn serves one thread at a time). Every
 * statement is a constant with bound parameters, prepared once per
 * connection: nothing from a request is ever part of SQL text (H6).
 * Names and ids are compared byte-wise (COLLATE "C"), as SQLite does.
 *
 * The writer waits for the database as little as it can: each wait is
 * a round trip through a loaded machine's scheduler, which costs a send
 * more than the statements themselves. Its connection is in pipeline
 * mode, and what a job need not know at once (its savepoint, the row to
 * hold, a limit's new count) goes with the next statement whose answer
 * it needs: a send is two round trips, its quota counted and its message
 * stored by one statement.
 *
 * Several instances write at once, so what SQLite's single writer gets
 * for free is asked of the database here: a mailbox's quota is counted
 * with its owner's row locked (by a send's own statement, or
 * user_lock), the writers take turns (pg_begin), and a new name takes a
 * lock on its skeleton before it is checked.
 *
 * A connection that breaks (the database restarting, failing over) is
 * made again at the next use: a read is repeated once on the new
 * connection; a write transaction under way fails (its requests get 503)
 * and the next one begins on a new connection.
 *
 * Receivers waiting on another instance hear of a message at once: the
 * transaction that stores it notifies the recipient's id (NOTIFY, sent
 * by the database at COMMIT, dropped with a job rolled back), and each
 * instance listens on a connection of its own (listen).
 */
#include "server/store.h"
#include "base/err.h"
#include "server/log.h"

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#define SCHEMA_VERSION 6
#define READERS 8
/* The advisory lock of the schema's creation and migration: any
 * constant of this program's own. */
#define SCHEMA_LOCK "4523910377105581913"
/* The advisory lock every instance's writer holds through its
 * transaction (pg_begin). */
#define WRITER_LOCK "4523910377105581914"

/* Recipients notified by one transaction, at most; past it, the others
 * are found by the waiters' poll. */
#define NOTIFY_MAX 512
#define NOTIFY_CHANNEL "e2e_mail"

/* A send's rate row expires at a multiple of this many ms, the first
 * at or after the moment its tokens are all back (pg_send): a row that
 * lingers is read as one that expired (its tokens are back), and a row
 * whose expires (indexed) stays the same is updated in place (HOT), not
 * as a new index entry each send, which bloats the limits table of a
 * busy sender until the next vacuum. */
#define EXPIRES_GRID "1024"

/* Statements prepared on one connection at most (this file has fewer);
 * past it, a statement is parsed each time. */
#define PREPARED_MAX 96
/* Statements sent on the writer's connection and not yet answered. */
#define PENDING_MAX 1024

/* A connection and the statements prepared on it: a statement is
 * prepared at its first use, as "e2e_I" for its place I in prep (the
 * SQL text's address: each is a constant of this file). */
struct conn {
	PGconn *c;
	const char *prep[PREPARED_MAX];
	size_t nprep;
};

/* What an answer not yet read means (the writer's pipeline). */
enum {
	/* A failure of it fails the whole transaction (BEGIN, SAVEPOINT,
	 * RELEASE...): no job of it may be said to be stored. */
	PEND_WHOLE = 1,
	/* No row is STORE_NOT_FOUND (user_lock). */
	PEND_ROW = 2,
	/* The preparation of the statement at prep[slot]: forgotten when
	 * it fails. */
	PEND_PREPARE = 4,
	/* A statement a job may send and still leave nothing when a send
	 * of it is refused later (see PEND_OUTCOME): a limit's row read or
	 * written, a user's row held. Any other statement of the job's
	 * makes it wait for its answers at its release. */
	PEND_PLAIN = 8,
	/* A send's message stored if there is room (message_put_within):
	 * its answer says the job's result, read with a later job's
	 * statement; when refused, the statement itself has put back the
	 * limit's row the job changed (the job's only other write). */
	PEND_OUTCOME = 16,
	/* A PEND_OUTCOME of pg_send: its answer says too whether the
	 * sender's rate let it through (the refusal's wait to write). */
	PEND_RATE = 32,
	/* A job's statement that needs no savepoint: when it is the job's
	 * first, it writes nothing unless it succeeds (pg_send's, later):
	 * sent without one (wsend). */
	PEND_ALONE = 64,
};

enum { BARE_NONE, BARE_SENT, BARE_REFUSED, BARE_WROTE };

/* Jobs refused after their release, noted until settle() at most. */
#define LATE_MAX 512
/* The longest limit key a refused send can put back (guard.c's are
 * shorter). */
#define LIMIT_KEY_LEN 160

struct pending {
	const char *what;
	int flags;
	size_t slot;
	long job;			/* the job that sent it (its place) */
	/* PEND_OUTCOME: the send's recipient, body and quota. */
	char to[STORE_ID_LEN + 1];
	size_t len, max_messages, max_bytes;
	/* PEND_RATE: the rate, when it was counted, where its refusal's
	 * wait goes. */
	double per_s, burst;
	unsigned *wait_s;
};

struct pg {
	char *url;
	/*
	 * The writer's connection, in pipeline mode: statements whose
	 * answer the job does not need at once (a savepoint, a limit's new
	 * count, a row to hold) are sent and their answers read with the
	 * next statement's, one round trip for several. A failure among
	 * them is the job's (its release reads them first), or the whole
	 * transaction's (PEND_WHOLE: broken, never committed).
	 */
	struct conn w;
	struct pending pend[PENDING_MAX];
	size_t npend;
	size_t job_pend;		/* of the job's, not PEND_WHOLE */
	int broken;
	int broken_rc;			/* why (a STORE_ code) */
	/* The job under way: its place in the transaction, whether it has
	 * been released, sent only PEND_PLAIN statements, sent a
	 * PEND_OUTCOME one; the limit's row it read (limit_get), as the
	 * database gave it, for a refusal to put back. */
	long job_no;
	int job_released, job_plain, job_outcome;
	/* The job's savepoint: wanted (savepoint), sent (at its first
	 * statement that needs one); its first statement sent without one
	 * (PEND_ALONE): BARE_SENT, then BARE_REFUSED when it wrote nothing
	 * (a refusal) or BARE_WROTE (stored, or failed: only the whole
	 * transaction can undo it). */
	int sp_wanted, sp_sent, bare;
	int quiet;			/* pg_begin: nothing heard while idle */
	size_t job_nlim;
	char lim_key[LIMIT_KEY_LEN + 1], lim_n[32], lim_t[24], lim_exp[24];
	/* Jobs refused after their release: their place and result. */
	struct {
		long job;
		int rc;
	} late[LATE_MAX];
	size_t nlate;
	pthread_mutex_t lock;		/* guards r[] and busy[] */
	pthread_cond_t freed;
	struct conn r[READERS];
	int busy[READERS];
	/* The recipients of the messages stored by the transaction under
	 * way (the writer's), notified before its COMMIT; the job under
	 * way added those from job_start on. */
	char notify[NOTIFY_MAX][STORE_ID_LEN + 1];
	size_t nnotify, job_start;
	int kept;			/* a job of the transaction succeeded */
	/* The listener (listen): its thread, and a pipe that stops it. */
	pthread_t listener;
	/* The writer's backend's pid (atomic): its own notifications are
	 * not news to this instance (routes.c wakes its receivers), and the
	 * listener passes them over. */
	int wpid;
	int listening, stop[2];
	void (*heard)(void *arg, const char *user_id);
	void *heard_arg;
};

/* Version 3, the first of PostgreSQL's (its numbers are SQLite's):
 * users, messages, the key directory, the quarantine of deleted names
 * and key ids, settings; and the version itself. */
static const char *const schema_v3[] = {
	"CREATE TABLE meta ("
	"  key text COLLATE \"C\" PRIMARY KEY,"
	"  value bytea NOT NULL)",
	"CREATE TABLE users ("
	"  id text COLLATE \"C\" PRIMARY KEY,"
	"  name text COLLATE \"C\" NOT NULL UNIQUE,"
	"  hash text NOT NULL,"
	"  token_version bigint NOT NULL DEFAULT 0,"
	"  created_at bigint NOT NULL,"
	"  skeleton text COLLATE \"C\" NOT NULL DEFAULT '')",
	"CREATE INDEX users_skeleton ON users (skeleton)",
	"CREATE TABLE messages ("
	"  id text COLLATE \"C\" PRIMARY KEY,"
	"  recipient_id text COLLATE \"C\" NOT NULL REFERENCES users (id) "
	"    ON DELETE CASCADE,"
	"  recipient text COLLATE \"C\" NOT NULL,"
	"  sender text COLLATE \"C\" NOT NULL,"
	"  sent_at bigint NOT NULL,"
	"  body bytea NOT NULL,"
	"  sender_id text COLLATE \"C\")",
	"CREATE INDEX messages_to ON messages (recipient_id, id)",
	"CREATE TABLE keys ("
	"  user_id text COLLATE \"C\" NOT NULL REFERENCES users (id) "
	"    ON DELETE CASCADE,"
	"  kid text COLLATE \"C\" NOT NULL,"
	"  pem text NOT NULL,"
	"  created_at bigint NOT NULL,"
	"  proof text,"
	"  PRIMARY KEY (user_id, kid))",
	"CREATE UNIQUE INDEX keys_kid ON keys (kid)",
	"CREATE TABLE quarantine ("
	"  kind text COLLATE \"C\" NOT NULL,"
	"  value text COLLATE \"C\" NOT NULL,"
	"  name text COLLATE \"C\" NOT NULL,"
	"  user_id text COLLATE \"C\" NOT NULL,"
	"  deleted_at bigint NOT NULL,"
	"  PRIMARY KEY (kind, value))",
	"CREATE TABLE e2e_schema (version integer NOT NULL)",
	"INSERT INTO e2e_schema VALUES (3)",
};

/* Version 4: the limits every server on the database shares (as
 * SQLite's schema_v4). */
static const char *const schema_v4[] = {
	"CREATE TABLE limits ("
	"  key text COLLATE \"C\" PRIMARY KEY,"
	"  n double precision NOT NULL,"
	"  t bigint NOT NULL,"
	"  expires bigint NOT NULL)",
	"CREATE INDEX limits_expires ON limits (expires)",
	"UPDATE e2e_schema SET version = 4",
};

/* Version 5: prekeys (issue 16; as SQLite's schema_v5). */
static const char *const schema_v5[] = {
	"CREATE TABLE prekeys ("
	"  user_id text COLLATE \"C\" NOT NULL,"
	"  kid text COLLATE \"C\" NOT NULL,"
	"  pkid text COLLATE \"C\" NOT NULL,"
	"  kind integer NOT NULL,"
	"  x text NOT NULL,"
	"  proof text NOT NULL,"
	"  iat bigint NOT NULL,"
	"  created_at bigint NOT NULL,"
	"  PRIMARY KEY (kid, pkid),"
	"  FOREIGN KEY (user_id, kid) REFERENCES keys (user_id, kid) "
	"    ON DELETE CASCADE)",
	"CREATE INDEX prekeys_owner ON prekeys (user_id, kid)",
	"CREATE INDEX prekeys_claim ON prekeys (kid, kind, created_at, pkid)",
	"CREATE UNIQUE INDEX prekeys_signed ON prekeys (kid) WHERE kind = 1",
	"UPDATE e2e_schema SET version = 5",
};

/*
 * Version 6: each mailbox's usage on its owner's row (as SQLite's
 * schema_v6), counted once from the messages there, then kept by
 * triggers in the transaction of every insert and delete, whatever the
 * path (a send, an acknowledgement, a receive, an account's deletion).
 * A delete's is one per statement: an acknowledgement of a hundred
 * messages changes the row once, not a hundred times.
 */
static const char *const schema_v6[] = {
	"ALTER TABLE users ADD COLUMN msg_count bigint NOT NULL DEFAULT 0, "
	"  ADD COLUMN msg_bytes bigint NOT NULL DEFAULT 0",
	"UPDATE users u SET msg_count = m.n, msg_bytes = m.b FROM ("
	"  SELECT recipient_id, count(*) AS n, sum(length(body)) AS b"
	"  FROM messages GROUP BY recipient_id) m "
	"WHERE u.id = m.recipient_id",
	"CREATE OR REPLACE FUNCTION e2e_mailbox_in() RETURNS trigger "
	"LANGUAGE plpgsql AS $$ BEGIN"
	"  UPDATE users SET msg_count = msg_count + 1,"
	"    msg_bytes = msg_bytes + length(NEW.body)"
	"    WHERE id = NEW.recipient_id;"
	"  RETURN NULL; "
	"END $$",
	"CREATE TRIGGER messages_in AFTER INSERT ON messages "
	"FOR EACH ROW EXECUTE PROCEDURE e2e_mailbox_in()",
	"CREATE OR REPLACE FUNCTION e2e_mailbox_out() RETURNS trigger "
	"LANGUAGE plpgsql AS $$ BEGIN"
	"  UPDATE users u SET msg_count = u.msg_count - g.n,"
	"    msg_bytes = u.msg_bytes - g.b FROM ("
	"    SELECT recipient_id, count(*) AS n, sum(length(body)) AS b"
	"    FROM gone GROUP BY recipient_id) g"
	"    WHERE u.id = g.recipient_id;"
	"  RETURN NULL; "
	"END $$",
	"CREATE TRIGGER messages_out AFTER DELETE ON messages "
	"REFERENCING OLD TABLE AS gone "
	"FOR EACH STATEMENT EXECUTE PROCEDURE e2e_mailbox_out()",
	"UPDATE e2e_schema SET version = 6",
};

/* The length of the first line of libpq's message: one line in the log
 * or on stderr (the rest is libpq's guess, "Is the server running...?"). */
static int
msg_len(const char *m)
{
	size_t n = strcspn(m, "\n");

	while (n > 0 && m[n - 1] == ' ')
		n--;
	return (int)n;
}

/* Notices (a NOTICE of the server's) are not for the log's readers. */
static void
no_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static PGconn *
connect_to(const char *url)
{
	/* The URL's own settings override the ones before it. */
	static const char *const kw[] = { "connect_timeout",
	    "application_name", "dbname", NULL };
	const char *const v[] = { "10", "e2e-server", url, NULL };
	PGconn *c = PQconnectdbParams(kw, v, 1);

	if (c != NULL)
		PQsetNoticeProcessor(c, no_notice, NULL);
	return c;
}

/* What a statement's failure means: STORE_CONFLICT for a unique or a
 * foreign key's violation, STORE_NOSPACE for disk_full (53100: the
 * database could not extend a file; said once), else STORE_ERROR
 * (logged; a connection lost is noted for store_unavailable). */
static int
failed(struct store *s, PGconn *c, const PGresult *res, const char *what)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) :
	    NULL;
	const char *m = res && PQresultErrorMessage(res)[0] != '\0' ?
	    PQresultErrorMessage(res) : PQerrorMessage(c);

	if (state != NULL && (strcmp(state, "23505") == 0 ||
	    strcmp(state, "23503") == 0))
		return STORE_CONFLICT;
	/* One line: the primary message, without its CONTEXT. */
	if (state != NULL && strcmp(state, "53100") == 0)
		return PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?
		    store_nospace(s, what, PQresultErrorField(res,
		    PG_DIAG_MESSAGE_PRIMARY), -1) :
		    store_nospace(s, what, m, msg_len(m));
	if (PQstatus(c) == CONNECTION_BAD) {
		store_lost(s);
	} else if (state != NULL && (strcmp(state, "40P01") == 0 ||
	    strcmp(state, "40001") == 0 || strncmp(state, "57P", 3) == 0)) {
		/* A deadlock between instances, a database shutting down:
		 * the same request will do in a moment (503), though the
		 * connection itself still works. */
		store_lost(s);
		store_regained(s);
	}
	log_error("database: %s: %.*s", what, msg_len(m), m);
	return STORE_ERROR;
}

/* What a result says: STORE_OK for a statement's success, with the
 * result in *out (when out is not NULL; PQclear it), else what failed()
 * says (the result cleared). */
static int
result(struct store *s, PGconn *c, PGresult *res, PGresult **out,
    const char *what)
{
	ExecStatusType st = PQresultStatus(res);
	int rc;

	if (out != NULL)
		*out = NULL;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (out != NULL)
			*out = res;
		else
			PQclear(res);
		return STORE_OK;
	}
	rc = failed(s, c, res, what);
	PQclear(res);
	return rc;
}

/*
 * Runs sql with n parameters (text, but where fmt says 1: binary of
 * len bytes) on c, parsed each time (the listener's). Returns STORE_OK
 * with the result in *out (when out is not NULL; PQclear it), or what
 * failed() says.
 */
static int
query(struct store *s, PGconn *c, const char *sql, int n,
    const char *const *v, const int *len, const int *fmt, PGresult **out,
    const char *what)
{
	return result(s, c, PQexecParams(c, sql, n, NULL, v, len, fmt, 0), out,
	    what);
}

/* The rows a statement changed. */
static long
changed(const PGresult *res)
{
	return strtol(PQcmdTuples((PGresult *)res), NULL, 10);
}

/* sql's place among k's prepared statements, and its name in name;
 * *fresh set when it is yet to be prepared (its place taken). -1: not
 * prepared (no parameters, where parsing costs nothing and must work
 * in a failed transaction, as ROLLBACK TO does; or no room). */
static long
prepared(struct conn *k, const char *sql, int n, char name[24], int *fresh)
{
	size_t i, free_slot = PREPARED_MAX;

	*fresh = 0;
	if (n == 0)
		return -1;
	for (i = 0; i < k->nprep; i++) {
		if (k->prep[i] == sql)
			break;
		if (k->prep[i] == NULL && free_slot == PREPARED_MAX)
			free_slot = i;
	}
	if (i == k->nprep) {
		if (free_slot == PREPARED_MAX && k->nprep == PREPARED_MAX)
			return -1;
		i = free_slot < PREPARED_MAX ? free_slot : k->nprep++;
		k->prep[i] = sql;
		*fresh = 1;
	}
	snprintf(name, 24, "e2e_%zu", i);
	return (long)i;
}

/* Makes k usable: connects, or connects again after a loss (the
 * statements prepared on it gone with it). Returns 1, or 0 (said in the
 * log once per outage). */
static int
usable(struct store *s, struct conn *k)
{
	struct pg *p = s->impl;
	const char *m;

	if (k->c != NULL && PQstatus(k->c) == CONNECTION_OK)
		return 1;
	k->nprep = 0;
	if (k == &p->w) {
		p->npend = p->job_pend = 0;
		/* Its backend is gone: its pid may be another's now. */
		__atomic_store_n(&p->wpid, 0, __ATOMIC_RELEASE);
	}
	if (k->c == NULL)
		k->c = connect_to(p->url);
	else
		PQreset(k->c);
	if (k->c != NULL && PQstatus(k->c) == CONNECTION_OK) {
		if (k == &p->w)
			__atomic_store_n(&p->wpid, PQbackendPID(k->c),
			    __ATOMIC_RELEASE);
		if (__atomic_load_n(&s->down, __ATOMIC_ACQUIRE))
			log_note("database: connected again");
		store_regained(s);
		return 1;
	}
	if (!__atomic_load_n(&s->down, __ATOMIC_ACQUIRE)) {
		m = k->c ? PQerrorMessage(k->c) : "out of memory";
		log_error("database: cannot connect: %.*s", msg_len(m), m);
	}
	store_lost(s);
	return 0;
}

/* A reading connection of the pool, waited for when all are busy. */
static int
borrow(struct pg *p)
{
	int i;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		for (i = 0; i < READERS; i++)
			if (!p->busy[i])
				break;
		if (i < READERS)
			break;
		pthread_cond_wait(&p->freed, &p->lock);
	}
	p->busy[i] = 1;
	pthread_mutex_unlock(&p->lock);
	return i;
}

static void
give_back(struct pg *p, int i)
{
	pthread_mutex_lock(&p->lock);
	p->busy[i] = 0;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

/* A statement on a reading connection, prepared there at its first
 * use. */
static int
kquery(struct store *s, struct conn *k, const char *sql, int n,
    const char *const *v, PGresult **out, const char *what)
{
	char name[24];
	int fresh, rc;
	long slot = prepared(k, sql, n, name, &fresh);

	if (slot < 0)
		return query(s, k->c, sql, n, v, NULL, NULL, out, what);
	if (fresh && (rc = result(s, k->c, PQprepare(k->c, name, sql, n,
	    NULL), NULL, what)) != STORE_OK) {
		k->prep[slot] = NULL;
		if (out != NULL)
			*out = NULL;
		return rc;
	}
	return result(s, k->c, PQexecPrepared(k->c, name, n, v, NULL, NULL,
	    0), out, what);
}

/* A read on a connection of the pool; when the connection was lost it
 * is made again and the read repeated once (a read can be). */
static int
rquery(struct store *s, const char *sql, int n, const char *const *v,
    PGresult **out, const char *what)
{
	struct pg *p = s->impl;
	int i = borrow(p), tries, rc = STORE_ERROR;

	if (out != NULL)
		*out = NULL;
	for (tries = 0; tries < 2; tries++) {
		if (!usable(s, &p->r[i])) {
			rc = STORE_ERROR;
			break;
		}
		rc = kquery(s, &p->r[i], sql, n, v, out, what);
		if (rc == STORE_OK || PQstatus(p->r[i].c) != CONNECTION_BAD)
			break;
	}
	give_back(p, i);
	return rc;
}

/* ---- the writer's pipeline ---- */

static int wsync(struct store *s, PGresult **out);

/* Notes an answer to come; returns its place. */
static struct pending *
expect(struct pg *p, const char *what, int flags, size_t slot)
{
	struct pending *e = &p->pend[p->npend++];

	e->what = what;
	e->flags = flags;
	e->slot = slot;
	e->job = p->job_no;
	if (!(flags & PEND_WHOLE))
		p->job_pend++;
	if (!(flags & (PEND_WHOLE | PEND_PLAIN)))
		p->job_plain = 0;
	return e;
}

/* The transaction cannot be committed (rc: why, the first reason). */
static void
break_off(struct pg *p, int rc)
{
	if (!p->broken)
		p->broken_rc = rc;
	p->broken = 1;
}

/* One statement into the writer's pipeline, prepared at its first use
 * (wsend: room made for it). */
static int
wput(struct store *s, const char *sql, int n, const char *const *v,
    const int *len, const int *fmt, int flags, const char *what)
{
	struct pg *p = s->impl;
	PGconn *c = p->w.c;
	char name[24];
	int fresh, sent;
	long slot;

	slot = prepared(&p->w, sql, n, name, &fresh);
	if (slot >= 0 && fresh) {
		if (!PQsendPrepare(c, name, sql, n, NULL)) {
			p->w.prep[slot] = NULL;
			break_off(p, STORE_ERROR);
			return failed(s, c, NULL, what);
		}
		(void)expect(p, what, (flags & (PEND_WHOLE | PEND_PLAIN)) |
		    PEND_PREPARE, (size_t)slot);
	}
	sent = slot >= 0 ? PQsendQueryPrepared(c, name, n, v, len, fmt, 0) :
	    PQsendQueryParams(c, sql, n, NULL, v, len, fmt, 0);
	if (!sent) {
		/* What was sent before it may be lost with it. */
		break_off(p, STORE_ERROR);
		return failed(s, c, NULL, what);
	}
	(void)expect(p, what, flags, 0);
	return STORE_OK;
}

/*
 * Sends a statement on the writer's connection without waiting for its
 * answer (flags: what the answer means, PEND_). Returns STORE_OK, or a
 * failure: of the answers read to make room, or of the connection.
 */
static int
wsend(struct store *s, const char *sql, int n, const char *const *v,
    const int *len, const int *fmt, int flags, const char *what)
{
	struct pg *p = s->impl;
	int rc;

	/* Room for a savepoint, a preparation and the statement. */
	if (p->npend + 4 > PENDING_MAX && (rc = wsync(s, NULL)) != STORE_OK)
		return rc;
	/* The job's savepoint, before its first statement that needs one:
	 * a group of sends (PEND_ALONE) goes without, one statement each
	 * instead of three, and no subtransaction. */
	if (!(flags & PEND_WHOLE) && p->sp_wanted) {
		if ((flags & PEND_ALONE) && p->bare == BARE_NONE &&
		    p->job_pend == 0) {
			p->bare = BARE_SENT;
		} else {
			p->sp_wanted = 0;
			p->sp_sent = 1;
			if ((rc = wput(s, "SAVEPOINT job", 0, NULL, NULL, NULL,
			    PEND_WHOLE, "a savepoint")) != STORE_OK)
				return rc;
		}
	}
	return wput(s, sql, n, v, len, fmt, flags, what);
}

/* The answer to one statement sent (NULL when none came: the
 * connection failed), the rest of its results read. */
static PGresult *
answer(PGconn *c)
{
	PGresult *res = PQgetResult(c), *more;

	if (res == NULL || PQresultStatus(res) == PGRES_PIPELINE_SYNC)
		return res;
	while ((more = PQgetResult(c)) != NULL)
		PQclear(more);
	return res;
}

/* A recipient to notify at COMMIT (notify_recipients); a job before
 * the one under way (late) keeps it past that one's rollback. */
static void
to_notify(struct pg *p, const char *to_id, int late)
{
	if (p->nnotify >= NOTIFY_MAX || strlen(to_id) != STORE_ID_LEN)
		return;
	memcpy(p->notify[p->nnotify++], to_id, STORE_ID_LEN + 1);
	if (late) {
		memcpy(p->notify[p->nnotify - 1], p->notify[p->job_start],
		    STORE_ID_LEN + 1);
		memcpy(p->notify[p->job_start++], to_id, STORE_ID_LEN + 1);
	}
}

/* A rate's refusal (PEND_RATE): the whole seconds until a token is back
 * (as store_limit_take says it). */
static unsigned
rate_wait(const struct pending *e, double spent)
{
	double ms = (spent + 1.0 - e->burst) * 1000.0 / e->per_s;
	int64_t m = (int64_t)ms, until = m + ((double)m < ms);

	return until <= 0 ? 1 : (unsigned)((until + 999) / 1000);
}

/* A send's result from its statement's answer (message_put_within,
 * pg_send): the count and bytes of the mailbox, whether the recipient is
 * there, whether the message was stored; pg_send's, the rate's tokens
 * spent before it (a refusal's wait written at e->wait_s) and whether
 * the sender was as its token said (store_user_current's order: that
 * first). */
static int
outcome(const PGresult *res, const struct pending *e)
{
	size_t len = e->len, max_messages = e->max_messages,
	    max_bytes = e->max_bytes;
	double spent;

	if (PQntuples(res) != 1 || PQnfields(res) < ((e->flags & PEND_RATE) ?
	    6 : 4))
		return STORE_ERROR;
	if (strtoll(PQgetvalue(res, 0, 3), NULL, 10) == 1)
		return STORE_OK;
	if ((e->flags & PEND_RATE) && PQgetvalue(res, 0, 5)[0] != 't')
		return STORE_REVOKED;
	if (e->flags & PEND_RATE) {
		/* Tested as the statement did: the same doubles. */
		spent = strtod(PQgetvalue(res, 0, 4), NULL);
		if (!(spent + 1.0 <= e->burst)) {
			*e->wait_s = rate_wait(e, spent);
			return STORE_LIMITED;
		}
	}
	if (PQgetvalue(res, 0, 2)[0] != 't')
		return STORE_NOT_FOUND;	/* deleted meanwhile */
	if ((uint64_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10) + 1 >
	    max_messages || (uint64_t)strtoll(PQgetvalue(res, 0, 1), NULL,
	    10) + len > max_bytes)
		return STORE_FULL;
	return STORE_CONFLICT;	/* the id is there (ON CONFLICT) */
}

/* What an answer read means once its job has been released: a send
 * refused is noted for settle() (the statement has put back what the
 * job wrote); anything else failing breaks the transaction. */
static void
late_failure(struct pg *p, const struct pending *e, int r)
{
	if ((e->flags & PEND_OUTCOME) && r > 0 && p->nlate < LATE_MAX) {
		p->late[p->nlate].job = e->job;
		p->late[p->nlate++].rc = r;
	} else {
		break_off(p, r);
	}
}

/*
 * Reads the answers to everything sent (a sync point first). Returns
 * STORE_OK or the first failure among those of the job under way
 * (PEND_ROW's STORE_NOT_FOUND, a PEND_OUTCOME's refusal among them);
 * those of jobs released before go to late_failure(). With out, the
 * last statement's result when all went well (PQclear it).
 */
static int
wsync(struct store *s, PGresult **out)
{
	struct pg *p = s->impl;
	PGconn *c = p->w.c;
	PGresult *res = NULL;
	size_t i, n = p->npend;
	int rc = STORE_OK, r, synced = 0, late;

	if (out != NULL)
		*out = NULL;
	p->npend = p->job_pend = 0;
	if (n == 0)
		return STORE_OK;
	if (!PQpipelineSync(c)) {
		break_off(p, STORE_ERROR);
		return failed(s, c, NULL, "sending to the database");
	}
	for (i = 0; i < n; i++) {
		const struct pending *e = &p->pend[i];

		late = e->job != p->job_no || p->job_released;
		res = answer(c);
		if (res != NULL && PQresultStatus(res) == PGRES_PIPELINE_SYNC)
			synced = 1;
		if (res == NULL || synced)
			r = failed(s, c, NULL, e->what);
		else if (PQresultStatus(res) == PGRES_PIPELINE_ABORTED)
			r = STORE_ERROR;	/* after the failure said */
		else if ((r = result(s, c, res, &res, e->what)) != STORE_OK)
			;
		else if ((e->flags & PEND_ROW) && PQntuples(res) == 0)
			r = STORE_NOT_FOUND;
		else if ((e->flags & PEND_OUTCOME) && (r = outcome(res, e)) ==
		    STORE_OK)
			to_notify(p, e->to, late);
		if ((e->flags & PEND_ALONE) && e->job == p->job_no &&
		    p->bare == BARE_SENT)
			p->bare = r > 0 ? BARE_REFUSED : BARE_WROTE;
		if (r != STORE_OK && (e->flags & PEND_PREPARE))
			p->w.prep[e->slot] = NULL;
		if (r != STORE_OK && (e->flags & PEND_WHOLE))
			break_off(p, r);
		if (r != STORE_OK && late && !(e->flags & PEND_WHOLE))
			late_failure(p, e, r);
		else if (r != STORE_OK && rc == STORE_OK)
			rc = r;
		if (i + 1 == n && out != NULL && rc == STORE_OK)
			*out = res;
		else
			PQclear(res);
		res = NULL;
		if (synced || PQstatus(c) == CONNECTION_BAD) {
			if (i + 1 < n)	/* the rest unanswered: lost */
				break_off(p, STORE_ERROR);
			break;
		}
	}
	/* The sync point's own answer ends them. */
	if (!synced && PQstatus(c) != CONNECTION_BAD) {
		res = PQgetResult(c);
		if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
			break_off(p, STORE_ERROR);
			if (rc == STORE_OK)
				rc = failed(s, c, NULL, "reading answers");
		}
		PQclear(res);
	}
	if (rc != STORE_OK && out != NULL) {
		PQclear(*out);
		*out = NULL;
	}
	return rc;
}

/* A statement on the writer's connection, inside its transaction, with
 * binary parameters where fmt says; answered before it returns (with
 * those sent before it). */
static int
wquery_as(struct store *s, const char *sql, int n, const char *const *v,
    const int *len, const int *fmt, int flags, PGresult **out,
    const char *what)
{
	int rc = wsend(s, sql, n, v, len, fmt, flags, what);

	if (rc != STORE_OK) {
		if (out != NULL)
			*out = NULL;
		(void)wsync(s, NULL);
		return rc;
	}
	return wsync(s, out);
}

static int
wquery_bin(struct store *s, const char *sql, int n, const char *const *v,
    const int *len, const int *fmt, PGresult **out, const char *what)
{
	return wquery_as(s, sql, n, v, len, fmt, 0, out, what);
}

static int
wquery(struct store *s, const char *sql, int n, const char *const *v,
    PGresult **out, const char *what)
{
	return wquery_as(s, sql, n, v, NULL, NULL, 0, out, what);
}

/* A check's statement: on the writer, or a read. */
static int
check_query(struct store *s, int on_writer, const char *sql, int n,
    const char *const *v, PGresult **out, const char *what)
{
	return on_writer ? wquery(s, sql, n, v, out, what) :
	    rquery(s, sql, n, v, out, what);
}

static int64_t
num(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static void
copy_col(const PGresult *res, int row, int col, char *dst, size_t size)
{
	size_t n = (size_t)PQgetlength(res, row, col);

	if (PQgetisnull(res, row, col) || n >= size)
		n = 0;
	if (n > 0)
		memcpy(dst, PQgetvalue(res, row, col), n);
	dst[n] = '\0';
}

/* A bytea column (text form) into a malloc'd, NUL-terminated copy. */
static int
bytes_col(const PGresult *res, int row, int col, char **out, size_t *len)
{
	unsigned char *b = PQunescapeBytea((const unsigned char *)
	    PQgetvalue(res, row, col), len);

	*out = NULL;
	if (b == NULL || (*out = malloc(*len + 1)) == NULL) {
		PQfreemem(b);
		log_error("out of memory");
		return STORE_ERROR;
	}
	if (*len > 0)
		memcpy(*out, b, *len);
	(*out)[*len] = '\0';
	PQfreemem(b);
	return STORE_OK;
}

/* ---- opening ---- */

/* A password in the URL would be on the command line (ps, the shell's
 * history): refused, with where to put it instead. */
static int
check_url(const char *url, struct report *rep)
{
	PQconninfoOption *o, *opts;
	char *err = NULL;
	int rc = STORE_OK;

	if ((opts = PQconninfoParse(url, &err)) == NULL) {
		report_error(rep, E2E_EX_USAGE, "--db: not a PostgreSQL URL: "
		    "%.*s", err ? msg_len(err) : 0, err ? err : "");
		PQfreemem(err);
		return STORE_ERROR;
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    o->val[0] != '\0') {
			report_error(rep, E2E_EX_USAGE, "--db: the URL holds a "
			    "password, which the command line shows to every "
			    "user of the machine");
			report_hint(rep, "give it in the environment "
			    "(PGPASSWORD) or in ~/.pgpass instead");
			rc = STORE_ERROR;
		}
	PQconninfoFree(opts);
	return rc;
}

/* A failure while opening: said in rep with code (the exit status). */
static int
open_fail(struct report *rep, int code, PGconn *c, const char *what)
{
	const char *m = c ? PQerrorMessage(c) : "out of memory";

	report_error(rep, code, "database: %s: %.*s", what, msg_len(m), m);
	return STORE_ERROR;
}

static int
exec_open(PGconn *c, const char *sql, PGresult **out, struct report *rep)
{
	PGresult *res = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		PQclear(res);
		return open_fail(rep, E2E_EX_CANTCREAT, c,
		    "preparing the database");
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return STORE_OK;
}

/*
 * The schema, created or migrated under an advisory lock (instances
 * starting together take turns), in one transaction. A database of a
 * later version, or one holding tables of another program's, is left as
 * it is.
 */
static int
migrate(PGconn *c, const char *url, struct report *rep)
{
	PGresult *res = NULL;
	int64_t version = 0;
	int ours, others, rc = STORE_ERROR;
	size_t i;

	if (exec_open(c, "BEGIN", NULL, rep) != STORE_OK ||
	    exec_open(c, "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK ")", NULL,
	    rep) != STORE_OK ||
	    exec_open(c, "SELECT to_regclass('e2e_schema') IS NOT NULL, "
	    "to_regclass('users') IS NOT NULL OR to_regclass('messages') IS "
	    "NOT NULL OR to_regclass('meta') IS NOT NULL OR "
	    "to_regclass('keys') IS NOT NULL", &res, rep) != STORE_OK)
		goto out;
	ours = PQgetvalue(res, 0, 0)[0] == 't';
	others = PQgetvalue(res, 0, 1)[0] == 't';
	PQclear(res);
	res = NULL;
	if (!ours && others) {
		report_error(rep, E2E_EX_CANTCREAT, "the database %s holds "
		    "tables of e2e-server's names but no schema version: not "
		    "e2e-server's, or damaged; refused", url);
		goto out;
	}
	if (ours) {
		if (exec_open(c, "SELECT count(*), coalesce(max(version), 0) "
		    "FROM e2e_schema", &res, rep) != STORE_OK)
			goto out;
		version = num(res, 0, 1);
		if (version > SCHEMA_VERSION) {
			report_error(rep, E2E_EX_CANTCREAT, "the database %s "
			    "has schema version %" PRId64 "; this server knows "
			    "up to %d", url, version, SCHEMA_VERSION);
			goto out;
		}
		/* PostgreSQL's first version is 3: anything else here was
		 * not written by e2e-server. */
		if (num(res, 0, 0) != 1 || version < 3) {
			report_error(rep, E2E_EX_CANTCREAT, "the database %s "
			    "has an unknown schema (e2e_schema says %" PRId64
			    ", in %" PRId64 " rows); refused", url, version,
			    num(res, 0, 0));
			goto out;
		}
	}
	/* Version 0 is a new database. Each later version will add a step
	 * here, from the one before. */
	for (i = 0; version < 3 && i < sizeof(schema_v3) /
	    sizeof(schema_v3[0]); i++)
		if (exec_open(c, schema_v3[i], NULL, rep) != STORE_OK)
			goto out;
	for (i = 0; version < 4 && i < sizeof(schema_v4) /
	    sizeof(schema_v4[0]); i++)
		if (exec_open(c, schema_v4[i], NULL, rep) != STORE_OK)
			goto out;
	for (i = 0; version < 5 && i < sizeof(schema_v5) /
	    sizeof(schema_v5[0]); i++)
		if (exec_open(c, schema_v5[i], NULL, rep) != STORE_OK)
			goto out;
	for (i = 0; version < 6 && i < sizeof(schema_v6) /
	    sizeof(schema_v6[0]); i++)
		if (exec_open(c, schema_v6[i], NULL, rep) != STORE_OK)
			goto out;
	if (exec_open(c, "COMMIT", NULL, rep) != STORE_OK)
		goto out;
	rc = STORE_OK;
out:
	PQclear(res);
	if (rc != STORE_OK && PQstatus(c) == CONNECTION_OK) {
		res = PQexec(c, "ROLLBACK");
		PQclear(res);
	}
	return rc;
}

static int
pg_open(struct store *s, const char *url, struct report *rep)
{
	struct pg *p;

	if (check_url(url, rep) != STORE_OK)
		return STORE_ERROR;
	if ((p = calloc(1, sizeof(*p))) == NULL || (p->url = strdup(url)) ==
	    NULL) {
		free(p);
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		return STORE_ERROR;
	}
	s->impl = p;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	p->w.c = connect_to(url);
	if (p->w.c == NULL || PQstatus(p->w.c) != CONNECTION_OK)
		/* Down, or not yet up (a unit started before the
		 * database's): worth retrying, as systemd's restart does. */
		return open_fail(rep, E2E_EX_TEMPFAIL, p->w.c,
		    "cannot connect");
	p->wpid = PQbackendPID(p->w.c);	/* before the listener starts */
	return migrate(p->w.c, url, rep);
}

/* ---- hearing of other instances' messages ---- */

/* A connection that listens, or NULL (said in the log once per loss). */
static PGconn *
listening(struct store *s)
{
	struct pg *p = s->impl;
	PGconn *c = connect_to(p->url);
	PGresult *res;

	if (c != NULL && PQstatus(c) == CONNECTION_OK &&
	    query(s, c, "LISTEN " NOTIFY_CHANNEL, 0, NULL, NULL, NULL, &res,
	    "listening for messages") == STORE_OK && PQsetnonblocking(c, 1) ==
	    0) {
		PQclear(res);
		return c;
	}
	PQfinish(c);
	return NULL;
}

/* Waits up to ms for the connection's socket (fd, or none when -1) or
 * the stop pipe. Returns 1 when stopped. */
static int
wait_or_stop(struct pg *p, int fd, int ms)
{
	struct pollfd f[2] = { { p->stop[0], POLLIN, 0 }, { fd, POLLIN, 0 } };

	if (poll(f, fd >= 0 ? 2 : 1, ms) < 0)
		return 0;
	return (f[0].revents & (POLLIN | POLLHUP)) != 0;
}

static void *
listener(void *arg)
{
	struct store *s = arg;
	struct pg *p = s->impl;
	PGconn *c = NULL;
	PGnotify *n;

	for (;;) {
		if (c == NULL && (c = listening(s)) == NULL) {
			/* The database is away: try again in a second; the
			 * waiters' poll covers what is missed meanwhile. */
			if (wait_or_stop(p, -1, 1000))
				break;
			continue;
		}
		if (wait_or_stop(p, PQsocket(c), 1000))
			break;
		if (PQconsumeInput(c) != 1) {
			/* Lost, maybe to the database's restart: the writer's
			 * backend may be gone too and its pid another
			 * instance's, whose notifications must be heard. The
			 * writer says its pid again at its next transaction
			 * (pg_begin); until then its own are heard too. */
			__atomic_store_n(&p->wpid, 0, __ATOMIC_RELEASE);
			PQfinish(c);
			c = NULL;
			continue;
		}
		while ((n = PQnotifies(c)) != NULL) {
			/* A pid of the writer's backend before it was made
			 * again is heard: one wake-up too many, harmless. */
			if (n->be_pid != __atomic_load_n(&p->wpid,
			    __ATOMIC_ACQUIRE) && n->extra != NULL &&
			    store_is_id(n->extra))
				p->heard(p->heard_arg, n->extra);
			PQfreemem(n);
		}
	}
	PQfinish(c);
	return NULL;
}

static void
stop_listening(struct pg *p)
{
	if (!p->listening)
		return;
	(void)!write(p->stop[1], "x", 1);
	pthread_join(p->listener, NULL);
	close(p->stop[0]);
	close(p->stop[1]);
	p->listening = 0;
}

static int
pg_listen(struct store *s, void (*fn)(void *arg, const char *user_id),
    void *arg, struct report *rep)
{
	struct pg *p = s->impl;

	if (p == NULL)
		return fn == NULL ? STORE_OK : STORE_ERROR;	/* not open */
	if (fn == NULL)
		stop_listening(p);
	if (fn == NULL || p->listening)
		return STORE_OK;
	p->heard = fn;
	p->heard_arg = arg;
	if (pipe(p->stop) != 0) {
		report_errno(rep, E2E_EX_SOFTWARE, "cannot make a pipe");
		return STORE_ERROR;
	}
	if (pthread_create(&p->listener, NULL, listener, s) != 0) {
		close(p->stop[0]);
		close(p->stop[1]);
		report_error(rep, E2E_EX_SOFTWARE, "cannot start the thread "
		    "that listens to the database");
		return STORE_ERROR;
	}
	p->listening = 1;
	return STORE_OK;
}

static void
pg_close(struct store *s)
{
	struct pg *p = s->impl;
	size_t i;

	if (p == NULL)
		return;
	stop_listening(p);
	for (i = 0; i < READERS; i++)
		PQfinish(p->r[i].c);
	PQfinish(p->w.c);
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->lock);
	free(p->url);
	free(p);
	s->impl = NULL;
}

static int
pg_ping(struct store *s)
{
	return rquery(s, "SELECT 1", 0, NULL, NULL, "checking the database");
}

/* ---- reads ---- */

#define USER_COLUMNS "id, name, hash, token_version, created_at"

static int
user_row(int rc, PGresult *res, struct store_user *u)
{
	if (rc == STORE_OK && PQntuples(res) == 0) {
		rc = STORE_NOT_FOUND;
	} else if (rc == STORE_OK) {
		copy_col(res, 0, 0, u->id, sizeof(u->id));
		copy_col(res, 0, 1, u->name, sizeof(u->name));
		copy_col(res, 0, 2, u->hash, sizeof(u->hash));
		u->token_version = num(res, 0, 3);
		u->created_at = num(res, 0, 4);
	}
	PQclear(res);
	return rc;
}

static int
pg_user_by_name(struct store *s, const char *name, struct store_user *u)
{
	PGresult *res;
	int rc = rquery(s, "SELECT " USER_COLUMNS " FROM users WHERE name = $1",
	    1, &name, &res, "reading a user");

	return user_row(rc, res, u);
}

static int
pg_user_by_id(struct store *s, const char *id, struct store_user *u)
{
	PGresult *res;
	int rc = rquery(s, "SELECT " USER_COLUMNS " FROM users WHERE id = $1",
	    1, &id, &res, "reading a user");

	return user_row(rc, res, u);
}

static int
pg_user_current(struct store *s, const char *id, struct store_user *u)
{
	PGresult *res;
	int rc = wquery(s, "SELECT " USER_COLUMNS " FROM users WHERE id = $1",
	    1, &id, &res, "reading a user");

	return user_row(rc, res, u);
}

/* The sender's name is its account's (the name kept beside it when the
 * account is gone). */
#define MESSAGE_COLUMNS "m.id, COALESCE(u.name, m.sender), m.recipient, " \
	"m.sent_at, m.body, m.sender_id"
#define MESSAGE_FROM "messages m LEFT JOIN users u ON u.id = m.sender_id"
#define MESSAGE_SENDER "COALESCE(u.name, m.sender)"

static int
row_message(const PGresult *res, int row, struct store_message *m)
{
	memset(m, 0, sizeof(*m));
	copy_col(res, row, 0, m->id, sizeof(m->id));
	copy_col(res, row, 1, m->from, sizeof(m->from));
	copy_col(res, row, 2, m->to, sizeof(m->to));
	copy_col(res, row, 5, m->from_id, sizeof(m->from_id));
	m->sent_at = num(res, row, 3);
	return bytes_col(res, row, 4, &m->body, &m->body_len);
}

/* The rows of a list of messages into out; a row with no id (the user
 * of messages_for, without messages) is none. */
static int
message_rows(const PGresult *res, struct store_message_list *out)
{
	size_t bytes = 0;
	int rc = STORE_OK, i, n = PQntuples(res);

	if (n > 0 && (out->v = calloc((size_t)n, sizeof(*out->v))) == NULL) {
		log_error("out of memory");
		return STORE_ERROR;
	}
	for (i = 0; i < n; i++) {
		if (PQgetisnull(res, i, 0))
			continue;
		if ((rc = row_message(res, i, &out->v[out->n])) != STORE_OK)
			break;
		bytes += out->v[out->n++].body_len;
		/* Enough for an answer of max_bytes (see sq_messages). */
		if (out->max_bytes > 0 && bytes > out->max_bytes) {
			out->cut = 1;
			break;
		}
	}
	if (rc != STORE_OK)
		store_message_list_free(out);
	return rc;
}

#define MESSAGE_LIST "SELECT " MESSAGE_COLUMNS " FROM " MESSAGE_FROM \
	" WHERE m.recipient_id = $1 AND ($2::text IS NULL OR " \
	MESSAGE_SENDER " = $2) AND ($3::text IS NULL OR m.id > $3) " \
	"ORDER BY m.id LIMIT $4::bigint"

static int
pg_messages(struct store *s, const char *to_id, const char *from,
    const char *after, size_t limit, struct store_message_list *out)
{
	PGresult *res = NULL;
	char lim[24];
	const char *v[4] = { to_id, from, after, lim };
	int rc;

	out->v = NULL;
	out->n = 0;
	out->cut = 0;
	snprintf(lim, sizeof(lim), "%zu", limit);
	rc = rquery(s, MESSAGE_LIST, 4, v, &res, "listing messages");
	if (rc == STORE_OK)
		rc = message_rows(res, out);
	PQclear(res);
	return rc;
}

/* The user's row, if its token version is still $5, and beside it its
 * messages: no row when it is not, one with no id when it has none. */
static int
pg_messages_for(struct store *s, const char *to_id, int64_t version,
    const char *from, const char *after, size_t limit,
    struct store_message_list *out)
{
	PGresult *res = NULL;
	char lim[24], ver[24];
	const char *v[5] = { to_id, from, after, lim, ver };
	int rc;

	out->v = NULL;
	out->n = 0;
	out->cut = 0;
	snprintf(lim, sizeof(lim), "%zu", limit);
	snprintf(ver, sizeof(ver), "%" PRId64, version);
	rc = rquery(s, "SELECT x.* FROM users o LEFT JOIN LATERAL ("
	    MESSAGE_LIST ") x ON true WHERE o.id = $1 AND "
	    "o.token_version = $5::bigint ORDER BY x.id", 5, v, &res,
	    "listing messages");
	if (rc == STORE_OK && PQntuples(res) == 0)
		rc = STORE_NOT_FOUND;
	if (rc == STORE_OK)
		rc = message_rows(res, out);
	PQclear(res);
	return rc;
}

static int
pg_count_messages(struct store *s, int64_t *n)
{
	PGresult *res;
	int rc = rquery(s, "SELECT count(*) FROM messages", 0, NULL, &res,
	    "counting messages");

	if (rc == STORE_OK)
		*n = num(res, 0, 0);
	PQclear(res);
	return rc;
}

static int
pg_user_hashes(struct store *s, void (*each)(void *arg, const char *hash),
    void *arg)
{
	PGresult *res;
	int rc = rquery(s, "SELECT hash FROM users", 0, NULL, &res,
	    "reading the password hashes");
	int i;

	for (i = 0; rc == STORE_OK && i < PQntuples(res); i++)
		each(arg, PQgetvalue(res, i, 0));
	PQclear(res);
	return rc;
}

static int
pg_meta_get(struct store *s, const char *key, struct buf *value)
{
	PGresult *res;
	char *b = NULL;
	size_t len = 0;
	int rc = rquery(s, "SELECT value FROM meta WHERE key = $1", 1, &key,
	    &res, "reading settings");

	buf_clear(value);
	if (rc == STORE_OK && PQntuples(res) == 0)
		rc = STORE_NOT_FOUND;
	else if (rc == STORE_OK && (rc = bytes_col(res, 0, 0, &b, &len)) ==
	    STORE_OK && buf_append(value, b, len) != 0) {
		log_error("out of memory");
		rc = STORE_ERROR;
	}
	free(b);
	PQclear(res);
	return rc;
}

static int
pg_keys(struct store *s, const char *user_id, struct store_key_list *out)
{
	PGresult *res;
	struct store_key *k;
	int rc, i, n;

	out->v = NULL;
	out->n = 0;
	rc = rquery(s, "SELECT kid, pem, created_at, proof FROM keys WHERE "
	    "user_id = $1 ORDER BY created_at, kid", 1, &user_id, &res,
	    "reading keys");
	if (rc != STORE_OK)
		return rc;
	n = PQntuples(res);
	if (n > 0 && (out->v = calloc((size_t)n, sizeof(*out->v))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		k = &out->v[out->n++];
		copy_col(res, i, 0, k->kid, sizeof(k->kid));
		k->created_at = num(res, i, 2);
		if ((k->pem = strdup(PQgetvalue(res, i, 1))) == NULL ||
		    (!PQgetisnull(res, i, 3) && (k->proof =
		    strdup(PQgetvalue(res, i, 3))) == NULL))
			goto nomem;
	}
	PQclear(res);
	return STORE_OK;
nomem:
	log_error("out of memory");
	PQclear(res);
	store_key_list_free(out);
	return STORE_ERROR;
}

/* ---- the writer's transaction ---- */

/* Whether nothing came on the idle connection c: a database that
 * closed it (a restart, a failover) has said so on its socket. */
static int
quiet(PGconn *c)
{
	struct pollfd pfd = { PQsocket(c), POLLIN, 0 };

	return pfd.fd >= 0 && poll(&pfd, 1, 0) == 0;
}

static int
pg_begin(struct store *s)
{
	struct pg *p = s->impl;
	int tries, rc = STORE_ERROR;

	p->kept = 0;
	p->job_no = -1;
	p->job_released = 0;
	p->nlate = 0;
	p->sp_wanted = p->sp_sent = 0;
	p->bare = BARE_NONE;
	/* A connection lost since the last transaction is made again
	 * here, where nothing is under way yet (a new one in pipeline
	 * mode, the writer's way). */
	for (tries = 0; tries < 2; tries++) {
		p->broken = 0;
		p->broken_rc = STORE_OK;
		if (!usable(s, &p->w))
			return STORE_ERROR;
		/* The listener may have forgotten it (listener). */
		__atomic_store_n(&p->wpid, PQbackendPID(p->w.c),
		    __ATOMIC_RELEASE);
		p->quiet = p->npend == 0 && quiet(p->w.c);
		if (PQpipelineStatus(p->w.c) == PQ_PIPELINE_OFF &&
		    !PQenterPipelineMode(p->w.c))
			return failed(s, p->w.c, NULL, "beginning");
		/* The instances' writers take turns: two transactions
		 * holding recipients' rows in different orders (each send's
		 * own statement holds its recipient's and its rate's, as
		 * user_lock does for store_message_put_within) deadlock,
		 * and PostgreSQL sees it only after a second, then fails a
		 * send. Each transaction commits many writes (the group
		 * commit), so turns cost little. */
		if ((rc = wsend(s, "BEGIN", 0, NULL, NULL, NULL, PEND_WHOLE,
		    "beginning")) == STORE_OK)
			rc = wsend(s, "SELECT pg_advisory_xact_lock("
			    WRITER_LOCK ")", 0, NULL, NULL, NULL, PEND_WHOLE,
			    "waiting for the other writers");
		/* Their answers read with the first job's statements (a
		 * round trip less), unless the connection heard something
		 * while idle: then at once, so that a connection lost is
		 * made again here rather than failing the jobs. */
		if (rc == STORE_OK && tries == 0 && p->quiet)
			break;
		if (rc == STORE_OK)
			rc = wsync(s, NULL);
		else
			(void)wsync(s, NULL);
		if (rc == STORE_OK || PQstatus(p->w.c) != CONNECTION_BAD)
			break;
	}
	if (rc != STORE_OK && PQstatus(p->w.c) == CONNECTION_OK)
		(void)wquery(s, "ROLLBACK", 0, NULL, NULL, "rolling back");
	return rc;
}

/* Sent, not waited for: a failure breaks the transaction (PEND_WHOLE). */
static int
pg_savepoint(struct store *s)
{
	struct pg *p = s->impl;

	p->job_start = p->nnotify;
	p->job_no++;
	p->job_released = p->job_outcome = 0;
	p->job_plain = 1;
	p->job_pend = p->job_nlim = 0;
	/* Sent with the job's first statement that needs it (wsend). */
	p->sp_wanted = 1;
	p->sp_sent = 0;
	p->bare = BARE_NONE;
	return STORE_OK;
}

static int
pg_release(struct store *s, int keep)
{
	struct pg *p = s->impl;
	int rc = STORE_OK, rc2;

	/* The job's answers not read yet are read now: one may refuse it
	 * (a limit's count not saved); and a failure would skip the
	 * statements sent after it until the next sync point, the
	 * rollback to the savepoint among them. Not a send's whose answer
	 * covers them all (PEND_OUTCOME): read with a later job's. */
	if (keep && p->job_outcome && p->job_plain)
		p->job_released = 1;
	else if (p->job_pend > 0 && (rc = wsync(s, NULL)) != STORE_OK)
		keep = 0;
	p->sp_wanted = 0;
	/* A statement sent without a savepoint that wrote (or failed):
	 * the job cannot be undone alone, the transaction is. */
	if (!keep && p->bare == BARE_WROTE)
		break_off(p, rc < 0 ? rc : STORE_ERROR);
	if (!p->sp_sent) {
		if (!keep)
			p->nnotify = p->job_start;
		else
			p->kept = 1;
		return rc;
	}
	if (!keep) {
		p->nnotify = p->job_start;
		rc2 = wsend(s, "ROLLBACK TO SAVEPOINT job", 0, NULL, NULL, NULL,
		    PEND_WHOLE, "rolling a job back");
		if (rc == STORE_OK)
			rc = rc2;
	} else {
		p->kept = 1;
	}
	rc2 = wsend(s, "RELEASE SAVEPOINT job", 0, NULL, NULL, NULL,
	    PEND_WHOLE, "releasing a savepoint");
	return rc != STORE_OK ? rc : rc2;
}

/* A text[] of ids (Crockford base32: nothing to quote), one by one,
 * then closed; 0, or -1 when out of memory. */
static int
id_list_add(struct buf *arr, const char *id)
{
	return buf_append_str(arr, arr->len == 0 ? "{" : ",") != 0 ||
	    buf_append_str(arr, id) != 0 ? -1 : 0;
}

static int
id_list_end(struct buf *arr)
{
	return buf_append_str(arr, arr->len == 0 ? "{}" : "}") != 0 ||
	    buf_terminate(arr) != 0 ? -1 : 0;
}

/* The recipients of the transaction's messages, notified: the database
 * sends the notifications when (and only if) it commits. One statement
 * for the whole group, sent with the COMMIT; ids are Crockford base32,
 * nothing to quote. */
static int
notify_recipients(struct store *s)
{
	struct pg *p = s->impl;
	struct buf arr = BUF_INIT;
	const char *v;
	size_t i;
	int rc = STORE_ERROR;

	if (p->nnotify == 0)
		return STORE_OK;
	for (i = 0; i < p->nnotify; i++)
		if (id_list_add(&arr, p->notify[i]) != 0)
			goto out;
	if (id_list_end(&arr) != 0)
		goto out;
	v = (const char *)arr.p;
	/* libpq copies the parameters as it sends them. */
	rc = wsend(s, "SELECT pg_notify('" NOTIFY_CHANNEL "', u) FROM "
	    "unnest($1::text[]) AS u", 1, &v, NULL, NULL, PEND_WHOLE,
	    "notifying receivers");
out:
	if (rc != STORE_OK && arr.p == NULL)
		log_error("out of memory");
	buf_free(&arr);
	return rc;
}

/* The sends answered after their release (PEND_OUTCOME): read, and
 * those refused given their result. Before the COMMIT, so that a send
 * refused never fails the others. */
static void
pg_settle(struct store *s, int *res, size_t n)
{
	struct pg *p = s->impl;
	size_t i;

	p->job_released = 1;	/* every job of the transaction */
	(void)wsync(s, NULL);
	for (i = 0; i < p->nlate; i++)
		if (p->late[i].job >= 0 && (size_t)p->late[i].job < n &&
		    res[p->late[i].job] == STORE_OK)
			res[p->late[i].job] = p->late[i].rc;
	p->nlate = 0;
}

static int
pg_commit(struct store *s)
{
	struct pg *p = s->impl;
	PGresult *res = NULL;
	int rc;

	/* The transaction's own statements from here on: their failures
	 * are the commit's. */
	p->job_no = -2;
	p->sp_wanted = 0;
	p->job_released = 0;
	rc = notify_recipients(s);
	p->nnotify = p->job_start = 0;
	/* A statement that failed unseen by its job (a savepoint, a
	 * release, a send's answered late): the transaction may not be
	 * what its jobs were told. A full disk's says so (507; logged
	 * already). */
	if (rc == STORE_OK && p->broken) {
		if (p->broken_rc != STORE_NOSPACE)
			log_error("database: a statement of the transaction "
			    "failed: rolled back");
		rc = p->broken_rc < 0 ? p->broken_rc : STORE_ERROR;
	}
	if (rc == STORE_OK)
		rc = wquery(s, "COMMIT", 0, NULL, &res, "committing");
	else
		(void)wsync(s, NULL);

	/* A transaction that failed meanwhile answers COMMIT with
	 * ROLLBACK. */
	if (rc == STORE_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		log_error("database: the transaction was rolled back");
		rc = STORE_ERROR;
	}
	PQclear(res);
	/* Only a job that wrote shows there is room again: a transaction
	 * of refused jobs commits too. */
	if (rc == STORE_OK && p->kept)
		store_space_back(s);
	return rc;
}

static int
pg_rollback(struct store *s)
{
	struct pg *p = s->impl;

	p->nnotify = p->job_start = 0;
	p->job_no = -2;
	p->sp_wanted = 0;
	p->job_released = 0;
	p->nlate = 0;
	if (p->w.c == NULL || PQstatus(p->w.c) != CONNECTION_OK) {
		p->npend = p->job_pend = 0;
		return STORE_ERROR;
	}
	/* Answers still to come first: a failure among them would skip a
	 * ROLLBACK sent with them. */
	(void)wsync(s, NULL);
	return wquery(s, "ROLLBACK", 0, NULL, NULL, "rolling back");
}

/* ---- writes ---- */

/* Runs an INSERT ... ON CONFLICT DO NOTHING: STORE_CONFLICT when it
 * inserted nothing. (A unique violation would end the transaction's
 * usefulness until its savepoint is rolled back; this does not, so a job
 * may go on after a conflict, as on SQLite.) */
static int
insert_new(struct store *s, const char *sql, int n, const char *const *v,
    const int *len, const int *fmt, const char *what)
{
	PGresult *res;
	int rc = wquery_bin(s, sql, n, v, len, fmt, &res, what);

	if (rc == STORE_OK && changed(res) == 0)
		rc = STORE_CONFLICT;
	PQclear(res);
	return rc;
}

static int
pg_meta_put_new(struct store *s, const char *key, const uint8_t *value,
    size_t len)
{
	const char *v[2] = { key, (const char *)value };
	const int lens[2] = { 0, (int)len }, fmt[2] = { 0, 1 };

	return insert_new(s, "INSERT INTO meta (key, value) VALUES ($1, $2) "
	    "ON CONFLICT DO NOTHING", 2, v, lens, fmt, "saving settings");
}

static int
pg_meta_set(struct store *s, const char *key, const uint8_t *value,
    size_t len)
{
	const char *v[2] = { key, (const char *)value };
	const int lens[2] = { 0, (int)len }, fmt[2] = { 0, 1 };
	PGresult *res;
	int rc = wquery_bin(s, "INSERT INTO meta (key, value) VALUES ($1, "
	    "$2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", 2, v,
	    lens, fmt, &res, "saving settings");

	PQclear(res);
	return rc;
}

static int
pg_user_create(struct store *s, const struct store_user *u)
{
	char skel[STORE_NAME_MAX + 1], tv[24], at[24];
	const char *v[6] = { u->id, u->name, u->hash, tv, at, skel };

	name_skeleton(u->name, strlen(u->name), skel);
	snprintf(tv, sizeof(tv), "%" PRId64, u->token_version);
	snprintf(at, sizeof(at), "%" PRId64, u->created_at);
	return insert_new(s, "INSERT INTO users (id, name, hash, "
	    "token_version, created_at, skeleton) VALUES ($1, $2, $3, "
	    "$4::bigint, $5::bigint, $6) ON CONFLICT DO NOTHING", 6, v, NULL,
	    NULL, "creating a user");
}

/* A statement that changes rows: STORE_NOT_FOUND when it changed none. */
static int
change(struct store *s, const char *sql, int n, const char *const *v,
    const char *what)
{
	PGresult *res;
	int rc = wquery(s, sql, n, v, &res, what);

	if (rc == STORE_OK && changed(res) == 0)
		rc = STORE_NOT_FOUND;
	PQclear(res);
	return rc;
}

static int
pg_user_update_hash(struct store *s, const char *id, const char *hash)
{
	const char *v[2] = { id, hash };

	return change(s, "UPDATE users SET hash = $2 WHERE id = $1", 2, v,
	    "updating a user");
}

/* The token version a RETURNING gave, or the user's now when it gave
 * none: then conflict (STORE_CONFLICT, the user there) or gone. */
static int
version_after(struct store *s, int rc, PGresult *res, const char *id,
    int conflict, int64_t *version)
{
	struct store_user u;

	if (rc == STORE_OK && PQntuples(res) == 1) {
		*version = num(res, 0, 0);
	} else if (rc == STORE_OK) {
		rc = pg_user_current(s, id, &u);
		if (rc == STORE_OK) {
			*version = u.token_version;
			rc = conflict;
		}
		wipe(&u, sizeof(u));
	}
	PQclear(res);
	return rc;
}

static int
pg_user_set_hash(struct store *s, const char *id, const char *old_hash,
    const char *new_hash, int revoke, int64_t *version)
{
	const char *v[4] = { id, old_hash, new_hash, revoke ? "1" : "0" };
	PGresult *res;
	int rc = wquery(s, "UPDATE users SET hash = $3, token_version = "
	    "token_version + $4::bigint WHERE id = $1 AND hash = $2 RETURNING "
	    "token_version", 4, v, &res, "updating a user");

	return version_after(s, rc, res, id, STORE_CONFLICT, version);
}

static int
pg_user_revoke(struct store *s, const char *id, int64_t *version)
{
	PGresult *res;
	int rc = wquery(s, "UPDATE users SET token_version = token_version + "
	    "1 WHERE id = $1 RETURNING token_version", 1, &id, &res,
	    "updating a user");

	if (rc == STORE_OK && PQntuples(res) == 0) {
		PQclear(res);
		return STORE_NOT_FOUND;
	}
	return version_after(s, rc, res, id, STORE_OK, version);
}

/* Sent with the job's next statement, not waited for: a user gone is
 * that statement's STORE_NOT_FOUND (or the job's, at its release). */
static int
pg_user_lock(struct store *s, const char *id)
{
	return wsend(s, "SELECT 1 FROM users WHERE id = $1 FOR UPDATE", 1,
	    &id, NULL, NULL, PEND_ROW | PEND_PLAIN, "holding a user");
}

static int
pg_message_put(struct store *s, const struct store_message *m,
    const char *to_id)
{
	char at[24];
	const char *v[7] = { m->id, to_id, m->to, m->from, at, m->body,
	    m->from_id[0] != '\0' ? m->from_id : NULL };
	const int len[7] = { 0, 0, 0, 0, 0, (int)m->body_len, 0 };
	const int fmt[7] = { 0, 0, 0, 0, 0, 1, 0 };
	int rc;

	snprintf(at, sizeof(at), "%" PRId64, m->sent_at);
	/* A recipient deleted meanwhile fails the foreign key:
	 * STORE_CONFLICT, as on SQLite (store_message_put_within holds the
	 * recipient's row first). */
	rc = insert_new(s, "INSERT INTO messages (id, recipient_id, "
	    "recipient, sender, sent_at, body, sender_id) VALUES ($1, $2, $3, "
	    "$4, $5::bigint, $6, $7) ON CONFLICT DO NOTHING", 7, v, len, fmt,
	    "storing a message");
	if (rc == STORE_OK)
		to_notify(s->impl, to_id, 0);
	return rc;
}

/*
 * Sends a send's statement (sql answers what outcome() reads, t says
 * what outcome() needs): with later, not waited for, its answer read
 * with a later statement's (PEND_OUTCOME); else answered at once.
 */
static int
put_stmt(struct store *s, const char *sql, int n, const char *const *v,
    const int *len, const int *fmt, int later, const char *to_id,
    const struct pending *t)
{
	struct pg *p = s->impl;
	struct pending *e;
	PGresult *res;
	size_t i;
	int rc;

	if (!later) {
		rc = wquery_bin(s, sql, n, v, len, fmt, &res,
		    "storing a message");
		if (rc == STORE_OK && (rc = outcome(res, t)) == STORE_OK)
			to_notify(p, to_id, 0);
		PQclear(res);
		return rc;
	}
	if ((rc = wsend(s, sql, n, v, len, fmt, PEND_OUTCOME | PEND_PLAIN |
	    ((t->flags & PEND_RATE) ? PEND_RATE | PEND_ALONE : 0),
	    "storing a message")) != STORE_OK)
		return rc;
	e = &p->pend[p->npend - 1];
	memcpy(e->to, to_id, STORE_ID_LEN + 1);
	e->len = t->len;
	e->max_messages = t->max_messages;
	e->max_bytes = t->max_bytes;
	e->per_s = t->per_s;
	e->burst = t->burst;
	e->wait_s = t->wait_s;
	/* The recipient gone is this statement's to say (a user's row not
	 * found read late would break the transaction). */
	for (i = 0; i < p->npend; i++)
		if (p->pend[i].job == p->job_no)
			p->pend[i].flags &= ~PEND_ROW;
	p->job_outcome = 1;
	return STORE_OK;
}

/* The recipient's row is held (store_message_put_within, its
 * statement sent with this one): no other writer, of any instance, adds
 * to this mailbox or takes from it until the transaction ends, so its
 * counters (schema 6) are the truth. One statement reads them and
 * stores the message when the recipient is there and has room (the
 * trigger adds it to the counters); when it does not store it, it
 * puts back the limit's row the job changed ($10-$13, when given); it
 * answers what outcome() reads.
 *
 * A job that wrote nothing else (a send: its rate's row, the
 * recipient's row held) need not wait for that answer: it is read with
 * a later job's statement, or before the COMMIT (settle), and a refusal
 * then is the job's result though its savepoint is gone, for the
 * statement has undone all the job did. A send waits for one round trip,
 * its limit's row. */
static int
pg_message_put_within(struct store *s, const struct store_message *m,
    const char *to_id, size_t max_messages, size_t max_bytes)
{
	static const char sql[] = "WITH c AS (SELECT coalesce(max(msg_count), "
	    "0) AS n, coalesce(max(msg_bytes), 0) AS b, count(*) > 0 AS u FROM "
	    "users WHERE id = $2), ins "
	    "AS (INSERT INTO messages (id, recipient_id, recipient, sender, "
	    "sent_at, body, sender_id) SELECT $1, $2, $3, $4, $5::bigint, "
	    "$6::bytea, $7 FROM c WHERE c.u AND c.n + 1 <= $8::numeric AND c.b "
	    "+ length($6::bytea) <= $9::numeric ON CONFLICT DO NOTHING "
	    "RETURNING 1), back AS (UPDATE limits SET n = $11::double "
	    "precision, t = $12::bigint, expires = $13::bigint WHERE key = $10 "
	    "AND NOT EXISTS (SELECT 1 FROM ins) RETURNING 1) SELECT c.n, c.b, "
	    "c.u, (SELECT count(*) FROM ins), (SELECT count(*) FROM back) FROM "
	    "c";
	struct pg *p = s->impl;
	char at[24], maxn[24], maxb[24];
	int later = p->job_plain && p->job_nlim <= 1 &&
	    strlen(to_id) == STORE_ID_LEN;
	int put_back = later && p->job_nlim == 1;
	const char *v[13] = { m->id, to_id, m->to, m->from, at, m->body,
	    m->from_id[0] != '\0' ? m->from_id : NULL, maxn, maxb,
	    put_back ? p->lim_key : NULL, put_back ? p->lim_n : NULL,
	    put_back ? p->lim_t : NULL, put_back ? p->lim_exp : NULL };
	const int len[13] = { 0, 0, 0, 0, 0, (int)m->body_len };
	const int fmt[13] = { 0, 0, 0, 0, 0, 1 };
	struct pending t = { .len = m->body_len, .max_messages =
		max_messages, .max_bytes = max_bytes };

	snprintf(at, sizeof(at), "%" PRId64, m->sent_at);
	snprintf(maxn, sizeof(maxn), "%zu", max_messages);
	snprintf(maxb, sizeof(maxb), "%zu", max_bytes);
	return put_stmt(s, sql, 13, v, len, fmt, later, to_id, &t);
}

/*
 * pg_message_put_within's statement with the sender's rate in it
 * (store_send): the rate's row held and read as store_limit_take would
 * (the tokens spent: none when it expired, fewer as time went by), the
 * message stored when a token is left and the mailbox has room, and
 * only then the rate's row written; with from_version, only when the
 * sender is still there at that token version (no round trip of its
 * own: its request read it at its headers only). A refusal leaves
 * nothing written, so
 * no job waits for its answer: a group of sends goes out in one
 * pipeline, read at once with the group's last statement (settle).
 * The doubles are computed as store.c computes them (the same IEEE
 * operations in the same order): the same decisions as on SQLite.
 */
static int
pg_send(struct store *s, const struct store_limit *l, const char *key,
    int64_t now, unsigned *wait_s, const struct store_message *m,
    const int64_t *from_version, const char *to_id, size_t max_messages,
    size_t max_bytes)
{
	static const char sql[] = "WITH l AS (SELECT n, greatest($11::bigint "
	    "- t, 0)::float8 * $12::float8 / 1000::float8 AS back, expires "
	    "FROM limits WHERE key = $10 FOR UPDATE), r AS (SELECT "
	    "coalesce((SELECT CASE WHEN expires > $11::bigint AND n > back "
	    "THEN n - back ELSE 0::float8 END FROM l), 0::float8) AS spent), "
	    "c AS (SELECT coalesce(max(msg_count), 0) AS n, "
	    "coalesce(max(msg_bytes), 0) AS b, count(*) > 0 AS u FROM (SELECT "
	    "msg_count, msg_bytes FROM users WHERE id = $2 FOR UPDATE) x), "
	    "f AS (SELECT $14::bigint IS NULL OR EXISTS (SELECT 1 FROM users "
	    "WHERE id = $7 AND token_version = $14::bigint) AS ok), "
	    "ins AS (INSERT INTO messages (id, recipient_id, recipient, "
	    "sender, sent_at, body, sender_id) SELECT $1, $2, $3, $4, "
	    "$5::bigint, $6::bytea, $7 FROM c, r, f WHERE f.ok AND r.spent + "
	    "1::float8 <= $13::float8 AND c.u AND c.n + 1 <= $8::numeric AND "
	    "c.b + "
	    "length($6::bytea) <= $9::numeric ON CONFLICT DO NOTHING "
	    "RETURNING 1), put AS (INSERT INTO limits (key, n, t, expires) "
	    "SELECT $10, r.spent + 1::float8, $11::bigint, ($11::bigint + "
	    "trunc((r.spent + 1::float8) * 1000::float8 / $12::float8)::bigint "
	    "+ " EXPIRES_GRID ") / " EXPIRES_GRID " * " EXPIRES_GRID " FROM r "
	    "WHERE EXISTS (SELECT 1 FROM ins) ON CONFLICT (key) DO "
	    "UPDATE SET n = excluded.n, t = excluded.t, expires = "
	    "excluded.expires) SELECT c.n, c.b, c.u, (SELECT count(*) FROM "
	    "ins), r.spent, f.ok FROM c, r, f";
	struct pg *p = s->impl;
	char at[24], maxn[24], maxb[24], tnow[24], per[32], burst[32],
	    ver[24];
	/* Nothing the job wrote before it would stay when it is refused. */
	int later = p->job_plain && p->job_nlim == 0 &&
	    strlen(to_id) == STORE_ID_LEN;
	const char *v[14] = { m->id, to_id, m->to, m->from, at, m->body,
	    m->from_id[0] != '\0' ? m->from_id : NULL, maxn, maxb, key, tnow,
	    per, burst, from_version != NULL ? ver : NULL };
	const int len[14] = { 0, 0, 0, 0, 0, (int)m->body_len };
	const int fmt[14] = { 0, 0, 0, 0, 0, 1 };
	struct pending t = { .flags = PEND_RATE, .len = m->body_len,
		.max_messages = max_messages, .max_bytes = max_bytes,
		.per_s = l->per_s, .burst = l->burst, .wait_s = wait_s };

	snprintf(at, sizeof(at), "%" PRId64, m->sent_at);
	snprintf(maxn, sizeof(maxn), "%zu", max_messages);
	snprintf(maxb, sizeof(maxb), "%zu", max_bytes);
	snprintf(tnow, sizeof(tnow), "%" PRId64, now);
	/* Exact: the database reads back the same doubles. */
	snprintf(per, sizeof(per), "%.17g", l->per_s);
	snprintf(burst, sizeof(burst), "%.17g", l->burst);
	if (from_version != NULL)
		snprintf(ver, sizeof(ver), "%" PRId64, *from_version);
	return put_stmt(s, sql, 14, v, len, fmt, later, to_id, &t);
}

static int
pg_mailbox_usage(struct store *s, int on_writer, const char *id,
    int64_t *count, int64_t *bytes)
{
	PGresult *res;
	int rc = check_query(s, on_writer, "SELECT msg_count, msg_bytes FROM "
	    "users WHERE id = $1", 1, &id, &res, "counting a mailbox");

	if (rc == STORE_OK && PQntuples(res) == 0) {
		rc = STORE_NOT_FOUND;
	} else if (rc == STORE_OK) {
		*count = num(res, 0, 0);
		*bytes = num(res, 0, 1);
	}
	PQclear(res);
	return rc;
}

static int
pg_user_delete(struct store *s, const char *id)
{
	/* The user's messages and keys go with it (ON DELETE CASCADE). */
	return change(s, "DELETE FROM users WHERE id = $1", 1, &id,
	    "deleting a user");
}

static int
pg_message_take_oldest(struct store *s, const char *to_id, const char *from,
    struct store_message *out)
{
	const char *v[2] = { to_id, from };
	PGresult *res;
	int rc;

	memset(out, 0, sizeof(*out));
	/* FOR UPDATE: another instance's receiver does not take it too. */
	rc = wquery(s, "SELECT " MESSAGE_COLUMNS " FROM " MESSAGE_FROM " WHERE "
	    "m.recipient_id = $1 AND ($2::text IS NULL OR " MESSAGE_SENDER
	    " = $2) ORDER BY m.id LIMIT 1 FOR UPDATE OF m", 2, v, &res,
	    "reading a message");
	if (rc == STORE_OK && PQntuples(res) == 0)
		rc = STORE_EMPTY;
	else if (rc == STORE_OK)
		rc = row_message(res, 0, out);
	PQclear(res);
	if (rc != STORE_OK)
		return rc;
	v[0] = out->id;
	if ((rc = change(s, "DELETE FROM messages WHERE id = $1", 1, v,
	    "deleting a message")) != STORE_OK) {
		free(out->body);
		out->body = NULL;
		if (rc == STORE_NOT_FOUND)
			rc = STORE_EMPTY;
	}
	return rc;
}

/* One statement for the whole acknowledgement (one round trip, not one
 * per id). */
static int
pg_messages_delete(struct store *s, const char *to_id,
    const char *const *ids, size_t n, size_t *deleted)
{
	struct buf arr = BUF_INIT;
	const char *v[2] = { NULL, to_id };
	PGresult *res;
	size_t i;
	int rc = STORE_ERROR;

	*deleted = 0;
	/* What is not an id is no message's (the list holds ids alone). */
	for (i = 0; i < n; i++)
		if (store_is_id(ids[i]) && id_list_add(&arr, ids[i]) != 0)
			goto out;
	if (id_list_end(&arr) != 0)
		goto out;
	v[0] = (const char *)arr.p;
	/* Only the owner's own messages: another user's id deletes nothing
	 * (T5). */
	rc = wquery(s, "DELETE FROM messages WHERE recipient_id = $2 AND id = "
	    "ANY($1::text[])", 2, v, &res, "deleting messages");
	if (rc == STORE_OK)
		*deleted = (size_t)changed(res);
	PQclear(res);
out:
	if (rc != STORE_OK && v[0] == NULL)
		log_error("out of memory");
	buf_free(&arr);
	return rc;
}

static int
pg_key_count(struct store *s, const char *user_id, const char *kid,
    int64_t *count, int *have)
{
	const char *v[2] = { user_id, kid };
	PGresult *res;
	int rc = wquery(s, "SELECT count(*), coalesce(bool_or(kid = $2), "
	    "false) FROM keys WHERE user_id = $1", 2, v, &res,
	    "counting keys");

	if (rc == STORE_OK) {
		*count = num(res, 0, 0);
		*have = PQgetvalue(res, 0, 1)[0] == 't';
	}
	PQclear(res);
	return rc;
}

static int
pg_key_put(struct store *s, const char *user_id, const struct store_key *k)
{
	char at[24];
	const char *v[5] = { user_id, k->kid, k->pem, at, k->proof };
	int rc;

	snprintf(at, sizeof(at), "%" PRId64, k->created_at);
	/* A key already there keeps its row and gets k's proof if k has
	 * one; a key another account holds fails the unique index
	 * (kid_clash is asked first: this is the last line). */
	rc = wquery(s, "INSERT INTO keys (user_id, kid, pem, created_at, "
	    "proof) VALUES ($1, $2, $3, $4::bigint, $5) ON CONFLICT (user_id, "
	    "kid) DO UPDATE SET proof = coalesce(excluded.proof, keys.proof)",
	    5, v, NULL, "storing a key");
	return rc == STORE_CONFLICT ? STORE_TAKEN : rc;
}

static int
pg_key_delete(struct store *s, const char *user_id, const char *kid)
{
	const char *v[2] = { user_id, kid };

	return change(s, "DELETE FROM keys WHERE user_id = $1 AND kid = $2",
	    2, v, "deleting a key");
}

/* ---- identity (schema 3) ---- */

static int
pg_name_clash(struct store *s, int on_writer, const char *skel,
    int64_t since, char clash[STORE_NAME_MAX + 1], int64_t *deleted_at)
{
	char at[24];
	const char *v[2] = { skel, at };
	PGresult *res = NULL;
	int rc;

	clash[0] = '\0';
	*deleted_at = 0;
	snprintf(at, sizeof(at), "%" PRId64, since);
	/* Two instances signing up look-alike names at once take turns
	 * here (the names' uniqueness alone would let both in). */
	if (on_writer && (rc = wquery(s, "SELECT pg_advisory_xact_lock("
	    "hashtext($1))", 1, v, NULL, "checking a name")) != STORE_OK)
		return rc;
	rc = check_query(s, on_writer, "SELECT name FROM users WHERE skeleton "
	    "= $1 ORDER BY name LIMIT 1", 1, v, &res, "checking a name");
	if (rc == STORE_OK && PQntuples(res) == 1) {
		copy_col(res, 0, 0, clash, STORE_NAME_MAX + 1);
		rc = STORE_CLASH;
	}
	PQclear(res);
	if (rc != STORE_OK)
		return rc;
	rc = check_query(s, on_writer, "SELECT name, deleted_at FROM "
	    "quarantine WHERE kind = 'name' AND value = $1 AND deleted_at > "
	    "$2::bigint", 2, v, &res, "checking a name");
	if (rc == STORE_OK && PQntuples(res) == 1) {
		copy_col(res, 0, 0, clash, STORE_NAME_MAX + 1);
		*deleted_at = num(res, 0, 1);
		rc = STORE_RESTING;
	}
	PQclear(res);
	return rc;
}

static int
pg_kid_clash(struct store *s, int on_writer, const char *kid,
    const char *user_id, int64_t since, int64_t *deleted_at)
{
	char at[24];
	const char *v[3] = { kid, user_id, at };
	PGresult *res = NULL;
	int rc;

	*deleted_at = 0;
	snprintf(at, sizeof(at), "%" PRId64, since);
	rc = check_query(s, on_writer, "SELECT 1 FROM keys WHERE kid = $1 AND "
	    "user_id <> $2", 2, v, &res, "checking a key id");
	if (rc == STORE_OK && PQntuples(res) > 0)
		rc = STORE_TAKEN;
	PQclear(res);
	if (rc != STORE_OK)
		return rc;
	rc = check_query(s, on_writer, "SELECT deleted_at FROM quarantine "
	    "WHERE kind = 'kid' AND value = $1 AND user_id <> $2 AND "
	    "deleted_at > $3::bigint", 3, v, &res, "checking a key id");
	if (rc == STORE_OK && PQntuples(res) > 0) {
		*deleted_at = num(res, 0, 0);
		rc = STORE_RESTING;
	}
	PQclear(res);
	return rc;
}

/* A quarantine statement and its parameters, in order, by letter: i
 * the account id, n now, p purge_before, k the key id. */
struct qstmt {
	const char *sql;
	const char *params;
};

#define QUARANTINE_SET " ON CONFLICT (kind, value) DO UPDATE SET name = " \
	"excluded.name, user_id = excluded.user_id, deleted_at = " \
	"excluded.deleted_at"

static int
quarantine_run(struct store *s, const struct qstmt *q, size_t n,
    const char *id, int64_t now, int64_t purge_before, const char *kid)
{
	char a[24], b[24];
	const char *v[4];
	size_t i;
	int rc = STORE_OK, k;

	snprintf(a, sizeof(a), "%" PRId64, now);
	snprintf(b, sizeof(b), "%" PRId64, purge_before);
	for (i = 0; i < n && rc == STORE_OK; i++) {
		for (k = 0; k < 4 && q[i].params[k] != '\0'; k++)
			v[k] = q[i].params[k] == 'i' ? id : q[i].params[k] ==
			    'n' ? a : q[i].params[k] == 'p' ? b : kid;
		rc = wquery(s, q[i].sql, k, v, NULL, "keeping a deleted name");
	}
	return rc == STORE_CONFLICT ? STORE_ERROR : rc;
}

static int
pg_quarantine_user(struct store *s, const char *id, int64_t now,
    int64_t purge_before)
{
	static const struct qstmt q[] = {
		{ "DELETE FROM quarantine WHERE deleted_at < $1::bigint", "p" },
		/* A name rests by its skeleton: no look-alike either. */
		{ "INSERT INTO quarantine (kind, value, name, user_id, "
		  "deleted_at) SELECT 'name', skeleton, name, id, $2::bigint "
		  "FROM users WHERE id = $1" QUARANTINE_SET, "in" },
		{ "INSERT INTO quarantine (kind, value, name, user_id, "
		  "deleted_at) SELECT 'kid', k.kid, u.name, u.id, $2::bigint "
		  "FROM keys k JOIN users u ON u.id = k.user_id WHERE "
		  "k.user_id = $1" QUARANTINE_SET, "in" },
	};

	return quarantine_run(s, q, sizeof(q) / sizeof(q[0]), id, now,
	    purge_before, NULL);
}

static int
pg_quarantine_key(struct store *s, const char *id, const char *kid,
    int64_t now, int64_t purge_before)
{
	static const struct qstmt q[] = {
		{ "DELETE FROM quarantine WHERE deleted_at < $1::bigint", "p" },
		{ "INSERT INTO quarantine (kind, value, name, user_id, "
		  "deleted_at) SELECT 'kid', k.kid, u.name, u.id, $2::bigint "
		  "FROM keys k JOIN users u ON u.id = k.user_id WHERE "
		  "k.user_id = $1 AND k.kid = $3" QUARANTINE_SET, "ink" },
	};

	return quarantine_run(s, q, sizeof(q) / sizeof(q[0]), id, now,
	    purge_before, kid);
}

#define GROUP_MAX 64	/* names of one skeleton shown at most */

static int
pg_name_groups(struct store *s, void (*fn)(void *arg,
    const char *const *names, size_t n), void *arg)
{
	PGresult *res;
	const char *v[GROUP_MAX];
	size_t n = 0;
	int rc, i, rows;

	rc = rquery(s, "SELECT skeleton, name FROM users WHERE skeleton IN "
	    "(SELECT skeleton FROM users GROUP BY skeleton HAVING count(*) > "
	    "1) ORDER BY skeleton, name", 0, NULL, &res, "listing names");
	if (rc != STORE_OK)
		return rc;
	rows = PQntuples(res);
	for (i = 0; i < rows; i++) {
		if (i > 0 && strcmp(PQgetvalue(res, i, 0),
		    PQgetvalue(res, i - 1, 0)) != 0) {
			fn(arg, v, n);
			n = 0;
		}
		if (n < GROUP_MAX)
			v[n++] = PQgetvalue(res, i, 1);
	}
	if (n > 0)
		fn(arg, v, n);
	PQclear(res);
	return STORE_OK;
}

/* ---- limits shared by every server (schema 4) ---- */

/* One statement: a key without a row gets one (the state of a key never
 * counted: expired at once), and either way the row is locked until the
 * transaction ends, the latest committed version of it returned (another
 * instance counting the key meanwhile is waited for). */
static int
pg_limit_get(struct store *s, const char *key, double *n, int64_t *t,
    int64_t *expires)
{
	struct pg *p = s->impl;
	PGresult *res;
	int rc = wquery_as(s, "INSERT INTO limits (key, n, t, expires) VALUES "
	    "($1, 0, 0, 0) ON CONFLICT (key) DO UPDATE SET n = limits.n "
	    "RETURNING n, t, expires", 1, &key, NULL, NULL, PEND_PLAIN, &res,
	    "reading a limit");

	if (rc == STORE_OK && PQntuples(res) != 1) {
		log_error("database: reading a limit: no row");
		rc = STORE_ERROR;
	} else if (rc == STORE_OK) {
		*n = strtod(PQgetvalue(res, 0, 0), NULL);
		*t = num(res, 0, 1);
		*expires = num(res, 0, 2);
		/* The row as it was before the job, for a send refused
		 * later to put back (pg_message_put_within): the first of
		 * one key; a second key makes the job wait for its send. */
		if (p->job_nlim == 0 && strlen(key) <= LIMIT_KEY_LEN &&
		    PQgetlength(res, 0, 0) < (int)sizeof(p->lim_n) &&
		    PQgetlength(res, 0, 1) < (int)sizeof(p->lim_t) &&
		    PQgetlength(res, 0, 2) < (int)sizeof(p->lim_exp)) {
			snprintf(p->lim_key, sizeof(p->lim_key), "%s", key);
			copy_col(res, 0, 0, p->lim_n, sizeof(p->lim_n));
			copy_col(res, 0, 1, p->lim_t, sizeof(p->lim_t));
			copy_col(res, 0, 2, p->lim_exp, sizeof(p->lim_exp));
			p->job_nlim = 1;
		} else if (p->job_nlim != 1 || strcmp(key, p->lim_key) != 0) {
			p->job_nlim = 2;
		}
	}
	PQclear(res);
	return rc == STORE_CONFLICT ? STORE_ERROR : rc;
}

static int
pg_limit_put(struct store *s, const char *key, double n, int64_t t,
    int64_t expires)
{
	char a[32], b[24], c[24];
	const char *v[4] = { key, a, b, c };
	int rc;

	snprintf(a, sizeof(a), "%.17g", n);
	snprintf(b, sizeof(b), "%" PRId64, t);
	snprintf(c, sizeof(c), "%" PRId64, expires);
	/* Sent with the job's next statement (its failure that one's, or
	 * the job's at its release). */
	rc = wsend(s, "INSERT INTO limits (key, n, t, expires) VALUES ($1, "
	    "$2::double precision, $3::bigint, $4::bigint) ON CONFLICT (key) "
	    "DO UPDATE SET n = excluded.n, t = excluded.t, expires = "
	    "excluded.expires", 4, v, NULL, NULL, PEND_PLAIN,
	    "counting a limit");
	return rc == STORE_CONFLICT ? STORE_ERROR : rc;
}

/* SKIP LOCKED: a row another instance holds is not waited for (it may
 * be counting it again); a later sweep takes it. */
static int
pg_limit_sweep(struct store *s, int64_t now, size_t max, size_t *deleted)
{
	char a[24], b[24];
	const char *v[2] = { a, b };
	PGresult *res;
	int rc;

	*deleted = 0;
	snprintf(a, sizeof(a), "%" PRId64, now);
	snprintf(b, sizeof(b), "%zu", max);
	/* Expired rows mean nothing: a send refused later may leave them
	 * swept (PEND_PLAIN). */
	rc = wquery_as(s, "DELETE FROM limits WHERE key IN (SELECT key FROM "
	    "limits WHERE expires < $1::bigint LIMIT $2::bigint FOR UPDATE "
	    "SKIP LOCKED)", 2, v, NULL, NULL, PEND_PLAIN, &res,
	    "sweeping limits");
	if (rc == STORE_OK)
		*deleted = (size_t)changed(res);
	PQclear(res);
	return rc == STORE_CONFLICT ? STORE_ERROR : rc;
}

/* ---- prekeys (schema 5) ---- */

static int
pg_prekey_stock(struct store *s, int on_writer, const char *user_id,
    struct store_prekey_stock_list *out)
{
	PGresult *res = NULL;
	struct store_prekey_stock *e;
	int rc, i, n;

	out->v = NULL;
	out->n = 0;
	rc = check_query(s, on_writer, "SELECT k.kid, (SELECT count(*) FROM "
	    "prekeys p WHERE p.kid = k.kid AND p.kind = 0), (SELECT pkid FROM "
	    "prekeys p WHERE p.kid = k.kid AND p.kind = 1), (SELECT iat FROM "
	    "prekeys p WHERE p.kid = k.kid AND p.kind = 1) FROM keys k WHERE "
	    "k.user_id = $1 ORDER BY k.created_at, k.kid", 1, &user_id, &res,
	    "counting prekeys");
	if (rc != STORE_OK)
		return rc;
	n = PQntuples(res);
	if (n > 0 && (out->v = calloc((size_t)n, sizeof(*out->v))) == NULL) {
		log_error("out of memory");
		PQclear(res);
		return STORE_ERROR;
	}
	for (i = 0; i < n; i++) {
		e = &out->v[out->n++];
		copy_col(res, i, 0, e->kid, sizeof(e->kid));
		e->one_time = num(res, i, 1);
		copy_col(res, i, 2, e->signed_pkid, sizeof(e->signed_pkid));
		e->signed_iat = PQgetisnull(res, i, 3) ? 0 : num(res, i, 3);
	}
	PQclear(res);
	return STORE_OK;
}

static int
pg_prekey_put(struct store *s, const char *user_id, const char *kid,
    const struct store_prekey *p)
{
	char kind[8], iat[24], at[24];
	const char *v[8] = { user_id, kid, p->pkid, kind, p->x, p->proof, iat,
	    at };

	snprintf(kind, sizeof(kind), "%d", p->kind);
	snprintf(iat, sizeof(iat), "%" PRId64, p->iat);
	snprintf(at, sizeof(at), "%" PRId64, p->created_at);
	return insert_new(s, "INSERT INTO prekeys (user_id, kid, pkid, kind, "
	    "x, proof, iat, created_at) VALUES ($1, $2, $3, $4::integer, $5, "
	    "$6, $7::bigint, $8::bigint) ON CONFLICT (kid, pkid) DO NOTHING",
	    8, v, NULL, NULL, "storing a prekey");
}

static int
pg_prekey_signed_drop(struct store *s, const char *kid)
{
	int rc = wquery(s, "DELETE FROM prekeys WHERE kid = $1 AND kind = 1",
	    1, &kid, NULL, "replacing a signed prekey");

	return rc == STORE_CONFLICT ? STORE_ERROR : rc;
}

static int
pg_prekey_count(struct store *s, const char *kid, int64_t *n)
{
	PGresult *res;
	int rc = wquery(s, "SELECT count(*) FROM prekeys WHERE kid = $1 AND "
	    "kind = 0", 1, &kid, &res, "counting prekeys");

	if (rc == STORE_OK)
		*n = num(res, 0, 0);
	PQclear(res);
	return rc;
}

/* The writers of every instance take turns (pg_begin), and the row is
 * deleted where it is chosen, SKIP LOCKED besides: no two claims get one
 * prekey. */
static int
pg_prekey_claim(struct store *s, const char *kid, int kind,
    struct store_prekey *out)
{
	char k[8];
	const char *v[2] = { kid, k };
	PGresult *res;
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(k, sizeof(k), "%d", kind);
	if (kind == STORE_PREKEY_ONE_TIME)
		rc = wquery(s, "DELETE FROM prekeys WHERE (kid, pkid) = "
		    "(SELECT kid, pkid FROM prekeys WHERE kid = $1 AND kind = "
		    "$2::integer ORDER BY created_at, pkid LIMIT 1 FOR UPDATE "
		    "SKIP LOCKED) RETURNING pkid, kind, x, proof, iat, "
		    "created_at", 2, v, &res, "claiming a prekey");
	else
		rc = wquery(s, "SELECT pkid, kind, x, proof, iat, created_at "
		    "FROM prekeys WHERE kid = $1 AND kind = $2::integer", 2, v,
		    &res, "claiming a prekey");
	if (rc == STORE_OK && PQntuples(res) == 0) {
		rc = STORE_EMPTY;
	} else if (rc == STORE_OK) {
		copy_col(res, 0, 0, out->pkid, sizeof(out->pkid));
		out->kind = (int)num(res, 0, 1);
		copy_col(res, 0, 2, out->x, sizeof(out->x));
		out->iat = num(res, 0, 4);
		out->created_at = num(res, 0, 5);
		if ((out->proof = strdup(PQgetvalue(res, 0, 3))) == NULL) {
			log_error("out of memory");
			rc = STORE_ERROR;
		}
	}
	PQclear(res);
	return rc == STORE_CONFLICT ? STORE_ERROR : rc;
}

const struct store_backend store_pg = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.user_by_name = pg_user_by_name,
	.user_by_id = pg_user_by_id,
	.messages = pg_messages,
	.messages_for = pg_messages_for,
	.count_messages = pg_count_messages,
	.user_hashes = pg_user_hashes,
	.meta_get = pg_meta_get,
	.keys = pg_keys,
	.begin = pg_begin,
	.savepoint = pg_savepoint,
	.release = pg_release,
	.settle = pg_settle,
	.commit = pg_commit,
	.listen = pg_listen,
	.rollback = pg_rollback,
	.meta_put_new = pg_meta_put_new,
	.meta_set = pg_meta_set,
	.user_create = pg_user_create,
	.user_update_hash = pg_user_update_hash,
	.user_current = pg_user_current,
	.user_set_hash = pg_user_set_hash,
	.user_revoke = pg_user_revoke,
	.message_put_within = pg_message_put_within,
	.mailbox_usage = pg_mailbox_usage,
	.send = pg_send,
	.user_delete = pg_user_delete,
	.message_put = pg_message_put,
	.message_take_oldest = pg_message_take_oldest,
	.messages_delete = pg_messages_delete,
	.key_put = pg_key_put,
	.key_delete = pg_key_delete,
	.user_lock = pg_user_lock,
	.key_count = pg_key_count,
	.ping = pg_ping,
	.name_clash = pg_name_clash,
	.kid_clash = pg_kid_clash,
	.quarantine_user = pg_quarantine_user,
	.name_groups = pg_name_groups,
	.quarantine_key = pg_quarantine_key,
	/* limits shared by every server */
	.limit_get = pg_limit_get,
	.limit_put = pg_limit_put,
	.limit_sweep = pg_limit_sweep,
	/* prekeys */
	.prekey_stock = pg_prekey_stock,
	.prekey_put = pg_prekey_put,
	.prekey_signed_drop = pg_prekey_signed_drop,
	.prekey_count = pg_prekey_count,
	.prekey_claim = pg_prekey_claim,
};
