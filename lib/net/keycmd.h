/*
 * keycmd.h - e2e-keys' commands: the key directory and the keyring, each
 * command a function of the client set up for it, the options and the
 * operands, called through the tool's table of commands. What needs no
 * network is keys/keytool.h.
 */
#ifndef E2E_KEYCMD_H
#define E2E_KEYCMD_H

#include "base/passphrase.h"
#include "base/report.h"
#include "net/client.h"

struct keycmd_opts {
	struct client_opts co;
	struct passphrase_src ps;	/* of a protected KEYFILE */
	const char *png;		/* qr: write a PNG here */
	int yes;			/* verify without asking */
	int invert;			/* qr: dark and light swapped */
	int quiet;			/* fetch, claim: nothing said on
					 * success, nor when not signed in
					 * or offline */
	int no_prekeys;			/* publish: no first batch of
					 * prekeys */
	int pinned;			/* claim: the keys pinned, the
					 * directory not asked first */
	size_t count;			/* prekeys: the one-time stock */
	long long signed_max_age;	/* prekeys: replace the signed one
					 * when older (seconds) */
	/* Shows what a command has said so far (e2e-keys: err_print), just
	 * before it writes its output, so that stderr and stdout keep
	 * their order; the report is then emptied. NULL: all of it stays
	 * in the command's report. */
	void (*said)(const struct report *rep);
};

/*
 * Sets up the client for a command (client_start's flags). With 0, for
 * show and verify: with the server when it can be used (my own keys),
 * else without it. With --quiet (fetch, run by e2e-encrypt and
 * e2e-decrypt), that the user is not signed in or there is no network is
 * no news: nothing is said. Returns 0 or an exit code; call client_end
 * either way.
 */
int keycmd_start(struct client *c, const struct keycmd_opts *o, int flags,
    struct report *rep);

/*
 * A command: argv[0] is its name and the operands follow (NULL after
 * the last), as many as the tool's table allows, names checked. Each
 * prints its result as one JSON line (export: the PEM; qr: the code) and
 * returns 0 or an exit code, reported in rep (what was said before the
 * output went through o->said).
 */
typedef int keycmd_fn(struct client *c, const struct keycmd_opts *o,
    char **argv, struct report *rep);

keycmd_fn keycmd_publish;	/* publish [KEYFILE] */
keycmd_fn keycmd_fetch;		/* fetch NAME */
keycmd_fn keycmd_list;		/* list */
keycmd_fn keycmd_show;		/* show NAME */
keycmd_fn keycmd_verify;	/* verify NAME */
keycmd_fn keycmd_accept;	/* accept NAME */
keycmd_fn keycmd_import;	/* import NAME FILE */
keycmd_fn keycmd_export;	/* export NAME */
keycmd_fn keycmd_forget;	/* forget NAME */
keycmd_fn keycmd_withdraw;	/* withdraw KID */
keycmd_fn keycmd_qr;		/* qr [NAME|KEYFILE] */
keycmd_fn keycmd_prekeys;	/* prekeys [KEYFILE] */
keycmd_fn keycmd_claim;		/* claim NAME */

#endif
