/* fuzz_jws.c - jws_parse() and the payload decoding on arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "format/jws.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jws j;
	static struct report rep;	/* what jws_parse says */
	char *text;
	uint8_t *p;
	size_t n;
	int rc;

	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	report_clear(&rep);
	rc = jws_parse(text, size, &j, &rep);
	if (rc == 0) {
		FUZZ_ASSERT(j.header != NULL && j.sig_len > 0);
		if (jws_decode_payload(&j, &p, &n) == 0)
			FUZZ_ASSERT(p >= (uint8_t *)text && p + n <= (uint8_t *)text + size);
		jws_free(&j);
	} else {
		FUZZ_ASSERT(rc == 65 && rep.code == 65 &&
		    report_message(&rep)[0] != '\0');
	}
	free(text);
	return 0;
}
