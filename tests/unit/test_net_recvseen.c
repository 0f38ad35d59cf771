/*
 * What one run of e2e-recv has seen (lib/net/recvseen.c): each id's
 * state, and the bound: past RECVSEEN_MAX ids the oldest are forgotten,
 * one at a time, in the order they came. The tool against a repeating
 * server is tests/bats/client_hostile.bats.
 */
#include "harness.h"

#include "base/err.h"
#include "net/recvseen.h"

static const char digits[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* The n-th id: 26 Crockford base32 digits. */
static void
id_of(unsigned long n, char id[27])
{
	int i;

	memcpy(id, "01JM000000000000000000000000", 26);
	for (i = 25; i >= 18; i--, n /= 32)
		id[i] = digits[n % 32];
	id[26] = '\0';
}

static void
states(void)
{
	struct recvseen *s = recvseen_new();
	char a[27], b[27];

	CHECK(s != NULL);
	if (s == NULL)
		return;
	id_of(1, a);
	id_of(2, b);
	CHECK(recvseen_get(s, a) == RECVSEEN_NEW);
	CHECK(recvseen_set(s, a, RECVSEEN_PRINTED, NULL) == 0);
	CHECK(recvseen_get(s, a) == RECVSEEN_PRINTED);
	CHECK(recvseen_get(s, b) == RECVSEEN_NEW);
	CHECK(recvseen_set(s, a, RECVSEEN_ACKED, NULL) == 0);
	CHECK(recvseen_get(s, a) == RECVSEEN_ACKED);
	/* Setting again does not count as another id. */
	CHECK(recvseen_set(s, a, RECVSEEN_ACKED, NULL) == 0);
	CHECK(recvseen_set(s, b, RECVSEEN_PRINTED, NULL) == 0);
	CHECK(recvseen_get(s, b) == RECVSEEN_PRINTED);
	CHECK(recvseen_get(s, a) == RECVSEEN_ACKED);
	recvseen_free(s);
	recvseen_free(NULL);
}

static void
bounded(void)
{
	struct recvseen *s = recvseen_new();
	char id[27];
	unsigned long i, wrong = 0;

	CHECK(s != NULL);
	if (s == NULL)
		return;
	for (i = 0; i < RECVSEEN_MAX; i++) {
		id_of(i, id);
		if (recvseen_set(s, id, RECVSEEN_ACKED, NULL) != 0)
			wrong++;
	}
	CHECK(wrong == 0);
	/* Full: all remembered. */
	for (i = 0; i < RECVSEEN_MAX; i++) {
		id_of(i, id);
		if (recvseen_get(s, id) != RECVSEEN_ACKED)
			wrong++;
	}
	CHECKF(wrong == 0, "%lu of a full memory forgotten", wrong);
	/* Ten more: the ten oldest go, the others stay. */
	for (i = RECVSEEN_MAX; i < RECVSEEN_MAX + 10; i++) {
		id_of(i, id);
		CHECK(recvseen_set(s, id, RECVSEEN_PRINTED, NULL) == 0);
	}
	for (i = 0; i < 10; i++) {
		id_of(i, id);
		if (recvseen_get(s, id) != RECVSEEN_NEW)
			wrong++;
	}
	CHECKF(wrong == 0, "%lu of the oldest still remembered", wrong);
	for (i = 10; i < RECVSEEN_MAX; i++) {
		id_of(i, id);
		if (recvseen_get(s, id) != RECVSEEN_ACKED)
			wrong++;
	}
	CHECKF(wrong == 0, "%lu of the newer ones forgotten", wrong);
	for (i = RECVSEEN_MAX; i < RECVSEEN_MAX + 10; i++) {
		id_of(i, id);
		if (recvseen_get(s, id) != RECVSEEN_PRINTED)
			wrong++;
	}
	CHECKF(wrong == 0, "%lu of the last ten not remembered", wrong);
	/* A forgotten id comes back as new, and takes the oldest's place. */
	id_of(0, id);
	CHECK(recvseen_set(s, id, RECVSEEN_PRINTED, NULL) == 0);
	CHECK(recvseen_get(s, id) == RECVSEEN_PRINTED);
	id_of(10, id);
	CHECK(recvseen_get(s, id) == RECVSEEN_NEW);
	recvseen_free(s);
}

int
main(void)
{
	err_setprog("test_net_recvseen");
	RUN(states);
	RUN(bounded);
	return harness_end();
}
