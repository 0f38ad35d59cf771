/*
 * home.h - the client's home folder, which holds its config file, its
 * session and e2e-recv's state: $E2E_HOME, else $XDG_CONFIG_HOME/e2e,
 * else ~/.config/e2e. It is created with mode 0700.
 */
#ifndef E2E_HOME_H
#define E2E_HOME_H

#include <stddef.h>

#define HOME_PATH_MAX 4096

/* Finds the home folder's path. Returns 0, or 78 (reported) when no
 * environment variable says where it is. */
int home_find(char *out, size_t size);

/* Creates the home folder (and missing parents) with mode 0700. Returns
 * 0 or 73 (reported). */
int home_create(const char *dir);

/* dir "/" name into out; 0, or 78 (reported) when too long. */
int home_file(const char *dir, const char *name, char *out, size_t size);

#endif
