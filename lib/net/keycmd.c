/* keycmd.c - e2e-keys' commands (see keycmd.h). */
#include "net/keycmd.h"
#include "base/buf.h"
#include "base/cli.h"
#include "base/config.h"
#include "base/err.h"
#include "base/term.h"
#include "format/keyfile.h"
#include "keys/keyring.h"
#include "keys/keytool.h"
#include "keys/qr.h"
#include "net/api.h"
#include "net/directory.h"
#include "net/prekeydir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* What the command has said so far, shown before its output is written
 * (o->said), so that stderr and stdout keep their order. */
static void
said_so_far(const struct keycmd_opts *o, struct report *rep)
{
	if (o->said != NULL && report_said(rep)) {
		o->said(rep);
		report_clear(rep);
	}
}

/* client_print after what was said. */
static int
print_json(const struct keycmd_opts *o, json_t *j, struct report *rep)
{
	said_so_far(o, rep);
	return client_print(j, rep);
}

int
keycmd_start(struct client *c, const struct keycmd_opts *o, int flags,
    struct report *rep)
{
	int rc;

	if (o->quiet || flags != 0) {
		/* Run by e2e-encrypt and e2e-decrypt: not signed in or no
		 * network is no news; only a changed key is said. */
		return client_start(c, &o->co, flags, o->quiet ? NULL : rep);
	}
	/* show and verify use the server when they can (my own keys),
	 * without needing it. */
	if (client_start(c, &o->co, CLIENT_NEED_SESSION, NULL) == 0)
		return 0;
	client_end(c);
	rc = client_start(c, &o->co, CLIENT_NO_SERVER, rep);
	return rc;
}

/* The keyring, locked for a change; home from the client set-up; my
 * own key never pinned for a contact. */
static int
open_keyring(struct client *c, int update, struct keyring **k,
    struct report *rep)
{
	return directory_keyring_open(c, update, k, rep);
}

/* The identity key file: *file when given, else the config's identity
 * (config_identity_path), read into path; *file is then path. */
static int
identity_file(const struct client *c, const char **file, char *path,
    size_t size, struct report *rep)
{
	int rc;

	if (*file != NULL)
		return 0;
	if ((rc = config_identity_path(path, size, rep)) == 0)
		*file = path;
	if (rc >= 0)
		return rc;
	report_error(rep, E2E_EX_USAGE, "no key file given and no identity in "
	    "%s/config", c->home);
	report_hint(rep, "give KEYFILE, or write \"identity = PATH\" in the "
	    "config file");
	return E2E_EX_USAGE;
}

int
keycmd_publish(struct client *c, const struct keycmd_opts *o, char **argv,
    struct report *rep)
{
	char path[HOME_PATH_MAX], kid[KID_SIZE];
	const char *file = argv[1];
	EVP_PKEY *pk = NULL;
	json_t *one_time = NULL;
	int rc;

	/* The private key: it signs the proof that its holder publishes
	 * it (a public key file proves nothing). */
	if ((rc = identity_file(c, &file, path, sizeof(path), rep)) == 0 &&
	    (rc = keyfile_load_private(file, &o->ps, &pk,
	    rep)) == E2E_EX_NOINPUT)
		report_hint(rep, "publish needs your private key: it signs the "
		    "proof that you hold it");
	/* A warning about the key file before the server's words. */
	said_so_far(o, rep);
	/* Forward secrecy by default: a first batch of prekeys when the
	 * key has none; its failure is a warning (the key is published,
	 * exit 0), e2e-keys prekeys finishing the job. */
	if (rc == 0)
		rc = prekeydir_publish_key(c, pk, !o->no_prekeys, kid,
		    &one_time, rep);
	EVP_PKEY_free(pk);
	if (rc != 0)
		return rc;
	rc = print_json(o, json_pack("{s:s,s:s,s:b,s:O?}", "name",
	    c->sess.name, "kid", kid, "published", 1, "prekeys", one_time),
	    rep);
	json_decref(one_time);
	return rc;
}

static const char *const result_names[] = { "", "pinned", "unchanged",
	"changed" };

int
keycmd_fetch(struct client *c, const struct keycmd_opts *o, char **argv,
    struct report *rep)
{
	const char *name = argv[1];
	struct report quiet = { 0 };
	struct keyring *k = NULL;
	struct keyring_contact *kc;
	int rc, result;

	/* Quiet (for e2e-encrypt and e2e-decrypt): that the directory
	 * cannot be asked is no news; a refused key from it is. */
	if (o->quiet) {
		rc = directory_fetch(c, name, &k, &result, &quiet);
		if (rc == E2E_EX_DATAERR && report_message(&quiet)[0] != '\0')
			report_error(rep, rc, "%s", report_message(&quiet));
	} else {
		rc = directory_fetch(c, name, &k, &result, rep);
	}
	/* A change is loud, and refused as everywhere else. */
	if (rc == 0 && keyring_known(k, name))
		rc = keyring_usable(k, name, rep);
	if (rc == 0 && !o->quiet && (kc = keyring_find(k, name)) != NULL)
		rc = print_json(o, json_pack("{s:s,s:o,s:s,s:b}", "name", name,
		    "keys", keytool_kids_json(kc->keys, kc->nkeys), "status",
		    result_names[result], "verified", kc->verified), rep);
	keyring_close(k);
	return rc;
}

int
keycmd_list(struct client *c, const struct keycmd_opts *o, char **argv,
    struct report *rep)
{
	struct keyring *k;
	size_t i;
	int rc;

	(void)argv;
	if ((rc = open_keyring(c, 0, &k, rep)) != 0)
		return rc;
	/* Each contact's warnings just before its line. */
	for (i = 0; rc == 0 && i < keyring_count(k); i++)
		rc = print_json(o, keytool_list_json(k, keyring_at(k, i), rep),
		    rep);
	keyring_close(k);
	return rc;
}

/*
 * My own key id, for my half of the safety number: my identity's, which
 * this machine holds (keytool_safety). Keys the directory lists for me
 * that are not this one are shown as a warning.
 */
static int
my_key(struct client *c, const struct keycmd_opts *o, char kid[KID_SIZE],
    struct report *rep)
{
	char path[HOME_PATH_MAX];
	const char *file = NULL;
	json_t *arr = NULL;
	EVP_PKEY *pk = NULL;
	int rc;

	if ((rc = identity_file(c, &file, path, sizeof(path), rep)) != 0)
		return rc;
	if ((rc = keyfile_load_public_half(file, &o->ps, &pk, rep)) != 0 ||
	    (rc = jwk_thumbprint(pk, kid, rep)) != 0)
		goto out;
	if (c->http == NULL)
		goto out;
	/* Without the directory, no warning: my key is still mine. */
	(void)api_keys_get(c, c->sess.name, &arr, NULL);
	keytool_warn_other_keys(kid, arr, rep);
out:
	json_decref(arr);
	EVP_PKEY_free(pk);
	return rc;
}

/* The contact's keys and the safety number, for show and verify. */
static int
show_contact(struct client *c, const struct keycmd_opts *o,
    const char *name, json_t **out, struct report *rep)
{
	char mine[KID_SIZE];
	struct keyring *k;
	struct keyring_contact *kc;
	int rc;

	*out = NULL;
	if (!c->have_session) {
		report_error(rep, E2E_EX_NOPERM, "not signed in: your own name "
		    "is needed for the safety number");
		report_hint(rep, "sign in: e2e-account signin NAME");
		return E2E_EX_NOPERM;
	}
	if ((rc = open_keyring(c, 0, &k, rep)) != 0)
		return rc;
	if ((kc = keyring_find(k, name)) == NULL || kc->nkeys == 0) {
		report_error(rep, E2E_EX_DATAERR, "%s is not in your keyring",
		    name);
		report_hint(rep, "fetch the keys first: e2e-keys fetch %s",
		    name);
		rc = E2E_EX_DATAERR;
		goto out;
	}
	if ((rc = my_key(c, o, mine, rep)) == 0)
		rc = keytool_safety(c->sess.name, mine, kc, out, rep);
out:
	keyring_close(k);
	return rc;
}

int
keycmd_show(struct client *c, const struct keycmd_opts *o, char **argv,
    struct report *rep)
{
	json_t *j;
	int rc;

	if ((rc = show_contact(c, o, argv[1], &j, rep)) != 0)
		return rc;
	return print_json(o, j, rep);
}

int
keycmd_verify(struct client *c, const struct keycmd_opts *o, char **argv,
    struct report *rep)
{
	const char *name = argv[1];
	char answer[16], prompt[256];
	struct keyring *k;
	json_t *j;
	int rc;

	if ((rc = show_contact(c, o, name, &j, rep)) != 0)
		return rc;
	if (!o->yes) {
		/* The warnings before the question. */
		said_so_far(o, rep);
		/* On the terminal, where the question is asked. */
		snprintf(prompt, sizeof(prompt), "Safety number with %s:\n"
		    "  %s\nIs it the number shown on their side? Type yes or "
		    "no: ", name, json_string_value(json_object_get(j,
		    "safety_number")));
		rc = tty_read_line(prompt, answer, sizeof(answer), rep);
		if (rc == E2E_EX_USAGE) {
			report_error(rep, rc, "no terminal to confirm on");
			report_hint(rep, "compare the numbers (e2e-keys show "
			    "%s), then add --yes", name);
		} else if (rc == 0 && strcmp(answer, "yes") != 0) {
			rc = report_error(rep, E2E_EX_DATAERR, "not verified");
		}
		if (rc != 0) {
			json_decref(j);
			return rc;
		}
	}
	if ((rc = open_keyring(c, 1, &k, rep)) != 0) {
		json_decref(j);
		return rc;
	}
	/* Marks the keys that were compared, not others accepted since.
	 * Forgotten meanwhile: keyring_verify says so. */
	if (keyring_known(k, name) &&
	    (rc = keyring_usable(k, name, rep)) == 0 &&
	    !keytool_same_keys(k, name, j)) {
		report_error(rep, E2E_EX_DATAERR, "the keys of %s changed "
		    "while you compared; nothing marked", name);
		report_hint(rep, "compare again: e2e-keys show %s", name);
		rc = E2E_EX_DATAERR;
	}
	if (rc == 0 && (rc = keyring_verify(k, name, client_now(),
	    rep)) == 0)
		rc = keyring_save(k, rep);
	keyring_close(k);
	json_decref(j);
	if (rc != 0)
		return rc;
	return print_json(o, json_pack("{s:s,s:b}", "name", name, "verified",
	    1), rep);
}

int
keycmd_accept(struct client *c, const struct keycmd_opts *o, char **argv,
    struct report *rep)
{
	const char *name = argv[1];
	struct keyring *k;
	struct keyring_contact *kc;
	int rc;

	if ((rc = open_keyring(c, 1, &k, rep)) != 0)
		return rc;
	if ((rc = keyring_accept(k, name, client_now(), rep)) == 0 &&
	    (rc = keyring_save(k, rep)) == 0 &&
	    (kc = keyring_find(k, name)) != NULL)
		rc = print_json(o, keytool_contact_json(kc), rep);
	keyring_close(k);
	return rc;
}

int
keycmd_import(struct client *c, const struct keycmd_opts *o, char **argv,
    struct report *rep)
{
	const char *name = argv[1];
	struct keyring_key key;
	struct keyring *k = NULL;
	EVP_PKEY *pk = NULL;
	int rc;

	memset(&key, 0, sizeof(key));
	if ((rc = keytool_read_import(name, argv[2], &key, &pk, rep)) != 0 ||
	    (rc = open_keyring(c, 1, &k, rep)) != 0 ||
	    (rc = keyring_import(k, name, &key, client_now(), rep)) != 0)
		goto out;
	if ((rc = keyring_save(k, rep)) == 0)
		rc = print_json(o, json_pack("{s:s,s:s,s:b}", "name", name,
		    "kid", key.kid, "imported", 1), rep);
out:
	keyring_close(k);
	EVP_PKEY_free(pk);
	free(key.pem);
	return rc;
}

int
keycmd_export(struct client *c, const struct keycmd_opts *o, char **argv,
    struct report *rep)
{
	const char *name = argv[1];
	struct keyring *k;
	struct keyring_contact *kc;
	size_t i;
	int rc;

	if ((rc = open_keyring(c, 0, &k, rep)) != 0)
		return rc;
	if ((kc = keyring_find(k, name)) == NULL || kc->nkeys == 0)
		rc = report_error(rep, E2E_EX_DATAERR, "%s is not in your "
		    "keyring", name);
	said_so_far(o, rep);
	for (i = 0; rc == 0 && kc != NULL && i < kc->nkeys; i++)
		if (fputs(kc->keys[i].pem, stdout) == EOF)
			rc = E2E_EX_IOERR;
	if (rc == 0 && fflush(stdout) == EOF)
		rc = E2E_EX_IOERR;
	if (rc == E2E_EX_IOERR)
		report_errno(rep, rc, "cannot write to standard output");
	keyring_close(k);
	return rc;
}

int
keycmd_forget(struct client *c, const struct keycmd_opts *o, char **argv,
    struct report *rep)
{
	const char *name = argv[1];
	struct keyring *k;
	int rc;

	if ((rc = open_keyring(c, 1, &k, rep)) != 0)
		return rc;
	if ((rc = keyring_forget(k, name, rep)) == 0 &&
	    (rc = keyring_save(k, rep)) == 0)
		rc = print_json(o, json_pack("{s:s,s:b}", "name", name,
		    "forgotten", 1), rep);
	keyring_close(k);
	return rc;
}

int
keycmd_withdraw(struct client *c, const struct keycmd_opts *o, char **argv,
    struct report *rep)
{
	const char *kid = argv[1];
	int rc;

	if (!jwk_is_kid(kid, strlen(kid))) {
		/* As cli_usage_error says it. */
		report_error(rep, E2E_EX_USAGE, "withdraw takes a key id (43 "
		    "base64url characters)");
		report_hint(rep, "see %s --help", err_prog());
		return E2E_EX_USAGE;
	}
	if ((rc = api_key_delete(c, kid, rep)) != 0)
		return rc;
	return print_json(o, json_pack("{s:s,s:b}", "kid", kid, "withdrawn",
	    1), rep);
}

/* The key a QR code shows: a contact's, a key file's, or mine. */
static int
qr_key(struct client *c, const struct keycmd_opts *o, const char *arg,
    EVP_PKEY **pk, const char **name, struct report *rep)
{
	char path[HOME_PATH_MAX];
	const char *file = arg;
	struct keyring *k;
	struct keyring_contact *kc;
	int rc;

	*name = c->have_session ? c->sess.name : "";
	if (arg != NULL && keytool_is_contact(arg)) {
		if ((rc = open_keyring(c, 0, &k, rep)) != 0)
			return rc;
		if (!keyring_known(k, arg)) {
			rc = report_error(rep, E2E_EX_NOINPUT, "%s is neither "
			    "a key file nor a contact", arg);
		} else if ((rc = keyring_usable(k, arg, rep)) == 0) {
			kc = keyring_find(k, arg);
			*pk = keyring_key_of(k, arg, kc->keys[0].kid);
			*name = arg;
			rc = *pk ? 0 : E2E_EX_CONFIG;
		}
		keyring_close(k);
		return rc;
	}
	if ((rc = identity_file(c, &file, path, sizeof(path), rep)) != 0)
		return rc;
	/* Mine: a public key file or my private key's public half. */
	return keyfile_load_public_half(file, &o->ps, pk, rep);
}

/* A code wider than the terminal cannot be scanned: say so. */
static void
warn_if_too_wide(const struct buf *out, struct report *rep)
{
	struct winsize ws;
	const uint8_t *nl = memchr(out->p, '\n', out->len);
	size_t cols = 0, i;

	if (nl == NULL || !isatty(STDOUT_FILENO) ||
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
		return;
	/* Characters, not bytes: count the UTF-8 lead bytes. */
	for (i = 0; out->p + i < nl; i++)
		cols += (out->p[i] & 0xc0) != 0x80;
	if (cols > ws.ws_col)
		report_warn(rep, "the code is %zu columns wide and the "
		    "terminal %u: it cannot be scanned; widen the terminal or "
		    "use --png FILE", cols, (unsigned)ws.ws_col);
}

int
keycmd_qr(struct client *c, const struct keycmd_opts *o, char **argv,
    struct report *rep)
{
	struct buf text = BUF_INIT, out = BUF_INIT;
	struct buf_sink bs = { &out, rep };
	struct sink s = sink_buf_to(&bs);
	const char *name;
	EVP_PKEY *pk = NULL;
	int rc;

	if ((rc = qr_key(c, o, argv[1], &pk, &name, rep)) != 0 ||
	    (rc = qr_payload(name, pk, &text, rep)) != 0)
		goto done;
	if (o->png != NULL) {
		rc = qr_write_png((const char *)text.p, 8, o->png, rep);
	} else if ((rc = qr_render_text((const char *)text.p, 2, o->invert,
	    &s, rep)) == 0) {
		warn_if_too_wide(&out, rep);
		said_so_far(o, rep);
		if (fwrite(out.p, 1, out.len, stdout) != out.len ||
		    fflush(stdout) == EOF)
			rc = report_errno(rep, E2E_EX_IOERR, "cannot write to "
			    "standard output");
	}
done:
	EVP_PKEY_free(pk);
	buf_free(&text);
	buf_free(&out);
	return rc;
}

int
keycmd_prekeys(struct client *c, const struct keycmd_opts *o, char **argv,
    struct report *rep)
{
	struct prekeydir_opts po;
	char path[HOME_PATH_MAX];
	const char *file = argv[1];
	EVP_PKEY *pk = NULL;
	json_t *j = NULL;
	int rc;

	/* The identity's private key signs each prekey's proof. */
	if ((rc = identity_file(c, &file, path, sizeof(path), rep)) == 0 &&
	    (rc = keyfile_load_private(file, &o->ps, &pk,
	    rep)) == E2E_EX_NOINPUT)
		report_hint(rep, "prekeys needs your private key: it signs "
		    "each prekey's proof");
	said_so_far(o, rep);
	memset(&po, 0, sizeof(po));
	po.count = o->count;
	/* Topped up below half: not at every run. */
	po.low = (o->count + 1) / 2;
	po.signed_max_age = o->signed_max_age;
	if (rc == 0)
		rc = prekeydir_publish(c, pk, &po, &j, rep);
	EVP_PKEY_free(pk);
	if (rc != 0)
		return rc;
	return print_json(o, j, rep);
}

int
keycmd_claim(struct client *c, const struct keycmd_opts *o, char **argv,
    struct report *rep)
{
	const char *name = argv[1];
	struct report quiet = { 0 };
	struct keyring *k = NULL;
	json_t *records = NULL, *r;
	size_t i, signed_only = 0;
	int rc, result;

	/* The keys pinned for name, compared with the directory first, as
	 * fetch does: the proofs are checked against them. Quiet, only a
	 * refused key is said. With --pinned (e2e-encrypt, which has just
	 * run fetch), the directory is asked once, not twice. */
	rc = o->pinned ? 0 : directory_fetch(c, name, &k, &result,
	    o->quiet ? &quiet : rep);
	if (rc == E2E_EX_DATAERR && o->quiet)
		report_add(rep, &quiet);
	report_clear(&quiet);
	keyring_close(k);
	k = NULL;
	if (rc != 0 || (rc = directory_keyring_open(c, 0, &k, rep)) != 0)
		goto out;
	if (!keyring_known(k, name)) {
		rc = report_error(rep, E2E_EX_DATAERR, "%s has no key pinned "
		    "in your keyring", name);
		goto out;
	}
	if ((rc = keyring_usable(k, name, rep)) != 0)
		goto out;
	/* Quiet (for e2e-encrypt): the server out of reach is for the
	 * caller to say; a refused proof is said loudly. */
	rc = prekeydir_claim(c, k, name, &records, NULL, NULL, &signed_only,
	    o->quiet ? &quiet : rep);
	if (rc != 0 && o->quiet && (rc == E2E_EX_DATAERR ||
	    rc == E2E_EX_PROTOCOL))
		report_add(rep, &quiet);
	if (rc != 0)
		goto out;
	if (json_array_size(records) == 0 && !o->quiet)
		report_note(rep, "%s has no prekeys: messages to %s are not "
		    "forward secret", name, name);
	else if (signed_only > 0)
		report_note(rep, "%s's one-time prekeys are used up (or this "
		    "account claimed too many): the signed prekey serves, "
		    "forward secret only until it is replaced", name);
	said_so_far(o, rep);
	json_array_foreach(records, i, r)
		if ((rc = client_print(json_incref(r), rep)) != 0)
			break;
out:
	json_decref(records);
	keyring_close(k);
	return rc;
}
