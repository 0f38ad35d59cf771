/*
 * Forward secrecy's primitives (lib/format/x25519.c, ecdhes.c) and the
 * envelope's ECDH-ES+A256KW recipients (jwe.c), docs/FORMAT.md section
 * 11. Known answers: RFC 7748 sections 5.2 and 6.1 (X25519), RFC 8037
 * appendix A.6 (ECDH-ES with X25519), RFC 7518 appendix C (the Concat
 * KDF), RFC 3394 4.6 (AES-256 key wrap); Wycheproof x25519_test.json
 * when ../shared/testdata has it. SECURITY-TESTS.md: K (known answers),
 * J (the reader's refusals).
 */
#include "harness.h"
#include "keys_fixture.h"

#include "base/b64.h"
#include "base/buf.h"
#include "base/jsonio.h"
#include "format/crypto.h"
#include "format/ecdhes.h"
#include "format/jwe.h"
#include "format/x25519.h"

static void
hex32(const char *hex, uint8_t out[32])
{
	size_t n;
	uint8_t *p = hex_decode(hex, &n);

	if (n != 32) {
		fprintf(stderr, "bad 32-byte hex %s\n", hex);
		exit(2);
	}
	memcpy(out, p, 32);
	free(p);
}

static void
b64_32(const char *s, uint8_t out[32])
{
	if (x25519_decode_x(s, strlen(s), out) != 0) {
		fprintf(stderr, "bad base64url %s\n", s);
		exit(2);
	}
}

/* RFC 7748 section 5.2: the two scalar multiplications. */
static void
rfc7748_5_2(void)
{
	static const char *const v[][3] = {
		{ "a546e36bf0527c9d3b16154b82465edd"
		    "62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c"
		    "726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f"
		    "32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5"
		    "c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c"
		    "31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f8"
		    "8b595a68799fa152e6f8f7647aac7957" },
	};
	uint8_t k[32], u[32], want[32], got[32];
	size_t i;

	for (i = 0; i < 2; i++) {
		hex32(v[i][0], k);
		hex32(v[i][1], u);
		hex32(v[i][2], want);
		CHECK(x25519_derive(k, u, got, NULL) == 0);
		CHECK_MEM(got, want, 32);
	}
}

/* RFC 7748 section 6.1: both key pairs and the shared secret; and the
 * all-zero results it says to refuse. */
static void
rfc7748_6_1(void)
{
	uint8_t a[32], apub[32], b[32], bpub[32], k[32], z[32], p[32];

	hex32("77076d0a7318a57d3c16c17251b26645"
	    "df4c2f87ebc0992ab177fba51db92c2a", a);
	hex32("8520f0098930a754748b7ddcb43ef75a"
	    "0dbf3a0d26381af4eba4a98eaa9b4e6a", apub);
	hex32("5dab087e624a8a4b79e17f8b83800ee6"
	    "6f3bb1292618b6fd1c2f8b27ff88e0eb", b);
	hex32("de9edb7d7b7dc1b4d35b61c2ece43537"
	    "3f8343c85b78674dadfc7e146f882b4f", bpub);
	hex32("4a5d9d5ba4ce2de1728e3bf480350f25"
	    "e07e21c947d19e3376f09b3c1e161742", k);
	CHECK(x25519_public(a, p, NULL) == 0);
	CHECK_MEM(p, apub, 32);
	CHECK(x25519_public(b, p, NULL) == 0);
	CHECK_MEM(p, bpub, 32);
	CHECK(x25519_derive(a, bpub, z, NULL) == 0);
	CHECK_MEM(z, k, 32);
	CHECK(x25519_derive(b, apub, z, NULL) == 0);
	CHECK_MEM(z, k, 32);
	/* Points of small order give zero: refused (65), z wiped. */
	memset(p, 0, 32);
	CHECK(x25519_derive(a, p, z, NULL) == E2E_EX_DATAERR);
	p[0] = 1;
	CHECK(x25519_derive(a, p, z, NULL) == E2E_EX_DATAERR);
	memset(p, 0, 32);
	CHECK_MEM(z, p, 32);
}

/*
 * Low-order points (RFC 7748 section 6.1): the 12 u-coordinates of the
 * well-known list (0, 1, the two of order 8, p - 1, p, p + 1, and p + the
 * two, 2p - 1, 2p, 2p + 1 that need bit 255) and the seven below 2^255
 * with bit 255 set: each refused by x25519_low_order. Those X25519 reads
 * as low order (bit 255 masked) are checked against OpenSSL too: the
 * key agreement with them is all zero, refused. Their neighbours, the
 * base point and RFC 7748's public keys are not refused and agree.
 */
static void
low_order_points(void)
{
	static const char *const bad[] = {
		"00000000000000000000000000000000"
		    "00000000000000000000000000000000",
		"01000000000000000000000000000000"
		    "00000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46a"
		    "da098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b"
		    "04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffff7f",
		"cdeb7a7c3b41b8ae1656e3faf19fc46a"
		    "da098deb9c32b1fd866205165f49b880",
		"4c9c95bca3508c24b1d0b1559c83ef5b"
		    "04445cc4581c8e86d8224eddd09f11d7",
		"d9ffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffffff",
		"daffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffffff",
		"dbffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffffff",
		"00000000000000000000000000000000"
		    "00000000000000000000000000000080",
		"01000000000000000000000000000000"
		    "00000000000000000000000000000080",
		"e0eb7a7c3b41b8ae1656e3faf19fc46a"
		    "da098deb9c32b1fd866205165f49b880",
		"5f9c95bca3508c24b1d0b1559c83ef5b"
		    "04445cc4581c8e86d8224eddd09f11d7",
		"ecffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffffff",
		"edffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffffff",
		"eeffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffffff",
	};
	static const char *const good[] = {
		"02000000000000000000000000000000"
		    "00000000000000000000000000000000",
		"09000000000000000000000000000000"
		    "00000000000000000000000000000000",
		"e1eb7a7c3b41b8ae1656e3faf19fc46a"
		    "da098deb9c32b1fd866205165f49b800",
		"5e9c95bca3508c24b1d0b1559c83ef5b"
		    "04445cc4581c8e86d8224eddd09f1157",
		"ebffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffff7f",
		"efffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffff7f",
		"feffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffff7f",
		"e1eb7a7c3b41b8ae1656e3faf19fc46a"
		    "da098deb9c32b1fd866205165f49b880",
		"ffffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffffff",
		"8520f0098930a754748b7ddcb43ef75a"
		    "0dbf3a0d26381af4eba4a98eaa9b4e6a",
		"de9edb7d7b7dc1b4d35b61c2ece43537"
		    "3f8343c85b78674dadfc7e146f882b4f",
	};
	uint8_t k[32], u[32], z[32];
	size_t i;

	hex32("77076d0a7318a57d3c16c17251b26645"
	    "df4c2f87ebc0992ab177fba51db92c2a", k);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hex32(bad[i], u);
		CHECK(x25519_low_order(u) == 1);
		/* 7 to 11 are low order only read without the mask. */
		if (i < 7 || i > 11)
			CHECK(x25519_derive(k, u, z, NULL) == E2E_EX_DATAERR);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		hex32(good[i], u);
		CHECK(x25519_low_order(u) == 0);
		CHECK(x25519_derive(k, u, z, NULL) == 0);
	}
}

/* RFC 8037 appendix A.6: Bob's key, the ephemeral key (fixed through
 * the random hook), the ephemeral public key sent and Z; then the
 * content key wrapped with it comes back out on Bob's side. */
static void
rfc8037_a6(void)
{
	uint8_t esk[32], epk[32], bob[32], bobpub[32], want_epk[32], cek[64];
	uint8_t ek[72], out[64], z[32], k[32];
	size_t n = 0, i;

	hex32("77076d0a7318a57d3c16c17251b26645"
	    "df4c2f87ebc0992ab177fba51db92c2a", esk);
	hex32("5dab087e624a8a4b79e17f8b83800ee6"
	    "6f3bb1292618b6fd1c2f8b27ff88e0eb", bob);
	hex32("4a5d9d5ba4ce2de1728e3bf480350f25"
	    "e07e21c947d19e3376f09b3c1e161742", k);
	b64_32("3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08", bobpub);
	b64_32("hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo", want_epk);
	CHECK(x25519_public(bob, z, NULL) == 0);
	CHECK_MEM(z, bobpub, 32);
	CHECK(x25519_derive(bob, want_epk, z, NULL) == 0);
	CHECK_MEM(z, k, 32);
	for (i = 0; i < sizeof(cek); i++)
		cek[i] = (uint8_t)i;
	crypto_test_set_random(esk, sizeof(esk));
	CHECK(ecdhes_wrap(bobpub, cek, sizeof(cek), epk, ek, NULL) == 0);
	CHECK_MEM(epk, want_epk, 32);
	CHECK(ecdhes_unwrap(bob, epk, ek, sizeof(ek), out, sizeof(out), &n,
	    NULL) == 0 && n == 64);
	CHECK_MEM(out, cek, 64);
	/* Any changed byte: the unwrap fails, silently. */
	ek[10] ^= 1;
	CHECK(ecdhes_unwrap(bob, epk, ek, sizeof(ek), out, sizeof(out), &n,
	    NULL) == -1);
	ek[10] ^= 1;
	epk[3] ^= 1;
	CHECK(ecdhes_unwrap(bob, epk, ek, sizeof(ek), out, sizeof(out), &n,
	    NULL) == -1);
	/* An ephemeral key of small order: refused, not an internal error. */
	memset(epk, 0, 32);
	CHECK(ecdhes_unwrap(bob, epk, ek, sizeof(ek), out, sizeof(out), &n,
	    NULL) == -1);
	memset(z, 0, 32);
	CHECK(ecdhes_wrap(z, cek, sizeof(cek), epk, ek, NULL) ==
	    E2E_EX_DATAERR);
}

/* RFC 7518 appendix C: Z of the P-256 example, AlgorithmID "A128GCM",
 * PartyUInfo "Alice", PartyVInfo "Bob", 128 bits. */
static void
rfc7518_c(void)
{
	static const uint8_t z[32] = { 158, 86, 217, 29, 129, 113, 53, 211,
		114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110, 163, 218,
		128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196 };
	uint8_t k[16];
	char text[32];

	CHECK(ecdhes_concat_kdf(z, sizeof(z), "A128GCM",
	    (const uint8_t *)"Alice", 5, (const uint8_t *)"Bob", 3, k,
	    sizeof(k), NULL) == 0);
	b64url_encode(k, sizeof(k), text);
	text[b64url_enclen(sizeof(k))] = '\0';
	CHECK(strcmp(text, "VqqN6vgjbSBcIijNcacQGg") == 0);
}

/* RFC 3394 section 4.6: 256 bits of key data with a 256-bit KEK. */
static void
rfc3394_4_6(void)
{
	uint8_t kek[32], data[32], want[40], got[40], back[32];
	size_t n;
	uint8_t *p;

	hex32("000102030405060708090A0B0C0D0E0F"
	    "101112131415161718191A1B1C1D1E1F", kek);
	hex32("00112233445566778899AABBCCDDEEFF"
	    "000102030405060708090A0B0C0D0E0F", data);
	p = hex_decode("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326"
	    "CBC7F0E71A99F43BFB988B9B7A02DD21", &n);
	CHECK(n == 40);
	memcpy(want, p, 40);
	free(p);
	CHECK(ecdhes_kw_wrap(kek, data, 32, got, NULL) == 0);
	CHECK_MEM(got, want, 40);
	CHECK(ecdhes_kw_unwrap(kek, got, 40, back) == 0);
	CHECK_MEM(back, data, 32);
	got[39] ^= 1;
	CHECK(ecdhes_kw_unwrap(kek, got, 40, back) == -1);
	CHECK(ecdhes_kw_unwrap(kek, got, 12, back) == -1);
}

static void
pkid_and_jwk(void)
{
	static const char *const bad[] = {
		"{\"kty\":\"OKP\",\"crv\":\"X25519\"}",
		"{\"kty\":\"EC\",\"crv\":\"X25519\",\"x\":\"hSDwCYkwp1R0i"
		    "33ctD73Wg2_Og0mOBr066SpjqqbTmo\"}",
		"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"hSDwCYkwp1R"
		    "0i33ctD73Wg2_Og0mOBr066SpjqqbTmo\"}",
		"{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"hSDwCYkwp1R0"
		    "i33ctD73Wg2_Og0mOBr066SpjqqbTm\"}",
		"{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"hSDwCYkwp1R0"
		    "i33ctD73Wg2_Og0mOBr066SpjqqbTmoAA\"}",
		"{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"hSDwCYkwp1R0"
		    "i33ctD73Wg2_Og0mOBr066SpjqqbTmo\",\"d\":\"dwdtCnMYpX08Fs"
		    "FyUbJmRd9ML4frwJkqsXf7pR25LCo\"}",
		"{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":7}",
		"[]",
	};
	uint8_t pub[32], back[32];
	char pkid[KID_SIZE], *s;
	json_t *j;
	size_t i;

	b64_32("hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo", pub);
	CHECK(x25519_pkid(pub, pkid, NULL) == 0);
	CHECK(strlen(pkid) == KID_LEN);
	/* The thumbprint's input, hashed independently. */
	{
		const char *in = "{\"crv\":\"X25519\",\"kty\":\"OKP\",\"x\":"
		    "\"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo\"}";
		uint8_t d[32];
		char want[KID_SIZE];
		unsigned int dl;

		EVP_Digest(in, strlen(in), d, &dl, EVP_sha256(), NULL);
		b64url_encode(d, 32, want);
		want[KID_LEN] = '\0';
		CHECK(strcmp(pkid, want) == 0);
	}
	j = x25519_jwk(pub);
	s = jsonio_dump(j);
	CHECK(s != NULL && strcmp(s, "{\"kty\":\"OKP\",\"crv\":\"X25519\","
	    "\"x\":\"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo\"}") == 0);
	CHECK(x25519_jwk_read(j, "epk", back, NULL) == 0);
	CHECK_MEM(back, pub, 32);
	free(s);
	json_decref(j);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct report r = { 0 };

		j = json_loads(bad[i], 0, NULL);
		CHECKF(x25519_jwk_read(j, "epk", back, &r) == E2E_EX_DATAERR,
		    "accepted %s", bad[i]);
		json_decref(j);
	}
}

/* Wycheproof x25519_test.json, when present: every valid or acceptable
 * vector agrees, except that a zero shared secret is refused. */
static void
wycheproof(void)
{
	json_t *root = harness_wycheproof("x25519_test.json"), *g, *t;
	size_t gi, ti, n;
	int count = 0;

	if (root == NULL)
		return;
	json_array_foreach(json_object_get(root, "testGroups"), gi, g) {
		json_array_foreach(json_object_get(g, "tests"), ti, t) {
			uint8_t *pub = jhex(t, "public", &n), *priv, *want;
			size_t pn = n, kn, wn;
			uint8_t z[32], zero[32] = { 0 };
			int rc;

			priv = jhex(t, "private", &kn);
			want = jhex(t, "shared", &wn);
			if (pn != 32 || kn != 32) {
				free(pub);
				free(priv);
				free(want);
				continue;
			}
			rc = x25519_derive(priv, pub, z, NULL);
			if (wn == 32 && memcmp(want, zero, 32) == 0)
				CHECKF(rc == E2E_EX_DATAERR, "tcId %d: zero "
				    "secret accepted", jint(t, "tcId"));
			else if (strcmp(jstr(t, "result"), "invalid") != 0)
				CHECKF(rc == 0 && wn == 32 &&
				    memcmp(z, want, 32) == 0, "tcId %d",
				    jint(t, "tcId"));
			else
				CHECKF(rc != 0 || memcmp(z, want, 32) != 0,
				    "tcId %d: invalid accepted",
				    jint(t, "tcId"));
			count++;
			free(pub);
			free(priv);
			free(want);
		}
	}
	printf("wycheproof x25519: %d vectors\n", count);
	json_decref(root);
}

/* ---- the envelope ---- */

static uint8_t pk_priv[32], pk_pub[32];
static char pk_id[KID_SIZE];
static int pk_state;		/* 0 known, 1 erased */

static int
lookup(void *arg, const char *pkid, struct jwe_prekey *out)
{
	(void)arg;
	if (strcmp(pkid, pk_id) != 0)
		return -1;
	if (pk_state == 1)
		return 1;
	memcpy(out->priv, pk_priv, 32);
	out->kind = JWE_FS_ONE_TIME;
	return 0;
}

static int
seal(struct jwe_recipient *r, size_t nr, const char *enc, struct buf *out)
{
	struct sink s = sink_buf(out);

	buf_clear(out);
	/* NUL-terminated: the tests look for members with strstr. */
	if (jwe_encrypt(jwe_enc_by_name(enc), NULL, r, nr,
	    (const uint8_t *)"hello", 5, &s, NULL) != 0)
		return -1;
	return buf_terminate(out);
}

static int
open_env(const struct buf *env, EVP_PKEY *priv, const char *kid,
    int with_prekeys, struct jwe_result *res, struct report *rep)
{
	struct jwe_reader rd = { priv, kid, with_prekeys ? lookup : NULL,
		NULL };
	json_t *o = json_loadb((const char *)env->p, env->len, 0, NULL);
	char *ct = NULL;
	size_t ct_len;
	int rc = -99;

	if (o == NULL)
		return rc;
	ct_len = json_string_length(json_object_get(o, "ciphertext"));
	ct = strdup(json_string_value(json_object_get(o, "ciphertext")));
	json_object_del(o, "ciphertext");
	rc = jwe_decrypt_into_with(o, ct, ct_len, (uint8_t *)ct, &rd, res,
	    rep);
	if (rc == 0 && (res->pt_len != 5 || memcmp(res->pt, "hello",
	    5) != 0))
		rc = -98;
	free(ct);
	json_decref(o);
	return rc;
}

static json_t *
protected_of(const struct buf *env)
{
	json_t *o = json_loadb((const char *)env->p, env->len, 0, NULL);
	const char *p = json_string_value(json_object_get(o, "protected"));
	struct buf b = BUF_INIT;
	json_t *h;

	b64url_decode_buf(p, strlen(p), &b);
	h = json_loadb((const char *)b.p, b.len, 0, NULL);
	buf_free(&b);
	json_decref(o);
	return h;
}

/* Re-serializes env with its first recipient's header changed by fn. */
static void
mutate(const struct buf *env, struct buf *out, size_t which,
    void (*fn)(json_t *entry))
{
	json_t *o = json_loadb((const char *)env->p, env->len, 0, NULL);
	char *s;

	fn(json_array_get(json_object_get(o, "recipients"), which));
	s = json_dumps(o, JSON_COMPACT);
	buf_clear(out);
	buf_append(out, s, strlen(s));
	free(s);
	json_decref(o);
}

static void
m_crv(json_t *e)
{
	json_object_set_new(json_object_get(json_object_get(e, "header"),
	    "epk"), "crv", json_string("X448"));
}

static void
m_extra(json_t *e)
{
	json_object_set_new(json_object_get(json_object_get(e, "header"),
	    "epk"), "d", json_string("AAAA"));
}

static void
m_short(json_t *e)
{
	json_object_set_new(json_object_get(json_object_get(e, "header"),
	    "epk"), "x", json_string("AAAA"));
}

static void
m_noepk(json_t *e)
{
	json_object_del(json_object_get(e, "header"), "epk");
}

static void
m_apu(json_t *e)
{
	json_object_set_new(json_object_get(e, "header"), "apu",
	    json_string("QWxpY2U"));
}

static void
m_epk_x(json_t *e)
{
	json_t *epk = json_object_get(json_object_get(e, "header"), "epk");
	json_t *other;
	uint8_t x[32];

	x25519_decode_x(json_string_value(json_object_get(epk, "x")), 43, x);
	x[5] ^= 1;
	other = x25519_jwk(x);
	json_object_set(epk, "x", json_object_get(other, "x"));
	json_decref(other);
}

static void
m_ek(json_t *e)
{
	char s[200];

	snprintf(s, sizeof(s), "%s", json_string_value(json_object_get(e,
	    "encrypted_key")));
	s[3] = s[3] == 'A' ? 'B' : 'A';
	json_object_set_new(e, "encrypted_key", json_string(s));
}

static void
m_kid(json_t *e)
{
	json_object_set_new(json_object_get(e, "header"), "kid",
	    json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
}

static void
m_rsa_alg(json_t *e)
{
	json_object_set_new(json_object_get(e, "header"), "alg",
	    json_string("RSA-OAEP-256"));
}

static void
envelope(void)
{
	EVP_PKEY *alice = fixture_private("alice"), *bob =
	    fixture_private("bob");
	char akid[KID_SIZE], bkid[KID_SIZE];
	struct jwe_recipient r[2];
	struct jwe_result res;
	struct buf env = BUF_INIT, bad = BUF_INIT;
	struct report rep = { 0 };
	json_t *h;
	const char *encs[] = { "A256CBC-HS512", "A256GCM" };
	size_t e;

	fixture_kid(alice, akid);
	fixture_kid(bob, bkid);
	CHECK(x25519_generate(pk_priv, pk_pub, NULL) == 0);
	CHECK(x25519_pkid(pk_pub, pk_id, NULL) == 0);
	memset(r, 0, sizeof(r));
	r[0].pub = alice;
	memcpy(r[0].kid, akid, KID_SIZE);
	r[0].fs = 1;
	memcpy(r[0].prekey, pk_pub, 32);
	memcpy(r[0].pkid, pk_id, KID_SIZE);
	r[1].pub = bob;
	memcpy(r[1].kid, bkid, KID_SIZE);

	for (e = 0; e < 2; e++) {
		pk_state = 0;
		CHECK(seal(r, 2, encs[e], &env) == 0);
		/* "alg" moves to each recipient's header. */
		h = protected_of(&env);
		CHECK(h != NULL && json_object_get(h, "alg") == NULL);
		json_decref(h);
		CHECK(strstr((char *)env.p, "{\"header\":{\"alg\":"
		    "\"ECDH-ES+A256KW\",\"kid\":\"") != NULL);
		CHECK(strstr((char *)env.p, "{\"header\":{\"alg\":"
		    "\"RSA-OAEP-256\",\"kid\":\"") != NULL);
		/* Alice by prekey, Bob by RSA. */
		CHECK(open_env(&env, alice, akid, 1, &res, &rep) == 0);
		CHECK(res.fs == JWE_FS_ONE_TIME && strcmp(res.pkid,
		    pk_id) == 0);
		CHECK(open_env(&env, bob, bkid, 0, &res, &rep) == 0);
		CHECK(res.fs == JWE_FS_NONE);
		/* Alice's identity key alone cannot open it. */
		report_clear(&rep);
		CHECK(open_env(&env, alice, akid, 0, &res, &rep) ==
		    E2E_EX_DATAERR);
		/* Erased: the one message that says so. */
		pk_state = 1;
		report_clear(&rep);
		CHECK(open_env(&env, alice, akid, 1, &res, &rep) ==
		    E2E_EX_DATAERR);
		CHECK(strcmp(report_message(&rep), JWE_ERASED) == 0);
		pk_state = 0;
	}
	/* Tampering (J): each refused, before or after the cryptography. */
	{
		void (*m[])(json_t *) = { m_crv, m_extra, m_short, m_noepk,
			m_apu, m_epk_x, m_ek, m_kid, m_rsa_alg };
		size_t i;

		for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
			mutate(&env, &bad, 0, m[i]);
			report_clear(&rep);
			CHECKF(open_env(&bad, alice, akid, 1, &res, &rep) ==
			    E2E_EX_DATAERR, "mutation %zu accepted", i);
		}
	}
	/* All RSA: as before, "alg" protected, entries {"kid"} only. */
	r[0].fs = 0;
	CHECK(seal(r, 2, "A256CBC-HS512", &env) == 0);
	h = protected_of(&env);
	CHECK(h != NULL && json_object_get(h, "alg") != NULL);
	json_decref(h);
	CHECK(strstr((char *)env.p, "\"alg\":\"RSA-OAEP-256\",\"kid\"") ==
	    NULL);
	CHECK(open_env(&env, alice, akid, 1, &res, &rep) == 0);
	buf_free(&env);
	buf_free(&bad);
	EVP_PKEY_free(alice);
	EVP_PKEY_free(bob);
}

int
main(void)
{
	if (crypto_init(NULL) != 0)
		return 2;
	RUN(rfc7748_5_2);
	RUN(rfc7748_6_1);
	RUN(low_order_points);
	RUN(rfc8037_a6);
	RUN(rfc7518_c);
	RUN(rfc3394_4_6);
	RUN(pkid_and_jwk);
	RUN(wycheproof);
	RUN(envelope);
	return harness_end();
}
