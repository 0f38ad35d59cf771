/*
 * prekeydir.h - the server's prekey directory seen from the client
 * (forward secrecy, docs/FORMAT.md section 11; docs/SERVER.md,
 * "Prekeys"): keeping one's stock of prekeys published, and claiming a
 * contact's prekeys with each proof checked against the identity key
 * pinned for them.
 */
#ifndef E2E_PREKEYDIR_H
#define E2E_PREKEYDIR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "base/report.h"
#include "keys/keyring.h"
#include "keys/prekeys.h"
#include "net/client.h"

/* The default age past which the signed prekey is replaced: a week. */
#define PREKEYDIR_SIGNED_MAX_AGE ((int64_t)7 * 86400)

struct prekeydir_opts {
	size_t count;		/* the one-time stock wanted (1 to
				 * PREKEYS_BATCH_MAX) */
	size_t low;		/* topped up only below this */
	int64_t signed_max_age;	/* a signed prekey older is replaced */
	int first;		/* only a first batch: nothing made when the
				 * server holds a prekey of the key, or
				 * does not list the key (not published:
				 * then *out stays NULL) */
};

/*
 * Keeps the identity key priv's prekeys published: reads the stock the
 * server holds (GET /prekeys); when it has fewer one-time prekeys than
 * o->low, makes (HOME/prekeys.json) and uploads as many as bring it to
 * o->count, and a new signed prekey when it has none or one older than
 * o->signed_max_age. Prekeys made by an earlier run and not published
 * (its upload failed) are sent first. Each is marked published only
 * once the server said 200. *out receives {"kid","one_time","signed",
 * "added"}: the stock after. Returns 0 or an exit code (in rep).
 */
int prekeydir_publish(struct client *c, EVP_PKEY *priv,
    const struct prekeydir_opts *o, json_t **out, struct report *rep);

/*
 * Claims name's prekeys (GET /prekeys/NAME): for each key pinned for
 * name in k, the one-time prekey handed out, else the signed one, its
 * proof checked with that pinned key (sub the answer's id, name, aud
 * this server; a signed prekey no older than PREKEY_SIGNED_MAX_AGE).
 * A key the answer has no prekey for, or one not pinned, gets none.
 * *out receives the array of prekey records (prekeys.h), pks (when not
 * NULL; KEYRING_KEYS_MAX entries) the same prekeys, *npk of them, and
 * *signed_only
 * how many are signed prekeys because the stock was empty (or the claim
 * rate passed). Returns 0, or 65 loudly when a proof fails (a prekey
 * the server made, or another key's), or the codes of api.h.
 */
int prekeydir_claim(struct client *c, struct keyring *k, const char *name,
    json_t **out, struct prekey_public *pks, size_t *npk,
    size_t *signed_only, struct report *rep);

/*
 * Whether the config lets the tools publish prekeys by themselves
 * ("prekeys = no" says not; "yes" or nothing, they do): 1, 0, or -1
 * for another value (said in rep when not NULL).
 */
int prekeydir_wanted(const struct client *c, struct report *rep);

/*
 * e2e-keys publish's and e2e-account signup --key's: publishes priv
 * (directory_publish, kid receiving its id), then, unless prekeys is
 * 0 (--no-prekeys), a first batch: PREKEYS_BATCH one-time prekeys and
 * a signed one (HOME/prekeys.json created) when the server holds no
 * prekey of it and the config does not say "prekeys = no". The batch
 * never fails the publication: what went wrong is one warning in rep,
 * with the fix (e2e-keys prekeys). *one_time receives the server's
 * count of one-time prekeys after it (a reference the caller drops),
 * or NULL when none was published. Returns 0 or directory_publish's
 * exit code.
 */
int prekeydir_publish_key(struct client *c, EVP_PKEY *priv, int prekeys,
    char kid[KID_SIZE], json_t **one_time, struct report *rep);

/*
 * e2e-recv's and e2e-chat's top-up, when the config's identity key
 * opens without a passphrase (a protected key cannot sign proofs
 * unattended) and the config does not say "prekeys = no": with
 * HOME/prekeys.json, prekeydir_publish with the defaults (100, under
 * 50, a week); without it, a first batch when the key is published and
 * the server holds no prekey of it. Whatever goes wrong is dropped: it
 * never fails a receive, and says nothing. Returns 1 when it published
 * (the store may have changed: read it again), else 0.
 */
int prekeydir_refill(struct client *c);

/* The same with the private key priv, opened by the caller (e2e-chat's,
 * which asked its passphrase at start, if any): the prekeys are priv's. */
int prekeydir_refill_key(struct client *c, EVP_PKEY *priv);

#endif
