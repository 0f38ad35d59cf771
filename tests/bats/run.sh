#!/usr/bin/env bash
# Runs every bats file under tests/bats (or the files given) and prints
# "N passed, N failed". E2E_BIN names the folder of the binaries under
# test. pg_store.bats runs in make check-pg (run-pg.sh), with its cluster.
set -o pipefail
cd "$(dirname "$0")" || exit 1
: "${E2E_BIN:=$(cd ../.. && pwd)/bin}"
export E2E_BIN
# BATS_JOBS=N: N files at a time (each file's tests one after another,
# as they are written), through GNU parallel, which bats needs for it.
jobs=
if [ "${BATS_JOBS:-1}" -gt 1 ]; then
	if command -v parallel >/dev/null 2>&1; then
		jobs="--jobs $BATS_JOBS --no-parallelize-within-files"
	else
		echo "bats: GNU parallel is not installed (make deps): one" \
		    "file at a time" >&2
	fi
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
all=0
if [ $# -eq 0 ]; then
	all=1
	set -- ./*.bats
fi
# BATS_SKIP="a.bats b.bats": files left out (make sanitize: those that
# run no tool of the build, see the Makefile).
# The files that take longest start first, so that the last minutes do
# not see one long file running alone while the other job slot idles
# (measured: tamper.bats alone is a fifth of the suite's time). Their
# order below, longest first; the others follow in name order.
slow="tamper.bats server_routes.bats lint.bats server_accounts.bats
server_auth.bats client_recv_crash.bats keys.bats server_robust.bats"
files=()
for f in $slow; do
	for g in "$@"; do
		[ "${g##*/}" = "$f" ] && files+=("$g")
	done
done
for g in "$@"; do
	case " $slow " in *[[:space:]]"${g##*/}"[[:space:]]*) continue ;; esac
	files+=("$g")
done
kept=()
for g in "${files[@]}"; do
	[ "$all" = 1 ] && [ "${g##*/}" = pg_store.bats ] && continue
	case " ${BATS_SKIP:-} " in *" ${g##*/} "*) continue ;; esac
	kept+=("$g")
done
files=("${kept[@]}")
# shellcheck disable=SC2086
bats --tap $jobs ${BATS_FILTER:+--filter "$BATS_FILTER"} "${files[@]}" |
    tee "$out"
rc=$?
passed=$(grep -c '^ok ' "$out")
skipped=$(grep -c '^ok .* # skip' "$out")
failed=$(grep -c '^not ok ' "$out")
[ "$skipped" -gt 0 ] && echo "bats: $skipped skipped"
echo "bats: $passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
