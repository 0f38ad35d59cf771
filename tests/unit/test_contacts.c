/*
 * Who -r and --verify name (lib/keys/contacts.c): what is a key file
 * ("-", a path with a '/', a name ending in .pub, .pem or .key, anything
 * that is not a user name, any file that exists) and what is a
 * contact's name, whose pinned keys the keyring gives; the refusals of
 * each (no such file, not a contact, a changed key, one key pinned for
 * two names, a broken keyring); and the refresh through "e2e-keys
 * fetch", played here by a script on PATH that exits as told and says
 * how it was run.
 *
 * Runs from the project root (it reads tests/vectors/keys).
 */
#include "harness.h"
#include "keys_fixture.h"

#include <limits.h>

#include "base/err.h"
#include "format/crypto.h"
#include "keys/contacts.h"

static char dir[256], home[320], work[320], bin[320], fakelog[320];
static char root[PATH_MAX];

static const char *const ring[] = {
	"bob=bob.pub",
	"carol=carol.pub|alice.pub",	/* her key changed */
	"dave=pkcs1.pub,protected.pub",	/* two devices */
	"eve=alice.pub",		/* alice's key under two names: a */
	"mallory=alice.pub",		/* keyring of an older version */
	"empty=",			/* nothing pinned, nothing pending */
	NULL
};

/* contact_resolve, its report printed as a tool prints it, captured
 * (cap_text) with whatever else reached stderr. */
static int
resolve(const char *arg, int flags, struct contact *c)
{
	struct report rep = { 0 };
	int rc;

	capture_begin();
	rc = contact_resolve(arg, flags, c, &rep);
	err_print(&rep);
	capture_end();
	return rc;
}

/* The path of a test key (the tests run in work/). */
static const char *
key_at(const char *name)
{
	static char path[4200];

	fixture_path(name, path, sizeof(path));
	return path;
}

static void
copy_key(const char *name, const char *to)
{
	char *text = fixture_text(name);

	put_str(to, text);
	free(text);
}

/* Names and files, with and without a keyring entry. */
static void
names_and_files(void)
{
	static const struct {
		const char *arg;
		int want;
		const char *name;	/* "" for a file */
		size_t n;
		const char *kid0, *says;
	} t[] = {
		{ "bob", 0, "bob", 1, KID_BOB, NULL },
		{ "dave", 0, "dave", 2, KID_PKCS1, NULL },
		{ "carol", 65, NULL, 0, NULL, "THE KEY OF carol HAS CHANGED" },
		{ "eve", 65, NULL, 0, NULL, "key " KID_ALICE " is pinned for "
		    "both eve and mallory: refusing to use it for eve" },
		{ "mallory", 65, NULL, 0, NULL, "pinned for both mallory and "
		    "eve" },
		{ "zed", 66, NULL, 0, NULL, "zed is neither a key file nor a "
		    "contact in your keyring" },
		{ "empty", 66, NULL, 0, NULL, "empty is neither a key file" },
		/* Files: by their shape, present or not. */
		{ "bob.pub", 66, NULL, 0, NULL, "cannot open public key file "
		    "bob.pub" },
		{ "bob.pem", 66, NULL, 0, NULL, "cannot open public key file "
		    "bob.pem" },
		{ "bob.key", 66, NULL, 0, NULL, "cannot open public key file "
		    "bob.key" },
		{ "./bob", 66, NULL, 0, NULL, "cannot open public key file "
		    "./bob" },
		{ "Bob", 66, NULL, 0, NULL, "Bob is neither a key file nor a "
		    "contact" },
		{ "bob!", 66, NULL, 0, NULL, "cannot open public key file "
		    "bob!" },
		{ "bob smith", 66, NULL, 0, NULL, "cannot open public key "
		    "file" },
		{ "..", 66, NULL, 0, NULL, "public key file .. is a "
		    "directory" },
		{ "here.pub", 0, "", 1, KID_CAROL, NULL },
		{ "dave.key", 66, NULL, 0, NULL, "is a private key" },
	};
	struct contact c;
	size_t i;
	int rc;

	copy_key("carol.pub", "here.pub");
	copy_key("alice", "dave.key");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&c, 0x55, sizeof(c));
		rc = resolve(t[i].arg, 0, &c);
		CHECKF(rc == t[i].want, "%s: %d %s", t[i].arg, rc, cap_text);
		if (t[i].want == 0) {
			CHECKF(strcmp(c.name, t[i].name) == 0 &&
			    c.n == t[i].n && strcmp(c.kid[0], t[i].kid0) == 0 &&
			    c.pub[0] != NULL, "%s: %s %zu %s", t[i].arg, c.name,
			    c.n, c.kid[0]);
			CHECKF(cap_len == 0, "%s: %s", t[i].arg, cap_text);
			contact_free(&c);
			CHECK(c.n == 0);
		} else {
			CHECKF(strstr(cap_text, t[i].says) != NULL, "%s: %s",
			    t[i].arg, cap_text);
			/* Nothing is handed out on failure. */
			CHECK(c.n == 0);
		}
	}
	/* A path to a public key, and the second key of two. */
	CHECK(resolve(key_at("bob.pub"), 0, &c) == 0 && c.name[0] == '\0' &&
	    strcmp(c.kid[0], KID_BOB) == 0);
	contact_free(&c);
	CHECK(resolve("dave", 0, &c) == 0 &&
	    strcmp(c.kid[1], KID_PROTECTED) == 0 && c.pub[1] != NULL);
	contact_free(&c);
	/* What to do next, for a name not known. */
	resolve("zed", 0, &c);
	CHECKF(strstr(cap_text, "hint: sign in and run e2e-keys fetch zed, "
	    "or import a key: e2e-keys import zed FILE"), "%s", cap_text);
	resolve("eve", 0, &c);
	CHECKF(strstr(cap_text, "hint: one key is one person"), "%s",
	    cap_text);
	unlink("here.pub");
	unlink("dave.key");
}

/* A file that exists wins over a contact's name; "-" is standard
 * input. */
static void
file_wins(void)
{
	struct contact c;
	int fd, saved;

	copy_key("carol.pub", "bob");
	CHECK(resolve("bob", 0, &c) == 0 && c.name[0] == '\0' &&
	    strcmp(c.kid[0], KID_CAROL) == 0);
	contact_free(&c);
	copy_key("carol", "bob");
	CHECK(resolve("bob", 0, &c) == 66 && strstr(cap_text, "bob is a "
	    "private key"));
	unlink("bob");
	mkdir("bob", 0700);
	CHECK(resolve("bob", 0, &c) == 66 && strstr(cap_text, "is a "
	    "directory"));
	rmdir("bob");
	CHECK(resolve("bob", 0, &c) == 0 && strcmp(c.name, "bob") == 0);
	contact_free(&c);

	saved = dup(STDIN_FILENO);
	fd = open(key_at("carol.pub"), O_RDONLY);
	dup2(fd, STDIN_FILENO);
	close(fd);
	CHECK(resolve("-", 0, &c) == 0 && c.name[0] == '\0' &&
	    strcmp(c.kid[0], KID_CAROL) == 0);
	contact_free(&c);
	dup2(saved, STDIN_FILENO);
	close(saved);
}

/* A keyring that cannot be used: its error, by name only. */
static void
broken_keyring(void)
{
	char path[400];
	struct contact c;

	snprintf(path, sizeof(path), "%s/keyring.json", home);
	put_str(path, "{\"version\":1,\"contacts\":");
	CHECK(resolve("bob", 0, &c) == 78 && strstr(cap_text, "is not valid "
	    "JSON"));
	/* Files do not need it. */
	CHECK(resolve(key_at("bob.pub"), 0, &c) == 0);
	contact_free(&c);
	chmod(path, 0666);
	fixture_keyring(home, ring);
	chmod(path, 0666);
	CHECK(resolve("bob", 0, &c) == 78 && strstr(cap_text, "only you can "
	    "change"));
	fixture_keyring(home, ring);
	chmod(path, 0600);
	/* No keyring at all: nobody is known. */
	unlink(path);
	CHECK(resolve("bob", 0, &c) == 66 && strstr(cap_text, "bob is neither "
	    "a key file nor a contact"));
	fixture_keyring(home, ring);
}

/* The script that plays e2e-keys: exits with $FAKE_RC, and logs its
 * arguments and where its stdin and stdout go. */
static void
fake_keys(int rc)
{
	char path[400], text[600], env[16];

	snprintf(path, sizeof(path), "%s/e2e-keys", bin);
	snprintf(text, sizeof(text), "#!/bin/sh\n"
	    "echo \"$* in=$(readlink /proc/$$/fd/0) "
	    "out=$(readlink /proc/$$/fd/1)\" >> '%s'\n"
	    "echo 'from e2e-keys' >&2\n"
	    "exit \"$FAKE_RC\"\n", fakelog);
	put_bytes(path, text, strlen(text), 0755);
	snprintf(env, sizeof(env), "%d", rc);
	setenv("FAKE_RC", env, 1);
	unlink(fakelog);
}

/* What the directory says first (e2e-keys fetch): a changed key stops
 * everything; a name it does not know is only good when pinned by hand;
 * when it cannot be asked, the pinned keys serve. */
static void
refresh(void)
{
	static const struct {
		int fetch_rc;
		const char *arg;
		int want;
		const char *says;	/* NULL: silent (the script aside) */
	} t[] = {
		{ 0, "bob", 0, NULL },
		{ 0, "zed", 66, "zed is neither a key file nor a contact" },
		{ 0, "carol", 65, "THE KEY OF carol HAS CHANGED" },
		{ 65, "bob", 65, NULL },
		{ 65, "zed", 65, NULL },
		{ 67, "bob", 0, NULL },
		{ 67, "zed", 67, "zed is not a user of the server" },
		{ 67, "carol", 67, "carol is not a user of the server" },
		{ 75, "bob", 0, NULL },
		{ 75, "zed", 66, "zed is neither a key file" },
		{ 1, "bob", 0, NULL },
	};
	char want_log[400], *log;
	struct contact c;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fake_keys(t[i].fetch_rc);
		rc = resolve(t[i].arg, CONTACT_REFRESH, &c);
		CHECKF(rc == t[i].want, "fetch %d, %s: %d %s", t[i].fetch_rc,
		    t[i].arg, rc, cap_text);
		if (rc == 0)
			contact_free(&c);
		/* The script's stderr is the tool's, for its warnings. */
		CHECKF(strncmp(cap_text, "from e2e-keys\n", 14) == 0, "%s",
		    cap_text);
		if (t[i].says != NULL)
			CHECKF(strstr(cap_text, t[i].says), "fetch %d, %s: %s",
			    t[i].fetch_rc, t[i].arg, cap_text);
		else if (rc == 0)
			CHECKF(strcmp(cap_text, "from e2e-keys\n") == 0,
			    "fetch %d, %s: %s", t[i].fetch_rc, t[i].arg,
			    cap_text);
		if (t[i].fetch_rc == 67 && rc == 67)
			CHECKF(strstr(cap_text, "neither") == NULL &&
			    strstr(cap_text, "CHANGED") == NULL, "%s",
			    cap_text);
		/* Run once, as "fetch --quiet --retry-time 1 NAME", its
		 * stdin and stdout /dev/null. */
		snprintf(want_log, sizeof(want_log), "fetch --quiet "
		    "--retry-time 1 %s in=/dev/null out=/dev/null\n",
		    t[i].arg);
		log = harness_read(fakelog);
		CHECKF(strcmp(log, want_log) == 0, "%s", log);
		free(log);
	}
	/* Files are never looked up. */
	fake_keys(65);
	CHECK(resolve(key_at("bob.pub"), CONTACT_REFRESH, &c) == 0);
	contact_free(&c);
	CHECK(access(fakelog, F_OK) != 0);
	/* contact_refresh itself: the exit status, or -1. */
	fake_keys(42);
	capture_begin();
	CHECK(contact_refresh("bob") == 42);
	fake_keys(0);
	CHECK(contact_refresh("bob") == 0);
	capture_end();
	/* Killed: no status. */
	fake_keys(0);
	snprintf(want_log, sizeof(want_log), "%s/e2e-keys", bin);
	put_str(want_log, "#!/bin/sh\nkill -9 $$\n");
	chmod(want_log, 0755);
	CHECK(contact_refresh("bob") == -1);
}

/* No e2e-keys anywhere: the pinned keys serve. */
static void
no_keys_program(void)
{
	struct contact c;
	char *path = getenv("PATH"), saved[4096];

	snprintf(saved, sizeof(saved), "%s", path ? path : "");
	setenv("PATH", dir, 1);
	CHECK(contact_refresh("bob") == -1);
	CHECK(resolve("bob", CONTACT_REFRESH, &c) == 0 &&
	    strcmp(c.kid[0], KID_BOB) == 0 && cap_len == 0);
	contact_free(&c);
	CHECK(resolve("zed", CONTACT_REFRESH, &c) == 66);
	setenv("PATH", saved, 1);
}

int
main(void)
{
	char path[8192];

	err_setprog("test_contacts");
	if (crypto_init(NULL) != 0 || getcwd(root, sizeof(root)) == NULL)
		return 2;
	harness_tmpdir("contacts", dir, sizeof(dir));
	snprintf(home, sizeof(home), "%s/home", dir);
	snprintf(work, sizeof(work), "%s/work", dir);
	snprintf(bin, sizeof(bin), "%s/bin", dir);
	snprintf(fakelog, sizeof(fakelog), "%s/fetch.log", dir);
	if (mkdir(home, 0700) != 0 || mkdir(work, 0700) != 0 ||
	    mkdir(bin, 0700) != 0)
		return 2;
	fixture_chdir(work);
	setenv("E2E_HOME", home, 1);
	snprintf(path, sizeof(path), "%s:%s", bin, getenv("PATH") ?
	    getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	fixture_keyring(home, ring);
	RUN(names_and_files);
	RUN(file_wins);
	RUN(broken_keyring);
	RUN(refresh);
	RUN(no_keys_program);
	if (chdir(root) != 0)
		return 2;
	harness_rmtree(dir);
	return harness_end();
}
