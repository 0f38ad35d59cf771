/* directory.c - publishing and fetching keys (see directory.h). */
#include "net/directory.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/jsonio.h"
#include "base/term.h"
#include "format/keyfile.h"
#include "format/keyproof.h"
#include "net/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
directory_server_url(struct client *c, char url[KEYPROOF_URL_MAX],
    struct report *rep)
{
	if (keyproof_url(http_server(c->http), url) != 0)
		return report_error(rep, E2E_EX_USAGE, "the server URL %s "
		    "cannot be named in a key proof", http_server(c->http));
	return 0;
}

int
directory_publish(struct client *c, EVP_PKEY *priv, char kid[KID_SIZE],
    struct report *rep)
{
	struct buf pem = BUF_INIT, proof = BUF_INIT;
	char url[KEYPROOF_URL_MAX];
	const char *pems[1], *proofs[1];
	int rc;

	if ((rc = jwk_thumbprint(priv, kid, rep)) != 0 ||
	    (rc = keyfile_public_pem(priv, &pem, rep)) != 0 ||
	    (rc = directory_server_url(c, url, rep)) != 0)
		goto out;
	if (buf_terminate(&pem) != 0) {
		rc = report_oom(rep);
		goto out;
	}
	/* The account's id and name, from the sign-in. */
	if ((rc = keyproof_make(priv, c->sess.id, c->sess.name, url,
	    client_now(), &proof, rep)) != 0)
		goto out;
	pems[0] = (const char *)pem.p;
	proofs[0] = (const char *)proof.p;
	rc = api_keys_put(c, pems, proofs, 1, rep);
out:
	buf_free(&pem);
	buf_free(&proof);
	return rc;
}

int
directory_keyring_open(struct client *c, int for_update, struct keyring **k,
    struct report *rep)
{
	char kid[KID_SIZE];
	const char *me;
	int rc;

	if ((rc = keyring_open(c->home, for_update, k, rep)) != 0)
		return rc;
	/* My name as e2e-encrypt signs it (lib/keys/myname.h): the session's,
	 * else the config's. */
	me = c->have_session ? c->sess.name : c->cfg.name;
	if (c->cfg.identity != NULL &&
	    keyfile_public_kid(c->cfg.identity, kid) == 0)
		keyring_set_own(*k, kid, me != NULL ? me : c->cfg.identity, me);
	return 0;
}

/* One key of name from the directory, checked here: the server's word
 * for its id is not taken. *pk receives the key. 0, or 65 reported (a
 * bad key is never pinned, and says something is wrong with the
 * directory). */
static int
check_key(const json_t *e, const char *name, struct keyring_key *k,
    EVP_PKEY **pk, struct report *rep)
{
	const char *pem = jsonio_str(e, "pem", NULL);
	const char *kid = jsonio_str(e, "kid", NULL);
	struct report checked = { 0 };
	char safe[64], why[256];
	int rc;

	memset(k, 0, sizeof(*k));
	*pk = NULL;
	/* The reason quoted in the refusal. */
	rc = keyfile_parse_public((const uint8_t *)pem, strlen(pem),
	    "a key from the directory", pk, &checked);
	if (rc == 0)
		rc = jwk_thumbprint(*pk, k->kid, &checked);
	snprintf(why, sizeof(why), "%s", report_message(&checked));
	if (rc == 0 && strcmp(kid, k->kid) != 0) {
		term_escape(kid, strlen(kid), safe, sizeof(safe));
		snprintf(why, sizeof(why), "the directory names key %.43s as "
		    "%.60s", k->kid, safe);
		rc = -1;
	}
	if (rc != 0) {
		EVP_PKEY_free(*pk);
		*pk = NULL;
		return report_error(rep, E2E_EX_DATAERR, "%s's key from the "
		    "directory is refused: %s", name, why);
	}
	k->pem = (char *)pem;	/* borrowed: keyring_offer copies */
	return 0;
}

/*
 * The proof of a key pk (k) the directory lists for name, account id:
 * it must be made with that key, for that name and id, for this server
 * (any time: it was made when the key was published). 0 with *proven
 * 1 when it holds, 0 when there is no proof; 65 when refused (reported
 * loudly).
 */
static int
check_proof(const json_t *e, EVP_PKEY *pk, const struct keyring_key *k,
    const char *name, const char *id, const char *url, int *proven,
    struct report *rep)
{
	const json_t *p = json_object_get(e, "proof");
	struct keyproof_want want = { id, name, url, 0, -1 };
	struct keyproof_claims got;
	struct report said = { 0 };	/* what keyproof_check says */
	const char *why;
	int rc;

	*proven = 0;
	if (!json_is_string(p))
		return 0;
	rc = keyproof_check(json_string_value(p), json_string_length(p), pk,
	    k->kid, &want, &got, &said);
	if (rc == KEYPROOF_OK) {
		*proven = 1;
		return 0;
	}
	why = report_message(&said);
	/* As loud as a changed key: the directory says something false. */
	if (rc == KEYPROOF_OTHER_USER) {
		report_error(rep, E2E_EX_DATAERR, "THE DIRECTORY LISTS KEY %s "
		    "UNDER %s, but its proof %s: refused", k->kid, name, why);
		report_warn(rep, "the server may be passing another user's key "
		    "off as %s's (or %s's account was made anew)", name, name);
	} else {
		report_error(rep, E2E_EX_DATAERR, "%s's key %s from the "
		    "directory is refused: its proof %s", name, k->kid, why);
		if (rc == KEYPROOF_OTHER_SERVER)
			report_hint(rep, "use the server's URL as it gives it "
			    "(--server, E2E_SERVER)");
	}
	return E2E_EX_DATAERR;
}

int
directory_fetch(struct client *c, const char *name, struct keyring **kp,
    int *result, struct report *rep)
{
	enum keyring_offer_result offered;
	struct keyring_key keys[KEYRING_KEYS_MAX], bare[KEYRING_KEYS_MAX];
	struct keyring_contact *kc;
	struct keyring *k;
	char url[KEYPROOF_URL_MAX];
	const char *id;
	json_t *o = NULL, *e;
	EVP_PKEY *pk;
	size_t i, n = 0, nbare = 0, unpinned = 0;
	int rc, proven;

	*result = 0;
	*kp = NULL;
	if ((rc = directory_server_url(c, url, rep)) != 0 ||
	    (rc = api_keys_entry(c, name, &o, rep)) != 0)
		return rc;
	/* An answer for another name was refused by api_keys_entry. */
	id = jsonio_str(o, "id", NULL);
	json_array_foreach(json_object_get(o, "keys"), i, e) {
		if (n + nbare == KEYRING_KEYS_MAX)
			break;
		if ((rc = check_key(e, name, &keys[n], &pk, rep)) != 0)
			goto out;
		rc = check_proof(e, pk, &keys[n], name, id, url, &proven, rep);
		EVP_PKEY_free(pk);
		if (rc != 0)
			goto out;
		if (proven)
			n++;
		else
			bare[nbare++] = keys[n];
	}
	/* Locked only now: never across the network. */
	if ((rc = directory_keyring_open(c, 1, kp, rep)) != 0)
		goto out;
	k = *kp;
	kc = keyring_find(k, name);
	/* A key without a proof (published before proofs) is never pinned
	 * on first use; one pinned already stays as it was. */
	for (i = 0; i < nbare; i++) {
		if (keyring_pins(kc, bare[i].kid)) {
			keys[n++] = bare[i];
			continue;
		}
		unpinned++;
		if (n > 0 || (kc != NULL && kc->nkeys > 0))
			report_warn(rep, "%s's key %s has no proof of "
			    "possession: not pinned; ask %s to run e2e-keys "
			    "publish again", name, bare[i].kid, name);
	}
	if (n == 0 && kc != NULL && kc->nkeys > 0) {
		/* Keys gone from the directory are no alarm: the pinned ones
		 * stay (and were maybe imported by hand). */
		if ((rc = keyring_offer(k, name, keys, 0, client_now(),
		    &offered, rep)) == 0)
			rc = keyring_save(k, rep);
		*result = (int)offered;
		goto out;
	}
	if (n == 0 && unpinned > 0) {
		if (unpinned == 1)
			report_error(rep, E2E_EX_DATAERR, "%s's key %s has no "
			    "proof of possession (published by an older "
			    "version): not pinned", name, bare[0].kid);
		else
			report_error(rep, E2E_EX_DATAERR, "%s's %zu keys have "
			    "no proof of possession (published by an older "
			    "version): not pinned", name, unpinned);
		report_hint(rep, "ask %s to run e2e-keys publish again", name);
		rc = E2E_EX_DATAERR;
		goto out;
	}
	if (n == 0) {
		report_error(rep, E2E_EX_DATAERR, "%s has published no key",
		    name);
		report_hint(rep, "ask %s to run: e2e-keys publish", name);
		rc = E2E_EX_DATAERR;
		goto out;
	}
	rc = keyring_offer(k, name, keys, n, client_now(), &offered, rep);
	*result = (int)offered;
	if (rc == 0)
		rc = keyring_save(k, rep);
out:
	json_decref(o);
	return rc;
}
