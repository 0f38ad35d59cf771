/* account.c - e2e-account's commands (see account.h). */
#include "net/account.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/names.h"
#include "base/passphrase.h"
#include "format/keyfile.h"
#include "net/api.h"
#include "net/prekeydir.h"

#include <stdio.h>
#include <string.h>

/* Prints v (taken) on stdout, after what was said so far: a warning
 * comes out before the line it is about. */
static int
print(struct client *c, json_t *v, struct report *rep)
{
	client_say(c, rep);
	return client_print(v, rep);
}

/* The session as printed: never the token. */
static int
print_session(struct client *c, const struct session *s, int expired,
    struct report *rep)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:I}", "id", s->id, "name",
	    s->name, "server", s->server, "expires_at",
	    (json_int_t)s->expires_at);

	if (o != NULL && expired >= 0 &&
	    json_object_set_new(o, "expired", json_boolean(expired)) != 0) {
		json_decref(o);
		o = NULL;
	}
	return print(c, o, rep);
}

/* Signs in and saves the session, as c's session from now on. */
static int
signin_quietly(struct client *c, const char *name, const char *password,
    struct report *rep)
{
	struct session s;
	int rc;

	if ((rc = api_signin(c, name, password, &s, rep)) == 0 &&
	    (rc = session_save(c->home, &s, rep)) == 0) {
		session_wipe(&c->sess);
		c->sess = s;
		c->have_session = 1;
	}
	session_wipe(&s);
	return rc;
}

static int
signin(struct client *c, const char *name, const char *password,
    struct report *rep)
{
	int rc;

	if ((rc = signin_quietly(c, name, password, rep)) == 0)
		rc = print_session(c, &c->sess, -1, rep);
	return rc;
}

int
account_signup(struct client *c, const struct account_opts *o, char **argv,
    struct report *rep)
{
	const char *name = argv[1], *pwfile = o->pwfile;
	const char *keyfile = o->keyfile;
	const struct passphrase_src *ps = &o->ps;
	char password[PASSPHRASE_MAX], id[ID_LEN + 1], kid[KID_SIZE];
	EVP_PKEY *pk = NULL;
	json_t *one_time = NULL;
	int rc;

	/* The key first: a wrong path must not leave an account behind. The
	 * private key: it signs the proof that its holder publishes it. */
	if (keyfile != NULL &&
	    (rc = keyfile_load_private(keyfile, ps, &pk, rep)) != 0) {
		if (rc == E2E_EX_NOINPUT)
			report_hint(rep, "--key needs your private key: it "
			    "signs the proof that you hold it");
		return rc;
	}
	rc = password_get(pwfile, name, 1, password, rep);
	/* A warning about the files comes before the exchange. */
	client_say(c, rep);
	if (rc != 0) {
		EVP_PKEY_free(pk);
		return rc;
	}
	if ((rc = api_signup(c, name, password, id, rep)) == 0 &&
	    (rc = signin_quietly(c, name, password, rep)) != 0)
		report_hint(rep, "the account %s was created; sign in with: "
		    "e2e-account signin %s", name, name);
	wipe(password, sizeof(password));
	if (rc != 0 || pk == NULL) {
		EVP_PKEY_free(pk);
		return rc != 0 ? rc : print_session(c, &c->sess, -1, rep);
	}
	/* Signed in as the new user: the key goes to the directory, and
	 * a first batch of prekeys (forward secrecy by default), whose
	 * failure is a warning: the key is published. */
	rc = prekeydir_publish_key(c, pk, !o->no_prekeys, kid, &one_time,
	    rep);
	EVP_PKEY_free(pk);
	if (rc != 0) {
		report_hint(rep, "the account was created; publish the key "
		    "with: e2e-keys publish %s", keyfile);
		return rc;
	}
	rc = print(c, json_pack("{s:s,s:s,s:s,s:I,s:s,s:O?}", "id",
	    c->sess.id, "name", c->sess.name, "server", c->sess.server,
	    "expires_at", (json_int_t)c->sess.expires_at, "kid", kid,
	    "prekeys", one_time), rep);
	json_decref(one_time);
	return rc;
}

int
account_signin(struct client *c, const struct account_opts *o, char **argv,
    struct report *rep)
{
	char password[PASSPHRASE_MAX];
	int rc;

	rc = password_get(o->pwfile, argv[1], 0, password, rep);
	client_say(c, rep);
	if (rc == 0)
		rc = signin(c, argv[1], password, rep);
	wipe(password, sizeof(password));
	return rc;
}

/*
 * Ends every session of the account on the server (its tokens are
 * revoked), then forgets this one, whatever the server said: a user who
 * signs out wants no session here. server_rc: whether setting up the
 * connection failed (in rep).
 */
static int
signout(struct client *c, int server_rc, struct report *rep)
{
	char when[64];
	int rc = server_rc, removed, revoked = 0;

	if (!c->have_session) {
		/* Nothing to revoke with (none, or a file refused as unsafe:
		 * forgotten all the same). */
		if ((rc = session_remove(c->home, &removed, rep)) != 0)
			return rc;
		if (removed) {
			report_warn(rep, "the session file could not be used, "
			    "so its token was not revoked on the server");
			report_hint(rep, "to revoke every token of the "
			    "account, sign in and sign out again");
		}
		return print(c, removed ? json_pack("{s:b,s:b}",
		    "signed_out", 1, "revoked", 0) : json_pack("{s:b}",
		    "signed_out", 0), rep);
	}
	if (rc == 0) {
		rc = api_signout(c, rep);
		if (rc == 0) {
			revoked = 1;
		} else if (rc == E2E_EX_NOPERM) {
			/* Expired or revoked already: this token is dead. */
			report_note(rep, "the server no longer accepted this "
			    "session (expired or revoked); other sessions of "
			    "%s were not revoked", c->sess.name);
			rc = 0;
		}
	}
	if (rc != 0) {
		client_time_text(c->sess.expires_at, when, sizeof(when));
		report_warn(rep, "the session is forgotten here, but the "
		    "server did not revoke it: its token works until %s", when);
		report_hint(rep, "to revoke it, sign in and sign out again: "
		    "e2e-account signin %s", c->sess.name);
	}
	if ((server_rc = session_remove(c->home, &removed, rep)) != 0)
		return server_rc;
	if (print(c, json_pack("{s:b,s:b}", "signed_out", 1, "revoked",
	    revoked), rep) != 0 && rc == 0)
		rc = E2E_EX_IOERR;
	return rc;
}

int
account_passwd(struct client *c, const struct account_opts *o, char **argv,
    struct report *rep)
{
	char cur[PASSPHRASE_MAX], fresh[PASSPHRASE_MAX];
	struct session s;
	int rc;

	(void)argv;
	rc = password_change_get(o->pwfile, c->sess.name, cur, fresh, rep);
	client_say(c, rep);
	if (rc != 0)
		return rc;
	rc = api_password(c, cur, fresh, &s, rep);
	wipe(cur, sizeof(cur));
	wipe(fresh, sizeof(fresh));
	if (rc != 0)
		return rc;
	if ((rc = session_save(c->home, &s, rep)) != 0) {
		report_hint(rep, "the password was changed; sign in with the "
		    "new one: e2e-account signin %s", c->sess.name);
		session_wipe(&s);
		return rc;
	}
	rc = print(c, json_pack("{s:s,s:s,s:s,s:I,s:b}", "id", s.id,
	    "name", s.name, "server", s.server, "expires_at",
	    (json_int_t)s.expires_at, "password_changed", 1), rep);
	session_wipe(&s);
	return rc;
}

/* The session was read first, without a server, so that its token goes
 * only to the server it was made for, whatever --server, E2E_SERVER or
 * the config name. */
int
account_signout(struct client *c, const struct account_opts *o, char **argv,
    struct report *rep)
{
	char server[SESSION_URL_MAX + 1];
	struct client_opts co = o->co;
	int rc = 0;

	(void)argv;
	if (c->have_session) {
		memcpy(server, c->sess.server, sizeof(server));
		client_end(c);
		co.server = server;
		/* A failure to set up the connection (in rep) still
		 * forgets the session. */
		rc = client_start(c, &co, CLIENT_REPLACE_SESSION, rep);
	}
	return signout(c, rc, rep);
}

int
account_delete(struct client *c, const struct account_opts *o, char **argv,
    struct report *rep)
{
	char prompt[256 + NAME_LEN_MAX], answer[NAME_LEN_MAX + 2];
	char password[PASSPHRASE_MAX];
	int rc, removed;

	(void)argv;
	if (!o->yes) {
		snprintf(prompt, sizeof(prompt), "Delete the account %s and "
		    "every message waiting for it? Type its name to confirm: ",
		    c->sess.name);
		rc = tty_read_line(prompt, answer, sizeof(answer), rep);
		if (rc == E2E_EX_USAGE) {
			report_error(rep, rc, "no terminal to confirm the "
			    "deletion on");
			report_hint(rep, "add --yes to delete without asking");
			return rc;
		}
		if (rc != 0 || strcmp(answer, c->sess.name) != 0)
			return report_error(rep, E2E_EX_USAGE, "not confirmed; "
			    "nothing deleted");
	}
	/* The password too: a token alone (a stolen session) does not
	 * delete the account. */
	rc = password_get(o->pwfile, c->sess.name, 0, password, rep);
	client_say(c, rep);
	if (rc == 0)
		rc = api_delete_account(c, password, rep);
	wipe(password, sizeof(password));
	if (rc != 0)
		return rc;
	if ((rc = session_remove(c->home, &removed, rep)) != 0)
		return rc;
	return print(c, json_pack("{s:s,s:s,s:b}", "id", c->sess.id,
	    "name", c->sess.name, "deleted", 1), rep);
}

int
account_whoami(struct client *c, const struct account_opts *o, char **argv,
    struct report *rep)
{
	int expired, rc;

	(void)o;
	(void)argv;
	if (!c->have_session) {
		report_error(rep, E2E_EX_NOPERM, "not signed in");
		report_hint(rep, "sign in with: e2e-account signin NAME");
		return E2E_EX_NOPERM;
	}
	expired = session_expired(&c->sess, client_now());
	if ((rc = print_session(c, &c->sess, expired, rep)) != 0)
		return rc;
	if (expired) {
		report_error(rep, E2E_EX_NOPERM, "the session has expired");
		report_hint(rep, "sign in again: e2e-account signin %s",
		    c->sess.name);
		return E2E_EX_NOPERM;
	}
	return 0;
}
