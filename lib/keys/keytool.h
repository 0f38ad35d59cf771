/*
 * keytool.h - what e2e-keys decides about the keyring without the
 * network (its commands, which talk to the server, are net/keycmd.h):
 * a contact as the tool prints it, and the keys one key pins for two
 * people; whether the keys compared are still those pinned; the safety
 * number's inputs (my half from my own key only); a key to import, as
 * PEM or as the text of a QR code; and whether an argument names a
 * contact or a file.
 */
#ifndef E2E_KEYTOOL_H
#define E2E_KEYTOOL_H

#include <jansson.h>
#include <openssl/evp.h>

#include "keys/keyring.h"

/* The key ids of v (n keys) as a JSON array; NULL when out of memory. */
json_t *keytool_kids_json(const struct keyring_key *v, size_t n);

/* A contact as e2e-keys prints it:
 *   {"name","keys":[KID],"pending":[KID],"verified","changed"}
 * (changed: keys are pending). NULL when out of memory. */
json_t *keytool_contact_json(const struct keyring_contact *kc);

/*
 * The same for list, flagging what a keyring made before the rule "one
 * key, one person" may hold: a key of kc also pinned for other names
 * ("same_key_as": those names; each pair warned of once, from the first
 * name in byte order) or my own key ("my_key": true, warned); the
 * warnings go to rep.
 */
json_t *keytool_list_json(struct keyring *k, const struct keyring_contact *kc,
    struct report *rep);

/* 1 when name's pinned keys are, in order, those of shown["keys"] (what
 * keytool_contact_json printed when the user compared). */
int keytool_same_keys(struct keyring *k, const char *name,
    const json_t *shown);

/*
 * Warns (in rep) of each key id the directory lists for me (listed: its answer,
 * [{"kid":...}], or NULL) that is not my_kid: another device of mine, or
 * a key put there in my name. It is not in the safety number.
 */
void keytool_warn_other_keys(const char *my_kid, const json_t *listed,
    struct report *rep);

/*
 * The safety number of me (my_kid: my identity's key id, which this
 * machine holds; never the directory's word for my keys, or a server
 * that lied to both sides could make the two numbers match) and the
 * contact kc (its pinned keys), as show prints it: kc's
 * keytool_contact_json with "my_keys":[my_kid] and "safety_number".
 * Returns 0 or an exit code (reported): 65 (a refused input), 70.
 */
int keytool_safety(const char *me, const char *my_kid,
    const struct keyring_contact *kc, json_t **out, struct report *rep);

/*
 * Reads a key to import for name from file: the text of an e2e-keys QR
 * code (QR_PREFIX, or zbarimg's "QR-Code:" before it), which must not
 * name someone else; else a PEM public key. Sets key->kid and key->pem
 * (the canonical PEM, the caller frees) and *pk (the caller frees it,
 * also after a refusal). Returns 0 or an exit code (reported): 65, 66,
 * 70.
 */
int keytool_read_import(const char *name, const char *file,
    struct keyring_key *key, EVP_PKEY **pk, struct report *rep);

/* What qr's argument names: 1 for a contact (no such file, and a valid
 * user name), 0 for a key file. */
int keytool_is_contact(const char *arg);

#endif
