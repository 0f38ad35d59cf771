/*
 * Unit tests of lib/format/records.c, the record stream behind e2e-decrypt's
 * stream mode: the bounded line reader (lines split across reads at
 * every position, CRLF, blank lines, no final newline, a line of exactly
 * the cap and of cap + 1, over-long lines dropped without being buffered
 * (J9), a pipe read line by line as it arrives, read errors), the whole
 * input read after a peek, the record parser (types, duplicates (J8),
 * the envelope taken as the exact bytes of the line), the mode detection
 * and the output line (escapes, ASCII for terminals, base64 for binary).
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/jsonio.h"
#include "format/message.h"
#include "format/records.h"

static char dir[] = "/tmp/test_records.XXXXXX";
static char path[4200];
static int nfiles;

/* Quiets stderr around calls that report (expected errors). */
static int saved_err = -1;

static void
quiet(int on)
{
	int fd;

	fflush(stderr);
	if (on) {
		saved_err = dup(STDERR_FILENO);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, STDERR_FILENO);
		close(fd);
	} else if (saved_err >= 0) {
		dup2(saved_err, STDERR_FILENO);
		close(saved_err);
		saved_err = -1;
	}
}

/* A file in the test folder holding n bytes of data; returns its path. */
static const char *
file_with(const char *data, size_t n)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/in%d", dir, nfiles++);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	return path;
}

struct want {
	int kind;
	const char *text;		/* for RECORD_READ_LINE */
	unsigned long long lineno;
};

static const size_t chunks[] = { 1, 2, 3, 5, 7, 16, 64, RECORD_READ_CHUNK };

/* Reads data with each read size of chunks and checks every result
 * against want (ending with RECORD_READ_EOF). */
static void
check_lines(const char *name, const char *data, size_t n, size_t max,
    const struct want *want)
{
	struct record_reader in;
	const char *line;
	size_t len, c, i;
	int k;

	for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		if (record_reader_open(&in, file_with(data, n), max,
		    NULL) != 0) {
			CHECKF(0, "%s: cannot open", name);
			return;
		}
		in.chunk = chunks[c];
		for (i = 0;; i++) {
			k = record_read_line(&in, &line, &len);
			CHECKF(k == want[i].kind, "%s, reads of %zu, result %zu: "
			    "%d, expected %d", name, chunks[c], i, k,
			    want[i].kind);
			if (k != want[i].kind)
				break;
			if (k == RECORD_READ_LINE)
				CHECKF(len == strlen(want[i].text) &&
				    memcmp(line, want[i].text, len) == 0,
				    "%s, reads of %zu, line %zu: '%.*s', "
				    "expected '%s'", name, chunks[c], i,
				    (int)len, line, want[i].text);
			if (k != RECORD_READ_EOF)
				CHECKF(in.lineno == want[i].lineno,
				    "%s, reads of %zu, result %zu: line number "
				    "%llu, expected %llu", name, chunks[c], i,
				    in.lineno, want[i].lineno);
			/* Never more than a capped line and one read. */
			CHECKF(in.b.len <= max + 1 + chunks[c],
			    "%s, reads of %zu: %zu bytes buffered", name,
			    chunks[c], in.b.len);
			if (k == RECORD_READ_EOF || k == RECORD_READ_ERROR)
				break;
		}
		/* EOF stays EOF. */
		if (k == RECORD_READ_EOF)
			CHECK(record_read_line(&in, &line, &len) ==
			    RECORD_READ_EOF);
		record_reader_close(&in);
	}
}

/* The length of a literal, NUL bytes inside included. */
#define LIT(s) s, sizeof(s) - 1

#define LINE(t, n) { RECORD_READ_LINE, t, n }
#define LONG(n) { RECORD_READ_TOO_LONG, NULL, n }
#define END { RECORD_READ_EOF, NULL, 0 }

static void
test_lines(void)
{
	static const struct want basic[] = { LINE("a", 1), LINE("bb", 2),
		LINE("c c", 6), END };
	static const struct want last[] = { LINE("one", 1), LINE("two", 2),
		END };
	static const struct want none[] = { END };
	static const struct want inner_cr[] = { LINE("a\rb", 1),
		LINE("\r\rx", 2), END };

	check_lines("CRLF and blank lines", LIT("a\nbb\r\n\n  \r\n\t\nc c\n"),
	    10, basic);
	check_lines("no final newline", LIT("one\ntwo"), 10, last);
	check_lines("empty", LIT(""), 10, none);
	check_lines("only blank lines", LIT("\n\r\n \t \n\r"), 10, none);
	/* Only a CR just before the newline is part of the line's end. */
	check_lines("inner CRs", LIT("a\rb\n\r\rx\r\n"), 10, inner_cr);
}

static void
test_cap(void)
{
	static const struct want exact[] = { LINE("12345", 1), LONG(2),
		LINE("12345", 3), LONG(4), LINE("12345", 5), END };
	static const struct want at_end[] = { LINE("ok", 1), LONG(2), END };
	static const struct want cr_end[] = { LONG(1), END };
	static const struct want far[] = { LONG(1), LINE("ok", 2), LONG(3),
		LINE("end", 4), END };
	char big[3000];

	/* max 5: 5 bytes pass, with "\n" or "\r\n"; 6 do not. */
	check_lines("exact cap and cap + 1",
	    LIT("12345\n123456\n12345\r\n1234\r5\n12345"), 5, exact);
	check_lines("cap + 1 at the end", LIT("ok\n123456"), 5, at_end);
	/* At the end of input a CR is not a line end: 6 bytes. */
	check_lines("cap and a CR at the end", LIT("12345\r"), 5, cr_end);
	memset(big, 'x', sizeof(big));
	memcpy(big + 1000, "\nok\n", 4);
	memcpy(big + 2000, "\nend\n", 5);
	check_lines("lines far over the cap", big, 2005, 5, far);
}

/* A line is handed over as soon as its newline has arrived: the reader
 * must not wait for more (the pipe stays open; alarm() ends a hang). */
static void
test_pipe(void)
{
	struct record_reader in;
	const char *line;
	size_t len;
	int p[2], saved = dup(STDIN_FILENO);

	if (pipe(p) != 0 || saved < 0) {
		CHECKF(0, "pipe: %s", strerror(errno));
		return;
	}
	dup2(p[0], STDIN_FILENO);
	close(p[0]);
	CHECK(record_reader_open(&in, NULL, 100, NULL) == 0);
	CHECK(write(p[1], "first\nsec", 9) == 9);
	alarm(5);
	CHECK(record_read_line(&in, &line, &len) == RECORD_READ_LINE &&
	    len == 5 && memcmp(line, "first", 5) == 0);
	CHECK(write(p[1], "ond\n\nthird", 10) == 10);
	CHECK(record_read_line(&in, &line, &len) == RECORD_READ_LINE &&
	    len == 6 && memcmp(line, "second", 6) == 0);
	close(p[1]);
	CHECK(record_read_line(&in, &line, &len) == RECORD_READ_LINE &&
	    len == 5 && memcmp(line, "third", 5) == 0 && in.lineno == 4);
	CHECK(record_read_line(&in, &line, &len) == RECORD_READ_EOF);
	alarm(0);
	record_reader_close(&in);
	dup2(saved, STDIN_FILENO);
	close(saved);
}

static void
test_errors(void)
{
	struct record_reader in;
	const char *line;
	size_t len;
	int fd, saved = dup(STDIN_FILENO);

	quiet(1);
	CHECK(record_reader_open(&in, dir, 100, NULL) == 66);
	record_reader_close(&in);
	snprintf(path, sizeof(path), "%s/nosuch", dir);
	CHECK(record_reader_open(&in, path, 100, NULL) == 66);
	record_reader_close(&in);
	/* Standard input that cannot be read: 74. */
	fd = open("/dev/null", O_WRONLY);
	dup2(fd, STDIN_FILENO);
	close(fd);
	CHECK(record_reader_open(&in, "-", 100, NULL) == 0);
	CHECK(record_read_line(&in, &line, &len) == RECORD_READ_ERROR &&
	    in.rc == 74);
	record_reader_close(&in);
	quiet(0);
	dup2(saved, STDIN_FILENO);
	close(saved);
}

/* The peek of e2e-decrypt's mode detection, then the whole input. */
static void
test_read_all(void)
{
	static const char data[] = "\n \n{\"protected\":\"x\"}\nmore\n\nend";
	struct record_reader in;
	const char *line;
	const uint8_t *all;
	size_t len, c, n = sizeof(data) - 1;

	for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		CHECK(record_reader_open(&in, file_with(data, n), 100,
		    NULL) == 0);
		in.chunk = chunks[c];
		in.keep = 1;
		CHECK(record_read_line(&in, &line, &len) == RECORD_READ_LINE &&
		    len == 17 && in.lineno == 3);
		CHECK(record_read_all(&in, &all, &len) == 0 && len == n &&
		    memcmp(all, data, n) == 0);
		record_reader_close(&in);
		/* The cap is on the whole input now. */
		CHECK(record_reader_open(&in, file_with(data, n), n - 1,
		    NULL) == 0);
		in.chunk = chunks[c];
		in.keep = 1;
		CHECK(record_read_line(&in, &line, &len) == RECORD_READ_LINE);
		quiet(1);
		CHECK(record_read_all(&in, &all, &len) == 65);
		quiet(0);
		record_reader_close(&in);
	}
	/* A first line over the cap, then the whole: too large. */
	CHECK(record_reader_open(&in, file_with("123456789", 9), 4, NULL) == 0);
	in.keep = 1;
	in.chunk = 2;
	CHECK(record_read_line(&in, &line, &len) == RECORD_READ_TOO_LONG);
	quiet(1);
	CHECK(record_read_all(&in, &all, &len) == 65);
	quiet(0);
	record_reader_close(&in);
	/* Empty input: empty, but not NULL (jansson refuses NULL). */
	CHECK(record_reader_open(&in, file_with("", 0), 4, NULL) == 0);
	in.keep = 1;
	CHECK(record_read_line(&in, &line, &len) == RECORD_READ_EOF);
	CHECK(record_read_all(&in, &all, &len) == 0 && len == 0 &&
	    all != NULL);
	record_reader_close(&in);
}

static void
test_is_record(void)
{
	static const struct {
		const char *line;
		int yes;
	} cases[] = {
		{ "{\"id\":\"a\",\"from\":\"b\",\"sent_at\":1,\"message\":{}}", 1 },
		{ "{\"id\":1,\"message\":2}", 1 },
		/* Shape only: duplicates are record_parse's to refuse. */
		{ "{\"id\":\"a\",\"id\":\"b\",\"message\":\"x\"}", 1 },
		{ " {\"message\":\"x\",\"id\":\"a\"} ", 1 },
		{ "{\"id\":\"a\"}", 0 },
		{ "{\"message\":\"x\"}", 0 },
		{ "{\"id\":\"a\",\"message\":{},\"ciphertext\":\"x\"}", 0 },
		{ "{\"id\":\"a\",\"message\":{},\"protected\":\"x\"}", 0 },
		{ "{\"id\":\"a\",\"message\":{},\"recipients\":[]}", 0 },
		{ "{\"id\":\"a\",\"message\":{},\"ciphertext\":1}", 0 },
		{ "{\"protected\":\"eyJ9\",\"ciphertext\":\"AA\"}", 0 },
		{ "{\"RSACipher\": \"x\", \"ct\": \"y\"}", 0 },
		{ "[{\"id\":\"a\",\"message\":{}}]", 0 },
		{ "{\"id\":\"a\",\"message\":{}", 0 },
		{ "hello", 0 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECKF(record_sniff(cases[i].line, strlen(cases[i].line)) ==
		    cases[i].yes, "case %zu: %s", i, cases[i].line);
}

static void
test_object_span(void)
{
	static const struct {
		const char *text;
		const char *span;	/* NULL: not found */
	} cases[] = {
		{ "{\"message\":{}}", "{}" },
		{ "{ \"a\" : 1 , \"message\" :\n { \"x\" : [ 1, { \"y\" : \"}]\" } ] } }",
		    "{ \"x\" : [ 1, { \"y\" : \"}]\" } ] }" },
		{ "{\"message\":{\"s\":\"a\\\"}\"}}", "{\"s\":\"a\\\"}\"}" },
		/* Deeper members and strings do not count. */
		{ "{\"x\":{\"message\":{}},\"message\":{\"k\":1}}", "{\"k\":1}" },
		{ "{\"x\":[{\"message\":{}}]}", NULL },
		{ "{\"x\":\"\\\"message\\\":{}\"}", NULL },
		{ "{\"message\":\"s\"}", NULL },
		{ "{\"message\":[1]}", NULL },
		{ "{\"\\u006dessage\":{}}", NULL },
		{ "{\"messages\":{},\"message\":{\"a\":1}}", "{\"a\":1}" },
		{ "{\"message\":{\"a\":[}", NULL },
		{ "{\"message\":{\"a\":\"}", NULL },
		{ "[\"message\",{}]", NULL },
		{ "{\"message\"{}}", NULL },
		{ "", NULL },
	};
	size_t i, s, e;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = record_object_span(cases[i].text, strlen(cases[i].text),
		    "message", &s, &e);
		if (cases[i].span == NULL)
			CHECKF(rc == -1, "case %zu: found in %s", i,
			    cases[i].text);
		else
			CHECKF(rc == 0 && e - s == strlen(cases[i].span) &&
			    memcmp(cases[i].text + s, cases[i].span, e - s) == 0,
			    "case %zu: %s", i, cases[i].text);
	}
}

static void
test_parse(void)
{
	static const struct {
		const char *line;
		const char *envelope;	/* NULL: refused */
		const char *why_or_id;	/* the reason, or the id parsed */
		int has_id;
	} cases[] = {
		{ "{\"id\":\"01A\",\"from\":\"alice\",\"to\":\"bob\",\"sent_at\":5,"
		    "\"message\" : { \"p\" : \"x\" , \"c\":[1] } }",
		    "{ \"p\" : \"x\" , \"c\":[1] }", "01A", 1 },
		{ "{\"message\":\"a\\\"b\\\\n\",\"sent_at\":-3,\"from\":\"f\","
		    "\"id\":\"x\",\"later\":{\"message\":{}}}", "a\"b\\n", "x", 1 },
		{ "{\"id\":\"01\",\"from\":\"a\",\"sent_at\":1,\"x\":{\"message\":"
		    "{\"no\":1}},\"message\":\"yes\"}", "yes", "01", 1 },
		{ "not json", NULL, "not a record: not JSON: '[' or '{' "
		    "expected near 'not' at line 1, column 3", 0 },
		{ "[]", NULL, "not a record: not a JSON object", 0 },
		{ "{\"id\":\"\",\"from\":\"a\",\"sent_at\":1,\"message\":\"m\"}",
		    NULL, "not a record: \"id\" is missing, empty or not a "
		    "string", 0 },
		{ "{\"id\":[\"a\"],\"from\":\"a\",\"sent_at\":1,\"message\":\"m\"}",
		    NULL, "not a record: \"id\" is missing, empty or not a "
		    "string", 0 },
		{ "{\"id\":\"a\",\"sent_at\":1,\"message\":\"m\"}", NULL,
		    "not a record: \"from\" is missing, empty or not a string",
		    1 },
		{ "{\"id\":\"a\",\"from\":\"a\",\"sent_at\":1.5,\"message\":\"m\"}",
		    NULL, "not a record: \"sent_at\" is missing or not an "
		    "integer", 1 },
		{ "{\"id\":\"a\",\"from\":\"a\",\"sent_at\":null,\"message\":{}}",
		    NULL, "not a record: \"sent_at\" is missing or not an "
		    "integer", 1 },
		{ "{\"id\":\"a\",\"from\":\"a\",\"to\":null,\"sent_at\":1,"
		    "\"message\":{}}", NULL, "not a record: \"to\" is not a "
		    "string", 1 },
		{ "{\"id\":\"a\",\"from\":\"a\",\"sent_at\":1,\"message\":[]}",
		    NULL, "not a record: \"message\" is missing or neither an "
		    "object nor a string", 1 },
		{ "{\"id\":\"a\",\"from\":\"a\",\"sent_at\":1,\"\\u006dessage\":"
		    "{}}", NULL, "not a record: \"message\" is an object whose "
		    "member name is written with escapes", 1 },
		/* J8: duplicates, around and beside the envelope. */
		{ "{\"id\":\"a\",\"from\":\"a\",\"from\":\"b\",\"sent_at\":1,"
		    "\"message\":{}}", NULL, "not a record: not JSON: duplicate "
		    "object key near '\"from\"' at line 1, column 27", 0 },
		{ "{\"id\":\"a\",\"from\":\"a\",\"sent_at\":1,\"message\":{\"k\":1},"
		    "\"message\":\"s\"}", NULL, "not a record: not JSON: "
		    "duplicate object key near '\"message\"' at line 1, "
		    "column 60", 0 },
		/* Something after the object. */
		{ "{\"id\":\"a\",\"from\":\"a\",\"sent_at\":1,\"message\":{}} x",
		    NULL, "not a record: not JSON: end of file expected near "
		    "'x' at line 1, column 48", 0 },
		{ "{\"id\":\"a\",\"from\":\"a\",\"sent_at\":1,\"message\":{}}{}",
		    NULL, "not a record: not JSON: end of file expected near "
		    "'{' at line 1, column 47", 0 },
		/* A 2^63 sent_at is not an integer jansson can hold. */
		{ "{\"id\":\"a\",\"from\":\"a\",\"sent_at\":9223372036854775808,"
		    "\"message\":{}}", NULL, "not a record: not JSON: too big "
		    "integer near '9223372036854775808' at line 1, column 50",
		    0 },
	};
	struct record r;
	char why[320];
	size_t i, n;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = '\0';
		rc = rep_why_rc(record_parse(cases[i].line,
		    strlen(cases[i].line), &r, &t_rep), why, sizeof(why));
		if (cases[i].envelope != NULL) {
			n = strlen(cases[i].envelope);
			CHECKF(rc == 0 && r.envelope_len == n &&
			    memcmp(r.envelope, cases[i].envelope, n) == 0 &&
			    strcmp(r.id, cases[i].why_or_id) == 0,
			    "case %zu: %d %s", i, rc, why);
		} else {
			CHECKF(rc == 65 && strcmp(why, cases[i].why_or_id) == 0,
			    "case %zu: '%s'", i, why);
			CHECKF((r.id != NULL) == cases[i].has_id,
			    "case %zu: id %s", i, r.id ? r.id : "(none)");
		}
		record_free(&r);
	}
	/* An object envelope is the line's own bytes, not a copy. */
	{
		const char *line = "{\"id\":\"a\",\"from\":\"b\",\"sent_at\":7,"
		    "\"message\":{\"k\":\"v\"}}";

		CHECK(record_parse(line, strlen(line), &r, &t_rep) == 0 &&
		    !report_said(&t_rep) && r.message_is_object &&
		    r.envelope == (const uint8_t *)line + 43 &&
		    r.sent_at == 7 && r.to == NULL &&
		    strcmp(r.from, "b") == 0);
		record_free(&r);
	}
}

/* Appends the UTF-8 encoding of cp. */
static size_t
utf8_put(unsigned cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The output line of a message with plaintext pt, checked exactly. */
static void
check_format(const char *name, const char *pt, size_t n, int ascii,
    int is_signed, const char *want)
{
	struct record r;
	struct message m;
	struct buf out = BUF_SECRET_INIT;

	memset(&r, 0, sizeof(r));
	memset(&m, 0, sizeof(m));
	r.id = "01\xc3\xa9";
	r.from = "al\x1b" "ice";
	r.sent_at = 1764380000;
	m.format = MESSAGE_JWE;
	m.pt = (const uint8_t *)pt;
	m.pt_len = n;
	if (is_signed) {
		m.is_signed = 1;
		m.verified = 1;
		m.iat = 1764379999;
		memcpy(m.signer_kid, "Y6uyIp-NFRQQmtZ9rLcfgpiPEqI5_c0iGbHeHZmM_zA",
		    KID_SIZE);
	}
	CHECK(record_format(&r, &m, NULL, ascii, &out) == 0);
	CHECKF(out.len == strlen(want) && memcmp(out.p, want, out.len) == 0,
	    "%s: %.*s", name, (int)out.len, out.p);
	buf_free(&out);
}

static void
test_format(void)
{
	static const char text[] = "h\xc3\xa9\x1b[1m\xc2\x9b\xe2\x80\xae"
	    "\xe2\x80\xa8\x7f\"\\\n\t\r\xf0\x9f\x98\x80/";

	check_format("text", text, sizeof(text) - 1, 0, 0,
	    "{\"id\":\"01\xc3\xa9\",\"from\":\"al\\u001bice\",\"sent_at\":"
	    "1764380000,\"format\":\"jwe\",\"signed_by\":null,\"verified\":"
	    "false,\"text\":\"h\xc3\xa9\\u001b[1m\\u009b\\u202e\\u2028"
	    "\\u007f\\\"\\\\\\n\\t\\u000d\xf0\x9f\x98\x80/\"}\n");
	check_format("text, ASCII", text, sizeof(text) - 1, 1, 1,
	    "{\"id\":\"01\\u00e9\",\"from\":\"al\\u001bice\",\"sent_at\":"
	    "1764380000,\"format\":\"jwe\",\"signed_by\":"
	    "\"Y6uyIp-NFRQQmtZ9rLcfgpiPEqI5_c0iGbHeHZmM_zA\",\"signed_at\":"
	    "1764379999,\"verified\":true,\"text\":\"h\\u00e9\\u001b[1m"
	    "\\u009b\\u202e\\u2028\\u007f\\\"\\\\\\n\\t\\u000d"
	    "\\ud83d\\ude00/\"}\n");
	check_format("not UTF-8", "\xff", 1, 0, 0,
	    "{\"id\":\"01\xc3\xa9\",\"from\":\"al\\u001bice\",\"sent_at\":"
	    "1764380000,\"format\":\"jwe\",\"signed_by\":null,\"verified\":"
	    "false,\"data\":\"/w==\"}\n");
	check_format("NUL", "a\0b", 3, 1, 0,
	    "{\"id\":\"01\\u00e9\",\"from\":\"al\\u001bice\",\"sent_at\":"
	    "1764380000,\"format\":\"jwe\",\"signed_by\":null,\"verified\":"
	    "false,\"data\":\"YQBi\"}\n");
	check_format("empty", NULL, 0, 0, 0,
	    "{\"id\":\"01\xc3\xa9\",\"from\":\"al\\u001bice\",\"sent_at\":"
	    "1764380000,\"format\":\"jwe\",\"signed_by\":null,\"verified\":"
	    "false,\"text\":\"\"}\n");
	/* A surrogate (not valid UTF-8) makes it data. */
	check_format("surrogate", "\xed\xa0\x80", 3, 0, 0,
	    "{\"id\":\"01\xc3\xa9\",\"from\":\"al\\u001bice\",\"sent_at\":"
	    "1764380000,\"format\":\"jwe\",\"signed_by\":null,\"verified\":"
	    "false,\"data\":\"7aCA\"}\n");
}

/* Every kind of character survives the output, in both modes: jansson
 * reads back the plaintext; in ASCII mode only printable ASCII and the
 * final newline are written. */
static void
test_format_round_trip(void)
{
	static const unsigned cps[] = { 0, 1, 0x1f, 0x20, 0x22, 0x2f, 0x5c,
		0x7e, 0x7f, 0x80, 0x9f, 0xa0, 0xff, 0x7ff, 0x800, 0x2027,
		0x2028, 0x2029, 0x202a, 0x202e, 0x2066, 0x2069, 0xd7ff, 0xe000,
		0xfeff, 0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff };
	char pt[sizeof(cps) / sizeof(cps[0]) * 4];
	struct record r;
	struct message m;
	struct buf out = BUF_SECRET_INIT;
	const char *t;
	size_t i, n = 0, tlen;
	json_t *v;
	int ascii;

	for (i = 1; i < sizeof(cps) / sizeof(cps[0]); i++)	/* no NUL */
		n += utf8_put(cps[i], pt + n);
	memset(&r, 0, sizeof(r));
	memset(&m, 0, sizeof(m));
	r.id = pt;	/* any valid UTF-8: the id too */
	r.from = "x";
	m.format = MESSAGE_SEED;
	m.pt = (const uint8_t *)pt;
	m.pt_len = n;
	for (ascii = 0; ascii < 2; ascii++) {
		char *idz = strndup(pt, n);

		r.id = idz;
		CHECK(record_format(&r, &m, NULL, ascii, &out) == 0);
		v = jsonio_parse((const char *)out.p, out.len, NULL);
		t = jsonio_str(v, "text", &tlen);
		CHECKF(t != NULL && tlen == n && memcmp(t, pt, n) == 0,
		    "round trip, ascii %d", ascii);
		CHECK(strcmp(jsonio_str(v, "format", NULL), "seed") == 0);
		if (ascii)
			for (i = 0; i + 1 < out.len; i++)
				CHECKF(out.p[i] >= 0x20 && out.p[i] < 0x7f,
				    "byte %zu is 0x%02x", i, out.p[i]);
		CHECK(out.p[out.len - 1] == '\n');
		json_decref(v);
		buf_free(&out);
		free(idz);
	}
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	RUN(test_lines);
	RUN(test_cap);
	RUN(test_pipe);
	RUN(test_errors);
	RUN(test_read_all);
	RUN(test_is_record);
	RUN(test_object_span);
	RUN(test_parse);
	RUN(test_format);
	RUN(test_format_round_trip);
	while (nfiles > 0) {
		snprintf(path, sizeof(path), "%s/in%d", dir, --nfiles);
		unlink(path);
	}
	if (rmdir(dir) != 0)
		perror(dir);
	return harness_end();
}
