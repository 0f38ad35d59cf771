/*
 * The keyring (lib/keys/keyring.c): keys pinned on first use, offers of
 * the directory (same, changed, pending, no longer listed), accept,
 * import, verify, forget, the signed-JWE mark; one key is one person (a
 * key pinned for another contact, or my own, is refused, with both names
 * said); the file written 0600 atomically under a lock and read back as
 * it was; and every shape of bad or hostile keyring file refused with 78
 * (never a crash, never a hang), as is a file others could change.
 *
 * Runs from the project root (it reads tests/vectors/keys).
 */
#include "harness.h"
#include "keys_fixture.h"

#include <errno.h>
#include <sys/file.h>
#include <sys/wait.h>

#include "base/err.h"
#include "format/crypto.h"
#include "keys/keyring.h"

#define NOW ((int64_t)1764380000)

static char dir[256], home[320], ring_path[400], lock_path[400];

/* The committed public keys, as the keyring takes them. */
enum { ALICE, BOB, CAROL, PKCS1, PROTECTED, NKEYS };
static const char *const key_files[NKEYS] = { "alice.pub", "bob.pub",
	"carol.pub", "pkcs1.pub", "protected.pub" };
static struct keyring_key key[NKEYS];
/* What the last call reported (printed into cap_text as a tool would). */
static struct report rep;

/* Key ids shaped right with no key behind them, for the limits. */
static void
fake_key(struct keyring_key *k, int i)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->kid, sizeof(k->kid), "%042d%c", i, 'A');
	k->pem = (char *)"not a key: the keyring does not parse what it "
	    "is given";
}

static void
fresh(void)
{
	if (dir[0] != '\0')
		harness_rmtree(dir);
	harness_tmpdir("keyring", dir, sizeof(dir));
	snprintf(home, sizeof(home), "%s/home", dir);
	snprintf(ring_path, sizeof(ring_path), "%s/keyring.json", home);
	snprintf(lock_path, sizeof(lock_path), "%s/keyring.lock", home);
}

static int
open_ring(int for_update, struct keyring **k)
{
	int rc;

	capture_begin();
	rc = keyring_open(home, for_update, k, &t_rep);
	rep_shown();
	capture_end();
	return rc;
}

/* Opens for update (the test fails when it cannot). */
static struct keyring *
ring(void)
{
	struct keyring *k = NULL;

	CHECKF(open_ring(1, &k) == 0 && k != NULL, "%s", cap_text);
	return k;
}

static int
save_close(struct keyring *k)
{
	int rc;

	capture_begin();
	rc = keyring_save(k, &t_rep);
	rep_shown();
	capture_end();
	keyring_close(k);
	return rc;
}

static int
offer(struct keyring *k, const char *name, const int *which, size_t n)
{
	struct keyring_key v[NKEYS];
	enum keyring_offer_result result = 0;
	size_t i;
	int rc, code;

	for (i = 0; i < n; i++)
		v[i] = key[which[i]];
	capture_begin();
	rc = keyring_offer(k, name, v, n, NOW, &result, &t_rep);
	code = rep_shown();
	capture_end();
	/* Refused: 65, reported; else the result. */
	if (result == KEYRING_REFUSED)
		return rc == 65 && code == 65 ? (int)result : -1;
	return rc == 0 ? (int)result : -1;
}

/* The kids of name's pinned (or pending) keys, comma-separated. */
static const char *
kids(struct keyring *k, const char *name, int pending)
{
	static char out[1024];
	struct keyring_contact *c = keyring_find(k, name);
	size_t i, n;

	out[0] = '\0';
	if (c == NULL)
		return "(none)";
	n = pending ? c->npending : c->nkeys;
	for (i = 0; i < n; i++) {
		strncat(out, i ? "," : "", sizeof(out) - strlen(out) - 1);
		strncat(out, pending ? c->pending[i].kid : c->keys[i].kid,
		    sizeof(out) - strlen(out) - 1);
	}
	return out;
}

/* First use pins; the file is written 0600 and read back the same. */
static void
pin_and_reload(void)
{
	static const int bob[] = { BOB }, dave[] = { PKCS1, PROTECTED };
	struct keyring_contact *c;
	struct keyring *k;
	struct stat st;

	fresh();
	/* No keyring yet: empty, and nothing written by reading. */
	CHECK(open_ring(0, &k) == 0 && keyring_count(k) == 0);
	CHECK(keyring_find(k, "bob") == NULL && keyring_at(k, 0) == NULL);
	keyring_close(k);
	CHECK(access(home, F_OK) != 0);

	k = ring();
	CHECK(stat(home, &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK(stat(lock_path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(offer(k, "dave", dave, 2) == KEYRING_PINNED);
	CHECK(offer(k, "bob", bob, 1) == KEYRING_PINNED);
	CHECK(cap_len == 0);
	CHECK(keyring_count(k) == 2);
	/* In name order. */
	CHECK(strcmp(keyring_at(k, 0)->name, "bob") == 0 &&
	    strcmp(keyring_at(k, 1)->name, "dave") == 0);
	c = keyring_find(k, "bob");
	CHECK(c != NULL && c->nkeys == 1 && c->npending == 0 &&
	    strcmp(c->keys[0].source, "directory") == 0 &&
	    c->keys[0].at == NOW && !c->verified && !c->signed_seen);
	CHECK(save_close(k) == 0);
	CHECK(stat(ring_path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(harness_entries(home) == 2);

	CHECK(open_ring(0, &k) == 0 && keyring_count(k) == 2);
	CHECK(strcmp(kids(k, "bob", 0), KID_BOB) == 0);
	CHECK(strcmp(kids(k, "dave", 0), KID_PKCS1 "," KID_PROTECTED) == 0);
	c = keyring_find(k, "dave");
	CHECK(c != NULL && strcmp(c->keys[1].source, "directory") == 0 &&
	    c->keys[1].at == NOW && strcmp(c->keys[1].pem,
	    key[PROTECTED].pem) == 0);
	/* Nothing changed: saving writes nothing. */
	unlink(ring_path);
	CHECK(save_close(k) == 0);
	CHECK(access(ring_path, F_OK) != 0);
}

/* The directory's later offers: the same keys, fewer, a new one. */
static void
offers(void)
{
	static const int bob[] = { BOB }, both[] = { BOB, CAROL },
		carol[] = { CAROL }, none[1] = { 0 };
	struct keyring_contact *c;
	struct keyring *k;
	char *text;

	fresh();
	k = ring();
	CHECK(offer(k, "bob", bob, 1) == KEYRING_PINNED);
	CHECK(keyring_usable(k, "bob", NULL) == 0);
	CHECK(offer(k, "bob", bob, 1) == KEYRING_SAME);
	/* A new key: pending, the contact refused until accepted. */
	CHECK(offer(k, "bob", both, 2) == KEYRING_CHANGED);
	CHECK(strcmp(kids(k, "bob", 0), KID_BOB) == 0 &&
	    strcmp(kids(k, "bob", 1), KID_CAROL) == 0);
	CHECK(offer(k, "bob", both, 2) == KEYRING_CHANGED);
	CHECK(strcmp(kids(k, "bob", 1), KID_CAROL) == 0);
	capture_begin();
	CHECK(keyring_usable(k, "bob", &t_rep) == 65);
	rep_shown();
	capture_end();
	CHECKF(strstr(cap_text, "error: THE KEY OF bob HAS CHANGED: not using "
	    "it") && strstr(cap_text, "warning: pinned for bob: " KID_BOB) &&
	    strstr(cap_text, "warning: now offered for bob: " KID_CAROL) &&
	    strstr(cap_text, "hint: compare the new key id with bob in person "
	    "(e2e-keys show bob), then accept it: e2e-keys accept bob"),
	    "%s", cap_text);
	/* No longer offered: no longer pending, usable again. */
	CHECK(offer(k, "bob", bob, 1) == KEYRING_SAME);
	CHECK(keyring_find(k, "bob")->npending == 0);
	CHECK(keyring_usable(k, "bob", NULL) == 0);
	/* A replaced key: pending, and the pinned one marked unlisted. */
	CHECK(offer(k, "bob", carol, 1) == KEYRING_CHANGED);
	c = keyring_find(k, "bob");
	CHECK(c->keys[0].unlisted == 1 && c->npending == 1);
	/* Listed again: not unlisted. */
	CHECK(offer(k, "bob", both, 2) == KEYRING_CHANGED);
	CHECK(c->keys[0].unlisted == 0);
	/* An empty list: every pinned key unlisted, nothing pending. */
	CHECK(offer(k, "bob", none, 0) == KEYRING_SAME);
	CHECK(c->keys[0].unlisted == 1 && c->npending == 0);
	/* Written and read back with its unlisted mark and pending keys. */
	CHECK(offer(k, "bob", both, 2) == KEYRING_CHANGED);
	CHECK(offer(k, "bob", carol, 1) == KEYRING_CHANGED);
	CHECK(save_close(k) == 0);
	text = harness_read(ring_path);
	CHECK(strstr(text, "\"unlisted\":true") != NULL);
	free(text);
	CHECK(open_ring(0, &k) == 0);
	c = keyring_find(k, "bob");
	CHECK(c != NULL && c->nkeys == 1 && c->keys[0].unlisted == 1 &&
	    c->npending == 1 && strcmp(c->pending[0].kid, KID_CAROL) == 0 &&
	    c->pending[0].at == NOW);
	keyring_close(k);
}

/* Accepting: the directory's last list becomes the pinned keys. */
static void
accepting(void)
{
	static const int bob[] = { BOB }, both[] = { BOB, CAROL },
		carol[] = { CAROL };
	struct keyring_contact *c;
	struct keyring *k;
	int rc;

	fresh();
	k = ring();
	capture_begin();
	rc = keyring_accept(k, "bob", NOW, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65 && strstr(cap_text, "no new key of bob is waiting to "
	    "be accepted"));
	CHECK(offer(k, "bob", bob, 1) == KEYRING_PINNED);
	CHECK(keyring_verify(k, "bob", NOW, NULL) == 0);
	capture_begin();
	rc = keyring_accept(k, "bob", NOW, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65);
	/* A second device: both pinned, unverified again. */
	CHECK(offer(k, "bob", both, 2) == KEYRING_CHANGED);
	CHECK(keyring_accept(k, "bob", NOW + 5, NULL) == 0);
	c = keyring_find(k, "bob");
	CHECK(strcmp(kids(k, "bob", 0), KID_BOB "," KID_CAROL) == 0);
	CHECK(c->npending == 0 && !c->verified && c->verified_at == 0);
	CHECK(strcmp(c->keys[1].source, "accepted") == 0 &&
	    c->keys[1].at == NOW + 5);
	CHECK(keyring_usable(k, "bob", NULL) == 0);
	/* A replaced key: the old one goes. */
	CHECK(offer(k, "bob", carol, 1) == KEYRING_SAME);
	CHECK(offer(k, "mallory", bob, 1) == KEYRING_REFUSED);
	keyring_close(k);

	fresh();
	k = ring();
	CHECK(offer(k, "bob", bob, 1) == KEYRING_PINNED);
	CHECK(offer(k, "bob", carol, 1) == KEYRING_CHANGED);
	CHECK(keyring_accept(k, "bob", NOW, NULL) == 0);
	CHECK(strcmp(kids(k, "bob", 0), KID_CAROL) == 0);
	CHECK(save_close(k) == 0);
}

/* One key is one person: another contact's key, or mine, is never
 * pinned; nothing changes when one offered key is refused. */
static void
one_person(void)
{
	static const int bob[] = { BOB }, bob_alice[] = { ALICE, BOB },
		alice[] = { ALICE }, carol[] = { CAROL };
	struct keyring *k;
	int rc;

	fresh();
	k = ring();
	CHECK(offer(k, "bob", bob, 1) == KEYRING_PINNED);
	CHECK(offer(k, "mallory", bob_alice, 2) == KEYRING_REFUSED);
	CHECKF(strstr(cap_text, "error: key " KID_BOB " is pinned for bob "
	    "already: refusing to pin it for mallory") &&
	    strstr(cap_text, "warning: one key is one person: bob and mallory "
	    "cannot both hold it") && strstr(cap_text, "hint: compare the key "
	    "ids"), "%s", cap_text);
	CHECK(keyring_find(k, "mallory") == NULL);
	CHECK(keyring_count(k) == 1);
	/* Refused for a known contact too, and nothing of the offer kept. */
	CHECK(offer(k, "carol", carol, 1) == KEYRING_PINNED);
	CHECK(offer(k, "carol", bob_alice, 2) == KEYRING_REFUSED);
	CHECK(keyring_find(k, "carol")->npending == 0);
	CHECK(keyring_find(k, "carol")->keys[0].unlisted == 0);
	capture_begin();
	rc = keyring_import(k, "mallory", &key[BOB], NOW, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65 && strstr(cap_text, "pinned for bob already"));
	CHECK(keyring_find(k, "mallory") == NULL);
	/* Offered to carol while free, pinned for dave meanwhile (an
	 * import): accepting is refused. */
	CHECK(offer(k, "carol", alice, 1) == KEYRING_CHANGED);
	CHECK(keyring_import(k, "dave", &key[ALICE], NOW, NULL) == 0);
	capture_begin();
	rc = keyring_accept(k, "carol", NOW, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65 && strstr(cap_text, "pinned for dave already: "
	    "refusing to pin it for carol"));
	CHECK(strcmp(kids(k, "carol", 0), KID_CAROL) == 0);
	/* The lookups. */
	CHECK(keyring_other_name(k, KID_BOB, "mallory") != NULL &&
	    strcmp(keyring_other_name(k, KID_BOB, "mallory"), "bob") == 0);
	CHECK(keyring_other_name(k, KID_BOB, "bob") == NULL);
	CHECK(keyring_pins(keyring_find(k, "bob"), KID_BOB) == 1);
	CHECK(keyring_pins(keyring_find(k, "bob"), KID_CAROL) == 0);
	CHECK(keyring_pins(NULL, KID_BOB) == 0);
	keyring_close(k);
}

/* My own key: refused under a contact's name; under my own name it is
 * a note to myself. */
static void
own_key(void)
{
	static const int alice[] = { ALICE }, bob[] = { BOB };
	struct keyring *k;
	int rc;

	fresh();
	k = ring();
	keyring_set_own(k, KID_ALICE, "your key alice.key", NULL);
	CHECK(strcmp(keyring_own(k, KID_ALICE, "bob"), "your key "
	    "alice.key") == 0);
	CHECK(keyring_own(k, KID_BOB, "bob") == NULL);
	CHECK(offer(k, "bob", alice, 1) == KEYRING_REFUSED);
	CHECKF(strstr(cap_text, "error: key " KID_ALICE " is your own (your "
	    "key alice.key): refusing to pin it for bob") &&
	    strstr(cap_text, "hint: if you are bob, sign in, or set name = "
	    "bob in the config file"), "%s", cap_text);
	/* Not even under "alice" while my name is unknown. */
	CHECK(offer(k, "alice", alice, 1) == KEYRING_REFUSED);
	capture_begin();
	rc = keyring_import(k, "bob", &key[ALICE], NOW, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65 && strstr(cap_text, "is your own"));
	/* Knowing my name: my own name may pin it; others may not. */
	keyring_set_own(k, KID_ALICE, "ignored: already set", "alice");
	CHECK(offer(k, "alice", alice, 1) == KEYRING_PINNED);
	CHECK(keyring_own(k, KID_ALICE, "alice") == NULL);
	CHECK(offer(k, "bob", alice, 1) == KEYRING_REFUSED);
	CHECKF(strstr(cap_text, "warning: bob, or the directory, passes your "
	    "key off as bob's"), "%s", cap_text);
	CHECK(offer(k, "bob", bob, 1) == KEYRING_PINNED);
	/* Up to KEYRING_OWN_MAX keys; a malformed id is ignored. */
	keyring_set_own(k, "short", "x", NULL);
	CHECK(keyring_own(k, "short", "bob") == NULL);
	keyring_set_own(k, KID_CAROL, "2", NULL);
	keyring_set_own(k, KID_PKCS1, "3", NULL);
	keyring_set_own(k, KID_PROTECTED, "4", NULL);
	keyring_set_own(k, KID_BOB, "5", NULL);
	CHECK(keyring_own(k, KID_PROTECTED, "bob") != NULL);
	CHECK(keyring_own(k, KID_BOB, "bob") == NULL);
	keyring_close(k);
}

/* Import: pins one key by hand, or adds one. */
static void
importing(void)
{
	static const int bob[] = { BOB }, both[] = { BOB, CAROL };
	struct keyring_key fake;
	struct keyring_contact *c;
	struct keyring *k;
	int i, rc;

	fresh();
	k = ring();
	CHECK(keyring_import(k, "bob", &key[BOB], NOW, NULL) == 0);
	c = keyring_find(k, "bob");
	CHECK(c != NULL && c->nkeys == 1 &&
	    strcmp(c->keys[0].source, "import") == 0);
	CHECK(keyring_verify(k, "bob", NOW, NULL) == 0 && c->verified);
	/* The same key again: nothing new, still verified. */
	CHECK(keyring_import(k, "bob", &key[BOB], NOW, NULL) == 0);
	CHECK(c->nkeys == 1 && c->verified);
	/* A pending key imported: pinned, no longer pending, and what was
	 * compared in person no longer covers the keys. */
	CHECK(offer(k, "bob", both, 2) == KEYRING_CHANGED);
	CHECK(keyring_import(k, "bob", &key[CAROL], NOW, NULL) == 0);
	c = keyring_find(k, "bob");
	CHECK(c->nkeys == 2 && c->npending == 0 && !c->verified);
	CHECK(keyring_usable(k, "bob", NULL) == 0);
	CHECK(offer(k, "bob", bob, 1) == KEYRING_SAME);
	keyring_close(k);

	/* At most KEYRING_KEYS_MAX keys a contact. */
	fresh();
	k = ring();
	for (i = 0; i < KEYRING_KEYS_MAX; i++) {
		fake_key(&fake, i);
		CHECK(keyring_import(k, "many", &fake, NOW, NULL) == 0);
	}
	fake_key(&fake, i);
	capture_begin();
	rc = keyring_import(k, "many", &fake, NOW, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65 && strstr(cap_text, "many has 16 keys already"));
	CHECK(keyring_find(k, "many")->nkeys == KEYRING_KEYS_MAX);
	keyring_close(k);
}

/* The directory offering more than KEYRING_KEYS_MAX keys: the first
 * ones pinned, as many pending, the rest dropped. */
static void
too_many(void)
{
	struct keyring_key v[2 * KEYRING_KEYS_MAX + 4];
	struct keyring *k;
	size_t i, n = sizeof(v) / sizeof(v[0]);
	enum keyring_offer_result result;

	fresh();
	k = ring();
	for (i = 0; i < n; i++)
		fake_key(&v[i], (int)i);
	CHECK(keyring_offer(k, "many", v, n, NOW, &result, NULL) == 0 &&
	    result == KEYRING_PINNED);
	CHECK(keyring_find(k, "many")->nkeys == KEYRING_KEYS_MAX);
	CHECK(keyring_offer(k, "many", v, n, NOW, &result, NULL) == 0 &&
	    result == KEYRING_CHANGED);
	CHECK(keyring_find(k, "many")->npending == KEYRING_KEYS_MAX);
	keyring_close(k);
}

static void
verify_forget_mark(void)
{
	static const int bob[] = { BOB }, carol[] = { CAROL },
		alice[] = { ALICE };
	struct keyring_contact *c;
	struct keyring *k;
	int rc;

	fresh();
	k = ring();
	capture_begin();
	rc = keyring_verify(k, "bob", NOW, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65 && strstr(cap_text, "error: bob is not in your "
	    "keyring") && strstr(cap_text, "hint: fetch the keys first: "
	    "e2e-keys fetch bob"));
	capture_begin();
	rc = keyring_forget(k, "bob", &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 65 && strstr(cap_text, "bob is not in your keyring"));
	CHECK(offer(k, "carol", carol, 1) == KEYRING_PINNED);
	CHECK(offer(k, "bob", bob, 1) == KEYRING_PINNED);
	CHECK(offer(k, "alice", alice, 1) == KEYRING_PINNED);
	CHECK(keyring_verify(k, "bob", NOW + 7, NULL) == 0);
	keyring_mark_signed(k, "bob");
	keyring_mark_signed(k, "nobody");
	CHECK(save_close(k) == 0);

	k = ring();
	c = keyring_find(k, "bob");
	CHECK(c != NULL && c->verified && c->verified_at == NOW + 7 &&
	    c->signed_seen);
	CHECK(!keyring_find(k, "carol")->signed_seen);
	CHECK(keyring_forget(k, "bob", NULL) == 0);
	CHECK(keyring_find(k, "bob") == NULL && keyring_count(k) == 2);
	CHECK(strcmp(keyring_at(k, 0)->name, "alice") == 0 &&
	    strcmp(keyring_at(k, 1)->name, "carol") == 0);
	/* Its key is free for someone else now. */
	CHECK(offer(k, "robert", bob, 1) == KEYRING_PINNED);
	CHECK(save_close(k) == 0);
	CHECK(open_ring(0, &k) == 0 && keyring_count(k) == 3 &&
	    keyring_find(k, "bob") == NULL &&
	    strcmp(kids(k, "robert", 0), KID_BOB) == 0);
	keyring_close(k);
}

/* usable, key_of, any_key: -1 silent for a stranger. */
static void
lookups(void)
{
	static const int bob[] = { BOB };
	const char *owner = "x";
	struct keyring *k;
	EVP_PKEY *pk;
	char kid[KID_SIZE];

	fresh();
	k = ring();
	CHECK(offer(k, "bob", bob, 1) == KEYRING_PINNED);
	/* Unknown: keyring_known says so without a word; keyring_usable
	 * refuses it with one line, which callers that say more drop. */
	capture_begin();
	report_clear(&rep);
	CHECK(!keyring_known(k, "zed"));
	CHECK(keyring_usable(k, "zed", &rep) == 66);
	capture_end();
	CHECK(cap_len == 0);
	CHECK(rep.code == 66 && rep.nlines == 1 &&
	    strcmp(report_message(&rep), "zed is not in your keyring") == 0);
	pk = keyring_key_of(k, "bob", KID_BOB);
	CHECK(pk != NULL);
	if (pk != NULL) {
		fixture_kid(pk, kid);
		CHECK(strcmp(kid, KID_BOB) == 0);
	}
	EVP_PKEY_free(pk);
	CHECK(keyring_key_of(k, "bob", KID_CAROL) == NULL);
	CHECK(keyring_key_of(k, "zed", KID_BOB) == NULL);
	pk = keyring_any_key(k, KID_BOB, &owner);
	CHECK(pk != NULL && strcmp(owner, "bob") == 0);
	EVP_PKEY_free(pk);
	CHECK(keyring_any_key(k, KID_CAROL, &owner) == NULL && owner == NULL);
	/* A name too long to be one is simply not found. */
	CHECK(keyring_find(k, "an-extremely-long-name-far-beyond-what-any-"
	    "account-may-be-called-here") == NULL);
	keyring_close(k);
}

/* A keyring of an older version (or edited by hand) pinning one key
 * under two names: read, and said so by the lookups. */
static void
pinned_twice(void)
{
	static const char *const twice[] = { "eve=alice.pub",
		"mallory=alice.pub,bob.pub", "zoe=alice.pub", NULL };
	const char *names[2] = { NULL, NULL };
	struct keyring *k;

	fresh();
	CHECK(mkdir(home, 0700) == 0);
	fixture_keyring(home, twice);
	CHECK(open_ring(0, &k) == 0);
	CHECK(keyring_names_of(k, KID_ALICE, NULL, names, 2) == 3);
	CHECK(strcmp(names[0], "eve") == 0 && strcmp(names[1], "mallory") ==
	    0);
	CHECK(keyring_names_of(k, KID_ALICE, "eve", names, 1) == 2 &&
	    strcmp(names[0], "mallory") == 0);
	CHECK(keyring_names_of(k, KID_BOB, "mallory", names, 2) == 0);
	CHECK(keyring_names_of(k, KID_CAROL, NULL, names, 0) == 0);
	CHECK(strcmp(keyring_other_name(k, KID_ALICE, "eve"), "mallory") ==
	    0);
	keyring_close(k);
}

/* Whether the lock of HOME is free: tried from another process. */
static int
lock_free(void)
{
	pid_t pid;
	int st, fd;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		fd = open(lock_path, O_RDWR);
		_exit(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void
locking(void)
{
	char elsewhere[400];
	struct keyring *k, *r;

	fresh();
	k = ring();
	CHECK(!lock_free());
	/* Readers take no lock. */
	CHECK(open_ring(0, &r) == 0);
	keyring_close(r);
	keyring_close(k);
	CHECK(lock_free());
	/* Released when the open fails, too. */
	put_str(ring_path, "{");
	CHECK(open_ring(1, &k) == 78 && k == NULL);
	CHECK(lock_free());
	/* The lock file must not be a link (how it says so is fileio's). */
	unlink(lock_path);
	CHECK(symlink("elsewhere", lock_path) == 0);
	CHECK(open_ring(1, &k) == 73 && k == NULL);
	CHECKF(strstr(cap_text, "error: ") && strstr(cap_text,
	    "keyring.lock"), "%s", cap_text);
	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", home);
	CHECK(access(elsewhere, F_OK) != 0);
}

/* ---- bad and hostile files ---- */

/* keyring.json holding one contact, bob, whose list ("keys" or
 * "pending") holds entries (JSON text). */
static void
put_bob(const char *list, const char *entries)
{
	size_t n = strlen(entries) + 128;
	char *text = malloc(n);

	if (text == NULL)
		exit(2);
	snprintf(text, n, "{\"version\":1,\"contacts\":{\"bob\":"
	    "{\"%s\":[%s]}}}", list, entries);
	put_str(ring_path, text);
	free(text);
}

/* One key entry: kid (NULL: the key's own), the pem of a committed
 * file, the time as JSON text. */
static char *
entry(const char *kid, const char *pem_file, const char *at)
{
	char *pem = fixture_text(pem_file), *text, own[KID_SIZE];
	json_t *o;
	EVP_PKEY *pk;

	if (kid == NULL) {
		pk = fixture_public(pem_file);
		fixture_kid(pk, own);
		EVP_PKEY_free(pk);
		kid = own;
	}
	o = json_pack("{s:s,s:s}", "kid", kid, "pem", pem);
	json_object_set_new(o, "added_at", json_loads(at, JSON_DECODE_ANY,
	    NULL));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(pem);
	return text;
}

/* open_ring must refuse the file as it is now: 78, no keyring, one
 * error naming the file and saying says. */
static void
refused(const char *what, const char *says)
{
	char text[512];
	struct keyring *k = (struct keyring *)1;
	int rc;

	rc = open_ring(0, &k);
	snprintf(text, sizeof(text), "%s: error: ", err_prog());
	CHECKF(rc == 78 && k == NULL, "%s: %d", what, rc);
	CHECKF(strncmp(cap_text, text, strlen(text)) == 0 &&
	    strstr(cap_text, ring_path) && strstr(cap_text, says), "%s: %s",
	    what, cap_text);
}

static void
malformed_files(void)
{
	static const struct {
		const char *text;
		const char *says;
	} t[] = {
		{ "", "is not valid JSON" },
		{ "{", "is not valid JSON" },
		{ "{\"version\":1,\"contacts\":{}} x", "is not valid JSON" },
		{ "{\"version\":1,\"version\":1,\"contacts\":{}}", "is not "
		    "valid JSON" },
		{ "{\"version\":1,\"contacts\":{\"b\xff\":{}}}",
		    "is not valid JSON" },
		{ "{\"version\":1,\"contacts\":{\"bob\":{},\"bob\":{}}}",
		    "is not valid JSON" },
		{ "{\"version\":1,\"contacts\":{\"bob\\u0000\":{}}}",
		    "is not valid JSON" },
		{ "null", "is not valid JSON" },
		{ "\"keyring\"", "is not valid JSON" },
		{ "1", "is not valid JSON" },
		{ "[]", "is not a keyring of this version" },
		{ "{}", "is not a keyring of this version" },
		{ "{\"version\":1}", "is not a keyring of this version" },
		{ "{\"version\":2,\"contacts\":{}}", "is not a keyring of "
		    "this version" },
		{ "{\"version\":1.0,\"contacts\":{}}", "is not a keyring of "
		    "this version" },
		{ "{\"version\":\"1\",\"contacts\":{}}", "is not a keyring of "
		    "this version" },
		{ "{\"version\":1,\"contacts\":[]}", "is not a keyring of "
		    "this version" },
		{ "{\"version\":1,\"contacts\":null}", "is not a keyring of "
		    "this version" },
		{ "{\"version\":1,\"contacts\":{\"bob\":[]}}", "the entry of "
		    "a contact is malformed" },
		{ "{\"version\":1,\"contacts\":{\"bob\":1}}", "the entry of "
		    "a contact is malformed" },
		{ "{\"version\":1,\"contacts\":{\"Bob!\":{}}}", "the entry of "
		    "a contact is malformed" },
		{ "{\"version\":1,\"contacts\":{\"..\":{}}}", "the entry of "
		    "a contact is malformed" },
		{ "{\"version\":1,\"contacts\":{\"\":{}}}", "the entry of a "
		    "contact is malformed" },
		{ "{\"version\":1,\"contacts\":{\"bob\":{\"keys\":{}}}}",
		    "the entry of a contact is malformed" },
		{ "{\"version\":1,\"contacts\":{\"bob\":{\"keys\":[1]}}}",
		    "the entry of a contact is malformed" },
		{ "{\"version\":1,\"contacts\":{\"bob\":{\"keys\":[{}]}}}",
		    "the entry of a contact is malformed" },
		{ "{\"version\":1,\"contacts\":{\"bob\":{\"keys\":[null]}}}",
		    "the entry of a contact is malformed" },
		{ "{\"version\":1,\"contacts\":{\"bob\":{\"pending\":\"\"}}}",
		    "the entry of a contact is malformed" },
	};
	struct keyring *k;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fresh();
		CHECK(mkdir(home, 0700) == 0);
		put_str(ring_path, t[i].text);
		refused(t[i].text, t[i].says);
	}
	/* A contact with extra members, an empty one, booleans that are
	 * not true: read (nothing is trusted that is not there). */
	fresh();
	CHECK(mkdir(home, 0700) == 0);
	put_str(ring_path, "{\"version\":1,\"contacts\":{\"bob\":{\"x\":1,"
	    "\"verified\":\"yes\",\"signed_seen\":1,\"verified_at\":\"0\"},"
	    "\"carol\":{}},\"later\":[]}");
	CHECK(open_ring(0, &k) == 0 && keyring_count(k) == 2);
	CHECK(!keyring_find(k, "bob")->verified &&
	    !keyring_find(k, "bob")->signed_seen &&
	    keyring_find(k, "bob")->verified_at == 0);
	CHECK(!keyring_known(k, "carol") &&
	    keyring_usable(k, "carol", NULL) == 66);
	keyring_close(k);
}

/* Key entries: each member wrong in turn, against a control. */
static void
malformed_keys(void)
{
	static const struct {
		const char *kid, *pem_file, *at, *list;
	} t[] = {
		/* The kid must be the key's own thumbprint. */
		{ KID_CAROL, "bob.pub", "1", "keys" },
		{ "not a kid", "bob.pub", "1", "keys" },
		{ KID_BOB "A", "bob.pub", "1", "keys" },
		{ "", "bob.pub", "1", "keys" },
		/* The pem must be a public key that rsa_check accepts. */
		{ KID_BOB, "bob", "1", "keys" },
		{ KID_BOB, "README", "1", "keys" },
		{ NULL, "weak1024.pub", "1", "keys" },
		{ NULL, "e3.pub", "1", "keys" },
		{ KID_BOB, "ec.pub", "1", "keys" },
		/* The time is an integer. */
		{ KID_BOB, "bob.pub", "\"1\"", "keys" },
		{ KID_BOB, "bob.pub", "1.5", "keys" },
		{ KID_BOB, "bob.pub", "null", "keys" },
		/* A pending key is "seen_at", not "added_at". */
		{ KID_BOB, "bob.pub", "1", "pending" },
	};
	char *e, *list, *pem, *padded;
	struct keyring *k;
	json_t *o;
	size_t i, n;

	fresh();
	CHECK(mkdir(home, 0700) == 0);
	e = entry(KID_BOB, "bob.pub", "1");
	put_bob("keys", e);
	CHECK(open_ring(0, &k) == 0 && keyring_usable(k, "bob", NULL) == 0);
	keyring_close(k);
	free(e);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		e = entry(t[i].kid, t[i].pem_file, t[i].at);
		put_bob(t[i].list, e);
		refused(t[i].pem_file, "the entry of a contact is malformed");
		free(e);
	}
	/* Sixteen keys to a contact (the same one: no rule against it), and
	 * seventeen. */
	e = entry(KID_BOB, "bob.pub", "1");
	n = 17 * (strlen(e) + 1);
	if ((list = malloc(n)) == NULL)
		exit(2);
	list[0] = '\0';
	for (i = 0; i < 16; i++) {
		strncat(list, i ? "," : "", n - strlen(list) - 1);
		strncat(list, e, n - strlen(list) - 1);
	}
	put_bob("keys", list);
	CHECK(open_ring(0, &k) == 0 && keyring_find(k, "bob")->nkeys == 16);
	keyring_close(k);
	strncat(list, ",", n - strlen(list) - 1);
	strncat(list, e, n - strlen(list) - 1);
	put_bob("keys", list);
	refused("17 keys", "the entry of a contact is malformed");
	put_bob("pending", list);
	refused("17 pending", "the entry of a contact is malformed");
	free(list);
	free(e);
	/* A pem over 16 KiB, even a real key with blanks after it; at
	 * 16 KiB, read. */
	pem = fixture_text("bob.pub");
	if ((padded = malloc(16 * 1024 + 2)) == NULL)
		exit(2);
	memset(padded, '\n', 16 * 1024 + 1);
	memcpy(padded, pem, strlen(pem));
	for (n = 16 * 1024 + 1; n >= 16 * 1024; n--) {
		padded[n] = '\0';
		o = json_pack("{s:s,s:s,s:i}", "kid", KID_BOB, "pem", padded,
		    "added_at", 1);
		e = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		put_bob("keys", e);
		free(e);
		if (n > 16 * 1024) {
			refused("a large pem", "the entry of a contact is "
			    "malformed");
		} else {
			CHECK(open_ring(0, &k) == 0);
			keyring_close(k);
		}
	}
	free(padded);
	free(pem);
}

/* Files no one should trust or that would hang a reader: too large,
 * nested beyond reason, not a regular file, a link, another's, or one
 * others may change. */
static void
hostile_files(void)
{
	size_t n = ((size_t)16 << 20) + 1, depth = 100000;
	struct keyring *k;
	const char *real;
	char *text;
	int fd;

	fresh();
	CHECK(mkdir(home, 0700) == 0);
	fd = open(ring_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)n) == 0);
	close(fd);
	refused("16 MiB + 1", "is too large");
	if ((text = malloc(2 * depth + 1)) == NULL)
		exit(2);
	memset(text, '[', depth);
	memset(text + depth, ']', depth);
	text[2 * depth] = '\0';
	put_str(ring_path, text);
	refused("deep", "is not valid JSON");
	free(text);

	/* Not a regular file: a folder, a FIFO (not waited on). */
	unlink(ring_path);
	CHECK(mkdir(ring_path, 0700) == 0);
	refused("a folder", "is not a regular file of yours that only you "
	    "can change; not using it");
	rmdir(ring_path);
	CHECK(mkfifo(ring_path, 0600) == 0);
	refused("a FIFO", "is not a regular file of yours");
	unlink(ring_path);
	/* A link, even to a good keyring. */
	real = harness_path(dir, "real.json");
	put_str(real, "{\"version\":1,\"contacts\":{}}");
	CHECK(symlink(real, ring_path) == 0);
	refused("a link", "is a symbolic link; not using it");
	unlink(ring_path);
	/* Others may change it: refused; read only by others: fine. */
	put_str(ring_path, "{\"version\":1,\"contacts\":{}}");
	chmod(ring_path, 0620);
	refused("0620", "only you can change");
	chmod(ring_path, 0602);
	refused("0602", "only you can change");
	chmod(ring_path, 0644);
	CHECK(open_ring(0, &k) == 0);
	keyring_close(k);
	if (geteuid() == 0) {
		chmod(ring_path, 0600);
		CHECK(chown(ring_path, 65534, 65534) == 0);
		refused("another's", "is not a regular file of yours");
	} else {
		harness_skip("not root: no file of another user to test");
	}
}

int
main(void)
{
	size_t i;
	EVP_PKEY *pk;

	err_setprog("test_keyring");
	if (crypto_init(NULL) != 0)
		return 2;
	for (i = 0; i < NKEYS; i++) {
		pk = fixture_public(key_files[i]);
		fixture_kid(pk, key[i].kid);
		EVP_PKEY_free(pk);
		key[i].pem = fixture_text(key_files[i]);
	}
	RUN(pin_and_reload);
	RUN(offers);
	RUN(accepting);
	RUN(one_person);
	RUN(own_key);
	RUN(importing);
	RUN(too_many);
	RUN(verify_forget_mark);
	RUN(lookups);
	RUN(pinned_twice);
	RUN(locking);
	RUN(malformed_files);
	RUN(malformed_keys);
	RUN(hostile_files);
	for (i = 0; i < NKEYS; i++)
		free(key[i].pem);
	harness_rmtree(dir);
	return harness_end();
}
