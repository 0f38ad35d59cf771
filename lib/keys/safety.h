/*
 * safety.h - safety numbers: one 60-digit number that two users compare
 * (in person, or over a channel they trust) to check that each holds the
 * other's real keys (E5). Signal's NumericFingerprint, on key ids.
 *
 * Each party's half, from its user name NAME and its key ids:
 *   KIDS = the key ids sorted in byte order, duplicates removed, joined
 *          with "," (no spaces, no final comma)
 *   D0   = SHA-512("e2e-chat safety number v1" || 0x00 || NAME || 0x00 ||
 *          KIDS)
 *   Di+1 = SHA-512(Di || KIDS), up to D5199: 5200 SHA-512 in all (as
 *          Signal's 5200 iterations), to make a brute-force search for
 *          keys with a matching number costly
 *   half = the first 30 bytes of D5199 cut into six 5-byte big-endian
 *          integers, each taken mod 100000 and written as 5 decimal
 *          digits with leading zeros: 30 digits
 * The number is the two 30-digit halves in ascending order (compared as
 * strings), so both sides compute the same one whoever is "a", written as
 * 12 groups of 5 digits separated by single spaces (71 characters). For
 * alice with the key id of tests/vectors/keys/alice.pub and bob with those
 * of bob.pub and carol.pub (tests/unit/test_safety.c):
 *   21569 91893 92792 45936 79257 83193 51929 24277 79187 23832 96729 56296
 * A changed key changes only the half of the party it belongs to. The
 * strings hashed are ASCII; nothing here is secret.
 */
#ifndef E2E_SAFETY_H
#define E2E_SAFETY_H

#include <stddef.h>

#include "base/report.h"

#define SAFETY_NUMBER_SIZE 72	/* 60 digits, 11 spaces, NUL */
#define SAFETY_KIDS_MAX 16	/* key ids per party, as given */

/*
 * Computes the safety number of two parties into out. Each side: a user
 * name (names.h) and 1 to SAFETY_KIDS_MAX key ids (jwk_is_kid), counted
 * as given (before duplicates are removed). Returns 0, or (reported in
 * rep, with out set to "") 65 for a refused input (invalid name or key
 * id, no key id, more than SAFETY_KIDS_MAX) or 70 when the digest
 * fails.
 */
int safety_number(const char *name_a, const char *const *kids_a, size_t na,
    const char *name_b, const char *const *kids_b, size_t nb,
    char out[SAFETY_NUMBER_SIZE], struct report *rep);

#endif
