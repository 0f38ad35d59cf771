/*
 * keyproof.h - proofs of possession for the key directory (docs/KEYS.md,
 * "The proof of possession"): a compact JWS (RFC 7515) made with the
 * private key of the key it proves, over claims that bind the key to one
 * account of one server:
 *
 *   protected header  {"alg":"PS256","typ":"e2e-key-proof+jwt","kid":KID}
 *   payload           {"sub":USER_ID,"name":NAME,"kid":KID,
 *                      "aud":SERVER_URL,"iat":SECONDS}
 *
 * PS256 is RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt, so
 * any JOSE library can check a proof. The server checks each proof when
 * a key is published (with the time); e2e-keys fetch checks it again,
 * against the name it asked for, before it pins the key.
 */
#ifndef E2E_KEYPROOF_H
#define E2E_KEYPROOF_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "base/buf.h"
#include "base/names.h"
#include "format/jwk.h"

#define KEYPROOF_TYP "e2e-key-proof+jwt"
#define KEYPROOF_MAX (8 * 1024)	/* bytes of a proof: 4096-bit keys fit */
#define KEYPROOF_SKEW 300	/* seconds iat may be off, at publishing */
#define KEYPROOF_URL_MAX 256	/* a server URL, with its NUL */

/*
 * The form of a server URL that aud holds and that is compared: the
 * scheme (http or https) and the host in lower case, the port kept
 * unless it is the scheme's default (80, 443) and written without
 * leading zeros, the path as given without its trailing '/'s. Refuses
 * (-1) anything else: another scheme, no host, a user, query or
 * fragment, spaces or control characters, a port over 65535, a result
 * longer than KEYPROOF_URL_MAX - 1. Returns 0.
 */
int keyproof_url(const char *url, char out[KEYPROOF_URL_MAX]);

/*
 * Makes the proof that priv's holder publishes it for the account (id,
 * name) of the server aud (normalised here) at time iat. Appends the
 * compact JWS to out, NUL-terminated. Returns 0 or an exit code
 * (in rep): 64 (aud is not a server URL), 70.
 */
int keyproof_make(EVP_PKEY *priv, const char *id, const char *name,
    const char *aud, int64_t iat, struct buf *out, struct report *rep);

enum keyproof_result {
	KEYPROOF_OK = 0,
	KEYPROOF_MALFORMED = 1,	/* not a key proof at all */
	KEYPROOF_OTHER_KEY = 2,	/* made by, or for, another key */
	KEYPROOF_OTHER_USER = 3,	/* for another name or account id */
	KEYPROOF_OTHER_SERVER = 4,	/* for another server URL */
	KEYPROOF_TOO_OLD = 5,	/* iat more than skew seconds ago */
	KEYPROOF_FUTURE = 6,	/* iat more than skew seconds ahead */
};

/* What a proof must say. */
struct keyproof_want {
	const char *id;		/* the account's id */
	const char *name;	/* the account's name */
	const char *aud;	/* the server's URL, normalised (keyproof_url) */
	int64_t now;		/* checked against iat when skew >= 0 */
	int64_t skew;		/* -1: iat is not checked (at fetch time) */
};

/* What a proof said (filled as far as it could be read). */
struct keyproof_claims {
	char sub[ID_LEN + 1];
	char name[NAME_LEN_MAX + 1];
	char kid[KID_SIZE];
	char aud[KEYPROOF_URL_MAX];
	int64_t iat;
};

/*
 * Checks proof (len bytes) for the public key pub whose id is kid: a
 * compact JWS whose protected header is exactly {alg: PS256, typ, kid},
 * signed by pub, whose payload holds exactly the five claims with kid's
 * value, then sub, name, aud and iat against want, in that order.
 * Returns a keyproof_result; unless OK, one error in rep (code 65, or 70
 * when out of memory) says what is wrong in words that follow
 * "the proof " (e.g. "is for the server https://a, not for https://b"):
 * a caller quotes report_message() in its own sentence. got may be NULL.
 */
int keyproof_check(const char *proof, size_t len, EVP_PKEY *pub,
    const char *kid, const struct keyproof_want *want,
    struct keyproof_claims *got, struct report *rep);

/*
 * Shared with the prekey proofs (prekeyproof.h), which are key proofs
 * with more claims: a proof's form is its typ, the noun its refusals use
 * ("is not a key proof: ..."), and every claim it may hold (the five
 * included; NULL-terminated).
 */
struct keyproof_form {
	const char *typ;
	const char *noun;
	const char *const *members;
};

extern const struct keyproof_form keyproof_key_form;

/* keyproof_make for a proof of typ whose claims are the five followed
 * by extra's members in its order (extra may be NULL). */
int keyproof_sign(EVP_PKEY *priv, const char *typ, const char *id,
    const char *name, const char *aud, int64_t iat, const json_t *extra,
    struct buf *out, struct report *rep);

/* keyproof_check for a proof of form: with KEYPROOF_OK, *claims (when
 * not NULL) receives the claims object, for the caller to check its own
 * members and json_decref. */
int keyproof_open(const char *proof, size_t len, EVP_PKEY *pub,
    const char *kid, const struct keyproof_form *form,
    const struct keyproof_want *want, struct keyproof_claims *got,
    json_t **claims, struct report *rep);

#endif
