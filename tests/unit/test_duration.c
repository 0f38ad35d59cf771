/*
 * cli_parse_duration (lib/base/cli.c), as e2e-server --name-quarantine takes
 * it: seconds, or a number with s, m, h or d; from 0 to a maximum; any
 * other text is a usage error (64) naming the option.
 */
#include "harness.h"

#include "base/cli.h"
#include "base/err.h"

static void
durations(void)
{
	static const struct {
		const char *s;
		long long want;
	} good[] = {
		{ "0", 0 }, { "5", 5 }, { "5s", 5 }, { "10m", 600 },
		{ "12h", 43200 }, { "30d", 2592000 }, { "0d", 0 },
		{ "3650d", 315360000 }, { "315360000", 315360000 },
	};
	static const char *const bad[] = { "", "x", "-1", "+5", " 5", "5 ",
		"5x", "5S", "5dd", "1.5h", "3651d", "315360001",
		"99999999999999999999", "d", "5sm", NULL };
	char why[256];
	long long v;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		CHECKF(cli_parse_duration("--q", good[i].s, 315360000LL,
		    &v) == 0 && v == good[i].want, "%s gave %lld", good[i].s,
		    v);
	}
	for (i = 0; bad[i] != NULL; i++) {
		err_capture_begin(why, sizeof(why));
		CHECKF(cli_parse_duration("--q", bad[i], 315360000LL, &v) ==
		    64, "\"%s\" accepted", bad[i]);
		err_capture_end();
		CHECKF(strstr(why, "--q needs a duration") != NULL, "%s", why);
	}
}

int
main(void)
{
	RUN(durations);
	return harness_end();
}
