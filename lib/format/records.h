/*
 * records.h - streams of received messages: the record lines e2e-recv
 * prints, one JSON object a line,
 *   {"id":ID,"from":NAME,"to":NAME,"sent_at":INT,"message":ENVELOPE}
 * where ENVELOPE is the JWE as a JSON object, or a string (the seed
 * format, or anything else the server held).
 *
 * Three parts: a line reader on a file descriptor that hands over each
 * complete line as soon as it has arrived and never buffers more than
 * one capped line; the record parser; and the output line that
 * e2e-decrypt prints for a decrypted record (docs/FORMAT.md, "Record
 * lines").
 */
#ifndef E2E_RECORDS_H
#define E2E_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"
#include "format/message.h"

/* How much one read(2) asks for, and the buffer size kept between lines
 * (a larger one, left by a long line, is given back). */
#define RECORD_READ_CHUNK ((size_t)64 << 10)
#define RECORD_READ_KEEP ((size_t)1 << 20)

enum {
	RECORD_READ_ERROR = -1,	/* reported; in->rc holds the exit code */
	RECORD_READ_EOF = 0,
	RECORD_READ_LINE = 1,
	RECORD_READ_TOO_LONG = 2,	/* line in->lineno is longer than max */
};

struct record_reader {
	int fd;
	int is_std;		/* standard input: not ours to close */
	int is_reg;		/* a regular file, of this size: */
	uint64_t size;
	char name[512];		/* "standard input" or "input PATH" */
	size_t max;		/* cap on a line's bytes, without its end */
	size_t chunk;		/* bytes per read(2); tests make it small */
	int keep;		/* keep every byte read (see record_read_all) */
	int all;		/* reading all of it: reads as large as room */
	struct buf b;		/* bytes read; [pos, len) not consumed yet */
	size_t pos;
	size_t scan;		/* [pos, scan) holds no newline */
	int skipping;		/* inside a line longer than max */
	int eof;
	unsigned long long lineno;	/* of the line last returned */
	int rc;			/* exit code after RECORD_READ_ERROR */
	struct report *rep;	/* where its read errors are reported */
};

/*
 * Opens path (standard input for NULL or "-") for reading, refusing a
 * directory. max caps each line (and, for record_read_all, the whole
 * input). Returns 0 or 66 (in rep, naming the file as file_read does);
 * the reader's later read errors go to rep too, which must outlive it.
 * Release with record_reader_close().
 */
int record_reader_open(struct record_reader *in, const char *path, size_t max,
    struct report *rep);
void record_reader_close(struct record_reader *in);

/*
 * The next line that is not blank (only spaces, tabs and CRs), without
 * its "\n" or "\r\n": *line points into the reader's buffer, valid until
 * the next call, not NUL-terminated. A last line without a newline is a
 * line. Reads only when no complete line is buffered, so each line is
 * handed over as soon as it has arrived. A line of more than max bytes
 * is not buffered: RECORD_READ_TOO_LONG is returned once, with
 * in->lineno set, and the rest of it up to its newline is read and
 * dropped. Returns RECORD_READ_LINE, RECORD_READ_TOO_LONG,
 * RECORD_READ_EOF, or RECORD_READ_ERROR (a read error, in in->rep; in->rc
 * is 74 for standard input, 66 for a file, 70 when out of memory).
 */
int record_read_line(struct record_reader *in, const char **line, size_t *len);

/*
 * 1 when the next record_read_line would find something without waiting
 * for its input: a complete line buffered, the end of the input, a
 * regular file, or bytes to read now (poll(2); the rest of a line whose
 * start has arrived may still be waited for). Else 0. This is how a
 * reader that has work in hand decides whether to read on or first do
 * that work (e2e-decrypt's stream mode on several threads).
 */
int record_reader_ready(const struct record_reader *in);

/*
 * For a reader opened with in->keep set, which has read nothing but
 * with record_read_line: reads the rest of the input and sets *p, *len
 * to all of it, from its first byte (the lines already returned
 * included). The whole input is capped at max: 65 when larger, 66 or 74
 * on a read error, all in in->rep as file_read reports them. This is how
 * e2e-decrypt reads one envelope after finding that its first line is
 * not a record.
 */
int record_read_all(struct record_reader *in, const uint8_t **p, size_t *len);

/*
 * Returns 1 when line is a record rather than an envelope: a JSON object
 * with members "id" and "message" and none of "protected", "ciphertext"
 * and "recipients". Parsed leniently (duplicates allowed) so that a bad
 * record is reported as one; record_parse() is the strict check.
 */
int record_sniff(const char *line, size_t len);

struct record {
	json_t *obj;		/* the record; "message" emptied when an object */
	const char *id;		/* NULL when the record has no usable id */
	const char *from;
	const char *to;		/* NULL when absent */
	json_int_t sent_at;
	int message_is_object;
	const uint8_t *envelope;	/* the text to decrypt: in the line */
	size_t envelope_len;		/* or in obj */
};

/*
 * Parses one record line strictly (jsonio_parse: duplicates, invalid
 * UTF-8 and \u0000 refused): "id" and "from" non-empty strings,
 * "sent_at" an integer, "message" an object or a string, "to" a string
 * when present; other members are ignored (later versions may add
 * some). For an object, the envelope is the exact bytes of the member in
 * the line (nothing re-serialised; jansson then parses only the record
 * around it), so the line must outlive r; an object whose member name is
 * written with escapes cannot be located so and is refused. For a
 * string, the envelope is its decoded value. Returns 0, or 65 with a
 * terminal-safe reason in rep, and r->id (and r->from) set when the line
 * had a usable one. Call record_free() either way.
 */
int record_parse(const char *line, size_t len, struct record *r,
    struct report *rep);
void record_free(struct record *r);

/*
 * Finds, in a JSON object text, the top-level member named name (written
 * without escapes) whose value is an object, and sets [*start, *end) to
 * that value, braces included. Returns 0, or -1 when there is none or the
 * text is not shaped as expected. It is base/jsonio's scan
 * (jsonio_object_span), under the name its unit tests know.
 */
int record_object_span(const char *text, size_t len, const char *name,
    size_t *start, size_t *end);

/*
 * Appends to out (a secret buffer: it receives the plaintext) the output
 * line of a decrypted record, ending in "\n":
 *   {"id":..,"from":..,"sent_at":..,"format":"jwe"|"seed",
 *    "signed_by":KID|null[,"signed_at":INT],"verified":BOOL,
 *    [,"fs":true,"fs_kind":"one-time"|"signed"]
 *    [,"warning":..],"text":..|"data":BASE64}
 * ("fs" only for a forward-secret message: one to a prekey).
 * warning (or NULL) says why a message is not verified, or that a
 * verified one does not sign its sender's name.
 * "text" when the plaintext is valid UTF-8 without NUL, else "data"
 * (standard base64 with padding). Control characters (C0, DEL, C1),
 * bidirectional formatting characters and U+2028/U+2029 are always
 * written as \u escapes; with ascii, every non-ASCII character too.
 * Returns 0 or 70 (out of memory, nothing said: the caller reports it).
 */
int record_format(const struct record *r, const struct message *m,
    const char *warning, int ascii, struct buf *out);

#endif
