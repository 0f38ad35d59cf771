#!/bin/sh
# Runs every unit test binary given as an argument, and sums their
# "N passed, N failed" lines. Fails when a test fails or a binary crashes.
passed=0 failed=0 status=0
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -v '^[0-9]* passed, [0-9]* failed$'
	line=$(printf '%s\n' "$out" | grep '^[0-9]* passed, [0-9]* failed$' | tail -n 1)
	if [ -z "$line" ]; then
		echo "CRASH $t (exit $rc, no summary line)"
		failed=$((failed + 1))
		status=1
		continue
	fi
	p=${line%% passed*}
	f=${line#*passed, }
	f=${f%% failed*}
	echo "$(basename "$t"): $line"
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$rc" -eq 0 ] || status=1
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
