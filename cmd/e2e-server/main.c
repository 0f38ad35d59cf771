/*
 * e2e-server - the e2e-chat server: accounts, tokens, and a mailbox of
 * encrypted messages it cannot read, on an embedded SQLite database.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/err.h"
#include "format/crypto.h"
#include "format/keyproof.h"
#include "server/server.h"

/* --trusted-proxy and --metrics-allow, each. */
#define NETS_MAX 64

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: e2e-server [--listen ADDRESS:PORT] [--db PATH] "
	    "[--secret-file FILE]\n"
	    "                  [--token-ttl SECONDS] [--bcrypt-cost N] "
	    "[--max-message SIZE]\n"
	    "                  [options]\n"
	    "\n"
	    "Serves the e2e-chat HTTP API from an SQLite database, created with "
	    "its schema\n"
	    "on first start. With port 0, prints the port it got on standard "
	    "output.\n"
	    "SIGTERM or SIGINT shut it down cleanly.\n"
	    "\n"
	    "  --listen ADDRESS:PORT    where to listen (default "
	    "127.0.0.1:8080; an IPv6\n"
	    "                           address in brackets: [::1]:0)\n"
	    "  --db PATH                the database (default ./e2e-server.db)\n"
	    "  --secret-file FILE       the token secret: the file's bytes, at "
	    "least 32\n"
	    "                           (default: made on first start and kept "
	    "in the database)\n"
	    "  --token-ttl SECONDS      token lifetime (default 86400)\n"
	    "  --bcrypt-cost N          4 to 31 (default 12)\n"
	    "  --max-message SIZE       largest send body (default 4M)\n"
	    "  --signin-limit N         failed sign-ins per name and address "
	    "before they\n"
	    "                           back off (default 5)\n"
	    "  --signin-backoff SECONDS the first wait after those, doubled "
	    "after each\n"
	    "                           further failure, at most "
	    "--limit-window (default 1)\n"
	    "  --signin-addr-limit N    failed sign-ins per address per window, "
	    "over all\n"
	    "                           names (default 50)\n"
	    "  --signin-account-rate N  successful sign-ins per account per "
	    "hour, in\n"
	    "                           bursts of as many (default 30)\n"
	    "  --signin-addr-rate N     successful sign-ins per address per "
	    "hour, in\n"
	    "                           bursts of as many (default 600)\n"
	    "  --bcrypt-workers N       threads checking passwords (default: "
	    "one per core)\n"
	    "  --signin-queue N         sign-ins and sign-ups waiting for them, "
	    "at most\n"
	    "                           (default 64; an address may fill a "
	    "quarter)\n"
	    "  --min-password BYTES     shortest new password (default 10)\n"
	    "  --signup-limit N         sign-ups per address per window "
	    "(default 100)\n"
	    "  --limit-window SECONDS   the window of those limits (default "
	    "900)\n"
	    "  --send-rate N            sends per account per second "
	    "(default 20)\n"
	    "  --send-burst N           sends per account at once (default "
	    "200)\n"
	    "  --mailbox-max-messages N messages a mailbox holds, at most "
	    "(default 10000)\n"
	    "  --mailbox-max-bytes SIZE bytes of messages a mailbox holds, at "
	    "most\n"
	    "                           (default 256M)\n"
	    "  --max-answer-bytes SIZE  a list of messages stops before this "
	    "much JSON\n"
	    "                           (default 8M; at least one message is "
	    "sent)\n"
	    "  --max-connections N      (default 16384)\n"
	    "  --max-per-ip N           connections, and requests at once, per "
	    "client address\n"
	    "                           (an IPv6 client's /64) (default 256)\n"
	    "  --timeout SECONDS        an idle connection is closed (default "
	    "60)\n"
	    "  --threads N              connection threads (default 2)\n"
	    "  --max-wait SECONDS       longest long-poll (default 60)\n"
	    "  --max-body-memory SIZE   request bodies held at once, all "
	    "clients (default\n"
	    "                           256M): three quarters for signed-in "
	    "senders, a quarter\n"
	    "                           for uploads without a token header; "
	    "over it, 503\n"
	    "  --linger SECONDS         after an early answer (413, 403), read "
	    "and discard\n"
	    "                           what the client still sends for up to "
	    "this long\n"
	    "                           (default 5; 0: close at once)\n"
	    "  --trusted-proxy ADDR[/PREFIX]\n"
	    "                           a reverse proxy whose X-Forwarded-For "
	    "or X-Real-IP\n"
	    "                           names the client (repeatable; default: "
	    "none, the\n"
	    "                           headers are ignored)\n"
	    "  --metrics-allow ADDR[/PREFIX]\n"
	    "                           may read /metrics, beside loopback "
	    "(repeatable)\n"
	    "  --quiet                  no request log on standard error\n"
	    "  --public-url URL         the URL clients use, which key proofs "
	    "name\n"
	    "                           (default http://ADDRESS:PORT bound; "
	    "set it behind\n"
	    "                           a proxy or TLS terminator)\n"
	    "  --name-quarantine DURATION\n"
	    "                           how long a deleted account's name and "
	    "keys cannot\n"
	    "                           be taken: seconds, or 30d, 12h, 10m, "
	    "5s (default 30d)\n"
	    "  --check-names            print the groups of existing names "
	    "that look alike\n"
	    "                           (one line each) and exit\n"
	    "  --import-users FILE      first, an original E2E Chat server's "
	    "users\n"
	    "                           (mongoexport JSON lines; see "
	    "docs/COMPAT.md)\n"
	    "  --import-messages FILE   then its waiting messages (the same)\n"
	    "  -h, --help               show this help\n"
	    "  -V, --version            show the version\n"
	    "\n%s", err_exit_codes_help);
}

static int
number(const char *opt, const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || errno != 0 || *end != '\0' ||
	    *out < min || *out > max)
		return cli_usage_error("%s needs a number from %lu to %lu", opt,
		    min, max);
	return 0;
}

int
main(int argc, char **argv)
{
	enum { O_LISTEN = 256, O_DB, O_SECRET, O_TTL, O_COST, O_MAXMSG,
	    O_SIGNIN, O_SIGNIN_ADDR, O_SIGNUP, O_WINDOW, O_MAXCONN, O_PERIP,
	    O_TIMEOUT, O_THREADS, O_MAXWAIT, O_BACKOFF, O_ACCOUNT_RATE,
	    O_ADDR_RATE, O_WORKERS, O_QUEUE, O_MINPW, O_MBOX_MSGS, O_MBOX_BYTES,
	    O_SEND_RATE, O_SEND_BURST, O_ANSWER, O_QUIET, O_IMPORT_USERS,
	    O_IMPORT_MESSAGES, O_BODYMEM, O_LINGER, O_TRUSTED, O_METRICS_ALLOW };
	enum { O_PUBLIC_URL = 512, O_QUARANTINE, O_CHECK_NAMES };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "db", required_argument, NULL, O_DB },
		{ "secret-file", required_argument, NULL, O_SECRET },
		{ "token-ttl", required_argument, NULL, O_TTL },
		{ "bcrypt-cost", required_argument, NULL, O_COST },
		{ "max-message", required_argument, NULL, O_MAXMSG },
		{ "signin-limit", required_argument, NULL, O_SIGNIN },
		{ "signin-addr-limit", required_argument, NULL, O_SIGNIN_ADDR },
		{ "signup-limit", required_argument, NULL, O_SIGNUP },
		{ "limit-window", required_argument, NULL, O_WINDOW },
		{ "max-connections", required_argument, NULL, O_MAXCONN },
		{ "max-per-ip", required_argument, NULL, O_PERIP },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "max-wait", required_argument, NULL, O_MAXWAIT },
		{ "signin-backoff", required_argument, NULL, O_BACKOFF },
		{ "signin-account-rate", required_argument, NULL,
		    O_ACCOUNT_RATE },
		{ "signin-addr-rate", required_argument, NULL, O_ADDR_RATE },
		{ "bcrypt-workers", required_argument, NULL, O_WORKERS },
		{ "signin-queue", required_argument, NULL, O_QUEUE },
		{ "min-password", required_argument, NULL, O_MINPW },
		{ "mailbox-max-messages", required_argument, NULL,
		    O_MBOX_MSGS },
		{ "mailbox-max-bytes", required_argument, NULL, O_MBOX_BYTES },
		{ "send-rate", required_argument, NULL, O_SEND_RATE },
		{ "send-burst", required_argument, NULL, O_SEND_BURST },
		{ "max-answer-bytes", required_argument, NULL, O_ANSWER },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "public-url", required_argument, NULL, O_PUBLIC_URL },
		{ "name-quarantine", required_argument, NULL, O_QUARANTINE },
		{ "check-names", no_argument, NULL, O_CHECK_NAMES },
		{ "import-users", required_argument, NULL, O_IMPORT_USERS },
		{ "import-messages", required_argument, NULL,
		    O_IMPORT_MESSAGES },
		{ "max-body-memory", required_argument, NULL, O_BODYMEM },
		{ "linger", required_argument, NULL, O_LINGER },
		{ "trusted-proxy", required_argument, NULL, O_TRUSTED },
		{ "metrics-allow", required_argument, NULL, O_METRICS_ALLOW },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct server_config c;
	unsigned long n;
	long long d;
	char url[KEYPROOF_URL_MAX];
	int check_names = 0, seen_url = 0, seen_quarantine = 0;
	int ch, rc, seen[O_LINGER - O_LISTEN + 1];
	static const char *const names[] = { "--listen", "--db",
		"--secret-file", "--token-ttl", "--bcrypt-cost", "--max-message",
		"--signin-limit", "--signin-addr-limit", "--signup-limit",
		"--limit-window", "--max-connections", "--max-per-ip",
		"--timeout", "--threads", "--max-wait", "--signin-backoff",
		"--signin-account-rate", "--signin-addr-rate",
		"--bcrypt-workers", "--signin-queue", "--min-password",
		"--mailbox-max-messages", "--mailbox-max-bytes", "--send-rate",
		"--send-burst", "--max-answer-bytes", "--quiet",
		"--import-users", "--import-messages", "--max-body-memory",
		"--linger" };
	/* The repeatable ones point into argv. */
	static const char *trusted[NETS_MAX], *allow[NETS_MAX];
	size_t ntrusted = 0, nallow = 0;

	cli_start(argv[0]);
	server_config_defaults(&c);
	memset(seen, 0, sizeof(seen));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
		n = 0;
		/* Each option once (STYLE.md 4). */
		if (ch >= O_LISTEN && ch <= O_LINGER &&
		    cli_once(&seen[ch - O_LISTEN], names[ch - O_LISTEN]) != 0)
			return E2E_EX_USAGE;
		switch (ch) {
		case O_LISTEN:
			c.listen = optarg;
			break;
		case O_DB:
			c.db = optarg;
			break;
		case O_SECRET:
			c.secret_file = optarg;
			break;
		case O_TTL:
			if (number("--token-ttl", optarg, 1, 365UL * 86400,
			    &n) != 0)
				return E2E_EX_USAGE;
			c.token_ttl = (int64_t)n;
			break;
		case O_COST:
			if (number("--bcrypt-cost", optarg, 4, 31, &n) != 0)
				return E2E_EX_USAGE;
			c.bcrypt_cost = (unsigned)n;
			break;
		case O_MAXMSG:
			if (cli_parse_size("--max-message", optarg,
			    &c.max_message) != 0)
				return E2E_EX_USAGE;
			if (c.max_message > (size_t)1 << 30)
				return cli_usage_error("--max-message is at "
				    "most 1G");
			break;
		case O_SIGNIN:
			if (number("--signin-limit", optarg, 1, 1000000, &n) != 0)
				return E2E_EX_USAGE;
			c.signin_name_limit = (unsigned)n;
			break;
		case O_SIGNIN_ADDR:
			if (number("--signin-addr-limit", optarg, 1, 1000000,
			    &n) != 0)
				return E2E_EX_USAGE;
			c.signin_addr_limit = (unsigned)n;
			break;
		case O_SIGNUP:
			if (number("--signup-limit", optarg, 1, 1000000, &n) != 0)
				return E2E_EX_USAGE;
			c.signup_addr_limit = (unsigned)n;
			break;
		case O_WINDOW:
			if (number("--limit-window", optarg, 1, 86400, &n) != 0)
				return E2E_EX_USAGE;
			c.limit_window = (unsigned)n;
			break;
		case O_MAXCONN:
			if (number("--max-connections", optarg, 1, 1000000,
			    &n) != 0)
				return E2E_EX_USAGE;
			c.max_connections = (unsigned)n;
			break;
		case O_PERIP:
			if (number("--max-per-ip", optarg, 1, 1000000, &n) != 0)
				return E2E_EX_USAGE;
			c.max_per_ip = (unsigned)n;
			break;
		case O_TIMEOUT:
			if (number("--timeout", optarg, 1, 3600, &n) != 0)
				return E2E_EX_USAGE;
			c.conn_timeout = (unsigned)n;
			break;
		case O_THREADS:
			if (number("--threads", optarg, 1, 64, &n) != 0)
				return E2E_EX_USAGE;
			c.threads = (unsigned)n;
			break;
		case O_MAXWAIT:
			if (number("--max-wait", optarg, 0, 3600, &n) != 0)
				return E2E_EX_USAGE;
			c.max_wait = (unsigned)n;
			break;
		case O_BACKOFF:
			if (number("--signin-backoff", optarg, 1, 86400, &n) != 0)
				return E2E_EX_USAGE;
			c.signin_backoff = (unsigned)n;
			break;
		case O_ACCOUNT_RATE:
			if (number("--signin-account-rate", optarg, 1, 1000000,
			    &n) != 0)
				return E2E_EX_USAGE;
			c.signin_account_rate = (unsigned)n;
			break;
		case O_ADDR_RATE:
			if (number("--signin-addr-rate", optarg, 1, 1000000,
			    &n) != 0)
				return E2E_EX_USAGE;
			c.signin_addr_rate = (unsigned)n;
			break;
		case O_WORKERS:
			if (number("--bcrypt-workers", optarg, 1, 64, &n) != 0)
				return E2E_EX_USAGE;
			c.bcrypt_workers = (unsigned)n;
			break;
		case O_QUEUE:
			if (number("--signin-queue", optarg, 1, 100000, &n) != 0)
				return E2E_EX_USAGE;
			c.signin_queue = (unsigned)n;
			break;
		case O_MINPW:
			if (number("--min-password", optarg, 1, 1024, &n) != 0)
				return E2E_EX_USAGE;
			c.min_password = n;
			break;
		case O_MBOX_MSGS:
			if (number("--mailbox-max-messages", optarg, 1,
			    1000000000, &n) != 0)
				return E2E_EX_USAGE;
			c.mailbox_max_messages = n;
			break;
		case O_MBOX_BYTES:
			if (cli_parse_size("--mailbox-max-bytes", optarg,
			    &c.mailbox_max_bytes) != 0)
				return E2E_EX_USAGE;
			break;
		case O_SEND_RATE:
			if (number("--send-rate", optarg, 1, 1000000, &n) != 0)
				return E2E_EX_USAGE;
			c.send_rate = (unsigned)n;
			break;
		case O_SEND_BURST:
			if (number("--send-burst", optarg, 1, 1000000, &n) != 0)
				return E2E_EX_USAGE;
			c.send_burst = (unsigned)n;
			break;
		case O_ANSWER:
			if (cli_parse_size("--max-answer-bytes", optarg,
			    &c.max_answer_bytes) != 0)
				return E2E_EX_USAGE;
			if (c.max_answer_bytes < 1024 ||
			    c.max_answer_bytes > (size_t)1 << 30)
				return cli_usage_error("--max-answer-bytes is "
				    "1K to 1G");
			break;
		case O_QUIET:
			c.quiet = 1;
			break;
		case O_PUBLIC_URL:
			if (cli_once(&seen_url, "--public-url") != 0)
				return E2E_EX_USAGE;
			if (keyproof_url(optarg, url) != 0)
				return cli_usage_error("--public-url needs an "
				    "http:// or https:// URL without a user, "
				    "query or fragment");
			c.public_url = optarg;
			break;
		case O_QUARANTINE:
			if (cli_once(&seen_quarantine, "--name-quarantine") !=
			    0 || cli_parse_duration("--name-quarantine", optarg,
			    10LL * 365 * 86400, &d) != 0)
				return E2E_EX_USAGE;
			c.name_quarantine = (int64_t)d;
			break;
		case O_CHECK_NAMES:
			check_names = 1;
			break;
		case O_IMPORT_USERS:
			c.import_users = optarg;
			break;
		case O_IMPORT_MESSAGES:
			c.import_messages = optarg;
			break;
		case O_BODYMEM:
			if (cli_parse_size("--max-body-memory", optarg,
			    &c.max_body_memory) != 0)
				return E2E_EX_USAGE;
			if (c.max_body_memory < 64 * 1024)
				return cli_usage_error(
				    "--max-body-memory is at least 64K");
			break;
		case O_LINGER:
			if (number("--linger", optarg, 0, 60, &n) != 0)
				return E2E_EX_USAGE;
			c.linger = (unsigned)n;
			break;
		case O_TRUSTED:
			if (server_config_net(optarg) != 0)
				return cli_usage_error("--trusted-proxy %s is "
				    "not ADDRESS[/PREFIX]", optarg);
			if (ntrusted == NETS_MAX)
				return cli_usage_error("at most %d "
				    "--trusted-proxy", NETS_MAX);
			trusted[ntrusted++] = optarg;
			break;
		case O_METRICS_ALLOW:
			if (server_config_net(optarg) != 0)
				return cli_usage_error("--metrics-allow %s is "
				    "not ADDRESS[/PREFIX]", optarg);
			if (nallow == NETS_MAX)
				return cli_usage_error("at most %d "
				    "--metrics-allow", NETS_MAX);
			allow[nallow++] = optarg;
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
	if (optind < argc)
		return cli_usage_error("unexpected argument %s", argv[optind]);
	if (c.db[0] == '\0')
		return cli_usage_error("--db needs a file name");
	/* A send of the largest size must fit in the signed-in part, or it
	 * would be refused forever. */
	if (server_config_signed_in_bodies(c.max_body_memory) < c.max_message)
		return cli_usage_error("--max-body-memory %zu is too small for "
		    "--max-message %zu (signed-in senders get three quarters "
		    "of it)", c.max_body_memory, c.max_message);
	c.trusted_proxies = trusted;
	c.ntrusted_proxies = ntrusted;
	c.metrics_allow = allow;
	c.nmetrics_allow = nallow;
	if ((rc = crypto_init()) != 0)
		return rc;
	if (check_names)
		return server_check_names(&c);
	return server_run(&c);
}
