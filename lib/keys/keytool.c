/* keytool.c - e2e-keys' decisions on the keyring (see keytool.h). */
#include "keys/keytool.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/jsonio.h"
#include "base/names.h"
#include "format/keyfile.h"
#include "keys/qr.h"
#include "keys/safety.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

json_t *
keytool_kids_json(const struct keyring_key *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(v[i].kid)) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *
keytool_contact_json(const struct keyring_contact *kc)
{
	return json_pack("{s:s,s:o,s:o,s:b,s:b}", "name", kc->name, "keys",
	    keytool_kids_json(kc->keys, kc->nkeys), "pending",
	    keytool_kids_json(kc->pending, kc->npending), "verified",
	    kc->verified, "changed", kc->npending > 0);
}

json_t *
keytool_list_json(struct keyring *k, const struct keyring_contact *kc,
    struct report *rep)
{
	json_t *o = keytool_contact_json(kc), *same = json_array();
	const char *other, *mine;
	size_t i, j;
	int my_key = 0;

	for (i = 0; o != NULL && same != NULL && i < kc->nkeys; i++) {
		for (j = 0; j < keyring_count(k); j++) {
			other = keyring_at(k, j)->name;
			if (strcmp(other, kc->name) == 0 ||
			    !keyring_pins(keyring_at(k, j), kc->keys[i].kid))
				continue;
			json_array_append_new(same, json_string(other));
			if (strcmp(kc->name, other) < 0)
				report_warn(rep, "key %s is pinned for both %s "
				    "and %s: one of them, or the directory, "
				    "lied; forget the wrong one (e2e-keys "
				    "forget NAME)", kc->keys[i].kid, kc->name,
				    other);
		}
		mine = keyring_own(k, kc->keys[i].kid, kc->name);
		if (mine != NULL) {
			my_key = 1;
			report_warn(rep, "key %s pinned for %s is your own "
			    "(%s): forget it (e2e-keys forget %s)",
			    kc->keys[i].kid, kc->name, mine, kc->name);
		}
	}
	if (o != NULL && same != NULL && json_array_size(same) > 0 &&
	    json_object_set(o, "same_key_as", same) != 0) {
		json_decref(o);
		o = NULL;
	}
	json_decref(same);
	if (o != NULL && my_key && json_object_set_new(o, "my_key",
	    json_true()) != 0) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

int
keytool_same_keys(struct keyring *k, const char *name, const json_t *shown)
{
	const json_t *keys = json_object_get(shown, "keys");
	struct keyring_contact *kc = keyring_find(k, name);
	size_t i;

	if (kc == NULL || json_array_size(keys) != kc->nkeys)
		return 0;
	for (i = 0; i < kc->nkeys; i++)
		if (strcmp(json_string_value(json_array_get(keys, i)) ?
		    json_string_value(json_array_get(keys, i)) : "",
		    kc->keys[i].kid) != 0)
			return 0;
	return 1;
}

void
keytool_warn_other_keys(const char *my_kid, const json_t *listed,
    struct report *rep)
{
	const json_t *e;
	const char *kid;
	size_t i;

	json_array_foreach(listed, i, e) {
		kid = jsonio_str(e, "kid", NULL);
		if (kid != NULL && strcmp(kid, my_kid) != 0)
			report_warn(rep, "the directory lists key %.43s for "
			    "you too: is it one of your devices? (not in the "
			    "safety number)", kid);
	}
}

int
keytool_safety(const char *me, const char *my_kid,
    const struct keyring_contact *kc, json_t **out, struct report *rep)
{
	char number[SAFETY_NUMBER_SIZE];
	const char *a[1] = { my_kid }, *b[KEYRING_KEYS_MAX];
	json_t *mj;
	size_t i;
	int rc;

	*out = NULL;
	for (i = 0; i < kc->nkeys; i++)
		b[i] = kc->keys[i].kid;
	if ((rc = safety_number(me, a, 1, kc->name, b, kc->nkeys,
	    number, rep)) != 0)
		return rc;
	mj = json_array();
	if (mj != NULL)
		json_array_append_new(mj, json_string(my_kid));
	if ((*out = keytool_contact_json(kc)) == NULL)
		json_decref(mj);
	if (*out == NULL || json_object_set_new(*out, "my_keys", mj) != 0 ||
	    json_object_set_new(*out, "safety_number",
	    json_string(number)) != 0) {
		json_decref(*out);
		*out = NULL;
		return E2E_EX_SOFTWARE;
	}
	return 0;
}

int
keytool_read_import(const char *name, const char *file,
    struct keyring_key *key, EVP_PKEY **pk, struct report *rep)
{
	struct report parsed = { 0 };
	char qname[NAME_LEN_MAX + 1];
	struct buf b = BUF_INIT, pem = BUF_INIT;
	int rc;

	if ((rc = file_read(file, 64 * 1024, "key file", &b, rep)) != 0)
		return rc;
	if (b.len >= strlen(QR_PREFIX) && (memcmp(b.p, QR_PREFIX,
	    strlen(QR_PREFIX)) == 0 || memcmp(b.p, "QR-Code:", 8) == 0)) {
		if (qr_payload_parse((const char *)b.p, b.len, qname, key->kid,
		    pk, &parsed) != 0) {
			rc = report_error(rep, E2E_EX_DATAERR, "%s: %s", file,
			    report_message(&parsed));
			goto out;
		}
		if (qname[0] != '\0' && strcmp(qname, name) != 0) {
			rc = report_error(rep, E2E_EX_DATAERR, "%s holds the "
			    "key of %s, not of %s", file, qname, name);
			goto out;
		}
	} else if ((rc = keyfile_parse_public(b.p, b.len, file, pk,
	    rep)) != 0 || (rc = jwk_thumbprint(*pk, key->kid, rep)) != 0) {
		goto out;
	}
	if ((rc = keyfile_public_pem(*pk, &pem, rep)) != 0)
		goto out;
	if (buf_terminate(&pem) != 0) {
		rc = report_oom(rep);
		goto out;
	}
	key->pem = (char *)pem.p;
	pem.p = NULL;
out:
	buf_free(&b);
	buf_free(&pem);
	return rc;
}

int
keytool_is_contact(const char *arg)
{
	return access(arg, F_OK) != 0 && name_valid(arg, strlen(arg));
}
