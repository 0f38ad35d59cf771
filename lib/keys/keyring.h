/*
 * keyring.h - the public keys of the people one writes to, pinned on
 * first use (TOFU), as ssh's known_hosts: HOME/keyring.json, mode 0600,
 * written atomically under a lock (HOME/keyring.lock).
 *
 *   {"version":1,"contacts":{"bob":{
 *      "keys":[{"kid","pem","added_at","source"}],   pinned: used
 *      "pending":[{"kid","pem","seen_at"}],          offered, not trusted
 *      "verified":false,"verified_at":0,             compared in person
 *      "signed_seen":false}}}                        a verified JWE came
 *
 * The first keys seen for a name are pinned. When the directory later
 * offers a key that is not pinned, it is kept as pending and the contact
 * is "changed": every tool refuses the name (keyring_usable) until the
 * user accepts the new keys: the pinned keys are then those the directory
 * listed (a replaced key goes, a second device's key joins). A key that
 * disappears from the directory is no alarm (a device retired); it stays
 * pinned until forgotten or a change is accepted.
 */
#ifndef E2E_KEYRING_H
#define E2E_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "base/names.h"
#include "base/report.h"
#include "format/jwk.h"

#define KEYRING_KEYS_MAX 16

struct keyring_key {
	char kid[KID_SIZE];
	char *pem;		/* SubjectPublicKeyInfo PEM */
	int64_t at;		/* added (pinned) or seen (pending) */
	char source[16];	/* "directory", "import", "accepted" */
	int unlisted;		/* pinned, but not in the directory's last list */
};

struct keyring_contact {
	char name[NAME_LEN_MAX + 1];
	struct keyring_key keys[KEYRING_KEYS_MAX];
	size_t nkeys;
	struct keyring_key pending[KEYRING_KEYS_MAX];
	size_t npending;
	int verified;
	int64_t verified_at;
	int signed_seen;
};

struct keyring;

/*
 * Reads HOME/keyring.json (an empty keyring when there is none). With
 * for_update, takes the lock first and keeps it until keyring_close, so
 * that read-modify-write cycles of two processes do not interleave.
 * Returns 0 or an exit code (reported in rep): 78 (malformed file,
 * refused permissions), 73.
 */
int keyring_open(const char *home, int for_update, struct keyring **out,
    struct report *rep);

/* The contact called name, or NULL. */
struct keyring_contact *keyring_find(struct keyring *k, const char *name);

/* The contacts, in name order. */
size_t keyring_count(const struct keyring *k);
struct keyring_contact *keyring_at(struct keyring *k, size_t i);

enum keyring_offer_result {
	KEYRING_PINNED = 1,	/* first seen: pinned */
	KEYRING_SAME = 2,	/* all offered keys are pinned already */
	KEYRING_CHANGED = 3,	/* a key not pinned: kept pending */
	KEYRING_REFUSED = 4,	/* a key is another contact's, or mine:
				 * nothing changed (65, reported) */
};

/*
 * My own key (the identity's), which the keyring never pins under a
 * contact's name: label names it in refusals (my name, or the file).
 * me is my own account name, or NULL when unknown: my key may be pinned
 * under it (a note to myself by name is no contact). Up to
 * KEYRING_OWN_MAX keys; later ones are ignored.
 */
#define KEYRING_OWN_MAX 4
void keyring_set_own(struct keyring *k, const char *kid, const char *label,
    const char *me);

/* The label of my own key kid (keyring_set_own) when name, which it is
 * or would be pinned for, is not my own name; else NULL. */
const char *keyring_own(const struct keyring *k, const char *kid,
    const char *name);

/* A contact other than name that has kid pinned, or NULL. */
const char *keyring_other_name(struct keyring *k, const char *kid,
    const char *name);

/* 1 when contact c (may be NULL) has kid pinned. */
int keyring_pins(const struct keyring_contact *c, const char *kid);

/*
 * The contacts other than skip (NULL: none skipped) that have kid
 * pinned: the first max of their names (in name order) into names[],
 * and how many there are in all. One key is one person: more than one
 * is a keyring of the previous version (or one edited by hand).
 */
size_t keyring_names_of(struct keyring *k, const char *kid,
    const char *skip, const char **names, size_t max);

/*
 * What the directory says name's keys are (each checked by the caller:
 * kid is the key's thumbprint). Pins them when name is new; otherwise
 * records keys that are not pinned as pending. A key pinned for another
 * contact, or my own, is refused: one key is one person (I1). Sets
 * *result; returns 0, 65 (KEYRING_REFUSED: reported in rep, with both
 * names) or 70 (out of memory, reported).
 */
int keyring_offer(struct keyring *k, const char *name,
    const struct keyring_key *keys, size_t n, int64_t now,
    enum keyring_offer_result *result, struct report *rep);

/* Makes the keys the directory listed last (the pending ones, and the
 * pinned ones it still listed) name's pinned keys (the user compared
 * them), and the contact unverified again. Returns 0, or 65 (reported)
 * when nothing is pending, or a pending key is another contact's or
 * mine. */
int keyring_accept(struct keyring *k, const char *name, int64_t now,
    struct report *rep);

/* Pins one key for name, given by the user (import): adds it, or
 * creates the contact; a pending key with this id is no longer pending.
 * Returns 0, 65 (too many keys; the key is another contact's or mine)
 * or 70 (out of memory), reported. */
int keyring_import(struct keyring *k, const char *name,
    const struct keyring_key *key, int64_t now, struct report *rep);

/* Marks name verified (after comparing the safety number in person).
 * Returns 0, or 65 (reported, with a hint) when name has no pinned key. */
int keyring_verify(struct keyring *k, const char *name, int64_t now,
    struct report *rep);

/* Removes name. Returns 0, or 65 (reported) when unknown. */
int keyring_forget(struct keyring *k, const char *name, struct report *rep);

/* Notes that a verified signed JWE from name was shown (for the
 * downgrade check of the seed format). */
void keyring_mark_signed(struct keyring *k, const char *name);

/* 1 when the keyring knows name: keys pinned or pending. */
int keyring_known(struct keyring *k, const char *name);

/*
 * Whether name's keys may be used: 0 when pinned and nothing pending;
 * 66 when name is unknown (keyring_known: reported as "NAME is not in
 * your keyring", which a caller that says more drops); 65 when its key
 * changed, reported loudly with both key ids and what to do.
 */
int keyring_usable(struct keyring *k, const char *name, struct report *rep);

/* The pinned key of name with key id kid, parsed (caller frees), or
 * NULL. */
EVP_PKEY *keyring_key_of(struct keyring *k, const char *name,
    const char *kid);

/* Any pinned key with key id kid, and whose it is (or NULL). */
EVP_PKEY *keyring_any_key(struct keyring *k, const char *kid,
    const char **name);

/* Writes the keyring back when it changed. Returns 0 or an exit code
 * (reported). */
int keyring_save(struct keyring *k, struct report *rep);

void keyring_close(struct keyring *k);

#endif
