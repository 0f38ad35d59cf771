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
 * Publishes the public half of pk (see keyfile_load_public_half). kid
 * receives its id. Returns 0 or an exit code (reported).
 */
int directory_publish(struct client *c, EVP_PKEY *pk, char kid[KID_SIZE]);

/*
 * Fetches name's keys, checks each (its id recomputed from the key, the
 * same checks as every tool), then opens the keyring (locked, *kp, which
 * the caller closes; never locked across the network) and offers them.
 * *result is a keyring_offer_result (a change is for the caller to
 * refuse, with keyring_usable). Returns 0; 65 when name has no valid key
 * (reported); or the codes of api.h and keyring_open. The keyring is
 * saved.
 */
int directory_fetch(struct client *c, const char *name, struct keyring **kp,
    int *result);

#endif
