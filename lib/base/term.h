/*
 * term.h - making untrusted text safe to show on a terminal.
 */
#ifndef E2E_TERM_H
#define E2E_TERM_H

#include <stddef.h>

/*
 * Copies in (len bytes) to out (size bytes, NUL-terminated), replacing
 * control characters (C0, DEL, C1), bidirectional formatting characters
 * and bytes that are not valid UTF-8 with \xHH escapes, and truncating
 * with "..." only when the whole does not fit. Returns out.
 */
char *term_escape(const char *in, size_t len, char *out, size_t size);

/* Returns 1 when the len bytes at p are valid UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF). */
int utf8_valid(const unsigned char *p, size_t len);

/* Returns 1 when p holds text that is safe to write to a terminal:
 * valid UTF-8 with no control character other than tab and newline. */
int term_safe_text(const unsigned char *p, size_t len);

#endif
