/* directory.c - publishing and fetching keys (see directory.h). */
#include "directory.h"
#include "api.h"
#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "jsonio.h"
#include "keyfile.h"
#include "term.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The public key of keyfile, which may hold the private key. */
static int
load_public_half(const char *keyfile, const struct passphrase_src *ps,
    EVP_PKEY **pk)
{
	struct buf b = BUF_INIT;
	int rc, private;

	if ((rc = file_read(keyfile, KEYFILE_MAX, "key file", &b)) != 0)
		return rc;
	private = buf_terminate(&b) == 0 &&
	    strstr((const char *)b.p, "PRIVATE KEY-----") != NULL;
	if (!private)
		rc = keyfile_parse_public(b.p, b.len, keyfile, pk);
	buf_free(&b);
	/* A private key file: its public half (asking the passphrase of a
	 * protected one). */
	return private ? keyfile_load_private(keyfile, ps, pk) : rc;
}

int
directory_publish(struct client *c, const char *keyfile,
    const struct passphrase_src *ps, char kid[KID_SIZE])
{
	struct buf pem = BUF_INIT;
	EVP_PKEY *pk = NULL;
	const char *pems[1];
	int rc;

	if ((rc = load_public_half(keyfile, ps, &pk)) != 0 ||
	    (rc = jwk_thumbprint(pk, kid)) != 0 ||
	    (rc = keyfile_public_pem(pk, &pem)) != 0)
		goto out;
	if (buf_terminate(&pem) != 0) {
		rc = E2E_EX_SOFTWARE;
		goto out;
	}
	pems[0] = (const char *)pem.p;
	rc = api_keys_put(c, pems, 1);
out:
	EVP_PKEY_free(pk);
	buf_free(&pem);
	return rc;
}

/* One key from the directory, checked here: the server's word for its
 * id is not taken. 0, or -1 with why set. */
static int
check_key(const json_t *e, struct keyring_key *k, char *why, size_t size)
{
	const char *pem = jsonio_str(e, "pem", NULL);
	const char *kid = jsonio_str(e, "kid", NULL);
	char safe[64];
	EVP_PKEY *pk = NULL;
	int rc;

	memset(k, 0, sizeof(*k));
	err_capture_begin(why, size);
	rc = keyfile_parse_public((const uint8_t *)pem, strlen(pem),
	    "a key from the directory", &pk);
	if (rc == 0)
		rc = jwk_thumbprint(pk, k->kid);
	err_capture_end();
	EVP_PKEY_free(pk);
	if (rc != 0)
		return -1;
	if (strcmp(kid, k->kid) != 0) {
		term_escape(kid, strlen(kid), safe, sizeof(safe));
		snprintf(why, size, "the directory names key %.43s as %.60s", k->kid,
		    safe);
		return -1;
	}
	k->pem = (char *)pem;	/* borrowed: keyring_offer copies */
	return 0;
}

int
directory_fetch(struct client *c, struct keyring *k, const char *name,
    int *result)
{
	struct keyring_key keys[KEYRING_KEYS_MAX];
	char why[256];
	json_t *arr = NULL, *e;
	size_t i, n = 0;
	int rc;

	*result = 0;
	if ((rc = api_keys_get(c, name, &arr)) != 0)
		return rc;
	json_array_foreach(arr, i, e) {
		if (n == KEYRING_KEYS_MAX)
			break;
		if (check_key(e, &keys[n], why, sizeof(why)) != 0) {
			/* A bad key is never pinned, and says something is
			 * wrong with the directory. */
			err_error("%s's key from the directory is refused: %s",
			    name, why);
			rc = E2E_EX_DATAERR;
			goto out;
		}
		n++;
	}
	if (n == 0) {
		err_error("%s has published no key", name);
		err_hint("ask %s to run: e2e-keys publish", name);
		rc = E2E_EX_DATAERR;
		goto out;
	}
	if ((*result = keyring_offer(k, name, keys, n, client_now())) < 0) {
		rc = E2E_EX_SOFTWARE;
		goto out;
	}
	rc = keyring_save(k);
out:
	json_decref(arr);
	return rc;
}
