/*
 * myname.h - the user's own account name, as e2e-encrypt signs it
 * ("sub") and e2e-decrypt looks for it among a message's recipients
 * ("aud_names"), without the network (so neither tool links libcurl):
 *
 *   1. the name of the signed-in session, HOME/session ("name"; an
 *      expired session still says who signed in on this machine);
 *   2. else the "name = NAME" line of the client's config file;
 *   3. else the name given on the command line (--from, --as).
 *
 * A name given on the command line must agree with the session's and
 * the config's; the config's must agree with the session's.
 */
#ifndef E2E_MYNAME_H
#define E2E_MYNAME_H

#include <stddef.h>

#include "base/names.h"
#include "base/report.h"

enum myname_source {
	MYNAME_NONE = 0,
	MYNAME_SESSION,
	MYNAME_CONFIG,
	MYNAME_OPTION,
};

/*
 * Finds the user's name into name (NAME_LEN_MAX + 1 bytes). given is
 * the name given with the option opt ("--from"), or NULL. Returns 0
 * with *src set (MYNAME_NONE, name empty, when no source names the
 * user: nothing said); 64 (reported in rep, naming both names) when
 * given contradicts the session or the config; 78 (reported) when the
 * config contradicts the session or is unusable. A session file that
 * cannot be trusted (a symbolic link, another user's, readable by
 * others, not a session) is not used: a warning in rep says why, and
 * the other sources are asked.
 */
int myname_find(const char *given, const char *opt,
    char name[NAME_LEN_MAX + 1], enum myname_source *src,
    struct report *rep);

/* "the signed-in session", "the config file", "OPT": where it came from,
 * for messages. */
const char *myname_source_text(enum myname_source src, const char *opt);

#endif
