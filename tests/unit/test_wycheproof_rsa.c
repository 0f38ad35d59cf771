/*
 * Wycheproof RSA vectors against lib/format/rsa.c: RSA-OAEP-256 unwrap of the
 * content key (J3) and PS256 verification with the salt pinned to 32
 * (J17). See ../shared/SECURITY-TESTS.md section 2.
 */
#include "harness.h"

#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "format/crypto.h"
#include "format/rsa.h"

static int n_oaep, n_oaep_valid, n_oaep_label, n_oaep_invalid;
static int n_pss, n_pss_valid, n_pss_invalid, n_pss_acceptable;

/*
 * stderr is captured around a call (harness.h), so a test can assert
 * that a failure is silent: a decryption error that printed OpenSSL's
 * reason would be an oracle as good as a distinct return code.
 */
static EVP_PKEY *
pem_private(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return k;
}

static EVP_PKEY *
pem_public(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return k;
}

/*
 * OpenSSL's own OAEP-SHA-256 decryption with a label. The labelled
 * vectors must fail with our API (JOSE has no label); decrypting them
 * here shows they fail for that reason alone, not for a broken vector.
 */
static int
openssl_oaep_label(EVP_PKEY *k, const uint8_t *label, size_t label_len,
    const uint8_t *ct, size_t ct_len, uint8_t *out, size_t *out_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	void *l = OPENSSL_memdup(label, label_len);
	int ok = 0;

	if (ctx != NULL && l != NULL && EVP_PKEY_decrypt_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, "SHA256", NULL) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, "SHA256", NULL) == 1 &&
	    EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, l, (int)label_len) == 1) {
		l = NULL;	/* owned by ctx now */
		ok = EVP_PKEY_decrypt(ctx, out, out_len, ct, ct_len) == 1;
	}
	OPENSSL_free(l);
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/*
 * rsa_oaep_2048_sha256_mgf1sha256_test.json: valid vectors with an empty
 * label decrypt to msg; every other vector (invalid padding, invalid
 * ciphertext, and the valid ones with a label) fails the same way (J3,
 * Manger): -1, *out_len 0, OpenSSL's error queue empty, nothing printed.
 */
static void
oaep_vectors(void)
{
	json_t *root = harness_wycheproof(
	    "rsa_oaep_2048_sha256_mgf1sha256_test.json");
	json_t *g, *t;
	size_t gi, ti;

	if (root == NULL)
		return;
	json_array_foreach(json_object_get(root, "testGroups"), gi, g) {
		EVP_PKEY *key = pem_private(jstr(g, "privateKeyPem"));

		/* The file is what our alg is: SHA-256 and MGF1-SHA-256. */
		CHECK(strcmp(jstr(g, "sha"), "SHA-256") == 0 &&
		    strcmp(jstr(g, "mgfSha"), "SHA-256") == 0);
		CHECKF(key != NULL, "group %zu: privateKeyPem does not load",
		    gi);
		if (key == NULL) {
			ERR_clear_error();
			continue;
		}
		json_array_foreach(json_object_get(g, "tests"), ti, t) {
			int tc = (int)json_integer_value(json_object_get(t,
			    "tcId"));
			const char *result = jstr(t, "result");
			size_t msg_len, ct_len, label_len, out_len, ol;
			uint8_t *msg = jhex(t, "msg", &msg_len);
			uint8_t *ct = jhex(t, "ct", &ct_len);
			uint8_t *label = jhex(t, "label", &label_len);
			uint8_t out[RSA_MAX_BYTES], ref[RSA_MAX_BYTES];
			long printed;
			int rc;

			n_oaep++;
			ERR_clear_error();
			out_len = 12345;	/* must be overwritten */
			capture_begin();
			rc = rsa_oaep_decrypt(key, ct, ct_len, out,
			    sizeof(out), &out_len);
			capture_end();
			printed = cap_len;
			if (strcmp(result, "valid") == 0 && label_len == 0) {
				n_oaep_valid++;
				CHECKF(rc == 0 && out_len == msg_len &&
				    memcmp(out, msg, msg_len) == 0,
				    "tcId %d: valid vector not decrypted to "
				    "msg", tc);
			} else if (strcmp(result, "acceptable") == 0) {
				/* Either outcome; it must not crash. */
			} else {
				if (label_len > 0) {
					/* A label is not JOSE: must fail. */
					n_oaep_label++;
					ol = sizeof(ref);
					CHECKF(strcmp(result, "valid") != 0 ||
					    (openssl_oaep_label(key, label,
					    label_len, ct, ct_len, ref, &ol) &&
					    ol == msg_len &&
					    memcmp(ref, msg, msg_len) == 0),
					    "tcId %d: labelled vector does not "
					    "decrypt even with its label", tc);
				} else {
					n_oaep_invalid++;
				}
				/* J3: one error class, identical for all. */
				CHECKF(rc == -1, "tcId %d (%s, label %zu "
				    "bytes): decrypt returned %d, not -1", tc,
				    result, label_len, rc);
				CHECKF(out_len == 0, "tcId %d: *out_len is %zu "
				    "after a failure, not 0", tc, out_len);
			}
			/* Nothing distinguishes a failure afterwards. */
			CHECKF(ERR_peek_error() == 0, "tcId %d: OpenSSL error "
			    "queue not empty", tc);
			CHECKF(printed == 0, "tcId %d: decryption wrote %ld "
			    "bytes to stderr", tc, printed);
			ERR_clear_error();
			free(msg);
			free(ct);
			free(label);
		}
		EVP_PKEY_free(key);
	}
	json_decref(root);
}

/*
 * rsa_pss_2048_sha256_mgf1_32_test.json: PS256 is exactly SHA-256,
 * MGF1-SHA-256 and a 32-byte salt, with a signature of exactly the
 * modulus size (J17: s_len 0/1/20/31/33, s = 0, 1, n-1, n, unreduced,
 * zeros prepended or appended, truncated, a PKCS#1 v1.5 signature).
 */
static void
pss_vectors(void)
{
	json_t *root = harness_wycheproof(
	    "rsa_pss_2048_sha256_mgf1_32_test.json");
	json_t *g, *t;
	size_t gi, ti;

	if (root == NULL)
		return;
	json_array_foreach(json_object_get(root, "testGroups"), gi, g) {
		EVP_PKEY *key = pem_public(jstr(g, "publicKeyPem"));

		CHECK(strcmp(jstr(g, "sha"), "SHA-256") == 0 &&
		    strcmp(jstr(g, "mgfSha"), "SHA-256") == 0 &&
		    json_integer_value(json_object_get(g, "sLen")) == 32);
		CHECKF(key != NULL, "group %zu: publicKeyPem does not load",
		    gi);
		if (key == NULL) {
			ERR_clear_error();
			continue;
		}
		json_array_foreach(json_object_get(g, "tests"), ti, t) {
			int tc = (int)json_integer_value(json_object_get(t,
			    "tcId"));
			const char *result = jstr(t, "result");
			size_t msg_len, sig_len;
			uint8_t *msg = jhex(t, "msg", &msg_len);
			uint8_t *sig = jhex(t, "sig", &sig_len);
			int rc;

			n_pss++;
			rc = rsa_pss_verify(key, msg, msg_len, sig, sig_len);
			if (strcmp(result, "valid") == 0) {
				n_pss_valid++;
				CHECKF(rc == 1, "tcId %d: valid signature "
				    "refused", tc);
			} else if (strcmp(result, "invalid") == 0) {
				n_pss_invalid++;
				CHECKF(rc == 0, "tcId %d (%s): invalid "
				    "signature accepted (rc %d)", tc,
				    jstr(t, "comment"), rc);
			} else {
				n_pss_acceptable++;
				CHECKF(rc == 0 || rc == 1, "tcId %d: rc %d",
				    tc, rc);
			}
			CHECKF(ERR_peek_error() == 0, "tcId %d: OpenSSL error "
			    "queue not empty", tc);
			ERR_clear_error();
			free(msg);
			free(sig);
		}
		EVP_PKEY_free(key);
	}
	json_decref(root);
}

/*
 * J17: a signature is exactly the modulus size. OpenSSL reads a shorter
 * one as a number with leading zeros, so a valid signature whose first
 * octet is 0 would still verify with that octet stripped if rsa.c did
 * not check the length (Wycheproof's "truncated signature" drops the
 * last octets instead, which fails anyway). Signs with the OAEP
 * vectors' key until the first octet is 0, about 1 in 256 signatures.
 */
static void
pss_leading_zero(void)
{
	static const uint8_t msg[] = "e2e-chat PS256 leading zero";
	json_t *root = harness_wycheproof(
	    "rsa_oaep_2048_sha256_mgf1sha256_test.json");
	uint8_t sig[RSA_MAX_BYTES + 1];
	EVP_PKEY *key;
	size_t sl = 0;
	int i;

	if (root == NULL)
		return;
	key = pem_private(jstr(json_array_get(json_object_get(root,
	    "testGroups"), 0), "privateKeyPem"));
	CHECK(key != NULL);
	if (key == NULL)
		goto out;
	for (i = 0; i < 8192; i++)
		if (rsa_pss_sign(key, msg, sizeof(msg), sig, &sl, NULL) != 0 ||
		    sig[0] == 0)
			break;
	CHECKF(i < 8192 && sl == 256 && sig[0] == 0, "no signature with a "
	    "leading zero octet");
	CHECK(rsa_pss_verify(key, msg, sizeof(msg), sig, sl) == 1);
	CHECKF(rsa_pss_verify(key, msg, sizeof(msg), sig + 1, sl - 1) == 0,
	    "a 255-byte signature verified");
	memmove(sig + 1, sig, sl);
	sig[0] = 0;
	CHECKF(rsa_pss_verify(key, msg, sizeof(msg), sig, sl + 1) == 0,
	    "a 257-byte signature verified");
	CHECK(ERR_peek_error() == 0);
	EVP_PKEY_free(key);
out:
	json_decref(root);
}

int
main(void)
{
	if (crypto_init(NULL) != 0)
		return 2;
	RUN(oaep_vectors);
	RUN(pss_vectors);
	RUN(pss_leading_zero);
	printf("oaep: %d vectors (%d valid decrypted, %d labelled refused, "
	    "%d invalid refused)\n", n_oaep, n_oaep_valid, n_oaep_label,
	    n_oaep_invalid);
	printf("pss: %d vectors (%d valid, %d invalid, %d acceptable)\n",
	    n_pss, n_pss_valid, n_pss_invalid, n_pss_acceptable);
	return harness_end();
}
