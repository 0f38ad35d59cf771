/*
 * e2e-account - sign up, sign in and out, delete the account, and say
 * who is signed in.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/cli.h"
#include "base/err.h"
#include "base/names.h"
#include "net/account.h"
#include "net/client.h"

/* The commands: what each takes and needs, and the function that runs
 * it (lib/net/account.h). */
static const struct command {
	const char *name;
	int takes_name;		/* one operand: a user name */
	int flags;		/* client_start's */
	account_fn *run;
} commands[] = {
	{ "signup", 1, CLIENT_CREATE_HOME | CLIENT_REPLACE_SESSION,
	    account_signup },
	{ "signin", 1, CLIENT_CREATE_HOME | CLIENT_REPLACE_SESSION,
	    account_signin },
	/* Without a server: the session's own is used. */
	{ "signout", 0, CLIENT_NO_SERVER | CLIENT_REPLACE_SESSION,
	    account_signout },
	{ "passwd", 0, CLIENT_NEED_SESSION, account_passwd },
	{ "delete", 0, CLIENT_NEED_SESSION, account_delete },
	{ "whoami", 0, CLIENT_NO_SERVER, account_whoami },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: e2e-account [options] signup NAME [--key KEYFILE "
	    "[--no-prekeys]]\n"
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
	    "for it\n"
	    "(the password asked, as signin does);\n"
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
	    "                           of possession (see e2e-keys), and a "
	    "first batch\n"
	    "                           of prekeys (forward secrecy)\n"
	    "      --no-prekeys         signup --key: publish no prekeys\n"
	    "      --passphrase-file FILE\n"
	    "                           passphrase of a protected KEYFILE\n"
	    "  -h, --help               show this help\n"
	    "  -V, --version            show the version\n"
	    "\n%s\n%s\n"
	    "Example:\n"
	    "  e2e-account --server https://chat.example signup alice\n",
	    client_options_help, client_exit_codes_help);
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
		{ "no-prekeys", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct client_opts co = CLIENT_OPTS_INIT;
	const struct command *cmd;
	struct account_opts o;
	struct report rep = { 0 };
	struct client c;
	int ch, rc, seen_P = 0, seen_k = 0, seen_Q = 0;

	memset(&o, 0, sizeof(o));
	o.co = co;
	o.ps.label = "your private key";
	if ((rc = client_tool_start(&o.co, argc, argv, shortopts, longopts,
	    err_print, err_trace, &rep)) != 0)
		return err_print(&rep);
	while ((ch = client_getopt(&o.co, argc, argv, shortopts, longopts,
	    &rep)) != -1) {
		switch (ch) {
		case CLIENT_OPT_FAILED:
			return err_print(&rep);
		case 'P':
			if (cli_once(&seen_P, "--password-file", &rep) != 0)
				return err_print(&rep);
			o.pwfile = optarg;
			break;
		case 'y':
			o.yes = 1;
			break;
		case 'N':
			o.no_prekeys = 1;
			break;
		case 'k':
			if (cli_once(&seen_k, "--key", &rep) != 0)
				return err_print(&rep);
			o.keyfile = optarg;
			break;
		case 'Q':
			if (cli_once(&seen_Q, "--passphrase-file", &rep) != 0)
				return err_print(&rep);
			o.ps.file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			cli_version();
			return 0;
		default:
			cli_bad_option(ch, argv, &rep);
			return err_print(&rep);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return err_print(cli_usage_error(&rep,
		    "no command (signup, signin, signout, "
		    "passwd, delete or whoami)"));
	for (cmd = commands; cmd < commands + NCOMMANDS; cmd++)
		if (strcmp(argv[0], cmd->name) == 0)
			break;
	if (cmd == commands + NCOMMANDS)
		return err_print(cli_usage_error(&rep, "unknown command %.64s",
		    argv[0]));
	if (argc != 1 + cmd->takes_name)
		return cmd->takes_name ? err_print(cli_usage_error(&rep,
		    "%s needs one NAME",
		    argv[0])) : err_print(cli_usage_error(&rep,
		    "%s takes no argument", argv[0]));
	if (cmd->takes_name && (rc = cli_user_name(NULL, argv[1], &rep)) != 0)
		return err_print(&rep);
	/* It would read as an option, or a hidden file (the server says
	 * the same). */
	if (cmd->run == account_signup &&
	    !name_valid_new(argv[1], strlen(argv[1])))
		return err_print(cli_usage_error(&rep,
		    "a new name may not start with '-' or "
		    "'.'"));
	if (o.yes && cmd->run != account_delete)
		return err_print(cli_usage_error(&rep,
		    "--yes is for delete only"));
	if ((o.keyfile != NULL || o.ps.file != NULL) &&
	    cmd->run != account_signup)
		return err_print(cli_usage_error(&rep,
		    "--key and --passphrase-file are for "
		    "signup only"));
	if (o.no_prekeys && o.keyfile == NULL)
		return err_print(cli_usage_error(&rep,
		    "--no-prekeys is for signup --key only"));
	if (o.pwfile != NULL && !cmd->takes_name &&
	    cmd->run != account_passwd && cmd->run != account_delete)
		return err_print(cli_usage_error(&rep,
		    "--password-file is for signup, signin, "
		    "passwd and delete only"));
	if ((rc = client_start(&c, &o.co, cmd->flags, &rep)) == 0) {
		/* What the set-up said comes before the command's output. */
		err_print(&rep);
		report_clear(&rep);
		rc = cmd->run(&c, &o, argv, &rep);
	}
	client_end(&c);
	err_print(&rep);
	return rc;
}
