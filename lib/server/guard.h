/*
 * guard.h - the state that keeps one account, one address or one
 * mailbox from starving, locking out or exhausting the others (issue 9;
 * docs/SERVER.md, "Accounts, mailboxes and rates"): the sign-in
 * throttles and rates, the bcrypt workers and their queue, the send
 * rates, the bcrypt costs in use.
 */
#ifndef E2E_GUARD_H
#define E2E_GUARD_H

#include "server/httpd.h"

/* Sets up s's guards from s->cfg, once the store is open (the costs of
 * the stored hashes are counted). Returns 0 or an exit code (said in
 * rep, or by the store in the log). */
int guard_start(struct server *s, struct report *rep);

/* Frees them, after the workers and the store have stopped. */
void guard_stop(struct server *s);

/* The key of a sign-in's name and address for the failure backoff: a
 * digest, so that a long name cannot push the address out of a key.
 * Returns 0 or -1. */
int guard_pair_key(const char *name, const char *addr, char out[48]);

/*
 * The limits every server on the database shares (store.h, "Limits
 * shared"): the in-memory ones above are each server's fast front (and
 * the sign-ins' queue); these decide. Each runs on the writer in a job:
 * STORE_OK; STORE_LIMITED with r->retry_after set (answer 429);
 * STORE_ERROR (answer 503: never let a request through uncounted).
 */
/* The send's own job: the sender still at its token's version when
 * r->sender_in_job, a token of the sender's send rate (A3), then m
 * stored within the recipient's quota (store_send): STORE_OK,
 * STORE_LIMITED, the store's refusals (STORE_REVOKED, STORE_NOT_FOUND,
 * STORE_FULL), STORE_ERROR with r->shared -1. */
int guard_send_put(struct store *st, struct req *r,
    const struct store_message *m, const char *to_id, size_t max_messages,
    size_t max_bytes);
/* A token of the caller's rate of one-time prekeys claimed (A13):
 * STORE_LIMITED leaves r->shared as it was (the claim answers signed
 * prekeys only). guard_prekey_give gives one back (none was left). */
int guard_prekey_take(struct store *st, struct req *r);
int guard_prekey_give(struct store *st, struct req *r);
/* A sign-up's job before its bcrypt: a count of its address. */
int guard_signup_run(struct store *st, struct store_job *j);
/*
 * A sign-in's job before its check (A5, A8): the attempt counted as a
 * failure of its name and address (backoff) and of its address
 * (window), so that attempts in flight on every server count; a token of
 * its account's and its address's rates of successful sign-ins.
 */
int guard_signin_run(struct store *st, struct store_job *j);

/* After the check, before the answer (so that the client's next attempt,
 * through any server, meets them): settles the counts of what became of
 * the attempt (r->busy: not checked; r->ok: signed in; else failed), as
 * guard_signin_end says. */
int guard_signin_settle(struct store *st, struct store_job *j);

/* What became of a sign-in guard_signin_run let through. */
enum { GUARD_SIGNED_IN, GUARD_FAILED, GUARD_UNCOUNTED };
/* Queues the job that settles its counts: a success clears the pair and
 * takes back the address's count; a failure gives back the rate tokens;
 * an attempt that was not checked (the queue full) takes back both
 * counts and gives back the tokens. Its own job (r may be gone by then):
 * until it commits, the counts are the stricter ones. */
void guard_signin_end(struct req *r, int outcome);

#endif
