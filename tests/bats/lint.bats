#!/usr/bin/env bats
# make lint (scripts/lint.sh) on a copy of the source tree with one
# mistake of each kind put in: each is reported, naming file and line,
# and lint fails; nothing else is reported, so the rest of the tree
# passes. LINT_STYLE=0 skips the slow style step where it is not tested;
# LINT_ANALYSE=0 the static analysers (minutes on the whole tree), which
# are tested on the files they are given.

bats_require_minimum_version 1.5.0
load helpers

ROOT="$BATS_TEST_DIRNAME/../.."

setup() {
	common_setup
	command -v clang-format >/dev/null || skip "no clang-format"
	export LINT_ANALYSE=0
	mkdir src
	(cd "$ROOT" && tar cf - .clang-format .clang-tidy scripts lib cmd \
	    tests/unit tests/fuzz tests/bats bench) | tar xf - -C src
}

# put FILE LINE TEXT: inserts TEXT as line LINE of src/FILE.
put() {
	sed -i "$2i\\
$3" "src/$1"
}

@test "lint: includes across the layers, a bare include in lib/, a crypto tool including lib/net: each reported" {
	put lib/base/buf.c 3 '#include "format/crypto.h"'
	put lib/format/jwe.c 3 '#include "keys/trust.h"'
	put lib/net/api.c 3 '#include "server/store.h"'
	put lib/server/store.c 3 '#include "net/api.h"'
	put lib/server/routes.c 10 '#include "keys/keyring.h"'
	put lib/keys/qr.c 3 '#include "rsa.h"'
	put cmd/e2e-encrypt/main.c 9 '#include "net/api.h"'
	put tests/unit/test_b64.c 9 '#include "server/store.h"'
	LINT_STYLE=0 run --separate-stderr "$ROOT/scripts/lint.sh" src
	assert_failure 1
	assert_line 'lib/base/buf.c:3: #include "format/crypto.h": may include only  base '
	assert_line 'lib/format/jwe.c:3: #include "keys/trust.h": may include only  base format '
	assert_line 'lib/net/api.c:3: #include "server/store.h": may include only  base format keys net '
	assert_line 'lib/server/store.c:3: #include "net/api.h": may include only  base format server '
	assert_line 'lib/server/routes.c:10: #include "keys/keyring.h": may include only  base format server '
	assert_line 'lib/keys/qr.c:3: #include "rsa.h" names no folder of lib/'
	assert_line 'cmd/e2e-encrypt/main.c:9: #include "net/api.h": may include only  base format keys '
	assert_line 'tests/unit/test_b64.c:9: #include "server/store.h": may include only  base format keys '
	[ "${#lines[@]}" -eq 8 ]
	[[ "$stderr" == *"lint: includes above break the layers (lib/README.md)"* ]]
}

@test "lint: style (.clang-format): spacing, a function's brace and return type, if on one line, else, indentation with spaces, trailing blanks" {
	local n
	n=$(grep -c '' "$ROOT/lib/base/names.c")
	printf '%b\n' '' 'static int f(int a) {' '\tint x=a;' \
	    '\tchar* p = NULL;' '' '\tif(x)' '\t\tx++;' '\tif (x) return 1;' \
	    '\tif (x) {' '\t\tx++;' '\t}' '\telse {' '\t\tx--;' '\t}' \
	    '        x += 2;' '\tx += 3; ' '' '' '\treturn x + (p == NULL);' \
	    '}' >> src/lib/base/names.c
	run --separate-stderr "$ROOT/scripts/lint.sh" src
	assert_failure 1
	assert_output "$(cat <<-EOF
	lib/base/names.c:$((n + 2)): line break before 'f': clang-format breaks
	lib/base/names.c:$((n + 2)): line break before '{': clang-format breaks
	lib/base/names.c:$((n + 3)): spacing before '=': '', clang-format ' '
	lib/base/names.c:$((n + 3)): spacing before 'a': '', clang-format ' '
	lib/base/names.c:$((n + 4)): spacing before '*': '', clang-format ' '
	lib/base/names.c:$((n + 4)): spacing before 'p': ' ', clang-format ''
	lib/base/names.c:$((n + 6)): spacing before '(': '', clang-format ' '
	lib/base/names.c:$((n + 8)): line break before 'r': clang-format breaks
	lib/base/names.c:$((n + 12)): line break before 'e': clang-format does not break
	lib/base/names.c:$((n + 15)): indentation: tabs, then spaces
	lib/base/names.c:$((n + 16)): trailing whitespace
	lib/base/names.c:$((n + 19)): blank lines before this line
	EOF
	)"
	[[ "$stderr" == *"lint: style differences above"* ]]
}

@test "lint: a long line more than scripts/long-lines allows is reported; the lines written before stay allowed" {
	put lib/base/buf.c 2 "/* $(printf 'x%.0s' {1..80}) */"
	LINT_STYLE=0 run --separate-stderr "$ROOT/scripts/lint.sh" src
	assert_failure 1
	assert_line "lib/base/buf.c:2: 86 columns"
	[[ "$stderr" == *"lint: lib/base/buf.c: 1 lines over 80 columns, 0 allowed (scripts/long-lines)"* ]]
	# A file that had long lines keeps them, and no more.
	local allowed
	allowed=$(awk '$2 == "cmd/e2e-encrypt/main.c" { print $1 }' \
	    "$ROOT/scripts/long-lines")
	[ "$allowed" -gt 0 ]
	put cmd/e2e-encrypt/main.c 2 "/* $(printf 'x%.0s' {1..80}) */"
	LINT_STYLE=0 run --separate-stderr "$ROOT/scripts/lint.sh" src
	[[ "$stderr" == *"lint: cmd/e2e-encrypt/main.c: $((allowed + 1)) lines over 80 columns, $allowed allowed"* ]]
}

@test "lint: a banned call and a MAC compared with memcmp are reported" {
	put lib/base/buf.c 20 'static void f(char *d) { strcpy(d, "x"); }'
	put lib/format/aead.c 20 'static int g(const char *tag, const char *t) { return memcmp(tag, t, 16); }'
	LINT_STYLE=0 run --separate-stderr "$ROOT/scripts/lint.sh" src
	assert_failure 1
	assert_output --partial 'lib/base/buf.c:20:static void f(char *d) { strcpy(d, "x"); }'
	assert_output --partial 'lib/format/aead.c:20:static int g(const char *tag'
	[[ "$stderr" == *"lint: banned call above"* ]]
	[[ "$stderr" == *"lint: a tag or MAC compared without CRYPTO_memcmp"* ]]
}

@test "lint: a bats helper defined in two files is reported with both places; setup and teardown are not helpers" {
	local at
	at=$(grep -n '^refused() {' src/tests/bats/helpers.bash | cut -d: -f1)
	[ -n "$at" ]
	put tests/bats/keys.bats 2 'refused() { :; }'
	put tests/bats/keygen.bats 2 'teardown() { :; }'
	LINT_STYLE=0 run --separate-stderr "$ROOT/scripts/lint.sh" src
	assert_failure 1
	assert_output "refused() defined at tests/bats/keys.bats:2 tests/bats/helpers.bash:$at"
	[[ "$stderr" == *"lint: bats helpers defined more than once"* ]]
}

@test "lint: a negated command that is not a test's last and has no || is reported: bash ignores it" {
	local at
	at=$(grep -n '^@test' src/tests/bats/keys.bats | head -n 1 | cut -d: -f1)
	put tests/bats/keys.bats $((at + 1)) '	! grep -q nothing /dev/null'
	put tests/bats/keys.bats $((at + 2)) '	! grep -q nothing /dev/null || false'
	LINT_STYLE=0 run --separate-stderr "$ROOT/scripts/lint.sh" src
	assert_failure 1
	assert_output "tests/bats/keys.bats:$((at + 1)): 	! grep -q nothing /dev/null"
	[[ "$stderr" == *"lint: negated commands that check nothing"* ]]
}

@test "lint: a lib file that prints (an err_ printer, perror, a write to stderr) is reported unless scripts/lint-print-allow lists it; a listed file that no longer prints is reported" {
	local n
	n=$(grep -c '' "$ROOT/lib/base/b64.c")
	printf '%s\n' 'static void f(void) { fprintf(stderr, "x\n"); }' \
	    'static void g(void) { err_warn("x"); perror("y"); }' \
	    'static void h(void) { fputs("x", stderr); }' \
	    'static void i(void) { (void)write(STDERR_FILENO, "x", 1); }' \
	    '/* err_error("a comment may name them"), fprintf(stderr, */' \
	    'static void j(void) { struct report r = { 0 }; err_print(&r); }' \
	    >> src/lib/base/b64.c
	# The printers themselves, the server's output, and a listed file.
	printf '%s\n' 'static void k(void) { err_error("x"); }' \
	    >> src/lib/server/log.c
	printf '%s\n' 'static void k(void) { err_error("x"); }' \
	    >> src/lib/base/charset.c
	echo lib/base/charset.c >> src/scripts/lint-print-allow
	# A debt paid but still listed.
	echo lib/base/names.c >> src/scripts/lint-print-allow
	LINT_STYLE=0 run --separate-stderr "$ROOT/scripts/lint.sh" src
	assert_failure 1
	assert_output "$(cat <<-EOF
	lib/base/b64.c:$((n + 1)):static void f(void) { fprintf(stderr, "x\n"); }
	lib/base/b64.c:$((n + 2)):static void g(void) { err_warn("x"); perror("y"); }
	lib/base/b64.c:$((n + 3)):static void h(void) { fputs("x", stderr); }
	lib/base/b64.c:$((n + 4)):static void i(void) { (void)write(STDERR_FILENO, "x", 1); }
	lib/base/b64.c:$((n + 6)):static void j(void) { struct report r = { 0 }; err_print(&r); }
	lib/base/names.c: no longer prints
	EOF
	)"
	[[ "$stderr" == *"lint: the library prints above"* ]]
	[[ "$stderr" == *"lint: remove the files above from scripts/lint-print-allow"* ]]
}

@test "lint: docs/SECURITY.md: a test renamed, a file or a function that does not exist, a reference cut by a line break are reported; the real document passes" {
	mkdir src/docs
	cp "$ROOT/docs/SECURITY.md" src/docs/
	# The real document passes, alone and as a step of lint.
	run --separate-stderr "$ROOT/scripts/check-security-doc.sh" src
	assert_success
	assert_output ""
	LINT_STYLE=0 run --separate-stderr "$ROOT/scripts/lint.sh" src
	assert_success
	assert_output "lint: ok"
	# A cited test renamed: the line that cites it is reported.
	local at
	at=$(grep -n 'E4: the same envelope delivered twice' \
	    src/docs/SECURITY.md | head -n 1 | cut -d: -f1)
	[ -n "$at" ]
	sed -i "${at}s/delivered twice/delivered thrice/" src/docs/SECURITY.md
	# Made-up references, and a function only declared, not defined.
	local n
	n=$(grep -c '' src/docs/SECURITY.md)
	put tests/unit/test_replay.c 20 'static void declared_only(void);'
	printf '%s\n' '- `tests/bats/nosuch.bats: "anything"`' \
	    '- `tests/unit/test_replay.c: no_such_function` and `tests/unit/test_replay.c: declared_only`' \
	    '- `tests/bats/keys.bats: "a name cut' 'by a line break"`' \
	    >> src/docs/SECURITY.md
	LINT_STYLE=0 run --separate-stderr "$ROOT/scripts/lint.sh" src
	assert_failure 1
	assert_output "$(cat <<-EOF
	docs/SECURITY.md:$at: tests/bats/keys.bats: no test "E4: the same envelope delivered thrice is dropped the second time ('a second copy', 65), also by a later run; the same record re-read is shown again"
	docs/SECURITY.md:$((n + 1)): tests/bats/nosuch.bats: no such file
	docs/SECURITY.md:$((n + 2)): tests/unit/test_replay.c: no function no_such_function
	docs/SECURITY.md:$((n + 2)): tests/unit/test_replay.c: no function declared_only
	docs/SECURITY.md:$((n + 3)): a test reference not in the form tests/bats/FILE.bats: "NAME" or tests/unit/FILE.c: FUNCTION (on one line): tests/bats/keys.bats: "a name cut
	EOF
	)"
	[[ "$stderr" == *"lint: docs/SECURITY.md: the test references above are wrong"* ]]
	# A document that cites no test at all fails too.
	echo "No references here." > empty.md
	run --separate-stderr "$ROOT/scripts/check-security-doc.sh" src empty.md
	assert_failure 1
	assert_output 'empty.md:1: no test references (tests/bats/FILE.bats: "NAME")'
}

@test "lint: the static analysers report a leak and a garbage value planted in lib/ (cppcheck and clang-tidy, file and line); a real file passes; a missing analyser is named" {
	command -v cppcheck >/dev/null || skip "no cppcheck"
	command -v clang-tidy >/dev/null || skip "no clang-tidy"
	printf '%b\n' '#include <stdlib.h>' '#include <string.h>' '' \
	    'int planted_leak(size_t n);' 'int planted_uninit(int c);' '' \
	    'int' 'planted_leak(size_t n)' '{' '\tchar *p = malloc(n + 1);' '' \
	    '\tif (p == NULL)' '\t\treturn -1;' '\tmemset(p, 0, n + 1);' \
	    '\treturn (int)strlen(p);' '}' '' 'int' 'planted_uninit(int c)' \
	    '{' '\tint v;' '' '\tif (c > 0)' '\t\tv = 1;' '\treturn v;' '}' \
	    > src/lib/base/planted.c
	run --separate-stderr "$ROOT/scripts/analyse.sh" src lib/base/planted.c
	assert_failure 1
	assert_line --partial "lib/base/planted.c:15:2: error: Potential leak of memory pointed to by 'p' [clang-analyzer-unix.Malloc"
	assert_line --partial 'lib/base/planted.c:25:2: error: Undefined or garbage value returned to caller [clang-analyzer-core.uninitialized.UndefReturn'
	[[ "$stderr" == *"lib/base/planted.c:25:9: warning: Uninitialized variable: v [uninitvar]"* ]]
	[[ "$stderr" == *"analyse: cppcheck's findings above"* ]]
	[[ "$stderr" == *"analyse: clang-tidy's findings above"* ]]
	# A file of the tree, as the project has it, passes both.
	run --separate-stderr "$ROOT/scripts/analyse.sh" src lib/base/b64.c
	assert_success
	assert_output "analyse: ok"
	# Without clang-tidy, the step fails and says what is missing.
	mkdir tools
	ln -s "$(command -v dirname)" "$(command -v basename)" \
	    "$(command -v cppcheck)" tools/
	run --separate-stderr env PATH="$PWD/tools" /bin/sh \
	    "$ROOT/scripts/analyse.sh" src lib/base/b64.c
	assert_failure 1
	[ "$stderr" = "analyse: clang-tidy not found (make deps installs it)" ]
}
