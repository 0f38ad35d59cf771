/*
 * charset.h - text encodings at the edges: UTF-8 repaired the way web
 * decoders (and Node.js) repair it, and Latin-1, the text of the
 * original E2E Chat client, to and from UTF-8.
 */
#ifndef E2E_CHARSET_H
#define E2E_CHARSET_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/*
 * Appends p (n bytes) to out as valid UTF-8: every maximal subpart of an
 * ill-formed sequence becomes one U+FFFD (EF BF BD), as the WHATWG
 * Encoding Standard's decoder does (Node's Buffer.toString and
 * StringDecoder, browsers). Valid input is copied unchanged. Returns 0
 * or -1 (out of memory).
 */
int utf8_repair(const uint8_t *p, size_t n, struct buf *out);

/* Where UTF-8 text cannot become Latin-1. */
struct latin1_error {
	int invalid;		/* 1: not UTF-8 at all; 0: a character > U+00FF */
	uint32_t cp;		/* that character (invalid: the byte) */
	size_t offset;		/* its byte offset in the input */
	size_t index;		/* it is character number index (from 1) */
};

/*
 * Appends the Latin-1 bytes of the UTF-8 text p (n bytes) to out.
 * Returns 0; -1 when p is not UTF-8 or holds a character above U+00FF
 * (*e says which and where; out then holds the part converted); or -2
 * when out of memory.
 */
int latin1_from_utf8(const uint8_t *p, size_t n, struct buf *out,
    struct latin1_error *e);

/* Appends the Latin-1 text p (n bytes) to out as UTF-8 (at most 2n
 * bytes). Returns 0 or -1 (out of memory). */
int latin1_to_utf8(const uint8_t *p, size_t n, struct buf *out);

#endif
