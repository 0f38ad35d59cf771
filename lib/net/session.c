/* session.c - the saved session (see session.h). */
#include "net/session.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/home.h"
#include "base/jsonio.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int
session_token_valid(const char *t, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') ||
		    (t[i] >= 'A' && t[i] <= 'Z') ||
		    (t[i] >= '0' && t[i] <= '9') ||
		    t[i] == '-' || t[i] == '_' || t[i] == '.'))
			return 0;
	return len > 0;
}

static int
copy_member(const json_t *o, const char *key, char *dst, size_t size)
{
	const char *v;
	size_t len;

	if ((v = jsonio_str(o, key, &len)) == NULL || len >= size ||
	    memchr(v, '\0', len) != NULL)
		return -1;
	memcpy(dst, v, len + 1);
	return 0;
}

/* Reads the session file into b, refusing one another user could have
 * read or put there (file_policy_session). Returns 0 (*found 0 when
 * there is none) or an exit code (in rep). */
static int
read_session(const char *path, struct buf *b, int *found,
    struct report *rep)
{
	static const struct file_refusal why = {
		.refused = "is not a regular file",
		.not_owner = "belongs to another user",
		.exposed = "can be read by other users",
		.hint = "its token may have leaked: remove it and sign in "
		    "again (e2e-account signout; e2e-account signin NAME)",
	};
	int rc;

	rc = file_read_private_report(path, &file_policy_session, b,
	    E2E_EX_NOPERM, &why, rep);
	*found = rc == 0;
	return rc < 0 ? 0 : rc;
}

int
session_load(const char *home, struct session *s, int *found,
    struct report *rep)
{
	char path[HOME_PATH_MAX];
	struct buf b = BUF_SECRET_INIT;
	json_t *o = NULL, *exp;
	int rc;

	memset(s, 0, sizeof(*s));
	*found = 0;
	if (home_file(home, "session", path, sizeof(path), rep) != 0)
		return E2E_EX_NOPERM;
	if ((rc = read_session(path, &b, found, rep)) != 0 || !*found)
		goto out;
	rc = E2E_EX_NOPERM;
	if ((o = jsonio_parse((const char *)b.p, b.len, NULL)) == NULL ||
	    !json_is_object(o) ||
	    copy_member(o, "server", s->server, sizeof(s->server)) != 0 ||
	    copy_member(o, "name", s->name, sizeof(s->name)) != 0 ||
	    copy_member(o, "id", s->id, sizeof(s->id)) != 0 ||
	    copy_member(o, "token", s->token, sizeof(s->token)) != 0 ||
	    !json_is_integer(exp = json_object_get(o, "expires_at")) ||
	    !name_valid(s->name, strlen(s->name)) || !id_valid(s->id) ||
	    !session_token_valid(s->token, strlen(s->token))) {
		report_error(rep, rc, "%s is not a valid session", path);
		report_hint(rep, "sign in again: e2e-account signin NAME");
		goto out;
	}
	s->expires_at = json_integer_value(exp);
	rc = 0;
out:
	json_decref(o);
	buf_free(&b);
	if (rc != 0) {
		session_wipe(s);
		*found = 0;
	}
	return rc;
}

int
session_save(const char *home, const struct session *s, struct report *rep)
{
	char path[HOME_PATH_MAX], *text = NULL;
	json_t *o;
	int rc;

	if ((rc = home_file(home, "session", path, sizeof(path), rep)) != 0)
		return rc;
	o = json_pack("{s:s,s:s,s:s,s:s,s:I}", "server", s->server, "name",
	    s->name, "id", s->id, "token", s->token, "expires_at",
	    (json_int_t)s->expires_at);
	if (o == NULL || (text = jsonio_dump(o)) == NULL) {
		rc = report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		goto out;
	}
	json_decref(o);
	o = NULL;
	/* Replaces any earlier session, never through a symlink. */
	rc = file_write_atomic(path, text, strlen(text), 0600, -1, rep);
out:
	json_decref(o);
	if (text != NULL) {
		wipe(text, strlen(text));
		free(text);
	}
	return rc;
}

int
session_remove(const char *home, int *removed, struct report *rep)
{
	char path[HOME_PATH_MAX];

	*removed = 0;
	if (home_file(home, "session", path, sizeof(path), rep) != 0)
		return E2E_EX_IOERR;
	if (unlink(path) == 0) {
		*removed = 1;
		return 0;
	}
	if (errno == ENOENT)
		return 0;
	return report_errno(rep, E2E_EX_IOERR, "cannot remove %s", path);
}

int
session_expired(const struct session *s, int64_t now)
{
	return now >= s->expires_at;
}

void
session_wipe(struct session *s)
{
	wipe(s->token, sizeof(s->token));
}
