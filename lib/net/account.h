/*
 * account.h - e2e-account's commands: sign up, sign in and out, change
 * the password, delete the account, say who is signed in. Each is a
 * function of the client set up for it, the options and the operands,
 * called through the tool's table of commands; each prints one JSON
 * line.
 */
#ifndef E2E_ACCOUNT_H
#define E2E_ACCOUNT_H

#include "base/passphrase.h"
#include "net/client.h"

struct account_opts {
	struct client_opts co;
	const char *pwfile;		/* --password-file, or NULL */
	const char *keyfile;		/* signup --key, or NULL */
	struct passphrase_src ps;	/* of KEYFILE */
	int yes;			/* delete without asking */
	int no_prekeys;			/* signup --key: no first batch of
					 * prekeys */
};

/* A command: argv[0] is its name, argv[1] its NAME when it takes one
 * (checked). Returns 0 or an exit code (in rep); what is said before a
 * line on stdout is shown before it (client_say). */
typedef int account_fn(struct client *c, const struct account_opts *o,
    char **argv, struct report *rep);

/* signup NAME: creates the account (the password asked twice), signs
 * in, and with --key publishes the key; the key is read first, so that
 * a wrong path leaves no account behind. */
account_fn account_signup;
account_fn account_signin;	/* signin NAME: saves the session */
/*
 * signout, with c set up without a server (CLIENT_NO_SERVER): ends
 * every session of the account on the session's own server (whatever
 * --server, E2E_SERVER or the config say: its token goes nowhere else),
 * then forgets this one whatever the server said. 0 when the server
 * revoked them (or had refused the session already); else the
 * failure's code (75 when the server cannot be reached), saying what
 * still works.
 */
account_fn account_signout;
/* passwd: changes the password; the new session the server gives back
 * replaces this one (every other session has ended). */
account_fn account_passwd;
/* delete: asks for the name, unless --yes, then the password (as
 * signin does); the server checks it as a sign-in. */
account_fn account_delete;
account_fn account_whoami;	/* whoami: 77 when not signed in or expired */

#endif
