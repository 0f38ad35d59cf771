/*
 * form.c - x-www-form-urlencoded bodies as Node's querystring.parse read
 * them (see form.h). The scanner follows lib/querystring.js of Node
 * (18 to 22) step by step, including its test of whether a name or value
 * needs decoding at all, because that test changes results: a value
 * that is not decoded keeps its characters, a value whose decoding fails
 * loses every character above U+00FF to Node's byte fallback.
 */
#include "server/form.h"
#include "base/buf.h"
#include "base/charset.h"
#include "base/err.h"
#include "base/term.h"

#include <stdint.h>
#include <string.h>

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The byte of the escape "%XX" at s[i] (n bytes), or -1. */
static int
escape_at(const uint8_t *s, size_t n, size_t i)
{
	int hi, lo;

	if (i + 2 >= n || s[i] != '%')
		return -1;
	hi = hexval(s[i + 1]);
	lo = hexval(s[i + 2]);
	return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

/*
 * decodeURIComponent (ECMA-262 Decode, empty reserved set) of the valid
 * UTF-8 text s: 0, or -1 where it throws a URIError (a '%' without two
 * hex digits, or escaped bytes that are not one UTF-8 character each).
 */
static int
uri_decode(const uint8_t *s, size_t n, struct buf *out)
{
	uint8_t oct[4];
	size_t i = 0, k, lead;
	int b;

	while (i < n) {
		if (s[i] != '%') {
			if (buf_append(out, s + i, 1) != 0)
				return -2;
			i++;
			continue;
		}
		if ((b = escape_at(s, n, i)) < 0)
			return -1;
		i += 3;
		oct[0] = (uint8_t)b;
		for (lead = 0; lead < 8 && (b << lead & 0x80); lead++)
			;
		if (lead == 1 || lead > 4)
			return -1;
		for (k = 1; k < lead; k++) {
			if ((b = escape_at(s, n, i)) < 0 || (b & 0xc0) != 0x80)
				return -1;
			oct[k] = (uint8_t)b;
			i += 3;
		}
		if (lead == 0)
			lead = 1;
		/* Overlong forms, surrogates and code points above U+10FFFF
		 * throw too. */
		if (!utf8_valid(oct, lead))
			return -1;
		if (buf_append(out, oct, lead) != 0)
			return -2;
	}
	return 0;
}

/* The next code point of the valid UTF-8 text s at *i. */
static uint32_t
next_cp(const uint8_t *s, size_t *i)
{
	uint32_t cp = s[*i];
	size_t len = 1, k;

	if (cp >= 0xf0)
		len = 4, cp &= 0x07;
	else if (cp >= 0xe0)
		len = 3, cp &= 0x0f;
	else if (cp >= 0xc0)
		len = 2, cp &= 0x1f;
	for (k = 1; k < len; k++)
		cp = cp << 6 | (s[*i + k] & 0x3f);
	*i += len;
	return cp;
}

/*
 * Node's querystring.unescapeBuffer(s): over the UTF-16 code units of s,
 * "%XX" (with at least two more units after the '%') becomes its byte,
 * any other unit is stored into a byte, that is cut to its low 8 bits.
 */
static int
unescape_buffer(const uint8_t *s, size_t n, struct buf *out)
{
	size_t i = 0, units = 0, at = 0;
	uint32_t cp;
	uint8_t b[2];
	int hi, lo;

	while (i < n)
		units += next_cp(s, &i) >= 0x10000 ? 2 : 1;
	i = 0;
	while (i < n) {
		if (s[i] == '%' && at + 2 < units) {
			/* The two units after it exist; hex digits are ASCII,
			 * one byte each. */
			hi = hexval(s[i + 1]);
			lo = hi < 0 ? -1 : hexval(s[i + 2]);
			if (hi < 0) {
				b[0] = '%';
				i++, at++;
				if (buf_append(out, b, 1) != 0)
					return -1;
			} else if (lo < 0) {
				b[0] = '%';
				b[1] = s[i + 1];
				i += 2, at += 2;
				if (buf_append(out, b, 2) != 0)
					return -1;
			} else {
				b[0] = (uint8_t)(hi << 4 | lo);
				i += 3, at += 3;
				if (buf_append(out, b, 1) != 0)
					return -1;
			}
			continue;
		}
		cp = next_cp(s, &i);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			b[0] = (uint8_t)(0xd800 + (cp >> 10));
			b[1] = (uint8_t)(0xdc00 + (cp & 0x3ff));
			at += 2;
			if (buf_append(out, b, 2) != 0)
				return -1;
		} else {
			b[0] = (uint8_t)cp;
			at++;
			if (buf_append(out, b, 1) != 0)
				return -1;
		}
	}
	return 0;
}

/* querystring.unescape: decodeURIComponent, else the byte fallback read
 * back as UTF-8 (Buffer.toString). Returns 0 or -1 (out of memory). */
static int
node_unescape(const struct buf *in, struct buf *out)
{
	struct buf bytes = BUF_INIT;
	int rc;

	buf_clear(out);
	if ((rc = uri_decode(in->p, in->len, out)) != -1)
		return rc == 0 ? 0 : -1;
	buf_clear(out);
	rc = unescape_buffer(in->p, in->len, &bytes) == 0 &&
	    utf8_repair(bytes.p, bytes.len, out) == 0 ? 0 : -1;
	buf_free(&bytes);
	return rc;
}

struct pair {
	struct buf key, val;		/* as scanned, '+' already spaces */
	struct buf dkey, dval;		/* decoded */
	struct buf name;		/* the name, NUL-terminated */
	int key_enc, val_enc;		/* querystring.parse's keyEncoded... */
};

/* addKeyVal: decodes the pair when needed and adds it to obj. Returns 0
 * or an HTTP status, its reason in rep. */
static int
add_pair(json_t *obj, struct pair *p, struct report *rep)
{
	const struct buf *k = &p->key, *v = &p->val;

	if (p->key_enc && p->key.len > 0) {
		if (node_unescape(&p->key, &p->dkey) != 0)
			goto nomem;
		k = &p->dkey;
	}
	/* The original client's message is a JSON text sent raw: its '%'
	 * are ciphertext bytes, never escapes (form.h). */
	if (p->val_enc && p->val.len > 0 && !(k->len == 7 &&
	    memcmp(k->p, "message", 7) == 0 && memchr(v->p, '"', v->len))) {
		if (node_unescape(&p->val, &p->dval) != 0)
			goto nomem;
		v = &p->dval;
	}
	if ((k->len > 0 && memchr(k->p, '\0', k->len) != NULL) ||
	    (v->len > 0 && memchr(v->p, '\0', v->len) != NULL)) {
		report_error(rep, E2E_EX_DATAERR,
		    "a form field holds a NUL byte");
		return 400;
	}
	buf_clear(&p->name);
	if (buf_append(&p->name, k->p, k->len) != 0 ||
	    buf_terminate(&p->name) != 0)
		goto nomem;
	if (json_object_get(obj, (const char *)p->name.p) != NULL) {
		report_error(rep, E2E_EX_DATAERR, "form field given twice");
		return 400;
	}
	if (json_object_set_new(obj, (const char *)p->name.p,
	    json_stringn(v->len > 0 ? (const char *)v->p : "", v->len)) != 0)
		goto nomem;
	return 0;
nomem:
	report_error(rep, E2E_EX_SOFTWARE, "internal error");
	return 500;
}

static void
pair_reset(struct pair *p)
{
	buf_clear(&p->key);
	buf_clear(&p->val);
	p->key_enc = p->val_enc = 0;
}

/* querystring.parse over the valid UTF-8 text s. */
static int
scan(const uint8_t *s, size_t n, json_t *obj, struct pair *p,
    struct report *rep)
{
	size_t i, last = 0;
	int eq = 0, check = 0, rc;
	uint8_t c;

#define TAKE(b, to) (last < (to) && buf_append((b), s + last, \
	(to) - last) != 0)
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '&') {
			if (!eq) {
				if (last < i) {
					if (TAKE(&p->key, i))
						goto nomem;
				} else if (p->key.len == 0) {
					last = i + 1;	/* an empty pair */
					continue;
				}
			} else if (TAKE(&p->val, i)) {
				goto nomem;
			}
			if ((rc = add_pair(obj, p, rep)) != 0)
				return rc;
			pair_reset(p);
			check = 0;
			last = i + 1;
			eq = 0;
			continue;
		}
		if (!eq) {
			if (c == '=') {
				if (TAKE(&p->key, i))
					goto nomem;
				eq = 1;
				check = 0;
				last = i + 1;
				continue;
			}
			if (!p->key_enc) {
				if (c == '%') {
					check = 1;
					continue;
				}
				if (check > 0) {
					if (hexval(c) >= 0) {
						if (++check == 3)
							p->key_enc = 1;
						continue;
					}
					check = 0;
				}
			}
			if (c == '+') {
				if (TAKE(&p->key, i) ||
				    buf_append(&p->key, " ", 1) != 0)
					goto nomem;
				last = i + 1;
				continue;
			}
			/* Node falls through to the value's scan here: a
			 * name already marked for decoding can mark the
			 * value too. */
		}
		if (c == '+') {
			if (TAKE(&p->val, i) || buf_append(&p->val, " ", 1) != 0)
				goto nomem;
			last = i + 1;
		} else if (!p->val_enc) {
			if (c == '%') {
				check = 1;
			} else if (check > 0) {
				if (hexval(c) >= 0) {
					if (++check == 3)
						p->val_enc = 1;
				} else {
					check = 0;
				}
			}
		}
	}
	if (last < n) {
		if (TAKE(eq ? &p->val : &p->key, n))
			goto nomem;
	} else if (!eq && p->key.len == 0) {
		return 0;
	}
#undef TAKE
	return add_pair(obj, p, rep);
nomem:
	report_error(rep, E2E_EX_SOFTWARE, "internal error");
	return 500;
}

int
form_parse(const char *body, size_t len, json_t **out,
    struct report *rep)
{
	struct buf text = BUF_INIT;
	struct pair p;
	const uint8_t *s;
	size_t i, amps = 0, n;
	int rc = 500;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	for (i = 0; i < len; i++)
		if (body[i] == '&' && ++amps >= FORM_FIELDS_MAX) {
			report_error(rep, E2E_EX_DATAERR,
			    "too many form fields: at most %d",
			    FORM_FIELDS_MAX);
			return 413;
		}
	if ((*out = json_object()) == NULL || buf_reserve(&text, len) != 0 ||
	    utf8_repair((const uint8_t *)body, len, &text) != 0) {
		report_error(rep, E2E_EX_SOFTWARE, "internal error");
		goto out;
	}
	s = text.p;
	n = text.len;
	/* iconv-lite drops a byte order mark. */
	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3, n -= 3;
	rc = scan(s, n, *out, &p, rep);
out:
	if (rc != 0) {
		json_decref(*out);
		*out = NULL;
	}
	buf_free(&text);
	buf_free(&p.key);
	buf_free(&p.val);
	buf_free(&p.dkey);
	buf_free(&p.dval);
	buf_free(&p.name);
	return rc;
}
