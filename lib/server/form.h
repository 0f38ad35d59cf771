/*
 * form.h - application/x-www-form-urlencoded bodies, read exactly as the
 * original server read them, so that the original Python client, which
 * built its bodies by hand without percent-encoding them, is understood:
 * the original ran Express's urlencoded parser (body-parser with
 * extended: false), which is Node's querystring.parse over the body
 * decoded as UTF-8.
 *
 * - The body is decoded as UTF-8, each maximal ill-formed subpart
 *   becoming U+FFFD (as Node's StringDecoder does), and a leading
 *   U+FEFF dropped (iconv-lite). 1000 or more '&' are refused (413), as
 *   body-parser refuses them.
 * - Pairs are split on '&', name from value on the first '='; a pair
 *   without '=' is a name with an empty value; empty pairs are skipped.
 * - '+' is a space. A name or value is percent-decoded only when
 *   querystring.parse would: when it holds '%' and two hex digits (with
 *   that function's exact scan). Decoding is decodeURIComponent; when
 *   that fails (a '%' without two hex digits, escapes that are not UTF-8),
 *   Node's fallback: each UTF-16 unit cut to its low byte, %XX decoded,
 *   any other '%' kept, then the bytes read as UTF-8 with U+FFFD.
 *
 * Two deliberate differences (docs/COMPAT.md): the value of "message",
 * when it holds a raw '"' (the original client's JSON text always
 * does, and no form encoder leaves a '"' raw), is not percent-decoded,
 * so a ciphertext holding '%' and two hex digits arrives unchanged (the
 * original server altered it); and a name given twice (Express made an
 * array) or a field holding a NUL byte is refused with 400.
 */
#ifndef E2E_FORM_H
#define E2E_FORM_H

#include <stddef.h>

#include <jansson.h>

#include "base/report.h"

/* A body with this many '&' or more is refused (413), as body-parser's
 * parameterLimit refused it. */
#define FORM_FIELDS_MAX 1000

/*
 * Parses body (len bytes, not NUL-terminated) into *out, a new object of
 * string members (valid UTF-8). Returns 0, or the HTTP status of the
 * refusal (400, 413; 500 when out of memory), its reason the first error
 * of rep (code 65; 70 when out of memory).
 */
int form_parse(const char *body, size_t len, json_t **out,
    struct report *rep);

#endif
