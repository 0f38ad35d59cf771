/*
 * home.h - the client's home folder, which holds its config file, its
 * session and e2e-recv's state: $E2E_HOME, else $XDG_CONFIG_HOME/e2e,
 * else ~/.config/e2e. It is created with mode 0700.
 */
#ifndef E2E_HOME_H
#define E2E_HOME_H

#include <stddef.h>

#include "base/report.h"

#define HOME_PATH_MAX 4096

/* Finds the home folder's path. Returns 0, or 78 (in rep) when no
 * environment variable says where it is. */
int home_find(char *out, size_t size, struct report *rep);

/* Creates the home folder (and missing parents) with mode 0700. Returns
 * 0 or 73 (in rep, with a warning when others may write to it). */
int home_create(const char *dir, struct report *rep);

/* dir "/" name into out; 0, or 78 (in rep) when too long. */
int home_file(const char *dir, const char *name, char *out, size_t size,
    struct report *rep);

#endif
