#!/usr/bin/env bats
# make memcheck's own machinery (scripts/memcheck.sh, memcheck-scan.py):
# a program with a planted definite leak, a planted invalid read, or one
# killed after its error fails the scan, with the place in the source
# shown; a clean one passes; a program's own exit code passes through.

bats_require_minimum_version 1.5.0
load helpers
setup() {
	common_setup
	command -v valgrind > /dev/null || skip "valgrind is not installed"
	command -v cc > /dev/null || skip "no C compiler"
	MEMCHECK="$BATS_TEST_DIRNAME/../../scripts/memcheck.sh"
	mkdir -p "$T/bin"
	# planted MODE: "leak", "read", "wait" (an invalid read, then sleeps
	# until killed) or anything else (clean); exits 3 when clean.
	cat > "$T/planted.c" <<'SRC'
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char *p = malloc(16);
	int rc = 3;

	if (p == NULL)
		return 1;
	memset(p, 'x', 16);
	if (argc > 1 && strcmp(argv[1], "leak") == 0) {
		p = NULL; /* PLANTED-LEAK */
		rc = 0;
	} else if (argc > 1 && strcmp(argv[1], "read") == 0) {
		rc = p[16] == 'x'; /* PLANTED-READ */
	} else if (argc > 1 && strcmp(argv[1], "wait") == 0) {
		rc = p[16] == 'x'; /* PLANTED-READ */
		for (;;)
			pause();
	}
	free(p);
	return rc;
}
SRC
	cc -g -O0 -o "$T/bin/planted" "$T/planted.c"
}

# line_of MARK: the line of planted.c that holds MARK.
line_of() {
	grep -n "$1" "$T/planted.c" | head -n 1 | cut -d: -f1
}

@test "memcheck: a clean program passes, and its own exit code (3) passes through" {
	run --separate-stderr "$MEMCHECK" "$T/bin" "$T/logs" --run planted
	[ "$status" -eq 3 ] || { echo "$output"; false; }
	[[ "$output" == *"1 report(s), 0 error(s) or definite leak(s)"* ]]
}

@test "memcheck: a definite leak fails the scan, with where it was allocated" {
	run --separate-stderr "$MEMCHECK" "$T/bin" "$T/logs" --run planted leak
	[ "$status" -eq 1 ] || { echo "$output"; false; }
	[[ "$output" == *"Leak_DefinitelyLost: 16 bytes in 1 blocks are definitely lost"* ]]
	[[ "$output" == *"main (planted.c:$(line_of 'malloc(16)'))"* ]]
	[[ "$output" == *"1 report(s), 1 error(s) or definite leak(s)"* ]]
	# The wrapper alone: valgrind's code, 99, not the program's 0.
	run "$T/logs/wrap/planted" leak
	[ "$status" -eq 99 ]
}

@test "memcheck: an invalid read fails the scan, with its line" {
	run --separate-stderr "$MEMCHECK" "$T/bin" "$T/logs" --run planted read
	[ "$status" -eq 1 ] || { echo "$output"; false; }
	[[ "$output" == *"InvalidRead: Invalid read of size 1"* ]]
	[[ "$output" == *"main (planted.c:$(line_of PLANTED-READ))"* ]]
}

@test "memcheck: a process killed with SIGKILL after an error still fails the scan" {
	# shellcheck disable=SC2016  # expanded by the inner shell
	run --separate-stderr "$MEMCHECK" "$T/bin" "$T/logs" --run sh -c '
		planted wait & pid=$!
		i=0
		# Until valgrind has written the error (up to 60 s).
		while ! cat "$1"/reports/*.xml 2>/dev/null | grep -q "</error>"
		do
			i=$((i + 1))
			[ "$i" -lt 600 ] || exit 1
			sleep 0.1
		done
		kill -KILL "$pid"
		wait "$pid"
		exit 0' sh "$T/logs"
	[ "$status" -eq 1 ] || { echo "$output"; false; }
	[[ "$output" == *"InvalidRead: Invalid read of size 1"* ]]
	# The report ends early: valgrind never wrote its closing lines.
	run ! grep -q "</valgrindoutput>" "$T"/logs/reports/planted.*.xml
}
