/* keyfile.c - PEM key files (see keyfile.h). */

/*
 * The fast paths below use the RSA-specific DER decoders, which OpenSSL 3
 * marks deprecated; they are still supported in 3.x and are the reason
 * this file exists in its present form (see fast_private).
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "format/keyfile.h"
#include "base/err.h"
#include "base/fileio.h"
#include "format/rsa.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

struct pass_cb {
	const struct passphrase_src *src;
	struct report *rep;	/* where passphrase_get reports */
	int asked;
	int rc;
	char pass[PASSPHRASE_MAX];	/* asked once, however often OpenSSL calls */
};

static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_cb *cb = u;
	size_t len;

	(void)rwflag;
	if (cb->rc != 0)
		return -1;
	if (!cb->asked) {
		cb->asked = 1;
		if ((cb->rc = passphrase_get(cb->src, 0, cb->pass,
		    cb->rep)) != 0)
			return -1;
	}
	len = strlen(cb->pass);
	if (len > (size_t)size) {
		cb->rc = E2E_EX_NOPERM;
		return -1;
	}
	memcpy(buf, cb->pass, len);
	return (int)len;
}

static int
has_block(const struct buf *b, const char *label)
{
	char begin[64];
	size_t n = (size_t)snprintf(begin, sizeof(begin), "-----BEGIN %s-----",
	    label);

	return b->len >= n && memmem(b->p, b->len, begin, n) != NULL;
}

/*
 * OpenSSL 3's generic decoders (PEM_read_bio_PrivateKey, OSSL_DECODER)
 * set up a chain of every decoder they know on each call: for a tool
 * that decrypts one message that is about a third of its run. The PEM
 * layer and the RSA-specific DER decoders read the formats we write
 * (unencrypted PKCS#8, and PKCS#1) in a small fraction of that; anything
 * else (encrypted keys, other key types, PEM headers) returns NULL here
 * and takes the generic path.
 */
/* The RSA key of a PKCS#8 PrivateKeyInfo, or NULL. */
static RSA *
rsa_of_p8(const PKCS8_PRIV_KEY_INFO *p8)
{
	const ASN1_OBJECT *algoid;
	const unsigned char *p, *pk;
	int pk_len;
	RSA *rsa;

	if (PKCS8_pkey_get0(&algoid, &pk, &pk_len, NULL, p8) != 1 ||
	    OBJ_obj2nid(algoid) != NID_rsaEncryption)
		return NULL;
	p = pk;
	rsa = d2i_RSAPrivateKey(NULL, &p, pk_len);
	if (rsa != NULL && p != pk + pk_len) {
		RSA_free(rsa);
		rsa = NULL;
	}
	return rsa;
}

/* An RSA key in an EVP_PKEY (taking rsa), or NULL (rsa freed). */
static EVP_PKEY *
pkey_of_rsa(RSA *rsa)
{
	EVP_PKEY *k;

	if (rsa == NULL || (k = EVP_PKEY_new()) == NULL) {
		RSA_free(rsa);
		return NULL;
	}
	if (EVP_PKEY_assign_RSA(k, rsa) != 1) {
		EVP_PKEY_free(k);
		RSA_free(rsa);
		return NULL;
	}
	return k;
}

static EVP_PKEY *
fast_private(const struct buf *b)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	const unsigned char *p;
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	long der_len = 0;
	RSA *rsa = NULL;
	EVP_PKEY *k = NULL;
	BIO *bio;

	if ((bio = BIO_new_mem_buf(b->p, (int)b->len)) == NULL)
		goto out;
	if (PEM_read_bio(bio, &name, &header, &der, &der_len) != 1 ||
	    header == NULL || header[0] != '\0')
		goto out;
	p = der;
	if (strcmp(name, PEM_STRING_PKCS8INF) == 0) {
		p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, der_len);
		if (p8 == NULL || p != der + der_len)
			goto out;
		rsa = rsa_of_p8(p8);
	} else if (strcmp(name, PEM_STRING_RSA) == 0) {
		rsa = d2i_RSAPrivateKey(NULL, &p, der_len);
		if (rsa != NULL && p != der + der_len)
			goto out;
	}
	k = pkey_of_rsa(rsa);
	rsa = NULL;	/* k's, or freed */
out:
	RSA_free(rsa);
	PKCS8_PRIV_KEY_INFO_free(p8);	/* clears the key bytes */
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)der_len);
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(bio);
	ERR_clear_error();
	return k;
}

/*
 * An encrypted PKCS#8 RSA key (what e2e-keygen -p writes), decrypted
 * here: OpenSSL's generic decoder frees the decrypted key's bytes
 * without clearing them, PKCS8_decrypt_ex clears them. Returns 1 when
 * it was such a key (*out the key, or NULL: cb says why, or the
 * passphrase was wrong), 0 for the generic path.
 */
static int
fast_encrypted(const struct buf *b, struct pass_cb *cb, EVP_PKEY **out)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	X509_SIG *sig = NULL;
	const unsigned char *p;
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	long der_len = 0;
	int done = 0;
	BIO *bio;

	*out = NULL;
	if ((bio = BIO_new_mem_buf(b->p, (int)b->len)) == NULL)
		goto out;
	if (PEM_read_bio(bio, &name, &header, &der, &der_len) != 1 ||
	    header == NULL || header[0] != '\0' ||
	    strcmp(name, PEM_STRING_PKCS8) != 0)
		goto out;
	p = der;
	if ((sig = d2i_X509_SIG(NULL, &p, der_len)) == NULL ||
	    p != der + der_len)
		goto out;
	done = 1;
	cb->asked = 1;
	if ((cb->rc = passphrase_get(cb->src, 0, cb->pass, cb->rep)) != 0)
		goto out;
	if ((p8 = PKCS8_decrypt_ex(sig, cb->pass, (int)strlen(cb->pass),
	    NULL, NULL)) == NULL)
		goto out;	/* the wrong passphrase */
	/* Not RSA: the generic path says what it is. */
	if ((*out = pkey_of_rsa(rsa_of_p8(p8))) == NULL) {
		done = 0;
		cb->asked = 0;
	}
out:
	PKCS8_PRIV_KEY_INFO_free(p8);	/* clears the key bytes */
	X509_SIG_free(sig);
	OPENSSL_free(der);
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(bio);
	ERR_clear_error();
	return done;
}

/* The same for public keys: SubjectPublicKeyInfo and PKCS#1. */
static EVP_PKEY *
fast_public(const struct buf *b)
{
	const unsigned char *p;
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	long der_len = 0;
	RSA *rsa = NULL;
	EVP_PKEY *k = NULL;
	BIO *bio;

	if ((bio = BIO_new_mem_buf(b->p, (int)b->len)) == NULL)
		goto out;
	if (PEM_read_bio(bio, &name, &header, &der, &der_len) != 1 ||
	    header == NULL || header[0] != '\0')
		goto out;
	p = der;
	if (strcmp(name, PEM_STRING_PUBLIC) == 0)
		rsa = d2i_RSA_PUBKEY(NULL, &p, der_len);
	else if (strcmp(name, PEM_STRING_RSA_PUBLIC) == 0)
		rsa = d2i_RSAPublicKey(NULL, &p, der_len);
	if (rsa == NULL || p != der + der_len || (k = EVP_PKEY_new()) == NULL)
		goto out;
	if (EVP_PKEY_assign_RSA(k, rsa) != 1) {
		EVP_PKEY_free(k);
		k = NULL;
		goto out;
	}
	rsa = NULL;
out:
	RSA_free(rsa);
	OPENSSL_free(der);
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(bio);
	ERR_clear_error();
	return k;
}

/*
 * A protected key names its own key-derivation cost, and a hostile file
 * could name one that takes hours. The PBES1 and PBKDF2 iteration counts
 * are checked before any passphrase is asked for or any derivation runs.
 * (scrypt is bounded by OpenSSL's own memory cap.) Returns 0, or 65
 * (reported).
 */
static int
check_pbe_cost(const struct buf *b, const char *name, struct report *rep)
{
	const ASN1_OBJECT *oid;
	const X509_ALGOR *alg;
	const unsigned char *p;
	X509_SIG *sig = NULL;
	PBE2PARAM *pbe2 = NULL;
	PBKDF2PARAM *kdf = NULL;
	PBEPARAM *pbe1 = NULL;
	char *pem_name = NULL, *header = NULL;
	unsigned char *der = NULL;
	long der_len = 0, iter = 0;
	int rc = 0, nid;
	BIO *bio;

	if ((bio = BIO_new_mem_buf(b->p, (int)b->len)) == NULL)
		return 0;
	if (PEM_read_bio(bio, &pem_name, &header, &der, &der_len) != 1 ||
	    strcmp(pem_name, PEM_STRING_PKCS8) != 0)
		goto out;
	p = der;
	if ((sig = d2i_X509_SIG(NULL, &p, der_len)) == NULL)
		goto out;
	X509_SIG_get0(sig, &alg, NULL);
	X509_ALGOR_get0(&oid, NULL, NULL, alg);
	nid = OBJ_obj2nid(oid);
	if (nid == NID_pbes2) {
		pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM),
		    alg->parameter);
		if (pbe2 != NULL &&
		    OBJ_obj2nid(pbe2->keyfunc->algorithm) == NID_id_pbkdf2 &&
		    (kdf = ASN1_TYPE_unpack_sequence(
		    ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter)) !=
		    NULL)
			iter = ASN1_INTEGER_get(kdf->iter);
	} else if ((pbe1 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM),
	    alg->parameter)) != NULL) {
		iter = ASN1_INTEGER_get(pbe1->iter);
	}
	if (iter < 0 || iter > KEYFILE_ITER_MAX) {
		rc = report_error(rep, E2E_EX_DATAERR, "%s asks for %ld "
		    "key-derivation iterations; more than %d are refused", name,
		    iter, KEYFILE_ITER_MAX);
	}
out:
	PBKDF2PARAM_free(kdf);
	PBE2PARAM_free(pbe2);
	PBEPARAM_free(pbe1);
	X509_SIG_free(sig);
	OPENSSL_free(der);
	OPENSSL_free(pem_name);
	OPENSSL_free(header);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

/*
 * C3: a private key file that group or others can read. Unprotected, it
 * is refused (77): whoever could read it holds the key. Protected by a
 * passphrase, it is used with a warning: the passphrase still guards it
 * (600,000 PBKDF2 iterations a guess), and refusing would lock its owner
 * out for a mode, not for an exposed key (docs/SECURITY.md). Returns 0
 * or 77 (in rep).
 */
static int
exposure(const char *path, int protected, struct report *rep)
{
	if (!file_exposed(path))
		return 0;
	if (protected) {
		file_warn_if_exposed(path, "private key file", rep);
		return 0;
	}
	return report_error(rep, E2E_EX_NOPERM, "private key file %s can be "
	    "read by group or others and has no passphrase; not using it: "
	    "chmod 600 %s", path, path);
}

/* keyfile_load_private; check_mode 0 skips exposure (a key id only). */
static int
load_private(const char *path, const struct passphrase_src *ps,
    int check_mode, EVP_PKEY **out, struct report *rep)
{
	struct buf b = BUF_SECRET_INIT;
	struct passphrase_src src = *ps;
	struct pass_cb cb;
	const char *name = file_is_std(path) ? "standard input" : path;
	BIO *bio = NULL;
	int rc;

	*out = NULL;
	memset(&cb, 0, sizeof(cb));
	cb.src = &src;
	cb.rep = rep;
	if (src.label == NULL)
		src.label = name;
	if ((rc = file_read(path, KEYFILE_MAX, "private key file", &b,
	    rep)) != 0)
		goto out;
	if ((*out = fast_private(&b)) != NULL) {
		if ((rc = check_mode ? exposure(path, 0, rep) : 0) == 0)
			rc = rsa_check(*out, name, rep);
		goto out;
	}
	/* Encrypted PKCS#1 keys ("Proc-Type: 4,ENCRYPTED", from openssl
	 * genrsa -traditional -aes256) name their cipher in the legacy table,
	 * which crypto_init leaves empty: the ciphers such files use are
	 * added here, on the slow path only. */
	if (EVP_add_cipher(EVP_aes_128_cbc()) != 1 ||
	    EVP_add_cipher(EVP_aes_192_cbc()) != 1 ||
	    EVP_add_cipher(EVP_aes_256_cbc()) != 1 ||
	    EVP_add_cipher(EVP_des_ede3_cbc()) != 1) {
		rc = report_crypto(rep, "initialising OpenSSL");
		goto out;
	}
	if (b.len == 0) {
		rc = report_error(rep, E2E_EX_NOINPUT,
		    "%s is not a PEM private key: it is empty", name);
		goto out;
	}
	if ((rc = check_pbe_cost(&b, name, rep)) != 0)
		goto out;
	if ((bio = BIO_new_mem_buf(b.p, (int)b.len)) == NULL) {
		rc = report_crypto(rep, "reading a key");
		goto out;
	}
	if (!fast_encrypted(&b, &cb, out))
		*out = PEM_read_bio_PrivateKey_ex(bio, NULL, pass_cb, &cb,
		    NULL, NULL);
	ERR_clear_error();
	if (*out == NULL) {
		if (cb.rc != 0) {
			rc = cb.rc;
		} else if (cb.asked) {
			rc = report_error(rep, E2E_EX_NOPERM,
			    "wrong passphrase for %s", name);
		} else if (has_block(&b, "PUBLIC KEY") ||
		    has_block(&b, "RSA PUBLIC KEY")) {
			rc = report_error(rep, E2E_EX_NOINPUT,
			    "%s is a public key, not a private key", name);
		} else {
			rc = report_error(rep, E2E_EX_NOINPUT,
			    "%s is not a PEM private key", name);
		}
		goto out;
	}
	/* Its passphrase was asked for: a protected key. */
	if ((rc = check_mode ? exposure(path, cb.asked, rep) : 0) == 0)
		rc = rsa_check(*out, name, rep);
out:
	if (rc != 0) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	wipe(cb.pass, sizeof(cb.pass));
	BIO_free(bio);
	buf_free(&b);
	return rc;
}

int
keyfile_load_private(const char *path, const struct passphrase_src *ps,
    EVP_PKEY **out, struct report *rep)
{
	return load_private(path, ps, 1, out, rep);
}

int
keyfile_parse_public(const uint8_t *pem, size_t len, const char *what,
    EVP_PKEY **out, struct report *rep)
{
	struct buf view = { (uint8_t *)pem, len, len, 0, 0 };
	OSSL_DECODER_CTX *dctx = NULL;
	const unsigned char *p = pem;
	size_t left = len;
	int rc = E2E_EX_NOINPUT;

	*out = NULL;
	if (has_block(&view, "PRIVATE KEY") ||
	    has_block(&view, "ENCRYPTED PRIVATE KEY") ||
	    has_block(&view, "RSA PRIVATE KEY")) {
		report_error(rep, E2E_EX_NOINPUT,
		    "%s is a private key; give the public key", what);
		report_hint(rep,
		    "e2e-keygen writes it beside the private key, as "
		    "FILE.pub; or run e2e-keygen -y FILE");
		goto out;
	}
	if ((*out = fast_public(&view)) != NULL) {
		rc = rsa_check(*out, what, rep);
		goto out;
	}
	/* Any key type, so that rsa_check() can say what is wrong with it. */
	dctx = OSSL_DECODER_CTX_new_for_pkey(out, "PEM", NULL, NULL,
	    EVP_PKEY_PUBLIC_KEY, NULL, NULL);
	if (dctx == NULL || OSSL_DECODER_from_data(dctx, &p, &left) != 1 ||
	    *out == NULL) {
		EVP_PKEY_free(*out);
		*out = NULL;
		report_error(rep, E2E_EX_NOINPUT, "%s is not a PEM public key",
		    what);
		goto out;
	}
	rc = rsa_check(*out, what, rep);
out:
	OSSL_DECODER_CTX_free(dctx);
	ERR_clear_error();
	if (rc != 0) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return rc;
}

int
keyfile_load_public(const char *path, EVP_PKEY **out, struct report *rep)
{
	/* Secret: it may turn out to be a private key file. */
	struct buf b = BUF_SECRET_INIT;
	int rc;

	*out = NULL;
	if ((rc = file_read(path, KEYFILE_MAX, "public key file", &b,
	    rep)) == 0)
		rc = keyfile_parse_public(b.p, b.len,
		    file_is_std(path) ? "standard input" : path, out, rep);
	buf_free(&b);
	return rc;
}

static int
load_public_half(const char *path, const struct passphrase_src *ps,
    int check_mode, EVP_PKEY **out, struct report *rep)
{
	struct buf b = BUF_SECRET_INIT;
	int rc, private;

	*out = NULL;
	if ((rc = file_read(path, KEYFILE_MAX, "key file", &b, rep)) != 0)
		return rc;
	private = has_block(&b, "PRIVATE KEY") ||
	    has_block(&b, "ENCRYPTED PRIVATE KEY") ||
	    has_block(&b, "RSA PRIVATE KEY");
	if (!private)
		rc = keyfile_parse_public(b.p, b.len,
		    file_is_std(path) ? "standard input" : path, out, rep);
	buf_free(&b);
	/* A private key file: its public half (a protected one asks for
	 * its passphrase). */
	return private ? load_private(path, ps, check_mode, out, rep) : rc;
}

int
keyfile_load_public_half(const char *path, const struct passphrase_src *ps,
    EVP_PKEY **out, struct report *rep)
{
	return load_public_half(path, ps, 1, out, rep);
}

int
keyfile_public_kid(const char *path, char kid[KID_SIZE])
{
	/* Never used: a protected key is recognised first and not opened;
	 * should one slip by, it reads no passphrase from an empty file
	 * rather than ask on the terminal. */
	const struct passphrase_src none = { "/dev/null", NULL };
	struct buf b = BUF_SECRET_INIT;
	char pub[4096];
	EVP_PKEY *pk = NULL;
	int rc = -1;

	/* Whatever goes wrong is "no key id": the reports are dropped. */
	if (keyfile_pub_path(path, pub, sizeof(pub), NULL) == 0 &&
	    keyfile_load_public(pub, &pk, NULL) == 0) {
		rc = jwk_thumbprint(pk, kid, NULL) == 0 ? 0 : -1;
		goto out;
	}
	EVP_PKEY_free(pk);
	pk = NULL;
	if (file_read(path, KEYFILE_MAX, "key file", &b, NULL) != 0 ||
	    has_block(&b, "ENCRYPTED PRIVATE KEY") ||
	    (b.len > 0 && memmem(b.p, b.len, "Proc-Type: 4,ENCRYPTED", 22) !=
	    NULL))
		goto out;
	/* Only its id: its mode is judged where the key is used. */
	if (load_public_half(path, &none, 0, &pk, NULL) == 0 &&
	    jwk_thumbprint(pk, kid, NULL) == 0)
		rc = 0;
out:
	buf_free(&b);
	EVP_PKEY_free(pk);
	return rc;
}

/* Running out of memory is said in rep, before the caller's line. */
static int
bio_to_buf(BIO *bio, struct buf *out, struct report *rep)
{
	char *p = NULL;
	long n = BIO_get_mem_data(bio, &p);

	buf_clear(out);
	if (n <= 0)
		return -1;
	if (buf_append(out, p, (size_t)n) != 0) {
		report_oom(rep);
		return -1;
	}
	return 0;
}

int
keyfile_private_pem(EVP_PKEY *k, const char *pass, struct buf *out,
    struct report *rep)
{
	PKCS8_PRIV_KEY_INFO *p8inf = NULL;
	X509_ALGOR *pbe = NULL;
	X509_SIG *p8 = NULL;
	BIO *bio = BIO_new(BIO_s_secmem());
	int rc = 0;

	if (bio == NULL)
		goto fail;
	if (pass == NULL) {
		if (PEM_write_bio_PKCS8PrivateKey(bio, k, NULL, NULL, 0, NULL,
		    NULL) != 1)
			goto fail;
	} else {
		p8inf = EVP_PKEY2PKCS8(k);
		pbe = PKCS5_pbe2_set_iv_ex(EVP_aes_256_cbc(),
		    KEYFILE_PBKDF2_ITER, NULL, 0, NULL, NID_hmacWithSHA256,
		    NULL);
		if (p8inf == NULL || pbe == NULL)
			goto fail;
		p8 = PKCS8_set0_pbe_ex(pass, (int)strlen(pass), p8inf, pbe,
		    NULL, NULL);
		if (p8 == NULL)
			goto fail;
		pbe = NULL;	/* now owned by p8 */
		if (PEM_write_bio_PKCS8(bio, p8) != 1)
			goto fail;
	}
	if (bio_to_buf(bio, out, rep) != 0)
		goto fail;
	goto out;
fail:
	rc = report_crypto(rep, "encoding the private key");
out:
	X509_SIG_free(p8);
	X509_ALGOR_free(pbe);
	PKCS8_PRIV_KEY_INFO_free(p8inf);
	BIO_free(bio);
	return rc;
}

int
keyfile_public_pem(EVP_PKEY *k, struct buf *out, struct report *rep)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int rc = 0;

	if (bio == NULL || PEM_write_bio_PUBKEY(bio, k) != 1 ||
	    bio_to_buf(bio, out, rep) != 0)
		rc = report_crypto(rep, "encoding the public key");
	BIO_free(bio);
	return rc;
}

int
keyfile_pub_path(const char *path, char *out, size_t size, struct report *rep)
{
	int n = snprintf(out, size, "%s.pub", path);

	if (n < 0 || (size_t)n >= size) {
		report_error(rep, E2E_EX_USAGE, "file name too long: %s",
		    path);
		return E2E_EX_USAGE;
	}
	return 0;
}

int
keyfile_write_pair(const char *path, EVP_PKEY *k, const char *pass,
    int force, struct report *rep)
{
	struct buf priv = BUF_SECRET_INIT, pub = BUF_INIT;
	char pub_path[4096];
	int rc;

	if ((rc = keyfile_private_pem(k, pass, &priv, rep)) != 0)
		goto out;
	if (file_is_std(path)) {
		rc = file_write_atomic(NULL, priv.p, priv.len, 0600, 0, rep);
		goto out;
	}
	if ((rc = keyfile_pub_path(path, pub_path, sizeof(pub_path),
	    rep)) != 0 || (rc = keyfile_public_pem(k, &pub, rep)) != 0)
		goto out;
	if ((rc = file_write_atomic(path, priv.p, priv.len, 0600,
	    force ? -1 : 1, rep)) != 0)
		goto out;
	if ((rc = file_write_atomic(pub_path, pub.p, pub.len, 0644,
	    force ? -1 : 1, rep)) != 0 && !force)
		(void)unlink(path);	/* ours, just created: no half pair */
out:
	buf_free(&priv);
	buf_free(&pub);
	return rc;
}
