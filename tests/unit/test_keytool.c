/*
 * e2e-keys' decisions on the keyring without the network
 * (lib/keys/keytool.c): a contact as the tool prints it; list's flags
 * for a keyring written before "one key, one person" (a key pinned for
 * two names, each pair warned of once; my own key pinned for a contact);
 * whether the keys compared are still those pinned; the safety number
 * (E5) from my own key id and the contact's pinned keys, the vector of
 * lib/keys/safety.h; the directory's other keys for me warned of, never
 * counted; a key to import as PEM, as the text of a QR code (with
 * zbarimg's prefix), refused when the code names someone else or is
 * not a key; and qr's rule for a contact or a file.
 *
 * Runs from the project root (it reads tests/vectors/keys).
 */
#include "harness.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/err.h"
#include "format/crypto.h"
#include "format/jwk.h"
#include "format/keyfile.h"
#include "keys/keyring.h"
#include "keys/keytool.h"
#include "keys/qr.h"

#define KEY_DIR "tests/vectors/keys"
#define KID_ALICE "Y6uyIp-NFRQQmtZ9rLcfgpiPEqI5_c0iGbHeHZmM_zA"
#define KID_BOB "sa58v0dhmhXOXVF-ddQWVzkv7VYg9_vIO6wdWcgyKrY"
#define KID_CAROL "4djZ3eaqLNlfcJ3m8FPe0p3UVsCkjn_fYf4K3vecUPc"
/* alice (KID_ALICE) and bob (KID_BOB, KID_CAROL): lib/keys/safety.h. */
#define NUMBER "21569 91893 92792 45936 79257 83193 51929 24277 79187 " \
	"23832 96729 56296"

static char dir[64];
static char pem_alice[4096], pem_bob[4096], pem_carol[4096];
static const char *said = "";

static struct report rep;
static void
listen_end(void)
{
	/* What the calls reported, printed as a tool prints it. */
	err_print(&rep);
	report_clear(&rep);
	said = capture_end();
}

/* A public key file's text, into out. */
static void
read_pem(const char *name, char *out, size_t size)
{
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s.pub", KEY_DIR, name);
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "cannot open %s (run from the project root)\n",
		    path);
		exit(2);
	}
	n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	fclose(f);
}

/* JSON text of a PEM string: its newlines escaped. */
static void
json_pem(const char *pem, char *out, size_t size)
{
	json_t *s = json_string(pem);
	char *t = json_dumps(s, JSON_ENCODE_ANY);

	snprintf(out, size, "%s", t);
	free(t);
	json_decref(s);
}

/*
 * Writes HOME/keyring.json as a keyring made before the rule "one key,
 * one person" could be: alice's key pinned for alice and for mallory,
 * bob pinned with two keys (bob's and carol's). Opens it as *k.
 */
static void
old_keyring(struct keyring **k)
{
	char path[128], a[4200], b[4200], c[4200];
	FILE *f;
	int fd;

	json_pem(pem_alice, a, sizeof(a));
	json_pem(pem_bob, b, sizeof(b));
	json_pem(pem_carol, c, sizeof(c));
	snprintf(path, sizeof(path), "%s/keyring.json", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		perror(path);
		exit(2);
	}
	fprintf(f, "{\"version\":1,\"contacts\":{"
	    "\"alice\":{\"keys\":[{\"kid\":\"%s\",\"pem\":%s,\"added_at\":1,"
	    "\"source\":\"directory\"}],\"pending\":[],\"verified\":false,"
	    "\"verified_at\":0,\"signed_seen\":false},"
	    "\"bob\":{\"keys\":[{\"kid\":\"%s\",\"pem\":%s,\"added_at\":1,"
	    "\"source\":\"directory\"},{\"kid\":\"%s\",\"pem\":%s,"
	    "\"added_at\":1,\"source\":\"import\"}],\"pending\":[],"
	    "\"verified\":true,\"verified_at\":5,\"signed_seen\":false},"
	    "\"mallory\":{\"keys\":[{\"kid\":\"%s\",\"pem\":%s,"
	    "\"added_at\":1,\"source\":\"directory\"}],\"pending\":[],"
	    "\"verified\":false,\"verified_at\":0,\"signed_seen\":false}}}\n",
	    KID_ALICE, a, KID_BOB, b, KID_CAROL, c, KID_ALICE, a);
	if (fclose(f) != 0 || keyring_open(dir, 0, k, NULL) != 0) {
		fprintf(stderr, "cannot write or read %s\n", path);
		exit(2);
	}
}

/* v as compact JSON (taken), into out. */
static const char *
text(json_t *v, char *out, size_t size)
{
	char *t = v ? json_dumps(v, JSON_COMPACT) : NULL;

	snprintf(out, size, "%s", t ? t : "(null)");
	free(t);
	json_decref(v);
	return out;
}

static void
contact_and_list(void)
{
	struct keyring *k;
	char got[1024];

	old_keyring(&k);
	CHECKF(strcmp(text(keytool_contact_json(keyring_find(k, "bob")), got,
	    sizeof(got)), "{\"name\":\"bob\",\"keys\":[\"" KID_BOB "\",\""
	    KID_CAROL "\"],\"pending\":[],\"verified\":true,\"changed\":"
	    "false}") == 0, "%s", got);

	/* alice's key is mallory's too: flagged on both lines, warned of
	 * once (on the line of the first name). */
	capture_begin();
	text(keytool_list_json(k, keyring_find(k, "alice"), &rep), got,
	    sizeof(got));
	listen_end();
	CHECKF(strcmp(got, "{\"name\":\"alice\",\"keys\":[\"" KID_ALICE
	    "\"],\"pending\":[],\"verified\":false,\"changed\":false,"
	    "\"same_key_as\":[\"mallory\"]}") == 0, "%s", got);
	CHECKF(strcmp(said, "test: warning: key " KID_ALICE " is pinned for "
	    "both alice and mallory: one of them, or the directory, lied; "
	    "forget the wrong one (e2e-keys forget NAME)\n") == 0, "%s", said);
	capture_begin();
	text(keytool_list_json(k, keyring_find(k, "mallory"), &rep), got,
	    sizeof(got));
	listen_end();
	CHECKF(strstr(got, ",\"same_key_as\":[\"alice\"]}") != NULL, "%s",
	    got);
	CHECKF(said[0] == '\0', "%s", said);

	/* bob's key is nobody else's: no flag, nothing said. */
	capture_begin();
	text(keytool_list_json(k, keyring_find(k, "bob"), &rep), got,
	    sizeof(got));
	listen_end();
	CHECKF(strstr(got, "same_key_as") == NULL &&
	    strstr(got, "my_key") == NULL && said[0] == '\0', "%s %s", got,
	    said);

	/* Carol's key is mine: bob's line says so. */
	keyring_set_own(k, KID_CAROL, "me.key", "me");
	capture_begin();
	text(keytool_list_json(k, keyring_find(k, "bob"), &rep), got,
	    sizeof(got));
	listen_end();
	CHECKF(strstr(got, ",\"changed\":false,\"my_key\":true}") != NULL,
	    "%s", got);
	CHECKF(strcmp(said, "test: warning: key " KID_CAROL " pinned for bob "
	    "is your own (me.key): forget it (e2e-keys forget bob)\n") == 0,
	    "%s", said);
	keyring_close(k);
}

static void
same_keys(void)
{
	static const struct {
		const char *shown;
		int same;
	} cases[] = {
		{ "{\"keys\":[\"" KID_BOB "\",\"" KID_CAROL "\"]}", 1 },
		/* Another order, fewer, more, another, none. */
		{ "{\"keys\":[\"" KID_CAROL "\",\"" KID_BOB "\"]}", 0 },
		{ "{\"keys\":[\"" KID_BOB "\"]}", 0 },
		{ "{\"keys\":[\"" KID_BOB "\",\"" KID_CAROL "\",\"" KID_ALICE
		    "\"]}", 0 },
		{ "{\"keys\":[\"" KID_BOB "\",\"" KID_ALICE "\"]}", 0 },
		{ "{\"keys\":[\"" KID_BOB "\",7]}", 0 },
		{ "{}", 0 },
	};
	struct keyring *k;
	json_t *j;
	size_t i;

	old_keyring(&k);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		j = json_loads(cases[i].shown, 0, NULL);
		CHECKF(keytool_same_keys(k, "bob", j) == cases[i].same, "%s",
		    cases[i].shown);
		json_decref(j);
	}
	j = json_loads(cases[0].shown, 0, NULL);
	CHECK(keytool_same_keys(k, "nobody", j) == 0);
	json_decref(j);
	keyring_close(k);
}

static void
safety(void)
{
	struct keyring *k;
	json_t *j = NULL, *listed;
	char got[1024];

	old_keyring(&k);
	/* Either side computes the same number. */
	CHECK(keytool_safety("alice", KID_ALICE, keyring_find(k, "bob"), &j,
	    &rep) == 0);
	CHECKF(strcmp(text(j, got, sizeof(got)), "{\"name\":\"bob\",\"keys\":"
	    "[\"" KID_BOB "\",\"" KID_CAROL "\"],\"pending\":[],\"verified\":"
	    "true,\"changed\":false,\"my_keys\":[\"" KID_ALICE "\"],"
	    "\"safety_number\":\"" NUMBER "\"}") == 0, "%s", got);
	/* Not a key id, not a name: refused, nothing made. */
	capture_begin();
	CHECK(keytool_safety("alice", "short", keyring_find(k, "bob"), &j,
	    &rep) == 65 && j == NULL);
	CHECK(keytool_safety("a b", KID_ALICE, keyring_find(k, "bob"), &j,
	    &rep) == 65 && j == NULL);
	listen_end();
	keyring_close(k);

	/* The directory's other keys for me: a warning each, mine none. */
	listed = json_loads("[{\"kid\":\"" KID_ALICE "\"},{\"kid\":\""
	    KID_BOB "\"},{\"nokid\":1},7]", 0, NULL);
	capture_begin();
	keytool_warn_other_keys(KID_ALICE, listed, &rep);
	keytool_warn_other_keys(KID_ALICE, NULL, &rep);
	listen_end();
	CHECKF(strcmp(said, "test: warning: the directory lists key " KID_BOB
	    " for you too: is it one of your devices? (not in the safety "
	    "number)\n") == 0, "%s", said);
	json_decref(listed);
}

static void
write_text(const char *path, const char *s, size_t len)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(s, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* keytool_read_import of file for name: its exit code, the key id into
 * kid. */
static int
import(const char *name, const char *file, char kid[KID_SIZE])
{
	struct keyring_key key;
	EVP_PKEY *pk = NULL;
	int rc;

	memset(&key, 0, sizeof(key));
	capture_begin();
	rc = keytool_read_import(name, file, &key, &pk, &rep);
	listen_end();
	memcpy(kid, key.kid, KID_SIZE);
	CHECKF(rc != 0 || (pk != NULL && key.pem != NULL &&
	    strncmp(key.pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0),
	    "%s: no key", file);
	/* After a refusal, *pk may hold the key refused (freed here). */
	CHECKF(rc == 0 || key.pem == NULL, "%s: a key kept", file);
	EVP_PKEY_free(pk);
	free(key.pem);
	return rc;
}

static void
read_import(void)
{
	char path[128], zpath[128], bad[128], kid[KID_SIZE], want[256];
	struct buf qr = BUF_INIT, z = BUF_INIT;
	EVP_PKEY *pk = NULL;

	/* PEM. */
	CHECK(import("bob", KEY_DIR "/carol.pub", kid) == 0 &&
	    strcmp(kid, KID_CAROL) == 0);
	/* A QR code's text, for the name it carries, or with none. */
	if (keyfile_load_public(KEY_DIR "/alice.pub", &pk, &t_rep) != 0 ||
	    qr_payload("alice", pk, &qr, NULL) != 0)
		exit(2);
	snprintf(path, sizeof(path), "%s/alice.txt", dir);
	write_text(path, (const char *)qr.p, qr.len);
	CHECK(import("alice", path, kid) == 0 && strcmp(kid, KID_ALICE) == 0);
	/* zbarimg's prefix and final newline. */
	buf_append_str(&z, "QR-Code:");
	buf_append(&z, qr.p, qr.len);
	buf_append_str(&z, "\n");
	snprintf(zpath, sizeof(zpath), "%s/alice.zbar", dir);
	write_text(zpath, (const char *)z.p, z.len);
	CHECK(import("alice", zpath, kid) == 0 && strcmp(kid, KID_ALICE) == 0);
	/* Someone else's code. */
	CHECK(import("bob", path, kid) == 65);
	snprintf(want, sizeof(want), "test: error: %s holds the key of alice, "
	    "not of bob\n", path);
	CHECKF(strcmp(said, want) == 0, "%s", said);
	CHECK(qr_payload(NULL, pk, &qr, NULL) == 0);
	write_text(path, (const char *)qr.p, qr.len);
	CHECK(import("bob", path, kid) == 0 && strcmp(kid, KID_ALICE) == 0);
	/* A code that is not one, a file that is no key, no file. */
	snprintf(bad, sizeof(bad), "%s/bad.txt", dir);
	write_text(bad, QR_PREFIX "garbage", strlen(QR_PREFIX) + 7);
	CHECK(import("bob", bad, kid) == 65);
	snprintf(want, sizeof(want), "test: error: %s: ", bad);
	CHECKF(strncmp(said, want, strlen(want)) == 0, "%s", said);
	write_text(bad, "hello\n", 6);
	CHECK(import("bob", bad, kid) != 0 && said[0] != '\0');
	snprintf(bad, sizeof(bad), "%s/none", dir);
	CHECK(import("bob", bad, kid) == 66);
	EVP_PKEY_free(pk);
	buf_free(&qr);
	buf_free(&z);
}

static void
contact_or_file(void)
{
	char path[128], here[512];

	if (getcwd(here, sizeof(here)) == NULL || chdir(dir) != 0)
		exit(2);
	CHECK(keytool_is_contact("dave") == 1);
	CHECK(keytool_is_contact("dave.pub") == 1);
	/* A file of that name is the file; a path is never a name. */
	write_text("dave", "x", 1);
	CHECK(keytool_is_contact("dave") == 0);
	CHECK(keytool_is_contact("./erin") == 0);
	CHECK(keytool_is_contact("no/such") == 0);
	CHECK(keytool_is_contact("") == 0);
	snprintf(path, sizeof(path), "%s/dave", dir);
	CHECK(keytool_is_contact(path) == 0);
	if (chdir(here) != 0)
		exit(2);
}

int
main(void)
{
	char cmd[128];

	err_setprog("test");
	if (crypto_init(&t_rep) != 0)
		return 2;
	read_pem("alice", pem_alice, sizeof(pem_alice));
	read_pem("bob", pem_bob, sizeof(pem_bob));
	read_pem("carol", pem_carol, sizeof(pem_carol));
	snprintf(dir, sizeof(dir), "/tmp/test_keytool.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 2;
	RUN(contact_and_list);
	RUN(same_keys);
	RUN(safety);
	RUN(read_import);
	RUN(contact_or_file);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return harness_end();
}
