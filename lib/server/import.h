/*
 * import.h - moving an original E2E Chat server over: its users and its
 * waiting messages, from its MongoDB collections as mongoexport writes
 * them (one JSON object a line, the default):
 *
 *   users:    {"_id":{"$oid":HEX24},"name":NAME,"password":"$2a$10$..."}
 *   messages: {"_id":{"$oid":HEX24},"to":NAME,"from":NAME,"message":TEXT}
 *
 * Other members (mongoose's "__v", timestamps) are ignored. A user
 * becomes an account that signs in with its old password: its bcrypt
 * hash is kept (auth.h, AUTH_ORIGINAL_PREFIX) and replaced by this
 * server's scheme at its first sign-in. A message goes, as it was
 * stored (the seed text the original client reads back with
 * getmessage), into the mailbox of its recipient, which must be an
 * account imported from the original (never another account that has
 * taken the name here). Its id orders as the original's _id did (its
 * time, then the rest), so getmessage hands out the oldest first, and
 * its sent_at is the _id's time.
 *
 * Both are idempotent: each record imported is marked in the store's
 * meta table by its _id (or, without one, by the name of a user or a
 * hash of a message), so a second run adds nothing, not even a message
 * delivered and deleted meanwhile, nor an account deleted meanwhile. A
 * record that cannot be imported is refused with a line in the server's
 * log (log.h) saying why, and the others go on.
 */
#ifndef E2E_IMPORT_H
#define E2E_IMPORT_H

#include "server/server.h"
#include "server/store.h"

/*
 * Imports c->import_users, then c->import_messages (each NULL for
 * none), before the server serves. Says in the log (log.h) a line for
 * each refused record (the first 100 of a file; as many as a report
 * cannot hold, some from the database writer's thread) and one line per
 * file saying how many records were imported, there already, and
 * refused. Returns 0, or 66 when a file cannot be read (said by the
 * record reader): bad records never stop the server from starting.
 */
int import_run(struct store *s, const struct server_config *c);

#endif
