/*
 * b64.h - base64url (RFC 4648 section 5, no padding) as JOSE uses it, and
 * plain base64 with padding for JSON output of binary data.
 *
 * Decoding is strict: no padding, no whitespace, no characters outside
 * the alphabet, and the unused bits of the last character must be zero,
 * so every byte string has exactly one encoding.
 */
#ifndef E2E_B64_H
#define E2E_B64_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Length of the base64url encoding of n bytes (no padding, no NUL). */
size_t b64url_enclen(size_t n);
/* Writes b64url_enclen(n) characters to out (no NUL). */
void b64url_encode(const uint8_t *in, size_t n, char *out);
/* Appends the encoding to a buffer. Returns 0 or -1 (out of memory). */
int b64url_append(struct buf *out, const uint8_t *in, size_t n);

/*
 * Decodes n characters into out, which must have room for
 * b64url_declen(n) bytes; out may equal in (in-place decoding).
 * Returns the decoded length, or -1 when the text is not canonical
 * base64url.
 */
size_t b64url_declen(size_t n);
long long b64url_decode(const char *in, size_t n, uint8_t *out);
/* Decodes into a buffer (replacing its content). Returns 0 or -1. */
int b64url_decode_buf(const char *in, size_t n, struct buf *out);

/* Streaming encoder: feed any chunk sizes, flush with b64url_stream_final. */
struct b64url_stream {
	uint8_t carry[3];
	size_t ncarry;
};
/* Encodes what it can of in into out, which needs room for
 * b64url_enclen(n + 2) characters; returns the number written. */
size_t b64url_stream_update(struct b64url_stream *s, const uint8_t *in,
    size_t n, char *out);
/* Writes the last 0 to 3 characters. */
size_t b64url_stream_final(struct b64url_stream *s, char *out);

/*
 * Streaming strict decoder: the text in pieces of any sizes, with the
 * result of b64url_decode over all of it. update decodes the whole quads
 * it can into out (room for n / 4 * 3 + 3 bytes) and returns the bytes
 * written; final the last group of 2 or 3 characters (out: 2 bytes).
 * Both return -1 once the text is not base64url, and from then on.
 * Start from a zeroed struct.
 */
struct b64url_dstream {
	char carry[4];
	size_t ncarry;
	int bad;
};
long long b64url_dstream_update(struct b64url_dstream *d, const char *in,
    size_t n, uint8_t *out);
long long b64url_dstream_final(struct b64url_dstream *d, uint8_t *out);

/* Standard base64 with padding (RFC 4648 section 4), for JSON output. */
int b64_append(struct buf *out, const uint8_t *in, size_t n);

#ifdef E2E_TEST_HOOKS
/* The unit tests' hook: the vector loops used at most up to level (2
 * AVX-512 VBMI, 1 AVX2, 0 none; never above what the processor has),
 * and the level in force, so that every loop is compared to the plain
 * one on a processor that has them. */
void b64_test_simd(int level);
int b64_test_simd_level(void);
#endif

#endif
