/*
 * ecdhes.h - ECDH-ES+A256KW (RFC 7518 section 4.6) with X25519 (RFC
 * 8037): the key management of a forward-secret recipient of the
 * envelope (docs/FORMAT.md section 11). The key agreement's shared
 * secret goes through the Concat KDF (RFC 7518 4.6.2, NIST SP 800-56A
 * 5.8.1, SHA-256) to a key-encryption key that wraps the content key
 * with AES Key Wrap (RFC 3394).
 */
#ifndef E2E_ECDHES_H
#define E2E_ECDHES_H

#include <stddef.h>
#include <stdint.h>

#include "base/report.h"
#include "format/x25519.h"

#define ECDHES_ALG "ECDH-ES+A256KW"
#define ECDHES_KEK_LEN 32
/* AES Key Wrap adds one 8-byte block. */
#define ECDHES_WRAP_EXTRA 8

/*
 * The Concat KDF of RFC 7518 4.6.2 with SHA-256: out_len bytes derived
 * from the shared secret z, OtherInfo = AlgorithmID (alg, the "alg" or
 * "enc" value) || PartyUInfo (apu) || PartyVInfo (apv) || SuppPubInfo
 * (out_len * 8 as 32 bits), each of the first three as a 32-bit
 * big-endian length and its bytes. OpenSSL's SSKDF (SP 800-56C's
 * one-step KDF with a digest: H(counter || Z || FixedInfo)) is exactly
 * this with FixedInfo = OtherInfo. Returns 0 or 70 (in rep).
 */
int ecdhes_concat_kdf(const uint8_t *z, size_t z_len, const char *alg,
    const uint8_t *apu, size_t apu_len, const uint8_t *apv, size_t apv_len,
    uint8_t *out, size_t out_len, struct report *rep);

/* AES-256 Key Wrap of in (n bytes, a multiple of 8, at least 16) into
 * out (n + 8 bytes). Returns 0 or 70 (in rep). */
int ecdhes_kw_wrap(const uint8_t kek[ECDHES_KEK_LEN], const uint8_t *in,
    size_t n, uint8_t *out, struct report *rep);

/* Unwraps in (n bytes) into out (n - 8 bytes). Returns 0, or -1 for any
 * failure (the integrity check, a length), with nothing said. */
int ecdhes_kw_unwrap(const uint8_t kek[ECDHES_KEK_LEN], const uint8_t *in,
    size_t n, uint8_t *out);

/*
 * The sender's side for one recipient whose prekey is peer: a fresh
 * ephemeral key (its public half into epk), the KEK from the agreement,
 * cek (cek_len bytes) wrapped into ek (cek_len + 8 bytes). Returns 0,
 * 65 for a prekey of small order (said in rep), or 70 (in rep).
 */
int ecdhes_wrap(const uint8_t peer[X25519_LEN], const uint8_t *cek,
    size_t cek_len, uint8_t epk[X25519_LEN], uint8_t *ek,
    struct report *rep);

/*
 * The recipient's side: the content key from ek (ek_len bytes) with the
 * prekey priv and the sender's ephemeral key epk, into cek (cap bytes;
 * *cek_len set). Returns 0; -1 for every failure of the cryptography
 * (an all-zero secret, a failed unwrap), nothing said: the caller goes
 * on with a random key (RFC 7516 11.5); or 70 (in rep).
 */
int ecdhes_unwrap(const uint8_t priv[X25519_LEN],
    const uint8_t epk[X25519_LEN], const uint8_t *ek, size_t ek_len,
    uint8_t *cek, size_t cap, size_t *cek_len, struct report *rep);

#endif
