#!/bin/sh
# make lint: the checks a compiler does not make (STYLE.md 13).
#   1. banned calls: unbounded copies and formats, number parsers that
#      cannot report errors; tags and MACs compared only with
#      CRYPTO_memcmp (J12, T7);
#   2. the layers (lib/README.md): every include of the project's names
#      its folder, and each file includes only the layers it may;
#   3. the style of .clang-format, without its line wrapping
#      (scripts/style.py says what is checked and what is not);
#   4. no file has more lines over 80 columns than scripts/long-lines
#      allows it (the lines written before the limit was checked);
#   5. each bats helper is defined once in tests/bats (a shared one in
#      tests/bats/helpers.bash or its topic file, a file's own in it);
#      and a negated command in a test ends with "|| false" unless last;
#   6. the library never prints (issue 11): no file of lib/ calls the
#      err_ printers or perror, or writes to stderr, but base/err.c (the
#      printers), base/err.h (their declarations) and server/log.c (the
#      server's output), and the files scripts/lint-print-allow still
#      lists (each a debt; an entry that no longer prints is reported,
#      so that the list only shrinks);
#   7. every test that docs/SECURITY.md cites exists, under that name
#      (scripts/check-security-doc.sh; skipped in a tree without it);
#   8. the static analysers, cppcheck and clang-tidy (.clang-tidy), find
#      nothing (scripts/analyse.sh; a few minutes on two cores).
# Usage: scripts/lint.sh [ROOT] (the source tree; default: this one).
# LINT_STYLE=0 skips step 3 and LINT_ANALYSE=0 step 8, the slow ones
# (lint's own tests use them).
cd "${1:-$(dirname "$0")/..}" || exit 2
status=0
fail() {
	echo "lint: $*" >&2
	status=1
}

# Every C file of the project, by where it lives.
LIB=$(ls lib/*/*.c lib/*/*.h)
CMD=$(ls cmd/*/*.c)
TESTS=$(ls tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h)
BENCH=$(ls bench/*.c bench/*.h)

# 1. Banned calls.
# shellcheck disable=SC2086
if grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|strtok)\s*\(' \
    $LIB $CMD; then
	fail "banned call above (use snprintf, strtol, ...)"
fi
# shellcheck disable=SC2086
if grep -nE '(^|[^_])(memcmp|strcmp|strncmp)\s*\([^;]*\b(tag|mac|hmac|digest|sig)\b' \
    $LIB $CMD; then
	fail "a tag or MAC compared without CRYPTO_memcmp"
fi

# 2. The layers. layers FILE: the folders of lib/ that FILE may include.
# The tools follow the Makefile's link sets: the crypto tools link
# libe2e.a alone, the network tools (NET_TOOLS) add lib/net, e2e-server
# adds lib/server. The server never reads a user's keys (lib/keys).
layers() {
	case "$1" in
	lib/base/*) echo "base" ;;
	lib/format/*) echo "base format" ;;
	lib/keys/*) echo "base format keys" ;;
	lib/net/*) echo "base format keys net" ;;
	lib/server/*) echo "base format server" ;;
	cmd/e2e-server/*) echo "base format server" ;;
	cmd/e2e-account/* | cmd/e2e-send/* | cmd/e2e-recv/* | cmd/e2e-keys/* | \
	cmd/e2e-chat/*)
		echo "base format keys net" ;;
	cmd/*) echo "base format keys" ;;
	tests/unit/test_srv_* | tests/unit/srv_*.h | tests/fuzz/fuzz_srv_*)
		echo "base format server" ;;
	tests/unit/test_net_* | tests/fuzz/fuzz_net_*) echo "base format keys net" ;;
	*) echo "base format keys" ;;
	esac
}
layered=0
for f in $LIB $CMD $TESTS $BENCH; do
	awk -v file="$f" -v allowed=" $(layers "$f") " \
	    -v dir="$(dirname "$f")" '
	/^[ \t]*#[ \t]*include[ \t]*"/ {
		inc = $0
		sub(/^[^"]*"/, "", inc)
		sub(/".*/, "", inc)
		# A fuzz target may share a header of tests/unit
		# (srv_fixture.h), by its path.
		if (file ~ /^tests\/fuzz\// && inc ~ /^\.\.\/unit\/[^\/]+$/ &&
		    (getline junk < (dir "/" inc)) >= 0)
			next
		if (inc !~ /\//) {
			# A header of its own folder, outside lib/ (harness.h).
			if (file ~ /^lib\// ||
			    (getline junk < (dir "/" inc)) < 0) {
				printf "%s:%d: #include \"%s\" names no " \
				    "folder of lib/\n", file, FNR, inc
				bad = 1
			}
			next
		}
		layer = inc
		sub(/\/.*/, "", layer)
		if (index(allowed, " " layer " ") == 0) {
			printf "%s:%d: #include \"%s\": may include only" \
			    " %s\n", file, FNR, inc, allowed
			bad = 1
		}
	}
	END { exit bad }' "$f" || layered=1
done
[ "$layered" -eq 0 ] || fail "includes above break the layers (lib/README.md)"

# 3. The style.
if [ "${LINT_STYLE:-1}" = 0 ]; then
	:
elif ! command -v clang-format >/dev/null 2>&1; then
	fail "clang-format not found (make deps)"
else
	# shellcheck disable=SC2086
	python3 scripts/style.py $LIB $CMD $TESTS $BENCH ||
	    fail "style differences above (.clang-format; scripts/style.py)"
fi

# 4. Lines over 80 columns (a tab is 8), at most as many as allowed.
for f in $LIB $CMD $TESTS $BENCH; do
	n=$(expand "$f" | awk 'length($0) > 80 { n++ } END { print n + 0 }')
	max=$(awk -v f="$f" '$2 == f { print $1 }' scripts/long-lines)
	if [ "$n" -gt "${max:-0}" ]; then
		expand "$f" | awk -v f="$f" \
		    'length($0) > 80 { printf "%s:%d: %d columns\n", f, NR, length($0) }'
		fail "$f: $n lines over 80 columns, ${max:-0} allowed" \
		    "(scripts/long-lines)"
	fi
done

# 5. The bats helpers: one definition of each name in tests/bats, so
# that a helper is shared, not copied (bats' setup and teardown aside).
if ls tests/bats/*.bats >/dev/null 2>&1; then
	dups=$(grep -nE '^[A-Za-z_][A-Za-z0-9_]*\(\) *\{' tests/bats/*.bats \
	    tests/bats/*.bash | awk -F: '
	{
		name = $3
		sub(/\(.*/, "", name)
		if (name ~ /^(setup|teardown)(_file)?$/)
			next
		where[name] = where[name] " " $1 ":" $2
		n[name]++
	}
	END {
		for (f in n)
			if (n[f] > 1)
				printf "%s() defined at%s\n", f, where[f]
	}' | sort)
	if [ -n "$dups" ]; then
		printf '%s\n' "$dups"
		fail "bats helpers defined more than once (tests/bats/helpers.bash" \
		    "says where a shared one goes)"
	fi
fi

# 5b. A negated command in a bats test checks nothing unless it is the
# test's last: bash's errexit ignores "! cmd". Each such line ends with
# "|| false" (or another ||), or comes last, before the closing brace.
if ls tests/bats/*.bats >/dev/null 2>&1; then
	negs=$(awk '
	FNR == 1 { held = "" }
	{
		if (held != "" && $0 !~ /^[ \t]*\}/)
			print held
		held = ""
		if ($0 ~ /^[ \t]*! / && $0 !~ /\|\|/ && $0 !~ /\\$/)
			held = FILENAME ":" FNR ": " $0
	}' tests/bats/*.bats tests/bats/*.bash)
	if [ -n "$negs" ]; then
		printf '%s\n' "$negs"
		fail "negated commands that check nothing (bash ignores" \
		    "\"! cmd\" under errexit): add \"|| false\""
	fi
fi

# 6. The library never prints. prints FILE: its lines (comments left
# out, line numbers kept) that print, as grep -n shows them.
prints() {
	awk '
	{
		line = $0
		out = ""
		while (line != "") {
			if (incomment) {
				end = index(line, "*/")
				if (end == 0) { line = ""; break }
				line = substr(line, end + 2)
				incomment = 0
			}
			start = index(line, "/*")
			if (start == 0) { out = out line; break }
			out = out substr(line, 1, start - 1) " "
			line = substr(line, start + 2)
			incomment = 1
		}
		sub(/\/\/.*/, "", out)
		if (out ~ /(^|[^A-Za-z0-9_])(err_(error|errno|warn|hint|note|crypto|print|capture_[a-z_]+)|perror)[ \t]*\(/ ||
		    out ~ /(^|[^A-Za-z0-9_])(v?fprintf|v?dprintf)[ \t]*\([ \t]*(stderr|2|STDERR_FILENO)[ \t]*,/ ||
		    out ~ /(^|[^A-Za-z0-9_])write[ \t]*\([ \t]*(2|STDERR_FILENO)[ \t]*,/ ||
		    out ~ /[(,][ \t]*stderr[ \t]*\)/)
			printf "%s:%d:%s\n", FILENAME, FNR, $0
	}' "$1"
}
allow=scripts/lint-print-allow
unlisted=0
for f in $LIB; do
	case "$f" in
	lib/base/err.c | lib/base/err.h | lib/server/log.c) continue ;;
	esac
	if grep -qxF "$f" "$allow" 2>/dev/null; then
		continue
	fi
	out=$(prints "$f")
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		unlisted=1
	fi
done
[ "$unlisted" -eq 0 ] || fail "the library prints above: report through" \
    "struct report (base/report.h; the server through server/log.h)"
if [ -f "$allow" ]; then
	stale=$(grep -vE '^[[:space:]]*(#|$)' "$allow" | while read -r f; do
		if [ ! -f "$f" ] || [ -z "$(prints "$f")" ]; then
			echo "$f"
		fi
	done)
	if [ -n "$stale" ]; then
		printf '%s\n' "$stale" | sed 's/$/: no longer prints/'
		fail "remove the files above from $allow"
	fi
fi

# 7. The threat model's tests.
if [ -f docs/SECURITY.md ]; then
	sh scripts/check-security-doc.sh . ||
	    fail "docs/SECURITY.md: the test references above are wrong"
fi

# 8. The static analysers.
if [ "${LINT_ANALYSE:-1}" != 0 ]; then
	sh scripts/analyse.sh . || fail "the static analysers' findings above"
fi

[ "$status" -eq 0 ] && echo "lint: ok"
exit "$status"
