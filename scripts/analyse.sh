#!/bin/sh
# make lint, step 8: the static analysers (issue 15).
#   cppcheck with the options below, over lib/, cmd/, tests/unit,
#   tests/fuzz and bench/; a false positive is silenced at its line
#   (// cppcheck-suppress ID, with the reason);
#   clang-tidy with the checks of .clang-tidy (which says what is off and
#   why), over every C file of lib/, cmd/, tests/unit and tests/fuzz, two
#   files at a time, niced, compiled as the Makefile compiles them.
#   A file found clean is not analysed again while what clang-tidy would
#   read is the same: build/analyse/ keeps the hash of its preprocessed
#   text (comments kept, for NOLINT), flags, .clang-tidy files (but
#   their comments) and clang-tidy's version (a few minutes for the whole tree on two cores,
#   seconds after a small change).
# Any finding fails, shown as the analyser says it (file:line: ...).
# Usage: scripts/analyse.sh [ROOT [FILE...]] (the source tree, default
# this one; FILEs, relative to ROOT, instead of all of them).
set -u
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "${1:-$(dirname "$0")/..}" || exit 2
[ $# -gt 0 ] && shift
root=$(pwd)

if [ "${ANALYSE_TIDY_ONE:-}" = 1 ]; then
	# One clang-tidy run (from xargs below): each file's output into
	# its own log, so that parallel runs do not mix their lines.
	for f in "$@"; do
		case "$f" in
		tests/unit/*) x="-Itests/unit -DE2E_TEST_HOOKS" ;;
		tests/fuzz/*) x="-Itests/fuzz -DE2E_TEST_HOOKS" ;;
		*) x= ;;
		esac
		log="$ANALYSE_LOGS/$(printf '%s' "$f" | tr / _).log"
		flags="-std=c11 -D_GNU_SOURCE -Ilib $x $ANALYSE_CFLAGS"
		# shellcheck disable=SC2086  # flags are words
		key=$({ echo "$ANALYSE_SETUP $flags"; cc -E -C $flags "$f" 2>&1; } |
		    sha256sum | cut -d' ' -f1)
		[ -f "build/analyse/$key" ] && continue
		# shellcheck disable=SC2086
		if clang-tidy --quiet --header-filter="^$root/(lib|tests)/" \
		    "$f" -- $flags >"$log" 2>&1; then
			: >"build/analyse/$key"
		else
			echo "$f" >"$log.failed"
		fi
	done
	exit 0
fi

status=0
fail() {
	echo "analyse: $*" >&2
	status=1
}

for tool in cppcheck clang-tidy pkg-config; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "analyse: $tool not found (make deps installs it)" >&2
		exit 1
	fi
done
# The libraries' headers, as the Makefile finds them (CRYPTO_PKGS,
# SERVER_PKGS, NET_PKGS, QR_PKGS): one set for every file.
pkgs="libcrypto jansson libmicrohttpd sqlite3 libjwt libcrypt libcurl
libqrencode libpng libpq libedit"
# shellcheck disable=SC2086
if ! cflags=$(pkg-config --cflags $pkgs); then
	echo "analyse: pkg-config cannot find the libraries' headers" \
	    "(make deps)" >&2
	exit 1
fi
jansson=$(pkg-config --variable=includedir jansson)/jansson.h

if [ $# -gt 0 ]; then
	files="$*"
	cpp_files="$*"
else
	files=$(ls lib/*/*.c cmd/*/*.c tests/unit/*.c tests/fuzz/*.c)
	cpp_files="lib cmd tests/unit tests/fuzz $(ls bench/*.c)"
fi

# cppcheck: jansson.h is read first, so that its json_*_foreach macros
# are known.
# shellcheck disable=SC2086
if ! nice cppcheck --quiet --error-exitcode=1 --std=c11 -D_GNU_SOURCE \
    -Ilib --include="$jansson" --enable=warning,portability,performance \
    --inline-suppr \
    --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
    $cpp_files; then
	fail "cppcheck's findings above"
fi

# clang-tidy, two at a time.
logs=$(mktemp -d) || exit 2
trap 'rm -rf "$logs"' EXIT
mkdir -p build/analyse || exit 2
setup=$({ clang-tidy --version; grep -hv '^#' .clang-tidy \
    tests/unit/.clang-tidy; } | sha256sum | cut -d' ' -f1)
# shellcheck disable=SC2086
printf '%s\n' $files | ANALYSE_TIDY_ONE=1 ANALYSE_LOGS=$logs \
    ANALYSE_CFLAGS=$cflags ANALYSE_SETUP=$setup nice xargs -P2 -n4 \
    sh "$self" "$root"
found=0
for f in $files; do
	log="$logs/$(printf '%s' "$f" | tr / _).log"
	if [ -f "$log.failed" ]; then
		grep -vE '^[0-9]+ [a-z0-9 ]+ generated\.$' "$log" |
		    sed "s|$root/||g"
		found=1
	fi
done
[ "$found" -eq 0 ] || fail "clang-tidy's findings above (.clang-tidy says" \
    "how to silence a false positive)"

[ "$status" -eq 0 ] && echo "analyse: ok"
exit "$status"
