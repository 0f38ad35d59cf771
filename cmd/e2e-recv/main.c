/*
 * e2e-recv - print the messages waiting for you, one JSON line each,
 * and acknowledge each only once its line is safely out.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/err.h"
#include "net/client.h"
#include "net/prekeydir.h"
#include "net/receive.h"

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: e2e-recv [--from NAME] [--limit N] [--wait SECONDS] "
	    "[--follow]\n"
	    "                [--peek] [--legacy] [options]\n"
	    "\n"
	    "Prints the messages waiting for the signed-in user, oldest "
	    "first, one\n"
	    "JSON line each: {\"id\",\"from\",\"to\",\"sent_at\",\"message\"}, "
	    "where message\n"
	    "is the envelope (a JSON object; a seed-format message stays a "
	    "string).\n"
	    "A message is acknowledged (deleted on the server) only after its "
	    "line was\n"
	    "written and flushed; the ids printed are remembered, so a crash "
	    "between\n"
	    "the two prints nothing twice. If standard output fails, nothing "
	    "more is\n"
	    "acknowledged (exit 74). No messages: no output, exit 0. That "
	    "guarantee\n"
	    "holds for a file; a pipe's reader that dies loses what was "
	    "written into\n"
	    "the pipe (see docs/CLIENT.md).\n"
	    "\n"
	    "A server that lies stops e2e-recv (exit 76): one that lists again "
	    "only\n"
	    "messages this run already received (repeating itself), a "
	    "message for\n"
	    "another user (neither printed nor acknowledged), an answer over "
	    "--max-answer.\n"
	    "\n"
	    "      --from NAME          only messages from NAME\n"
	    "      --limit N            at most N messages\n"
	    "      --wait SECONDS       when there is none, wait up to SECONDS "
	    "for one\n"
	    "      --follow             keep receiving until interrupted "
	    "(SIGINT,\n"
	    "                           SIGTERM), reconnecting after errors\n"
	    "      --peek               print without acknowledging\n"
	    "      --legacy             use the original route "
	    "(/messages/getmessage,\n"
	    "                           needs --from): the server deletes a "
	    "message as\n"
	    "                           it hands it out, so a crash before "
	    "its line is\n"
	    "                           written loses it, as in the original\n"
	    "  -h, --help               show this help\n"
	    "  -V, --version            show the version\n"
	    "\n%s\n%s\n"
	    "Examples:\n"
	    "  e2e-recv >> inbox.jsonl                  (from cron: nothing "
	    "lost or repeated)\n"
	    "  e2e-recv --follow | e2e-decrypt -i me.key --verify alice.pub\n",
	    client_options_help, client_exit_codes_help);
}

/* A number from 0 to max. */
static int
number(const char *opt, const char *s, unsigned long long max,
    unsigned long long *out, struct report *rep)
{
	if (cli_number(s, 0, max, out) == 0)
		return 0;
	cli_usage_error(rep, "%s takes a number from 0 to %llu", opt, max);
	return E2E_EX_USAGE;
}

int
main(int argc, char **argv)
{
	static const char shortopts[] = ":vhV";
	static const struct option longopts[] = {
		CLIENT_LONGOPTS,
		{ "from", required_argument, NULL, 'f' },
		{ "limit", required_argument, NULL, 'n' },
		{ "wait", required_argument, NULL, 'w' },
		{ "follow", no_argument, NULL, 'F' },
		{ "peek", no_argument, NULL, 'p' },
		{ "legacy", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct client_opts co = CLIENT_OPTS_INIT;
	struct report rep = { 0 };
	struct receive_opts ro;
	struct client c;
	struct sigaction sa;
	unsigned long long n;
	int ch, rc, seen[3] = { 0, 0, 0 };

	memset(&ro, 0, sizeof(ro));
	if ((rc = client_tool_start(&co, argc, argv, shortopts, longopts,
	    err_print, err_trace, &rep)) != 0)
		return err_print(&rep);
	while ((ch = client_getopt(&co, argc, argv, shortopts, longopts,
	    &rep)) != -1) {
		switch (ch) {
		case CLIENT_OPT_FAILED:
			return err_print(&rep);
		case 'f':
			if (cli_once(&seen[0], "--from", &rep) != 0 ||
			    cli_user_name("--from", optarg, &rep) != 0)
				return err_print(&rep);
			ro.from = optarg;
			break;
		case 'n':
			if (cli_once(&seen[1], "--limit", &rep) != 0 ||
			    number("--limit", optarg, 1000000000UL, &n,
			    &rep) != 0)
				return err_print(&rep);
			if (n == 0)
				return err_print(cli_usage_error(&rep,
				    "--limit takes a number "
				    "from 1"));
			ro.limit = (unsigned long)n;
			break;
		case 'w':
			if (cli_once(&seen[2], "--wait", &rep) != 0 ||
			    number("--wait", optarg, 86400, &n, &rep) != 0)
				return err_print(&rep);
			ro.wait_s = (long)n;
			break;
		case 'F':
			ro.follow = 1;
			break;
		case 'p':
			ro.peek = 1;
			break;
		case 'L':
			ro.legacy = 1;
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
	if (optind != argc)
		return err_print(cli_usage_error(&rep,
		    "e2e-recv takes no argument"));
	if (ro.legacy && ro.from == NULL)
		return err_print(cli_usage_error(&rep,
		    "--legacy needs --from NAME: the "
		    "original route asks for one sender"));
	if (ro.legacy && ro.peek)
		return err_print(cli_usage_error(&rep,
		    "--legacy cannot --peek: the original "
		    "route deletes what it hands out"));
	if (ro.follow && ro.wait_s > 0)
		return err_print(cli_usage_error(&rep,
		    "--follow already waits; drop --wait"));

	/* Stop between messages, never in the middle of one. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	ro.stop = co.stop = &stop;

	/* A prekeys = that is neither yes nor no is refused as the other
	 * bad values of the config are (78), not left for the top-up to
	 * drop quietly. */
	if ((rc = client_start(&c, &co, CLIENT_NEED_SESSION, &rep)) == 0 &&
	    prekeydir_wanted(&c, &rep) < 0)
		rc = E2E_EX_CONFIG;
	if (rc == 0) {
		/* What the set-up said comes before the messages. */
		err_print(&rep);
		report_clear(&rep);
		/* The prekey stock topped up when low, once a run, quietly
		 * (before a --follow, which ends only when stopped). */
		if (ro.follow)
			(void)prekeydir_refill(&c);
		rc = receive_run(&c, &ro, &rep);
		if (rc == 0 && !ro.follow)
			(void)prekeydir_refill(&c);
	}
	client_end(&c);
	err_print(&rep);
	return rc;
}
