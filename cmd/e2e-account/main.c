/*
 * e2e-account - sign up, sign in and out, delete the account, and say
 * who is signed in.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/cli.h"
#include "base/err.h"
#include "base/names.h"
#include "base/passphrase.h"
#include "format/keyfile.h"
#include "net/api.h"
#include "net/client.h"
#include "net/directory.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: e2e-account [options] signup NAME [--key KEYFILE]\n"
	    "       e2e-account [options] signin NAME\n"
	    "       e2e-account [options] signout\n"
	    "       e2e-account [options] passwd\n"
	    "       e2e-account [options] delete [--yes]\n"
	    "       e2e-account whoami\n"
	    "\n"
	    "Manages your account on an e2e-chat server. signup creates it "
	    "(the\n"
	    "password is asked twice) and signs in; signin saves a session "
	    "(mode 0600)\n"
	    "that e2e-send and e2e-recv use; signout ends every session of the "
	    "account\n"
	    "on the session's own server and forgets this one (forgotten even "
	    "when that\n"
	    "server cannot be reached: then exit 75, and the tokens work until "
	    "they\n"
	    "expire); passwd changes the password, ends every other session "
	    "and saves\n"
	    "the new one; delete removes the account and every message waiting "
	    "for it;\n"
	    "whoami prints the session and whether it has expired (exit 77 when "
	    "it has).\n"
	    "Each prints one JSON line.\n"
	    "\n"
	    "      --password-file FILE read the password from FILE's first "
	    "line\n"
	    "                           (- for standard input); else "
	    "E2E_PASSWORD,\n"
	    "                           else the terminal. There is no "
	    "--password.\n"
	    "                           passwd: the current password on the "
	    "first line,\n"
	    "                           the new one on the second; else the "
	    "terminal\n"
	    "      --yes                delete without asking\n"
	    "      --key KEYFILE        signup: also publish the public key of "
	    "the private\n"
	    "                           key KEYFILE in the key directory, with "
	    "its proof\n"
	    "                           of possession (see e2e-keys)\n"
	    "      --passphrase-file FILE\n"
	    "                           passphrase of a protected KEYFILE\n"
	    "  -h, --help               show this help\n"
	    "  -V, --version            show the version\n"
	    "\n%s\n"
	    "Example:\n"
	    "  e2e-account --server https://chat.example signup alice\n"
	    "\n%s", client_options_help, client_exit_codes_help);
}

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

static int
cmd_signup(struct client *c, const char *name, const char *pwfile,
    const char *keyfile, const struct passphrase_src *ps)
{
	char password[PASSPHRASE_MAX], id[ID_LEN + 1], kid[KID_SIZE];
	EVP_PKEY *pk = NULL;
	int rc;

	/* The key first: a wrong path must not leave an account behind. The
	 * private key: it signs the proof that its holder publishes it. */
	if (keyfile != NULL &&
	    (rc = keyfile_load_private(keyfile, ps, &pk)) != 0) {
		if (rc == E2E_EX_NOINPUT)
			err_hint("--key needs your private key: it signs the "
			    "proof that you hold it");
		return rc;
	}
	if ((rc = password_get(pwfile, name, 1, password)) != 0) {
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
	rc = directory_publish(c, pk, kid);
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

static int
cmd_signin(struct client *c, const char *name, const char *pwfile)
{
	char password[PASSPHRASE_MAX];
	int rc;

	if ((rc = password_get(pwfile, name, 0, password)) == 0)
		rc = signin(c, name, password);
	wipe(password, sizeof(password));
	return rc;
}

static void
utc_text(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, size, "%lld", (long long)t);
}

/*
 * Ends every session of the account on the server (its tokens are
 * revoked), then forgets this one, whatever the server said: a user who
 * signs out wants no session here. Exit 0 when the server revoked them
 * (or had refused the session already); else the failure's code (75
 * when the server cannot be reached), saying what still works.
 */
static int
cmd_signout(struct client *c, int server_rc)
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
			err_hint("to revoke every token of the account, sign in "
			    "and sign out again");
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
		utc_text(c->sess.expires_at, when, sizeof(when));
		err_warn("the session is forgotten here, but the server did not "
		    "revoke it: its token works until %s", when);
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

/* Changes the password; the new session the server gives back replaces
 * this one (every other session of the account has ended). */
static int
cmd_passwd(struct client *c, const char *pwfile)
{
	char cur[PASSPHRASE_MAX], fresh[PASSPHRASE_MAX];
	struct session s;
	int rc;

	if ((rc = password_change_get(pwfile, c->sess.name, cur, fresh)) != 0)
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

/* signout: the session is read first, without a server, so that its
 * token goes only to the server it was made for, whatever --server,
 * E2E_SERVER or the config name. */
static int
signout(struct client_opts *co)
{
	char server[SESSION_URL_MAX + 1];
	struct client c;
	int rc;

	if ((rc = client_start(&c, co, CLIENT_NO_SERVER |
	    CLIENT_REPLACE_SESSION)) != 0) {
		client_end(&c);
		return rc;
	}
	if (c.have_session) {
		memcpy(server, c.sess.server, sizeof(server));
		client_end(&c);
		co->server = server;
		/* A failure to set up the connection (reported) still
		 * forgets the session. */
		rc = client_start(&c, co, CLIENT_REPLACE_SESSION);
	}
	rc = cmd_signout(&c, rc);
	client_end(&c);
	return rc;
}

static int
cmd_delete(struct client *c, int yes)
{
	char prompt[256 + NAME_LEN_MAX], answer[NAME_LEN_MAX + 2];
	int rc, removed;

	if (!yes) {
		snprintf(prompt, sizeof(prompt), "Delete the account %s and "
		    "every message waiting for it? Type its name to confirm: ",
		    c->sess.name);
		rc = tty_read_line(prompt, answer, sizeof(answer));
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

static int
cmd_whoami(struct client *c)
{
	int expired, rc;

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

int
main(int argc, char **argv)
{
	static const char shortopts[] = ":vhV";
	static const struct option longopts[] = {
		CLIENT_LONGOPTS,
		{ "password-file", required_argument, NULL, 'P' },
		{ "key", required_argument, NULL, 'k' },
		{ "passphrase-file", required_argument, NULL, 'Q' },
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct client_opts co = CLIENT_OPTS_INIT;
	struct client c;
	const char *cmd, *pwfile = NULL, *keyfile = NULL;
	struct passphrase_src ps = { NULL, "your private key" };
	int ch, rc, yes = 0, seen_P = 0, seen_k = 0, seen_Q = 0, flags, nargs;

	cli_start(argv[0]);
	if ((rc = cli_options(argc, argv, shortopts, longopts)) != 0)
		return rc;
	while ((ch = getopt_long(argc, argv, shortopts, longopts,
	    NULL)) != -1) {
		if ((rc = client_option(&co, ch, optarg)) == 1)
			continue;
		if (rc != 0)
			return rc;
		switch (ch) {
		case 'P':
			if (cli_once(&seen_P, "--password-file") != 0)
				return E2E_EX_USAGE;
			pwfile = optarg;
			break;
		case 'y':
			yes = 1;
			break;
		case 'k':
			if (cli_once(&seen_k, "--key") != 0)
				return E2E_EX_USAGE;
			keyfile = optarg;
			break;
		case 'Q':
			if (cli_once(&seen_Q, "--passphrase-file") != 0)
				return E2E_EX_USAGE;
			ps.file = optarg;
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
		return cli_usage_error("no command (signup, signin, signout, "
		    "passwd, delete or whoami)");
	cmd = argv[0];
	if (strcmp(cmd, "signup") == 0 || strcmp(cmd, "signin") == 0) {
		nargs = 2;
		flags = CLIENT_CREATE_HOME | CLIENT_REPLACE_SESSION;
	} else if (strcmp(cmd, "delete") == 0) {
		nargs = 1;
		flags = CLIENT_NEED_SESSION;
	} else if (strcmp(cmd, "signout") == 0) {
		nargs = 1;
		flags = CLIENT_REPLACE_SESSION;
	} else if (strcmp(cmd, "passwd") == 0) {
		nargs = 1;
		flags = CLIENT_NEED_SESSION;
	} else if (strcmp(cmd, "whoami") == 0) {
		nargs = 1;
		flags = CLIENT_NO_SERVER;
	} else {
		return cli_usage_error("unknown command %.64s", cmd);
	}
	if (argc != nargs)
		return nargs == 2 ? cli_usage_error("%s needs one NAME", cmd) :
		    cli_usage_error("%s takes no argument", cmd);
	if (nargs == 2 && (rc = cli_user_name(NULL, argv[1])) != 0)
		return rc;
	/* It would read as an option, or a hidden file (the server says
	 * the same). */
	if (strcmp(cmd, "signup") == 0 &&
	    !name_valid_new(argv[1], strlen(argv[1])))
		return cli_usage_error("a new name may not start with '-' or "
		    "'.'");
	if (yes && strcmp(cmd, "delete") != 0)
		return cli_usage_error("--yes is for delete only");
	if ((keyfile != NULL || ps.file != NULL) && strcmp(cmd, "signup") != 0)
		return cli_usage_error("--key and --passphrase-file are for "
		    "signup only");
	if (pwfile != NULL && nargs != 2 && strcmp(cmd, "passwd") != 0)
		return cli_usage_error("--password-file is for signup, signin "
		    "and passwd only");
	if (strcmp(cmd, "signout") == 0)
		return signout(&co);
	if ((rc = client_start(&c, &co, flags)) != 0)
		goto out;
	if (strcmp(cmd, "signup") == 0)
		rc = cmd_signup(&c, argv[1], pwfile, keyfile, &ps);
	else if (strcmp(cmd, "signin") == 0)
		rc = cmd_signin(&c, argv[1], pwfile);
	else if (strcmp(cmd, "passwd") == 0)
		rc = cmd_passwd(&c, pwfile);
	else if (strcmp(cmd, "delete") == 0)
		rc = cmd_delete(&c, yes);
	else
		rc = cmd_whoami(&c);
out:
	client_end(&c);
	return rc;
}
