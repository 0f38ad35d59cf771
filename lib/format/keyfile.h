/*
 * keyfile.h - reading and writing key files.
 *
 * Private keys: PEM, PKCS#8 ("PRIVATE KEY"), encrypted PKCS#8
 * ("ENCRYPTED PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY", as older
 * openssl commands write it). Public keys: SubjectPublicKeyInfo
 * ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY"). Every key is checked with
 * rsa_check() before it is returned.
 *
 * Written private keys are PKCS#8, mode 0600, created atomically; with a
 * passphrase they are encrypted PKCS#8 with AES-256-CBC under a key from
 * PBKDF2-HMAC-SHA256 with KEYFILE_PBKDF2_ITER iterations. (scrypt at
 * N = 2^15, r = 8 needs 32 MiB, just over OpenSSL's default scrypt
 * memory cap, so `openssl pkey` could not read such a file.)
 */
#ifndef E2E_KEYFILE_H
#define E2E_KEYFILE_H

#include <openssl/evp.h>

#include "base/buf.h"
#include "base/passphrase.h"
#include "format/jwk.h"

#define KEYFILE_PBKDF2_ITER 600000
/* The most iterations a protected key may ask for (a hostile file could
 * ask for hours of work). */
#define KEYFILE_ITER_MAX (10 * KEYFILE_PBKDF2_ITER)
#define KEYFILE_MAX (1024 * 1024)

/*
 * Loads a private key from path ("-" for stdin). A protected key asks for
 * its passphrase through ps. A file group or others can read is refused
 * when unprotected (C3), used with a warning when protected. Returns 0,
 * or 66 (cannot read, not a key), 77 (wrong passphrase, or unprotected
 * and readable by others), 65 (refused by rsa_check), 64 (no way to ask
 * for a passphrase); in rep.
 */
int keyfile_load_private(const char *path, const struct passphrase_src *ps,
    EVP_PKEY **out, struct report *rep);

/* Loads a public key. A private key file is refused with a hint.
 * Returns 0, or 66 or 65 (in rep). */
int keyfile_load_public(const char *path, EVP_PKEY **out, struct report *rep);

/* The public key of path, a public key file or a private key file (a
 * protected one asks for its passphrase through ps; its mode is judged
 * as keyfile_load_private judges it). Same codes as
 * keyfile_load_private and keyfile_load_public. */
int keyfile_load_public_half(const char *path,
    const struct passphrase_src *ps, EVP_PKEY **out, struct report *rep);

/*
 * The key id of the key of path (a private key file), when it can be
 * known without asking anything: from path ".pub" when that is a public
 * key, else from path when it is a public or an unprotected private
 * key. Reports nothing. Returns 0, or -1 when it cannot be known (a
 * protected key without its .pub, an unreadable file).
 */
int keyfile_public_kid(const char *path, char kid[KID_SIZE]);

/* Parses a public key from memory (what names it in messages). */
int keyfile_parse_public(const uint8_t *pem, size_t len, const char *what,
    EVP_PKEY **out, struct report *rep);

/* PKCS#8 PEM of k, encrypted when pass is not NULL, into a secret
 * buffer. Returns 0 or 70. */
int keyfile_private_pem(EVP_PKEY *k, const char *pass, struct buf *out,
    struct report *rep);

/* SubjectPublicKeyInfo PEM of k. Returns 0 or 70. */
int keyfile_public_pem(EVP_PKEY *k, struct buf *out, struct report *rep);

/*
 * Writes k's private key to path (mode 0600) and its public key to
 * path.pub (mode 0644), each atomically and, unless force, never over an
 * existing file; with path NULL or "-", only the private key, to stdout.
 * pass (or NULL) protects the private key. Returns 0 or an exit code
 * (in rep); on failure neither file is left behind.
 */
int keyfile_write_pair(const char *path, EVP_PKEY *k, const char *pass,
    int force, struct report *rep);

/* The name of the public key file that goes with path (path ".pub").
 * Returns 0 or 64 when it does not fit in size. */
int keyfile_pub_path(const char *path, char *out, size_t size,
    struct report *rep);

#endif
