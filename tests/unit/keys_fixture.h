/*
 * keys_fixture.h - the committed test keys (tests/vectors/keys, whose
 * README says what each one is) for the unit tests: their key ids, and
 * each key loaded with OpenSSL alone, not with the code under test. The
 * tests run from the project root. Test data is trusted: a key that does
 * not load stops the run (exit 2).
 */
#ifndef E2E_KEYS_FIXTURE_H
#define E2E_KEYS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "format/jwk.h"
#include "harness.h"

#define KEY_DIR "tests/vectors/keys"

/* RFC 7638 thumbprints as jwcrypto 1.1 computes them:
 * /usr/bin/python3 -c 'from jwcrypto import jwk;
 *   print(jwk.JWK.from_pem(open("tests/vectors/keys/alice.pub","rb")
 *   .read()).thumbprint())' */
#define KID_ALICE "Y6uyIp-NFRQQmtZ9rLcfgpiPEqI5_c0iGbHeHZmM_zA"
#define KID_BOB "sa58v0dhmhXOXVF-ddQWVzkv7VYg9_vIO6wdWcgyKrY"
#define KID_CAROL "4djZ3eaqLNlfcJ3m8FPe0p3UVsCkjn_fYf4K3vecUPc"
#define KID_PKCS1 "wey44NHuQnfNYqbsKQMj5NWjlH7Pfui8zPLOTstoEbw"
#define KID_PROTECTED "efo8eX5AsrvUdbqFybrcuxBLF-WZd2jObyABJH6Ow6Q"

/* KEY_DIR/name into out. */
static inline void
fixture_path(const char *name, char *out, size_t size)
{
	if ((size_t)snprintf(out, size, "%s/%s", KEY_DIR, name) >= size) {
		fprintf(stderr, "test key name too long: %s\n", name);
		exit(2);
	}
}

/* The key of KEY_DIR/name: private (any PEM OpenSSL reads without a
 * passphrase), or public (SubjectPublicKeyInfo). */
static inline EVP_PKEY *
fixture_key(const char *name, int private)
{
	char path[256];
	EVP_PKEY *k;
	BIO *bio;

	fixture_path(name, path, sizeof(path));
	if ((bio = BIO_new_file(path, "r")) == NULL) {
		fprintf(stderr, "cannot open %s (run from the project root)\n",
		    path);
		exit(2);
	}
	k = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) :
	    PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (k == NULL) {
		fprintf(stderr, "cannot read the key %s\n", path);
		exit(2);
	}
	return k;
}

static inline EVP_PKEY *
fixture_private(const char *name)
{
	return fixture_key(name, 1);
}

static inline EVP_PKEY *
fixture_public(const char *name)
{
	return fixture_key(name, 0);
}

/* The key id of k into kid. */
static inline void
fixture_kid(EVP_PKEY *k, char kid[KID_SIZE])
{
	if (jwk_thumbprint(k, kid) != 0) {
		fprintf(stderr, "cannot compute a test key's id\n");
		exit(2);
	}
}

/* The text of KEY_DIR/name (a PEM file), NUL-terminated, malloc'd. */
static inline char *
fixture_text(const char *name)
{
	char path[256];

	fixture_path(name, path, sizeof(path));
	return harness_read(path);
}

#endif
