/* fuzz_jws.c - jws_parse() and the payload decoding on arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "format/jws.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jws j;
	char why[200], *text;
	uint8_t *p;
	size_t n;

	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	if (jws_parse(text, size, &j, why, sizeof(why)) == 0) {
		FUZZ_ASSERT(j.header != NULL && j.sig_len > 0);
		if (jws_decode_payload(&j, &p, &n) == 0)
			FUZZ_ASSERT(p >= (uint8_t *)text && p + n <= (uint8_t *)text + size);
		jws_free(&j);
	} else {
		FUZZ_ASSERT(why[0] != '\0');
	}
	free(text);
	return 0;
}
