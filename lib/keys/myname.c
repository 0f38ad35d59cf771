/* myname.c - the user's own name (see myname.h). */
#include "keys/myname.h"
#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/home.h"
#include "base/jsonio.h"
#include "base/term.h"

#include <errno.h>
#include <string.h>

const char *
myname_source_text(enum myname_source src, const char *opt)
{
	switch (src) {
	case MYNAME_SESSION:
		return "the signed-in session";
	case MYNAME_CONFIG:
		return "the config file";
	case MYNAME_OPTION:
		return opt;
	default:
		return "nothing";
	}
}

/* Why the session file cannot be used, for the warning. */
static const char *
unusable(enum file_status st)
{
	switch (st) {
	case FILE_SYMLINK:
		return "it is a symbolic link";
	case FILE_NOT_OWNER:
		return "it belongs to another user";
	case FILE_EXPOSED:
		return "other users can read it";
	case FILE_TOO_LARGE:
		return "it is too large to be a session";
	case FILE_CANNOT_OPEN:
	case FILE_CANNOT_READ:
		return strerror(errno);
	case FILE_NO_MEMORY:
		return "out of memory";
	default:
		return "it is not a regular file";
	}
}

/*
 * The "name" of HOME/session, read as lib/net/session.c reads it (the
 * file holds a token: file_policy_session). Returns 0 with name set, -1
 * when there is none or it is not usable (a warning says why). The
 * file's bytes, token included, are wiped when freed (BUF_SECRET_INIT);
 * its JSON tree is freed at once.
 */
static int
session_name(const char *home, char name[NAME_LEN_MAX + 1],
    struct report *rep)
{
	char path[HOME_PATH_MAX];
	struct buf b = BUF_SECRET_INIT;
	enum file_status st;
	const char *v, *why = NULL;
	json_t *o = NULL;
	size_t len;
	int rc = -1;

	if (home_file(home, "session", path, sizeof(path), rep) != 0)
		return -1;
	if ((st = file_read_private(path, &file_policy_session, &b)) ==
	    FILE_ABSENT)
		return -1;
	if (st != FILE_OK) {
		why = unusable(st);
		goto out;
	}
	o = jsonio_parse((const char *)b.p, b.len, NULL);
	v = json_is_object(o) ? jsonio_str(o, "name", &len) : NULL;
	if (v == NULL || !claim_name_valid(v, len)) {
		why = "it is not a valid session";
		goto out;
	}
	memcpy(name, v, len + 1);
	rc = 0;
out:
	if (why != NULL) {
		report_warn(rep, "not taking your name from %s: %s", path, why);
		report_hint(rep, "sign in again: e2e-account signin NAME");
	}
	json_decref(o);
	buf_free(&b);
	return rc;
}

int
myname_find(const char *given, const char *opt,
    char name[NAME_LEN_MAX + 1], enum myname_source *src,
    struct report *rep)
{
	char home[HOME_PATH_MAX], sess[NAME_LEN_MAX + 1], shown[3 * 64];
	struct config cfg;
	int rc, have_sess;

	*src = MYNAME_NONE;
	name[0] = '\0';
	if (given != NULL && !claim_name_valid(given, strlen(given))) {
		term_escape(given, strlen(given), shown, sizeof(shown));
		return report_error(rep, E2E_EX_USAGE, "%s %s is not a user "
		    "name (1 to %d of A-Z a-z 0-9 . _ -)", opt, shown,
		    NAME_LEN_MAX);
	}
	if ((rc = home_find(home, sizeof(home), rep)) != 0 ||
	    (rc = config_load(home, &cfg, rep)) != 0)
		return rc;
	have_sess = session_name(home, sess, rep) == 0;
	rc = 0;
	if (cfg.name != NULL && !claim_name_valid(cfg.name,
	    strlen(cfg.name))) {
		term_escape(cfg.name, strlen(cfg.name), shown, sizeof(shown));
		rc = report_error(rep, E2E_EX_CONFIG, "the config file's name "
		    "= %s is not a user name", shown);
	} else if (have_sess && cfg.name != NULL &&
	    strcmp(cfg.name, sess) != 0) {
		rc = report_error(rep, E2E_EX_CONFIG, "the config file says "
		    "name = %s, but you are signed in as %s", cfg.name, sess);
		report_hint(rep, "sign in as %s, or change the name in the "
		    "config file", cfg.name);
	} else if (have_sess) {
		memcpy(name, sess, strlen(sess) + 1);
		*src = MYNAME_SESSION;
	} else if (cfg.name != NULL) {
		memcpy(name, cfg.name, strlen(cfg.name) + 1);
		*src = MYNAME_CONFIG;
	} else if (given != NULL) {
		memcpy(name, given, strlen(given) + 1);
		*src = MYNAME_OPTION;
	}
	if (rc == 0 && given != NULL && strcmp(given, name) != 0) {
		report_error(rep, E2E_EX_USAGE, "%s %s contradicts %s, which "
		    "says you are %s", opt, given, myname_source_text(*src,
		    opt), name);
		report_hint(rep, "leave %s out, or sign in as %s", opt, given);
		name[0] = '\0';
		*src = MYNAME_NONE;
		rc = E2E_EX_USAGE;
	}
	config_free(&cfg);
	return rc;
}
