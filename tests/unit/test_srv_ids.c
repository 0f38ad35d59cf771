/*
 * The server's ids (store.c): user ids are random, message ids are
 * strictly increasing as strings, even when many are made within one
 * millisecond (a group commit makes hundreds at once). Both are 26
 * characters of Crockford base32. tests/bats/server_robust.bats sends
 * in parallel through a real server.
 */
#include "harness.h"

#include <time.h>

#include "format/crypto.h"
#include "server/store.h"

#define MANY 100000

static int
by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* In a tight loop most ids share their millisecond with the one before:
 * each must still be new and larger. */
static void
ordered_ids_increase(void)
{
	char prev[STORE_ID_LEN + 1], id[STORE_ID_LEN + 1];
	int i, bad_form = 0, not_larger = 0, failed = 0;

	CHECK(store_new_ordered_id(prev) == 0);
	for (i = 0; i < MANY; i++) {
		if (store_new_ordered_id(id) != 0) {
			failed++;
			continue;
		}
		if (!store_is_id(id))
			bad_form++;
		if (strcmp(id, prev) <= 0 && not_larger++ == 0)
			fprintf(stderr, "id %d: %s after %s\n", i, id, prev);
		memcpy(prev, id, sizeof(id));
	}
	CHECKF(failed == 0, "%d of %d ids failed", failed, MANY);
	CHECKF(bad_form == 0, "%d of %d ids are not ids", bad_form, MANY);
	CHECKF(not_larger == 0, "%d of %d ids are not larger than the one "
	    "before", not_larger, MANY);
}

/* Ids made later (another millisecond) sort later, and their first 10
 * characters (48 bits of milliseconds and 2 more) carry the time. */
static void
ordered_ids_follow_time(void)
{
	char a[STORE_ID_LEN + 1], b[STORE_ID_LEN + 1];
	struct timespec pause = { 0, 3 * 1000 * 1000 };

	CHECK(store_new_ordered_id(a) == 0);
	nanosleep(&pause, NULL);
	CHECK(store_new_ordered_id(b) == 0);
	CHECKF(strcmp(a, b) < 0, "%s then %s", a, b);
	CHECKF(strncmp(a, b, 10) < 0, "the time part: %.10s then %.10s", a, b);
}

static void
random_ids_differ(void)
{
	enum { N = 20000 };
	static char ids[N][STORE_ID_LEN + 1];
	static char *p[N];
	int i, failed = 0, bad_form = 0, same = 0;

	for (i = 0; i < N; i++) {
		if (store_new_id(ids[i]) != 0)
			failed++;
		else if (!store_is_id(ids[i]))
			bad_form++;
		p[i] = ids[i];
	}
	qsort(p, N, sizeof(p[0]), by_string);
	for (i = 1; i < N; i++)
		if (strcmp(p[i - 1], p[i]) == 0)
			same++;
	CHECKF(failed == 0, "%d of %d ids failed", failed, N);
	CHECKF(bad_form == 0, "%d ids are not ids", bad_form);
	CHECKF(same == 0, "%d repeated ids", same);
}

static void
id_form(void)
{
	static const char *const good[] = {
		"00000000000000000000000000",
		"ZZZZZZZZZZZZZZZZZZZZZZZZZZ",
		"0123456789ABCDEFGHJKMNPQRS",
	};
	static const char *const bad[] = {
		"",
		"0123456789ABCDEFGHJKMNPQR",	/* 25 */
		"0123456789ABCDEFGHJKMNPQRST",	/* 27 */
		"0123456789abcdefghjkmnpqrs",	/* lower case */
		"0123456789ABCDEFGHIKMNPQRS",	/* I */
		"0123456789ABCDEFGHJLMNPQRS",	/* L */
		"0123456789ABCDEFGHJKMNOQRS",	/* O */
		"0123456789ABCDEFGHJKMNPQRU",	/* U */
		"0123456789ABCDEFGHJKMNPQR-",
		"../../../../../../../../..",
		"0123456789ABCDEFGHJKMNPQR ",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECKF(store_is_id(good[i]), "%s refused", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(!store_is_id(bad[i]), "\"%s\" taken", bad[i]);
}

int
main(void)
{
	if (crypto_init(NULL) != 0)
		return 1;
	RUN(ordered_ids_increase);
	RUN(ordered_ids_follow_time);
	RUN(random_ids_differ);
	RUN(id_form);
	return harness_end();
}
