/*
 * config.h - the client's config file, HOME/config: lines of
 * "key = value", blank lines, and lines starting with "#". Keys: server,
 * cacert, pin, proxy, identity, name (the user's account name, when no
 * session says it: lib/keys/myname.h), fs_grace (e2e-decrypt's
 * --fs-grace: how long a used one-time prekey is kept), prekeys
 * ("no": no tool publishes prekeys by itself: lib/net/prekeydir.h). A
 * relative path (cacert, identity) is taken from the home folder. An
 * unknown key, a key given twice or a file others may write is refused,
 * so a mistake is never silently ignored (the file's policy:
 * file_policy_config in base/fileio.h).
 */
#ifndef E2E_CONFIG_H
#define E2E_CONFIG_H

#include <stddef.h>

#include "base/report.h"

struct config {
	char *server;
	char *cacert;
	char *pin;
	char *proxy;
	char *identity;
	char *name;
	char *fs_grace;
	char *prekeys;
};

/* Reads HOME/config into c (all NULL when there is none). Returns 0, or
 * 78 (in rep, with the line number). */
int config_load(const char *home, struct config *c, struct report *rep);

void config_free(struct config *c);

/*
 * The "identity = PATH" setting (the user's own private key) of the
 * client's config file, in the home folder home_find() finds, into path
 * (size bytes). Returns 0 when set, -1 when not, or an exit code
 * (in rep).
 */
int config_identity_path(char *path, size_t size, struct report *rep);

#endif
