/*
 * e2e-server - the e2e-chat server: accounts, tokens, and a mailbox of
 * encrypted messages it cannot read, on an embedded SQLite database.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "crypto.h"
#include "err.h"
#include "server.h"

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
	    "  --signin-limit N         failed sign-ins per name per window "
	    "(default 10)\n"
	    "  --signin-addr-limit N    failed sign-ins per address per window "
	    "(default 50)\n"
	    "  --signup-limit N         sign-ups per address per window "
	    "(default 100)\n"
	    "  --limit-window SECONDS   the window of those limits (default "
	    "900)\n"
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
	    O_TIMEOUT, O_THREADS, O_MAXWAIT, O_QUIET, O_BODYMEM, O_LINGER,
	    O_TRUSTED, O_METRICS_ALLOW };
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
		{ "quiet", no_argument, NULL, O_QUIET },
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
	int ch, rc, seen[O_LINGER - O_LISTEN + 1];
	static const char *const names[] = { "--listen", "--db",
		"--secret-file", "--token-ttl", "--bcrypt-cost", "--max-message",
		"--signin-limit", "--signin-addr-limit", "--signup-limit",
		"--limit-window", "--max-connections", "--max-per-ip",
		"--timeout", "--threads", "--max-wait", "--quiet",
		"--max-body-memory", "--linger" };
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
		case O_QUIET:
			c.quiet = 1;
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
	return server_run(&c);
}
