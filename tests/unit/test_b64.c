/* Unit tests of lib/base/b64.c: RFC 4648 vectors and strictness (J10). */
#include "harness.h"

#include "base/b64.h"

static void
rfc4648_vectors(void)
{
	static const struct { const char *in, *url, *std; } v[] = {
		{ "", "", "" },
		{ "f", "Zg", "Zg==" },
		{ "fo", "Zm8", "Zm8=" },
		{ "foo", "Zm9v", "Zm9v" },
		{ "foob", "Zm9vYg", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
	};
	struct buf b = BUF_INIT, s = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_clear(&b);
		buf_clear(&s);
		CHECK(b64url_append(&b, (const uint8_t *)v[i].in,
		    strlen(v[i].in)) == 0);
		CHECKF(b.len == strlen(v[i].url) &&
		    memcmp(b.p, v[i].url, b.len) == 0, "encode %s", v[i].in);
		CHECK(b64_append(&s, (const uint8_t *)v[i].in,
		    strlen(v[i].in)) == 0);
		CHECKF(s.len == strlen(v[i].std) &&
		    memcmp(s.p, v[i].std, s.len) == 0, "std %s", v[i].in);
		CHECK(b64url_decode_buf(v[i].url, strlen(v[i].url), &b) == 0);
		CHECKF(b.len == strlen(v[i].in) &&
		    memcmp(b.p, v[i].in, b.len) == 0, "decode %s", v[i].url);
	}
	buf_free(&b);
	buf_free(&s);
}

/* J10: padding, the standard alphabet, whitespace, NUL and non-zero
 * unused bits are all refused. */
static void
strict_decoding(void)
{
	static const char *const bad[] = {
		"Zg==", "Zg=", "Zm9v=", "Z", "Zm9vY", "+/8", "ab/c", "ab+c",
		"Zm9v ", " Zm9v", "Zm\n9v", "Zm\t9v", "Zh", "Zm9", "Zm-",
		"AB", "AAB", "AAAB=",
	};
	uint8_t out[16];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(b64url_decode(bad[i], strlen(bad[i]), out) < 0,
		    "accepted \"%s\"", bad[i]);
	CHECK(b64url_decode("Zm\0v", 4, out) < 0);
	/* Only one encoding per byte string: "Zh" and "Zg" both read as
	 * 0x66 by lax decoders. */
	CHECK(b64url_decode("Zg", 2, out) == 1 && out[0] == 'f');
}

static void
roundtrip_all_lengths(void)
{
	uint8_t in[300], dec[300];
	char enc[400];
	struct b64url_stream st = { { 0 }, 0 };
	char senc[400];
	size_t n, i, o, step;
	long long r;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (n = 0; n <= sizeof(in); n++) {
		b64url_encode(in, n, enc);
		r = b64url_decode(enc, b64url_enclen(n), dec);
		CHECKF(r == (long long)n && memcmp(in, dec, n) == 0,
		    "length %zu", n);
		CHECK(b64url_declen(b64url_enclen(n)) == n);
	}
	/* The streaming encoder gives the same text for any chunking. */
	for (step = 1; step <= 7; step++) {
		memset(&st, 0, sizeof(st));
		o = 0;
		for (i = 0; i < sizeof(in); i += step)
			o += b64url_stream_update(&st, in + i,
			    i + step > sizeof(in) ? sizeof(in) - i : step,
			    senc + o);
		o += b64url_stream_final(&st, senc + o);
		b64url_encode(in, sizeof(in), enc);
		CHECKF(o == b64url_enclen(sizeof(in)) &&
		    memcmp(enc, senc, o) == 0, "stream step %zu", step);
	}
	/* In-place decoding. */
	b64url_encode(in, 100, enc);
	r = b64url_decode(enc, b64url_enclen(100), (uint8_t *)enc);
	CHECK(r == 100 && memcmp(enc, in, 100) == 0);
}

/*
 * Long inputs take the AVX-512 VBMI or AVX2 loops where the processor
 * has them (issue 14): every length up to 1,000 and a long random input
 * against a one-character-at-a-time encoder, decoding in place and not,
 * and every byte that is not in the alphabet at each of the first 192
 * positions (three vector widths of the widest) refused. main runs it,
 * and the streaming tests, at each level the processor has.
 */
static void
long_inputs_like_the_reference(void)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	enum { N = 3 * 4001 };
	static uint8_t in[N], dec[N];
	static char enc[N / 3 * 4 + 4], ref[N / 3 * 4 + 4];
	size_t n, i, k, bits;
	unsigned x = 12345;
	long long r;
	int c, bad;

	for (i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		in[i] = (uint8_t)(x >> 16);
	}
	for (n = 0; n <= N; n += n < 1000 ? 1 : 997) {
		/* The reference: six bits at a time. */
		for (i = 0, k = 0; i * 6 < n * 8; i++) {
			bits = 0;
			for (c = 0; c < 6; c++) {
				size_t b = i * 6 + (size_t)c;

				bits = bits << 1 | (b < n * 8 ?
				    (size_t)(in[b / 8] >> (7 - b % 8) & 1) : 0);
			}
			ref[k++] = abc[bits];
		}
		b64url_encode(in, n, enc);
		CHECKF(k == b64url_enclen(n) && memcmp(enc, ref, k) == 0,
		    "encoding %zu bytes", n);
		r = b64url_decode(enc, k, dec);
		CHECKF(r == (long long)n && memcmp(dec, in, n) == 0,
		    "decoding %zu bytes", n);
		r = b64url_decode(enc, k, (uint8_t *)enc);
		CHECKF(r == (long long)n && memcmp(enc, in, n) == 0,
		    "decoding %zu bytes in place", n);
	}
	b64url_encode(in, 600, ref);
	for (c = 0; c < 256; c++) {
		bad = strchr(abc, c) == NULL || c == 0;
		for (i = 0; i < 192; i++) {
			memcpy(enc, ref, 800);
			enc[i] = (char)c;
			r = b64url_decode(enc, 800, dec);
			CHECKF((r < 0) == bad, "byte %d at %zu", c, i);
		}
	}
}

/* dstream_all: text[0..n) through the streaming decoder in pieces of
 * step characters; the bytes in out, or -1. */
static long long
dstream_all(const char *text, size_t n, size_t step, uint8_t *out)
{
	struct b64url_dstream d;
	size_t i, k;
	long long m, o = 0;

	memset(&d, 0, sizeof(d));
	for (i = 0; i < n; i += k) {
		k = n - i < step ? n - i : step;
		if ((m = b64url_dstream_update(&d, text + i, k, out + o)) < 0)
			return -1;
		o += m;
	}
	if ((m = b64url_dstream_final(&d, out + o)) < 0)
		return -1;
	return o + m;
}

/* The streaming decoder (a signed message's payload decoded as it is
 * decrypted) agrees with b64url_decode for every length and every piece
 * size, the AVX2 path's 128 included, valid or not: a bad character
 * first, last and in the middle, a lone last character, non-zero
 * trailing bits. */
static void
dstream_like_decode(void)
{
	static const size_t steps[] = { 1, 2, 3, 4, 5, 7, 64, 127, 128, 129,
	    1000 };
	uint8_t in[700], a[700], b[700 + 3];
	char enc[1000];
	size_t n, len, s, where;
	long long ra, rb;
	int bad;

	for (n = 0; n < sizeof(in); n++)
		in[n] = (uint8_t)(n * 91 + 7);
	for (n = 0; n <= sizeof(in); n += n < 20 ? 1 : 37) {
		b64url_encode(in, n, enc);
		len = b64url_enclen(n);
		for (bad = 0; bad < 5; bad++) {
			b64url_encode(in, n, enc);
			where = bad == 1 ? 0 : bad == 2 ? len / 2 : len - 1;
			if (bad >= 1 && bad <= 3 && len > 0)
				enc[where] = '+';
			if (bad == 4 && len % 4 >= 2)
				enc[len - 1] = 'B';	/* trailing bits */
			ra = b64url_decode(enc, len, a);
			for (s = 0; s < sizeof(steps) / sizeof(steps[0]);
			    s++) {
				rb = dstream_all(enc, len, steps[s], b);
				CHECKF(ra == rb && (ra < 0 ||
				    memcmp(a, b, (size_t)ra) == 0),
				    "length %zu, case %d, step %zu", len, bad,
				    steps[s]);
			}
		}
		/* One character more: a lone last character. */
		enc[len] = 'A';
		CHECKF(dstream_all(enc, len + 1, 3, b) ==
		    b64url_decode(enc, len + 1, a), "length %zu + 1", len);
	}
}

int
main(void)
{
	RUN(rfc4648_vectors);
	RUN(strict_decoding);
	int level;

	RUN(roundtrip_all_lengths);
	/* The vector loops, from the widest the processor has down to
	 * none: each compared alone to the reference. */
	for (level = b64_test_simd_level(); level >= 0; level--) {
		b64_test_simd(level);
		printf("vector level %d\n", level);
		RUN(long_inputs_like_the_reference);
		RUN(dstream_like_decode);
		RUN(roundtrip_all_lengths);
	}
	return harness_end();
}
