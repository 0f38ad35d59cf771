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

#define SESSION_TOKEN_MAX 8192
#define SESSION_URL_MAX 2048

struct session {
	char server[SESSION_URL_MAX + 1];
	char name[NAME_LEN_MAX + 1];
	char id[ID_LEN + 1];
	char token[SESSION_TOKEN_MAX + 1];
	int64_t expires_at;
};

/* Reads HOME/session. Returns 0; -1 when there is none (nothing said);
 * or 77 (reported) when it cannot be used. */
int session_load(const char *home, struct session *s);

/* Writes s as HOME/session. Returns 0 or an exit code (reported). */
int session_save(const char *home, const struct session *s);

/* Removes HOME/session; *removed says whether there was one. Returns 0
 * or 74 (reported). */
int session_remove(const char *home, int *removed);

/* 1 when t (len bytes) can be a token: a JWT's characters (base64url
 * and dots), nothing that could end a header line. */
int session_token_valid(const char *t, size_t len);

/* 1 when the session has expired at time now. */
int session_expired(const struct session *s, int64_t now);

/* Wipes the token. */
void session_wipe(struct session *s);

#endif
