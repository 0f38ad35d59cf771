/* peers.c - client addresses, trusted proxies, per-address counts (see
 * peers.h). */
#include "server/peers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
	0xff };

/* ::ffff:a.b.c.d is a.b.c.d: one client, one key, whatever the socket. */
static void
unmap(struct ipaddr *a)
{
	if (a->family == AF_INET6 && memcmp(a->b, v4mapped, 12) == 0) {
		a->family = AF_INET;
		memmove(a->b, a->b + 12, 4);
		memset(a->b + 4, 0, 12);
	}
}

/* inet_pton of exactly len bytes of s. */
static int
pton(const char *s, size_t len, struct ipaddr *a)
{
	char text[INET6_ADDRSTRLEN];

	memset(a, 0, sizeof(*a));
	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	if (memchr(text, ':', len) == NULL) {
		if (inet_pton(AF_INET, text, a->b) != 1)
			return -1;
		a->family = AF_INET;
	} else {
		if (inet_pton(AF_INET6, text, a->b) != 1)
			return -1;
		a->family = AF_INET6;
	}
	return 0;
}

static int
is_port(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 5)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
ipaddr_parse(const char *s, size_t len, struct ipaddr *a)
{
	const char *end, *colon;

	if (len > 0 && s[0] == '[') {
		end = memchr(s, ']', len);
		if (end == NULL)
			return -1;
		if ((size_t)(end - s) + 1 != len &&
		    (end[1] != ':' || !is_port(end + 2, len -
		    (size_t)(end - s) - 2)))
			return -1;
		if (pton(s + 1, (size_t)(end - s) - 1, a) != 0 ||
		    a->family != AF_INET6)
			return -1;
	} else {
		/* One colon after dots: an IPv4 address and a port. */
		colon = memchr(s, ':', len);
		if (colon != NULL && memchr(colon + 1, ':', len -
		    (size_t)(colon - s) - 1) == NULL) {
			if (!is_port(colon + 1, len - (size_t)(colon - s) - 1))
				return -1;
			len = (size_t)(colon - s);
			if (pton(s, len, a) != 0 || a->family != AF_INET)
				return -1;
		} else if (pton(s, len, a) != 0) {
			return -1;
		}
	}
	unmap(a);
	return 0;
}

int
ipaddr_from_sockaddr(const struct sockaddr *sa, struct ipaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		a->family = AF_INET;
		memcpy(a->b, &((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		a->family = AF_INET6;
		memcpy(a->b, &((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr, 16);
		unmap(a);
		return 0;
	}
	return -1;
}

/* Keeps the first prefix bits of a. */
static void
mask(struct ipaddr *a, unsigned prefix)
{
	unsigned bits = a->family == AF_INET ? 32 : 128, i;

	/* clang-format reads the cast as an operand. */
	/* clang-format off */
	for (i = prefix; i < bits; i++)
		a->b[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	/* clang-format on */
}

int
ipnet_parse(const char *s, struct ipnet *n)
{
	const char *slash = strchr(s, '/');
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	struct ipaddr masked;
	unsigned long prefix;
	unsigned bits;
	char *end;

	memset(n, 0, sizeof(*n));
	if (pton(s, len, &n->a) != 0)
		return -1;
	unmap(&n->a);
	bits = n->a.family == AF_INET ? 32 : 128;
	prefix = bits;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		errno = 0;
		prefix = strtoul(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || prefix > bits)
			return -1;
	}
	n->prefix = (unsigned)prefix;
	masked = n->a;
	mask(&masked, n->prefix);
	return memcmp(&masked, &n->a, sizeof(masked)) == 0 ? 0 : -1;
}

int
ipnet_contains(const struct ipnet *n, const struct ipaddr *a)
{
	struct ipaddr m = *a;

	if (a->family != n->a.family)
		return 0;
	mask(&m, n->prefix);
	return memcmp(m.b, n->a.b, sizeof(m.b)) == 0;
}

int
ipnets_contain(const struct ipnet *v, size_t n, const struct ipaddr *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ipnet_contains(&v[i], a))
			return 1;
	return 0;
}

int
ipaddr_is_loopback(const struct ipaddr *a)
{
	static const uint8_t one[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 1 };

	if (a->family == AF_INET)
		return a->b[0] == 127;
	return a->family == AF_INET6 && memcmp(a->b, one, 16) == 0;
}

void
ipaddr_key(const struct ipaddr *a, struct ipaddr *key)
{
	*key = *a;
	if (key->family == AF_INET6)
		mask(key, 64);
}

void
ipaddr_key_str(const struct ipaddr *key, char *out, size_t size)
{
	char text[INET6_ADDRSTRLEN];

	if (key->family == AF_INET) {
		if (inet_ntop(AF_INET, key->b, text, sizeof(text)) == NULL)
			text[0] = '\0';
		snprintf(out, size, "%s", text);
	} else if (key->family == AF_INET6) {
		if (inet_ntop(AF_INET6, key->b, text, sizeof(text)) == NULL)
			text[0] = '\0';
		snprintf(out, size, "%s/64", text);
	} else {
		snprintf(out, size, "-");
	}
}

/* The entry of list that ends at *end (exclusive), trimmed; moves *end
 * to its comma (or to list). Returns 0 when there was none left. */
static int
prev_entry(const char *list, const char **end, const char **s,
    size_t *len)
{
	const char *e = *end, *b;

	if (e == list)
		return 0;
	b = e;
	while (b > list && b[-1] != ',')
		b--;
	*end = b > list ? b - 1 : list;
	while (b < e && (*b == ' ' || *b == '\t'))
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*s = b;
	*len = (size_t)(e - b);
	return 1;
}

void
ipaddr_client(const struct ipaddr *peer, const struct ipnet *trusted,
    size_t ntrusted, const char *const *xff, size_t n, const char *xrip,
    struct ipaddr *client)
{
	struct ipaddr a, last = *peer;
	const char *end, *s;
	size_t len, i;

	*client = *peer;
	if (!ipnets_contain(trusted, ntrusted, peer))
		return;
	if (n > 0) {
		for (i = n; i-- > 0;) {
			end = xff[i] + strlen(xff[i]);
			while (prev_entry(xff[i], &end, &s, &len)) {
				if (len == 0)	/* "a,,b": nothing said */
					continue;
				if (ipaddr_parse(s, len, &a) != 0) {
					*client = last;
					return;
				}
				if (!ipnets_contain(trusted, ntrusted, &a)) {
					*client = a;
					return;
				}
				last = a;
			}
		}
		*client = last;
		return;
	}
	if (xrip != NULL && ipaddr_parse(xrip, strlen(xrip), &a) == 0)
		*client = a;
}

/* ---- counts ---- */

#define BUCKETS 1024

struct count_node {
	struct ipaddr key;
	unsigned n;
	struct count_node *next;
};

struct addr_counts {
	pthread_mutex_t lock;
	struct count_node *bucket[BUCKETS];
};

static size_t
bucket_of(const struct ipaddr *k)
{
	uint32_t h = 2166136261u;
	size_t i;

	h = (h ^ (uint32_t)k->family) * 16777619u;
	for (i = 0; i < sizeof(k->b); i++)
		h = (h ^ k->b[i]) * 16777619u;
	return h % BUCKETS;
}

static int
same(const struct ipaddr *a, const struct ipaddr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, 16) == 0;
}

struct addr_counts *
addr_counts_new(void)
{
	struct addr_counts *c = calloc(1, sizeof(*c));

	if (c != NULL)
		pthread_mutex_init(&c->lock, NULL);
	return c;
}

void
addr_counts_free(struct addr_counts *c)
{
	struct count_node *p, *next;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < BUCKETS; i++)
		for (p = c->bucket[i]; p != NULL; p = next) {
			next = p->next;
			free(p);
		}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int
addr_counts_take(struct addr_counts *c, const struct ipaddr *key,
    unsigned limit)
{
	size_t b = bucket_of(key);
	struct count_node *p;
	int rc = -1;

	pthread_mutex_lock(&c->lock);
	for (p = c->bucket[b]; p != NULL && !same(&p->key, key); p = p->next)
		;
	if (p == NULL && limit > 0 && (p = calloc(1, sizeof(*p))) != NULL) {
		p->key = *key;
		p->next = c->bucket[b];
		c->bucket[b] = p;
	}
	if (p != NULL && p->n < limit) {
		p->n++;
		rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void
addr_counts_give(struct addr_counts *c, const struct ipaddr *key)
{
	struct count_node **pp, *p;

	pthread_mutex_lock(&c->lock);
	for (pp = &c->bucket[bucket_of(key)]; (p = *pp) != NULL;
	    pp = &p->next)
		if (same(&p->key, key)) {
			/* Nodes live only while counted: memory follows the
			 * clients connected now, not all ever seen. */
			if (p->n > 0 && --p->n == 0) {
				*pp = p->next;
				free(p);
			}
			break;
		}
	pthread_mutex_unlock(&c->lock);
}

unsigned
addr_counts_get(struct addr_counts *c, const struct ipaddr *key)
{
	struct count_node *p;
	unsigned n = 0;

	pthread_mutex_lock(&c->lock);
	for (p = c->bucket[bucket_of(key)]; p != NULL; p = p->next)
		if (same(&p->key, key)) {
			n = p->n;
			break;
		}
	pthread_mutex_unlock(&c->lock);
	return n;
}
