/*
 * Safety numbers (lib/keys/safety.c), shown by "e2e-keys show NAME" so that
 * two users can check each other's keys (E5): a known answer, symmetry,
 * what changes the number and what does not, the format, the refusals.
 */
#include "harness.h"
#include "keys_fixture.h"

#include <ctype.h>

#include "base/err.h"
#include "format/jwk.h"
#include "keys/safety.h"

/* Shaped as a key id (32 bytes once decoded), no real key behind it. */
#define KID_OTHER "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

/*
 * Known answers, computed once outside this code base with Python's
 * hashlib (the construction of safety.h written anew, not translated
 * from safety.c):
 *   half(name, kids): k = ",".join(sorted(set(kids))).encode()
 *     d = sha512(b"e2e-chat safety number v1\0" + name + b"\0" + k)
 *     5199 times: d = sha512(d + k)
 *     "".join("%05d" % (int.from_bytes(d[i:i+5], "big") % 100000)
 *             for i in range(0, 30, 5))
 *   number = the two halves sorted, in groups of 5 joined with " "
 */
#define HALF_ALICE "519292427779187238329672956296"	/* alice: KID_ALICE */
#define HALF_BOB2 "215699189392792459367925783193"	/* bob: KID_BOB, KID_CAROL */
#define KAT_ALICE_BOB2 \
	"21569 91893 92792 45936 79257 83193 " \
	"51929 24277 79187 23832 96729 56296"
/* bob with KID_BOB only: his half is now the larger one. */
#define KAT_ALICE_BOB \
	"51929 24277 79187 23832 96729 56296 " \
	"89908 11223 19356 31094 84426 67410"

static char why[512];

static int
number(const char *na, const char *const *ka, size_t nka, const char *nb,
    const char *const *kb, size_t nkb, char out[SAFETY_NUMBER_SIZE])
{
	struct report rep = { 0 };
	int rc;

	rc = safety_number(na, ka, nka, nb, kb, nkb, out, &rep);
	/* The first error: what a tool would show. */
	snprintf(why, sizeof(why), "%s", report_message(&rep));
	CHECKF(rep.code == rc, "%d, reported %d", rc, rep.code);
	return rc;
}

/* The 60 digits without the spaces. */
static void
digits(const char *n, char out[61])
{
	size_t o = 0;

	for (; *n != '\0' && o < 60; n++)
		if (*n != ' ')
			out[o++] = *n;
	out[o] = '\0';
}

/* 1 when the two numbers share exactly one 30-digit half. */
static int
share_one_half(const char *x, const char *y)
{
	char dx[61], dy[61];
	int same = 0;
	size_t i, k;

	digits(x, dx);
	digits(y, dy);
	for (i = 0; i < 2; i++)
		for (k = 0; k < 2; k++)
			same += memcmp(dx + 30 * i, dy + 30 * k, 30) == 0;
	return same == 1;
}

static void
known_answer(void)
{
	const char *a[] = { KID_ALICE };
	const char *b2[] = { KID_CAROL, KID_BOB };	/* not in order */
	const char *b[] = { KID_BOB };
	char out[SAFETY_NUMBER_SIZE], d[61];

	CHECK(number("alice", a, 1, "bob", b2, 2, out) == 0);
	CHECKF(strcmp(out, KAT_ALICE_BOB2) == 0, "%s", out);
	digits(out, d);
	CHECK(memcmp(d, HALF_BOB2, 30) == 0);
	CHECK(memcmp(d + 30, HALF_ALICE, 30) == 0);
	CHECK(number("alice", a, 1, "bob", b, 1, out) == 0);
	CHECKF(strcmp(out, KAT_ALICE_BOB) == 0, "%s", out);
}

/* Both sides compute the same number. */
static void
symmetric(void)
{
	const char *a[] = { KID_ALICE };
	const char *b[] = { KID_BOB, KID_CAROL };
	char ab[SAFETY_NUMBER_SIZE], ba[SAFETY_NUMBER_SIZE];

	CHECK(number("alice", a, 1, "bob", b, 2, ab) == 0);
	CHECK(number("bob", b, 2, "alice", a, 1, ba) == 0);
	CHECK(strcmp(ab, ba) == 0);
	CHECK(strcmp(ab, KAT_ALICE_BOB2) == 0);
}

/* The order of the key ids, and repeats, do not matter. */
static void
order_and_duplicates(void)
{
	const char *a[] = { KID_ALICE };
	const char *b1[] = { KID_BOB, KID_CAROL, KID_OTHER };
	const char *b2[] = { KID_OTHER, KID_CAROL, KID_BOB };
	const char *b3[] = { KID_CAROL, KID_OTHER, KID_BOB, KID_CAROL,
	    KID_OTHER, KID_BOB, KID_BOB };
	const char *bb[] = { KID_BOB, KID_BOB };
	const char *b[] = { KID_BOB };
	char x[SAFETY_NUMBER_SIZE], y[SAFETY_NUMBER_SIZE];

	CHECK(number("alice", a, 1, "bob", b1, 3, x) == 0);
	CHECK(number("alice", a, 1, "bob", b2, 3, y) == 0);
	CHECK(strcmp(x, y) == 0);
	CHECK(number("alice", a, 1, "bob", b3, 7, y) == 0);
	CHECK(strcmp(x, y) == 0);
	CHECK(number("alice", a, 1, "bob", bb, 2, y) == 0);
	CHECK(strcmp(y, KAT_ALICE_BOB) == 0);
	CHECK(number("alice", a, 1, "bob", b, 1, x) == 0);
	CHECK(strcmp(x, y) == 0);
}

/* A changed key id or name changes the number, and only the half of the
 * party it belongs to. */
static void
changes(void)
{
	const char *a[] = { KID_ALICE };
	const char *a_new[] = { KID_OTHER };
	const char *a_more[] = { KID_ALICE, KID_OTHER };
	const char *b[] = { KID_BOB, KID_CAROL };
	const char *b_less[] = { KID_BOB };
	/* One character of bob's second key id changed. */
	const char *b_flip[] = { KID_BOB,
	    "4djZ3eaqLNlfcJ3m8FPe0p3UVsCkjn_fYf4K3vecUPE" };
	char base[SAFETY_NUMBER_SIZE], x[SAFETY_NUMBER_SIZE];

	CHECK(number("alice", a, 1, "bob", b, 2, base) == 0);

	CHECK(number("alice", a_new, 1, "bob", b, 2, x) == 0);
	CHECK(strcmp(x, base) != 0 && share_one_half(x, base));
	CHECK(number("alice", a_more, 2, "bob", b, 2, x) == 0);
	CHECK(strcmp(x, base) != 0 && share_one_half(x, base));
	CHECK(number("alice", a, 1, "bob", b_less, 1, x) == 0);
	CHECK(strcmp(x, base) != 0 && share_one_half(x, base));
	CHECK(number("alice", a, 1, "bob", b_flip, 2, x) == 0);
	CHECK(strcmp(x, base) != 0 && share_one_half(x, base));
	/* The names count: the same keys under another name. */
	CHECK(number("alicE", a, 1, "bob", b, 2, x) == 0);
	CHECK(strcmp(x, base) != 0 && share_one_half(x, base));
	CHECK(number("alice", a, 1, "bob2", b, 2, x) == 0);
	CHECK(strcmp(x, base) != 0 && share_one_half(x, base));
	/* Swapping whose keys are whose is another number too. */
	CHECK(number("alice", b, 2, "bob", a, 1, x) == 0);
	CHECK(strcmp(x, base) != 0);
}

/* 12 groups of 5 digits, single spaces, 71 characters. */
static void
format(void)
{
	const char *a[] = { KID_ALICE };
	const char *b[] = { KID_OTHER };
	char out[SAFETY_NUMBER_SIZE];
	size_t i;
	int ok = 1;

	memset(out, 'x', sizeof(out));
	CHECK(number("alice", a, 1, "a", b, 1, out) == 0);
	CHECK(strlen(out) == SAFETY_NUMBER_SIZE - 1);
	for (i = 0; i < SAFETY_NUMBER_SIZE - 1; i++)
		if (i % 6 == 5 ? out[i] != ' ' :
		    !isdigit((unsigned char)out[i]))
			ok = 0;
	CHECKF(ok, "%s", out);
	/* The same user on both sides (one's own devices): still valid. */
	CHECK(number("alice", a, 1, "alice", a, 1, out) == 0);
	CHECK(strncmp(out, "51929 24277 79187 23832 96729 56296 ", 36) ==
	    0 && strcmp(out + 36, "51929 24277 79187 23832 96729 56296") ==
	    0);
}

static void
refused_one(const char *na, const char *const *ka, size_t nka,
    const char *nb, const char *const *kb, size_t nkb, const char *words)
{
	char out[SAFETY_NUMBER_SIZE];
	int rc;

	memset(out, 'x', sizeof(out));
	rc = number(na, ka, nka, nb, kb, nkb, out);
	CHECKF(rc == E2E_EX_DATAERR, "rc %d for \"%s\"", rc, words);
	CHECKF(strstr(why, words) != NULL, "\"%s\" not in \"%s\"", words,
	    why);
	CHECK(out[0] == '\0');
}

/* Refusals: 65, reported, out emptied. */
static void
refusals(void)
{
	const char *a[] = { KID_ALICE };
	const char *b[] = { KID_BOB };
	const char *many[SAFETY_KIDS_MAX + 1];
	const char *bad_len[] = { KID_BOB "A" };
	const char *bad_short[] = { "sa58v0dhmhXOXVF-ddQWVzkv7VYg9_vIO6wdWcgyKr" };
	const char *bad_char[] = { "sa58v0dhmhXOXVF+ddQWVzkv7VYg9_vIO6wdWcgyKrY" };
	/* 43 characters whose last one has bits set beyond 32 bytes. */
	const char *bad_tail[] = { "sa58v0dhmhXOXVF-ddQWVzkv7VYg9_vIO6wdWcgyKrZ" };
	const char *with_null[] = { KID_BOB, NULL };
	const char *empty[] = { "" };
	char out[SAFETY_NUMBER_SIZE];
	size_t i;

	refused_one("alice", a, 1, "bob", b, 0, "no key id for the second");
	refused_one("alice", NULL, 0, "bob", b, 1, "no key id for the first");
	refused_one("alice", a, 1, "bob", bad_len, 1,
	    "a key id of the second user is not valid");
	refused_one("alice", bad_short, 1, "bob", b, 1,
	    "a key id of the first user is not valid");
	refused_one("alice", a, 1, "bob", bad_char, 1, "key id");
	refused_one("alice", a, 1, "bob", bad_tail, 1, "key id");
	refused_one("alice", a, 1, "bob", with_null, 2, "key id");
	refused_one("alice", a, 1, "bob", empty, 1, "key id");
	refused_one("", a, 1, "bob", b, 1,
	    "the first user name is not valid");
	refused_one("alice", a, 1, "bob smith", b, 1,
	    "the second user name is not valid");
	refused_one("alice", a, 1, "bob\033[2J", b, 1, "user name");
	refused_one(NULL, a, 1, "bob", b, 1, "user name");
	refused_one("alice", a, 1,
	    "a1234567890123456789012345678901234567890123456789012345678901234",
	    b, 1, "user name");	/* 65 characters */
	for (i = 0; i < SAFETY_KIDS_MAX + 1; i++)
		many[i] = i % 2 ? KID_ALICE : KID_OTHER;
	refused_one("alice", many, SAFETY_KIDS_MAX + 1, "bob", b, 1,
	    "more than 16 key ids for the first");
	/* 16, and a 64-character name, are accepted. */
	CHECK(number("alice", many, SAFETY_KIDS_MAX, "bob", b, 1, out) == 0);
	CHECK(number("alice", a, 1,
	    "a123456789012345678901234567890123456789012345678901234567890123",
	    b, 1, out) == 0);
	/* The messages never echo the refused values. */
	refused_one("alice", a, 1, "bob\033[2J", b, 1, "user name");
	CHECK(strchr(why, '\033') == NULL);
}

int
main(void)
{
	err_setprog("test_safety");
	RUN(known_answer);
	RUN(symmetric);
	RUN(order_and_duplicates);
	RUN(changes);
	RUN(format);
	RUN(refusals);
	return harness_end();
}
