/* keyring.c - pinned public keys of contacts (see keyring.h). */
#include "keys/keyring.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/home.h"
#include "base/jsonio.h"
#include "format/keyfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYRING_PEM_MAX (16 * 1024)

struct keyring {
	char path[HOME_PATH_MAX];
	int lock_fd;
	struct keyring_contact *v;
	size_t n;
	int dirty;
	struct {
		char kid[KID_SIZE];
		char label[NAME_LEN_MAX + 64];
	} own[KEYRING_OWN_MAX];
	size_t nown;
	char me[NAME_LEN_MAX + 1];	/* my own name, or "" */
};

static void
key_free(struct keyring_key *k)
{
	free(k->pem);
	k->pem = NULL;
}

static void
keyring_contact_free(struct keyring_contact *c)
{
	size_t i;

	for (i = 0; i < c->nkeys; i++)
		key_free(&c->keys[i]);
	for (i = 0; i < c->npending; i++)
		key_free(&c->pending[i]);
	c->nkeys = c->npending = 0;
}

static int
key_copy(struct keyring_key *dst, const struct keyring_key *src,
    struct report *rep)
{
	*dst = *src;
	if ((dst->pem = strdup(src->pem)) == NULL)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	return 0;
}

static int
has_kid(const struct keyring_key *v, size_t n, const char *kid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].kid, kid) == 0)
			return 1;
	return 0;
}

/* ---- reading ---- */

/* One key of the file: its id must be the key's own thumbprint, so a
 * file edited by hand cannot pin one key under another's id. */
static int
key_from_json(const json_t *o, const char *at_name, struct keyring_key *k)
{
	const char *kid, *pem, *src;
	size_t kid_len, pem_len;
	const json_t *at = json_object_get(o, at_name);
	char real[KID_SIZE];
	EVP_PKEY *pk = NULL;
	int rc = -1;

	memset(k, 0, sizeof(*k));
	if ((kid = jsonio_str(o, "kid", &kid_len)) == NULL ||
	    !jwk_is_kid(kid, kid_len) ||
	    (pem = jsonio_str(o, "pem", &pem_len)) == NULL ||
	    pem_len > KEYRING_PEM_MAX || !json_is_integer(at))
		return -1;
	/* A key that does not parse is a malformed entry: said as one. */
	if (keyfile_parse_public((const uint8_t *)pem, pem_len, "key",
	    &pk, NULL) == 0 && jwk_thumbprint(pk, real, NULL) == 0 &&
	    strcmp(real, kid) == 0)
		rc = 0;
	EVP_PKEY_free(pk);
	if (rc != 0 || (k->pem = strdup(pem)) == NULL)
		return -1;
	memcpy(k->kid, kid, kid_len + 1);
	k->at = json_integer_value(at);
	src = jsonio_str(o, "source", NULL);
	snprintf(k->source, sizeof(k->source), "%s", src ? src : "");
	k->unlisted = json_is_true(json_object_get(o, "unlisted"));
	return 0;
}

static int
keys_from_json(const json_t *arr, const char *at_name,
    struct keyring_key *v, size_t *n)
{
	const json_t *e;
	size_t i;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > KEYRING_KEYS_MAX)
		return -1;
	json_array_foreach(arr, i, e) {
		if (key_from_json(e, at_name, &v[*n]) != 0)
			return -1;
		(*n)++;
	}
	return 0;
}

static int
contact_from_json(const char *name, const json_t *o,
    struct keyring_contact *c)
{
	const json_t *va;

	memset(c, 0, sizeof(*c));
	if (!name_valid(name, strlen(name)) || !json_is_object(o))
		return -1;
	memcpy(c->name, name, strlen(name) + 1);
	if (keys_from_json(json_object_get(o, "keys"), "added_at", c->keys,
	    &c->nkeys) != 0 || keys_from_json(json_object_get(o, "pending"),
	    "seen_at", c->pending, &c->npending) != 0) {
		keyring_contact_free(c);
		return -1;
	}
	c->verified = json_is_true(json_object_get(o, "verified"));
	va = json_object_get(o, "verified_at");
	c->verified_at = json_is_integer(va) ? json_integer_value(va) : 0;
	c->signed_seen = json_is_true(json_object_get(o, "signed_seen"));
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct keyring_contact *)a)->name,
	    ((const struct keyring_contact *)b)->name);
}

static int
parse(struct keyring *k, const char *text, size_t len, struct report *rep)
{
	json_t *root, *contacts, *o;
	const char *name;
	struct report why = { 0 };	/* what jsonio_parse says */
	int rc = E2E_EX_CONFIG;

	if ((root = jsonio_parse(text, len, &why)) == NULL) {
		return report_error(rep, E2E_EX_CONFIG,
		    "%s is not valid JSON: %s", k->path, report_message(&why));
	}
	contacts = json_object_get(root, "contacts");
	if (!json_is_object(root) || !json_is_integer(json_object_get(root,
	    "version")) || json_integer_value(json_object_get(root,
	    "version")) != 1 || !json_is_object(contacts)) {
		report_error(rep, E2E_EX_CONFIG,
		    "%s is not a keyring of this version", k->path);
		goto out;
	}
	if ((k->v = calloc(json_object_size(contacts) + 1,
	    sizeof(*k->v))) == NULL) {
		rc = report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		goto out;
	}
	json_object_foreach(contacts, name, o) {
		if (contact_from_json(name, o, &k->v[k->n]) != 0) {
			report_error(rep, E2E_EX_CONFIG,
			    "%s: the entry of a contact is malformed", k->path);
			goto out;
		}
		k->n++;
	}
	qsort(k->v, k->n, sizeof(*k->v), by_name);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* Reads the keyring's file into b (file_policy_keyring: it decides
 * whose key a message is encrypted to). Returns 0, -1 when there is none,
 * or an exit code (reported). */
static int
read_keyring(const char *path, struct buf *b, struct report *rep)
{
	static const struct file_refusal why = {
		.refused = "is not a regular file of yours that only you can "
		    "change",
	};

	return file_read_private_report(path, &file_policy_keyring, b,
	    E2E_EX_CONFIG, &why, rep);
}

int
keyring_open(const char *home, int for_update, struct keyring **out,
    struct report *rep)
{
	char lock_path[HOME_PATH_MAX];
	struct keyring *k;
	struct buf b = BUF_INIT;
	enum file_status st;
	int rc;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	k->lock_fd = -1;
	if ((rc = home_file(home, "keyring.json", k->path,
	    sizeof(k->path), rep)) != 0 || (rc = home_file(home,
	    "keyring.lock", lock_path, sizeof(lock_path), rep)) != 0)
		goto fail;
	/* Held until keyring_close: read, change, save, as one. */
	if (for_update) {
		if ((rc = home_create(home, rep)) != 0)
			goto fail;
		if ((st = file_lock(lock_path, FILE_LOCK_WAIT,
		    &k->lock_fd)) != FILE_OK) {
			rc = file_lock_report(lock_path, st, rep);
			goto fail;
		}
	}
	if ((rc = read_keyring(k->path, &b, rep)) > 0 ||
	    (rc == 0 && (rc = parse(k, (const char *)b.p, b.len, rep)) != 0))
		goto fail;
	buf_free(&b);
	*out = k;
	return 0;
fail:
	buf_free(&b);
	keyring_close(k);
	return rc;
}

/* ---- looking up ---- */

struct keyring_contact *
keyring_find(struct keyring *k, const char *name)
{
	struct keyring_contact key;

	if (strlen(name) > NAME_LEN_MAX)
		return NULL;
	memcpy(key.name, name, strlen(name) + 1);
	/* by_name reads the name only. */
	/* cppcheck-suppress uninitvar */
	return k->n ? bsearch(&key, k->v, k->n, sizeof(*k->v), by_name) :
	    NULL;
}

size_t
keyring_count(const struct keyring *k)
{
	return k->n;
}

struct keyring_contact *
keyring_at(struct keyring *k, size_t i)
{
	return i < k->n ? &k->v[i] : NULL;
}

static EVP_PKEY *
parse_pem(const char *pem)
{
	EVP_PKEY *pk = NULL;
	(void)keyfile_parse_public((const uint8_t *)pem, strlen(pem), "key",
	    &pk, NULL);
	return pk;
}

EVP_PKEY *
keyring_key_of(struct keyring *k, const char *name, const char *kid)
{
	struct keyring_contact *c = keyring_find(k, name);
	size_t i;

	for (i = 0; c != NULL && i < c->nkeys; i++)
		if (strcmp(c->keys[i].kid, kid) == 0)
			return parse_pem(c->keys[i].pem);
	return NULL;
}

EVP_PKEY *
keyring_any_key(struct keyring *k, const char *kid, const char **name)
{
	size_t i, j;

	for (i = 0; i < k->n; i++)
		for (j = 0; j < k->v[i].nkeys; j++)
			if (strcmp(k->v[i].keys[j].kid, kid) == 0) {
				*name = k->v[i].name;
				return parse_pem(k->v[i].keys[j].pem);
			}
	*name = NULL;
	return NULL;
}

int
keyring_known(struct keyring *k, const char *name)
{
	struct keyring_contact *c = keyring_find(k, name);

	return c != NULL && (c->nkeys > 0 || c->npending > 0);
}

int
keyring_usable(struct keyring *k, const char *name, struct report *rep)
{
	struct keyring_contact *c = keyring_find(k, name);
	size_t i;

	if (!keyring_known(k, name))
		return report_error(rep, E2E_EX_NOINPUT, "%s is not in your "
		    "keyring", name);
	if (c->npending == 0)
		return 0;
	/* As ssh does when a host key changes: loud, with both ids. */
	report_error(rep, E2E_EX_DATAERR, "THE KEY OF %s HAS CHANGED: not "
	    "using it", name);
	for (i = 0; i < c->nkeys; i++)
		report_warn(rep, "pinned for %s: %s", name, c->keys[i].kid);
	for (i = 0; i < c->npending; i++)
		report_warn(rep, "now offered for %s: %s", name,
		    c->pending[i].kid);
	report_warn(rep, "someone may be impersonating %s (or %s has a new "
	    "device or key)", name, name);
	report_hint(rep, "compare the new key id with %s in person (e2e-keys "
	    "show %s), then accept it: e2e-keys accept %s", name, name, name);
	return E2E_EX_DATAERR;
}

/* ---- one key, one person ---- */

/* The label of my own key kid, or NULL. */
static const char *
own_label(const struct keyring *k, const char *kid)
{
	size_t i;

	for (i = 0; i < k->nown; i++)
		if (strcmp(k->own[i].kid, kid) == 0)
			return k->own[i].label;
	return NULL;
}

void
keyring_set_own(struct keyring *k, const char *kid, const char *label,
    const char *me)
{
	if (me != NULL && name_valid(me, strlen(me)))
		memcpy(k->me, me, strlen(me) + 1);
	if (k->nown == KEYRING_OWN_MAX || own_label(k, kid) != NULL ||
	    strlen(kid) != KID_LEN)
		return;
	memcpy(k->own[k->nown].kid, kid, KID_SIZE);
	snprintf(k->own[k->nown].label, sizeof(k->own[0].label), "%s", label);
	k->nown++;
}

const char *
keyring_own(const struct keyring *k, const char *kid, const char *name)
{
	if (k->me[0] != '\0' && strcmp(name, k->me) == 0)
		return NULL;
	return own_label(k, kid);
}

int
keyring_pins(const struct keyring_contact *c, const char *kid)
{
	return c != NULL && has_kid(c->keys, c->nkeys, kid);
}

size_t
keyring_names_of(struct keyring *k, const char *kid, const char *skip,
    const char **names, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < k->n; i++) {
		if ((skip != NULL && strcmp(k->v[i].name, skip) == 0) ||
		    !keyring_pins(&k->v[i], kid))
			continue;
		if (n < max)
			names[n] = k->v[i].name;
		n++;
	}
	return n;
}

const char *
keyring_other_name(struct keyring *k, const char *kid, const char *name)
{
	const char *other = NULL;

	return keyring_names_of(k, kid, name, &other, 1) > 0 ? other : NULL;
}

/* Whether kid may be pinned for name: not another contact's, not mine.
 * 0, or 65 reported loudly, naming both. */
static int
one_person(struct keyring *k, const char *kid, const char *name,
    struct report *rep)
{
	const char *other = keyring_other_name(k, kid, name);
	const char *mine = keyring_own(k, kid, name);

	if (other == NULL && mine == NULL)
		return 0;
	if (mine != NULL && k->me[0] == '\0') {
		report_error(rep, E2E_EX_DATAERR, "key %s is your own (%s): "
		    "refusing to pin it for %s", kid, mine, name);
		report_hint(rep, "if you are %s, sign in, or set name = %s in "
		    "the config file", name, name);
	} else if (mine != NULL) {
		report_error(rep, E2E_EX_DATAERR, "key %s is your own (%s): "
		    "refusing to pin it for %s", kid, mine, name);
		report_warn(rep, "%s, or the directory, passes your key off as "
		    "%s's", name, name);
	} else {
		report_error(rep, E2E_EX_DATAERR, "key %s is pinned for %s "
		    "already: refusing to pin it for %s", kid, other, name);
		report_warn(rep, "one key is one person: %s and %s cannot both "
		    "hold it; one of them, or the directory, is lying", other,
		    name);
		report_hint(rep, "compare the key ids with each of them in "
		    "person (e2e-keys show NAME); forget the wrong one: "
		    "e2e-keys forget NAME");
	}
	return E2E_EX_DATAERR;
}

/* ---- changing ---- */

static struct keyring_contact *
contact_add(struct keyring *k, const char *name, struct report *rep)
{
	struct keyring_contact *v, *c;
	size_t i;

	if ((v = realloc(k->v, (k->n + 1) * sizeof(*v))) == NULL) {
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		return NULL;
	}
	k->v = v;
	for (i = k->n; i > 0 && strcmp(v[i - 1].name, name) > 0; i--)
		v[i] = v[i - 1];
	k->n++;
	c = &v[i];
	memset(c, 0, sizeof(*c));
	memcpy(c->name, name, strlen(name) + 1);
	return c;
}

int
keyring_offer(struct keyring *k, const char *name,
    const struct keyring_key *keys, size_t n, int64_t now,
    enum keyring_offer_result *result, struct report *rep)
{
	struct keyring_contact *c = keyring_find(k, name);
	size_t i;

	*result = KEYRING_SAME;
	/* Nothing changes when one offered key is another's. */
	for (i = 0; i < n; i++)
		if ((c == NULL || !has_kid(c->keys, c->nkeys, keys[i].kid)) &&
		    one_person(k, keys[i].kid, name, rep) != 0) {
			*result = KEYRING_REFUSED;
			return E2E_EX_DATAERR;
		}
	if (c == NULL || c->nkeys == 0) {
		if (c == NULL && (c = contact_add(k, name, rep)) == NULL)
			return E2E_EX_SOFTWARE;
		for (i = 0; i < n && c->nkeys < KEYRING_KEYS_MAX; i++) {
			if (has_kid(c->keys, c->nkeys, keys[i].kid))
				continue;
			if (key_copy(&c->keys[c->nkeys], &keys[i], rep) != 0)
				return E2E_EX_SOFTWARE;
			c->keys[c->nkeys].at = now;
			snprintf(c->keys[c->nkeys].source,
			    sizeof(c->keys[0].source), "directory");
			c->nkeys++;
		}
		k->dirty = 1;
		*result = KEYRING_PINNED;
		return 0;
	}
	/* Which pinned keys the directory still lists, for accept. */
	for (i = 0; i < c->nkeys; i++) {
		int unlisted = !has_kid(keys, n, c->keys[i].kid);

		if (unlisted != c->keys[i].unlisted) {
			c->keys[i].unlisted = unlisted;
			k->dirty = 1;
		}
	}
	/* A pending key the directory no longer lists is no longer
	 * offered: accepting must not pin it. */
	for (i = 0; i < c->npending;) {
		if (has_kid(keys, n, c->pending[i].kid)) {
			i++;
			continue;
		}
		key_free(&c->pending[i]);
		c->pending[i] = c->pending[--c->npending];
		k->dirty = 1;
	}
	for (i = 0; i < n; i++) {
		if (has_kid(c->keys, c->nkeys, keys[i].kid))
			continue;
		*result = KEYRING_CHANGED;
		if (has_kid(c->pending, c->npending, keys[i].kid) ||
		    c->npending == KEYRING_KEYS_MAX)
			continue;
		if (key_copy(&c->pending[c->npending], &keys[i], rep) != 0)
			return E2E_EX_SOFTWARE;
		c->pending[c->npending].at = now;
		c->npending++;
		k->dirty = 1;
	}
	return 0;
}

int
keyring_accept(struct keyring *k, const char *name, int64_t now,
    struct report *rep)
{
	struct keyring_contact *c = keyring_find(k, name);
	size_t i, kept;

	if (c == NULL || c->npending == 0)
		return report_error(rep, E2E_EX_DATAERR, "no new key of %s is "
		    "waiting to be accepted", name);
	/* Pinned for another contact since it was offered: still refused. */
	for (i = 0; i < c->npending; i++)
		if (one_person(k, c->pending[i].kid, name, rep) != 0)
			return E2E_EX_DATAERR;
	/* The directory's list is the contact's keys now: pinned keys it
	 * no longer listed go, the new ones join. */
	for (i = 0, kept = 0; i < c->nkeys; i++) {
		if (c->keys[i].unlisted)
			key_free(&c->keys[i]);
		else
			c->keys[kept++] = c->keys[i];
	}
	c->nkeys = kept;
	for (i = 0; i < c->npending && c->nkeys < KEYRING_KEYS_MAX; i++) {
		c->keys[c->nkeys] = c->pending[i];
		c->keys[c->nkeys].at = now;
		snprintf(c->keys[c->nkeys].source,
		    sizeof(c->keys[0].source), "accepted");
		c->nkeys++;
	}
	for (; i < c->npending; i++)
		key_free(&c->pending[i]);
	c->npending = 0;
	c->verified = 0;
	c->verified_at = 0;
	k->dirty = 1;
	return 0;
}

int
keyring_import(struct keyring *k, const char *name,
    const struct keyring_key *key, int64_t now, struct report *rep)
{
	struct keyring_contact *c = keyring_find(k, name);
	size_t i;

	if ((c == NULL || !has_kid(c->keys, c->nkeys, key->kid)) &&
	    one_person(k, key->kid, name, rep) != 0)
		return E2E_EX_DATAERR;
	if (c == NULL && (c = contact_add(k, name, rep)) == NULL)
		return E2E_EX_SOFTWARE;
	for (i = 0; i < c->npending; i++)
		if (strcmp(c->pending[i].kid, key->kid) == 0) {
			key_free(&c->pending[i]);
			c->pending[i] = c->pending[--c->npending];
			break;
		}
	k->dirty = 1;
	if (has_kid(c->keys, c->nkeys, key->kid))
		return 0;
	if (c->nkeys == KEYRING_KEYS_MAX)
		return report_error(rep, E2E_EX_DATAERR, "%s has %d keys "
		    "already", name, KEYRING_KEYS_MAX);
	if (key_copy(&c->keys[c->nkeys], key, rep) != 0)
		return E2E_EX_SOFTWARE;
	/* Another key: what was compared in person no longer covers it. */
	c->verified = 0;
	c->verified_at = 0;
	c->keys[c->nkeys].at = now;
	snprintf(c->keys[c->nkeys].source, sizeof(c->keys[0].source),
	    "import");
	c->nkeys++;
	return 0;
}

int
keyring_verify(struct keyring *k, const char *name, int64_t now,
    struct report *rep)
{
	struct keyring_contact *c = keyring_find(k, name);

	if (c == NULL || c->nkeys == 0) {
		report_error(rep, E2E_EX_DATAERR, "%s is not in your keyring",
		    name);
		report_hint(rep, "fetch the keys first: e2e-keys fetch %s",
		    name);
		return E2E_EX_DATAERR;
	}
	c->verified = 1;
	c->verified_at = now;
	k->dirty = 1;
	return 0;
}

int
keyring_forget(struct keyring *k, const char *name, struct report *rep)
{
	struct keyring_contact *c = keyring_find(k, name);
	size_t i;

	if (c == NULL)
		return report_error(rep, E2E_EX_DATAERR, "%s is not in your "
		    "keyring", name);
	keyring_contact_free(c);
	i = (size_t)(c - k->v);
	memmove(c, c + 1, (k->n - i - 1) * sizeof(*c));
	k->n--;
	k->dirty = 1;
	return 0;
}

void
keyring_mark_signed(struct keyring *k, const char *name)
{
	struct keyring_contact *c = keyring_find(k, name);

	if (c != NULL && !c->signed_seen) {
		c->signed_seen = 1;
		k->dirty = 1;
	}
}

/* ---- writing ---- */

static json_t *
keys_json(const struct keyring_key *v, size_t n, const char *at_name,
    int with_source)
{
	json_t *arr = json_array(), *o;
	size_t i;

	for (i = 0; arr != NULL && i < n; i++) {
		o = json_pack("{s:s,s:s,s:I}", "kid", v[i].kid, "pem",
		    v[i].pem, at_name, (json_int_t)v[i].at);
		if (o != NULL && with_source && (json_object_set_new(o,
		    "source", json_string(v[i].source)) != 0 ||
		    (v[i].unlisted && json_object_set_new(o, "unlisted",
		    json_true()) != 0))) {
			json_decref(o);
			o = NULL;
		}
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

int
keyring_save(struct keyring *k, struct report *rep)
{
	json_t *root, *contacts, *c;
	char *text = NULL;
	size_t i, len;
	int rc = E2E_EX_SOFTWARE;

	if (!k->dirty)
		return 0;
	contacts = json_object();
	for (i = 0; contacts != NULL && i < k->n; i++) {
		c = json_pack("{s:o,s:o,s:b,s:I,s:b}", "keys",
		    keys_json(k->v[i].keys, k->v[i].nkeys, "added_at", 1),
		    "pending", keys_json(k->v[i].pending, k->v[i].npending,
		    "seen_at", 0), "verified", k->v[i].verified,
		    "verified_at", (json_int_t)k->v[i].verified_at,
		    "signed_seen", k->v[i].signed_seen);
		if (c == NULL || json_object_set_new(contacts, k->v[i].name,
		    c) != 0) {
			json_decref(contacts);
			contacts = NULL;
		}
	}
	root = contacts ? json_pack("{s:i,s:o}", "version", 1, "contacts",
	    contacts) : NULL;
	if (root == NULL || (text = jsonio_dump(root)) == NULL) {
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		goto out;
	}
	/* jsonio_dump leaves room for the newline (the NUL's byte). */
	len = strlen(text);
	text[len] = '\n';
	if ((rc = file_write_atomic(k->path, text, len + 1, 0600, -1,
	    rep)) == 0)
		k->dirty = 0;
out:
	json_decref(root);
	free(text);
	return rc;
}

void
keyring_close(struct keyring *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->n; i++)
		keyring_contact_free(&k->v[i]);
	free(k->v);
	file_unlock(&k->lock_fd);
	free(k);
}
