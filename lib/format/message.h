/*
 * message.h - a chat message: sign-then-encrypt on the way out, and on
 * the way in every check of docs/FORMAT.md in its order, for both the
 * JWE envelope and the original (seed) format.
 */
#ifndef E2E_MESSAGE_H
#define E2E_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "base/fileio.h"
#include "base/names.h"
#include "base/report.h"
#include "format/aead.h"
#include "format/jwe.h"
#include "format/jwk.h"

/* The one message for every failure to decrypt (no oracle). */
#define MESSAGE_CANNOT_DECRYPT \
	"cannot decrypt: the message is malformed, was altered, or is not " \
	"for this key"

struct seal_opts {
	const struct aead_alg *enc;	/* jwe_enc_by_name() */
	const struct jwe_recipient *r;
	size_t nr;
	EVP_PKEY *signer;		/* NULL: not signed */
	const char *signer_kid;
	/*
	 * The names signed with the key ids (docs/FORMAT.md section 4):
	 * the sender's account name ("sub"), and one name per recipient
	 * key, in the order of r ("aud_names"; "" for a key given as a
	 * file). NULL: no names are signed (the sender's name is unknown).
	 */
	const char *sender_name;
	const char *const *recipient_names;
};

/*
 * Writes the envelope of pt to out: when signer is set, a PS256 JWS over
 * pt whose protected header names the sender's key id, every recipient's
 * key id, the time and a random message id (and, with sender_name, the
 * sender's and the recipients' names), encrypted as a JWE with cty
 * "e2e-msg+jws"; otherwise pt encrypted as it is. Returns 0 or an exit
 * code (in rep).
 */
int message_seal(const struct seal_opts *o, const uint8_t *pt, size_t len,
    struct sink *out, struct report *rep);

/* The same for a plaintext read from src piece by piece (jwe.h's
 * jwe_encrypt_source): signed or not, memory stays a few MiB. */
int message_seal_source(const struct seal_opts *o, const struct source *src,
    struct sink *out, struct report *rep);

enum message_format { MESSAGE_JWE = 1, MESSAGE_SEED = 2 };

struct open_opts {
	EVP_PKEY *key;			/* the reader's private key */
	const char *kid;		/* its key id */
	EVP_PKEY *verify;		/* require a signature by this key, or NULL */
	const char *verify_kid;
	/*
	 * Without verify: the signer's public key looked up by its key id
	 * (in a keyring), or NULL when unknown; the callback keeps the key
	 * (and frees it later). A key found must verify the signature, or
	 * the message is refused; an unknown signer leaves the message
	 * unverified, or refused with require_signer (as is an unsigned
	 * one).
	 */
	EVP_PKEY *(*signer_key)(void *arg, const char *kid);
	void *signer_arg;
	int require_signer;
	const char *signer_what;	/* "alice's pinned keys", in messages */
	/*
	 * The contact's name given with --verify NAME (NULL for a key file,
	 * or without --verify): a message that signs another sender's name
	 * ("sub") is refused.
	 */
	const char *verify_name;
	/* The reader's private prekeys (jwe.h's struct jwe_reader), or
	 * NULL: only RSA-OAEP-256 entries for key are read. */
	int (*prekey)(void *arg, const char *pkid,
	    struct jwe_prekey *out);
	void *prekey_arg;
};

/* The most of a list of recipients' names kept for messages. */
#define MESSAGE_NAMES_SHOWN 200

struct message {
	enum message_format format;
	const uint8_t *pt;		/* the plaintext, valid until message_free */
	size_t pt_len;
	int is_signed;
	int verified;			/* signature checked against opts.verify */
	char signer_kid[KID_SIZE];
	int64_t iat;
	char jti[129];
	/*
	 * The names the signature carries (FORMAT.md section 4), when
	 * named: the sender's ("sub"); the name given with the reader's
	 * key id in "aud_names" ("" when it was given as a key file); and
	 * the recipients' names for messages ("mallory, carol", each name
	 * once, "a key file" for "", shortened with "..." when long).
	 */
	int named;
	char sub[NAME_LEN_MAX + 1];
	char name_for_me[NAME_LEN_MAX + 1];
	char aud_names[MESSAGE_NAMES_SHOWN];
	struct buf all_names;		/* every aud_names entry, each ended
					 * by NUL (message_names_include) */
	int verify_by_name;		/* opts.verify_name was given */
	const char *enc;		/* content algorithm name */
	size_t nrecipients;
	int uncommitted_group;		/* see jwe_result */
	int seed_same_keys;		/* see seed_result */
	enum jwe_fs fs;			/* to a prekey: its kind */
	char fs_pkid[KID_SIZE];		/* that prekey's id */
	struct buf own;			/* holds the plaintext */
	uint64_t file_pt_len;		/* message_open_file's plaintext */
};

/*
 * Opens the envelope text (len bytes, not modified; it may be a read-only
 * mapping of a file). The plaintext is decrypted into m's own buffer.
 * Returns 0, or 65 (the message was refused: rep's error, terminal-safe,
 * and maybe a hint say why, and there is no plaintext) or 70 (in rep).
 */
int message_open_text(const struct open_opts *o, const uint8_t *text,
    size_t len, struct message *m, struct report *rep);

/*
 * Opens the envelope in the regular file in, writing the plaintext to out
 * (a temporary file the caller commits only on 0) without holding the
 * message: the text outside the ciphertext (at most MESSAGE_FILE_REST
 * bytes) is parsed, and the ciphertext read once from the file in
 * pieces, its tag checked before anything is committed; a signed
 * message's JWS is hashed and its payload decoded into out as it is
 * decrypted, in the same pass (jws.h, jws_scan), and checked once the
 * tag matched, with the refusals of message_open_text. m says
 * everything but the plaintext (m->pt is NULL; m->file_pt_len its
 * length). Returns as message_open_text, or MESSAGE_OPEN_WHOLE, with
 * out left empty and nothing said, for an input to be read whole
 * instead: one that is no JWE with its ciphertext written plainly (the
 * seed format, a ciphertext with escapes, anything refused, which
 * message_open_text says in its own words).
 */
#define MESSAGE_OPEN_WHOLE (-1)
#define MESSAGE_FILE_REST ((size_t)1 << 20)
int message_open_file(const struct open_opts *o, struct infile *in,
    struct outfile *out, struct message *m, struct report *rep);

/* The same for an envelope held in a buffer. */
int message_open(const struct open_opts *o, struct buf *in,
    struct message *m, struct report *rep);

/* Says in rep what a reader should know besides the plaintext: not
 * signed, signed but not verified (by whom, when, as whom), the seed
 * format's weaknesses; for a verified message, that its sender's name is
 * not signed (--verify NAME), or that it names a sender a key file
 * cannot vouch for (--verify FILE). */
void message_report(const struct message *m, struct report *rep);

/*
 * A seed message's plaintext is Latin-1 text: makes m->pt its UTF-8
 * form, for showing (the Latin-1 bytes are wiped). Any other message, or
 * an empty one, is left as it is. Returns 0 or 70 (out of memory, nothing
 * said: the caller reports it, report_oom).
 */
int message_seed_utf8(struct message *m);

/* 1 when name is among the recipients' names the message signs. */
int message_names_include(const struct message *m, const char *name);

/* Wipes and releases what message_open kept. */
void message_free(struct message *m);

#endif
