/*
 * fuzz_keyfile.c - key files (lib/format/keyfile.c) on arbitrary bytes:
 * the public key parser (PEM SubjectPublicKeyInfo or PKCS#1, through a
 * fast path of its own and OpenSSL's decoder) and the private key loader
 * (PKCS#8, PKCS#1, protected or not, with its guard on a protected key's
 * derivation cost). Every input gets one of the documented exit codes,
 * a reason when refused, and no key; an accepted key is an RSA key the
 * tools accept, which writes back out to a file that reads back to the
 * same key id.
 *
 * DER is fuzzed too: an input whose first byte is 0 to 4 is DER, put
 * into a PEM block of the label that byte chooses (the base64 of PEM
 * would hide the structure from the fuzzer's mutations).
 *
 * The private key loader reads a file: each input is written to one
 * temporary file. A protected key asks for its passphrase from a file
 * that does not exist (66), so no input costs a key derivation: what is
 * fuzzed is everything before it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "base/buf.h"
#include "base/passphrase.h"
#include "base/report.h"
#include "format/jwk.h"
#include "format/keyfile.h"

static char path[64];

static void
check_public(const uint8_t *data, size_t size)
{
	static struct report rep;
	EVP_PKEY *k = NULL, *again = NULL;
	struct buf pem = BUF_INIT;
	char kid[KID_SIZE], kid2[KID_SIZE];
	int rc;

	report_clear(&rep);
	rc = keyfile_parse_public(data, size, "input", &k, &rep);
	FUZZ_ASSERT(rc == 0 || rc == 65 || rc == 66);
	FUZZ_ASSERT((rc == 0) == (k != NULL));
	FUZZ_ASSERT(rc == 0 || (report_said(&rep) && rep.code == rc));
	if (rc != 0)
		return;
	/* What was accepted writes out and reads back as the same key. */
	report_clear(&rep);
	FUZZ_ASSERT(jwk_thumbprint(k, kid, &rep) == 0);
	FUZZ_ASSERT(keyfile_public_pem(k, &pem, &rep) == 0);
	FUZZ_ASSERT(keyfile_parse_public(pem.p, pem.len, "again", &again,
	    &rep) == 0);
	FUZZ_ASSERT(jwk_thumbprint(again, kid2, &rep) == 0);
	FUZZ_ASSERT(strcmp(kid, kid2) == 0);
	EVP_PKEY_free(again);
	EVP_PKEY_free(k);
	buf_free(&pem);
}

static void
check_private(const uint8_t *data, size_t size)
{
	static struct report rep;
	const struct passphrase_src ps = { "/nonexistent/e2e-fuzz-passphrase",
	    "input" };
	EVP_PKEY *k = NULL;
	char kid[KID_SIZE];
	FILE *f;
	int rc;

	if (path[0] == '\0') {
		int fd;

		snprintf(path, sizeof(path), "/tmp/e2e-fuzz-key-XXXXXX");
		if ((fd = mkstemp(path)) < 0)
			abort();
		close(fd);
	}
	/* Mode 0600 from mkstemp: no warning about others reading it. */
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	report_clear(&rep);
	rc = keyfile_load_private(path, &ps, &k, &rep);
	FUZZ_ASSERT(rc == 0 || rc == 64 || rc == 65 || rc == 66 || rc == 77);
	FUZZ_ASSERT((rc == 0) == (k != NULL));
	FUZZ_ASSERT(rc == 0 || (report_said(&rep) && rep.code == rc));
	if (rc == 0) {
		FUZZ_ASSERT(jwk_thumbprint(k, kid, &rep) == 0);
		EVP_PKEY_free(k);
	}
}

static void
remove_path(void)
{
	if (path[0] != '\0')
		unlink(path);
}

static const char *const labels[] = {
	"PUBLIC KEY", "RSA PUBLIC KEY", "PRIVATE KEY", "RSA PRIVATE KEY",
	"ENCRYPTED PRIVATE KEY",
};

/* DER in a PEM block: the label, base64 in lines of 64. */
static int
pem_of(const char *label, const uint8_t *der, size_t len, struct buf *out)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[80];
	size_t i, n = 0;
	uint32_t v;

	if (buf_append_str(out, "-----BEGIN ") != 0 ||
	    buf_append_str(out, label) != 0 ||
	    buf_append_str(out, "-----\n") != 0)
		return -1;
	for (i = 0; i < len; i += 3) {
		v = (uint32_t)der[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)der[i + 1] << 8;
		if (i + 2 < len)
			v |= der[i + 2];
		line[n++] = b64[v >> 18 & 63];
		line[n++] = b64[v >> 12 & 63];
		line[n++] = (char)(i + 1 < len ? b64[v >> 6 & 63] : '=');
		line[n++] = (char)(i + 2 < len ? b64[v & 63] : '=');
		if (n == 64 || i + 3 >= len) {
			line[n++] = '\n';
			if (buf_append(out, line, n) != 0)
				return -1;
			n = 0;
		}
	}
	return buf_append_str(out, "-----END ") != 0 ||
	    buf_append_str(out, label) != 0 ||
	    buf_append_str(out, "-----\n") != 0 ? -1 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	struct buf pem = BUF_INIT;

	if (!once) {
		once = 1;
		atexit(remove_path);
	}
	if (size > KEYFILE_MAX / 2)
		return 0;
	if (size > 0 && data[0] < sizeof(labels) / sizeof(labels[0])) {
		if (pem_of(labels[data[0]], data + 1, size - 1, &pem) != 0)
			abort();
		data = pem.p;
		size = pem.len;
	}
	check_public(data, size);
	check_private(data, size);
	buf_free(&pem);
	return 0;
}
