#!/usr/bin/env bash
# make memcheck: bats flows with every tool under valgrind's memcheck.
# Usage: scripts/memcheck.sh BIN LOGS BATS_FILE...
#        scripts/memcheck.sh BIN LOGS --run CMD [ARG...]
#   BIN   the folder of the tools to check (built with -g);
#   LOGS  a folder for the wrappers and valgrind's reports (emptied first);
#   BATS_FILE  the bats files to run (names under tests/bats), with
#         E2E_BIN naming the wrappers; --run: CMD instead, with the
#         wrappers first on PATH (tests/bats/memcheck.bats uses it).
# Each tool is replaced by a wrapper that execs valgrind on it (the same
# PID, so the tests' signals reach it) with its own exit codes passed
# through: valgrind's own code is 99 only when a run that ends by itself
# found errors, a code no tool uses. Every process writes one XML report
# (and a text log of valgrind's own messages); afterwards
# scripts/memcheck-scan.py fails on any error or definite leak in any of
# them, also in the report of a process that a test killed (it ends
# early, but the errors written before are whole). Exits 1 when the scan
# finds any, else as bats or CMD did.
# Suppressions: tests/valgrind.supp, for the libraries' own reports only.
# valgrind reads more options from VALGRIND_OPTS (--track-origins=yes).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 3 ] || {
	echo "usage: $0 BIN LOGS BATS_FILE... | --run CMD [ARG...]" >&2
	exit 64
}
bin=$(cd "$1" && pwd) || exit 66
mkdir -p "$2" || exit 73
logs=$(cd "$2" && pwd) || exit 73
shift 2
command -v valgrind > /dev/null || {
	echo "memcheck: valgrind is missing (make deps)" >&2
	exit 69
}

rm -rf "$logs/wrap" "$logs/reports"
mkdir -p "$logs/wrap" "$logs/reports" || exit 73
for tool in "$bin"/*; do
	if [ ! -f "$tool" ] || [ ! -x "$tool" ]; then
		continue
	fi
	name=$(basename "$tool")
	# %p: one report per process; the tools' own stderr is untouched.
	cat > "$logs/wrap/$name" <<WRAP
#!/bin/sh
exec valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \\
	--show-leak-kinds=definite --errors-for-leak-kinds=definite \\
	--num-callers=30 --suppressions="$root/tests/valgrind.supp" \\
	--xml=yes --xml-file="$logs/reports/$name.%p.xml" \\
	--log-file="$logs/reports/$name.%p.log" "$tool" "\$@"
WRAP
	chmod 755 "$logs/wrap/$name" || exit 73
done

if [ "$1" = --run ]; then
	shift
	PATH="$logs/wrap:$PATH" E2E_BIN="$logs/wrap" "$@"
	rc=$?
else
	files=()
	for f in "$@"; do
		files+=("$root/tests/bats/$f")
	done
	# MEMCHECK_JOBS=N: N files at a time (each file's tests in order),
	# as tests/bats/run.sh (valgrind runs each process on one core).
	# One by default: two at once on a 2-core machine under heavy load
	# (load average 30, other jobs beside) made
	# client_flow.bats' "recv --wait S: returns as soon as a message is
	# sent" miss its 10 s bound (31 s), the valgrind'ed send being slower.
	jobs=()
	if [ "${MEMCHECK_JOBS:-1}" -gt 1 ] && [ ${#files[@]} -gt 1 ] &&
	    command -v parallel >/dev/null 2>&1; then
		jobs=(--jobs "$MEMCHECK_JOBS" --no-parallelize-within-files)
	fi
	start=$(date +%s)
	# Tests tagged "timing" hold a bound on time that valgrind's
	# slowness (10-50 times) breaks: they run in make check only.
	E2E_BIN="$logs/wrap" bats --tap "${jobs[@]}" --filter-tags '!timing' \
	    "${files[@]}" | tee "$logs/bats.tap"
	rc=${PIPESTATUS[0]}
	echo "memcheck: bats took $(($(date +%s) - start)) s" \
	    "($(grep -c '^ok ' "$logs/bats.tap") passed," \
	    "$(grep -c '^not ok ' "$logs/bats.tap") failed)"
fi
python3 "$root/scripts/memcheck-scan.py" "$logs/reports" || rc=1
exit "$rc"
