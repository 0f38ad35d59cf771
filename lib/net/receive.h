/*
 * receive.h - what e2e-recv does: fetch the signed-in user's messages,
 * print each as one JSON line
 *   {"id","from","to","sent_at","message"}
 * ("message" parsed back into a JSON object when it is a JWE, else the
 * string the server keeps), and acknowledge a message only after its
 * line was written, flushed and (for a file) synced, remembering what
 * was printed (recvlog.h) so that nothing is lost and nothing repeated.
 */
#ifndef E2E_RECEIVE_H
#define E2E_RECEIVE_H

#include <signal.h>

#include "net/client.h"

struct receive_opts {
	const char *from;	/* only from this user, or NULL */
	unsigned long limit;	/* at most this many (0: all) */
	long wait_s;		/* long-poll up to this when there is none */
	int follow;		/* until *stop, reconnecting after errors */
	int peek;		/* print, acknowledge nothing, remember nothing */
	int legacy;		/* the original take-one route (needs from) */
	volatile sig_atomic_t *stop;	/* set by SIGINT/SIGTERM */
};

/* Prints to stdout. Returns 0 (also when stopped by *stop), or an exit
 * code, in rep: 74 when stdout fails (nothing more is acknowledged),
 * and the codes of api.h. What is said before a line, or before a pause
 * of --follow, is shown then (client_say), the rest left in rep. */
int receive_run(struct client *c, const struct receive_opts *o,
    struct report *rep);

#endif
