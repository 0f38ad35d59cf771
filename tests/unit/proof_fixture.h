/*
 * proof_fixture.h - what the tests of the identity key proofs
 * (test_keyproof) and of the prekey proofs (test_prekeyproof) share:
 * the account ids, the server and the time a proof is made for, alice's
 * key that signs and bob's that is wrong for it, with their key ids, and
 * craft() for the forgeries. The tests run from the project root.
 */
#ifndef E2E_PROOF_FIXTURE_H
#define E2E_PROOF_FIXTURE_H

#include "harness.h"
#include "keys_fixture.h"

#include "base/buf.h"
#include "format/crypto.h"
#include "format/jws.h"

#define ID_A "06H2A3MCM45VFGGXF6RPKVTJPC"
#define ID_B "06H2A3MCM45VFGGXF6RPKVTJPD"
#define AUD "https://chat.example"
#define NOW 1764380000

static EVP_PKEY *alice, *bob;
static char kid_alice[KID_SIZE], kid_bob[KID_SIZE];

/* Loads alice's private key and bob's public one, and their ids. Returns
 * 0, or -1 when the crypto library would not start. */
static inline int
proof_keys_load(void)
{
	if (crypto_init(NULL) != 0)
		return -1;
	alice = fixture_private("alice");
	bob = fixture_public("bob.pub");
	fixture_kid(alice, kid_alice);
	fixture_kid(bob, kid_bob);
	return 0;
}

static inline void
proof_keys_free(void)
{
	EVP_PKEY_free(alice);
	EVP_PKEY_free(bob);
}

/* A JWS of any header and payload, signed by k (for forgeries). */
static inline void
craft(EVP_PKEY *k, const char *header, const char *payload,
    struct buf *out)
{
	buf_clear(out);
	if (jws_sign(k, header, (const uint8_t *)payload, strlen(payload),
	    out, NULL) != 0 || buf_terminate(out) != 0) {
		fprintf(stderr, "jws_sign failed\n");
		exit(2);
	}
}

#endif
