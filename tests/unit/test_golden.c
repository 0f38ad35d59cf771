/*
 * Golden vectors of our own (SECURITY-TESTS.md section 1, "Own golden
 * vectors"). The test hooks pin the content key, the IV and, for signed
 * messages, the message id and the time; the envelope message_seal
 * writes is then byte-exact apart from each recipient's "encrypted_key"
 * (RSA-OAEP is randomised) and, when signed, the PS256 signature inside
 * the ciphertext (PSS is randomised too).
 *
 * Unsigned vectors: the whole envelope is compared, "encrypted_key"
 * masked. Signed vectors: the envelope is compared with "encrypted_key",
 * "ciphertext" and "tag" masked (so the protected header and the IV),
 * and the inner JWS, decrypted with the known content key, is compared
 * with its signature masked (so its header and payload, byte for byte).
 *
 * The files live in tests/vectors/golden/ (see its README). The test
 * runs from the project root; E2E_GOLDEN_WRITE=1 writes the files
 * instead of comparing with them.
 */
#include "harness.h"
#include "keys_fixture.h"

#include <openssl/evp.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/jsonio.h"
#include "format/aead.h"
#include "format/crypto.h"
#include "format/jwe.h"
#include "format/jwk.h"
#include "format/jws.h"
#include "format/message.h"
#include "format/rsa.h"

#define GOLDEN_DIR "tests/vectors/golden"

#define PH_EK "@ENCRYPTED_KEY@"
#define PH_CT "@CIPHERTEXT@"
#define PH_TAG "@TAG@"
#define PH_SIG "@SIGNATURE@"

/* The fixed inputs (also in tests/vectors/golden/README). */
#define GOLDEN_IAT 1700000000
#define PATTERN_LEN 1000

/* Key ids as jwcrypto 1.1 computes them (JWK.thumbprint()), not as
 * lib/format/jwk.c does: the golden files must hold the standard kids. */
/* Python: base64url(bytes(range(0x70, 0x80))). */
#define GOLDEN_JTI "cHFyc3R1dnd4eXp7fH1-fw"
/* Python: base64url(sha256(b"e2e-chat CEK commitment v1\0" + CEK32)). */
#define GOLDEN_GCM_COMMIT "8Df1qw7uOu136IzEZJ_DM6wUeqLL1FptILBTwDq_yKI"
#define GOLDEN_IV16 "EBESExQVFhcYGRobHB0eHw"
#define GOLDEN_IV12 "EBESExQVFhcYGRob"

enum { PT_EMPTY, PT_HELLO, PT_PATTERN };
static const char *const pt_names[] = { "empty", "hello", "pattern1000" };

struct vec {
	const char *enc;
	int nr;		/* 1: bob; 2: carol, bob */
	int pt;
	int sign;	/* signed by alice */
	int names;	/* signed with the names (sub, aud_names) */
};

static const struct vec vectors[] = {
	{ "A256CBC-HS512", 1, PT_HELLO, 0, 0 },
	{ "A256CBC-HS512", 1, PT_PATTERN, 0, 0 },
	{ "A256CBC-HS512", 2, PT_HELLO, 0, 0 },
	{ "A256CBC-HS512", 2, PT_PATTERN, 0, 0 },
	{ "A256GCM", 1, PT_EMPTY, 0, 0 },
	{ "A256GCM", 1, PT_HELLO, 0, 0 },
	{ "A256GCM", 1, PT_PATTERN, 0, 0 },
	{ "A256GCM", 2, PT_EMPTY, 0, 0 },
	{ "A256GCM", 2, PT_HELLO, 0, 0 },
	{ "A256GCM", 2, PT_PATTERN, 0, 0 },
	{ "A256CBC-HS512", 2, PT_HELLO, 1, 0 },
	{ "A256GCM", 2, PT_HELLO, 1, 0 },
	{ "A256CBC-HS512", 1, PT_PATTERN, 1, 0 },
	/* The names (issue 8): alice to carol by name and to bob's key
	 * given as a file (""). The vectors above, without names, are what
	 * the previous version wrote, and what is written still when the
	 * sender's name is unknown. */
	{ "A256CBC-HS512", 2, PT_HELLO, 1, 1 },
};

/* The names of the named vectors, in the order of recipients(). */
#define GOLDEN_SENDER "alice"
static const char *const golden_rnames[2] = { "carol", "" };

static EVP_PKEY *k_alice, *k_bob, *k_carol;
static char kid_alice[KID_SIZE], kid_bob[KID_SIZE], kid_carol[KID_SIZE];
static int write_mode;

static void
fixed_cek(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(0xa0 + i);
}

static void
fixed_iv(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(0x10 + i);
}

static void
fixed_jti(uint8_t *p)
{
	size_t i;

	for (i = 0; i < 16; i++)
		p[i] = (uint8_t)(0x70 + i);
}

static void
plaintext(int which, struct buf *out)
{
	size_t i;

	buf_clear(out);
	if (which == PT_HELLO) {
		buf_append_str(out, "hello");
	} else if (which == PT_PATTERN) {
		for (i = 0; i < PATTERN_LEN; i++) {
			uint8_t c = (uint8_t)(i * 131 + 7);

			buf_append(out, &c, 1);
		}
	}
}

static void
recipients(int nr, struct jwe_recipient *r)
{
	memset(r, 0, 2 * sizeof(*r));
	if (nr == 1) {
		r[0].pub = k_bob;
		memcpy(r[0].kid, kid_bob, KID_SIZE);
	} else {
		r[0].pub = k_carol;
		memcpy(r[0].kid, kid_carol, KID_SIZE);
		r[1].pub = k_bob;
		memcpy(r[1].kid, kid_bob, KID_SIZE);
	}
}

/* Equal contents; an empty buffer may have no memory at all. */
static int
eq(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->p, b->p, a->len) == 0);
}

static void
unpin(void)
{
	static const uint8_t none[1];

	crypto_test_set_random(none, 0);
	crypto_test_set_now(0);
}

/* Seals v with the fixed content key, IV, message id and time. */
static int
seal_fixed(const struct vec *v, struct buf *out)
{
	const struct aead_alg *enc = jwe_enc_by_name(v->enc);
	struct jwe_recipient r[2];
	struct seal_opts o;
	struct buf pt = BUF_INIT;
	struct sink s = sink_buf(out);
	uint8_t rnd[16 + AEAD_MAX_KEY + AEAD_MAX_IV];
	size_t n = 0;
	int rc;

	if (v->sign) {
		fixed_jti(rnd);
		n = 16;
	}
	fixed_cek(rnd + n, enc->key_len);
	n += enc->key_len;
	fixed_iv(rnd + n, enc->iv_len);
	n += enc->iv_len;
	recipients(v->nr, r);
	memset(&o, 0, sizeof(o));
	o.enc = enc;
	o.r = r;
	o.nr = (size_t)v->nr;
	o.signer = v->sign ? k_alice : NULL;
	o.signer_kid = v->sign ? kid_alice : NULL;
	o.sender_name = v->names ? GOLDEN_SENDER : NULL;
	o.recipient_names = v->names ? golden_rnames : NULL;
	plaintext(v->pt, &pt);
	buf_clear(out);
	crypto_test_set_random(rnd, n);
	crypto_test_set_now(GOLDEN_IAT);
	rc = message_seal(&o, pt.p, pt.len, &s, NULL);
	unpin();
	buf_free(&pt);
	return rc;
}

static void
vec_name(const struct vec *v, const char *ext, char *out, size_t size)
{
	snprintf(out, size, "%s/%s%s-%dr-%s.%s", GOLDEN_DIR,
	    v->names ? "signed-names-" : v->sign ? "signed-" : "",
	    strcmp(v->enc, "A256GCM") == 0 ? "a256gcm" : "a256cbc-hs512",
	    v->nr, pt_names[v->pt], ext);
}

/* Replaces the value of every member "name" (a base64url string, so no
 * escapes) with ph. Returns the number of values replaced. */
static int
mask(const struct buf *in, const char *name, const char *ph,
    struct buf *out)
{
	char key[64];
	size_t klen, i = 0;
	const uint8_t *q, *e;
	int n = 0;

	snprintf(key, sizeof(key), "\"%s\":\"", name);
	klen = strlen(key);
	buf_clear(out);
	while (i < in->len) {
		q = memmem(in->p + i, in->len - i, key, klen);
		if (q == NULL)
			break;
		q += klen;
		e = memchr(q, '"', in->len - (size_t)(q - in->p));
		if (e == NULL)
			break;
		buf_append(out, in->p + i, (size_t)(q - (in->p + i)));
		buf_append_str(out, ph);
		i = (size_t)(e - in->p);
		n++;
	}
	buf_append(out, in->p + i, in->len - i);
	return n;
}

static int
read_all(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	char tmp[4096];
	size_t n;

	buf_clear(out);
	if (f == NULL)
		return -1;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(out, tmp, n);
	fclose(f);
	return 0;
}

static int
write_all(const char *path, const struct buf *b)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(b->p, 1, b->len, f) != b->len) {
		perror(path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* Writes (generator mode) or compares got with the golden file path;
 * leaves the file's content in golden. */
static void
golden_file(const char *path, const struct buf *got, struct buf *golden)
{
	size_t i;

	if (write_mode) {
		CHECKF(write_all(path, got) == 0, "cannot write %s", path);
		printf("wrote %s\n", path);
	}
	if (read_all(path, golden) != 0) {
		CHECKF(0, "%s is missing (generate it with "
		    "E2E_GOLDEN_WRITE=1)", path);
		return;
	}
	for (i = 0; i < got->len && i < golden->len; i++)
		if (got->p[i] != golden->p[i])
			break;
	CHECKF(eq(golden, got),
	    "%s: the envelope differs from the golden file at byte %zu "
	    "(lengths %zu and %zu)", path, i, got->len, golden->len);
}

/* The protected header FORMAT.md section 3 prescribes, built by hand. */
static void
expected_protected(const struct vec *v, struct buf *out)
{
	buf_clear(out);
	buf_append_str(out, "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"");
	buf_append_str(out, v->enc);
	buf_append_str(out, "\"");
	if (v->sign)
		buf_append_str(out, ",\"cty\":\"e2e-msg+jws\"");
	if (strcmp(v->enc, "A256GCM") == 0)
		buf_append_str(out, ",\"cek_commit\":\"" GOLDEN_GCM_COMMIT
		    "\"");
	buf_append_str(out, "}");
}

static const char *const top_members[] = { "protected", "recipients", "iv",
	"ciphertext", "tag" };

/* The shape every golden envelope has: one line, the members of
 * FORMAT.md section 3 in their order, the fixed protected header, kids
 * and IV. */
static void
check_shape(const struct vec *v, const struct buf *g, json_t **objp)
{
	struct buf hdr = BUF_INIT, want = BUF_INIT;
	const char *s, *key, *kids[2];
	json_t *obj, *rec, *val;
	size_t len, i = 0;

	*objp = NULL;
	CHECKF(g->len > 2 && g->p[g->len - 1] == '\n' &&
	    memchr(g->p, '\n', g->len - 1) == NULL,
	    "not one line ending in a newline");
	obj = jsonio_parse((const char *)g->p, g->len, NULL);
	CHECKF(json_is_object(obj), "the golden envelope is not JSON");
	if (!json_is_object(obj)) {
		json_decref(obj);
		return;
	}
	CHECK(json_object_size(obj) == 5);
	json_object_foreach(obj, key, val) {
		CHECKF(i < 5 && strcmp(key, top_members[i]) == 0,
		    "member %zu is \"%s\"", i, key);
		i++;
	}
	s = jsonio_str(obj, "protected", &len);
	CHECK(s != NULL && b64url_decode_buf(s, len, &hdr) == 0);
	expected_protected(v, &want);
	CHECKF(hdr.len == want.len && memcmp(hdr.p, want.p, want.len) == 0,
	    "protected header %.*s", (int)hdr.len, hdr.p);
	s = jsonio_str(obj, "iv", NULL);
	CHECK(s != NULL && strcmp(s, strcmp(v->enc, "A256GCM") == 0 ?
	    GOLDEN_IV12 : GOLDEN_IV16) == 0);
	kids[0] = v->nr == 1 ? KID_BOB : KID_CAROL;
	kids[1] = KID_BOB;
	rec = json_object_get(obj, "recipients");
	CHECK(json_array_size(rec) == (size_t)v->nr);
	for (i = 0; i < json_array_size(rec) && i < 2; i++) {
		json_t *h = json_object_get(json_array_get(rec, i), "header");

		CHECK(json_object_size(json_array_get(rec, i)) == 2);
		CHECK(json_object_size(h) == 1);
		s = jsonio_str(h, "kid", NULL);
		CHECKF(s != NULL && strcmp(s, kids[i]) == 0,
		    "recipient %zu kid %s", i, s ? s : "(none)");
	}
	buf_free(&hdr);
	buf_free(&want);
	*objp = obj;
}

static int
b64_member(const json_t *obj, const char *name, struct buf *out)
{
	size_t len;
	const char *s = jsonio_str(obj, name, &len);

	return s != NULL ? b64url_decode_buf(s, len, out) : -1;
}

/* Decrypts the envelope's content with the fixed key (no RSA): the
 * plaintext of the golden ciphertext, independently of any recipient. */
static int
decrypt_content(const struct vec *v, const json_t *obj, struct buf *pt)
{
	const struct aead_alg *enc = jwe_enc_by_name(v->enc);
	uint8_t cek[AEAD_MAX_KEY];
	struct buf ct = BUF_INIT, iv = BUF_INIT, tag = BUF_INIT;
	const char *prot;
	size_t prot_len, pt_len = 0;
	int rc = -1;

	buf_clear(pt);
	fixed_cek(cek, enc->key_len);
	prot = jsonio_str(obj, "protected", &prot_len);
	if (prot == NULL || b64_member(obj, "iv", &iv) != 0 ||
	    b64_member(obj, "tag", &tag) != 0 ||
	    b64_member(obj, "ciphertext", &ct) != 0 ||
	    iv.len != enc->iv_len || tag.len != enc->tag_len ||
	    buf_reserve(pt, ct.len + 16) != 0)
		goto out;
	/* The AAD is the protected member as written (FORMAT.md 3.2). */
	if (aead_decrypt(enc, cek, iv.p, iv.len, (const uint8_t *)prot,
	    prot_len, ct.p, ct.len, tag.p, tag.len, pt->p, &pt_len) != 0)
		goto out;
	pt->len = pt_len;
	rc = 0;
out:
	buf_free(&ct);
	buf_free(&iv);
	buf_free(&tag);
	return rc;
}

/* Puts a real encrypted_key (RSA-OAEP-256 of the fixed CEK) in place of
 * each placeholder, recipient by recipient, so the golden file itself
 * can be opened by message_open. */
static void
fill_keys(const struct vec *v, const struct buf *golden, struct buf *out)
{
	const struct aead_alg *enc = jwe_enc_by_name(v->enc);
	struct jwe_recipient r[2];
	uint8_t cek[AEAD_MAX_KEY], ek[RSA_MAX_BYTES];
	size_t i = 0, ek_len;
	const uint8_t *q;
	int n = 0;

	recipients(v->nr, r);
	fixed_cek(cek, enc->key_len);
	buf_clear(out);
	while ((q = memmem(golden->p + i, golden->len - i, PH_EK,
	    strlen(PH_EK))) != NULL && n < v->nr) {
		buf_append(out, golden->p + i, (size_t)(q - (golden->p + i)));
		CHECK(rsa_oaep_encrypt(r[n].pub, cek, enc->key_len, ek,
		    &ek_len, NULL) == 0);
		b64url_append(out, ek, ek_len);
		i = (size_t)(q - golden->p) + strlen(PH_EK);
		n++;
	}
	buf_append(out, golden->p + i, golden->len - i);
	CHECKF(n == v->nr, "%d placeholders for %d recipients", n, v->nr);
}

/* message_open of env (copied: it decrypts in place) as key k. */
static int
open_as(const struct buf *env, EVP_PKEY *k, const char *kid,
    EVP_PKEY *verify, const char *verify_kid, struct message *m,
    struct buf *pt)
{
	struct buf in = BUF_INIT;
	struct open_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.key = k;
	o.kid = kid;
	o.verify = verify;
	o.verify_kid = verify_kid;
	buf_append(&in, env->p, env->len);
	rc = message_open(&o, &in, m, NULL);
	buf_clear(pt);
	if (rc == 0)
		buf_append(pt, m->pt, m->pt_len);
	message_free(m);
	buf_free(&in);
	return rc;
}

static void
check_unsigned(const struct vec *v)
{
	struct buf env = BUF_INIT, masked = BUF_INIT, golden = BUF_INIT;
	struct buf filled = BUF_INIT, pt = BUF_INIT, want = BUF_INIT;
	struct message m;
	char path[256];
	json_t *obj = NULL;

	vec_name(v, "jwe", path, sizeof(path));
	harness_current = path;
	plaintext(v->pt, &want);
	CHECK(seal_fixed(v, &env) == 0);
	CHECK(mask(&env, "encrypted_key", PH_EK, &masked) == v->nr);
	golden_file(path, &masked, &golden);
	if (golden.len == 0)
		goto out;

	check_shape(v, &golden, &obj);
	if (obj == NULL)
		goto out;
	CHECKF(decrypt_content(v, obj, &pt) == 0 && eq(&pt, &want),
	    "the golden ciphertext does not decrypt under the fixed key");

	/* The golden file, with real wrapped keys, opens for bob (and for
	 * carol, when she is a recipient). */
	fill_keys(v, &golden, &filled);
	CHECK(open_as(&filled, k_bob, kid_bob, NULL, NULL, &m, &pt) == 0);
	CHECKF(eq(&pt, &want),
	    "bob does not get the plaintext back from the golden file");
	CHECK(m.is_signed == 0 && m.verified == 0);
	CHECK(m.enc != NULL && strcmp(m.enc, v->enc) == 0);
	CHECK(m.nrecipients == (size_t)v->nr);
	CHECK(m.uncommitted_group == 0);
	if (v->nr == 2) {
		CHECK(open_as(&filled, k_carol, kid_carol, NULL, NULL, &m,
		    &pt) == 0);
		CHECK(eq(&pt, &want));
	}
	/* Alice is not a recipient. */
	CHECK(open_as(&filled, k_alice, kid_alice, NULL, NULL, &m, &pt) ==
	    65);

	/* And the fresh envelope itself, with its own encrypted keys. */
	CHECK(open_as(&env, k_bob, kid_bob, NULL, NULL, &m, &pt) == 0);
	CHECK(eq(&pt, &want));
out:
	json_decref(obj);
	buf_free(&env);
	buf_free(&masked);
	buf_free(&golden);
	buf_free(&filled);
	buf_free(&pt);
	buf_free(&want);
}

/* The inner JWS header FORMAT.md section 4 prescribes, built by hand. */
static void
expected_jws_header(const struct vec *v, struct buf *out)
{
	buf_clear(out);
	buf_append_str(out, "{\"alg\":\"PS256\",\"typ\":\"e2e-msg+jws\","
	    "\"kid\":\"" KID_ALICE "\",\"iss\":\"" KID_ALICE "\",");
	if (v->names)
		buf_append_str(out, "\"sub\":\"" GOLDEN_SENDER "\",");
	buf_append_str(out, "\"aud\":[");
	if (v->nr == 1)
		buf_append_str(out, "\"" KID_BOB "\"");
	else
		buf_append_str(out, "\"" KID_CAROL "\",\"" KID_BOB "\"");
	buf_append_str(out, "],");
	/* Only the two-recipient vector has names: carol's, and "" for
	 * bob's key given as a file. */
	if (v->names)
		buf_append_str(out, "\"aud_names\":[\"carol\",\"\"],");
	buf_append_str(out, "\"iat\":1700000000,\"jti\":\"" GOLDEN_JTI
	    "\"}");
}

static void
check_signed(const struct vec *v)
{
	struct buf env = BUF_INIT, m1 = BUF_INIT, m2 = BUF_INIT;
	struct buf masked = BUF_INIT, golden = BUF_INIT, jws = BUF_INIT;
	struct buf jws_masked = BUF_INIT, jws_golden = BUF_INIT;
	struct buf pt = BUF_INIT, want = BUF_INIT, part = BUF_INIT;
	struct message m;
	struct jws j;
	char path[256], jpath[256], why[200];
	json_t *obj = NULL;
	const uint8_t *dot;

	vec_name(v, "jwe", path, sizeof(path));
	vec_name(v, "jws", jpath, sizeof(jpath));
	harness_current = path;
	plaintext(v->pt, &want);
	CHECK(seal_fixed(v, &env) == 0);
	CHECK(mask(&env, "encrypted_key", PH_EK, &m1) == v->nr);
	CHECK(mask(&m1, "ciphertext", PH_CT, &m2) == 1);
	CHECK(mask(&m2, "tag", PH_TAG, &masked) == 1);
	golden_file(path, &masked, &golden);

	/* The envelope as written (not masked) has the fixed shape. */
	check_shape(v, &env, &obj);
	if (obj == NULL)
		goto out;
	CHECKF(decrypt_content(v, obj, &jws) == 0,
	    "the signed envelope does not decrypt under the fixed key");
	dot = jws.len > 0 ? memrchr(jws.p, '.', jws.len) : NULL;
	CHECK(dot != NULL);
	if (dot == NULL)
		goto out;
	buf_append(&jws_masked, jws.p, (size_t)(dot + 1 - jws.p));
	buf_append_str(&jws_masked, PH_SIG);
	buf_append(&jws_masked, "\n", 1);
	harness_current = jpath;
	golden_file(jpath, &jws_masked, &jws_golden);

	/* Its header and payload are what FORMAT.md section 4 says. */
	expected_jws_header(v, &want);
	buf_clear(&part);
	b64url_append(&part, want.p, want.len);
	buf_append(&part, ".", 1);
	plaintext(v->pt, &want);
	b64url_append(&part, want.p, want.len);
	buf_append(&part, ".", 1);
	CHECKF(jws_golden.len == part.len + strlen(PH_SIG) + 1 &&
	    memcmp(jws_golden.p, part.p, part.len) == 0,
	    "the inner JWS header or payload is not the prescribed one");
	/* The signature itself verifies under alice's key: 256 bytes. */
	CHECK(rep_why_rc(jws_parse((char *)jws.p, jws.len, &j, &t_rep), why,
	    sizeof(why)) == 0);
	CHECK(j.sig_len == 256);
	CHECK(jws_verify(&j, k_alice) == 1);
	CHECK(jws_verify(&j, k_carol) == 0);
	jws_free(&j);

	/* Bob opens the fresh envelope and verifies alice's signature. */
	CHECK(open_as(&env, k_bob, kid_bob, k_alice, kid_alice, &m,
	    &pt) == 0);
	CHECK(eq(&pt, &want));
	CHECK(m.is_signed == 1 && m.verified == 1);
	CHECK(strcmp(m.signer_kid, KID_ALICE) == 0);
	CHECK(m.iat == GOLDEN_IAT);
	CHECK(strcmp(m.jti, GOLDEN_JTI) == 0);
	/* The names, as read back: none in the previous version's form. */
	CHECK(m.named == v->names);
	CHECK(strcmp(m.sub, v->names ? GOLDEN_SENDER : "") == 0);
	CHECK(m.name_for_me[0] == '\0');	/* bob's key was a file */
	CHECK(strcmp(m.aud_names, v->names ? "carol, a key file" : "") == 0);
	if (v->names) {
		CHECK(open_as(&env, k_carol, kid_carol, k_alice, kid_alice, &m,
		    &pt) == 0);
		CHECK(m.named == 1 && strcmp(m.name_for_me, "carol") == 0);
	}
out:
	json_decref(obj);
	buf_free(&env);
	buf_free(&m1);
	buf_free(&m2);
	buf_free(&masked);
	buf_free(&golden);
	buf_free(&jws);
	buf_free(&jws_masked);
	buf_free(&jws_golden);
	buf_free(&pt);
	buf_free(&want);
	buf_free(&part);
}

static void
golden_vectors(void)
{
	size_t i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		if (vectors[i].sign)
			check_signed(&vectors[i]);
		else
			check_unsigned(&vectors[i]);
	}
}

/* The hooks really pin: the same pins give the same envelope, and
 * without pins two envelopes share no IV or ciphertext. */
static void
hooks_pin_and_unpin(void)
{
	const struct vec v = { "A256CBC-HS512", 1, PT_HELLO, 0, 0 };
	struct buf a = BUF_INIT, b = BUF_INIT, ma = BUF_INIT, mb = BUF_INIT;
	struct jwe_recipient r[2];
	struct sink s;
	json_t *ja, *jb;

	CHECK(seal_fixed(&v, &a) == 0);
	CHECK(seal_fixed(&v, &b) == 0);
	mask(&a, "encrypted_key", PH_EK, &ma);
	mask(&b, "encrypted_key", PH_EK, &mb);
	CHECK(eq(&ma, &mb));
	/* RSA-OAEP stays randomised even with the hooks set. */
	CHECK(a.len == b.len && memcmp(a.p, b.p, a.len) != 0);

	recipients(1, r);
	buf_clear(&a);
	buf_clear(&b);
	s = sink_buf(&a);
	CHECK(jwe_encrypt(jwe_enc_by_name("A256CBC-HS512"), NULL, r, 1,
	    (const uint8_t *)"hello", 5, &s, NULL) == 0);
	s = sink_buf(&b);
	CHECK(jwe_encrypt(jwe_enc_by_name("A256CBC-HS512"), NULL, r, 1,
	    (const uint8_t *)"hello", 5, &s, NULL) == 0);
	ja = jsonio_parse((const char *)a.p, a.len, NULL);
	jb = jsonio_parse((const char *)b.p, b.len, NULL);
	CHECK(ja != NULL && jb != NULL);
	if (ja != NULL && jb != NULL) {
		CHECK(strcmp(jsonio_str(ja, "iv", NULL),
		    jsonio_str(jb, "iv", NULL)) != 0);
		CHECK(strcmp(jsonio_str(ja, "iv", NULL), GOLDEN_IV16) != 0);
		CHECK(strcmp(jsonio_str(ja, "ciphertext", NULL),
		    jsonio_str(jb, "ciphertext", NULL)) != 0);
	}
	json_decref(ja);
	json_decref(jb);
	buf_free(&a);
	buf_free(&b);
	buf_free(&ma);
	buf_free(&mb);
}

/* Our kids are the standard ones (the golden files name them). */
static void
kids_match_jwcrypto(void)
{
	CHECK(strcmp(kid_alice, KID_ALICE) == 0);
	CHECK(strcmp(kid_bob, KID_BOB) == 0);
	CHECK(strcmp(kid_carol, KID_CAROL) == 0);
}

int
main(void)
{
	const char *w = getenv("E2E_GOLDEN_WRITE");

	write_mode = w != NULL && strcmp(w, "1") == 0;
	if (crypto_init(NULL) != 0)
		return 2;
	k_alice = fixture_private("alice");
	k_bob = fixture_private("bob");
	k_carol = fixture_private("carol");
	if (jwk_thumbprint(k_alice, kid_alice, NULL) != 0 ||
	    jwk_thumbprint(k_bob, kid_bob, NULL) != 0 ||
	    jwk_thumbprint(k_carol, kid_carol, NULL) != 0)
		return 2;
	RUN(kids_match_jwcrypto);
	RUN(golden_vectors);
	RUN(hooks_pin_and_unpin);
	EVP_PKEY_free(k_alice);
	EVP_PKEY_free(k_bob);
	EVP_PKEY_free(k_carol);
	return harness_end();
}
