/*
 * A public key as a QR code (lib/keys/qr.c), for `e2e-keys qr` and `e2e-keys
 * import`. The text "e2e-key:v1:NAME:KID:SPKI" round-trips for real keys,
 * with and without a name, with zbarimg's "QR-Code:" prefix and one final
 * newline; every part is checked on the way back and every refusal has a
 * terminal-safe reason: prefix, version, parts missing or extra, name
 * (H4's rule), key id form, a key id of another key (a scan or a code
 * passing one key off as another), SPKI not base64url, not DER, truncated,
 * followed by bytes, not canonical, and keys every tool refuses (1024
 * bits, e = 3, EC) or too large for a code (over 4096 bits); control
 * characters, NUL and trailing junk. The terminal rendering is decoded
 * back into modules and compared with libqrencode's code, both colour
 * ways; the PNG is read back with libpng, pixel by pixel, and (when
 * zbarimg is installed) scanned back to the same key id. The largest
 * accepted key (4096 bits) fits and scans.
 */
#include "harness.h"
#include "keys_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <png.h>
#include <qrencode.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "format/crypto.h"
#include "format/jwk.h"
#include "format/keyfile.h"
#include "keys/qr.h"

#define ZBARIMG "/usr/bin/zbarimg"

static EVP_PKEY *k_alice, *k_bob, *k_weak, *k_e3, *k_ec, *k_big;
static char kid_alice[KID_SIZE], kid_bob[KID_SIZE];
static char tmpdir[256];

/* What the last call reported. */
static struct report qrep;

/* msg: the report's first error, if any (msg is emptied before). */
static void
reported(char *msg, size_t size)
{
	if (report_message(&qrep)[0] != '\0')
		snprintf(msg, size, "%s", report_message(&qrep));
}

/* An RSA public key of bits bits, e = 65537, with a random modulus: its
 * size is all the size checks look at, and it is made in no time. */
static EVP_PKEY *
fake_rsa(int bits)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *n = BN_new(), *e = BN_new();
	EVP_PKEY *k = NULL;

	if (bld == NULL || ctx == NULL || n == NULL || e == NULL ||
	    BN_rand(n, bits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD) != 1 ||
	    BN_set_word(e, RSA_F4) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
		exit(2);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	return k;
}

/* The DER SubjectPublicKeyInfo of k, base64url, into out. */
static void
spki_of(EVP_PKEY *k, struct buf *out)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k, &der);

	buf_clear(out);
	if (n <= 0 || b64url_append(out, der, (size_t)n) != 0 ||
	    buf_terminate(out) != 0)
		exit(2);
	OPENSSL_free(der);
}

static void
der_to_b64(const unsigned char *der, size_t n, struct buf *out)
{
	buf_clear(out);
	if (b64url_append(out, der, n) != 0 || buf_terminate(out) != 0)
		exit(2);
}

/* "e2e-key:v1:" name ":" kid ":" spki, hand-made (so it can be wrong). */
static void
make_text(struct buf *out, const char *name, const char *kid,
    const char *spki)
{
	buf_clear(out);
	if (buf_append_str(out, QR_PREFIX) != 0 ||
	    buf_append_str(out, name) != 0 ||
	    buf_append_str(out, ":") != 0 ||
	    buf_append_str(out, kid) != 0 ||
	    buf_append_str(out, ":") != 0 ||
	    buf_append_str(out, spki) != 0 || buf_terminate(out) != 0)
		exit(2);
}

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || (unsigned char)*s > '~')
			return 0;
	return 1;
}

/*
 * Parses text (len bytes) and expects a refusal whose reason holds word.
 * The outputs must be emptied even when they held something before.
 */
static void
expect_refused(const char *label, const char *text, size_t len,
    const char *word)
{
	char name[NAME_LEN_MAX + 1] = "junk", kid[KID_SIZE] = "junk";
	struct report rep = { 0 };
	EVP_PKEY *k = (EVP_PKEY *)&k;	/* not NULL: must be reset */
	const char *why;
	int rc;

	rc = qr_payload_parse(text, len, name, kid, &k, &rep);
	why = report_message(&rep);
	CHECKF(rc == 65, "%s: returned %d, not 65", label, rc);
	CHECKF(rep.code == 65 && rep.nlines == 1, "%s: reported %d in %d "
	    "lines", label, rep.code, rep.nlines);
	CHECKF(k == NULL, "%s: a key was returned", label);
	CHECKF(name[0] == '\0' && kid[0] == '\0',
	    "%s: name or kid not emptied", label);
	CHECKF(why[0] != '\0', "%s: no reason", label);
	CHECKF(printable(why), "%s: reason not terminal-safe", label);
	CHECKF(strstr(why, word) != NULL, "%s: reason \"%s\" lacks \"%s\"",
	    label, why, word);
	if (rc == 0)
		EVP_PKEY_free(k);
}

static void
expect_refused_str(const char *label, const char *text, const char *word)
{
	expect_refused(label, text, strlen(text), word);
}

/* Parses text and expects key k, name and kid back. */
static void
expect_parsed(const char *label, const char *text, size_t len,
    const char *want_name, const char *want_kid, EVP_PKEY *want)
{
	char name[NAME_LEN_MAX + 1], kid[KID_SIZE];
	struct report rep = { 0 };
	EVP_PKEY *k = NULL;
	int rc;

	rc = qr_payload_parse(text, len, name, kid, &k, &rep);
	CHECKF(rc == 0, "%s: refused (%d): %s", label, rc,
	    report_message(&rep));
	CHECKF(!report_said(&rep), "%s: something reported", label);
	if (rc != 0)
		return;
	CHECKF(strcmp(name, want_name) == 0, "%s: name \"%s\"", label, name);
	CHECKF(strcmp(kid, want_kid) == 0, "%s: kid %s", label, kid);
	CHECKF(k != NULL && EVP_PKEY_eq(k, want) == 1, "%s: another key",
	    label);
	EVP_PKEY_free(k);
}

static void
payload_roundtrip(void)
{
	static const struct {
		const char *name;
		int who;	/* 0 alice, 1 bob */
	} cases[] = {
		{ "alice", 0 }, { "", 0 }, { NULL, 0 }, { "bob", 1 },
		{ "", 1 }, { "Bob.Smith-2_x", 1 },
		{ "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
		  "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", 0 },	/* 64 */
	};
	struct buf text = BUF_INIT, spki = BUF_INIT, alt = BUF_INIT;
	char label[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EVP_PKEY *k = cases[i].who == 0 ? k_alice : k_bob;
		const char *kid = cases[i].who == 0 ? kid_alice : kid_bob;
		const char *name = cases[i].name != NULL ? cases[i].name : "";

		snprintf(label, sizeof(label), "case %zu", i);
		CHECKF(qr_payload(cases[i].name, k, &text, NULL) == 0, "%s",
		    label);
		CHECKF(text.p != NULL && strlen((char *)text.p) == text.len,
		    "%s: not NUL-terminated", label);
		/* The exact text, part by part. */
		spki_of(k, &spki);
		make_text(&alt, name, kid, (char *)spki.p);
		CHECKF(text.len == alt.len && memcmp(text.p, alt.p,
		    alt.len) == 0, "%s: text %s", label, (char *)text.p);
		expect_parsed(label, (char *)text.p, text.len, name, kid, k);

		/* What a scanner hands over: zbarimg's prefix, a newline. */
		buf_clear(&alt);
		buf_append_str(&alt, "QR-Code:");
		buf_append(&alt, text.p, text.len);
		expect_parsed("QR-Code: prefix", (char *)alt.p, alt.len, name,
		    kid, k);
		buf_append_str(&alt, "\n");
		expect_parsed("QR-Code: and \\n", (char *)alt.p, alt.len, name,
		    kid, k);
		buf_clear(&alt);
		buf_append(&alt, text.p, text.len);
		buf_append_str(&alt, "\n");
		expect_parsed("\\n", (char *)alt.p, alt.len, name, kid, k);
		alt.len--;
		buf_append_str(&alt, "\r\n");
		expect_parsed("\\r\\n", (char *)alt.p, alt.len, name, kid, k);
	}
	/* The shape: five ':'-separated parts, the prefix first. */
	CHECK(qr_payload("alice", k_alice, &text, NULL) == 0);
	CHECK(strncmp((char *)text.p, "e2e-key:v1:alice:", 17) == 0);
	CHECK(strncmp((char *)text.p + 17, kid_alice, KID_LEN) == 0);
	CHECK(text.p[17 + KID_LEN] == ':');
	CHECK(strchr((char *)text.p + 17 + KID_LEN + 1, ':') == NULL);
	/* 2048 bits: 294 bytes of DER, 392 characters. */
	CHECKF(text.len == 17 + KID_LEN + 1 + 392, "length %zu", text.len);
	buf_free(&text);
	buf_free(&spki);
	buf_free(&alt);
}

/* A private key gives its public key's code, never more. */
static void
payload_from_private(void)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	EVP_PKEY *priv = fixture_private("alice");

	CHECK(qr_payload("alice", priv, &a, NULL) == 0);
	CHECK(qr_payload("alice", k_alice, &b, NULL) == 0);
	CHECK(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
	EVP_PKEY_free(priv);
	buf_free(&a);
	buf_free(&b);
}

/* qr_payload refuses what qr_payload_parse would, with the reason
 * reported (captured here), and leaves out empty. */
static void
payload_refused(void)
{
	static const struct {
		const char *name;
		int key;
		const char *word;
	} cases[] = {
		{ "bob smith", 0, "not a valid user name" },
		{ "bob@x", 0, "not a valid user name" },
		{ "bob\x1b[31m", 0, "not a valid user name" },
		{ "a:b", 0, "not a valid user name" },
		{ "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
		  "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",	/* 65 */
		  0, "not a valid user name" },
		{ "weak", 1, "1024-bit" },
		{ "e3", 2, "exponent" },
		{ "ec", 3, "not an RSA key" },
		{ "big", 4, "at most 4096" },
	};
	EVP_PKEY *keys[5];
	struct buf out = BUF_INIT;
	char msg[256];
	size_t i;
	int rc;

	keys[0] = k_alice;
	keys[1] = k_weak;
	keys[2] = k_e3;
	keys[3] = k_ec;
	keys[4] = k_big;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_append_str(&out, "stale");
		report_clear(&qrep);
		msg[0] = '\0';
		rc = qr_payload(cases[i].name, keys[cases[i].key], &out, &qrep);
		reported(msg, sizeof(msg));
		CHECKF(rc == 65, "case %zu: %d", i, rc);
		CHECKF(out.len == 0, "case %zu: output left", i);
		CHECKF(strstr(msg, cases[i].word) != NULL,
		    "case %zu: message \"%s\"", i, msg);
		/* The name is not repeated: it may hold anything. */
		CHECKF(i >= 5 || strstr(msg, cases[i].name) == NULL,
		    "case %zu: name repeated", i);
	}
	buf_free(&out);
}

static void
parse_refused(void)
{
	struct buf spki = BUF_INIT, t = BUF_INIT, alt = BUF_INIT;
	char kid[KID_SIZE], weak_kid[KID_SIZE], e3_kid[KID_SIZE];
	char big_kid[KID_SIZE], longname[NAME_LEN_MAX + 2];
	unsigned char *der = NULL, *p;
	char *s;
	int n;

	spki_of(k_alice, &spki);
	make_text(&t, "alice", kid_alice, (char *)spki.p);
	s = (char *)t.p;
	expect_parsed("the base text", s, t.len, "alice", kid_alice,
	    k_alice);

	/* Prefix and version. */
	expect_refused("wrong prefix", s + 1, t.len - 1, "does not begin");
	buf_clear(&alt);
	buf_append_str(&alt, "E2E-KEY:v1:alice:");
	buf_append_str(&alt, kid_alice);
	buf_append_str(&alt, ":");
	buf_append_str(&alt, (char *)spki.p);
	expect_refused("upper case prefix", (char *)alt.p, alt.len,
	    "does not begin");
	expect_refused_str("other text", "hello", "does not begin");
	expect_refused_str("a URL", "https://example.org/", "does not begin");
	memcpy(alt.p, "e2e-key:v2", 10);
	expect_refused("v2", (char *)alt.p, alt.len, "another version");
	expect_refused_str("v10", "e2e-key:v10:alice:x:y", "another version");
	expect_refused_str("V1", "e2e-key:V1:alice:x:y", "another version");
	expect_refused_str("prefix only", "e2e-key:", "another version");
	expect_refused_str("no version", "e2e-key:alice:x:y",
	    "another version");
	buf_clear(&alt);
	buf_append_str(&alt, "QR-Code:QR-Code:");
	buf_append(&alt, t.p, t.len);
	expect_refused("two QR-Code: prefixes", (char *)alt.p, alt.len,
	    "does not begin");
	buf_clear(&alt);
	buf_append_str(&alt, "QR-code:");
	buf_append(&alt, t.p, t.len);
	expect_refused("QR-code: (case)", (char *)alt.p, alt.len,
	    "does not begin");

	/* Parts missing or extra. */
	expect_refused_str("nothing after the prefix", "e2e-key:v1:",
	    "missing");
	buf_clear(&alt);
	buf_append_str(&alt, QR_PREFIX "alice:");
	buf_append_str(&alt, kid_alice);
	expect_refused("no key", (char *)alt.p, alt.len, "missing");
	buf_clear(&alt);
	buf_append_str(&alt, QR_PREFIX);
	buf_append_str(&alt, kid_alice);
	buf_append_str(&alt, ":");
	buf_append_str(&alt, (char *)spki.p);
	expect_refused("no name part", (char *)alt.p, alt.len, "missing");
	buf_clear(&alt);
	buf_append(&alt, t.p, t.len);
	buf_append_str(&alt, ":");
	expect_refused("a ':' after the key", (char *)alt.p, alt.len,
	    "too many");
	buf_append_str(&alt, "x");
	expect_refused("a fourth part", (char *)alt.p, alt.len, "too many");
	make_text(&alt, "alice:x", kid_alice, (char *)spki.p);
	expect_refused("a ':' in the name", (char *)alt.p, alt.len,
	    "too many");

	/* The name (H4's rule). */
	make_text(&alt, "bob@x", kid_alice, (char *)spki.p);
	expect_refused("name bob@x", (char *)alt.p, alt.len, "user name");
	make_text(&alt, "b%2e", kid_alice, (char *)spki.p);
	expect_refused("name b%2e", (char *)alt.p, alt.len, "user name");
	memset(longname, 'n', NAME_LEN_MAX + 1);
	longname[NAME_LEN_MAX + 1] = '\0';
	make_text(&alt, longname, kid_alice, (char *)spki.p);
	expect_refused("name of 65", (char *)alt.p, alt.len, "user name");
	make_text(&alt, "b\xc3\xa9", kid_alice, (char *)spki.p);
	expect_refused("name not ASCII", (char *)alt.p, alt.len,
	    "non-ASCII");
	make_text(&alt, "bob\x1b[31m", kid_alice, (char *)spki.p);
	expect_refused("name with ESC", (char *)alt.p, alt.len, "control");

	/* The key id: another key's, or not one. */
	make_text(&alt, "alice", kid_bob, (char *)spki.p);
	expect_refused("bob's kid, alice's key", (char *)alt.p, alt.len,
	    "does not match");
	make_text(&alt, "alice", "", (char *)spki.p);
	expect_refused("empty kid", (char *)alt.p, alt.len, "malformed");
	memcpy(kid, kid_alice, KID_SIZE);
	kid[KID_LEN - 1] = '\0';
	make_text(&alt, "alice", kid, (char *)spki.p);
	expect_refused("kid of 42", (char *)alt.p, alt.len, "malformed");
	buf_clear(&alt);
	buf_append_str(&alt, QR_PREFIX "alice:");
	buf_append_str(&alt, kid_alice);
	buf_append_str(&alt, "A:");
	buf_append_str(&alt, (char *)spki.p);
	expect_refused("kid of 44", (char *)alt.p, alt.len, "malformed");
	memcpy(kid, kid_alice, KID_SIZE);
	kid[5] = '+';
	make_text(&alt, "alice", kid, (char *)spki.p);
	expect_refused("kid with +", (char *)alt.p, alt.len, "malformed");
	memcpy(kid, kid_alice, KID_SIZE);
	/* The last character carries 4 bits and 2 unused ones, which must
	 * be zero: flipping the lowest gives the same bytes, another text. */
	{
		static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_";
		const char *at = strchr(alpha, kid[KID_LEN - 1]);

		CHECK(at != NULL && ((at - alpha) & 3) == 0);
		if (at != NULL)
			kid[KID_LEN - 1] = alpha[(at - alpha) | 1];
	}
	make_text(&alt, "alice", kid, (char *)spki.p);
	expect_refused("kid not canonical", (char *)alt.p, alt.len,
	    "malformed");

	/* The key: not base64url, not DER, not a key every tool takes. */
	make_text(&alt, "alice", kid_alice, "");
	expect_refused("empty key", (char *)alt.p, alt.len, "missing");
	buf_clear(&alt);
	buf_append(&alt, t.p, t.len);
	buf_append_str(&alt, "==");
	expect_refused("padding", (char *)alt.p, alt.len, "base64url");
	buf_clear(&alt);
	buf_append(&alt, t.p, t.len);
	alt.p[alt.len - 20] = '/';
	expect_refused("base64 '/'", (char *)alt.p, alt.len, "base64url");
	alt.p[alt.len - 20] = '+';
	expect_refused("base64 '+'", (char *)alt.p, alt.len, "base64url");
	buf_clear(&alt);
	buf_append(&alt, t.p, t.len);
	buf_append_str(&alt, "A");	/* 4n+1 characters */
	expect_refused("base64url of bad length", (char *)alt.p, alt.len,
	    "base64url");

	if ((n = i2d_PUBKEY(k_alice, &der)) <= 0)
		exit(2);
	der_to_b64(der, (size_t)n - 10, &spki);
	make_text(&alt, "alice", kid_alice, (char *)spki.p);
	expect_refused("truncated DER", (char *)alt.p, alt.len, "not a DER");
	der_to_b64(der, 20, &spki);
	make_text(&alt, "alice", kid_alice, (char *)spki.p);
	expect_refused("DER cut to 20 bytes", (char *)alt.p, alt.len,
	    "not a DER");
	p = malloc((size_t)n + 2);
	if (p == NULL)
		exit(2);
	memcpy(p, der, (size_t)n);
	p[n] = 0;
	p[n + 1] = 0;
	der_to_b64(p, (size_t)n + 2, &spki);
	make_text(&alt, "alice", kid_alice, (char *)spki.p);
	expect_refused("DER and two more bytes", (char *)alt.p, alt.len,
	    "followed by");
	/* The outer SEQUENCE's length in 3 bytes, not 2: BER, not DER. */
	CHECK(der[0] == 0x30 && der[1] == 0x82);
	p = realloc(p, (size_t)n + 1);
	if (p == NULL)
		exit(2);
	p[0] = 0x30;
	p[1] = 0x83;
	p[2] = 0;
	memcpy(p + 3, der + 2, (size_t)n - 2);
	der_to_b64(p, (size_t)n + 1, &spki);
	make_text(&alt, "alice", kid_alice, (char *)spki.p);
	expect_refused("long-form length", (char *)alt.p, alt.len,
	    "canonical");
	free(p);
	OPENSSL_free(der);
	der = NULL;
	/* PKCS#1 RSAPublicKey is not a SubjectPublicKeyInfo. */
	if ((n = i2d_PublicKey(k_alice, &der)) <= 0)
		exit(2);
	der_to_b64(der, (size_t)n, &spki);
	OPENSSL_free(der);
	make_text(&alt, "alice", kid_alice, (char *)spki.p);
	expect_refused("PKCS#1 DER", (char *)alt.p, alt.len, "not a DER");

	/* Keys refused by every tool, each under its own (right) kid, so
	 * that the key check is what refuses them. */
	if (jwk_thumbprint(k_weak, weak_kid, NULL) != 0 ||
	    jwk_thumbprint(k_e3, e3_kid, NULL) != 0 ||
	    jwk_thumbprint(k_big, big_kid, NULL) != 0)
		exit(2);
	spki_of(k_weak, &spki);
	make_text(&alt, "weak", weak_kid, (char *)spki.p);
	expect_refused("RSA-1024", (char *)alt.p, alt.len, "1024-bit");
	spki_of(k_e3, &spki);
	make_text(&alt, "e3", e3_kid, (char *)spki.p);
	expect_refused("e = 3", (char *)alt.p, alt.len, "exponent");
	spki_of(k_ec, &spki);
	make_text(&alt, "ec", kid_alice, (char *)spki.p);
	expect_refused("P-256", (char *)alt.p, alt.len, "not an RSA key");
	spki_of(k_big, &spki);
	make_text(&alt, "big", big_kid, (char *)spki.p);
	expect_refused("RSA-4104", (char *)alt.p, alt.len, "at most 4096");

	/* Around the text: one newline only, nothing else. */
	buf_clear(&alt);
	buf_append(&alt, t.p, t.len);
	buf_append_str(&alt, "\nx");
	expect_refused("junk after the newline", (char *)alt.p, alt.len,
	    "control");
	alt.len -= 1;
	buf_append_str(&alt, "\n");
	expect_refused("two newlines", (char *)alt.p, alt.len, "control");
	alt.len -= 2;
	buf_append_str(&alt, "\r");
	expect_refused("a lone \\r", (char *)alt.p, alt.len, "control");
	alt.len -= 1;
	buf_append_str(&alt, " ");
	expect_refused("a trailing space", (char *)alt.p, alt.len, "space");
	buf_clear(&alt);
	buf_append_str(&alt, " ");
	buf_append(&alt, t.p, t.len);
	expect_refused("a leading space", (char *)alt.p, alt.len, "space");
	buf_clear(&alt);
	buf_append_str(&alt, "\n");
	buf_append(&alt, t.p, t.len);
	expect_refused("a leading newline", (char *)alt.p, alt.len,
	    "control");
	buf_clear(&alt);
	buf_append(&alt, t.p, t.len);
	alt.p[30] = '\0';
	expect_refused("NUL inside", (char *)alt.p, alt.len, "NUL");
	buf_clear(&alt);
	buf_append(&alt, t.p, t.len);
	buf_append(&alt, "\0", 1);
	expect_refused("NUL at the end", (char *)alt.p, alt.len, "NUL");
	buf_append_str(&alt, "\n");
	expect_refused("NUL then newline", (char *)alt.p, alt.len, "NUL");
	buf_clear(&alt);
	buf_append(&alt, t.p, t.len);
	alt.p[40] = (char)0xc3;
	expect_refused("a byte over 0x7f", (char *)alt.p, alt.len,
	    "non-ASCII");
	expect_refused("empty", "", 0, "empty");
	expect_refused_str("a newline only", "\n", "empty");
	expect_refused_str("QR-Code: only", "QR-Code:\r\n", "empty");
	buf_clear(&alt);
	while (alt.len <= QR_TEXT_MAX)
		buf_append_str(&alt, "A");
	expect_refused("too long", (char *)alt.p, alt.len, "too long");

	buf_free(&spki);
	buf_free(&t);
	buf_free(&alt);
}

/* The reason goes to a report, whose line is cut at REPORT_TEXT, never
 * overflows; no report at all is fine too. */
static void
parse_why_sizes(void)
{
	char name[NAME_LEN_MAX + 1], kid[KID_SIZE];
	struct report rep = { 0 };
	EVP_PKEY *k = NULL;

	CHECK(qr_payload_parse("hello", 5, name, kid, &k, &rep) == 65);
	CHECK(rep.nlines == 1 && strlen(report_message(&rep)) < REPORT_TEXT);
	CHECK(qr_payload_parse("hello", 5, name, kid, &k, NULL) == 65);
	CHECK(k == NULL);
}

/* A rendered line, cell by cell: 0 space, 1 lower, 2 upper, 3 full, -1
 * anything else. Returns the number of cells, *next the next line. */
static int
cells(const char *line, const char *end, int *out, int max,
    const char **next)
{
	int n = 0;

	while (line < end && *line != '\n') {
		int c = -1;

		if (*line == ' ') {
			c = 0;
			line++;
		} else if (end - line >= 3 && memcmp(line, "\xe2\x96",
		    2) == 0) {
			c = line[2] == '\x84' ? 1 : line[2] == '\x80' ? 2 :
			    line[2] == '\x88' ? 3 : -1;
			line += 3;
		} else {
			line++;
		}
		if (n < max)
			out[n] = c;
		n++;
	}
	*next = line < end ? line + 1 : NULL;
	return n;
}

/*
 * Decodes a rendering back into modules and compares them with
 * libqrencode's code for text: the quiet zone light, every module where
 * it should be, nothing drawn below the last row. Returns 1 when equal.
 */
static int
rendering_matches(const struct buf *r, const char *text, int quiet,
    int invert)
{
	QRcode *qr = QRcode_encodeData((int)strlen(text),
	    (const unsigned char *)text, 0, QR_ECLEVEL_M);
	const char *line = (const char *)r->p, *end = line + r->len;
	int row[256], side, lines = 0, x, y, ok = 1;

	if (qr == NULL)
		return 0;
	side = qr->width + 2 * quiet;
	if (r->len == 0 || r->p[r->len - 1] != '\n')
		ok = 0;
	for (y = 0; ok && line != NULL && line < end; y += 2, lines++) {
		if (cells(line, end, row, 256, &line) != side) {
			ok = 0;
			break;
		}
		for (x = 0; x < side; x++) {
			int top, bottom, mx = x - quiet, my = y - quiet;
			int dark_top, dark_bottom;

			if (row[x] < 0) {
				ok = 0;
				break;
			}
			top = (row[x] & 2) != 0;
			bottom = (row[x] & 1) != 0;
			dark_top = mx >= 0 && my >= 0 && mx < qr->width &&
			    my < qr->width ?
			    qr->data[my * qr->width + mx] & 1 : 0;
			dark_bottom = mx >= 0 && my + 1 >= 0 &&
			    mx < qr->width && my + 1 < qr->width ?
			    qr->data[(my + 1) * qr->width + mx] & 1 : 0;
			/* Drawn = light, or dark when inverted. */
			if (top != (dark_top == invert))
				ok = 0;
			if (y + 1 < side && bottom != (dark_bottom == invert))
				ok = 0;
			if (y + 1 >= side && bottom)
				ok = 0;
		}
	}
	if (lines != (side + 1) / 2)
		ok = 0;
	QRcode_free(qr);
	return ok;
}

static int
sink_fails(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	return E2E_EX_IOERR;
}

static void
render_text(void)
{
	struct buf text = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	struct sink sa = sink_buf(&a), sb = sink_buf(&b);
	struct sink bad = { sink_fails, NULL };
	const char *line, *end;
	char msg[256];
	QRcode *qr;
	int quiet, w, first, odd, n, row[256];
	size_t i;

	CHECK(qr_payload("alice", k_alice, &text, NULL) == 0);
	qr = QRcode_encodeData((int)text.len, text.p, 0, QR_ECLEVEL_M);
	CHECK(qr != NULL);
	if (qr == NULL)
		return;
	for (quiet = 0; quiet <= QR_QUIET_MAX; quiet += 2) {
		buf_clear(&a);
		buf_clear(&b);
		CHECK(qr_render_text((char *)text.p, quiet, 0, &sa, NULL) == 0);
		/* Only spaces, the three blocks and newlines; every line as
		 * wide as the code and its quiet zone. */
		line = (const char *)a.p;
		end = line + a.len;
		first = -1;
		odd = 0;
		while (line != NULL && line < end) {
			n = cells(line, end, row, 256, &line);
			if (first < 0)
				first = n;
			if (n != first)
				odd++;
			for (w = 0; w < n && w < 256; w++)
				if (row[w] < 0)
					odd++;
		}
		CHECKF(odd == 0, "quiet %d: %d other characters or widths",
		    quiet, odd);
		CHECKF(first == qr->width + 2 * quiet, "quiet %d: width %d",
		    quiet, first);
		CHECKF(rendering_matches(&a, (char *)text.p, quiet, 0),
		    "quiet %d: modules differ", quiet);
		/* The same text, the same bytes. */
		CHECK(qr_render_text((char *)text.p, quiet, 0, &sb, NULL) == 0);
		CHECK(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
		/* Inverted: every drawn half undrawn and the reverse, except
		 * below the last row, where nothing is drawn either way. */
		buf_clear(&b);
		CHECK(qr_render_text((char *)text.p, quiet, 1, &sb, NULL) == 0);
		CHECKF(rendering_matches(&b, (char *)text.p, quiet, 1),
		    "quiet %d: inverted modules differ", quiet);
		CHECK(a.len != b.len || memcmp(a.p, b.p, a.len) != 0);
	}
	/* invert is a flag: any true value is 1. */
	buf_clear(&a);
	buf_clear(&b);
	CHECK(qr_render_text((char *)text.p, 2, 1, &sa, NULL) == 0);
	CHECK(qr_render_text((char *)text.p, 2, 7, &sb, NULL) == 0);
	CHECK(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
	if (getenv("QR_SHOW") != NULL)
		fwrite(a.p, 1, a.len, stdout);
	printf("render: alice's code (2048 bits, named) is version %d, "
	    "%d modules, %d columns with quiet 2\n", qr->version, qr->width,
	    qr->width + 4);
	QRcode_free(qr);

	/* Refusals, reported. */
	for (i = 0; i < 4; i++) {
		static const int q[] = { -1, QR_QUIET_MAX + 1, 2, 2 };
		const char *t = i == 2 ? "" : (char *)text.p;
		char huge[3000];

		if (i == 3) {
			memset(huge, 'A', sizeof(huge) - 1);
			huge[sizeof(huge) - 1] = '\0';
			t = huge;
		}
		buf_clear(&a);
		report_clear(&qrep);
		msg[0] = '\0';
		n = qr_render_text(t, q[i], 0, &sa, &qrep);
		reported(msg, sizeof(msg));
		CHECKF(n == 70, "refusal %zu: %d", i, n);
		CHECKF(msg[0] != '\0', "refusal %zu: nothing reported", i);
		CHECKF(a.len == 0, "refusal %zu: output", i);
	}
	CHECK(strstr(msg, "more than one holds") != NULL);
	/* The sink's error comes back. */
	CHECK(qr_render_text((char *)text.p, 2, 0, &bad, NULL) == E2E_EX_IOERR);
	buf_free(&text);
	buf_free(&a);
	buf_free(&b);
}

static int
file_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/*
 * Reads a PNG back with libpng's simplified API and checks it is the
 * code of text: (modules + 8) * scale a side, each module's pixels all
 * black or all white as libqrencode has it, the quiet zone white.
 * Also checks the header: 1-bit grayscale.
 */
static void
png_matches(const char *path, const char *text, int scale)
{
	QRcode *qr = QRcode_encodeData((int)strlen(text),
	    (const unsigned char *)text, 0, QR_ECLEVEL_M);
	unsigned char head[33] = { 0 }, *px = NULL;
	png_image img;
	size_t side;
	int x, y, bad = 0, dark, mx, my;
	FILE *f;

	CHECK(qr != NULL);
	if (qr == NULL)
		return;
	side = (size_t)(qr->width + 8) * (size_t)scale;
	f = fopen(path, "rb");
	CHECK(f != NULL && fread(head, 1, sizeof(head), f) == sizeof(head));
	if (f != NULL)
		fclose(f);
	CHECK(png_sig_cmp(head, 0, 8) == 0);
	CHECK(memcmp(head + 12, "IHDR", 4) == 0);
	CHECK(head[24] == 1 && head[25] == 0);	/* bit depth, gray */
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	CHECK(png_image_begin_read_from_file(&img, path) != 0);
	CHECKF(img.width == side && img.height == side, "%ux%u, not %zu",
	    img.width, img.height, side);
	img.format = PNG_FORMAT_GRAY;
	if (img.width != side || img.height != side ||
	    (px = malloc(PNG_IMAGE_SIZE(img))) == NULL ||
	    png_image_finish_read(&img, NULL, px, 0, NULL) == 0) {
		CHECKF(0, "cannot read %s back: %s", path, img.message);
		png_image_free(&img);
		free(px);
		QRcode_free(qr);
		return;
	}
	for (y = 0; y < (int)side; y++)
		for (x = 0; x < (int)side; x++) {
			mx = x / scale - 4;
			my = y / scale - 4;
			dark = mx >= 0 && my >= 0 && mx < qr->width &&
			    my < qr->width &&
			    (qr->data[my * qr->width + mx] & 1);
			if (px[(size_t)y * side + (size_t)x] !=
			    (dark ? 0 : 255))
				bad++;
		}
	CHECKF(bad == 0, "%d pixels differ", bad);
	free(px);
	QRcode_free(qr);
}

/* Scans path with zbarimg (raw or not) into out; returns its status, or
 * -1 when it is not installed. */
static int
zbar(const char *path, int raw, struct buf *out)
{
	char cmd[512], chunk[512];
	size_t n;
	FILE *f;

	buf_clear(out);
	if (access(ZBARIMG, X_OK) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), ZBARIMG " --quiet %s'%s' 2>/dev/null",
	    raw ? "--raw " : "", path);
	if ((f = popen(cmd, "r")) == NULL)
		return -2;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(out, chunk, n);
	buf_terminate(out);
	return pclose(f);
}

/* The PNG scanned back: exactly the text, and through the parser the
 * same key id. */
static void
png_scans(const char *path, const struct buf *text, const char *want_kid,
    EVP_PKEY *want)
{
	struct buf out = BUF_INIT;
	char name[NAME_LEN_MAX + 1], kid[KID_SIZE];
	EVP_PKEY *k = NULL;
	int st;

	if ((st = zbar(path, 1, &out)) == -1) {
		harness_skip(ZBARIMG " is absent: the PNG is not scanned "
		    "back (Debian package zbar-tools)");
		return;
	}
	CHECKF(st == 0, "zbarimg --raw: status %d", st);
	CHECKF(out.len == text->len + 1 && memcmp(out.p, text->p,
	    text->len) == 0 && out.p[text->len] == '\n',
	    "zbarimg read \"%s\"", out.p != NULL ? (char *)out.p : "");
	CHECK(qr_payload_parse((char *)out.p, out.len, name, kid, &k,
	    NULL) == 0);
	CHECKF(strcmp(kid, want_kid) == 0, "scanned kid %s", kid);
	CHECK(k != NULL && EVP_PKEY_eq(k, want) == 1);
	EVP_PKEY_free(k);
	k = NULL;
	/* And zbarimg's own format, "QR-Code:" first. */
	CHECK(zbar(path, 0, &out) == 0);
	CHECK(strncmp((char *)out.p, "QR-Code:", 8) == 0);
	CHECKF(qr_payload_parse((char *)out.p, out.len, name, kid, &k,
	    &qrep) == 0, "QR-Code: form refused: %s", report_message(&qrep));
	CHECK(strcmp(kid, want_kid) == 0);
	EVP_PKEY_free(k);
	buf_free(&out);
}

static void
png_write(void)
{
	struct buf text = BUF_INIT;
	char path[512], keyfile[512], msg[256];
	struct stat st;
	mode_t mask;
	int rc, fd;

	CHECK(qr_payload("alice", k_alice, &text, NULL) == 0);
	snprintf(path, sizeof(path), "%s/alice.png", tmpdir);
	CHECK(qr_write_png((char *)text.p, 4, path, NULL) == 0);
	CHECK(harness_entries(tmpdir) == 1);	/* no temporary file left */
	mask = umask(0);
	umask(mask);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == (0644 & ~mask));
	png_matches(path, (char *)text.p, 4);
	png_scans(path, &text, kid_alice, k_alice);
	/* The same text, the same bytes (no time stamp). */
	{
		struct buf a = BUF_INIT, b = BUF_INIT;
		char path2[512];
		FILE *f;
		char chunk[4096];
		size_t n;

		snprintf(path2, sizeof(path2), "%s/again.png", tmpdir);
		CHECK(qr_write_png((char *)text.p, 4, path2, NULL) == 0);
		if ((f = fopen(path, "rb")) != NULL) {
			while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
				buf_append(&a, chunk, n);
			fclose(f);
		}
		if ((f = fopen(path2, "rb")) != NULL) {
			while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
				buf_append(&b, chunk, n);
			fclose(f);
		}
		CHECK(a.len > 0 && a.len == b.len &&
		    memcmp(a.p, b.p, a.len) == 0);
		unlink(path2);
		buf_free(&a);
		buf_free(&b);
	}
	/* Scale 1 and the largest: still the code. */
	CHECK(qr_write_png((char *)text.p, QR_SCALE_MIN, path, NULL) == 0);
	png_matches(path, (char *)text.p, QR_SCALE_MIN);
	CHECK(qr_write_png((char *)text.p, QR_SCALE_MAX, path, NULL) == 0);
	png_matches(path, (char *)text.p, QR_SCALE_MAX);
	/* An existing image is replaced... */
	CHECK(qr_write_png((char *)text.p, 4, path, NULL) == 0);
	CHECK(harness_entries(tmpdir) == 1);

	/* ...a private key never (outfile's rule). */
	snprintf(keyfile, sizeof(keyfile), "%s/key", tmpdir);
	fd = open(keyfile, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && write(fd, "-----BEGIN PRIVATE KEY-----\n", 28) ==
	    28);
	if (fd >= 0)
		close(fd);
	report_clear(&qrep);
	msg[0] = '\0';
	rc = qr_write_png((char *)text.p, 4, keyfile, &qrep);
	reported(msg, sizeof(msg));
	CHECKF(rc == 73, "over a private key: %d", rc);
	CHECK(strstr(msg, "private key") != NULL);
	CHECK(stat(keyfile, &st) == 0 && st.st_size == 28);
	CHECK(harness_entries(tmpdir) == 2);
	unlink(keyfile);

	/* Bad scale, missing folder: nothing written. */
	snprintf(path, sizeof(path), "%s/new.png", tmpdir);
	report_clear(&qrep);
	msg[0] = '\0';
	rc = qr_write_png((char *)text.p, 0, path, &qrep);
	reported(msg, sizeof(msg));
	CHECKF(rc == 70 && strstr(msg, "scale") != NULL, "scale 0: %d %s",
	    rc, msg);
	report_clear(&qrep);
	msg[0] = '\0';
	rc = qr_write_png((char *)text.p, QR_SCALE_MAX + 1, path, &qrep);
	reported(msg, sizeof(msg));
	CHECK(rc == 70);
	CHECK(!file_exists(path));
	snprintf(path, sizeof(path), "%s/no/such/folder.png", tmpdir);
	report_clear(&qrep);
	msg[0] = '\0';
	rc = qr_write_png((char *)text.p, 4, path, &qrep);
	reported(msg, sizeof(msg));
	CHECKF(rc == 73, "missing folder: %d", rc);
	report_clear(&qrep);
	msg[0] = '\0';
	rc = qr_write_png("", 4, path, &qrep);
	reported(msg, sizeof(msg));
	CHECK(rc == 70);
	CHECK(harness_entries(tmpdir) == 1);
	/* A device is written in place. */
	CHECK(qr_write_png((char *)text.p, 4, "/dev/null", NULL) == 0);

	/* A terminal gets no binary: a pseudo-terminal stands in. */
	fd = posix_openpt(O_RDWR | O_NOCTTY);
	if (fd < 0 || grantpt(fd) != 0 || unlockpt(fd) != 0 ||
	    ptsname(fd) == NULL) {
		harness_skip("no pseudo-terminal: the terminal refusal is "
		    "not tested");
	} else {
		snprintf(path, sizeof(path), "%s", ptsname(fd));
		report_clear(&qrep);
		msg[0] = '\0';
		rc = qr_write_png((char *)text.p, 4, path, &qrep);
		reported(msg, sizeof(msg));
		CHECKF(rc == 64, "to a terminal: %d", rc);
		CHECK(strstr(msg, "terminal") != NULL);
	}
	if (fd >= 0)
		close(fd);
	buf_free(&text);
}

/*
 * Paints a rendering as a terminal shows it, 4 pixels a module with 3
 * cells of the terminal's background around: a block in the text
 * colour fg, a space in the background colour bg. Writes a PNG to path.
 * Returns 0 or -1.
 */
static int
paint_terminal(const struct buf *r, int fg, int bg, const char *path)
{
	enum { S = 4, M = 3, MAXW = 256 };
	const char *line = (const char *)r->p, *end = line + r->len;
	/* clang-format reads a C++ cast here. */
	/* clang-format off */
	int (*grid)[MAXW] = calloc(MAXW, sizeof(*grid));
	/* clang-format on */
	int w = 0, h = 0, n, x, y, rc = -1;
	unsigned char *px = NULL;
	png_image img;

	if (grid == NULL)
		return -1;
	while (line != NULL && line < end && h < MAXW) {
		n = cells(line, end, grid[h], MAXW, &line);
		if (n > w)
			w = n;
		h++;
	}
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.format = PNG_FORMAT_GRAY;
	img.width = (png_uint_32)((w + 2 * M) * S);
	img.height = (png_uint_32)((2 * h + 4 * M) * S);
	if (w > MAXW || (px = malloc(PNG_IMAGE_SIZE(img))) == NULL)
		goto out;
	for (y = 0; y < (int)img.height; y++)
		for (x = 0; x < (int)img.width; x++) {
			int cx = x / S - M, my = y / S - 2 * M, c, drawn = 0;

			if (cx >= 0 && cx < w && my >= 0 && my / 2 < h) {
				c = grid[my / 2][cx];
				drawn = (my & 1) ? (c & 1) : (c & 2) != 0;
			}
			px[(size_t)y * img.width + (size_t)x] =
			    (unsigned char)(drawn ? fg : bg);
		}
	if (png_image_write_to_file(&img, path, 0, px, 0, NULL) != 0)
		rc = 0;
out:
	free(px);
	free(grid);
	return rc;
}

/*
 * Which rendering scans: the default one on a terminal with light text
 * on a dark background, the inverted one with dark on light. Both come
 * out dark modules on light, the standard's way. (The other two pairs
 * give light-on-dark codes, which zbar 0.23 does not read; not checked,
 * since a later zbar may.)
 */
static void
render_scans(void)
{
	static const struct {
		int invert, fg, bg;
		const char *theme;
	} cases[] = {
		{ 0, 230, 20, "light on dark" },
		{ 1, 20, 240, "dark on light" },
	};
	struct buf text = BUF_INIT, r = BUF_INIT, out = BUF_INIT;
	struct sink s = sink_buf(&r);
	char path[512];
	size_t i;
	int st;

	if (access(ZBARIMG, X_OK) != 0) {
		harness_skip(ZBARIMG " is absent: the terminal rendering is "
		    "not scanned");
		return;
	}
	CHECK(qr_payload("alice", k_alice, &text, NULL) == 0);
	snprintf(path, sizeof(path), "%s/terminal.png", tmpdir);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_clear(&r);
		CHECK(qr_render_text((char *)text.p, 2, cases[i].invert,
		    &s, NULL) == 0);
		CHECK(paint_terminal(&r, cases[i].fg, cases[i].bg, path) == 0);
		st = zbar(path, 1, &out);
		CHECKF(st == 0 && out.len == text.len + 1 &&
		    memcmp(out.p, text.p, text.len) == 0,
		    "invert %d on a %s terminal: not scanned (%d)",
		    cases[i].invert, cases[i].theme, st);
		unlink(path);
	}
	buf_free(&text);
	buf_free(&r);
	buf_free(&out);
}

/*
 * The largest accepted key: 4096 bits fits, renders, scans. Its modulus
 * is random, not a product of primes: the code carries the public key
 * only, and generating a real one takes from under a second to many on a
 * loaded machine.
 */
static void
largest_key(void)
{
	struct buf text = BUF_INIT, r = BUF_INIT;
	struct sink s = sink_buf(&r);
	char kid[KID_SIZE], path[512];
	char name[NAME_LEN_MAX + 1];
	EVP_PKEY *k = NULL;
	QRcode *qr;

	memset(name, 'n', NAME_LEN_MAX);
	name[NAME_LEN_MAX] = '\0';
	k = fake_rsa(QR_MAX_BITS);
	CHECK(EVP_PKEY_get_bits(k) == QR_MAX_BITS);
	CHECK(jwk_thumbprint(k, kid, NULL) == 0);
	CHECK(qr_payload(name, k, &text, NULL) == 0);
	CHECKF(text.len < 900, "4096 bits: %zu bytes", text.len);
	expect_parsed("4096 bits", (char *)text.p, text.len, name, kid, k);
	CHECK(qr_render_text((char *)text.p, 2, 0, &s, NULL) == 0);
	CHECK(rendering_matches(&r, (char *)text.p, 2, 0));
	qr = QRcode_encodeData((int)text.len, text.p, 0, QR_ECLEVEL_M);
	CHECK(qr != NULL);
	if (qr != NULL) {
		printf("largest: 4096 bits and a 64-character name: %zu "
		    "bytes, version %d, %d modules\n", text.len, qr->version,
		    qr->width);
		QRcode_free(qr);
	}
	snprintf(path, sizeof(path), "%s/big.png", tmpdir);
	CHECK(qr_write_png((char *)text.p, 4, path, NULL) == 0);
	png_matches(path, (char *)text.p, 4);
	png_scans(path, &text, kid, k);
	unlink(path);
	/* Without a name. */
	CHECK(qr_payload(NULL, k, &text, NULL) == 0);
	qr = QRcode_encodeData((int)text.len, text.p, 0, QR_ECLEVEL_M);
	if (qr != NULL) {
		printf("largest: 4096 bits, no name: %zu bytes, version %d, "
		    "%d modules\n", text.len, qr->version, qr->width);
		QRcode_free(qr);
	}
	EVP_PKEY_free(k);
	buf_free(&text);
	buf_free(&r);
}

int
main(void)
{
	const char *base = getenv("TMPDIR");
	char path[512];

	if (crypto_init(NULL) != 0)
		return 2;
	k_alice = fixture_public("alice.pub");
	k_bob = fixture_public("bob.pub");
	k_weak = fixture_public("weak1024.pub");
	k_e3 = fixture_public("e3.pub");
	k_ec = fixture_public("ec.pub");
	k_big = fake_rsa(4104);
	if (jwk_thumbprint(k_alice, kid_alice, NULL) != 0 ||
	    jwk_thumbprint(k_bob, kid_bob, NULL) != 0)
		return 2;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_qr.XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}

	RUN(payload_roundtrip);
	RUN(payload_from_private);
	RUN(payload_refused);
	RUN(parse_refused);
	RUN(parse_why_sizes);
	RUN(render_text);
	RUN(render_scans);
	RUN(png_write);
	RUN(largest_key);

	snprintf(path, sizeof(path), "%s/alice.png", tmpdir);
	unlink(path);
	if (rmdir(tmpdir) != 0)
		fprintf(stderr, "test_qr: %s left behind\n", tmpdir);
	EVP_PKEY_free(k_alice);
	EVP_PKEY_free(k_bob);
	EVP_PKEY_free(k_weak);
	EVP_PKEY_free(k_e3);
	EVP_PKEY_free(k_ec);
	EVP_PKEY_free(k_big);
	return harness_end();
}
