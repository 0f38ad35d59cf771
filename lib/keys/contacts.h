/*
 * contacts.h - who a message is for, or from, as the user names them:
 * a public key file ("-", a path with a '/', a name ending in .pub, .pem
 * or .key, or any file that exists), or else a contact's name,
 * whose keys are the keyring's (keyring.h). Before using a name, the
 * keys are compared with the key directory by running "e2e-keys fetch"
 * (so e2e-encrypt and e2e-decrypt never link libcurl); when the
 * directory cannot be asked (not signed in, no network), the pinned keys
 * are used as they are.
 */
#ifndef E2E_CONTACTS_H
#define E2E_CONTACTS_H

#include <stddef.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "base/names.h"
#include "base/report.h"
#include "format/jwe.h"
#include "format/jwk.h"
#include "format/message.h"
#include "keys/keyring.h"

struct contact {
	char name[NAME_LEN_MAX + 1];	/* empty for a key file */
	size_t n;
	EVP_PKEY *pub[KEYRING_KEYS_MAX];
	char kid[KEYRING_KEYS_MAX][KID_SIZE];
};

enum {
	CONTACT_REFRESH = 1,	/* ask the directory first (e2e-keys fetch) */
	CONTACT_BY_NAME = 2,	/* arg is a name, even if a file has it */
};

/*
 * Resolves arg (what the user typed after -r or --verify). Returns 0, or
 * an exit code (reported in rep): 66 (neither a readable file nor a
 * contact), 65 (a changed key, or a key the keyring also pins for
 * another name: refused), 67 (a name the server does not know, with no
 * key pinned), and those of keyfile_load_public. With CONTACT_REFRESH,
 * e2e-keys fetch, which this runs, says what it has to say on stderr
 * itself (a changed key) before this returns.
 */
int contact_resolve(const char *arg, int flags, struct contact *out,
    struct report *rep);

/*
 * The recipients' keys of a message, from args (n of them: what the
 * user typed after each -r), each resolved with CONTACT_REFRESH: a key
 * file's key, or every key of a contact (one per device). r[i] gets
 * each key (the caller frees r[i].pub, for i < *nr, also after a
 * failure) and names[i] its contact's name ("" for a key file). A key
 * given twice, or more than max keys, is a usage error (64, reported).
 * Returns 0 or an exit code (reported in rep), as contact_resolve.
 */
int contact_recipients(const char *const *args, size_t n,
    struct jwe_recipient *r, char (*names)[NAME_LEN_MAX + 1], size_t max,
    size_t *nr, struct report *rep);

/*
 * What a message's signature must be when c (from --verify) vouches for
 * it, set in o: by c's key; or, for a contact with several keys (one
 * per device), by any of them (what, size bytes, names them in
 * messages); and, for a contact, signed with c's name as the sender's.
 * o then points into c and what, which must outlive its use.
 */
void contact_verify_opts(struct contact *c, struct open_opts *o, char *what,
    size_t size);

void contact_free(struct contact *c);

/*
 * Runs "e2e-keys fetch --quiet NAME" (next to this program, else on
 * PATH) and returns its exit status (-1 when it cannot be run).
 */
int contact_refresh(const char *name);

/*
 * Runs "e2e-keys claim --quiet --pinned NAME" the same way, after
 * contact_resolve with CONTACT_REFRESH (the keys just compared with the
 * directory check the proofs: the directory is asked once), its output
 * (prekey records, one a line: prekeys.h; at most CONTACT_CLAIM_MAX
 * bytes) into out. Returns its exit status (-1 when it cannot be run):
 * 0, 65 for a refused proof (said on stderr by it), else the server
 * could not be asked.
 */
#define CONTACT_CLAIM_MAX (64 * 1024)
int contact_claim(const char *name, struct buf *out);

#endif
