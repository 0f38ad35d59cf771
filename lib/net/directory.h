/*
 * directory.h - the server's key directory seen from the client:
 * publishing one's public keys, and fetching a contact's keys into the
 * keyring with trust on first use (keyring.h).
 */
#ifndef E2E_DIRECTORY_H
#define E2E_DIRECTORY_H

#include "base/passphrase.h"
#include "format/keyproof.h"
#include "keys/keyring.h"
#include "net/client.h"

/* This client's server URL, as key and prekey proofs name it (aud).
 * Returns 0, or 64 reported. */
int directory_server_url(struct client *c, char url[KEYPROOF_URL_MAX],
    struct report *rep);

/*
 * Publishes the public key of the private key priv with its proof of
 * possession (keyproof.h: made with priv, for the session's account id
 * and name and this server's URL, now). kid receives its id. Returns 0
 * or an exit code (reported).
 */
int directory_publish(struct client *c, EVP_PKEY *priv, char kid[KID_SIZE],
    struct report *rep);

/* keyring_open, then my own key (the config's identity, when its key id
 * can be known without a passphrase: keyfile_public_kid) set as never
 * to be pinned for a contact, only under my own name (the session's,
 * else the config's name; keyring_set_own). */
int directory_keyring_open(struct client *c, int for_update,
    struct keyring **k, struct report *rep);

/*
 * Fetches name's keys, checks each (its id recomputed from the key, the
 * same checks as every tool; its proof of possession made by that key,
 * for name, for the account id the answer gives, for this server), then
 * opens the keyring (locked, *kp, which the caller closes; never locked
 * across the network) and offers them. A key without a proof (published
 * before proofs) is not pinned unless it is pinned already. *result is
 * a keyring_offer_result (a change is for the caller to refuse, with
 * keyring_usable). Returns 0; 65 (reported in rep, with the warnings of
 * keys left unpinned) when name has no valid key,
 * a proof is refused, or a key is another contact's or mine; or the
 * codes of api.h and keyring_open. The keyring is saved.
 */
int directory_fetch(struct client *c, const char *name, struct keyring **kp,
    int *result, struct report *rep);

#endif
