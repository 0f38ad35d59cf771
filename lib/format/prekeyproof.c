/* prekeyproof.c - the proofs of prekeys (see prekeyproof.h), key proofs
 * with three more claims: keyproof.c does the rest. */
#include "format/prekeyproof.h"
#include "base/err.h"
#include "base/jsonio.h"
#include "format/x25519.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

static const char *const members[] = { "sub", "name", "kid", "aud", "iat",
	"kind", "pkid", "x", NULL };

static const struct keyproof_form form = { PREKEYPROOF_TYP, "prekey proof",
	members };

const char *
prekey_kind_name(int kind)
{
	return kind == PREKEY_SIGNED ? "signed" : "one-time";
}

/* The prekey's x and id are x25519.c's (one reading of the key for the
 * proofs and the envelopes). */
int
prekey_x_valid(const char *x, size_t len)
{
	uint8_t pub[X25519_LEN];

	return memchr(x, '\0', len) == NULL &&
	    x25519_decode_x(x, len, pub) == 0;
}

int
prekey_pkid(const char *x, size_t len, char pkid[KID_SIZE])
{
	struct report rep = { 0 };	/* only failure: out of memory */
	uint8_t pub[X25519_LEN];

	pkid[0] = '\0';
	if (memchr(x, '\0', len) != NULL || x25519_decode_x(x, len, pub) != 0 ||
	    x25519_pkid(pub, pkid, &rep) != 0)
		return -1;
	return 0;
}

int
prekeyproof_make(EVP_PKEY *priv, const char *id, const char *name,
    const char *aud, int64_t iat, int kind, const char *x, struct buf *out,
    struct report *rep)
{
	char pkid[KID_SIZE];
	json_t *extra;
	int rc;

	if (prekey_pkid(x, strlen(x), pkid) != 0)
		return report_error(rep, E2E_EX_USAGE, "a prekey must be the "
		    "base64url of 32 bytes (an X25519 public key)");
	if ((extra = json_pack("{s:s,s:s,s:s}", "kind",
	    prekey_kind_name(kind), "pkid", pkid, "x", x)) == NULL)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	rc = keyproof_sign(priv, PREKEYPROOF_TYP, id, name, aud, iat, extra,
	    out, rep);
	json_decref(extra);
	return rc;
}

/* A refusal (65) in rep; returns result. */
static int
refuse(struct report *rep, int result, const char *why)
{
	report_error(rep, E2E_EX_DATAERR, "%s", why);
	return result;
}

/* The three claims of the prekey, into got. */
static int
check_prekey(const json_t *o, const struct prekeyproof_want *want,
    struct prekeyproof_claims *got, struct report *rep)
{
	const char *kind, *pkid, *x;
	size_t kind_len, pkid_len, x_len;
	char want_pkid[KID_SIZE];
	uint8_t pub[X25519_LEN];
	char why[160];

	kind = jsonio_str(o, "kind", &kind_len);
	pkid = jsonio_str(o, "pkid", &pkid_len);
	x = jsonio_str(o, "x", &x_len);
	if (kind == NULL || pkid == NULL || x == NULL)
		return refuse(rep, KEYPROOF_MALFORMED, "is not a prekey proof: "
		    "kind, pkid and x (strings) are needed");
	if (strcmp(kind, "one-time") == 0 && strlen(kind) == kind_len)
		got->kind = PREKEY_ONE_TIME;
	else if (strcmp(kind, "signed") == 0 && strlen(kind) == kind_len)
		got->kind = PREKEY_SIGNED;
	else
		return refuse(rep, KEYPROOF_MALFORMED, "is not a prekey proof: "
		    "kind is neither \"one-time\" nor \"signed\"");
	if (!prekey_x_valid(x, x_len))
		return refuse(rep, PREKEYPROOF_BAD_PREKEY, "is for no X25519 "
		    "public key: x is not the base64url of 32 bytes");
	if (x25519_decode_x(x, x_len, pub) != 0 || x25519_low_order(pub))
		return refuse(rep, PREKEYPROOF_BAD_PREKEY, "is for a prekey "
		    "that is " X25519_LOW_ORDER_WHY);
	memcpy(got->x, x, PREKEY_X_SIZE);
	if (prekey_pkid(x, x_len, want_pkid) != 0)
		return refuse(rep, KEYPROOF_MALFORMED, "cannot be checked: out "
		    "of memory");
	if (pkid_len != KID_LEN || strlen(pkid) != pkid_len ||
	    strcmp(pkid, want_pkid) != 0) {
		snprintf(why, sizeof(why), "names the prekey id %.43s, but its "
		    "key's id is %s", jwk_is_kid(pkid, pkid_len) ? pkid : "?",
		    want_pkid);
		return refuse(rep, PREKEYPROOF_BAD_PREKEY, why);
	}
	memcpy(got->pkid, pkid, KID_SIZE);
	if (want->kind >= 0 && got->kind != want->kind) {
		snprintf(why, sizeof(why), "is for a %s prekey, not a %s one",
		    prekey_kind_name(got->kind), prekey_kind_name(want->kind));
		return refuse(rep, PREKEYPROOF_OTHER_KIND, why);
	}
	/* Bounded first, so the subtraction cannot overflow. */
	if (got->kind == PREKEY_SIGNED && want->max_age > 0 &&
	    (got->key.iat < 0 || got->key.iat < want->key.now -
	    want->max_age)) {
		snprintf(why, sizeof(why), "is too old: a signed prekey made "
		    "more than %lld days ago", (long long)(want->max_age /
		    86400));
		return refuse(rep, KEYPROOF_TOO_OLD, why);
	}
	return KEYPROOF_OK;
}

int
prekeyproof_check(const char *proof, size_t len, EVP_PKEY *pub,
    const char *kid, const struct prekeyproof_want *want,
    struct prekeyproof_claims *got, struct report *rep)
{
	struct prekeyproof_claims mine;
	json_t *o = NULL;
	int rc;

	if (got == NULL)
		got = &mine;
	memset(got, 0, sizeof(*got));
	got->kind = -1;
	if ((rc = keyproof_open(proof, len, pub, kid, &form, &want->key,
	    &got->key, &o, rep)) == KEYPROOF_OK)
		rc = check_prekey(o, want, got, rep);
	json_decref(o);
	return rc;
}
