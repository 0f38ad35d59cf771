/*
 * e2e-keys - the key directory and your keyring: publish your key, pin
 * your contacts' keys on first use, compare safety numbers, exchange
 * keys by QR code or file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cli.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/jsonio.h"
#include "base/names.h"
#include "base/passphrase.h"
#include "base/term.h"
#include "format/keyfile.h"
#include "keys/keyring.h"
#include "keys/qr.h"
#include "keys/safety.h"
#include "net/api.h"
#include "net/client.h"
#include "net/directory.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: e2e-keys [options] publish [KEYFILE]\n"
	    "       e2e-keys [options] fetch NAME\n"
	    "       e2e-keys list\n"
	    "       e2e-keys [options] show NAME\n"
	    "       e2e-keys [options] verify NAME [--yes]\n"
	    "       e2e-keys accept NAME\n"
	    "       e2e-keys import NAME FILE\n"
	    "       e2e-keys export NAME\n"
	    "       e2e-keys forget NAME\n"
	    "       e2e-keys [options] withdraw KID\n"
	    "       e2e-keys qr [NAME|KEYFILE] [--png FILE] [--invert]\n"
	    "\n"
	    "publish puts the public key of your private key (KEYFILE, else "
	    "the identity\n"
	    "of the config file) in the server's key directory, with a proof, "
	    "signed by\n"
	    "it, that you hold it. fetch gets NAME's keys, checks their "
	    "proofs, and pins\n"
	    "them the first time (trust on first use); when the directory "
	    "later shows a\n"
	    "different key, every tool refuses NAME until you accept it. A key "
	    "is never\n"
	    "pinned for two names, nor yours for a contact. show prints the "
	    "key ids\n"
	    "and the safety number, the same on both sides: compare it in "
	    "person, then\n"
	    "verify. import and export move keys without the server (a PEM "
	    "file, or the\n"
	    "text of a QR code); qr shows one as a QR code.\n"
	    "\n"
	    "      --yes                verify without asking\n"
	    "      --png FILE           qr: write a PNG image instead\n"
	    "      --invert             qr: swap dark and light (for light "
	    "terminals)\n"
	    "      --quiet              fetch: print nothing on success\n"
	    "      --passphrase-file FILE\n"
	    "                           passphrase of a protected KEYFILE\n"
	    "  -h, --help               show this help\n"
	    "  -V, --version            show the version\n"
	    "\n%s\n"
	    "Examples:\n"
	    "  e2e-keys publish me.key && e2e-keys fetch bob && e2e-keys show "
	    "bob\n"
	    "  e2e-keys qr --png me.png; zbarimg --raw me.png > bob.txt; "
	    "e2e-keys import me bob.txt\n"
	    "\n%s", client_options_help, client_exit_codes_help);
}

struct opts {
	struct client_opts co;
	struct passphrase_src ps;
	const char *png;
	int yes, invert, quiet;
};

static json_t *
kids_json(const struct keyring_key *v, size_t n)
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

/* The keyring, locked for a change; home from the client set-up; my
 * own key never pinned for a contact. */
static int
open_keyring(struct client *c, int update, struct keyring **k)
{
	return directory_keyring_open(c, update, k);
}

/* The identity key file: the one given, else the config's. */
static int
identity_file(const struct client *c, const char *given, char *path,
    size_t size)
{
	if (given != NULL) {
		snprintf(path, size, "%s", given);
		return 0;
	}
	if (c->cfg.identity != NULL) {
		snprintf(path, size, "%s", c->cfg.identity);
		return 0;
	}
	err_error("no key file given and no identity in %s/config", c->home);
	err_hint("give KEYFILE, or write \"identity = PATH\" in the config "
	    "file");
	return E2E_EX_USAGE;
}

static int
cmd_publish(struct client *c, const struct opts *o, const char *keyfile)
{
	char path[HOME_PATH_MAX], kid[KID_SIZE];
	EVP_PKEY *pk = NULL;
	int rc;

	/* The private key: it signs the proof that its holder publishes
	 * it (a public key file proves nothing). */
	if ((rc = identity_file(c, keyfile, path, sizeof(path))) == 0 &&
	    (rc = keyfile_load_private(path, &o->ps, &pk)) == E2E_EX_NOINPUT)
		err_hint("publish needs your private key: it signs the proof "
		    "that you hold it");
	if (rc == 0)
		rc = directory_publish(c, pk, kid);
	EVP_PKEY_free(pk);
	if (rc != 0)
		return rc;
	return client_print(json_pack("{s:s,s:s,s:b}", "name", c->sess.name,
	    "kid", kid, "published", 1));
}

static const char *const result_names[] = { "", "pinned", "unchanged",
	"changed" };

static int
cmd_fetch(struct client *c, const struct opts *o, const char *name)
{
	struct keyring *k = NULL;
	struct keyring_contact *kc;
	char why[256];
	int rc, result;

	/* Quiet (for e2e-encrypt and e2e-decrypt): that the directory
	 * cannot be asked is no news; a refused key from it is. */
	if (o->quiet)
		err_capture_begin(why, sizeof(why));
	rc = directory_fetch(c, name, &k, &result);
	if (o->quiet) {
		err_capture_end();
		if (rc == E2E_EX_DATAERR && why[0] != '\0')
			err_error("%s", why);
	}
	/* A change is loud, and refused as everywhere else. */
	if (rc == 0 && (rc = keyring_usable(k, name)) < 0)
		rc = 0;
	if (rc == 0 && !o->quiet && (kc = keyring_find(k, name)) != NULL)
		rc = client_print(json_pack("{s:s,s:o,s:s,s:b}", "name", name,
		    "keys", kids_json(kc->keys, kc->nkeys), "status",
		    result_names[result], "verified", kc->verified));
	keyring_close(k);
	return rc;
}

static json_t *
contact_json(const struct keyring_contact *kc)
{
	return json_pack("{s:s,s:o,s:o,s:b,s:b}", "name", kc->name, "keys",
	    kids_json(kc->keys, kc->nkeys), "pending", kids_json(kc->pending,
	    kc->npending), "verified", kc->verified, "changed",
	    kc->npending > 0);
}

/*
 * One key is one person: a keyring made before that rule may pin a key
 * for two names, or my own key for a contact. Such a contact's line
 * says so ("same_key_as": the other names; "my_key": true), and each
 * pair is warned of once.
 */
static json_t *
flagged_json(struct keyring *k, const struct keyring_contact *kc)
{
	json_t *o = contact_json(kc), *same = json_array();
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
				err_warn("key %s is pinned for both %s and %s: "
				    "one of them, or the directory, lied; "
				    "forget the wrong one (e2e-keys forget NAME)",
				    kc->keys[i].kid, kc->name, other);
		}
		if ((mine = keyring_own(k, kc->keys[i].kid, kc->name)) != NULL) {
			my_key = 1;
			err_warn("key %s pinned for %s is your own (%s): forget "
			    "it (e2e-keys forget %s)", kc->keys[i].kid, kc->name,
			    mine, kc->name);
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

static int
cmd_list(struct client *c)
{
	struct keyring *k;
	size_t i;
	int rc;

	if ((rc = open_keyring(c, 0, &k)) != 0)
		return rc;
	for (i = 0; rc == 0 && i < keyring_count(k); i++)
		rc = client_print(flagged_json(k, keyring_at(k, i)));
	keyring_close(k);
	return rc;
}

/*
 * My own key id, for my half of the safety number: my identity's, which
 * this machine holds. Never the directory's word for my keys: a server
 * that lied to both sides could otherwise make the two numbers match.
 * Keys the directory lists for me that are not this one are shown as a
 * warning (another device of mine, or one put there in my name).
 */
static int
my_keys(struct client *c, const struct opts *o, char kids[][KID_SIZE],
    size_t *n)
{
	char path[HOME_PATH_MAX], why[256];
	json_t *arr = NULL, *e;
	const char *kid;
	EVP_PKEY *pk = NULL;
	size_t i;
	int rc;

	*n = 0;
	if ((rc = identity_file(c, NULL, path, sizeof(path))) != 0)
		return rc;
	if ((rc = keyfile_load_public_half(path, &o->ps, &pk)) != 0 ||
	    (rc = jwk_thumbprint(pk, kids[0])) != 0)
		goto out;
	*n = 1;
	if (c->http == NULL)
		goto out;
	err_capture_begin(why, sizeof(why));
	rc = api_keys_get(c, c->sess.name, &arr);
	err_capture_end();
	rc = 0;
	json_array_foreach(arr, i, e) {
		kid = jsonio_str(e, "kid", NULL);
		if (kid != NULL && strcmp(kid, kids[0]) != 0)
			err_warn("the directory lists key %.43s for you too: is "
			    "it one of your devices? (not in the safety number)",
			    kid);
	}
out:
	json_decref(arr);
	EVP_PKEY_free(pk);
	return rc;
}

/* The contact's keys and the safety number, for show and verify. */
static int
show_contact(struct client *c, const struct opts *o, const char *name,
    json_t **out)
{
	char mine[SAFETY_KIDS_MAX][KID_SIZE], number[SAFETY_NUMBER_SIZE];
	const char *a[SAFETY_KIDS_MAX], *b[KEYRING_KEYS_MAX];
	struct keyring *k;
	struct keyring_contact *kc;
	size_t i, nmine;
	json_t *mj;
	int rc;

	*out = NULL;
	if (!c->have_session) {
		err_error("not signed in: your own name is needed for the "
		    "safety number");
		err_hint("sign in: e2e-account signin NAME");
		return E2E_EX_NOPERM;
	}
	if ((rc = open_keyring(c, 0, &k)) != 0)
		return rc;
	if ((kc = keyring_find(k, name)) == NULL || kc->nkeys == 0) {
		err_error("%s is not in your keyring", name);
		err_hint("fetch the keys first: e2e-keys fetch %s", name);
		rc = E2E_EX_DATAERR;
		goto out;
	}
	if ((rc = my_keys(c, o, mine, &nmine)) != 0)
		goto out;
	for (i = 0; i < nmine; i++)
		a[i] = mine[i];
	for (i = 0; i < kc->nkeys; i++)
		b[i] = kc->keys[i].kid;
	if ((rc = safety_number(c->sess.name, a, nmine, name, b,
	    kc->nkeys, number)) != 0)
		goto out;
	mj = json_array();
	for (i = 0; mj != NULL && i < nmine; i++)
		json_array_append_new(mj, json_string(mine[i]));
	*out = contact_json(kc);
	if (*out == NULL || json_object_set_new(*out, "my_keys", mj) != 0 ||
	    json_object_set_new(*out, "safety_number",
	    json_string(number)) != 0) {
		json_decref(*out);
		*out = NULL;
		rc = E2E_EX_SOFTWARE;
	}
out:
	keyring_close(k);
	return rc;
}

static int
cmd_show(struct client *c, const struct opts *o, const char *name)
{
	json_t *j;
	int rc;

	if ((rc = show_contact(c, o, name, &j)) != 0)
		return rc;
	return client_print(j);
}

/* 1 when name's pinned keys are those listed in shown["keys"]. */
static int
same_keys(struct keyring *k, const char *name, const json_t *shown)
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

static int
cmd_verify(struct client *c, const struct opts *o, const char *name)
{
	char answer[16], prompt[256];
	struct keyring *k;
	json_t *j;
	int rc;

	if ((rc = show_contact(c, o, name, &j)) != 0)
		return rc;
	if (!o->yes) {
		/* On the terminal, where the question is asked. */
		snprintf(prompt, sizeof(prompt), "Safety number with %s:\n"
		    "  %s\nIs it the number shown on their side? Type yes or "
		    "no: ", name, json_string_value(json_object_get(j,
		    "safety_number")));
		rc = tty_read_line(prompt, answer, sizeof(answer));
		if (rc == E2E_EX_USAGE) {
			err_error("no terminal to confirm on");
			err_hint("compare the numbers (e2e-keys show %s), then "
			    "add --yes", name);
		} else if (rc == 0 && strcmp(answer, "yes") != 0) {
			err_error("not verified");
			rc = E2E_EX_DATAERR;
		}
		if (rc != 0) {
			json_decref(j);
			return rc;
		}
	}
	if ((rc = open_keyring(c, 1, &k)) != 0) {
		json_decref(j);
		return rc;
	}
	/* Marks the keys that were compared, not others accepted since. */
	if ((rc = keyring_usable(k, name)) == 0 && !same_keys(k, name, j)) {
		err_error("the keys of %s changed while you compared; nothing "
		    "marked", name);
		err_hint("compare again: e2e-keys show %s", name);
		rc = E2E_EX_DATAERR;
	}
	if (rc == 0 && (rc = keyring_verify(k, name, client_now())) == 0)
		rc = keyring_save(k);
	keyring_close(k);
	json_decref(j);
	if (rc != 0)
		return rc;
	return client_print(json_pack("{s:s,s:b}", "name", name, "verified",
	    1));
}

static int
cmd_accept(struct client *c, const char *name)
{
	struct keyring *k;
	struct keyring_contact *kc;
	int rc;

	if ((rc = open_keyring(c, 1, &k)) != 0)
		return rc;
	if ((rc = keyring_accept(k, name, client_now())) == 0 &&
	    (rc = keyring_save(k)) == 0 &&
	    (kc = keyring_find(k, name)) != NULL)
		rc = client_print(contact_json(kc));
	keyring_close(k);
	return rc;
}

/* A key to import: PEM, or the text of an e2e-keys QR code. */
static int
read_import(const char *name, const char *file, struct keyring_key *key,
    EVP_PKEY **pk)
{
	char qname[NAME_LEN_MAX + 1], why[256];
	struct buf b = BUF_INIT, pem = BUF_INIT;
	int rc;

	if ((rc = file_read(file, 64 * 1024, "key file", &b)) != 0)
		return rc;
	if (b.len >= strlen(QR_PREFIX) && (memcmp(b.p, QR_PREFIX,
	    strlen(QR_PREFIX)) == 0 || memcmp(b.p, "QR-Code:", 8) == 0)) {
		if (qr_payload_parse((const char *)b.p, b.len, qname, key->kid,
		    pk, why, sizeof(why)) != 0) {
			err_error("%s: %s", file, why);
			rc = E2E_EX_DATAERR;
			goto out;
		}
		if (qname[0] != '\0' && strcmp(qname, name) != 0) {
			err_error("%s holds the key of %s, not of %s", file,
			    qname, name);
			rc = E2E_EX_DATAERR;
			goto out;
		}
	} else if ((rc = keyfile_parse_public(b.p, b.len, file, pk)) != 0 ||
	    (rc = jwk_thumbprint(*pk, key->kid)) != 0) {
		goto out;
	}
	if ((rc = keyfile_public_pem(*pk, &pem)) != 0 ||
	    (rc = buf_terminate(&pem)) != 0)
		goto out;
	key->pem = (char *)pem.p;
	pem.p = NULL;
out:
	buf_free(&b);
	buf_free(&pem);
	return rc;
}

static int
cmd_import(struct client *c, const char *name, const char *file)
{
	struct keyring_key key;
	struct keyring *k = NULL;
	EVP_PKEY *pk = NULL;
	int rc;

	memset(&key, 0, sizeof(key));
	if ((rc = read_import(name, file, &key, &pk)) != 0 ||
	    (rc = open_keyring(c, 1, &k)) != 0)
		goto out;
	if ((rc = keyring_import(k, name, &key, client_now())) != 0) {
		rc = rc < 0 ? E2E_EX_SOFTWARE : rc;
		goto out;
	}
	if ((rc = keyring_save(k)) == 0)
		rc = client_print(json_pack("{s:s,s:s,s:b}", "name", name,
		    "kid", key.kid, "imported", 1));
out:
	keyring_close(k);
	EVP_PKEY_free(pk);
	free(key.pem);
	return rc;
}

static int
cmd_export(struct client *c, const char *name)
{
	struct keyring *k;
	struct keyring_contact *kc;
	size_t i;
	int rc;

	if ((rc = open_keyring(c, 0, &k)) != 0)
		return rc;
	if ((kc = keyring_find(k, name)) == NULL || kc->nkeys == 0) {
		err_error("%s is not in your keyring", name);
		rc = E2E_EX_DATAERR;
	}
	for (i = 0; rc == 0 && i < kc->nkeys; i++)
		if (fputs(kc->keys[i].pem, stdout) == EOF)
			rc = E2E_EX_IOERR;
	if (rc == 0 && fflush(stdout) == EOF)
		rc = E2E_EX_IOERR;
	if (rc == E2E_EX_IOERR)
		err_errno("cannot write to standard output");
	keyring_close(k);
	return rc;
}

static int
cmd_forget(struct client *c, const char *name)
{
	struct keyring *k;
	int rc;

	if ((rc = open_keyring(c, 1, &k)) != 0)
		return rc;
	if ((rc = keyring_forget(k, name)) == 0 && (rc = keyring_save(k)) == 0)
		rc = client_print(json_pack("{s:s,s:b}", "name", name,
		    "forgotten", 1));
	keyring_close(k);
	return rc;
}

static int
cmd_withdraw(struct client *c, const char *kid)
{
	int rc;

	if (!jwk_is_kid(kid, strlen(kid)))
		return cli_usage_error("withdraw takes a key id (43 base64url "
		    "characters)");
	if ((rc = api_key_delete(c, kid)) != 0)
		return rc;
	return client_print(json_pack("{s:s,s:b}", "kid", kid, "withdrawn",
	    1));
}

/* The key a QR code shows: a contact's, a key file's, or mine. */
static int
qr_key(struct client *c, const struct opts *o, const char *arg,
    EVP_PKEY **pk, const char **name)
{
	char path[HOME_PATH_MAX];
	struct keyring *k;
	struct keyring_contact *kc;
	int rc;

	*name = c->have_session ? c->sess.name : "";
	if (arg != NULL && access(arg, F_OK) != 0 &&
	    name_valid(arg, strlen(arg))) {
		if ((rc = open_keyring(c, 0, &k)) != 0)
			return rc;
		if ((rc = keyring_usable(k, arg)) == 0) {
			kc = keyring_find(k, arg);
			*pk = keyring_key_of(k, arg, kc->keys[0].kid);
			*name = arg;
			rc = *pk ? 0 : E2E_EX_CONFIG;
		} else if (rc < 0) {
			err_error("%s is neither a key file nor a contact",
			    arg);
			rc = E2E_EX_NOINPUT;
		}
		keyring_close(k);
		return rc;
	}
	if ((rc = identity_file(c, arg, path, sizeof(path))) != 0)
		return rc;
	/* Mine: a public key file or my private key's public half. */
	return keyfile_load_public_half(path, &o->ps, pk);
}

/* A code wider than the terminal cannot be scanned: say so. */
static void
warn_if_too_wide(const struct buf *out)
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
		err_warn("the code is %zu columns wide and the terminal %u: it "
		    "cannot be scanned; widen the terminal or use --png FILE",
		    cols, (unsigned)ws.ws_col);
}

static int
cmd_qr(struct client *c, const struct opts *o, const char *arg)
{
	struct buf text = BUF_INIT, out = BUF_INIT;
	struct sink s = sink_buf(&out);
	const char *name;
	EVP_PKEY *pk = NULL;
	int rc;

	if ((rc = qr_key(c, o, arg, &pk, &name)) != 0 ||
	    (rc = qr_payload(name, pk, &text)) != 0)
		goto done;
	if (o->png != NULL) {
		rc = qr_write_png((const char *)text.p, 8, o->png);
	} else if ((rc = qr_render_text((const char *)text.p, 2, o->invert,
	    &s)) == 0) {
		warn_if_too_wide(&out);
		if (fwrite(out.p, 1, out.len, stdout) != out.len ||
		    fflush(stdout) == EOF) {
			err_errno("cannot write to standard output");
			rc = E2E_EX_IOERR;
		}
	}
done:
	EVP_PKEY_free(pk);
	buf_free(&text);
	buf_free(&out);
	return rc;
}

enum { CMD_ARGS_NAME = 1, CMD_ARGS_OPT = 2, CMD_ARGS_NAME_FILE = 3,
	CMD_ARGS_NONE = 4 };

static const struct {
	const char *name;
	int args;
	int flags;
} commands[] = {
	{ "publish", CMD_ARGS_OPT, CLIENT_NEED_SESSION },
	{ "fetch", CMD_ARGS_NAME, CLIENT_NEED_SESSION },
	{ "list", CMD_ARGS_NONE, CLIENT_NO_SERVER },
	{ "show", CMD_ARGS_NAME, 0 },
	{ "verify", CMD_ARGS_NAME, 0 },
	{ "accept", CMD_ARGS_NAME, CLIENT_NO_SERVER },
	{ "import", CMD_ARGS_NAME_FILE, CLIENT_NO_SERVER },
	{ "export", CMD_ARGS_NAME, CLIENT_NO_SERVER },
	{ "forget", CMD_ARGS_NAME, CLIENT_NO_SERVER },
	{ "withdraw", CMD_ARGS_NAME, CLIENT_NEED_SESSION },
	{ "qr", CMD_ARGS_OPT, CLIENT_NO_SERVER },
};

static int
check_args(int cmd, int argc, char **argv)
{
	int args = commands[cmd].args, want;

	want = args == CMD_ARGS_NAME_FILE ? 3 : args == CMD_ARGS_NONE ? 1 : 2;
	if (argc > want || (argc < want && args != CMD_ARGS_OPT))
		return cli_usage_error("%s: wrong number of arguments",
		    argv[0]);
	if ((args == CMD_ARGS_NAME || args == CMD_ARGS_NAME_FILE) &&
	    strcmp(argv[0], "withdraw") != 0)
		return cli_user_name(NULL, argv[1]);
	return 0;
}

/* show and verify use the server when they can (my own keys), without
 * needing it. */
static int
start(struct client *c, const struct opts *o, int flags)
{
	char why[256];
	int rc;

	if (flags != 0)
		return client_start(c, &o->co, flags);
	err_capture_begin(why, sizeof(why));
	rc = client_start(c, &o->co, CLIENT_NEED_SESSION);
	err_capture_end();
	if (rc == 0)
		return 0;
	client_end(c);
	return client_start(c, &o->co, CLIENT_NO_SERVER);
}

int
main(int argc, char **argv)
{
	static const char shortopts[] = ":vhV";
	static const struct option longopts[] = {
		CLIENT_LONGOPTS,
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "png", required_argument, NULL, 'p' },
		{ "invert", no_argument, NULL, 'i' },
		{ "yes", no_argument, NULL, 'y' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o;
	struct client c;
	const char *cmd;
	size_t i;
	int ch, rc, seen_P = 0, seen_p = 0, started = 0;

	cli_start(argv[0]);
	memset(&o, 0, sizeof(o));
	{
		struct client_opts init = CLIENT_OPTS_INIT;

		o.co = init;
	}
	if ((rc = cli_options(argc, argv, shortopts, longopts)) != 0)
		return rc;
	while ((ch = getopt_long(argc, argv, shortopts, longopts,
	    NULL)) != -1) {
		if ((rc = client_option(&o.co, ch, optarg)) == 1)
			continue;
		if (rc != 0)
			return rc;
		switch (ch) {
		case 'P':
			if (cli_once(&seen_P, "--passphrase-file") != 0)
				return E2E_EX_USAGE;
			o.ps.file = optarg;
			break;
		case 'p':
			if (cli_once(&seen_p, "--png") != 0)
				return E2E_EX_USAGE;
			o.png = optarg;
			break;
		case 'i':
			o.invert = 1;
			break;
		case 'y':
			o.yes = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			cli_version();
			return 0;
		default:
			return cli_bad_option(ch, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return cli_usage_error("no command (publish, fetch, list, show, "
		    "verify, accept, import, export, forget, withdraw, qr)");
	cmd = argv[0];
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		return cli_usage_error("unknown command %.32s", cmd);
	if ((rc = check_args((int)i, argc, argv)) != 0)
		return rc;
	if ((o.png != NULL || o.invert) && strcmp(cmd, "qr") != 0)
		return cli_usage_error("--png and --invert are for qr only");
	if (o.yes && strcmp(cmd, "verify") != 0)
		return cli_usage_error("--yes is for verify only");
	if (o.quiet && strcmp(cmd, "fetch") != 0)
		return cli_usage_error("--quiet is for fetch only");
	o.ps.label = "your private key";

	started = 1;
	if (o.quiet) {
		/* Run by e2e-encrypt and e2e-decrypt: not signed in or no
		 * network is no news; only a changed key is said. */
		char why[256];

		err_capture_begin(why, sizeof(why));
		rc = client_start(&c, &o.co, commands[i].flags);
		err_capture_end();
	} else {
		rc = start(&c, &o, commands[i].flags);
	}
	if (rc != 0)
		goto out;
	if (strcmp(cmd, "publish") == 0)
		rc = cmd_publish(&c, &o, argc > 1 ? argv[1] : NULL);
	else if (strcmp(cmd, "fetch") == 0)
		rc = cmd_fetch(&c, &o, argv[1]);
	else if (strcmp(cmd, "list") == 0)
		rc = cmd_list(&c);
	else if (strcmp(cmd, "show") == 0)
		rc = cmd_show(&c, &o, argv[1]);
	else if (strcmp(cmd, "verify") == 0)
		rc = cmd_verify(&c, &o, argv[1]);
	else if (strcmp(cmd, "accept") == 0)
		rc = cmd_accept(&c, argv[1]);
	else if (strcmp(cmd, "import") == 0)
		rc = cmd_import(&c, argv[1], argv[2]);
	else if (strcmp(cmd, "export") == 0)
		rc = cmd_export(&c, argv[1]);
	else if (strcmp(cmd, "forget") == 0)
		rc = cmd_forget(&c, argv[1]);
	else if (strcmp(cmd, "withdraw") == 0)
		rc = cmd_withdraw(&c, argv[1]);
	else
		rc = cmd_qr(&c, &o, argc > 1 ? argv[1] : NULL);
out:
	if (started)
		client_end(&c);
	return rc;
}
