/* jwe.c - the JWE envelope (see jwe.h and docs/FORMAT.md). */
#include "format/jwe.h"
#include "base/b64.h"
#include "base/err.h"
#include "base/jsonio.h"
#include "base/pipeline.h"
#include "format/crypto.h"
#include "format/ecdhes.h"
#include "format/rsa.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

/* Plaintext is encrypted and encoded in chunks of this many bytes (a
 * multiple of both the AES block and of 3, so base64 needs no carry),
 * through a ring of buffers the MAC worker reads from (pipeline.h), and
 * a ring of their base64url the writer reads from. */
#define CHUNK (16 * 3 * 5440)
#define SLOTS (PIPELINE_DEPTH + 1)
#define TEXT_SLOT (CHUNK / 3 * 4 + 64)	/* > b64url_enclen(CHUNK + 34) */

#define COMMIT_LABEL "e2e-chat CEK commitment v1"

static const char *const accepted_enc[] = { "A256CBC-HS512", "A256GCM" };

const struct aead_alg *
jwe_enc_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(accepted_enc) / sizeof(accepted_enc[0]); i++)
		if (strcmp(name, accepted_enc[i]) == 0)
			return aead_alg_by_name(name);
	return NULL;
}

/*
 * The key commitment for A256GCM: SHA-256 over a label and the CEK. GCM
 * is not key-committing, so without it a sender could give each
 * recipient of one ciphertext a different key that decrypts it to a
 * different message ("invisible salamanders"); with it in the protected
 * header every recipient that accepts has the same key.
 */
static int
cek_commitment(const uint8_t *cek, size_t len, char out[KID_SIZE],
    struct report *rep)
{
	const EVP_MD *md = crypto_md("SHA256", rep);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t d[32];
	unsigned int dlen = 0;
	int rc = -1;

	if (md != NULL && ctx != NULL &&
	    EVP_DigestInit_ex2(ctx, md, NULL) == 1 &&
	    EVP_DigestUpdate(ctx, COMMIT_LABEL, sizeof(COMMIT_LABEL)) == 1 &&
	    EVP_DigestUpdate(ctx, cek, len) == 1 &&
	    EVP_DigestFinal_ex(ctx, d, &dlen) == 1 && dlen == 32) {
		b64url_encode(d, sizeof(d), out);
		out[KID_LEN] = '\0';
		rc = 0;
	}
	EVP_MD_CTX_free(ctx);
	return rc;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n-- > 0)
		acc |= *p++;
	return acc == 0;
}

/* With with_alg 0 (some recipient is ECDH-ES), "alg" is left to each
 * recipient's header (FORMAT.md section 11). */
static char *
protected_header(const struct aead_alg *enc, const char *cty,
    const char *commit, int with_alg)
{
	json_t *h = json_object();
	char *s = NULL;

	if (h == NULL || (with_alg &&
	    json_object_set_new(h, "alg", json_string(JWE_ALG)) != 0) ||
	    json_object_set_new(h, "enc", json_string(enc->name)) != 0 ||
	    (cty != NULL &&
	    json_object_set_new(h, "cty", json_string(cty)) != 0) ||
	    (commit != NULL &&
	    json_object_set_new(h, "cek_commit", json_string(commit)) != 0))
		goto out;
	s = jsonio_dump(h);
out:
	json_decref(h);
	return s;
}

static int
put_b64(struct sink *out, const uint8_t *p, size_t n)
{
	char tmp[1024];
	size_t chunk;
	int rc;

	while (n > 0) {
		chunk = n > 762 ? 762 : n;	/* 762 bytes -> 1016 chars */
		b64url_encode(p, chunk, tmp);
		if ((rc = sink_write(out, tmp, b64url_enclen(chunk))) != 0)
			return rc;
		p += chunk;
		n -= chunk;
	}
	return 0;
}

/* The MAC's worker thread: its own report, added to the caller's once
 * the pipeline is finished (a report is not shared between threads). */
struct mac_job {
	struct aead_enc *ae;
	struct report rep;
};

static int
mac_enc_chunk(void *ctx, uint8_t *p, size_t n)
{
	struct mac_job *job = ctx;

	return aead_encrypt_mac(job->ae, p, n, &job->rep);
}

/* The writer's thread: the output's own sink (and its report) is used
 * by this thread alone until the pipeline is finished. */
static int
write_text(void *ctx, uint8_t *p, size_t n)
{
	return sink_write(ctx, p, n);
}

/*
 * One recipient's entry: RSA-OAEP-256 to its identity key (the protected
 * header says "alg" unless per_alg), or ECDH-ES+A256KW to its prekey,
 * with "alg", the prekey's id and the ephemeral key in its own header.
 */
static int
put_recipient(struct sink *out, const struct jwe_recipient *r, int first,
    int per_alg, const uint8_t *cek, size_t cek_len, struct report *rep)
{
	uint8_t ek[RSA_MAX_BYTES], epk[X25519_LEN];
	size_t ek_len = 0;
	int rc;

	if ((rc = sink_puts(out, first ? "{\"header\":{" :
	    ",{\"header\":{")) != 0)
		goto out;
	if (r->fs) {
		if ((rc = ecdhes_wrap(r->prekey, cek, cek_len, epk, ek,
		    rep)) != 0)
			goto out;
		ek_len = cek_len + ECDHES_WRAP_EXTRA;
		if ((rc = sink_puts(out, "\"alg\":\"" ECDHES_ALG
		    "\",\"kid\":\"")) != 0 ||
		    (rc = sink_puts(out, r->pkid)) != 0 ||
		    (rc = sink_puts(out, "\",\"epk\":{\"kty\":\"OKP\","
		    "\"crv\":\"X25519\",\"x\":\"")) != 0 ||
		    (rc = put_b64(out, epk, sizeof(epk))) != 0 ||
		    (rc = sink_puts(out, "\"}")) != 0)
			goto out;
	} else {
		if ((rc = rsa_oaep_encrypt(r->pub, cek, cek_len, ek, &ek_len,
		    rep)) != 0)
			goto out;
		if ((per_alg && (rc = sink_puts(out, "\"alg\":\"" JWE_ALG
		    "\",")) != 0) ||
		    (rc = sink_puts(out, "\"kid\":\"")) != 0 ||
		    (rc = sink_puts(out, r->kid)) != 0 ||
		    (rc = sink_puts(out, "\"")) != 0)
			goto out;
	}
	if ((rc = sink_puts(out, "},\"encrypted_key\":\"")) != 0 ||
	    (rc = put_b64(out, ek, ek_len)) != 0 ||
	    (rc = sink_puts(out, "\"}")) != 0)
		goto out;
out:
	wipe(ek, sizeof(ek));
	return rc;
}

int
jwe_encrypt(const struct aead_alg *enc, const char *cty,
    const struct jwe_recipient *r, size_t nr, const uint8_t *pt,
    size_t pt_len, struct sink *out, struct report *rep)
{
	struct mem_source m = { NULL, 0 };
	struct source src = source_mem(&m, pt, pt_len);

	return jwe_encrypt_source(enc, cty, r, nr, &src, out, rep);
}

int
jwe_encrypt_source(const struct aead_alg *enc, const char *cty,
    const struct jwe_recipient *r, size_t nr, const struct source *src,
    struct sink *out, struct report *rep)
{
	uint8_t cek[AEAD_MAX_KEY], iv[AEAD_MAX_IV], tag[AEAD_MAX_TAG];
	uint8_t *ct = NULL, *pt = NULL;
	char commit[KID_SIZE], *hdr = NULL, *enc_text = NULL;
	struct buf hdr_b64 = BUF_INIT, head = BUF_INIT;
	struct buf_sink hbs = { &head, rep };
	struct sink hs = sink_buf_to(&hbs);
	struct aead_enc ae;
	struct mac_job *job = NULL;
	struct b64url_stream bs = { { 0 }, 0 };
	struct pipeline *pl = NULL, *pw = NULL;
	struct report *lrep = NULL;
	size_t i, chunk, n, m, k;
	int rc = E2E_EX_SOFTWARE, ae_live = 0, prc, wrc, any_fs = 0;
	int split;

	if (nr == 0 || nr > JWE_MAX_RECIPIENTS) {
		return report_error(rep, E2E_EX_USAGE,
		    "a message needs 1 to %d recipients", JWE_MAX_RECIPIENTS);
	}
	/* Readers refuse two entries for one key (docs/FORMAT.md). */
	for (i = 0; i < nr; i++)
		for (m = 0; m < i; m++)
			if (strcmp(r[i].kid, r[m].kid) == 0 || (r[i].fs &&
			    r[m].fs && strcmp(r[i].pkid, r[m].pkid) == 0)) {
				return report_error(rep, E2E_EX_USAGE,
				    "key %s is given twice", r[i].kid);
			}
	for (i = 0; i < nr; i++)
		any_fs |= r[i].fs;
	/*
	 * Everything that does not depend on the plaintext comes first: the
	 * content key, the header, each recipient's wrapped key and the
	 * cipher's set-up, while a signed message's signature is made on
	 * another core (jws.h). What goes out before the ciphertext is kept
	 * in head: nothing is written before the first piece of the input is
	 * read (a small input over the cap leaves no output). That piece
	 * says whether the message is small (a pipe's size is unknown): a
	 * small one needs no second thread.
	 */
	if ((rc = crypto_random(cek, enc->key_len, rep)) != 0 ||
	    (rc = crypto_random(iv, enc->iv_len, rep)) != 0)
		goto out;
	if (all_zero(cek, enc->key_len)) {	/* a broken RNG, never a key */
		rc = report_error(rep, E2E_EX_SOFTWARE,
		    "internal error: the random content key is zero");
		goto out;
	}
	rc = E2E_EX_SOFTWARE;
	if (enc->md == NULL && cek_commitment(cek, enc->key_len, commit,
	    rep) != 0) {
		rc = report_crypto(rep, "computing the key commitment");
		goto out;
	}
	hdr = protected_header(enc, cty, enc->md == NULL ? commit : NULL,
	    !any_fs);
	if (hdr == NULL || b64url_append(&hdr_b64, (uint8_t *)hdr,
	    strlen(hdr)) != 0) {
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = sink_puts(&hs, "{\"protected\":\"")) != 0 ||
	    (rc = sink_write(&hs, hdr_b64.p, hdr_b64.len)) != 0 ||
	    (rc = sink_puts(&hs, "\",\"recipients\":[")) != 0)
		goto out;
	for (i = 0; i < nr; i++)
		if ((rc = put_recipient(&hs, &r[i], i == 0, any_fs, cek,
		    enc->key_len, rep)) != 0)
			goto out;
	if ((rc = sink_puts(&hs, "],\"iv\":\"")) != 0 ||
	    (rc = put_b64(&hs, iv, enc->iv_len)) != 0 ||
	    (rc = sink_puts(&hs, "\",\"ciphertext\":\"")) != 0)
		goto out;

	rc = E2E_EX_SOFTWARE;
	/*
	 * Each chunk's ciphertext goes to the next buffer of a ring, and its
	 * base64url to the next of another: CBC's MAC runs over the first on
	 * a second core while this thread encodes and writes. GCM needs no
	 * MAC: its second core writes the text out (the write, a copy into
	 * the page cache, costs about as much as encrypting and encoding).
	 * The pipelines' depth keeps a buffer from being reused early.
	 */
	if ((pt = big_alloc(CHUNK)) == NULL ||
	    (ct = big_alloc((size_t)SLOTS * (CHUNK + 32))) == NULL ||
	    (enc_text = big_alloc((size_t)SLOTS * TEXT_SLOT)) == NULL ||
	    (job = calloc(1, sizeof(*job))) == NULL ||
	    (lrep = calloc(1, sizeof(*lrep))) == NULL) {
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		goto out;
	}
	/* The AAD is the ASCII of the encoded protected header (5.1 step 14). */
	if ((rc = aead_encrypt_init(&ae, enc, cek, iv, hdr_b64.p,
	    hdr_b64.len, rep)) != 0)
		goto out;
	ae_live = 1;
	job->ae = &ae;
	if ((rc = src->read(src->ctx, pt, CHUNK, &chunk, rep)) != 0 ||
	    (rc = sink_write(out, head.p, head.len)) != 0)
		goto out;
	/* GCM authenticates as it encrypts: a writer instead of a MAC. A
	 * small message needs neither thread. */
	split = enc->md == NULL && chunk == CHUNK;
	if ((pl = pipeline_start(enc->md == NULL ? 0 : chunk < CHUNK ? chunk :
	    SIZE_MAX, mac_enc_chunk, job)) == NULL ||
	    (pw = pipeline_start(split ? SIZE_MAX : 0, write_text,
	    out)) == NULL) {
		rc = report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		goto out;
	}
	/* While the writer may report into rep (through out), this thread
	 * says its own errors in lrep, added to rep after the join. */
	for (k = 0; chunk > 0; k++) {
		/* GCM's ciphertext is encoded at once: one buffer. */
		uint8_t *slot = ct + (enc->md == NULL ? 0 : k % SLOTS) *
		    (CHUNK + 32);
		char *text = enc_text + (k % SLOTS) * TEXT_SLOT;

		if ((rc = aead_encrypt_cipher(&ae, pt, chunk, slot, &n,
		    lrep)) != 0)
			break;
		pipeline_push(pl, slot, n);
		m = b64url_stream_update(&bs, slot, n, text);
		pipeline_push(pw, (uint8_t *)text, m);
		if (chunk < CHUNK || pipeline_failed(pw) != 0)
			break;
		if ((rc = src->read(src->ctx, pt, CHUNK, &chunk, lrep)) != 0)
			break;
	}
	wrc = pipeline_finish(pw);
	pw = NULL;
	prc = pipeline_finish(pl);
	pl = NULL;
	report_add(rep, lrep);
	report_add(rep, &job->rep);
	if (rc == 0)
		rc = wrc;
	if (rc != 0)
		goto out;
	if (prc != 0) {
		rc = prc;
		goto out;
	}
	/* The last block: every earlier byte went through the MAC. */
	if ((rc = aead_encrypt_final(&ae, ct, &n, tag, rep)) != 0)
		goto out;
	n = b64url_stream_update(&bs, ct, n, enc_text);
	n += b64url_stream_final(&bs, enc_text + n);
	if ((rc = sink_write(out, enc_text, n)) != 0 ||
	    (rc = sink_puts(out, "\",\"tag\":\"")) != 0 ||
	    (rc = put_b64(out, tag, enc->tag_len)) != 0 ||
	    (rc = sink_puts(out, "\"}\n")) != 0)
		goto out;
	rc = 0;
out:
	if (pw != NULL)
		(void)pipeline_finish(pw);
	if (pl != NULL)
		(void)pipeline_finish(pl);
	if (ae_live)
		aead_encrypt_free(&ae);
	wipe(cek, sizeof(cek));
	if (pt != NULL)
		wipe(pt, CHUNK);	/* the user's plaintext */
	free(pt);
	free(ct);
	free(enc_text);
	free(job);
	free(lrep);
	free(hdr);
	buf_free(&hdr_b64);
	buf_free(&head);
	return rc;
}

/* A reason the message is refused, visible before any cryptography:
 * into rep (code 65). Returns -1. */
static int why_set(struct report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
why_set(struct report *rep, const char *fmt, ...)
{
	char why[REPORT_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	report_error(rep, E2E_EX_DATAERR, "%s", why);
	return -1;
}

static const char *const top_general[] = { "protected", "unprotected",
	"recipients", "aad", "iv", "ciphertext", "tag", NULL };
static const char *const top_flattened[] = { "protected", "unprotected",
	"header", "encrypted_key", "aad", "iv", "ciphertext", "tag", NULL };
static const char *const recipient_members[] = { "header",
	"encrypted_key", NULL };

/* Adds every member of src to merged, refusing a name seen before
 * (RFC 7516 7.2.1: the header sets are disjoint). */
static int
merge(json_t *merged, const json_t *src, const char *where,
    struct report *rep)
{
	const char *key;
	json_t *v;

	if (src == NULL)
		return 0;
	if (!json_is_object(src))
		return why_set(rep, "%s is not a JSON object", where);
	json_object_foreach((json_t *)src, key, v) {
		if (json_object_get(merged, key) != NULL)
			return why_set(rep, "header parameter \"%.40s\" "
			    "appears more than once", key);
		if (json_object_set(merged, key, v) != 0)
			return why_set(rep, "out of memory");
	}
	return 0;
}

/* Checks one recipient's complete header; *ecdh says which key
 * management it names (0 RSA-OAEP-256, 1 ECDH-ES+A256KW). */
static int
check_header(const json_t *h, const struct aead_alg **enc, int *ecdh,
    struct report *rep)
{
	static const char *const strings[] = { "alg", "enc", "kid", "cty",
		"typ", "cek_commit", NULL };
	const char *alg, *encname, *cty;
	size_t i;

	for (i = 0; strings[i] != NULL; i++) {
		const json_t *v = json_object_get(h, strings[i]);

		if (v != NULL && !json_is_string(v))
			return why_set(rep, "header parameter \"%s\" is "
			    "not a string", strings[i]);
	}
	alg = jsonio_str(h, "alg", NULL);
	encname = jsonio_str(h, "enc", NULL);
	if (alg == NULL || encname == NULL)
		return why_set(rep, "\"alg\" or \"enc\" is missing");
	*ecdh = strcmp(alg, ECDHES_ALG) == 0;
	if (strcmp(alg, JWE_ALG) != 0 && !*ecdh)
		return why_set(rep, "key management \"%.40s\" is not "
		    "accepted (only " JWE_ALG " or " ECDHES_ALG ")", alg);
	if ((*enc = jwe_enc_by_name(encname)) == NULL)
		return why_set(rep, "content encryption \"%.40s\" is not "
		    "accepted (only A256CBC-HS512 or A256GCM)", encname);
	/* The ephemeral key belongs to ECDH-ES alone; PartyUInfo and
	 * PartyVInfo are empty in this format (section 11). */
	if (!*ecdh && json_object_get(h, "epk") != NULL)
		return why_set(rep, "\"epk\" with key management "
		    JWE_ALG);
	if (json_object_get(h, "apu") != NULL ||
	    json_object_get(h, "apv") != NULL)
		return why_set(rep, "\"apu\" and \"apv\" are not "
		    "accepted");
	if (json_object_get(h, "zip") != NULL)
		return why_set(rep, "compressed messages (\"zip\") are "
		    "not accepted");
	if (json_object_get(h, "crit") != NULL)
		return why_set(rep, "the message requires extensions "
		    "(\"crit\") this reader does not implement");
	/* Unknown content: refuse rather than guess what it is. */
	cty = jsonio_str(h, "cty", NULL);
	if (cty != NULL && strcmp(cty, JWE_CTY_SIGNED) != 0)
		return why_set(rep, "unknown content type \"%.40s\"",
		    cty);
	return 0;
}

static int
decode_member(const json_t *obj, const char *name, uint8_t *out,
    size_t cap, size_t *len, struct report *rep)
{
	const char *s;
	size_t slen;
	long long n;

	if ((s = jsonio_str(obj, name, &slen)) == NULL)
		return why_set(rep, "\"%s\" is missing or not a string",
		    name);
	if (b64url_declen(slen) > cap)
		return why_set(rep, "\"%s\" is too long", name);
	if ((n = b64url_decode(s, slen, out)) < 0)
		return why_set(rep, "\"%s\" is not base64url", name);
	*len = (size_t)n;
	return 0;
}

static int
mac_chunk(void *ctx, uint8_t *p, size_t n)
{
	return aead_decrypt_update(ctx, p, n);
}

/*
 * Decodes the base64url ciphertext ct (ct_len characters) into out (room
 * for b64url_declen(ct_len) bytes; out may be ct itself) and decrypts it
 * there under cek: this thread decodes while a second core runs the MAC
 * (or GCM) over what is already decoded (pipeline.h). In place, output
 * never overtakes input (3 bytes per 4 characters), so the bytes handed
 * to the worker are never written again. Returns 0 with *pt_len set, or
 * -1 for any failure, base64url included, with nothing left in out.
 */
static int
decode_and_decrypt(const struct aead_alg *enc, const uint8_t *cek,
    const uint8_t *iv, const struct buf *aad, const char *ct, size_t ct_len,
    uint8_t *out, const uint8_t *tag, size_t *pt_len)
{
	/* Whole quads, so only the last step has a partial group. */
	const size_t step = (size_t)1 << 20;
	struct aead_dec d;
	struct pipeline *pl = NULL;
	size_t in = 0, done = 0, chunk;
	long long n = 0;
	int rc = -1, prc;

	if (aead_decrypt_init(&d, enc, cek, iv, enc->iv_len, aad->p,
	    aad->len) != 0)
		goto out;
	if ((pl = pipeline_start(b64url_declen(ct_len), mac_chunk,
	    &d)) == NULL)
		goto out;
	for (in = 0; in < ct_len; in += chunk) {
		chunk = ct_len - in > step ? step : ct_len - in;
		n = b64url_decode(ct + in, chunk, out + done);
		if (n < 0)
			break;
		pipeline_push(pl, out + done, (size_t)n);
		done += (size_t)n;
	}
	prc = pipeline_finish(pl);
	if (n >= 0 && prc == 0 && aead_decrypt_final(&d, out, done, tag,
	    enc->tag_len, pt_len) == 0)
		rc = 0;
out:
	/* GCM decrypts in place as it goes: nothing unauthenticated stays. */
	if (rc != 0)
		wipe(out, done);
	aead_decrypt_free(&d);
	return rc;
}

/*
 * A ciphertext read from a file, in one pass: pieces of FILE_TEXT
 * characters (whole quads, decoding to whole AES blocks) in a ring of
 * FILE_SLOTS buffers, decoded in place by this thread while a worker
 * (pipeline.h) runs the MAC or GCM over the piece before. GCM's worker
 * gives the plaintext to the caller's sink as it goes (a signed
 * message's GCM runs on this thread instead: its sink is the heavier
 * part, file_job.gcm_here). For CBC this thread decrypts each piece
 * too (the MAC only reads it) into a second ring, which a third thread
 * writes out: reading, decoding and decrypting take about as long as
 * the MAC, writing half that, and the three threads keep two cores
 * busy. Nothing in the temporary file is seen before the caller
 * commits it, only once the tag matched.
 */
#define FILE_TEXT ((size_t)256 << 10)
#define FILE_PLAIN (FILE_TEXT / 4 * 3 + 16)
#define FILE_SLOTS (PIPELINE_DEPTH + 1)

/* The MAC's or GCM's worker. */
struct file_job {
	struct aead_dec d;
	struct sink *plain;	/* GCM: written by the worker */
	int gcm_here;		/* GCM run by the reading thread instead */
	int crypto_failed;
};

static int
file_chunk(void *ctx, uint8_t *p, size_t n)
{
	struct file_job *job = ctx;

	/* CBC: the MAC over the ciphertext; GCM: the plaintext, in place,
	 * seen by nobody until the tag matched. */
	if (!job->gcm_here && aead_decrypt_update(&job->d, p, n) != 0) {
		job->crypto_failed = 1;
		return -1;
	}
	if (job->plain == NULL)
		return 0;
	return sink_write(job->plain, p, n);
}

/* CBC's writer. */
static int
write_chunk(void *ctx, uint8_t *p, size_t n)
{
	return sink_write(ctx, p, n);
}

/* The text read once, decoded and handed to the worker; for CBC (cbc
 * not NULL) also decrypted here and handed to the writer, *written
 * counting what it was given. */
static int
file_pass(struct file_job *job, struct aead_cbc *cbc, struct sink *plain,
    struct infile *in, uint64_t off, uint64_t len, uint8_t *ring,
    uint8_t *pring, uint64_t *decoded, uint64_t *written,
    struct report *rep)
{
	struct pipeline *pl, *pw = NULL;
	size_t total = len > SIZE_MAX ? SIZE_MAX : (size_t)len;
	uint64_t pos;
	size_t k, n, w;
	long long m = 0;
	int rc = 0, prc, wrc = 0;

	*decoded = 0;
	*written = 0;
	if ((pl = pipeline_start(total, file_chunk, job)) == NULL)
		return report_oom(rep);
	if (cbc != NULL && (pw = pipeline_start(total, write_chunk,
	    plain)) == NULL) {
		(void)pipeline_finish(pl);
		return report_oom(rep);
	}
	for (pos = 0, k = 0; pos < len; pos += n, k++) {
		uint8_t *slot = ring + (k % FILE_SLOTS) * FILE_TEXT;
		uint8_t *pt = pring + (k % FILE_SLOTS) * FILE_PLAIN;

		n = len - pos > FILE_TEXT ? FILE_TEXT : (size_t)(len - pos);
		if ((rc = infile_pread(in, slot, n, off + pos, rep)) != 0)
			break;
		if ((m = b64url_decode((const char *)slot, n, slot)) < 0) {
			rc = E2E_EX_DATAERR;
			break;
		}
		if (job->gcm_here &&
		    aead_decrypt_update(&job->d, slot, (size_t)m) != 0) {
			rc = E2E_EX_DATAERR;
			break;
		}
		pipeline_push(pl, slot, (size_t)m);
		*decoded += (uint64_t)m;
		if (cbc == NULL)
			continue;
		/* Reads the piece beside the MAC, writes its own ring. */
		if (aead_cbc_update(cbc, slot, (size_t)m, pt, &w) != 0) {
			rc = E2E_EX_DATAERR;
			break;
		}
		pipeline_push(pw, pt, w);
		*written += w;
	}
	if (pw != NULL)
		wrc = pipeline_finish(pw);
	prc = pipeline_finish(pl);
	if (rc != 0)
		return rc;
	if (wrc != 0)
		return wrc;
	if (job->crypto_failed)
		return E2E_EX_DATAERR;
	return prc;
}

int
jwe_open_file(struct jwe_open *jo, struct infile *in, uint64_t off,
    uint64_t len, struct sink *plain, uint64_t *pt_len, struct report *rep)
{
	struct file_job *job = NULL;
	struct aead_cbc cbc = { NULL };
	uint8_t *ring = NULL, *pring = NULL, last[16];
	uint64_t total = 0, written = 0;
	size_t w = 0;
	int rc = E2E_EX_SOFTWARE, live = 0, is_cbc = jo->enc->md != NULL;

	*pt_len = 0;
	if ((job = calloc(1, sizeof(*job))) == NULL ||
	    (ring = malloc(FILE_SLOTS * FILE_TEXT)) == NULL ||
	    (is_cbc && (pring = malloc(FILE_SLOTS * FILE_PLAIN)) == NULL)) {
		rc = report_oom(rep);
		goto out;
	}
	job->plain = is_cbc ? NULL : plain;
	/*
	 * A signed message's plaintext is a JWS, whose reader (the sink)
	 * hashes it and decodes its payload: then the worker's share is
	 * the larger, and GCM moves to this thread (64 MiB signed: the
	 * worker's part from 82 ms to 64 ms, this thread's from 32 to 50).
	 */
	job->gcm_here = !is_cbc && jo->signed_content;
	rc = E2E_EX_DATAERR;
	if (aead_decrypt_init(&job->d, jo->enc, jo->cek, jo->iv,
	    jo->enc->iv_len, jo->aad.p, jo->aad.len) != 0)
		goto out;
	live = 1;
	if (is_cbc && aead_cbc_start(&cbc, &job->d) != 0)
		goto out;
	/* The text is read and decoded once; the plaintext goes to the
	 * temporary file as it is made, and the tag is checked at the
	 * end, before anything else (CBC's padding last). */
	if ((rc = file_pass(job, is_cbc ? &cbc : NULL, plain, in, off, len,
	    ring, pring, &total, &written, rep)) != 0)
		goto out;
	rc = E2E_EX_DATAERR;
	if (aead_decrypt_check(&job->d, total, jo->tag,
	    jo->enc->tag_len) != 0)
		goto out;
	if (is_cbc) {
		if (aead_cbc_final(&cbc, last, &w) != 0)
			goto out;
		if (w > 0 && (rc = sink_write(plain, last, w)) != 0)
			goto out;
		*pt_len = written + w;
	} else {
		*pt_len = total;
	}
	rc = 0;
out:
	aead_cbc_free(&cbc);
	if (live)
		aead_decrypt_free(&job->d);
	wipe(last, sizeof(last));
	if (ring != NULL) {
		wipe(ring, FILE_SLOTS * FILE_TEXT);
		free(ring);
	}
	if (pring != NULL) {
		wipe(pring, FILE_SLOTS * FILE_PLAIN);
		free(pring);
	}
	free(job);
	return rc;
}

int
jwe_decrypt(const json_t *obj, char *ct, size_t ct_len, EVP_PKEY *priv,
    const char *own_kid, struct jwe_result *res, struct report *rep)
{
	return jwe_decrypt_into(obj, ct, ct_len, (uint8_t *)ct, priv, own_kid,
	    res, rep);
}

int
jwe_open_prepare(const json_t *obj, EVP_PKEY *priv, const char *own_kid,
    struct jwe_open *jo, struct report *rep)
{
	struct jwe_reader rd = { priv, own_kid, NULL, NULL };

	return jwe_open_prepare_with(obj, &rd, jo, rep);
}

int
jwe_open_prepare_with(const json_t *obj, const struct jwe_reader *rd,
    struct jwe_open *jo, struct report *rep)
{
	const char *own_kid = rd->kid;
	struct jwe_prekey pk;
	uint8_t epk[X25519_LEN], my_epk[X25519_LEN], my_priv[X25519_LEN];
	int ecdh = 0, mine_ecdh = 0, erased = 0, found;
	enum jwe_fs fs = JWE_FS_NONE;
	char pkid[KID_SIZE];
	const json_t *recipients, *unprot, *entry;
	const struct aead_alg *enc = NULL, *e = NULL;
	json_t *prot_hdr = NULL, *merged = NULL;
	const json_t *mine = NULL, *seen;
	const char *prot, *kid, *commit, *eks;
	struct buf prot_json = BUF_INIT, aadbuf = BUF_INIT;
	uint8_t iv[AEAD_MAX_IV], tag[64], ek[RSA_MAX_BYTES];
	uint8_t cek[RSA_MAX_BYTES];
	char own_commit[KID_SIZE], kids[200];
	struct report jwhy = { 0 };	/* what jsonio_parse says */
	size_t prot_len, aad_len = 0, iv_len, tag_len, ek_len, cek_len, i;
	size_t nr;
	long long n;
	int rc = E2E_EX_DATAERR, flattened, ok;
	json_t *kids_seen = NULL;

	memset(jo, 0, sizeof(*jo));
	kids[0] = '\0';
	if ((kids_seen = json_object()) == NULL) {
		rc = E2E_EX_SOFTWARE;
		goto out;
	}

	flattened = json_object_get(obj, "recipients") == NULL;
	if ((kid = jsonio_unknown_member(obj,
	    flattened ? top_flattened : top_general)) != NULL) {
		why_set(rep, "unexpected member \"%.40s\"", kid);
		goto out;
	}
	/* Caps before any cryptography. */
	if ((prot = jsonio_str(obj, "protected", &prot_len)) == NULL) {
		why_set(rep, "\"protected\" is missing or not a "
		    "string");
		goto out;
	}
	if (prot_len == 0 || b64url_declen(prot_len) > JWE_MAX_PROTECTED) {
		why_set(rep, "the protected header is empty or "
		    "larger than %d bytes", JWE_MAX_PROTECTED);
		goto out;
	}
	if (b64url_decode_buf(prot, prot_len, &prot_json) != 0) {
		why_set(rep, "\"protected\" is not base64url");
		goto out;
	}
	prot_hdr = jsonio_parse((const char *)prot_json.p, prot_json.len,
	    &jwhy);
	if (!json_is_object(prot_hdr)) {
		why_set(rep, "the protected header is not a JSON "
		    "object%s%s", prot_hdr ? "" : ": ",
		    prot_hdr ? "" : report_message(&jwhy));
		goto out;
	}
	unprot = json_object_get(obj, "unprotected");
	if (json_object_get(obj, "aad") != NULL &&
	    (jsonio_str(obj, "aad", &aad_len) == NULL ||
	    b64url_decode_buf(jsonio_str(obj, "aad", NULL), aad_len,
	    &aadbuf) != 0)) {
		why_set(rep, "\"aad\" is not a base64url string");
		goto out;
	}
	buf_clear(&aadbuf);
	if (flattened) {
		nr = 1;
		recipients = NULL;
	} else {
		recipients = json_object_get(obj, "recipients");
		if (!json_is_array(recipients) ||
		    (nr = json_array_size(recipients)) == 0) {
			why_set(rep, "\"recipients\" is not a "
			    "non-empty array");
			goto out;
		}
		if (nr > JWE_MAX_RECIPIENTS) {
			why_set(rep, "more than %d recipients",
			    JWE_MAX_RECIPIENTS);
			goto out;
		}
	}
	/* Every recipient's header is checked, ours or not, before any
	 * RSA operation; then the entries for our key are kept. */
	for (i = 0; i < nr; i++) {
		entry = flattened ? obj : json_array_get(recipients, i);
		if (!json_is_object(entry)) {
			why_set(rep, "recipient %zu is not a JSON "
			    "object", i + 1);
			goto out;
		}
		if (!flattened && (kid = jsonio_unknown_member(entry,
		    recipient_members)) != NULL) {
			why_set(rep, "unexpected member \"%.40s\" in "
			    "recipient %zu", kid, i + 1);
			goto out;
		}
		json_decref(merged);
		if ((merged = json_object()) == NULL ||
		    merge(merged, prot_hdr, "the protected header", rep) != 0 ||
		    merge(merged, unprot, "\"unprotected\"", rep) != 0 ||
		    merge(merged, json_object_get(entry, "header"),
		    "a recipient's \"header\"", rep) != 0)
			goto out;
		if (check_header(merged, &e, &ecdh, rep) != 0)
			goto out;
		if (enc != NULL && e != enc) {
			why_set(rep, "recipients disagree on \"enc\"");
			goto out;
		}
		enc = e;
		if (jsonio_str(entry, "encrypted_key", NULL) == NULL) {
			why_set(rep, "\"encrypted_key\" is missing "
			    "or not a string");
			goto out;
		}
		/* Every entry names its key, once: then any change to the
		 * (unprotected) entry header is refused, not ignored, and no
		 * message can make a reader try its key many times. */
		kid = jsonio_str(merged, "kid", NULL);
		if (kid == NULL) {
			why_set(rep, "recipient %zu has no key id "
			    "(\"kid\")", i + 1);
			goto out;
		}
		if ((seen = json_object_get(kids_seen, kid)) != NULL) {
			why_set(rep, "key id %.43s names more than "
			    "one recipient", kid);
			goto out;
		}
		if (json_object_set_new(kids_seen, kid, json_true()) != 0) {
			rc = E2E_EX_SOFTWARE;
			goto out;
		}
		/* What decides how the plaintext is read, and the key
		 * commitment, count only when integrity-protected. */
		if ((json_object_get(merged, "cty") != NULL &&
		    json_object_get(prot_hdr, "cty") == NULL) ||
		    (json_object_get(merged, "cek_commit") != NULL &&
		    json_object_get(prot_hdr, "cek_commit") == NULL)) {
			why_set(rep, "\"cty\" and \"cek_commit\" "
			    "must be in the protected header");
			goto out;
		}
		if (ecdh && x25519_jwk_read(json_object_get(merged, "epk"),
		    "\"epk\"", epk, rep) != 0)
			goto out;
		/* Ours: an RSA entry for our key, or an ECDH-ES entry for
		 * one of our prekeys (of this identity: the signed names
		 * are then checked against own_kid). */
		found = -1;
		if (!ecdh)
			found = strcmp(kid, own_kid) == 0 ? 0 : -1;
		else if (rd->prekey != NULL)
			found = rd->prekey(rd->prekey_arg, kid, &pk);
		if (found == 0 && mine != NULL) {
			wipe(&pk, sizeof(pk));
			why_set(rep, "more than one recipient is for key %s",
			    own_kid);
			goto out;
		}
		if (found == 0) {
			mine = entry;
			mine_ecdh = ecdh;
			if (ecdh) {
				memcpy(my_epk, epk, sizeof(epk));
				memcpy(my_priv, pk.priv, X25519_LEN);
				fs = pk.kind;
				snprintf(pkid, sizeof(pkid), "%s", kid);
				wipe(&pk, sizeof(pk));
			}
		} else if (found == 1) {
			erased = 1;
		} else if (strlen(kids) + strlen(kid) + 3 < 120)
			snprintf(kids + strlen(kids), sizeof(kids) -
			    strlen(kids), "%s%.43s", kids[0] ? ", " : "", kid);
	}
	if (mine == NULL && erased) {
		why_set(rep, "%s", JWE_ERASED);
		goto out;
	}
	if (mine == NULL) {
		why_set(rep, "this message is for key%s %s; your key "
		    "is %s", strchr(kids, ',') ? "s" : "", kids, own_kid);
		goto out;
	}
	commit = jsonio_str(prot_hdr, "cek_commit", NULL);
	if (commit != NULL && !jwk_is_kid(commit, strlen(commit))) {
		why_set(rep, "\"cek_commit\" is not a SHA-256 "
		    "value");
		goto out;
	}
	if (decode_member(obj, "iv", iv, sizeof(iv), &iv_len, rep) != 0 ||
	    decode_member(obj, "tag", tag, sizeof(tag), &tag_len, rep) != 0)
		goto out;
	if (iv_len != enc->iv_len || tag_len != enc->tag_len) {
		why_set(rep, "the IV or the tag has the wrong length "
		    "for %s", enc->name);
		goto out;
	}
	/* AAD: ASCII(protected), or ASCII(protected "." aad) (5.1 step 14). */
	if (buf_append(&aadbuf, prot, prot_len) != 0 ||
	    (aad_len > 0 && (buf_append(&aadbuf, ".", 1) != 0 ||
	    buf_append(&aadbuf, jsonio_str(obj, "aad", NULL), aad_len) != 0))) {
		rc = report_oom(rep);
		goto out;
	}
	if (json_object_get(obj, "aad") != NULL && aad_len == 0 &&
	    buf_append(&aadbuf, ".", 1) != 0) {
		rc = report_oom(rep);
		goto out;
	}

	/* Checked above: a string. */
	eks = jsonio_str(mine, "encrypted_key", &ek_len);
	n = b64url_declen(ek_len) <= sizeof(ek) ? b64url_decode(eks, ek_len,
	    ek) : -1;
	/* RFC 7516 11.5: a failed unwrap goes on with a random key, and so
	 * does a key that does not match the commitment: every failure from
	 * here on is a tag mismatch after the same work, with no reason. */
	if (mine_ecdh) {
		int urc = n < 0 ? -1 : ecdhes_unwrap(my_priv, my_epk, ek,
		    (size_t)n, cek, sizeof(cek), &cek_len, rep);

		if (urc > 0) {
			rc = urc;
			goto out;
		}
		ok = urc == 0 && cek_len == enc->key_len;
	} else {
		ok = n >= 0 && rsa_oaep_decrypt(rd->priv, ek, (size_t)n, cek,
		    sizeof(cek), &cek_len) == 0 && cek_len == enc->key_len;
	}
	if (ok && commit != NULL) {
		if (cek_commitment(cek, enc->key_len, own_commit, rep) != 0) {
			rc = report_crypto(rep, "checking the key commitment");
			goto out;
		}
		ok = CRYPTO_memcmp(commit, own_commit, KID_LEN) == 0;
	}
	if (!ok && crypto_random(cek, enc->key_len, rep) != 0) {
		rc = E2E_EX_SOFTWARE;
		goto out;
	}
	memcpy(jo->cek, cek, enc->key_len);
	memcpy(jo->iv, iv, enc->iv_len);
	memcpy(jo->tag, tag, enc->tag_len);
	jo->aad = aadbuf;
	aadbuf.p = NULL;
	aadbuf.len = aadbuf.cap = 0;
	jo->enc = enc;
	jo->nrecipients = nr;
	jo->uncommitted_group = enc->md == NULL && commit == NULL && nr > 1;
	/* Only a protected cty counts (checked above), and check_header
	 * allowed no other value than ours. */
	jo->signed_content = json_object_get(prot_hdr, "cty") != NULL;
	jo->fs = fs;
	if (fs != JWE_FS_NONE)
		memcpy(jo->pkid, pkid, KID_SIZE);
	rc = 0;
out:
	wipe(my_priv, sizeof(my_priv));
	wipe(cek, sizeof(cek));
	json_decref(kids_seen);
	json_decref(merged);
	json_decref(prot_hdr);
	buf_free(&prot_json);
	buf_free(&aadbuf);
	if (rc != 0)
		jwe_open_free(jo);
	return rc;
}

void
jwe_open_free(struct jwe_open *jo)
{
	buf_free(&jo->aad);
	wipe(jo, sizeof(*jo));
}

int
jwe_decrypt_into(const json_t *obj, const char *ct, size_t ct_len,
    uint8_t *out, EVP_PKEY *priv, const char *own_kid,
    struct jwe_result *res, struct report *rep)
{
	struct jwe_reader rd = { priv, own_kid, NULL, NULL };

	return jwe_decrypt_into_with(obj, ct, ct_len, out, &rd, res, rep);
}

int
jwe_decrypt_into_with(const json_t *obj, const char *ct, size_t ct_len,
    uint8_t *out, const struct jwe_reader *rd, struct jwe_result *res,
    struct report *rep)
{
	struct jwe_open jo;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = jwe_open_prepare_with(obj, rd, &jo, rep)) != 0)
		return rc;
	rc = E2E_EX_DATAERR;
	if (decode_and_decrypt(jo.enc, jo.cek, jo.iv, &jo.aad, ct, ct_len,
	    out, jo.tag, &res->pt_len) != 0)
		goto out;
	res->enc = jo.enc;
	res->pt = out;
	res->nrecipients = jo.nrecipients;
	res->uncommitted_group = jo.uncommitted_group;
	res->signed_content = jo.signed_content;
	res->fs = jo.fs;
	memcpy(res->pkid, jo.pkid, KID_SIZE);
	rc = 0;
out:
	jwe_open_free(&jo);
	if (rc != 0)
		memset(res, 0, sizeof(*res));
	return rc;
}
