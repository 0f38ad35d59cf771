/* jsonio.c - strict JSON reading (see jsonio.h). */
#include "base/jsonio.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/term.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *
jsonio_parse(const char *text, size_t len, struct report *rep)
{
	return jsonio_parse_flags(text, len, 0, rep);
}

json_t *
jsonio_parse_flags(const char *text, size_t len, size_t flags,
    struct report *rep)
{
	json_error_t e;
	json_t *v;
	char esc[128];

	v = json_loadb(text, len, JSON_REJECT_DUPLICATES | flags, &e);
	if (v == NULL && rep != NULL) {
		/* jansson gives every refusal a reason; none (or its code)
		 * only when an allocation failed. */
		if (e.text[0] == '\0' ||
		    json_error_code(&e) == json_error_out_of_memory) {
			report_error(rep, E2E_EX_SOFTWARE, "out of memory");
			return NULL;
		}
		/* It quotes bits of the input: escape them; and its NUL
		 * message names one of its flags, which means nothing here. */
		if (strncmp(e.text, "\\u0000 is not allowed", 21) == 0)
			snprintf(esc, sizeof(esc), "\\u0000 is not allowed");
		else
			term_escape(e.text, strnlen(e.text, sizeof(e.text)),
			    esc, sizeof(esc));
		report_error(rep, E2E_EX_DATAERR, "%s at line %d, column %d",
		    esc, e.line, e.column);
	}
	return v;
}

static size_t
skip_ws(const char *t, size_t i, size_t len)
{
	while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' ||
	    t[i] == '\r'))
		i++;
	return i;
}

/* From just after an opening quote, returns the index of the closing
 * quote, or len when there is none. *escaped tells whether a backslash
 * was seen. */
static size_t
string_end(const char *t, size_t i, size_t len, int *escaped)
{
	const char *q, *b;

	*escaped = 0;
	while (i < len) {
		q = memchr(t + i, '"', len - i);
		if (q == NULL)
			return len;
		b = memchr(t + i, '\\', (size_t)(q - (t + i)));
		if (b == NULL)
			return (size_t)(q - t);
		*escaped = 1;
		i = (size_t)(b - t) + 2;	/* skip the escaped character */
	}
	return len;
}

/* From an opening brace or bracket, the index just after its closing
 * one, or 0. */
static size_t
value_end(const char *t, size_t i, size_t len)
{
	size_t depth = 0;
	int escaped;

	for (; i < len; i++) {
		if (t[i] == '"') {
			i = string_end(t, i + 1, len, &escaped);
			if (i >= len)
				return 0;
		} else if (t[i] == '{' || t[i] == '[') {
			depth++;
		} else if (t[i] == '}' || t[i] == ']') {
			if (depth == 0)
				return 0;
			if (--depth == 0)
				return i + 1;
		}
	}
	return 0;
}

/* Where a scan of an object's top-level members is. */
struct member_scan {
	size_t i;
	int depth;
	int expect_key;
};

/* Starts a scan of the object text; -1 when it does not open one. */
static int
scan_begin(const char *t, size_t len, struct member_scan *s)
{
	s->i = skip_ws(t, 0, len);
	if (s->i >= len || t[s->i] != '{')
		return -1;
	s->i++;
	s->depth = 1;
	s->expect_key = 1;
	return 0;
}

/*
 * The next top-level member named name (written without escapes): 0 with
 * *value the index of its value (len when the text ends there), the scan
 * left at the value to go on from; -1 when there is none or the text is
 * not shaped as expected. A small tokenizer: it only needs to know where
 * strings start and end and how deep it is; jansson validates everything
 * afterwards.
 */
static int
next_member(const char *t, size_t len, const char *name,
    struct member_scan *s, size_t *value)
{
	size_t j, kstart, kend, nlen = strlen(name);
	int escaped;

	while (s->i < len) {
		char c = t[s->i];

		if (c == '"') {
			kstart = s->i + 1;
			kend = string_end(t, kstart, len, &escaped);
			if (kend >= len)
				return -1;
			s->i = kend + 1;
			if (s->depth != 1 || !s->expect_key)
				continue;
			j = skip_ws(t, s->i, len);
			if (j >= len || t[j] != ':')
				return -1;
			j = skip_ws(t, j + 1, len);
			s->expect_key = 0;
			s->i = j;
			if (!escaped && kend - kstart == nlen &&
			    memcmp(t + kstart, name, nlen) == 0) {
				*value = j;
				return 0;
			}
			continue;
		}
		if (c == '{' || c == '[') {
			s->depth++;
		} else if (c == '}' || c == ']') {
			if (--s->depth <= 0)
				return -1;
		} else if (c == ',' && s->depth == 1) {
			s->expect_key = 1;
		}
		s->i++;
	}
	return -1;
}

int
jsonio_member_span(const char *t, size_t len, const char *name,
    size_t *start, size_t *end)
{
	struct member_scan s;
	size_t j;
	int escaped;

	if (scan_begin(t, len, &s) != 0)
		return -1;
	/* A member of that name that is no string: the next one may be
	 * (jansson then refuses the duplicate). */
	while (next_member(t, len, name, &s, &j) == 0) {
		if (j >= len || t[j] != '"')
			continue;
		*start = j + 1;
		*end = string_end(t, j + 1, len, &escaped);
		if (*end >= len || escaped)
			return -1;
		return 0;
	}
	return -1;
}

int
jsonio_member_start(const char *t, size_t len, const char *name,
    size_t *start)
{
	struct member_scan s;
	size_t j;

	if (scan_begin(t, len, &s) != 0)
		return -1;
	while (next_member(t, len, name, &s, &j) == 0) {
		if (j >= len || t[j] != '"')
			continue;
		*start = j + 1;
		return 0;
	}
	return -1;
}

int
jsonio_object_span(const char *t, size_t len, const char *name,
    size_t *start, size_t *end)
{
	struct member_scan s;
	size_t j, k;

	if (scan_begin(t, len, &s) != 0 ||
	    next_member(t, len, name, &s, &j) != 0 ||
	    j >= len || t[j] != '{' || (k = value_end(t, j, len)) == 0)
		return -1;
	*start = j;
	*end = k;
	return 0;
}

const char *
jsonio_str(const json_t *obj, const char *key, size_t *len)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return NULL;
	if (len != NULL)
		*len = json_string_length(v);
	return json_string_value(v);
}

const char *
jsonio_unknown_member(const json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)obj, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return key;
	}
	return NULL;
}

static int
dump_part(const char *p, size_t n, void *arg)
{
	return buf_append(arg, p, n) == 0 ? 0 : -1;
}

static char *
dump_flags(const json_t *v, size_t flags)
{
	struct buf b = BUF_SECRET_INIT;

	/* Into a buffer of ours, so that free() releases it whatever
	 * allocator jansson was given (jsonio_wipe_on_free). */
	if (json_dump_callback(v, dump_part, &b, JSON_COMPACT |
	    JSON_ENCODE_ANY | flags) != 0 || buf_terminate(&b) != 0) {
		buf_free(&b);
		return NULL;
	}
	return (char *)b.p;
}

char *
jsonio_dump(const json_t *v)
{
	return dump_flags(v, 0);
}

char *
jsonio_dump_ascii(const json_t *v)
{
	return dump_flags(v, JSON_ENSURE_ASCII);
}

/* Every block jansson allocates carries its size in front, so that it
 * can be wiped when freed: tokens and passwords pass through jansson. */
union wipe_hdr {
	size_t n;
	max_align_t align;
};

static void *
wipe_malloc(size_t n)
{
	union wipe_hdr *h;

	if (n > SIZE_MAX - sizeof(*h) || (h = malloc(sizeof(*h) + n)) == NULL)
		return NULL;
	h->n = n;
	return h + 1;
}

static void
wipe_free(void *p)
{
	union wipe_hdr *h;

	if (p == NULL)
		return;
	h = (union wipe_hdr *)p - 1;
	wipe(p, h->n);
	free(h);
}

void
jsonio_wipe_on_free(void)
{
	json_set_alloc_funcs(wipe_malloc, wipe_free);
}
