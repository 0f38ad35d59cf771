#!/usr/bin/env bats
# Packaging (issue 13): the man pages (docs/man/*.scd, built by make into
# E2E_MAN), the bash completion (completions/e2e-chat.bash), make install
# and make uninstall. Every tool the Makefile builds (E2E_TOOLS, from its
# TOOLS) is checked, so a new tool joins by being built.

bats_require_minimum_version 1.5.0
load helpers

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${E2E_MAN:=$ROOT/build/man}"
# BUILD as make check gives it, relative to the source tree.
: "${E2E_BUILD:=build}"
COMPLETION="$ROOT/completions/e2e-chat.bash"

setup() {
	common_setup
	if [ -z "${E2E_TOOLS:-}" ]; then
		E2E_TOOLS=$(cd "$E2E_BIN" && echo e2e-*)
	fi
}

# help_options TOOL: the options TOOL --help lists (-x and --long),
# sorted, on one line.
help_options() {
	"$1" --help | sed -nE 's/^ {2,6}((-[A-Za-z0-9]), )?(--[a-z0-9-]+).*/\2 \3/p' |
	    tr ' ' '\n' | sed '/^$/d' | sort -u | paste -sd ' '
}

# help_exit_codes TOOL: the exit codes TOOL --help lists.
help_exit_codes() {
	"$1" --help | sed -n '/^Exit status:/,/^$/s/^  \([0-9][0-9]*\)  .*/\1/p'
}

# page_of TOOL: TOOL's built page (section 1, or 8 for the server).
page_of() {
	local p
	for p in "$E2E_MAN/$1".[18]; do
		[ -f "$p" ] && { echo "$p"; return 0; }
	done
	echo "no man page for $1 in $E2E_MAN" >&2
	return 1
}

# page_terms PAGE: the terms of PAGE's lists (an option, an exit code,
# a variable), as scdoc writes them: the line before ".RS 4".
page_terms() {
	awk 'prev != "" && $0 == ".RS 4" { print prev } { prev = $0 }' "$1"
}

# complete_words WORD...: what TAB offers (sorted, on one line, each once
# as readline shows it: a contact and a file may share a name) when the
# command line is WORD... and the last WORD is the one being completed
# (bash's COMP_WORDS and COMP_CWORD, set by hand).
complete_words() {
	bash -c 'source "$1" || exit 1; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_e2e_complete || exit 1
		printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPLETION" "$@" |
	    sed '/^$/d' | sort -u | paste -sd ' '
}

# make_here ARGS...: make in the source tree on the binaries and pages
# under test (a sanitizer build too), outside make check's jobserver and
# without the dependency files that make check may be writing (NODEPS).
make_here() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory \
	    -C "$ROOT" BIN="$E2E_BIN" BUILD="$E2E_BUILD" NODEPS=1 "$@"
}

@test "man: every tool has a page with the sections it needs; every option its --help lists is an entry of the page, and every exit code" {
	local t page o c n=0
	for t in $E2E_TOOLS; do
		page=$(page_of "$t")
		case $t in
		e2e-server) [[ $page == *.8 ]] ;;
		*) [[ $page == *.1 ]] ;;
		esac
		for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" \
		    EXAMPLES "SEE ALSO"; do
			grep -qx ".SH $s" "$page" ||
			    fail "$page: no section $s"
		done
		page_terms "$page" > terms
		for o in $(help_options "$t"); do
			grep -qF "\\fB$o\\fR" terms ||
			    fail "$page: no entry for $t's option $o"
			n=$((n + 1))
		done
		for c in $(help_exit_codes "$t"); do
			grep -qx "\\\\fB$c\\\\fR" terms ||
			    fail "$page: no entry for $t's exit code $c"
		done
	done
	# Every tool's options were found: the check itself read them.
	[ "$n" -gt 100 ]
}

@test "every tool's --help ends with its examples, after the exit codes" {
	local t
	for t in $E2E_TOOLS; do
		"$t" --help > help
		# The last paragraph: "Example:" or "Examples:", then lines
		# that run the tool.
		awk 'BEGIN { RS = "" } { last = $0 } END { print last }' help \
		    > last
		grep -qE '^Examples?:$' <(head -n 1 last) ||
		    fail "$t --help does not end with examples"
		grep -q "^  .*$t" last || fail "$t: no example runs $t"
		[ "$(wc -l < last)" -le 4 ] || fail "$t: more than two examples"
		grep -q '^Exit status:$' help
	done
}

@test "man: the format (section 5) and every page render with man -l without a warning, and groff -ww finds nothing" {
	local p out
	[ -f "$E2E_MAN/e2e-format.5" ]
	MANWIDTH=80 man -l "$E2E_MAN/e2e-format.5" | grep -qF docs/FORMAT.md
	for p in "$E2E_MAN"/*.[0-9]; do
		out=$(MANWIDTH=80 man -l --warnings "$p" 2>&1 >/dev/null)
		[ -z "$out" ] || fail "$p: $out"
		out=$(groff -ww -z -man "$p" 2>&1)
		[ -z "$out" ] || fail "$p: $out"
		# The page says what it is about.
		MANWIDTH=80 man -l "$p" 2>/dev/null | grep -q '^NAME'
	done
	# The same check sees a page with a mistake.
	printf '.TH X 1\n.SH NAME\n.bogus macro\n' > bad.1
	out=$(MANWIDTH=80 man -l --warnings bad.1 2>&1 >/dev/null)
	[[ $out == *"macro 'bogus' not defined"* ]]
}

@test "completion: every tool built is completed; its options are those of its --help" {
	local t
	for t in $E2E_TOOLS; do
		# shellcheck disable=SC2016 # expanded by that bash
		run -0 bash -c 'source "$1" && complete -p "$2"' _ \
		    "$COMPLETION" "$t"
		assert_output "complete -F _e2e_complete $t"
		assert_equal "$(complete_words "$t" -)" "$(help_options "$t")"
	done
}

@test "completion: subcommands of e2e-account and e2e-keys, values of options" {
	run -0 complete_words e2e-account ''
	assert_equal "$output" \
	    "delete passwd signin signout signup whoami"
	run -0 complete_words e2e-account --server https://x sign
	assert_equal "$output" "signin signout signup"
	run -0 complete_words e2e-keys ''
	assert_equal "$output" "accept claim export fetch forget import list prekeys publish qr show verify withdraw"
	run -0 complete_words e2e-encrypt --enc ''
	assert_equal "$output" "A256CBC-HS512 A256GCM"
	run -0 complete_words e2e-keygen -b ''
	assert_equal "$output" "2048 3072 4096"
	run -0 complete_words e2e-encrypt --format ''
	assert_equal "$output" "jwe seed"
	# An option's value that is free text: nothing offered.
	run -0 complete_words e2e-server --listen ''
	assert_output ''
}

@test "completion: contact names from the keyring where a NAME goes (e2e-encrypt -r, e2e-keys fetch, e2e-send --to), files where a FILE goes" {
	fixed_keys
	export E2E_HOME="$T/e2e"
	e2e-keys import bob bob.pub >/dev/null
	e2e-keys import carol carol.pub >/dev/null
	mkdir empty && cd empty
	run -0 complete_words e2e-encrypt -r ''
	assert_equal "$output" "bob carol"
	run -0 complete_words e2e-encrypt -s alice.key -r c
	assert_output carol
	run -0 complete_words e2e-keys fetch ''
	assert_equal "$output" "bob carol"
	run -0 complete_words e2e-keys --server https://x show b
	assert_output bob
	run -0 complete_words e2e-send --to ''
	assert_equal "$output" "bob carol"
	# Your own name is not a contact's.
	run -0 complete_words e2e-account signup ''
	assert_output ''
	run -0 complete_words e2e-encrypt --from ''
	assert_output ''
	# Files: a public key file beside the names, a file operand.
	cd ..
	run -0 complete_words e2e-encrypt -r bo
	assert_equal "$output" "bob bob.pub"
	run -0 complete_words e2e-decrypt -i alice
	assert_equal "$output" "alice alice.pub"
	run -0 complete_words e2e-keys import bob car
	assert_equal "$output" "carol carol.pub"
	# A keyring that is empty: no names, no error.
	E2E_HOME="$T/none" run -0 complete_words e2e-keys fetch ''
	assert_output ''
}

@test "install into a DESTDIR: the installed tools run, man finds the pages, bash-completion loads the completion by name; uninstall leaves DESTDIR empty" {
	local dest="$T/dest" bin t
	mkdir "$dest"
	run -0 make_here install DESTDIR="$dest" PREFIX=/usr/local
	# Installing built nothing: the binaries and pages under test.
	refute_output --partial LINK
	bin="$dest/usr/local/bin"
	for t in $E2E_TOOLS; do
		[ -x "$bin/$t" ] || fail "$t not installed"
		run -0 "$bin/$t" --help
		[ -L "$dest/usr/local/share/bash-completion/completions/$t" ] ||
		    [ -f "$dest/usr/local/share/bash-completion/completions/$t" ] ||
		    fail "no completion for $t"
	done
	"$bin/e2e-keygen" -o k 2>/dev/null
	echo hi | "$bin/e2e-encrypt" -r k.pub -s k | "$bin/e2e-decrypt" -i k \
	    --verify k.pub > out
	assert_equal "$(cat out)" hi
	run -0 man -M "$dest/usr/local/share/man" -w e2e-keygen
	assert_output "$dest/usr/local/share/man/man1/e2e-keygen.1"
	run -0 man -M "$dest/usr/local/share/man" -w e2e-server
	assert_output "$dest/usr/local/share/man/man8/e2e-server.8"
	run -0 man -M "$dest/usr/local/share/man" -w 5 e2e-format
	# bash-completion finds the script under the command's name.
	[ -f /usr/share/bash-completion/bash_completion ] ||
	    fail "bash-completion is not installed (make deps)"
	# shellcheck disable=SC2016 # expanded by that bash
	run -0 env PATH="$bin:/usr/bin:/bin" \
	    XDG_DATA_DIRS="$dest/usr/local/share" bash -c '
		source /usr/share/bash-completion/bash_completion
		__load_completion e2e-account || exit 1
		COMP_WORDS=(e2e-account whoa); COMP_CWORD=1
		_e2e_complete; echo "${COMPREPLY[*]}"'
	assert_output whoami

	run -0 make_here uninstall DESTDIR="$dest" PREFIX=/usr/local
	run -0 find "$dest" -mindepth 1
	assert_output ''
	[ -d "$dest" ]
}

@test "uninstall removes exactly what install put: another file in the same folders stays, with its folders; PREFIX is followed" {
	local dest="$T/dest"
	mkdir -p "$dest/opt/e2e/bin" "$dest/opt/e2e/share/man/man1"
	echo mine > "$dest/opt/e2e/bin/other"
	echo mine > "$dest/opt/e2e/share/man/man1/other.1"
	run -0 make_here install DESTDIR="$dest" PREFIX=/opt/e2e
	[ -x "$dest/opt/e2e/bin/e2e-keys" ]
	[ -f "$dest/opt/e2e/share/man/man1/e2e-keys.1" ]
	[ -f "$dest/opt/e2e/share/bash-completion/completions/e2e-keys" ]
	run -0 make_here uninstall DESTDIR="$dest" PREFIX=/opt/e2e
	run -0 find "$dest" -mindepth 1
	assert_equal "$(sort <<<"$output" | sed "s|^$dest||" | tr '\n' ' ')" \
	    "/opt /opt/e2e /opt/e2e/bin /opt/e2e/bin/other /opt/e2e/share /opt/e2e/share/man /opt/e2e/share/man/man1 /opt/e2e/share/man/man1/other.1 "
	# Uninstalling again: nothing to remove, no error.
	run -0 make_here uninstall DESTDIR="$dest" PREFIX=/opt/e2e
}
