/*
 * client.h - what e2e-account, e2e-send and e2e-recv share: the common
 * options, the exit codes they document, and the set-up of a run (home,
 * config, session, server URL, HTTP).
 */
#ifndef E2E_CLIENT_H
#define E2E_CLIENT_H

#include <getopt.h>

#include <jansson.h>

#include "base/config.h"
#include "base/home.h"
#include "base/report.h"
#include "net/http.h"
#include "net/session.h"

enum {
	CLIENT_OPT_SERVER = 0x1000,
	CLIENT_OPT_CACERT,
	CLIENT_OPT_PIN,
	CLIENT_OPT_PROXY,
	CLIENT_OPT_INSECURE_HTTP,
	CLIENT_OPT_RETRY_TIME,
	CLIENT_OPT_MAX_ANSWER,
};

/* The common long options, for a tool's getopt_long table. */
#define CLIENT_LONGOPTS \
	{ "server", required_argument, NULL, CLIENT_OPT_SERVER }, \
	{ "cacert", required_argument, NULL, CLIENT_OPT_CACERT }, \
	{ "pin", required_argument, NULL, CLIENT_OPT_PIN }, \
	{ "proxy", required_argument, NULL, CLIENT_OPT_PROXY }, \
	{ "insecure-http", no_argument, NULL, CLIENT_OPT_INSECURE_HTTP }, \
	{ "retry-time", required_argument, NULL, CLIENT_OPT_RETRY_TIME }, \
	{ "max-answer", required_argument, NULL, CLIENT_OPT_MAX_ANSWER }, \
	{ "verbose", no_argument, NULL, 'v' }

#define CLIENT_RETRY_DEFAULT_S 10
#define CLIENT_RETRY_MAX_S 3600
/* --max-answer: from a sign-in's answer to what fits in memory. */
#define CLIENT_ANSWER_MIN ((size_t)64 << 10)
#define CLIENT_ANSWER_MAX ((size_t)1 << 30)

struct client_opts {
	const char *server, *cacert, *pin, *proxy;
	int insecure_http;
	int verbose;
	long retry_s;		/* -1: the default */
	volatile sig_atomic_t *stop;	/* http_opts.stop */
	int seen[8];
	size_t max_answer;	/* 0: the default (HTTP_ANSWER_MAX) */
	/* The main's printers: say shows a report at once (err_print), for
	 * what must come out before what follows (a warning before the
	 * output, a failure that --follow outlasts); trace shows -v's lines
	 * (http_opts.trace). NULL: kept in the report, not shown. */
	int (*say)(const struct report *r);
	void (*trace)(const char *line);
};

#define CLIENT_OPTS_INIT \
	{ NULL, NULL, NULL, NULL, 0, 0, -1, NULL, { 0 }, 0, NULL, NULL }

/* Takes option c (from getopt_long) when it is a common one: returns 1
 * when taken, 0 when it is not a common option, 64 (in rep) when its
 * value is wrong. */
int client_option(struct client_opts *o, int c, const char *arg,
    struct report *rep);

/* client_getopt's answer when a common option's value is wrong. */
#define CLIENT_OPT_FAILED (-2)

/*
 * The start of a network tool's main: cli_start (base/cli.h), the main's
 * printers in o (say, trace: see above), and the command line checked
 * by cli_options. Returns 0 or 64 (in rep).
 */
int client_tool_start(struct client_opts *o, int argc, char **argv,
    const char *shortopts, const struct option *longopts,
    int (*say)(const struct report *r), void (*trace)(const char *line),
    struct report *rep);

/* getopt_long over a network tool's options, the common ones taken by
 * client_option: returns the next of the tool's own options (optarg
 * set), -1 after the last, or CLIENT_OPT_FAILED with 64 in rep. */
int client_getopt(struct client_opts *o, int argc, char **argv,
    const char *shortopts, const struct option *longopts,
    struct report *rep);

/* The help text of the common options and of the exit codes. */
extern const char client_options_help[];
extern const char client_exit_codes_help[];

struct client {
	char home[HOME_PATH_MAX];
	struct config cfg;
	struct session sess;
	int have_session;
	struct http *http;
	int (*say)(const struct report *r);	/* client_opts.say */
};

enum {
	CLIENT_NEED_SESSION = 1,	/* signed in, not expired, this server */
	CLIENT_CREATE_HOME = 2,		/* create the home folder */
	CLIENT_NO_SERVER = 4,		/* no HTTP needed (whoami, signout) */
	CLIENT_REPLACE_SESSION = 8,	/* a refused session is as none */
};

/*
 * Prepares a run: finds the home (creates it with CLIENT_CREATE_HOME),
 * reads the config and the session, picks the server (--server, else
 * E2E_SERVER, else the config's, else the session's) and opens HTTP.
 * Returns 0 or an exit code (in rep): 64, 77 (no usable session when
 * one is needed: say to sign in), 78. Also makes jansson wipe what it
 * frees; call before any other jansson use.
 */
int client_start(struct client *c, const struct client_opts *o, int flags,
    struct report *rep);

/* Shows rep's lines now with the main's printer (client_opts.say) and
 * empties rep; without a printer, keeps them. Returns 1 when shown. */
int client_say(const struct client *c, struct report *rep);

/* Ends a run: wipes the token, closes HTTP. */
void client_end(struct client *c);

/* Prints v (taken) as one line of JSON on stdout, flushed. Returns 0,
 * or 74 (in rep) when stdout fails. */
int client_print(json_t *v, struct report *rep);

/* The seconds since the epoch. */
int64_t client_now(void);

/* t (seconds since the epoch) as "2024-05-01 12:00:00 UTC", into out
 * (the number itself if it cannot be shown so). */
void client_time_text(int64_t t, char *out, size_t size);

#endif
