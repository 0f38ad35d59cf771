#!/bin/sh
# The tests that docs/SECURITY.md cites exist (make lint, step 7), so that
# its claims cannot point at a test that was renamed or removed. A
# reference is written on one line, in one of two forms:
#   tests/bats/FILE.bats: "NAME"   a bats test, NAME exactly as its
#                                  @test "NAME" { line writes it;
#   tests/unit/FILE.c: FUNCTION    a function defined in that file.
# Each is checked; a line that starts a reference and does not finish it
# (cut by a line break, an unclosed quote) is reported too, and a
# document without any reference fails, so that a change of the forms
# cannot make the check pass by finding nothing.
# Usage: scripts/check-security-doc.sh [ROOT [DOC]]: ROOT the source tree
# (default: this one), DOC the document (default: ROOT/docs/SECURITY.md).
root=${1:-$(dirname "$0")/..}
doc=${2:-$root/docs/SECURITY.md}
case "$doc" in
/*) ;;
*) doc=$PWD/$doc ;;
esac
cd "$root" || exit 2
if [ ! -f "$doc" ]; then
	echo "check-security-doc: $doc: no such file" >&2
	exit 2
fi
name=docs/SECURITY.md
[ -n "$2" ] && name=$2
status=0
refs=0
bad() {
	at=$1
	shift
	echo "$name:$at: $*"
	status=1
}

# A C function defined in FILE: its name at the start of a line (the
# project's style puts the return type on the line before), or after
# the return type on the same line; not a declaration (ending in ';').
defines() {
	grep -E "^([A-Za-z_][A-Za-z0-9_ ]*[ *])?$2[ \t]*\(" "$1" |
	    grep -qvE ';[ \t]*$'
}

# One line per reference: LINE<tab>KIND<tab>FILE<tab>NAME, and
# LINE<tab>broken<tab>TEXT for a reference begun but not finished.
refs_of() {
	awk '
	{
		line = $0
		while (match(line, /tests\/(bats|unit)\/[A-Za-z0-9_.-]+:/)) {
			file = substr(line, RSTART, RLENGTH - 1)
			rest = substr(line, RSTART + RLENGTH)
			line = rest
			if (file ~ /\.bats$/ &&
			    match(rest, /^ "[^"]*"/)) {
				printf "%d\tbats\t%s\t%s\n", NR, file,
				    substr(rest, 3, RLENGTH - 3)
				line = substr(rest, RLENGTH + 1)
			} else if (file ~ /\.c$/ &&
			    match(rest, /^ [A-Za-z_][A-Za-z0-9_]*/)) {
				printf "%d\tunit\t%s\t%s\n", NR, file,
				    substr(rest, 2, RLENGTH - 1)
				line = substr(rest, RLENGTH + 1)
			} else {
				printf "%d\tbroken\t%s:%s\n", NR, file,
				    substr(rest, 1, 40)
			}
		}
	}' "$doc"
}

tab=$(printf '\t')
list=$(refs_of) || exit 2
while IFS="$tab" read -r at kind file test; do
	[ -n "$at" ] || continue
	refs=$((refs + 1))
	case "$kind" in
	broken)
		bad "$at" "a test reference not in the form" \
		    "tests/bats/FILE.bats: \"NAME\" or tests/unit/FILE.c: FUNCTION" \
		    "(on one line): $file"
		;;
	*)
		if [ ! -f "$file" ]; then
			bad "$at" "$file: no such file"
		elif [ "$kind" = bats ] &&
		    ! grep -qxF "@test \"$test\" {" "$file"; then
			bad "$at" "$file: no test \"$test\""
		elif [ "$kind" = unit ] && ! defines "$file" "$test"; then
			bad "$at" "$file: no function $test"
		fi
		;;
	esac
done <<EOF
$list
EOF
if [ "$refs" -eq 0 ]; then
	bad 1 "no test references (tests/bats/FILE.bats: \"NAME\")"
fi
exit "$status"
