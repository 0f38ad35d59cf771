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

int
main(void)
{
	RUN(rfc4648_vectors);
	RUN(strict_decoding);
	RUN(roundtrip_all_lengths);
	return harness_end();
}
