/* account.c - e2e-account's commands (see account.h). */
#include "net/account.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/names.h"
#include "base/passphrase.h"
#include "format/keyfile.h"
#include "net/api.h"
#include "net/directory.h"

#include <stdio.h>
#include <string.h>

/* The session as printed: never the token. */
static int
print_session(const struct session *s, int expired)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:I}", "id", s->id, "name",
	    s->name, "server", s->server, "expires_at",
	    (json_int_t)s->expires_at);

	if (o != NULL && expired >= 0 &&
	    json_object_set_new(o, "expired", json_boolean(expired)) != 0) {
		json_decref(o);
		o = NULL;
	}
	return client_print(o);
}

/* Signs in and saves the session, as c's session from now on. */
static int
signin_quietly(struct client *c, const char *name, const char *password)
{
	struct session s;
	int rc;

	if ((rc = api_signin(c, name, password, &s)) == 0 &&
	    (rc = session_save(c->home, &s)) == 0) {
		session_wipe(&c->sess);
		c->sess = s;
		c->have_session = 1;
	}
	session_wipe(&s);
	return rc;
}

static int
signin(struct client *c, const char *name, const char *password)
{
	int rc;

	if ((rc = signin_quietly(c, name, password)) == 0)
		rc = print_session(&c->sess, -1);
	return rc;
}

int
account_signup(struct client *c, const struct account_opts *o, char **argv)
{
	const char *name = argv[1], *pwfile = o->pwfile;
	const char *keyfile = o->keyfile;
	const struct passphrase_src *ps = &o->ps;
	char password[PASSPHRASE_MAX], id[ID_LEN + 1], kid[KID_SIZE];
	EVP_PKEY *pk = NULL;
	int rc;

	/* The key first: a wrong path must not leave an account behind. The
	 * private key: it signs the proof that its holder publishes it. */
	if (keyfile != NULL) {
		struct report rep = { 0 };	/* errs: transitional */

		rc = keyfile_load_private(keyfile, ps, &pk, &rep);
		err_print(&rep);
	}
	if (keyfile != NULL && rc != 0) {
		if (rc == E2E_EX_NOINPUT)
			err_hint("--key needs your private key: it signs the "
			    "proof that you hold it");
		return rc;
	}
	{
		struct report rep = { 0 };	/* errs: transitional */

		rc = password_get(pwfile, name, 1, password, &rep);
		err_print(&rep);
	}
	if (rc != 0) {
		EVP_PKEY_free(pk);
		return rc;
	}
	if ((rc = api_signup(c, name, password, id)) == 0 &&
	    (rc = signin_quietly(c, name, password)) != 0)
		err_hint("the account %s was created; sign in with: "
		    "e2e-account signin %s", name, name);
	wipe(password, sizeof(password));
	if (rc != 0 || pk == NULL) {
		EVP_PKEY_free(pk);
		return rc != 0 ? rc : print_session(&c->sess, -1);
	}
	/* Signed in as the new user: the key goes to the directory. */
	{
		struct report rep = { 0 };	/* errs: transitional */

		rc = directory_publish(c, pk, kid, &rep);
		err_print(&rep);
	}
	EVP_PKEY_free(pk);
	if (rc != 0) {
		err_hint("the account was created; publish the key with: "
		    "e2e-keys publish %s", keyfile);
		return rc;
	}
	return client_print(json_pack("{s:s,s:s,s:s,s:I,s:s}", "id",
	    c->sess.id, "name", c->sess.name, "server", c->sess.server,
	    "expires_at", (json_int_t)c->sess.expires_at, "kid", kid));
}

int
account_signin(struct client *c, const struct account_opts *o, char **argv)
{
	char password[PASSPHRASE_MAX];
	int rc;

	struct report rep = { 0 };	/* errs: transitional */

	rc = password_get(o->pwfile, argv[1], 0, password, &rep);
	err_print(&rep);
	if (rc == 0)
		rc = signin(c, argv[1], password);
	wipe(password, sizeof(password));
	return rc;
}

/*
 * Ends every session of the account on the server (its tokens are
 * revoked), then forgets this one, whatever the server said: a user who
 * signs out wants no session here. server_rc: whether setting up the
 * connection failed (reported).
 */
static int
signout(struct client *c, int server_rc)
{
	char when[64];
	int rc = server_rc, removed, revoked = 0;

	if (!c->have_session) {
		/* Nothing to revoke with (none, or a file refused as unsafe:
		 * forgotten all the same). */
		if ((rc = session_remove(c->home, &removed)) != 0)
			return rc;
		if (removed) {
			err_warn("the session file could not be used, so its "
			    "token was not revoked on the server");
			err_hint("to revoke every token of the account, sign "
			    "in and sign out again");
		}
		return client_print(removed ? json_pack("{s:b,s:b}",
		    "signed_out", 1, "revoked", 0) : json_pack("{s:b}",
		    "signed_out", 0));
	}
	if (rc == 0) {
		rc = api_signout(c);
		if (rc == 0) {
			revoked = 1;
		} else if (rc == E2E_EX_NOPERM) {
			/* Expired or revoked already: this token is dead. */
			err_note("the server no longer accepted this session "
			    "(expired or revoked); other sessions of %s were "
			    "not revoked", c->sess.name);
			rc = 0;
		}
	}
	if (rc != 0) {
		client_time_text(c->sess.expires_at, when, sizeof(when));
		err_warn("the session is forgotten here, but the server did "
		    "not revoke it: its token works until %s", when);
		err_hint("to revoke it, sign in and sign out again: "
		    "e2e-account signin %s", c->sess.name);
	}
	if ((server_rc = session_remove(c->home, &removed)) != 0)
		return server_rc;
	if (client_print(json_pack("{s:b,s:b}", "signed_out", 1, "revoked",
	    revoked)) != 0 && rc == 0)
		rc = E2E_EX_IOERR;
	return rc;
}

int
account_passwd(struct client *c, const struct account_opts *o, char **argv)
{
	char cur[PASSPHRASE_MAX], fresh[PASSPHRASE_MAX];
	struct session s;
	int rc;

	(void)argv;
	{
		struct report rep = { 0 };	/* errs: transitional */

		rc = password_change_get(o->pwfile, c->sess.name, cur, fresh,
		    &rep);
		err_print(&rep);
	}
	if (rc != 0)
		return rc;
	rc = api_password(c, cur, fresh, &s);
	wipe(cur, sizeof(cur));
	wipe(fresh, sizeof(fresh));
	if (rc != 0)
		return rc;
	if ((rc = session_save(c->home, &s)) != 0) {
		err_hint("the password was changed; sign in with the new one: "
		    "e2e-account signin %s", c->sess.name);
		session_wipe(&s);
		return rc;
	}
	rc = client_print(json_pack("{s:s,s:s,s:s,s:I,s:b}", "id", s.id,
	    "name", s.name, "server", s.server, "expires_at",
	    (json_int_t)s.expires_at, "password_changed", 1));
	session_wipe(&s);
	return rc;
}

/* The session was read first, without a server, so that its token goes
 * only to the server it was made for, whatever --server, E2E_SERVER or
 * the config name. */
int
account_signout(struct client *c, const struct account_opts *o, char **argv)
{
	char server[SESSION_URL_MAX + 1];
	struct client_opts co = o->co;
	int rc = 0;

	(void)argv;
	if (c->have_session) {
		memcpy(server, c->sess.server, sizeof(server));
		client_end(c);
		co.server = server;
		/* A failure to set up the connection (reported) still
		 * forgets the session. */
		rc = client_start(c, &co, CLIENT_REPLACE_SESSION);
	}
	return signout(c, rc);
}

int
account_delete(struct client *c, const struct account_opts *o, char **argv)
{
	char prompt[256 + NAME_LEN_MAX], answer[NAME_LEN_MAX + 2];
	int rc, removed;

	(void)argv;
	if (!o->yes) {
		snprintf(prompt, sizeof(prompt), "Delete the account %s and "
		    "every message waiting for it? Type its name to confirm: ",
		    c->sess.name);
		struct report rep = { 0 };	/* errs: transitional */

		rc = tty_read_line(prompt, answer, sizeof(answer), &rep);
		err_print(&rep);
		if (rc == E2E_EX_USAGE) {
			err_error("no terminal to confirm the deletion on");
			err_hint("add --yes to delete without asking");
			return E2E_EX_USAGE;
		}
		if (rc != 0 || strcmp(answer, c->sess.name) != 0) {
			err_error("not confirmed; nothing deleted");
			return E2E_EX_USAGE;
		}
	}
	if ((rc = api_delete_account(c)) != 0)
		return rc;
	if ((rc = session_remove(c->home, &removed)) != 0)
		return rc;
	return client_print(json_pack("{s:s,s:s,s:b}", "id", c->sess.id,
	    "name", c->sess.name, "deleted", 1));
}

int
account_whoami(struct client *c, const struct account_opts *o, char **argv)
{
	int expired, rc;

	(void)o;
	(void)argv;
	if (!c->have_session) {
		err_error("not signed in");
		err_hint("sign in with: e2e-account signin NAME");
		return E2E_EX_NOPERM;
	}
	expired = session_expired(&c->sess, client_now());
	if ((rc = print_session(&c->sess, expired)) != 0)
		return rc;
	if (expired) {
		err_error("the session has expired");
		err_hint("sign in again: e2e-account signin %s", c->sess.name);
		return E2E_EX_NOPERM;
	}
	return 0;
}
