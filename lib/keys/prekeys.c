/* prekeys.c - the client's private prekeys (see prekeys.h). */
#include "keys/prekeys.h"
#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/home.h"
#include "base/jsonio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct entry {
	char ikid[KID_SIZE];
	char pkid[KID_SIZE];
	enum jwe_fs kind;
	uint8_t d[X25519_LEN];
	uint8_t x[X25519_LEN];
	int64_t created;
	int published;
	int64_t used_at;	/* one-time: 0 until a message was shown */
	int64_t erase_at;	/* one-time, used: used_at + the grace then */
	int64_t retired;	/* signed: 0 while current */
};

struct tomb {
	char ikid[KID_SIZE];
	char pkid[KID_SIZE];
};

struct prekeys {
	char path[HOME_PATH_MAX];
	int lock_fd;
	struct entry *v;	/* PREKEYS_MAX, wiped on close */
	size_t n;
	struct tomb *t;
	size_t nt;
	int dirty;
};

/* ---- reading ---- */

static int
kid_member(const json_t *o, const char *name, char out[KID_SIZE])
{
	size_t len;
	const char *s = jsonio_str(o, name, &len);

	if (s == NULL || !jwk_is_kid(s, len))
		return -1;
	memcpy(out, s, KID_SIZE);
	return 0;
}

static int
time_member(const json_t *o, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(o, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

/* One prekey's entry: its halves must agree, and pkid be x's. */
static int
entry_from_json(const json_t *o, const char *ikid, enum jwe_fs kind,
    struct entry *e)
{
	const char *x, *d;
	size_t xl = 0, dl = 0;
	uint8_t pub[X25519_LEN];
	char pkid[KID_SIZE];
	const json_t *pb;
	int rc = -1;

	memset(e, 0, sizeof(*e));
	snprintf(e->ikid, sizeof(e->ikid), "%s", ikid);
	e->kind = kind;
	x = jsonio_str(o, "x", &xl);
	d = jsonio_str(o, "d", &dl);
	pb = json_object_get(o, "published");
	if (!json_is_object(o) || kid_member(o, "pkid", e->pkid) != 0 ||
	    x25519_decode_x(x, xl, e->x) != 0 ||
	    x25519_decode_x(d, dl, e->d) != 0 ||
	    time_member(o, "created", &e->created) != 0 ||
	    !json_is_boolean(pb))
		goto out;
	e->published = json_is_true(pb);
	if (kind == JWE_FS_SIGNED) {
		if (time_member(o, "retired", &e->retired) != 0)
			goto out;
	} else {
		if (time_member(o, "used_at", &e->used_at) != 0 ||
		    time_member(o, "erase_at", &e->erase_at) != 0)
			goto out;
	}
	if (x25519_public(e->d, pub, NULL) != 0 || memcmp(pub, e->x,
	    X25519_LEN) != 0 || x25519_pkid(pub, pkid, NULL) != 0 ||
	    strcmp(pkid, e->pkid) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		wipe(e, sizeof(*e));
	return rc;
}

static int
identity_from_json(struct prekeys *p, const char *ikid, const json_t *o)
{
	static const char *const members[] = { "signed", "one_time",
		"erased", NULL };
	const json_t *v;
	size_t i;

	if (!jwk_is_kid(ikid, strlen(ikid)) || !json_is_object(o) ||
	    jsonio_unknown_member(o, members) != NULL)
		return -1;
	json_array_foreach(json_object_get(o, "signed"), i, v) {
		if (p->n == PREKEYS_MAX || entry_from_json(v, ikid,
		    JWE_FS_SIGNED, &p->v[p->n]) != 0)
			return -1;
		p->n++;
	}
	json_array_foreach(json_object_get(o, "one_time"), i, v) {
		if (p->n == PREKEYS_MAX || entry_from_json(v, ikid,
		    JWE_FS_ONE_TIME, &p->v[p->n]) != 0)
			return -1;
		p->n++;
	}
	json_array_foreach(json_object_get(o, "erased"), i, v) {
		if (p->nt == PREKEYS_TOMBSTONES_MAX || !json_is_string(v) ||
		    !jwk_is_kid(json_string_value(v), json_string_length(v)))
			return -1;
		snprintf(p->t[p->nt].ikid, KID_SIZE, "%s", ikid);
		snprintf(p->t[p->nt].pkid, KID_SIZE, "%s",
		    json_string_value(v));
		p->nt++;
	}
	return 0;
}

static int
parse(struct prekeys *p, const char *text, size_t len, struct report *rep)
{
	json_t *root, *ids, *o;
	const char *ikid;
	struct report why = { 0 };	/* what jsonio_parse says */
	int rc = E2E_EX_CONFIG;

	if ((root = jsonio_parse(text, len, &why)) == NULL)
		return report_error(rep, E2E_EX_CONFIG,
		    "%s is not valid JSON: %s", p->path, report_message(&why));
	ids = json_object_get(root, "identities");
	if (!json_is_object(root) || !json_is_integer(json_object_get(root,
	    "version")) || json_integer_value(json_object_get(root,
	    "version")) != 1 || !json_is_object(ids)) {
		report_error(rep, E2E_EX_CONFIG,
		    "%s is not a prekey store of this version", p->path);
		goto out;
	}
	json_object_foreach(ids, ikid, o) {
		if (identity_from_json(p, ikid, o) != 0) {
			report_error(rep, E2E_EX_CONFIG, "%s: the prekeys of "
			    "key %.43s are malformed", p->path, ikid);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static int
read_store(const char *path, struct buf *b, struct report *rep)
{
	static const struct file_refusal why = {
		.refused = "holds private keys but is not a regular file of "
		    "yours that only you can read",
	};

	return file_read_private_report(path, &file_policy_prekeys, b,
	    E2E_EX_CONFIG, &why, rep);
}

int
prekeys_open(const char *home, int for_update, struct prekeys **out,
    struct report *rep)
{
	char lock_path[HOME_PATH_MAX];
	struct prekeys *p;
	struct buf b = BUF_SECRET_INIT;
	enum file_status st;
	int rc;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->v = calloc(PREKEYS_MAX, sizeof(*p->v))) == NULL ||
	    (p->t = calloc(PREKEYS_TOMBSTONES_MAX, sizeof(*p->t))) == NULL) {
		if (p != NULL)
			free(p->v);
		free(p);
		report_oom(rep);
		return E2E_EX_SOFTWARE;
	}
	p->lock_fd = -1;
	if ((rc = home_file(home, "prekeys.json", p->path, sizeof(p->path),
	    rep)) != 0 || (rc = home_file(home, "prekeys.lock", lock_path,
	    sizeof(lock_path), rep)) != 0)
		goto fail;
	if (for_update) {
		if ((rc = home_create(home, rep)) != 0)
			goto fail;
		if ((st = file_lock(lock_path, FILE_LOCK_WAIT,
		    &p->lock_fd)) != FILE_OK) {
			rc = file_lock_report(lock_path, st, rep);
			goto fail;
		}
	}
	if ((rc = read_store(p->path, &b, rep)) > 0 ||
	    (rc == 0 && (rc = parse(p, (const char *)b.p, b.len, rep)) != 0))
		goto fail;
	buf_free(&b);
	*out = p;
	return 0;
fail:
	buf_free(&b);
	prekeys_close(p);
	/* Every path here has set an error; never 0 without a store. */
	return rc != 0 ? rc : E2E_EX_SOFTWARE;
}

/* ---- changing ---- */

int
prekeys_generate(struct prekeys *p, const char *ikid, enum jwe_fs kind,
    size_t n, int64_t now, struct prekey_public *out, struct report *rep)
{
	struct entry *e;
	size_t i;
	int rc;

	if (kind == JWE_FS_SIGNED)
		n = 1;
	if (!jwk_is_kid(ikid, strlen(ikid)) || n == 0 ||
	    n > PREKEYS_BATCH_MAX)
		return report_error(rep, E2E_EX_USAGE, "a batch of prekeys "
		    "is 1 to %d keys for one key id", PREKEYS_BATCH_MAX);
	if (p->n + n > PREKEYS_MAX)
		return report_error(rep, E2E_EX_DATAERR, "%s holds %zu "
		    "prekeys already; at most %d", p->path, p->n, PREKEYS_MAX);
	/* 0 means current: a clock at the epoch still retires it, so that
	 * it is neither published again nor kept past the grace. */
	for (i = 0; kind == JWE_FS_SIGNED && i < p->n; i++)
		if (p->v[i].kind == JWE_FS_SIGNED && p->v[i].retired == 0 &&
		    strcmp(p->v[i].ikid, ikid) == 0)
			p->v[i].retired = now > 0 ? now : 1;
	for (i = 0; i < n; i++) {
		e = &p->v[p->n];
		memset(e, 0, sizeof(*e));
		snprintf(e->ikid, sizeof(e->ikid), "%s", ikid);
		e->kind = kind;
		e->created = now;
		e->published = 0;
		if ((rc = x25519_generate(e->d, e->x, rep)) != 0 ||
		    (rc = x25519_pkid(e->x, e->pkid, rep)) != 0) {
			wipe(e, sizeof(*e));
			return rc;
		}
		if (out != NULL) {
			memcpy(out[i].ikid, e->ikid, KID_SIZE);
			memcpy(out[i].pkid, e->pkid, KID_SIZE);
			out[i].kind = kind;
			memcpy(out[i].x, e->x, X25519_LEN);
		}
		p->n++;
		p->dirty = 1;
	}
	return 0;
}

size_t
prekeys_unpublished(const struct prekeys *p, const char *ikid,
    struct prekey_public *out, size_t max)
{
	size_t i, k = 0;

	for (i = 0; i < p->n; i++) {
		const struct entry *e = &p->v[i];

		if (e->published || e->used_at != 0 || e->retired != 0 ||
		    (ikid != NULL && strcmp(e->ikid, ikid) != 0))
			continue;
		if (k < max) {
			memcpy(out[k].ikid, e->ikid, KID_SIZE);
			memcpy(out[k].pkid, e->pkid, KID_SIZE);
			out[k].kind = e->kind;
			memcpy(out[k].x, e->x, X25519_LEN);
		}
		k++;
	}
	return k;
}

static struct entry *
by_pkid(const struct prekeys *p, const char *pkid)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i].pkid, pkid) == 0)
			return &p->v[i];
	return NULL;
}

int
prekeys_mark_published(struct prekeys *p, const char *pkid)
{
	struct entry *e = by_pkid(p, pkid);

	if (e == NULL)
		return -1;
	if (!e->published)
		p->dirty = 1;
	e->published = 1;
	return 0;
}

void
prekeys_stock(const struct prekeys *p, const char *ikid,
    struct prekeys_stock *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < p->n; i++) {
		const struct entry *e = &p->v[i];

		if (strcmp(e->ikid, ikid) != 0)
			continue;
		if (e->kind == JWE_FS_SIGNED && e->retired == 0) {
			s->has_signed = 1;
			memcpy(s->signed_pkid, e->pkid, KID_SIZE);
			s->signed_created = e->created;
		} else if (e->kind == JWE_FS_ONE_TIME && e->used_at != 0) {
			s->used++;
		} else if (e->kind == JWE_FS_ONE_TIME) {
			s->one_time++;
			s->unpublished += !e->published;
		}
	}
	for (i = 0; i < p->nt; i++)
		s->erased += strcmp(p->t[i].ikid, ikid) == 0;
}

int
prekeys_find(const struct prekeys *p, const char *ikid, const char *pkid,
    struct jwe_prekey *out)
{
	const struct entry *e = by_pkid(p, pkid);
	size_t i;

	if (e != NULL && strcmp(e->ikid, ikid) == 0) {
		memcpy(out->priv, e->d, X25519_LEN);
		out->kind = e->kind;
		return 0;
	}
	for (i = 0; e == NULL && i < p->nt; i++)
		if (strcmp(p->t[i].pkid, pkid) == 0 &&
		    strcmp(p->t[i].ikid, ikid) == 0)
			return 1;
	return -1;
}

int
prekeys_lookup(void *view, const char *pkid, struct jwe_prekey *out)
{
	const struct prekeys_view *v = view;

	return prekeys_find(v->p, v->ikid, pkid, out);
}

int
prekeys_mark_used(struct prekeys *p, const char *pkid, int64_t now,
    int64_t grace)
{
	struct entry *e = by_pkid(p, pkid);

	if (e == NULL)
		return -1;
	if (e->kind == JWE_FS_ONE_TIME && e->used_at == 0) {
		/* 0 means unused: a clock at the epoch still marks it. */
		e->used_at = now > 0 ? now : 1;
		e->erase_at = e->used_at + grace;
		p->dirty = 1;
	}
	return 0;
}

size_t
prekeys_sweep(struct prekeys *p, int64_t now, int64_t grace)
{
	size_t i, k = 0, erased = 0;

	for (i = 0; i < p->n; i++) {
		struct entry *e = &p->v[i];
		int64_t since = e->kind == JWE_FS_ONE_TIME ? e->used_at :
		    e->retired;
		/* The earliest deadline asked for: the grace of the run that
		 * showed the message, or this run's. */
		int gone = since != 0 && (since <= now - grace ||
		    (e->kind == JWE_FS_ONE_TIME && e->erase_at <= now));

		/* A tombstone for either kind: a message to a signed prekey
		 * erased after its grace is told apart from one to a key
		 * never held, as a used one-time prekey's. */
		if (gone && p->nt < PREKEYS_TOMBSTONES_MAX) {
			memcpy(p->t[p->nt].ikid, e->ikid, KID_SIZE);
			memcpy(p->t[p->nt].pkid, e->pkid, KID_SIZE);
			p->nt++;
		}
		if (gone) {
			erased++;
			wipe(e, sizeof(*e));
			continue;
		}
		if (k != i) {
			p->v[k] = *e;
			wipe(e, sizeof(*e));
		}
		k++;
	}
	p->n = k;
	if (erased > 0)
		p->dirty = 1;
	return erased;
}

/* ---- writing ---- */

static json_t *
entry_json(const struct entry *e)
{
	char x[X25519_B64_LEN + 1], d[X25519_B64_LEN + 1];
	json_t *o;

	b64url_encode(e->x, X25519_LEN, x);
	x[X25519_B64_LEN] = '\0';
	b64url_encode(e->d, X25519_LEN, d);
	d[X25519_B64_LEN] = '\0';
	if (e->kind == JWE_FS_SIGNED)
		o = json_pack("{s:s,s:s,s:s,s:I,s:b,s:I}", "pkid", e->pkid,
		    "x", x, "d", d, "created", (json_int_t)e->created,
		    "published", e->published, "retired",
		    (json_int_t)e->retired);
	else
		o = json_pack("{s:s,s:s,s:s,s:I,s:b,s:I,s:I}", "pkid",
		    e->pkid, "x", x, "d", d, "created",
		    (json_int_t)e->created, "published", e->published,
		    "used_at", (json_int_t)e->used_at, "erase_at",
		    (json_int_t)e->erase_at);
	wipe(d, sizeof(d));
	return o;
}

/* The object of identity ikid in ids, made when missing. */
static json_t *
identity_json(json_t *ids, const char *ikid)
{
	json_t *o = json_object_get(ids, ikid);

	if (o != NULL)
		return o;
	o = json_pack("{s:[],s:[],s:[]}", "signed", "one_time", "erased");
	if (o == NULL || json_object_set_new(ids, ikid, o) != 0)
		return NULL;
	return o;
}

int
prekeys_save(struct prekeys *p, struct report *rep)
{
	json_t *ids = json_object(), *root = NULL, *o;
	char *text = NULL;
	size_t i, len;
	int rc = E2E_EX_SOFTWARE;

	if (!p->dirty) {
		json_decref(ids);
		return 0;
	}
	for (i = 0; ids != NULL && i < p->n; i++) {
		o = identity_json(ids, p->v[i].ikid);
		if (o == NULL || json_array_append_new(json_object_get(o,
		    p->v[i].kind == JWE_FS_SIGNED ? "signed" : "one_time"),
		    entry_json(&p->v[i])) != 0)
			goto oom;
	}
	for (i = 0; ids != NULL && i < p->nt; i++) {
		o = identity_json(ids, p->t[i].ikid);
		if (o == NULL || json_array_append_new(json_object_get(o,
		    "erased"), json_string(p->t[i].pkid)) != 0)
			goto oom;
	}
	root = ids ? json_pack("{s:i,s:O}", "version", 1, "identities",
	    ids) : NULL;
	if (root == NULL || (text = jsonio_dump(root)) == NULL)
		goto oom;
	/* jsonio_dump leaves room for the newline (the NUL's byte). */
	len = strlen(text);
	text[len] = '\n';
	if ((rc = file_write_atomic(p->path, text, len + 1, 0600, -1,
	    rep)) == 0)
		p->dirty = 0;
	wipe(text, len + 1);
	goto out;
oom:
	rc = report_oom(rep);
out:
	free(text);
	json_decref(root);
	json_decref(ids);
	return rc;
}

void
prekeys_close(struct prekeys *p)
{
	if (p == NULL)
		return;
	/* Entries past n were wiped as they left (sweep, failures). */
	if (p->v != NULL)
		wipe(p->v, p->n * sizeof(*p->v));
	free(p->v);
	free(p->t);
	file_unlock(&p->lock_fd);
	free(p);
}

/* Opens for update, applies the change, saves; nothing when the store
 * does not exist (no prekeys: nothing to mark or sweep). */
static int
update(const char *home, const char *pkid, int64_t now, int64_t grace,
    struct report *rep)
{
	char path[HOME_PATH_MAX];
	struct prekeys *p = NULL;
	int rc;

	if ((rc = home_file(home, "prekeys.json", path, sizeof(path),
	    rep)) != 0)
		return rc;
	if (access(path, F_OK) != 0)
		return 0;
	if ((rc = prekeys_open(home, 1, &p, rep)) != 0)
		return rc;
	if (pkid != NULL)
		(void)prekeys_mark_used(p, pkid, now, grace);
	(void)prekeys_sweep(p, now, grace);
	rc = prekeys_save(p, rep);
	prekeys_close(p);
	return rc;
}

int
prekeys_used(const char *home, const char *pkid, int64_t now,
    int64_t grace, struct report *rep)
{
	return update(home, pkid, now, grace, rep);
}

int
prekeys_sweep_file(const char *home, int64_t now, int64_t grace,
    struct report *rep)
{
	return update(home, NULL, now, grace, rep);
}

/* ---- claimed prekey records ---- */

const char *
prekeys_kind_name(enum jwe_fs kind)
{
	return kind == JWE_FS_SIGNED ? "signed" : "one-time";
}

int
prekeys_record_read(const char *text, size_t len, struct prekey_record *r,
    struct report *rep)
{
	static const char *const members[] = { "name", "kid", "kind",
		"prekey", "pkid", NULL };
	struct report why = { 0 };	/* what jsonio_parse says */
	const char *name, *kind, *extra;
	char pkid[KID_SIZE];
	size_t nlen = 0;
	json_t *o;
	int rc = E2E_EX_DATAERR;

	memset(r, 0, sizeof(*r));
	if ((o = jsonio_parse(text, len, &why)) == NULL)
		return report_error(rep, rc, "not JSON: %s",
		    report_message(&why));
	if (!json_is_object(o)) {
		report_error(rep, rc, "not a JSON object");
		goto out;
	}
	if ((extra = jsonio_unknown_member(o, members)) != NULL) {
		report_error(rep, rc, "unexpected member \"%.40s\"", extra);
		goto out;
	}
	name = jsonio_str(o, "name", &nlen);
	kind = jsonio_str(o, "kind", NULL);
	if (name == NULL || !claim_name_valid(name, nlen)) {
		report_error(rep, rc, "\"name\" is not a user name");
		goto out;
	}
	memcpy(r->name, name, nlen + 1);
	if (kid_member(o, "kid", r->pk.ikid) != 0 ||
	    kid_member(o, "pkid", r->pk.pkid) != 0) {
		report_error(rep, rc, "\"kid\" or \"pkid\" is not a key id");
		goto out;
	}
	if (kind != NULL && strcmp(kind, "one-time") == 0)
		r->pk.kind = JWE_FS_ONE_TIME;
	else if (kind != NULL && strcmp(kind, "signed") == 0)
		r->pk.kind = JWE_FS_SIGNED;
	else {
		report_error(rep, rc, "\"kind\" is not \"one-time\" or "
		    "\"signed\"");
		goto out;
	}
	if ((rc = x25519_jwk_read(json_object_get(o, "prekey"),
	    "\"prekey\"", r->pk.x, rep)) != 0)
		goto out;
	rc = E2E_EX_DATAERR;
	if (x25519_low_order(r->pk.x)) {
		report_error(rep, rc, "\"prekey\" is " X25519_LOW_ORDER_WHY);
		goto out;
	}
	if (x25519_pkid(r->pk.x, pkid, rep) != 0) {
		rc = E2E_EX_SOFTWARE;
		goto out;
	}
	if (strcmp(pkid, r->pk.pkid) != 0) {
		report_error(rep, rc, "\"pkid\" is not the prekey's "
		    "thumbprint");
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

json_t *
prekeys_record_json(const char *name, const struct prekey_public *pk)
{
	return json_pack("{s:s,s:s,s:s,s:o,s:s}", "name", name, "kid",
	    pk->ikid, "kind", prekeys_kind_name(pk->kind), "prekey",
	    x25519_jwk(pk->x), "pkid", pk->pkid);
}

int
prekeys_apply(struct jwe_recipient *r, size_t nr,
    char (*names)[NAME_LEN_MAX + 1], const struct prekey_record *rec,
    size_t nrec, const char *const *what, struct report *rep)
{
	size_t i, k;

	for (k = 0; k < nrec; k++) {
		for (i = 0; i < nr; i++)
			if (strcmp(r[i].kid, rec[k].pk.ikid) == 0)
				break;
		if (i == nr)
			return report_error(rep, E2E_EX_USAGE, "%s: the prekey "
			    "is for key %s (%s), which no -r recipient has",
			    what[k], rec[k].pk.ikid, rec[k].name);
		if (r[i].fs)
			return report_error(rep, E2E_EX_USAGE, "%s: key %s has "
			    "a prekey already", what[k], r[i].kid);
		if (names[i][0] != '\0' && strcmp(names[i],
		    rec[k].name) != 0)
			return report_error(rep, E2E_EX_DATAERR, "%s: the "
			    "prekey is %s's, but key %s is %s's", what[k],
			    rec[k].name, r[i].kid, names[i]);
		r[i].fs = 1;
		memcpy(r[i].prekey, rec[k].pk.x, X25519_LEN);
		memcpy(r[i].pkid, rec[k].pk.pkid, KID_SIZE);
	}
	return 0;
}
