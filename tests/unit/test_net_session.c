/*
 * The saved session (lib/net/session.c): HOME/session, one JSON object
 * {server,name,id,token,expires_at}, written atomically with mode 0600.
 * Reading refuses (77) a file others could read, a symlink, something
 * that is not a regular file, one owned by another user, and anything
 * that is not a well-formed session (catalogue C2).
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/err.h"
#include "net/session.h"

#define TOKEN "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMUgifQ.c2lnLV9zaWc"
#define USER_ID "01HZX3K4M5N6P7Q8R9S0T1V2W3"

static char home[64];
static char sess_path[128];
static char why[REPORT_TEXT];
static int said;	/* the last load's report held a line */

/* The file replaced (a link or another file's mode does not stay). */
static void
put_file(const char *path, const char *text, size_t len, mode_t mode)
{
	unlink(path);
	put_bytes(path, text, len, mode);
}

static void
put_session(const char *text, mode_t mode)
{
	put_file(sess_path, text, strlen(text), mode);
}

static void
sample(struct session *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->server, sizeof(s->server), "https://chat.example:8443");
	snprintf(s->name, sizeof(s->name), "bob.smith-2_x");
	snprintf(s->id, sizeof(s->id), "%s", USER_ID);
	snprintf(s->token, sizeof(s->token), "%s", TOKEN);
	s->expires_at = 1796000000;
}

/* session_load, its first error's text in why; -1 (here only) when
 * there is no session. */
static int
load(struct session *s)
{
	struct report rep = { 0 };
	int rc, found = -1;

	rc = session_load(home, s, &found, &rep);
	snprintf(why, sizeof(why), "%s", report_message(&rep));
	said = report_said(&rep);
	CHECKF(rc == 0 || (found == 0 && rep.code == rc), "rc %d, found %d, "
	    "report's code %d", rc, found, rep.code);
	return rc != 0 ? rc : found ? 0 : -1;
}

static void
round_trip(void)
{
	struct session in, out;
	struct stat st;

	sample(&in);
	unlink(sess_path);
	CHECK(session_save(home, &in, NULL) == 0);
	CHECK(lstat(sess_path, &st) == 0 && S_ISREG(st.st_mode));
	CHECKF((st.st_mode & 07777) == 0600, "mode %o", st.st_mode & 07777);
	CHECK(load(&out) == 0);
	CHECK(strcmp(out.server, in.server) == 0);
	CHECK(strcmp(out.name, in.name) == 0);
	CHECK(strcmp(out.id, in.id) == 0);
	CHECK(strcmp(out.token, in.token) == 0);
	CHECK(out.expires_at == in.expires_at);
	/* Saving again replaces it (a new sign-in). */
	snprintf(in.token, sizeof(in.token), "a.b.c");
	in.expires_at = -5;
	CHECK(session_save(home, &in, NULL) == 0);
	CHECK(load(&out) == 0);
	CHECK(strcmp(out.token, "a.b.c") == 0);
	CHECK(out.expires_at == -5);
	/* And nothing else is left in the home (no temporary file). */
	CHECKF(harness_entries(home) == 1, "%d entries in the home",
	    harness_entries(home));
}

/* The mode is 0600 whatever the umask. */
static void
mode_despite_umask(void)
{
	struct session in;
	struct stat st;
	mode_t old = umask(0);

	sample(&in);
	unlink(sess_path);
	CHECK(session_save(home, &in, NULL) == 0);
	umask(old);
	CHECK(stat(sess_path, &st) == 0);
	CHECKF((st.st_mode & 07777) == 0600, "mode %o", st.st_mode & 07777);
}

/* A symlink planted as HOME/session is replaced, not written through. */
static void
save_never_through_symlink(void)
{
	char target[160];
	struct session in;
	struct stat st;

	snprintf(target, sizeof(target), "%s/elsewhere", home);
	put_file(target, "x", 1, 0644);
	unlink(sess_path);
	CHECK(symlink(target, sess_path) == 0);
	sample(&in);
	CHECK(session_save(home, &in, NULL) == 0);
	CHECK(lstat(sess_path, &st) == 0 && S_ISREG(st.st_mode));
	CHECK(stat(target, &st) == 0 && st.st_size == 1);
	unlink(target);
}

static void
none(void)
{
	struct session s;

	unlink(sess_path);
	CHECK(load(&s) == -1);
	CHECK(why[0] == '\0' && !said);
}

/* Refused with 77, the message containing words, the token wiped. */
static void
refused_as(const char *what, const char *words)
{
	struct session s;
	int rc;
	size_t i;
	int zero = 1;

	rc = load(&s);
	CHECKF(rc == E2E_EX_NOPERM, "%s: rc %d", what, rc);
	CHECKF(words == NULL || strstr(why, words) != NULL,
	    "%s: message \"%s\" lacks \"%s\"", what, why, words);
	for (i = 0; i < sizeof(s.token); i++)
		if (s.token[i] != '\0')
			zero = 0;
	CHECKF(zero, "%s: the token is left in memory", what);
}

static void
refused_text(const char *text, const char *what)
{
	put_session(text, 0600);
	refused_as(what, "not a valid session");
}

/* Others may have read the token (C2): 0644, 0640, 0604, 0601... */
static void
loose_modes(void)
{
	static const mode_t bad[] = { 0644, 0640, 0604, 0620, 0602, 0610,
		0601, 0660, 0666 };
	static const mode_t fine[] = { 0600, 0400, 0700 };
	struct session in, s;
	char what[32];
	size_t i;

	sample(&in);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unlink(sess_path);
		CHECK(session_save(home, &in, NULL) == 0);
		CHECK(chmod(sess_path, bad[i]) == 0);
		snprintf(what, sizeof(what), "mode %o", bad[i]);
		refused_as(what, "other users");
	}
	/* Only the owner's bits: fine. */
	for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		CHECK(chmod(sess_path, fine[i]) == 0);
		CHECKF(load(&s) == 0, "mode %o: %s", fine[i], why);
	}
}

/* A symlink, even to a good 0600 session, is refused (C2). */
static void
symlink_refused(void)
{
	char target[160];
	struct session in;

	snprintf(target, sizeof(target), "%s/real-session", home);
	sample(&in);
	unlink(sess_path);
	CHECK(session_save(home, &in, NULL) == 0);
	CHECK(rename(sess_path, target) == 0);
	CHECK(symlink(target, sess_path) == 0);
	refused_as("a symlink", "symbolic link");
	unlink(sess_path);
	unlink(target);
}

static void
not_regular(void)
{
	pid_t pid;
	int st = -1;

	unlink(sess_path);
	CHECK(mkdir(sess_path, 0700) == 0);
	refused_as("a folder", "not a regular file");
	rmdir(sess_path);
	/* A FIFO is refused, not waited on (a hang in cron): in a child,
	 * with an alarm. */
	CHECK(mkfifo(sess_path, 0600) == 0);
	if ((pid = fork()) == 0) {
		struct session s;

		int found;

		alarm(3);
		_exit(session_load(home, &s, &found, NULL));
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == E2E_EX_NOPERM,
	    "a FIFO as session: %s %d", WIFSIGNALED(st) ?
	    "hung, killed by signal" : "exit", WIFSIGNALED(st) ?
	    WTERMSIG(st) : WEXITSTATUS(st));
	unlink(sess_path);
}

/* Owned by another user (only root can make one here). */
static void
other_owner(void)
{
	struct session in;

	if (geteuid() != 0) {
		harness_skip("not root: cannot give a file to another user");
		return;
	}
	sample(&in);
	unlink(sess_path);
	CHECK(session_save(home, &in, NULL) == 0);
	CHECK(chown(sess_path, 12345, (gid_t)-1) == 0);
	refused_as("owned by uid 12345", "another user");
	unlink(sess_path);
}

static void
malformed(void)
{
	char big[70 * 1024 + 200];
	size_t n;

#define GOOD_SERVER "\"server\":\"https://a\""
#define GOOD_NAME "\"name\":\"bob\""
#define GOOD_ID "\"id\":\"" USER_ID "\""
#define GOOD_TOKEN "\"token\":\"" TOKEN "\""
#define GOOD_EXP "\"expires_at\":1796000000"
	/* The control: this one loads. */
	put_session("{" GOOD_SERVER "," GOOD_NAME "," GOOD_ID "," GOOD_TOKEN
	    "," GOOD_EXP "}", 0600);
	{
		struct session s;

		CHECK(load(&s) == 0);
		CHECK(strcmp(s.name, "bob") == 0);
	}
	refused_text("", "empty");
	refused_text("{", "cut JSON");
	refused_text("not json", "not JSON");
	refused_text("[]", "an array");
	refused_text("{}", "an empty object");
	refused_text("{" GOOD_SERVER "," GOOD_NAME "," GOOD_ID "," GOOD_TOKEN
	    "," GOOD_EXP "} x", "trailing text");
	refused_text("{" GOOD_SERVER "," GOOD_SERVER "," GOOD_NAME ","
	    GOOD_ID "," GOOD_TOKEN "," GOOD_EXP "}", "a duplicate member");
	refused_text("{" GOOD_NAME "," GOOD_ID "," GOOD_TOKEN "," GOOD_EXP
	    "}", "no server");
	refused_text("{" GOOD_SERVER "," GOOD_ID "," GOOD_TOKEN "," GOOD_EXP
	    "}", "no name");
	refused_text("{" GOOD_SERVER "," GOOD_NAME "," GOOD_TOKEN ","
	    GOOD_EXP "}", "no id");
	refused_text("{" GOOD_SERVER "," GOOD_NAME "," GOOD_ID "," GOOD_EXP
	    "}", "no token");
	refused_text("{" GOOD_SERVER "," GOOD_NAME "," GOOD_ID ","
	    GOOD_TOKEN "}", "no expires_at");
	refused_text("{" GOOD_SERVER "," GOOD_NAME "," GOOD_ID ","
	    GOOD_TOKEN ",\"expires_at\":\"1796000000\"}", "expiry a string");
	refused_text("{" GOOD_SERVER "," GOOD_NAME "," GOOD_ID ","
	    GOOD_TOKEN ",\"expires_at\":1.5}", "expiry a real");
	refused_text("{\"server\":5," GOOD_NAME "," GOOD_ID "," GOOD_TOKEN
	    "," GOOD_EXP "}", "server a number");
	/* Ids: 26 Crockford base32 characters, upper case. */
	refused_text("{" GOOD_SERVER "," GOOD_NAME ","
	    "\"id\":\"01hzx3k4m5n6p7q8r9s0t1v2w3\"," GOOD_TOKEN "," GOOD_EXP
	    "}", "id in lower case");
	refused_text("{" GOOD_SERVER "," GOOD_NAME ","
	    "\"id\":\"01HZX3K4M5N6P7Q8R9S0T1V2W\"," GOOD_TOKEN "," GOOD_EXP
	    "}", "id of 25");
	refused_text("{" GOOD_SERVER "," GOOD_NAME ","
	    "\"id\":\"01HZX3K4M5N6P7Q8R9S0T1V2WU\"," GOOD_TOKEN "," GOOD_EXP
	    "}", "id with U");
	refused_text("{" GOOD_SERVER "," GOOD_NAME ",\"id\":\"../../etc\","
	    GOOD_TOKEN "," GOOD_EXP "}", "id a path");
	/* Names: 1 to 64 of [A-Za-z0-9._-]. */
	refused_text("{" GOOD_SERVER ",\"name\":\"\"," GOOD_ID ","
	    GOOD_TOKEN "," GOOD_EXP "}", "empty name");
	refused_text("{" GOOD_SERVER ",\"name\":\"bob smith\"," GOOD_ID ","
	    GOOD_TOKEN "," GOOD_EXP "}", "name with a space");
	refused_text("{" GOOD_SERVER ",\"name\":\"bob\\u001b[31m\"," GOOD_ID
	    "," GOOD_TOKEN "," GOOD_EXP "}", "name with ESC");
	refused_text("{" GOOD_SERVER ",\"name\":\"bob\\u0000x\"," GOOD_ID
	    "," GOOD_TOKEN "," GOOD_EXP "}", "name with NUL");
	refused_text("{" GOOD_SERVER ",\"name\":\""
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\"," GOOD_ID "," GOOD_TOKEN "," GOOD_EXP "}", "name of 65");
	/* Tokens: base64url and dots only (it goes into a header line). */
	refused_text("{" GOOD_SERVER "," GOOD_NAME "," GOOD_ID
	    ",\"token\":\"\"," GOOD_EXP "}", "empty token");
	refused_text("{" GOOD_SERVER "," GOOD_NAME "," GOOD_ID
	    ",\"token\":\"a.b c\"," GOOD_EXP "}", "token with a space");
	refused_text("{" GOOD_SERVER "," GOOD_NAME "," GOOD_ID
	    ",\"token\":\"a.b\\r\\nX-Evil: 1\"," GOOD_EXP "}",
	    "token with CRLF");
	refused_text("{" GOOD_SERVER "," GOOD_NAME "," GOOD_ID
	    ",\"token\":\"a+b/c=\"," GOOD_EXP "}", "token in base64");
	refused_text("{" GOOD_SERVER "," GOOD_NAME "," GOOD_ID
	    ",\"token\":\"a.b\\u00e9\"," GOOD_EXP "}", "token not ASCII");
	/* Over 64 KiB, even when the JSON is fine (padding spaces). */
	n = (size_t)snprintf(big, sizeof(big), "{" GOOD_SERVER "," GOOD_NAME
	    "," GOOD_ID "," GOOD_TOKEN "," GOOD_EXP);
	memset(big + n, ' ', 64 * 1024);
	n += 64 * 1024;
	big[n++] = '}';
	big[n] = '\0';
	put_session(big, 0600);
	refused_as("over 64 KiB", "too large");
	/* A token longer than fits. */
	n = (size_t)snprintf(big, sizeof(big), "{" GOOD_SERVER "," GOOD_NAME
	    "," GOOD_ID ",\"token\":\"");
	memset(big + n, 'a', SESSION_TOKEN_MAX + 1);
	n += SESSION_TOKEN_MAX + 1;
	snprintf(big + n, sizeof(big) - n, "\"," GOOD_EXP "}");
	put_session(big, 0600);
	refused_as("token too long", "not a valid session");
	/* A server URL longer than fits. */
	n = (size_t)snprintf(big, sizeof(big), "{\"server\":\"https://");
	memset(big + n, 'a', SESSION_URL_MAX);
	n += SESSION_URL_MAX;
	snprintf(big + n, sizeof(big) - n, "\"," GOOD_NAME "," GOOD_ID ","
	    GOOD_TOKEN "," GOOD_EXP "}");
	put_session(big, 0600);
	refused_as("server too long", "not a valid session");
	/* The longest that fit are fine. */
	n = (size_t)snprintf(big, sizeof(big), "{" GOOD_SERVER "," GOOD_NAME
	    "," GOOD_ID ",\"token\":\"");
	memset(big + n, 'a', SESSION_TOKEN_MAX);
	n += SESSION_TOKEN_MAX;
	snprintf(big + n, sizeof(big) - n, "\"," GOOD_EXP "}");
	put_session(big, 0600);
	{
		struct session s;

		CHECK(load(&s) == 0);
		CHECK(strlen(s.token) == SESSION_TOKEN_MAX);
	}
	unlink(sess_path);
}

static void
remove_session(void)
{
	struct session in;
	int removed = -1;

	sample(&in);
	CHECK(session_save(home, &in, NULL) == 0);
	CHECK(session_remove(home, &removed, NULL) == 0);
	CHECK(removed == 1);
	CHECK(access(sess_path, F_OK) != 0 && errno == ENOENT);
	removed = -1;
	CHECK(session_remove(home, &removed, NULL) == 0);
	CHECK(removed == 0);
}

static void
expiry_and_wipe(void)
{
	struct session s;
	size_t i;
	int zero = 1;

	sample(&s);
	CHECK(!session_expired(&s, s.expires_at - 1));
	CHECK(session_expired(&s, s.expires_at));
	CHECK(session_expired(&s, s.expires_at + 1));
	session_wipe(&s);
	for (i = 0; i < sizeof(s.token); i++)
		if (s.token[i] != '\0')
			zero = 0;
	CHECK(zero);
}

int
main(void)
{
	char tmpl[] = "/tmp/e2e-test-session-XXXXXX";

	err_setprog("test_net_session");
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(home, sizeof(home), "%s", tmpl);
	snprintf(sess_path, sizeof(sess_path), "%s/session", home);

	RUN(none);
	RUN(round_trip);
	RUN(mode_despite_umask);
	RUN(save_never_through_symlink);
	RUN(loose_modes);
	RUN(symlink_refused);
	RUN(not_regular);
	RUN(other_owner);
	RUN(malformed);
	RUN(remove_session);
	RUN(expiry_and_wipe);

	unlink(sess_path);
	if (rmdir(home) != 0)
		fprintf(stderr, "%s not empty after the test\n", home);
	return harness_end();
}
