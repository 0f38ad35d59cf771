/*
 * replay.h - the replay cache of e2e-decrypt's stream mode (E4): which
 * signed messages (sender, jti) were shown, remembered across runs for
 * as long as a message's iat is accepted, so that a second copy (the
 * same JWE again, or the same inner JWS in a new JWE) is dropped.
 *
 * HOME/replay.log, mode 0600, append-only, one line per shown message:
 *   SENDER JTI IAT [ID]\n
 * SENDER a user name (names.h), JTI 1 to REPLAY_JTI_MAX printable ASCII
 * characters without spaces (0x21 to 0x7e), IAT decimal seconds, ID the
 * id of the message that carried it (the server's), when known: 1 to
 * REPLAY_MSG_MAX such characters. Lines
 * that do not have this shape are ignored. Each line is appended with
 * one write(2) on an O_APPEND descriptor, so processes appending at once
 * never mix their lines and need no lock. replay_open takes a lock on
 * HOME/replay.lock while it reads, repairs and compacts the file, so two
 * processes never rewrite it at once; a process that appended to the
 * file a compaction has just replaced notices it (the old file has no
 * name left) and appends its line again to the new one, and lines
 * appended while the rewrite ran are carried over, so none is lost.
 */
#ifndef E2E_REPLAY_H
#define E2E_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "base/report.h"

#define REPLAY_WINDOW_DEFAULT (30 * 24 * 3600)	/* seconds */
#define REPLAY_FUTURE_MAX 300	/* seconds of clock skew allowed */
#define REPLAY_JTI_MAX 128	/* bytes */
#define REPLAY_MSG_MAX 64	/* bytes of a message id */
#define REPLAY_LOG_MAX ((size_t)64 << 20)	/* a larger log is refused */

enum replay_verdict {
	REPLAY_NEW = 0,
	REPLAY_SEEN = 1,
	REPLAY_TOO_OLD = 2,
	REPLAY_FUTURE = 3,
	REPLAY_AGAIN = 4,	/* the same message (same id) read again */
};

struct replay;

/*
 * Opens (creating, mode 0600) HOME/replay.log and loads the entries
 * still inside the window (iat >= now - window_s); home must exist. A
 * broken last line (a kill in mid-write) is ignored and cut off, so the
 * next line starts on a line of its own. When more than half of the
 * file's complete lines are dropped (outside the window, malformed or
 * repeated), the file is rewritten without them: a temporary file 0600
 * beside it, fsync, rename. A failed rewrite is only a warning (the old
 * file is still right). A log that is a symlink, not a regular file or
 * larger than REPLAY_LOG_MAX is refused.
 * Returns 0 or an exit code (reported in rep, with the warning of a
 * failed rewrite): 73 (cannot create or open, or refused), 74 (cannot
 * read), 70 (window_s <= 0, out of memory).
 */
int replay_open(const char *home, int64_t window_s, int64_t now,
    struct replay **out, struct report *rep);

/*
 * What to do with a message, in this order: REPLAY_AGAIN when (sender,
 * jti) was recorded with the same message id msg (the same message read
 * again, from a saved inbox: no replay); REPLAY_SEEN when it was recorded
 * otherwise (by this or an earlier run, or by another process before
 * this one opened the log: a copy delivered again); REPLAY_TOO_OLD when iat < now -
 * window (it could no longer be told from a replay); REPLAY_FUTURE when
 * iat > now + REPLAY_FUTURE_MAX; else REPLAY_NEW. The same jti from two
 * senders is two different messages. A sender or jti that replay_record
 * would refuse is never SEEN.
 */
enum replay_verdict replay_check(const struct replay *r, const char *sender,
    const char *jti, int64_t iat, const char *msg, int64_t now);

/*
 * Records (sender, jti, iat, and the message id msg, or NULL) as shown: in memory (kept even when the
 * write fails, so this run still drops a second copy) and one appended
 * line; a pair recorded already is not written again. Returns 0, 65
 * (reported) when sender is not a valid user name or jti is empty,
 * longer than REPLAY_JTI_MAX or holds a space or a character outside
 * 0x21 to 0x7e (nothing recorded), 74 (reported) when the line cannot
 * be written, 70 when out of memory.
 */
int replay_record(struct replay *r, const char *sender, const char *jti,
    int64_t iat, const char *msg, struct report *rep);

/* 1 when jti can be recorded: 1 to REPLAY_JTI_MAX characters from 0x21
 * to 0x7e. */
int replay_valid_jti(const char *jti);

/* Closes the log and frees everything; r may be NULL. */
void replay_close(struct replay *r);

#ifdef E2E_TEST_HOOKS
/* Test builds only: fn runs during a rewrite, after the log was read
 * and before the new file replaces it (where another process may
 * append). */
void replay_test_set_before_rename(void (*fn)(void));
#endif

#endif
