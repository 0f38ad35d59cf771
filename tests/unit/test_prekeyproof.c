/*
 * Unit tests of the prekey proofs (lib/format/prekeyproof.c): the prekey
 * id (RFC 7638 thumbprint of an X25519 JWK) against answers computed
 * with hashlib, a proof made and checked, one made by jwcrypto
 * (tests/vectors/prekeyproof) accepted, and every claim wrong refused
 * with its own result: another key, another user or account id, another
 * server, another kind, a pkid that is not x's id, an x that is not 32
 * bytes, members missing or extra, a header other than exactly {alg,
 * typ, kid}, iat out of the skew, a signed prekey too old for a client.
 *
 * Runs from the project root (it reads tests/vectors).
 */
#include "proof_fixture.h"

#include "base/buf.h"
#include "base/err.h"
#include "format/crypto.h"
#include "format/jwk.h"
#include "format/jws.h"
#include "format/prekeyproof.h"

/* RFC 7748 6.1, Bob's public key, and its id (hashlib). */
#define X_BOB "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"
#define PKID_BOB "giQqigT_IKcuzHl0FVJ3k5ts3_TWNAxvsC08UZsfcM8"
/* Bytes 00 01 ... 1f, and its id. */
#define X_SEQ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
#define PKID_SEQ "K_FVz2f8-Bj15Dg88zIkaPBhqlASdgssZCZADXKTr5g"

static const struct prekeyproof_want want_a = {
	{ ID_A, "alice", AUD, NOW, KEYPROOF_SKEW }, PREKEY_ONE_TIME, 0 };

static void
pkids(void)
{
	static const char *const bad[] = { "", "AAAA",
		"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08A",
		/* 43 characters whose last one has stray bits */
		"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK09",
		"3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx-FG-IK08",
		"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK0=", NULL };
	char pkid[KID_SIZE];
	size_t i;

	CHECK(prekey_pkid(X_BOB, strlen(X_BOB), pkid) == 0 &&
	    strcmp(pkid, PKID_BOB) == 0);
	CHECK(prekey_pkid(X_SEQ, strlen(X_SEQ), pkid) == 0 &&
	    strcmp(pkid, PKID_SEQ) == 0);
	CHECK(jwk_is_kid(pkid, strlen(pkid)));
	for (i = 0; bad[i] != NULL; i++) {
		CHECKF(prekey_pkid(bad[i], strlen(bad[i]), pkid) == -1 &&
		    pkid[0] == '\0', "%s accepted", bad[i]);
		CHECK(!prekey_x_valid(bad[i], strlen(bad[i])));
	}
	/* A NUL inside. */
	CHECK(!prekey_x_valid("3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK0\0",
	    43));
	CHECK(strcmp(prekey_kind_name(PREKEY_SIGNED), "signed") == 0 &&
	    strcmp(prekey_kind_name(PREKEY_ONE_TIME), "one-time") == 0);
}

/* prekeyproof_check of text; the reason in why. One error of 65 exactly
 * when refused; the verdict the same without a report or got. */
static int
check_text(const char *text, size_t len, EVP_PKEY *pk, const char *kid,
    const struct prekeyproof_want *w, struct prekeyproof_claims *got,
    char *why, size_t size)
{
	int rc = prekeyproof_check(text, len, pk, kid, w, got, &t_rep);

	CHECKF(rc == KEYPROOF_OK ? !report_said(&t_rep) :
	    t_rep.code == E2E_EX_DATAERR && t_rep.nlines == 1,
	    "result %d with a report of code %d and %d lines", rc,
	    t_rep.code, t_rep.nlines);
	CHECK(prekeyproof_check(text, len, pk, kid, w, NULL, NULL) == rc);
	return rep_why_rc(rc, why, size);
}

static int
check(const struct buf *p, EVP_PKEY *pk, const char *kid,
    const struct prekeyproof_want *w, char *why, size_t size)
{
	return check_text((const char *)p->p, strlen((char *)p->p), pk, kid,
	    w, NULL, why, size);
}

static void
make(EVP_PKEY *k, const char *id, const char *name, const char *aud,
    int64_t iat, int kind, const char *x, struct buf *out)
{
	buf_clear(out);
	if (prekeyproof_make(k, id, name, aud, iat, kind, x, out, NULL) !=
	    0) {
		fprintf(stderr, "prekeyproof_make failed\n");
		exit(2);
	}
}

/* The header e2e-chat writes for alice's key. */
static void
header_a(char *out, size_t size)
{
	snprintf(out, size, "{\"alg\":\"PS256\",\"typ\":\"" PREKEYPROOF_TYP
	    "\",\"kid\":\"%s\"}", kid_alice);
}

/* A payload for alice with kind, pkid and x as given, and tail (more
 * members, or ""). */
static void
payload_a(char *out, size_t size, const char *kind, const char *pkid,
    const char *x, const char *tail)
{
	snprintf(out, size, "{\"sub\":\"" ID_A "\",\"name\":\"alice\","
	    "\"kid\":\"%s\",\"aud\":\"" AUD "\",\"iat\":%d,\"kind\":\"%s\","
	    "\"pkid\":\"%s\",\"x\":\"%s\"%s}", kid_alice, NOW, kind, pkid, x,
	    tail);
}

static void
round_trip(void)
{
	struct buf p = BUF_INIT;
	struct prekeyproof_claims got;
	struct prekeyproof_want w = want_a;
	char why[512], hdr[160], pay[512];
	int rc;

	make(alice, ID_A, "alice", "HTTPS://Chat.Example:443/", NOW,
	    PREKEY_ONE_TIME, X_BOB, &p);
	rc = check_text((const char *)p.p, strlen((char *)p.p), alice,
	    kid_alice, &want_a, &got, why, sizeof(why));
	CHECKF(rc == KEYPROOF_OK, "%d %s", rc, why);
	CHECK(strcmp(got.key.sub, ID_A) == 0 &&
	    strcmp(got.key.name, "alice") == 0 &&
	    strcmp(got.key.kid, kid_alice) == 0 &&
	    strcmp(got.key.aud, AUD) == 0 && got.key.iat == NOW);
	CHECK(got.kind == PREKEY_ONE_TIME && strcmp(got.pkid, PKID_BOB) == 0 &&
	    strcmp(got.x, X_BOB) == 0);
	/* Exactly the header and payload of the contract, in order. */
	header_a(hdr, sizeof(hdr));
	payload_a(pay, sizeof(pay), "one-time", PKID_BOB, X_BOB, "");
	craft(alice, hdr, pay, &p);
	{
		struct buf again = BUF_INIT;

		make(alice, ID_A, "alice", AUD, NOW, PREKEY_ONE_TIME, X_BOB,
		    &again);
		/* PS256 is randomised: the signing inputs are the same. */
		CHECK(strncmp((char *)p.p, (char *)again.p,
		    (size_t)(strrchr((char *)p.p, '.') - (char *)p.p)) == 0);
		buf_free(&again);
	}
	/* Either kind, when the checker takes either. */
	make(alice, ID_A, "alice", AUD, NOW, PREKEY_SIGNED, X_SEQ, &p);
	w.kind = -1;
	CHECK(check_text((const char *)p.p, strlen((char *)p.p), alice,
	    kid_alice, &w, &got, why, sizeof(why)) == KEYPROOF_OK &&
	    got.kind == PREKEY_SIGNED && strcmp(got.pkid, PKID_SEQ) == 0);
	w.kind = PREKEY_SIGNED;
	CHECK(check(&p, alice, kid_alice, &w, why, sizeof(why)) == 0);
	/* An x that is no public key is refused at making. */
	buf_clear(&p);
	CHECK(prekeyproof_make(alice, ID_A, "alice", AUD, NOW,
	    PREKEY_ONE_TIME, "AAAA", &p, &t_rep) == 64);
	CHECK(rep_why(why, sizeof(why)) == 64);
	buf_free(&p);
}

/* jwcrypto's proof (sorted claims, spaces) is accepted. */
static void
jwcrypto_made(void)
{
	struct prekeyproof_claims got;
	struct prekeyproof_want w = want_a;
	char *text = NULL, why[512];
	size_t len;
	int rc;

	text = harness_read("tests/vectors/prekeyproof/jwcrypto.jws");
	len = strlen(text);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	rc = check_text(text, len, alice, kid_alice, &w, &got, why,
	    sizeof(why));
	CHECKF(rc == KEYPROOF_OK, "%d %s", rc, why);
	CHECK(got.kind == PREKEY_ONE_TIME && strcmp(got.pkid, PKID_BOB) == 0);
	/* Not for bob's key; not as a signed prekey. */
	CHECK(check_text(text, len, bob, kid_bob, &w, NULL, why,
	    sizeof(why)) == KEYPROOF_OTHER_KEY);
	w.kind = PREKEY_SIGNED;
	CHECK(check_text(text, len, alice, kid_alice, &w, NULL, why,
	    sizeof(why)) == PREKEYPROOF_OTHER_KIND);
	free(text);
}

static void
refusals(void)
{
	struct buf p = BUF_INIT;
	struct prekeyproof_want w;
	char why[512], hdr[160], pay[512], pkid[KID_SIZE];
	int rc;

	/* Made with alice's key, checked against bob's. */
	make(alice, ID_A, "alice", AUD, NOW, PREKEY_ONE_TIME, X_BOB, &p);
	rc = check(&p, bob, kid_bob, &want_a, why, sizeof(why));
	CHECKF(rc == KEYPROOF_OTHER_KEY && strstr(why, kid_alice) &&
	    strstr(why, kid_bob), "%d %s", rc, why);
	/* A header naming bob's key, signed by alice's. */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"PS256\",\"typ\":\""
	    PREKEYPROOF_TYP "\",\"kid\":\"%s\"}", kid_bob);
	payload_a(pay, sizeof(pay), "one-time", PKID_BOB, X_BOB, "");
	craft(alice, hdr, pay, &p);
	rc = check(&p, bob, kid_bob, &want_a, why, sizeof(why));
	CHECKF(rc == KEYPROOF_OTHER_KEY && strstr(why, "not signed by"),
	    "%d %s", rc, why);
	/* Another name, another account id, another server. */
	make(alice, ID_A, "mallory", AUD, NOW, PREKEY_ONE_TIME, X_BOB, &p);
	rc = check(&p, alice, kid_alice, &want_a, why, sizeof(why));
	CHECKF(rc == KEYPROOF_OTHER_USER && strstr(why, "mallory"), "%d %s",
	    rc, why);
	make(alice, ID_B, "alice", AUD, NOW, PREKEY_ONE_TIME, X_BOB, &p);
	CHECK(check(&p, alice, kid_alice, &want_a, why, sizeof(why)) ==
	    KEYPROOF_OTHER_USER && strstr(why, ID_B));
	make(alice, ID_A, "alice", "https://evil.example", NOW,
	    PREKEY_ONE_TIME, X_BOB, &p);
	rc = check(&p, alice, kid_alice, &want_a, why, sizeof(why));
	CHECKF(rc == KEYPROOF_OTHER_SERVER && strstr(why,
	    "https://evil.example") && strstr(why, AUD), "%d %s", rc, why);
	/* Another kind: each offered as the other. */
	make(alice, ID_A, "alice", AUD, NOW, PREKEY_SIGNED, X_BOB, &p);
	rc = check(&p, alice, kid_alice, &want_a, why, sizeof(why));
	CHECKF(rc == PREKEYPROOF_OTHER_KIND && strcmp(why, "is for a signed "
	    "prekey, not a one-time one") == 0, "%d %s", rc, why);
	w = want_a;
	w.kind = PREKEY_SIGNED;
	make(alice, ID_A, "alice", AUD, NOW, PREKEY_ONE_TIME, X_BOB, &p);
	rc = check(&p, alice, kid_alice, &w, why, sizeof(why));
	CHECKF(rc == PREKEYPROOF_OTHER_KIND && strcmp(why, "is for a "
	    "one-time prekey, not a signed one") == 0, "%d %s", rc, why);
	/* pkid not the id of x: another prekey's, or not an id at all. */
	header_a(hdr, sizeof(hdr));
	payload_a(pay, sizeof(pay), "one-time", PKID_SEQ, X_BOB, "");
	craft(alice, hdr, pay, &p);
	rc = check(&p, alice, kid_alice, &want_a, why, sizeof(why));
	CHECKF(rc == PREKEYPROOF_BAD_PREKEY && strcmp(why, "names the prekey "
	    "id " PKID_SEQ ", but its key's id is " PKID_BOB) == 0, "%d %s",
	    rc, why);
	payload_a(pay, sizeof(pay), "one-time", "x", X_BOB, "");
	craft(alice, hdr, pay, &p);
	CHECK(check(&p, alice, kid_alice, &want_a, why, sizeof(why)) ==
	    PREKEYPROOF_BAD_PREKEY);
	/* The identity key's own id as pkid. */
	payload_a(pay, sizeof(pay), "one-time", kid_alice, X_BOB, "");
	craft(alice, hdr, pay, &p);
	CHECK(check(&p, alice, kid_alice, &want_a, why, sizeof(why)) ==
	    PREKEYPROOF_BAD_PREKEY);
	/* x of 31 and 33 bytes, or not base64url. */
	{
		static const char *const xs[] = {
			"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg",
			"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g",
			"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+",
			"",
		};
		size_t i;

		for (i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
			payload_a(pay, sizeof(pay), "one-time", PKID_SEQ,
			    xs[i], "");
			craft(alice, hdr, pay, &p);
			rc = check(&p, alice, kid_alice, &want_a, why,
			    sizeof(why));
			CHECKF(rc == PREKEYPROOF_BAD_PREKEY && strcmp(why,
			    "is for no X25519 public key: x is not the "
			    "base64url of 32 bytes") == 0, "x %zu: %d %s", i,
			    rc, why);
		}
	}
	/* iat: 301 s either way at publishing; any age without the check. */
	make(alice, ID_A, "alice", AUD, NOW - KEYPROOF_SKEW - 1,
	    PREKEY_ONE_TIME, X_BOB, &p);
	CHECK(check(&p, alice, kid_alice, &want_a, why, sizeof(why)) ==
	    KEYPROOF_TOO_OLD && strstr(why, "301 s"));
	make(alice, ID_A, "alice", AUD, NOW + KEYPROOF_SKEW + 1,
	    PREKEY_ONE_TIME, X_BOB, &p);
	CHECK(check(&p, alice, kid_alice, &want_a, why, sizeof(why)) ==
	    KEYPROOF_FUTURE);
	/* A client: any age for a one-time prekey, 35 days for a signed
	 * one. */
	w = want_a;
	w.key.skew = -1;
	w.kind = -1;
	w.max_age = PREKEY_SIGNED_MAX_AGE;
	w.key.now = NOW + PREKEY_SIGNED_MAX_AGE + 1;
	make(alice, ID_A, "alice", AUD, NOW, PREKEY_ONE_TIME, X_BOB, &p);
	CHECK(check(&p, alice, kid_alice, &w, why, sizeof(why)) == 0);
	make(alice, ID_A, "alice", AUD, NOW, PREKEY_SIGNED, X_BOB, &p);
	rc = check(&p, alice, kid_alice, &w, why, sizeof(why));
	CHECKF(rc == KEYPROOF_TOO_OLD && strcmp(why, "is too old: a signed "
	    "prekey made more than 35 days ago") == 0, "%d %s", rc, why);
	w.key.now = NOW + PREKEY_SIGNED_MAX_AGE;
	CHECK(check(&p, alice, kid_alice, &w, why, sizeof(why)) == 0);
	make(alice, ID_A, "alice", AUD, -5, PREKEY_SIGNED, X_BOB, &p);
	CHECK(check(&p, alice, kid_alice, &w, why, sizeof(why)) ==
	    KEYPROOF_TOO_OLD);
	CHECK(prekey_pkid(X_BOB, strlen(X_BOB), pkid) == 0);
	buf_free(&p);
}

/* Members missing or extra, wrong types, a header other than exact. */
static void
malformed(void)
{
	static const char *const headers[] = {
		"{\"alg\":\"PS256\",\"typ\":\"e2e-key-proof+jwt\","
		"\"kid\":\"KID\"}",
		"{\"alg\":\"PS256\",\"kid\":\"KID\"}",
		"{\"alg\":\"PS256\",\"typ\":\"" PREKEYPROOF_TYP "\"}",
		"{\"alg\":\"PS256\",\"typ\":\"" PREKEYPROOF_TYP "\","
		"\"kid\":\"KID\",\"x5u\":\"https://a\"}",
		"{\"alg\":\"RS256\",\"typ\":\"" PREKEYPROOF_TYP "\","
		"\"kid\":\"KID\"}",
	};
	static const char *const tails[] = { ",\"exp\":1", ",\"jti\":\"a\"",
		",\"crv\":\"X25519\"" };
	struct buf p = BUF_INIT;
	char why[512], hdr[256], pay[768], *k;
	size_t i;
	int rc;

	/* The header: each variant refused, whatever the claims. */
	payload_a(pay, sizeof(pay), "one-time", PKID_BOB, X_BOB, "");
	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		snprintf(hdr, sizeof(hdr), "%s", headers[i]);
		if ((k = strstr(hdr, "KID")) != NULL) {
			char rest[256];

			snprintf(rest, sizeof(rest), "%s", k + 3);
			snprintf(k, sizeof(hdr) - (size_t)(k - hdr), "%s%s",
			    kid_alice, rest);
		}
		craft(alice, hdr, pay, &p);
		rc = check(&p, alice, kid_alice, &want_a, why, sizeof(why));
		CHECKF(rc == KEYPROOF_MALFORMED, "header %zu: %d %s", i, rc,
		    why);
	}
	/* A key proof is not a prekey proof (and the reverse). */
	buf_clear(&p);
	CHECK(keyproof_make(alice, ID_A, "alice", AUD, NOW, &p, NULL) == 0);
	rc = check(&p, alice, kid_alice, &want_a, why, sizeof(why));
	CHECKF(rc == KEYPROOF_MALFORMED && strcmp(why, "is not a prekey "
	    "proof: its header's typ is not \"" PREKEYPROOF_TYP "\"") == 0,
	    "%d %s", rc, why);
	make(alice, ID_A, "alice", AUD, NOW, PREKEY_ONE_TIME, X_BOB, &p);
	CHECK(keyproof_check((const char *)p.p, strlen((char *)p.p), alice,
	    kid_alice, &want_a.key, NULL, NULL) == KEYPROOF_MALFORMED);
	/* Extra claims. */
	header_a(hdr, sizeof(hdr));
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		payload_a(pay, sizeof(pay), "one-time", PKID_BOB, X_BOB,
		    tails[i]);
		craft(alice, hdr, pay, &p);
		rc = check(&p, alice, kid_alice, &want_a, why, sizeof(why));
		CHECKF(rc == KEYPROOF_MALFORMED && strstr(why, "unknown claim"),
		    "tail %zu: %d %s", i, rc, why);
	}
	/* Missing ones, or of other types. */
	{
		char fmt[4][256];
		const char *bodies[7];

		snprintf(fmt[0], sizeof(fmt[0]), "{\"sub\":\"" ID_A "\","
		    "\"name\":\"alice\",\"kid\":\"%s\",\"aud\":\"" AUD "\","
		    "\"iat\":%d,\"pkid\":\"" PKID_BOB "\",\"x\":\"" X_BOB "\"}",
		    kid_alice, NOW);
		snprintf(fmt[1], sizeof(fmt[1]), "{\"sub\":\"" ID_A "\","
		    "\"name\":\"alice\",\"kid\":\"%s\",\"aud\":\"" AUD "\","
		    "\"iat\":%d,\"kind\":\"one-time\",\"x\":\"" X_BOB "\"}",
		    kid_alice, NOW);
		snprintf(fmt[2], sizeof(fmt[2]), "{\"sub\":\"" ID_A "\","
		    "\"name\":\"alice\",\"kid\":\"%s\",\"aud\":\"" AUD "\","
		    "\"iat\":%d,\"kind\":\"one-time\",\"pkid\":\"" PKID_BOB
		    "\"}", kid_alice, NOW);
		snprintf(fmt[3], sizeof(fmt[3]), "{\"name\":\"alice\","
		    "\"kid\":\"%s\",\"aud\":\"" AUD "\",\"iat\":%d,\"kind\":"
		    "\"one-time\",\"pkid\":\"" PKID_BOB "\",\"x\":\"" X_BOB
		    "\"}", kid_alice, NOW);
		for (i = 0; i < 4; i++)
			bodies[i] = fmt[i];
		bodies[4] = "[]";
		bodies[5] = "not json";
		bodies[6] = "{}";
		for (i = 0; i < 7; i++) {
			craft(alice, hdr, bodies[i], &p);
			rc = check(&p, alice, kid_alice, &want_a, why,
			    sizeof(why));
			CHECKF(rc == KEYPROOF_MALFORMED && strstr(why,
			    "is not a prekey proof"), "body %zu: %d %s", i,
			    rc, why);
		}
	}
	payload_a(pay, sizeof(pay), "ONE-TIME", PKID_BOB, X_BOB, "");
	craft(alice, hdr, pay, &p);
	CHECK(check(&p, alice, kid_alice, &want_a, why, sizeof(why)) ==
	    KEYPROOF_MALFORMED);
	/* kind, pkid, x of other types. */
	snprintf(pay, sizeof(pay), "{\"sub\":\"" ID_A "\",\"name\":\"alice\","
	    "\"kid\":\"%s\",\"aud\":\"" AUD "\",\"iat\":%d,\"kind\":1,"
	    "\"pkid\":\"" PKID_BOB "\",\"x\":\"" X_BOB "\"}", kid_alice, NOW);
	craft(alice, hdr, pay, &p);
	CHECK(check(&p, alice, kid_alice, &want_a, why, sizeof(why)) ==
	    KEYPROOF_MALFORMED);
	snprintf(pay, sizeof(pay), "{\"sub\":\"" ID_A "\",\"name\":\"alice\","
	    "\"kid\":\"%s\",\"aud\":\"" AUD "\",\"iat\":%d,\"kind\":"
	    "\"one-time\",\"pkid\":\"" PKID_BOB "\",\"x\":[\"" X_BOB "\"]}",
	    kid_alice, NOW);
	craft(alice, hdr, pay, &p);
	CHECK(check(&p, alice, kid_alice, &want_a, why, sizeof(why)) ==
	    KEYPROOF_MALFORMED);
	/* Empty, or longer than a proof can be. */
	CHECK(check_text("", 0, alice, kid_alice, &want_a, NULL, why,
	    sizeof(why)) == KEYPROOF_MALFORMED);
	CHECKF(strcmp(why, "is not a prekey proof: empty, or longer than 8192 "
	    "bytes") == 0, "%s", why);
	/* One byte of the claims changed: the signature fails. */
	make(alice, ID_A, "alice", AUD, NOW, PREKEY_ONE_TIME, X_BOB, &p);
	p.p[strchr((char *)p.p, '.') - (char *)p.p + 5] ^= 1;
	CHECK(check(&p, alice, kid_alice, &want_a, why, sizeof(why)) ==
	    KEYPROOF_OTHER_KEY);
	buf_free(&p);
}

int
main(void)
{
	if (proof_keys_load() != 0)
		return 2;
	RUN(pkids);
	RUN(round_trip);
	RUN(jwcrypto_made);
	RUN(refusals);
	RUN(malformed);
	proof_keys_free();
	return harness_end();
}
