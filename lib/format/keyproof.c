/* keyproof.c - proofs of possession of published keys (see keyproof.h). */
#include "format/keyproof.h"
#include "base/err.h"
#include "base/jsonio.h"
#include "base/term.h"
#include "format/jws.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int
keyproof_url(const char *url, char out[KEYPROOF_URL_MAX])
{
	const char *p, *host, *host_end, *path;
	unsigned long port = 0;
	size_t n, i, start;
	int https, has_port = 0, len;
	char portbuf[8] = "";

	/* Printable ASCII only, and nothing of a user, query or fragment. */
	for (p = url; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '?' || *p == '#' ||
		    *p == '@' || *p == '\\')
			return -1;
	if (strncasecmp(url, "https://", 8) == 0) {
		https = 1;
		host = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		https = 0;
		host = url + 7;
	} else {
		return -1;
	}
	if (host[0] == '[') {
		if ((host_end = strchr(host, ']')) == NULL)
			return -1;
		host_end++;
	} else {
		host_end = host + strcspn(host, ":/");
	}
	if (host_end == host || (host[0] == '[' && host_end - host < 3))
		return -1;
	p = host_end;
	if (*p == ':') {
		p++;
		for (n = 0; p[n] >= '0' && p[n] <= '9' && n < 6; n++)
			port = port * 10 + (unsigned long)(p[n] - '0');
		if (n == 0 || n == 6 || port > 65535 ||
		    (p[n] != '\0' && p[n] != '/'))
			return -1;
		p += n;
		has_port = port != (https ? 443UL : 80UL);
	} else if (*p != '\0' && *p != '/') {
		return -1;
	}
	path = p;
	n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (has_port)
		snprintf(portbuf, sizeof(portbuf), ":%lu", port);
	len = snprintf(out, KEYPROOF_URL_MAX, "%s://%.*s%s%.*s",
	    https ? "https" : "http", (int)(host_end - host), host, portbuf,
	    (int)n, path);
	if (len < 0 || len >= KEYPROOF_URL_MAX) {
		out[0] = '\0';
		return -1;
	}
	/* The host only: a path is compared as it is. */
	start = https ? 8 : 7;
	for (i = start; i < start + (size_t)(host_end - host); i++)
		out[i] = (char)lower((unsigned char)out[i]);
	return 0;
}

int
keyproof_sign(EVP_PKEY *priv, const char *typ, const char *id,
    const char *name, const char *aud, int64_t iat, const json_t *extra,
    struct buf *out, struct report *rep)
{
	char kid[KID_SIZE], url[KEYPROOF_URL_MAX], header[128];
	char *payload = NULL;
	json_t *claims = NULL;
	int rc;

	if (keyproof_url(aud, url) != 0) {
		return report_error(rep, E2E_EX_USAGE,
		    "%s is not a server URL for a key proof", aud);
	}
	if ((rc = jwk_thumbprint(priv, kid, rep)) != 0)
		return rc;
	/* The kid is base64url and typ one of ours: nothing to escape. */
	snprintf(header, sizeof(header), "{\"alg\":\"PS256\",\"typ\":\"%s\","
	    "\"kid\":\"%s\"}", typ, kid);
	claims = json_pack("{s:s,s:s,s:s,s:s,s:I}", "sub", id, "name", name,
	    "kid", kid, "aud", url, "iat", (json_int_t)iat);
	/* extra's members after the five, in its order. */
	if (claims == NULL || (extra != NULL && json_object_update(claims,
	    (json_t *)extra) != 0) || (payload = jsonio_dump(claims)) ==
	    NULL) {
		rc = report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = jws_sign(priv, header, (const uint8_t *)payload,
	    strlen(payload), out, rep)) != 0)
		goto out;
	rc = buf_terminate(out) == 0 ? 0 : report_oom(rep);
out:
	json_decref(claims);
	free(payload);
	return rc;
}

int
keyproof_make(EVP_PKEY *priv, const char *id, const char *name,
    const char *aud, int64_t iat, struct buf *out, struct report *rep)
{
	return keyproof_sign(priv, KEYPROOF_TYP, id, name, aud, iat, NULL,
	    out, rep);
}

static int say(struct report *rep, int result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The reason, as an error in rep (65), cut where it always was: callers
 * gave a buffer of that size before the report. Returns result. */
static int
say(struct report *rep, int result, const char *fmt, ...)
{
	char why[KEYPROOF_URL_MAX * 2 + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	report_error(rep, E2E_EX_DATAERR, "%s", why);
	return result;
}

/* A string claim copied into dst (size bytes), else -1. */
static int
claim(const json_t *o, const char *name, char *dst, size_t size)
{
	size_t len;
	const char *v = jsonio_str(o, name, &len);

	if (v == NULL || len >= size || strlen(v) != len)
		return -1;
	memcpy(dst, v, len + 1);
	return 0;
}

/* The protected header: exactly alg (PS256, checked by jws_parse), typ
 * and the key's id. */
static int
check_header(const json_t *h, const char *kid, const struct keyproof_form *f,
    struct report *rep)
{
	static const char *const members[] = { "alg", "typ", "kid", NULL };
	const char *unknown = jsonio_unknown_member(h, members);
	const char *typ = jsonio_str(h, "typ", NULL);
	const char *hkid = jsonio_str(h, "kid", NULL);
	char safe[64];

	if (unknown != NULL) {
		term_escape(unknown, strlen(unknown), safe, sizeof(safe));
		return say(rep, KEYPROOF_MALFORMED, "is not a %s: "
		    "its header has \"%s\"", f->noun, safe);
	}
	if (typ == NULL || strcmp(typ, f->typ) != 0)
		return say(rep, KEYPROOF_MALFORMED, "is not a %s: "
		    "its header's typ is not \"%s\"", f->noun, f->typ);
	if (hkid == NULL || !jwk_is_kid(hkid, strlen(hkid)))
		return say(rep, KEYPROOF_MALFORMED, "is not a %s: "
		    "its header has no key id", f->noun);
	if (strcmp(hkid, kid) != 0)
		return say(rep, KEYPROOF_OTHER_KEY, "is made by key %s, "
		    "not by key %s", hkid, kid);
	return KEYPROOF_OK;
}

/* The claims: only the form's members, the five of the right types read
 * into got; the object kept in *claims when OK. */
static int
read_claims(const uint8_t *p, size_t len, const struct keyproof_form *f,
    struct keyproof_claims *got, json_t **claims, struct report *rep)
{
	struct report jwhy = { 0 };	/* what jsonio_parse says */
	char safe[64];
	const char *unknown;
	json_t *o;
	int rc = KEYPROOF_MALFORMED;

	/* jsonio's reason cut to the 127 bytes it always was. */
	if ((o = jsonio_parse((const char *)p, len, &jwhy)) == NULL ||
	    !json_is_object(o)) {
		say(rep, rc, "is not a %s: its claims are not a "
		    "JSON object%s%.127s", f->noun, o ? "" : ": ",
		    o ? "" : report_message(&jwhy));
		goto out;
	}
	if ((unknown = jsonio_unknown_member(o, f->members)) != NULL) {
		term_escape(unknown, strlen(unknown), safe, sizeof(safe));
		say(rep, rc, "is not a %s: unknown claim \"%s\"", f->noun,
		    safe);
		goto out;
	}
	if (claim(o, "sub", got->sub, sizeof(got->sub)) != 0 ||
	    !id_valid(got->sub) ||
	    claim(o, "name", got->name, sizeof(got->name)) != 0 ||
	    !name_valid(got->name, strlen(got->name)) ||
	    claim(o, "kid", got->kid, sizeof(got->kid)) != 0 ||
	    claim(o, "aud", got->aud, sizeof(got->aud)) != 0 ||
	    !json_is_integer(json_object_get(o, "iat"))) {
		say(rep, rc, "is not a %s: sub (an account id), "
		    "name, kid and aud (strings) and iat (a number) are "
		    "needed", f->noun);
		goto out;
	}
	got->iat = json_integer_value(json_object_get(o, "iat"));
	rc = KEYPROOF_OK;
	if (claims != NULL) {
		*claims = o;
		o = NULL;
	}
out:
	json_decref(o);
	return rc;
}

/* The claims against what the proof must say. */
static int
check_claims(const struct keyproof_claims *got, const char *kid,
    const struct keyproof_want *want, struct report *rep)
{
	char safe_name[NAME_LEN_MAX * 4 + 1], aud[KEYPROOF_URL_MAX];
	char safe_aud[KEYPROOF_URL_MAX * 4];
	int64_t d;

	if (strcmp(got->kid, kid) != 0)
		return say(rep, KEYPROOF_OTHER_KEY, "proves key %.43s, "
		    "not key %s", got->kid, kid);
	if (strcmp(got->sub, want->id) != 0 ||
	    strcmp(got->name, want->name) != 0) {
		term_escape(got->name, strlen(got->name), safe_name,
		    sizeof(safe_name));
		return say(rep, KEYPROOF_OTHER_USER, "is for the user "
		    "%s (id %s), not for %s (id %s)", safe_name, got->sub,
		    want->name, want->id);
	}
	/* Normalised again: an aud written otherwise is the same server. */
	if (keyproof_url(got->aud, aud) != 0 ||
	    strcmp(aud, want->aud) != 0) {
		term_escape(got->aud, strlen(got->aud), safe_aud,
		    sizeof(safe_aud));
		return say(rep, KEYPROOF_OTHER_SERVER, "is for the "
		    "server %s, not for %s", safe_aud, want->aud);
	}
	if (want->skew < 0)
		return KEYPROOF_OK;
	/* Bounded first, so the subtraction cannot overflow. */
	if (got->iat < want->now - want->skew || got->iat < 0)
		return say(rep, KEYPROOF_TOO_OLD, "is too old: made "
		    "%lld s before the server's time (at most %lld s)",
		    got->iat < 0 ? -1LL : (long long)(want->now - got->iat),
		    (long long)want->skew);
	d = got->iat - want->now;
	if (d > want->skew)
		return say(rep, KEYPROOF_FUTURE, "is from the future: "
		    "made %lld s after the server's time (at most %lld s)",
		    (long long)d, (long long)want->skew);
	return KEYPROOF_OK;
}

static const char *const key_members[] = { "sub", "name", "kid", "aud",
	"iat", NULL };

const struct keyproof_form keyproof_key_form = { KEYPROOF_TYP, "key proof",
	key_members };

int
keyproof_open(const char *proof, size_t len, EVP_PKEY *pub, const char *kid,
    const struct keyproof_form *form, const struct keyproof_want *want,
    struct keyproof_claims *got, json_t **claims, struct report *rep)
{
	struct keyproof_claims mine;
	struct jws j;
	struct report jrep = { 0 };	/* what jws_parse says */
	json_t *o = NULL;
	char *text = NULL;
	uint8_t *p;
	size_t plen;
	int rc = KEYPROOF_MALFORMED, parsed = 0;

	if (got == NULL)
		got = &mine;
	if (claims != NULL)
		*claims = NULL;
	memset(got, 0, sizeof(*got));
	memset(&j, 0, sizeof(j));
	if (len == 0 || len > KEYPROOF_MAX || memchr(proof, '\0', len)) {
		say(rep, rc, "is not a %s: empty, or longer "
		    "than %d bytes", form->noun, KEYPROOF_MAX);
		goto out;
	}
	if ((text = malloc(len + 1)) == NULL) {
		report_error(rep, E2E_EX_SOFTWARE, "cannot be checked: out of "
		    "memory");
		goto out;
	}
	memcpy(text, proof, len);
	text[len] = '\0';
	if (jws_parse(text, len, &j, &jrep) != 0) {
		say(rep, rc, "is not a %s (a compact PS256 "
		    "JWS): %s", form->noun, report_message(&jrep));
		goto out;
	}
	parsed = 1;
	if ((rc = check_header(j.header, kid, form, rep)) != KEYPROOF_OK)
		goto out;
	if (!jws_verify(&j, pub)) {
		rc = say(rep, KEYPROOF_OTHER_KEY, "is not signed by "
		    "key %s: it was made with another key", kid);
		goto out;
	}
	if (jws_decode_payload(&j, &p, &plen) != 0) {
		rc = say(rep, KEYPROOF_MALFORMED, "is not a %s: its "
		    "payload is not base64url", form->noun);
		goto out;
	}
	if ((rc = read_claims(p, plen, form, got, &o, rep)) != KEYPROOF_OK)
		goto out;
	if ((rc = check_claims(got, kid, want, rep)) == KEYPROOF_OK &&
	    claims != NULL) {
		*claims = o;
		o = NULL;
	}
out:
	json_decref(o);
	if (parsed)
		jws_free(&j);
	free(text);
	return rc;
}

int
keyproof_check(const char *proof, size_t len, EVP_PKEY *pub,
    const char *kid, const struct keyproof_want *want,
    struct keyproof_claims *got, struct report *rep)
{
	return keyproof_open(proof, len, pub, kid, &keyproof_key_form, want,
	    got, NULL, rep);
}
