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

/* 1 when s (len bytes) is a valid user name: claim_name_valid, and not
 * only dots. */
int name_valid(const char *s, size_t len);

/*
 * 1 when s (len bytes) is a name as the signed claims of a message carry
 * it (lib/format/message.h): 1 to NAME_LEN_MAX characters of A-Z a-z 0-9 . _ -
 * (the alphabet of user names, without their other rules, so that the
 * names of accounts made under older rules stay readable).
 */
int claim_name_valid(const char *s, size_t len);

/*
 * 1 when s (len bytes) may be the name of a new account: a valid name
 * that does not start with '-' or '.' (it would read as an option, or a
 * hidden file). Names already taken stay valid (name_valid).
 */
int name_valid_new(const char *s, size_t len);

/*
 * The skeleton of a name: what it looks like, so that two names people
 * cannot tell apart have the same skeleton. '.', '_' and '-' are dropped;
 * case is folded; i, l, 1 and '|' are one letter (capital I looks like
 * small l; with case folded, all six of i I l L 1 | are one), o and 0
 * are one; then "rn" reads as "m" and "vv" as "w", left to right.
 * Writes the NUL-terminated skeleton (at most len bytes) into out
 * (NAME_LEN_MAX + 1 bytes); a longer name is cut at NAME_LEN_MAX.
 */
void name_skeleton(const char *s, size_t len, char out[NAME_LEN_MAX + 1]);

/* 1 when s is a well-formed id: exactly 26 Crockford base32 digits
 * (upper case, no I, L, O or U). */
int id_valid(const char *s);

#endif
