/*
 * Unit tests of the proofs of possession (lib/format/keyproof.c, catalogue I1):
 * the server URL's normal form, a proof made and checked, and each way a
 * proof is refused with its own result: made with another key, for
 * another key, for another user or account id, for another server, too
 * old, from the future, not a proof at all. (That an independent JOSE
 * library checks a proof is tested in tests/bats/identity.bats, with
 * jwcrypto.)
 *
 * Runs from the project root (it reads tests/vectors/keys).
 */
#include "proof_fixture.h"

#include "base/buf.h"
#include "base/err.h"
#include "format/crypto.h"
#include "format/jwk.h"
#include "format/jws.h"
#include "format/keyproof.h"

static void
urls(void)
{
	static const char *const good[][2] = {
		{ "https://chat.example", "https://chat.example" },
		{ "HTTPS://Chat.EXAMPLE/", "https://chat.example" },
		{ "https://chat.example:443", "https://chat.example" },
		{ "https://chat.example:0443//", "https://chat.example" },
		{ "http://chat.example:80", "http://chat.example" },
		{ "http://chat.example:443", "http://chat.example:443" },
		{ "https://chat.example:8443", "https://chat.example:8443" },
		{ "http://127.0.0.1:8080", "http://127.0.0.1:8080" },
		{ "http://[::1]:8080/", "http://[::1]:8080" },
		{ "http://[FE80::1]", "http://[fe80::1]" },
		/* The path is kept as given, only its final '/'s go. */
		{ "https://Example.org/Chat/", "https://example.org/Chat" },
		{ "https://example.org/a/b///", "https://example.org/a/b" },
	};
	static const char *const bad[] = { "", "chat.example",
		"ftp://chat.example", "https://", "https:///x", "https://:80",
		"https://a:", "https://a:99999", "https://a:123456",
		"https://a:8x", "https://u@a", "https://a/?q", "https://a/#f",
		"https://a b", "https://a\tb", "https://[::1", "https://[]",
		"https://a\\b", "http://a\x7f", NULL };
	char out[KEYPROOF_URL_MAX], longurl[KEYPROOF_URL_MAX + 16];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECKF(keyproof_url(good[i][0], out) == 0, "%s refused",
		    good[i][0]);
		CHECKF(strcmp(out, good[i][1]) == 0, "%s gave %s", good[i][0],
		    out);
	}
	for (i = 0; bad[i] != NULL; i++)
		CHECKF(keyproof_url(bad[i], out) != 0, "%s accepted", bad[i]);
	memset(longurl, 'a', sizeof(longurl));
	memcpy(longurl, "https://", 8);
	longurl[sizeof(longurl) - 1] = '\0';
	CHECK(keyproof_url(longurl, out) != 0);
}

static const struct keyproof_want want_a = { ID_A, "alice", AUD, NOW,
	KEYPROOF_SKEW };

/*
 * keyproof_check of text (len bytes), its reason put in why (size bytes)
 * as the words a caller quotes after "the proof ": the report holds one
 * error, 65, exactly when the proof is refused, and nothing when it
 * holds.
 */
static int
check_text(const char *text, size_t len, EVP_PKEY *pk, const char *kid,
    const struct keyproof_want *w, struct keyproof_claims *got, char *why,
    size_t size)
{
	int rc = keyproof_check(text, len, pk, kid, w, got, &t_rep);

	CHECKF(rc == KEYPROOF_OK ? !report_said(&t_rep) :
	    t_rep.code == E2E_EX_DATAERR && t_rep.nlines == 1,
	    "result %d with a report of code %d and %d lines", rc,
	    t_rep.code, t_rep.nlines);
	/* The verdict alone, without a report, is the same. */
	CHECK(keyproof_check(text, len, pk, kid, w, NULL, NULL) == rc);
	return rep_why_rc(rc, why, size);
}

/* The result of checking proof for key pk (of id kid) against w. */
static int
check(const struct buf *proof, EVP_PKEY *pk, const char *kid,
    const struct keyproof_want *w, char *why, size_t size)
{
	return check_text((const char *)proof->p, strlen((char *)proof->p),
	    pk, kid, w, NULL, why, size);
}

static void
make(EVP_PKEY *k, const char *id, const char *name, const char *aud,
    int64_t iat, struct buf *out)
{
	buf_clear(out);
	if (keyproof_make(k, id, name, aud, iat, out, NULL) != 0) {
		fprintf(stderr, "keyproof_make failed\n");
		exit(2);
	}
}

static void
round_trip(void)
{
	struct buf p = BUF_INIT;
	struct keyproof_claims got;
	struct keyproof_want w = want_a;
	char why[512];
	int rc;

	make(alice, ID_A, "alice", "HTTPS://Chat.Example:443/", NOW, &p);
	rc = check_text((const char *)p.p, strlen((char *)p.p), alice,
	    kid_alice, &want_a, &got, why, sizeof(why));
	CHECKF(rc == KEYPROOF_OK, "%d %s", rc, why);
	CHECK(strcmp(got.sub, ID_A) == 0 && strcmp(got.name, "alice") == 0);
	CHECK(strcmp(got.kid, kid_alice) == 0);
	/* aud is written normalised. */
	CHECK(strcmp(got.aud, AUD) == 0);
	CHECK(got.iat == NOW);
	/* Within 300 s either way; without a time check, any age. */
	w.now = NOW + KEYPROOF_SKEW;
	CHECK(check(&p, alice, kid_alice, &w, why, sizeof(why)) == 0);
	w.now = NOW - KEYPROOF_SKEW;
	CHECK(check(&p, alice, kid_alice, &w, why, sizeof(why)) == 0);
	w.now = NOW + 86400 * 365;
	w.skew = -1;
	CHECK(check(&p, alice, kid_alice, &w, why, sizeof(why)) == 0);
	/* The header is exactly the three members. */
	CHECK(strncmp((char *)p.p, "eyJhbGciOiJQUzI1NiIsInR5cCI6ImUyZS1rZXkt"
	    "cHJvb2Yrand0Iiwia2lkIjoi", 64) == 0);
	buf_free(&p);
}

static void
refusals(void)
{
	struct buf p = BUF_INIT;
	struct keyproof_want w;
	char why[512], hdr[160], pay[512];
	int rc;

	/* Made with alice's key, offered for bob's: another key. */
	make(alice, ID_A, "alice", AUD, NOW, &p);
	rc = check(&p, bob, kid_bob, &want_a, why, sizeof(why));
	CHECKF(rc == KEYPROOF_OTHER_KEY, "%d %s", rc, why);
	CHECKF(strstr(why, kid_alice) && strstr(why, kid_bob), "%s", why);
	/* A header naming bob's key, signed by alice's: the signature. */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"PS256\",\"typ\":\""
	    KEYPROOF_TYP "\",\"kid\":\"%s\"}", kid_bob);
	snprintf(pay, sizeof(pay), "{\"sub\":\"%s\",\"name\":\"alice\","
	    "\"kid\":\"%s\",\"aud\":\"%s\",\"iat\":%d}", ID_A, kid_bob, AUD,
	    NOW);
	craft(alice, hdr, pay, &p);
	rc = check(&p, bob, kid_bob, &want_a, why, sizeof(why));
	CHECKF(rc == KEYPROOF_OTHER_KEY && strstr(why, "not signed by"),
	    "%d %s", rc, why);
	/* Signed by the key, but the claims prove another key. */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"PS256\",\"typ\":\""
	    KEYPROOF_TYP "\",\"kid\":\"%s\"}", kid_alice);
	craft(alice, hdr, pay, &p);
	rc = check(&p, alice, kid_alice, &want_a, why, sizeof(why));
	CHECKF(rc == KEYPROOF_OTHER_KEY && strstr(why, "proves key"),
	    "%d %s", rc, why);
	/* Another name, another id. */
	make(alice, ID_A, "mallory", AUD, NOW, &p);
	rc = check(&p, alice, kid_alice, &want_a, why, sizeof(why));
	CHECKF(rc == KEYPROOF_OTHER_USER, "%d %s", rc, why);
	CHECKF(strstr(why, "mallory") && strstr(why, "alice"), "%s", why);
	make(alice, ID_B, "alice", AUD, NOW, &p);
	rc = check(&p, alice, kid_alice, &want_a, why, sizeof(why));
	CHECKF(rc == KEYPROOF_OTHER_USER && strstr(why, ID_B), "%d %s", rc,
	    why);
	/* Another server: both URLs named. */
	make(alice, ID_A, "alice", "https://evil.example", NOW, &p);
	rc = check(&p, alice, kid_alice, &want_a, why, sizeof(why));
	CHECKF(rc == KEYPROOF_OTHER_SERVER, "%d %s", rc, why);
	CHECKF(strstr(why, "https://evil.example") && strstr(why, AUD), "%s",
	    why);
	make(alice, ID_A, "alice", AUD "/other", NOW, &p);
	CHECK(check(&p, alice, kid_alice, &want_a, why, sizeof(why)) ==
	    KEYPROOF_OTHER_SERVER);
	/* Time: 301 s either way. */
	make(alice, ID_A, "alice", AUD, NOW - KEYPROOF_SKEW - 1, &p);
	rc = check(&p, alice, kid_alice, &want_a, why, sizeof(why));
	CHECKF(rc == KEYPROOF_TOO_OLD && strstr(why, "301 s"), "%d %s", rc,
	    why);
	make(alice, ID_A, "alice", AUD, NOW + KEYPROOF_SKEW + 1, &p);
	rc = check(&p, alice, kid_alice, &want_a, why, sizeof(why));
	CHECKF(rc == KEYPROOF_FUTURE && strstr(why, "301 s"), "%d %s", rc,
	    why);
	make(alice, ID_A, "alice", AUD, INT64_MAX, &p);
	CHECK(check(&p, alice, kid_alice, &want_a, why, sizeof(why)) ==
	    KEYPROOF_FUTURE);
	make(alice, ID_A, "alice", AUD, -5, &p);
	CHECK(check(&p, alice, kid_alice, &want_a, why, sizeof(why)) ==
	    KEYPROOF_TOO_OLD);
	w = want_a;
	w.skew = -1;
	CHECK(check(&p, alice, kid_alice, &w, why, sizeof(why)) == 0);
	buf_free(&p);
}

/* Things that are not proofs at all. */
/* tmpl with each "KID" replaced by kid. */
static void
fill(char *dst, size_t size, const char *tmpl, const char *kid)
{
	const char *k;
	size_t n = 0;

	while ((k = strstr(tmpl, "KID")) != NULL && n < size) {
		n += (size_t)snprintf(dst + n, size - n, "%.*s%s",
		    (int)(k - tmpl), tmpl, kid);
		tmpl = k + 3;
	}
	if (n < size)
		snprintf(dst + n, size - n, "%s", tmpl);
}

static void
malformed(void)
{
	static const char *const headers[] = {
		"{\"alg\":\"PS256\",\"typ\":\"JWT\",\"kid\":\"KID\"}",
		"{\"alg\":\"PS256\",\"kid\":\"KID\"}",
		"{\"alg\":\"PS256\",\"typ\":\"" KEYPROOF_TYP "\",\"kid\":\"KID\","
		"\"jwk\":{}}",
		"{\"alg\":\"RS256\",\"typ\":\"" KEYPROOF_TYP "\",\"kid\":\"KID\"}",
		"{\"alg\":\"PS256\",\"typ\":\"" KEYPROOF_TYP "\",\"kid\":\"KID\","
		"\"crit\":[\"x\"]}",
		"{\"alg\":\"PS256\",\"typ\":\"" KEYPROOF_TYP "\",\"kid\":\"xKID\"}",
	};
	static const char *const payloads[] = {
		"[]", "not json", "{}",
		"{\"sub\":\"" ID_A "\",\"name\":\"alice\",\"kid\":\"KID\","
		"\"aud\":\"" AUD "\"}",
		"{\"sub\":\"" ID_A "\",\"name\":\"alice\",\"kid\":\"KID\","
		"\"aud\":\"" AUD "\",\"iat\":\"1\"}",
		"{\"sub\":\"" ID_A "\",\"name\":\"alice\",\"kid\":\"KID\","
		"\"aud\":\"" AUD "\",\"iat\":1,\"exp\":2}",
		"{\"sub\":\"not an id\",\"name\":\"alice\",\"kid\":\"KID\","
		"\"aud\":\"" AUD "\",\"iat\":1}",
		"{\"sub\":\"" ID_A "\",\"name\":\"al ice\",\"kid\":\"KID\","
		"\"aud\":\"" AUD "\",\"iat\":1}",
		"{\"sub\":\"" ID_A "\",\"name\":\"alice\",\"kid\":\"KID\","
		"\"aud\":\"" AUD "\",\"iat\":1,\"iat\":2}",
	};
	static const char *const texts[] = { "", "a.b", "a.b.c.d", "...",
		"eyJ9.e30.AAAA", NULL };
	struct buf p = BUF_INIT;
	char why[512], hdr[256], pay[512];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		fill(hdr, sizeof(hdr), headers[i], kid_alice);
		make(alice, ID_A, "alice", AUD, NOW, &p);
		/* The claims of a good proof under a bad header. */
		craft(alice, hdr, "{}", &p);
		rc = check(&p, alice, kid_alice, &want_a, why, sizeof(why));
		CHECKF(rc == KEYPROOF_MALFORMED, "header %zu: %d %s", i, rc,
		    why);
	}
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"PS256\",\"typ\":\""
	    KEYPROOF_TYP "\",\"kid\":\"%s\"}", kid_alice);
	for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		fill(pay, sizeof(pay), payloads[i], kid_alice);
		craft(alice, hdr, pay, &p);
		rc = check(&p, alice, kid_alice, &want_a, why, sizeof(why));
		CHECKF(rc == KEYPROOF_MALFORMED, "payload %zu: %d %s", i, rc,
		    why);
	}
	for (i = 0; texts[i] != NULL; i++) {
		rc = check_text(texts[i], strlen(texts[i]), alice,
		    kid_alice, &want_a, NULL, why, sizeof(why));
		CHECKF(rc == KEYPROOF_MALFORMED, "\"%s\": %d %s", texts[i], rc,
		    why);
	}
	/* A NUL inside, or too long. */
	make(alice, ID_A, "alice", AUD, NOW, &p);
	CHECK(check_text((const char *)p.p, p.len + 1, alice, kid_alice,
	    &want_a, NULL, why, sizeof(why)) == KEYPROOF_MALFORMED);
	CHECK(check_text((const char *)p.p, KEYPROOF_MAX + 1, alice,
	    kid_alice, &want_a, NULL, why, sizeof(why)) ==
	    KEYPROOF_MALFORMED);
	/* Words that follow "the proof ", for the caller's sentence. */
	CHECKF(strcmp(why, "is not a key proof: empty, or longer than 8192 "
	    "bytes") == 0, "%s", why);
	/* One byte changed in the claims: the signature fails. */
	p.p[strchr((char *)p.p, '.') - (char *)p.p + 5] ^= 1;
	CHECK(check(&p, alice, kid_alice, &want_a, why, sizeof(why)) ==
	    KEYPROOF_OTHER_KEY);
	/* A bad aud given to make. */
	buf_clear(&p);
	CHECK(keyproof_make(alice, ID_A, "alice", "ftp://x", NOW, &p,
	    &t_rep) == 64);
	CHECK(rep_why(why, sizeof(why)) == 64);
	CHECKF(strstr(why, "ftp://x") != NULL, "%s", why);
	buf_free(&p);
}

int
main(void)
{
	if (proof_keys_load() != 0)
		return 2;
	RUN(urls);
	RUN(round_trip);
	RUN(refusals);
	RUN(malformed);
	proof_keys_free();
	return harness_end();
}
