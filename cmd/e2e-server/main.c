/*
 * e2e-server - the e2e-chat server: accounts, tokens, and a mailbox of
 * encrypted messages it cannot read, on an embedded SQLite database.
 */
#include <getopt.h>
#include <stdint.h>
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
	    "  --db PATH                the database (default ./e2e-server.db), "
	    "or a\n"
	    "                           postgresql:// URL (password: "
	    "PGPASSWORD, ~/.pgpass)\n"
	    "  --secret-file FILE       the token secret: the file's bytes, at "
	    "least 32\n"
	    "                           (default: made on first start and kept "
	    "in the database)\n"
	    "  --secret-rotate          this start's secret replaces the one "
	    "the database is\n"
	    "                           served with (every token is then "
	    "refused; with no\n"
	    "                           --secret-file, a new one is made and "
	    "kept); without\n"
	    "                           it, a server whose secret is not the "
	    "database's exits 78\n"
	    "  --poll-interval MS       a waiting receiver looks for messages "
	    "stored by\n"
	    "                           other servers on the database this "
	    "often (default\n"
	    "                           1000; 0: never, for a server alone on "
	    "its database)\n"
	    "  --commit-delay USEC      while other requests are under way, "
	    "a write waits\n"
	    "                           this many microseconds at most to be "
	    "committed\n"
	    "                           with theirs, one disk flush for all "
	    "(default 1000;\n"
	    "                           0: at once)\n"
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
	    "  --prekeys-max N          one-time prekeys stored per identity "
	    "key, at most\n"
	    "                           (default 200)\n"
	    "  --prekeys-batch N        one-time prekeys per PUT /prekeys, at "
	    "most (default\n"
	    "                           200)\n"
	    "  --prekey-claim-rate N    one-time prekeys a user may claim per "
	    "hour, in\n"
	    "                           bursts of as many; past it, signed "
	    "prekeys only\n"
	    "                           (default 100)\n"
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
	    "\n%s"
	    "  78  the token secret is not the one the database is served "
	    "with\n"
	    "\nExamples:\n"
	    "  e2e-server --listen 127.0.0.1:8080 --db chat.db\n"
	    "  e2e-server --db /var/lib/e2e/chat.db --public-url "
	    "https://chat.example \\\n"
	    "      --trusted-proxy 127.0.0.1     (on loopback behind nginx "
	    "with TLS)\n",
	    err_exit_codes_help);
}

/* --public-url: what key proofs can name. */
static int
public_url(const char *opt, const char *s, struct report *rep)
{
	char url[KEYPROOF_URL_MAX];

	if (keyproof_url(s, url) == 0)
		return 0;
	cli_usage_error(rep, "%s needs an http:// or https:// URL without a "
	    "user, query or fragment", opt);
	return E2E_EX_USAGE;
}

/* --trusted-proxy, --metrics-allow. */
static int
net(const char *opt, const char *s, struct report *rep)
{
	if (server_config_net(s) == 0)
		return 0;
	cli_usage_error(rep, "%s %s is not ADDRESS[/PREFIX]", opt, s);
	return E2E_EX_USAGE;
}

int
main(int argc, char **argv)
{
	/* The repeatable ones point into argv. */
	static const char *trusted_v[NETS_MAX], *allow_v[NETS_MAX];
	struct cli_list trusted = { trusted_v, 0, NETS_MAX };
	struct cli_list allow = { allow_v, 0, NETS_MAX };
	struct server_config c;
	struct report rep = { 0 };
	int check_names = 0, rc;
	/* Each option: its kind, where it goes and what it may be. */
	const struct cli_opt opts[] = {
		{ "listen", CLI_STRING, .dst = &c.listen },
		{ "db", CLI_STRING, .dst = &c.db },
		{ "secret-file", CLI_STRING, .dst = &c.secret_file },
		{ "secret-rotate", CLI_FLAG, .dst = &c.secret_rotate },
		{ "poll-interval", CLI_UINT, .dst = &c.poll_interval,
		    .max = 60000 },
		{ "commit-delay", CLI_UINT, .dst = &c.commit_delay,
		    .max = 1000000 },
		{ "token-ttl", CLI_INT64, .dst = &c.token_ttl, .min = 1,
		    .max = 365 * 86400 },
		{ "bcrypt-cost", CLI_UINT, .dst = &c.bcrypt_cost, .min = 4,
		    .max = 31 },
		{ "max-message", CLI_SIZE, .dst = &c.max_message,
		    .max = 1 << 30, .range = "is at most 1G" },
		{ "signin-limit", CLI_UINT, .dst = &c.signin_name_limit,
		    .min = 1, .max = 1000000 },
		{ "signin-addr-limit", CLI_UINT, .dst = &c.signin_addr_limit,
		    .min = 1, .max = 1000000 },
		{ "signup-limit", CLI_UINT, .dst = &c.signup_addr_limit,
		    .min = 1, .max = 1000000 },
		{ "limit-window", CLI_UINT, .dst = &c.limit_window, .min = 1,
		    .max = 86400 },
		{ "max-connections", CLI_UINT, .dst = &c.max_connections,
		    .min = 1, .max = 1000000 },
		{ "max-per-ip", CLI_UINT, .dst = &c.max_per_ip, .min = 1,
		    .max = 1000000 },
		{ "timeout", CLI_UINT, .dst = &c.conn_timeout, .min = 1,
		    .max = 3600 },
		{ "threads", CLI_UINT, .dst = &c.threads, .min = 1, .max = 64 },
		{ "max-wait", CLI_UINT, .dst = &c.max_wait, .max = 3600 },
		{ "signin-backoff", CLI_UINT, .dst = &c.signin_backoff,
		    .min = 1, .max = 86400 },
		{ "signin-account-rate", CLI_UINT,
		    .dst = &c.signin_account_rate, .min = 1, .max = 1000000 },
		{ "signin-addr-rate", CLI_UINT, .dst = &c.signin_addr_rate,
		    .min = 1, .max = 1000000 },
		{ "bcrypt-workers", CLI_UINT, .dst = &c.bcrypt_workers,
		    .min = 1, .max = 64 },
		{ "signin-queue", CLI_UINT, .dst = &c.signin_queue, .min = 1,
		    .max = 100000 },
		{ "min-password", CLI_COUNT, .dst = &c.min_password, .min = 1,
		    .max = 1024 },
		{ "mailbox-max-messages", CLI_COUNT,
		    .dst = &c.mailbox_max_messages, .min = 1,
		    .max = 1000000000 },
		{ "mailbox-max-bytes", CLI_SIZE, .dst = &c.mailbox_max_bytes,
		    .max = SIZE_MAX },
		{ "send-rate", CLI_UINT, .dst = &c.send_rate, .min = 1,
		    .max = 1000000 },
		{ "send-burst", CLI_UINT, .dst = &c.send_burst, .min = 1,
		    .max = 1000000 },
		{ "prekeys-max", CLI_COUNT, .dst = &c.prekeys_max, .min = 1,
		    .max = 100000 },
		{ "prekeys-batch", CLI_UINT, .dst = &c.prekeys_batch, .min = 1,
		    .max = 1000 },
		{ "prekey-claim-rate", CLI_UINT, .dst = &c.prekey_claim_rate,
		    .min = 1, .max = 1000000 },
		{ "max-answer-bytes", CLI_SIZE, .dst = &c.max_answer_bytes,
		    .min = 1 << 10, .max = 1 << 30, .range = "is 1K to 1G" },
		{ "quiet", CLI_FLAG, .dst = &c.quiet },
		{ "public-url", CLI_STRING, .dst = &c.public_url,
		    .check = public_url },
		{ "name-quarantine", CLI_DURATION, .dst = &c.name_quarantine,
		    .max = 10LL * 365 * 86400 },
		{ "check-names", CLI_FLAG, .dst = &check_names, .repeat = 1 },
		{ "import-users", CLI_STRING, .dst = &c.import_users },
		{ "import-messages", CLI_STRING, .dst = &c.import_messages },
		{ "max-body-memory", CLI_SIZE, .dst = &c.max_body_memory,
		    .min = 64 << 10, .max = SIZE_MAX,
		    .range = "is at least 64K" },
		{ "linger", CLI_UINT, .dst = &c.linger, .max = 60 },
		{ "trusted-proxy", CLI_LIST, .dst = &trusted, .check = net },
		{ "metrics-allow", CLI_LIST, .dst = &allow, .check = net },
		{ "help", CLI_HELP, .letter = 'h' },
		{ "version", CLI_VERSION, .letter = 'V' },
	};

	cli_start(argv[0]);
	server_config_defaults(&c);
	rc = cli_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &rep);
	if (rc == CLI_HELP)
		usage(stdout);
	else if (rc == CLI_VERSION)
		cli_version();
	if (rc == CLI_HELP || rc == CLI_VERSION)
		return 0;
	if (rc != 0)
		return err_print(&rep);
	if (optind < argc)
		return err_print(cli_usage_error(&rep, "unexpected argument %s",
		    argv[optind]));
	if (c.db[0] == '\0')
		return err_print(cli_usage_error(&rep,
		    "--db needs a file name"));
	/* A send of the largest size must fit in the signed-in part, or it
	 * would be refused forever. */
	if (server_config_signed_in_bodies(c.max_body_memory) < c.max_message)
		return err_print(cli_usage_error(&rep,
		    "--max-body-memory %zu is too small for "
		    "--max-message %zu (signed-in senders get three quarters "
		    "of it)", c.max_body_memory, c.max_message));
	c.trusted_proxies = trusted.v;
	c.ntrusted_proxies = trusted.n;
	c.metrics_allow = allow.v;
	c.nmetrics_allow = allow.n;
	if ((rc = crypto_init(&rep)) != 0)
		return err_print(&rep);
	if (check_names)
		return server_check_names(&c);
	return server_run(&c);
}
