/*
 * e2e-keys - the key directory and your keyring: publish your key, pin
 * your contacts' keys on first use, compare safety numbers, exchange
 * keys by QR code or file.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/cli.h"
#include "base/err.h"
#include "net/client.h"
#include "format/prekeyproof.h"
#include "keys/prekeys.h"
#include "net/keycmd.h"
#include "net/prekeydir.h"

/* The commands: what each takes and needs, and the function that runs
 * it (lib/net/keycmd.h). */
static const struct command {
	const char *name;
	const char *synopsis;	/* its usage line, after "e2e-keys " */
	int min, max;		/* operands */
	int name_first;		/* the first operand is a user name */
	int flags;		/* client_start's (0: the server if it can) */
	keycmd_fn *run;
} commands[] = {
	{ "publish", "[options] publish [KEYFILE] [--no-prekeys]", 0, 1, 0,
	    CLIENT_NEED_SESSION, keycmd_publish },
	{ "fetch", "[options] fetch NAME", 1, 1, 1, CLIENT_NEED_SESSION,
	    keycmd_fetch },
	{ "list", "list", 0, 0, 0, CLIENT_NO_SERVER, keycmd_list },
	{ "show", "[options] show NAME", 1, 1, 1, 0, keycmd_show },
	{ "verify", "[options] verify NAME [--yes]", 1, 1, 1, 0,
	    keycmd_verify },
	{ "accept", "accept NAME", 1, 1, 1, CLIENT_NO_SERVER, keycmd_accept },
	{ "import", "import NAME FILE", 2, 2, 1, CLIENT_NO_SERVER,
	    keycmd_import },
	{ "export", "export NAME", 1, 1, 1, CLIENT_NO_SERVER, keycmd_export },
	{ "forget", "forget NAME", 1, 1, 1, CLIENT_NO_SERVER, keycmd_forget },
	{ "withdraw", "[options] withdraw KID", 1, 1, 0, CLIENT_NEED_SESSION,
	    keycmd_withdraw },
	{ "qr", "qr [NAME|KEYFILE] [--png FILE] [--invert]", 0, 1, 0,
	    CLIENT_NO_SERVER, keycmd_qr },
	{ "prekeys", "[options] prekeys [KEYFILE] [--count N] "
	    "[--signed-max-age DURATION]", 0, 1, 0, CLIENT_NEED_SESSION,
	    keycmd_prekeys },
	{ "claim", "[options] claim NAME [--quiet] [--pinned]", 1, 1, 1,
	    CLIENT_NEED_SESSION, keycmd_claim },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "%s e2e-keys %s\n", i == 0 ? "usage:" : "      ",
		    commands[i].synopsis);
	fprintf(f,
	    "\n"
	    "publish puts the public key of your private key (KEYFILE, else "
	    "the identity\n"
	    "of the config file) in the server's key directory, with a proof, "
	    "signed by\n"
	    "it, that you hold it, and a first batch of prekeys when it has "
	    "none. fetch\n"
	    "gets NAME's keys, checks their proofs, and pins them the first "
	    "time (trust\n"
	    "on first use); when the directory later shows a different key, "
	    "every tool\n"
	    "refuses NAME until you accept it. A key is never pinned for two "
	    "names, nor\n"
	    "yours for a contact. show prints the key ids and the safety "
	    "number, the\n"
	    "same on both sides: compare it in person, then verify. import "
	    "and export\n"
	    "move keys without the server (a PEM file, or the text of a QR "
	    "code); qr\n"
	    "shows one as a QR code.\n"
	    "prekeys publishes prekeys of your key (forward secrecy): a "
	    "first batch, then\n"
	    "tops the stock up when under half and replaces the signed "
	    "prekey weekly.\n"
	    "claim takes one prekey of each of NAME's keys, checks its proof "
	    "against the\n"
	    "pinned key, and prints the records e2e-encrypt --prekey reads.\n"
	    "\n"
	    "      --yes                verify without asking\n"
	    "      --png FILE           qr: write a PNG image instead\n"
	    "      --invert             qr: swap dark and light (for light "
	    "terminals)\n"
	    "      --quiet              fetch, claim: nothing said when not "
	    "signed in or\n"
	    "                           offline; fetch prints nothing on "
	    "success\n"
	    "      --no-prekeys         publish: no first batch of prekeys "
	    "(messages to\n"
	    "                           you not forward secret until some "
	    "are published)\n"
	    "      --pinned             claim: the keys pinned for NAME, "
	    "without asking\n"
	    "                           the directory first (fetch has "
	    "just run)\n"
	    "      --count N            prekeys: one-time prekeys to keep "
	    "(default 100)\n"
	    "      --signed-max-age DURATION\n"
	    "                           prekeys: replace the signed prekey "
	    "when older\n"
	    "                           (default 7d)\n"
	    "      --passphrase-file FILE\n"
	    "                           passphrase of a protected KEYFILE\n"
	    "  -h, --help               show this help\n"
	    "  -V, --version            show the version\n"
	    "\n%s\n%s\n"
	    "Examples:\n"
	    "  e2e-keys publish me.key && e2e-keys fetch bob && e2e-keys show "
	    "bob\n"
	    "  e2e-keys qr; zbarimg --raw bob.png > bob.txt; "
	    "e2e-keys import bob bob.txt\n",
	    client_options_help, client_exit_codes_help);
}

/* The names of the commands, for a usage error. */
/* What a command said, shown before its output. */
static void
show_report(const struct report *r)
{
	err_print(r);
}

static void
command_names(char *out, size_t size)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < NCOMMANDS && n < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%s", i == 0 ? "" :
		    ", ", commands[i].name);
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
		{ "no-prekeys", no_argument, NULL, 'X' },
		{ "pinned", no_argument, NULL, 'K' },
		{ "count", required_argument, NULL, 'n' },
		{ "signed-max-age", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct client_opts co = CLIENT_OPTS_INIT;
	const struct command *cmd;
	struct keycmd_opts o;
	struct report rep = { 0 };
	struct client c;
	char list[128];
	unsigned long long count;
	int ch, rc, seen_P = 0, seen_p = 0, seen_n = 0, seen_m = 0;

	memset(&o, 0, sizeof(o));
	o.co = co;
	o.count = PREKEYS_BATCH;
	o.signed_max_age = PREKEYDIR_SIGNED_MAX_AGE;
	if ((rc = client_tool_start(&o.co, argc, argv, shortopts, longopts,
	    err_print, err_trace, &rep)) != 0)
		return err_print(&rep);
	while ((ch = client_getopt(&o.co, argc, argv, shortopts, longopts,
	    &rep)) != -1) {
		switch (ch) {
		case CLIENT_OPT_FAILED:
			return err_print(&rep);
		case 'P':
			if (cli_once(&seen_P, "--passphrase-file", &rep) != 0)
				return err_print(&rep);
			o.ps.file = optarg;
			break;
		case 'p':
			if (cli_once(&seen_p, "--png", &rep) != 0)
				return err_print(&rep);
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
		case 'X':
			o.no_prekeys = 1;
			break;
		case 'K':
			o.pinned = 1;
			break;
		case 'n':
			if (cli_once(&seen_n, "--count", &rep) != 0 ||
			    cli_parse_number("--count", optarg, 1,
			    PREKEYS_BATCH_MAX, &count, &rep) != 0)
				return err_print(&rep);
			o.count = (size_t)count;
			break;
		case 'm':
			if (cli_once(&seen_m, "--signed-max-age", &rep) != 0 ||
			    cli_parse_duration("--signed-max-age", optarg,
			    PREKEY_SIGNED_MAX_AGE, &o.signed_max_age,
			    &rep) != 0)
				return err_print(&rep);
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
	if (argc == 0) {
		command_names(list, sizeof(list));
		return err_print(cli_usage_error(&rep, "no command (%s)",
		    list));
	}
	for (cmd = commands; cmd < commands + NCOMMANDS; cmd++)
		if (strcmp(argv[0], cmd->name) == 0)
			break;
	if (cmd == commands + NCOMMANDS)
		return err_print(cli_usage_error(&rep, "unknown command %.32s",
		    argv[0]));
	if (argc - 1 < cmd->min || argc - 1 > cmd->max)
		return err_print(cli_usage_error(&rep,
		    "%s: wrong number of arguments",
		    argv[0]));
	if (cmd->name_first && cli_user_name(NULL, argv[1], &rep) != 0)
		return err_print(&rep);
	if ((o.png != NULL || o.invert) && cmd->run != keycmd_qr)
		return err_print(cli_usage_error(&rep,
		    "--png and --invert are for qr only"));
	if (o.yes && cmd->run != keycmd_verify)
		return err_print(cli_usage_error(&rep,
		    "--yes is for verify only"));
	if (o.quiet && cmd->run != keycmd_fetch && cmd->run != keycmd_claim)
		return err_print(cli_usage_error(&rep,
		    "--quiet is for fetch and claim only"));
	if (o.no_prekeys && cmd->run != keycmd_publish)
		return err_print(cli_usage_error(&rep,
		    "--no-prekeys is for publish only"));
	if (o.pinned && cmd->run != keycmd_claim)
		return err_print(cli_usage_error(&rep,
		    "--pinned is for claim only"));
	if ((seen_n || seen_m) && cmd->run != keycmd_prekeys)
		return err_print(cli_usage_error(&rep,
		    "--count and --signed-max-age are for prekeys only"));
	o.ps.label = "your private key";
	o.said = show_report;

	if ((rc = keycmd_start(&c, &o, cmd->flags, &rep)) == 0)
		rc = cmd->run(&c, &o, argv, &rep);
	err_print(&rep);
	client_end(&c);
	return rc;
}
