/*
 * store_sqlite.c - the embedded SQLite backend (see store.h).
 *
 * One connection for the writer thread, one per reading thread (WAL lets
 * them read while the writer writes). Every statement is prepared with
 * bound parameters: nothing from a request is ever part of SQL text (H6).
 * journal_mode=WAL with synchronous=FULL: a commit is on disk (the WAL
 * is fsynced) before any request it carried is answered.
 */
#include "server/store.h"
#include "base/err.h"
#include "server/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define SCHEMA_VERSION 6
#define MAX_READERS 64
#define MAX_STMTS 64

/*
 * A connection and its prepared statements, kept for the connection's
 * life: parsing SQL again for every request was a fifth of a send's
 * cost. Statements are found by the address of their SQL text, a string
 * literal at each place of use.
 */
struct conn {
	sqlite3 *db;
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} stmt[MAX_STMTS];
};

struct sq {
	char *path;
	struct conn w;			/* the writer's */
	pthread_key_t reader_key;
	pthread_mutex_t lock;		/* guards readers[] */
	struct conn *readers[MAX_READERS];
	size_t nreaders;
	int wfail;			/* the writer's last failure (a
					 * STORE_ code) */
	int kept;			/* a job of the transaction succeeded */
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta ("
	"  key TEXT PRIMARY KEY,"
	"  value BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS users ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  hash TEXT NOT NULL,"
	"  token_version INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS messages ("
	"  id TEXT PRIMARY KEY,"
	"  recipient_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  recipient TEXT NOT NULL,"
	"  sender TEXT NOT NULL,"
	"  sent_at INTEGER NOT NULL,"
	"  body BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS messages_to ON messages(recipient_id, id);";

/* Version 2: the key directory. */
static const char schema_v2[] =
	"CREATE TABLE IF NOT EXISTS keys ("
	"  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  kid TEXT NOT NULL,"
	"  pem TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (user_id, kid)) WITHOUT ROWID;";

/*
 * Version 3: identity. Users get the skeleton of their name (names.h),
 * indexed but not unique (names that clashed before are kept); keys a
 * proof of possession (NULL for keys published before) and one holder
 * each (a key id listed under two accounts before is withdrawn from all
 * of them first, see migrate_v3); messages the sender's account id; and
 * the quarantine of deleted accounts' names (by skeleton) and key ids.
 */
static const char schema_v3[] =
	"ALTER TABLE users ADD COLUMN skeleton TEXT NOT NULL DEFAULT '';"
	"UPDATE users SET skeleton = e2e_skeleton(name);"
	"CREATE INDEX IF NOT EXISTS users_skeleton ON users(skeleton);"
	"ALTER TABLE keys ADD COLUMN proof TEXT;"
	"DELETE FROM keys WHERE kid IN (SELECT kid FROM keys GROUP BY kid "
	"  HAVING count(*) > 1);"
	"CREATE UNIQUE INDEX IF NOT EXISTS keys_kid ON keys(kid);"
	"ALTER TABLE messages ADD COLUMN sender_id TEXT;"
	/* Not an account made after the message was sent: a name deleted
	 * and taken again under version 2 (no quarantine then) is another
	 * person's. */
	"UPDATE messages SET sender_id = (SELECT id FROM users WHERE "
	"  users.name = messages.sender AND "
	"  users.created_at <= messages.sent_at);"
	"CREATE TABLE IF NOT EXISTS quarantine ("
	"  kind TEXT NOT NULL,"		/* 'name' (value: a skeleton), 'kid' */
	"  value TEXT NOT NULL,"
	"  name TEXT NOT NULL,"		/* the deleted account's name */
	"  user_id TEXT NOT NULL,"	/* and id */
	"  deleted_at INTEGER NOT NULL,"
	"  PRIMARY KEY (kind, value)) WITHOUT ROWID;";

/*
 * Version 4: the limits every server on the database shares (store.h,
 * "Limits shared"): one row a key, n and t as its rule reads them,
 * meaningless from expires on (milliseconds), swept by that.
 */
static const char schema_v4[] =
	"CREATE TABLE IF NOT EXISTS limits ("
	"  key TEXT PRIMARY KEY,"
	"  n REAL NOT NULL,"
	"  t INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS limits_expires ON limits(expires);";

/*
 * Version 5: prekeys (issue 16). Each belongs to one published key (the
 * key's row: withdrawn or its account deleted, its prekeys go with it),
 * at most one signed prekey a key; pkid is unique per key only, so that
 * no one blocks another's upload by publishing the same public key.
 */
static const char schema_v5[] =
	"CREATE TABLE IF NOT EXISTS prekeys ("
	"  user_id TEXT NOT NULL,"
	"  kid TEXT NOT NULL,"
	"  pkid TEXT NOT NULL,"
	"  kind INTEGER NOT NULL,"	/* 0 one-time, 1 signed */
	"  x TEXT NOT NULL,"
	"  proof TEXT NOT NULL,"
	"  iat INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (kid, pkid),"
	"  FOREIGN KEY (user_id, kid) REFERENCES keys (user_id, kid) "
	"    ON DELETE CASCADE) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS prekeys_owner ON prekeys(user_id, kid);"
	"CREATE INDEX IF NOT EXISTS prekeys_claim ON prekeys(kid, kind, "
	"  created_at, pkid);"
	"CREATE UNIQUE INDEX IF NOT EXISTS prekeys_signed ON prekeys(kid) "
	"  WHERE kind = 1;";

/*
 * Version 6: each mailbox's usage (its messages' count and bytes) on its
 * owner's row, for the quota (message_put_within), counted once from the
 * messages there and then kept by triggers in the transaction of every
 * insert and delete: a send, an acknowledgement, a receive, an account's
 * deletion (its messages go by the cascade, the counters with its row).
 */
static const char schema_v6[] =
	"ALTER TABLE users ADD COLUMN msg_count INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN msg_bytes INTEGER NOT NULL DEFAULT 0;"
	"UPDATE users SET"
	"  msg_count = (SELECT count(*) FROM messages"
	"    WHERE recipient_id = users.id),"
	"  msg_bytes = (SELECT coalesce(sum(length(body)), 0) FROM messages"
	"    WHERE recipient_id = users.id);"
	"CREATE TRIGGER IF NOT EXISTS messages_in AFTER INSERT ON messages "
	"BEGIN"
	"  UPDATE users SET msg_count = msg_count + 1,"
	"    msg_bytes = msg_bytes + length(NEW.body)"
	"    WHERE id = NEW.recipient_id;"
	"END;"
	"CREATE TRIGGER IF NOT EXISTS messages_out AFTER DELETE ON messages "
	"BEGIN"
	"  UPDATE users SET msg_count = msg_count - 1,"
	"    msg_bytes = msg_bytes - length(OLD.body)"
	"    WHERE id = OLD.recipient_id;"
	"END;";

/* The writer's checkpoints: every this many WAL frames (sq_open). */
#define WAL_CHECKPOINT_PAGES "10000"

/* A failure while serving: said in the log. */
static int
fail(sqlite3 *db, const char *what)
{
	log_error("database: %s: %s", what, db ? sqlite3_errmsg(db) : "?");
	return STORE_ERROR;
}

/* Whether db's last failure was for want of space: SQLITE_FULL, or a
 * write, an fsync or a growth of the WAL's index that met ENOSPC or
 * EDQUOT. */
static int
no_space(sqlite3 *db)
{
	int code = sqlite3_extended_errcode(db), e = sqlite3_system_errno(db);

	return (code & 0xff) == SQLITE_FULL || ((code & 0xff) ==
	    SQLITE_IOERR && (e == ENOSPC || e == EDQUOT));
}

/* A failure of the writer: a full disk is said once (store_nospace).
 * SQLite may then have rolled the whole transaction back by itself
 * (sqlite3_get_autocommit): the savepoints and the commit that follow
 * report wfail, and nothing runs outside the transaction. */
static int
w_fail(struct store *s, const char *what)
{
	struct sq *q = s->impl;

	if (no_space(q->w.db))
		q->wfail = store_nospace(s, what, sqlite3_errmsg(q->w.db),
		    -1);
	else
		q->wfail = fail(q->w.db, what);
	return q->wfail;
}

/* A failure while opening: said in rep, for the caller. */
static int
open_fail(struct report *rep, sqlite3 *db, const char *what)
{
	report_error(rep, E2E_EX_CANTCREAT, "database: %s: %s", what,
	    db ? sqlite3_errmsg(db) : "?");
	return STORE_ERROR;
}

/* The statement for sql on c, prepared on first use; NULL (reported) on
 * failure. Give it back with done_with(). */
static sqlite3_stmt *
cached(struct conn *c, const char *sql)
{
	size_t i;

	for (i = 0; i < MAX_STMTS && c->stmt[i].sql != NULL; i++)
		if (c->stmt[i].sql == sql)
			return c->stmt[i].st;
	if (i == MAX_STMTS) {
		log_error("database: too many statements");
		return NULL;
	}
	if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &c->stmt[i].st, NULL) != SQLITE_OK) {
		fail(c->db, "preparing a statement");
		sqlite3_finalize(c->stmt[i].st);
		c->stmt[i].st = NULL;
		return NULL;
	}
	c->stmt[i].sql = sql;
	return c->stmt[i].st;
}

static void
done_with(sqlite3_stmt *st)
{
	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

static void
conn_close(struct conn *c)
{
	size_t i;

	for (i = 0; i < MAX_STMTS && c->stmt[i].sql != NULL; i++)
		sqlite3_finalize(c->stmt[i].st);
	sqlite3_close(c->db);
	memset(c, 0, sizeof(*c));
}

static int
exec(sqlite3 *db, const char *sql, struct report *rep)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		report_error(rep, E2E_EX_CANTCREAT, "database: %s",
		    msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return STORE_ERROR;
	}
	return STORE_OK;
}

static int
open_conn(const char *path, int create, sqlite3 **out, struct report *rep)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
	    (create ? SQLITE_OPEN_CREATE : 0);

	*out = NULL;
	if (sqlite3_open_v2(path, out, flags, NULL) != SQLITE_OK) {
		open_fail(rep, *out, path);
		sqlite3_close(*out);
		*out = NULL;
		return STORE_ERROR;
	}
	sqlite3_extended_result_codes(*out, 1);
	sqlite3_busy_timeout(*out, 10000);
	if (exec(*out, "PRAGMA foreign_keys=ON;", rep) != STORE_OK) {
		sqlite3_close(*out);
		*out = NULL;
		return STORE_ERROR;
	}
	return STORE_OK;
}

/* e2e_skeleton(name): the skeleton of a name, for the migration. */
static void
sql_skeleton(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *name = sqlite3_value_text(argv[0]);
	char skel[STORE_NAME_MAX + 1];

	(void)argc;
	if (name == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	name_skeleton((const char *)name, (size_t)sqlite3_value_bytes(argv[0]),
	    skel);
	sqlite3_result_text(ctx, skel, -1, SQLITE_TRANSIENT);
}

/* Version 2 to 3. A key id that two accounts list (key squatting: no
 * proof was asked before) cannot be given to either: each such key is
 * withdrawn, said in the log; its holder publishes it again, with a
 * proof that only the holder can make. */
static int
migrate_v3(sqlite3 *db, struct report *rep)
{
	sqlite3_stmt *st = NULL;
	int step;

	if (sqlite3_create_function(db, "e2e_skeleton", 1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, NULL, sql_skeleton, NULL, NULL) !=
	    SQLITE_OK)
		return open_fail(rep, db, "migrating to version 3");
	/* The names in order (the subquery's), for a log that reads the
	 * same every time. */
	if (sqlite3_prepare_v2(db, "SELECT kid, group_concat(name, ', ') FROM "
	    "(SELECT k.kid AS kid, u.name AS name FROM keys k JOIN users u ON "
	    "u.id = k.user_id ORDER BY k.kid, u.name) GROUP BY kid HAVING "
	    "count(*) > 1 ORDER BY kid", -1, &st, NULL) != SQLITE_OK)
		return open_fail(rep, db, "migrating to version 3");
	/* One line a key, as many as there are: the log's, not a report's
	 * few. */
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		log_warn("database: key %s was listed under the accounts %s; "
		    "withdrawn from all of them: its holder must publish it "
		    "again (e2e-keys publish)", sqlite3_column_text(st, 0),
		    sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	if (step != SQLITE_DONE)
		return open_fail(rep, db, "migrating to version 3");
	return exec(db, schema_v3, rep);
}

static int
sq_open(struct store *s, const char *path, struct report *rep)
{
	struct sq *q;
	sqlite3_stmt *st = NULL;
	int fd, rc = STORE_ERROR, version = 0;

	if ((q = calloc(1, sizeof(*q))) == NULL || (q->path = strdup(path)) ==
	    NULL) {
		free(q);
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		return STORE_ERROR;
	}
	s->impl = q;
	pthread_mutex_init(&q->lock, NULL);
	if (pthread_key_create(&q->reader_key, NULL) != 0)
		goto out;
	/* The database holds password hashes (and maybe the token secret):
	 * it is created 0600, and SQLite gives its -wal and -shm files the
	 * same mode. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		report_errno(rep, E2E_EX_CANTCREAT,
		    "cannot open the database %s", path);
		goto out;
	}
	close(fd);
	if (open_conn(path, 1, &q->w.db, rep) != STORE_OK)
		goto out;
	/* The version first: a database from a later version is left as it
	 * is, not even switched to WAL. */
	if (sqlite3_prepare_v2(q->w.db, "PRAGMA user_version;", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		open_fail(rep, q->w.db, "reading the schema version");
		goto out;
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (version > SCHEMA_VERSION) {
		report_error(rep, E2E_EX_CANTCREAT, "the database %s has "
		    "schema version %d; this server knows up to %d", path,
		    version, SCHEMA_VERSION);
		goto out;
	}
	/*
	 * A checkpoint copies each page of the WAL into the file once,
	 * however often it was written since: the pages every send dirties
	 * (its recipient's counters, the limits, the indexes' leaves) were
	 * copied again every 1,000 frames (SQLite's default), about every
	 * 20 commits under load. Every WAL_CHECKPOINT_PAGES frames copies
	 * them a tenth as often, for a WAL of up to that many pages on
	 * disk (40 MB of 4 KiB pages) and as much to read at a start after
	 * a crash.
	 */
	if (exec(q->w.db, "PRAGMA journal_mode=WAL;", rep) != STORE_OK ||
	    exec(q->w.db, "PRAGMA synchronous=FULL;", rep) != STORE_OK ||
	    exec(q->w.db, "PRAGMA wal_autocheckpoint=" WAL_CHECKPOINT_PAGES
	    ";", rep) != STORE_OK)
		goto out;
	/* Version 0 is a new database; each step migrates one version up,
	 * all in one transaction. */
	if (version < SCHEMA_VERSION &&
	    (exec(q->w.db, "BEGIN IMMEDIATE;", rep) != STORE_OK ||
	    (version < 1 && exec(q->w.db, schema, rep) != STORE_OK) ||
	    (version < 2 && exec(q->w.db, schema_v2, rep) != STORE_OK) ||
	    (version < 3 && migrate_v3(q->w.db, rep) != STORE_OK) ||
	    (version < 4 && exec(q->w.db, schema_v4, rep) != STORE_OK) ||
	    (version < 5 && exec(q->w.db, schema_v5, rep) != STORE_OK) ||
	    (version < 6 && exec(q->w.db, schema_v6, rep) != STORE_OK) ||
	    exec(q->w.db, "PRAGMA user_version=6;", rep) != STORE_OK ||
	    exec(q->w.db, "COMMIT;", rep) != STORE_OK)) {
		(void)exec(q->w.db, "ROLLBACK;", rep);
		goto out;
	}
	rc = STORE_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

static void
sq_close(struct store *s)
{
	struct sq *q = s->impl;
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < q->nreaders; i++) {
		conn_close(q->readers[i]);
		free(q->readers[i]);
	}
	if (q->w.db != NULL)
		conn_close(&q->w);
	pthread_key_delete(q->reader_key);
	pthread_mutex_destroy(&q->lock);
	free(q->path);
	free(q);
	s->impl = NULL;
}

/* This thread's reading connection, opened on first use. */
static struct conn *
reader(struct store *s)
{
	struct sq *q = s->impl;
	struct conn *c = pthread_getspecific(q->reader_key);
	struct report rep = { 0 };

	if (c != NULL)
		return c;
	pthread_mutex_lock(&q->lock);
	if (q->nreaders >= MAX_READERS) {
		log_error("database: too many reading threads");
	} else if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_error("out of memory");
	} else if (open_conn(q->path, 0, &c->db, &rep) != STORE_OK) {
		log_report(&rep);
		free(c);
		c = NULL;
	} else {
		q->readers[q->nreaders++] = c;
		(void)pthread_setspecific(q->reader_key, c);
	}
	pthread_mutex_unlock(&q->lock);
	return c;
}

static void
copy_col(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);

	if (t == NULL || n >= size)
		n = 0;
	if (n > 0)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

static int
read_user(struct conn *c, const char *sql, const char *key,
    struct store_user *u)
{
	sqlite3_stmt *st;
	int rc, step;

	if (c == NULL || (st = cached(c, sql)) == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK) {
		rc = fail(c->db, "reading a user");
		goto out;
	}
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = STORE_NOT_FOUND;
	} else if (step == SQLITE_ROW) {
		copy_col(st, 0, u->id, sizeof(u->id));
		copy_col(st, 1, u->name, sizeof(u->name));
		copy_col(st, 2, u->hash, sizeof(u->hash));
		u->token_version = sqlite3_column_int64(st, 3);
		u->created_at = sqlite3_column_int64(st, 4);
		rc = STORE_OK;
	} else {
		rc = fail(c->db, "reading a user");
	}
out:
	done_with(st);
	return rc;
}

static int
sq_user_by_name(struct store *s, const char *name, struct store_user *u)
{
	return read_user(reader(s), "SELECT id, name, hash, token_version, "
	    "created_at FROM users WHERE name = ?1", name, u);
}

static int
sq_user_by_id(struct store *s, const char *id, struct store_user *u)
{
	return read_user(reader(s), "SELECT id, name, hash, token_version, "
	    "created_at FROM users WHERE id = ?1", id, u);
}

static int
row_message(sqlite3_stmt *st, struct store_message *m)
{
	const void *b;
	int n;

	memset(m, 0, sizeof(*m));
	copy_col(st, 0, m->id, sizeof(m->id));
	copy_col(st, 1, m->from, sizeof(m->from));
	copy_col(st, 2, m->to, sizeof(m->to));
	copy_col(st, 5, m->from_id, sizeof(m->from_id));
	m->sent_at = sqlite3_column_int64(st, 3);
	b = sqlite3_column_blob(st, 4);
	n = sqlite3_column_bytes(st, 4);
	if ((m->body = malloc((size_t)n + 1)) == NULL) {
		log_error("out of memory");
		return STORE_ERROR;
	}
	if (n > 0)
		memcpy(m->body, b, (size_t)n);
	m->body[n] = '\0';
	m->body_len = (size_t)n;
	return STORE_OK;
}

/* The sender's name is its account's (the name kept beside it when the
 * account is gone, or for messages of schema 2). */
#define MESSAGE_COLUMNS "m.id, COALESCE(u.name, m.sender), m.recipient, " \
	"m.sent_at, m.body, m.sender_id"
#define MESSAGE_FROM "messages m LEFT JOIN users u ON u.id = m.sender_id"
#define MESSAGE_SENDER "COALESCE(u.name, m.sender)"

static int
sq_messages(struct store *s, const char *to_id, const char *from,
    const char *after, size_t limit, struct store_message_list *out)
{
	struct conn *c = reader(s);
	sqlite3 *db = c ? c->db : NULL;
	sqlite3_stmt *st = NULL;
	struct store_message *v;
	size_t bytes = 0;
	int rc = STORE_ERROR, step;

	out->v = NULL;
	out->n = 0;
	out->cut = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((st = cached(c, "SELECT " MESSAGE_COLUMNS " FROM " MESSAGE_FROM
	    " WHERE m.recipient_id = ?1 AND (?2 IS NULL OR " MESSAGE_SENDER
	    " = ?2) AND (?3 IS NULL OR m.id > ?3) ORDER BY m.id LIMIT ?4")) ==
	    NULL ||
	    sqlite3_bind_text(st, 1, to_id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    (from != NULL ? sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC) :
	    sqlite3_bind_null(st, 2)) != SQLITE_OK ||
	    (after != NULL ? sqlite3_bind_text(st, 3, after, -1,
	    SQLITE_STATIC) : sqlite3_bind_null(st, 3)) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, (sqlite3_int64)limit) != SQLITE_OK) {
		rc = fail(db, "listing messages");
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		v = realloc(out->v, (out->n + 1) * sizeof(*v));
		if (v == NULL) {
			log_error("out of memory");
			goto out;
		}
		out->v = v;
		if (row_message(st, &out->v[out->n]) != STORE_OK)
			goto out;
		bytes += out->v[out->n].body_len;
		out->n++;
		/* Enough for an answer of max_bytes (encoded, a body takes at
		 * least its own length): the rest stays in the database. */
		if (out->max_bytes > 0 && bytes > out->max_bytes) {
			out->cut = 1;
			step = SQLITE_DONE;
			break;
		}
	}
	if (step != SQLITE_DONE) {
		rc = fail(db, "listing messages");
		goto out;
	}
	rc = STORE_OK;
out:
	done_with(st);
	if (rc != STORE_OK)
		store_message_list_free(out);
	return rc;
}

static int
sq_keys(struct store *s, const char *user_id, struct store_key_list *out)
{
	struct conn *c = reader(s);
	sqlite3_stmt *st = NULL;
	struct store_key *v, *k;
	const unsigned char *pem;
	int rc = STORE_ERROR, step, n;

	out->v = NULL;
	out->n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((st = cached(c, "SELECT kid, pem, created_at, proof FROM keys "
	    "WHERE user_id = ?1 ORDER BY created_at, kid")) == NULL ||
	    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC) !=
	    SQLITE_OK) {
		rc = fail(c->db, "reading keys");
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((v = realloc(out->v, (out->n + 1) * sizeof(*v))) == NULL)
			goto nomem;
		out->v = v;
		k = &v[out->n];
		memset(k, 0, sizeof(*k));
		copy_col(st, 0, k->kid, sizeof(k->kid));
		pem = sqlite3_column_text(st, 1);
		n = sqlite3_column_bytes(st, 1);
		if ((k->pem = malloc((size_t)n + 1)) == NULL)
			goto nomem;
		if (n > 0)
			memcpy(k->pem, pem, (size_t)n);
		k->pem[n] = '\0';
		k->created_at = sqlite3_column_int64(st, 2);
		out->n++;
		if (sqlite3_column_type(st, 3) != SQLITE_NULL &&
		    (k->proof = strdup((const char *)sqlite3_column_text(st,
		    3))) == NULL)
			goto nomem;
	}
	if (step != SQLITE_DONE) {
		rc = fail(c->db, "reading keys");
		goto out;
	}
	rc = STORE_OK;
	goto out;
nomem:
	log_error("out of memory");
out:
	done_with(st);
	if (rc != STORE_OK)
		store_key_list_free(out);
	return rc;
}

static int
sq_count_messages(struct store *s, int64_t *n)
{
	struct conn *c = reader(s);
	sqlite3_stmt *st = NULL;
	int rc = STORE_ERROR;

	if (c != NULL && (st = cached(c, "SELECT count(*) FROM messages")) !=
	    NULL && sqlite3_step(st) == SQLITE_ROW) {
		*n = sqlite3_column_int64(st, 0);
		rc = STORE_OK;
	} else if (c != NULL) {
		fail(c->db, "counting messages");
	}
	done_with(st);
	return rc;
}

static int
sq_meta_get(struct store *s, const char *key, struct buf *value)
{
	struct conn *c = reader(s);
	sqlite3 *db = c ? c->db : NULL;
	sqlite3_stmt *st = NULL;
	int rc = STORE_ERROR, step;

	buf_clear(value);
	if (c == NULL)
		return STORE_ERROR;
	if ((st = cached(c, "SELECT value FROM meta WHERE key = ?1")) ==
	    NULL ||
	    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK) {
		rc = fail(db, "reading settings");
		goto out;
	}
	step = sqlite3_step(st);
	if (step == SQLITE_DONE)
		rc = STORE_NOT_FOUND;
	else if (step == SQLITE_ROW && buf_append(value, sqlite3_column_blob(st,
	    0), (size_t)sqlite3_column_bytes(st, 0)) != 0)
		log_error("out of memory");
	else if (step == SQLITE_ROW)
		rc = STORE_OK;
	else
		rc = fail(db, "reading settings");
out:
	done_with(st);
	return rc;
}

/* Runs a statement without parameters or rows on the writer. */
static int
w_exec(struct store *s, const char *sql)
{
	struct sq *q = s->impl;
	sqlite3_stmt *st = cached(&q->w, sql);
	int step;

	if (st == NULL)
		return STORE_ERROR;
	step = sqlite3_step(st);
	done_with(st);
	if (step != SQLITE_DONE)
		return w_fail(s, sql);
	return STORE_OK;
}

/* The transaction is gone: SQLite rolled it back after a failure. */
static int
w_gone(struct store *s)
{
	return sqlite3_get_autocommit(((struct sq *)s->impl)->w.db);
}

static int
sq_begin(struct store *s)
{
	((struct sq *)s->impl)->wfail = STORE_ERROR;
	((struct sq *)s->impl)->kept = 0;
	/* IMMEDIATE: the write lock now, not at the first write. */
	if (w_exec(s, "BEGIN IMMEDIATE") != STORE_OK)
		return STORE_ERROR;
	return STORE_OK;
}

static int
sq_savepoint(struct store *s)
{
	/* Outside a transaction a savepoint would begin one of its own, a
	 * job then committed alone and answered as failed. */
	if (w_gone(s))
		return ((struct sq *)s->impl)->wfail;
	return w_exec(s, "SAVEPOINT job");
}

static int
sq_release(struct store *s, int keep)
{
	struct sq *q = s->impl;

	int rc = STORE_OK;

	if (w_gone(s))
		rc = q->wfail;
	else if (!keep)
		rc = w_exec(s, "ROLLBACK TO job");
	if (rc == STORE_OK)
		rc = w_exec(s, "RELEASE job");
	if (rc == STORE_OK && keep)
		q->kept = 1;
	return rc;
}

static int
sq_commit(struct store *s)
{
	int rc = w_gone(s) ? ((struct sq *)s->impl)->wfail :
	    w_exec(s, "COMMIT");

	if (rc == STORE_OK && ((struct sq *)s->impl)->kept)
		store_space_back(s);	/* a job wrote: there is room */
	return rc;
}

static int
sq_rollback(struct store *s)
{
	/* A COMMIT that failed for want of space has rolled back already:
	 * a ROLLBACK now would only fail ("no transaction is active"). */
	return w_gone(s) ? STORE_OK : w_exec(s, "ROLLBACK");
}

/* The writer's statement for sql. */
static sqlite3_stmt *
w_prepare(struct store *s, const char *sql)
{
	return cached(&((struct sq *)s->impl)->w, sql);
}

/* Steps a statement that returns no rows and gives it back. */
static int
w_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	struct sq *q = s->impl;
	int step = sqlite3_step(st), rc;

	if (step == SQLITE_DONE)
		rc = STORE_OK;
	else if ((sqlite3_extended_errcode(q->w.db) & 0xff) ==
	    SQLITE_CONSTRAINT)
		rc = STORE_CONFLICT;
	else
		rc = w_fail(s, what);
	done_with(st);
	return rc;
}

static int
sq_meta_put_new(struct store *s, const char *key, const uint8_t *value,
    size_t len)
{
	sqlite3_stmt *st = w_prepare(s, "INSERT INTO meta (key, value) "
	    "VALUES (?1, ?2)");

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 2, value, (int)len, SQLITE_STATIC) !=
	    SQLITE_OK) {
		done_with(st);
		return STORE_ERROR;
	}
	return w_done(s, st, "saving settings");
}

/* Inside the job's savepoint: both or neither. */
static int
sq_meta_set(struct store *s, const char *key, const uint8_t *value,
    size_t len)
{
	sqlite3_stmt *st = w_prepare(s, "DELETE FROM meta WHERE key = ?1");
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK) {
		done_with(st);
		return STORE_ERROR;
	}
	if ((rc = w_done(s, st, "saving settings")) != STORE_OK)
		return rc;
	return sq_meta_put_new(s, key, value, len);
}

static int
sq_user_create(struct store *s, const struct store_user *u)
{
	sqlite3_stmt *st = w_prepare(s, "INSERT INTO users (id, name, hash, "
	    "token_version, created_at, skeleton) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6)");
	char skel[STORE_NAME_MAX + 1];

	if (st == NULL)
		return STORE_ERROR;
	name_skeleton(u->name, strlen(u->name), skel);
	if (sqlite3_bind_text(st, 1, u->id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, u->name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, u->hash, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, u->token_version) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, u->created_at) != SQLITE_OK ||
	    sqlite3_bind_text(st, 6, skel, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		done_with(st);
		return STORE_ERROR;
	}
	return w_done(s, st, "creating a user");
}

static int
changes(struct store *s)
{
	return sqlite3_changes(((struct sq *)s->impl)->w.db);
}

static int
sq_user_update_hash(struct store *s, const char *id, const char *hash)
{
	sqlite3_stmt *st = w_prepare(s, "UPDATE users SET hash = ?2 WHERE "
	    "id = ?1");
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC) != SQLITE_OK) {
		done_with(st);
		return STORE_ERROR;
	}
	rc = w_done(s, st, "updating a user");
	return rc == STORE_OK && changes(s) == 0 ? STORE_NOT_FOUND : rc;
}

static int
sq_user_delete(struct store *s, const char *id)
{
	sqlite3_stmt *st = w_prepare(s, "DELETE FROM users WHERE id = ?1");
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) != SQLITE_OK) {
		done_with(st);
		return STORE_ERROR;
	}
	/* The user's messages go with it (ON DELETE CASCADE). */
	rc = w_done(s, st, "deleting a user");
	return rc == STORE_OK && changes(s) == 0 ? STORE_NOT_FOUND : rc;
}

static int
sq_message_put(struct store *s, const struct store_message *m,
    const char *to_id)
{
	sqlite3_stmt *st = w_prepare(s, "INSERT INTO messages (id, "
	    "recipient_id, recipient, sender, sent_at, body, sender_id) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, to_id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, m->to, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 4, m->from, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, m->sent_at) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 6, m->body, (int)m->body_len,
	    SQLITE_STATIC) != SQLITE_OK ||
	    (m->from_id[0] != '\0' ? sqlite3_bind_text(st, 7, m->from_id, -1,
	    SQLITE_STATIC) : sqlite3_bind_null(st, 7)) != SQLITE_OK) {
		done_with(st);
		return STORE_ERROR;
	}
	/* A recipient deleted meanwhile fails the foreign key. */
	return w_done(s, st, "storing a message");
}

static int
sq_message_take_oldest(struct store *s, const char *to_id, const char *from,
    struct store_message *out)
{
	sqlite3_stmt *st = w_prepare(s, "SELECT " MESSAGE_COLUMNS " FROM "
	    MESSAGE_FROM " WHERE m.recipient_id = ?1 AND (?2 IS NULL OR "
	    MESSAGE_SENDER " = ?2) ORDER BY m.id LIMIT 1");
	int rc, step;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, to_id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    (from != NULL ? sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC) :
	    sqlite3_bind_null(st, 2)) != SQLITE_OK) {
		done_with(st);
		return STORE_ERROR;
	}
	step = sqlite3_step(st);
	if (step == SQLITE_DONE)
		rc = STORE_EMPTY;
	else if (step == SQLITE_ROW)
		rc = row_message(st, out);
	else
		rc = w_fail(s, "reading a message");
	done_with(st);
	if (rc != STORE_OK)
		return rc;
	st = w_prepare(s, "DELETE FROM messages WHERE id = ?1");
	if (st == NULL || sqlite3_bind_text(st, 1, out->id, -1,
	    SQLITE_STATIC) != SQLITE_OK) {
		done_with(st);
		rc = STORE_ERROR;
	} else {
		rc = w_done(s, st, "deleting a message");
	}
	if (rc != STORE_OK) {
		free(out->body);
		out->body = NULL;
	}
	return rc;
}

static int
sq_messages_delete(struct store *s, const char *to_id,
    const char *const *ids, size_t n, size_t *deleted)
{
	sqlite3_stmt *st = w_prepare(s, "DELETE FROM messages WHERE id = ?1 "
	    "AND recipient_id = ?2");
	size_t i;
	int rc = STORE_OK;

	*deleted = 0;
	if (st == NULL)
		return STORE_ERROR;
	for (i = 0; i < n && rc == STORE_OK; i++) {
		/* Only the owner's own messages: another user's id deletes
		 * nothing (T5). */
		if (sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC) !=
		    SQLITE_OK || sqlite3_bind_text(st, 2, to_id, -1,
		    SQLITE_STATIC) != SQLITE_OK || sqlite3_step(st) !=
		    SQLITE_DONE)
			rc = w_fail(s, "deleting messages");
		else
			*deleted += (size_t)changes(s);
		sqlite3_reset(st);
	}
	done_with(st);
	return rc;
}

/* One statement: a key already there keeps its row, and gets k's proof
 * if k has one (a key of schema 2 gets one). */
static int
sq_key_put(struct store *s, const char *user_id, const struct store_key *k)
{
	sqlite3_stmt *st = w_prepare(s, "INSERT INTO keys (user_id, kid, pem, "
	    "created_at, proof) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT "
	    "(user_id, kid) DO UPDATE SET proof = coalesce(excluded.proof, "
	    "proof)");
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_bind_text(st, 2, k->kid, -1,
	    SQLITE_STATIC) != SQLITE_OK || sqlite3_bind_text(st, 3, k->pem, -1,
	    SQLITE_STATIC) != SQLITE_OK || sqlite3_bind_int64(st, 4,
	    k->created_at) != SQLITE_OK || (k->proof != NULL ?
	    sqlite3_bind_text(st, 5, k->proof, -1, SQLITE_STATIC) :
	    sqlite3_bind_null(st, 5)) != SQLITE_OK) {
		done_with(st);
		return STORE_ERROR;
	}
	/* A key another account holds fails the unique index (kid_clash is
	 * asked first: this is the last line). */
	rc = w_done(s, st, "storing a key");
	return rc == STORE_CONFLICT ? STORE_TAKEN : rc;
}

static int
sq_key_count(struct store *s, const char *user_id, const char *kid,
    int64_t *count, int *have)
{
	sqlite3_stmt *st = w_prepare(s, "SELECT count(*), "
	    "coalesce(sum(kid = ?2), 0) FROM keys WHERE user_id = ?1");
	int rc = STORE_OK;

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_bind_text(st, 2, kid, -1,
	    SQLITE_STATIC) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		rc = fail(((struct sq *)s->impl)->w.db, "counting keys");
	} else {
		*count = sqlite3_column_int64(st, 0);
		*have = sqlite3_column_int64(st, 1) > 0;
	}
	done_with(st);
	return rc;
}

/* The write lock is the whole database's, held since BEGIN IMMEDIATE:
 * whether the user is there is all there is to check. */
static int
sq_user_lock(struct store *s, const char *id)
{
	sqlite3_stmt *st = w_prepare(s, "SELECT 1 FROM users WHERE id = ?1");
	int rc, step;

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) != SQLITE_OK)
		step = SQLITE_ERROR;
	else
		step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = STORE_OK;
	else if (step == SQLITE_DONE)
		rc = STORE_NOT_FOUND;
	else
		rc = fail(((struct sq *)s->impl)->w.db, "reading a user");
	done_with(st);
	return rc;
}

static int
sq_key_delete(struct store *s, const char *user_id, const char *kid)
{
	sqlite3_stmt *st = w_prepare(s, "DELETE FROM keys WHERE user_id = ?1 "
	    "AND kid = ?2");
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_bind_text(st, 2, kid, -1, SQLITE_STATIC) !=
	    SQLITE_OK) {
		done_with(st);
		return STORE_ERROR;
	}
	rc = w_done(s, st, "deleting a key");
	return rc == STORE_OK && changes(s) == 0 ? STORE_NOT_FOUND : rc;
}

/* ---- identity (schema 3) ---- */

/* The connection for a check: the writer's (inside its transaction) or
 * this thread's reading one. */
static struct conn *
check_conn(struct store *s, int on_writer)
{
	return on_writer ? &((struct sq *)s->impl)->w : reader(s);
}

static int
sq_name_clash(struct store *s, int on_writer, const char *skel,
    int64_t since, char clash[STORE_NAME_MAX + 1], int64_t *deleted_at)
{
	struct conn *c = check_conn(s, on_writer);
	sqlite3_stmt *st;
	int rc = STORE_ERROR, step;

	clash[0] = '\0';
	*deleted_at = 0;
	if (c == NULL || (st = cached(c, "SELECT name FROM users WHERE "
	    "skeleton = ?1 ORDER BY name LIMIT 1")) == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, skel, -1, SQLITE_STATIC) != SQLITE_OK)
		goto fail;
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		copy_col(st, 0, clash, STORE_NAME_MAX + 1);
		done_with(st);
		return STORE_CLASH;
	}
	if (step != SQLITE_DONE)
		goto fail;
	done_with(st);
	if ((st = cached(c, "SELECT name, deleted_at FROM quarantine WHERE "
	    "kind = 'name' AND value = ?1 AND deleted_at > ?2")) == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, skel, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, since) != SQLITE_OK)
		goto fail;
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		copy_col(st, 0, clash, STORE_NAME_MAX + 1);
		*deleted_at = sqlite3_column_int64(st, 1);
		rc = STORE_RESTING;
	} else if (step == SQLITE_DONE) {
		rc = STORE_OK;
	} else {
		goto fail;
	}
	done_with(st);
	return rc;
fail:
	rc = fail(c->db, "checking a name");
	done_with(st);
	return rc;
}

static int
sq_kid_clash(struct store *s, int on_writer, const char *kid,
    const char *user_id, int64_t since, int64_t *deleted_at)
{
	struct conn *c = check_conn(s, on_writer);
	sqlite3_stmt *st;
	int rc = STORE_ERROR, step;

	*deleted_at = 0;
	if (c == NULL || (st = cached(c, "SELECT 1 FROM keys WHERE kid = ?1 "
	    "AND user_id != ?2")) == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, kid, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC) != SQLITE_OK)
		goto fail;
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		done_with(st);
		return STORE_TAKEN;
	}
	if (step != SQLITE_DONE)
		goto fail;
	done_with(st);
	if ((st = cached(c, "SELECT deleted_at FROM quarantine WHERE kind = "
	    "'kid' AND value = ?1 AND user_id != ?2 AND deleted_at > ?3")) ==
	    NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, kid, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_bind_int64(st, 3, since) != SQLITE_OK)
		goto fail;
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		*deleted_at = sqlite3_column_int64(st, 0);
		rc = STORE_RESTING;
	} else if (step == SQLITE_DONE) {
		rc = STORE_OK;
	} else {
		goto fail;
	}
	done_with(st);
	return rc;
fail:
	rc = fail(c->db, "checking a key id");
	done_with(st);
	return rc;
}

/*
 * Runs n quarantine statements on the writer, binding ?1 the account id,
 * ?2 now, ?3 purge_before and ?4 the key id, each up to the highest
 * parameter it names.
 */
static int
quarantine_run(struct store *s, const char *const *sql, size_t n,
    const char *id, int64_t now, int64_t purge_before, const char *kid)
{
	sqlite3_stmt *st;
	size_t i;
	int rc, np;

	for (i = 0; i < n; i++) {
		if ((st = w_prepare(s, sql[i])) == NULL)
			return STORE_ERROR;
		np = sqlite3_bind_parameter_count(st);
		if ((np >= 1 && sqlite3_bind_text(st, 1, id, -1,
		    SQLITE_STATIC) != SQLITE_OK) || (np >= 2 &&
		    sqlite3_bind_int64(st, 2, now) != SQLITE_OK) || (np >= 3 &&
		    sqlite3_bind_int64(st, 3, purge_before) != SQLITE_OK) ||
		    (np >= 4 && sqlite3_bind_text(st, 4, kid, -1,
		    SQLITE_STATIC) != SQLITE_OK)) {
			done_with(st);
			return STORE_ERROR;
		}
		if ((rc = w_done(s, st, "keeping a deleted name")) != STORE_OK)
			return rc == STORE_CONFLICT ? STORE_ERROR : rc;
	}
	return STORE_OK;
}

static int
sq_quarantine_user(struct store *s, const char *id, int64_t now,
    int64_t purge_before)
{
	static const char *const sql[] = {
		"DELETE FROM quarantine WHERE deleted_at < ?3",
		/* A name rests by its skeleton: no look-alike either. */
		"INSERT OR REPLACE INTO quarantine (kind, value, name, user_id, "
		"deleted_at) SELECT 'name', skeleton, name, id, ?2 FROM users "
		"WHERE id = ?1",
		"INSERT OR REPLACE INTO quarantine (kind, value, name, user_id, "
		"deleted_at) SELECT 'kid', k.kid, u.name, u.id, ?2 FROM keys k "
		"JOIN users u ON u.id = k.user_id WHERE k.user_id = ?1",
	};

	return quarantine_run(s, sql, sizeof(sql) / sizeof(sql[0]), id, now,
	    purge_before, NULL);
}

static int
sq_quarantine_key(struct store *s, const char *id, const char *kid,
    int64_t now, int64_t purge_before)
{
	static const char *const sql[] = {
		"DELETE FROM quarantine WHERE deleted_at < ?3",
		"INSERT OR REPLACE INTO quarantine (kind, value, name, user_id, "
		"deleted_at) SELECT 'kid', k.kid, u.name, u.id, ?2 FROM keys k "
		"JOIN users u ON u.id = k.user_id WHERE k.user_id = ?1 AND "
		"k.kid = ?4",
	};

	return quarantine_run(s, sql, sizeof(sql) / sizeof(sql[0]), id, now,
	    purge_before, kid);
}

#define GROUP_MAX 64	/* names of one skeleton shown at most */

static int
sq_name_groups(struct store *s, void (*fn)(void *arg,
    const char *const *names, size_t n), void *arg)
{
	struct conn *c = reader(s);
	sqlite3_stmt *st;
	char skel[STORE_NAME_MAX + 1], cur[STORE_NAME_MAX + 1] = "";
	char names[GROUP_MAX][STORE_NAME_MAX + 1];
	const char *v[GROUP_MAX];
	size_t n = 0, i;
	int step, rc = STORE_ERROR, first = 1;

	if (c == NULL || (st = cached(c, "SELECT skeleton, name FROM users "
	    "WHERE skeleton IN (SELECT skeleton FROM users GROUP BY skeleton "
	    "HAVING count(*) > 1) ORDER BY skeleton, name")) == NULL)
		return STORE_ERROR;
	for (i = 0; i < GROUP_MAX; i++)
		v[i] = names[i];
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		copy_col(st, 0, skel, sizeof(skel));
		if (!first && strcmp(skel, cur) != 0) {
			fn(arg, v, n);
			n = 0;
		}
		first = 0;
		memcpy(cur, skel, sizeof(cur));
		if (n < GROUP_MAX)
			copy_col(st, 1, names[n++], sizeof(names[0]));
	}
	if (step != SQLITE_DONE) {
		rc = fail(c->db, "listing names");
		goto out;
	}
	if (n > 0)
		fn(arg, v, n);
	rc = STORE_OK;
out:
	done_with(st);
	return rc;
}

/* ---- accounts and quotas (docs/SERVER.md) ---- */

static int
sq_user_hashes(struct store *s, void (*each)(void *arg, const char *hash),
    void *arg)
{
	struct conn *c = reader(s);
	sqlite3_stmt *st = NULL;
	int step;

	if (c == NULL || (st = cached(c, "SELECT hash FROM users")) == NULL)
		return STORE_ERROR;
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		each(arg, (const char *)sqlite3_column_text(st, 0));
	done_with(st);
	if (step != SQLITE_DONE)
		return fail(c->db, "reading the password hashes");
	return STORE_OK;
}

static int
sq_user_current(struct store *s, const char *id, struct store_user *u)
{
	return read_user(&((struct sq *)s->impl)->w, "SELECT id, name, hash, "
	    "token_version, created_at FROM users WHERE id = ?1", id, u);
}

/* The token version of id, as the writer sees it. */
static int
version_of(struct store *s, const char *id, int64_t *version)
{
	struct store_user u;
	int rc = sq_user_current(s, id, &u);

	if (rc == STORE_OK)
		*version = u.token_version;
	wipe(&u, sizeof(u));
	return rc;
}

static int
sq_user_set_hash(struct store *s, const char *id, const char *old_hash,
    const char *new_hash, int revoke, int64_t *version)
{
	sqlite3_stmt *st = w_prepare(s, "UPDATE users SET hash = ?3, "
	    "token_version = token_version + ?4 WHERE id = ?1 AND hash = ?2");
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, old_hash, -1, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_bind_text(st, 3, new_hash, -1,
	    SQLITE_STATIC) != SQLITE_OK || sqlite3_bind_int(st, 4,
	    revoke ? 1 : 0) != SQLITE_OK) {
		done_with(st);
		return STORE_ERROR;
	}
	if ((rc = w_done(s, st, "updating a user")) != STORE_OK)
		return rc;
	if (changes(s) == 0) {
		/* Gone, or its hash changed meanwhile. */
		rc = version_of(s, id, version);
		return rc == STORE_OK ? STORE_CONFLICT : rc;
	}
	return version_of(s, id, version);
}

static int
sq_user_revoke(struct store *s, const char *id, int64_t *version)
{
	sqlite3_stmt *st = w_prepare(s, "UPDATE users SET token_version = "
	    "token_version + 1 WHERE id = ?1");
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) != SQLITE_OK) {
		done_with(st);
		return STORE_ERROR;
	}
	if ((rc = w_done(s, st, "updating a user")) != STORE_OK)
		return rc;
	if (changes(s) == 0)
		return STORE_NOT_FOUND;
	return version_of(s, id, version);
}

/*
 * Steps st (c's, NULL when it could not be prepared), its ?1 bound to
 * key, to the one row it selects: STORE_OK with the row to read (the
 * caller gives st back with done_with), STORE_NOT_FOUND, or a failure
 * said as what (the writer's through w_fail: its transaction may be
 * gone).
 */
static int
one_row(struct store *s, struct conn *c, sqlite3_stmt *st, const char *key,
    const char *what)
{
	int step;

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK)
		step = SQLITE_ERROR;
	else
		step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		return STORE_OK;
	if (step == SQLITE_DONE)
		return STORE_NOT_FOUND;
	return c == &((struct sq *)s->impl)->w ? w_fail(s, what) :
	    fail(c->db, what);
}

/* The mailbox's usage as its counters say (schema 6): kept by the
 * triggers in the transaction that stores or deletes, so they are the
 * truth for whoever holds the write lock. */
static int
usage_read(struct store *s, struct conn *c, const char *id, int64_t *count,
    int64_t *bytes)
{
	sqlite3_stmt *st = cached(c, "SELECT msg_count, msg_bytes FROM users "
	    "WHERE id = ?1");
	int rc = one_row(s, c, st, id, "counting a mailbox");

	if (rc == STORE_OK) {
		*count = sqlite3_column_int64(st, 0);
		*bytes = sqlite3_column_int64(st, 1);
	}
	done_with(st);
	return rc;
}

static int
sq_mailbox_usage(struct store *s, int on_writer, const char *id,
    int64_t *count, int64_t *bytes)
{
	struct conn *c = on_writer ? &((struct sq *)s->impl)->w : reader(s);

	return c == NULL ? STORE_ERROR : usage_read(s, c, id, count, bytes);
}

/* The write lock is held (BEGIN IMMEDIATE): no other writer, of this
 * process or another, changes the counters until the commit. */
static int
sq_message_put_within(struct store *s, const struct store_message *m,
    const char *to_id, size_t max_messages, size_t max_bytes)
{
	int64_t count = 0, bytes = 0;
	int rc = usage_read(s, &((struct sq *)s->impl)->w, to_id, &count,
	    &bytes);

	if (rc != STORE_OK)
		return rc;
	if ((uint64_t)count + 1 > max_messages ||
	    (uint64_t)bytes + m->body_len > max_bytes)
		return STORE_FULL;
	return sq_message_put(s, m, to_id);
}

/* ---- limits shared by every server (schema 4) ---- */

/* The write lock is the whole database's, held since BEGIN IMMEDIATE:
 * the row is the writer's until it commits. */
static int
sq_limit_get(struct store *s, const char *key, double *n, int64_t *t,
    int64_t *expires)
{
	struct conn *w = &((struct sq *)s->impl)->w;
	sqlite3_stmt *st = cached(w, "SELECT n, t, expires FROM limits "
	    "WHERE key = ?1");
	int rc = one_row(s, w, st, key, "reading a limit");

	if (rc == STORE_OK) {
		*n = sqlite3_column_double(st, 0);
		*t = sqlite3_column_int64(st, 1);
		*expires = sqlite3_column_int64(st, 2);
	}
	done_with(st);
	return rc;
}

static int
sq_limit_put(struct store *s, const char *key, double n, int64_t t,
    int64_t expires)
{
	sqlite3_stmt *st = w_prepare(s, "INSERT INTO limits (key, n, t, "
	    "expires) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET "
	    "n = excluded.n, t = excluded.t, expires = excluded.expires");
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_double(st, 2, n) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, t) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, expires) != SQLITE_OK) {
		done_with(st);
		return fail(((struct sq *)s->impl)->w.db, "counting a limit");
	}
	rc = w_done(s, st, "counting a limit");
	return rc == STORE_CONFLICT ? STORE_ERROR : rc;
}

static int
sq_limit_sweep(struct store *s, int64_t now, size_t max, size_t *deleted)
{
	sqlite3_stmt *st = w_prepare(s, "DELETE FROM limits WHERE key IN "
	    "(SELECT key FROM limits WHERE expires < ?1 LIMIT ?2)");
	int rc;

	*deleted = 0;
	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)max) != SQLITE_OK) {
		done_with(st);
		return fail(((struct sq *)s->impl)->w.db, "sweeping limits");
	}
	if ((rc = w_done(s, st, "sweeping limits")) == STORE_OK)
		*deleted = (size_t)changes(s);
	return rc == STORE_CONFLICT ? STORE_ERROR : rc;
}

/* ---- prekeys (schema 5) ---- */

static int
sq_prekey_stock(struct store *s, int on_writer, const char *user_id,
    struct store_prekey_stock_list *out)
{
	struct conn *c = check_conn(s, on_writer);
	struct store_prekey_stock *v, *e;
	sqlite3_stmt *st = NULL;
	int rc = STORE_ERROR, step;

	out->v = NULL;
	out->n = 0;
	if (c == NULL || (st = cached(c, "SELECT k.kid, (SELECT count(*) FROM "
	    "prekeys p WHERE p.kid = k.kid AND p.kind = 0), (SELECT pkid FROM "
	    "prekeys p WHERE p.kid = k.kid AND p.kind = 1), (SELECT iat FROM "
	    "prekeys p WHERE p.kid = k.kid AND p.kind = 1) FROM keys k WHERE "
	    "k.user_id = ?1 ORDER BY k.created_at, k.kid")) == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC) != SQLITE_OK)
		goto fail;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((v = realloc(out->v, (out->n + 1) * sizeof(*v))) == NULL) {
			log_error("out of memory");
			goto out;
		}
		out->v = v;
		e = &v[out->n++];
		memset(e, 0, sizeof(*e));
		copy_col(st, 0, e->kid, sizeof(e->kid));
		e->one_time = sqlite3_column_int64(st, 1);
		copy_col(st, 2, e->signed_pkid, sizeof(e->signed_pkid));
		e->signed_iat = sqlite3_column_int64(st, 3);
	}
	if (step != SQLITE_DONE)
		goto fail;
	rc = STORE_OK;
	goto out;
fail:
	rc = fail(c->db, "counting prekeys");
out:
	done_with(st);
	if (rc != STORE_OK)
		store_prekey_stock_list_free(out);
	return rc;
}

static int
sq_prekey_put(struct store *s, const char *user_id, const char *kid,
    const struct store_prekey *p)
{
	sqlite3_stmt *st = w_prepare(s, "INSERT INTO prekeys (user_id, kid, "
	    "pkid, kind, x, proof, iat, created_at) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7, ?8) ON CONFLICT (kid, pkid) DO NOTHING");
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_bind_text(st, 2, kid, -1, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_bind_text(st, 3, p->pkid, -1,
	    SQLITE_STATIC) != SQLITE_OK || sqlite3_bind_int(st, 4, p->kind) !=
	    SQLITE_OK || sqlite3_bind_text(st, 5, p->x, -1, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_bind_text(st, 6, p->proof, -1,
	    SQLITE_STATIC) != SQLITE_OK || sqlite3_bind_int64(st, 7, p->iat) !=
	    SQLITE_OK || sqlite3_bind_int64(st, 8, p->created_at) !=
	    SQLITE_OK) {
		done_with(st);
		return fail(((struct sq *)s->impl)->w.db, "storing a prekey");
	}
	/* A key withdrawn meanwhile fails the foreign key: a conflict too,
	 * but store_prekeys_put holds the user and saw the key first. */
	if ((rc = w_done(s, st, "storing a prekey")) != STORE_OK)
		return rc;
	return changes(s) == 0 ? STORE_CONFLICT : STORE_OK;
}

static int
sq_prekey_signed_drop(struct store *s, const char *kid)
{
	sqlite3_stmt *st = w_prepare(s, "DELETE FROM prekeys WHERE kid = ?1 "
	    "AND kind = 1");
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, kid, -1, SQLITE_STATIC) != SQLITE_OK) {
		done_with(st);
		return STORE_ERROR;
	}
	rc = w_done(s, st, "replacing a signed prekey");
	return rc == STORE_CONFLICT ? STORE_ERROR : rc;
}

static int
sq_prekey_count(struct store *s, const char *kid, int64_t *n)
{
	sqlite3_stmt *st = w_prepare(s, "SELECT count(*) FROM prekeys WHERE "
	    "kid = ?1 AND kind = 0");
	int rc = STORE_OK;

	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, kid, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		rc = fail(((struct sq *)s->impl)->w.db, "counting prekeys");
	else
		*n = sqlite3_column_int64(st, 0);
	done_with(st);
	return rc;
}

/* The write lock is the database's, held since BEGIN IMMEDIATE: no other
 * writer, of this process or another, claims meanwhile. */
static int
sq_prekey_claim(struct store *s, const char *kid, int kind,
    struct store_prekey *out)
{
	sqlite3_stmt *st = w_prepare(s, "SELECT pkid, kind, x, proof, iat, "
	    "created_at FROM prekeys WHERE kid = ?1 AND kind = ?2 ORDER BY "
	    "created_at, pkid LIMIT 1");
	int rc, step;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return STORE_ERROR;
	if (sqlite3_bind_text(st, 1, kid, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, kind) != SQLITE_OK)
		step = SQLITE_ERROR;
	else
		step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = STORE_EMPTY;
	} else if (step == SQLITE_ROW) {
		copy_col(st, 0, out->pkid, sizeof(out->pkid));
		out->kind = sqlite3_column_int(st, 1);
		copy_col(st, 2, out->x, sizeof(out->x));
		out->iat = sqlite3_column_int64(st, 4);
		out->created_at = sqlite3_column_int64(st, 5);
		rc = STORE_OK;
		if ((out->proof = strdup((const char *)sqlite3_column_text(st,
		    3))) == NULL) {
			log_error("out of memory");
			rc = STORE_ERROR;
		}
	} else {
		rc = w_fail(s, "claiming a prekey");
	}
	done_with(st);
	if (rc != STORE_OK || kind != STORE_PREKEY_ONE_TIME)
		return rc;
	st = w_prepare(s, "DELETE FROM prekeys WHERE kid = ?1 AND pkid = ?2");
	if (st == NULL || sqlite3_bind_text(st, 1, kid, -1, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_bind_text(st, 2, out->pkid, -1,
	    SQLITE_STATIC) != SQLITE_OK) {
		done_with(st);
		rc = STORE_ERROR;
	} else {
		rc = w_done(s, st, "claiming a prekey");
	}
	if (rc != STORE_OK)
		store_prekey_clear(out);
	return rc == STORE_CONFLICT ? STORE_ERROR : rc;
}

const struct store_backend store_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.user_by_name = sq_user_by_name,
	.user_by_id = sq_user_by_id,
	.messages = sq_messages,
	.count_messages = sq_count_messages,
	.user_hashes = sq_user_hashes,
	.meta_get = sq_meta_get,
	.keys = sq_keys,
	.begin = sq_begin,
	.savepoint = sq_savepoint,
	.release = sq_release,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.meta_put_new = sq_meta_put_new,
	.user_create = sq_user_create,
	.user_update_hash = sq_user_update_hash,
	.user_current = sq_user_current,
	.user_set_hash = sq_user_set_hash,
	.user_revoke = sq_user_revoke,
	.message_put_within = sq_message_put_within,
	.mailbox_usage = sq_mailbox_usage,
	.user_delete = sq_user_delete,
	.message_put = sq_message_put,
	.message_take_oldest = sq_message_take_oldest,
	.messages_delete = sq_messages_delete,
	.key_put = sq_key_put,
	.key_delete = sq_key_delete,
	.user_lock = sq_user_lock,
	/* sq_message_put_within reads the recipient's row on the writer:
	 * user_lock would read it once more for nothing. */
	.put_finds_user = 1,
	.key_count = sq_key_count,
	.name_clash = sq_name_clash,
	.kid_clash = sq_kid_clash,
	.quarantine_user = sq_quarantine_user,
	.name_groups = sq_name_groups,
	.quarantine_key = sq_quarantine_key,
	/* several servers on one database */
	.meta_set = sq_meta_set,
	/* limits shared by every server */
	.limit_get = sq_limit_get,
	.limit_put = sq_limit_put,
	.limit_sweep = sq_limit_sweep,
	/* prekeys */
	.prekey_stock = sq_prekey_stock,
	.prekey_put = sq_prekey_put,
	.prekey_signed_drop = sq_prekey_signed_drop,
	.prekey_count = sq_prekey_count,
	.prekey_claim = sq_prekey_claim,
};
