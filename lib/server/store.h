/*
 * store.h - the server's storage, behind one interface so that another
 * backend (PostgreSQL) can be added without touching the routes.
 *
 * Reads run on any thread (each backend keeps what it needs per thread).
 * Writes never run on a request thread: they are queued as jobs, and one
 * writer thread runs the queued jobs in one transaction, each in its own
 * savepoint, and commits them together ("group commit": one fsync for
 * many requests), then reports each job's result. A job that fails rolls
 * back its own changes only.
 */
#ifndef E2E_STORE_H
#define E2E_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/names.h"
#include "base/report.h"

#define STORE_ID_LEN ID_LEN	/* names.h */
#define STORE_NAME_MAX NAME_LEN_MAX
#define STORE_HASH_MAX 128

/* Results of store operations. */
enum {
	STORE_OK = 0,
	STORE_NOT_FOUND = 1,	/* no such user / message */
	STORE_CONFLICT = 2,	/* the name is taken */
	STORE_EMPTY = 3,	/* nothing to return */
	STORE_CLASH = 4,	/* a name that looks the same is taken */
	STORE_RESTING = 5,	/* a deleted account's name or key id, in
				 * its quarantine */
	STORE_TAKEN = 6,	/* the key id is another account's */
	STORE_FULL = 7,		/* the recipient's mailbox is at its quota */
	STORE_LIMITED = 9,	/* a shared limit refuses (store_limit_take) */
	STORE_REVOKED = 10,	/* a send's sender signed out or deleted
				 * since its token was read (store_send) */
	STORE_ERROR = -1,	/* the database failed (logged) */
	STORE_NOSPACE = -2,	/* the database's disk is full: nothing of
				 * the job was written (logged once) */
};

struct store_user {
	char id[STORE_ID_LEN + 1];
	char name[STORE_NAME_MAX + 1];
	char hash[STORE_HASH_MAX + 1];
	int64_t token_version;
	int64_t created_at;
};

struct store_message {
	char id[STORE_ID_LEN + 1];
	char from[STORE_NAME_MAX + 1];	/* the sender's account's name */
	char from_id[STORE_ID_LEN + 1];	/* the sender's account id; empty
					 * for messages of schema 2 */
	char to[STORE_NAME_MAX + 1];
	int64_t sent_at;
	char *body;		/* malloc'd, NUL-terminated */
	size_t body_len;
};

struct store_message_list {
	struct store_message *v;
	size_t n;
	/* Set by the caller of messages(): when not 0, the rows stop after
	 * the one whose body brings their bodies' bytes over it, and cut is
	 * set (there may be more). */
	size_t max_bytes;
	int cut;
};

void store_message_list_free(struct store_message_list *l);

/* A published public key (the key directory). */
#define STORE_KEYS_MAX 16		/* per user: one per device */
#define STORE_KID_LEN 43		/* RFC 7638 thumbprint, base64url */
struct store_key {
	char kid[STORE_KID_LEN + 1];
	char *pem;		/* malloc'd SubjectPublicKeyInfo PEM */
	char *proof;		/* malloc'd proof of possession (keyproof.h),
				 * or NULL: published before schema 3 */
	int64_t created_at;
};

struct store_key_list {
	struct store_key *v;
	size_t n;
};

void store_key_list_free(struct store_key_list *l);

/* A prekey (issue 16, docs/KEYS.md "Prekeys"): an X25519 public key
 * published for one identity key with its proof (prekeyproof.h). */
#define STORE_PREKEY_X_LEN 43		/* base64url of 32 bytes */
enum { STORE_PREKEY_ONE_TIME = 0, STORE_PREKEY_SIGNED = 1 };
struct store_prekey {
	char pkid[STORE_KID_LEN + 1];	/* its id: x's thumbprint */
	int kind;
	char x[STORE_PREKEY_X_LEN + 1];
	char *proof;		/* in a write, the caller's; from a read,
				 * malloc'd (store_prekey_clear) */
	int64_t iat;		/* the proof's */
	int64_t created_at;
};

void store_prekey_clear(struct store_prekey *p);

/* The prekeys of one identity key, as its owner sees them. */
struct store_prekey_stock {
	char kid[STORE_KID_LEN + 1];
	int64_t one_time;	/* one-time prekeys left */
	char signed_pkid[STORE_KID_LEN + 1];	/* "" when none */
	int64_t signed_iat;
};

struct store_prekey_stock_list {
	struct store_prekey_stock *v;
	size_t n;
};

void store_prekey_stock_list_free(struct store_prekey_stock_list *l);

struct store;
struct store_limit;

/* A backend: what a database must provide. Every function returns one of
 * the STORE_ codes. The write functions run only on the writer thread,
 * inside the transaction and savepoint it opened. Opening says why it
 * failed in rep; a failure while serving is said in the server's log
 * (server/log.h), for there is no one else to tell. */
struct store_backend {
	const char *name;
	int (*open)(struct store *s, const char *where, struct report *rep);
	void (*close)(struct store *s);
	/* reads */
	int (*user_by_name)(struct store *s, const char *name,
	    struct store_user *u);
	int (*user_by_id)(struct store *s, const char *id, struct store_user *u);
	int (*messages)(struct store *s, const char *to_id, const char *from,
	    const char *after, size_t limit, struct store_message_list *out);
	/* Optional: messages() of a user whose token version is still
	 * version, in one look at the database (store_messages_for). NULL:
	 * store_messages_for reads the user, then the messages. */
	int (*messages_for)(struct store *s, const char *to_id,
	    int64_t version, const char *from, const char *after,
	    size_t limit, struct store_message_list *out);
	int (*count_messages)(struct store *s, int64_t *n);
	/* Calls each(arg, hash) for every user's stored hash. */
	int (*user_hashes)(struct store *s,
	    void (*each)(void *arg, const char *hash), void *arg);
	int (*meta_get)(struct store *s, const char *key, struct buf *value);
	int (*keys)(struct store *s, const char *user_id,
	    struct store_key_list *out);
	/* writes */
	int (*begin)(struct store *s);
	int (*savepoint)(struct store *s);
	int (*release)(struct store *s, int keep);
	/* Optional: before commit, res[i] of a job whose result the
	 * backend learned only after its release (a send answered with a
	 * later job's statement, all of it undone when refused) gets that
	 * result. NULL: none is learned late. */
	void (*settle)(struct store *s, int *res, size_t n);
	int (*commit)(struct store *s);
	int (*rollback)(struct store *s);
	int (*meta_put_new)(struct store *s, const char *key,
	    const uint8_t *value, size_t len);
	int (*user_create)(struct store *s, const struct store_user *u);
	int (*user_update_hash)(struct store *s, const char *id,
	    const char *hash);
	/* The user as the writer sees it now, within its transaction. */
	int (*user_current)(struct store *s, const char *id,
	    struct store_user *u);
	/* Replaces the hash only if it is still old_hash (else
	 * STORE_CONFLICT); with revoke, raises the token version too, so
	 * that every token issued so far is refused. *version receives the
	 * token version now. */
	int (*user_set_hash)(struct store *s, const char *id,
	    const char *old_hash, const char *new_hash, int revoke,
	    int64_t *version);
	/* Raises the token version; *version receives the new one. */
	int (*user_revoke)(struct store *s, const char *id, int64_t *version);
	/* message_put, unless the recipient's mailbox would then hold more
	 * than max_messages messages or max_bytes bytes of bodies:
	 * STORE_FULL. Decided on the writer with the recipient's row held,
	 * so concurrent sends, of this process or another, cannot overfill
	 * it; the usage is the mailbox's counters (schema 6, see
	 * mailbox_usage), not a count of its messages. */
	int (*message_put_within)(struct store *s,
	    const struct store_message *m, const char *to_id,
	    size_t max_messages, size_t max_bytes);
	int (*user_delete)(struct store *s, const char *id);
	int (*message_put)(struct store *s, const struct store_message *m,
	    const char *to_id);
	int (*message_take_oldest)(struct store *s, const char *to_id,
	    const char *from, struct store_message *out);
	int (*messages_delete)(struct store *s, const char *to_id,
	    const char *const *ids, size_t n, size_t *deleted);
	/* Adds a key, or gives a key already there the proof of k when k
	 * has one (else it stays as it was); STORE_TAKEN when another
	 * account holds the key id. The cap is store_key_put's. */
	int (*key_put)(struct store *s, const char *user_id,
	    const struct store_key *k);
	int (*key_delete)(struct store *s, const char *user_id,
	    const char *kid);
	/* Writer: holds the user's row until the transaction ends (no
	 * other writer, of this process or another, deletes it or counts
	 * its mailbox meanwhile): STORE_OK, or STORE_NOT_FOUND when the
	 * user is gone. */
	int (*user_lock)(struct store *s, const char *id);
	/* Writer: how many keys user_id has (*count), and whether kid is
	 * one of them (*have). */
	int (*key_count)(struct store *s, const char *user_id,
	    const char *kid, int64_t *count, int *have);
	/* Whether the database answers now (reconnecting if it can):
	 * STORE_OK or STORE_ERROR. NULL: always (an embedded one). */
	int (*ping)(struct store *s);

	/* ---- identity (schema 3) ---- */
	/*
	 * Whether a new account's name of skeleton skel (names.h) clashes:
	 * STORE_OK when free; STORE_CLASH when an account's name has that
	 * skeleton (clash receives it); STORE_RESTING when an account of
	 * such a name was deleted after since (clash receives its name,
	 * *deleted_at when). With on_writer, on the writer's connection,
	 * inside the job's transaction (the check that counts); else on a
	 * reading one.
	 */
	int (*name_clash)(struct store *s, int on_writer, const char *skel,
	    int64_t since, char clash[STORE_NAME_MAX + 1],
	    int64_t *deleted_at);
	/* Whether the key id kid may be published by user_id: STORE_OK;
	 * STORE_TAKEN when another account holds it; STORE_RESTING when an
	 * account deleted after since held it (*deleted_at when). */
	int (*kid_clash)(struct store *s, int on_writer, const char *kid,
	    const char *user_id, int64_t since, int64_t *deleted_at);
	/* Writer: before user id is deleted, its name's skeleton and its
	 * key ids rest (deleted at now); rows of a rest that ended before
	 * purge_before go. */
	int (*quarantine_user)(struct store *s, const char *id, int64_t now,
	    int64_t purge_before);
	/* Reader: calls fn once per group of two or more accounts whose
	 * names have one skeleton, with their names in byte order. */
	int (*name_groups)(struct store *s, void (*fn)(void *arg,
	    const char *const *names, size_t n), void *arg);
	/* Writer: before user id withdraws its key kid, the key id rests
	 * (deleted at now), so that no other account takes it at once; rows
	 * of a rest that ended before purge_before go. */
	int (*quarantine_key)(struct store *s, const char *id,
	    const char *kid, int64_t now, int64_t purge_before);

	/* ---- several servers on one database (issue 12) ---- */
	/* Writer: sets key to value, whether it was there or not (a token
	 * secret and its check replaced by --secret-rotate). NULL in a
	 * backend that has none yet: the rotation is refused there. */
	int (*meta_set)(struct store *s, const char *key,
	    const uint8_t *value, size_t len);

	/* Messages stored by other processes on the database: fn(arg,
	 * recipient id) for each, called on a thread of the backend's own
	 * from listen until close or a listen with fn NULL, which returns
	 * once no more call comes (PostgreSQL's LISTEN/NOTIFY). A
	 * notification may be lost (a connection remade): the waiters' poll
	 * is the fallback. NULL: the backend cannot (SQLite). */
	int (*listen)(struct store *s, void (*fn)(void *arg,
	    const char *user_id), void *arg, struct report *rep);

	/* ---- limits shared by every server on the database (schema 4) */
	/* Writer: key's row, held until the transaction ends, so that no
	 * other writer counts it meanwhile. None: STORE_NOT_FOUND, or a
	 * row of zeros that expired at once (made to be held: PostgreSQL). */
	int (*limit_get)(struct store *s, const char *key, double *n,
	    int64_t *t, int64_t *expires);
	/* Writer: sets key's row, meaningless from expires on. */
	int (*limit_put)(struct store *s, const char *key, double n,
	    int64_t t, int64_t expires);
	/* Writer: deletes up to max rows whose expires is before now (none
	 * another writer holds); *deleted receives how many. */
	int (*limit_sweep)(struct store *s, int64_t now, size_t max,
	    size_t *deleted);

	/* ---- prekeys (schema 5): a key's go with it (withdrawn, or its
	 * account deleted) ---- */
	/* One entry per key user_id has published, in the order of keys(),
	 * with its prekeys' count: on the writer (inside its transaction)
	 * or a reading connection. */
	int (*prekey_stock)(struct store *s, int on_writer,
	    const char *user_id, struct store_prekey_stock_list *out);
	/* Writer: adds p under user_id's key kid; STORE_CONFLICT when kid
	 * has a prekey of that pkid already (nothing changed). */
	int (*prekey_put)(struct store *s, const char *user_id,
	    const char *kid, const struct store_prekey *p);
	/* Writer: deletes kid's signed prekey, if it has one. */
	int (*prekey_signed_drop)(struct store *s, const char *kid);
	/* Writer: how many one-time prekeys kid has. */
	int (*prekey_count)(struct store *s, const char *kid, int64_t *n);
	/* Writer: kid's signed prekey (kind STORE_PREKEY_SIGNED) into out;
	 * or its oldest one-time one, deleted in the same transaction, so
	 * that no other claim, of this process or another, gets it.
	 * STORE_EMPTY when there is none. */
	int (*prekey_claim)(struct store *s, const char *kid, int kind,
	    struct store_prekey *out);

	/* ---- mailbox counters (schema 6) ---- */
	/* The count and bytes of bodies of user_id's messages, as the
	 * database keeps them beside the user (changed in the transaction
	 * of every message stored or deleted, whatever deletes it): on the
	 * writer (inside its transaction) or a reading connection.
	 * STORE_NOT_FOUND when there is no such user. */
	int (*mailbox_usage)(struct store *s, int on_writer,
	    const char *user_id, int64_t *count, int64_t *bytes);

	/* ---- a send in one go (issue 12's bench) ---- */
	/* Optional (store_send): the sender's rate l (STORE_LIMIT_RATE,
	 * per_s > 0) taken on key as store_limit_take would, then the
	 * message stored as store_message_put_within would, without a
	 * round trip of its own: the backend may learn the result only
	 * after the job's release (settle), and then writes *wait_s (a
	 * STORE_LIMITED's) there, before the job's done(). With
	 * from_version, the sender (m->from_id) must be there at that
	 * token version, in the same statement: else STORE_REVOKED. A
	 * send refused leaves nothing written. As the job's first write
	 * it may go without the job's savepoint: a job refused after a
	 * send that stored then fails its whole transaction (a send is its
	 * job's last write). NULL: store_send takes them in turn. */
	int (*send)(struct store *s, const struct store_limit *l,
	    const char *key, int64_t now_ms, unsigned *wait_s,
	    const struct store_message *m, const int64_t *from_version,
	    const char *to_id, size_t max_messages, size_t max_bytes);

	/* Its message_put_within needs no user_lock before it (SQLite: the
	 * writer's transaction holds the whole database, and the
	 * mailbox's counters read from the recipient's row say it is gone,
	 * STORE_NOT_FOUND): store_message_put_within skips that
	 * statement. */
	int put_finds_user;
};

extern const struct store_backend store_sqlite;
extern const struct store_backend store_pg;

/* The backend for --db where: PostgreSQL for a postgres:// or
 * postgresql:// URL, else SQLite (a file's path). */
const struct store_backend *store_backend_for(const char *where);

struct store {
	const struct store_backend *be;
	void *impl;		/* the backend's */
	struct store_writer *writer;
	/* A database server that went away (store_lost): 1 while no
	 * connection to it is known to work, and when it was last lost. */
	int down;
	int64_t lost_ms;
	/* 1 from a write refused for want of disk space until a commit
	 * succeeds again (store_nospace, store_space_back). */
	int full;
	unsigned limit_puts;	/* the writer's, since its last sweep */
};

/* Backends: a connection was lost (or could not be made); one works
 * again. */
void store_lost(struct store *s);
void store_regained(struct store *s);
/* Backends: a write was refused for want of space (what and detail:
 * the statement and the database's message, its first len bytes, or all
 * of it when len < 0); logs it once, when the disk becomes full, and
 * returns STORE_NOSPACE. A commit went through:
 * logs once that writes work again. */
int store_nospace(struct store *s, const char *what, const char *detail,
    int len);
void store_space_back(struct store *s);
/* Whether a failure now is likely the database's absence (down, or lost
 * within the last seconds): the answer is then 503, try again. */
int store_unavailable(struct store *s);
/* Hears of messages that other processes store (the backend's listen);
 * 0 at once when the backend cannot, or -1 (said in rep). fn NULL: stops
 * hearing (before what fn touches goes). */
int store_listen(struct store *s, void (*fn)(void *arg, const char *user_id),
    void *arg, struct report *rep);

/* A waiting receiver's look again: to_id's messages as messages()
 * gives them, or STORE_NOT_FOUND when to_id is gone or its token
 * version is no longer version (signed out meanwhile, maybe through
 * another server). One round trip to the database where the backend can
 * (messages_for): a receiver woken across servers waits for it. */
int store_messages_for(struct store *s, const char *to_id, int64_t version,
    const char *from, const char *after, size_t limit,
    struct store_message_list *out);

/* Whether the database answers now (GET /healthz). */
int store_ping(struct store *s);

/* On the writer in a job: whether user id is still there with token
 * version version (a request's sender, read at its headers, whose body
 * took a while): STORE_OK, STORE_NOT_FOUND (deleted or signed out
 * meanwhile), STORE_ERROR. Read in the job's transaction, it sees every
 * sign-out committed before the job's own commit. */
int store_user_current(struct store *s, const char *id, int64_t version);

/* The rules common to every backend, on the writer in a job: the
 * recipient's row held (STORE_NOT_FOUND when gone), then
 * message_put_within. */
int store_message_put_within(struct store *s, const struct store_message *m,
    const char *to_id, size_t max_messages, size_t max_bytes);
/* The user's row held, the cap of STORE_KEYS_MAX keys (STORE_CONFLICT),
 * then key_put. */
int store_key_put(struct store *s, const char *user_id,
    const struct store_key *k);

/*
 * The rules of publishing prekeys, on the writer in a job: the user's
 * row held; kid must be one of user_id's keys (else STORE_NOT_FOUND);
 * signed (may be NULL) replaces its signed prekey; each of the n
 * one-time prekeys not there yet is added (*added counts them), unless
 * the key's stock of one-time prekeys would then be over max:
 * STORE_FULL (the job's savepoint undoes what it added). *stock
 * receives the stock after (or before a STORE_FULL).
 */
int store_prekeys_put(struct store *s, const char *user_id, const char *kid,
    const struct store_prekey *signed_pk, const struct store_prekey *one_time,
    size_t n, size_t max, size_t *added, int64_t *stock);

/*
 * Limits shared by every server on the database: the rules (store.c)
 * over the backend's limit_ rows, on the writer in a job, so that what a
 * client meets is the sum of what every server counted. Times are
 * milliseconds of the wall clock (store_limit_now_ms: the servers'
 * clocks agree, as tokens' expiry needs anyway). A row means nothing
 * once it expires (a bucket full again, a window over, a backoff
 * forgotten), and the writers sweep such rows as they count.
 */
enum { STORE_LIMIT_RATE, STORE_LIMIT_WINDOW, STORE_LIMIT_BACKOFF };

struct store_limit {
	int kind;
	double per_s, burst;	/* a rate: per_s tokens a second, burst at
				 * most */
	unsigned limit;		/* a window, a backoff: counts free */
	unsigned window;	/* seconds: a window's length; a backoff's
				 * longest wait (forgotten after twice it) */
	unsigned base;		/* seconds: a backoff's first wait */
};

int64_t store_limit_now_ms(void);
/* One of key: a token of a rate, or a count of a window or a backoff
 * (refused once the limit is reached, until the window ends or the wait
 * is over). STORE_OK; STORE_LIMITED with *wait_s the whole seconds until
 * it may pass (at least 1); STORE_ERROR. */
int store_limit_take(struct store *s, const struct store_limit *l,
    const char *key, int64_t now_ms, unsigned *wait_s);
/* A send on the writer in a job: with from_version, the sender
 * (m->from_id) still there at that token version (STORE_REVOKED when
 * deleted or signed out since its token was read: a slow body, T4),
 * then a token of the sender's rate l taken on key (store_limit_take:
 * STORE_LIMITED with *wait_s), then the message stored within the
 * recipient's quota (store_message_put_within). The backend may do all
 * with one statement whose answer it reads after the job's release:
 * *wait_s must stay valid until the job's done(). */
int store_send(struct store *s, const struct store_limit *l,
    const char *key, int64_t now_ms, unsigned *wait_s,
    const struct store_message *m, const int64_t *from_version,
    const char *to_id, size_t max_messages, size_t max_bytes);
/* Gives back one taken (a token, a count). STORE_OK or STORE_ERROR. */
int store_limit_give(struct store *s, const struct store_limit *l,
    const char *key, int64_t now_ms);
/* Forgets key's counts (a backoff after a success). */
int store_limit_clear(struct store *s, const char *key);

/* Opens the store and starts its writer thread. Returns 0, or -1 (said
 * in rep). */
int store_open(struct store *s, const struct store_backend *be,
    const char *where, struct report *rep);
/* Finishes the queued jobs, stops the writer and closes the store. */
void store_close(struct store *s);

/* A write, queued to the writer thread. run() executes the job's
 * statements (on the writer, in a savepoint) and returns a STORE_ code;
 * done() is then called on the writer thread once the transaction has
 * committed (result as run() said) or failed (STORE_ERROR). */
struct store_job {
	int (*run)(struct store *s, struct store_job *j);
	void (*done)(struct store_job *j, int result);
	struct store_job *next;
};

void store_submit(struct store *s, struct store_job *j);

/* Group commit (issue 14): after the first job of a transaction, the
 * writer waits up to delay_us for more while under_way(arg) says
 * requests that may bring one are under way, and commits once nothing
 * is, the delay is over or the batch is full: one fdatasync for more
 * sends under load, none of that wait for a lone one. delay_us 0 (the
 * default after store_open): at once. under_way is called on the
 * writer thread until store_close. */
void store_commit_delay(struct store *s, unsigned delay_us,
    unsigned (*under_way)(void *arg), void *arg);

/* Transactions committed since store_open, and the jobs they held. */
void store_commit_counts(struct store *s, uint64_t *commits,
    uint64_t *jobs);

/* Nanoseconds the writer spent in commits (the flush: fdatasync for
 * SQLite) since store_open, failed ones included. */
uint64_t store_commit_ns(struct store *s);

/* Runs a job and waits for it (for start-up and tests, not requests). */
int store_run(struct store *s, struct store_job *j);

/* Generates a new random id (a user id) or a new time-ordered id (a
 * message id: ids compare as strings in the order they were made). */
int store_new_id(char out[STORE_ID_LEN + 1]);
int store_new_ordered_id(char out[STORE_ID_LEN + 1]);
/* The id of the first 130 bits of b (a message id orders by them: 48
 * bits of milliseconds first). */
void store_id_encode(const uint8_t b[17], char out[STORE_ID_LEN + 1]);
/* Returns 1 when s has the form of an id. */
int store_is_id(const char *s);

#endif
