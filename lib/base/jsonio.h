/*
 * jsonio.h - strict JSON reading on jansson, and the one scan that lets
 * a large envelope (or a record line holding one) be read without
 * copying its ciphertext.
 */
#ifndef E2E_JSONIO_H
#define E2E_JSONIO_H

#include <stddef.h>

#include <jansson.h>

#include "base/report.h"

/*
 * Parses exactly one JSON value from text, rejecting duplicate members
 * at every level, invalid UTF-8 and \u0000 (jansson's defaults plus
 * JSON_REJECT_DUPLICATES). On failure returns NULL with one short,
 * terminal-safe error in rep ("REASON at line L, column C"): code 65,
 * or 70 when jansson ran out of memory.
 */
json_t *jsonio_parse(const char *text, size_t len, struct report *rep);
/* The same with extra jansson flags (JSON_ALLOW_NUL for the seed format,
 * whose strings are arbitrary Latin-1 bytes). */
json_t *jsonio_parse_flags(const char *text, size_t len, size_t flags,
    struct report *rep);

/*
 * Finds, in a JSON object text, the string value of the top-level member
 * named name (written without escapes) whose content holds no backslash.
 * On success sets *start and *end to the content (between the quotes)
 * and returns 0; returns -1 when there is no such member or the text is
 * not shaped as expected (the caller then parses the whole text).
 */
int jsonio_member_span(const char *text, size_t len, const char *name,
    size_t *start, size_t *end);

/*
 * The same scan over the first len bytes of a longer text (a file read
 * in pieces): *start is where the content of the first top-level string
 * member named name begins, wherever it ends. Returns 0, or -1 when no
 * such member starts within these bytes.
 */
int jsonio_member_start(const char *text, size_t len, const char *name,
    size_t *start);

/*
 * The same scan for the first top-level member named name (written
 * without escapes) when its value is an object: [*start, *end) is that
 * value, braces included. Returns 0, or -1 when there is none, its value
 * is no object, or the text is not shaped as expected. (A record line's
 * envelope: lib/format/records.c.)
 */
int jsonio_object_span(const char *text, size_t len, const char *name,
    size_t *start, size_t *end);

/* The string member key of obj: NULL when absent or not a string.
 * *len (when not NULL) receives the length. */
const char *jsonio_str(const json_t *obj, const char *key, size_t *len);

/*
 * Returns NULL when every member name of obj is in allowed (a
 * NULL-terminated list), otherwise the first name that is not.
 */
const char *jsonio_unknown_member(const json_t *obj,
    const char *const *allowed);

/* Compact serialization (no spaces, insertion order) into a NUL-terminated
 * malloc'd string; NULL when out of memory. */
char *jsonio_dump(const json_t *v);
/* The same with every non-ASCII character as a \u escape: a stranger's
 * strings (C1 controls, bidirectional marks) reach no terminal raw. */
char *jsonio_dump_ascii(const json_t *v);

/* Makes jansson wipe every block it frees (for tools whose JSON holds
 * passwords or tokens). Call before any other jansson call. */
void jsonio_wipe_on_free(void);

#endif
