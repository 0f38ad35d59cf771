/*
 * directory.h - the server's key directory seen from the client:
 * publishing one's public keys, and fetching a contact's keys into the
 * keyring with trust on first use (keyring.h).
 */
#ifndef E2E_DIRECTORY_H
#define E2E_DIRECTORY_H

#include "client.h"
#include "keyring.h"
#include "passphrase.h"

/*
 * Publishes the public half of the key in keyfile (a public key file, or
 * a private key file, protected or not, through ps). kid receives its
 * id. Returns 0 or an exit code (reported).
 */
int directory_publish(struct client *c, const char *keyfile,
    const struct passphrase_src *ps, char kid[KID_SIZE]);

/*
 * Fetches name's keys, checks each (its id recomputed from the key, the
 * same checks as every tool) and offers them to the keyring. *result is
 * a keyring_offer_result (a change is for the caller to refuse, with
 * keyring_usable). Returns 0; 65 when name has no valid key (reported);
 * or the codes of api.h. The keyring is saved.
 */
int directory_fetch(struct client *c, struct keyring *k, const char *name,
    int *result);

#endif
