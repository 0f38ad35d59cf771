/*
 * chat.h - what e2e-chat does with one conversation, beside the
 * terminal: a line or a file sealed for the contact's pinned keys and
 * signed (as e2e-encrypt -r NAME), a received message opened and judged
 * as e2e-decrypt's stream mode judges a record (keys/stream.h), shown
 * escaped; files received saved under HOME/downloads, never over
 * another; and the safety number of the conversation (as e2e-keys
 * show).
 */
#ifndef E2E_CHAT_H
#define E2E_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "base/buf.h"
#include "base/report.h"
#include "format/records.h"
#include "keys/contacts.h"
#include "keys/prekeys.h"
#include "keys/safety.h"
#include "net/client.h"

/*
 * A file sent with /file: the plaintext is this line, a NUL, the file's
 * name (its last path component), a NUL, then the file's bytes. Its NULs
 * make e2e-decrypt's stream mode show it as "data", never as text.
 */
#define CHAT_FILE_MAGIC "e2e-chat file v1"
#define CHAT_FILE_NAME_MAX 255

/* The keys of a conversation: mine (to sign) and the contact's pinned
 * ones (to encrypt for, resolved once when the chat starts). */
struct chat_keys {
	EVP_PKEY *sk;			/* my identity */
	char kid[KID_SIZE];		/* its key id */
	const char *me;			/* my account name */
	struct contact peer;		/* the contact's pinned keys */
};

/*
 * The contact's keys as the keyring pins them now are still those the
 * chat started with: 0; or 65, the loud refusal in rep, when they
 * changed (or the contact was forgotten) meanwhile, so that nothing is
 * sent to keys the user has not seen.
 */
int chat_keys_unchanged(const struct chat_keys *k, struct report *rep);

/* Appends to env the envelope of pt (len bytes) for the contact's keys,
 * signed with mine and with both names (docs/FORMAT.md section 4), as
 * e2e-encrypt -r NAME writes it: with c (not NULL), each key's prekey
 * claimed from its server (forward secrecy; a refused proof is 65, the
 * server out of reach RSA-OAEP-256). *fs is set when every key got a
 * prekey. Returns 0 or an exit code (in rep). */
int chat_seal(const struct chat_keys *k, struct client *c, const uint8_t *pt,
    size_t len, struct buf *env, int *fs, struct report *rep);

/* The plaintext of a file message (CHAT_FILE_MAGIC): name's last path
 * component and the data, into pt (a secret buffer). 0 or 70. */
int chat_file_wrap(const char *name, const uint8_t *data, size_t len,
    struct buf *pt, struct report *rep);

/* 1 when pt is a file message: *data and *dlen then point at its bytes
 * in pt, and name (size bytes) holds its name, made safe for a file
 * name in a folder (no path, no leading dot, no control character, at
 * most CHAT_FILE_NAME_MAX bytes; "file" when nothing is left). 0
 * otherwise. */
int chat_file_unwrap(const uint8_t *pt, size_t len, char *name,
    size_t size, const uint8_t **data, size_t *dlen);

/*
 * Saves data as a new file named name (chat_file_unwrap's) in the
 * folder dir (created 0700), mode 0600, never over a file that is there:
 * "name", else "name-1.ext", "name-2.ext" ... The path is written to
 * path (size bytes). Returns 0 or an exit code (in rep).
 */
int chat_save_file(const char *dir, const char *name, const uint8_t *data,
    size_t len, char *path, size_t size, struct report *rep);

/*
 * Sorts a page of api_list's messages (oldest first) for the
 * conversation of me with peer: after (ID_LEN + 1 bytes) gets the last
 * id, for the next page to start after it, so that a message left for
 * e2e-recv is not listed again; the messages from peer to me go, in
 * order, into mine (at most max, pointers into page); the others are
 * counted by sender into others ({"name": count}); a message for
 * another user is skipped. Returns how many went into mine.
 */
size_t chat_sort_page(const json_t *page, const char *me, const char *peer,
    char *after, const json_t **mine, size_t max, json_t *others);

/* The notice of who else wrote (others, from chat_sort_page) into out:
 * "carol (2), dave (1) wrote to you; read it with e2e-recv", or "" when
 * no one did. */
void chat_others_text(const json_t *others, char *out, size_t size);

/* The record of a message as api_list gives it (id, from, sent_at and
 * the envelope, a string), for stream_open_record; r points into m. */
void chat_record(const json_t *m, struct record *r);

/*
 * Appends to out the text p (len bytes) as it may be shown on a
 * terminal: every control character (but newline), bidirectional mark
 * and invalid byte escaped (term_escape), newlines kept, a last newline
 * dropped. NUL-terminated. Returns 0 or 70 (out of memory).
 */
int chat_escape(const uint8_t *p, size_t len, struct buf *out);

/*
 * What the terminal shows for the opened message m from peer, appended to
 * out (NUL-terminated, escaped: chat_escape): its text; or, for a file
 * message (chat_file_unwrap), or a plaintext that is not UTF-8 text (a
 * file without a name, saved as "from-PEER.bin"), the file saved in the
 * folder downloads (chat_save_file) when it is at most max bytes, and a
 * line that says so: "[file NAME, N bytes, saved as PATH]", or why it
 * was not saved. Returns 0, or 70 (out of memory, in rep).
 */
int chat_present(const struct message *m, const char *peer,
    const char *downloads, size_t max, struct buf *out, struct report *rep);

/* The safety number of me and the contact, as e2e-keys show NAME
 * computes it (from my identity's key id and the pinned ones). */
int chat_safety(const struct chat_keys *k, char out[SAFETY_NUMBER_SIZE],
    struct report *rep);

/*
 * My private prekeys for reading (e2e-decrypt's way): the grace from the
 * config's fs_grace (else 7 days) into *grace, the config's prekeys
 * checked (yes or no: prekeydir_wanted), the store's expired entries
 * swept, then the store opened read-only into *p (NULL when there is
 * none). Returns 0 or an exit code (in rep: 78 for a bad config value).
 */
#define CHAT_FS_GRACE_MAX ((long long)10 * 365 * 86400)	/* e2e-decrypt's */
int chat_prekeys_open(struct client *c, struct prekeys **p, int64_t *grace,
    struct report *rep);

#endif
