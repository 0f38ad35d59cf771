/* form.c - x-www-form-urlencoded (see form.h). */
#include "form.h"
#include "buf.h"
#include "term.h"

#include <stdio.h>
#include <string.h>

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) ('+' is a space, %XX a byte) into out. */
static int
decode(const char *s, size_t n, struct buf *out)
{
	size_t i;
	int hi, lo;
	char c;

	buf_clear(out);
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n)
				return -1;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0' || buf_append(out, &c, 1) != 0)
			return -1;
	}
	return utf8_valid(out->p, out->len) ? 0 : -1;
}

json_t *
form_parse(const char *body, size_t len, char *why, size_t size)
{
	struct buf k = BUF_INIT, v = BUF_INIT;
	json_t *obj = json_object();
	const char *p = body, *end = body + len, *amp, *eq;

	if (size > 0)
		why[0] = '\0';
	if (obj == NULL)
		goto fail;
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp == p) {		/* "a=1&&b=2": tolerate empty pairs */
			p++;
			continue;
		}
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL)
			eq = amp;
		if (decode(p, (size_t)(eq - p), &k) != 0 ||
		    decode(eq < amp ? eq + 1 : amp, eq < amp ?
		    (size_t)(amp - eq - 1) : 0, &v) != 0) {
			snprintf(why, size, "malformed form field");
			goto fail;
		}
		if (buf_terminate(&k) != 0)
			goto fail;
		if (json_object_get(obj, (const char *)k.p) != NULL) {
			snprintf(why, size, "form field given twice");
			goto fail;
		}
		if (json_object_set_new(obj, (const char *)k.p,
		    json_stringn(v.p != NULL ? (const char *)v.p : "",
		    v.len)) != 0)
			goto fail;
		p = amp < end ? amp + 1 : end;
	}
	buf_free(&k);
	buf_free(&v);
	return obj;
fail:
	if (why[0] == '\0')
		snprintf(why, size, "malformed form body");
	buf_free(&k);
	buf_free(&v);
	json_decref(obj);
	return NULL;
}
