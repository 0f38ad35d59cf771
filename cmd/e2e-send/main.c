/*
 * e2e-send - send one envelope (from e2e-encrypt) to a user.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/names.h"
#include "format/detect.h"
#include "net/api.h"
#include "net/client.h"

#define SEND_DEFAULT_MAX ((size_t)64 << 20)

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: e2e-send --to NAME [--legacy] [--max-size SIZE] [options] "
	    "[FILE]\n"
	    "\n"
	    "Sends one envelope (a JWE from e2e-encrypt, or a seed-format "
	    "message)\n"
	    "from FILE or standard input to NAME, as the signed-in user, and "
	    "prints\n"
	    "{\"id\":...,\"to\":...}. Anything that is not an envelope is "
	    "refused, so\n"
	    "plaintext is never sent by mistake.\n"
	    "\n"
	    "      --to NAME            the recipient\n"
	    "      --legacy             use the original route "
	    "(/messages/sendmessage,\n"
	    "                           a form body), as the original client\n"
	    "      --max-size SIZE      refuse a larger input (default 64M)\n"
	    "  -h, --help               show this help\n"
	    "  -V, --version            show the version\n"
	    "\n%s\n%s\n"
	    "Example:\n"
	    "  echo hi | e2e-encrypt -r bob.pub -s me.key | e2e-send --to "
	    "bob\n",
	    client_options_help, client_exit_codes_help);
}

int
main(int argc, char **argv)
{
	static const char shortopts[] = ":vhV";
	static const struct option longopts[] = {
		CLIENT_LONGOPTS,
		{ "to", required_argument, NULL, 't' },
		{ "legacy", no_argument, NULL, 'L' },
		{ "max-size", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct client_opts co = CLIENT_OPTS_INIT;
	struct report rep = { 0 };
	struct report why = { 0 };	/* what detect_envelope says */
	struct client c;
	struct buf in = BUF_INIT;
	const char *to = NULL;
	char id[ID_LEN + 1];
	size_t max = SEND_DEFAULT_MAX, len;
	int ch, rc, legacy = 0, seen_t = 0, seen_M = 0, started = 0;

	if ((rc = client_tool_start(&co, argc, argv, shortopts, longopts,
	    err_print, err_trace, &rep)) != 0)
		return err_print(&rep);
	while ((ch = client_getopt(&co, argc, argv, shortopts, longopts,
	    &rep)) != -1) {
		switch (ch) {
		case CLIENT_OPT_FAILED:
			return err_print(&rep);
		case 't':
			if (cli_once(&seen_t, "--to", &rep) != 0)
				return err_print(&rep);
			to = optarg;
			break;
		case 'L':
			legacy = 1;
			break;
		case 'M':
			if (cli_max_size(&seen_M, optarg, &max, &rep) != 0)
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
	if (argc > 1)
		return err_print(cli_usage_error(&rep,
		    "more than one input FILE"));
	if (to == NULL)
		return err_print(cli_usage_error(&rep,
		    "no recipient: give --to NAME"));
	if (cli_user_name(NULL, to, &rep) != 0)
		return err_print(&rep);
	/* Signed in before the input is read: a pipe from e2e-encrypt is
	 * not drained for nothing. */
	started = 1;
	if ((rc = client_start(&c, &co, CLIENT_NEED_SESSION, &rep)) != 0)
		goto out;
	/* What the set-up said comes before the rest. */
	err_print(&rep);
	report_clear(&rep);
	if ((rc = file_read(argc == 1 ? argv[0] : NULL, max, "input",
	    &in, &rep)) != 0)
		goto out;
	len = in.len;
	if (detect_envelope((const char *)in.p, len, &why) ==
	    ENVELOPE_NONE) {
		err_error("the input is not an envelope (%s); nothing sent",
		    report_message(&why));
		err_hint("encrypt it first: e2e-encrypt -r PUBKEY | e2e-send "
		    "--to %s", to);
		rc = E2E_EX_DATAERR;
		goto out;
	}
	/* The envelope's line, as the server keeps it: no final newline. */
	while (len > 0 && (in.p[len - 1] == '\n' || in.p[len - 1] == '\r'))
		len--;
	if ((rc = api_send(&c, to, (const char *)in.p, len, legacy, id,
	    &rep)) != 0)
		goto out;
	rc = client_print(json_pack("{s:s,s:s}", "id", id, "to", to), &rep);
out:
	if (started)
		client_end(&c);
	err_print(&rep);
	buf_free(&in);
	return rc;
}
