/*
 * Is this an envelope? (lib/format/detect.c) e2e-send refuses what is not
 * one, so that plaintext never leaves by mistake. Real envelopes (made
 * here by message_seal and seed_encrypt, and the committed golden
 * vectors) pass, general and flattened; everything else is refused with
 * a reason: not JSON, other JSON, members a JWE does not have, a
 * protected header that does not name RSA-OAEP-256 and a known enc,
 * recipients empty or over 256, iv/ciphertext/tag missing or not
 * base64url, duplicate members at any level (J8), invalid UTF-8, NUL.
 */
#include "harness.h"
#include "keys_fixture.h"

#include <dirent.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/jsonio.h"
#include "format/crypto.h"
#include "format/detect.h"
#include "format/jwe.h"
#include "format/jwk.h"
#include "format/keyfile.h"
#include "format/message.h"
#include "format/seed.h"

#define GOLDEN_DIR "tests/vectors/golden"

static EVP_PKEY *k_alice, *k_bob;
static char kid_alice[KID_SIZE], kid_bob[KID_SIZE];
static char why[256];

/* A real one, made in main(): bob's, A256GCM, signed by alice. */
static struct buf real_jwe = BUF_INIT;

/* The kind of text; for ENVELOPE_NONE, the reason (one error, 65) in
 * why, and none for an envelope. */
static enum envelope_kind
kind_of(const char *text, size_t len)
{
	struct report rep = { 0 };
	enum envelope_kind k = detect_envelope(text, len, &rep);

	CHECKF(k == ENVELOPE_NONE ? rep.code == E2E_EX_DATAERR &&
	    rep.nlines == 1 : !report_said(&rep),
	    "kind %d with a report of code %d and %d lines", (int)k, rep.code,
	    rep.nlines);
	/* The verdict alone, without a report, is the same. */
	CHECK(detect_envelope(text, len, NULL) == k);
	snprintf(why, sizeof(why), "%s", report_message(&rep));
	return k;
}

static enum envelope_kind
kind_str(const char *text)
{
	return kind_of(text, strlen(text));
}

/* v as compact JSON (taken), then its kind. */
static enum envelope_kind
kind_json(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);
	enum envelope_kind k;

	json_decref(v);
	if (s == NULL)
		exit(2);
	k = kind_str(s);
	free(s);
	return k;
}

/* The real envelope, parsed: the base the cases change. */
static json_t *
base(void)
{
	json_t *v = jsonio_parse((const char *)real_jwe.p, real_jwe.len,
	    NULL);

	if (v == NULL)
		exit(2);
	return v;
}

static int
seal(const char *enc, int sign, const char *pt, struct buf *out)
{
	struct jwe_recipient r;
	struct seal_opts o;
	struct sink s = sink_buf(out);

	memset(&r, 0, sizeof(r));
	r.pub = k_bob;
	memcpy(r.kid, kid_bob, KID_SIZE);
	memset(&o, 0, sizeof(o));
	o.enc = jwe_enc_by_name(enc);
	o.r = &r;
	o.nr = 1;
	o.signer = sign ? k_alice : NULL;
	o.signer_kid = sign ? kid_alice : NULL;
	return message_seal(&o, (const uint8_t *)pt, strlen(pt), &s, NULL);
}

static void
real_envelopes(void)
{
	static const char *const encs[] = { "A256CBC-HS512", "A256GCM" };
	struct buf b = BUF_INIT;
	size_t i;
	int sign;

	for (i = 0; i < 2; i++)
		for (sign = 0; sign < 2; sign++) {
			buf_clear(&b);
			CHECK(seal(encs[i], sign, "hello bob", &b) == 0);
			CHECKF(kind_of((const char *)b.p, b.len) ==
			    ENVELOPE_JWE, "%s signed %d: %s", encs[i], sign,
			    why);
			/* Without its final newline (as the server keeps
			 * it), and with CRLF. */
			CHECK(b.len > 0 && b.p[b.len - 1] == '\n');
			CHECK(kind_of((const char *)b.p, b.len - 1) ==
			    ENVELOPE_JWE);
			b.p[b.len - 1] = '\r';
			CHECK(buf_append(&b, "\n", 1) == 0);
			CHECK(kind_of((const char *)b.p, b.len) ==
			    ENVELOPE_JWE);
		}
	buf_free(&b);
	/* Leading blank space too. */
	{
		struct buf c = BUF_INIT;

		CHECK(buf_append(&c, " \n\t", 3) == 0 &&
		    buf_append(&c, real_jwe.p, real_jwe.len) == 0);
		CHECK(kind_of((const char *)c.p, c.len) == ENVELOPE_JWE);
		buf_free(&c);
	}
}

/* Each golden envelope, its placeholders ("@ENCRYPTED_KEY@", ...)
 * replaced by base64url as the real ones hold. */
static void
golden_envelopes(void)
{
	DIR *d = opendir(GOLDEN_DIR);
	struct dirent *e;
	char path[512], *text, *out, *p, *q;
	size_t len, n = 0;
	FILE *f;

	CHECK(d != NULL);
	while (d != NULL && (e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len < 4 || strcmp(e->d_name + len - 4, ".jwe") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, e->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			exit(2);
		text = calloc(1, 1 << 16);
		out = calloc(1, 1 << 17);
		if (text == NULL || out == NULL)
			exit(2);
		len = fread(text, 1, (1 << 16) - 1, f);
		fclose(f);
		/* Copy, each @WORD@ becoming 342 base64url characters (an
		 * RSA-2048 block). */
		for (p = text, q = out; *p != '\0';) {
			char *end;

			if (*p == '@' && (end = strchr(p + 1, '@')) != NULL) {
				memset(q, 'Q', 342);
				q += 342;
				p = end + 1;
			} else {
				*q++ = *p++;
			}
		}
		CHECKF(kind_str(out) == ENVELOPE_JWE, "%s: %s", e->d_name,
		    why);
		/* As it is, "@" is not base64url: refused. */
		CHECKF(kind_of(text, len) == ENVELOPE_NONE, "%s with its "
		    "placeholders", e->d_name);
		free(text);
		free(out);
		n++;
	}
	if (d != NULL)
		closedir(d);
	CHECKF(n >= 10, "only %zu golden envelopes", n);
}

/* The flattened serialization: one recipient's members at the top. */
static void
flattened(void)
{
	json_t *v = base(), *r0;

	r0 = json_array_get(json_object_get(v, "recipients"), 0);
	json_object_set(v, "header", json_object_get(r0, "header"));
	json_object_set(v, "encrypted_key", json_object_get(r0,
	    "encrypted_key"));
	json_object_del(v, "recipients");
	CHECK(kind_json(json_incref(v)) == ENVELOPE_JWE);
	/* Without its encrypted_key it has no recipient at all. */
	json_object_del(v, "encrypted_key");
	CHECK(kind_json(json_incref(v)) == ENVELOPE_NONE);
	CHECKF(strstr(why, "recipients") != NULL, "%s", why);
	json_decref(v);
	/* Both forms at once. */
	v = base();
	json_object_set_new(v, "encrypted_key", json_string("QUFB"));
	CHECK(kind_json(v) == ENVELOPE_NONE);
}

static void
seed_messages(void)
{
	EVP_PKEY *pub = NULL;
	struct buf b = BUF_INIT;
	struct sink s = sink_buf(&b);
	json_t *v;
	int i;

	CHECK(keyfile_load_public(KEY_DIR "/bob.pub", &pub, NULL) == 0);
	/* Several, so that "&" and "+" (replaced in the text) turn up. */
	for (i = 0; i < 8; i++) {
		buf_clear(&b);
		CHECK(seed_encrypt(pub, (const uint8_t *)"hello & + bob", 13,
		    &s, NULL) == 0);
		CHECKF(kind_of((const char *)b.p, b.len) == ENVELOPE_SEED,
		    "seed %d: %s", i, why);
		CHECK(kind_of((const char *)b.p, b.len - 1) == ENVELOPE_SEED);
	}
	/* Broken ones: a member missing, one more, a number. */
	seed_unreplace((char *)b.p, &b.len);
	v = jsonio_parse_flags((const char *)b.p, b.len, JSON_ALLOW_NUL,
	    NULL);
	CHECK(v != NULL);
	if (v != NULL) {
		json_t *w = json_deep_copy(v);

		json_object_del(w, "tag");
		CHECK(kind_json(w) == ENVELOPE_NONE);
		CHECKF(strstr(why, "seed") != NULL, "%s", why);
		w = json_deep_copy(v);
		json_object_set_new(w, "x", json_string("y"));
		CHECK(kind_json(w) == ENVELOPE_NONE);
		w = json_deep_copy(v);
		json_object_set_new(w, "ct", json_integer(1));
		CHECK(kind_json(w) == ENVELOPE_NONE);
		json_decref(v);
	}
	CHECK(kind_str("{\"RSACipher\":\"a\"}") == ENVELOPE_NONE);
	EVP_PKEY_free(pub);
	buf_free(&b);
}

/* Refused, with some reason given. */
static void
refused(enum envelope_kind k, const char *what)
{
	CHECKF(k == ENVELOPE_NONE, "%s: taken as kind %d", what, (int)k);
	if (k == ENVELOPE_NONE)
		CHECKF(why[0] != '\0', "%s: no reason", what);
}

static void
not_json(void)
{
	static const char nul[] = "{\"iv\":\0}";

	refused(kind_str(""), "empty");
	CHECKF(strstr(why, "empty") != NULL, "%s", why);
	refused(kind_str(" \r\n\t \n"), "blank");
	CHECKF(strstr(why, "empty") != NULL, "%s", why);
	refused(kind_str("hello bob, the code is 1234\n"), "plaintext");
	CHECKF(strstr(why, "not JSON") != NULL, "%s", why);
	refused(kind_str("-----BEGIN PGP MESSAGE-----\n"), "PGP");
	refused(kind_str("[{\"protected\":\"x\"}]"), "an array");
	refused(kind_str("\"eyJhbGciOi\""), "a string");
	refused(kind_str("42"), "a number");
	refused(kind_str("null"), "null");
	refused(kind_str("{"), "cut");
	refused(kind_str("{}"), "an empty object");
	refused(kind_str("{\"message\":\"hello\"}"), "other JSON");
	refused(kind_of(nul, sizeof(nul) - 1), "a NUL byte");
	/* Two envelopes in a row are not one. */
	{
		struct buf two = BUF_INIT;

		buf_append(&two, real_jwe.p, real_jwe.len);
		buf_append(&two, real_jwe.p, real_jwe.len);
		refused(kind_of((const char *)two.p, two.len), "two");
		buf_free(&two);
	}
}

/* The length given is what counts, not a NUL. */
static void
length_respected(void)
{
	struct buf b = BUF_INIT;

	buf_append(&b, real_jwe.p, real_jwe.len);
	buf_append(&b, "garbage", 7);
	CHECK(kind_of((const char *)b.p, real_jwe.len) == ENVELOPE_JWE);
	refused(kind_of((const char *)b.p, b.len), "trailing garbage");
	refused(kind_of((const char *)b.p, real_jwe.len / 2), "half");
	buf_free(&b);
}

static void
members(void)
{
	json_t *v;

	v = base();
	json_object_set_new(v, "text", json_string("hello"));
	refused(kind_json(v), "an unknown member");
	CHECKF(strstr(why, "members") != NULL, "%s", why);
	v = base();
	json_object_set_new(v, "zip", json_string("DEF"));
	refused(kind_json(v), "zip at the top");
	v = base();
	json_object_set_new(v, "payload", json_string("QUFB"));
	refused(kind_json(v), "a JWS member");
	/* A flattened member beside recipients: neither form (the reader,
	 * lib/format/jwe.c, refuses it). */
	v = base();
	json_object_set_new(v, "header", json_pack("{s:s}", "kid", kid_bob));
	refused(kind_json(v), "header beside recipients");
	/* The optional members a JWE may have are fine. */
	v = base();
	json_object_set_new(v, "unprotected", json_pack("{s:s}", "jku",
	    "x"));
	json_object_set_new(v, "aad", json_string("QUFB"));
	CHECK(kind_json(v) == ENVELOPE_JWE);
}

/* The header says "types, base64url": the optional members too. */
static void
optional_members_typed(void)
{
	json_t *v;

	v = base();
	json_object_set_new(v, "aad", json_string("my secret, in clear"));
	refused(kind_json(v), "aad not base64url");
	v = base();
	json_object_set_new(v, "aad", json_integer(5));
	refused(kind_json(v), "aad a number");
	v = base();
	json_object_set_new(v, "unprotected", json_string("hello"));
	refused(kind_json(v), "unprotected a string");
	v = base();
	json_object_set_new(json_array_get(json_object_get(v, "recipients"),
	    0), "header", json_string("hello"));
	refused(kind_json(v), "a recipient's header a string");
}

/* A protected header made of json_text. */
static enum envelope_kind
with_protected_text(const char *json_text)
{
	struct buf b64 = BUF_INIT;
	json_t *v = base();

	if (b64url_append(&b64, (const uint8_t *)json_text,
	    strlen(json_text)) != 0)
		exit(2);
	json_object_set_new(v, "protected", json_stringn((const char *)b64.p,
	    b64.len));
	buf_free(&b64);
	return kind_json(v);
}

static enum envelope_kind
with_protected(const char *value)
{
	json_t *v = base();

	json_object_set_new(v, "protected", json_string(value));
	return kind_json(v);
}

static void
protected_header(void)
{
	json_t *v;

	CHECK(with_protected_text("{\"alg\":\"RSA-OAEP-256\","
	    "\"enc\":\"A256GCM\"}") == ENVELOPE_JWE);
	CHECK(with_protected_text("{\"alg\":\"RSA-OAEP-256\","
	    "\"enc\":\"A256CBC-HS512\"}") == ENVELOPE_JWE);
	refused(with_protected_text("{\"alg\":\"RSA-OAEP\","
	    "\"enc\":\"A256GCM\"}"), "RSA-OAEP (SHA-1)");
	CHECKF(strstr(why, "RSA-OAEP-256") != NULL, "%s", why);
	refused(with_protected_text("{\"alg\":\"RSA1_5\","
	    "\"enc\":\"A256GCM\"}"), "RSA1_5");
	refused(with_protected_text("{\"alg\":\"dir\",\"enc\":\"A256GCM\"}"),
	    "dir");
	refused(with_protected_text("{\"alg\":\"none\"}"), "none");
	refused(with_protected_text("{\"alg\":\"rsa-oaep-256\","
	    "\"enc\":\"A256GCM\"}"), "alg in lower case");
	refused(with_protected_text("{\"enc\":\"A256GCM\"}"), "no alg");
	refused(with_protected_text("{\"alg\":\"RSA-OAEP-256\"}"), "no enc");
	refused(with_protected_text("{\"alg\":\"RSA-OAEP-256\","
	    "\"enc\":\"A128GCM\"}"), "A128GCM");
	refused(with_protected_text("{\"alg\":\"RSA-OAEP-256\","
	    "\"enc\":\"A128CBC-HS256\"}"), "A128CBC-HS256");
	refused(with_protected_text("{\"alg\":\"RSA-OAEP-256\","
	    "\"enc\":5}"), "enc a number");
	refused(with_protected_text("{\"alg\":[\"RSA-OAEP-256\"],"
	    "\"enc\":\"A256GCM\"}"), "alg a list");
	refused(with_protected_text("{\"alg\":\"RSA-OAEP-256\","
	    "\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\"}"),
	    "alg twice in the header (J8)");
	refused(with_protected_text("[\"RSA-OAEP-256\",\"A256GCM\"]"),
	    "a list");
	refused(with_protected_text("RSA-OAEP-256 A256GCM"), "not JSON");
	refused(with_protected_text(""), "empty");
	refused(with_protected_text("{\"alg\":\"RSA-OAEP-256\","
	    "\"enc\":\"A256GCM\",\"x\":\"\xff\"}"), "invalid UTF-8 inside");
	/* Not base64url. */
	refused(with_protected("eyJhbGciOiJSU0EtT0FFUC0yNTYi!"), "a '!'");
	refused(with_protected("eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2"
	    "R0NNIn0="), "padded");
	refused(with_protected("eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2"
	    "R0NNIn0+/"), "standard base64");
	refused(with_protected("eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2"
	    "R0NNIn0A"), "a length of 4n+1");
	refused(with_protected(""), "an empty string");
	v = base();
	json_object_del(v, "protected");
	refused(kind_json(v), "no protected header");
	v = base();
	json_object_set_new(v, "protected", json_integer(1));
	refused(kind_json(v), "protected a number");
	v = base();
	json_object_set_new(v, "protected", json_pack("{s:s,s:s}", "alg",
	    "RSA-OAEP-256", "enc", "A256GCM"));
	refused(kind_json(v), "protected an object");
}

/* Over 16 KiB decoded: refused before decoding. */
static void
protected_too_long(void)
{
	size_t n = JWE_MAX_PROTECTED * 2 + 4;
	char *s = malloc(n + 1);

	if (s == NULL)
		exit(2);
	memset(s, 'A', n);
	s[n] = '\0';
	refused(with_protected(s), "a huge protected header");
	free(s);
}

static json_t *
recipient(void)
{
	return json_pack("{s:{s:s},s:s}", "header", "kid", kid_bob,
	    "encrypted_key", "QUFBQQ");
}

static void
recipients(void)
{
	json_t *v, *r;
	int i;

	v = base();
	json_object_set_new(v, "recipients", json_array());
	refused(kind_json(v), "no recipients");
	CHECKF(strstr(why, "256") != NULL, "%s", why);
	v = base();
	r = json_array();
	for (i = 0; i < JWE_MAX_RECIPIENTS; i++)
		json_array_append_new(r, recipient());
	json_object_set_new(v, "recipients", r);
	CHECK(kind_json(json_incref(v)) == ENVELOPE_JWE);
	json_array_append_new(r, recipient());
	refused(kind_json(v), "257 recipients");
	v = base();
	json_object_set_new(v, "recipients", recipient());
	refused(kind_json(v), "recipients an object");
	v = base();
	json_object_set_new(v, "recipients", json_pack("[i]", 1));
	refused(kind_json(v), "a recipient a number");
	v = base();
	json_object_set_new(v, "recipients", json_pack("[{}]"));
	refused(kind_json(v), "a recipient without encrypted_key");
	v = base();
	json_object_set_new(v, "recipients", json_pack("[o,{s:s}]",
	    recipient(), "encrypted_key", "QUF+QQ"));
	refused(kind_json(v), "a second recipient's key not base64url");
	v = base();
	json_object_set_new(v, "recipients", json_pack("[{s:i}]",
	    "encrypted_key", 7));
	refused(kind_json(v), "encrypted_key a number");
}

static void
iv_ciphertext_tag(void)
{
	static const char *const names[] = { "iv", "ciphertext", "tag" };
	json_t *v;
	size_t i;

	for (i = 0; i < 3; i++) {
		v = base();
		json_object_del(v, names[i]);
		refused(kind_json(v), names[i]);
		CHECKF(strstr(why, names[i]) != NULL, "no %s: %s", names[i],
		    why);
		v = base();
		json_object_set_new(v, names[i], json_integer(0));
		refused(kind_json(v), names[i]);
		v = base();
		json_object_set_new(v, names[i], json_string("AAAA=="));
		refused(kind_json(v), names[i]);
		v = base();
		json_object_set_new(v, names[i], json_string("AA AA"));
		refused(kind_json(v), names[i]);
		v = base();
		json_object_set_new(v, names[i], json_string("AAAAA"));
		refused(kind_json(v), names[i]);
		v = base();
		json_object_set_new(v, names[i], json_stringn("AA\0A", 4));
		refused(kind_json(v), names[i]);
		v = base();
		json_object_set_new(v, names[i], json_null());
		refused(kind_json(v), names[i]);
	}
	/* An empty ciphertext is one (an empty message in A256GCM). */
	v = base();
	json_object_set_new(v, "ciphertext", json_string(""));
	CHECK(kind_json(v) == ENVELOPE_JWE);
}

/* Replaces the first occurrence of from in the real envelope's text. */
static char *
edited(const char *from, const char *to)
{
	const char *t = (const char *)real_jwe.p, *at;
	char *out;
	size_t n;

	at = memmem(t, real_jwe.len, from, strlen(from));
	if (at == NULL) {
		fprintf(stderr, "no %s in the envelope\n", from);
		exit(2);
	}
	n = real_jwe.len - strlen(from) + strlen(to);
	if ((out = malloc(n + 1)) == NULL)
		exit(2);
	memcpy(out, t, (size_t)(at - t));
	memcpy(out + (at - t), to, strlen(to));
	memcpy(out + (at - t) + strlen(to), at + strlen(from),
	    real_jwe.len - (size_t)(at - t) - strlen(from));
	out[n] = '\0';
	return out;
}

/* J8: jansson would keep the last of two; here both are refused. */
static void
duplicates(void)
{
	char *s;

	s = edited("\"iv\":", "\"iv\":\"AAAA\",\"iv\":");
	refused(kind_str(s), "iv twice");
	free(s);
	s = edited("\"ciphertext\":", "\"ciphertext\":\"AAAA\","
	    "\"ciphertext\":");
	refused(kind_str(s), "ciphertext twice");
	free(s);
	s = edited("\"protected\":", "\"protected\":\"e30\",\"protected\":");
	refused(kind_str(s), "protected twice");
	free(s);
	s = edited("{\"kid\":", "{\"kid\":\"x\",\"kid\":");
	refused(kind_str(s), "kid twice in a recipient's header");
	free(s);
	s = edited("\"encrypted_key\":", "\"encrypted_key\":\"QUFB\","
	    "\"encrypted_key\":");
	refused(kind_str(s), "encrypted_key twice");
	free(s);
}

static void
utf8_and_nul(void)
{
	char *s;

	s = edited("{\"kid\":\"", "{\"kid\":\"\xff");
	refused(kind_str(s), "a 0xff byte");
	free(s);
	s = edited("{\"kid\":\"", "{\"kid\":\"\xc0\xaf");
	refused(kind_str(s), "an overlong /");
	free(s);
	s = edited("{\"kid\":\"", "{\"kid\":\"\xed\xa0\x80");
	refused(kind_str(s), "a UTF-8 surrogate");
	free(s);
	s = edited("{\"kid\":\"", "{\"kid\":\"\\ud800");
	refused(kind_str(s), "a lone surrogate escape");
	free(s);
	/* NUL: as a raw byte, and escaped in a member value. */
	{
		char *t = edited("\"iv\":\"", "\"iv\":\"@");
		char *at = strchr(t, '@');

		*at = '\0';
		refused(kind_of(t, strlen(t) + 1 + strlen(at + 1)),
		    "a raw NUL");
		free(t);
	}
	s = edited("\"iv\":\"", "\"iv\":\"\\u0000");
	refused(kind_str(s), "an escaped NUL in iv");
	free(s);
	s = edited("{\"kid\":\"", "{\"kid\":\"\\u0000");
	/* A kid may be any string to this check; a NUL one must not
	 * crash it. */
	(void)kind_str(s);
	free(s);
}

/* The reason is for a terminal: jansson quotes the input in its
 * messages, which must come out escaped. */
static void
why_terminal_safe(void)
{
	struct report rep = { 0 };
	size_t i;
	int ctl = 0;

	refused(kind_str("{\"a\x1b[2J\x07\":\x1b]0;pwned\x07}"), "escapes");
	for (i = 0; why[i] != '\0'; i++)
		if ((unsigned char)why[i] < 0x20 || why[i] == 0x7f)
			ctl++;
	CHECKF(ctl == 0, "%d control characters in \"%s\"", ctl, why);
	/* The reason is the report's one error, in words a caller quotes
	 * ("the input is not an envelope (%s)"). */
	CHECK(detect_envelope("hello", 5, &rep) == ENVELOPE_NONE);
	CHECK(rep.code == E2E_EX_DATAERR && rep.nlines == 1);
	CHECKF(strcmp(report_message(&rep), "it is not JSON") == 0, "%s",
	    report_message(&rep));
}

int
main(void)
{
	struct buf b = BUF_INIT;

	if (crypto_init(NULL) != 0)
		return 2;
	k_alice = fixture_private("alice");
	k_bob = fixture_private("bob");
	if (jwk_thumbprint(k_alice, kid_alice, NULL) != 0 ||
	    jwk_thumbprint(k_bob, kid_bob, NULL) != 0)
		return 2;
	if (seal("A256GCM", 1, "hello bob", &b) != 0)
		return 2;
	/* Without its newline: the server keeps it so. */
	b.len--;
	real_jwe = b;

	RUN(real_envelopes);
	RUN(golden_envelopes);
	RUN(flattened);
	RUN(seed_messages);
	RUN(not_json);
	RUN(length_respected);
	RUN(members);
	RUN(optional_members_typed);
	RUN(protected_header);
	RUN(protected_too_long);
	RUN(recipients);
	RUN(iv_ciphertext_tag);
	RUN(duplicates);
	RUN(utf8_and_nul);
	RUN(why_terminal_safe);

	buf_free(&real_jwe);
	EVP_PKEY_free(k_alice);
	EVP_PKEY_free(k_bob);
	return harness_end();
}
