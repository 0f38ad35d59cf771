/*
 * jwk.h - key ids: the RFC 7638 JWK thumbprint (SHA-256, base64url) of an
 * RSA public key, computed over {"e":...,"kty":"RSA","n":...} with the
 * members in that order, no whitespace, and n and e without leading
 * zero octets. 43 characters.
 */
#ifndef E2E_JWK_H
#define E2E_JWK_H

#include <openssl/evp.h>

#include "base/report.h"

#define KID_LEN 43
#define KID_SIZE (KID_LEN + 1)

/* Writes the NUL-terminated key id of k (public or private) to kid.
 * Returns 0 or 70 (in rep). */
int jwk_thumbprint(EVP_PKEY *k, char kid[KID_SIZE], struct report *rep);

/* Returns 1 when s (of length len) has the shape of a key id. */
int jwk_is_kid(const char *s, size_t len);

#endif
