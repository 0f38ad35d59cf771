/*
 * fuzz_net_answers.c - the client's reading of the server's answers
 * (lib/net/api.c) on arbitrary bytes, in process: the HTTP layer's test
 * hook (http_test_set_responder) hands each call the fuzzer's answer.
 *
 * Input: one byte chooses the route (sign-up, sign-in, list, ack, take,
 * send, the key directory, sign-out, password, the prekeys: PUT
 * /prekeys, GET /prekeys, GET /prekeys/NAME as api.c reads it and as
 * e2e-keys claim checks it), one the status,
 * one whether the answer says it is JSON; the rest is the body. Every
 * answer gets 0 or one of the documented exit codes (client.h), a
 * reason when refused, and never a terminal control character in what
 * the tools would print (the server's words are shown to a person, A12);
 * what a call accepts has the shape api.h promises.
 *
 * The claim's check (prekeydir_claim) runs against a keyring in a
 * temporary home that pins bob's committed key (tests/vectors/keys), so
 * the seeds' proofs, made by that key for the id
 * 0123456789ABCDEFGHJKMNPQRS and http://127.0.0.1:9 (a signed prekey's
 * iat far ahead, so that the seeds do not age), reach every check after
 * the signature: what it accepts is records of bob's pinned key, and a
 * prekey it accepts is never a low-order point.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "base/err.h"
#include "base/jsonio.h"
#include "base/names.h"
#include "format/x25519.h"
#include "keys/keyring.h"
#include "net/api.h"
#include "net/client.h"
#include "net/http.h"
#include "net/prekeydir.h"
#include "net/session.h"

#define ROUTES 16
#define KID_BOB "sa58v0dhmhXOXVF-ddQWVzkv7VYg9_vIO6wdWcgyKrY"

static char home[64];
static struct keyring *ring;

static void
cleanup(void)
{
	char path[sizeof(home) + 32];

	keyring_close(ring);
	/* keyring_open of an empty home writes nothing; a lock may be. */
	snprintf(path, sizeof(path), "%s/keyring.json.lock", home);
	(void)unlink(path);
	(void)rmdir(home);
}

/* A keyring pinning bob's committed key, in a home of its own. */
static void
make_keyring(void)
{
	struct keyring_key key;
	struct report rep = { 0 };
	FILE *f;
	long n;

	snprintf(home, sizeof(home), "/tmp/fuzz-net-answers-XXXXXX");
	if (mkdtemp(home) == NULL)
		abort();
	atexit(cleanup);
	memset(&key, 0, sizeof(key));
	snprintf(key.kid, sizeof(key.kid), "%s", KID_BOB);
	snprintf(key.source, sizeof(key.source), "import");
	if ((f = fopen("tests/vectors/keys/bob.pub", "rb")) == NULL ||
	    fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (key.pem = calloc(1, (size_t)n + 1)) == NULL ||
	    fread(key.pem, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	if (keyring_open(home, 0, &ring, &rep) != 0 ||
	    keyring_import(ring, "bob", &key, 1, &rep) != 0)
		abort();
	free(key.pem);
}

/* What prekeydir_claim accepted: bob's pinned key's records. */
static void
check_claim(const json_t *arr, const struct prekey_public *pks, size_t npk)
{
	size_t i;
	const json_t *e;

	FUZZ_ASSERT(json_is_array(arr) && json_array_size(arr) == npk);
	json_array_foreach(arr, i, e) {
		FUZZ_ASSERT(strcmp(json_string_value(json_object_get(e,
		    "name")), "bob") == 0);
		FUZZ_ASSERT(strcmp(pks[i].ikid, KID_BOB) == 0);
		FUZZ_ASSERT(!x25519_low_order(pks[i].x));
	}
}

struct answer {
	long status;
	int json;
	const uint8_t *body;
	size_t len;
};

static int
respond(const struct http_req *rq, struct http_resp *rs, void *arg)
{
	const struct answer *a = arg;

	(void)rq;
	rs->status = a->status;
	rs->json = a->json;
	if (a->len > 0 && buf_append(&rs->body, a->body, a->len) != 0)
		abort();
	return 0;
}

static const long statuses[] = {
	200, 204, 400, 401, 403, 404, 409, 413, 429, 503, 507, 302, 500, 201,
	418, 100,
};

/* The report holds no byte a terminal would act on. */
static int
printable(const struct report *rep)
{
	const unsigned char *p;
	int i;

	for (i = 0; i < rep->nlines; i++)
		for (p = (const unsigned char *)rep->line[i].text; *p; p++)
			if (*p < 0x20 || *p == 0x7f)
				return 0;
	return 1;
}

static int
documented(int rc)
{
	switch (rc) {
	case 0:
	case E2E_EX_USAGE:
	case E2E_EX_DATAERR:
	case E2E_EX_NOUSER:
	case E2E_EX_UNAVAILABLE:
	case E2E_EX_SOFTWARE:
	case E2E_EX_TEMPFAIL:
	case E2E_EX_PROTOCOL:
	case E2E_EX_NOPERM:
	case E2E_EX_CONFIG:
	case E2E_EX_CANTCREAT:
		return 1;
	}
	return 0;
}

static void
check_list(const json_t *arr)
{
	size_t i;
	const json_t *m;

	FUZZ_ASSERT(json_is_array(arr));
	json_array_foreach(arr, i, m)
		FUZZ_ASSERT(api_message_valid(m));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct client c;
	static int ready;
	static struct report rep;
	struct answer a;
	struct session s;
	json_t *v = NULL, *body;
	struct prekey_public pks[KEYRING_KEYS_MAX];
	size_t npk = 0, signed_only = 0;
	char id[ID_LEN + 1];
	const char *ids[2] = { "0000000000000000000000000A",
	    "0000000000000000000000000B" };
	const char *pem = "-----BEGIN PUBLIC KEY-----\n";
	const char *proof = "x.y.z";
	int rc = 0, more = 0;

	if (!ready) {
		struct http_opts ho;

		memset(&ho, 0, sizeof(ho));
		ho.server = "http://127.0.0.1:9";
		if (http_open(&c.http, &ho, NULL) != 0)
			abort();
		snprintf(c.sess.name, sizeof(c.sess.name), "alice");
		snprintf(c.sess.id, sizeof(c.sess.id), "%s", ids[0]);
		snprintf(c.sess.token, sizeof(c.sess.token), "a.b.c");
		snprintf(c.sess.server, sizeof(c.sess.server),
		    "http://127.0.0.1:9");
		c.sess.expires_at = 4000000000;
		c.have_session = 1;
		make_keyring();
		ready = 1;
	}
	if (size < 3)
		return 0;
	a.status = statuses[data[1] % (sizeof(statuses) /
	    sizeof(statuses[0]))];
	a.json = data[2] & 1;
	a.body = data + 3;
	a.len = size - 3;
	http_test_set_responder(respond, &a);
	report_clear(&rep);
	switch (data[0] % ROUTES) {
	case 0:
		rc = api_signup(&c, "alice", "password", id, &rep);
		if (rc == 0)
			FUZZ_ASSERT(id_valid(id));
		break;
	case 1:
		rc = api_signin(&c, "alice", "password", &s, &rep);
		if (rc == 0)
			FUZZ_ASSERT(id_valid(s.id) && session_token_valid(
			    s.token, strlen(s.token)));
		break;
	case 2:
		rc = api_list(&c, NULL, NULL, 100, 0, &v, &more, &rep);
		if (rc == 0)
			check_list(v);
		break;
	case 3:
		rc = api_list(&c, "bob", ids[0], 10, 5, &v, NULL, &rep);
		if (rc == 0)
			check_list(v);
		break;
	case 4:
		rc = api_ack(&c, ids, 2, &rep);
		break;
	case 5:
		rc = api_take(&c, "bob", &v, &rep);
		if (rc == 0 && v != NULL)
			FUZZ_ASSERT(api_message_valid(v));
		break;
	case 6:
		rc = api_send(&c, "bob", "{}", 2, data[2] & 2, id, &rep);
		if (rc == 0)
			FUZZ_ASSERT(id_valid(id));
		break;
	case 7:
		rc = api_keys_get(&c, "bob", &v, &rep);
		if (rc == 0)
			FUZZ_ASSERT(json_is_array(v));
		break;
	case 8:
		rc = api_keys_entry(&c, "bob", &v, &rep);
		if (rc == 0)
			FUZZ_ASSERT(json_is_object(v));
		break;
	case 9:
		rc = api_keys_put(&c, &pem, &proof, 1, &rep);
		break;
	case 10:
		rc = api_signout(&c, &rep);
		break;
	case 11:
		rc = api_password(&c, "old", "new", &s, &rep);
		if (rc == 0)
			FUZZ_ASSERT(session_token_valid(s.token,
			    strlen(s.token)));
		break;
	case 12:
		if ((body = json_pack("{s:s,s:[]}", "kid", KID_BOB,
		    "one_time")) == NULL)
			abort();
		rc = api_prekeys_put(&c, body, &v, &rep);
		if (rc == 0)
			FUZZ_ASSERT(json_is_object(v) && json_is_integer(
			    json_object_get(v, "one_time")));
		break;
	case 13:
		rc = api_prekeys_stock(&c, &v, &rep);
		if (rc == 0)
			FUZZ_ASSERT(json_is_array(v));
		break;
	case 14:
		rc = api_prekeys_claim(&c, "bob", &v, &rep);
		if (rc == 0)
			FUZZ_ASSERT(json_is_object(v) && id_valid(jsonio_str(v,
			    "id", NULL)));
		break;
	case 15:
		rc = prekeydir_claim(&c, ring, "bob", &v, pks, &npk,
		    &signed_only, &rep);
		if (rc == 0)
			check_claim(v, pks, npk);
		else
			FUZZ_ASSERT(v == NULL);
		break;
	}
	json_decref(v);
	FUZZ_ASSERT(documented(rc));
	FUZZ_ASSERT(rc == 0 || report_said(&rep) ||
	    (data[0] % ROUTES == 10 && rc == E2E_EX_NOPERM));
	FUZZ_ASSERT(rc != 0 || rep.code == 0);
	FUZZ_ASSERT(printable(&rep));
	http_test_set_responder(NULL, NULL);
	return 0;
}
