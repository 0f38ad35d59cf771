/*
 * fuzz_prekeys.c - forward secrecy's hostile inputs on the client's side
 * (issue 16), on arbitrary bytes:
 *
 *   first byte 0  the prekey store, HOME/prekeys.json (lib/keys/prekeys.c):
 *                 the rest is the file (0600, in a temporary home); what
 *                 opens is swept and saved, and what was saved opens
 *                 again (the writer's output is the reader's input);
 *   first byte 1  a prekey proof (lib/format/prekeyproof.c), checked
 *                 against bob's committed key (tests/vectors/keys) for
 *                 the id 0123456789ABCDEFGHJKMNPQRS, name bob, server
 *                 https://chat.example, as the server and e2e-keys claim
 *                 check it: what passes names an X25519 key that is not
 *                 of low order, and pkid is its id;
 *   first byte 2  a prekey record of e2e-encrypt --prekey
 *                 (prekeys_record_read): what it accepts is a prekey of
 *                 the kind it says, never of low order, and writes back
 *                 (prekeys_record_json) to a record that reads the same.
 *
 * Every input gets 0 or a documented exit code, and a reason when
 * refused. The seeds' proofs were made by prekeys.py (tests/bats) with
 * bob's key, the signed ones with an iat far ahead so they do not age.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "fuzz.h"
#include "base/err.h"
#include "base/report.h"
#include "format/keyfile.h"
#include "format/prekeyproof.h"
#include "format/x25519.h"
#include "keys/prekeys.h"

#define NOW 1700000000
#define ID "0123456789ABCDEFGHJKMNPQRS"
#define KID_BOB "sa58v0dhmhXOXVF-ddQWVzkv7VYg9_vIO6wdWcgyKrY"

static char home[64];
static char file[sizeof(home) + 32];
static EVP_PKEY *bob;

static void
cleanup(void)
{
	char path[sizeof(home) + 32];

	(void)unlink(file);
	snprintf(path, sizeof(path), "%s/prekeys.lock", home);
	(void)unlink(path);
	(void)rmdir(home);
	EVP_PKEY_free(bob);
}

static void
setup(void)
{
	static int done;
	struct report rep = { 0 };
	uint8_t pem[4096];
	size_t n;
	FILE *f;

	if (done)
		return;
	done = 1;
	snprintf(home, sizeof(home), "%s/fuzz-prekeys-XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(home) == NULL)
		abort();
	snprintf(file, sizeof(file), "%s/prekeys.json", home);
	atexit(cleanup);
	if ((f = fopen("tests/vectors/keys/bob.pub", "rb")) == NULL)
		abort();
	n = fread(pem, 1, sizeof(pem), f);
	fclose(f);
	if (keyfile_parse_public(pem, n, "bob", &bob, &rep) != 0)
		abort();
}

static int
documented(int rc)
{
	return rc == 0 || rc == E2E_EX_DATAERR || rc == E2E_EX_CONFIG ||
	    rc == E2E_EX_CANTCREAT || rc == E2E_EX_SOFTWARE ||
	    rc == E2E_EX_IOERR || rc == E2E_EX_NOINPUT;
}

static void
store(const uint8_t *data, size_t size)
{
	struct report rep = { 0 };
	struct prekeys *p = NULL;
	FILE *f;
	int rc;

	if ((f = fopen(file, "wb")) == NULL || (size > 0 &&
	    fwrite(data, 1, size, f) != size) || fclose(f) != 0 ||
	    chmod(file, 0600) != 0)
		abort();
	rc = prekeys_open(home, 1, &p, &rep);
	FUZZ_ASSERT(documented(rc));
	FUZZ_ASSERT(rc == 0 || report_said(&rep));
	if (rc != 0) {
		FUZZ_ASSERT(p == NULL);
		return;
	}
	/* Whatever was used or retired goes; what is left is saved. */
	(void)prekeys_sweep(p, NOW, 0);
	rc = prekeys_save(p, &rep);
	prekeys_close(p);
	p = NULL;
	FUZZ_ASSERT(rc == 0);
	rc = prekeys_open(home, 0, &p, &rep);
	FUZZ_ASSERT(rc == 0);
	prekeys_close(p);
}

static void
proof(const uint8_t *data, size_t size)
{
	struct report rep = { 0 };
	struct prekeyproof_want want;
	struct prekeyproof_claims got;
	uint8_t pub[X25519_LEN];
	char pkid[KID_SIZE];
	int rc;

	if (size < 1)
		return;
	memset(&want, 0, sizeof(want));
	want.key.id = ID;
	want.key.name = "bob";
	want.key.aud = "https://chat.example";
	want.key.now = NOW;
	/* The server's reading (iat within the skew) or the client's. */
	want.key.skew = data[0] & 1 ? KEYPROOF_SKEW : -1;
	want.kind = data[0] & 2 ? -1 : (data[0] & 4 ? PREKEY_SIGNED :
	    PREKEY_ONE_TIME);
	want.max_age = data[0] & 8 ? PREKEY_SIGNED_MAX_AGE : 0;
	memset(&got, 0, sizeof(got));
	rc = prekeyproof_check((const char *)data + 1, size - 1, bob, KID_BOB,
	    &want, &got, &rep);
	FUZZ_ASSERT(rc >= KEYPROOF_OK && rc <= PREKEYPROOF_BAD_PREKEY);
	if (rc != KEYPROOF_OK) {
		FUZZ_ASSERT(report_said(&rep));
		return;
	}
	FUZZ_ASSERT(rep.code == 0);
	FUZZ_ASSERT(x25519_decode_x(got.x, strlen(got.x), pub) == 0);
	FUZZ_ASSERT(!x25519_low_order(pub));
	FUZZ_ASSERT(prekey_pkid(got.x, strlen(got.x), pkid) == 0 &&
	    strcmp(pkid, got.pkid) == 0);
	FUZZ_ASSERT(want.kind < 0 || got.kind == want.kind);
}

static void
record(const uint8_t *data, size_t size)
{
	struct report rep = { 0 };
	struct prekey_record r, again;
	json_t *o;
	char *text;
	int rc;

	rc = prekeys_record_read((const char *)data, size, &r, &rep);
	FUZZ_ASSERT(rc == 0 || rc == E2E_EX_DATAERR ||
	    rc == E2E_EX_SOFTWARE);
	if (rc != 0) {
		FUZZ_ASSERT(report_said(&rep));
		return;
	}
	FUZZ_ASSERT(!x25519_low_order(r.pk.x));
	FUZZ_ASSERT(r.pk.kind == JWE_FS_ONE_TIME ||
	    r.pk.kind == JWE_FS_SIGNED);
	if ((o = prekeys_record_json(r.name, &r.pk)) == NULL ||
	    (text = json_dumps(o, JSON_COMPACT)) == NULL)
		abort();
	json_decref(o);
	rc = prekeys_record_read(text, strlen(text), &again, &rep);
	free(text);
	FUZZ_ASSERT(rc == 0);
	FUZZ_ASSERT(strcmp(again.name, r.name) == 0 &&
	    memcmp(&again.pk, &r.pk, sizeof(r.pk)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	setup();
	switch (data[0] % 3) {
	case 0:
		store(data + 1, size - 1);
		break;
	case 1:
		proof(data + 1, size - 1);
		break;
	case 2:
		record(data + 1, size - 1);
		break;
	}
	return 0;
}
