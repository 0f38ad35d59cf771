/* records.c - record lines: reading, parsing, output (see records.h). */
#include "format/records.h"
#include "base/b64.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/jsonio.h"
#include "base/term.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
record_reader_open(struct record_reader *in, const char *path, size_t max,
    struct report *rep)
{
	struct stat st;

	memset(in, 0, sizeof(*in));
	in->rep = rep;
	in->max = max;
	in->chunk = RECORD_READ_CHUNK;
	/* Growth never needs more than a line, its end and one read. */
	in->b.limit = max + RECORD_READ_CHUNK + 2;
	in->is_std = file_is_std(path);
	if (in->is_std) {
		in->fd = STDIN_FILENO;
		snprintf(in->name, sizeof(in->name), "standard input");
	} else {
		snprintf(in->name, sizeof(in->name), "input %s", path);
		in->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (in->fd < 0) {
			return report_errno(rep, E2E_EX_NOINPUT,
			    "cannot open input %s", path);
		}
	}
	if (fstat(in->fd, &st) != 0) {
		return report_errno(rep, E2E_EX_NOINPUT, "cannot read %s",
		    in->name);
	}
	if (S_ISDIR(st.st_mode)) {
		return report_error(rep, E2E_EX_NOINPUT, "%s is a directory",
		    in->name);
	}
	in->is_reg = S_ISREG(st.st_mode);
	in->size = in->is_reg ? (uint64_t)st.st_size : 0;
	return 0;
}

void
record_reader_close(struct record_reader *in)
{
	if (!in->is_std && in->fd >= 0)
		close(in->fd);
	in->fd = -1;
	buf_free(&in->b);
}

static int
read_failed(struct record_reader *in, int rc)
{
	in->rc = rc;
	return RECORD_READ_ERROR;
}

/* One read(2) appended to the buffer; sets eof at the end. */
static int
read_some(struct record_reader *in)
{
	uint8_t probe[512], *dst;
	size_t room, want;
	ssize_t n;
	/* A regular file being kept may turn out to be one envelope, read
	 * whole: then in one allocation of its size, as file_read does. */
	int whole = in->keep && in->is_reg && in->size <= in->max;
	struct buf nb = BUF_INIT;

	/* A first line longer than a read: most likely the file is one
	 * envelope on one line. Moving to a block of the file's size costs
	 * a copy of one read; the block is only touched as it fills. */
	if (whole && in->b.len > 0 && in->b.cap < in->size + 1) {
		nb.limit = in->b.limit;
		if (buf_reserve(&nb, (size_t)in->size) != 0 ||
		    buf_append(&nb, in->b.p, in->b.len) != 0) {
			buf_free(&nb);
			return read_failed(in, report_oom(in->rep));
		}
		buf_free(&in->b);
		in->b = nb;
	}
	room = in->b.cap > in->b.len + 1 ? in->b.cap - in->b.len - 1 : 0;
	if (whole && in->b.len >= in->size && room == 0) {
		/* Only the end of the file is expected: no growth for it. */
		dst = probe;
		want = sizeof(probe);
	} else {
		if (room < in->chunk && !(whole && in->b.len + room >=
		    in->size)) {
			if (buf_reserve(&in->b, in->chunk) != 0)
				return read_failed(in, report_oom(in->rep));
			room = in->b.cap - in->b.len - 1;
		}
		dst = in->b.p + in->b.len;
		want = in->all || room < in->chunk ? room : in->chunk;
	}
	do
		n = read(in->fd, dst, want);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		return read_failed(in, report_errno(in->rep, in->is_std ?
		    E2E_EX_IOERR : E2E_EX_NOINPUT, "cannot read %s", in->name));
	}
	if (n == 0)
		in->eof = 1;
	else if (dst == probe && buf_append(&in->b, probe, (size_t)n) != 0)
		return read_failed(in, report_oom(in->rep));
	else if (dst != probe)
		in->b.len += (size_t)n;
	return 0;
}

static int
is_blank(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* Drops what was consumed before reading more; gives back a large
 * block once the long line that needed it is gone. */
static int
compact(struct record_reader *in)
{
	struct buf nb = BUF_INIT;
	size_t rest = in->b.len - in->pos;

	if (in->keep || in->pos == 0)
		return 0;
	if (in->b.cap > RECORD_READ_KEEP && rest <= RECORD_READ_KEEP / 2) {
		nb.limit = in->b.limit;
		if (buf_append(&nb, in->b.p + in->pos, rest) != 0)
			return read_failed(in, report_oom(in->rep));
		buf_free(&in->b);
		in->b = nb;
	} else {
		memmove(in->b.p, in->b.p + in->pos, rest);
		in->b.len = rest;
	}
	in->scan -= in->pos;
	in->pos = 0;
	return 0;
}

int
record_read_line(struct record_reader *in, const char **line, size_t *len)
{
	uint8_t *p, *nl;
	size_t start, end;

	for (;;) {
		p = in->b.p;
		nl = in->scan < in->b.len ? memchr(p + in->scan, '\n',
		    in->b.len - in->scan) : NULL;
		if (nl != NULL && in->skipping) {
			/* The end of a line already reported as too long. */
			in->pos = in->scan = (size_t)(nl - p) + 1;
			in->skipping = 0;
			continue;
		}
		if (nl != NULL) {
			start = in->pos;
			end = (size_t)(nl - p);
			in->pos = in->scan = end + 1;
			in->lineno++;
			if (end > start && p[end - 1] == '\r')
				end--;
			if (is_blank(p + start, end - start))
				continue;
			if (end - start > in->max)
				return RECORD_READ_TOO_LONG;
			*line = (const char *)p + start;
			*len = end - start;
			return RECORD_READ_LINE;
		}
		in->scan = in->b.len;
		if (in->skipping) {
			in->pos = in->b.len;	/* dropped, unread */
		} else if (in->b.len - in->pos > in->max + 1) {
			/* Longer than max whatever its end ("\r\n"). */
			in->lineno++;
			in->skipping = 1;
			in->pos = in->b.len;
			return RECORD_READ_TOO_LONG;
		}
		if (in->eof) {
			start = in->pos;
			end = in->b.len;
			in->pos = in->b.len;
			if (in->skipping || start == end ||
			    is_blank(p + start, end - start)) {
				in->skipping = 0;
				return RECORD_READ_EOF;
			}
			/* A last line without its newline. */
			in->lineno++;
			if (end - start > in->max)
				return RECORD_READ_TOO_LONG;
			*line = (const char *)p + start;
			*len = end - start;
			return RECORD_READ_LINE;
		}
		if (compact(in) != 0 || read_some(in) != 0)
			return RECORD_READ_ERROR;
	}
}

int
record_reader_ready(const struct record_reader *in)
{
	struct pollfd pfd;

	if (in->eof || in->is_reg)
		return 1;
	if (!in->skipping && in->scan < in->b.len &&
	    memchr(in->b.p + in->scan, '\n', in->b.len - in->scan) != NULL)
		return 1;
	pfd.fd = in->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) > 0;
}

int
record_read_all(struct record_reader *in, const uint8_t **p, size_t *len)
{
	in->keep = 1;
	in->all = 1;
	for (;;) {
		if (in->b.len > in->max ||
		    (in->is_reg && in->size > in->max)) {
			return report_error(in->rep, E2E_EX_DATAERR,
			    "%s is larger than the limit of %zu bytes",
			    in->name, in->max);
		}
		if (in->eof)
			break;
		if (read_some(in) != 0)
			return in->rc;
	}
	/* Empty input is still text (jansson refuses a NULL one). */
	if (in->b.p == NULL && buf_reserve(&in->b, 0) != 0)
		return report_oom(in->rep);
	*p = in->b.p;
	*len = in->b.len;
	return 0;
}

int
record_sniff(const char *line, size_t len)
{
	struct buf reduced = BUF_INIT;
	json_error_t e;
	size_t s, t;
	json_t *v;
	int yes;

	/* An envelope says so at its top level: known without parsing its
	 * ciphertext, which may be most of 256 MiB. */
	if (jsonio_member_span(line, len, "ciphertext", &s, &t) == 0 ||
	    jsonio_member_span(line, len, "protected", &s, &t) == 0)
		return 0;
	/* Nor is a record's envelope parsed here (record_parse does the
	 * same). */
	if (jsonio_object_span(line, len, "message", &s, &t) == 0 &&
	    buf_append(&reduced, line, s) == 0 &&
	    buf_append(&reduced, "{}", 2) == 0 &&
	    buf_append(&reduced, line + t, len - t) == 0)
		v = json_loadb((const char *)reduced.p, reduced.len,
		    JSON_ALLOW_NUL, &e);
	else
		v = json_loadb(line, len, JSON_ALLOW_NUL, &e);
	buf_free(&reduced);
	yes = json_is_object(v) && json_object_get(v, "id") != NULL &&
	    json_object_get(v, "message") != NULL &&
	    json_object_get(v, "protected") == NULL &&
	    json_object_get(v, "ciphertext") == NULL &&
	    json_object_get(v, "recipients") == NULL;
	json_decref(v);
	return yes;
}

/* ---------------------------------------------------------------- */
/* Records */

int
record_object_span(const char *t, size_t len, const char *name,
    size_t *start, size_t *end)
{
	return jsonio_object_span(t, len, name, start, end);
}

static int
refuse(struct report *rep, const char *reason)
{
	return report_error(rep, E2E_EX_DATAERR, "not a record: %s", reason);
}

int
record_parse(const char *line, size_t len, struct record *r,
    struct report *rep)
{
	struct buf reduced = BUF_INIT;
	struct report jwhy = { 0 };	/* what jsonio_parse says */
	size_t s, e, n;
	json_t *msg, *v;

	memset(r, 0, sizeof(*r));
	/*
	 * An envelope object is most of the line: jansson parses the record
	 * with it replaced by {}, and message_open_text() the envelope
	 * where it is. Both strict, so the line is exactly as acceptable as
	 * if it were parsed whole.
	 */
	if (jsonio_object_span(line, len, "message", &s, &e) == 0) {
		if (buf_append(&reduced, line, s) != 0 ||
		    buf_append(&reduced, "{}", 2) != 0 ||
		    buf_append(&reduced, line + e, len - e) != 0) {
			buf_free(&reduced);
			return refuse(rep, "out of memory");
		}
		r->obj = jsonio_parse((const char *)reduced.p, reduced.len,
		    NULL);
		buf_free(&reduced);
		msg = json_object_get(r->obj, "message");
		if (json_is_object(msg) && json_object_size(msg) == 0) {
			r->message_is_object = 1;
			r->envelope = (const uint8_t *)line + s;
			r->envelope_len = e - s;
		} else {
			json_decref(r->obj);
			r->obj = NULL;
		}
	}
	/* A string message, or a line the scan could not take apart: parsed
	 * whole, so that a reason given is about the line as written. */
	if (r->obj == NULL &&
	    (r->obj = jsonio_parse(line, len, &jwhy)) == NULL) {
		return report_error(rep, E2E_EX_DATAERR,
		    "not a record: not JSON: %s", report_message(&jwhy));
	}
	if (!json_is_object(r->obj))
		return refuse(rep, "not a JSON object");
	if ((r->id = jsonio_str(r->obj, "id", &n)) == NULL || n == 0) {
		r->id = NULL;
		return refuse(rep, "\"id\" is missing, empty or not a "
		    "string");
	}
	if ((r->from = jsonio_str(r->obj, "from", &n)) == NULL || n == 0) {
		r->from = NULL;
		return refuse(rep, "\"from\" is missing, empty or not a "
		    "string");
	}
	v = json_object_get(r->obj, "sent_at");
	if (!json_is_integer(v))
		return refuse(rep, "\"sent_at\" is missing or not an "
		    "integer");
	r->sent_at = json_integer_value(v);
	v = json_object_get(r->obj, "to");
	if (v != NULL && !json_is_string(v))
		return refuse(rep, "\"to\" is not a string");
	r->to = json_string_value(v);
	if (r->message_is_object)
		return 0;
	msg = json_object_get(r->obj, "message");
	if (json_is_string(msg)) {
		r->envelope = (const uint8_t *)json_string_value(msg);
		r->envelope_len = json_string_length(msg);
		return 0;
	}
	/* An object the scan did not find: its name written with escapes.
	 * Not something e2e-recv writes; refused rather than re-serialised,
	 * so that what is decrypted is always bytes of the line. */
	if (json_is_object(msg))
		return refuse(rep, "\"message\" is an object whose "
		    "member name is written with escapes");
	return refuse(rep, "\"message\" is missing or neither an "
	    "object nor a string");
}

void
record_free(struct record *r)
{
	json_decref(r->obj);
	memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------- */
/* Output */

static int
put_u(struct buf *o, unsigned cp)
{
	static const char hex[] = "0123456789abcdef";
	char t[6] = { '\\', 'u', hex[cp >> 12 & 15], hex[cp >> 8 & 15],
		hex[cp >> 4 & 15], hex[cp & 15] };

	return buf_append(o, t, sizeof(t));
}

/* Characters written as \u escapes whatever the output: controls
 * (C0, DEL, C1), bidirectional formatting (as term.c), and the line and
 * paragraph separators. */
static int
always_escaped(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x2028 || cp == 0x2029;
}

/* A JSON string of the n bytes at s, which are valid UTF-8 (checked by
 * the caller; a byte that is not is written as U+FFFD). */
static int
put_string(struct buf *o, const unsigned char *s, size_t n, int ascii)
{
	size_t i = 0, j, k;
	unsigned cp, c;
	int rc = buf_append(o, "\"", 1);

	while (rc == 0 && i < n) {
		for (j = i; j < n && s[j] >= 0x20 && s[j] < 0x7f &&
		    s[j] != '"' && s[j] != '\\'; j++)
			;
		if (j > i) {
			rc = buf_append(o, s + i, j - i);
			i = j;
			continue;
		}
		c = s[i];
		if (c == '"' || c == '\\') {
			char t[2] = { '\\', (char)c };

			rc = buf_append(o, t, 2);
			i++;
			continue;
		}
		if (c == '\n' || c == '\t') {
			rc = buf_append(o, c == '\n' ? "\\n" : "\\t", 2);
			i++;
			continue;
		}
		k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (k > n - i || !utf8_valid(s + i, k)) {
			rc = put_u(o, 0xfffd);
			i++;
			continue;
		}
		cp = k == 1 ? c : k == 2 ? c & 0x1f : k == 3 ? c & 0x0f :
		    c & 0x07;
		for (j = 1; j < k; j++)
			cp = cp << 6 | (s[i + j] & 0x3f);
		if (!ascii && !always_escaped(cp))
			rc = buf_append(o, s + i, k);
		else if (cp >= 0x10000)
			rc = put_u(o, 0xd800 + ((cp - 0x10000) >> 10)) ||
			    put_u(o, 0xdc00 + ((cp - 0x10000) & 0x3ff));
		else
			rc = put_u(o, cp);
		i += k;
	}
	if (rc == 0)
		rc = buf_append(o, "\"", 1);
	return rc;
}

static int
put_str(struct buf *o, const char *s)
{
	return put_string(o, (const unsigned char *)s, strlen(s), 1);
}

int
record_format(const struct record *r, const struct message *m,
    const char *warning, int ascii, struct buf *out)
{
	char num[32];
	int text, rc;

	text = m->pt_len == 0 || (utf8_valid(m->pt, m->pt_len) &&
	    memchr(m->pt, 0, m->pt_len) == NULL);
	rc = buf_append_str(out, "{\"id\":") ||
	    put_string(out, (const unsigned char *)r->id, strlen(r->id),
	    ascii) ||
	    buf_append_str(out, ",\"from\":") ||
	    put_string(out, (const unsigned char *)r->from, strlen(r->from),
	    ascii);
	snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, r->sent_at);
	rc = rc || buf_append_str(out, ",\"sent_at\":") ||
	    buf_append_str(out, num) ||
	    buf_append_str(out, m->format == MESSAGE_SEED ?
	    ",\"format\":\"seed\"" : ",\"format\":\"jwe\"") ||
	    buf_append_str(out, ",\"signed_by\":");
	if (m->is_signed) {
		snprintf(num, sizeof(num), "%lld", (long long)m->iat);
		rc = rc || put_str(out, m->signer_kid) ||
		    buf_append_str(out, ",\"signed_at\":") ||
		    buf_append_str(out, num);
	} else {
		rc = rc || buf_append_str(out, "null");
	}
	rc = rc || buf_append_str(out, m->verified ? ",\"verified\":true" :
	    ",\"verified\":false");
	/* Forward secrecy (FORMAT.md section 11): said only when there. */
	if (m->fs != JWE_FS_NONE)
		rc = rc || buf_append_str(out, m->fs == JWE_FS_SIGNED ?
		    ",\"fs\":true,\"fs_kind\":\"signed\"" :
		    ",\"fs\":true,\"fs_kind\":\"one-time\"");
	if (warning != NULL && warning[0] != '\0')
		rc = rc || buf_append_str(out, ",\"warning\":") ||
		    put_string(out, (const unsigned char *)warning,
		    strlen(warning), ascii);
	if (text)
		rc = rc || buf_append_str(out, ",\"text\":") ||
		    put_string(out, m->pt, m->pt_len, ascii);
	else
		rc = rc || buf_append_str(out, ",\"data\":\"") ||
		    b64_append(out, m->pt, m->pt_len) ||
		    buf_append_str(out, "\"");
	rc = rc || buf_append_str(out, "}\n");
	return rc ? E2E_EX_SOFTWARE : 0;
}
