/*
 * The client's config file (lib/net/config.c): HOME/config, lines of
 * "key = value", blank lines and "#" comments; keys server, cacert,
 * pin, proxy, identity, name; relative cacert and identity taken from the
 * home. Everything else is refused with exit 78 and "PATH:LINE: why",
 * as is a file other users may write (it names the server and the CA
 * to trust). No file is an empty config.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/config.h"
#include "base/err.h"

static char home[64];
static char cfg_path[128];
static char why[512];

/* Writes HOME/config (len bytes) with mode. */
static void
put_config(const char *text, size_t len, mode_t mode)
{
	int fd;

	unlink(cfg_path);
	fd = open(cfg_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) != 0 ||
	    chmod(cfg_path, mode) != 0) {
		perror(cfg_path);
		exit(2);
	}
}

/* config_load with text as the file (mode 0600); the first error's text
 * goes to why. */
static int
load_text(const char *text, struct config *c)
{
	int rc;

	put_config(text, strlen(text), 0600);
	rc = config_load(home, c, &t_rep);
	CHECK(rep_why(why, sizeof(why)) == rc);
	return rc;
}

static int
all_null(const struct config *c)
{
	return c->server == NULL && c->cacert == NULL && c->pin == NULL &&
	    c->proxy == NULL && c->identity == NULL && c->name == NULL;
}

static int
str_is(const char *got, const char *want)
{
	return got != NULL && strcmp(got, want) == 0;
}

static void
missing_file_is_empty(void)
{
	struct config c;

	unlink(cfg_path);
	CHECK(config_load(home, &c, NULL) == 0);
	CHECK(all_null(&c));
	config_free(&c);
}

static void
empty_and_comments_only(void)
{
	struct config c;

	CHECK(load_text("", &c) == 0);
	CHECK(all_null(&c));
	CHECK(load_text("# only a comment\n\n   \n\t# indented\n", &c) == 0);
	CHECK(all_null(&c));
	config_free(&c);
}

/* Every key, with comments, blank lines, CRLF, spaces and tabs around
 * "=" and at both ends; the last line without its newline. */
static void
all_keys_and_layout(void)
{
	struct config c;
	char want[256];

	CHECK(load_text("# my config\r\n"
	    "\r\n"
	    "server = https://chat.example:8443\r\n"
	    "  pin=sha256//AAAA;sha256//BBBB   \n"
	    "\tproxy\t=\tsocks5h://127.0.0.1:1080\t\n"
	    "cacert =ca.pem\n"
	    "name = alice.smith\n"
	    "identity= /abs/me.key", &c) == 0);
	CHECK(str_is(c.server, "https://chat.example:8443"));
	CHECK(str_is(c.pin, "sha256//AAAA;sha256//BBBB"));
	CHECK(str_is(c.proxy, "socks5h://127.0.0.1:1080"));
	snprintf(want, sizeof(want), "%s/ca.pem", home);
	CHECKF(str_is(c.cacert, want), "cacert %s", c.cacert);
	CHECK(str_is(c.identity, "/abs/me.key"));
	/* The account name (lib/keys/myname.h checks it): not a path. */
	CHECK(str_is(c.name, "alice.smith"));
	config_free(&c);
	CHECK(all_null(&c));
}

/* Only the first "=" splits: a URL may hold more. */
static void
value_with_equals(void)
{
	struct config c;

	CHECK(load_text("server = https://h/?a=b&c=d\n", &c) == 0);
	CHECK(str_is(c.server, "https://h/?a=b&c=d"));
	config_free(&c);
}

/* A relative path is the home's, wherever the tool runs from. */
static void
relative_paths_from_home(void)
{
	struct config c;
	char want[256];

	CHECK(load_text("identity = keys/me.key\ncacert = ./ca.pem\n",
	    &c) == 0);
	snprintf(want, sizeof(want), "%s/keys/me.key", home);
	CHECKF(str_is(c.identity, want), "identity %s", c.identity);
	snprintf(want, sizeof(want), "%s/./ca.pem", home);
	CHECKF(str_is(c.cacert, want), "cacert %s", c.cacert);
	config_free(&c);
	/* Only paths: a relative server or proxy stays as written. */
	CHECK(load_text("server = chat.example\n", &c) == 0);
	CHECK(str_is(c.server, "chat.example"));
	config_free(&c);
}

/* A refusal: 78, the message naming the file and line, nothing kept. */
static void
refused(const char *text, unsigned line, const char *words)
{
	struct config c;
	char want[160];
	int rc;

	rc = load_text(text, &c);
	CHECKF(rc == E2E_EX_CONFIG, "%d for \"%s\"", rc, text);
	CHECKF(all_null(&c), "values kept after a refusal: \"%s\"", text);
	snprintf(want, sizeof(want), "%s:%u: ", cfg_path, line);
	CHECKF(strncmp(why, want, strlen(want)) == 0,
	    "\"%s\": message \"%s\", not at line %u", text, why, line);
	CHECKF(strstr(why, words) != NULL, "\"%s\": message \"%s\" lacks "
	    "\"%s\"", text, why, words);
}

static void
refusals(void)
{
	refused("colour = blue\n", 1, "unknown key");
	refused("server = https://a\n# fine\n\nSERVER = https://b\n", 4,
	    "unknown key");
	refused("# c\nservers = x\n", 2, "unknown key");
	refused("serve = x\n", 1, "unknown key");
	refused("= https://a\n", 1, "unknown key");
	refused("server = https://a\nserver = https://a\n", 2, "twice");
	refused("pin = sha256//A\r\n\r\npin = sha256//B\r\n", 3, "twice");
	refused("name = a\nname = b\n", 2, "twice");
	refused("server https://a\n", 1, "key = value");
	refused("server = https://a\njust words\n", 2, "key = value");
	refused("server =\n", 1, "empty");
	refused("server =   \t\n", 1, "empty");
	refused("cacert = \r\n", 1, "empty");
}

/* Values that were already read are not kept after a later refusal. */
static void
refusal_frees_earlier_values(void)
{
	struct config c;

	CHECK(load_text("server = https://a\nproxy = http://p:1\nbad\n",
	    &c) == E2E_EX_CONFIG);
	CHECK(all_null(&c));
}

static void
nul_byte(void)
{
	static const char text[] = "server = https://a\0.evil\n";
	struct config c;
	int rc;

	put_config(text, sizeof(text) - 1, 0600);
	rc = config_load(home, &c, &t_rep);
	CHECK(rep_why(why, sizeof(why)) == rc);
	CHECKF(rc == E2E_EX_CONFIG, "rc %d", rc);
	CHECK(all_null(&c));
	CHECKF(strstr(why, "NUL") != NULL, "why: %s", why);
}

/* 64 KiB is the cap: 65535 bytes are read, 65536 refused. */
static void
size_cap(void)
{
	size_t n = 64 * 1024, i;
	char *text = malloc(n);
	struct config c;
	int rc;

	if (text == NULL)
		exit(2);
	/* Comment lines, then a real one at the end. */
	memset(text, '#', n);
	for (i = 79; i < n; i += 80)
		text[i] = '\n';
	memcpy(text + (n - 1) - 21, "\nserver = https://zz\n", 21);
	put_config(text, n - 1, 0600);
	CHECK(config_load(home, &c, NULL) == 0);
	CHECKF(str_is(c.server, "https://zz"), "server %s", c.server);
	config_free(&c);
	/* One byte more. */
	memcpy(text + n - 21, "\nserver = https://zz\n", 21);
	put_config(text, n, 0600);
	rc = config_load(home, &c, &t_rep);
	CHECK(rep_why(why, sizeof(why)) == rc);
	CHECKF(rc == E2E_EX_CONFIG, "rc %d", rc);
	CHECK(all_null(&c));
	CHECKF(strstr(why, "larger") != NULL, "why: %s", why);
	free(text);
}

/* It names the server and the CA to trust: others may not write it. */
static void
writable_by_others(void)
{
	static const mode_t bad[] = { 0620, 0660, 0602, 0666, 0622 };
	static const char text[] = "server = https://a\n";
	struct config c;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_config(text, sizeof(text) - 1, bad[i]);
		rc = config_load(home, &c, &t_rep);
		CHECK(rep_why(why, sizeof(why)) == rc);
		CHECKF(rc == E2E_EX_CONFIG, "mode %o: rc %d", bad[i], rc);
		CHECK(all_null(&c));
		CHECKF(strstr(why, "other users") != NULL, "mode %o: %s",
		    bad[i], why);
	}
	/* Readable is fine: it holds no secret. */
	put_config(text, sizeof(text) - 1, 0644);
	CHECK(config_load(home, &c, NULL) == 0);
	CHECK(str_is(c.server, "https://a"));
	config_free(&c);
	put_config(text, sizeof(text) - 1, 0400);
	CHECK(config_load(home, &c, NULL) == 0);
	config_free(&c);
}

static void
not_a_regular_file(void)
{
	struct config c;
	int rc;

	unlink(cfg_path);
	if (mkdir(cfg_path, 0700) != 0) {
		perror(cfg_path);
		exit(2);
	}
	rc = config_load(home, &c, &t_rep);
	CHECK(rep_why(why, sizeof(why)) == rc);
	CHECKF(rc == E2E_EX_CONFIG, "a folder: rc %d", rc);
	CHECK(all_null(&c));
	rmdir(cfg_path);
}

/*
 * A FIFO in place of the config is refused, not waited on: a cron job
 * must not hang. Run in a child with an alarm, so that a hang fails
 * instead of blocking the test.
 */
static void
fifo_not_waited_on(void)
{
	struct config c;
	pid_t pid;
	int st = -1;

	unlink(cfg_path);
	if (mkfifo(cfg_path, 0600) != 0) {
		perror(cfg_path);
		exit(2);
	}
	if ((pid = fork()) == 0) {
		alarm(3);
		_exit(config_load(home, &c, NULL));
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == E2E_EX_CONFIG,
	    "a FIFO as config: %s %d", WIFSIGNALED(st) ?
	    "hung, killed by signal" : "exit", WIFSIGNALED(st) ?
	    WTERMSIG(st) : WEXITSTATUS(st));
	unlink(cfg_path);
}

int
main(void)
{
	char tmpl[] = "/tmp/e2e-test-config-XXXXXX";

	err_setprog("test_net_config");
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(home, sizeof(home), "%s", tmpl);
	snprintf(cfg_path, sizeof(cfg_path), "%s/config", home);

	RUN(missing_file_is_empty);
	RUN(empty_and_comments_only);
	RUN(all_keys_and_layout);
	RUN(value_with_equals);
	RUN(relative_paths_from_home);
	RUN(refusals);
	RUN(refusal_frees_earlier_values);
	RUN(nul_byte);
	RUN(size_cap);
	RUN(writable_by_others);
	RUN(not_a_regular_file);
	RUN(fifo_not_waited_on);

	unlink(cfg_path);
	rmdir(home);
	return harness_end();
}
