/* term.c - escaping untrusted text for terminals (see term.h). */
#include "base/term.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int
utf8_valid(const unsigned char *p, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		/* Fast path over ASCII. */
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_seq(p + i, len - i)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

int
term_safe_text(const unsigned char *p, size_t len)
{
	size_t i;

	if (!utf8_valid(p, len))
		return 0;
	for (i = 0; i < len; i++)
		if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') ||
		    p[i] == 0x7f)
			return 0;
	/* C1 controls (U+0080..U+009F) are encoded as c2 80..c2 9f. */
	for (i = 0; i + 1 < len; i++)
		if (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			return 0;
	return 1;
}

/* Bidirectional formatting characters (U+202A..U+202E, U+2066..U+2069)
 * can make a name or a message display as something else. */
static int
is_bidi(const unsigned char *p, size_t n)
{
	return n == 3 && p[0] == 0xe2 &&
	    ((p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) ||
	    (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9));
}

/* The shown form of the character at p: its bytes, or \xHH escapes.
 * Returns how many input bytes it consumes and fills tmp/len. */
static size_t
piece(const unsigned char *p, size_t left, char tmp[16], size_t *len)
{
	size_t n = utf8_seq(p, left), i;

	if (n == 1 && (p[0] < 0x20 || p[0] == 0x7f))
		n = 0;
	if (n == 2 && p[0] == 0xc2 && p[1] <= 0x9f)
		n = 0;	/* C1 control */
	if (n == 0) {
		snprintf(tmp, 16, "\\x%02x", p[0]);
		*len = 4;
		return 1;
	}
	if (is_bidi(p, n)) {
		for (i = 0; i < n; i++)
			snprintf(tmp + 4 * i, 16 - 4 * i, "\\x%02x", p[i]);
		*len = 4 * n;
		return n;
	}
	memcpy(tmp, p, n);
	*len = n;
	return n;
}

char *
term_escape(const char *in, size_t len, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i, o = 0, n, plen, total = 0;
	char tmp[16];

	if (size == 0)
		return out;
	for (i = 0; i < len; i += n) {
		n = piece(p + i, len - i, tmp, &plen);
		total += plen;
	}
	/* All of it when it fits; otherwise as much as fits before "...". */
	for (i = 0; i < len; i += n) {
		n = piece(p + i, len - i, tmp, &plen);
		if (total + 1 > size && o + plen + 3 + 1 > size)
			break;
		memcpy(out + o, tmp, plen);
		o += plen;
	}
	if (i < len) {
		n = size - 1 - o < 3 ? size - 1 - o : 3;
		memcpy(out + o, "...", n);
		o += n;
	}
	out[o] = '\0';
	return out;
}
