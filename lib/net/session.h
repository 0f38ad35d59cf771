/*
 * session.h - the session saved by "e2e-account signin" and used by the
 * other client tools: HOME/session, one JSON object
 *   {"server":URL,"name":NAME,"id":ID,"token":JWT,"expires_at":SECONDS}
 * with mode 0600, written atomically. A session file that is a symlink,
 * belongs to someone else or can be read by others is refused
 * (file_policy_session in base/fileio.h).
 */
#ifndef E2E_SESSION_H
#define E2E_SESSION_H

#include <stdint.h>

#include "base/names.h"
#include "base/report.h"

#define SESSION_TOKEN_MAX 8192
#define SESSION_URL_MAX 2048

struct session {
	char server[SESSION_URL_MAX + 1];
	char name[NAME_LEN_MAX + 1];
	char id[ID_LEN + 1];
	char token[SESSION_TOKEN_MAX + 1];
	int64_t expires_at;
};

/* Reads HOME/session; *found says whether there was one (none is not an
 * error). Returns 0, or 77 (in rep) when it cannot be used. */
int session_load(const char *home, struct session *s, int *found,
    struct report *rep);

/* Writes s as HOME/session. Returns 0 or an exit code (in rep). */
int session_save(const char *home, const struct session *s,
    struct report *rep);

/* Removes HOME/session; *removed says whether there was one. Returns 0
 * or 74 (in rep). */
int session_remove(const char *home, int *removed, struct report *rep);

/* 1 when t (len bytes) can be a token: a JWT's characters (base64url
 * and dots), nothing that could end a header line. */
int session_token_valid(const char *t, size_t len);

/* 1 when the session has expired at time now. */
int session_expired(const struct session *s, int64_t now);

/* Wipes the token. */
void session_wipe(struct session *s);

#endif
