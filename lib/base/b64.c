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

/*
 * The large envelope's base64url, 64 characters at a time with AVX-512
 * VBMI or 32 with AVX2, the widest the processor has (checked once, at
 * run time): the same result as
 * the loops below, which finish every input and do all of it elsewhere.
 * Everything is compared to url_value and url_alphabet by
 * tests/unit/test_b64.c.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#define B64_AVX2 1
#include <immintrin.h>

/* The widest vector loops the processor runs: 2 AVX-512 VBMI, 1 AVX2,
 * 0 none (checked once; the unit tests may lower it, b64_test_simd). */
static int simd_level = -1;

/* Atomic: an encrypt's reading and writing threads may both come first
 * (they would store the same value). */
static int
simd(void)
{
	int level = __atomic_load_n(&simd_level, __ATOMIC_RELAXED);

	if (level < 0) {
		__builtin_cpu_init();
		level = __builtin_cpu_supports("avx512vbmi") &&
		    __builtin_cpu_supports("avx512bw") ? 2 :
		    __builtin_cpu_supports("avx2") ? 1 : 0;
		__atomic_store_n(&simd_level, level, __ATOMIC_RELAXED);
	}
	return level;
}

static int
have_avx2(void)
{
	return simd() >= 1;
}

/*
 * AVX-512 VBMI (issue 14: a signed message's text is decoded twice, and
 * the AVX2 loop was a sixth of the signed decryption's CPU): 64
 * characters to 48 bytes at a time, each character looked up in a
 * 128-entry table by one permutation (0x80: not in the alphabet), while
 * i + 64 <= n; the store writes only its 48 bytes. Returns the
 * characters done; *bad when one is outside the alphabet.
 */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static size_t
decode_vbmi(const uint8_t *s, size_t n, uint8_t *out, size_t *o_out,
    int *bad)
{
	const __m512i lo = _mm512_loadu_si512((const void *)url_value);
	const __m512i hi = _mm512_loadu_si512((const void *)(url_value + 64));
	const __m512i pack1 = _mm512_set1_epi32(0x01400140);
	const __m512i pack2 = _mm512_set1_epi32(0x00011000);
	/* Each lane's three bytes, high first: 2, 1, 0, 6, 5, 4, ... */
	const __m512i order = _mm512_set_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 60, 61, 62, 56, 57, 58, 52, 53, 54, 48, 49, 50,
	    44, 45, 46, 40, 41, 42, 36, 37, 38, 32, 33, 34, 28, 29, 30, 24,
	    25, 26, 20, 21, 22, 16, 17, 18, 12, 13, 14, 8, 9, 10, 4, 5, 6, 0,
	    1, 2);
	size_t i = 0, o = 0;

	*bad = 0;
	while (i + 64 <= n) {
		__m512i c = _mm512_loadu_si512((const void *)(s + i));
		__m512i v = _mm512_permutex2var_epi8(lo, c, hi);
		__m512i p;

		/* Bit 7 of the value (not in the alphabet) or of the
		 * character (the table reads its low seven bits only). */
		if (_mm512_movepi8_mask(_mm512_or_si512(v, c)) != 0) {
			*bad = 1;
			break;
		}
		p = _mm512_madd_epi16(_mm512_maddubs_epi16(v, pack1), pack2);
		p = _mm512_permutexvar_epi8(order, p);
		_mm512_mask_storeu_epi8(out + o, 0xffffffffffffULL, p);
		i += 64;
		o += 48;
	}
	*o_out = o;
	return i;
}

/* AVX-512 VBMI: 48 bytes to 64 characters at a time, while i + 48 <= n
 * (the load reads only its 48 bytes). Returns the bytes done. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static size_t
encode_vbmi(const uint8_t *in, size_t n, char *out)
{
	const __m512i abc = _mm512_loadu_si512((const void *)url_alphabet);
	/* Each lane's bytes 1, 0, 2, 1 of its three (as the AVX2 loop). */
	const __m512i spread = _mm512_setr_epi32(0x01020001, 0x04050304,
	    0x07080607, 0x0a0b090a, 0x0d0e0c0d, 0x10110f10, 0x13141213,
	    0x16171516, 0x191a1819, 0x1c1d1b1c, 0x1f201e1f, 0x22232122,
	    0x25262425, 0x28292728, 0x2b2c2a2b, 0x2e2f2d2e);
	/* The four six-bit fields of each lane, at these bit offsets of
	 * its 64-bit pair (the permutation reads the low six bits). */
	const __m512i fields = _mm512_set1_epi64(0x3036242a1016040aLL);
	size_t i = 0, o = 0;

	while (i + 48 <= n) {
		__m512i v = _mm512_maskz_loadu_epi8(0xffffffffffffULL,
		    in + i);

		v = _mm512_permutexvar_epi8(spread, v);
		v = _mm512_multishift_epi64_epi8(fields, v);
		_mm512_storeu_si512((void *)(out + o),
		    _mm512_permutexvar_epi8(v, abc));
		i += 48;
		o += 64;
	}
	return i;
}

/* AVX2: 32 characters to 24 bytes at a time, while i + 64 <= n (room for
 * the 8 bytes each store writes past its 24). Returns the characters
 * done; *bad when one is outside the alphabet. */
__attribute__((target("avx2"))) static size_t
decode_avx2(const uint8_t *s, size_t n, uint8_t *out, size_t *o_out,
    int *bad)
{
	const __m256i pack1 = _mm256_set1_epi32(0x01400140);
	const __m256i pack2 = _mm256_set1_epi32(0x00011000);
	const __m256i shuf = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8,
	    14, 13, 12, -1, -1, -1, -1, 2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13,
	    12, -1, -1, -1, -1);
	const __m256i perm = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
	size_t i = 0, o = 0;

	*bad = 0;
	while (i + 64 <= n) {
		__m256i c = _mm256_loadu_si256((const __m256i *)(s + i));
		__m256i up = _mm256_and_si256(
		    _mm256_cmpgt_epi8(c, _mm256_set1_epi8('A' - 1)),
		    _mm256_cmpgt_epi8(_mm256_set1_epi8('Z' + 1), c));
		__m256i lo = _mm256_and_si256(
		    _mm256_cmpgt_epi8(c, _mm256_set1_epi8('a' - 1)),
		    _mm256_cmpgt_epi8(_mm256_set1_epi8('z' + 1), c));
		__m256i dg = _mm256_and_si256(
		    _mm256_cmpgt_epi8(c, _mm256_set1_epi8('0' - 1)),
		    _mm256_cmpgt_epi8(_mm256_set1_epi8('9' + 1), c));
		__m256i da = _mm256_cmpeq_epi8(c, _mm256_set1_epi8('-'));
		__m256i us = _mm256_cmpeq_epi8(c, _mm256_set1_epi8('_'));
		__m256i ok = _mm256_or_si256(_mm256_or_si256(up, lo),
		    _mm256_or_si256(_mm256_or_si256(dg, da), us));
		__m256i off, v, p;

		if (_mm256_movemask_epi8(ok) != -1) {
			*bad = 1;
			break;
		}
		off = _mm256_or_si256(
		    _mm256_or_si256(
		    _mm256_and_si256(up, _mm256_set1_epi8(-65)),
		    _mm256_and_si256(lo, _mm256_set1_epi8(-71))),
		    _mm256_or_si256(
		    _mm256_or_si256(
		    _mm256_and_si256(dg, _mm256_set1_epi8(4)),
		    _mm256_and_si256(da, _mm256_set1_epi8(17))),
		    _mm256_and_si256(us, _mm256_set1_epi8(-32))));
		v = _mm256_add_epi8(c, off);
		p = _mm256_madd_epi16(_mm256_maddubs_epi16(v, pack1), pack2);
		p = _mm256_shuffle_epi8(p, shuf);
		p = _mm256_permutevar8x32_epi32(p, perm);
		_mm256_storeu_si256((__m256i *)(out + o), p);
		i += 32;
		o += 24;
	}
	*o_out = o;
	return i;
}

/* AVX2: 24 bytes to 32 characters at a time, while i + 28 <= n (each
 * load reads 4 bytes past its 24). Returns the bytes done. */
__attribute__((target("avx2"))) static size_t
encode_avx2(const uint8_t *in, size_t n, char *out)
{
	const __m256i shuf = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6,
	    8, 7, 10, 9, 11, 10, 1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9,
	    11, 10);
	size_t i = 0, o = 0;

	while (i + 28 <= n) {
		__m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(
		    _mm_loadu_si128((const __m128i *)(in + i))),
		    _mm_loadu_si128((const __m128i *)(in + i + 12)), 1);
		__m256i t0, t1, t2, t3, idx, off;

		v = _mm256_shuffle_epi8(v, shuf);
		t0 = _mm256_and_si256(v, _mm256_set1_epi32(0x0fc0fc00));
		t1 = _mm256_mulhi_epu16(t0, _mm256_set1_epi32(0x04000040));
		t2 = _mm256_and_si256(v, _mm256_set1_epi32(0x003f03f0));
		t3 = _mm256_mullo_epi16(t2, _mm256_set1_epi32(0x01000010));
		idx = _mm256_or_si256(t1, t3);
		off = _mm256_set1_epi8(65);
		off = _mm256_add_epi8(off, _mm256_and_si256(_mm256_cmpgt_epi8(
		    idx, _mm256_set1_epi8(25)), _mm256_set1_epi8(6)));
		off = _mm256_add_epi8(off, _mm256_and_si256(_mm256_cmpgt_epi8(
		    idx, _mm256_set1_epi8(51)), _mm256_set1_epi8(-75)));
		off = _mm256_add_epi8(off, _mm256_and_si256(_mm256_cmpgt_epi8(
		    idx, _mm256_set1_epi8(61)), _mm256_set1_epi8(-13)));
		off = _mm256_add_epi8(off, _mm256_and_si256(_mm256_cmpgt_epi8(
		    idx, _mm256_set1_epi8(62)), _mm256_set1_epi8(49)));
		_mm256_storeu_si256((__m256i *)(out + o),
		    _mm256_add_epi8(idx, off));
		i += 24;
		o += 32;
	}
	return i;
}
#endif

#ifdef E2E_TEST_HOOKS
void
b64_test_simd(int level)
{
#ifdef B64_AVX2
	__atomic_store_n(&simd_level, -1, __ATOMIC_RELAXED);
	if (level < simd())
		__atomic_store_n(&simd_level, level, __ATOMIC_RELAXED);
#else
	(void)level;
#endif
}

int
b64_test_simd_level(void)
{
#ifdef B64_AVX2
	return simd();
#else
	return 0;
#endif
}
#endif

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
	size_t i = 0, o = 0;
	uint32_t v;

#ifdef B64_AVX2
	if (abc == url_alphabet && n >= 48 && simd() >= 2) {
		i = encode_vbmi(in, n, out);
		o = i / 3 * 4;
	}
	if (abc == url_alphabet && n - i >= 64 && have_avx2()) {
		i += encode_avx2(in + i, n - i, out + o);
		o = i / 3 * 4;
	}
#endif
	for (; i + 3 <= n; i += 3) {
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
	i = 0;
#ifdef B64_AVX2
	if (n >= 64 && simd() >= 2) {
		int bad;

		i = decode_vbmi(s, n, out, &o, &bad);
		if (bad)
			return -1;
	}
	if (n - i >= 128 && have_avx2()) {
		int bad;
		size_t o2;

		i += decode_avx2(s + i, n - i, out + o, &o2, &bad);
		o += o2;
		if (bad)
			return -1;
	}
#endif
	/* Reading ahead of writing keeps in-place decoding safe: o <= i. */
	for (; i + 4 <= n; i += 4) {
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

long long
b64url_dstream_update(struct b64url_dstream *d, const char *in, size_t n,
    uint8_t *out)
{
	size_t o = 0, whole;
	long long m;

	if (d->bad)
		return -1;
	/* A quad begun in an earlier piece is finished first. */
	while (d->ncarry > 0 && d->ncarry < 4 && n > 0) {
		d->carry[d->ncarry++] = *in++;
		n--;
	}
	if (d->ncarry == 4) {
		if (b64url_decode(d->carry, 4, out) != 3)
			goto bad;
		o = 3;
		d->ncarry = 0;
	}
	if (d->ncarry > 0)
		return (long long)o;
	/* Only whole quads here: a group of 2 or 3 is the end's alone. */
	whole = n / 4 * 4;
	if ((m = b64url_decode(in, whole, out + o)) < 0)
		goto bad;
	o += (size_t)m;
	for (; whole < n; whole++)
		d->carry[d->ncarry++] = in[whole];
	return (long long)o;
bad:
	d->bad = 1;
	d->ncarry = 0;
	return -1;
}

long long
b64url_dstream_final(struct b64url_dstream *d, uint8_t *out)
{
	long long m;

	if (d->bad)
		return -1;
	m = b64url_decode(d->carry, d->ncarry, out);
	d->ncarry = 0;
	if (m < 0)
		d->bad = 1;
	return m;
}
