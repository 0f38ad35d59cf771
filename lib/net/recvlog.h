/*
 * recvlog.h - e2e-recv's memory, so that a message is printed once even
 * when e2e-recv dies between printing it and acknowledging it.
 *
 * HOME/recv-USERID.log is an append-only log of lines:
 *   P ID DEV INO OFFSET   about to print ID at OFFSET of the regular file
 *                         DEV:INO that stdout is ("P ID - - -" otherwise)
 *   D ID                  ID was printed (written and flushed)
 *   A ID                  ID was acknowledged
 *   X ID                  ID was not printed after all (nothing written)
 * An ID with P or D and no A was (maybe) printed but not acknowledged.
 * For a P without its D, the output file itself says whether the line
 * got there: a complete line starting {"id":"ID" at OFFSET was printed,
 * a partial one (a kill in mid-write) is cut off and printed again. The
 * log is emptied whenever nothing is pending. A lock on HOME/recv-USERID.lock
 * keeps a second e2e-recv of the same user out.
 */
#ifndef E2E_RECVLOG_H
#define E2E_RECVLOG_H

#include <stddef.h>

#include "base/report.h"

struct recvlog;

/*
 * Opens (creating) and locks the log of user_id in home, reading what it
 * remembers; out_fd is where the lines go (stdout). Returns 0 (with a
 * warning in rep when a partial line could not be cut off), or 75 (in
 * rep) when another e2e-recv holds the lock, or 73.
 */
int recvlog_open(const char *home, const char *user_id, int out_fd,
    struct recvlog **out, struct report *rep);

/* 1 when id was printed before and not yet acknowledged. */
int recvlog_printed(const struct recvlog *l, const char *id);

/* Records that id is about to be printed / was printed. 0 or 74 (in
 * rep). */
int recvlog_begin(struct recvlog *l, const char *id, struct report *rep);
int recvlog_done(struct recvlog *l, const char *id, struct report *rep);

/* Records that nothing of id's line was written (the write failed). */
int recvlog_unbegin(struct recvlog *l, const char *id, struct report *rep);

/* Records that ids were acknowledged; empties the log when nothing is
 * left pending. 0 or 74 (in rep). */
int recvlog_acked(struct recvlog *l, const char *const *ids, size_t n,
    struct report *rep);

/*
 * Forgets every remembered id that is not among the n listed: given the
 * server's complete list of waiting messages, an id it no longer has
 * was acknowledged (the answer was lost, or another machine did it) and
 * can never come again. 0 or 74 (in rep).
 */
int recvlog_prune(struct recvlog *l, const char *const *listed, size_t n,
    struct report *rep);

/*
 * After standard output's sync failed: the lines printed may never
 * reach the disk (the kernel may drop the pages whose write-back failed,
 * and a later sync of the same file does not say so), so nothing the
 * log says was printed can be trusted. The log is emptied and synced,
 * or else removed: the next run prints every id it held again (at most
 * a duplicate, never a loss). 0, or 74 (in rep) when neither could be
 * done, and then the log must be removed by hand (recvlog_path).
 */
int recvlog_distrust(struct recvlog *l, struct report *rep);

/* HOME/recv-USERID.log, for messages. */
const char *recvlog_path(const struct recvlog *l);

/* 1 when a line was begun into a pipe and maybe cut short by a kill:
 * the next line should start on a line of its own. */
int recvlog_torn(const struct recvlog *l);

void recvlog_close(struct recvlog *l);

#endif
