/*
 * fuzz_envelope.c - message_open(NULL) on arbitrary bytes with a fixed key:
 * the whole reader (JSON, JWE, JWS, seed) must never crash, leak or
 * release a plaintext for input it refuses (J8-J11, J16, L6).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "format/crypto.h"
#include "format/jwk.h"
#include "format/keyfile.h"
#include "format/message.h"

static EVP_PKEY *key, *verify;
static char kid[KID_SIZE], vkid[KID_SIZE];
static struct report rep;	/* what message_open said */

/*
 * bob's key as the tools read it, from a copy of mode 0600: the checkout
 * gives the committed one 0644, and an unprotected key others can read
 * is refused (C3).
 */
static int
load_bob(void)
{
	struct passphrase_src ps = { NULL, NULL };
	char path[] = "/tmp/e2e-fuzz-bob-XXXXXX", text[8192];
	size_t n = 0;
	FILE *in, *out = NULL;
	int fd, written, rc = -1;

	if ((in = fopen("tests/vectors/keys/bob", "rb")) == NULL)
		return -1;
	n = fread(text, 1, sizeof(text), in);
	fclose(in);
	/* mkstemp makes it 0600. */
	if ((fd = mkstemp(path)) < 0)
		return -1;
	if ((out = fdopen(fd, "wb")) == NULL) {
		close(fd);
		goto out;
	}
	written = fwrite(text, 1, n, out) == n;
	if (fclose(out) == 0 && written)
		rc = keyfile_load_private(path, &ps, &key, NULL);
out:
	unlink(path);
	return rc;
}

static void
init(void)
{
	if (crypto_init(NULL) != 0 || load_bob() != 0 ||
	    keyfile_load_public("tests/vectors/keys/alice.pub", &verify,
	    NULL) != 0 ||
	    jwk_thumbprint(key, kid, NULL) != 0 || jwk_thumbprint(verify, vkid,
	    NULL) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf in = BUF_SECRET_INIT;
	struct open_opts oo;
	struct message m;
	int rc, pass;

	if (key == NULL)
		init();
	/* Twice: without and with a required signer. */
	for (pass = 0; pass < 2; pass++) {
		if (buf_append(&in, data, size) != 0)
			abort();
		memset(&oo, 0, sizeof(oo));
		oo.key = key;
		oo.kid = kid;
		oo.verify = pass ? verify : NULL;
		oo.verify_kid = pass ? vkid : NULL;
		/* As --verify alice: the signed name is compared too. */
		oo.verify_name = pass ? "alice" : NULL;
		report_clear(&rep);
		rc = message_open(&oo, &in, &m, &rep);
		/* No plaintext unless accepted; an error line when refused. */
		FUZZ_ASSERT(rc == 0 ? m.pt != NULL || m.pt_len == 0 :
		    m.pt == NULL && report_message(&rep)[0] != '\0' &&
		    rep.code == rc);
		FUZZ_ASSERT(!(pass && rc == 0) || m.verified);
		message_free(&m);
		buf_free(&in);
	}
	return 0;
}
