/*
 * names.h - what a user name and an id look like, the same for the
 * server, which enforces it, and the clients, which check before asking.
 */
#ifndef E2E_NAMES_H
#define E2E_NAMES_H

#include <stddef.h>

#define NAME_LEN_MAX 64	/* a user name: 1 to 64 of [A-Za-z0-9._-], not
			 * only dots */
#define ID_LEN 26	/* user and message ids: Crockford base32 */

/* 1 when s (len bytes) is a valid user name. */
int name_valid(const char *s, size_t len);

/* 1 when s is a well-formed id: exactly 26 Crockford base32 digits
 * (upper case, no I, L, O or U). */
int id_valid(const char *s);

#endif
