/* prekeydir.c - publishing and claiming prekeys (see prekeydir.h). */
#include "net/prekeydir.h"
#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/home.h"
#include "base/passphrase.h"
#include "base/jsonio.h"
#include "base/term.h"
#include "format/jwk.h"
#include "format/keyfile.h"
#include "format/prekeyproof.h"
#include "keys/prekeys.h"
#include "net/api.h"
#include "net/directory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Prekeys sent in one PUT /prekeys: within the server's default
 * --prekeys-batch (200). */
#define PUT_BATCH 100

/* The server's stock of the identity key kid, in keys (GET /prekeys):
 * *n one-time, *signed_iat the signed one's (0: none). */
static int
stock_of(const json_t *keys, const char *kid, size_t *n, int64_t *signed_iat,
    json_t **signed_pkid)
{
	const json_t *e, *iat;
	size_t i;
	int listed = 0;

	*n = 0;
	*signed_iat = 0;
	*signed_pkid = NULL;
	json_array_foreach(keys, i, e) {
		/* Every entry's kid is a string: api_prekeys_stock refused
		 * a stock with an entry without one (client_hostile.bats,
		 * "a prekey stock with an entry without a kid"). */
		if (strcmp(jsonio_str(e, "kid", NULL), kid) != 0)
			continue;
		listed = 1;
		*signed_pkid = json_object_get(e, "signed");
		*n = (size_t)json_integer_value(json_object_get(e,
		    "one_time"));
		iat = json_object_get(e, "signed_iat");
		if (json_is_string(json_object_get(e, "signed")) &&
		    json_is_integer(iat))
			*signed_iat = json_integer_value(iat);
	}
	return listed;
}

/* Makes what the server lacks, in the store (saved, unlocked before any
 * request goes out). */
static int
make_prekeys(struct client *c, const char *kid, size_t add, int need_signed,
    struct report *rep)
{
	static struct prekey_public pending[PREKEYS_BATCH_MAX + 1];
	struct prekeys *p = NULL;
	size_t n, i, have_one_time = 0;
	int rc, have_signed = 0;

	if ((rc = prekeys_open(c->home, 1, &p, rep)) != 0)
		return rc;
	n = prekeys_unpublished(p, kid, pending, PREKEYS_BATCH_MAX + 1);
	for (i = 0; i < n && i < PREKEYS_BATCH_MAX + 1; i++) {
		if (pending[i].kind == JWE_FS_SIGNED)
			have_signed = 1;
		else
			have_one_time++;
	}
	if (need_signed && !have_signed)
		rc = prekeys_generate(p, kid, JWE_FS_SIGNED, 1, client_now(),
		    NULL, rep);
	if (rc == 0 && add > have_one_time)
		rc = prekeys_generate(p, kid, JWE_FS_ONE_TIME,
		    add - have_one_time, client_now(), NULL, rep);
	if (rc == 0)
		rc = prekeys_save(p, rep);
	prekeys_close(p);
	return rc;
}

/* {"x", "proof"} of pk, the proof made with priv now. */
static json_t *
prekey_entry(struct client *c, EVP_PKEY *priv, const char *url,
    const struct prekey_public *pk, struct report *rep)
{
	char x[PREKEY_X_SIZE];
	struct buf proof = BUF_INIT;
	json_t *e = NULL;

	/* b64url_encode writes no NUL: without one, x ran on into
	 * whatever the stack held after it. */
	b64url_encode(pk->x, X25519_LEN, x);
	x[PREKEY_X_LEN] = '\0';
	if (prekeyproof_make(priv, c->sess.id, c->sess.name, url,
	    client_now(), pk->kind == JWE_FS_SIGNED ? PREKEY_SIGNED :
	    PREKEY_ONE_TIME, x, &proof, rep) == 0 &&
	    (e = json_pack("{s:s,s:s}", "x", x, "proof",
	    (const char *)proof.p)) == NULL)
		report_oom(rep);
	buf_free(&proof);
	return e;
}

/* Marks the prekeys the server took (n of pk) published. */
static int
mark_published(struct client *c, const struct prekey_public *pk, size_t n,
    struct report *rep)
{
	struct prekeys *p = NULL;
	size_t i;
	int rc;

	if ((rc = prekeys_open(c->home, 1, &p, rep)) != 0)
		return rc;
	/* One gone meanwhile (another run swept it) has nothing to mark. */
	for (i = 0; i < n; i++)
		(void)prekeys_mark_published(p, pk[i].pkid);
	rc = prekeys_save(p, rep);
	prekeys_close(p);
	return rc;
}

/* Uploads every unpublished prekey of kid, PUT_BATCH at a time; *last
 * receives the server's last answer (or stays NULL: nothing to send). */
static int
upload(struct client *c, EVP_PKEY *priv, const char *kid, json_t **last,
    struct report *rep)
{
	static struct prekey_public pk[PREKEYS_MAX];
	char url[KEYPROOF_URL_MAX];
	struct prekeys *p = NULL;
	json_t *body = NULL, *ot, *e, *answer;
	size_t n, i, from, sent;
	int rc;

	*last = NULL;
	if ((rc = directory_server_url(c, url, rep)) != 0 ||
	    (rc = prekeys_open(c->home, 0, &p, rep)) != 0)
		return rc;
	n = prekeys_unpublished(p, kid, pk, PREKEYS_MAX);
	prekeys_close(p);
	if (n > PREKEYS_MAX)
		n = PREKEYS_MAX;
	for (from = 0; rc == 0 && from < n; from += sent) {
		body = json_pack("{s:s}", "kid", kid);
		ot = json_array();
		if (body == NULL || ot == NULL) {
			json_decref(ot);
			rc = report_oom(rep);
			break;
		}
		for (i = from, sent = 0; rc == 0 && i < n && sent < PUT_BATCH;
		    i++, sent++) {
			if ((e = prekey_entry(c, priv, url, &pk[i],
			    rep)) == NULL)
				rc = report_said(rep) ? E2E_EX_SOFTWARE :
				    report_oom(rep);
			else if (pk[i].kind == JWE_FS_SIGNED)
				rc = json_object_set_new(body, "signed", e);
			else
				rc = json_array_append_new(ot, e);
		}
		if (rc == 0 && json_array_size(ot) > 0)
			rc = json_object_set_new(body, "one_time", ot);
		else
			json_decref(ot);
		if (rc != 0) {
			json_decref(body);
			if (rc == -1)	/* jansson's */
				rc = report_oom(rep);
			break;
		}
		/* Published once the server said so, and only then. */
		if ((rc = api_prekeys_put(c, body, &answer, rep)) == 0) {
			json_decref(*last);
			*last = answer;
			rc = mark_published(c, pk + from, sent, rep);
		}
	}
	return rc;
}

int
prekeydir_publish(struct client *c, EVP_PKEY *priv,
    const struct prekeydir_opts *o, json_t **out, struct report *rep)
{
	char kid[KID_SIZE];
	json_t *keys = NULL, *last = NULL, *signed_pkid;
	size_t have, add = 0, before;
	int64_t signed_iat;
	int rc, need_signed, listed;

	*out = NULL;
	if ((rc = jwk_thumbprint(priv, kid, rep)) != 0 ||
	    (rc = api_prekeys_stock(c, &keys, rep)) != 0)
		goto out;
	listed = stock_of(keys, kid, &have, &signed_iat, &signed_pkid);
	before = have;
	/* A first batch only for a published key, and only when it has no
	 * prekey at all. */
	if (o->first && !listed)
		goto out;
	if (o->first && (have > 0 || json_is_string(signed_pkid))) {
		need_signed = 0;
	} else {
		need_signed = signed_iat == 0 ||
		    client_now() - signed_iat > o->signed_max_age;
		if (have < o->low)
			add = o->count - have;
	}
	if ((need_signed || add > 0) &&
	    (rc = make_prekeys(c, kid, add, need_signed, rep)) != 0)
		goto out;
	/* Sent also when nothing was wanted now: what an earlier run made
	 * and could not publish. */
	if ((rc = upload(c, priv, kid, &last, rep)) != 0)
		goto out;
	if (last != NULL) {
		have = (size_t)json_integer_value(json_object_get(last,
		    "one_time"));
		signed_pkid = json_object_get(last, "signed");
	}
	*out = json_pack("{s:s,s:I,s:O?,s:I}", "kid", kid, "one_time",
	    (json_int_t)have, "signed", json_is_string(signed_pkid) ?
	    signed_pkid : NULL, "added", (json_int_t)(have > before ?
	    have - before : 0));
	if (*out == NULL)
		rc = report_oom(rep);
out:
	json_decref(keys);
	json_decref(last);
	return rc;
}

/*
 * One prekey of the claim (e: {"x", "proof"}) for name's pinned key pub
 * (kid), of kind: its proof checked, pk filled. 65, loud, when the
 * proof fails: the server may be handing out a prekey of its own.
 */
static int
check_prekey(const json_t *e, const char *name, const char *id,
    const char *url, EVP_PKEY *pub, const char *kid, int kind,
    struct prekey_public *pk, struct report *rep)
{
	struct prekeyproof_want want;
	struct prekeyproof_claims got;
	struct report said = { 0 };
	const char *x = jsonio_str(e, "x", NULL);
	const char *proof = jsonio_str(e, "proof", NULL);
	const char *what = prekey_kind_name(kind);
	int rc;

	if (x == NULL || proof == NULL)
		return report_error(rep, E2E_EX_PROTOCOL, "the server's answer "
		    "to claiming prekeys is not e2e-chat's: a %s prekey of %s "
		    "without x or proof", what, name);
	memset(&want, 0, sizeof(want));
	want.key.id = id;
	want.key.name = name;
	want.key.aud = url;
	want.key.now = client_now();
	want.key.skew = -1;
	want.kind = kind;
	want.max_age = kind == PREKEY_SIGNED ? PREKEY_SIGNED_MAX_AGE : 0;
	rc = prekeyproof_check(proof, strlen(proof), pub, kid, &want, &got,
	    &said);
	if (rc == 0 && strcmp(got.x, x) != 0)
		rc = report_error(&said, E2E_EX_DATAERR, "signs another prekey "
		    "than the one handed out");
	if (rc != 0) {
		report_error(rep, E2E_EX_DATAERR, "THE SERVER HANDED OUT A %s "
		    "PREKEY FOR %s's KEY %s WHOSE PROOF %s: refused, nothing "
		    "encrypted to it", what, name, kid, report_message(&said));
		report_warn(rep, "the server may be passing off a prekey of "
		    "its own (or another key's) as %s's", name);
		return E2E_EX_DATAERR;
	}
	memset(pk, 0, sizeof(*pk));
	memcpy(pk->ikid, kid, KID_SIZE);
	memcpy(pk->pkid, got.pkid, KID_SIZE);
	pk->kind = kind == PREKEY_SIGNED ? JWE_FS_SIGNED : JWE_FS_ONE_TIME;
	if (x25519_decode_x(x, strlen(x), pk->x) != 0)
		return report_error(rep, E2E_EX_DATAERR, "%s's %s prekey "
		    "is not an X25519 key", name, what);
	return 0;
}

int
prekeydir_claim(struct client *c, struct keyring *k, const char *name,
    json_t **out, struct prekey_public *pks, size_t *npk,
    size_t *signed_only, struct report *rep)
{
	struct keyring_contact *kc = keyring_find(k, name);
	struct prekey_public one, sig;
	char url[KEYPROOF_URL_MAX];
	const char *id, *kid;
	json_t *o = NULL, *e, *ot, *sg;
	EVP_PKEY *pub;
	size_t i;
	int rc, got_one, got_sig;

	*out = NULL;
	*signed_only = 0;
	if (npk != NULL)
		*npk = 0;
	if ((rc = directory_server_url(c, url, rep)) != 0 ||
	    (rc = api_prekeys_claim(c, name, &o, rep)) != 0)
		return rc;
	/* The answer's id is an account id, and each key entry's kid a
	 * string: api_prekeys_claim refused any other answer, and one for
	 * another name (client_hostile.bats, "a claim without an account
	 * id or a kid"). */
	id = jsonio_str(o, "id", NULL);
	if ((*out = json_array()) == NULL) {
		rc = report_oom(rep);
		goto out;
	}
	json_array_foreach(json_object_get(o, "keys"), i, e) {
		kid = jsonio_str(e, "kid", NULL);
		/* Only a pinned key's proofs can be checked. */
		if (kc == NULL || !keyring_pins(kc, kid) ||
		    (pub = keyring_key_of(k, name, kid)) == NULL)
			continue;
		ot = json_object_get(e, "one_time");
		sg = json_object_get(e, "signed");
		got_one = json_is_object(ot);
		got_sig = json_is_object(sg);
		/* Both checked: a false signed prekey is as loud. */
		if (got_one)
			rc = check_prekey(ot, name, id, url, pub, kid,
			    PREKEY_ONE_TIME, &one, rep);
		if (rc == 0 && got_sig)
			rc = check_prekey(sg, name, id, url, pub, kid,
			    PREKEY_SIGNED, &sig, rep);
		EVP_PKEY_free(pub);
		if (rc != 0)
			goto out;
		if (!got_one && !got_sig)
			continue;
		if (!got_one)
			(*signed_only)++;
		if (pks != NULL && npk != NULL && *npk < KEYRING_KEYS_MAX)
			pks[(*npk)++] = got_one ? one : sig;
		if (json_array_append_new(*out, prekeys_record_json(name,
		    got_one ? &one : &sig)) != 0) {
			rc = report_oom(rep);
			goto out;
		}
	}
out:
	if (rc != 0) {
		json_decref(*out);
		*out = NULL;
	}
	json_decref(o);
	return rc;
}

int
prekeydir_wanted(const struct client *c, struct report *rep)
{
	const char *v = c->cfg.prekeys;

	if (v == NULL || strcmp(v, "yes") == 0)
		return 1;
	if (strcmp(v, "no") == 0)
		return 0;
	if (rep != NULL)
		report_error(rep, E2E_EX_CONFIG, "prekeys (config file) must "
		    "be yes or no");
	return -1;
}

/* The tools' own stock (PREKEYS_BATCH, a week's signed prekey): topped
 * up under half, or, first, a whole batch and only when the server holds
 * no prekey of the key. */
static struct prekeydir_opts
own_opts(int first)
{
	struct prekeydir_opts po;

	memset(&po, 0, sizeof(po));
	po.count = PREKEYS_BATCH;
	po.low = first ? PREKEYS_BATCH : PREKEYS_BATCH / 2;
	po.signed_max_age = PREKEYDIR_SIGNED_MAX_AGE;
	po.first = first;
	return po;
}

/* The first batch of prekeydir_publish_key: the stock as
 * prekeydir_publish's *out, or NULL when none was published (a warning
 * in rep says why, unless the config said no). */
static json_t *
first_batch(struct client *c, EVP_PKEY *priv, struct report *rep)
{
	const struct prekeydir_opts po = own_opts(1);
	struct report why = { 0 };
	json_t *j = NULL;
	int wanted = prekeydir_wanted(c, &why);

	if (wanted == 0)
		return NULL;
	/* The key is published already: whatever happens now, one line
	 * says it, with the command that finishes the job. */
	if (wanted < 0 || prekeydir_publish(c, priv, &po, &j, &why) != 0)
		report_warn(rep, "your key is published, but no prekeys "
		    "(%s): messages to you are not forward secret until you "
		    "run: e2e-keys prekeys", report_message(&why));
	report_clear(&why);
	return j;
}

int
prekeydir_publish_key(struct client *c, EVP_PKEY *priv, int prekeys,
    char kid[KID_SIZE], json_t **one_time, struct report *rep)
{
	json_t *stock;
	int rc;

	*one_time = NULL;
	if ((rc = directory_publish(c, priv, kid, rep)) != 0 || !prekeys)
		return rc;
	stock = first_batch(c, priv, rep);
	*one_time = json_incref(json_object_get(stock, "one_time"));
	json_decref(stock);
	return 0;
}

int
prekeydir_refill_key(struct client *c, EVP_PKEY *priv)
{
	struct prekeydir_opts po;
	char path[HOME_PATH_MAX];
	struct report quiet = { 0 };
	struct stat st;
	json_t *j = NULL;
	int done;

	if (!c->have_session || prekeydir_wanted(c, NULL) != 1 ||
	    home_file(c->home, "prekeys.json", path, sizeof(path),
	    &quiet) != 0)
		return 0;
	/* No store yet: a first batch, for a user who published the key
	 * with a version without prekeys, or with --no-prekeys. */
	po = own_opts(lstat(path, &st) != 0);
	done = prekeydir_publish(c, priv, &po, &j, &quiet) == 0 && j != NULL;
	json_decref(j);
	report_clear(&quiet);
	return done;
}

int
prekeydir_refill(struct client *c)
{
	/* Never asks for a passphrase: a protected key reads none from an
	 * empty file and is left alone (as keyfile_public_kid does). */
	const struct passphrase_src none = { "/dev/null", NULL };
	struct report quiet = { 0 };
	EVP_PKEY *pk = NULL;
	int done = 0;

	if (!c->have_session || c->cfg.identity == NULL)
		return 0;
	if (keyfile_load_private(c->cfg.identity, &none, &pk, &quiet) == 0)
		done = prekeydir_refill_key(c, pk);
	EVP_PKEY_free(pk);
	report_clear(&quiet);
	return done;
}
