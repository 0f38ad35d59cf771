/*
 * peers.h - who a request comes from: IPv4 and IPv6 addresses and
 * networks ("ADDR[/PREFIX]"), the real client behind trusted proxies
 * (X-Forwarded-For, X-Real-IP), the key every per-address limit counts
 * under (an IPv6 client's /64, since one host gets a whole /64 and can
 * rotate through it), and counters per key.
 */
#ifndef E2E_PEERS_H
#define E2E_PEERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An address: AF_INET (the first 4 bytes) or AF_INET6. */
struct ipaddr {
	int family;
	uint8_t b[16];
};

struct ipnet {
	struct ipaddr a;	/* the bits past the prefix are zero */
	unsigned prefix;
};

/* "1.2.3.4/24", "2001:db8::/32", or an address alone (a host: /32 or
 * /128). Bits past the prefix must be zero ("10.0.0.1/8" is refused, as
 * a likely typo). Returns 0 or -1. */
int ipnet_parse(const char *s, struct ipnet *n);

/* An address as text, strictly: dotted IPv4 or IPv6, also in brackets,
 * with an optional port ("1.2.3.4:80", "[::1]:443"), which is dropped.
 * Returns 0 or -1. */
int ipaddr_parse(const char *s, size_t len, struct ipaddr *a);

/* From a socket address; an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * becomes the IPv4 address. Returns 0, or -1 for other families. */
int ipaddr_from_sockaddr(const struct sockaddr *sa, struct ipaddr *a);

int ipnet_contains(const struct ipnet *n, const struct ipaddr *a);
/* Returns 1 when a is in one of the n networks. */
int ipnets_contain(const struct ipnet *v, size_t n, const struct ipaddr *a);

/* 127.0.0.0/8 or ::1. */
int ipaddr_is_loopback(const struct ipaddr *a);

/* The key of per-address limits: an IPv4 address as it is, an IPv6
 * address's /64 (the other bits zero). */
void ipaddr_key(const struct ipaddr *a, struct ipaddr *key);

/* Text of a key (or an address): "192.0.2.1", "2001:db8:1:2::/64" for an
 * IPv6 key. size of at least 64 is enough. */
void ipaddr_key_str(const struct ipaddr *key, char *out, size_t size);

/*
 * The client of a request that came from peer. Only when peer is in
 * trusted: X-Forwarded-For (xff, its n header values in order) is read
 * from the right, skipping the addresses of trusted proxies, and the
 * first other address is the client (every proxy appends the address it
 * got the request from, so entries left of that one are the client's
 * own claims); when every entry is a trusted proxy, the left-most one.
 * Without X-Forwarded-For, X-Real-IP (xrip, may be NULL). An entry that
 * is not an address ends the walk: the last trusted hop is the client.
 * Otherwise the client is peer.
 */
void ipaddr_client(const struct ipaddr *peer, const struct ipnet *trusted,
    size_t ntrusted, const char *const *xff, size_t n, const char *xrip,
    struct ipaddr *client);

/* Counters by key (thread-safe), for connections and requests in flight
 * per client. */
struct addr_counts;

struct addr_counts *addr_counts_new(void);
void addr_counts_free(struct addr_counts *c);
/* Counts one more under key unless it already has limit: 0, or -1 (at
 * the limit, or out of memory). */
int addr_counts_take(struct addr_counts *c, const struct ipaddr *key,
    unsigned limit);
/* Gives one back. */
void addr_counts_give(struct addr_counts *c, const struct ipaddr *key);
/* The count under key now. */
unsigned addr_counts_get(struct addr_counts *c, const struct ipaddr *key);

#endif
