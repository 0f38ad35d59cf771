/*
 * fuzz_srv_parsers.c - what e2e-server reads from a request before any
 * route acts on it, on arbitrary bytes, in process: form bodies (the
 * original client's routes, form.c), bearer tokens (auth.c), the
 * addresses of X-Forwarded-For and X-Real-IP (peers.c) and the networks
 * of --trusted-proxy.
 *
 * The first byte chooses the parser; the rest is its input. Properties:
 * a form is refused with its documented status and a reason, or gives an
 * object of strings; a token is accepted only when it is, byte for byte,
 * one the server issued and it has not expired (nothing else forges
 * one: T1-T3); a client address is the peer or one of the header's
 * addresses, never an untrusted peer's claim (A7); a parsed address or
 * network reads back the same.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "server/auth.h"
#include "server/form.h"
#include "server/peers.h"

#define NOW 1700000000
#define TOKENS 3

static struct auth_keys keys;
static char *tokens[TOKENS];
static int64_t expires[TOKENS];

static void
setup(void)
{
	struct store_user u;
	int i;

	memset(&keys, 0, sizeof(keys));
	memset(keys.secret, 0x5a, AUTH_SECRET_MIN);
	keys.secret_len = AUTH_SECRET_MIN;
	keys.ttl = 86400;
	for (i = 0; i < TOKENS; i++) {
		memset(&u, 0, sizeof(u));
		memcpy(u.id, "0123456789ABCDEFGHJKMNPQR", STORE_ID_LEN - 1);
		u.id[STORE_ID_LEN - 1] = (char)('A' + i);
		snprintf(u.name, sizeof(u.name), "user%d", i);
		u.token_version = i;
		if (auth_token_issue(&keys, &u, NOW - 3600 * i, &tokens[i],
		    &expires[i]) != 0)
			abort();
	}
}

static void
check_form(const char *s, size_t n)
{
	static struct report rep;
	json_t *v = NULL;
	const char *k;
	json_t *m;
	int rc;

	report_clear(&rep);
	rc = form_parse(s, n, &v, &rep);
	FUZZ_ASSERT(rc == 0 || rc == 400 || rc == 413 || rc == 500);
	FUZZ_ASSERT((rc == 0) == (v != NULL));
	FUZZ_ASSERT(rc == 0 || report_said(&rep));
	if (rc == 0) {
		FUZZ_ASSERT(json_is_object(v));
		json_object_foreach(v, k, m)
			FUZZ_ASSERT(json_is_string(m));
		json_decref(v);
	}
}

static void
check_token(const char *s, size_t n)
{
	struct auth_claims c;
	int i, issued = -1;

	for (i = 0; i < TOKENS; i++)
		if (strlen(tokens[i]) == n && memcmp(tokens[i], s, n) == 0)
			issued = i;
	if (auth_token_check(&keys, s, n, NOW, &c) == 0) {
		FUZZ_ASSERT(issued >= 0);
		FUZZ_ASSERT(c.ver == issued && c.exp == expires[issued]);
	}
	/* Expired, however it is made. */
	FUZZ_ASSERT(auth_token_check(&keys, s, n, NOW + 86400 * 2, &c) != 0);
}

/* Splits s at '\n' into at most 8 NUL-terminated values. */
static size_t
split(char *s, char *v[8])
{
	size_t n = 0;
	char *p = s, *nl;

	while (n < 8) {
		v[n++] = p;
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return n;
}

/* Whether a is one of the comma-separated addresses of value. */
static int
listed(const char *value, const struct ipaddr *a)
{
	const char *p = value, *end;
	struct ipaddr b;
	size_t len;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (ipaddr_parse(p, len, &b) == 0 && b.family == a->family &&
		    memcmp(b.b, a->b, sizeof(b.b)) == 0)
			return 1;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

static void
check_addresses(char *s)
{
	struct ipnet trusted[2];
	struct ipaddr peer, client, a;
	char *v[8], text[64];
	size_t n, i;
	int found = 0;

	if (ipnet_parse("127.0.0.1", &trusted[0]) != 0 ||
	    ipnet_parse("10.0.0.0/8", &trusted[1]) != 0 ||
	    ipaddr_parse("127.0.0.1", 9, &peer) != 0)
		abort();
	n = split(s, v);
	/* A trusted peer: the client is the peer or an address given. */
	ipaddr_client(&peer, trusted, 2, (const char *const *)v + 1,
	    n > 1 ? n - 1 : 0, v[0], &client);
	if (memcmp(&client, &peer, sizeof(peer)) == 0)
		found = 1;
	for (i = 0; i < n && !found; i++)
		found = listed(v[i], &client);
	FUZZ_ASSERT(found);
	/* An untrusted peer's headers are never believed (A7). */
	if (ipaddr_parse("192.0.2.7", 9, &peer) != 0)
		abort();
	ipaddr_client(&peer, trusted, 2, (const char *const *)v, n, v[0],
	    &client);
	FUZZ_ASSERT(memcmp(&client, &peer, sizeof(peer)) == 0);
	/* An IPv4 address reads back as itself. */
	if (ipaddr_parse(v[0], strlen(v[0]), &a) == 0 && a.family == 4) {
		struct ipaddr back;

		ipaddr_key_str(&a, text, sizeof(text));
		FUZZ_ASSERT(ipaddr_parse(text, strlen(text), &back) == 0 &&
		    memcmp(&a, &back, sizeof(a)) == 0);
	}
}

static void
check_network(const char *s)
{
	struct ipnet net;

	if (ipnet_parse(s, &net) == 0) {
		FUZZ_ASSERT(net.prefix <= (net.a.family == 4 ? 32u : 128u));
		FUZZ_ASSERT(ipnet_contains(&net, &net.a));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char *s;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 1 || size > 1 << 20)
		return 0;
	/* A NUL-terminated copy for the parsers of C strings. */
	if ((s = malloc(size)) == NULL)
		abort();
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		check_form(s, size - 1);
		break;
	case 1:
		check_token(s, size - 1);
		break;
	case 2:
		check_addresses(s);
		break;
	case 3:
		check_network(s);
		break;
	}
	free(s);
	return 0;
}
