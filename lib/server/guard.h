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

#endif
