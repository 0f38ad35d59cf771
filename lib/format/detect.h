/*
 * detect.h - telling an envelope from anything else, without a key:
 * e2e-send refuses to send what is not one, so that plaintext never
 * leaves by mistake.
 */
#ifndef E2E_DETECT_H
#define E2E_DETECT_H

#include <stddef.h>

#include "base/report.h"

enum envelope_kind {
	ENVELOPE_NONE = 0,
	ENVELOPE_JWE = 1,	/* general or flattened JSON serialization */
	ENVELOPE_SEED = 2,	/* the original client's format (seed.h) */
};

/*
 * Says what text (len bytes, one final newline allowed) is. For
 * ENVELOPE_NONE, one error in rep says what is missing, terminal-safe:
 * code 65 (70 when JSON parsing ran out of memory); a caller that
 * quotes it in its own sentence reads report_message(). The check is
 * structural (members, types, base64url, a protected header naming
 * RSA-OAEP-256 and a known enc); only a key can tell more.
 */
enum envelope_kind detect_envelope(const char *text, size_t len,
    struct report *rep);

#endif
