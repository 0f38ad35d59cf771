/*
 * The command-line plumbing every tool shares (lib/base/cli.c): sizes and
 * durations, an option given twice, what getopt_long found wrong, two
 * inputs on standard input, long options not spelled out (and anything
 * like --password), the usage error and its hint, --version, and the
 * process set-up (closed standard descriptors, SIGPIPE, core dumps).
 * Every refusal is 64 with one error line naming the option and the hint
 * to run --help.
 */
#include "harness.h"

#include <getopt.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "base/cli.h"
#include "base/err.h"

#define HINT "test_cli: hint: see test_cli --help\n"

/* The one error line and the hint of a usage error, exactly. */
static int
usage_said(const char *text, const char *error)
{
	char want[1024];

	snprintf(want, sizeof(want), "test_cli: error: %s\n" HINT, error);
	return strcmp(text, want) == 0;
}

static void
parse_size(void)
{
	static const struct { const char *s; size_t want; } ok[] = {
		{ "1", 1 },
		{ "4096", 4096 },
		{ "64K", 64 * 1024 },
		{ "64k", 64 * 1024 },
		{ "256M", (size_t)256 << 20 },
		{ "1G", (size_t)1 << 30 },
		{ "3g", (size_t)3 << 30 },
	};
	static const char *const bad[] = {
		"0", "-1", "1T", "18446744073709551616", "12Q", "", " 1",
		"+1", "1 ", "1K ", "K", "1KK", "0K", "0x10", "1.5M", "1e3",
		"99999999999999999999G", "17179869184G",
		"18446744073709551615",
	};
	size_t i, v;
	int rc;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 7;
		CHECKF(cli_parse_size("--max-size", ok[i].s, &v, NULL) == 0 &&
		    v == ok[i].want, "\"%s\" gave %zu", ok[i].s, v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		capture_begin();
		rc = cli_parse_size("--max-size", bad[i], &v, &t_rep);
		rep_shown();
		capture_end();
		CHECKF(rc == 64, "\"%s\" accepted as %zu", bad[i], v);
		CHECKF(v == 7, "\"%s\" changed the value on failure", bad[i]);
		CHECKF(strstr(cap_text, "--max-size") != NULL &&
		    strstr(cap_text, "positive size") != NULL,
		    "\"%s\": %s", bad[i], cap_text);
	}
	capture_begin();
	cli_parse_size("--max-size", "0", &v, &t_rep);
	rep_shown();
	capture_end();
	CHECKF(usage_said(cap_text, "--max-size needs a positive size such "
	    "as 4096, 64K, 256M or 1G"), "%s", cap_text);
}

/* As e2e-server --name-quarantine takes it: seconds, or a number with
 * s, m, h or d; from 0 to a maximum. */
static void
durations(void)
{
	static const struct {
		const char *s;
		long long want;
	} good[] = {
		{ "0", 0 }, { "5", 5 }, { "5s", 5 }, { "10m", 600 },
		{ "12h", 43200 }, { "30d", 2592000 }, { "0d", 0 },
		{ "3650d", 315360000 }, { "315360000", 315360000 },
	};
	static const char *const bad[] = { "", "x", "-1", "+5", " 5", "5 ",
		"5x", "5S", "5dd", "1.5h", "3651d", "315360001",
		"99999999999999999999", "d", "5sm", NULL };
	long long v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		CHECKF(cli_parse_duration("--q", good[i].s, 315360000LL,
		    &v, NULL) == 0 && v == good[i].want, "%s gave %lld",
		    good[i].s,
		    v);
	}
	for (i = 0; bad[i] != NULL; i++) {
		v = -1;
		capture_begin();
		rc = cli_parse_duration("--q", bad[i], 315360000LL, &v, &t_rep);
		rep_shown();
		capture_end();
		CHECKF(rc == 64, "\"%s\" accepted", bad[i]);
		CHECKF(v == -1, "\"%s\" changed the value on failure", bad[i]);
		CHECKF(strstr(cap_text, "--q needs a duration") != NULL, "%s",
		    cap_text);
	}
	/* A negative maximum admits nothing. */
	capture_begin();
	rc = cli_parse_duration("--q", "0", -1, &v, &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 64);
	capture_begin();
	cli_parse_duration("--q", "x", 60, &v, &t_rep);
	rep_shown();
	capture_end();
	CHECKF(usage_said(cap_text, "--q needs a duration from 0 to 60 "
	    "seconds, such as 3600, 30d, 12h, 10m or 5s"), "%s", cap_text);
}

static void
once(void)
{
	int seen = 0, rc;

	capture_begin();
	CHECK(cli_once(&seen, "-o", &t_rep) == 0);
	rep_shown();
	capture_end();
	CHECK(cap_len == 0);
	capture_begin();
	rc = cli_once(&seen, "-o", &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 64);
	CHECKF(usage_said(cap_text, "-o given more than once"), "%s",
	    cap_text);
	/* And every time after. */
	capture_begin();
	rc = cli_once(&seen, "--out", &t_rep);
	rep_shown();
	capture_end();
	CHECK(rc == 64 && strstr(cap_text, "--out given more than once"));
}

static void
usage_error(void)
{
	int rc;

	capture_begin();
	rc = cli_usage_error(&t_rep, "-r %s and -%c", "x", 'i')->code;
	rep_shown();
	capture_end();
	CHECK(rc == 64);
	CHECKF(usage_said(cap_text, "-r x and -i"), "%s", cap_text);
}

static const struct option longopts[] = {
	{ "out", required_argument, NULL, 'o' },
	{ "server", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ "force", no_argument, NULL, 'f' },
	{ "password-file", required_argument, NULL, 'p' },
	{ NULL, 0, NULL, 0 },
};
#define SHORTOPTS ":o:s:hfp:"
#define MAXARGS 8

/* What getopt_long returns first for argv, as the tools call it. */
static int
first_getopt(char **argv)
{
	int argc = 0, c;

	while (argv[argc] != NULL)
		argc++;
	optind = 0;	/* glibc: start again */
	opterr = 0;
	do {
		c = getopt_long(argc, argv, SHORTOPTS, longopts, NULL);
	} while (c != -1 && c != '?' && c != ':');
	return c;
}

static void
bad_option(void)
{
	static const struct {
		const char *argv[MAXARGS];
		const char *error;
	} t[] = {
		{ { "t", "--bogus", NULL }, "unknown option --bogus" },
		{ { "t", "--bogus=1", NULL }, "unknown option --bogus" },
		{ { "t", "-z", NULL }, "unknown option -z" },
		{ { "t", "-fz", NULL }, "unknown option -z" },
		{ { "t", "-o", NULL }, "option -o needs a value" },
		{ { "t", "-f", "-s", NULL }, "option -s needs a value" },
		{ { "t", "--out", NULL }, "option --out needs a value" },
		{ { "t", "--help=x", NULL }, "option --help takes no value" },
		{ { "t", "--force=", NULL }, "option --force takes no value" },
	};
	char *argv[MAXARGS];
	size_t i, j;
	int c, rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (j = 0; j < MAXARGS; j++)
			argv[j] = (char *)t[i].argv[j];
		c = first_getopt(argv);
		CHECKF(c == '?' || c == ':', "%s: getopt gave %d",
		    t[i].argv[1], c);
		capture_begin();
		rc = cli_bad_option(c, argv, &t_rep);
		rep_shown();
		capture_end();
		CHECKF(rc == 64 && usage_said(cap_text, t[i].error),
		    "%s: %d %s", t[i].argv[1], rc, cap_text);
	}
}

static void
one_stdin(void)
{
	static const char *const names[3] = { "-i", "FILE", "--passphrase-file"
	};
	static const struct {
		const char *paths[3];
		const char *error;	/* NULL: accepted */
	} t[] = {
		{ { NULL, NULL, NULL }, NULL },
		{ { "-", NULL, NULL }, NULL },
		{ { "key", "-", "pw" }, NULL },
		{ { "-", "msg", "--" }, NULL },
		{ { "-", "-", NULL }, "-i and FILE cannot both read standard "
		    "input" },
		{ { NULL, "-", "-" }, "FILE and --passphrase-file cannot both "
		    "read standard input" },
		{ { "-", "x", "-" }, "-i and --passphrase-file cannot both "
		    "read standard input" },
		{ { "-", "-", "-" }, "-i and FILE cannot both read standard "
		    "input" },
	};
	size_t i;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		capture_begin();
		rc = cli_one_stdin(names, t[i].paths, 3, &t_rep);
		rep_shown();
		capture_end();
		if (t[i].error == NULL)
			CHECKF(rc == 0 && cap_len == 0, "case %zu: %d %s", i,
			    rc, cap_text);
		else
			CHECKF(rc == 64 && usage_said(cap_text, t[i].error),
			    "case %zu: %d %s", i, rc, cap_text);
	}
}

#define PASSWORD_ERROR "test_cli: error: there is no --password option: " \
	"a password on the command line can be read by other users\n" \
	"test_cli: hint: use --password-file FILE (- for standard input), " \
	"set E2E_PASSWORD, or type it when asked\n"

static void
exact_options(void)
{
	static const struct {
		const char *argv[MAXARGS];
		/* NULL: accepted; "P": the password error */
		const char *error;
	} t[] = {
		{ { "t", NULL }, NULL },
		{ { "t", "--out", "x", "--force", "--help", NULL }, NULL },
		{ { "t", "--out=x", "--server=--serv", NULL }, NULL },
		/* A value is skipped, whatever it looks like. */
		{ { "t", "--server", "--serv", NULL }, NULL },
		{ { "t", "-o", "--serv", NULL }, NULL },
		{ { "t", "-fo", "--serv", NULL }, NULL },
		{ { "t", "-s", "--password", NULL }, NULL },
		/* After "--" nothing is an option. */
		{ { "t", "--", "--serv", "--password", NULL }, NULL },
		{ { "t", "-", "file", NULL }, NULL },
		{ { "t", "--password-file", "pw", NULL }, NULL },
		/* A value glued to its option: the next word is not one. */
		{ { "t", "-ox", "--serv", NULL }, "option --serv is "
		    "abbreviated; write --server in full" },
		{ { "t", "--out=x", "--serv", NULL }, "option --serv is "
		    "abbreviated; write --server in full" },
		{ { "t", "--serv", "x", NULL }, "option --serv is abbreviated; "
		    "write --server in full" },
		{ { "t", "--fo", NULL }, "option --fo is abbreviated; write "
		    "--force in full" },
		{ { "t", "--o=x", NULL }, "option --o is abbreviated; write "
		    "--out in full" },
		{ { "t", "--password-f", "pw", NULL }, "option --password-f is "
		    "abbreviated; write --password-file in full" },
		{ { "t", "--nothing", NULL }, "unknown option --nothing" },
		{ { "t", "--", NULL }, NULL },
		{ { "t", "--password", "secret", NULL }, "P" },
		{ { "t", "--password=secret", NULL }, "P" },
		{ { "t", "--pass", "secret", NULL }, "P" },
		{ { "t", "--passw=secret", NULL }, "P" },
		{ { "t", "--passwords", NULL }, "P" },
		{ { "t", "--password-x", NULL }, "P" },
	};
	char *argv[MAXARGS];
	size_t i, j;
	int argc, rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (j = 0, argc = 0; j < MAXARGS; j++) {
			argv[j] = (char *)t[i].argv[j];
			if (argv[j] != NULL && argc == (int)j)
				argc++;
		}
		capture_begin();
		rc = cli_exact_options(argc, argv, SHORTOPTS, longopts, &t_rep);
		rep_shown();
		capture_end();
		if (t[i].error == NULL)
			CHECKF(rc == 0 && cap_len == 0, "case %zu (%s): %d %s",
			    i, t[i].argv[1], rc, cap_text);
		else if (strcmp(t[i].error, "P") == 0)
			CHECKF(rc == 64 && strcmp(cap_text, PASSWORD_ERROR) ==
			    0, "case %zu (%s): %d %s", i, t[i].argv[1], rc,
			    cap_text);
		else
			CHECKF(rc == 64 && usage_said(cap_text, t[i].error),
			    "case %zu (%s): %d %s", i, t[i].argv[1], rc,
			    cap_text);
	}
}

static void
version(void)
{
	char text[64] = "";
	FILE *f = tmpfile();
	int saved = dup(STDOUT_FILENO);
	size_t n;

	if (f == NULL || saved < 0) {
		harness_skip("no temporary file");
		return;
	}
	fflush(stdout);
	dup2(fileno(f), STDOUT_FILENO);
	cli_version();
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	CHECKF(strcmp(text, "test_cli " E2E_VERSION "\n") == 0, "%s", text);
}

/*
 * cli_start in a child whose stdin and stdout are closed: they are
 * reopened on /dev/null so that a file opened next cannot take their
 * place, and so that using them fails (stdout read-only: output to a
 * closed stdout is an error, not lost). SIGPIPE is ignored, the program
 * name set, core dumps off.
 */
static void
start(void)
{
	struct rlimit rl;
	pid_t pid;
	int st, fd, bad = 0;

	fflush(NULL);
	if ((pid = fork()) < 0) {
		harness_skip("cannot fork");
		return;
	}
	if (pid == 0) {
		close(STDIN_FILENO);
		close(STDOUT_FILENO);
		signal(SIGPIPE, SIG_DFL);
		cli_start("/some/where/e2e-child");
		if (fcntl(STDIN_FILENO, F_GETFD) < 0 ||
		    fcntl(STDOUT_FILENO, F_GETFD) < 0)
			bad |= 1;
		if (write(STDOUT_FILENO, "x", 1) != -1)
			bad |= 2;
		if ((fd = open("/dev/null", O_RDONLY)) < 3)
			bad |= 4;
		if (signal(SIGPIPE, SIG_IGN) != SIG_IGN)
			bad |= 8;
		if (strcmp(err_prog(), "e2e-child") != 0)
			bad |= 16;
		if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur != 0)
			bad |= 32;
		_exit(bad);
	}
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}

int
main(void)
{
	err_setprog("test_cli");
	RUN(parse_size);
	RUN(durations);
	RUN(once);
	RUN(usage_error);
	RUN(bad_option);
	RUN(one_stdin);
	RUN(exact_options);
	RUN(version);
	RUN(start);
	return harness_end();
}
