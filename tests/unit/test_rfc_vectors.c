/*
 * Known answers from the RFCs (../shared/SECURITY-TESTS.md section 1):
 * K1-K16 and K18. The vectors are in tests/vectors/rfc/ (see its
 * README), one file per source section; arrays of strings there are the
 * RFC's lines, joined here.
 *
 * The content layers are deterministic given the CEK and IV, so they are
 * exact KATs through aead_encrypt/aead_decrypt. The RFC objects all use
 * key management we refuse (RSA1_5, RSA-OAEP with SHA-1, A128KW, ...),
 * so whole objects go through jwe_decrypt and must come back -1 with a
 * reason naming what was refused, before any RSA operation. K17 (the
 * Wycheproof anchor) is in test_wycheproof_jose.c.
 */
#include "harness.h"
#include "keys_fixture.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/jsonio.h"
#include "format/aead.h"
#include "format/crypto.h"
#include "format/jwe.h"
#include "format/jwk.h"
#include "format/jws.h"
#include "format/rsa.h"

#define VEC_DIR "tests/vectors/rfc/"

/* The reader's own key for the refusal tests: any RSA key will do, as
 * every refusal must come before an RSA operation. */
static EVP_PKEY *own_key;
static char own_kid[KID_SIZE];

static json_t *
load(const char *name)
{
	char path[512];
	json_error_t e;
	json_t *v;

	snprintf(path, sizeof(path), "%s%s", VEC_DIR, name);
	v = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	if (v == NULL) {
		fprintf(stderr, "cannot load %s: %s (line %d)\n", path, e.text,
		    e.line);
		harness_failed++;
		return NULL;
	}
	CHECKF(json_is_string(json_object_get(v, "source")),
	    "%s has no \"source\"", name);
	return v;
}

/* A string member, or an array of strings (the RFC's lines) joined.
 * Returns a malloc'd NUL-terminated string, or NULL when absent. */
static char *
str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key), *e;
	struct buf b = BUF_INIT;
	size_t i;

	if (json_is_string(v)) {
		buf_append(&b, json_string_value(v), json_string_length(v));
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (!json_is_string(e))
				goto bad;
			buf_append(&b, json_string_value(e),
			    json_string_length(e));
		}
	} else {
		goto bad;
	}
	if (buf_terminate(&b) != 0)
		goto bad;
	return (char *)b.p;
bad:
	fprintf(stderr, "vector member \"%s\" is missing or malformed\n",
	    key);
	harness_failed++;
	buf_free(&b);
	return NULL;
}

/*
 * The octets of a member: "<key>_octets" as an array of numbers when the
 * RFC prints them so, else "<key>" as base64url (string or lines).
 * Returns a malloc'd buffer (never NULL; empty on error, counted).
 */
static uint8_t *
bytes(const json_t *o, const char *key, size_t *len)
{
	char name[64];
	const json_t *arr, *e;
	uint8_t *out;
	char *s;
	long long n;
	size_t i;

	snprintf(name, sizeof(name), "%s_octets", key);
	arr = json_object_get(o, name);
	if (json_is_array(arr)) {
		out = malloc(json_array_size(arr) + 1);
		if (out == NULL)
			exit(2);
		json_array_foreach(arr, i, e)
			out[i] = (uint8_t)json_integer_value(e);
		*len = json_array_size(arr);
		/* Where the RFC prints both forms, they must agree. */
		if (json_object_get(o, key) != NULL &&
		    (s = str(o, key)) != NULL) {
			uint8_t *d = malloc(b64url_declen(strlen(s)) + 1);

			if (d == NULL)
				exit(2);
			n = b64url_decode(s, strlen(s), d);
			CHECKF(n >= 0 && (size_t)n == *len &&
			    memcmp(d, out, *len) == 0,
			    "\"%s\" and \"%s\" differ", key, name);
			free(d);
			free(s);
		}
		return out;
	}
	*len = 0;
	if ((s = str(o, key)) == NULL)
		return calloc(1, 1);
	out = malloc(b64url_declen(strlen(s)) + 1);
	if (out == NULL)
		exit(2);
	n = b64url_decode(s, strlen(s), out);
	CHECKF(n >= 0, "\"%s\" is not canonical base64url", key);
	*len = n < 0 ? 0 : (size_t)n;
	free(s);
	return out;
}

/* An RSA key from JWK members (n and e; with d also the private key and
 * its CRT values). No rsa_check: the RFC 7638 key is under 2048 bits. */
static EVP_PKEY *
rsa_from_jwk(const json_t *jwk)
{
	static const struct { const char *jwk, *param; } priv[] = {
		{ "d", OSSL_PKEY_PARAM_RSA_D },
		{ "p", OSSL_PKEY_PARAM_RSA_FACTOR1 },
		{ "q", OSSL_PKEY_PARAM_RSA_FACTOR2 },
		{ "dp", OSSL_PKEY_PARAM_RSA_EXPONENT1 },
		{ "dq", OSSL_PKEY_PARAM_RSA_EXPONENT2 },
		{ "qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1 },
	};
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *k = NULL;
	BIGNUM *bn[8] = { NULL };
	uint8_t *b;
	size_t len, i, nb = 0;
	int selection = EVP_PKEY_PUBLIC_KEY;

	if (bld == NULL)
		goto out;
	b = bytes(jwk, "n", &len);
	bn[nb] = BN_bin2bn(b, (int)len, NULL);
	free(b);
	if (bn[nb] == NULL || !OSSL_PARAM_BLD_push_BN(bld,
	    OSSL_PKEY_PARAM_RSA_N, bn[nb]))
		goto out;
	nb++;
	b = bytes(jwk, "e", &len);
	bn[nb] = BN_bin2bn(b, (int)len, NULL);
	free(b);
	if (bn[nb] == NULL || !OSSL_PARAM_BLD_push_BN(bld,
	    OSSL_PKEY_PARAM_RSA_E, bn[nb]))
		goto out;
	nb++;
	if (json_object_get(jwk, "d") != NULL) {
		selection = EVP_PKEY_KEYPAIR;
		for (i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
			b = bytes(jwk, priv[i].jwk, &len);
			bn[nb] = BN_bin2bn(b, (int)len, NULL);
			OPENSSL_clear_free(b, len);
			if (bn[nb] == NULL || !OSSL_PARAM_BLD_push_BN(bld,
			    priv[i].param, bn[nb]))
				goto out;
			nb++;
		}
	}
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &k, selection, params) != 1)
		k = NULL;
out:
	for (i = 0; i < nb; i++)
		BN_clear_free(bn[i]);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	CHECKF(k != NULL, "cannot build an RSA key from the JWK");
	ERR_clear_error();
	return k;
}

/*
 * The content layer as a KAT: encrypting pt gives exactly ct and tag,
 * decrypting gives pt back, and a flipped tag bit or a different AAD is
 * refused (so the comparison can fail).
 */
static void
content_kat(const char *what, const char *enc, const uint8_t *cek,
    size_t cek_len, const uint8_t *iv, size_t iv_len, const uint8_t *aad,
    size_t aad_len, const uint8_t *pt, size_t pt_len, const uint8_t *ct,
    size_t ct_len, const uint8_t *tag, size_t tag_len)
{
	const struct aead_alg *alg = aead_alg_by_name(enc);
	uint8_t *out, *back, t[AEAD_MAX_TAG], bad_tag[AEAD_MAX_TAG];
	uint8_t *bad_aad;
	size_t out_len = 0, back_len = 0;

	CHECKF(alg != NULL, "%s: aead_alg_by_name(%s)", what, enc);
	if (alg == NULL)
		return;
	CHECKF(cek_len == alg->key_len && iv_len == alg->iv_len &&
	    tag_len == alg->tag_len, "%s: CEK/IV/tag lengths %zu/%zu/%zu",
	    what, cek_len, iv_len, tag_len);
	if (cek_len != alg->key_len || iv_len != alg->iv_len ||
	    tag_len != alg->tag_len)
		return;
	out = malloc(pt_len + 16);
	back = malloc(ct_len + 1);
	bad_aad = malloc(aad_len + 1);
	if (out == NULL || back == NULL || bad_aad == NULL)
		exit(2);
	CHECKF(aead_encrypt(alg, cek, iv, aad, aad_len, pt, pt_len, out,
	    &out_len, t, NULL) == 0, "%s: aead_encrypt", what);
	CHECKF(out_len == ct_len && memcmp(out, ct, ct_len) == 0,
	    "%s: ciphertext differs (%zu bytes, expected %zu)", what, out_len,
	    ct_len);
	CHECKF(memcmp(t, tag, tag_len) == 0, "%s: tag differs", what);
	CHECKF(aead_decrypt(alg, cek, iv, iv_len, aad, aad_len, ct, ct_len,
	    tag, tag_len, back, &back_len) == 0 && back_len == pt_len &&
	    memcmp(back, pt, pt_len) == 0, "%s: aead_decrypt", what);
	memcpy(bad_tag, tag, tag_len);
	/* tag_len is alg->tag_len (checked above), never 0. */
	/* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign) */
	bad_tag[tag_len - 1] ^= 0x01;
	CHECKF(aead_decrypt(alg, cek, iv, iv_len, aad, aad_len, ct, ct_len,
	    bad_tag, tag_len, back, &back_len) == -1,
	    "%s: a flipped tag bit was accepted", what);
	if (aad_len > 0) {
		memcpy(bad_aad, aad, aad_len);
		bad_aad[0] ^= 0x01;
		CHECKF(aead_decrypt(alg, cek, iv, iv_len, bad_aad, aad_len, ct,
		    ct_len, tag, tag_len, back, &back_len) == -1,
		    "%s: another AAD was accepted", what);
	}
	free(out);
	free(back);
	free(bad_aad);
}

/* The content KAT of a vector file whose members are named plaintext
 * (or plaintext_b64 for raw octets), cek, iv, protected, aad, ciphertext,
 * tag, enc. The AAD is ASCII(protected), or ASCII(protected) "." ASCII(aad)
 * when there is an aad member (RFC 7516 5.1 step 14). */
static void
content_kat_of(const char *what, const json_t *v)
{
	struct buf aad = BUF_INIT;
	uint8_t *cek, *iv, *ct, *tag, *pt;
	size_t cek_len, iv_len, ct_len, tag_len, pt_len;
	char *prot, *a = NULL, *enc = str(v, "enc");

	cek = bytes(v, "cek", &cek_len);
	iv = bytes(v, "iv", &iv_len);
	ct = bytes(v, "ciphertext", &ct_len);
	tag = bytes(v, "tag", &tag_len);
	if (json_object_get(v, "plaintext_b64") != NULL) {
		pt = bytes(v, "plaintext_b64", &pt_len);
	} else {
		pt = (uint8_t *)str(v, "plaintext");
		pt_len = pt != NULL ? strlen((char *)pt) : 0;
	}
	prot = str(v, "protected");
	if (prot != NULL)
		buf_append_str(&aad, prot);
	if (json_object_get(v, "aad") != NULL && (a = str(v, "aad")) != NULL) {
		buf_append_str(&aad, ".");
		buf_append_str(&aad, a);
	}
	if (enc != NULL && pt != NULL)
		content_kat(what, enc, cek, cek_len, iv, iv_len, aad.p, aad.len,
		    pt, pt_len, ct, ct_len, tag, tag_len);
	free(cek);
	free(iv);
	free(ct);
	free(tag);
	free(pt);
	free(prot);
	free(a);
	free(enc);
	buf_free(&aad);
}

/*
 * Runs jwe_decrypt on obj (its ciphertext member copied, as the reader
 * decodes it in place) and checks that it refuses with a reason that
 * contains needle, before any cryptography.
 */
static void
expect_refused(const char *what, const json_t *obj, const char *needle)
{
	struct jwe_result res;
	char why[256], *ct;
	const char *s;
	size_t ct_len = 0;
	int rc;

	s = jsonio_str(obj, "ciphertext", &ct_len);
	ct = malloc(ct_len + 1);
	if (ct == NULL)
		exit(2);
	memcpy(ct, s != NULL ? s : "", s != NULL ? ct_len : 0);
	ct[s != NULL ? ct_len : 0] = '\0';
	why[0] = '\0';
	rc = rep_why_rc(jwe_decrypt(obj, ct, ct_len, own_key, own_kid, &res,
	    &t_rep), why, sizeof(why));
	CHECKF(rc == 65, "%s: jwe_decrypt returned %d, not 65", what, rc);
	CHECKF(why[0] != '\0' && strstr(why, needle) != NULL,
	    "%s: the reason \"%s\" does not name \"%s\"", what, why, needle);
	CHECKF(res.pt == NULL && res.pt_len == 0, "%s: plaintext released",
	    what);
	free(ct);
}

/* The reasons jwe_decrypt gives for a refused "alg" or "enc" (lib/format/jwe.c
 * check_header), quoting the name: "RSA-OAEP" must not match on
 * "RSA-OAEP-256" in the rest of the sentence. */
static const char *
why_alg(const char *alg)
{
	static char b[128];

	snprintf(b, sizeof(b), "key management \"%s\" is not accepted", alg);
	return b;
}

static const char *
why_enc(const char *enc)
{
	static char b[128];

	snprintf(b, sizeof(b), "content encryption \"%s\" is not accepted",
	    enc);
	return b;
}

/* A JWE compact serialization as the flattened JSON serialization (the
 * only JSON the reader takes besides the general one). */
static json_t *
compact_to_flattened(const char *compact)
{
	static const char *const names[] = { "protected", "encrypted_key",
		"iv", "ciphertext", "tag" };
	json_t *o = json_object();
	const char *p = compact, *dot;
	size_t i;

	for (i = 0; i < 5; i++) {
		dot = strchr(p, '.');
		if ((dot == NULL) != (i == 4))
			break;
		if (dot == NULL)
			dot = p + strlen(p);
		if (i != 1 || dot > p)	/* an empty key is simply absent */
			json_object_set_new(o, names[i],
			    json_stringn(p, (size_t)(dot - p)));
		p = dot + 1;
	}
	CHECKF(i == 5, "not a five-part compact JWE");
	return o;
}

/* The flattened and general JSON serializations of a single-recipient
 * vector file (members protected, encrypted_key, iv, ciphertext, tag,
 * optionally unprotected, aad). */
static json_t *
flattened_of(const json_t *v)
{
	static const char *const names[] = { "protected", "encrypted_key",
		"aad", "iv", "ciphertext", "tag" };
	json_t *o = json_object();
	char *s;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (json_object_get(v, names[i]) == NULL)
			continue;
		if ((s = str(v, names[i])) == NULL)
			continue;
		/* RFC 7520 5.12 has no protected header at all. */
		if (strcmp(names[i], "protected") != 0 || s[0] != '\0')
			json_object_set_new(o, names[i], json_string(s));
		free(s);
	}
	if (json_object_get(v, "unprotected") != NULL)
		json_object_set(o, "unprotected",
		    json_object_get(v, "unprotected"));
	return o;
}

static json_t *
general_of(const json_t *v)
{
	json_t *o = flattened_of(v), *r = json_object();

	json_object_set(r, "encrypted_key", json_object_get(o,
	    "encrypted_key"));
	json_object_del(o, "encrypted_key");
	json_object_set_new(o, "recipients", json_pack("[o]", r));
	return o;
}

/* The refusal of a single-recipient vector in both JSON serializations
 * (flattened and general); the compact one is checked by the callers. */
static void
refuse_all_forms(const char *what, const json_t *v, const char *needle)
{
	char label[128];
	json_t *o;

	o = flattened_of(v);
	snprintf(label, sizeof(label), "%s (flattened)", what);
	expect_refused(label, o, needle);
	json_decref(o);
	o = general_of(v);
	snprintf(label, sizeof(label), "%s (general)", what);
	expect_refused(label, o, needle);
	json_decref(o);
}

/* AES Key Wrap (RFC 3394) of cek under kek must give ek exactly: the
 * A128KW vectors are deterministic, which also proves their retyping. */
static void
aes_kw_kat(const char *what, const json_t *v)
{
	uint8_t *kek, *cek, *ek, out[64];
	size_t kek_len, cek_len, ek_len;
	int n = 0, m = 0, ok = 0;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_CIPHER *ciph = EVP_CIPHER_fetch(NULL, "AES-128-WRAP", NULL);

	kek = bytes(v, "kek", &kek_len);
	cek = bytes(v, "cek", &cek_len);
	ek = bytes(v, "encrypted_key", &ek_len);
	if (c != NULL && ciph != NULL && kek_len == 16 && cek_len + 8 <=
	    sizeof(out) && EVP_EncryptInit_ex2(c, ciph, kek, NULL, NULL) == 1 &&
	    EVP_EncryptUpdate(c, out, &n, cek, (int)cek_len) == 1 &&
	    EVP_EncryptFinal_ex(c, out + n, &m) == 1)
		ok = (size_t)n + (size_t)m == ek_len &&
		    memcmp(out, ek, ek_len) == 0;
	CHECKF(ok, "%s: AES-128 Key Wrap of the CEK differs from the "
	    "encrypted key", what);
	EVP_CIPHER_CTX_free(c);
	EVP_CIPHER_free(ciph);
	free(kek);
	free(cek);
	free(ek);
}

/* K1, K2: RFC 7518 B.1-B.3, the AES_CBC_HMAC_SHA2 family through one code
 * path: E||T exactly, P back. A hard-coded T_LEN, key split or AL
 * would break at least one of the three. */
static void
k1_k2_rfc7518_b(void)
{
	json_t *v = load("rfc7518-B-cbc-hmac.json"), *c;
	uint8_t *p, *iv, *a, *k, *e, *t;
	size_t pl, ivl, al, kl, el, tl, i;

	if (v == NULL)
		return;
	p = hex_decode(json_string_value(json_object_get(v, "P")), &pl);
	iv = hex_decode(json_string_value(json_object_get(v, "IV")), &ivl);
	a = hex_decode(json_string_value(json_object_get(v, "A")), &al);
	CHECK(pl == 128 && al == 42);
	json_array_foreach(json_object_get(v, "cases"), i, c) {
		k = hex_decode(json_string_value(json_object_get(c, "K")), &kl);
		e = hex_decode(json_string_value(json_object_get(c, "E")), &el);
		t = hex_decode(json_string_value(json_object_get(c, "T")), &tl);
		content_kat(json_string_value(json_object_get(c, "section")),
		    json_string_value(json_object_get(c, "enc")), k, kl, iv,
		    ivl, a, al, p, pl, e, el, t, tl);
		free(k);
		free(e);
		free(t);
	}
	CHECK(json_array_size(json_object_get(v, "cases")) == 3);
	free(p);
	free(iv);
	free(a);
	json_decref(v);
}

/* K3: RFC 7516 Appendix B, the step-by-step A128CBC-HS256 computation.
 * E and T through the library; then the RFC's own AL and key split,
 * recomputed with a plain HMAC over AAD || IV || E || AL, must give the
 * library's tag (the intermediate AL, seen through the final tag). */
static void
k3_rfc7516_b(void)
{
	json_t *v = load("rfc7516-B-a128cbc-hs256-computation.json");
	uint8_t *cek, *mk, *ek, *iv, *e, *al, *t, mac[EVP_MAX_MD_SIZE];
	size_t cek_len, mk_len, ek_len, iv_len, e_len, al_len, t_len, mac_len;
	struct buf in = BUF_INIT;
	char *prot, *pt;

	if (v == NULL)
		return;
	cek = bytes(v, "cek", &cek_len);
	mk = bytes(v, "mac_key", &mk_len);
	ek = bytes(v, "enc_key", &ek_len);
	iv = bytes(v, "iv", &iv_len);
	e = bytes(v, "ciphertext", &e_len);
	al = bytes(v, "al", &al_len);
	t = bytes(v, "tag", &t_len);
	prot = str(v, "protected");
	pt = str(v, "plaintext");
	if (prot == NULL || pt == NULL)
		goto out;
	CHECK(cek_len == 32 && mk_len == 16 && ek_len == 16 &&
	    memcmp(cek, mk, 16) == 0 && memcmp(cek + 16, ek, 16) == 0);
	content_kat("RFC 7516 B", "A128CBC-HS256", cek, cek_len, iv, iv_len,
	    (uint8_t *)prot, strlen(prot), (uint8_t *)pt, strlen(pt), e,
	    e_len, t, t_len);
	/* AL is the AAD length in bits, 64-bit big-endian: 51 * 8 = 408. */
	CHECK(al_len == 8 && strlen(prot) == 51 && al[6] == 1 && al[7] == 152);
	buf_append(&in, prot, strlen(prot));
	buf_append(&in, iv, iv_len);
	buf_append(&in, e, e_len);
	buf_append(&in, al, al_len);
	CHECK(crypto_hmac("SHA256", mk, mk_len, in.p, in.len, mac,
	    &mac_len, NULL) == 0 && mac_len == 32);
	CHECKF(t_len == 16 && memcmp(mac, t, 16) == 0,
	    "HMAC(MAC_KEY, AAD || IV || E || AL) truncated is not T");
out:
	buf_free(&in);
	free(cek);
	free(mk);
	free(ek);
	free(iv);
	free(e);
	free(al);
	free(t);
	free(prot);
	free(pt);
	json_decref(v);
}

/* The compact form of a single-recipient RFC 7516 appendix vector. */
static char *
compact_of(const json_t *v)
{
	static const char *const names[] = { "protected", "encrypted_key",
		"iv", "ciphertext", "tag" };
	struct buf b = BUF_INIT;
	char *s;
	size_t i;

	for (i = 0; i < 5; i++) {
		if ((s = str(v, names[i])) == NULL)
			continue;
		if (i > 0)
			buf_append_str(&b, ".");
		buf_append_str(&b, s);
		free(s);
	}
	buf_terminate(&b);
	return (char *)b.p;
}

/* The content KAT of an RFC 7516 A.x vector, then the refusal of the
 * whole object built from its compact serialization (J2). */
static void
rfc7516_single(const char *file, const char *what)
{
	json_t *v = load(file), *o;
	char *compact, *alg;

	if (v == NULL)
		return;
	content_kat_of(what, v);
	compact = compact_of(v);
	alg = str(v, "refused_alg");
	o = compact_to_flattened(compact);
	if (alg != NULL)
		expect_refused(what, o, why_alg(alg));
	json_decref(o);
	free(compact);
	free(alg);
	json_decref(v);
}

/* K4: RFC 7516 A.1, RSA-OAEP (SHA-1) + A256GCM: the GCM content layer is
 * exact; the object is refused, as RSA-OAEP is not RSA-OAEP-256. */
static void
k4_rfc7516_a1(void)
{
	rfc7516_single("rfc7516-A.1-rsa-oaep-a256gcm.json", "RFC 7516 A.1");
}

/* K5: RFC 7516 A.2, RSA1_5 + A128CBC-HS256. */
static void
k5_rfc7516_a2(void)
{
	rfc7516_single("rfc7516-A.2-rsa1_5-a128cbc-hs256.json",
	    "RFC 7516 A.2");
}

/* K6: RFC 7516 A.3, A128KW + A128CBC-HS256: fully deterministic, the
 * key wrap included. */
static void
k6_rfc7516_a3(void)
{
	json_t *v = load("rfc7516-A.3-a128kw-a128cbc-hs256.json");

	if (v == NULL)
		return;
	aes_kw_kat("RFC 7516 A.3", v);
	json_decref(v);
	rfc7516_single("rfc7516-A.3-a128kw-a128cbc-hs256.json",
	    "RFC 7516 A.3");
}

/* K7: RFC 7516 A.4 (general, two recipients, shared unprotected header)
 * and A.5 (flattened) as parser fixtures. Every recipient is checked
 * before any cryptography, so A.4 stops at the first one (RSA1_5). The
 * protected header is the AAD as written: the shared tag is a KAT. */
static void
k7_rfc7516_a4_a5(void)
{
	json_t *v, *jwe, *o, *h;
	char why_kid[128];

	if ((v = load("rfc7516-A.4-general-two-recipients.json")) != NULL) {
		jwe = json_object_get(v, "jwe");
		expect_refused("RFC 7516 A.4", jwe, why_alg("RSA1_5"));
		/* Without the first recipient, the second's alg is next. */
		o = json_deep_copy(jwe);
		json_array_remove(json_object_get(o, "recipients"), 0);
		expect_refused("RFC 7516 A.4, second recipient only", o,
		    why_alg("A128KW"));
		json_decref(o);
		json_object_set(v, "protected", json_object_get(jwe,
		    "protected"));
		json_object_set(v, "iv", json_object_get(jwe, "iv"));
		json_object_set(v, "ciphertext", json_object_get(jwe,
		    "ciphertext"));
		json_object_set(v, "tag", json_object_get(jwe, "tag"));
		content_kat_of("RFC 7516 A.4", v);
		json_decref(v);
	}
	if ((v = load("rfc7516-A.5-flattened.json")) != NULL) {
		jwe = json_object_get(v, "jwe");
		expect_refused("RFC 7516 A.5", jwe, why_alg("A128KW"));
		/* Variant 1: our alg; the enc is refused next. */
		o = json_deep_copy(jwe);
		h = json_object_get(o, "header");
		json_object_set_new(h, "alg", json_string(JWE_ALG));
		expect_refused("RFC 7516 A.5, alg RSA-OAEP-256", o,
		    why_enc("A128CBC-HS256"));
		/* Variant 2: our enc too; the key id "7" is not ours. */
		json_object_set(o, "protected", json_object_get(v,
		    "variant_protected"));
		snprintf(why_kid, sizeof(why_kid), "for key 7; your key is %s",
		    own_kid);
		expect_refused("RFC 7516 A.5, our alg and enc", o, why_kid);
		json_decref(o);
		json_object_set(v, "protected", json_object_get(jwe,
		    "protected"));
		json_object_set(v, "iv", json_object_get(jwe, "iv"));
		json_object_set(v, "ciphertext", json_object_get(jwe,
		    "ciphertext"));
		json_object_set(v, "tag", json_object_get(jwe, "tag"));
		content_kat_of("RFC 7516 A.5", v);
		json_decref(v);
	}
}

/*
 * K8: RFC 7520 section 6, a PS256 JWS nested in an RSA-OAEP + A128GCM
 * JWE: the closest public analogue of our design. The inner JWS (Figure
 * 228) is signed with the 2048-bit key of Figure 224 (hobbiton.example),
 * PS256 with salt 32: it parses and verifies with our reader. The GCM
 * layer is exact with the given CEK and IV; the outer JWE (RSA-OAEP with
 * SHA-1, 4096-bit key of Figure 84) is refused in all three forms.
 */
static void
k8_rfc7520_6(void)
{
	json_t *v = load("rfc7520-6-nested-ps256-rsa-oaep-a128gcm.json");
	json_t *s, *e, *o;
	struct buf compact = BUF_INIT;
	struct jws j;
	EVP_PKEY *pub = NULL;
	char why[200], *ph, *pl, *sig, *pj, *c2;
	uint8_t *payload;
	size_t payload_len;

	if (v == NULL)
		return;
	s = json_object_get(v, "jws");
	e = json_object_get(v, "jwe");
	ph = str(s, "protected_b64");
	pl = str(s, "payload_b64");
	sig = str(s, "signature");
	pj = str(s, "payload_json");
	if (ph == NULL || pl == NULL || sig == NULL || pj == NULL)
		goto out;
	buf_append_str(&compact, ph);
	buf_append_str(&compact, ".");
	buf_append_str(&compact, pl);
	buf_append_str(&compact, ".");
	buf_append_str(&compact, sig);
	buf_terminate(&compact);

	/* The content layer: the JWS compact string is the plaintext. */
	json_object_set_new(e, "plaintext", json_string((char *)compact.p));
	content_kat_of("RFC 7520 6 (A128GCM)", e);

	pub = rsa_from_jwk(json_object_get(s, "key"));
	if (pub == NULL)
		goto out;
	CHECK(rsa_size(pub) == 256);
	c2 = strdup((char *)compact.p);
	CHECKF(rep_why_rc(jws_parse(c2, strlen(c2), &j, &t_rep), why,
	    sizeof(why)) == 0,
	    "RFC 7520 6: jws_parse refused Figure 228: %s", why);
	if (j.header != NULL) {
		CHECK(jws_verify(&j, pub) == 1);
		CHECK(jws_decode_payload(&j, &payload, &payload_len) == 0 &&
		    payload_len == strlen(pj) &&
		    memcmp(payload, pj, payload_len) == 0);
		jws_free(&j);
	}
	free(c2);
	/* One flipped signature bit must not verify. */
	c2 = strdup((char *)compact.p);
	c2[strlen(c2) - 3] = c2[strlen(c2) - 3] == 'A' ? 'B' : 'A';
	if (rep_why_rc(jws_parse(c2, strlen(c2), &j, &t_rep), why,
	    sizeof(why)) == 0) {
		CHECK(jws_verify(&j, pub) == 0);
		jws_free(&j);
	}
	free(c2);

	/* Figures 236-238: the outer JWE, refused (RSA-OAEP is SHA-1). */
	refuse_all_forms("RFC 7520 6", e, why_alg("RSA-OAEP"));
	c2 = compact_of(e);
	o = compact_to_flattened(c2);
	expect_refused("RFC 7520 6 (compact, Figure 236)", o,
	    why_alg("RSA-OAEP"));
	json_decref(o);
	free(c2);
out:
	EVP_PKEY_free(pub);
	buf_free(&compact);
	free(ph);
	free(pl);
	free(sig);
	free(pj);
	json_decref(v);
}

/* K9: RFC 7520 4.2, the PS384 example (2048-bit key of Figure 3): it
 * verifies as PS384 with salt 48, not as PS256, and our inner-JWS parser
 * refuses it (PS256 only). The payload holds U+2019. */
static void
k9_rfc7520_4_2(void)
{
	json_t *v = load("rfc7520-4.2-ps384.json");
	struct buf si = BUF_INIT, compact = BUF_INIT;
	EVP_PKEY *pub = NULL;
	uint8_t *sig, *payload;
	size_t sig_len, payload_len;
	char *ph, *pl, *p, *sigs, why[200];
	struct jws j;

	if (v == NULL)
		return;
	ph = str(v, "protected_b64");
	pl = str(v, "payload_b64");
	p = str(v, "payload");
	sigs = str(v, "signature");
	sig = bytes(v, "signature", &sig_len);
	payload = bytes(v, "payload_b64", &payload_len);
	if (ph == NULL || pl == NULL || p == NULL || sigs == NULL)
		goto out;
	CHECK(payload_len == strlen(p) && memcmp(payload, p, payload_len) == 0);
	CHECK(strstr(p, "\xe2\x80\x99") != NULL);
	buf_append_str(&si, ph);
	buf_append_str(&si, ".");
	buf_append_str(&si, pl);
	pub = rsa_from_jwk(json_object_get(v, "key"));
	if (pub == NULL)
		goto out;
	CHECK(rsa_pss_verify_md(pub, "SHA384", 48, si.p, si.len, sig,
	    sig_len) == 1);
	CHECK(rsa_pss_verify(pub, si.p, si.len, sig, sig_len) == 0);
	CHECK(rsa_pss_verify_md(pub, "SHA384", 32, si.p, si.len, sig,
	    sig_len) == 0);
	sig[sig_len / 2] ^= 0x01;
	CHECK(rsa_pss_verify_md(pub, "SHA384", 48, si.p, si.len, sig,
	    sig_len) == 0);
	buf_append(&compact, si.p, si.len);
	buf_append_str(&compact, ".");
	buf_append_str(&compact, sigs);
	CHECK(rep_why_rc(jws_parse((char *)compact.p, compact.len, &j, &t_rep),
	    why, sizeof(why)) == 65 && strstr(why, "PS256") != NULL);
out:
	EVP_PKEY_free(pub);
	buf_free(&si);
	buf_free(&compact);
	free(ph);
	free(pl);
	free(p);
	free(sigs);
	free(sig);
	free(payload);
	json_decref(v);
}

/* K10: RFC 7520 5.2, RSA-OAEP (SHA-1) + A256GCM. K11: 5.1, RSA1_5 +
 * A128CBC-HS256. Content exact; objects refused (compact, general,
 * flattened). The plaintext holds U+2013 dashes. */
static void
rfc7520_single(const char *file, const char *what)
{
	json_t *v = load(file), *o;
	char *alg, *c;

	if (v == NULL)
		return;
	content_kat_of(what, v);
	if ((alg = str(v, "refused_alg")) != NULL) {
		refuse_all_forms(what, v, why_alg(alg));
		if (json_object_get(v, "unprotected") == NULL &&
		    json_object_get(v, "aad") == NULL) {
			c = compact_of(v);
			o = compact_to_flattened(c);
			expect_refused(what, o, why_alg(alg));
			json_decref(o);
			free(c);
		}
	}
	free(alg);
	json_decref(v);
}

static void
k10_rfc7520_5_2(void)
{
	rfc7520_single("rfc7520-5.2-rsa-oaep-a256gcm.json", "RFC 7520 5.2");
}

static void
k11_rfc7520_5_1(void)
{
	rfc7520_single("rfc7520-5.1-rsa1_5-a128cbc-hs256.json",
	    "RFC 7520 5.1");
}

/*
 * K12: RFC 7520 5.9-5.13. 5.9 (zip DEF): alg A128KW is refused first;
 * with alg and enc made ours, zip is what is refused (J7), without
 * inflating anything. 5.10 (aad member: AAD = protected "." aad),
 * 5.11 (alg in the shared unprotected header), 5.12 (no protected
 * header; AAD empty), 5.13 (three recipients, RSA1_5 first): content
 * exact, objects refused with the reason asserted. The A128KW key wraps
 * (5.9-5.12) are exact too.
 */
static void
k12_rfc7520_5_9_to_5_13(void)
{
	json_t *v, *o;
	char *hdr;
	struct buf b = BUF_INIT;

	if ((v = load("rfc7520-5.9-zip-def.json")) != NULL) {
		content_kat_of("RFC 7520 5.9 (compressed plaintext)", v);
		aes_kw_kat("RFC 7520 5.9", v);
		refuse_all_forms("RFC 7520 5.9", v, why_alg("A128KW"));
		/* Only the protected header changes: alg and enc are ours,
		 * zip stays; nothing else is needed to reach the zip check. */
		o = flattened_of(v);
		hdr = "{\"alg\":\"RSA-OAEP-256\",\"kid\":\"81b20965-8332-43d9-"
		    "a468-82160ad91ac8\",\"enc\":\"A256GCM\",\"zip\":\"DEF\"}";
		b64url_append(&b, (const uint8_t *)hdr, strlen(hdr));
		buf_terminate(&b);
		json_object_set_new(o, "protected", json_string((char *)b.p));
		expect_refused("RFC 7520 5.9, alg and enc ours (J7)", o,
		    "(\"zip\") are not accepted");
		json_decref(o);
		buf_free(&b);
		json_decref(v);
	}
	if ((v = load("rfc7520-5.10-aad.json")) != NULL) {
		content_kat_of("RFC 7520 5.10 (AAD protected.aad)", v);
		aes_kw_kat("RFC 7520 5.10", v);
		refuse_all_forms("RFC 7520 5.10", v, why_alg("A128KW"));
		json_decref(v);
	}
	if ((v = load("rfc7520-5.11-unprotected.json")) != NULL) {
		content_kat_of("RFC 7520 5.11", v);
		aes_kw_kat("RFC 7520 5.11", v);
		refuse_all_forms("RFC 7520 5.11", v, why_alg("A128KW"));
		json_decref(v);
	}
	if ((v = load("rfc7520-5.12-content-only.json")) != NULL) {
		content_kat_of("RFC 7520 5.12 (empty AAD)", v);
		aes_kw_kat("RFC 7520 5.12", v);
		/* Our reader requires a protected header: that comes first. */
		refuse_all_forms("RFC 7520 5.12", v, "\"protected\"");
		/* With a protected header added, the alg is refused next. */
		o = flattened_of(v);
		json_object_set_new(o, "protected",
		    json_string("eyJ6eloiOiJ6In0"));	/* {"zzZ":"z"} */
		expect_refused("RFC 7520 5.12 + protected", o,
		    why_alg("A128KW"));
		json_decref(o);
		json_decref(v);
	}
	if ((v = load("rfc7520-5.13-three-recipients.json")) != NULL) {
		content_kat_of("RFC 7520 5.13", v);
		o = json_object();
		json_object_set(o, "recipients", json_object_get(v,
		    "recipients"));
		json_object_set(o, "unprotected", json_object_get(v,
		    "unprotected"));
		json_object_set_new(o, "protected", json_string(
		    json_string_value(json_object_get(v, "protected"))));
		json_object_set_new(o, "iv", json_string(json_string_value(
		    json_object_get(v, "iv"))));
		hdr = str(v, "ciphertext");
		json_object_set_new(o, "ciphertext", json_string(hdr));
		free(hdr);
		json_object_set_new(o, "tag", json_string(json_string_value(
		    json_object_get(v, "tag"))));
		/* The first recipient's encrypted_key is the RFC's lines. */
		hdr = str(json_array_get(json_object_get(v, "recipients"), 0),
		    "encrypted_key");
		json_object_set_new(json_array_get(json_object_get(o,
		    "recipients"), 0), "encrypted_key", json_string(hdr));
		free(hdr);
		expect_refused("RFC 7520 5.13", o, why_alg("RSA1_5"));
		json_decref(o);
		json_decref(v);
	}
}

/* K13: RFC 7638 3.1, the thumbprint of the example RSA key (2048-bit
 * modulus, e = 65537). A modulus one bit off gives another. */
static void
k13_rfc7638_3_1(void)
{
	json_t *v = load("rfc7638-3.1-thumbprint.json"), *jwk;
	EVP_PKEY *k;
	char kid[KID_SIZE], *n;
	const char *want;
	size_t len;

	if (v == NULL)
		return;
	jwk = json_object_get(v, "jwk");
	want = json_string_value(json_object_get(v, "thumbprint"));
	if ((k = rsa_from_jwk(jwk)) != NULL) {
		CHECK(jwk_thumbprint(k, kid, NULL) == 0);
		CHECKF(want != NULL && strcmp(kid, want) == 0,
		    "thumbprint %s, expected %s", kid, want ? want : "?");
		CHECK(jwk_is_kid(kid, strlen(kid)));
		EVP_PKEY_free(k);
	}
	/* The first character of n: '0' (0xd2...) becomes '1' (0xd6...). */
	n = str(jwk, "n");
	if (n != NULL) {
		len = strlen(n);
		n[0] = n[0] == '0' ? '1' : '0';
		json_object_set_new(jwk, "n", json_stringn(n, len));
		if ((k = rsa_from_jwk(jwk)) != NULL) {
			CHECK(jwk_thumbprint(k, kid, NULL) == 0 &&
			    want != NULL &&
			    strcmp(kid, want) != 0);
			EVP_PKEY_free(k);
		}
		free(n);
	}
	json_decref(v);
}

/* Runs jws_parse on a compact string and expects a refusal whose reason
 * contains needle. */
static void
jws_refused(const char *what, const char *compact, const char *needle)
{
	char *c = strdup(compact), why[200];
	struct jws j;
	int rc;

	why[0] = '\0';
	rc = rep_why_rc(jws_parse(c, strlen(c), &j, &t_rep), why, sizeof(why));
	CHECKF(rc == 65, "%s: jws_parse accepted it", what);
	if (rc == 0)
		jws_free(&j);
	CHECKF(strstr(why, needle) != NULL, "%s: reason \"%s\" lacks \"%s\"",
	    what, why, needle);
	free(c);
}

/* K14: RFC 7515 A.5, the unsecured JWS (alg none, empty signature): the
 * inner-JWS parser refuses it (J1). The A.1 HS256 vector is in
 * rfc7515-A.1-hs256.json for the server's JWT code (a later issue). */
static void
k14_rfc7515_a5(void)
{
	json_t *v = load("rfc7515-A.5-none.json");
	char *c;

	if (v == NULL)
		return;
	if ((c = str(v, "compact")) != NULL)
		jws_refused("RFC 7515 A.5", c, "PS256");
	free(c);
	json_decref(v);
}

/* K15: RFC 7797 4.1 (HS256) and 4.2 (b64 false, crit b64, detached
 * payload): refused. The 4.2 variant with alg PS256 reaches the b64/crit
 * check itself (J6). */
static void
k15_rfc7797(void)
{
	json_t *v;
	char *c, *p, *s;
	struct buf b = BUF_INIT;

	if ((v = load("rfc7797-4.1-b64-true.json")) != NULL) {
		if ((c = str(v, "compact")) != NULL)
			jws_refused("RFC 7797 4.1", c, "PS256");
		free(c);
		json_decref(v);
	}
	if ((v = load("rfc7797-4.2-b64-false.json")) != NULL) {
		if ((c = str(v, "compact_detached")) != NULL)
			jws_refused("RFC 7797 4.2", c, "PS256");
		free(c);
		p = str(v, "variant_protected");
		s = str(v, "signature");
		if (p != NULL && s != NULL) {
			/* Detached, and with the unencoded payload in place. */
			buf_append_str(&b, p);
			buf_append_str(&b, "..");
			buf_append_str(&b, s);
			buf_terminate(&b);
			jws_refused("RFC 7797 4.2, alg PS256, detached",
			    (char *)b.p, "crit");
			/* The unencoded payload "$.02" holds a '.': it cannot
			 * even be a compact JWS (RFC 7797 5.2). */
			buf_clear(&b);
			buf_append_str(&b, p);
			buf_append_str(&b, ".$.02.");
			buf_append_str(&b, s);
			buf_terminate(&b);
			jws_refused("RFC 7797 4.2, alg PS256, $.02",
			    (char *)b.p, "three parts");
			/* With a payload in place, still b64/crit. */
			buf_clear(&b);
			buf_append_str(&b, p);
			buf_append_str(&b, ".JC4wMg.");
			buf_append_str(&b, s);
			buf_terminate(&b);
			jws_refused("RFC 7797 4.2, alg PS256, payload",
			    (char *)b.p, "b64");
		}
		buf_free(&b);
		free(p);
		free(s);
		json_decref(v);
	}
}

/* K16: RFC 7519 A.2, a nested JWT (RS256 JWS inside RSA1_5 +
 * A128CBC-HS256, cty JWT): refused for its alg. */
static void
k16_rfc7519_a2(void)
{
	json_t *v = load("rfc7519-A.2-nested-jwt.json"), *o;
	char *c;

	if (v == NULL)
		return;
	if ((c = str(v, "compact")) != NULL) {
		o = compact_to_flattened(c);
		expect_refused("RFC 7519 A.2", o, why_alg("RSA1_5"));
		json_decref(o);
	}
	free(c);
	json_decref(v);
}

/*
 * K18: panva/jose's RSA-OAEP-256 + A128CBC-HS256 recipe (2048-bit key):
 * a second, independent RSA-OAEP-256 vector. The key layer unwraps with
 * rsa_oaep_decrypt (our RSA-OAEP-256), the content decrypts with the
 * unwrapped CEK; the whole object is refused for its enc, in all three
 * forms, although it is addressed to our key.
 */
static void
k18_panva_rsa_oaep_256(void)
{
	json_t *v = load("panva-jose-ml-rsa-oaep-256-a128cbc-hs256.json"), *o;
	EVP_PKEY *k = NULL, *saved_key = own_key;
	uint8_t *ek, *iv, *ct, *tag, cek[RSA_MAX_BYTES], *pt = NULL;
	size_t ek_len, iv_len, ct_len, tag_len, cek_len = 0, pt_len = 0;
	char *prot, *plain, *c, saved_kid[KID_SIZE];
	const struct aead_alg *alg = aead_alg_by_name("A128CBC-HS256");

	if (v == NULL)
		return;
	ek = bytes(v, "encrypted_key", &ek_len);
	iv = bytes(v, "iv", &iv_len);
	ct = bytes(v, "ciphertext", &ct_len);
	tag = bytes(v, "tag", &tag_len);
	prot = str(v, "protected");
	plain = str(v, "plaintext");
	if ((k = rsa_from_jwk(json_object_get(v, "key"))) == NULL ||
	    prot == NULL || plain == NULL)
		goto out;
	CHECK(rsa_size(k) == 256);
	CHECK(rsa_oaep_decrypt(k, ek, ek_len, cek, sizeof(cek),
	    &cek_len) == 0 && cek_len == 32);
	pt = malloc(ct_len + 1);
	if (pt == NULL)
		exit(2);
	CHECK(aead_decrypt(alg, cek, iv, iv_len, (uint8_t *)prot,
	    strlen(prot), ct, ct_len, tag, tag_len, pt, &pt_len) == 0 &&
	    pt_len == strlen(plain) && memcmp(pt, plain, pt_len) == 0);
	/* The unwrapped CEK makes the content layer an exact KAT too. */
	content_kat("panva/jose ml", "A128CBC-HS256", cek, cek_len, iv,
	    iv_len, (uint8_t *)prot, strlen(prot), (uint8_t *)plain,
	    strlen(plain), ct, ct_len, tag, tag_len);
	ek[ek_len / 2] ^= 0x01;
	CHECK(rsa_oaep_decrypt(k, ek, ek_len, cek, sizeof(cek),
	    &cek_len) == -1);

	/* The whole object, addressed to this key: refused for its enc. */
	memcpy(saved_kid, own_kid, KID_SIZE);
	CHECK(jwk_thumbprint(k, own_kid, NULL) == 0);
	own_key = k;
	refuse_all_forms("panva/jose ml", v, why_enc("A128CBC-HS256"));
	c = compact_of(v);
	o = compact_to_flattened(c);
	expect_refused("panva/jose ml (compact)", o,
	    why_enc("A128CBC-HS256"));
	json_decref(o);
	free(c);
	own_key = saved_key;
	memcpy(own_kid, saved_kid, KID_SIZE);
out:
	OPENSSL_cleanse(cek, sizeof(cek));
	EVP_PKEY_free(k);
	free(ek);
	free(iv);
	free(ct);
	free(tag);
	free(pt);
	free(prot);
	free(plain);
	json_decref(v);
}

static int
setup(void)
{
	if (crypto_init(NULL) != 0)
		return -1;
	own_key = fixture_private("alice");
	fixture_kid(own_key, own_kid);
	return 0;
}

int
main(void)
{
	if (setup() != 0)
		return 1;
	RUN(k1_k2_rfc7518_b);
	RUN(k3_rfc7516_b);
	RUN(k4_rfc7516_a1);
	RUN(k5_rfc7516_a2);
	RUN(k6_rfc7516_a3);
	RUN(k7_rfc7516_a4_a5);
	RUN(k8_rfc7520_6);
	RUN(k9_rfc7520_4_2);
	RUN(k10_rfc7520_5_2);
	RUN(k11_rfc7520_5_1);
	RUN(k12_rfc7520_5_9_to_5_13);
	RUN(k13_rfc7638_3_1);
	RUN(k14_rfc7515_a5);
	RUN(k15_rfc7797);
	RUN(k16_rfc7519_a2);
	RUN(k18_panva_rsa_oaep_256);
	EVP_PKEY_free(own_key);
	return harness_end();
}
