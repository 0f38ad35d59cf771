/*
 * compat: form bodies read as the original server (Express's urlencoded
 * parser, Node's querystring) read them (form.c).
 *
 * The table tests/vectors/form/querystring.json gives bodies (each
 * character U+0000..U+00FF stands for one byte) and what form_parse must
 * make of them: "fields", or "refused" with the reason; "node" is what
 * the original server made of it when that differs (docs/COMPAT.md says
 * why). When node is installed, tests/interop/node_querystring.js runs
 * Node's own querystring over the same bodies, and its answers must be
 * the table's: so the table is Node's behaviour, not our reading of it.
 */
#include "harness.h"

#include "base/err.h"
#include "server/form.h"

#define TABLE "tests/vectors/form/querystring.json"
#define NODE_SCRIPT "tests/interop/node_querystring.js"

static json_t *table;

/* form_parse with a fresh report: its first error's text in why, and a
 * refusal always said (code 65; 70 for 500), an answer never. */
static int
parse(const char *body, size_t len, json_t **out, char *why, size_t size)
{
	struct report rep = { 0 };
	int rc = form_parse(body, len, out, &rep);

	CHECKF(rc == 0 ? !report_said(&rep) : rep.code == (rc == 500 ?
	    E2E_EX_SOFTWARE : E2E_EX_DATAERR) && rep.nlines == 1,
	    "status %d, code %d, %d lines", rc, rep.code, rep.nlines);
	snprintf(why, size, "%s", report_message(&rep));
	return rc;
}

/* The bytes a table body stands for, malloc'd. */
static char *
body_bytes(const json_t *row, size_t *len)
{
	const char *s = json_string_value(json_object_get(row, "body"));
	size_t n = json_string_length(json_object_get(row, "body")), i, o = 0;
	const unsigned char *u = (const unsigned char *)s;
	char *b = malloc(n + 1);

	if (s == NULL || b == NULL) {
		fprintf(stderr, "bad table row\n");
		exit(2);
	}
	for (i = 0; i < n; i++) {
		if (u[i] < 0x80) {
			b[o++] = (char)u[i];
		} else if (u[i] == 0xc2 || u[i] == 0xc3) {
			b[o++] = (char)((u[i] & 0x03) << 6 | (u[i + 1] & 0x3f));
			i++;
		} else {
			fprintf(stderr, "table body above U+00FF\n");
			exit(2);
		}
	}
	*len = o;
	return b;
}

static void
test_table(void)
{
	const json_t *row, *fields, *refused;
	json_t *got;
	size_t i, len;
	char why[128], *body;
	const char *what;
	int rc;

	json_array_foreach(table, i, row) {
		what = json_string_value(json_object_get(row, "why"));
		fields = json_object_get(row, "fields");
		refused = json_object_get(row, "refused");
		body = body_bytes(row, &len);
		memset(why, 'x', sizeof(why));
		rc = parse(body, len, &got, why, sizeof(why));
		if (fields != NULL)
			CHECKF(rc == 0 && json_equal(got, fields), "%s: %s", what,
			    rc == 0 ? "different fields" : why);
		else
			CHECKF(rc == 400 && got == NULL &&
			    strcmp(why, json_string_value(refused)) == 0,
			    "%s: %d %s", what, rc, rc ? why : "accepted");
		json_decref(got);
		free(body);
	}
	CHECK(json_array_size(table) >= 69);
}

/* Node's own querystring over the table's bodies. */
static void
test_node(void)
{
	const json_t *row, *want;
	json_t *got;
	char line[65536];
	FILE *f;
	size_t i = 0;

	if (system("command -v node >/dev/null 2>&1") != 0) {
		harness_skip("node is not installed: the table is not compared "
		    "with Node's own querystring this time");
		return;
	}
	f = popen("node " NODE_SCRIPT " " TABLE, "r");
	if (f == NULL) {
		CHECK(f != NULL);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL &&
	    (row = json_array_get(table, i)) != NULL) {
		want = json_object_get(row, "node");
		if (want == NULL)
			want = json_object_get(row, "fields");
		got = json_loads(line, JSON_ALLOW_NUL, NULL);
		CHECKF(got != NULL && json_equal(got, want), "node: %s: node "
		    "says %s", json_string_value(json_object_get(row, "why")),
		    line);
		json_decref(got);
		i++;
	}
	CHECKF(pclose(f) == 0, "node failed");
	CHECKF(i == json_array_size(table), "node answered %zu of %zu rows", i,
	    json_array_size(table));
}

/*
 * Random bodies from an alphabet of every character that matters (escape
 * parts, separators, raw UTF-8 and broken UTF-8), compared with Node's
 * own querystring: each body parsed is Node's result; each refused is
 * one where Node made a NUL or an array. No "message" name can be
 * spelt, so the one deliberate difference of values does not arise.
 */
static void
test_node_random(void)
{
	static const char *const parts[] = { "%", "%", "4", "1", "e", "E",
		"9", "0", "z", "=", "=", "&", "&", "+", "a", "b", "\"",
		"\xc3", "\xa9", "\xff", "\xe2\x82", "\xac", "\xf0\x9f\x98",
		"\x80", "\xc4\x80", "\xef\xbb\xbf", "%C3", "%A9", "%e2%82%ac",
		"%F0%9F%98%80", "%ED%A0%80", "%00" };
	const size_t nparts = sizeof(parts) / sizeof(parts[0]), n = 3000;
	char path[] = "/tmp/e2e-form-XXXXXX", cmd[256], line[8192];
	char body[256], why[128];
	uint32_t x = 12345;
	json_t *rows = json_array(), *got, *node;
	size_t i, k, len, count, m;
	int rc, fd, ok, nul, arr;
	FILE *f;

	if (system("command -v node >/dev/null 2>&1") != 0) {
		harness_skip("node is not installed: no random bodies "
		    "compared with Node");
		json_decref(rows);
		return;
	}
	/* The bodies, as the table writes them (a character per byte). */
	for (i = 0; i < n; i++) {
		len = 0;
		x = x * 1103515245 + 12345;
		count = (x >> 16) % 24;
		for (k = 0; k < count; k++) {
			x = x * 1103515245 + 12345;
			m = strlen(parts[(x >> 16) % nparts]);
			memcpy(body + len, parts[(x >> 16) % nparts], m);
			len += m;
		}
		{
			char u[512];
			size_t o = 0;

			for (k = 0; k < len; k++) {
				unsigned char c = (unsigned char)body[k];

				if (c < 0x80) {
					u[o++] = (char)c;
				} else {
					u[o++] = (char)(0xc0 | c >> 6);
					u[o++] = (char)(0x80 | (c & 0x3f));
				}
			}
			json_array_append_new(rows, json_pack("{s:s%}", "body", u,
			    o));
		}
	}
	fd = mkstemp(path);
	CHECK(fd >= 0 && json_dumpfd(rows, fd, 0) == 0);
	if (fd >= 0)
		close(fd);
	snprintf(cmd, sizeof(cmd), "node " NODE_SCRIPT " %s", path);
	if ((f = popen(cmd, "r")) == NULL) {
		CHECK(f != NULL);
		goto out;
	}
	for (i = 0; i < n && fgets(line, sizeof(line), f) != NULL; i++) {
		const json_t *row = json_array_get(rows, i);
		const char *u = json_string_value(json_object_get(row, "body"));
		size_t ulen = json_string_length(json_object_get(row, "body"));

		/* Back to the bytes. */
		for (k = 0, len = 0; k < ulen; k++) {
			unsigned char c = (unsigned char)u[k];

			if (c >= 0x80) {
				c = (unsigned char)((c & 0x03) << 6 |
				    (u[k + 1] & 0x3f));
				k++;
			}
			body[len++] = (char)c;
		}
		rc = parse(body, len, &got, why, sizeof(why));
		node = json_loads(line, JSON_ALLOW_NUL, NULL);
		nul = strstr(line, "\\u0000") != NULL;
		/* No '[' can be spelt: one is an array. (jansson cannot load
		 * a NUL in a name, so this is read from the text.) */
		arr = strchr(line, '[') != NULL;
		if (rc == 0)
			ok = node != NULL && json_equal(got, node);
		else if (strcmp(why, "a form field holds a NUL byte") == 0)
			ok = nul;
		else
			ok = rc == 400 && arr &&
			    strcmp(why, "form field given twice") == 0;
		CHECKF(ok, "body %zu \"%.*s\": ours %d %s, node %s", i,
		    (int)len, body, rc, rc ? why : "", line);
		json_decref(got);
		json_decref(node);
	}
	CHECKF(i == n, "node answered %zu of %zu bodies", i, n);
	CHECK(pclose(f) == 0);
out:
	unlink(path);
	json_decref(rows);
}

/* 1000 '&' are refused with 413 (body-parser's parameterLimit). */
static void
test_ampersands(void)
{
	size_t n = FORM_FIELDS_MAX;
	char *b = malloc(2 * n + 1), why[128];
	json_t *got;
	size_t i;

	for (i = 0; i < n; i++)
		memcpy(b + 2 * i, "a&", 2);
	b[2 * n] = '\0';
	CHECK(parse(b, 2 * n, &got, why, sizeof(why)) == 413 &&
	    got == NULL && strcmp(why, "too many form fields: at most 1000") ==
	    0);
	/* 999 '&': parsed (the names are the same: refused as such). */
	CHECK(parse(b, 2 * n - 1, &got, why, sizeof(why)) == 400 &&
	    strcmp(why, "form field given twice") == 0);
	for (i = 0; i < n; i++)
		b[2 * i] = (char)('A' + i % 26);
	CHECK(parse(b, 2 * 26 - 1, &got, why, sizeof(why)) == 0 &&
	    json_object_size(got) == 26);
	json_decref(got);
	free(b);
}

static void
test_length(void)
{
	json_t *v;
	char why[64];
	size_t n = 1 << 20;
	char *big = malloc(n + 3);

	/* A NUL in a name (not in the table: JSON objects cannot hold
	 * one in a name). */
	CHECK(parse("%00=x", 5, &v, why, sizeof(why)) == 400 &&
	    strcmp(why, "a form field holds a NUL byte") == 0);
	CHECK(parse("a\0=x", 4, &v, why, sizeof(why)) == 400);
	/* The length given counts, not a NUL. */
	CHECK(parse("a=1&b=2", 3, &v, why, sizeof(why)) == 0 &&
	    json_object_size(v) == 1);
	json_decref(v);
	/* A big value, and one the original client would send: raw, with a
	 * quote and percent signs, kept as it is. */
	memcpy(big, "a=", 2);
	memset(big + 2, 'x', n);
	big[n + 2] = '\0';
	CHECK(parse(big, n + 2, &v, why, sizeof(why)) == 0 &&
	    json_string_length(json_object_get(v, "a")) == n);
	json_decref(v);
	memcpy(big, "message=\"%41", 12);
	CHECK(parse(big, n + 2, &v, why, sizeof(why)) == 0 &&
	    json_string_length(json_object_get(v, "message")) == n - 6 &&
	    memcmp(json_string_value(json_object_get(v, "message")),
	    "\"%41xx", 6) == 0);
	json_decref(v);
	free(big);
}

int
main(void)
{
	json_error_t e;

	table = json_load_file(TABLE, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES,
	    &e);
	if (table == NULL || !json_is_array(table)) {
		fprintf(stderr, "%s: %s\n", TABLE, e.text);
		return 2;
	}
	RUN(test_table);
	RUN(test_node);
	RUN(test_node_random);
	RUN(test_ampersands);
	RUN(test_length);
	json_decref(table);
	return harness_end();
}
