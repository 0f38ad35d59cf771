/*
 * fuzz_qr.c - qr_payload_parse() on arbitrary bytes: what a scanned QR
 * code (or a file given to e2e-keys import) may hold. A text it accepts
 * must name a valid user (or none), and the key id it returns must be
 * the key's own thumbprint, which qr_payload writes back identically.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "base/buf.h"
#include "base/names.h"
#include "format/crypto.h"
#include "format/jwk.h"
#include "keys/qr.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[NAME_LEN_MAX + 1], kid[KID_SIZE], real[KID_SIZE];
	struct report rep = { 0 };
	struct buf again = BUF_INIT;
	EVP_PKEY *pk = NULL;
	static int ready;

	if (!ready) {
		if (crypto_init(NULL) != 0)
			abort();
		ready = 1;
	}
	if (qr_payload_parse((const char *)data, size, name, kid, &pk,
	    &rep) != 0) {
		FUZZ_ASSERT(pk == NULL && report_message(&rep)[0] != '\0');
		return 0;
	}
	FUZZ_ASSERT(pk != NULL);
	FUZZ_ASSERT(name[0] == '\0' || name_valid(name, strlen(name)));
	FUZZ_ASSERT(jwk_thumbprint(pk, real, NULL) == 0 && strcmp(real,
	    kid) == 0);
	/* What was read writes back as the same text (canonical form). */
	FUZZ_ASSERT(qr_payload(name, pk, &again, NULL) == 0);
	FUZZ_ASSERT(size >= again.len && memmem(data, size, again.p,
	    again.len) != NULL);
	buf_free(&again);
	EVP_PKEY_free(pk);
	return 0;
}
