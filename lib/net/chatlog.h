/*
 * chatlog.h - e2e-chat's history of a conversation: HOME/chats/NAME,
 * one JSON line a message {"t":SECONDS,"who":NAME|"me","text":TEXT
 * [,"mark":WHY]}, where TEXT is what the terminal showed (escaped
 * already). The file is mode 0600 in a 0700 folder, in plain text: who
 * reads the disk reads the conversation (docs/CLIENT.md).
 */
#ifndef E2E_CHATLOG_H
#define E2E_CHATLOG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/home.h"
#include "base/report.h"

/* Past this size, opening the history keeps only its last half. */
#define CHATLOG_MAX ((size_t)4 << 20)

struct chatlog {
	int fd;
	char path[HOME_PATH_MAX];
};

/* Opens (creates) the history of the conversation with peer in home.
 * Returns 0 or an exit code (in rep). */
int chatlog_open(struct chatlog *l, const char *home, const char *peer,
    struct report *rep);

/* Appends one message. Returns 0 or 74 (in rep). */
int chatlog_add(struct chatlog *l, int64_t t, const char *who,
    const char *text, const char *mark, struct report *rep);

/* The last n messages (a JSON array of the objects above, oldest first;
 * lines that are not such objects are skipped). 0 or an exit code. */
int chatlog_tail(struct chatlog *l, size_t n, json_t **out,
    struct report *rep);

void chatlog_close(struct chatlog *l);

#endif
