/* detect.c - is this an envelope? (see detect.h) */
#include "format/detect.h"
#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/jsonio.h"
#include "format/ecdhes.h"
#include "format/jwe.h"
#include "format/seed.h"

#include <stdlib.h>
#include <string.h>

/* The base64url alphabet, and a length some byte string encodes to. */
static int
b64url_shaped(const json_t *v)
{
	const char *s = json_string_value(v);
	size_t i, n = json_string_length(v);

	if (s == NULL || n % 4 == 1)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		    s[i] == '_'))
			return 0;
	return 1;
}

/* What is missing, as the error (65) in rep. */
static enum envelope_kind
why_set(struct report *rep, const char *msg)
{
	report_error(rep, E2E_EX_DATAERR, "%s", msg);
	return ENVELOPE_NONE;
}

/* A key management we read (an absent one is each recipient's). */
static int
alg_ok(const json_t *h)
{
	const char *alg = jsonio_str(h, "alg", NULL);

	return alg != NULL && (strcmp(alg, JWE_ALG) == 0 ||
	    strcmp(alg, ECDHES_ALG) == 0);
}

/* The protected header: an object naming our algorithms; 2 when it
 * leaves "alg" to the recipients (FORMAT.md section 11). */
static int
protected_ok(const json_t *v)
{
	struct buf hdr = BUF_INIT;
	json_t *h = NULL;
	const char *enc;
	int ok = 0;

	if (!b64url_shaped(v) || json_string_length(v) > JWE_MAX_PROTECTED *
	    2 || b64url_decode_buf(json_string_value(v),
	    json_string_length(v), &hdr) != 0)
		goto out;
	h = jsonio_parse((const char *)hdr.p, hdr.len, NULL);
	ok = json_is_object(h) &&
	    (enc = jsonio_str(h, "enc", NULL)) != NULL &&
	    jwe_enc_by_name(enc) != NULL;
	if (ok && json_object_get(h, "alg") == NULL)
		ok = 2;
	else if (ok)
		ok = alg_ok(h);
out:
	json_decref(h);
	buf_free(&hdr);
	return ok;
}

/* An optional member: absent, or of the right shape. */
static int
optional(const json_t *o, const char *name, int (*ok)(const json_t *))
{
	const json_t *v = json_object_get(o, name);

	return v == NULL || ok(v);
}

static int
is_object(const json_t *v)
{
	return json_is_object(v);
}

static enum envelope_kind
jwe_shaped(const json_t *o, struct report *rep)
{
	static const char *const allowed[] = { "protected", "unprotected",
		"header", "recipients", "encrypted_key", "iv", "ciphertext",
		"tag", "aad", NULL };
	const json_t *r, *e;
	size_t i;
	int prot;

	if (jsonio_unknown_member(o, allowed) != NULL)
		return why_set(rep, "a JSON object with members a JWE "
		    "does not have");
	if ((prot = protected_ok(json_object_get(o, "protected"))) == 0)
		return why_set(rep, "no protected header naming "
		    "RSA-OAEP-256 and A256CBC-HS512 or A256GCM");
	if (!b64url_shaped(json_object_get(o, "iv")) ||
	    !b64url_shaped(json_object_get(o, "ciphertext")) ||
	    !b64url_shaped(json_object_get(o, "tag")) ||
	    !optional(o, "aad", b64url_shaped))
		return why_set(rep, "iv, ciphertext, tag or aad missing "
		    "or not base64url");
	if (!optional(o, "unprotected", is_object) ||
	    !optional(o, "header", is_object))
		return why_set(rep, "a header that is not a JSON "
		    "object");
	r = json_object_get(o, "recipients");
	if (r == NULL)
		return b64url_shaped(json_object_get(o, "encrypted_key")) &&
		    (prot == 1 || alg_ok(json_object_get(o, "header"))) ?
		    ENVELOPE_JWE : why_set(rep, "no recipients");
	if (!json_is_array(r) || json_array_size(r) == 0 ||
	    json_array_size(r) > JWE_MAX_RECIPIENTS ||
	    json_object_get(o, "encrypted_key") != NULL ||
	    json_object_get(o, "header") != NULL)
		return why_set(rep, "recipients is not a list of 1 to "
		    "256 entries, or beside a flattened member");
	json_array_foreach(r, i, e)
		if (!json_is_object(e) ||
		    !b64url_shaped(json_object_get(e, "encrypted_key")) ||
		    !optional(e, "header", is_object) ||
		    (prot == 2 && !alg_ok(json_object_get(e, "header"))))
			return why_set(rep, "a recipient has no "
			    "encrypted_key, or a header that is not an "
			    "object");
	return ENVELOPE_JWE;
}

static enum envelope_kind
seed_shaped(const char *text, size_t len)
{
	static const char *const members[] = { "RSACipher", "ct", "iv",
		"tag", NULL };
	struct buf copy = BUF_INIT;
	json_t *o = NULL;
	size_t i;
	int ok = 0;

	if (buf_append(&copy, text, len) != 0)
		goto out;
	seed_unreplace((char *)copy.p, &copy.len);
	o = jsonio_parse_flags((const char *)copy.p, copy.len, JSON_ALLOW_NUL,
	    NULL);
	if (!json_is_object(o) || json_object_size(o) != 4)
		goto out;
	for (i = 0; members[i] != NULL; i++)
		if (!json_is_string(json_object_get(o, members[i])))
			goto out;
	ok = 1;
out:
	json_decref(o);
	buf_free(&copy);
	return ok ? ENVELOPE_SEED : ENVELOPE_NONE;
}

enum envelope_kind
detect_envelope(const char *text, size_t len, struct report *rep)
{
	enum envelope_kind k;
	json_t *o;
	size_t i;

	for (i = 0; i < len && (text[i] == ' ' || text[i] == '\t' ||
	    text[i] == '\r' || text[i] == '\n'); i++)
		;
	if (i == len)
		return why_set(rep, "the input is empty");
	if (text[i] != '{')
		return why_set(rep, "it is not JSON");
	/* A seed message's strings may hold \u0000. */
	if ((o = jsonio_parse_flags(text, len, JSON_ALLOW_NUL, rep)) == NULL)
		return ENVELOPE_NONE;
	if (!json_is_object(o))
		k = why_set(rep, "not a JSON object");
	else if (json_object_get(o, "RSACipher") != NULL)
		k = seed_shaped(text, len) ? ENVELOPE_SEED : why_set(rep,
		    "a broken seed-format message");
	else
		k = jwe_shaped(o, rep);
	json_decref(o);
	return k;
}
