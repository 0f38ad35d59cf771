/*
 * User names and ids (lib/base/names.c), the same rule for the server, which
 * enforces it, and the clients, which check before asking: a name is 1
 * to 64 of [A-Za-z0-9._-] (catalogue H4); an id is exactly 26 Crockford
 * base32 digits in upper case, without I, L, O or U.
 */
#include "harness.h"

#include "base/names.h"

static int
name_ok(const char *s)
{
	return name_valid(s, strlen(s));
}

static void
names_valid(void)
{
	static const char *const good[] = { "a", "Z", "0", "bob", "Bob.Smith",
		"alice_2", "x-y", ".a", "a..", "-", "_", "-rf", "a.b_c-d.E9",
		NULL };
	char max[NAME_LEN_MAX + 2];
	size_t i;

	for (i = 0; good[i] != NULL; i++)
		CHECKF(name_ok(good[i]), "\"%s\" refused", good[i]);
	memset(max, 'n', sizeof(max));
	max[NAME_LEN_MAX] = '\0';
	CHECK(name_ok(max));
	max[NAME_LEN_MAX] = 'n';
	max[NAME_LEN_MAX + 1] = '\0';
	CHECK(!name_ok(max));
	CHECK(NAME_LEN_MAX == 64);
}

static void
names_refused(void)
{
	static const char *const bad[] = { "", " ", "bob smith", "bob\t",
		"bob\n", "a/b", "../x", "a\\b", "bob@x", "bob+1", "b%2e",
		/* NOLINTNEXTLINE(misc-misleading-bidirectional): refused */
		"b\xc3\xa9", "\xc3\xa9", "b\xe2\x80\xae", "bob\x1b[31m", "\x7f",
		"a:b", "a;b", "a,b", "'", "\"", "bob!", "*", "a=b", "a?b",
		"a#b", "a&b", "(a)", "[a]", "{a}", "a~b", "a|b", "a<b>",
		/* Only dots: path segments in a URL (/keys/..). */
		".", "..", "...",
		NULL };
	size_t i;

	for (i = 0; bad[i] != NULL; i++)
		CHECKF(!name_ok(bad[i]), "\"%s\" accepted", bad[i]);
}

/* The length given is what counts: a NUL within it is refused, what
 * follows it is not looked at. */
static void
names_length(void)
{
	CHECK(!name_valid("bob\0x", 5));
	CHECK(!name_valid("\0", 1));
	CHECK(!name_valid("bob", 0));
	CHECK(name_valid("bob smith", 3));
	CHECK(!name_valid("bob smith", 4));
}

static void
ids(void)
{
	static const char digits[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	static const char *const bad[] = { "", "0", "06H2A3MCM45VFGGXF6RPKVTJP",
		"06H2A3MCM45VFGGXF6RPKVTJPCC",
		"06h2a3mcm45vfggxf6rpkvtjpc",
		"06H2A3MCM45VFGGXF6RPKVTJPc",
		"I6H2A3MCM45VFGGXF6RPKVTJPC",
		"L6H2A3MCM45VFGGXF6RPKVTJPC",
		"O6H2A3MCM45VFGGXF6RPKVTJPC",
		"U6H2A3MCM45VFGGXF6RPKVTJPC",
		"06H2A3MCM45VFGGXF6RPKVTJP ",
		" 06H2A3MCM45VFGGXF6RPKVTJP",
		"06H2A3MCM45VFGGXF6RPKVTJP\n",
		"06H2A3MCM45VFGGXF6RPKVTJPC\n",
		"06H2A3MCM45VFGG-F6RPKVTJPC",
		"06H2A3MCM45VFGG/F6RPKVTJPC",
		"../../../../../../etc/pas",
		/* NOLINTNEXTLINE(bugprone-suspicious-missing-comma): \x89, F */
		"06H2A3MCM45VFGG\xc3\x89" "F6RPKVTJP",
		NULL };
	char id[ID_LEN + 1];
	size_t i, j;

	CHECK(ID_LEN == 26);
	CHECK(id_valid("06H2A3MCM45VFGGXF6RPKVTJPC"));
	CHECK(id_valid("00000000000000000000000000"));
	CHECK(id_valid("ZZZZZZZZZZZZZZZZZZZZZZZZZZ"));
	for (i = 0; bad[i] != NULL; i++)
		CHECKF(!id_valid(bad[i]), "\"%s\" accepted", bad[i]);
	/* Every character in every place: only the 32 digits pass. */
	for (j = 1; j < 256; j++) {
		int want = memchr(digits, (int)j, 32) != NULL;

		for (i = 0; i < ID_LEN; i += 5) {
			memset(id, '0', ID_LEN);
			id[ID_LEN] = '\0';
			id[i] = (char)j;
			CHECKF(id_valid(id) == want, "byte 0x%02zx at %zu", j,
			    i);
		}
	}
}

/* I3: the pairs of the issue clash; names that only look alike to a
 * machine do not. */
static int
same_skeleton(const char *a, const char *b)
{
	char sa[NAME_LEN_MAX + 1], sb[NAME_LEN_MAX + 1];

	name_skeleton(a, strlen(a), sa);
	name_skeleton(b, strlen(b), sb);
	return strcmp(sa, sb) == 0;
}

static void
skeletons(void)
{
	static const char *const clash[][2] = {
		{ "alice", "Alice" }, { "alice", "ALICE" },
		{ "alice", "aIice" }, { "alice", "a1ice" },
		{ "alice", "alice." }, { "alice", "al-ice" },
		{ "alice", "a_lice" }, { "alice", "a|ice" },
		{ "Alice", "a1ice" }, { "ALICE", "aIice" },
		{ "rn", "m" }, { "barney", "bamey" }, { "RN", "m" },
		{ "vv", "w" }, { "vvill", "will" }, { "VV", "W" },
		{ "bob0", "bobo" }, { "BOBO", "b0b0" },
		{ "x.y_z", "xyz" }, { "a--b", "ab" },
	};
	static const char *const apart[][2] = {
		{ "alice", "alicf" }, { "alice", "alce" }, { "bob", "rob" },
		{ "rn", "n" }, { "m", "nn" }, { "vv", "v" }, { "w", "uu" },
		{ "o", "q" }, { "a", "aa" }, { "carol", "caroI1" },
	};
	char out[NAME_LEN_MAX + 1], max[NAME_LEN_MAX + 8];
	size_t i;

	for (i = 0; i < sizeof(clash) / sizeof(clash[0]); i++)
		CHECKF(same_skeleton(clash[i][0], clash[i][1]),
		    "%s and %s do not clash", clash[i][0], clash[i][1]);
	for (i = 0; i < sizeof(apart) / sizeof(apart[0]); i++)
		CHECKF(!same_skeleton(apart[i][0], apart[i][1]),
		    "%s and %s clash", apart[i][0], apart[i][1]);
	/* Exact values: what KEYS.md describes. */
	name_skeleton("ALICE", 5, out);
	CHECK(strcmp(out, "allce") == 0);
	name_skeleton("Barn.vvO-1_|", 12, out);
	CHECK(strcmp(out, "bamwoll") == 0);
	name_skeleton("rnrn", 4, out);
	CHECK(strcmp(out, "mm") == 0);
	name_skeleton("rrn", 3, out);
	CHECK(strcmp(out, "rm") == 0);
	name_skeleton("vvv", 3, out);
	CHECK(strcmp(out, "wv") == 0);
	name_skeleton("._-", 3, out);
	CHECK(strcmp(out, "") == 0);
	/* Only the length given is read; never more than NAME_LEN_MAX. */
	name_skeleton("abcdef", 3, out);
	CHECK(strcmp(out, "abc") == 0);
	memset(max, 'x', sizeof(max));
	name_skeleton(max, sizeof(max), out);
	CHECK(strlen(out) == NAME_LEN_MAX);
}

static void
names_new(void)
{
	static const char *const bad[] = { "-v", "--help", "-", "-rf", ".x",
		".", "..x", ".alice", "", "a b", NULL };
	static const char *const good[] = { "alice", "_x", "a-", "a.",
		"a.b", "9", NULL };
	size_t i;

	for (i = 0; bad[i] != NULL; i++)
		CHECKF(!name_valid_new(bad[i], strlen(bad[i])),
		    "\"%s\" accepted", bad[i]);
	for (i = 0; good[i] != NULL; i++)
		CHECKF(name_valid_new(good[i], strlen(good[i])),
		    "\"%s\" refused", good[i]);
	/* Still valid names, for the accounts that have them. */
	CHECK(name_ok("-v") && name_ok(".x"));
}

int
main(void)
{
	RUN(names_valid);
	RUN(names_refused);
	RUN(names_length);
	RUN(ids);
	RUN(skeletons);
	RUN(names_new);
	return harness_end();
}
