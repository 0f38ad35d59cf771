/* message.c - sign-then-encrypt and its reader (see message.h). */
#include "format/message.h"
#include "base/b64.h"
#include "base/err.h"
#include "base/jsonio.h"
#include "base/pipeline.h"
#include "base/term.h"
#include "format/crypto.h"
#include "format/jws.h"
#include "format/rsa.h"
#include "format/seed.h"

#include <stdarg.h>
#include <time.h>
#include <stdio.h>
#include <string.h>

#define JTI_BYTES 16
/* The ciphertext's closing quote is looked for this many bytes at a time. */
#define FILE_SCAN ((size_t)1 << 20)

/* The names of a message, refused before anything is signed. */
static int
names_ok(const struct seal_opts *o)
{
	const char *n;
	size_t i;

	if (o->sender_name == NULL)
		return 1;
	if (!claim_name_valid(o->sender_name, strlen(o->sender_name)) ||
	    o->recipient_names == NULL)
		return 0;
	for (i = 0; i < o->nr; i++) {
		n = o->recipient_names[i];
		if (n == NULL || (n[0] != '\0' && !claim_name_valid(n,
		    strlen(n))))
			return 0;
	}
	return 1;
}

/* The members in the order of FORMAT.md section 4: alg, typ, kid, iss,
 * [sub,] aud, [aud_names,] iat, jti. */
static char *
signed_header(const struct seal_opts *o, struct report *rep)
{
	uint8_t id[JTI_BYTES];
	char jti[32];	/* 22 characters for 16 bytes */
	json_t *h = NULL, *aud = NULL, *names = NULL;
	char *s = NULL;
	size_t i;

	if (crypto_random(id, sizeof(id), rep) != 0)
		return NULL;
	b64url_encode(id, sizeof(id), jti);
	jti[b64url_enclen(sizeof(id))] = 0;
	if ((h = json_object()) == NULL || (aud = json_array()) == NULL ||
	    (names = json_array()) == NULL)
		goto out;
	for (i = 0; i < o->nr; i++)
		if (json_array_append_new(aud, json_string(o->r[i].kid)) != 0 ||
		    (o->sender_name != NULL && json_array_append_new(names,
		    json_string(o->recipient_names[i])) != 0))
			goto out;
	if (json_object_set_new(h, "alg", json_string("PS256")) != 0 ||
	    json_object_set_new(h, "typ", json_string(JWE_CTY_SIGNED)) != 0 ||
	    json_object_set_new(h, "kid", json_string(o->signer_kid)) != 0 ||
	    json_object_set_new(h, "iss", json_string(o->signer_kid)) != 0 ||
	    (o->sender_name != NULL && json_object_set_new(h, "sub",
	    json_string(o->sender_name)) != 0) ||
	    json_object_set(h, "aud", aud) != 0 ||
	    (o->sender_name != NULL && json_object_set(h, "aud_names",
	    names) != 0) ||
	    json_object_set_new(h, "iat", json_integer(crypto_now())) != 0 ||
	    json_object_set_new(h, "jti", json_string(jti)) != 0)
		goto out;
	s = jsonio_dump(h);
out:
	if (s == NULL)
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	json_decref(names);
	json_decref(aud);
	json_decref(h);
	return s;
}

int
message_seal(const struct seal_opts *o, const uint8_t *pt, size_t len,
    struct sink *out, struct report *rep)
{
	struct mem_source ms = { NULL, 0 };
	struct source src = source_mem(&ms, pt, len);

	return message_seal_source(o, &src, out, rep);
}

int
message_seal_source(const struct seal_opts *o, const struct source *src,
    struct sink *out, struct report *rep)
{
	struct jws_stream js;
	struct source jws;
	char *hdr = NULL;
	int rc;

	memset(&js, 0, sizeof(js));
	if (o->signer == NULL)
		return jwe_encrypt_source(o->enc, NULL, o->r, o->nr, src, out,
		    rep);
	if (!names_ok(o))
		return report_error(rep, E2E_EX_USAGE,
		    "a name to sign is not a user name");
	if ((hdr = signed_header(o, rep)) == NULL) {
		rc = E2E_EX_SOFTWARE;
		goto out;
	}
	/* The JWS is made as the JWE reads it: the signature, over all of
	 * it, comes last, so nothing needs holding. */
	if ((rc = jws_stream_init(&js, o->signer, hdr, src, rep)) != 0)
		goto out;
	jws = jws_stream_source(&js);
	rc = jwe_encrypt_source(o->enc, JWE_CTY_SIGNED, o->r, o->nr, &jws,
	    out, rep);
out:
	jws_stream_free(&js);
	free(hdr);
	return rc;
}

/* The one refusal of every check before the plaintext exists
 * (MESSAGE_CANNOT_DECRYPT), with an optional hint, terminal-safe. */
static int
refuse(struct report *rep, const char *hint_fmt, ...)
{
	va_list ap;
	char raw[320], hint[320];

	report_error(rep, E2E_EX_DATAERR, "%s", MESSAGE_CANNOT_DECRYPT);
	if (hint_fmt != NULL && *hint_fmt != '\0') {
		va_start(ap, hint_fmt);
		vsnprintf(raw, sizeof(raw), hint_fmt, ap);
		va_end(ap);
		term_escape(raw, strlen(raw), hint, sizeof(hint));
		if (hint[0] != '\0')
			report_hint(rep, "%s", hint);
	}
	return E2E_EX_DATAERR;
}

/*
 * What jwe_decrypt or seed_decrypt said (inner, then emptied): a refusal
 * (65) is MESSAGE_CANNOT_DECRYPT with their reason, if any, as its hint;
 * an internal error is passed on as it is. Returns rc.
 */
static int
refused_by(struct report *rep, int rc, struct report *inner)
{
	/* Not a failure to hide: the key is gone, as forward secrecy
	 * promised (FORMAT.md section 11). */
	if (rc == E2E_EX_DATAERR && strcmp(report_message(inner),
	    JWE_ERASED) == 0)
		report_error(rep, rc, "%s", JWE_ERASED);
	else if (rc == E2E_EX_DATAERR)
		refuse(rep, "%s", report_message(inner));
	else if (rc != 0)
		report_add(rep, inner);
	report_clear(inner);
	return rc;
}

/* A refusal of a signed message, in its own words, terminal-safe. */
static int
refuse_signed(struct report *rep, const char *fmt, ...)
{
	va_list ap;
	char raw[320], error[320];

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	term_escape(raw, strlen(raw), error, sizeof(error));
	return report_error(rep, E2E_EX_DATAERR, "%s", error);
}

/* Appends name (or "a key file" for "") to the list shown in messages,
 * once, and "..." when the list is full. */
static void
list_name(struct message *m, const char *name)
{
	const char *show = name[0] != '\0' ? name : "a key file";
	size_t have = strlen(m->aud_names), need = strlen(show);
	const char *p = m->aud_names, *e;

	/* Each name once: a contact with two devices is one recipient. */
	while (*p != '\0') {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == need && memcmp(p, show, need) == 0)
			return;
		p = *e == ',' ? e + 2 : e;
	}
	if (have >= 3 && strcmp(m->aud_names + have - 3, "...") == 0)
		return;
	if (have + 2 + need + 5 > sizeof(m->aud_names)) {
		snprintf(m->aud_names + have, sizeof(m->aud_names) - have,
		    "%s...", have ? ", " : "");
		return;
	}
	snprintf(m->aud_names + have, sizeof(m->aud_names) - have, "%s%s",
	    have ? ", " : "", show);
}

/*
 * "sub" and "aud_names" (FORMAT.md section 4): both or neither; sub a
 * name; aud_names an array as long as aud of names or "". Keeps the name
 * given with own_kid, which aud holds exactly once (so that no message
 * can pair the reader's key with two names).
 */
static int
signed_names(const json_t *h, const json_t *aud, const char *own_kid,
    struct message *m, struct report *rep)
{
	const json_t *sub = json_object_get(h, "sub");
	const json_t *names = json_object_get(h, "aud_names"), *v;
	const char *s;
	size_t i, n = json_array_size(aud), len, mine = 0;

	if (sub == NULL && names == NULL)
		return 0;
	if (!json_is_string(sub) || !claim_name_valid(json_string_value(sub),
	    json_string_length(sub)))
		return refuse_signed(rep, "the signed message has no valid "
		    "\"sub\" (the sender's name)");
	if (!json_is_array(names) || json_array_size(names) != n)
		return refuse_signed(rep, "the signed message's \"aud_names\" "
		    "is not an array as long as its \"aud\"");
	memcpy(m->sub, json_string_value(sub), json_string_length(sub) + 1);
	for (i = 0; i < n; i++) {
		v = json_array_get(names, i);
		s = json_string_value(v);
		len = json_string_length(v);
		if (!json_is_string(v) || (len > 0 &&
		    !claim_name_valid(s, len)))
			return refuse_signed(rep, "the signed message's "
			    "\"aud_names\" holds something that is not a name");
		list_name(m, s);
		if (buf_append(&m->all_names, s, len + 1) != 0)
			return report_oom(rep);
		if (strcmp(json_string_value(json_array_get(aud, i)),
		    own_kid) == 0) {
			memcpy(m->name_for_me, s, len + 1);
			mine++;
		}
	}
	if (mine != 1)
		return refuse_signed(rep,
		    "the signed message names your key %s "
		    "more than once in \"aud\"", own_kid);
	m->named = 1;
	return 0;
}

/* The claims of the inner JWS header, checked for shape. */
static int
signed_claims(const json_t *h, const char *own_kid, struct message *m,
    struct report *rep)
{
	const json_t *aud, *iat, *v;
	const char *kid, *iss, *typ, *jti;
	size_t i, kid_len, jti_len, n;
	int for_me = 0, rc;

	kid = jsonio_str(h, "kid", &kid_len);
	iss = jsonio_str(h, "iss", NULL);
	typ = jsonio_str(h, "typ", NULL);
	jti = jsonio_str(h, "jti", &jti_len);
	aud = json_object_get(h, "aud");
	iat = json_object_get(h, "iat");
	if (typ == NULL || strcmp(typ, JWE_CTY_SIGNED) != 0)
		return refuse_signed(rep, "the signed message has no \"typ\" "
		    "\"%s\"", JWE_CTY_SIGNED);
	if (kid == NULL || !jwk_is_kid(kid, kid_len) || iss == NULL ||
	    strcmp(iss, kid) != 0)
		return refuse_signed(rep,
		    "the signed message does not name its "
		    "signer's key id in \"kid\" and \"iss\"");
	if (!json_is_integer(iat) || json_integer_value(iat) < 0)
		return refuse_signed(rep, "the signed message has no valid "
		    "\"iat\"");
	if (jti == NULL || jti_len == 0 || jti_len >= sizeof(m->jti))
		return refuse_signed(rep, "the signed message has no valid "
		    "\"jti\"");
	n = json_array_size(aud);
	if (!json_is_array(aud) || n == 0 || n > JWE_MAX_RECIPIENTS)
		return refuse_signed(rep, "the signed message has no valid "
		    "\"aud\"");
	for (i = 0; i < n; i++) {
		v = json_array_get(aud, i);
		if (!json_is_string(v))
			return refuse_signed(rep, "the signed message has no "
			    "valid \"aud\"");
		if (strcmp(json_string_value(v), own_kid) == 0)
			for_me = 1;
	}
	/* Surreptitious forwarding: a signature made for others. */
	if (!for_me)
		return refuse_signed(rep,
		    "the signed message was not addressed "
		    "to your key %s: it may have been forwarded by one of its "
		    "recipients", own_kid);
	if ((rc = signed_names(h, aud, own_kid, m, rep)) != 0)
		return rc;
	memcpy(m->signer_kid, kid, KID_SIZE);
	m->iat = json_integer_value(iat);
	memcpy(m->jti, jti, jti_len + 1);
	return 0;
}

/*
 * Steps 11 and 12 of a parsed JWS (held whole, or hashed from a file by
 * jwsfile.h): its claims, its signature by the key asked for or found,
 * and the name --verify gave.
 */
static int
signed_accept(const struct open_opts *o, struct message *m,
    const struct jws *j, struct report *rep)
{
	EVP_PKEY *k;
	int rc;

	if ((rc = signed_claims(j->header, o->kid, m, rep)) != 0)
		goto out;
	if (o->verify != NULL) {
		if (strcmp(m->signer_kid, o->verify_kid) != 0) {
			rc = refuse_signed(rep,
			    "the message is signed by key %s, "
			    "not by the key %s given to verify it",
			    m->signer_kid, o->verify_kid);
			goto out;
		}
		if (!jws_verify(j, o->verify)) {
			rc = refuse_signed(rep,
			    "the signature is not valid: the "
			    "message was not signed by key %s",
			    o->verify_kid);
			goto out;
		}
		m->verified = 1;
	} else if (o->signer_key != NULL) {
		if ((k = o->signer_key(o->signer_arg, m->signer_kid)) != NULL) {
			if (!jws_verify(j, k)) {
				rc = refuse_signed(rep, "the signature is not "
				    "valid: the message was not signed by key "
				    "%s", m->signer_kid);
				goto out;
			}
			m->verified = 1;
		} else if (o->require_signer) {
			rc = refuse_signed(rep, "the message is signed by key "
			    "%s, which is not among %s", m->signer_kid,
			    o->signer_what ? o->signer_what : "the keys "
			    "given to verify it");
			goto out;
		}
	}
	/* --verify NAME: the key is NAME's, and so must be the name the
	 * sender signed (a key pinned for two names proves neither). */
	m->verify_by_name = o->verify_name != NULL;
	if (o->verify_name != NULL && m->verified && m->named &&
	    strcmp(m->sub, o->verify_name) != 0) {
		rc = refuse_signed(rep, "the message is signed as from %s, not "
		    "from %s as --verify says", m->sub, o->verify_name);
		goto out;
	}
	rc = 0;
out:
	return rc;
}

#define SIGNED_UNACCEPTABLE "the signature is not acceptable: %s"
#define SIGNED_NOT_B64 "the signed content is not base64url"

static int
open_signed(const struct open_opts *o, struct message *m, uint8_t *text,
    size_t len, struct report *rep)
{
	struct jws j;
	struct report why = { 0 };	/* what jws_parse says */
	uint8_t *p;
	size_t plen;
	int rc;

	m->is_signed = 1;
	if (jws_parse((char *)text, len, &j, &why) != 0)
		return refuse_signed(rep, SIGNED_UNACCEPTABLE,
		    report_message(&why));
	if ((rc = signed_accept(o, m, &j, rep)) != 0)
		goto out;
	if (jws_decode_payload(&j, &p, &plen) != 0) {
		rc = refuse_signed(rep, SIGNED_NOT_B64);
		goto out;
	}
	m->pt = p;
	m->pt_len = plen;
	rc = 0;
out:
	jws_free(&j);
	return rc;
}

/* An unsigned message's plaintext, written to the output's temporary
 * file on the decryption's thread (jwe.h), its errors said in rep. */
struct plain_file {
	struct outfile *out;
	struct report *rep;
};

static int
plain_write(void *ctx, const void *p, size_t n)
{
	struct plain_file *pf = ctx;

	return outfile_write(pf->out, p, n, pf->rep);
}

/*
 * The inner JWS of a signed message decrypted from a file, read as the
 * decryption gives it (a sink on the decryption's thread, jwe.h): its
 * signing input hashed and its texts kept (jws_scan), its payload
 * decoded into a ring of SIGNED_SLOTS pieces that a thread of its own
 * writes to the output's temporary file (pipeline.h), so that the JWS
 * costs no second pass over the file. Nothing there is committed before
 * the tag, the JWS and its signature are checked (open_signed_file).
 */
#define SIGNED_TEXT ((size_t)256 << 10)	/* payload text at a time */
#define SIGNED_PIECE (SIGNED_TEXT / 4 * 3 + 3)
#define SIGNED_SLOTS (PIPELINE_DEPTH + 1)

struct signed_file {
	struct jws_scan scan;
	struct b64url_dstream dec;
	struct outfile *out;
	struct pipeline *pw;
	uint8_t *ring;
	size_t k;		/* pieces pushed */
	uint64_t pt_len;	/* payload bytes pushed */
	struct report rep;	/* the writer's, then the caller's */
};

static int
signed_write(void *ctx, uint8_t *p, size_t n)
{
	struct signed_file *sf = ctx;

	return outfile_write(sf->out, p, n, &sf->rep);
}

static int
signed_text(void *ctx, const void *p, size_t n)
{
	struct signed_file *sf = ctx;
	const char *t;
	size_t off, len, step;
	uint8_t *slot;
	long long m;

	if (jws_scan_update(&sf->scan, p, n, &off, &len) != 0)
		return report_crypto(&sf->rep, "SHA-256");
	/* A payload that is not base64url is refused once the signature
	 * is checked (open_signed_file): nothing more is decoded. */
	for (t = (const char *)p + off; len > 0 && !sf->dec.bad;
	    t += step, len -= step) {
		step = len > SIGNED_TEXT ? SIGNED_TEXT : len;
		slot = sf->ring + (sf->k % SIGNED_SLOTS) * SIGNED_PIECE;
		if ((m = b64url_dstream_update(&sf->dec, t, step, slot)) <= 0)
			continue;
		pipeline_push(sf->pw, slot, (size_t)m);
		sf->pt_len += (uint64_t)m;
		sf->k++;
	}
	return 0;
}

/* A JWS of about text_len bytes to come: the reading started, and the
 * sink to give it to. Returns 0 or 70 (in rep). */
static int
signed_file_start(struct signed_file *sf, struct outfile *out,
    uint64_t text_len, struct sink *plain, struct report *rep)
{
	int rc;

	memset(sf, 0, sizeof(*sf));
	sf->out = out;
	if ((rc = jws_scan_init(&sf->scan, rep)) != 0)
		return rc;
	if ((sf->ring = malloc(SIGNED_SLOTS * SIGNED_PIECE)) == NULL ||
	    (sf->pw = pipeline_start(text_len / 4 * 3 > SIZE_MAX ? SIZE_MAX :
	    (size_t)(text_len / 4 * 3), signed_write, sf)) == NULL)
		return report_oom(rep);
	plain->write = signed_text;
	plain->ctx = sf;
	return 0;
}

/* Waits for the writer, then decodes and writes the payload's last
 * characters. Returns 0 or the writer's exit code (in sf->rep). */
static int
signed_file_finish(struct signed_file *sf)
{
	uint8_t last[3];
	long long m;
	int rc;

	if (sf->pw == NULL)
		return 0;
	rc = pipeline_finish(sf->pw);
	sf->pw = NULL;
	if (rc != 0 || sf->dec.bad)
		return rc;
	if ((m = b64url_dstream_final(&sf->dec, last)) > 0) {
		rc = outfile_write(sf->out, last, (size_t)m, &sf->rep);
		sf->pt_len += (uint64_t)m;
	}
	wipe(last, sizeof(last));
	return rc;
}

static void
signed_file_free(struct signed_file *sf)
{
	if (sf->pw != NULL)
		(void)pipeline_finish(sf->pw);
	if (sf->ring != NULL) {
		wipe(sf->ring, SIGNED_SLOTS * SIGNED_PIECE);
		free(sf->ring);
	}
	report_clear(&sf->rep);
	jws_scan_free(&sf->scan);
	memset(sf, 0, sizeof(*sf));
}

/* open_signed for the JWS read by sf, whose payload is in out's
 * temporary file: the same checks, in the same order and words. */
static int
open_signed_file(const struct open_opts *o, struct message *m,
    struct signed_file *sf, struct report *rep)
{
	struct jws j;
	struct report why = { 0 };	/* what jws_scan_final says */
	int rc;

	m->is_signed = 1;
	rc = jws_scan_final(&sf->scan, &j, &why);
	if (rc == E2E_EX_DATAERR)
		return refuse_signed(rep, SIGNED_UNACCEPTABLE,
		    report_message(&why));
	report_add(rep, &why);
	report_clear(&why);
	if (rc != 0)
		return rc;
	if ((rc = signed_accept(o, m, &j, rep)) != 0)
		goto out;
	if (sf->dec.bad) {
		rc = refuse_signed(rep, SIGNED_NOT_B64);
		goto out;
	}
	m->file_pt_len = sf->pt_len;
out:
	jws_free(&j);
	/* The hash of the plaintext: not the plaintext, but of it. */
	wipe(j.digest, sizeof(j.digest));
	return rc;
}

static int
open_seed(const struct open_opts *o, const uint8_t *text, size_t len,
    struct message *m, struct report *rep)
{
	struct buf copy = BUF_SECRET_INIT;
	struct seed_result sr;
	struct report inner = { 0 };	/* what seed_decrypt says */
	struct report why = { 0 };	/* what jsonio_parse says */
	json_t *obj = NULL;
	int rc;

	m->format = MESSAGE_SEED;
	if (buf_append(&copy, text, len) != 0) {
		rc = report_oom(rep);
		goto out;
	}
	seed_unreplace((char *)copy.p, &copy.len);
	obj = jsonio_parse_flags((char *)copy.p, copy.len, JSON_ALLOW_NUL,
	    &why);
	if (obj == NULL) {
		rc = refuse(rep, "the seed message is not JSON: %s",
		    report_message(&why));
		goto out;
	}
	rc = refused_by(rep, seed_decrypt(obj, o->key, &m->own, &sr, &inner),
	    &inner);
	if (rc != 0)
		goto out;
	m->seed_same_keys = sr.same_keys;
	m->pt = m->own.p;
	m->pt_len = m->own.len;
	if (o->verify != NULL || o->require_signer)
		rc = refuse_signed(rep,
		    "the message is in the seed format, which "
		    "cannot be signed, and --verify asks for a signature");
out:
	json_decref(obj);
	buf_free(&copy);
	return rc;
}

int
message_open_text(const struct open_opts *o, const uint8_t *text,
    size_t len, struct message *m, struct report *rep)
{
	struct jwe_result jr;
	struct jwe_reader rd = { o->key, o->kid, o->prekey, o->prekey_arg };
	struct buf reduced = BUF_INIT;
	struct report inner = { 0 };	/* what jwe_decrypt says */
	struct report why = { 0 }, why2 = { 0 };	/* jsonio_parse's */
	const char *ct = NULL;
	size_t start, end, ct_len = 0;
	json_t *obj = NULL, *seed = NULL;
	int rc;

	memset(m, 0, sizeof(*m));
	m->own.secret = 1;
	/*
	 * The ciphertext is most of a large envelope. It is located first
	 * and decoded from where it is, and jansson parses the rest, which
	 * keeps memory near the message size and skips a slow copy
	 * (jsonio.h).
	 */
	if (jsonio_member_span((const char *)text, len, "ciphertext", &start,
	    &end) == 0) {
		if (buf_append(&reduced, text, start) != 0 ||
		    buf_append(&reduced, text + end, len - end) != 0) {
			rc = report_oom(rep);
			goto out;
		}
		obj = jsonio_parse((char *)reduced.p, reduced.len, &why);
		ct = (const char *)text + start;
		ct_len = end - start;
	} else {
		obj = jsonio_parse((const char *)text, len, &why);
		/* A seed message's strings may hold NUL bytes (\u0000), which
		 * nothing else may. When the text fails for another reason
		 * too, that reason is the one worth showing. */
		if (obj == NULL) {
			seed = jsonio_parse_flags((const char *)text, len,
			    JSON_ALLOW_NUL, &why2);
			if (json_is_object(seed) &&
			    json_object_get(seed, "RSACipher") != NULL) {
				json_decref(seed);
				rc = open_seed(o, text, len, m, rep);
				goto out;
			}
			if (seed == NULL)
				why = why2;
			json_decref(seed);
		}
	}
	if (obj == NULL) {
		rc = refuse(rep, "the input is not a JSON envelope: %s",
		    report_message(&why));
		goto out;
	}
	if (!json_is_object(obj)) {
		rc = refuse(rep, "the input is not a JSON object");
		goto out;
	}
	if (ct == NULL && json_object_get(obj, "RSACipher") != NULL) {
		json_decref(obj);
		obj = NULL;
		rc = open_seed(o, text, len, m, rep);
		goto out;
	}
	/* A ciphertext member written with escapes: take jansson's. */
	if (ct == NULL &&
	    (ct = jsonio_str(obj, "ciphertext", &ct_len)) == NULL) {
		rc = refuse(rep, "the input is not an envelope: "
		    "\"ciphertext\" is missing or not a string");
		goto out;
	}
	/* The plaintext is decoded and decrypted into a buffer of ours. */
	if (buf_reserve(&m->own, b64url_declen(ct_len)) != 0) {
		rc = report_oom(rep);
		goto out;
	}
	m->format = MESSAGE_JWE;
	rc = refused_by(rep, jwe_decrypt_into_with(obj, ct, ct_len, m->own.p,
	    &rd, &jr, &inner), &inner);
	if (rc != 0)
		goto out;
	m->fs = jr.fs;
	memcpy(m->fs_pkid, jr.pkid, KID_SIZE);
	m->own.len = jr.pt_len;
	m->enc = jr.enc->name;
	m->nrecipients = jr.nrecipients;
	m->uncommitted_group = jr.uncommitted_group;
	if (jr.signed_content) {
		rc = open_signed(o, m, jr.pt, jr.pt_len, rep);
	} else {
		m->pt = jr.pt;
		m->pt_len = jr.pt_len;
		/* Signature stripping must not pass for a signed message. */
		if (o->verify != NULL || o->require_signer)
			rc = refuse_signed(rep,
			    "the message is not signed, and "
			    "--verify asks for a signature");
	}
out:
	json_decref(obj);
	buf_free(&reduced);
	if (rc != 0) {
		m->pt = NULL;
		m->pt_len = 0;
		buf_free(&m->own);	/* wipes what was decrypted */
		buf_free(&m->all_names);
	}
	return rc;
}

/*
 * Where the plain ciphertext string of the envelope in the file in is:
 * its content is [*off, *end); the rest of the text, the ciphertext's
 * content left out, goes to rest. -1 when the file is not so shaped.
 *
 * The end is the first quote after the start, and the rest after it
 * takes at most MESSAGE_FILE_REST - start bytes: only those last bytes
 * of the file are searched, so that the ciphertext is not read an extra
 * time. The first quote there is the end when [*off, *unread) before it
 * holds no quote and no backslash, which the decoding checks as it goes
 * (neither is base64url); if the message fails, unread_is_plain()
 * decides whether it was so shaped.
 */
static int
locate_ciphertext(struct infile *in, struct buf *rest, uint64_t *off,
    uint64_t *end, uint64_t *unread, struct report *rep)
{
	size_t head = in->size < MESSAGE_FILE_REST ? (size_t)in->size :
	    MESSAGE_FILE_REST, start, n, i = 0;
	uint64_t pos, from;
	uint8_t *scan = NULL, *q;
	int rc = -1;

	if (buf_reserve(rest, head + 1) != 0 ||
	    infile_pread(in, rest->p, head, 0, rep) != 0)
		goto out;
	rest->len = head;
	if (jsonio_member_start((const char *)rest->p, head, "ciphertext",
	    &start) != 0)
		goto out;
	from = in->size - start > MESSAGE_FILE_REST - start ?
	    in->size - (MESSAGE_FILE_REST - start) : start;
	/* The end of the string: a quote; a backslash first means escapes
	 * (read whole: jansson decodes them, as message_open_text does). */
	if ((scan = malloc(FILE_SCAN)) == NULL)
		goto out;
	for (pos = from; pos < in->size; pos += n) {
		n = in->size - pos > FILE_SCAN ? FILE_SCAN :
		    (size_t)(in->size - pos);
		if (infile_pread(in, scan, n, pos, rep) != 0)
			goto out;
		q = memchr(scan, '"', n);
		i = q != NULL ? (size_t)(q - scan) : n;
		if (memchr(scan, '\\', i) != NULL)
			goto out;
		if (q != NULL)
			break;
	}
	if (pos >= in->size ||
	    in->size - (pos + i) > MESSAGE_FILE_REST - start)
		goto out;
	*off = start;
	*end = pos + i;
	*unread = from;
	rest->len = start;
	if (buf_reserve(rest, (size_t)(in->size - *end)) != 0 ||
	    infile_pread(in, rest->p + start, (size_t)(in->size - *end), *end,
	    rep) != 0)
		goto out;
	rest->len = start + (size_t)(in->size - *end);
	rc = 0;
out:
	free(scan);
	return rc;
}

/* 1 when the text [from, to) of in holds no quote and no backslash (or
 * is empty): the ciphertext's end was where locate_ciphertext put it.
 * 0 otherwise, or when it cannot be read (the reading whole says so). */
static int
unread_is_plain(struct infile *in, uint64_t from, uint64_t to)
{
	struct report quiet = { 0 };
	uint8_t *scan;
	uint64_t pos;
	size_t n;
	int ok = 1;

	if (from >= to)
		return 1;
	if ((scan = malloc(FILE_SCAN)) == NULL)
		return 0;
	for (pos = from; pos < to && ok; pos += n) {
		n = to - pos > FILE_SCAN ? FILE_SCAN : (size_t)(to - pos);
		if (infile_pread(in, scan, n, pos, &quiet) != 0 ||
		    memchr(scan, '"', n) != NULL ||
		    memchr(scan, '\\', n) != NULL)
			ok = 0;
	}
	report_clear(&quiet);
	free(scan);
	return ok;
}

int
message_open_file(const struct open_opts *o, struct infile *in,
    struct outfile *out, struct message *m, struct report *rep)
{
	struct jwe_open jo;
	struct jwe_reader rd = { o->key, o->kid, o->prekey, o->prekey_arg };
	struct signed_file *sf = NULL;
	struct plain_file pf;
	struct sink plain = { plain_write, &pf };
	struct buf rest = BUF_INIT;
	struct report inner = { 0 };	/* what the JWE layer says */
	struct report wrep = { 0 };	/* what the plaintext's writing says */
	struct report why = { 0 };	/* what jsonio_parse says */
	uint64_t off, end, unread = 0;
	json_t *obj = NULL;
	int rc = MESSAGE_OPEN_WHOLE, have_jo = 0, src;

	memset(m, 0, sizeof(*m));
	m->own.secret = 1;
	if (!in->regular)
		goto out;
	/* A read error here is met again, and said, by the whole reading. */
	if (locate_ciphertext(in, &rest, &off, &end, &unread,
	    &inner) != 0) {
		report_clear(&inner);
		goto out;
	}
	obj = jsonio_parse((const char *)rest.p, rest.len, &why);
	if (!json_is_object(obj) || json_object_get(obj,
	    "RSACipher") != NULL)
		goto out;
	m->format = MESSAGE_JWE;
	rc = jwe_open_prepare_with(obj, &rd, &jo, &inner);
	if (rc != 0 && !unread_is_plain(in, off, unread)) {
		report_clear(&inner);
		rc = MESSAGE_OPEN_WHOLE;
		goto out;
	}
	rc = refused_by(rep, rc, &inner);
	if (rc != 0)
		goto out;
	have_jo = 1;
	/* A signed message's JWS is read as it is decrypted. */
	pf.out = out;
	pf.rep = &wrep;
	if (jo.signed_content && ((sf = malloc(sizeof(*sf))) == NULL ||
	    (rc = signed_file_start(sf, out, end - off, &plain, rep)) != 0)) {
		if (sf == NULL)
			rc = report_oom(rep);
		goto out;
	}
	rc = jwe_open_file(&jo, in, off, end - off, &plain, &m->file_pt_len,
	    &inner);
	if (sf != NULL) {
		src = signed_file_finish(sf);
		report_add(&wrep, &sf->rep);
		report_clear(&sf->rep);
		if (rc == 0)
			rc = src;
	}
	if (rc == E2E_EX_DATAERR && !unread_is_plain(in, off, unread)) {
		/* Not so shaped after all: read whole, from an empty file. */
		report_clear(&inner);
		report_clear(&wrep);
		rc = outfile_rewind(out, rep);
		if (rc == 0)
			rc = MESSAGE_OPEN_WHOLE;
		goto out;
	}
	if (rc == E2E_EX_DATAERR) {
		/* Every failure of the content decryption looks the same. */
		report_clear(&inner);
		report_clear(&wrep);
		rc = refuse(rep, NULL);
		goto out;
	}
	report_add(rep, &inner);
	report_add(rep, &wrep);
	if (rc != 0)
		goto out;
	m->enc = jo.enc->name;
	m->fs = jo.fs;
	memcpy(m->fs_pkid, jo.pkid, KID_SIZE);
	m->nrecipients = jo.nrecipients;
	m->uncommitted_group = jo.uncommitted_group;
	if (sf != NULL)
		rc = open_signed_file(o, m, sf, rep);
	/* Signature stripping must not pass for a signed message. */
	else if (o->verify != NULL || o->require_signer)
		rc = refuse_signed(rep, "the message is not signed, and "
		    "--verify asks for a signature");
out:
	if (sf != NULL) {
		signed_file_free(sf);
		free(sf);
	}
	report_clear(&inner);
	report_clear(&wrep);
	if (have_jo)
		jwe_open_free(&jo);
	json_decref(obj);
	buf_free(&rest);
	return rc;
}

int
message_open(const struct open_opts *o, struct buf *in, struct message *m,
    struct report *rep)
{
	return message_open_text(o, in->p, in->len, m, rep);
}

int
message_names_include(const struct message *m, const char *name)
{
	const char *p = (const char *)m->all_names.p;
	const char *end = p + m->all_names.len;

	for (; p != NULL && p < end; p += strlen(p) + 1)
		if (strcmp(p, name) == 0)
			return 1;
	return 0;
}

int
message_seed_utf8(struct message *m)
{
	struct buf text = BUF_SECRET_INIT;
	int rc;

	if (m->format != MESSAGE_SEED || m->pt_len == 0)
		return 0;
	if ((rc = seed_text_to_utf8(m->pt, m->pt_len, &text)) != 0) {
		buf_free(&text);
		return rc;
	}
	buf_free(&m->own);	/* wipes the Latin-1 */
	m->own = text;
	m->pt = m->own.p;
	m->pt_len = m->own.len;
	return 0;
}

void
message_free(struct message *m)
{
	buf_free(&m->all_names);
	buf_free(&m->own);
	m->pt = NULL;
	m->pt_len = 0;
}

void
message_report(const struct message *m, struct report *rep)
{
	char when[32];
	time_t t = (time_t)m->iat;
	struct tm tm;

	if (m->format == MESSAGE_SEED) {
		report_warn(rep,
		    "seed format: neither the IV nor the sender is "
		    "authenticated");
		if (m->seed_same_keys)
			report_warn(rep,
			    "the sender used the same key for encryption "
			    "and authentication");
	} else if (!m->is_signed) {
		report_warn(rep, "the message is not signed: its sender is not "
		    "authenticated");
	} else if (!m->verified) {
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			snprintf(when, sizeof(when), "%lld", (long long)m->iat);
		if (m->named)
			report_note(rep,
			    "signed by key %s at %s, not verified; it "
			    "says it is from %s, for %s", m->signer_kid, when,
			    m->sub, m->aud_names);
		else
			report_note(rep, "signed by key %s at %s, not verified",
			    m->signer_kid, when);
		report_hint(rep,
		    "give the sender's public key with --verify PUBKEY");
	} else if (m->verify_by_name && !m->named) {
		report_warn(rep,
		    "the sender's name is not signed (an older version "
		    "wrote the message): its key is verified, not its name");
	} else if (!m->verify_by_name && m->named) {
		report_warn(rep,
		    "the message is signed as from %s; --verify with a "
		    "key file checks the key, not that name (--verify %s "
		    "checks both)", m->sub, m->sub);
	}
	if (m->uncommitted_group)
		report_warn(rep, "A256GCM with several recipients and no key "
		    "commitment: other recipients may have read a different "
		    "message");
}
