/*
 * compat: charset.c: UTF-8 repaired as the WHATWG decoder (and Node)
 * repair it, one U+FFFD per maximal subpart; Latin-1 to and from UTF-8,
 * with the place of what cannot be converted.
 */
#include "harness.h"

#include "base/charset.h"

#define R "\xef\xbf\xbd"	/* U+FFFD */

static const struct {
	const char *in, *out;
} repairs[] = {
	{ "", "" },
	{ "plain ascii", "plain ascii" },
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac "
	    "\xf0\x9f\x98\x80" },
	{ "\xff", R },
	{ "caf\xe9", "caf" R },
	{ "\xe2\x82", R },			/* truncated: one subpart */
	{ "\xe2\x82" "A", R "A" },
	{ "\xf0\x80\x80", R R R },		/* F0 needs 90..BF next */
	{ "\xed\xa0\x80", R R R },		/* a surrogate */
	{ "\xc0\xaf", R R },			/* overlong */
	{ "\xf4\x90\x80\x80", R R R R },	/* above U+10FFFF */
	{ "\xe2\x28\xa1", R "(" R },
	{ "\xf1\x80\x80\xe1\x80\xc2", R R R },
	{ "\xf0\x9f\x98", R },
	{ "\x80\x80", R R },			/* lone continuations */
	{ "\xf5\x80", R R },
	{ "a\xc3", "a" R },
};

static void
test_repair(void)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(repairs) / sizeof(repairs[0]); i++) {
		buf_clear(&b);
		CHECKF(utf8_repair((const uint8_t *)repairs[i].in,
		    strlen(repairs[i].in), &b) == 0 &&
		    b.len == strlen(repairs[i].out) && (b.len == 0 ||
		    memcmp(b.p, repairs[i].out, b.len) == 0), "repair %zu", i);
	}
	buf_free(&b);
}

static void
test_latin1(void)
{
	struct buf u = BUF_INIT, l = BUF_INIT;
	struct latin1_error e;
	uint8_t all[256];
	size_t i;

	/* Every byte there and back. */
	for (i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	CHECK(latin1_to_utf8(all, 256, &u) == 0 && u.len == 128 + 2 * 128);
	CHECK(latin1_from_utf8(u.p, u.len, &l, &e) == 0 && l.len == 256 &&
	    memcmp(l.p, all, 256) == 0);
	buf_clear(&u);
	buf_clear(&l);
	CHECK(latin1_to_utf8((const uint8_t *)"", 0, &u) == 0 && u.len == 0);
	CHECK(latin1_from_utf8((const uint8_t *)"caf\xc3\xa9 \xc3\xbf\xc2\xa7"
	    "\xc3\xb1", 13, &l, &e) == 0 && l.len == 9 &&
	    memcmp(l.p, "caf\xe9 \xff\xa7\xf1", 9) == 0);
	buf_clear(&l);
	/* U+20AC, the 5th character, at byte offset 5. */
	CHECK(latin1_from_utf8((const uint8_t *)"ab\xc3\xa9" "c\xe2\x82\xac",
	    8, &l, &e) == -1 && !e.invalid && e.cp == 0x20ac &&
	    e.index == 5 && e.offset == 5);
	buf_clear(&l);
	CHECK(latin1_from_utf8((const uint8_t *)"\xc4\x80", 2, &l, &e) == -1 &&
	    e.cp == 0x100 && e.index == 1 && e.offset == 0);
	buf_clear(&l);
	CHECK(latin1_from_utf8((const uint8_t *)"x\xf0\x9f\x98\x80", 5, &l,
	    &e) == -1 && e.cp == 0x1f600 && e.index == 2 && e.offset == 1);
	buf_clear(&l);
	/* Not UTF-8: the byte and where. */
	CHECK(latin1_from_utf8((const uint8_t *)"caf\xe9", 4, &l, &e) == -1 &&
	    e.invalid && e.cp == 0xe9 && e.index == 4 && e.offset == 3);
	buf_clear(&l);
	CHECK(latin1_from_utf8((const uint8_t *)"\xc3\xa9\xc0\xaf", 4, &l,
	    &e) == -1 && e.invalid && e.cp == 0xc0 && e.index == 2 &&
	    e.offset == 2);
	buf_clear(&l);
	CHECK(latin1_from_utf8((const uint8_t *)"\xed\xa0\x80", 3, &l, &e) ==
	    -1 && e.invalid && e.cp == 0xed && e.offset == 0);
	buf_free(&u);
	buf_free(&l);
}

int
main(void)
{
	RUN(test_repair);
	RUN(test_latin1);
	return harness_end();
}
