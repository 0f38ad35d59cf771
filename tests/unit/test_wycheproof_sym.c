/*
 * Wycheproof symmetric vectors against lib/format/aead.c and
 * lib/format/crypto.c: AES-CBC with PKCS#7 padding (legacy ct; L3,
 * J13), HMAC-SHA-256 and HMAC-SHA-512 (legacy tag, the HS512 half of
 * A256CBC-HS512), AES-GCM (A*GCM; J11) and A256CBC-HS512 as an AEAD (K1,
 * J11, J13, J14). See ../shared/SECURITY-TESTS.md section 2.
 */
#include "harness.h"

#include <openssl/err.h>

#include "format/aead.h"
#include "format/crypto.h"

static int n_cbc_valid, n_cbc_invalid;
static int n_hmac256, n_hmac512, n_hmac512_t256;
static int n_gcm, n_gcm_refused_iv;
static int n_cbchs, n_cbchs_valid, n_cbchs_invalid, n_pad_oracle;

#define FILL 0xa5	/* what an output buffer holds before a call */

static uint8_t *
xmalloc(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	if (p == NULL)
		exit(2);
	memset(p, FILL, n ? n : 1);
	return p;
}

static int
all_fill(const uint8_t *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != FILL)
			return 0;
	return 1;
}

/*
 * aes_cbc_pkcs5_test.json: valid vectors encrypt to ct and decrypt to
 * msg (also in place); every BadPadding/NoPadding vector fails as the
 * same silent -1 with OpenSSL's reason cleared (L3, J13).
 */
static void
cbc_vectors(void)
{
	json_t *root = harness_wycheproof("aes_cbc_pkcs5_test.json");
	json_t *g, *t;
	size_t gi, ti;

	if (root == NULL)
		return;
	json_array_foreach(json_object_get(root, "testGroups"), gi, g) {
		const char *name = jint(g, "keySize") == 128 ? "AES-128-CBC" :
		    jint(g, "keySize") == 192 ? "AES-192-CBC" :
		    jint(g, "keySize") == 256 ? "AES-256-CBC" : NULL;

		CHECKF(name != NULL, "group %zu: keySize %d", gi,
		    jint(g, "keySize"));
		if (name == NULL)
			continue;
		json_array_foreach(json_object_get(g, "tests"), ti, t) {
			int tc = jint(t, "tcId");
			size_t kl, ivl, ml, cl, outl, pl;
			uint8_t *key = jhex(t, "key", &kl);
			uint8_t *iv = jhex(t, "iv", &ivl);
			uint8_t *msg = jhex(t, "msg", &ml);
			uint8_t *ct = jhex(t, "ct", &cl);
			uint8_t *out = xmalloc(ml + 16), *pt = xmalloc(cl);
			int rc;

			CHECK(kl * 8 == (size_t)jint(g, "keySize") &&
			    ivl == 16);
			if (strcmp(jstr(t, "result"), "valid") == 0) {
				n_cbc_valid++;
				rc = aes_cbc_encrypt(name, key, iv, msg, ml,
				    out, &outl, NULL);
				CHECKF(rc == 0 && outl == cl &&
				    memcmp(out, ct, cl) == 0,
				    "tcId %d: encryption differs from ct", tc);
				rc = aes_cbc_decrypt(name, key, iv, ct, cl, pt,
				    &pl);
				CHECKF(rc == 0 && pl == ml &&
				    memcmp(pt, msg, ml) == 0,
				    "tcId %d: decryption differs from msg", tc);
				/* In place, as the seed reader uses it. */
				memcpy(pt, ct, cl);
				rc = aes_cbc_decrypt(name, key, iv, pt, cl, pt,
				    &pl);
				CHECKF(rc == 0 && pl == ml &&
				    memcmp(pt, msg, ml) == 0,
				    "tcId %d: in-place decryption differs", tc);
			} else {
				n_cbc_invalid++;
				ERR_clear_error();
				rc = aes_cbc_decrypt(name, key, iv, ct, cl, pt,
				    &pl);
				CHECKF(rc == -1, "tcId %d (%s): bad padding "
				    "returned %d, not -1", tc,
				    jstr(t, "comment"), rc);
				CHECKF(ERR_peek_error() == 0, "tcId %d: "
				    "OpenSSL error queue not empty (a padding "
				    "oracle for whoever prints it)", tc);
			}
			ERR_clear_error();
			free(key);
			free(iv);
			free(msg);
			free(ct);
			free(out);
			free(pt);
		}
	}
	json_decref(root);
}

/* hmac_sha256_test.json / hmac_sha512_test.json through crypto_hmac:
 * the first tagSize/8 bytes are the (possibly truncated) tag. */
static void
hmac_file(const char *file, const char *md, size_t full, int *count)
{
	json_t *root = harness_wycheproof(file);
	json_t *g, *t;
	size_t gi, ti;

	if (root == NULL)
		return;
	json_array_foreach(json_object_get(root, "testGroups"), gi, g) {
		size_t tsize = (size_t)jint(g, "tagSize") / 8;

		CHECKF(tsize > 0 && tsize <= full, "group %zu: tagSize %d", gi,
		    jint(g, "tagSize"));
		json_array_foreach(json_object_get(g, "tests"), ti, t) {
			int tc = jint(t, "tcId"), same;
			size_t kl, ml, tl, ol = 0;
			uint8_t *key = jhex(t, "key", &kl);
			uint8_t *msg = jhex(t, "msg", &ml);
			uint8_t *tag = jhex(t, "tag", &tl);
			uint8_t out[EVP_MAX_MD_SIZE];
			int rc;

			(*count)++;
			/* A256CBC-HS512's T_LEN is 32: HMAC-SHA-512/256. */
			if (full == 64 && tsize == 32)
				n_hmac512_t256++;
			rc = crypto_hmac(md, key, kl, msg, ml, out, &ol, NULL);
			CHECKF(rc == 0 && ol == full, "tcId %d: crypto_hmac "
			    "failed", tc);
			same = rc == 0 && tl == tsize &&
			    memcmp(out, tag, tsize) == 0;
			if (strcmp(jstr(t, "result"), "valid") == 0)
				CHECKF(same, "%s tcId %d: tag differs", md, tc);
			else
				CHECKF(!same, "%s tcId %d (%s): modified tag "
				    "matches", md, tc, jstr(t, "comment"));
			free(key);
			free(msg);
			free(tag);
		}
	}
	json_decref(root);
}

static void
hmac_vectors(void)
{
	hmac_file("hmac_sha256_test.json", "SHA256", 32, &n_hmac256);
	hmac_file("hmac_sha512_test.json", "SHA512", 64, &n_hmac512);
}

/*
 * J11: an IV or a tag of any other length than alg's is refused. The
 * buffers hold the right IV and tag followed by zeros, so a reader that
 * used alg's lengths instead of the given ones, or compared only the
 * first tag_len bytes (a correct prefix), would succeed.
 */
static void
wrong_lengths(const struct aead_alg *alg, const uint8_t *key,
    const uint8_t *iv, const uint8_t *aad, size_t aad_len,
    const uint8_t *ct, size_t cl, const uint8_t *tag, int tc)
{
	static const size_t tag_lens[] = { 0, 1, 12, 15, 16, 17, 31, 33, 64 };
	static const size_t iv_lens[] = { 0, 1, 8, 11, 12, 13, 15, 16, 17, 32 };
	uint8_t longtag[80], longiv[48], *pt = xmalloc(cl);
	size_t i, pl;

	memset(longtag, 0, sizeof(longtag));
	memcpy(longtag, tag, alg->tag_len);
	memset(longiv, 0, sizeof(longiv));
	memcpy(longiv, iv, alg->iv_len);
	for (i = 0; i < sizeof(tag_lens) / sizeof(tag_lens[0]); i++) {
		if (tag_lens[i] == alg->tag_len)
			continue;
		CHECKF(aead_decrypt(alg, key, iv, alg->iv_len, aad, aad_len,
		    ct, cl, longtag, tag_lens[i], pt, &pl) == -1,
		    "%s tcId %d: a %zu-byte tag was accepted", alg->name, tc,
		    tag_lens[i]);
	}
	for (i = 0; i < sizeof(iv_lens) / sizeof(iv_lens[0]); i++) {
		if (iv_lens[i] == alg->iv_len)
			continue;
		CHECKF(aead_decrypt(alg, key, longiv, iv_lens[i], aad,
		    aad_len, ct, cl, tag, alg->tag_len, pt, &pl) == -1,
		    "%s tcId %d: a %zu-byte IV was accepted", alg->name, tc,
		    iv_lens[i]);
	}
	free(pt);
}

/*
 * One AeadTest vector against alg. Valid: aead_encrypt with the
 * vector's IV gives ct and tag, aead_decrypt gives msg. Invalid: -1,
 * and no plaintext left in the output buffer.
 */
static int
aead_vector(const struct aead_alg *alg, const json_t *t)
{
	int tc = jint(t, "tcId"), rc, valid;
	size_t kl, ivl, al, ml, cl, tl, outl, pl;
	uint8_t *key = jhex(t, "key", &kl), *iv = jhex(t, "iv", &ivl);
	uint8_t *aad = jhex(t, "aad", &al), *msg = jhex(t, "msg", &ml);
	uint8_t *ct = jhex(t, "ct", &cl), *tag = jhex(t, "tag", &tl);
	uint8_t *out = xmalloc(ml + 16), *pt = xmalloc(cl);
	uint8_t outtag[AEAD_MAX_TAG];

	valid = strcmp(jstr(t, "result"), "valid") == 0;
	CHECKF(kl == alg->key_len, "tcId %d: key length %zu", tc, kl);
	if (valid) {
		/* Separate buffers: aead_encrypt's ct must not overlap pt. */
		rc = aead_encrypt(alg, key, iv, aad, al, msg, ml, out, &outl,
		    outtag, NULL);
		CHECKF(rc == 0 && outl == cl && memcmp(out, ct, cl) == 0 &&
		    tl == alg->tag_len && memcmp(outtag, tag, tl) == 0,
		    "%s tcId %d: encryption differs from ct || tag",
		    alg->name, tc);
		rc = aead_decrypt(alg, key, iv, ivl, aad, al, ct, cl, tag, tl,
		    pt, &pl);
		CHECKF(rc == 0 && pl == ml && memcmp(pt, msg, ml) == 0,
		    "%s tcId %d: decryption differs from msg", alg->name, tc);
		wrong_lengths(alg, key, iv, aad, al, ct, cl, tag, tc);
	} else {
		ERR_clear_error();
		rc = aead_decrypt(alg, key, iv, ivl, aad, al, ct, cl, tag, tl,
		    pt, &pl);
		CHECKF(rc == -1, "%s tcId %d (%s): accepted (rc %d)",
		    alg->name, tc, jstr(t, "comment"), rc);
		/* GCM wipes what it decrypted; CBC-HMAC checks the tag
		 * before decrypting anything (J13), so pt is untouched. */
		CHECKF(ml == 0 || memcmp(pt, msg, ml < cl ? ml : cl) != 0,
		    "%s tcId %d: plaintext left in pt after a failure",
		    alg->name, tc);
		if (alg->md != NULL)
			CHECKF(all_fill(pt, cl), "%s tcId %d: pt written "
			    "before the tag was checked", alg->name, tc);
		CHECKF(ERR_peek_error() == 0, "%s tcId %d: OpenSSL error "
		    "queue not empty", alg->name, tc);
	}
	free(key);
	free(iv);
	free(aad);
	free(msg);
	free(ct);
	free(tag);
	free(out);
	free(pt);
	return valid;
}

/*
 * aes_gcm_test.json: the groups with a 96-bit IV and a 128-bit tag
 * are A128GCM/A192GCM/A256GCM; every other IV size (0, 8 ... 2056 bits:
 * ZeroLengthIv, SmallIv, LongIv) is refused by aead_decrypt whatever
 * the vector's result (J11).
 */
static void
gcm_vectors(void)
{
	json_t *root = harness_wycheproof("aes_gcm_test.json");
	json_t *g, *t;
	size_t gi, ti;

	if (root == NULL)
		return;
	json_array_foreach(json_object_get(root, "testGroups"), gi, g) {
		int ks = jint(g, "keySize"), ivs = jint(g, "ivSize");
		int ts = jint(g, "tagSize");
		const struct aead_alg *alg = aead_alg_by_name(ks == 128 ?
		    "A128GCM" : ks == 192 ? "A192GCM" : "A256GCM");

		CHECKF(alg != NULL && alg->key_len * 8 == (size_t)ks,
		    "group %zu: keySize %d", gi, ks);
		if (alg == NULL)
			continue;
		json_array_foreach(json_object_get(g, "tests"), ti, t) {
			size_t kl, ivl, al, cl, tl, pl;
			uint8_t *key, *iv, *aad, *ct, *tag, *pt;

			n_gcm++;
			if (ivs == 96 && ts == 128) {
				aead_vector(alg, t);
				continue;
			}
			n_gcm_refused_iv++;
			key = jhex(t, "key", &kl);
			iv = jhex(t, "iv", &ivl);
			aad = jhex(t, "aad", &al);
			ct = jhex(t, "ct", &cl);
			tag = jhex(t, "tag", &tl);
			pt = xmalloc(cl);
			CHECKF(aead_decrypt(alg, key, iv, ivl, aad, al, ct, cl,
			    tag, tl, pt, &pl) == -1, "tcId %d: %d-bit IV, "
			    "%d-bit tag accepted", jint(t, "tcId"), ivs, ts);
			free(key);
			free(iv);
			free(aad);
			free(ct);
			free(tag);
			free(pt);
		}
	}
	json_decref(root);
}

/*
 * a256cbc_hs512_test.json (AeadTest, key = MAC_KEY || ENC_KEY): valid
 * vectors encrypt to ct || tag with the vector's IV and decrypt to msg;
 * the ModifiedTag vectors fail before any decryption (J13).
 */
static void
cbchs_vectors(void)
{
	json_t *root = harness_wycheproof("a256cbc_hs512_test.json");
	const struct aead_alg *alg = aead_alg_by_name("A256CBC-HS512");
	json_t *g, *t;
	size_t gi, ti;

	if (root == NULL)
		return;
	CHECK(alg != NULL && alg->key_len == 64 && alg->iv_len == 16 &&
	    alg->tag_len == 32);
	if (alg == NULL)
		goto out;
	json_array_foreach(json_object_get(root, "testGroups"), gi, g) {
		CHECK(jint(g, "keySize") == 512 && jint(g, "ivSize") == 128 &&
		    jint(g, "tagSize") == 256);
		json_array_foreach(json_object_get(g, "tests"), ti, t) {
			n_cbchs++;
			if (aead_vector(alg, t))
				n_cbchs_valid++;
			else
				n_cbchs_invalid++;
			/* tcId 1 is RFC 7518 B.3 (K1), checked on its own
			 * below too. */
			if (jint(t, "tcId") == 1)
				CHECK(strcmp(jstr(t, "tag"), "4dd3b4c088a7f45c2"
				    "16839645b2012bf2e6269a8c56a816dbc1b267761"
				    "955bc5") == 0);
		}
	}
out:
	json_decref(root);
}

/* K1: RFC 7518 Appendix B.3, written out from the RFC so it runs even
 * without ../shared (the same vector as Wycheproof tcId 1). J14: the
 * 42-byte AAD gives AL = 0x150; altering the AAD must fail. */
static void
rfc7518_b3(void)
{
	static const char p_text[] = "A cipher system must not be required "
	    "to be secret, and it must be able to fall into the hands of "
	    "the enemy without inconvenience";
	static const char a_text[] = "The second principle of Auguste "
	    "Kerckhoffs";
	static const char e_hex[] =
	    "4affaaadb78c31c5da4b1b590d10ffbd3dd8d5d302423526912da037ecbcc7bd"
	    "822c301dd67c373bccb584ad3e9279c2e6d12a1374b77f077553df829410446b"
	    "36ebd97066296ae6427ea75c2e0846a11a09ccf5370dc80bfecbad28c73f09b3"
	    "a3b75e662a2594410ae496b2e2e6609e31e6e02cc837f053d21f37ff4f51950b"
	    "be2638d09dd7a4930930806d0703b1f6";
	static const char t_hex[] =
	    "4dd3b4c088a7f45c216839645b2012bf2e6269a8c56a816dbc1b267761955bc5";
	const struct aead_alg *alg = aead_alg_by_name("A256CBC-HS512");
	uint8_t key[64], iv[16], out[256], tag[32], pt[256], aad[64];
	uint8_t *e, *tv, *ivb;
	size_t i, el, tl, ivl, ol = 0, pl = 0;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	ivb = hex_decode("1af38c2dc2b96ffdd86694092341bc04", &ivl);
	memcpy(iv, ivb, sizeof(iv));
	e = hex_decode(e_hex, &el);
	tv = hex_decode(t_hex, &tl);
	CHECK(alg != NULL && el == 144 && tl == 32 && strlen(a_text) == 42);
	if (alg == NULL)
		goto out;
	CHECK(aead_encrypt(alg, key, iv, (const uint8_t *)a_text,
	    strlen(a_text), (const uint8_t *)p_text, strlen(p_text), out, &ol,
	    tag, NULL) == 0);
	CHECKF(ol == el && memcmp(out, e, el) == 0, "E differs from RFC 7518 "
	    "B.3");
	CHECKF(memcmp(tag, tv, tl) == 0, "T differs from RFC 7518 B.3");
	CHECK(aead_decrypt(alg, key, iv, 16, (const uint8_t *)a_text,
	    strlen(a_text), e, el, tv, tl, pt, &pl) == 0);
	CHECKF(pl == strlen(p_text) && memcmp(pt, p_text, pl) == 0,
	    "P differs from RFC 7518 B.3");
	/* J14: the AAD is authenticated byte for byte. */
	memcpy(aad, a_text, strlen(a_text));
	aad[0] ^= 0x20;
	CHECK(aead_decrypt(alg, key, iv, 16, aad, strlen(a_text), e, el, tv,
	    tl, pt, &pl) == -1);
	CHECK(aead_decrypt(alg, key, iv, 16, (const uint8_t *)a_text,
	    strlen(a_text) - 1, e, el, tv, tl, pt, &pl) == -1);
	/* J11: the IV has exactly 16 bytes. */
	CHECK(aead_decrypt(alg, key, iv, 12, (const uint8_t *)a_text,
	    strlen(a_text), e, el, tv, tl, pt, &pl) == -1);
out:
	free(ivb);
	free(e);
	free(tv);
}

/*
 * J13/L3: the Wycheproof BadPadding ciphertexts (AES-256-CBC) wrapped
 * in A256CBC-HS512 with a *valid* tag, so only the padding is wrong.
 * aead_decrypt must fail exactly as it does for a bad tag: -1, error
 * queue empty, and no plaintext left in pt.
 */
static void
padding_oracle(void)
{
	static const char aad[] = "eyJhbGciOiJSU0EtT0FFUC0yNTYifQ";
	json_t *root = harness_wycheproof("aes_cbc_pkcs5_test.json");
	const struct aead_alg *alg = aead_alg_by_name("A256CBC-HS512");
	json_t *g, *t;
	size_t gi, ti;

	if (root == NULL)
		return;
	json_array_foreach(json_object_get(root, "testGroups"), gi, g) {
		if (jint(g, "keySize") != 256)
			continue;
		json_array_foreach(json_object_get(g, "tests"), ti, t) {
			int tc = jint(t, "tcId"), rc_pad, rc_tag;
			size_t kl, ivl, ml, cl, ol = 0, pl, i;
			uint8_t *ekey = jhex(t, "key", &kl);
			uint8_t *iv = jhex(t, "iv", &ivl);
			uint8_t *msg = jhex(t, "msg", &ml);
			uint8_t *ct = jhex(t, "ct", &cl);
			uint8_t *mac_in, *pt = xmalloc(cl), *pt2 = xmalloc(cl);
			uint8_t key[64], full[EVP_MAX_MD_SIZE], al[8];
			uint64_t bits = (uint64_t)(sizeof(aad) - 1) * 8;

			if (strcmp(jstr(t, "result"), "invalid") != 0 ||
			    cl == 0 || cl % 16 != 0) {
				/* Only whole-block ciphertexts reach the
				 * padding check. */
				goto next;
			}
			n_pad_oracle++;
			for (i = 0; i < 32; i++)
				key[i] = (uint8_t)(0x40 + i);	/* MAC_KEY */
			memcpy(key + 32, ekey, 32);		/* ENC_KEY */
			for (i = 0; i < 8; i++)
				al[7 - i] = (uint8_t)(bits >> (8 * i));
			/* RFC 7518 5.2.2.1: HMAC(MAC_KEY, A||IV||E||AL). */
			mac_in = xmalloc(sizeof(aad) - 1 + 16 + cl + 8);
			memcpy(mac_in, aad, sizeof(aad) - 1);
			memcpy(mac_in + sizeof(aad) - 1, iv, 16);
			memcpy(mac_in + sizeof(aad) - 1 + 16, ct, cl);
			memcpy(mac_in + sizeof(aad) - 1 + 16 + cl, al, 8);
			CHECK(crypto_hmac("SHA512", key, 32, mac_in,
			    sizeof(aad) - 1 + 16 + cl + 8, full, &ol,
			    NULL) == 0);
			free(mac_in);

			ERR_clear_error();
			rc_pad = aead_decrypt(alg, key, iv, 16,
			    (const uint8_t *)aad, sizeof(aad) - 1, ct, cl,
			    full, 32, pt, &pl);
			CHECKF(ERR_peek_error() == 0, "tcId %d: OpenSSL error "
			    "queue not empty after bad padding", tc);
			full[0] ^= 1;
			rc_tag = aead_decrypt(alg, key, iv, 16,
			    (const uint8_t *)aad, sizeof(aad) - 1, ct, cl,
			    full, 32, pt2, &pl);
			CHECKF(rc_pad == -1 && rc_tag == -1, "tcId %d: bad "
			    "padding gives %d, bad tag gives %d", tc, rc_pad,
			    rc_tag);
			/* "nothing usable in pt" (aead.h): the blocks
			 * before the bad padding must not be left there. */
			CHECKF(cl < 32 || ml < 16 ||
			    memcmp(pt, msg, 16) != 0, "tcId %d: after a "
			    "padding failure pt still holds the first "
			    "plaintext block", tc);
next:
			ERR_clear_error();
			free(ekey);
			free(iv);
			free(msg);
			free(ct);
			free(pt);
			free(pt2);
		}
	}
	json_decref(root);
}

int
main(void)
{
	if (crypto_init(NULL) != 0)
		return 2;
	RUN(cbc_vectors);
	RUN(hmac_vectors);
	RUN(gcm_vectors);
	RUN(cbchs_vectors);
	RUN(rfc7518_b3);
	RUN(padding_oracle);
	printf("aes-cbc: %d vectors (%d valid, %d invalid)\n",
	    n_cbc_valid + n_cbc_invalid, n_cbc_valid, n_cbc_invalid);
	printf("hmac-sha256: %d vectors\n", n_hmac256);
	printf("hmac-sha512: %d vectors (%d with a 256-bit tag, "
	    "A256CBC-HS512's T_LEN)\n", n_hmac512, n_hmac512_t256);
	printf("aes-gcm: %d vectors (%d with a non-96-bit IV refused)\n",
	    n_gcm, n_gcm_refused_iv);
	printf("a256cbc-hs512: %d vectors (%d valid, %d invalid)\n", n_cbchs,
	    n_cbchs_valid, n_cbchs_invalid);
	printf("padding oracle (J13): %d BadPadding vectors with a valid "
	    "tag\n", n_pad_oracle);
	return harness_end();
}
