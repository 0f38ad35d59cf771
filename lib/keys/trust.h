/*
 * trust.h - what e2e-decrypt's stream mode decides about each message
 * beyond its cryptography, from the keyring and the replay cache:
 *
 * - verified only when the signature is valid and by a key pinned for
 *   the record's "from" (a server that lies about senders is caught:
 *   a message signed by a key pinned for someone else is flagged), a
 *   key that the keyring pins for no other name and that is not my own,
 *   and when the signed names say the sender is "from" and the message
 *   is for me (a forwarded message is flagged, naming who signed it for
 *   whom); a message without signed names is verified with a warning;
 * - a second copy of a signed message (same sender and jti, delivered
 *   as another message: a saved inbox read again is no replay), or one
 *   signed outside the accepted window, is dropped (E4);
 * - once a contact has sent a verified signed JWE, a seed-format message
 *   claiming to come from them is refused as a possible downgrade (L2).
 */
#ifndef E2E_TRUST_H
#define E2E_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "base/report.h"
#include "format/message.h"

struct trust;

/* How the signer's key of one record was found (trust_prepare), for
 * trust_judge. */
enum trust_via {
	TRUST_VIA_NONE = 0,	/* not looked up: --verify, or unsigned */
	TRUST_VIA_FROM,		/* pinned for the record's usable from */
	TRUST_VIA_OTHER,	/* pinned for owner, not (usably) for from */
};

/*
 * One record's lookup of its signer: the caller keeps one per record
 * being opened, so that records may be opened on several threads at
 * once (the lookups only read the keyring, which nothing changes while
 * records are opened: trust_shown marks a contact, which no lookup
 * reads). Zeroed before trust_prepare; trust_lookup_free after
 * trust_judge.
 */
struct trust_lookup {
	struct trust *t;
	const char *from;	/* the record's sender */
	EVP_PKEY *key;		/* the signer's key handed out, freed later */
	enum trust_via via;
	const char *owner;	/* TRUST_VIA_OTHER: whose key it is */
};

/* Reads the keyring and opens the replay cache of the client's home.
 * me is my account name (lib/keys/myname.h), or NULL when unknown; own_kid
 * my identity's key id (the reader's key). Returns 0 or an exit code
 * (reported in rep, with the replay cache's warnings). */
int trust_open(const char *me, const char *own_kid, struct trust **out,
    struct report *rep);

/* Before opening a record from "from": the signer is looked up among
 * from's pinned keys (o->signer_key), the result kept in l (which, like
 * from, must outlive the opening and trust_judge). Safe on several
 * threads at once, each with its own l and o. */
void trust_prepare(struct trust *t, struct trust_lookup *l, const char *from,
    struct open_opts *o);

/* Frees what l holds (the signer's key). */
void trust_lookup_free(struct trust_lookup *l);

/*
 * After the record (the server's message msg_id) opened, its signer
 * looked up with l (trust_prepare; l NULL when it was not, as with
 * --verify): 0 to show it,
 * with warning (wsize bytes) set when something is off (unverified, and
 * why; or verified without signed names) and m->verified cleared when
 * the message is not verified as from "from" and for me (warning is a
 * field of the output line, not a diagnostic); or 65 to drop it, why
 * reported in rep. now is the time.
 */
int trust_judge(struct trust *t, const struct trust_lookup *l,
    const char *from, const char *msg_id, struct message *m, int64_t now,
    char *warning, size_t wsize, struct report *rep);

/* After the record was shown: remembers its jti, and that from signs.
 * Returns 0 or an exit code (reported in rep). */
int trust_shown(struct trust *t, const char *from, const char *msg_id,
    const struct message *m, struct report *rep);

void trust_close(struct trust *t);

#endif
