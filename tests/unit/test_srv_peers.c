/*
 * Who a request comes from (peers.c): addresses and networks as options
 * give them, the client behind trusted proxies (X-Forwarded-For read
 * from the right, X-Real-IP), IPv6 keys by /64, counts per key; and the
 * body-memory budget (budget.c). tests/bats/server_conn.bats drives them
 * through a real server and nginx.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "server/budget.h"
#include "server/peers.h"

static struct ipaddr
addr(const char *s)
{
	struct ipaddr a;

	if (ipaddr_parse(s, strlen(s), &a) != 0) {
		fprintf(stderr, "test data: %s is not an address\n", s);
		abort();
	}
	return a;
}

static const char *
key_text(const char *s)
{
	static char out[64];
	struct ipaddr a = addr(s), k;

	ipaddr_key(&a, &k);
	ipaddr_key_str(&k, out, sizeof(out));
	return out;
}

static void
nets_parse(void)
{
	static const char *const good[] = { "127.0.0.1", "10.0.0.0/8",
		"0.0.0.0/0", "192.0.2.128/25", "::1", "2001:db8::/32",
		"::/0", "fe80::/10", "2001:db8:1:2::/64", "1.2.3.4/32" };
	static const char *const bad[] = { "", "garbage", "10.0.0.1/8",
		"10.0.0.0/33", "10.0.0.0/", "/8", "10.0.0.0/ 8",
		"10.0.0.0/8x", "10.0.0.0/-1", "10.0.0.0/+8", "::1/129",
		"[::1]", "2001:db8::1/64", "localhost", "1.2.3",
		"1.2.3.4:80", "fe80::1%lo", " 10.0.0.0/8", "10.0.0.0/8 ",
		"1.2.3.256", "10.0.0.0/08x" };
	struct ipnet n;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECKF(ipnet_parse(good[i], &n) == 0, "%s refused", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(ipnet_parse(bad[i], &n) != 0, "%s taken", bad[i]);
	CHECK(ipnet_parse("1.2.3.4", &n) == 0 && n.prefix == 32);
	CHECK(ipnet_parse("::1", &n) == 0 && n.prefix == 128);
}

static void
nets_contain(void)
{
	struct ipnet n[2];
	struct ipaddr a;

	CHECK(ipnet_parse("10.0.0.0/8", &n[0]) == 0);
	CHECK(ipnet_parse("2001:db8::/32", &n[1]) == 0);
	a = addr("10.255.1.2");
	CHECK(ipnet_contains(&n[0], &a));
	a = addr("11.0.0.1");
	CHECK(!ipnet_contains(&n[0], &a));
	CHECK(!ipnets_contain(n, 2, &a));
	a = addr("2001:db8:ffff::1");
	CHECK(ipnets_contain(n, 2, &a));
	a = addr("2001:db9::1");
	CHECK(!ipnets_contain(n, 2, &a));
	/* An IPv4-mapped address is its IPv4 address. */
	a = addr("::ffff:10.1.2.3");
	CHECK(a.family == AF_INET && ipnet_contains(&n[0], &a));
	CHECK(ipnet_parse("0.0.0.0/0", &n[0]) == 0);
	a = addr("203.0.113.9");
	CHECK(ipnet_contains(&n[0], &a));
	a = addr("::1");
	CHECK(!ipnet_contains(&n[0], &a));
	CHECK(!ipnets_contain(NULL, 0, &a));
}

static void
addresses_parse(void)
{
	static const char *const good[] = { "1.2.3.4", "1.2.3.4:80",
		"[::1]", "[::1]:443", "2001:db8::1", "::ffff:1.2.3.4",
		"[2001:db8::1]:65535" };
	static const char *const bad[] = { "", "x", "1.2.3.4:", "1.2.3.4:x",
		"1.2.3.4:123456", "[::1", "[::1]x", "[::1]:", "[1.2.3.4]",
		"::1:80:", "unknown", "1.2.3.4 ", " 1.2.3.4", "[::1]:8o",
		"1.2.3.4:80:90" };
	struct ipaddr a;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECKF(ipaddr_parse(good[i], strlen(good[i]), &a) == 0,
		    "%s refused", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(ipaddr_parse(bad[i], strlen(bad[i]), &a) != 0,
		    "%s taken", bad[i]);
	/* Only len bytes count. */
	CHECK(ipaddr_parse("1.2.3.4, 5.6.7.8", 7, &a) == 0);
	CHECK(a.family == AF_INET && a.b[3] == 4);
	CHECK(ipaddr_is_loopback(&(struct ipaddr){ AF_INET, { 127, 9 } }));
	a = addr("::1");
	CHECK(ipaddr_is_loopback(&a));
	a = addr("::2");
	CHECK(!ipaddr_is_loopback(&a));
	a = addr("128.0.0.1");
	CHECK(!ipaddr_is_loopback(&a));
}

static void
keys_by_64(void)
{
	CHECK(strcmp(key_text("192.0.2.7"), "192.0.2.7") == 0);
	CHECK(strcmp(key_text("2001:db8:1:2:aaaa:bbbb:cccc:dddd"),
	    "2001:db8:1:2::/64") == 0);
	CHECK(strcmp(key_text("2001:db8:1:2::1"), "2001:db8:1:2::/64") == 0);
	CHECK(strcmp(key_text("2001:db8:1:3::1"), "2001:db8:1:3::/64") == 0);
	CHECK(strcmp(key_text("::1"), "::/64") == 0);
	CHECK(strcmp(key_text("::ffff:192.0.2.7"), "192.0.2.7") == 0);
}

/* client(peer, xff..., NULL): the client as text. */
static const char *
client(const char *peer, const char *xrip, const char *const *xff,
    size_t n)
{
	static char out[64];
	struct ipnet trusted[2];
	struct ipaddr p = addr(peer), c;

	CHECK(ipnet_parse("10.0.0.0/8", &trusted[0]) == 0);
	CHECK(ipnet_parse("fd00::/8", &trusted[1]) == 0);
	ipaddr_client(&p, trusted, 2, xff, n, xrip, &c);
	if (inet_ntop(c.family, c.b, out, sizeof(out)) == NULL)
		snprintf(out, sizeof(out), "?");
	return out;
}

#define XFF(...) (const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *)

static void
forwarded_for(void)
{
	/* An untrusted peer: its headers mean nothing (A7). */
	CHECK(strcmp(client("198.51.100.1", "1.1.1.1", XFF("2.2.2.2")),
	    "198.51.100.1") == 0);
	/* A trusted one: the right-most entry not a trusted proxy. */
	CHECK(strcmp(client("10.0.0.1", NULL, XFF("203.0.113.5")),
	    "203.0.113.5") == 0);
	CHECK(strcmp(client("10.0.0.1", NULL,
	    XFF("6.6.6.6, 203.0.113.5, 10.0.0.9")), "203.0.113.5") == 0);
	/* What the client claimed itself stays left of what the proxy
	 * saw. */
	CHECK(strcmp(client("10.0.0.1", NULL,
	    XFF("10.0.0.77, 203.0.113.5")), "203.0.113.5") == 0);
	/* Several headers are one list, in order. */
	CHECK(strcmp(client("10.0.0.1", NULL,
	    XFF("6.6.6.6", "203.0.113.5,10.0.0.2", "10.0.0.3")),
	    "203.0.113.5") == 0);
	/* Only proxies: the left-most. */
	CHECK(strcmp(client("10.0.0.1", NULL, XFF("10.0.0.5, 10.0.0.6")),
	    "10.0.0.5") == 0);
	/* Garbage where a proxy should have written an address: the last
	 * proxy that is known. */
	CHECK(strcmp(client("10.0.0.1", NULL, XFF("unknown, 10.0.0.6")),
	    "10.0.0.6") == 0);
	CHECK(strcmp(client("10.0.0.1", NULL, XFF("garbage")),
	    "10.0.0.1") == 0);
	/* Garbage left of the client is the client's own business. */
	CHECK(strcmp(client("10.0.0.1", NULL, XFF("x, ,203.0.113.5")),
	    "203.0.113.5") == 0);
	CHECK(strcmp(client("10.0.0.1", NULL, XFF(" , 203.0.113.5 ,")),
	    "203.0.113.5") == 0);
	/* Ports and brackets. */
	CHECK(strcmp(client("10.0.0.1", NULL, XFF("[2001:db8::5]:4711")),
	    "2001:db8::5") == 0);
	CHECK(strcmp(client("10.0.0.1", NULL, XFF("203.0.113.5:80")),
	    "203.0.113.5") == 0);
	CHECK(strcmp(client("fd00::1", NULL, XFF("2001:db8::7, fd12::1")),
	    "2001:db8::7") == 0);
	/* X-Real-IP without X-Forwarded-For; X-Forwarded-For first. */
	CHECK(strcmp(client("10.0.0.1", "203.0.113.8", NULL, 0),
	    "203.0.113.8") == 0);
	CHECK(strcmp(client("10.0.0.1", "203.0.113.8", XFF("203.0.113.5")),
	    "203.0.113.5") == 0);
	CHECK(strcmp(client("10.0.0.1", "nonsense", NULL, 0),
	    "10.0.0.1") == 0);
	CHECK(strcmp(client("10.0.0.1", NULL, NULL, 0), "10.0.0.1") == 0);
	/* Empty headers. */
	CHECK(strcmp(client("10.0.0.1", NULL, XFF("")), "10.0.0.1") == 0);
}

static void
counts(void)
{
	struct addr_counts *c = addr_counts_new();
	struct ipaddr a = addr("192.0.2.1"), b = addr("192.0.2.2");
	int i;

	CHECK(c != NULL);
	if (c == NULL)
		return;
	for (i = 0; i < 3; i++)
		CHECK(addr_counts_take(c, &a, 3) == 0);
	CHECK(addr_counts_take(c, &a, 3) != 0);
	CHECK(addr_counts_get(c, &a) == 3);
	CHECK(addr_counts_take(c, &b, 3) == 0);
	addr_counts_give(c, &a);
	CHECK(addr_counts_take(c, &a, 3) == 0);
	CHECK(addr_counts_take(c, &a, 3) != 0);
	for (i = 0; i < 3; i++)
		addr_counts_give(c, &a);
	CHECK(addr_counts_get(c, &a) == 0);
	/* Giving back more than was taken does not wrap. */
	addr_counts_give(c, &a);
	CHECK(addr_counts_get(c, &a) == 0);
	CHECK(addr_counts_get(c, &b) == 1);
	CHECK(addr_counts_take(c, &a, 0) != 0);
	addr_counts_free(c);
}

static void
budgets(void)
{
	struct budget b;

	budget_init(&b, 1000);
	/* Anonymous uploads get a quarter. */
	CHECK(budget_take(&b, 200, 1) == 0);
	CHECK(budget_take(&b, 51, 1) != 0);
	CHECK(budget_take(&b, 50, 1) == 0);
	CHECK(budget_take(&b, 1, 1) != 0);
	/* Signed-in ones the rest, which they cannot cross either. */
	CHECK(budget_take(&b, 700, 0) == 0);
	CHECK(budget_take(&b, 51, 0) != 0);
	CHECK(budget_take(&b, 50, 0) == 0);
	CHECK(budget_take(&b, 1, 0) != 0);
	CHECK(budget_used(&b) == 1000);
	budget_give(&b, 200, 1);
	CHECK(budget_take(&b, 1, 0) != 0);
	CHECK(budget_take(&b, 200, 1) == 0);
	budget_give(&b, 200, 1);
	budget_give(&b, 50, 1);
	budget_give(&b, 700, 0);
	budget_give(&b, 50, 0);
	CHECK(budget_used(&b) == 0);
	/* Giving back more than was taken does not wrap. */
	budget_give(&b, 5, 0);
	CHECK(budget_used(&b) == 0);
	CHECK(budget_take(&b, 751, 0) != 0);
	CHECK(budget_take(&b, 0, 1) == 0);
	CHECK(budget_signed_in(1000) == 750);
	CHECK(budget_signed_in((size_t)4 << 20) == (size_t)3 << 20);
	budget_destroy(&b);
}

int
main(void)
{
	RUN(nets_parse);
	RUN(nets_contain);
	RUN(addresses_parse);
	RUN(keys_by_64);
	RUN(forwarded_for);
	RUN(counts);
	RUN(budgets);
	return harness_end();
}
