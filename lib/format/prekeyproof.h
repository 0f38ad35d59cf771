/*
 * prekeyproof.h - the proofs of prekeys (docs/KEYS.md, "Prekeys"): an
 * X25519 public key (RFC 7748, as the JWK of RFC 8037) published for one
 * identity key, signed by that identity key so that a server cannot
 * hand out prekeys of its own making. A key proof (keyproof.h) with
 * three more claims:
 *
 *   protected header  {"alg":"PS256","typ":"e2e-prekey+jwt","kid":IKID}
 *   payload           {"sub":USER_ID,"name":NAME,"kid":IKID,
 *                      "aud":SERVER_URL,"iat":SECONDS,
 *                      "kind":"one-time"|"signed","pkid":PKID,"x":X}
 *
 * made in that order (any order is read, so that any JOSE library can
 * make one). The server checks each proof when a prekey is published,
 * against a key the account published; a client checks it against the
 * identity key it pinned for the name before it encrypts to the prekey.
 */
#ifndef E2E_PREKEYPROOF_H
#define E2E_PREKEYPROOF_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "base/report.h"
#include "format/jwk.h"
#include "format/keyproof.h"

#define PREKEYPROOF_TYP "e2e-prekey+jwt"
#define PREKEY_LEN 32		/* bytes of an X25519 public key */
#define PREKEY_X_LEN 43		/* its base64url, without padding */
#define PREKEY_X_SIZE (PREKEY_X_LEN + 1)
/* A client refuses a signed prekey made longer ago than this (a server
 * replaying a stale one): five weekly rotations. */
#define PREKEY_SIGNED_MAX_AGE (35 * 86400)

enum prekey_kind { PREKEY_ONE_TIME = 0, PREKEY_SIGNED = 1 };

/* "one-time" or "signed". */
const char *prekey_kind_name(int kind);

/*
 * The id of the X25519 public key whose base64url is x (len bytes): the
 * RFC 7638 thumbprint, B64U(SHA-256 of {"crv":"X25519","kty":"OKP",
 * "x":X}), 43 characters and a NUL. Returns 0, or -1 when x is not the
 * canonical base64url of 32 bytes (or out of memory).
 */
int prekey_pkid(const char *x, size_t len, char pkid[KID_SIZE]);

/* Returns 1 when x (len bytes) is the canonical base64url of 32 bytes. */
int prekey_x_valid(const char *x, size_t len);

/*
 * Makes the proof that the holder of the identity key priv publishes the
 * X25519 public key x (base64url) as a prekey of kind for the account
 * (id, name) of the server aud, at time iat. Appends the compact JWS to
 * out, NUL-terminated. Returns 0 or an exit code (in rep): 64 (aud is
 * not a server URL, x not a public key), 70.
 */
int prekeyproof_make(EVP_PKEY *priv, const char *id, const char *name,
    const char *aud, int64_t iat, int kind, const char *x, struct buf *out,
    struct report *rep);

/* Results beyond keyproof_check's (keyproof.h). */
enum {
	PREKEYPROOF_OTHER_KIND = 7,	/* a one-time prekey offered as the
					 * signed one, or the reverse */
	PREKEYPROOF_BAD_PREKEY = 8,	/* x is not an X25519 public key, or
					 * pkid is not its id */
};

/* What a prekey proof must say. */
struct prekeyproof_want {
	struct keyproof_want key;	/* sub, name, aud; iat against now
					 * within skew when skew >= 0 */
	int kind;			/* a prekey_kind, or -1: either */
	int64_t max_age;		/* > 0: a signed prekey's iat at most
					 * this long before key.now */
};

/* What it said (filled as far as it could be read). */
struct prekeyproof_claims {
	struct keyproof_claims key;
	int kind;
	char pkid[KID_SIZE];
	char x[PREKEY_X_SIZE];
};

/*
 * Checks proof (len bytes) for the identity public key pub whose id is
 * kid, as keyproof_check does (the header exactly {alg: PS256, typ,
 * kid}, signed by pub, the five claims against want->key), and then the
 * three of the prekey: kind, pkid and x only, x an X25519 public key and
 * pkid its id, kind as want says, and a signed prekey no older than
 * want->max_age. Returns a keyproof_result or one of the above; unless
 * OK, one error in rep (65, or 70 when out of memory) in words that
 * follow "the proof " (e.g. "is for a signed prekey, not a one-time
 * one"). got may be NULL.
 */
int prekeyproof_check(const char *proof, size_t len, EVP_PKEY *pub,
    const char *kid, const struct prekeyproof_want *want,
    struct prekeyproof_claims *got, struct report *rep);

#endif
