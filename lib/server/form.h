/*
 * form.h - application/x-www-form-urlencoded bodies, as the original
 * Python client sent them, read into a JSON object of strings so that the
 * routes see one shape whatever the content type.
 */
#ifndef E2E_FORM_H
#define E2E_FORM_H

#include <stddef.h>

#include <jansson.h>

/*
 * Parses body into a new object of string members. Refuses (NULL, with
 * why) a malformed %-escape, a name given twice, a NUL byte, and text that
 * is not UTF-8.
 */
json_t *form_parse(const char *body, size_t len, char *why, size_t size);

#endif
