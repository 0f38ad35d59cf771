/*
 * Wycheproof JOSE vectors against the envelope reader (lib/format/jwe.c) and
 * the inner signature (lib/format/jws.c): K17 (RSA-OAEP-256 + A256CBC-HS512),
 * J1 (alg none), J2 (only RSA-OAEP-256, refused before any RSA
 * operation), J4 (HS256 never verifies), J10 (strict base64url), J17
 * (PS256 only). See ../shared/SECURITY-TESTS.md section 2.
 */
#include "harness.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/jsonio.h"
#include "format/crypto.h"
#include "format/jwe.h"
#include "format/jwk.h"
#include "format/jws.h"
#include "format/rsa.h"

static int n_jwe, n_jwe_decrypted, n_jwe_alg_refused, n_jwe_rsa1_5;
static int n_jwe_other_refused, n_jwe_not_compact;
static int n_jws, n_jws_ps256_valid, n_jws_ps256_invalid, n_jws_refused;
static int n_jws_none, n_jws_hs256, n_jws_b64, n_jws_other_key;
static int n_jws_b64_rebuilt;

static int
has_flag(const json_t *t, const char *flag)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(t, "flags"), i, f)
		if (strcmp(json_string_value(f), flag) == 0)
			return 1;
	return 0;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL)
		exit(2);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static BIGNUM *
jwk_bn(const json_t *jwk, const char *name)
{
	struct buf b = BUF_INIT;
	const char *s;
	size_t len;
	BIGNUM *bn = NULL;

	s = jsonio_str(jwk, name, &len);
	if (s != NULL && b64url_decode_buf(s, len, &b) == 0 && b.len > 0)
		bn = BN_bin2bn(b.p, (int)b.len, NULL);
	buf_free(&b);
	return bn;
}

/*
 * An RSA JWK (RFC 7518 6.3) as an EVP_PKEY: n and e, plus d, p, q, dp,
 * dq and qi when private. NULL for any other key type or a member
 * missing.
 */
static EVP_PKEY *
jwk_to_pkey(const json_t *jwk, int private)
{
	static const char *const names[] = { "n", "e", "d", "p", "q", "dp",
		"dq", "qi" };
	static const char *const params[] = { OSSL_PKEY_PARAM_RSA_N,
		OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1 };
	BIGNUM *bn[8] = { NULL };
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *p = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *k = NULL;
	size_t i, n = private ? 8 : 2;

	if (jwk == NULL || strcmp(jstr(jwk, "kty"), "RSA") != 0)
		return NULL;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if ((bn[i] = jwk_bn(jwk, names[i])) == NULL ||
		    OSSL_PARAM_BLD_push_BN(bld, params[i], bn[i]) != 1)
			goto out;
	if ((p = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &k, private ? EVP_PKEY_KEYPAIR :
	    EVP_PKEY_PUBLIC_KEY, p) != 1)
		k = NULL;
out:
	for (i = 0; i < 8; i++)
		BN_clear_free(bn[i]);
	OSSL_PARAM_free(p);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return k;
}

/* The decoded protected header of a compact JOSE text (the part before
 * the first dot), or NULL. */
static json_t *
compact_header(const char *text)
{
	const char *dot = strchr(text, '.');
	size_t n = dot != NULL ? (size_t)(dot - text) : strlen(text);
	struct buf b = BUF_INIT;
	json_t *h = NULL;

	if (n > 0 && b64url_decode_buf(text, n, &b) == 0)
		h = jsonio_parse((const char *)b.p, b.len, NULL);
	buf_free(&b);
	return h;
}

/*
 * Rewrites a compact JWE (five dot-separated parts) as the flattened
 * JSON serialization (RFC 7516 7.2.2), protected passed through
 * verbatim, with the reader's "kid" in the unprotected "header" that
 * this profile requires of every entry (docs/FORMAT.md 5, step 6), and
 * parses that text as e2e-decrypt does. *ct receives a
 * writable copy of the ciphertext text. NULL when the text does not
 * have exactly five parts.
 */
static json_t *
compact_to_flattened(const char *jwe, const char *kid, char **ct,
    size_t *ct_len)
{
	static const char *const names[] = { "protected", "encrypted_key",
		"iv", "ciphertext", "tag" };
	const char *part[5], *s = jwe, *dot;
	size_t len[5], i;
	json_t *obj, *hdr;
	char *text;

	for (i = 0; i < 5; i++) {
		dot = strchr(s, '.');
		if ((dot == NULL) != (i == 4))
			return NULL;
		part[i] = s;
		len[i] = dot != NULL ? (size_t)(dot - s) : strlen(s);
		s = dot != NULL ? dot + 1 : s;
	}
	if ((obj = json_object()) == NULL)
		exit(2);
	for (i = 0; i < 5; i++)
		if (json_object_set_new(obj, names[i],
		    json_stringn(part[i], len[i])) != 0)
			exit(2);
	/* Unless the protected header names a key already. */
	hdr = compact_header(jwe);
	if (json_object_get(hdr, "kid") == NULL &&
	    json_object_set_new(obj, "header", json_pack("{s:s}", "kid",
	    kid)) != 0)
		exit(2);
	json_decref(hdr);
	text = jsonio_dump(obj);
	json_decref(obj);
	if (text == NULL)
		exit(2);
	obj = jsonio_parse(text, strlen(text), NULL);
	free(text);
	*ct = xstrndup(part[3], len[3]);
	*ct_len = len[3];
	return obj;
}

/* One JWE vector. key is the group's RSA key, or (for a group whose key
 * is not RSA) another RSA key: the algorithm check must come first. */
static void
jwe_vector(const json_t *t, EVP_PKEY *key, const char *kid, int rsa_group)
{
	int tc = jint(t, "tcId"), rc;
	const char *result = jstr(t, "result"), *text = jstr(t, "jwe");
	const char *alg = NULL, *enc = NULL, *pthex = jstr(t, "pt");
	json_t *obj = NULL, *hdr = NULL;
	struct jwe_result res;
	char *ct = NULL, why[256];
	uint8_t *pt = NULL;
	size_t ct_len = 0, pt_len = 0;
	int ours;

	n_jwe++;
	if (text[0] == '{') {
		/*
		 * tcId 22 (JsonSerialization) is "invalid" only because Tink
		 * reads compact JWE alone; JSON is our format, so it goes to
		 * the reader as it is. Its alg is A256KW, which is what must
		 * refuse it.
		 */
		obj = jsonio_parse(text, strlen(text), NULL);
		if (obj != NULL) {
			const char *c = jsonio_str(obj, "ciphertext", &ct_len);

			ct = xstrndup(c != NULL ? c : "", c != NULL ? ct_len :
			    0);
			hdr = compact_header(jstr(obj, "protected"));
		}
	} else {
		obj = compact_to_flattened(text, kid, &ct, &ct_len);
		hdr = compact_header(text);
	}
	if (hdr != NULL) {
		alg = jsonio_str(hdr, "alg", NULL);
		enc = jsonio_str(hdr, "enc", NULL);
	}
	/* What this reader accepts (jwe.h): RSA-OAEP-256 with
	 * A256CBC-HS512 or A256GCM, and ECDH-ES+A256KW with an X25519 key
	 * only (FORMAT.md section 11): Wycheproof's ECDH-ES vectors are all
	 * on NIST curves, refused for the curve ("not accepted" too). */
	ours = alg != NULL && enc != NULL && strcmp(alg, JWE_ALG) == 0 &&
	    (strcmp(enc, "A256CBC-HS512") == 0 || strcmp(enc, "A256GCM") == 0);

	if (obj == NULL) {
		/* Missing parts ("...AndSeparator"): not a JWE at all. */
		n_jwe_not_compact++;
		CHECKF(strcmp(result, "valid") != 0, "tcId %d: a valid "
		    "vector does not have five parts", tc);
		goto out;
	}
	rc = rep_why_rc(jwe_decrypt(obj, ct, ct_len, key, kid, &res, &t_rep),
	    why, sizeof(why));
	if (ours && rsa_group && strcmp(result, "valid") == 0) {
		n_jwe_decrypted++;
		pt = hex_decode(pthex, &pt_len);
		CHECKF(rc == 0 && res.pt_len == pt_len &&
		    memcmp(res.pt, pt, pt_len) == 0, "tcId %d (%s/%s): not "
		    "decrypted to pt (rc %d, why \"%s\")", tc, alg, enc, rc,
		    why);
		CHECKF(rc != 0 || res.enc == aead_alg_by_name(enc), "tcId %d: "
		    "res.enc is not %s", tc, enc);
		/* K17: the one public vector of exactly our pair. */
		if (tc == 93)
			CHECKF(rc == 0 && res.pt_len == 3 &&
			    memcmp(res.pt, "foo", 3) == 0 &&
			    res.enc == aead_alg_by_name("A256CBC-HS512") &&
			    !res.signed_content, "K17: tcId 93 is not \"foo\"");
		goto out;
	}
	if (strcmp(result, "acceptable") == 0)
		goto out;	/* either way; it did not crash */
	CHECKF(rc == 65, "tcId %d (%s, %s/%s): accepted (rc %d)", tc, result,
	    alg ? alg : "?", enc ? enc : "?", rc);
	if (!ours) {
		/* J2: refused for what it is, before any RSA operation: a
		 * reason in why is given only for such failures (jwe.h). */
		CHECKF(why[0] != '\0', "tcId %d (%s/%s): refused without a "
		    "structural reason", tc, alg ? alg : "?", enc ? enc : "?");
		if (alg != NULL && enc != NULL) {
			n_jwe_alg_refused++;
			CHECKF(strstr(why, "not accepted") != NULL, "tcId %d "
			    "(%s/%s): refused, but not for its algorithm: "
			    "\"%s\"", tc, alg, enc, why);
		} else {
			n_jwe_other_refused++;
		}
		if (has_flag(t, "Pkcs15WithOaepKey") ||
		    strcmp(alg ? alg : "", "RSA1_5") == 0) {
			n_jwe_rsa1_5++;
			CHECKF(strstr(why, "RSA1_5") != NULL, "tcId %d: RSA1_5 "
			    "not named in \"%s\"", tc, why);
		}
	} else {
		n_jwe_other_refused++;
	}
out:
	free(pt);
	free(ct);
	json_decref(obj);
	json_decref(hdr);
}

/*
 * json_web_encryption_test.json, every group: tcId 90 (A256GCM) and 93
 * (A256CBC-HS512, K17) of group jwe_rsa_oaep_256 decrypt; everything
 * else (RSA1_5 incl. Pkcs15WithOaepKey, RSA-OAEP with SHA-1, the
 * A128/A192 and CBC-HS256/384 encs, AES-KW, AES-GCM-KW, ECDH-ES, dir,
 * zip) is refused (J2).
 */
static void
jwe_vectors(void)
{
	json_t *root = harness_wycheproof("json_web_encryption_test.json");
	EVP_PKEY *fallback = NULL;
	json_t *g, *t;
	size_t gi, ti;

	if (root == NULL)
		return;
	json_array_foreach(json_object_get(root, "testGroups"), gi, g)
		if (fallback == NULL &&
		    strcmp(jstr(g, "comment"), "jwe_rsa_oaep_256") == 0)
			fallback = jwk_to_pkey(json_object_get(g, "private"),
			    1);
	CHECKF(fallback != NULL, "no RSA key in group jwe_rsa_oaep_256");
	if (fallback == NULL)
		goto out;
	json_array_foreach(json_object_get(root, "testGroups"), gi, g) {
		const json_t *jwk = json_object_get(g, "private");
		int rsa = strcmp(jstr(jwk, "kty"), "RSA") == 0;
		EVP_PKEY *key = rsa ? jwk_to_pkey(jwk, 1) : NULL;
		char kid[KID_SIZE];

		CHECKF(!rsa || key != NULL, "group %zu (%s): the RSA JWK does "
		    "not convert", gi, jstr(g, "comment"));
		CHECK(jwk_thumbprint(key ? key : fallback, kid, NULL) == 0);
		json_array_foreach(json_object_get(g, "tests"), ti, t)
			jwe_vector(t, key ? key : fallback, kid, key != NULL);
		EVP_PKEY_free(key);
	}
	/* The anchors really ran. */
	CHECKF(n_jwe_decrypted == 2, "%d vectors decrypted, expected 2 (tcId "
	    "90 and 93)", n_jwe_decrypted);
out:
	EVP_PKEY_free(fallback);
	json_decref(root);
}

/* Parses (and when it parses, verifies and decodes) a JWS text.
 * Returns 1 when all three succeed; *parsed tells how far it got. */
static int
jws_check(const char *text, size_t len, EVP_PKEY *pub, int *parsed,
    int *verified, char *why, size_t why_size)
{
	char *copy = xstrndup(text, len);
	struct jws j;
	uint8_t *p;
	size_t plen;
	int ok = 0;

	*parsed = *verified = 0;
	why[0] = '\0';
	if (rep_why_rc(jws_parse(copy, len, &j, &t_rep), why, why_size) == 0) {
		*parsed = 1;
		*verified = jws_verify(&j, pub);
		ok = *verified == 1 && jws_decode_payload(&j, &p, &plen) == 0;
		jws_free(&j);
	}
	free(copy);
	return ok;
}

/*
 * json_web_signature_test.json. Group ps256: valid vectors parse,
 * verify and decode; invalid ones fail to parse or to verify (J17).
 * Every other group's vectors must fail jws_parse, since alg must be
 * exactly PS256: hs256 (J4; tcId 16 alg none), AlgIsNone tcId 341-344
 * (J1), base64 (J10, refused by alg here; see base64_transplanted),
 * RS*, PS384/512, ES*, and JWS tcId 17 (JsonSerialization: "invalid"
 * only for Tink, but our inner JWS is compact with one signature, J19).
 */
static void
jws_vectors(void)
{
	json_t *root = harness_wycheproof("json_web_signature_test.json");
	EVP_PKEY *ps256 = NULL;
	json_t *g, *t;
	size_t gi, ti;

	if (root == NULL)
		return;
	json_array_foreach(json_object_get(root, "testGroups"), gi, g)
		if (ps256 == NULL && strcmp(jstr(g, "comment"), "ps256") == 0)
			ps256 = jwk_to_pkey(json_object_get(g, "public"), 0);
	CHECKF(ps256 != NULL, "no RSA key in group ps256");
	if (ps256 == NULL)
		goto out;
	json_array_foreach(json_object_get(root, "testGroups"), gi, g) {
		const char *group = jstr(g, "comment");
		const json_t *jwk = json_object_get(g, "public");
		EVP_PKEY *key, *pub;
		int is_ps256 = strcmp(group, "ps256") == 0;

		if (jwk == NULL)
			jwk = json_object_get(g, "private");
		key = jwk_to_pkey(jwk, 0);
		pub = key != NULL ? key : ps256;
		CHECKF(strcmp(jstr(jwk, "kty"), "RSA") != 0 || key != NULL,
		    "group %zu (%s): the RSA JWK does not convert", gi, group);
		json_array_foreach(json_object_get(g, "tests"), ti, t) {
			int tc = jint(t, "tcId"), parsed, verified, ok;
			const char *result = jstr(t, "result");
			const char *text = jstr(t, "jws");
			json_t *hdr = compact_header(text);
			const char *alg = jsonio_str(hdr, "alg", NULL);
			char why[256];

			n_jws++;
			ok = jws_check(text, strlen(text), pub, &parsed,
			    &verified, why, sizeof(why));
			if (is_ps256 && strcmp(result, "valid") == 0) {
				n_jws_ps256_valid++;
				CHECKF(ok, "tcId %d: valid PS256 refused "
				    "(parsed %d, verified %d, %s)", tc, parsed,
				    verified, why);
			} else if (is_ps256) {
				n_jws_ps256_invalid++;
				CHECKF(!parsed || verified == 0, "tcId %d "
				    "(%s): invalid PS256 verified", tc,
				    jstr(t, "comment"));
			} else if (alg != NULL && strcmp(alg, "PS256") == 0) {
				/*
				 * tcId 338 ("UsingPS256" in group ps512):
				 * a real PS256 signature by the PS512 key,
				 * invalid for Wycheproof only because that
				 * JWK says "alg":"PS512". Our keys carry no
				 * alg: every key signs PS256 alone, so it
				 * verifies.
				 */
				n_jws_other_key++;
				CHECKF(parsed && verified == 1, "tcId %d: a "
				    "PS256 signature by the group's key "
				    "refused", tc);
			} else {
				n_jws_refused++;
				if (has_flag(t, "AlgIsNone") ||
				    strcmp(alg ? alg : "", "none") == 0)
					n_jws_none++;
				if (strcmp(group, "hs256") == 0)
					n_jws_hs256++;
				if (strcmp(group, "base64") == 0)
					n_jws_b64++;
				CHECKF(!parsed && why[0] != '\0', "tcId %d "
				    "(group %s, alg %s): not refused by "
				    "jws_parse", tc, group, alg ? alg : "?");
			}
			json_decref(hdr);
		}
		EVP_PKEY_free(key);
	}
out:
	EVP_PKEY_free(ps256);
	json_decref(root);
}

static int
b64_alphabet(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* RFC 7515's base64url, decided here rather than by lib/base/b64.c so the
 * expectation does not move with the code under test: the URL alphabet
 * only, no padding, and zero unused bits in the last character. */
static int
canonical_b64(const char *s, size_t n)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned last;
	size_t i;

	if (n % 4 == 1)
		return 0;
	for (i = 0; i < n; i++)
		if (!b64_alphabet(s[i]))
			return 0;
	if (n % 4 == 0)
		return 1;
	last = (unsigned)(strchr(alphabet, s[n - 1]) - alphabet);
	return n % 4 == 2 ? (last & 0x0f) == 0 : (last & 0x03) == 0;
}

/*
 * Appends to out the canonical part ours with the foreign characters of
 * the vector's part theirs (spaces, '?', '#', '=') inserted at the same
 * place, counted from whichever end they are nearer.
 */
static void
transplant(struct buf *out, const char *ours, const char *theirs,
    size_t tlen)
{
	size_t i = 0, j, olen = strlen(ours), at;

	while (i < tlen && b64_alphabet(theirs[i]))
		i++;
	if (i == tlen) {
		buf_append(out, ours, olen);
		return;
	}
	j = i;
	while (j < tlen && !b64_alphabet(theirs[j]))
		j++;
	at = i <= tlen - j ? (i < olen ? i : olen) :
	    (tlen - j < olen ? olen - (tlen - j) : 0);
	buf_append(out, ours, at);
	buf_append(out, theirs + i, j - i);
	buf_append(out, ours + at, olen - at);
}

/*
 * J10 with the signature taken out of the way: each vector of group
 * base64 (HS256, so jws_parse refuses it by alg alone) is rebuilt as a
 * genuine PS256 JWS with the ps256 group's private key, carrying the
 * same base64url defect in the same part; the payload is kept verbatim
 * and signed as it is. A reader that decoded leniently would accept
 * it; ours must refuse exactly the non-canonical ones: header or
 * signature at jws_parse, payload when it is decoded.
 */
static void
base64_transplanted(void)
{
	static const char hjson[] =
	    "{\"alg\":\"PS256\",\"kid\":\"PS256_2048\"}";
	json_t *root = harness_wycheproof("json_web_signature_test.json");
	EVP_PKEY *priv = NULL, *pub = NULL;
	struct buf h = BUF_INIT, s = BUF_INIT, tok = BUF_INIT;
	json_t *g, *t;
	size_t gi, ti;

	if (root == NULL)
		return;
	json_array_foreach(json_object_get(root, "testGroups"), gi, g)
		if (priv == NULL && strcmp(jstr(g, "comment"), "ps256") == 0) {
			priv = jwk_to_pkey(json_object_get(g, "private"), 1);
			pub = jwk_to_pkey(json_object_get(g, "public"), 0);
		}
	CHECK(priv != NULL && pub != NULL);
	if (priv == NULL || pub == NULL)
		goto out;
	if (b64url_append(&h, (const uint8_t *)hjson, strlen(hjson)) != 0 ||
	    buf_terminate(&h) != 0)
		exit(2);
	json_array_foreach(json_object_get(root, "testGroups"), gi, g) {
		if (strcmp(jstr(g, "comment"), "base64") != 0)
			continue;
		json_array_foreach(json_object_get(g, "tests"), ti, t) {
			const char *text = jstr(t, "jws"), *d1, *d2;
			uint8_t sig[RSA_MAX_BYTES];
			size_t sig_len = 0, hl, pl, sl;
			int tc = jint(t, "tcId"), parsed, verified, ok;
			int h_ok, p_ok, s_ok;
			char why[256];

			d1 = strchr(text, '.');
			d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
			CHECKF(d2 != NULL && strchr(d2 + 1, '.') == NULL,
			    "tcId %d: not three parts", tc);
			if (d2 == NULL)
				continue;
			n_jws_b64_rebuilt++;
			hl = (size_t)(d1 - text);
			pl = (size_t)(d2 - d1 - 1);
			sl = strlen(d2 + 1);
			h_ok = canonical_b64(text, hl);
			p_ok = canonical_b64(d1 + 1, pl);
			s_ok = canonical_b64(d2 + 1, sl);

			buf_clear(&tok);
			transplant(&tok, (const char *)h.p, text, hl);
			buf_append(&tok, d1, pl + 1);	/* "." payload */
			CHECK(rsa_pss_sign(priv, tok.p, tok.len, sig,
			    &sig_len, NULL) == 0);
			buf_clear(&s);
			if (b64url_append(&s, sig, sig_len) != 0 ||
			    buf_terminate(&s) != 0)
				exit(2);
			buf_append(&tok, ".", 1);
			transplant(&tok, (const char *)s.p, d2 + 1, sl);

			ok = jws_check((const char *)tok.p, tok.len, pub,
			    &parsed, &verified, why, sizeof(why));
			/* tcId 367 and 370 ("invalidBase64Padding") are, in
			 * this snapshot, byte for byte tcId 357: canonical. */
			CHECKF(ok == (h_ok && p_ok && s_ok), "tcId %d (%s): "
			    "%s (parsed %d, verified %d, %s)", tc,
			    jstr(t, "comment"), ok ? "accepted" : "refused",
			    parsed, verified, why);
			if (!h_ok || !s_ok)
				CHECKF(!parsed, "tcId %d: a non-canonical "
				    "header or signature parsed", tc);
			else if (!p_ok)
				CHECKF(parsed && verified == 1 && !ok,
				    "tcId %d: the non-canonical payload was "
				    "not the (only) reason", tc);
		}
	}
out:
	buf_free(&h);
	buf_free(&s);
	buf_free(&tok);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	json_decref(root);
}

/*
 * J4 and J1 by construction, with the ps256 group's key: an HS256 token
 * whose MAC key is the RSA public key's n (the classic confusion), the
 * same MAC under a "PS256" header, "None"/"nOnE", and a PS256 JWS with
 * its signature removed.
 */
static void
confusion(void)
{
	json_t *root = harness_wycheproof("json_web_signature_test.json");
	EVP_PKEY *priv = NULL, *pub = NULL;
	struct buf tok = BUF_INIT, nb = BUF_INIT;
	static const char *const hdrs[] = { "{\"alg\":\"HS256\"}",
		"{\"alg\":\"PS256\"}", "{\"alg\":\"none\"}",
		"{\"alg\":\"None\"}", "{\"alg\":\"nOnE\"}",
		"{\"alg\":\"ps256\"}", "{\"alg\":\"PS256 \"}" };
	uint8_t mac[EVP_MAX_MD_SIZE], sig[RSA_MAX_BYTES];
	size_t i, mac_len = 0, sig_len = 0, start;
	json_t *g;
	int parsed, verified;
	char why[256];

	if (root == NULL)
		return;
	json_array_foreach(json_object_get(root, "testGroups"), i, g)
		if (priv == NULL && strcmp(jstr(g, "comment"), "ps256") == 0) {
			priv = jwk_to_pkey(json_object_get(g, "private"), 1);
			pub = jwk_to_pkey(json_object_get(g, "public"), 0);
			b64url_decode_buf(jstr(json_object_get(g, "public"),
			    "n"), strlen(jstr(json_object_get(g, "public"),
			    "n")), &nb);
		}
	CHECK(priv != NULL && pub != NULL && nb.len == 256);
	if (priv == NULL || pub == NULL)
		goto out;
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		buf_clear(&tok);
		b64url_append(&tok, (const uint8_t *)hdrs[i], strlen(hdrs[i]));
		buf_append_str(&tok, ".aGk");
		CHECK(crypto_hmac("SHA256", nb.p, nb.len, tok.p, tok.len, mac,
		    &mac_len, NULL) == 0);
		buf_append(&tok, ".", 1);
		b64url_append(&tok, mac, mac_len);
		CHECKF(!jws_check((const char *)tok.p, tok.len, pub, &parsed,
		    &verified, why, sizeof(why)) && verified == 0,
		    "%s with an HMAC by the public key accepted", hdrs[i]);
		/* Only the exact "PS256" gets past jws_parse; a 32-byte
		 * MAC is then not a 256-byte PSS signature. */
		CHECKF(parsed == (i == 1), "%s: parsed %d", hdrs[i], parsed);
	}
	/* J1: a real PS256 JWS stripped of its signature. */
	buf_clear(&tok);
	b64url_append(&tok, (const uint8_t *)hdrs[1], strlen(hdrs[1]));
	buf_append_str(&tok, ".aGk");
	start = tok.len;
	CHECK(rsa_pss_sign(priv, tok.p, tok.len, sig, &sig_len, NULL) == 0);
	buf_append(&tok, ".", 1);
	b64url_append(&tok, sig, sig_len);
	CHECK(jws_check((const char *)tok.p, tok.len, pub, &parsed, &verified,
	    why, sizeof(why)) == 1);	/* the control: it is valid */
	CHECK(!jws_check((const char *)tok.p, start + 1, pub, &parsed,
	    &verified, why, sizeof(why)) && !parsed);
	CHECK(!jws_check((const char *)tok.p, start, pub, &parsed, &verified,
	    why, sizeof(why)) && !parsed);
out:
	buf_free(&tok);
	buf_free(&nb);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	json_decref(root);
}

int
main(void)
{
	if (crypto_init(NULL) != 0)
		return 2;
	RUN(jwe_vectors);
	RUN(jws_vectors);
	RUN(base64_transplanted);
	RUN(confusion);
	printf("jwe: %d vectors (%d decrypted, %d refused for alg/enc, "
	    "of which %d RSA1_5; %d refused otherwise, %d not five parts)\n",
	    n_jwe, n_jwe_decrypted, n_jwe_alg_refused, n_jwe_rsa1_5,
	    n_jwe_other_refused, n_jwe_not_compact);
	printf("jws: %d vectors (ps256: %d valid, %d invalid; %d refused by "
	    "jws_parse, of which %d alg none, %d hs256; %d PS256 by another "
	    "group's key)\n", n_jws, n_jws_ps256_valid, n_jws_ps256_invalid,
	    n_jws_refused, n_jws_none, n_jws_hs256, n_jws_other_key);
	printf("jws base64 (J10): %d vectors refused by alg, %d rebuilt as "
	    "PS256\n", n_jws_b64, n_jws_b64_rebuilt);
	return harness_end();
}
