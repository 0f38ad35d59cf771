/* charset.c - UTF-8 repair, Latin-1 conversions (see charset.h). */
#include "base/charset.h"

#include <string.h>

static const uint8_t replacement[3] = { 0xef, 0xbf, 0xbd };

/*
 * The length of the well-formed UTF-8 sequence at p (n bytes left), or 0
 * with *subpart set to the length of its maximal subpart: the longest
 * prefix that a well-formed sequence could start with (at least 1). The
 * ranges are the Unicode Standard's Table 3-7, which the WHATWG decoder
 * implements with its lower and upper boundaries.
 */
static size_t
sequence(const uint8_t *p, size_t n, size_t *subpart)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t need, i;

	*subpart = 1;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 2;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	for (i = 1; i < need; i++) {
		if (i >= n || p[i] < lo || p[i] > hi) {
			*subpart = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

int
utf8_repair(const uint8_t *p, size_t n, struct buf *out)
{
	size_t i = 0, start = 0, len, sub;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((len = sequence(p + i, n - i, &sub)) > 0) {
			i += len;
			continue;
		}
		/* Copy the valid run before, then one U+FFFD for the
		 * maximal subpart, which is skipped. */
		if (buf_append(out, p + start, i - start) != 0 ||
		    buf_append(out, replacement, sizeof(replacement)) != 0)
			return -1;
		i += sub;
		start = i;
	}
	return buf_append(out, p + start, n - start);
}

int
latin1_from_utf8(const uint8_t *p, size_t n, struct buf *out,
    struct latin1_error *e)
{
	size_t i = 0, len, sub, index = 0;
	uint32_t cp;
	uint8_t c;

	memset(e, 0, sizeof(*e));
	if (buf_reserve(out, n) != 0)
		return -2;
	while (i < n) {
		index++;
		if ((len = sequence(p + i, n - i, &sub)) == 0) {
			e->invalid = 1;
			e->cp = p[i];
			e->offset = i;
			e->index = index;
			return -1;
		}
		cp = p[i];
		if (len == 2)
			cp = (uint32_t)(p[i] & 0x1f) << 6 | (p[i + 1] & 0x3f);
		if (len > 2) {
			cp = p[i] & (len == 3 ? 0x0f : 0x07);
			for (sub = 1; sub < len; sub++)
				cp = cp << 6 | (p[i + sub] & 0x3f);
		}
		if (cp > 0xff) {
			e->cp = cp;
			e->offset = i;
			e->index = index;
			return -1;
		}
		c = (uint8_t)cp;
		out->p[out->len++] = c;
		i += len;
	}
	return 0;
}

int
latin1_to_utf8(const uint8_t *p, size_t n, struct buf *out)
{
	size_t i;
	uint8_t *o;

	if (n == 0)
		return 0;
	if (n > SIZE_MAX / 2 || buf_reserve(out, 2 * n) != 0)
		return -1;
	o = out->p + out->len;
	for (i = 0; i < n; i++) {
		if (p[i] < 0x80) {
			*o++ = p[i];
		} else {
			*o++ = (uint8_t)(0xc0 | p[i] >> 6);
			*o++ = (uint8_t)(0x80 | (p[i] & 0x3f));
		}
	}
	out->len = (size_t)(o - out->p);
	return 0;
}
