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
 * e2e-recv's and e2e-chat's top-up: when the user publishes prekeys
 * (HOME/prekeys.json exists) and the config's identity key opens
 * without a passphrase, prekeydir_publish with the defaults (100, under
 * 50, a week). Whatever goes wrong is dropped: it never fails a
 * receive, and says nothing.
 */
void prekeydir_refill(struct client *c);

#endif
