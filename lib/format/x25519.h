/*
 * x25519.h - X25519 keys (RFC 7748) for the prekeys of forward secrecy
 * (docs/FORMAT.md section 11): raw 32-byte keys, their public JWK (RFC
 * 8037: {"kty":"OKP","crv":"X25519","x":...}), its RFC 7638 thumbprint
 * (the prekey's id, pkid), and the key agreement. OpenSSL's default
 * provider does the curve: nothing is fetched until a prekey is used,
 * so an RSA-only run pays nothing for it.
 */
#ifndef E2E_X25519_H
#define E2E_X25519_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/report.h"
#include "format/jwk.h"

#define X25519_LEN 32
/* B64U of 32 bytes: 43 characters. */
#define X25519_B64_LEN 43

/* A fresh private key (crypto_random: the unit tests' hook fixes it)
 * and its public key. Returns 0 or 70 (in rep). */
int x25519_generate(uint8_t priv[X25519_LEN], uint8_t pub[X25519_LEN],
    struct report *rep);

/* The public key of priv. Returns 0 or 70 (in rep). */
int x25519_public(const uint8_t priv[X25519_LEN], uint8_t pub[X25519_LEN],
    struct report *rep);

/*
 * The shared secret of priv and the peer's public key into z. Returns 0;
 * 65 when it is all zero (a peer key of small order, RFC 7748 section
 * 6.1: refused, z wiped, nothing said: the caller's words); or 70 (in
 * rep).
 */
int x25519_derive(const uint8_t priv[X25519_LEN],
    const uint8_t peer[X25519_LEN], uint8_t z[X25519_LEN],
    struct report *rep);

/* The prekey id of pub: B64U(SHA-256 of {"crv":"X25519","kty":"OKP",
 * "x":B64U(pub)}). Returns 0 or 70 (in rep). */
int x25519_pkid(const uint8_t pub[X25519_LEN], char pkid[KID_SIZE],
    struct report *rep);

/* The public JWK of pub, members kty, crv, x in that order; NULL when
 * out of memory. */
json_t *x25519_jwk(const uint8_t pub[X25519_LEN]);

/*
 * Reads a public X25519 JWK strictly: an object of exactly the members
 * kty "OKP", crv "X25519" and x, 32 bytes in unpadded base64url (43
 * characters). what names it in the refusal ("\"epk\""). Returns 0, or
 * 65 with the reason in rep.
 */
int x25519_jwk_read(const json_t *jwk, const char *what,
    uint8_t pub[X25519_LEN], struct report *rep);

/*
 * 1 when pub is a point of small order (RFC 7748 section 6.1): u = 0,
 * 1, p - 1 or one of the two points of order 8, however written: with
 * bit 255 set or not (RFC 7748 masks it; an implementation that does not
 * reads the whole 256 bits) and not reduced modulo p = 2^255 - 19 (p, p +
 * 1, 2p - 1, ...). The well-known list of 12 u-coordinates, and those of
 * them below 2^255 with the top bit set: 19 encodings. A key agreement
 * with such a point gives a result known in advance (all zero), so a
 * prekey that is one is refused wherever it is read: the server's PUT
 * /prekeys and the client's checks of a claimed prekey and of a --prekey
 * record. Public values only: not constant time.
 */
int x25519_low_order(const uint8_t pub[X25519_LEN]);

/* What a refusal of such a point says of it, after "is ". */
#define X25519_LOW_ORDER_WHY "a low-order X25519 point (RFC 7748 " \
	"section 6.1): no key agreement with it is secret"

/* Decodes x (43 base64url characters) into pub. Returns 0 or -1. */
int x25519_decode_x(const char *x, size_t len, uint8_t pub[X25519_LEN]);

#endif
