/*
 * What e2e-encrypt and e2e-decrypt make of -r and --verify
 * (lib/keys/contacts.c, contact_recipients and contact_verify_opts): key
 * files and contacts' keys (every device's) in the order given, with
 * their names ("" for a file); the same key given twice (also as a
 * contact's and as a file) and more keys than allowed are usage errors
 * naming both; a file's key is what --verify requires, a contact's keys
 * are any of them, with its name as the signed sender.
 *
 * Runs from the project root (it reads tests/vectors/keys). PATH is
 * emptied, so that no e2e-keys is run to refresh a contact: its pinned
 * keys serve.
 */
#include "harness.h"

#include "base/buf.h"
#include "base/err.h"
#include "format/crypto.h"
#include "format/keyfile.h"
#include "keys/contacts.h"
#include "keys/keyring.h"

#define KEY_DIR "tests/vectors/keys"
#define KID_ALICE "Y6uyIp-NFRQQmtZ9rLcfgpiPEqI5_c0iGbHeHZmM_zA"
#define KID_BOB "sa58v0dhmhXOXVF-ddQWVzkv7VYg9_vIO6wdWcgyKrY"
#define KID_CAROL "4djZ3eaqLNlfcJ3m8FPe0p3UVsCkjn_fYf4K3vecUPc"

static char dir[64];
static const char *said = "";

/* Runs contact_recipients on args, its report as a tool prints it (and
 * whatever else reached stderr) into said. */
static int
recipients(const char *const *args, size_t n, size_t max,
    struct jwe_recipient *r, char (*names)[NAME_LEN_MAX + 1], size_t *nr)
{
	struct report rep = { 0 };
	int rc;

	capture_begin();
	rc = contact_recipients(args, n, r, names, max, nr, &rep);
	err_print(&rep);
	said = capture_end();
	CHECKF(rep.code == rc, "report %d, returned %d", rep.code, rc);
	return rc;
}

static void
free_keys(struct jwe_recipient *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		EVP_PKEY_free(r[i].pub);
		r[i].pub = NULL;
	}
}

/* bob, pinned with two keys (two devices): bob's and carol's. */
static void
pin_bob(void)
{
	static const char *const files[] = { "bob.pub", "carol.pub" };
	struct keyring_key key;
	struct keyring *k;
	struct buf pem = BUF_INIT;
	EVP_PKEY *pk;
	char path[128];
	size_t i;

	if (keyring_open(dir, 1, &k, NULL) != 0)
		exit(2);
	for (i = 0; i < 2; i++) {
		memset(&key, 0, sizeof(key));
		snprintf(path, sizeof(path), "%s/%s", KEY_DIR, files[i]);
		pem.len = 0;
		if (keyfile_load_public(path, &pk, NULL) != 0 ||
		    jwk_thumbprint(pk, key.kid, NULL) != 0 ||
		    keyfile_public_pem(pk, &pem, NULL) != 0 ||
		    buf_terminate(&pem) != 0)
			exit(2);
		key.pem = (char *)pem.p;
		if (keyring_import(k, "bob", &key, 1, NULL) != 0)
			exit(2);
		EVP_PKEY_free(pk);
	}
	if (keyring_save(k, NULL) != 0)
		exit(2);
	keyring_close(k);
	buf_free(&pem);
}

static void
files_and_contacts(void)
{
	static const char *const a[] = { KEY_DIR "/alice.pub", "bob" };
	static const char *const twice[] = { KEY_DIR "/carol.pub", "bob" };
	static const char *const same[] = { KEY_DIR "/alice.pub",
		"./" KEY_DIR "/alice.pub" };
	static const char *const none[] = { KEY_DIR "/alice.pub", "nobody" };
	struct jwe_recipient r[8];
	char names[8][NAME_LEN_MAX + 1];
	size_t nr;

	memset(r, 0, sizeof(r));
	CHECKF(recipients(a, 2, 8, r, names, &nr) == 0, "%s", said);
	CHECK(nr == 3);
	CHECK(strcmp(r[0].kid, KID_ALICE) == 0 && names[0][0] == '\0');
	CHECK(strcmp(r[1].kid, KID_BOB) == 0 && strcmp(names[1], "bob") == 0);
	CHECK(strcmp(r[2].kid, KID_CAROL) == 0 &&
	    strcmp(names[2], "bob") == 0);
	CHECK(r[0].pub != NULL && r[1].pub != NULL && r[2].pub != NULL);
	CHECKF(said[0] == '\0', "%s", said);
	free_keys(r, nr);

	/* Two keys at most: the third is refused; what was taken is the
	 * caller's to free. */
	CHECK(recipients(a, 2, 2, r, names, &nr) == 64 && nr == 2);
	CHECKF(strncmp(said, "test: error: at most 2 recipient keys\n",
	    38) == 0, "%s", said);
	free_keys(r, nr);

	/* The same key as a file and as a contact's, or as two paths:
	 * named by what the user typed. */
	CHECK(recipients(twice, 2, 8, r, names, &nr) == 64 && nr == 2);
	CHECKF(strncmp(said, "test: error: " KEY_DIR "/carol.pub and bob are "
	    "the same key (" KID_CAROL ")\n", strlen("test: error: " KEY_DIR
	    "/carol.pub and bob are the same key (" KID_CAROL ")\n")) == 0,
	    "%s", said);
	free_keys(r, nr);
	CHECK(recipients(same, 2, 8, r, names, &nr) == 64 && nr == 1);
	CHECKF(strstr(said, "/alice.pub and ./" KEY_DIR "/alice.pub are the "
	    "same key") != NULL, "%s", said);
	free_keys(r, nr);

	/* A name that is no contact. */
	CHECK(recipients(none, 2, 8, r, names, &nr) == 66 && nr == 1);
	CHECKF(strstr(said, "nobody is neither a key file nor a contact") !=
	    NULL, "%s", said);
	free_keys(r, nr);
}

static void
verify_opts(void)
{
	struct contact c;
	struct open_opts o;
	char what[64];

	/* A key file: its key, no name. */
	memset(&o, 0, sizeof(o));
	if (contact_resolve(KEY_DIR "/alice.pub", 0, &c, NULL) != 0)
		exit(2);
	contact_verify_opts(&c, &o, what, sizeof(what));
	CHECK(o.verify == c.pub[0] && strcmp(o.verify_kid, KID_ALICE) == 0);
	CHECK(o.signer_key == NULL && !o.require_signer);
	CHECK(o.verify_name == NULL);
	contact_free(&c);

	/* A contact with two keys: any of them, required, and its name. */
	memset(&o, 0, sizeof(o));
	if (contact_resolve("bob", 0, &c, NULL) != 0)
		exit(2);
	contact_verify_opts(&c, &o, what, sizeof(what));
	CHECK(o.verify == NULL && o.verify_kid == NULL);
	CHECK(o.signer_key != NULL && o.require_signer);
	CHECK(strcmp(o.signer_what, "the keys pinned for bob") == 0);
	CHECK(o.verify_name != NULL && strcmp(o.verify_name, "bob") == 0);
	CHECK(o.signer_key(o.signer_arg, KID_CAROL) == c.pub[1]);
	CHECK(o.signer_key(o.signer_arg, KID_BOB) == c.pub[0]);
	CHECK(o.signer_key(o.signer_arg, KID_ALICE) == NULL);
	contact_free(&c);

	/* No --verify: nothing required. */
	memset(&o, 0, sizeof(o));
	memset(&c, 0, sizeof(c));
	contact_verify_opts(&c, &o, what, sizeof(what));
	CHECK(o.verify == NULL && o.signer_key == NULL &&
	    o.verify_name == NULL && !o.require_signer);
}

int
main(void)
{
	char cmd[128];

	err_setprog("test");
	setenv("PATH", "/nonexistent", 1);
	if (crypto_init(NULL) != 0)
		return 2;
	snprintf(dir, sizeof(dir), "/tmp/test_contact_recipients.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 2;
	setenv("E2E_HOME", dir, 1);
	pin_bob();
	RUN(files_and_contacts);
	RUN(verify_opts);
	snprintf(cmd, sizeof(cmd), "/bin/rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return harness_end();
}
