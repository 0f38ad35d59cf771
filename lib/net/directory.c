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

int
directory_publish(struct client *c, EVP_PKEY *pk, char kid[KID_SIZE])
{
	struct buf pem = BUF_INIT;
	const char *pems[1];
	int rc;

	if ((rc = jwk_thumbprint(pk, kid)) != 0 ||
	    (rc = keyfile_public_pem(pk, &pem)) != 0)
		goto out;
	if (buf_terminate(&pem) != 0) {
		rc = E2E_EX_SOFTWARE;
		goto out;
	}
	pems[0] = (const char *)pem.p;
	rc = api_keys_put(c, pems, 1);
out:
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
directory_fetch(struct client *c, const char *name, struct keyring **kp,
    int *result)
{
	struct keyring_key keys[KEYRING_KEYS_MAX];
	struct keyring_contact *kc;
	struct keyring *k;
	char why[256];
	json_t *arr = NULL, *e;
	size_t i, n = 0;
	int rc;

	*result = 0;
	*kp = NULL;
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
	/* Locked only now: never across the network. */
	if ((rc = keyring_open(c->home, 1, kp)) != 0)
		goto out;
	k = *kp;
	if (n == 0 && (kc = keyring_find(k, name)) != NULL && kc->nkeys > 0) {
		/* Keys gone from the directory are no alarm: the pinned ones
		 * stay (and were maybe imported by hand). */
		*result = keyring_offer(k, name, keys, 0, client_now());
		rc = *result < 0 ? E2E_EX_SOFTWARE : keyring_save(k);
		goto out;
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
