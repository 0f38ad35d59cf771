/*
 * keys_fixture.h - the committed test keys (tests/vectors/keys, whose
 * README says what each one is) for the unit tests: their key ids, each
 * key loaded with OpenSSL alone, not with the code under test, and a
 * keyring file pinning them written by hand. The tests run from the
 * project root. Test data is trusted: a key that does not load stops the
 * run (exit 2).
 */
#ifndef E2E_KEYS_FIXTURE_H
#define E2E_KEYS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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

/* Where the keys are: KEY_DIR, or its absolute path once
 * fixture_chdir() has left the project root. */
static char fixture_dir[4096] = KEY_DIR;

/* Goes to dir, the keys staying at hand. */
static inline void
fixture_chdir(const char *dir)
{
	char cwd[2048];

	if (fixture_dir[0] != '/' && (getcwd(cwd, sizeof(cwd)) == NULL ||
	    (size_t)snprintf(fixture_dir, sizeof(fixture_dir), "%s/%s", cwd,
	    KEY_DIR) >= sizeof(fixture_dir))) {
		fprintf(stderr, "cannot tell where the test keys are\n");
		exit(2);
	}
	if (chdir(dir) != 0) {
		perror(dir);
		exit(2);
	}
}

/* The folder of the copies (fixture_copies), removed at exit. */
static char fixture_copy_dir[4096];

static inline void
fixture_copies_remove(void)
{
	harness_rmtree(fixture_copy_dir);
}

/*
 * The committed keys come with the checkout's mode (0644 from git), and
 * the code under test refuses an unprotected private key that others can
 * read (C3): the tests read copies, mode 0600, made once in a folder of
 * their own, which fixture_dir then names.
 */
static inline void
fixture_copies(void)
{
	char src[8192], dst[8192], *text;
	struct dirent *e;
	DIR *d;

	if (fixture_copy_dir[0] != '\0')
		return;
	harness_tmpdir("keys", fixture_copy_dir, sizeof(fixture_copy_dir));
	if ((d = opendir(fixture_dir)) == NULL) {
		fprintf(stderr, "cannot open %s (run from the project root)\n",
		    fixture_dir);
		exit(2);
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(src, sizeof(src), "%s/%s", fixture_dir, e->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", fixture_copy_dir,
		    e->d_name);
		text = harness_read(src);
		put_bytes(dst, text, strlen(text), 0600);
		free(text);
	}
	closedir(d);
	atexit(fixture_copies_remove);
	snprintf(fixture_dir, sizeof(fixture_dir), "%s", fixture_copy_dir);
}

/* The path of the test key name into out (a copy, mode 0600). */
static inline void
fixture_path(const char *name, char *out, size_t size)
{
	fixture_copies();
	if ((size_t)snprintf(out, size, "%s/%s", fixture_dir, name) >=
	    size) {
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
	if (jwk_thumbprint(k, kid, NULL) != 0) {
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

/* A contact's list of keys, "a.pub,b.pub", as keyring.json writes it:
 * at_name "added_at" (pinned) or "seen_at" (pending). */
static inline json_t *
fixture_keyring_keys(const char *list, const char *at_name)
{
	char copy[512], kid[KID_SIZE], *name, *save = NULL, *pem;
	json_t *arr = json_array(), *o;
	EVP_PKEY *k;

	snprintf(copy, sizeof(copy), "%s", list);
	for (name = strtok_r(copy, ",", &save); name != NULL;
	    name = strtok_r(NULL, ",", &save)) {
		k = fixture_public(name);
		fixture_kid(k, kid);
		EVP_PKEY_free(k);
		pem = fixture_text(name);
		o = json_pack("{s:s,s:s,s:I}", "kid", kid, "pem", pem,
		    at_name, (json_int_t)1764380000);
		if (strcmp(at_name, "added_at") == 0)
			json_object_set_new(o, "source", json_string("import"));
		json_array_append_new(arr, o);
		free(pem);
	}
	return arr;
}

/*
 * Writes HOME/keyring.json (mode 0600) by hand, as a user or an older
 * version could have left it: one contact per entry, "NAME=KEYS" or
 * "NAME=KEYS|PENDING", each a comma-separated list of committed public
 * key files ("bob=bob.pub", "carol=carol.pub|alice.pub"). NULL ends the
 * entries.
 */
static inline void
fixture_keyring(const char *home, const char *const *entries)
{
	char path[4096], name[128], keys[512], *bar, *text;
	const char *eq;
	json_t *contacts = json_object(), *c, *root;
	size_t i;

	for (i = 0; entries[i] != NULL; i++) {
		if ((eq = strchr(entries[i], '=')) == NULL ||
		    (size_t)(eq - entries[i]) >= sizeof(name))
			exit(2);
		snprintf(name, sizeof(name), "%.*s", (int)(eq - entries[i]),
		    entries[i]);
		snprintf(keys, sizeof(keys), "%s", eq + 1);
		if ((bar = strchr(keys, '|')) != NULL)
			*bar++ = '\0';
		c = json_pack("{s:o,s:o,s:b,s:i,s:b}", "keys",
		    fixture_keyring_keys(keys, "added_at"), "pending",
		    fixture_keyring_keys(bar ? bar : "", "seen_at"),
		    "verified", 0, "verified_at", 0, "signed_seen", 0);
		json_object_set_new(contacts, name, c);
	}
	root = json_pack("{s:i,s:o}", "version", 1, "contacts", contacts);
	if (root == NULL || (text = json_dumps(root, JSON_COMPACT)) == NULL)
		exit(2);
	snprintf(path, sizeof(path), "%s/keyring.json", home);
	put_str(path, text);
	free(text);
	json_decref(root);
}

#endif
