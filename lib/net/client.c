/* client.c - what the client tools share (see client.h). */
#include "net/client.h"
#include "base/cli.h"
#include "base/err.h"
#include "base/jsonio.h"
#include "base/term.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char client_options_help[] =
    "Server and connection (every client tool):\n"
    "      --server URL         the server (else E2E_SERVER, else "
    "\"server =\" in\n"
    "                           the config file, else the session's)\n"
    "      --cacert FILE        trust only this CA certificate for https\n"
    "      --pin sha256//B64    also require this server public key "
    "(';' for more)\n"
    "      --proxy URL          proxy (http://, socks5://, socks5h://); "
    "else the\n"
    "                           https_proxy/http_proxy/all_proxy "
    "variables;\n"
    "                           http:// servers only through one on "
    "loopback\n"
    "      --insecure-http      allow http:// to a host that is not "
    "loopback, or\n"
    "                           through a proxy that is not on "
    "loopback\n"
    "      --retry-time SECS    retry failures to connect and 5xx "
    "answers for\n"
    "                           up to SECS (default 10; 0: never)\n"
    "      --max-answer SIZE    refuse (exit 76) a server answer larger "
    "than\n"
    "                           SIZE (default 64M; 64K to 1G)\n"
    "  -v, --verbose            show the HTTP exchange (secrets "
    "masked)\n"
    "\n"
    "Files: the client home is E2E_HOME, else $XDG_CONFIG_HOME/e2e, else\n"
    "~/.config/e2e; it holds \"config\" (lines of key = value: server, "
    "cacert,\n"
    "pin, proxy, identity) and \"session\" (saved by e2e-account "
    "signin).\n";

const char client_exit_codes_help[] =
    "Exit status:\n"
    "  0   success\n"
    "  64  usage error (also: http:// to a host that is not loopback)\n"
    "  65  refused as invalid (by the server, or not an envelope)\n"
    "  66  an input file cannot be read\n"
    "  67  no such user\n"
    "  69  the server's identity cannot be verified (certificate, "
    "--pin)\n"
    "  70  internal error\n"
    "  73  a file cannot be created\n"
    "  74  I/O error (standard output)\n"
    "  75  temporary failure (cannot connect, server error): try again "
    "later\n"
    "  76  the server's answer is not e2e-chat's protocol (also: too "
    "large,\n"
    "      a message for another user, a server repeating itself)\n"
    "  77  not signed in, session expired or refused, or wrong "
    "password\n"
    "  78  configuration error (also: http:// through a proxy that is "
    "not on\n"
    "      loopback)\n";

int64_t
client_now(void)
{
	return (int64_t)time(NULL);
}

int
client_option(struct client_opts *o, int c, const char *arg,
    struct report *rep)
{
	char *end;
	long v;

	switch (c) {
	case CLIENT_OPT_SERVER:
		if (cli_once(&o->seen[0], "--server", rep) != 0)
			return E2E_EX_USAGE;
		o->server = arg;
		return 1;
	case CLIENT_OPT_CACERT:
		if (cli_once(&o->seen[1], "--cacert", rep) != 0)
			return E2E_EX_USAGE;
		o->cacert = arg;
		return 1;
	case CLIENT_OPT_PIN:
		if (cli_once(&o->seen[2], "--pin", rep) != 0)
			return E2E_EX_USAGE;
		if (strncmp(arg, "sha256//", 8) != 0) {
			cli_usage_error(rep, "--pin takes sha256//BASE64 (the "
			    "SHA-256 of the server's public key)");
			return E2E_EX_USAGE;
		}
		o->pin = arg;
		return 1;
	case CLIENT_OPT_PROXY:
		if (cli_once(&o->seen[3], "--proxy", rep) != 0)
			return E2E_EX_USAGE;
		o->proxy = arg;
		return 1;
	case CLIENT_OPT_INSECURE_HTTP:
		o->insecure_http = 1;
		return 1;
	case CLIENT_OPT_RETRY_TIME:
		if (cli_once(&o->seen[4], "--retry-time", rep) != 0)
			return E2E_EX_USAGE;
		errno = 0;
		v = strtol(arg, &end, 10);
		if (arg[0] < '0' || arg[0] > '9' || *end != '\0' ||
		    errno != 0 || v > CLIENT_RETRY_MAX_S) {
			cli_usage_error(rep, "--retry-time takes seconds from "
			    "0 to %d", CLIENT_RETRY_MAX_S);
			return E2E_EX_USAGE;
		}
		o->retry_s = v;
		return 1;
	case CLIENT_OPT_MAX_ANSWER:
		if (cli_once(&o->seen[5], "--max-answer", rep) != 0 ||
		    cli_parse_size("--max-answer", arg, &o->max_answer,
		    rep) != 0)
			return E2E_EX_USAGE;
		if (o->max_answer < CLIENT_ANSWER_MIN ||
		    o->max_answer > CLIENT_ANSWER_MAX) {
			cli_usage_error(rep, "--max-answer takes a size from "
			    "64K to 1G");
			return E2E_EX_USAGE;
		}
		return 1;
	case 'v':
		o->verbose = 1;
		return 1;
	}
	return 0;
}

int
client_tool_start(struct client_opts *o, int argc, char **argv,
    const char *shortopts, const struct option *longopts,
    int (*say)(const struct report *r), void (*trace)(const char *line),
    struct report *rep)
{
	cli_start(argv[0]);
	o->say = say;
	o->trace = trace;
	return cli_options(argc, argv, shortopts, longopts, rep);
}

int
client_getopt(struct client_opts *o, int argc, char **argv,
    const char *shortopts, const struct option *longopts,
    struct report *rep)
{
	int ch, rc;

	while ((ch = getopt_long(argc, argv, shortopts, longopts,
	    NULL)) != -1) {
		if ((rc = client_option(o, ch, optarg, rep)) == 0)
			return ch;
		if (rc != 1)
			return CLIENT_OPT_FAILED;
	}
	return -1;
}

static const char *
first(const char *a, const char *b)
{
	return a != NULL ? a : b;
}

void
client_time_text(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, size, "%lld", (long long)t);
}

/* A CA file that cannot be read is the user's mistake, not the
 * server's failure to prove its identity. */
static int
readable(const char *path, const char *what, int code, struct report *rep)
{
	FILE *f;

	if (path == NULL)
		return 0;
	if ((f = fopen(path, "r")) == NULL)
		return report_errno(rep, code, "%s: cannot read %s", what,
		    path);
	fclose(f);
	return 0;
}

/* The session must be for this server, and still valid. */
static int
not_signed_in(struct report *rep)
{
	report_error(rep, E2E_EX_NOPERM, "not signed in");
	report_hint(rep, "sign in first: e2e-account signin NAME");
	return E2E_EX_NOPERM;
}

static int
check_session(struct client *c, struct report *rep)
{
	char when[64], safe[256];

	if (!c->have_session)
		return not_signed_in(rep);
	if (strcmp(c->sess.server, http_server(c->http)) != 0) {
		term_escape(c->sess.server, strlen(c->sess.server), safe,
		    sizeof(safe));
		report_error(rep, E2E_EX_NOPERM, "you are signed in to %s, not "
		    "to this server", safe);
		report_hint(rep, "sign in to this one: e2e-account signin %s",
		    c->sess.name);
		return E2E_EX_NOPERM;
	}
	if (session_expired(&c->sess, client_now())) {
		client_time_text(c->sess.expires_at, when, sizeof(when));
		report_error(rep, E2E_EX_NOPERM, "your session expired at %s",
		    when);
		report_hint(rep, "sign in again: e2e-account signin %s",
		    c->sess.name);
		return E2E_EX_NOPERM;
	}
	return 0;
}

int
client_start(struct client *c, const struct client_opts *o, int flags,
    struct report *rep)
{
	struct http_opts ho;
	const char *server;
	int rc, found;

	memset(c, 0, sizeof(*c));
	c->say = o->say;
	jsonio_wipe_on_free();
	if ((rc = home_find(c->home, sizeof(c->home), rep)) != 0)
		return rc;
	if ((flags & CLIENT_CREATE_HOME) &&
	    (rc = home_create(c->home, rep)) != 0)
		return rc;
	if ((rc = config_load(c->home, &c->cfg, rep)) != 0)
		return rc;
	/* A session that cannot be used is no obstacle to replacing or
	 * removing it; it is simply not there (what is wrong with it is
	 * not said). */
	if ((rc = session_load(c->home, &c->sess, &found,
	    (flags & CLIENT_REPLACE_SESSION) ? NULL : rep)) != 0 &&
	    !(flags & CLIENT_REPLACE_SESSION))
		return rc;
	c->have_session = found;
	if ((flags & CLIENT_NEED_SESSION) && !c->have_session)
		return not_signed_in(rep);
	if (flags & CLIENT_NO_SERVER)
		return 0;
	server = first(o->server, first(getenv("E2E_SERVER"),
	    first(c->cfg.server, c->have_session ? c->sess.server : NULL)));
	if (server == NULL || server[0] == '\0') {
		report_error(rep, E2E_EX_USAGE, "no server given");
		report_hint(rep, "give --server URL, set E2E_SERVER, or write "
		    "\"server = URL\" in %s/config", c->home);
		return E2E_EX_USAGE;
	}
	if (c->cfg.pin != NULL && strncmp(c->cfg.pin, "sha256//", 8) != 0)
		return report_error(rep, E2E_EX_CONFIG, "%s/config: pin takes "
		    "sha256//BASE64", c->home);
	if ((rc = readable(o->cacert, "--cacert", E2E_EX_NOINPUT,
	    rep)) != 0 || (o->cacert == NULL && (rc = readable(c->cfg.cacert,
	    "cacert in the config file", E2E_EX_CONFIG, rep)) != 0))
		return rc;
	if (o->proxy == NULL && c->cfg.proxy != NULL &&
	    http_check_proxy(c->cfg.proxy, rep) != 0)
		return E2E_EX_CONFIG;
	memset(&ho, 0, sizeof(ho));
	ho.server = server;
	ho.cacert = first(o->cacert, c->cfg.cacert);
	ho.pin = first(o->pin, c->cfg.pin);
	ho.proxy = first(o->proxy, c->cfg.proxy);
	ho.proxy_from = o->proxy != NULL ? "--proxy" : "proxy in the config "
	    "file";
	ho.max_answer = o->max_answer;
	ho.insecure_http = o->insecure_http;
	ho.verbose = o->verbose;
	ho.trace = o->trace;
	ho.stop = o->stop;
	ho.retry_ms = (o->retry_s < 0 ? CLIENT_RETRY_DEFAULT_S : o->retry_s) *
	    1000L;
	if ((rc = http_open(&c->http, &ho, rep)) != 0)
		return rc;
	if (flags & CLIENT_NEED_SESSION)
		return check_session(c, rep);
	return 0;
}

int
client_say(const struct client *c, struct report *rep)
{
	if (c->say == NULL || !report_said(rep))
		return 0;
	c->say(rep);
	report_clear(rep);
	return 1;
}

void
client_end(struct client *c)
{
	session_wipe(&c->sess);
	config_free(&c->cfg);
	http_close(c->http);
	c->http = NULL;
}

int
client_print(json_t *v, struct report *rep)
{
	char *s = v ? jsonio_dump(v) : NULL;
	int rc = 0;

	json_decref(v);
	if (s == NULL)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	if (fputs(s, stdout) == EOF || putchar('\n') == EOF ||
	    fflush(stdout) == EOF)
		rc = report_errno(rep, E2E_EX_IOERR, "cannot write to standard "
		    "output");
	free(s);
	return rc;
}
