/*
 * sockwatch.h - the sockets libmicrohttpd is not watching, on one thread
 * with its own epoll:
 *
 * - Suspended requests (long-polls): MHD takes a suspended connection out
 *   of its poll set, so a client that went away would keep its slot until
 *   the wait ends. A watched socket that hangs up (EOF, reset) calls
 *   gone(arg) once, under the watch lock; when gone returns 1, resume(arg)
 *   follows, outside it.
 *
 * - Lingering closes: after an early answer (413, 403 while the client
 *   still sends its body), closing at once makes the kernel reset the
 *   connection, and the client may lose the answer it has not read yet.
 *   A lingering socket (a dup of MHD's, taken before MHD closes its own)
 *   is read and discarded until the client closes, for at most linger_ms
 *   and linger_bytes, then closed, as nginx's lingering_close does.
 */
#ifndef E2E_SOCKWATCH_H
#define E2E_SOCKWATCH_H

#include <stddef.h>
#include <stdint.h>

#include "base/report.h"

struct sockwatch_config {
	size_t max_watched;	/* suspended requests watched at once */
	size_t max_lingering;	/* sockets lingering at once */
	unsigned linger_ms;	/* 0: no lingering close */
	size_t linger_bytes;
	/* The peer of a watched socket hung up; under the watch lock. */
	int (*gone)(void *arg);
	/* After gone() returned 1, outside the lock. */
	void (*resume)(void *arg);
};

struct sockwatch;

/* Starts the thread. NULL on failure (said in rep). */
struct sockwatch *sockwatch_new(const struct sockwatch_config *c,
    struct report *rep);
/* Stops the thread and closes the lingering sockets. Nothing may be
 * watched any more. */
void sockwatch_free(struct sockwatch *sw);

/* Watches fd (not taken: the caller keeps it open until unwatched or
 * gone) for a hang-up. Sets *id (never 0). Returns 0, or -1 when the
 * table is full (then nothing is watched). */
int sockwatch_watch(struct sockwatch *sw, int fd, void *arg, uint64_t *id);
/* Stops watching id. Returns 1 when it was still watched, 0 when gone()
 * has already run for it (it never runs after this returns). */
int sockwatch_unwatch(struct sockwatch *sw, uint64_t id);

/* Takes fd (a socket whose answer is sent) for a lingering close; closes
 * it at once when lingering is off or the table is full. */
void sockwatch_linger(struct sockwatch *sw, int fd);
/* How many sockets linger now. */
size_t sockwatch_lingering(struct sockwatch *sw);

#endif
