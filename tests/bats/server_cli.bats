#!/usr/bin/env bats
# e2e-server's command line: --help, --version, and every bad option
# value (64 with a hint, before a database is made or a port taken).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
}

SRC="$BATS_TEST_DIRNAME/../.."
HINT="e2e-server: hint: see e2e-server --help"

# Every long option main.c gives getopt_long.
OPTIONS=(listen db secret-file token-ttl bcrypt-cost max-message
    signin-limit signin-addr-limit signup-limit limit-window
    max-connections max-per-ip timeout threads max-wait signin-backoff
    signin-account-rate signin-addr-rate bcrypt-workers signin-queue
    min-password mailbox-max-messages mailbox-max-bytes send-rate
    send-burst max-answer-bytes quiet import-users import-messages help
    version public-url name-quarantine check-names max-body-memory linger
    trusted-proxy metrics-allow secret-rotate poll-interval commit-delay
    prekeys-max prekeys-batch prekey-claim-rate)

# refused_usage MESSAGE ARGS...: e2e-server ARGS exits 64 with MESSAGE and
# the hint on stderr, nothing on stdout, and makes no database (the
# default one is ./e2e-server.db, and the cwd is $T).
refused_usage() {
	local want=$1
	shift
	# timeout: a value taken by mistake would start a server.
	run --separate-stderr timeout 3 e2e-server "$@"
	[ "$status" = 64 ] || fail "e2e-server $*: exit $status: $stderr"
	assert_output ''
	[ "${#stderr_lines[@]}" = 2 ] || fail "e2e-server $*: $stderr"
	assert_equal "${stderr_lines[0]}" "e2e-server: error: $want"
	assert_equal "${stderr_lines[1]}" "$HINT"
	assert_file_not_exists "$T/e2e-server.db"
}

@test "--help and -h: usage on stdout, exit 0, every option and every exit code" {
	local flag o code
	for flag in --help -h; do
		run --separate-stderr e2e-server "$flag"
		assert_success
		assert_equal "$stderr" ''
		assert_line --index 0 --partial 'usage: e2e-server '
		for o in "${OPTIONS[@]}"; do
			assert_line --regexp "^  (-[a-zA-Z], )?--$o( |\$)"
		done
		assert_line --regexp '^  -h, --help '
		assert_line --regexp '^  -V, --version '
		assert_line 'Exit status:'
		for code in 0 64 65 66 70 73 74 75 77 78; do
			assert_line --regexp "^  $code +[A-Za-z]"
		done
		# The default database path is documented.
		assert_line --regexp '^  --db PATH +.*\(default \./e2e-server\.db\)'
	done
}

@test "--help mentions every option the code accepts, and accepts every option it mentions" {
	local o
	run --separate-stderr e2e-server --help
	assert_success
	# From main.c's table, so a new option cannot go undocumented.
	for o in $(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", .*/\1/p' \
	    "$SRC/cmd/e2e-server/main.c"); do
		assert_line --regexp "^  (-[a-zA-Z], )?--$o( |\$)"
	done
	# And no option in the help that getopt would call unknown.
	for o in $(printf '%s\n' "$output" |
	    sed -n 's/^  \(-[a-zA-Z], \)\{0,1\}--\([a-z-]*\).*/\2/p'); do
		[[ " ${OPTIONS[*]} " == *" $o "* ]] ||
		    fail "--$o is in the help but not in main.c's table"
	done
}

@test "--version and -V print the name and version on stdout" {
	local want flag
	want=$(sed -n 's/^#define E2E_VERSION "\(.*\)"$/\1/p' "$SRC/lib/base/cli.h")
	for flag in --version -V; do
		run --separate-stderr e2e-server "$flag"
		assert_success
		assert_output "e2e-server $want"
		assert_equal "$stderr" ''
	done
	[[ "$want" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "--bcrypt-cost 3 and 32 are refused (4 to 31)" {
	local v
	for v in 3 32 0 100 -4 4x '' 12.0; do
		refused_usage "--bcrypt-cost needs a number from 4 to 31" \
		    --bcrypt-cost "$v"
	done
}

@test "every number option refuses values out of its range or not numbers, naming the range" {
	local spec opt range v
	for spec in 'token-ttl 1 31536000' 'signin-limit 1 1000000' \
	    'signin-addr-limit 1 1000000' 'signup-limit 1 1000000' \
	    'limit-window 1 86400' 'max-connections 1 1000000' \
	    'max-per-ip 1 1000000' 'timeout 1 3600' 'threads 1 64' \
	    'max-wait 0 3600' 'signin-backoff 1 86400' \
	    'signin-account-rate 1 1000000' 'signin-addr-rate 1 1000000' \
	    'bcrypt-workers 1 64' 'signin-queue 1 100000' \
	    'min-password 1 1024' 'mailbox-max-messages 1 1000000000' \
	    'send-rate 1 1000000' 'send-burst 1 1000000' 'linger 0 60' \
	    'commit-delay 0 1000000' 'prekeys-max 1 100000' \
	    'prekeys-batch 1 1000' 'prekey-claim-rate 1 1000000'; do
		read -r opt lo hi <<< "$spec"
		for v in $((lo - 1)) $((hi + 1)) -1 abc '' ' 5' '5 ' 1e3 0x10 \
		    +5 99999999999999999999999; do
			# max-wait's low end is 0: -1 is below it already.
			refused_usage "--$opt needs a number from $lo to $hi" \
			    "--$opt" "$v"
		done
	done
}

@test "--max-message refuses sizes that are not positive sizes, and more than 1G" {
	local v
	for v in 0 -1 abc 4X 1.5M '' ' 4M' 4MB 0K 99999999999999999999999; do
		refused_usage "--max-message needs a positive size such as 4096, 64K, 256M or 1G" \
		    --max-message "$v"
	done
	for v in 2G 1025M 1073741825; do
		refused_usage "--max-message is at most 1G" --max-message "$v"
	done
}

@test "--mailbox-max-bytes and --max-answer-bytes refuse what is not a size; --max-answer-bytes is 1K to 1G" {
	local v o
	for o in mailbox-max-bytes max-answer-bytes; do
		for v in 0 -1 abc 4X 1.5M '' ' 4M' 4MB; do
			refused_usage "--$o needs a positive size such as 4096, 64K, 256M or 1G" \
			    "--$o" "$v"
		done
	done
	for v in 1023 2G 1025M; do
		refused_usage "--max-answer-bytes is 1K to 1G" \
		    --max-answer-bytes "$v"
	done
}

@test "--max-body-memory refuses what is not a size, under 64K, or under --max-message" {
	local v
	for v in 0 -1 abc 4X '' 256MB; do
		refused_usage "--max-body-memory needs a positive size such as 4096, 64K, 256M or 1G" \
		    --max-body-memory "$v"
	done
	for v in 1 65535 63K; do
		refused_usage "--max-body-memory is at least 64K" \
		    --max-body-memory "$v"
	done
	# The largest send must fit in the signed-in senders' three
	# quarters, or it could never be taken.
	refused_usage "--max-body-memory 1048576 is too small for --max-message 4194304 (signed-in senders get three quarters of it)" \
	    --max-body-memory 1M
	refused_usage "--max-body-memory 5242879 is too small for --max-message 4194304 (signed-in senders get three quarters of it)" \
	    --max-body-memory 5242879
	refused_usage "--max-body-memory 268435456 is too small for --max-message 268435456 (signed-in senders get three quarters of it)" \
	    --max-message 256M
}

@test "--trusted-proxy and --metrics-allow refuse what is not ADDRESS[/PREFIX]" {
	local opt v
	for opt in trusted-proxy metrics-allow; do
		for v in '' garbage 10.0.0.1/8 10.0.0.0/33 10.0.0.0/ /8 \
		    '10.0.0.0/ 8' 10.0.0.0/8x 10.0.0.0/-1 ::1/129 '[::1]' \
		    2001:db8::1/64 localhost 1.2.3 1.2.3.4:80 fe80::1%lo; do
			refused_usage "--$opt $v is not ADDRESS[/PREFIX]" \
			    "--$opt" "$v"
		done
	done
}

@test "unknown options, missing values, values given to flags, and extra arguments are usage errors" {
	refused_usage "unknown option --nope" --nope
	refused_usage "unknown option -x" -x
	refused_usage "unknown option --nope" --nope=1
	refused_usage "option --listen needs a value" --listen
	refused_usage "option --max-wait needs a value" --max-wait
	refused_usage "option --quiet takes no value" --quiet=yes
	refused_usage "option --help takes no value" --help=1
	refused_usage "unexpected argument serve" serve
	refused_usage "unexpected argument 127.0.0.1:8080" 127.0.0.1:8080
}

@test "--listen garbage is a usage error with the hint" {
	refused_usage "--listen garbage is not ADDRESS:PORT" --listen garbage
}

@test "--db with an empty path is a usage error with the hint" {
	run --separate-stderr timeout 3 e2e-server --listen 127.0.0.1:0 --db ''
	assert_equal "$status" 64
	assert_output ''
	[[ "${stderr_lines[0]}" == "e2e-server: error: "*--db* ]] ||
	    fail "$stderr"
	assert_equal "${stderr_lines[1]}" "$HINT"
}

# STYLE.md 4: a repeated single-valued option is an error (the other
# tools use cli_once), not the last one silently winning.
@test "a single-valued option given twice is refused" {
	local o
	for o in 'listen 127.0.0.1:0' 'db y.db' 'bcrypt-cost 4' \
	    'max-message 1M' 'timeout 5' 'max-body-memory 1G' 'linger 1'; do
		set -- $o
		run --separate-stderr timeout 3 e2e-server --"$1" "$2" \
		    --"$1" "$2"
		[ "$status" = 64 ] || fail "--$1 twice: exit $status"
		assert_output ''
		[[ "${stderr_lines[0]}" == "e2e-server: error: --$1 given more than once" ]] ||
		    fail "--$1 twice: $stderr"
		assert_equal "${stderr_lines[1]}" "$HINT"
	done
}
