/*
 * The option helper of lib/base/cli.c that every tool uses: numbers in a
 * range (only digits: no sign, space, base or exponent), sizes in a
 * range, --max-size, user names, exact long options (no abbreviation,
 * no --password), and cli_parse's option table as e2e-server uses it:
 * each kind stored where it goes, each single-valued option once, a
 * list capped, a check's refusal, --help and --version stopping the
 * parse, and the messages the tools print (tests/bats pin the same).
 */
#include "harness.h"

#include <getopt.h>
#include <stdint.h>

#include "base/cli.h"
#include "base/err.h"

/* The first line the call under test wrote on stderr. */
static const char *said = "";

static void
listen_end(void)
{
	rep_shown();
	capture_end();
	cap_text[strcspn(cap_text, "\n")] = '\0';
	said = cap_text;
}

/* 1 when the line said is "test: error: WANT". */
static int
error_is(const char *want)
{
	char line[600];

	snprintf(line, sizeof(line), "test: error: %s", want);
	return strcmp(said, line) == 0;
}

static void
numbers(void)
{
	static const struct {
		const char *s;
		unsigned long long min, max, want;
	} good[] = {
		{ "0", 0, 10, 0 }, { "10", 0, 10, 10 }, { "4", 4, 31, 4 },
		{ "31", 4, 31, 31 }, { "007", 0, 10, 7 },
		{ "31536000", 1, 31536000, 31536000 },
		{ "18446744073709551615", 0, ~0ULL, ~0ULL },
	};
	static const struct {
		const char *s;
		unsigned long long min, max;
	} bad[] = {
		{ "", 0, 10 }, { "11", 0, 10 }, { "3", 4, 31 }, { "-1", 0, 10 },
		{ "+5", 0, 10 }, { " 5", 0, 10 }, { "5 ", 0, 10 },
		{ "1e3", 0, 10000 }, { "0x10", 0, 100 }, { "5k", 0, 10000 },
		{ "18446744073709551616", 0, ~0ULL }, { "abc", 0, 10 },
		{ "1.0", 0, 10 },
	};
	unsigned long long v;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 12345;
		CHECKF(cli_number(good[i].s, good[i].min, good[i].max, &v) ==
		    0 && v == good[i].want, "\"%s\" gave %llu", good[i].s, v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		CHECKF(cli_number(bad[i].s, bad[i].min, bad[i].max, &v) == -1 &&
		    v == 12345, "\"%s\" accepted", bad[i].s);
	}
	/* Reported, naming the option and the range (e2e-server). */
	capture_begin();
	CHECK(cli_parse_number("--threads", "65", 1, 64, &v, &t_rep) == 64);
	listen_end();
	CHECK(error_is("--threads needs a number from 1 to 64"));
	capture_begin();
	CHECK(cli_parse_number("--threads", "64", 1, 64, &v, &t_rep) == 0 &&
	    v == 64);
	listen_end();
	CHECK(said[0] == '\0');
}

static void
sizes(void)
{
	static const struct {
		const char *s;
		size_t want;
	} good[] = {
		{ "1", 1 }, { "4096", 4096 }, { "64K", 65536 },
		{ "64k", 65536 },
		{ "256M", (size_t)256 << 20 }, { "1G", (size_t)1 << 30 },
		{ "1073741824", (size_t)1 << 30 },
	};
	static const char *const bad[] = { "0", "0K", "-1", "abc", "4X",
		"1.5M", "", " 4M", "4MB", "+4", "99999999999999999999999",
		NULL };
	static const char *const over[] = { "2G", "1025M", "1073741825",
		NULL };
	size_t v;
	int seen;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		seen = 0;
		v = 0;
		CHECKF(cli_max_size(&seen, good[i].s, &v, &t_rep) == 0 &&
		    v == good[i].want, "\"%s\" gave %zu", good[i].s, v);
	}
	for (i = 0; bad[i] != NULL; i++) {
		seen = 0;
		capture_begin();
		CHECKF(cli_max_size(&seen, bad[i], &v, &t_rep) == 64,
		    "\"%s\" accepted",
		    bad[i]);
		listen_end();
		CHECKF(error_is("--max-size needs a positive size such as "
		    "4096, 64K, 256M or 1G"), "%s", said);
	}
	for (i = 0; over[i] != NULL; i++) {
		seen = 0;
		capture_begin();
		CHECKF(cli_max_size(&seen, over[i], &v, &t_rep) == 64,
		    "\"%s\" accepted", over[i]);
		listen_end();
		CHECKF(error_is("--max-size is at most 1G"), "%s", said);
	}
	/* Once only. */
	seen = 0;
	CHECK(cli_max_size(&seen, "1K", &v, &t_rep) == 0);
	capture_begin();
	CHECK(cli_max_size(&seen, "1K", &v, &t_rep) == 64);
	listen_end();
	CHECK(error_is("--max-size given more than once"));
	/* A range with a low end, as --max-body-memory's. */
	capture_begin();
	CHECK(cli_parse_size_in("--m", "63K", 64 << 10, SIZE_MAX,
	    "is at least 64K", &v, &t_rep) == 64);
	listen_end();
	CHECK(error_is("--m is at least 64K"));
	CHECK(cli_parse_size_in("--m", "64K", 64 << 10, SIZE_MAX,
	    "is at least 64K", &v, &t_rep) == 0 && v == 65536);
}

static void
user_names(void)
{
	static const char *const good[] = { "a", "alice", "Bob.2", "x_y-z",
		"-dash", NULL };
	static const char *const bad[] = { "", "a b", "a/b", "\xc3\xa9",
		/* A 65-letter name, cut in two. */
		/* NOLINTNEXTLINE(bugprone-suspicious-missing-comma) */
		"a\nb", "0123456789012345678901234567890123456789012345678901"
		"2345678901234", NULL };
	size_t i;

	for (i = 0; good[i] != NULL; i++)
		CHECKF(cli_user_name(NULL, good[i], &t_rep) == 0,
		    "\"%s\" refused",
		    good[i]);
	for (i = 0; bad[i] != NULL; i++) {
		capture_begin();
		CHECKF(cli_user_name(NULL, bad[i], &t_rep) == 64,
		    "\"%s\" accepted",
		    bad[i]);
		listen_end();
		CHECKF(error_is("a name is 1 to 64 letters, digits, '.', "
		    "'_' or '-'"), "%s", said);
	}
	capture_begin();
	CHECK(cli_user_name("--from", "a b", &t_rep) == 64);
	listen_end();
	CHECK(error_is("--from takes a user name"));
}

/* argv (24 at most) for "prog ARGS", ARGS split at each space; the
 * strings live until the next call. Returns argc. */
static int
split(const char *args, char **argv)
{
	static char buf[256];
	char *p;
	int argc = 0;

	snprintf(buf, sizeof(buf), "prog%s%s", args[0] ? " " : "", args);
	for (p = buf; p != NULL && argc < 23;) {
		argv[argc++] = p;
		p = strchr(p, ' ');
		if (p != NULL)
			*p++ = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

/* Runs cli_options on "prog ARGS". */
static int
exact(const char *args)
{
	static const struct option lo[] = {
		{ "server", required_argument, NULL, 's' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "passphrase-file", required_argument, NULL, 'Q' },
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	char *argv[24];
	int argc = split(args, argv), rc;

	capture_begin();
	rc = cli_options(argc, argv, ":i:vh", lo, &t_rep);
	listen_end();
	return rc;
}

#define NO_PASSWORD "there is no --password option: a password on the " \
	"command line can be read by other users"

static void
exact_options(void)
{
	/* Values ("-i --serv", "--server --ye") and operands after "--"
	 * are not options. */
	static const char *const good[] = { "--server x", "--server=x",
		"--yes", "--password-file f", "--passphrase-file=f",
		"-i --serv", "-i--serv", "-v --yes", "--server --ye",
		"x -- --ye", "-", "x -- --nope=1", NULL };
	static const struct {
		const char *args, *said;
	} bad[] = {
		{ "--serv x", "option --serv is abbreviated; write --server in "
		    "full" },
		{ "--ye", "option --ye is abbreviated; write --yes in full" },
		{ "--yes --pass=x", NO_PASSWORD },
		{ "--password x", NO_PASSWORD },
		{ "--passw", NO_PASSWORD },
		{ "--password-f x", "option --password-f is abbreviated; write "
		    "--password-file in full" },
		{ "--nope", "unknown option --nope" },
		{ "-v --nope=1", "unknown option --nope" },
	};
	size_t i;

	for (i = 0; good[i] != NULL; i++) {
		CHECKF(exact(good[i]) == 0, "\"%s\" refused: %s", good[i],
		    said);
		CHECKF(said[0] == '\0', "\"%s\": %s", good[i], said);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECKF(exact(bad[i].args) == 64, "\"%s\" accepted",
		    bad[i].args);
		CHECKF(error_is(bad[i].said), "\"%s\": %s", bad[i].args,
		    said);
	}
	/* getopt_long is left quiet: its errors are cli_bad_option's. */
	CHECK(opterr == 0);
}

/* A table as e2e-server's, and where its values go. */
struct conf {
	const char *name;
	unsigned threads;
	int64_t ttl, rest;
	size_t count, size;
	int quiet, again;
	const char *v[2];
	struct cli_list list;
};

static int
no_x(const char *opt, const char *s, struct report *rep)
{
	if (strchr(s, 'x') == NULL)
		return 0;
	cli_usage_error(rep, "%s %s holds an x", opt, s);
	return E2E_EX_USAGE;
}

/* Runs cli_parse on args (words split at spaces) into *c. */
static int
parse(const char *args, struct conf *c)
{
	const struct cli_opt opts[] = {
		{ "name", CLI_STRING, .dst = &c->name, .check = no_x },
		{ "threads", CLI_UINT, .dst = &c->threads, .min = 1,
		    .max = 64 },
		{ "ttl", CLI_INT64, .dst = &c->ttl, .min = 1,
		    .max = 31536000 },
		{ "count", CLI_COUNT, .dst = &c->count, .max = 1000000000 },
		{ "size", CLI_SIZE, .dst = &c->size, .min = 1 << 10,
		    .max = 1 << 30, .range = "is 1K to 1G" },
		{ "rest", CLI_DURATION, .dst = &c->rest, .max = 86400 },
		{ "quiet", CLI_FLAG, .dst = &c->quiet },
		{ "again", CLI_FLAG, .dst = &c->again, .repeat = 1 },
		{ "net", CLI_LIST, .dst = &c->list, .check = no_x },
		{ "help", CLI_HELP, .letter = 'h' },
		{ "version", CLI_VERSION, .letter = 'V' },
	};
	char *argv[24];
	int argc = split(args, argv), rc;

	memset(c, 0, sizeof(*c));
	c->list.v = c->v;
	c->list.max = 2;
	optind = 0;
	capture_begin();
	rc = cli_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
	    &t_rep);
	listen_end();
	return rc;
}

static void
table(void)
{
	static const struct {
		const char *args, *said;
	} bad[] = {
		{ "--threads 0", "--threads needs a number from 1 to 64" },
		{ "--threads 65", "--threads needs a number from 1 to 64" },
		{ "--ttl -1", "--ttl needs a number from 1 to 31536000" },
		{ "--count 1000000001", "--count needs a number from 0 to "
		    "1000000000" },
		{ "--size 1023", "--size is 1K to 1G" },
		{ "--size 0", "--size needs a positive size such as 4096, 64K, "
		    "256M or 1G" },
		{ "--rest 2d", "--rest needs a duration from 0 to 86400 "
		    "seconds, such as 3600, 30d, 12h, 10m or 5s" },
		{ "--name ax", "--name ax holds an x" },
		{ "--net ax", "--net ax holds an x" },
		{ "--net a --net b --net c", "at most 2 --net" },
		{ "--name a --name b", "--name given more than once" },
		{ "--quiet --quiet", "--quiet given more than once" },
		{ "--threads 2 --threads=2", "--threads given more than once" },
		{ "--thread 2", "option --thread is abbreviated; write "
		    "--threads in full" },
		{ "--nope", "unknown option --nope" },
		{ "-x", "unknown option -x" },
		{ "--threads", "option --threads needs a value" },
		{ "--quiet=1", "option --quiet takes no value" },
		{ "--help=1", "option --help takes no value" },
	};
	struct conf c;
	size_t i;

	CHECK(parse("", &c) == 0 && optind == 1 && c.name == NULL &&
	    c.threads == 0 && c.list.n == 0);
	CHECK(parse("--name a --threads 64 --ttl=31536000 --count 0 --size 1G "
	    "--rest 1d --quiet --again --again --net n1 --net=n2 op1 op2",
	    &c) == 0);
	CHECK(c.name != NULL && strcmp(c.name, "a") == 0);
	CHECK(c.threads == 64 && c.ttl == 31536000 && c.count == 0);
	CHECK(c.size == (size_t)1 << 30 && c.rest == 86400);
	CHECK(c.quiet == 1 && c.again == 1);
	CHECK(c.list.n == 2 && strcmp(c.v[0], "n1") == 0 &&
	    strcmp(c.v[1], "n2") == 0);
	/* getopt_long moved the operands after the options. */
	CHECKF(optind == 18, "optind %d", optind);
	CHECK(said[0] == '\0');
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECKF(parse(bad[i].args, &c) == 64, "\"%s\" accepted",
		    bad[i].args);
		CHECKF(error_is(bad[i].said), "\"%s\": %s", bad[i].args,
		    said);
	}
	/* --help and --version stop the parse: what follows is not read. */
	CHECK(parse("--threads 2 --help --threads 99", &c) == CLI_HELP &&
	    c.threads == 2 && said[0] == '\0');
	CHECK(parse("-h", &c) == CLI_HELP);
	CHECK(parse("-V --nope=", &c) == 64);
	CHECK(parse("-V --threads 0", &c) == CLI_VERSION);
	CHECK(parse("--version", &c) == CLI_VERSION);
}

int
main(void)
{
	err_setprog("test");
	RUN(numbers);
	RUN(sizes);
	RUN(user_names);
	RUN(exact_options);
	RUN(table);
	return harness_end();
}
