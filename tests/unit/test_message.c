/*
 * Unit tests of the message layer (lib/format/message.c) and the parts it is
 * made of: round trips, the fields of struct message, wrong keys,
 * --verify (E1, E2, E6), the aud check against surreptitious forwarding
 * (E3), the signed names and --verify NAME (I2), keys embedded in the signed header (J5), the content key length
 * (J15), duplicate members around the ciphertext scan (J8),
 * jsonio_member_span, term_escape and friends, seed_unreplace (L6), key
 * ids (K13 style, against jwcrypto), rsa_check (J17) and secret
 * buffers. (Key files are test_keyfile's, cli_parse_size test_cli's.)
 *
 * Runs from the project root (it reads tests/vectors/keys).
 */
#include "harness.h"
#include "keys_fixture.h"

#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/jsonio.h"
#include "base/term.h"
#include "format/crypto.h"
#include "format/jwe.h"
#include "format/jwk.h"
#include "format/jws.h"
#include "format/keyfile.h"
#include "format/message.h"
#include "format/rsa.h"
#include "format/seed.h"

enum { ALICE, BOB, CAROL, NPEOPLE };
static const char *const names[NPEOPLE] = { "alice", "bob", "carol" };
static EVP_PKEY *pk[NPEOPLE];
static char kid[NPEOPLE][KID_SIZE];

/* ---------------------------------------------------------------- */
/* Helpers */

static void
unpin(void)
{
	static const uint8_t none[1];

	crypto_test_set_random(none, 0);
	crypto_test_set_now(0);
}

/* Seals pt for the people in who[0..nr), signed by signer (or -1). */
static int
seal(const char *enc, const int *who, size_t nr, int signer,
    const void *pt, size_t len, struct buf *out)
{
	struct jwe_recipient r[NPEOPLE];
	struct seal_opts o;
	struct sink s = sink_buf(out);
	size_t i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < nr; i++) {
		r[i].pub = pk[who[i]];
		memcpy(r[i].kid, kid[who[i]], KID_SIZE);
	}
	memset(&o, 0, sizeof(o));
	o.enc = jwe_enc_by_name(enc);
	o.r = r;
	o.nr = nr;
	o.signer = signer >= 0 ? pk[signer] : NULL;
	o.signer_kid = signer >= 0 ? kid[signer] : NULL;
	buf_clear(out);
	/* Said as the tool would, where the caller captures. */
	return rep_shown_rc(message_seal(&o, pt, len, &s, &t_rep));
}

/* jwe_encrypt of arbitrary content (for hand-made inner JWSs). */
static int
encrypt_raw(const char *enc, const char *cty, const int *who, size_t nr,
    const void *pt, size_t len, struct buf *out)
{
	struct jwe_recipient r[NPEOPLE];
	struct sink s = sink_buf(out);
	size_t i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < nr; i++) {
		r[i].pub = pk[who[i]];
		memcpy(r[i].kid, kid[who[i]], KID_SIZE);
	}
	buf_clear(out);
	return jwe_encrypt(jwe_enc_by_name(enc), cty, r, nr, pt, len, &s, NULL);
}

/* What the last message_open said (its report, emptied here): the
 * refusal's error and hint, as e2e-decrypt prints them. */
static char m_error[REPORT_TEXT], m_hint[REPORT_TEXT];

static void
said(void)
{
	int i;

	snprintf(m_error, sizeof(m_error), "%s", report_message(&t_rep));
	m_hint[0] = '\0';
	for (i = 0; i < t_rep.nlines; i++)
		if (t_rep.line[i].level == REPORT_HINT) {
			snprintf(m_hint, sizeof(m_hint), "%s",
			    t_rep.line[i].text);
			break;
		}
	report_clear(&t_rep);
}

/*
 * message_open of a copy of env (it decrypts in place) as person who,
 * requiring a signature by verify (or -1). The plaintext is copied to
 * pt. Every refusal must release no plaintext: checked here, always.
 */
static int
open_as(const struct buf *env, int who, int verify, struct message *m,
    struct buf *pt)
{
	struct buf in = BUF_INIT;
	struct open_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.key = pk[who];
	o.kid = kid[who];
	o.verify = verify >= 0 ? pk[verify] : NULL;
	o.verify_kid = verify >= 0 ? kid[verify] : NULL;
	buf_append(&in, env->p, env->len);
	rc = message_open(&o, &in, m, &t_rep);
	said();
	buf_clear(pt);
	if (rc == 0) {
		buf_append(pt, m->pt, m->pt_len);
	} else {
		CHECKF(m->pt == NULL && m->pt_len == 0,
		    "a refused message left plaintext (rc %d)", rc);
		CHECKF(m_error[0] != '\0', "a refusal without an error");
	}
	message_free(m);
	buf_free(&in);
	return rc;
}

static int
same(const struct buf *b, const void *p, size_t n)
{
	return b->len == n && (n == 0 || memcmp(b->p, p, n) == 0);
}

/* Replaces the first occurrence of from (in env) by to. */
static int
replace(struct buf *env, const char *from, const char *to)
{
	struct buf out = BUF_INIT;
	const uint8_t *q = memmem(env->p, env->len, from, strlen(from));

	if (q == NULL)
		return -1;
	buf_append(&out, env->p, (size_t)(q - env->p));
	buf_append_str(&out, to);
	q += strlen(from);
	buf_append(&out, q, env->len - (size_t)(q - env->p));
	buf_free(env);
	*env = out;
	return 0;
}

/* The value of the first member name (a plain string) in env. */
static int
member(const struct buf *env, const char *name, char *out, size_t size)
{
	char key[64];
	const uint8_t *q, *e;

	snprintf(key, sizeof(key), "\"%s\":\"", name);
	if ((q = memmem(env->p, env->len, key, strlen(key))) == NULL)
		return -1;
	q += strlen(key);
	e = memchr(q, '"', env->len - (size_t)(q - env->p));
	if (e == NULL || (size_t)(e - q) >= size)
		return -1;
	memcpy(out, q, (size_t)(e - q));
	out[e - q] = '\0';
	return 0;
}

/* A compact JWS over payload with the given header, signed by signer. */
static void
make_jws(int signer, const char *header, const void *payload, size_t len,
    struct buf *out)
{
	buf_clear(out);
	CHECK(jws_sign(pk[signer], header, payload, len, out, NULL) == 0);
}

/* The signed header message_seal would write, with a chosen aud. */
static void
signed_header(int from, const char *aud, const char *extra, char *out,
    size_t size)
{
	snprintf(out, size, "{\"alg\":\"PS256\",\"typ\":\"e2e-msg+jws\","
	    "\"kid\":\"%s\",\"iss\":\"%s\",\"aud\":[%s],\"iat\":1700000000,"
	    "\"jti\":\"AAECAwQFBgcICQoLDA0ODw\"%s}", kid[from], kid[from], aud,
	    extra);
}

/* ---------------------------------------------------------------- */
/* Round trips and the fields of struct message */

/* E6 in its positive form: every layer checks out for every recipient,
 * for both content algorithms, signed or not, with empty, binary and
 * multi-chunk plaintexts. */
static void
roundtrip(void)
{
	static const char *const encs[] = { "A256CBC-HS512", "A256GCM" };
	static const int order[NPEOPLE] = { BOB, CAROL, ALICE };
	struct buf env = BUF_INIT, pt = BUF_INIT;
	struct message m;
	uint8_t bin[256], *big;
	struct { const void *p; size_t n; const char *name; } pts[4];
	size_t e, nr, i, k;
	int sign, rc;

	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(255 - i);	/* every byte, NUL included */
	big = malloc(100003);
	if (big == NULL)
		exit(2);
	for (i = 0; i < 100003; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 8));
	/* A table, and one loop over four counters. */
	/* clang-format off */
	pts[0].p = ""; pts[0].n = 0; pts[0].name = "empty";
	pts[1].p = "hello"; pts[1].n = 5; pts[1].name = "hello";
	pts[2].p = bin; pts[2].n = sizeof(bin); pts[2].name = "binary";
	/* Crosses jwe_encrypt's 48 KiB chunks and isn't a block multiple. */
	pts[3].p = big; pts[3].n = 100003; pts[3].name = "100003 bytes";

	for (e = 0; e < 2; e++)
	for (sign = 0; sign <= 1; sign++)
	for (nr = 1; nr <= NPEOPLE; nr++)
	for (k = 0; k < 4; k++) {
		rc = seal(encs[e], order, nr, sign ? ALICE : -1, pts[k].p,
		    pts[k].n, &env);
		CHECKF(rc == 0, "seal %s %s %zu %s", encs[e],
		    sign ? "signed" : "unsigned", nr, pts[k].name);
		for (i = 0; i < NPEOPLE; i++) {
			rc = open_as(&env, order[i], -1, &m, &pt);
			if (i >= nr) {
				/* Not a recipient. */
				CHECKF(rc == 65, "%s opened a message for %zu",
				    names[order[i]], nr);
				continue;
			}
			CHECKF(rc == 0 && same(&pt, pts[k].p, pts[k].n),
			    "%s %s %zu recipients %s: %s cannot open (%d)",
			    encs[e], sign ? "signed" : "unsigned", nr,
			    pts[k].name, names[order[i]], rc);
			CHECK(m.format == MESSAGE_JWE);
			CHECK(m.is_signed == sign);
			CHECK(m.verified == 0);
			CHECK(m.enc != NULL && strcmp(m.enc, encs[e]) == 0);
			CHECK(m.nrecipients == nr);
			CHECK(m.uncommitted_group == 0);
			CHECK(strcmp(m.signer_kid, sign ? kid[ALICE] : "") ==
			    0);
		}
		if (sign) {
			/* The last recipient verifies the signature. */
			rc = open_as(&env, order[nr - 1], ALICE, &m, &pt);
			CHECK(rc == 0 && m.verified == 1 &&
			    same(&pt, pts[k].p, pts[k].n));
		}
	}
	/* clang-format on */
	free(big);
	buf_free(&env);
	buf_free(&pt);
}

static void
message_fields(void)
{
	static const int to[] = { BOB, CAROL };
	uint8_t jti[16];
	struct buf env = BUF_INIT, pt = BUF_INIT;
	struct message m;
	size_t i;

	for (i = 0; i < sizeof(jti); i++)
		jti[i] = (uint8_t)i;
	/* Signed: the message id is the first random draw. */
	crypto_test_set_random(jti, sizeof(jti));
	crypto_test_set_now(1234567890);
	CHECK(crypto_now() == 1234567890);
	CHECK(seal("A256GCM", to, 2, ALICE, "fields", 6, &env) == 0);
	unpin();
	CHECK(open_as(&env, CAROL, -1, &m, &pt) == 0);
	CHECK(same(&pt, "fields", 6));
	CHECK(m.format == MESSAGE_JWE);
	CHECK(m.is_signed == 1);
	CHECK(m.verified == 0);
	CHECK(strcmp(m.signer_kid, KID_ALICE) == 0);
	CHECK(m.iat == 1234567890);
	CHECKF(strcmp(m.jti, "AAECAwQFBgcICQoLDA0ODw") == 0, "jti %s", m.jti);
	CHECK(m.enc != NULL && strcmp(m.enc, "A256GCM") == 0);
	CHECK(m.nrecipients == 2);
	CHECK(m.uncommitted_group == 0);
	CHECK(m.seed_same_keys == 0);
	CHECK(m_error[0] == '\0' && m_hint[0] == '\0');
	CHECK(open_as(&env, BOB, ALICE, &m, &pt) == 0);
	CHECK(m.verified == 1 && m.iat == 1234567890);

	/* Unpinned, the clock is the real one again. */
	CHECK(llabs((long long)(crypto_now() - (int64_t)time(NULL))) < 5);

	/* Unsigned: no signer, time or id. */
	CHECK(seal("A256CBC-HS512", to, 1, -1, "fields", 6, &env) == 0);
	CHECK(open_as(&env, BOB, -1, &m, &pt) == 0);
	CHECK(m.is_signed == 0 && m.verified == 0);
	CHECK(m.signer_kid[0] == '\0' && m.iat == 0 && m.jti[0] == '\0');
	CHECK(m.enc != NULL && strcmp(m.enc, "A256CBC-HS512") == 0);
	CHECK(m.nrecipients == 1);
	buf_free(&env);
	buf_free(&pt);
}

/* The key a keyring would hand out for a signer's key id. */
static int lookup_answer = -1;

static EVP_PKEY *
lookup(void *arg, const char *k)
{
	(void)arg;
	(void)k;
	return lookup_answer >= 0 ? pk[lookup_answer] : NULL;
}

static int
open_looked_up(const struct buf *env, int who, int answer, int require,
    struct message *m)
{
	struct buf in = BUF_INIT;
	struct open_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.key = pk[who];
	o.kid = kid[who];
	o.signer_key = lookup;
	o.require_signer = require;
	o.signer_what = "the keys pinned for alice";
	lookup_answer = answer;
	buf_append(&in, env->p, env->len);
	rc = message_open(&o, &in, m, &t_rep);
	said();
	if (rc != 0)
		CHECKF(m->pt == NULL && m_error[0] != '\0',
		    "a refusal released plaintext or said nothing");
	buf_free(&in);
	return rc;
}

/* E1, E2, E6 with the signer looked up by key id (a keyring). */
static void
signer_lookup(void)
{
	static const int to[] = { BOB };
	struct buf env = BUF_INIT;
	struct message m;

	CHECK(seal("A256CBC-HS512", to, 1, ALICE, "hi", 2, &env) == 0);
	/* Pinned: verified. */
	CHECK(open_looked_up(&env, BOB, ALICE, 0, &m) == 0);
	CHECK(m.verified == 1 && strcmp(m.signer_kid, KID_ALICE) == 0);
	message_free(&m);
	/* E6: a key found that does not verify: refused, not unverified. */
	CHECK(open_looked_up(&env, BOB, CAROL, 0, &m) == 65);
	CHECK(strstr(m_error, "not valid") != NULL);
	message_free(&m);
	/* Unknown signer: shown unverified, or refused when required. */
	CHECK(open_looked_up(&env, BOB, -1, 0, &m) == 0);
	CHECK(m.verified == 0 && m.is_signed == 1);
	message_free(&m);
	CHECK(open_looked_up(&env, BOB, -1, 1, &m) == 65);
	CHECK(strstr(m_error, "not among the keys pinned for alice") != NULL);
	message_free(&m);
	/* E1: an unsigned message when a signer is required. */
	CHECK(seal("A256CBC-HS512", to, 1, -1, "hi", 2, &env) == 0);
	CHECK(open_looked_up(&env, BOB, ALICE, 1, &m) == 65);
	CHECK(strstr(m_error, "not signed") != NULL);
	message_free(&m);
	CHECK(open_looked_up(&env, BOB, ALICE, 0, &m) == 0);
	CHECK(m.verified == 0 && m.is_signed == 0);
	message_free(&m);
	buf_free(&env);
}

/* ---------------------------------------------------------------- */
/* Refusals */

static void
wrong_key(void)
{
	static const int bob[] = { BOB }, bob_alice[] = { BOB, ALICE };
	struct buf env = BUF_INIT, pt = BUF_INIT;
	struct message m;
	char want[200];

	CHECK(seal("A256CBC-HS512", bob, 1, -1, "x", 1, &env) == 0);
	CHECK(open_as(&env, CAROL, -1, &m, &pt) == 65);
	CHECK(strcmp(m_error, MESSAGE_CANNOT_DECRYPT) == 0);
	/* The hint names the message's key and the reader's. */
	snprintf(want, sizeof(want), "this message is for key %s; your key "
	    "is %s", KID_BOB, KID_CAROL);
	CHECKF(strcmp(m_hint, want) == 0, "hint: %s", m_hint);

	CHECK(seal("A256GCM", bob_alice, 2, ALICE, "x", 1, &env) == 0);
	CHECK(open_as(&env, CAROL, -1, &m, &pt) == 65);
	CHECK(strcmp(m_error, MESSAGE_CANNOT_DECRYPT) == 0);
	CHECKF(strstr(m_hint, "keys") != NULL &&
	    strstr(m_hint, KID_BOB) != NULL &&
	    strstr(m_hint, KID_ALICE) != NULL &&
	    strstr(m_hint, KID_CAROL) != NULL, "hint: %s", m_hint);
	/* Verifying does not change what a non-recipient is told. */
	CHECK(open_as(&env, CAROL, ALICE, &m, &pt) == 65);
	CHECK(strcmp(m_error, MESSAGE_CANNOT_DECRYPT) == 0);
	buf_free(&env);
	buf_free(&pt);
}

/* J3: an entry that names our key but whose key we cannot unwrap fails
 * like any cryptographic failure: the one error, and no hint. */
static void
unwrap_failure_has_no_hint(void)
{
	static const int bob[] = { BOB };
	struct buf env = BUF_INIT, pt = BUF_INIT;
	struct message m;
	char tag[64], from[80], to[80];

	CHECK(seal("A256CBC-HS512", bob, 1, -1, "x", 1, &env) == 0);
	/* The per-recipient header is not protected: relabel bob's entry. */
	CHECK(replace(&env, KID_BOB, KID_CAROL) == 0);
	CHECK(open_as(&env, CAROL, -1, &m, &pt) == 65);
	CHECK(strcmp(m_error, MESSAGE_CANNOT_DECRYPT) == 0);
	CHECKF(m_hint[0] == '\0', "hint: %s", m_hint);

	/* A wrong tag: the same. */
	CHECK(seal("A256GCM", bob, 1, -1, "x", 1, &env) == 0);
	CHECK(member(&env, "tag", tag, sizeof(tag)) == 0);
	snprintf(from, sizeof(from), "\"tag\":\"%s\"", tag);
	tag[0] = tag[0] == 'A' ? 'B' : 'A';
	snprintf(to, sizeof(to), "\"tag\":\"%s\"", tag);
	CHECK(replace(&env, from, to) == 0);
	CHECK(open_as(&env, BOB, -1, &m, &pt) == 65);
	CHECK(strcmp(m_error, MESSAGE_CANNOT_DECRYPT) == 0);
	CHECK(m_hint[0] == '\0');
	buf_free(&env);
	buf_free(&pt);
}

/* --verify (E1, E2, E6). */
static void
verify_semantics(void)
{
	static const int bob[] = { BOB };
	struct buf env = BUF_INIT, pt = BUF_INIT, jws = BUF_INIT;
	struct message m;
	char hdr[600], aud[64];

	CHECK(seal("A256CBC-HS512", bob, 1, ALICE, "hi", 2, &env) == 0);
	CHECK(open_as(&env, BOB, ALICE, &m, &pt) == 0);
	CHECK(m.is_signed == 1 && m.verified == 1 && same(&pt, "hi", 2));

	/* Signed by alice, but --verify names carol: both kids named. */
	CHECK(open_as(&env, BOB, CAROL, &m, &pt) == 65);
	CHECKF(strstr(m_error, KID_ALICE) != NULL &&
	    strstr(m_error, KID_CAROL) != NULL &&
	    strstr(m_error, "signed by key") != NULL, "error: %s", m_error);
	CHECK(m_hint[0] == '\0');

	/* E1: unsigned, with --verify. */
	CHECK(seal("A256GCM", bob, 1, -1, "hi", 2, &env) == 0);
	CHECK(open_as(&env, BOB, ALICE, &m, &pt) == 65);
	CHECKF(strstr(m_error, "not signed") != NULL, "error: %s", m_error);

	/* E2/E6: a valid envelope around a JWS that claims alice (kid and
	 * iss) but was signed by carol. Without --verify it opens but is
	 * never reported as verified; with --verify alice it is refused. */
	snprintf(aud, sizeof(aud), "\"%s\"", kid[BOB]);
	signed_header(ALICE, aud, "", hdr, sizeof(hdr));
	make_jws(CAROL, hdr, "forged", 6, &jws);
	CHECK(encrypt_raw("A256CBC-HS512", JWE_CTY_SIGNED, bob, 1, jws.p,
	    jws.len, &env) == 0);
	CHECK(open_as(&env, BOB, -1, &m, &pt) == 0);
	CHECK(m.is_signed == 1 && m.verified == 0);
	CHECK(strcmp(m.signer_kid, KID_ALICE) == 0);
	CHECK(open_as(&env, BOB, ALICE, &m, &pt) == 65);
	CHECKF(strstr(m_error, "not valid") != NULL &&
	    strstr(m_error, KID_ALICE) != NULL, "error: %s", m_error);
	CHECK(open_as(&env, BOB, CAROL, &m, &pt) == 65);

	/* E1: the same JWS made by alice, but the envelope drops "cty":
	 * it is then just bytes, never a verified message. */
	make_jws(ALICE, hdr, "stripped", 8, &jws);
	CHECK(encrypt_raw("A256GCM", NULL, bob, 1, jws.p, jws.len,
	    &env) == 0);
	CHECK(open_as(&env, BOB, -1, &m, &pt) == 0);
	CHECK(m.is_signed == 0 && m.verified == 0);
	CHECK(same(&pt, jws.p, jws.len));
	CHECK(open_as(&env, BOB, ALICE, &m, &pt) == 65);
	CHECKF(strstr(m_error, "not signed") != NULL, "error: %s", m_error);

	/* E1: "alg":"none" with an empty signature, and "cty" saying
	 * signed content that is no JWS at all: refused even without
	 * --verify. */
	{
		struct buf none = BUF_INIT;
		char nh[600];

		snprintf(nh, sizeof(nh), "{\"alg\":\"none\",\"typ\":"
		    "\"e2e-msg+jws\",\"kid\":\"%s\",\"iss\":\"%s\",\"aud\":"
		    "[%s],\"iat\":1,\"jti\":\"x\"}", kid[ALICE], kid[ALICE],
		    aud);
		b64url_append(&none, (const uint8_t *)nh, strlen(nh));
		buf_append_str(&none, ".");
		b64url_append(&none, (const uint8_t *)"none", 4);
		buf_append_str(&none, ".");
		CHECK(encrypt_raw("A256CBC-HS512", JWE_CTY_SIGNED, bob, 1,
		    none.p, none.len, &env) == 0);
		CHECK(open_as(&env, BOB, -1, &m, &pt) == 65);
		CHECK(open_as(&env, BOB, ALICE, &m, &pt) == 65);
		buf_free(&none);
	}
	CHECK(encrypt_raw("A256CBC-HS512", JWE_CTY_SIGNED, bob, 1, "plain",
	    5, &env) == 0);
	CHECK(open_as(&env, BOB, -1, &m, &pt) == 65);
	CHECKF(strstr(m_error, "not acceptable") != NULL, "error: %s",
	    m_error);
	buf_free(&env);
	buf_free(&pt);
	buf_free(&jws);
}

/* J5: a key named in the signed header (jwk, jku, x5u, x5c) is never
 * used: only the reader's --verify key counts. */
static void
embedded_keys_ignored(void)
{
	static const int bob[] = { BOB };
	struct buf env = BUF_INIT, pt = BUF_INIT, jws = BUF_INIT;
	struct buf nb = BUF_INIT;
	struct message m;
	char hdr[2000], extra[1400], aud[64];
	uint8_t nbytes[RSA_MAX_BYTES];
	BIGNUM *n = NULL;

	CHECK(EVP_PKEY_get_bn_param(pk[CAROL], OSSL_PKEY_PARAM_RSA_N, &n) ==
	    1);
	CHECK(b64url_append(&nb, nbytes, (size_t)BN_bn2bin(n, nbytes)) == 0);
	buf_terminate(&nb);
	BN_free(n);
	snprintf(aud, sizeof(aud), "\"%s\"", kid[BOB]);

	/* Carol's own key, embedded, with alice's kid: a forgery of alice
	 * whose "proof" is carol's key. */
	snprintf(extra, sizeof(extra), ",\"jwk\":{\"kty\":\"RSA\",\"e\":"
	    "\"AQAB\",\"n\":\"%s\"}", (char *)nb.p);
	signed_header(ALICE, aud, extra, hdr, sizeof(hdr));
	make_jws(CAROL, hdr, "J5", 2, &jws);
	CHECK(encrypt_raw("A256GCM", JWE_CTY_SIGNED, bob, 1, jws.p, jws.len,
	    &env) == 0);
	CHECK(open_as(&env, BOB, ALICE, &m, &pt) == 65);
	CHECKF(strstr(m_error, "not valid") != NULL, "error: %s", m_error);
	CHECK(open_as(&env, BOB, -1, &m, &pt) == 0 && m.verified == 0);

	/* Honest about being carol, with her key embedded and URLs for
	 * more: a reader that wants alice refuses by kid. */
	snprintf(extra, sizeof(extra), ",\"jwk\":{\"kty\":\"RSA\",\"e\":"
	    "\"AQAB\",\"n\":\"%s\"},\"jku\":\"https://127.0.0.1/k\","
	    "\"x5u\":\"https://127.0.0.1/c\",\"x5c\":[\"AAAA\"]",
	    (char *)nb.p);
	signed_header(CAROL, aud, extra, hdr, sizeof(hdr));
	make_jws(CAROL, hdr, "J5", 2, &jws);
	CHECK(encrypt_raw("A256CBC-HS512", JWE_CTY_SIGNED, bob, 1, jws.p,
	    jws.len, &env) == 0);
	CHECK(open_as(&env, BOB, ALICE, &m, &pt) == 65);
	CHECKF(strstr(m_error, KID_CAROL) != NULL &&
	    strstr(m_error, KID_ALICE) != NULL, "error: %s", m_error);
	/* Verified only against the reader's own copy of carol's key. */
	CHECK(open_as(&env, BOB, CAROL, &m, &pt) == 0 && m.verified == 1);
	buf_free(&env);
	buf_free(&pt);
	buf_free(&jws);
	buf_free(&nb);
}

/* E3: bob decrypts alice's signed message and re-encrypts the very same
 * inner JWS to carol; carol refuses, since the signed aud names bob. */
static void
surreptitious_forwarding(void)
{
	static const char *const encs[] = { "A256CBC-HS512", "A256GCM" };
	static const int bob[] = { BOB }, carol[] = { CAROL };
	static const int carol_bob[] = { CAROL, BOB };
	struct buf env = BUF_INIT, fwd = BUF_INIT, pt = BUF_INIT;
	struct buf ct = BUF_INIT, red = BUF_INIT, inner = BUF_INIT;
	struct jwe_result jr;
	struct message m;
	char why[200];
	json_t *obj;
	size_t e, start, end;

	for (e = 0; e < 2; e++) {
		harness_current = encs[e];
		CHECK(seal(encs[e], bob, 1, ALICE, "for bob only", 12,
		    &env) == 0);
		CHECK(open_as(&env, BOB, ALICE, &m, &pt) == 0);

		/* What bob's own tools give him: the inner JWS as sent. */
		CHECK(jsonio_member_span((const char *)env.p, env.len,
		    "ciphertext", &start, &end) == 0);
		buf_clear(&ct);
		buf_clear(&red);
		buf_append(&ct, env.p + start, end - start);
		buf_append(&red, env.p, start);
		buf_append(&red, env.p + end, env.len - end);
		obj = jsonio_parse((const char *)red.p, red.len, NULL);
		CHECK(obj != NULL);
		CHECK(rep_why_rc(jwe_decrypt(obj, (char *)ct.p, ct.len, pk[BOB],
		    kid[BOB], &jr, &t_rep), why, sizeof(why)) == 0);
		CHECK(jr.signed_content == 1);
		buf_clear(&inner);
		buf_append(&inner, jr.pt, jr.pt_len);
		json_decref(obj);

		/* Control: re-encrypted to bob, it still opens and verifies,
		 * so what carol refuses below is the aud, nothing else. */
		CHECK(encrypt_raw(encs[e], JWE_CTY_SIGNED, bob, 1, inner.p,
		    inner.len, &fwd) == 0);
		CHECK(open_as(&fwd, BOB, ALICE, &m, &pt) == 0 &&
		    m.verified == 1 && same(&pt, "for bob only", 12));

		CHECK(encrypt_raw(encs[e], JWE_CTY_SIGNED, carol, 1, inner.p,
		    inner.len, &fwd) == 0);
		CHECK(open_as(&fwd, CAROL, -1, &m, &pt) == 65);
		CHECKF(strstr(m_error, "not addressed to your key") != NULL &&
		    strstr(m_error, KID_CAROL) != NULL, "error: %s", m_error);
		CHECK(open_as(&fwd, CAROL, ALICE, &m, &pt) == 65);
		CHECK(strstr(m_error, "not addressed to your key") != NULL);

		/* Forwarded to carol and bob at once: bob still accepts,
		 * carol still refuses. */
		CHECK(encrypt_raw(encs[e], JWE_CTY_SIGNED, carol_bob, 2,
		    inner.p, inner.len, &fwd) == 0);
		CHECK(open_as(&fwd, CAROL, ALICE, &m, &pt) == 65);
		CHECK(strstr(m_error, "not addressed to your key") != NULL);
		CHECK(open_as(&fwd, BOB, ALICE, &m, &pt) == 0);
	}
	buf_free(&env);
	buf_free(&fwd);
	buf_free(&pt);
	buf_free(&ct);
	buf_free(&red);
	buf_free(&inner);
}

/* Opens env (a copy) as who, with --verify NAME semantics when
 * verify_name is set (verify: that person's key), and keeps m open: the
 * caller frees it. */
static int
open_named(const struct buf *env, int who, int verify,
    const char *verify_name, struct message *m)
{
	struct buf in = BUF_INIT;
	struct open_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.key = pk[who];
	o.kid = kid[who];
	o.verify = verify >= 0 ? pk[verify] : NULL;
	o.verify_kid = verify >= 0 ? kid[verify] : NULL;
	o.verify_name = verify_name;
	buf_append(&in, env->p, env->len);
	rc = message_open(&o, &in, m, &t_rep);
	said();
	if (rc != 0)
		CHECKF(m->pt == NULL && m_error[0] != '\0',
		    "a refusal released plaintext or said nothing");
	buf_free(&in);
	return rc;
}

/* Seals pt for who[0..nr) signed by ALICE with the names given. */
static int
seal_named(const int *who, size_t nr, const char *sender,
    const char *const *rnames, struct buf *out)
{
	struct jwe_recipient r[NPEOPLE];
	struct seal_opts o;
	struct sink s = sink_buf(out);
	size_t i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < nr; i++) {
		r[i].pub = pk[who[i]];
		memcpy(r[i].kid, kid[who[i]], KID_SIZE);
	}
	memset(&o, 0, sizeof(o));
	o.enc = jwe_enc_by_name("A256CBC-HS512");
	o.r = r;
	o.nr = nr;
	o.signer = pk[ALICE];
	o.signer_kid = kid[ALICE];
	o.sender_name = sender;
	o.recipient_names = rnames;
	buf_clear(out);
	/* Said as the tool would, where the caller captures. */
	return rep_shown_rc(message_seal(&o, (const uint8_t *)"named", 5, &s,
	    &t_rep));
}

/* I2: the names signed with the key ids (sub, aud_names), as written and
 * as read; --verify NAME against the signed name. */
static void
signed_names(void)
{
	static const int bob_carol[] = { BOB, CAROL };
	static const char *const rn[] = { "bob", "carol" };
	static const char *const rn_file[] = { "bob", "" };
	static const char *const rn_bad[] = { "bob", "c d" };
	struct buf env = BUF_INIT;
	struct message m;
	const char *err;
	size_t i;

	CHECK(seal_named(bob_carol, 2, "alice", rn, &env) == 0);
	CHECK(open_named(&env, CAROL, -1, NULL, &m) == 0);
	CHECK(m.named == 1 && strcmp(m.sub, "alice") == 0);
	CHECK(strcmp(m.name_for_me, "carol") == 0);
	CHECKF(strcmp(m.aud_names, "bob, carol") == 0, "%s", m.aud_names);
	CHECK(message_names_include(&m, "bob") == 1);
	CHECK(message_names_include(&m, "carol") == 1);
	CHECK(message_names_include(&m, "alice") == 0);
	CHECK(message_names_include(&m, "") == 0);
	CHECK(message_names_include(&m, "bo") == 0);
	message_free(&m);
	CHECK(open_named(&env, BOB, ALICE, "alice", &m) == 0);
	CHECK(m.verified == 1 && m.verify_by_name == 1 &&
	    strcmp(m.name_for_me, "bob") == 0);
	message_free(&m);
	/* --verify NAME: the signed sender must be NAME. */
	CHECK(open_named(&env, BOB, ALICE, "mallory", &m) == 65);
	CHECKF(strcmp(m_error, "the message is signed as from alice, not "
	    "from mallory as --verify says") == 0, "%s", m_error);
	message_free(&m);
	/* --verify FILE: no name to compare. */
	CHECK(open_named(&env, BOB, ALICE, NULL, &m) == 0);
	CHECK(m.verified == 1 && m.verify_by_name == 0);
	message_free(&m);

	/* A key given as a file: "". */
	CHECK(seal_named(bob_carol, 2, "alice", rn_file, &env) == 0);
	CHECK(open_named(&env, CAROL, ALICE, NULL, &m) == 0);
	CHECK(m.named == 1 && m.name_for_me[0] == '\0');
	CHECK(strcmp(m.aud_names, "bob, a key file") == 0);
	message_free(&m);

	/* No names: the previous version's header, read as such. */
	CHECK(seal_named(bob_carol, 2, NULL, NULL, &env) == 0);
	CHECK(open_named(&env, CAROL, ALICE, "alice", &m) == 0);
	CHECK(m.named == 0 && m.sub[0] == '\0' && m.aud_names[0] == '\0');
	CHECK(message_names_include(&m, "carol") == 0);
	message_free(&m);

	/* The writer refuses what is not a name, before signing. */
	capture_begin();
	CHECK(seal_named(bob_carol, 2, "al ice", rn, &env) == 64);
	CHECK(seal_named(bob_carol, 2, "alice", rn_bad, &env) == 64);
	CHECK(seal_named(bob_carol, 2, "alice", NULL, &env) == 64);
	CHECK(seal_named(bob_carol, 2, "", rn, &env) == 64);
	err = capture_end();
	CHECKF(strstr(err, "a name to sign is not a user name") != NULL,
	    "%s", err);
	CHECK(env.len == 0);

	/* The name alphabet of the claims. */
	{
		static const struct { const char *s; int ok; } t[] = {
			{ "alice", 1 }, { "A-l_i.c3", 1 }, { ".alice", 1 },
			{ "-v", 1 }, { "...", 1 }, { "", 0 }, { "al ice", 0 },
			{ "al/ice", 0 }, { "al\xc3\xa9", 0 }, { "al@ice", 0 },
			{ "a\n", 0 },
		};
		char long_name[NAME_LEN_MAX + 2];

		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
			CHECKF(claim_name_valid(t[i].s, strlen(t[i].s)) ==
			    t[i].ok, "%s", t[i].s);
		memset(long_name, 'a', sizeof(long_name));
		CHECK(claim_name_valid(long_name, NAME_LEN_MAX) == 1);
		CHECK(claim_name_valid(long_name, NAME_LEN_MAX + 1) == 0);
	}
	buf_free(&env);
}

/* Signed headers made by hand: each malformed name refused with its
 * reason; the list of names for messages kept short. */
static void
signed_names_malformed(void)
{
	static const int carol[] = { CAROL };
	static const struct {
		const char *extra;	/* members after the others */
		const char *why;
	} t[] = {
		{ ",\"sub\":5,\"aud_names\":[\"carol\"]", "no valid \"sub\"" },
		{ ",\"sub\":\"\",\"aud_names\":[\"carol\"]", "no valid \"sub\"" },
		{ ",\"sub\":\"a b\",\"aud_names\":[\"carol\"]",
		    "no valid \"sub\"" },
		{ ",\"aud_names\":[\"carol\"]", "no valid \"sub\"" },
		{ ",\"sub\":\"alice\"", "not an array as long as" },
		{ ",\"sub\":\"alice\",\"aud_names\":\"carol\"",
		    "not an array as long as" },
		{ ",\"sub\":\"alice\",\"aud_names\":[]",
		    "not an array as long as" },
		{ ",\"sub\":\"alice\",\"aud_names\":[\"carol\",\"bob\"]",
		    "not an array as long as" },
		{ ",\"sub\":\"alice\",\"aud_names\":[null]",
		    "holds something that is not a name" },
		{ ",\"sub\":\"alice\",\"aud_names\":[\"a/b\"]",
		    "holds something that is not a name" },
		{ ",\"sub\":\"alice\",\"aud_names\":[[\"carol\"]]",
		    "holds something that is not a name" },
	};
	struct buf jws = BUF_INIT, env = BUF_INIT, pt = BUF_INIT;
	struct message m;
	char aud[128], hdr[8192], extra[4096];
	size_t i, n;
	int rc;

	snprintf(aud, sizeof(aud), "\"%s\"", kid[CAROL]);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		signed_header(ALICE, aud, t[i].extra, hdr, sizeof(hdr));
		make_jws(ALICE, hdr, "x", 1, &jws);
		CHECK(encrypt_raw("A256CBC-HS512", JWE_CTY_SIGNED, carol, 1,
		    jws.p, jws.len, &env) == 0);
		rc = open_as(&env, CAROL, ALICE, &m, &pt);
		CHECKF(rc == 65 && strstr(m_error, t[i].why) != NULL,
		    "%s: rc %d, %s", t[i].extra, rc, m_error);
	}
	/* My key twice in aud, with names: which name is mine? */
	snprintf(aud, sizeof(aud), "\"%s\",\"%s\"", kid[CAROL], kid[CAROL]);
	signed_header(ALICE, aud, ",\"sub\":\"alice\",\"aud_names\":"
	    "[\"carol\",\"mallory\"]", hdr, sizeof(hdr));
	make_jws(ALICE, hdr, "x", 1, &jws);
	CHECK(encrypt_raw("A256CBC-HS512", JWE_CTY_SIGNED, carol, 1, jws.p,
	    jws.len, &env) == 0);
	CHECK(open_as(&env, CAROL, ALICE, &m, &pt) == 65);
	CHECKF(strstr(m_error, "names your key") != NULL, "%s", m_error);

	/* 40 recipients with long names: the list shown is cut short with
	 * "...", every name stays checkable, each name is listed once. */
	buf_clear(&env);
	buf_append_str(&env, "\"");
	buf_append_str(&env, kid[CAROL]);
	buf_append_str(&env, "\"");
	snprintf(extra, sizeof(extra), ",\"sub\":\"alice\",\"aud_names\":"
	    "[\"carol\"");
	for (i = 1; i < 40; i++) {
		char k[64], nm[80];

		snprintf(k, sizeof(k), ",\"k%zu\"", i);
		buf_append_str(&env, k);
		snprintf(nm, sizeof(nm), ",\"someone-with-a-long-name-%02zu\"",
		    i % 20);
		n = strlen(extra);
		snprintf(extra + n, sizeof(extra) - n, "%s", nm);
	}
	n = strlen(extra);
	snprintf(extra + n, sizeof(extra) - n, "]");
	buf_terminate(&env);
	signed_header(ALICE, (const char *)env.p, extra, hdr, sizeof(hdr));
	make_jws(ALICE, hdr, "x", 1, &jws);
	CHECK(encrypt_raw("A256CBC-HS512", JWE_CTY_SIGNED, carol, 1, jws.p,
	    jws.len, &env) == 0);
	CHECK(open_named(&env, CAROL, ALICE, "alice", &m) == 0);
	CHECK(m.named == 1 && strcmp(m.name_for_me, "carol") == 0);
	n = strlen(m.aud_names);
	CHECKF(n < MESSAGE_NAMES_SHOWN && n > 3 &&
	    strcmp(m.aud_names + n - 3, "...") == 0, "%s", m.aud_names);
	CHECK(strncmp(m.aud_names, "carol, someone-with-a-long-name-01, ",
	    36) == 0);
	CHECK(strstr(m.aud_names, "someone-with-a-long-name-01, "
	    "someone-with-a-long-name-01") == NULL);
	CHECK(message_names_include(&m, "someone-with-a-long-name-19") == 1);
	CHECK(message_names_include(&m, "someone-with-a-long-name-20") == 0);
	message_free(&m);
	buf_free(&jws);
	buf_free(&env);
	buf_free(&pt);
}

/* Swaps the first encrypted_key of env for RSA-OAEP-256(bob, k). */
static void
rewrap(struct buf *env, const uint8_t *k, size_t len)
{
	uint8_t ek[RSA_MAX_BYTES];
	size_t ek_len;
	char old[1024];
	struct buf to = BUF_INIT;

	CHECK(rsa_oaep_encrypt(pk[BOB], k, len, ek, &ek_len, NULL) == 0);
	CHECK(member(env, "encrypted_key", old, sizeof(old)) == 0);
	b64url_append(&to, ek, ek_len);
	buf_terminate(&to);
	CHECK(replace(env, old, (const char *)to.p) == 0);
	buf_free(&to);
}

/* J15: the unwrapped content key must have exactly the algorithm's
 * length; a writer never uses an all-zero key. */
static void
cek_length(void)
{
	static const char *const encs[] = { "A256CBC-HS512", "A256GCM" };
	static const int bob[] = { BOB };
	struct buf env = BUF_INIT, orig = BUF_INIT, pt = BUF_INIT;
	struct message m;
	uint8_t rnd[AEAD_MAX_KEY + AEAD_MAX_IV], k[AEAD_MAX_KEY + 1];
	size_t e, i, klen;

	for (e = 0; e < 2; e++) {
		harness_current = encs[e];
		klen = jwe_enc_by_name(encs[e])->key_len;
		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] = (uint8_t)(0x31 + i);
		memcpy(k, rnd, klen);
		crypto_test_set_random(rnd, klen +
		    jwe_enc_by_name(encs[e])->iv_len);
		CHECK(seal(encs[e], bob, 1, -1, "J15", 3, &orig) == 0);
		unpin();

		/* Control: the same key rewrapped opens. */
		buf_clear(&env);
		buf_append(&env, orig.p, orig.len);
		rewrap(&env, k, klen);
		CHECK(open_as(&env, BOB, -1, &m, &pt) == 0 &&
		    same(&pt, "J15", 3));

		/* Too short: the first half of the key. */
		buf_clear(&env);
		buf_append(&env, orig.p, orig.len);
		rewrap(&env, k, klen / 2);
		CHECK(open_as(&env, BOB, -1, &m, &pt) == 65);
		CHECK(strcmp(m_error, MESSAGE_CANNOT_DECRYPT) == 0 &&
		    m_hint[0] == '\0');

		/* Too long by one byte: a reader that used the first klen
		 * bytes would accept. */
		k[klen] = 0;
		buf_clear(&env);
		buf_append(&env, orig.p, orig.len);
		rewrap(&env, k, klen + 1);
		CHECK(open_as(&env, BOB, -1, &m, &pt) == 65);
		CHECK(strcmp(m_error, MESSAGE_CANNOT_DECRYPT) == 0 &&
		    m_hint[0] == '\0');

		/* All-zero content key from a broken generator: refused,
		 * nothing written. */
		memset(rnd, 0, sizeof(rnd));
		crypto_test_set_random(rnd, klen +
		    jwe_enc_by_name(encs[e])->iv_len);
		capture_begin();
		CHECK(seal(encs[e], bob, 1, -1, "J15", 3, &env) == 70);
		rep_shown();
		capture_end();
		unpin();
		CHECK(env.len == 0);
		CHECKF(strstr(cap_text, "content key is zero") != NULL,
		    "stderr: %s", cap_text);
	}
	/* A256GCM given the 64-byte key of A256CBC-HS512 whose first half
	 * is the right key: refused. */
	for (i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)(0x31 + i);
	crypto_test_set_random(rnd, 32 + 12);
	CHECK(seal("A256GCM", bob, 1, -1, "J15", 3, &orig) == 0);
	unpin();
	rewrap(&orig, rnd, 64);
	CHECK(open_as(&orig, BOB, -1, &m, &pt) == 65);
	buf_free(&env);
	buf_free(&orig);
	buf_free(&pt);
}

/* J8 where the ciphertext is located by a scan rather than by jansson
 * (jsonio.h): a second "ciphertext", plain or spelt with escapes, makes
 * the envelope a duplicate-member JSON text and is refused; a single
 * one spelt with escapes is just JSON and opens. */
static void
ciphertext_scan_and_duplicates(void)
{
	static const int bob[] = { BOB };
	struct buf env = BUF_INIT, orig = BUF_INIT, pt = BUF_INIT;
	struct message m;
	char ct[256], esc[300];

	CHECK(seal("A256CBC-HS512", bob, 1, -1, "dup", 3, &orig) == 0);
	CHECK(member(&orig, "ciphertext", ct, sizeof(ct)) == 0);

	/* A decoy first. */
	buf_clear(&env);
	buf_append(&env, orig.p, orig.len);
	CHECK(replace(&env, "\"ciphertext\":", "\"ciphertext\":\"AAAA\","
	    "\"ciphertext\":") == 0);
	CHECK(open_as(&env, BOB, -1, &m, &pt) == 65);
	/* A decoy after. */
	buf_clear(&env);
	buf_append(&env, orig.p, orig.len);
	CHECK(replace(&env, "\"tag\":", "\"ciphertext\":\"AAAA\",\"tag\":") ==
	    0);
	CHECK(open_as(&env, BOB, -1, &m, &pt) == 65);
	/* The same value twice. */
	snprintf(esc, sizeof(esc), "\"ciphertext\":\"%s\",\"tag\":", ct);
	buf_clear(&env);
	buf_append(&env, orig.p, orig.len);
	CHECK(replace(&env, "\"tag\":", esc) == 0);
	CHECK(open_as(&env, BOB, -1, &m, &pt) == 65);
	/* A decoy whose name is spelt with an escape, before and after. */
	buf_clear(&env);
	buf_append(&env, orig.p, orig.len);
	CHECK(replace(&env, "\"ciphertext\":", "\"cipher\\u0074ext\":\"AAAA\","
	    "\"ciphertext\":") == 0);
	CHECK(open_as(&env, BOB, -1, &m, &pt) == 65);
	buf_clear(&env);
	buf_append(&env, orig.p, orig.len);
	CHECK(replace(&env, "\"tag\":", "\"cipher\\u0074ext\":\"AAAA\","
	    "\"tag\":") == 0);
	CHECK(open_as(&env, BOB, -1, &m, &pt) == 65);

	/* The only ciphertext, spelt with escapes (name or value): valid
	 * JSON for the same envelope, which opens. */
	buf_clear(&env);
	buf_append(&env, orig.p, orig.len);
	CHECK(replace(&env, "\"ciphertext\":", "\"cipher\\u0074ext\":") == 0);
	CHECK(open_as(&env, BOB, -1, &m, &pt) == 0 && same(&pt, "dup", 3));
	snprintf(esc, sizeof(esc), "\\u%04x%s", (unsigned char)ct[0], ct + 1);
	buf_clear(&env);
	buf_append(&env, orig.p, orig.len);
	CHECK(replace(&env, ct, esc) == 0);
	CHECK(open_as(&env, BOB, -1, &m, &pt) == 0 && same(&pt, "dup", 3));
	/* Whitespace around the colon. */
	buf_clear(&env);
	buf_append(&env, orig.p, orig.len);
	CHECK(replace(&env, "\"ciphertext\":", " \"ciphertext\" :\t") == 0);
	CHECK(open_as(&env, BOB, -1, &m, &pt) == 0 && same(&pt, "dup", 3));
	buf_free(&env);
	buf_free(&orig);
	buf_free(&pt);
}

/* ---------------------------------------------------------------- */
/* jsonio_member_span */

static void
member_span(void)
{
	static const struct {
		const char *text;
		const char *want;	/* the span's content, or NULL: -1 */
	} t[] = {
		{ "{\"ciphertext\":\"abc\"}", "abc" },
		{ "{\"protected\":\"p\",\"ciphertext\":\"abc\",\"tag\":\"t\"}",
		    "abc" },
		{ "  \n{\"ciphertext\":\"abc\"}\n", "abc" },
		{ "{\"ciphertext\":\"\"}", "" },
		/* Whitespace around the colon. */
		{ "{ \"ciphertext\" : \"abc\" }", "abc" },
		{ "{\"ciphertext\"\t\r\n:\n\"abc\"}", "abc" },
		/* In a nested object or array: not the top-level member. */
		{ "{\"a\":{\"ciphertext\":\"evil\"},\"ciphertext\":\"good\"}",
		    "good" },
		{ "{\"a\":{\"ciphertext\":\"evil\"}}", NULL },
		{ "{\"a\":{\"b\":1,\"ciphertext\":\"evil\"},\"ciphertext\":"
		    "\"good\"}", "good" },
		{ "{\"a\":[{\"ciphertext\":\"evil\"},\"ciphertext\"],"
		    "\"ciphertext\":\"good\"}", "good" },
		{ "{\"a\":[\"x\",{\"y\":[{\"ciphertext\":\"evil\"}]}],"
		    "\"ciphertext\":\"good\"}", "good" },
		/* Inside a string value. */
		{ "{\"a\":\"\\\"ciphertext\\\":\\\"evil\\\"\",\"ciphertext\":"
		    "\"good\"}", "good" },
		{ "{\"a\":\"x,\\\"ciphertext\\\":\\\"evil\",\"ciphertext\":"
		    "\"good\"}", "good" },
		{ "{\"a\":\"{\\\"ciphertext\\\":\\\"evil\\\"}\"}", NULL },
		{ "{\"a\":\"}]}\",\"ciphertext\":\"good\"}", "good" },
		{ "{\"a\":\"ciphertext\",\"b\":\"evil\"}", NULL },
		/* Escaped quotes and backslashes before it. */
		{ "{\"a\":\"\\\\\",\"ciphertext\":\"good\"}", "good" },
		{ "{\"a\":\"\\\\\\\"\",\"ciphertext\":\"good\"}", "good" },
		{ "{\"a\":\"x\\\\\\\\\",\"ciphertext\":\"good\"}", "good" },
		{ "{\"\\\\\":\"a\",\"ciphertext\":\"good\"}", "good" },
		{ "{\"a\":\"\\u0022\",\"ciphertext\":\"good\"}", "good" },
		{ "{\"x\\\"ciphertext\":\"evil\",\"ciphertext\":\"good\"}",
		    "good" },
		/* The name spelt with an escape: not found by the scan
		 * (the caller then parses the whole text). */
		{ "{\"cipher\\u0074ext\":\"abc\"}", NULL },
		{ "{\"cipher\\u0074ext\":\"evil\",\"ciphertext\":\"good\"}",
		    "good" },
		/* Near misses of the name. */
		{ "{\"ciphertextX\":\"evil\",\"ciphertex\":\"evil\","
		    "\"Ciphertext\":\"evil\",\"ciphertext\":\"good\"}", "good" },
		/* A value with a backslash: left to jansson. */
		{ "{\"ciphertext\":\"ab\\/c\"}", NULL },
		{ "{\"ciphertext\":\"ab\\\\\"}", NULL },
		{ "{\"ciphertext\":\"\\u0041\"}", NULL },
		/* Duplicate keys: the first (jansson refuses the rest). */
		{ "{\"ciphertext\":\"one\",\"ciphertext\":\"two\"}", "one" },
		/* Not a string. */
		{ "{\"ciphertext\":123}", NULL },
		{ "{\"ciphertext\":[\"abc\"]}", NULL },
		{ "{\"ciphertext\":null,\"x\":\"y\"}", NULL },
		{ "{\"ciphertext\":{\"a\":\"b\"}}", NULL },
		/* Not an object. */
		{ "[\"ciphertext\",\"abc\"]", NULL },
		{ "\"ciphertext\":\"abc\"", NULL },
		{ "{}", NULL },
		{ "{\"a\":\"b\"}{\"ciphertext\":\"abc\"}", NULL },
		{ "{\"a\":\"b\"},\"ciphertext\":\"abc\"", NULL },
		/* Truncated. */
		{ "", NULL },
		{ "{", NULL },
		{ "{\"cipher", NULL },
		{ "{\"ciphertext\"", NULL },
		{ "{\"ciphertext\":", NULL },
		{ "{\"ciphertext\": ", NULL },
		{ "{\"ciphertext\":\"abc", NULL },
		{ "{\"ciphertext\":\"abc\\", NULL },
		{ "{\"a\":\"\\", NULL },
		{ "{\"a\":\"b\\\",\"ciphertext\":\"abc\"", NULL },
	};
	size_t i, start, end;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		start = end = 12345;
		rc = jsonio_member_span(t[i].text, strlen(t[i].text),
		    "ciphertext", &start, &end);
		if (t[i].want == NULL) {
			CHECKF(rc == -1, "found a span in %s", t[i].text);
			continue;
		}
		CHECKF(rc == 0 && start <= end && end <= strlen(t[i].text) &&
		    end - start == strlen(t[i].want) &&
		    memcmp(t[i].text + start, t[i].want, end - start) == 0 &&
		    t[i].text[start - 1] == '"' && t[i].text[end] == '"',
		    "%s: rc %d, span %zu..%zu", t[i].text, rc, start, end);
	}
	/* The length bounds the scan: nothing past len is read. */
	{
		const char *s = "{\"ciphertext\":\"abc\"}";

		CHECK(jsonio_member_span(s, strlen(s) - 2, "ciphertext",
		    &start, &end) == -1);
		CHECK(jsonio_member_span(s, 14, "ciphertext", &start,
		    &end) == -1);
	}
	/* An embedded NUL is just a byte in the text. */
	{
		static const char s[] = "{\"a\":\"x\0y\",\"ciphertext\":\"ok\"}";

		CHECK(jsonio_member_span(s, sizeof(s) - 1, "ciphertext",
		    &start, &end) == 0 && end - start == 2 &&
		    memcmp(s + start, "ok", 2) == 0);
	}
}

/* ---------------------------------------------------------------- */
/* term.h */

static void
term_escaping(void)
{
	static const struct { const char *in; size_t len; const char *out; }
	    t[] = {
		{ "plain text", 10, "plain text" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
		    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		/* Control characters, tab and newline included. */
		{ "\x1b[2J\x1b]0;pwned\x07", 14,
		    "\\x1b[2J\\x1b]0;pwned\\x07" },
		{ "a\tb\nc\rd", 7, "a\\x09b\\x0ac\\x0dd" },
		{ "x\0y", 3, "x\\x00y" },
		{ "\x7f", 1, "\\x7f" },
		/* C1 controls (U+0080..U+009F), but not U+00A0. */
		{ "\xc2\x80", 2, "\\xc2\\x80" },
		{ "\xc2\x9b" "31m", 5, "\\xc2\\x9b31m" },
		{ "\xc2\x9f", 2, "\\xc2\\x9f" },
		{ "\xc2\xa0", 2, "\xc2\xa0" },
		/* Overlongs, surrogates, above U+10FFFF, stray bytes. */
		{ "\xc0\xaf", 2, "\\xc0\\xaf" },
		{ "\xc1\xbf", 2, "\\xc1\\xbf" },
		{ "\xe0\x80\xaf", 3, "\\xe0\\x80\\xaf" },
		{ "\xf0\x80\x80\xaf", 4, "\\xf0\\x80\\x80\\xaf" },
		{ "\xed\xa0\x80", 3, "\\xed\\xa0\\x80" },
		{ "\xed\xbf\xbf", 3, "\\xed\\xbf\\xbf" },
		{ "\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80" },
		{ "\xf5\x80\x80\x80", 4, "\\xf5\\x80\\x80\\x80" },
		{ "\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf" },
		{ "\xff\xfe", 2, "\\xff\\xfe" },
		{ "\x80", 1, "\\x80" },
		/* A truncated sequence at the end. */
		{ "ok\xe2\x82", 4, "ok\\xe2\\x82" },
		{ "", 0, "" },
	};
	char out[128];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		term_escape(t[i].in, t[i].len, out, sizeof(out));
		CHECKF(strcmp(out, t[i].out) == 0, "case %zu: got \"%s\"", i,
		    out);
		/* What comes out is always safe to print. */
		CHECK(term_safe_text((const unsigned char *)out, strlen(out)));
	}
}

/* Truncation: NUL-terminated within size, ends with "...", never
 * splits a character or an escape, and does not truncate what fits. */
static void
term_truncation(void)
{
	static const struct { const char *in; size_t size; } t[] = {
		{ "abcdefghijklmnop", 8 },
		{ "abcdefghijklmnop", 5 },
		{ "abcdefghijklmnop", 4 },
		{ "\x01\x02\x03\x04\x05", 9 },
		{ "\x01\x02\x03\x04\x05", 13 },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8 },
		{ "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 9 },
		{ "a\x1b" "bcdefgh", 7 },
	};
	char out[128], pre[128];
	size_t i, j, k, n, len;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		len = strlen(t[i].in);
		memset(out, 'Z', sizeof(out));
		term_escape(t[i].in, len, out, t[i].size);
		n = strlen(out);
		CHECKF(n < t[i].size, "case %zu: %zu bytes for size %zu", i, n,
		    t[i].size);
		CHECKF(n >= 3 && strcmp(out + n - 3, "...") == 0,
		    "case %zu: \"%s\" does not end with ...", i, out);
		CHECKF(out[t[i].size] == 'Z', "case %zu: wrote past size", i);
		CHECK(utf8_valid((const unsigned char *)out, n));
		/* The part before "..." is the start of the full escape. */
		term_escape(t[i].in, len, pre, sizeof(pre));
		CHECKF(n >= 3 && strncmp(out, pre, n - 3) == 0,
		    "case %zu: \"%s\" is not a prefix of \"%s\"", i, out, pre);
		/* Never half an escape or half a character. */
		k = n >= 3 ? n - 3 : 0;
		for (j = 1; j <= 3 && j <= k; j++)
			CHECKF(pre[k - j] != '\\', "case %zu: split escape "
			    "\"%s\"", i, out);
		CHECKF((pre[k] & 0xc0) != 0x80, "case %zu: split character",
		    i);
	}
	/* size 1 and 0. */
	out[0] = 'Z';
	term_escape("abc", 3, out, 1);
	CHECK(out[0] == '\0');
	out[0] = 'Z';
	term_escape("abc", 3, out, 0);
	CHECK(out[0] == 'Z');
	/* What fits is not truncated ("when it does not fit", term.h). */
	term_escape("abcdefg", 7, out, 8);
	CHECKF(strcmp(out, "abcdefg") == 0, "7 characters in 8 bytes: "
	    "\"%s\"", out);
	term_escape("abc", 3, out, 4);
	CHECKF(strcmp(out, "abc") == 0, "3 characters in 4 bytes: \"%s\"",
	    out);
	term_escape("\x01", 1, out, 5);
	CHECKF(strcmp(out, "\\x01") == 0, "an escape in 5 bytes: \"%s\"",
	    out);
	/* The message layer's 320-byte fields hold two kids and more. */
	term_escape(KID_ALICE KID_BOB, 86, out, 87);
	CHECKF(strcmp(out, KID_ALICE KID_BOB) == 0, "86 in 87: \"%s\"", out);
}

static void
utf8_validity(void)
{
	static const struct { const char *s; size_t len; int ok; } t[] = {
		{ "", 0, 1 },
		{ "ascii only", 10, 1 },
		{ "x\0y", 3, 1 },			/* NUL is UTF-8 */
		{ "\xc2\x80", 2, 1 },			/* U+0080 */
		{ "\xdf\xbf", 2, 1 },			/* U+07FF */
		{ "\xe0\xa0\x80", 3, 1 },		/* U+0800 */
		{ "\xed\x9f\xbf", 3, 1 },		/* U+D7FF */
		{ "\xee\x80\x80", 3, 1 },		/* U+E000 */
		{ "\xef\xbf\xbf", 3, 1 },		/* U+FFFF */
		{ "\xf0\x90\x80\x80", 4, 1 },		/* U+10000 */
		{ "\xf4\x8f\xbf\xbf", 4, 1 },		/* U+10FFFF */
		{ "\xc0\xaf", 2, 0 },			/* overlong "/" */
		{ "\xc0\x80", 2, 0 },			/* overlong NUL */
		{ "\xc1\xbf", 2, 0 },
		{ "\xe0\x80\xaf", 3, 0 },
		{ "\xe0\x9f\xbf", 3, 0 },		/* overlong U+07FF */
		{ "\xf0\x80\x80\xaf", 4, 0 },
		{ "\xf0\x8f\xbf\xbf", 4, 0 },		/* overlong U+FFFF */
		{ "\xed\xa0\x80", 3, 0 },		/* U+D800 */
		{ "\xed\xbf\xbf", 3, 0 },		/* U+DFFF */
		{ "\xed\xa0\xbd\xed\xb8\x80", 6, 0 },	/* CESU pair */
		{ "\xf4\x90\x80\x80", 4, 0 },		/* U+110000 */
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xf8\x88\x80\x80\x80", 5, 0 },
		{ "\xfe", 1, 0 },
		{ "\xff", 1, 0 },
		{ "\x80", 1, 0 },			/* lone continuation */
		{ "a\xbf", 2, 0 },
		{ "\xc3", 1, 0 },			/* truncated */
		{ "\xe2\x82", 2, 0 },
		{ "\xf0\x9f\x98", 3, 0 },
		{ "\xc3(", 2, 0 },			/* bad continuation */
		{ "\xe2\x28\xa1", 3, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECKF(utf8_valid((const unsigned char *)t[i].s, t[i].len) ==
		    t[i].ok, "case %zu", i);
	/* The length is respected: a valid prefix of an invalid text. */
	CHECK(utf8_valid((const unsigned char *)"ab\xff", 2) == 1);
}

static void
safe_text(void)
{
	static const struct { const char *s; size_t len; int ok; } t[] = {
		{ "", 0, 1 },
		{ "hello\n\tworld\n", 13, 1 },
		{ "caf\xc3\xa9 \xe2\x82\xac", 9, 1 },
		{ "\xc2\xa0", 2, 1 },			/* NBSP */
		{ "\x1b[31mred", 8, 0 },		/* ESC */
		{ "a\rb", 3, 0 },			/* CR rewrites a line */
		{ "a\bb", 3, 0 },
		{ "bell\x07", 5, 0 },
		{ "x\0y", 3, 0 },
		{ "del\x7f", 4, 0 },
		{ "\xc2\x85", 2, 0 },			/* NEL, C1 */
		{ "\xc2\x9b" "31m", 5, 0 },		/* CSI, C1 */
		{ "\xc0\xaf", 2, 0 },
		{ "\xed\xa0\x80", 3, 0 },
		{ "\xf4\x90\x80\x80", 4, 0 },
		{ "\xff", 1, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECKF(term_safe_text((const unsigned char *)t[i].s,
		    t[i].len) == t[i].ok, "case %zu", i);
}

/* ---------------------------------------------------------------- */
/* seed_unreplace (L6) */

static void
seed_unreplacing(void)
{
	/* Expected values are Python's
	 * s.replace("ampersand", "&").replace("plusplus", "+"). */
	static const struct { const char *in, *out; } t[] = {
		{ "", "" },
		{ "no tokens", "no tokens" },
		{ "ampersand", "&" },
		{ "plusplus", "+" },
		{ "ampersandampersand", "&&" },
		{ "plusplusplus", "+plus" },
		{ "plusplusplusplus", "++" },
		{ "plusplusampersandplusplusplus", "+&+plus" },
		{ "aampersand", "a&" },
		{ "pplusplus", "p+" },
		{ "ampersan", "ampersan" },
		{ "plusplu", "plusplu" },
		{ "plusampersand", "plus&" },
		{ "amperplusplussand", "amper+sand" },
		{ "ampampersandersand", "amp&ersand" },
		{ "AMPERSAND PlusPlus", "AMPERSAND PlusPlus" },
		{ "{\"ct\": \"xampersandyplusplusz\"}", "{\"ct\": \"x&y+z\"}" },
	};
	char text[128];
	size_t i, len;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		len = strlen(t[i].in);
		memcpy(text, t[i].in, len + 1);
		seed_unreplace(text, &len);
		CHECKF(len == strlen(t[i].out) &&
		    memcmp(text, t[i].out, len) == 0, "\"%s\" gave \"%.*s\"",
		    t[i].in, (int)len, text);
	}
	/* Bytes after a NUL still count; the length is what is given. */
	{
		char s[] = "a\0plusplus";

		len = sizeof(s) - 1;
		seed_unreplace(s, &len);
		CHECK(len == 3 && memcmp(s, "a\0+", 3) == 0);
		memcpy(s, "ampersand", 9);
		len = 8;	/* "ampersan": the token is cut by len */
		seed_unreplace(s, &len);
		CHECK(len == 8 && memcmp(s, "ampersan", 8) == 0);
	}
}

/* ---------------------------------------------------------------- */
/* Keys */

static void
key_ids(void)
{
	static const struct { const char *file, *kid; } t[] = {
		{ "alice.pub", KID_ALICE },
		{ "bob.pub", KID_BOB },
		{ "carol.pub", KID_CAROL },
		{ "pkcs1.pub", KID_PKCS1 },
		{ "protected.pub", KID_PROTECTED },
	};
	char path[256], k[KID_SIZE], bad[KID_SIZE];
	EVP_PKEY *pub;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", KEY_DIR, t[i].file);
		CHECKF(keyfile_load_public(path, &pub, NULL) == 0, "%s", path);
		if (pub == NULL)
			continue;
		CHECK(jwk_thumbprint(pub, k, NULL) == 0);
		CHECKF(strcmp(k, t[i].kid) == 0, "%s: %s, jwcrypto %s",
		    t[i].file, k, t[i].kid);
		CHECK(jwk_is_kid(k, strlen(k)) == 1);
		EVP_PKEY_free(pub);
	}
	/* The private key gives the same kid as its public key. */
	CHECK(strcmp(kid[ALICE], KID_ALICE) == 0);
	CHECK(strcmp(kid[BOB], KID_BOB) == 0);
	CHECK(strcmp(kid[CAROL], KID_CAROL) == 0);

	CHECK(jwk_is_kid(KID_ALICE, 42) == 0);
	CHECK(jwk_is_kid(KID_ALICE "A", 44) == 0);
	memcpy(bad, KID_ALICE, KID_SIZE);
	bad[42] = 'B';		/* non-zero unused bits */
	CHECK(jwk_is_kid(bad, KID_LEN) == 0);
	bad[42] = '=';
	CHECK(jwk_is_kid(bad, KID_LEN) == 0);
	memcpy(bad, KID_ALICE, KID_SIZE);
	bad[7] = '+';		/* base64, not base64url */
	CHECK(jwk_is_kid(bad, KID_LEN) == 0);
}

/* J17 (keys part): rsa_check refuses short keys, e != 65537 and
 * non-RSA keys, whichever way they are loaded. */
static void
rsa_refusals(void)
{
	static const struct { const char *pub, *priv, *msg; } t[] = {
		{ "weak1024.pub", "weak1024.key", "1024-bit RSA key" },
		{ "e3.pub", "e3.key", "public exponent other than 65537" },
		{ "ec.pub", "ec.key", "is not an RSA key" },
	};
	struct passphrase_src ps = { NULL, NULL };
	char path[256];
	EVP_PKEY *k;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		k = fixture_public(t[i].pub);
		capture_begin();
		rc = rsa_check(k, "the key", &t_rep);
		rep_shown();
		capture_end();
		CHECKF(rc == 65, "%s: rsa_check %d", t[i].pub, rc);
		CHECKF(strstr(cap_text, t[i].msg) != NULL, "%s: %s", t[i].pub,
		    cap_text);
		EVP_PKEY_free(k);

		snprintf(path, sizeof(path), "%s/%s", KEY_DIR, t[i].pub);
		capture_begin();
		rc = keyfile_load_public(path, &k, &t_rep);
		rep_shown();
		capture_end();
		CHECKF(rc == 65 && k == NULL, "%s: load_public %d", t[i].pub,
		    rc);
		CHECKF(strstr(cap_text, t[i].msg) != NULL, "%s: %s", t[i].pub,
		    cap_text);

		fixture_path(t[i].priv, path, sizeof(path));
		capture_begin();
		rc = keyfile_load_private(path, &ps, &k, &t_rep);
		rep_shown();
		capture_end();
		CHECKF(rc == 65 && k == NULL, "%s: load_private %d",
		    t[i].priv, rc);
		CHECKF(strstr(cap_text, t[i].msg) != NULL, "%s: %s",
		    t[i].priv, cap_text);
	}
	/* The accepted keys pass. */
	capture_begin();
	CHECK(rsa_check(pk[ALICE], "alice", &t_rep) == 0);
	CHECK(rsa_check(pk[BOB], "bob", &t_rep) == 0);
	rep_shown();
	capture_end();
	CHECK(cap_text[0] == '\0');
}

/* ---------------------------------------------------------------- */
/* Secret buffers */

/*
 * buf.c's test hook sees each block a buffer releases just before it is
 * freed, so the test can check that growth and buf_free wiped it.
 */
static const void *watch_p;
static size_t watch_len;
static int watch_seen, watch_wiped, mem_hooked;

static void
t_release(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	if (p != NULL && p == watch_p) {
		watch_seen = 1;
		watch_wiped = n >= watch_len;
		for (i = 0; i < watch_len; i++)
			if (b[i] != 0)
				watch_wiped = 0;
	}
}

/* Seals len bytes of pt for bob, signed by k (alice's kid): rc, with
 * what was written in out and what was said in m_error. */
static int
seal_by(EVP_PKEY *k, const uint8_t *pt, size_t len, struct buf *out)
{
	struct jwe_recipient r[1];
	struct seal_opts o;
	struct sink s = sink_buf(out);
	int rc;

	memset(r, 0, sizeof(r));
	r[0].pub = pk[BOB];
	memcpy(r[0].kid, kid[BOB], KID_SIZE);
	memset(&o, 0, sizeof(o));
	o.enc = jwe_enc_by_name("A256CBC-HS512");
	o.r = r;
	o.nr = 1;
	o.signer = k;
	o.signer_kid = kid[ALICE];
	buf_clear(out);
	rc = message_seal(&o, pt, len, &s, &t_rep);
	said();
	return rc;
}

/*
 * A key from the key file's fast path signs with its own RSA structure
 * (rsa.c), a short message read whole and a long one as it streams. Both
 * verify; a signature whose RSA operation fails, or a key that cannot
 * sign (the public half), is 70 with nothing written for a short message
 * (the envelope waits for its first chunk of the JWS, which then ends
 * with the signature), and 70 for a long one (whose first chunks may be
 * out).
 */
static void
signing_paths(void)
{
	static const size_t sizes[] = { 0, 5, JWS_STREAM_RAW - 1,
		JWS_STREAM_RAW, JWS_STREAM_RAW + 7 };
	struct passphrase_src ps = { NULL, NULL };
	struct buf env = BUF_INIT, pt = BUF_INIT;
	struct message m;
	char path[256];
	EVP_PKEY *k = NULL, *pub = NULL;
	uint8_t *msg;
	size_t i, n;
	int rc;

	fixture_path("alice", path, sizeof(path));
	CHECK(keyfile_load_private(path, &ps, &k, &t_rep) == 0);
	said();
	fixture_path("alice.pub", path, sizeof(path));
	CHECK(keyfile_load_public(path, &pub, &t_rep) == 0);
	said();
	msg = malloc(JWS_STREAM_RAW + 7);
	if (k == NULL || pub == NULL || msg == NULL)
		goto out;
	CHECK(rsa_pss_direct(k));	/* the key's own RSA structure */
	for (i = 0; i < JWS_STREAM_RAW + 7; i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = sizes[i];
		rc = seal_by(k, msg, n, &env);
		CHECKF(rc == 0, "%zu bytes: seal %d (%s)", n, rc, m_error);
		rc = open_as(&env, BOB, ALICE, &m, &pt);
		CHECKF(rc == 0 && same(&pt, msg, n), "%zu bytes: open %d (%s)",
		    n, rc, m_error);

		rsa_test_fail_pss_op(1);
		rc = seal_by(k, msg, n, &env);
		rsa_test_fail_pss_op(0);
		CHECKF(rc == 70 && strstr(m_error, "RSA-PSS signing") != NULL,
		    "%zu bytes, failing signature: %d (%s)", n, rc, m_error);
		CHECKF(n > 5 || env.len == 0,
		    "%zu bytes, failing signature: %zu bytes written", n,
		    env.len);

		rc = seal_by(pub, msg, n, &env);
		CHECKF(rc == 70 && strstr(m_error, "RSA-PSS signing") != NULL,
		    "%zu bytes, public key: %d (%s)", n, rc, m_error);
		CHECKF(n > 5 || env.len == 0,
		    "%zu bytes, public key: %zu bytes written", n, env.len);
	}
out:
	free(msg);
	buf_free(&env);
	buf_free(&pt);
	EVP_PKEY_free(k);
	EVP_PKEY_free(pub);
}

/*
 * jws_scan, the inner JWS of a signed message read as it is decrypted
 * from a file (message_open_file), against jws_parse over the same text
 * held whole, for texts given in pieces of every small size and larger
 * ones: the same exit code and reason, the same header and signature,
 * the digest of the same signing input (the signature verifies), and
 * the payload's text given back whole, in order.
 */
static void
scan_one(const char *what, const char *text, size_t len)
{
	static const size_t steps[] = { 1, 2, 3, 4, 5, 7, 16, 333, 4096,
	    1 << 20 };
	struct jws jp, js;
	struct jws_scan *sc = malloc(sizeof(*sc));
	struct buf copy = BUF_INIT, pay = BUF_INIT;
	char why_p[300], why_s[300];
	uint8_t md[32];
	unsigned int mdlen = 0;
	size_t st, i, k, po, pl;
	int rp, rs;

	CHECK(sc != NULL);
	if (sc == NULL)
		return;
	CHECK(buf_append(&copy, text, len) == 0);
	rp = rep_why_rc(jws_parse((char *)copy.p, len, &jp, &t_rep), why_p,
	    sizeof(why_p));
	for (st = 0; st < sizeof(steps) / sizeof(steps[0]); st++) {
		buf_clear(&pay);
		CHECK(jws_scan_init(sc, NULL) == 0);
		for (i = 0; i < len; i += k) {
			k = len - i < steps[st] ? len - i : steps[st];
			CHECK(jws_scan_update(sc, (const uint8_t *)text + i, k,
			    &po, &pl) == 0);
			CHECK(po + pl <= k);
			CHECK(buf_append(&pay, text + i + po, pl) == 0);
		}
		rs = rep_why_rc(jws_scan_final(sc, &js, &t_rep), why_s,
		    sizeof(why_s));
		CHECKF(rs == rp && strcmp(why_s, rp ? why_p : "") == 0,
		    "%s, pieces of %zu: %d \"%s\", whole %d \"%s\"", what,
		    steps[st], rs, why_s, rp, why_p);
		if (rs == 0 && rp == 0) {
			CHECKF(json_equal(js.header, jp.header) &&
			    js.sig_len == jp.sig_len &&
			    memcmp(js.sig, jp.sig, js.sig_len) == 0 &&
			    js.hashed, "%s, pieces of %zu: parts", what,
			    steps[st]);
			CHECK(EVP_Digest(text, jp.signing_input_len, md, &mdlen,
			    EVP_sha256(), NULL) == 1);
			CHECKF(memcmp(md, js.digest, 32) == 0,
			    "%s, pieces of %zu: digest", what, steps[st]);
			CHECKF(pay.len == jp.payload_len &&
			    memcmp(pay.p, text + jp.payload_off,
			    pay.len) == 0, "%s, pieces of %zu: payload", what,
			    steps[st]);
			CHECKF(jws_verify(&js, pk[ALICE]) ==
			    jws_verify(&jp, pk[ALICE]),
			    "%s, pieces of %zu: verify", what, steps[st]);
		}
		if (rs == 0)
			jws_free(&js);
		jws_scan_free(sc);
	}
	if (rp == 0)
		jws_free(&jp);
	buf_free(&copy);
	buf_free(&pay);
	free(sc);
}

static void
jws_scan_like_parse(void)
{
	char hdr[512];
	struct buf j = BUF_INIT, t = BUF_INIT;
	uint8_t payload[3000];
	size_t i, d1, d2;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + 1);
	signed_header(ALICE, "\"x\"", "", hdr, sizeof(hdr));
	/* Payloads of every length mod 3, and empty. */
	for (i = 0; i < 4; i++) {
		make_jws(ALICE, hdr, payload, i == 3 ? 0 : 2990 + i, &j);
		scan_one("valid", (char *)j.p, j.len);
	}
	make_jws(ALICE, hdr, payload, 1000, &j);
	d1 = (size_t)((char *)memchr(j.p, '.', j.len) - (char *)j.p);
	d2 = (size_t)((char *)memrchr(j.p, '.', j.len) - (char *)j.p);
	scan_one("empty", "", 0);
	scan_one("no dot", (char *)j.p, d1);
	scan_one("one dot", (char *)j.p, d2);
	scan_one("dot at the end", (char *)j.p, d2 + 1);
	/* A fourth part, and a fifth. */
	buf_clear(&t);
	CHECK(buf_append(&t, j.p, j.len) == 0 &&
	    buf_append(&t, ".AAAA", 5) == 0);
	scan_one("four parts", (char *)t.p, t.len);
	CHECK(buf_append(&t, ".", 1) == 0);
	scan_one("five parts", (char *)t.p, t.len);
	/* A dot in the payload: four parts too. */
	buf_clear(&t);
	CHECK(buf_append(&t, j.p, j.len) == 0);
	t.p[d1 + 500] = '.';
	scan_one("dot in the payload", (char *)t.p, t.len);
	/* A payload that is not base64url passes here (refused later). */
	t.p[d1 + 500] = '+';
	scan_one("'+' in the payload", (char *)t.p, t.len);
	/* Empty parts. */
	scan_one("no header", (char *)j.p + d1, j.len - d1);
	scan_one("no signature", (char *)j.p, d2 + 1);
	buf_clear(&t);
	CHECK(buf_append(&t, j.p, d1 + 1) == 0 &&
	    buf_append(&t, j.p + d2, j.len - d2) == 0);
	scan_one("no payload", (char *)t.p, t.len);
	/* Headers and signatures of the largest length kept and longer. */
	for (i = 0; i < 4; i++) {
		size_t hl = JWS_SCAN_HEAD - 2 + i;

		buf_clear(&t);
		CHECK(buf_reserve(&t, hl + j.len) == 0);
		memset(t.p, 'e', hl);
		t.len = hl;
		CHECK(buf_append(&t, j.p + d1, j.len - d1) == 0);
		scan_one("long header", (char *)t.p, t.len);
	}
	for (i = 0; i < 4; i++) {
		size_t sl = JWS_SCAN_SIG - 2 + i;

		buf_clear(&t);
		CHECK(buf_append(&t, j.p, d2 + 1) == 0 &&
		    buf_reserve(&t, sl) == 0);
		memset(t.p + t.len, 'A', sl);
		t.len += sl;
		scan_one("long signature", (char *)t.p, t.len);
	}
	/* A header that is not base64url, not JSON, not PS256. */
	buf_clear(&t);
	CHECK(buf_append(&t, j.p, j.len) == 0);
	t.p[3] = '+';
	scan_one("header not base64url", (char *)t.p, t.len);
	buf_clear(&t);
	CHECK(b64url_append(&t, (const uint8_t *)"{\"alg\"", 6) == 0 &&
	    buf_append(&t, j.p + d1, j.len - d1) == 0);
	scan_one("header not JSON", (char *)t.p, t.len);
	buf_clear(&t);
	CHECK(b64url_append(&t, (const uint8_t *)"{\"alg\":\"RS256\"}",
	    15) == 0 && buf_append(&t, j.p + d1, j.len - d1) == 0);
	scan_one("header RS256", (char *)t.p, t.len);
	/* Another signature: parsed the same, and not valid. */
	buf_clear(&t);
	CHECK(buf_append(&t, j.p, j.len) == 0);
	t.p[d1 + 10] = t.p[d1 + 10] == 'A' ? 'B' : 'A';
	scan_one("changed payload", (char *)t.p, t.len);
	buf_free(&j);
	buf_free(&t);
}

static void
secret_buffers(void)
{
	struct buf s = BUF_SECRET_INIT, p = BUF_INIT;
	uint8_t chunk[100];
	size_t i, grew = 0, cap;
	const uint8_t *old;

	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)(i + 1);
	/* Grows many times; content survives every move. */
	for (i = 0; i < 200; i++) {
		old = s.p;
		cap = s.cap;
		watch_p = old;
		watch_len = s.len;
		watch_seen = watch_wiped = 0;
		CHECK(buf_append(&s, chunk, sizeof(chunk)) == 0);
		if (old != NULL && s.cap != cap) {
			grew++;
			if (mem_hooked)
				CHECKF(watch_seen && watch_wiped, "growth to %zu "
				    "left the old block %s", s.cap, watch_seen ?
				    "unwiped" : "not released");
		}
		CHECK(s.cap > s.len && s.secret == 1);
	}
	watch_p = NULL;
	CHECK(grew >= 5);
	CHECK(s.len == 200 * sizeof(chunk));
	for (i = 0; i < s.len; i++)
		if (s.p[i] != chunk[i % sizeof(chunk)])
			break;
	CHECKF(i == s.len, "content changed at %zu", i);
	if (!mem_hooked)
		harness_skip("OpenSSL's allocator could not be hooked: the "
		    "wipe on growth was not observed");

	/* buf_terminate adds a NUL outside len. */
	CHECK(buf_terminate(&s) == 0 && s.p[s.len] == '\0' &&
	    s.len == 200 * sizeof(chunk));
	/* buf_clear keeps the memory and wipes what was there. */
	old = s.p;
	buf_clear(&s);
	CHECK(s.len == 0 && s.p == old);
	for (i = 0; i < 200 * sizeof(chunk); i++)
		if (s.p[i] != 0)
			break;
	CHECKF(i == 200 * sizeof(chunk), "buf_clear left byte %zu", i);
	/* buf_free releases (wiping) and the buffer can be used again. */
	if (mem_hooked) {
		watch_p = s.p;
		watch_len = s.cap;
		watch_seen = watch_wiped = 0;
	}
	CHECK(buf_append(&s, chunk, 10) == 0);
	if (mem_hooked)
		watch_len = 10;
	buf_free(&s);
	CHECK(s.p == NULL && s.len == 0 && s.cap == 0);
	if (mem_hooked)
		CHECK(watch_seen && watch_wiped);
	watch_p = NULL;
	CHECK(buf_append(&s, "again", 5) == 0 && s.len == 5 && s.secret == 1);
	buf_free(&s);

	/* Overflow is refused, not wrapped. */
	CHECK(buf_append(&p, "x", 1) == 0);
	capture_begin();
	CHECK(buf_reserve(&p, SIZE_MAX) == -1);
	CHECK(buf_reserve(&p, SIZE_MAX - 1) == -1);
	rep_shown();
	capture_end();
	CHECK(p.len == 1 && p.p[0] == 'x');
	/* A plain buffer grows too. */
	for (i = 0; i < 100; i++)
		CHECK(buf_append(&p, chunk, sizeof(chunk)) == 0);
	CHECK(p.len == 1 + 100 * sizeof(chunk) && p.secret == 0);
	buf_free(&p);
}

int
main(void)
{
	size_t i;

	/* First, before OpenSSL allocates anything. */
	buf_test_set_release_hook(t_release);
	mem_hooked = 1;
	if (crypto_init(NULL) != 0)
		return 2;
	for (i = 0; i < NPEOPLE; i++) {
		pk[i] = fixture_private(names[i]);
		if (jwk_thumbprint(pk[i], kid[i], NULL) != 0)
			return 2;
	}
	RUN(roundtrip);
	RUN(message_fields);
	RUN(signer_lookup);
	RUN(wrong_key);
	RUN(unwrap_failure_has_no_hint);
	RUN(verify_semantics);
	RUN(embedded_keys_ignored);
	RUN(surreptitious_forwarding);
	RUN(signed_names);
	RUN(signed_names_malformed);
	RUN(cek_length);
	RUN(ciphertext_scan_and_duplicates);
	RUN(member_span);
	RUN(term_escaping);
	RUN(term_truncation);
	RUN(utf8_validity);
	RUN(safe_text);
	RUN(seed_unreplacing);
	RUN(key_ids);
	RUN(rsa_refusals);
	RUN(signing_paths);
	RUN(secret_buffers);
	RUN(jws_scan_like_parse);
	for (i = 0; i < NPEOPLE; i++)
		EVP_PKEY_free(pk[i]);
	return harness_end();
}
