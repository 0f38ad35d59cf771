/*
 * fuzz_record.c - record lines (lib/format/records.c) on arbitrary bytes. The
 * parser takes an envelope object out of the line by a scan and lets
 * jansson parse the rest, so it must agree with jansson parsing the whole
 * line: whenever the envelope it found parses, the whole line parses to
 * the same record (J8: no duplicate or trailing text slips through);
 * and a line that jansson reads as a well-formed record is accepted with
 * the same envelope. The output line of any plaintext must read back to
 * that plaintext.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "base/b64.h"
#include "base/jsonio.h"
#include "format/records.h"

/* The record jansson sees in the whole line, or 0 when it is not one.
 * *msg receives its "message" member (borrowed from v). */
static int
well_formed(const json_t *v, const json_t **msg)
{
	const json_t *to = json_object_get(v, "to");
	const char *id, *from;
	size_t n, m;

	*msg = json_object_get(v, "message");
	id = jsonio_str(v, "id", &n);
	from = jsonio_str(v, "from", &m);
	return json_is_object(v) && id != NULL && n > 0 && from != NULL &&
	    m > 0 && json_is_integer(json_object_get(v, "sent_at")) &&
	    (to == NULL || json_is_string(to)) &&
	    (json_is_object(*msg) || json_is_string(*msg));
}

static void
check_parse(const char *t, size_t size)
{
	struct record r;
	const json_t *msg;
	json_t *whole, *env;
	static struct report rep;	/* what record_parse says */
	const char *why;
	int rc;

	report_clear(&rep);
	rc = record_parse(t, size, &r, &rep);
	why = report_message(&rep);
	FUZZ_ASSERT(rc == 0 ? !report_said(&rep) : rc == 65 && why[0] != '\0');
	whole = jsonio_parse(t, size, NULL);
	if (rc == 0) {
		FUZZ_ASSERT(r.id != NULL && r.from != NULL);
		if (r.message_is_object) {
			FUZZ_ASSERT(r.envelope >= (const uint8_t *)t &&
			    r.envelope + r.envelope_len <=
			    (const uint8_t *)t + size);
			env = jsonio_parse((const char *)r.envelope,
			    r.envelope_len, NULL);
			if (json_is_object(env)) {
				FUZZ_ASSERT(whole != NULL &&
				    well_formed(whole, &msg) &&
				    json_equal(msg, env));
				FUZZ_ASSERT(strcmp(jsonio_str(whole, "id", NULL),
				    r.id) == 0);
				FUZZ_ASSERT(json_integer_value(json_object_get(
				    whole, "sent_at")) == r.sent_at);
			}
			json_decref(env);
		} else {
			FUZZ_ASSERT(whole != NULL && well_formed(whole, &msg) &&
			    json_is_string(msg) &&
			    json_string_length(msg) == r.envelope_len &&
			    memcmp(json_string_value(msg), r.envelope,
			    r.envelope_len) == 0);
		}
	} else if (whole != NULL && well_formed(whole, &msg)) {
		/* Refused only for a name the scan cannot see. */
		FUZZ_ASSERT(json_is_object(msg) &&
		    strstr(why, "written with escapes") != NULL);
	}
	/* The mode check sees a record wherever the parser may. */
	if (rc == 0 && whole != NULL)
		FUZZ_ASSERT(record_sniff(t, size) ||
		    json_object_get(r.obj, "ciphertext") != NULL ||
		    json_object_get(r.obj, "protected") != NULL ||
		    json_object_get(r.obj, "recipients") != NULL);
	json_decref(whole);
	record_free(&r);
}

/* Any plaintext comes back from the output line as it was. */
static void
check_format(const uint8_t *data, size_t size)
{
	struct record r;
	struct message m;
	struct buf out = BUF_SECRET_INIT, dec = BUF_INIT;
	const char *s;
	size_t n;
	json_t *v;
	int ascii;

	memset(&r, 0, sizeof(r));
	memset(&m, 0, sizeof(m));
	r.id = "01";
	r.from = "f";
	m.format = MESSAGE_JWE;
	m.pt = data;
	m.pt_len = size;
	for (ascii = 0; ascii < 2; ascii++) {
		FUZZ_ASSERT(record_format(&r, &m, NULL, ascii, &out) == 0);
		FUZZ_ASSERT(out.len > 0 && out.p[out.len - 1] == '\n' &&
		    memchr(out.p, '\n', out.len - 1) == NULL);
		for (n = 0; ascii && n + 1 < out.len; n++)
			FUZZ_ASSERT(out.p[n] >= 0x20 && out.p[n] < 0x7f);
		v = jsonio_parse((const char *)out.p, out.len, NULL);
		FUZZ_ASSERT(v != NULL);
		if ((s = jsonio_str(v, "text", &n)) != NULL) {
			FUZZ_ASSERT(n == size && memcmp(s, data, size) == 0);
		} else {
			s = jsonio_str(v, "data", &n);
			FUZZ_ASSERT(s != NULL);
			/* Standard base64: the url alphabet differs only in
			 * two characters and padding; compare by re-encoding. */
			FUZZ_ASSERT(b64_append(&dec, data, size) == 0 &&
			    dec.len == n && memcmp(dec.p, s, n) == 0);
			buf_free(&dec);
		}
		json_decref(v);
		buf_free(&out);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_parse((const char *)data, size);
	check_format(data, size);
	return 0;
}
