/*
 * fuzz_json_span.c - the ciphertext scan must agree with jansson: when
 * jsonio_member_span() finds a span, the whole text parsed by jansson
 * (if it parses) has a string member "ciphertext" equal to that span.
 * Also checks strict base64url round trips.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "base/b64.h"
#include "base/jsonio.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data, *s;
	size_t start, end, len;
	json_t *v;
	uint8_t *dec;
	char *enc;
	long long n;

	if (jsonio_member_span(t, size, "ciphertext", &start, &end) == 0) {
		FUZZ_ASSERT(start <= end && end < size);
		v = jsonio_parse(t, size, NULL);
		if (v != NULL) {
			s = jsonio_str(v, "ciphertext", &len);
			FUZZ_ASSERT(s != NULL && len == end - start &&
			    memcmp(s, t + start, len) == 0);
			json_decref(v);
		}
	}
	/* Canonical base64url: decode then encode gives the input back. */
	if ((dec = malloc(b64url_declen(size) + 1)) == NULL ||
	    (enc = malloc(size + 4)) == NULL)
		abort();
	n = b64url_decode(t, size, dec);
	if (n >= 0) {
		FUZZ_ASSERT(b64url_enclen((size_t)n) == size);
		b64url_encode(dec, (size_t)n, enc);
		FUZZ_ASSERT(memcmp(enc, t, size) == 0);
	}
	free(dec);
	free(enc);
	return 0;
}
