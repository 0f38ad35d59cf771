/*
 * e2e-decrypt's stream mode (lib/keys/stream.c), without the tool: record
 * lines in a file, a home with alice's key pinned, bob reading. A record
 * signed by alice's pinned key and naming bob is verified; one signed by
 * a key pinned for no one is shown unverified with a warning; a second
 * copy of a signed message (another id) is dropped as a replay (E4) and
 * the read goes on; a line that is no record, and one longer than the
 * cap, are reported with their line numbers and skipped (exit 65 at the
 * end); the first line can be handed over already read; a seed
 * message's Latin-1 text is written as UTF-8 text, or as its bytes
 * ("data") when asked; an output that fails stops at once (74).
 *
 * Runs from the project root (it reads tests/vectors/keys).
 */
#include "harness.h"

#include <fcntl.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "base/buf.h"
#include "base/err.h"
#include "format/crypto.h"
#include "format/jwe.h"
#include "format/jwk.h"
#include "format/keyfile.h"
#include "format/message.h"
#include "format/records.h"
#include "format/seed.h"
#include "keys/keyring.h"
#include "keys/stream.h"

#define KEY_DIR "tests/vectors/keys"

enum { ALICE, BOB, CAROL, NPEOPLE };
static const char *const names[NPEOPLE] = { "alice", "bob", "carol" };
static EVP_PKEY *pk[NPEOPLE];
static char kid[NPEOPLE][KID_SIZE];
static char dir[64], in_path[128], out_path[128];

/* stderr while the stream runs, and what it wrote. */
static char wrote[16384];
static const char *said = "";

static void
print_report(const struct report *r, void *arg)
{
	(void)arg;
	err_print(r);
}

/* The test keys (their files' modes are git's: read as PEM, not as key
 * files, which would warn). */
static void
load_keys(void)
{
	char path[256];
	BIO *bio;
	int i;

	for (i = 0; i < NPEOPLE; i++) {
		snprintf(path, sizeof(path), "%s/%s", KEY_DIR, names[i]);
		bio = BIO_new_file(path, "r");
		pk[i] = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) :
		    NULL;
		BIO_free(bio);
		if (pk[i] == NULL || jwk_thumbprint(pk[i], kid[i], NULL) != 0) {
			fprintf(stderr, "cannot load %s (run from the project "
			    "root)\n", path);
			exit(2);
		}
	}
}

/* HOME with alice's key pinned for alice. */
static void
make_home(void)
{
	struct keyring_key key;
	struct keyring *k;
	struct buf pem = BUF_INIT;

	snprintf(dir, sizeof(dir), "/tmp/test_stream.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	setenv("E2E_HOME", dir, 1);
	snprintf(in_path, sizeof(in_path), "%s/records", dir);
	snprintf(out_path, sizeof(out_path), "%s/out", dir);
	memset(&key, 0, sizeof(key));
	memcpy(key.kid, kid[ALICE], KID_SIZE);
	if (keyfile_public_pem(pk[ALICE], &pem, NULL) != 0 ||
	    buf_terminate(&pem) != 0 || keyring_open(dir, 1, &k, NULL) != 0) {
		fprintf(stderr, "cannot make the keyring\n");
		exit(2);
	}
	key.pem = (char *)pem.p;
	if (keyring_import(k, "alice", &key, 1700000000, NULL) != 0 ||
	    keyring_save(k, NULL) != 0) {
		fprintf(stderr, "cannot pin alice's key\n");
		exit(2);
	}
	keyring_close(k);
	buf_free(&pem);
}

/* The envelope of text for bob, signed by signer (-1: unsigned) with the
 * names alice -> bob, into out (no final newline). */
static void
seal(int signer, const char *text, struct buf *out)
{
	static const char *const rnames[] = { "bob" };
	struct jwe_recipient r;
	struct seal_opts so;
	struct sink s = sink_buf(out);

	memset(&r, 0, sizeof(r));
	memset(&so, 0, sizeof(so));
	r.pub = pk[BOB];
	memcpy(r.kid, kid[BOB], KID_SIZE);
	so.enc = jwe_enc_by_name("A256CBC-HS512");
	so.r = &r;
	so.nr = 1;
	if (signer >= 0) {
		so.signer = pk[signer];
		so.signer_kid = kid[signer];
		so.sender_name = "alice";
		so.recipient_names = rnames;
	}
	out->len = 0;
	if (message_seal(&so, (const uint8_t *)text, strlen(text), &s,
	    NULL) != 0) {
		fprintf(stderr, "cannot seal\n");
		exit(2);
	}
	while (out->len > 0 && out->p[out->len - 1] == '\n')
		out->len--;
}

/* Appends a record line of e2e-recv from alice to b: the envelope env
 * as an object, or (seed) as a JSON string from dave. */
static void
record(struct buf *b, const char *id, const struct buf *env, int as_string)
{
	json_t *s;
	char *t;

	buf_append_str(b, "{\"id\":\"");
	buf_append_str(b, id);
	buf_append_str(b, as_string ? "\",\"from\":\"dave\"" :
	    "\",\"from\":\"alice\"");
	buf_append_str(b, ",\"sent_at\":7,\"message\":");
	if (as_string) {
		s = json_stringn((const char *)env->p, env->len);
		t = json_dumps(s, JSON_ENCODE_ANY);
		buf_append(b, t, strlen(t));
		free(t);
		json_decref(s);
	} else {
		buf_append(b, env->p, env->len);
	}
	buf_append(b, "}\n", 2);
}

static void
write_file(const char *path, const struct buf *b)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(b->p, 1, b->len, f) != b->len ||
	    fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/*
 * Runs stream_decrypt on the file of records with bob's key, the output
 * into out_path (or out_fd when >= 0), max bytes a line; first_line:
 * the first line is read here and handed over. Fills said and wrote.
 */
static int
run(size_t max, int seed_utf8, int out_fd, int first_line)
{
	struct open_opts oo;
	struct stream_opts so;
	struct report rep = { 0 };
	struct record_reader in;
	const char *line = NULL;
	size_t len = 0, n;
	int fd = out_fd, rc;

	memset(&oo, 0, sizeof(oo));
	memset(&so, 0, sizeof(so));
	oo.key = pk[BOB];
	oo.kid = kid[BOB];
	memset(&in, 0, sizeof(in));
	in.fd = -1;
	if (fd < 0)
		fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || record_reader_open(&in, in_path, max, NULL) != 0) {
		perror("test_stream: set-up");
		exit(2);
	}
	if (first_line && record_read_line(&in, &line, &len) !=
	    RECORD_READ_LINE) {
		fprintf(stderr, "test_stream: no first line\n");
		exit(2);
	}
	so.open = &oo;
	so.me = "bob";
	so.seed_utf8 = seed_utf8;
	so.ascii = 0;
	so.fd = fd;
	/* Each record's lines printed at once, as e2e-decrypt does. */
	so.said = print_report;
	so.said_arg = NULL;
	capture_begin();
	rc = stream_decrypt(&in, &so, line, len, &rep);
	err_print(&rep);
	said = capture_end();
	record_reader_close(&in);
	if (out_fd < 0) {
		close(fd);
		fd = open(out_path, O_RDONLY);
		n = fd < 0 ? 0 : (size_t)read(fd, wrote, sizeof(wrote) - 1);
		wrote[n] = '\0';
		close(fd);
	}
	return rc;
}

static size_t
lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
verified_and_replays(void)
{
	struct buf env = BUF_INIT, b = BUF_INIT;
	int rc;

	seal(ALICE, "hello bob", &env);
	record(&b, "m1", &env, 0);
	write_file(in_path, &b);
	rc = run(1 << 20, 1, -1, 0);
	CHECKF(rc == 0, "exit %d: %s", rc, said);
	CHECK(lines(wrote) == 1);
	CHECKF(strstr(wrote, "{\"id\":\"m1\",\"from\":\"alice\",\"sent_at\":7,"
	    "\"format\":\"jwe\",\"signed_by\":\"") == wrote, "%s", wrote);
	CHECKF(strstr(wrote, "\"verified\":true,\"text\":\"hello bob\"}\n") !=
	    NULL, "%s", wrote);
	CHECKF(said[0] == '\0', "%s", said);

	/* The same record again (a saved inbox read again) is no replay;
	 * the same message under another id is, and is dropped. */
	record(&b, "m2", &env, 0);
	write_file(in_path, &b);
	rc = run(1 << 20, 1, -1, 0);
	CHECKF(rc == 65, "exit %d: %s", rc, said);
	CHECKF(lines(wrote) == 1 && strstr(wrote, "\"id\":\"m1\"") != NULL,
	    "%s", wrote);
	CHECKF(strstr(said, "e2e-test: error: message m2 from alice: ") ==
	    said, "%s", said);
	buf_free(&env);
	buf_free(&b);
}

static void
unverified_and_bad_lines(void)
{
	struct buf env = BUF_INIT, b = BUF_INIT;
	char big[4002];
	int rc;

	/* Carol's key is pinned for no one: shown, not verified. */
	seal(CAROL, "from carol's key", &env);
	buf_append(&b, "not a record\n", 13);
	record(&b, "c1", &env, 0);
	memset(big, 'x', sizeof(big) - 2);
	big[0] = '{';
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	buf_append(&b, big, strlen(big));
	seal(-1, "unsigned", &env);
	record(&b, "u1", &env, 0);
	write_file(in_path, &b);
	/* Lines of up to 8K: the long one is 4000 bytes, over the cap of
	 * the second run (a record here is about 1K). */
	rc = run(8 << 10, 1, -1, 0);
	CHECKF(rc == 65, "exit %d: %s", rc, said);
	CHECKF(lines(wrote) == 2, "%s", wrote);
	CHECKF(strstr(wrote, "\"id\":\"c1\"") != NULL &&
	    strstr(wrote, "\"verified\":false,\"warning\":") != NULL &&
	    strstr(wrote, "\"text\":\"from carol's key\"") != NULL, "%s",
	    wrote);
	CHECKF(strstr(wrote, "\"id\":\"u1\"") != NULL &&
	    strstr(wrote, "\"signed_by\":null") != NULL &&
	    strstr(wrote, "\"text\":\"unsigned\"") != NULL, "%s", wrote);
	CHECKF(strstr(said, "e2e-test: error: line 1: ") == said, "%s", said);
	CHECKF(strstr(said, "\ne2e-test: error: line 3: ") != NULL, "%s",
	    said);
	CHECK(lines(said) == 2);

	/* The long line is skipped without being buffered. */
	b.len = 0;
	buf_append(&b, big, strlen(big));
	record(&b, "u2", &env, 0);
	write_file(in_path, &b);
	rc = run(3000, 1, -1, 0);
	CHECKF(rc == 65, "exit %d: %s", rc, said);
	CHECKF(strcmp(said, "e2e-test: error: line 1: longer than the limit "
	    "of 3000 bytes (--max-size): skipped\n") == 0, "%s", said);
	CHECKF(lines(wrote) == 1 && strstr(wrote, "\"id\":\"u2\"") != NULL,
	    "%s", wrote);
	buf_free(&env);
	buf_free(&b);
}

static void
first_line_and_seed(void)
{
	struct buf env = BUF_INIT, b = BUF_INIT;
	struct sink s = sink_buf(&env);
	int rc;

	/* "café" in Latin-1. */
	if (seed_encrypt(pk[BOB], (const uint8_t *)"caf\xe9", 4, &s, NULL) != 0)
		exit(2);
	while (env.len > 0 && env.p[env.len - 1] == '\n')
		env.len--;
	record(&b, "s1", &env, 1);
	write_file(in_path, &b);
	/* Handed over already read, as e2e-decrypt does after sniffing. */
	rc = run(1 << 20, 1, -1, 1);
	CHECKF(rc == 0, "exit %d: %s", rc, said);
	CHECKF(lines(wrote) == 1 && strstr(wrote, "\"format\":\"seed\"") !=
	    NULL && strstr(wrote, "\"verified\":false") != NULL &&
	    strstr(wrote, "\"text\":\"caf\xc3\xa9\"}") != NULL, "%s", wrote);
	/* --binary: the bytes as decrypted, not UTF-8: "data". */
	rc = run(1 << 20, 0, -1, 0);
	CHECKF(rc == 0, "exit %d: %s", rc, said);
	CHECKF(strstr(wrote, "\"data\":\"Y2Fm6Q==\"}") != NULL, "%s", wrote);
	buf_free(&env);
	buf_free(&b);
}

static void
output_fails(void)
{
	struct buf env = BUF_INIT, b = BUF_INIT;
	int fd, rc;

	seal(-1, "one", &env);
	record(&b, "o1", &env, 0);
	record(&b, "o2", &env, 0);
	write_file(in_path, &b);
	/* Opened for reading: every write fails. */
	if ((fd = open("/dev/null", O_RDONLY)) < 0)
		exit(2);
	rc = run(1 << 20, 1, fd, 0);
	close(fd);
	CHECKF(rc == 74, "exit %d", rc);
	CHECKF(strstr(said, "e2e-test: error: cannot write standard output: ")
	    == said && lines(said) == 1, "%s", said);
	buf_free(&env);
	buf_free(&b);
}

int
main(void)
{
	char cmd[128];

	err_setprog("e2e-test");
	if (crypto_init(NULL) != 0)
		return 2;
	load_keys();
	make_home();
	RUN(verified_and_replays);
	RUN(unverified_and_bad_lines);
	RUN(first_line_and_seed);
	RUN(output_fails);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return harness_end();
}
