/*
 * Key files (lib/format/keyfile.c): the PEM kinds read as private keys
 * (PKCS#8, PKCS#1, encrypted PKCS#8 and PKCS#1 with a passphrase) and as
 * public keys (SubjectPublicKeyInfo, PKCS#1), and every refusal with its
 * code: the other half given, not a key, empty, too large, a hostile
 * key-derivation cost, a wrong or missing passphrase, keys rsa_check
 * refuses (weak, e = 3, not RSA) whichever way they come; the key id
 * known without asking anything; and a pair written 0600/0644, encrypted
 * when asked, never over an existing file (no half pair left), to
 * standard output alone for "-".
 *
 * Runs from the project root (it reads tests/vectors/keys).
 */
#include "harness.h"
#include "keys_fixture.h"

#include <sys/wait.h>

#include "base/buf.h"
#include "base/err.h"
#include "format/crypto.h"
#include "format/jwk.h"
#include "format/keyfile.h"

static char dir[256];
static EVP_PKEY *alice;

/* dir/name. */
static const char *
at(const char *name)
{
	return harness_path(dir, name);
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* The key id of k, or "" when k is NULL. */
static const char *
kid_of(EVP_PKEY *k)
{
	static char kid[KID_SIZE];

	kid[0] = '\0';
	if (k != NULL)
		fixture_kid(k, kid);
	return kid;
}

/* Which loader a case goes through. */
enum loader { PRIVATE, PUBLIC, HALF };

static int
load(enum loader l, const char *path, const char *passfile, EVP_PKEY **k)
{
	struct passphrase_src ps = { passfile, NULL };
	int rc;

	capture_begin();
	if (l == PRIVATE)
		rc = keyfile_load_private(path, &ps, k, &t_rep);
	else if (l == PUBLIC)
		rc = keyfile_load_public(path, k, &t_rep);
	else
		rc = keyfile_load_public_half(path, &ps, k, &t_rep);
	rep_shown();
	capture_end();
	return rc;
}

/* The committed keys through each loader: what is accepted (with its
 * key id), what is refused (with its code and words). */
static void
committed_keys(void)
{
	static const struct {
		enum loader l;
		const char *file;
		int want;
		const char *kid_or_says;
	} t[] = {
		{ PRIVATE, "alice", 0, KID_ALICE },
		{ PRIVATE, "pkcs1.key", 0, KID_PKCS1 },
		{ PRIVATE, "protected", 0, KID_PROTECTED },
		{ PRIVATE, "alice.pub", 66, "is a public key, not a private "
		    "key" },
		{ PRIVATE, "pkcs1.pub", 66, "is a public key, not a private "
		    "key" },
		{ PRIVATE, "README", 66, "is not a PEM private key" },
		{ PRIVATE, "weak1024.key", 65, "1024-bit RSA key" },
		{ PRIVATE, "e3.key", 65, "public exponent other than 65537" },
		{ PRIVATE, "ec.key", 65, "is not an RSA key" },
		{ PRIVATE, "manyiter.key", 65, "asks for 7000000 "
		    "key-derivation iterations; more than 6000000 are "
		    "refused" },
		{ PRIVATE, "no-such-key", 66, "cannot open private key file" },
		{ PUBLIC, "alice.pub", 0, KID_ALICE },
		{ PUBLIC, "pkcs1.pub", 0, KID_PKCS1 },
		{ PUBLIC, "protected.pub", 0, KID_PROTECTED },
		{ PUBLIC, "alice", 66, "is a private key; give the public "
		    "key" },
		{ PUBLIC, "pkcs1.key", 66, "is a private key" },
		{ PUBLIC, "protected", 66, "is a private key" },
		{ PUBLIC, "README", 66, "is not a PEM public key" },
		{ PUBLIC, "weak1024.pub", 65, "1024-bit RSA key" },
		{ PUBLIC, "e3.pub", 65, "public exponent other than 65537" },
		{ PUBLIC, "ec.pub", 65, "is not an RSA key" },
		{ PUBLIC, "no-such-key.pub", 66, "cannot open public key "
		    "file" },
		{ HALF, "alice", 0, KID_ALICE },
		{ HALF, "alice.pub", 0, KID_ALICE },
		{ HALF, "pkcs1.key", 0, KID_PKCS1 },
		{ HALF, "protected", 0, KID_PROTECTED },
		{ HALF, "README", 66, "is not a PEM public key" },
		{ HALF, "weak1024.key", 65, "1024-bit RSA key" },
		{ HALF, "ec.pub", 65, "is not an RSA key" },
		{ HALF, "manyiter.key", 65, "key-derivation iterations" },
	};
	char path[256], pass[512];
	EVP_PKEY *k;
	size_t i;
	int rc;

	snprintf(pass, sizeof(pass), "%s/pass", dir);
	put_str(pass, "correct horse\n");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fixture_path(t[i].file, path, sizeof(path));
		k = (EVP_PKEY *)1;
		rc = load(t[i].l, path, pass, &k);
		CHECKF(rc == t[i].want, "%d %s: %d %s", t[i].l, t[i].file, rc,
		    cap_text);
		if (t[i].want == 0) {
			CHECKF(k != NULL && strcmp(kid_of(k),
			    t[i].kid_or_says) == 0, "%s: %s", t[i].file,
			    kid_of(k));
			/* The copies are 0600: nothing said of their mode
			 * (exposed_keys tests the rest). */
			CHECKF(strstr(cap_text, "group or others") == NULL,
			    "%s: %s", t[i].file, cap_text);
		} else {
			CHECKF(k == NULL, "%s: a key was returned", t[i].file);
			CHECKF(strstr(cap_text, t[i].kid_or_says) != NULL,
			    "%d %s: %s", t[i].l, t[i].file, cap_text);
		}
		EVP_PKEY_free(k);
	}
	/* A refused private key hints at the public one's tool. */
	fixture_path("alice", path, sizeof(path));
	load(PUBLIC, path, NULL, &k);
	CHECKF(strstr(cap_text, "hint: e2e-keygen writes it beside the "
	    "private key, as FILE.pub; or run e2e-keygen -y FILE"), "%s",
	    cap_text);
}

/* Passphrases: from the environment and a file, wrong, one byte short,
 * empty. */
static void
passphrases(void)
{
	struct passphrase_src ps = { NULL, NULL };
	char k[KID_SIZE], path[256];
	EVP_PKEY *key = NULL;
	int rc;

	fixture_path("protected", path, sizeof(path));
	setenv("E2E_PASSPHRASE", "correct horse", 1);
	capture_begin();
	rc = keyfile_load_private(path, &ps, &key, &t_rep);
	rep_shown();
	capture_end();
	CHECKF(rc == 0 && key != NULL, "protected: %d %s", rc, cap_text);
	if (key != NULL) {
		CHECK(jwk_thumbprint(key, k, NULL) == 0 &&
		    strcmp(k, KID_PROTECTED) == 0);
		EVP_PKEY_free(key);
	}
	setenv("E2E_PASSPHRASE", "correct horse!", 1);
	capture_begin();
	rc = keyfile_load_private(path, &ps, &key, &t_rep);
	rep_shown();
	capture_end();
	CHECKF(rc == 77 && key == NULL, "wrong passphrase: %d", rc);
	CHECKF(strstr(cap_text, "wrong passphrase") != NULL, "%s", cap_text);
	setenv("E2E_PASSPHRASE", "correct hors", 1);
	capture_begin();
	rc = keyfile_load_private(path, &ps, &key, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 77 && key == NULL);
	/* The file wins over the environment; an empty one is refused
	 * before any derivation. */
	ps.file = at("empty");
	put_str(ps.file, "\n");
	capture_begin();
	rc = keyfile_load_private(path, &ps, &key, &t_rep);
	rep_shown();
	capture_end();
	CHECKF(rc == 65 && key == NULL && strstr(cap_text, "the passphrase "
	    "is empty"), "%d %s", rc, cap_text);
	unsetenv("E2E_PASSPHRASE");
	/* An unprotected key asks for nothing: a passphrase file that
	 * cannot be read is never opened. */
	ps.file = at("missing");
	fixture_path("alice", path, sizeof(path));
	capture_begin();
	rc = keyfile_load_private(path, &ps, &key, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 0 && key != NULL);
	EVP_PKEY_free(key);
}

/* No passphrase source and no terminal: 64, in a child without one. */
static void
no_way_to_ask(void)
{
	struct passphrase_src ps = { NULL, NULL };
	char path[256];
	EVP_PKEY *key = NULL;
	pid_t pid;
	int st, rc;

	fixture_path("protected", path, sizeof(path));
	unsetenv("E2E_PASSPHRASE");
	fflush(NULL);
	if ((pid = fork()) == 0) {
		if (setsid() < 0)
			_exit(1);
		capture_begin();
		rc = keyfile_load_private(path, &ps, &key, &t_rep);
		rep_shown();
		capture_end();
		_exit(rc == 64 && key == NULL && strstr(cap_text,
		    "a passphrase is needed for ") && strstr(cap_text,
		    "/protected and there is no terminal") ? 0 : 1);
	}
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	/* The hostile cost is refused before anything is asked. */
	fixture_path("manyiter.key", path, sizeof(path));
	if ((pid = fork()) == 0) {
		if (setsid() < 0)
			_exit(1);
		capture_begin();
		rc = keyfile_load_private(path, &ps, &key, &t_rep);
		rep_shown();
		capture_end();
		_exit(rc == 65 ? 0 : 1);
	}
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}

/* Files that are not keys, made here: empty, cut short, a folder, too
 * large, a private key on standard input, an encrypted PKCS#1 key. */
static void
made_files(void)
{
	struct passphrase_src ps = { NULL, NULL };
	char *text = fixture_text("alice"), *big;
	size_t len = strlen(text);
	EVP_PKEY *k = NULL;
	BIO *bio;
	int rc, fd, saved;

	put_str(at("empty"), "");
	rc = load(PRIVATE, at("empty"), NULL, &k);
	CHECKF(rc == 66 && strstr(cap_text, "is not a PEM private key: it is "
	    "empty"), "%d %s", rc, cap_text);
	rc = load(PUBLIC, at("empty"), NULL, &k);
	CHECK(rc == 66 && strstr(cap_text, "is not a PEM public key"));
	put_bytes(at("short"), text, len / 2, 0600);
	rc = load(PRIVATE, at("short"), NULL, &k);
	CHECK(rc == 66 && strstr(cap_text, "is not a PEM private key"));
	rc = load(PRIVATE, dir, NULL, &k);
	CHECK(rc == 66 && strstr(cap_text, "is a directory"));
	/* Over 1 MiB, refused unread. */
	if ((big = malloc(KEYFILE_MAX + 1)) == NULL)
		exit(2);
	memset(big, '\n', KEYFILE_MAX + 1);
	memcpy(big, text, len);
	put_bytes(at("big"), big, KEYFILE_MAX + 1, 0600);
	rc = load(PRIVATE, at("big"), NULL, &k);
	CHECK(rc == 65 && strstr(cap_text, "larger than the limit"));
	rc = load(PUBLIC, at("big"), NULL, &k);
	CHECK(rc == 65);
	put_bytes(at("big"), big, KEYFILE_MAX, 0600);
	CHECK(load(PRIVATE, at("big"), NULL, &k) == 0 && k != NULL);
	EVP_PKEY_free(k);
	free(big);

	/* Standard input, named so in messages. */
	put_bytes(at("alice"), text, len, 0600);
	saved = dup(STDIN_FILENO);
	fd = open(at("alice"), O_RDONLY);
	dup2(fd, STDIN_FILENO);
	close(fd);
	rc = load(PRIVATE, "-", NULL, &k);
	CHECK(rc == 0 && strcmp(kid_of(k), KID_ALICE) == 0);
	CHECK(cap_len == 0);
	EVP_PKEY_free(k);
	lseek(STDIN_FILENO, 0, SEEK_SET);
	rc = load(PUBLIC, "-", NULL, &k);
	CHECKF(rc == 66 && strstr(cap_text, "standard input is a private "
	    "key"), "%s", cap_text);
	dup2(saved, STDIN_FILENO);
	close(saved);

	/* Encrypted PKCS#1 ("Proc-Type: 4,ENCRYPTED"), as openssl genrsa
	 * -traditional -aes256 writes it. */
	bio = BIO_new_file(at("trad"), "w");
	CHECK(bio != NULL && PEM_write_bio_PrivateKey_traditional(bio, alice,
	    EVP_aes_256_cbc(), (unsigned char *)"trad pw", 7, NULL,
	    NULL) == 1);
	BIO_free(bio);
	chmod(at("trad"), 0600);
	put_str(at("pass"), "trad pw\n");
	ps.file = at("pass");
	capture_begin();
	rc = keyfile_load_private(at("trad"), &ps, &k, &t_rep);
	rep_shown();
	capture_end();
	CHECKF(rc == 0 && strcmp(kid_of(k), KID_ALICE) == 0, "%d %s", rc,
	    cap_text);
	EVP_PKEY_free(k);
	put_str(at("pass"), "wrong\n");
	capture_begin();
	rc = keyfile_load_private(at("trad"), &ps, &k, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 77 && k == NULL && strstr(cap_text, "wrong passphrase"));
	free(text);
}

/* The key id without asking anything: from FILE.pub when there is one,
 * else from the file itself unless it is protected. Silent. */
static void
public_kid(void)
{
	char kid[KID_SIZE], path[256];
	char *bob_pub = fixture_text("bob.pub"), *carol = fixture_text("carol");
	char *protected = fixture_text("protected");
	int rc;

	/* Beside their .pub. */
	fixture_path("alice", path, sizeof(path));
	capture_begin();
	rc = keyfile_public_kid(path, kid);
	rep_shown();
	capture_end();
	CHECK(rc == 0 && strcmp(kid, KID_ALICE) == 0 && cap_len == 0);
	fixture_path("protected", path, sizeof(path));
	CHECK(keyfile_public_kid(path, kid) == 0 &&
	    strcmp(kid, KID_PROTECTED) == 0);
	/* FILE.pub decides, whatever FILE holds (FILE.pub is FILE's
	 * public key, as e2e-keygen writes them). */
	put_str(at("key"), "");
	put_str(at("key.pub"), bob_pub);
	CHECK(keyfile_public_kid(at("key"), kid) == 0 &&
	    strcmp(kid, KID_BOB) == 0);
	/* Without a .pub: an unprotected key gives its own, a public key
	 * file itself. */
	fixture_path("pkcs1.key", path, sizeof(path));
	CHECK(keyfile_public_kid(path, kid) == 0 &&
	    strcmp(kid, KID_PKCS1) == 0);
	fixture_path("alice.pub", path, sizeof(path));
	CHECK(keyfile_public_kid(path, kid) == 0 &&
	    strcmp(kid, KID_ALICE) == 0);
	/* A .pub that is not a key: the file itself decides. */
	put_str(at("key.pub"), "garbage");
	put_str(at("key"), carol);
	capture_begin();
	rc = keyfile_public_kid(at("key"), kid);
	rep_shown();
	capture_end();
	CHECK(rc == 0 && strcmp(kid, KID_CAROL) == 0 && cap_len == 0);
	/* A protected key without its .pub: unknown, nothing asked. */
	unlink(at("key.pub"));
	fixture_path("manyiter.key", path, sizeof(path));
	capture_begin();
	rc = keyfile_public_kid(path, kid);
	rep_shown();
	capture_end();
	CHECK(rc == -1 && cap_len == 0);
	put_str(at("key"), protected);
	CHECK(keyfile_public_kid(at("key"), kid) == -1);
	CHECK(keyfile_public_kid(at("trad"), kid) == -1);
	/* Nothing to read. */
	CHECK(keyfile_public_kid(at("missing"), kid) == -1);
	CHECK(keyfile_public_kid(dir, kid) == -1);
	put_str(at("key"), "not a key");
	CHECK(keyfile_public_kid(at("key"), kid) == -1);
	free(bob_pub);
	free(carol);
	free(protected);
}

/* From memory, named by what. */
static void
parse_public(void)
{
	char *pub = fixture_text("carol.pub"), *priv = fixture_text("carol");
	EVP_PKEY *k = NULL;
	int rc;

	CHECK(keyfile_parse_public((uint8_t *)pub, strlen(pub), "carol's key",
	    &k, NULL) == 0 && strcmp(kid_of(k), KID_CAROL) == 0);
	EVP_PKEY_free(k);
	capture_begin();
	rc = keyfile_parse_public((uint8_t *)priv, strlen(priv),
	    "carol's key", &k, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 66 && k == NULL && strstr(cap_text, "error: carol's key "
	    "is a private key"));
	capture_begin();
	rc = keyfile_parse_public((uint8_t *)pub, strlen(pub) / 2,
	    "carol's key", &k, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 66 && k == NULL && strstr(cap_text, "carol's key is not a "
	    "PEM public key"));
	capture_begin();
	rc = keyfile_parse_public((uint8_t *)"", 0, "nothing", &k, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 66 && k == NULL);
	free(pub);
	free(priv);
}

/* The PEM written: PKCS#8, encrypted with a passphrase; SPKI. */
static void
pems(void)
{
	struct buf priv = BUF_SECRET_INIT, pub = BUF_INIT;
	EVP_PKEY *k = NULL;

	CHECK(keyfile_private_pem(alice, NULL, &priv, NULL) == 0);
	CHECK(priv.len > 0 && strncmp((char *)priv.p,
	    "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
	CHECK(keyfile_public_pem(alice, &pub, NULL) == 0);
	CHECK(pub.len > 0 && strncmp((char *)pub.p,
	    "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
	CHECK(keyfile_parse_public(pub.p, pub.len, "pub", &k, NULL) == 0 &&
	    strcmp(kid_of(k), KID_ALICE) == 0);
	EVP_PKEY_free(k);
	buf_free(&priv);
	buf_free(&pub);
}

/* A pair written: 0600 and 0644, never over a file, no half pair. */
static void
write_pair(void)
{
	struct passphrase_src ps = { NULL, NULL };
	char *priv, *pub, *text, longpath[4200];
	EVP_PKEY *k = NULL;
	mode_t old = umask(022);
	int rc;

	harness_rmtree(dir);
	harness_tmpdir("keyfile", dir, sizeof(dir));
	capture_begin();
	rc = keyfile_write_pair(at("me"), alice, NULL, 0, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 0 && cap_len == 0);
	CHECK(mode_of(at("me")) == 0600 && mode_of(at("me.pub")) == 0644);
	CHECK(harness_entries(dir) == 2);
	CHECK(load(PRIVATE, at("me"), NULL, &k) == 0 &&
	    strcmp(kid_of(k), KID_ALICE) == 0 && cap_len == 0);
	EVP_PKEY_free(k);
	CHECK(load(PUBLIC, at("me.pub"), NULL, &k) == 0 &&
	    strcmp(kid_of(k), KID_ALICE) == 0);
	EVP_PKEY_free(k);

	/* Never over the private key: 73, both files as they were. */
	priv = fixture_text("carol");
	pub = fixture_text("carol.pub");
	put_str(at("me"), priv);
	capture_begin();
	rc = keyfile_write_pair(at("me"), alice, NULL, 0, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 73 && strstr(cap_text, "already exists"));
	CHECK(load(PRIVATE, at("me"), NULL, &k) == 0 &&
	    strcmp(kid_of(k), KID_CAROL) == 0);
	EVP_PKEY_free(k);
	CHECK(load(PUBLIC, at("me.pub"), NULL, &k) == 0 &&
	    strcmp(kid_of(k), KID_ALICE) == 0);
	EVP_PKEY_free(k);
	CHECK(harness_entries(dir) == 2);
	/* Never over the public key either, and then no private key is
	 * left without it. */
	unlink(at("me"));
	put_str(at("me.pub"), pub);
	capture_begin();
	rc = keyfile_write_pair(at("me"), alice, NULL, 0, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 73 && access(at("me"), F_OK) != 0);
	CHECK(load(PUBLIC, at("me.pub"), NULL, &k) == 0 &&
	    strcmp(kid_of(k), KID_CAROL) == 0);
	EVP_PKEY_free(k);
	CHECK(harness_entries(dir) == 1);
	/* --force: both replaced. */
	put_str(at("me"), priv);
	capture_begin();
	rc = keyfile_write_pair(at("me"), alice, NULL, 1, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 0);
	CHECK(load(HALF, at("me"), NULL, &k) == 0 &&
	    strcmp(kid_of(k), KID_ALICE) == 0);
	EVP_PKEY_free(k);
	CHECK(load(PUBLIC, at("me.pub"), NULL, &k) == 0 &&
	    strcmp(kid_of(k), KID_ALICE) == 0);
	EVP_PKEY_free(k);
	CHECK(harness_entries(dir) == 2);

	/* With a passphrase: encrypted PKCS#8 that only it opens. */
	capture_begin();
	rc = keyfile_write_pair(at("p"), alice, "pair pw", 0, &t_rep);
	rep_shown();
	capture_end();
	text = harness_read(at("p"));
	CHECK(rc == 0 && strncmp(text, "-----BEGIN ENCRYPTED PRIVATE "
	    "KEY-----\n", 38) == 0);
	free(text);
	put_str(at("pw"), "pair pw\n");
	ps.file = at("pw");
	capture_begin();
	rc = keyfile_load_private(at("p"), &ps, &k, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 0 && strcmp(kid_of(k), KID_ALICE) == 0);
	EVP_PKEY_free(k);
	CHECK(load(PUBLIC, at("p.pub"), NULL, &k) == 0);
	EVP_PKEY_free(k);

	/* A name too long for its .pub: 64 before anything is written. */
	memset(longpath, 'x', 4094);
	longpath[4094] = '\0';
	capture_begin();
	rc = keyfile_write_pair(longpath, alice, NULL, 0, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 64 && strstr(cap_text, "file name too long"));
	CHECK(keyfile_pub_path("ab", longpath, 7, NULL) == 0 &&
	    strcmp(longpath, "ab.pub") == 0);
	capture_begin();
	CHECK(keyfile_pub_path("abc", longpath, 7, &t_rep) == 64);
	rep_shown();
	capture_end();
	/* A folder that does not exist. */
	capture_begin();
	rc = keyfile_write_pair(at("no/me"), alice, NULL, 0, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 73);
	CHECK(harness_entries(dir) == 5);
	free(priv);
	free(pub);
	umask(old);
}

/* "-": the private key alone, to standard output. */
static void
pair_to_stdout(void)
{
	int saved = dup(STDOUT_FILENO), fd, rc;
	EVP_PKEY *k = NULL;

	fd = open(at("stdout"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	capture_begin();
	rc = keyfile_write_pair("-", alice, NULL, 0, &t_rep);
	rep_shown();
	capture_end();
	dup2(saved, STDOUT_FILENO);
	close(saved);
	CHECK(rc == 0);
	CHECK(load(PRIVATE, at("stdout"), NULL, &k) == 0 &&
	    strcmp(kid_of(k), KID_ALICE) == 0);
	EVP_PKEY_free(k);
	CHECK(access(at("-.pub"), F_OK) != 0 && access("-.pub", F_OK) != 0);
}

/*
 * C3: an unprotected private key file group or others can read is
 * refused (77, one line naming it and chmod 600) by every loader of
 * private keys; a protected one is used with a warning; a key id alone
 * (keyfile_public_kid) is still known.
 */
static void
exposed_keys(void)
{
	static const mode_t modes[] = { 0644, 0640, 0604, 0660, 0606 };
	char *carol = fixture_text("carol"), *pkcs1 = fixture_text("pkcs1.key");
	char *protected = fixture_text("protected"), want[1024], kid[KID_SIZE];
	EVP_PKEY *k;
	size_t i;
	int rc;

	put_str(at("pass"), "correct horse\n");
	snprintf(want, sizeof(want), "test_keyfile: error: private key file "
	    "%s can be read by group or others and has no passphrase; not "
	    "using it: chmod 600 %s\n", at("loose"), at("loose"));
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		/* PKCS#8 (the fast path) and PKCS#1 (OpenSSL's decoder). */
		put_bytes(at("loose"), carol, strlen(carol), modes[i]);
		k = (EVP_PKEY *)1;
		rc = load(PRIVATE, at("loose"), at("pass"), &k);
		CHECKF(rc == 77 && k == NULL && strcmp(cap_text, want) == 0,
		    "%o: %d %s", (unsigned)modes[i], rc, cap_text);
		k = (EVP_PKEY *)1;
		rc = load(HALF, at("loose"), at("pass"), &k);
		CHECKF(rc == 77 && k == NULL, "half %o: %d", (unsigned)modes[i],
		    rc);
		put_bytes(at("loose"), pkcs1, strlen(pkcs1), modes[i]);
		k = (EVP_PKEY *)1;
		rc = load(PRIVATE, at("loose"), at("pass"), &k);
		CHECKF(rc == 77 && k == NULL && strcmp(cap_text, want) == 0,
		    "pkcs1 %o: %d %s", (unsigned)modes[i], rc, cap_text);
		/* Its id alone is known all the same. */
		CHECKF(keyfile_public_kid(at("loose"), kid) == 0 &&
		    strcmp(kid, KID_PKCS1) == 0, "kid %o", (unsigned)modes[i]);
		/* Protected: used, with the warning and the hint. */
		put_bytes(at("loose"), protected, strlen(protected), modes[i]);
		rc = load(PRIVATE, at("loose"), at("pass"), &k);
		CHECKF(rc == 0 && k != NULL && strcmp(kid_of(k),
		    KID_PROTECTED) == 0 && strstr(cap_text, "warning: private "
		    "key file") && strstr(cap_text, "can be read by group or "
		    "others") && strstr(cap_text, "hint: chmod 600"),
		    "protected %o: %d %s", (unsigned)modes[i], rc, cap_text);
		EVP_PKEY_free(k);
	}
	/* 0600 and 0400: used, nothing said. */
	put_bytes(at("loose"), carol, strlen(carol), 0400);
	rc = load(PRIVATE, at("loose"), NULL, &k);
	CHECKF(rc == 0 && k != NULL && cap_len == 0, "0400: %d %s", rc,
	    cap_text);
	EVP_PKEY_free(k);
	unlink(at("loose"));
	free(carol);
	free(pkcs1);
	free(protected);
}

int
main(void)
{
	err_setprog("test_keyfile");
	if (crypto_init(NULL) != 0)
		return 2;
	unsetenv("E2E_PASSPHRASE");
	harness_tmpdir("keyfile", dir, sizeof(dir));
	alice = fixture_private("alice");
	RUN(committed_keys);
	RUN(passphrases);
	RUN(no_way_to_ask);
	RUN(made_files);
	RUN(public_kid);
	RUN(exposed_keys);
	RUN(parse_public);
	RUN(pems);
	RUN(write_pair);
	RUN(pair_to_stdout);
	EVP_PKEY_free(alice);
	harness_rmtree(dir);
	return harness_end();
}
