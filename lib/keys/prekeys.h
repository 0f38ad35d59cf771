/*
 * prekeys.h - the client's private X25519 prekeys (forward secrecy,
 * docs/FORMAT.md section 11): HOME/prekeys.json, mode 0600, written via
 * a temporary file and rename under a lock (HOME/prekeys.lock), as the
 * keyring.
 *
 *   {"version":1,"identities":{IKID:{
 *      "signed":[{"pkid","x","d","created","published","retired"}],
 *                                                   current: retired 0
 *      "one_time":[{"pkid","x","d","created","published","used_at",
 *                   "erase_at"}],
 *      "erased":[PKID,...]}}}                    tombstones of erased keys
 *
 * Each prekey belongs to one identity key (IKID, its RFC 7638 kid). A
 * one-time prekey is marked used when a message to it has been shown,
 * and erased once used_at + the grace has passed: its entry leaves the
 * file (rewritten), its bytes are wiped in memory, and its pkid stays
 * as a tombstone so that a message to it is told apart from one to an
 * unknown key. A signed prekey replaced by a new one is retired, and
 * erased once retired + the grace has passed, leaving a tombstone too.
 */
#ifndef E2E_PREKEYS_H
#define E2E_PREKEYS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/names.h"
#include "base/report.h"
#include "format/jwe.h"
#include "format/jwk.h"
#include "format/x25519.h"

/* At most this many prekeys, and tombstones, in the file. */
#define PREKEYS_MAX 4096
#define PREKEYS_TOMBSTONES_MAX 65536
/* One batch of one-time prekeys: the default and the most. */
#define PREKEYS_BATCH 100
#define PREKEYS_BATCH_MAX 1000
/* The default grace between a one-time prekey's use and its erasure. */
#define PREKEYS_GRACE_DEFAULT ((int64_t)7 * 24 * 3600)

struct prekeys;

/* A prekey's public half, as published. */
struct prekey_public {
	char ikid[KID_SIZE];
	char pkid[KID_SIZE];
	enum jwe_fs kind;
	uint8_t x[X25519_LEN];
};

/*
 * Reads HOME/prekeys.json (none: an empty store). With for_update, takes
 * the lock first and keeps it until prekeys_close. A file others may
 * read or change, a link, or a malformed file is refused (78). Returns 0
 * or an exit code (in rep).
 */
int prekeys_open(const char *home, int for_update, struct prekeys **out,
    struct report *rep);

/*
 * Makes n prekeys of kind for the identity key ikid, created now: for
 * JWE_FS_SIGNED n is 1, and the current signed prekey is retired. The
 * public halves go to out (n entries) when not NULL. Returns 0 or an
 * exit code (in rep: 65 past PREKEYS_MAX).
 */
int prekeys_generate(struct prekeys *p, const char *ikid, enum jwe_fs kind,
    size_t n, int64_t now, struct prekey_public *out, struct report *rep);

/* The public halves of ikid's prekeys not yet published (ikid NULL: of
 * every identity), at most max into out; returns how many there are.
 * Neither a used one-time prekey nor a retired signed one is listed. */
size_t prekeys_unpublished(const struct prekeys *p, const char *ikid,
    struct prekey_public *out, size_t max);

/* Marks the prekey pkid published. Returns 0, or -1 when unknown. */
int prekeys_mark_published(struct prekeys *p, const char *pkid);

struct prekeys_stock {
	size_t one_time;	/* unused one-time prekeys */
	size_t unpublished;	/* of which not yet published */
	size_t used;		/* used, waiting for their erasure */
	size_t erased;		/* tombstones */
	int has_signed;		/* a current signed prekey */
	char signed_pkid[KID_SIZE];
	int64_t signed_created;
};
void prekeys_stock(const struct prekeys *p, const char *ikid,
    struct prekeys_stock *s);

/*
 * The private prekey pkid of identity ikid (jwe.h's lookup): 0 with out
 * filled, 1 for an erased one-time prekey, -1 when unknown. Reads only:
 * safe from several threads while nothing changes p.
 */
int prekeys_find(const struct prekeys *p, const char *ikid, const char *pkid,
    struct jwe_prekey *out);

/* jwe_reader's lookup over a struct prekeys_view. */
struct prekeys_view {
	const struct prekeys *p;
	const char *ikid;
};
int prekeys_lookup(void *view, const char *pkid, struct jwe_prekey *out);

/* Marks the one-time prekey pkid used at now, to be erased after grace
 * (a signed prekey, or one marked already, is left as it is). Returns 0,
 * or -1 when unknown. */
int prekeys_mark_used(struct prekeys *p, const char *pkid, int64_t now,
    int64_t grace);

/* Erases every one-time prekey used at or before now - grace or whose
 * erase_at has come, and every signed prekey retired at or before now -
 * grace (wiped; a tombstone for each). Returns how many were erased. */
size_t prekeys_sweep(struct prekeys *p, int64_t now, int64_t grace);

/* Writes the file when something changed (needs for_update). Returns 0
 * or an exit code (in rep). */
int prekeys_save(struct prekeys *p, struct report *rep);

/* Wipes every private key held, releases the lock. */
void prekeys_close(struct prekeys *p);

/*
 * The whole cycle of a shown message, under the lock, with the file
 * read again (another process may have changed it): the one-time prekey
 * pkid marked used at now, then the sweep of grace. Nothing to do when
 * home has no prekeys.json. Returns 0 or an exit code (in rep).
 */
int prekeys_used(const char *home, const char *pkid, int64_t now,
    int64_t grace, struct report *rep);

/* The sweep alone, the same way (e2e-decrypt's start). */
int prekeys_sweep_file(const char *home, int64_t now, int64_t grace,
    struct report *rep);

/*
 * A claimed prekey record, one JSON object:
 *   {"name":NAME,"kid":IKID,"kind":"one-time"|"signed",
 *    "prekey":{"kty":"OKP","crv":"X25519","x":X},"pkid":PKID}
 * what e2e-encrypt --prekey reads, e2e-keygen --prekeys prints, and
 * e2e-keys claim prints once it has checked the prekey's proof. Read
 * strictly: exactly these members, pkid the thumbprint of the prekey.
 * Returns 0, or 65 with the reason in rep.
 */
struct prekey_record {
	char name[NAME_LEN_MAX + 1];
	struct prekey_public pk;
};
int prekeys_record_read(const char *text, size_t len,
    struct prekey_record *r, struct report *rep);

/* The record of pk for name; NULL when out of memory. */
json_t *prekeys_record_json(const char *name, const struct prekey_public *pk);

/*
 * e2e-encrypt --prekey: the recipient of r (nr keys, names[i] its name,
 * "" for a key file) whose identity kid is a record's kid gets the
 * record's prekey (r[i].fs set). Refused (in rep): a record for no
 * recipient, two for one key (64), a record whose name is not the
 * recipient's (65). Returns 0 or that exit code.
 */
int prekeys_apply(struct jwe_recipient *r, size_t nr,
    char (*names)[NAME_LEN_MAX + 1], const struct prekey_record *rec,
    size_t nrec, const char *const *what, struct report *rep);

/* "one-time" or "signed". */
const char *prekeys_kind_name(enum jwe_fs kind);

#endif
