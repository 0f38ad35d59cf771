/*
 * jwe.h - the envelope: a JWE (RFC 7516) in the general JSON
 * serialization, key management RSA-OAEP-256, or ECDH-ES+A256KW to an
 * X25519 prekey for a forward-secret recipient (section 11), content
 * encryption A256CBC-HS512 (default) or A256GCM. docs/FORMAT.md is the
 * reference.
 *
 * Written here rather than with a JOSE library: Debian's libjose cannot
 * do RSA-OAEP with OpenSSL 3, and a reader this strict (fixed algorithm
 * list, exact lengths, duplicate and disjointness checks, caps before any
 * cryptography, implicit rejection of failed unwraps) is small enough to
 * own and audit.
 */
#ifndef E2E_JWE_H
#define E2E_JWE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "base/buf.h"
#include "base/fileio.h"
#include "format/aead.h"
#include "format/jwk.h"
#include "format/x25519.h"

#define JWE_ALG "RSA-OAEP-256"
#define JWE_MAX_RECIPIENTS 256
#define JWE_MAX_PROTECTED (16 * 1024)	/* decoded bytes */
/* The content type of a plaintext that is an inner signed message. */
#define JWE_CTY_SIGNED "e2e-msg+jws"

/* What a reader says of a message to a one-time prekey it has erased. */
#define JWE_ERASED "this message was sent to a one-time key that has " \
	"been used and erased"

/* Forward secrecy of the entry a reader used (FORMAT.md section 11). */
enum jwe_fs { JWE_FS_NONE = 0, JWE_FS_ONE_TIME = 1, JWE_FS_SIGNED = 2 };

/*
 * One recipient: the identity key (pub, its kid, which the inner
 * signature names); with fs, the entry is ECDH-ES+A256KW to the X25519
 * prekey of that identity (its id pkid is the entry's "kid") instead of
 * RSA-OAEP-256 to pub.
 */
struct jwe_recipient {
	EVP_PKEY *pub;
	char kid[KID_SIZE];
	int fs;
	uint8_t prekey[X25519_LEN];
	char pkid[KID_SIZE];
};

/*
 * A reader's keys: its identity key, and its private prekeys, looked up
 * by pkid (keys/prekeys.h), all of that identity. The lookup returns 0
 * with out filled (the caller wipes it), 1 for a one-time prekey erased
 * (a tombstone: the message gets JWE_ERASED), -1 for a pkid it does not
 * know. It may be called from several threads at once (stream mode).
 */
struct jwe_prekey {
	uint8_t priv[X25519_LEN];
	enum jwe_fs kind;
};
struct jwe_reader {
	EVP_PKEY *priv;
	const char *kid;
	int (*prekey)(void *arg, const char *pkid, struct jwe_prekey *out);
	void *prekey_arg;
};

/* The content algorithms a message may use ("A256CBC-HS512", "A256GCM");
 * NULL for any other name. */
const struct aead_alg *jwe_enc_by_name(const char *name);

/*
 * Encrypts pt under a fresh content key wrapped once per recipient and
 * writes the envelope (one JSON object, then "\n") to out. cty is the
 * content type header, or NULL. Returns 0 or an exit code (in rep).
 * The content key is wiped before returning.
 */
int jwe_encrypt(const struct aead_alg *enc, const char *cty,
    const struct jwe_recipient *r, size_t nr, const uint8_t *pt,
    size_t pt_len, struct sink *out, struct report *rep);

/*
 * The same for a plaintext read from src piece by piece: the envelope's
 * members come in the order header, recipients, iv, ciphertext, tag, so
 * the ciphertext goes out as it is made and memory stays a few MiB
 * whatever the size. On failure part of an envelope may have been
 * written to out (a temporary file, or a pipe whose reader finds no tag).
 */
int jwe_encrypt_source(const struct aead_alg *enc, const char *cty,
    const struct jwe_recipient *r, size_t nr, const struct source *src,
    struct sink *out, struct report *rep);

struct jwe_result {
	const struct aead_alg *enc;
	int signed_content;	/* cty said JWE_CTY_SIGNED */
	size_t nrecipients;
	int uncommitted_group;	/* A256GCM, several recipients, no commitment */
	enum jwe_fs fs;		/* the entry used was to a prekey */
	char pkid[KID_SIZE];	/* that prekey's id */
	uint8_t *pt;		/* points into the ciphertext buffer */
	size_t pt_len;
};

/*
 * Decrypts a parsed envelope obj for the private key priv (whose key id
 * is own_kid). The ciphertext is given separately as its base64url text
 * ct (ct_len bytes, writable): it is decoded and decrypted in place, and
 * res->pt points into it.
 *
 * Returns 0; 65 when the message cannot be decrypted, with rep holding
 * an error only for failures visible before any cryptography (a
 * structural problem, an algorithm not accepted, no entry for this key)
 * and nothing for every cryptographic failure, which must all look the
 * same; or 70, with the error in rep.
 */
int jwe_decrypt(const json_t *obj, char *ct, size_t ct_len, EVP_PKEY *priv,
    const char *own_kid, struct jwe_result *res, struct report *rep);

/*
 * jwe_decrypt in steps, for a ciphertext read from a file: prepare makes
 * every check before the content decryption and unwraps the content key
 * (same returns as jwe_decrypt; on 65 after the unwrap a random key has
 * taken its place, and the content decryption fails); the caller then
 * decrypts (jwe_open_file) and frees.
 */
struct jwe_open {
	const struct aead_alg *enc;
	uint8_t cek[AEAD_MAX_KEY];
	uint8_t iv[AEAD_MAX_IV];
	uint8_t tag[AEAD_MAX_TAG];
	struct buf aad;
	size_t nrecipients;
	int uncommitted_group;
	int signed_content;
	enum jwe_fs fs;
	char pkid[KID_SIZE];
};
int jwe_open_prepare(const json_t *obj, EVP_PKEY *priv, const char *own_kid,
    struct jwe_open *jo, struct report *rep);
/* The same with the reader's prekeys too. */
int jwe_open_prepare_with(const json_t *obj, const struct jwe_reader *rd,
    struct jwe_open *jo, struct report *rep);
void jwe_open_free(struct jwe_open *jo);

/*
 * Decrypts the base64url ciphertext at [off, off + len) of the regular
 * file in, writing the plaintext to plain, which must lead to a place
 * nobody sees until the caller commits it (an output's temporary file,
 * or a reader of the inner JWS that decodes into one): the file is read
 * once, the plaintext given to plain, in order, as it is decrypted (on
 * another thread than the caller's, one at a time; the last piece on
 * the caller's, after the others) and the tag checked at the end (CBC:
 * then the padding). Memory stays a few MiB. Returns 0 with *pt_len set;
 * 65 for any failure of the content decryption (nothing said: the caller
 * aborts the output); the exit code of a read or internal error (in
 * rep); or plain's first non-zero return (said where plain says it).
 */
int jwe_open_file(struct jwe_open *jo, struct infile *in, uint64_t off,
    uint64_t len, struct sink *plain, uint64_t *pt_len, struct report *rep);

/* The same, decoding the ciphertext text ct (left as it is) into out,
 * which needs b64url_declen(ct_len) bytes; res->pt points into out. */
int jwe_decrypt_into(const json_t *obj, const char *ct, size_t ct_len,
    uint8_t *out, EVP_PKEY *priv, const char *own_kid,
    struct jwe_result *res, struct report *rep);
int jwe_decrypt_into_with(const json_t *obj, const char *ct, size_t ct_len,
    uint8_t *out, const struct jwe_reader *rd, struct jwe_result *res,
    struct report *rep);

#endif
