/*
 * b64.c - strict base64url and padded base64 (see b64.h).
 *
 * Written here rather than taken from OpenSSL: EVP_DecodeBlock accepts
 * padding, whitespace and non-zero trailing bits and has no url-safe
 * alphabet, and the envelope's throughput depends on this loop.
 */
#include "base/b64.h"

#include <string.h>

static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for the base64url alphabet, 0xff otherwise. */
static const uint8_t url_value[256] = {
#define X 0xff
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, 62, X, X,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
	X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, 63,
	X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
#undef X
};

size_t
b64url_enclen(size_t n)
{
	return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

size_t
b64url_declen(size_t n)
{
	return n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
}

static size_t
encode(const char *abc, const uint8_t *in, size_t n, char *out, int pad)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = abc[(v >> 6) & 63];
		out[o++] = abc[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = abc[(v >> 6) & 63];
		if (pad)
			out[o++] = '=';
	}
	return o;
}

void
b64url_encode(const uint8_t *in, size_t n, char *out)
{
	(void)encode(url_alphabet, in, n, out, 0);
}

int
b64url_append(struct buf *out, const uint8_t *in, size_t n)
{
	size_t len = b64url_enclen(n);

	if (buf_reserve(out, len) != 0)
		return -1;
	b64url_encode(in, n, (char *)out->p + out->len);
	out->len += len;
	return 0;
}

int
b64_append(struct buf *out, const uint8_t *in, size_t n)
{
	size_t len = (n + 2) / 3 * 4;

	if (buf_reserve(out, len) != 0)
		return -1;
	out->len += encode(std_alphabet, in, n, (char *)out->p + out->len, 1);
	return 0;
}

long long
b64url_decode(const char *in, size_t n, uint8_t *out)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t i, o = 0;
	uint32_t a, b, c, d;

	if (n % 4 == 1)
		return -1;
	/* Reading ahead of writing keeps in-place decoding safe: o <= i. */
	for (i = 0; i + 4 <= n; i += 4) {
		a = url_value[s[i]];
		b = url_value[s[i + 1]];
		c = url_value[s[i + 2]];
		d = url_value[s[i + 3]];
		if ((a | b | c | d) & 0x80)
			return -1;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		out[o++] = (uint8_t)(b << 4 | c >> 2);
		out[o++] = (uint8_t)(c << 6 | d);
	}
	if (n - i == 2) {
		a = url_value[s[i]];
		b = url_value[s[i + 1]];
		if ((a | b) & 0x80 || (b & 0x0f) != 0)
			return -1;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
	} else if (n - i == 3) {
		a = url_value[s[i]];
		b = url_value[s[i + 1]];
		c = url_value[s[i + 2]];
		if ((a | b | c) & 0x80 || (c & 0x03) != 0)
			return -1;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		out[o++] = (uint8_t)(b << 4 | c >> 2);
	}
	return (long long)o;
}

int
b64url_decode_buf(const char *in, size_t n, struct buf *out)
{
	long long r;

	buf_clear(out);
	if (buf_reserve(out, b64url_declen(n)) != 0)
		return -1;
	r = b64url_decode(in, n, out->p);
	if (r < 0)
		return -1;
	out->len = (size_t)r;
	return 0;
}

size_t
b64url_stream_update(struct b64url_stream *s, const uint8_t *in, size_t n,
    char *out)
{
	size_t o = 0, whole;

	while (s->ncarry > 0 && s->ncarry < 3 && n > 0) {
		s->carry[s->ncarry++] = *in++;
		n--;
	}
	if (s->ncarry == 3) {
		o = encode(url_alphabet, s->carry, 3, out, 0);
		s->ncarry = 0;
	}
	if (s->ncarry > 0)
		return o;
	whole = n / 3 * 3;
	o += encode(url_alphabet, in, whole, out + o, 0);
	for (; whole < n; whole++)
		s->carry[s->ncarry++] = in[whole];
	return o;
}

size_t
b64url_stream_final(struct b64url_stream *s, char *out)
{
	size_t o = encode(url_alphabet, s->carry, s->ncarry, out, 0);

	s->ncarry = 0;
	return o;
}
