#!/usr/bin/env bats
# e2e-chat (issue 13): two people in real pseudo-terminals (tmux, on a
# private socket in the test's folder, killed in teardown), typing with
# send-keys and reading the screen with capture-pane, against a real
# e2e-server. Every wait polls the screen (or a file) with a generous
# bound; no fixed sleep is an assertion.
#
# Each test has its own server and database; the keys are made once for
# the file (one key is one account, so each test signs its people up
# afresh on its own server).

bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load client_helpers
load keys_helpers

setup_file() {
	file_keys alice bob carol mallory newbob
}

setup() {
	common_setup
	KD=$BATS_FILE_TMPDIR/k
	TMUX_SOCK=$T/tmux.sock
	start_own_server
	user alice "$KD/alice"
	user bob "$KD/bob"
	# Each pins the other's key (e2e-keys fetch: pinned on first use).
	run_as alice e2e-keys fetch bob > /dev/null
	run_as bob e2e-keys fetch alice > /dev/null
}

teardown() {
	tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
	stop_own_server
}

# chat_script WHO PEER [OPTIONS]: $T/chat-WHO.sh runs WHO's e2e-chat
# with PEER (UTF-8); its exit status goes to $T/rc-WHO. CHAT_STDERR, when
# set, names the file its standard error goes to.
chat_script() {
	local who=$1 peer=$2
	shift 2
	{
		printf 'export PATH=%q E2E_HOME=%q E2E_SERVER=%q LANG=C.UTF-8 ' \
		    "$PATH" "$(home_of "$who")" "$URL"
		printf 'LC_ALL=C.UTF-8 TERM=screen\n'
		printf 'e2e-chat'
		printf ' %q' "$@" "$peer"
		[ -n "${CHAT_STDERR:-}" ] && printf ' 2>%q' "$CHAT_STDERR"
		printf '\necho $? > %q\n' "$T/rc-$who"
	} > "$T/chat-$who.sh"
	rm -f "$T/rc-$who"
}

# chat_start WHO PEER [OPTIONS]: chat_script, run in the tmux session
# WHO (100 columns); waits until the chat is open.
chat_start() {
	local who=$1 peer=$2
	chat_script "$@"
	tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s "$who" -x 100 \
	    -y 40 "sh $(printf %q "$T/chat-$who.sh")"
	chat_wait "$who" "chat with $peer"
}

# chat_screen WHO: what WHO's terminal shows (long lines joined).
chat_screen() {
	tmux -S "$TMUX_SOCK" capture-pane -p -J -t "$1"
}

# chat_wait WHO REGEX [SECONDS]: waits (up to SECONDS, 20 by default)
# until WHO's screen matches the extended REGEX; shows it if not.
chat_wait() {
	local i n=$((${3:-20} * 5))
	for ((i = 0; i < n; i++)); do
		chat_screen "$1" | grep -Eq -- "$2" && return 0
		sleep 0.2
	done
	echo "the screen of $1 never showed /$2/:" >&2
	chat_screen "$1" >&2
	return 1
}

# chat_wait_count WHO REGEX N: waits (20 s) until N lines of WHO's
# screen match REGEX.
chat_wait_count() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(chat_screen "$1" | grep -Ec -- "$2")" -eq "$3" ] && return 0
		sleep 0.2
	done
	echo "the screen of $1 never showed /$2/ $3 times:" >&2
	chat_screen "$1" >&2
	return 1
}

# chat_type WHO TEXT: types TEXT (literally) in WHO's terminal.
chat_type() {
	tmux -S "$TMUX_SOCK" send-keys -t "$1" -l -- "$2"
}

# chat_enter WHO [KEY]: presses Enter (or KEY, in tmux's names).
chat_enter() {
	tmux -S "$TMUX_SOCK" send-keys -t "$1" "${2:-Enter}"
}

# chat_say WHO TEXT: types TEXT and Enter.
chat_say() {
	chat_type "$1" "$2"
	chat_enter "$1"
}

# chat_exit_status WHO: waits (20 s) for WHO's e2e-chat to exit and
# prints its status.
chat_exit_status() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$T/rc-$1" ] && { cat "$T/rc-$1"; return 0; }
		sleep 0.2
	done
	echo "e2e-chat of $1 did not exit" >&2
	return 1
}

# stock_wait WHO N: waits (30 s) until WHO's one-time stock on the server
# is N.
stock_wait() {
	local i
	for ((i = 0; i < 150; i++)); do
		[ "$(server_stock "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	echo "the server's stock of $1 never was $2 (it is" \
	    "$(server_stock "$1"))" >&2
	return 1
}

HHMM='[0-9]{2}:[0-9]{2}'

@test "chat: lines cross both ways, each shown verified, mine once the server has them" {
	chat_start alice bob
	chat_start bob alice
	chat_say alice 'hello bob, it is alice'
	chat_wait bob "^$HHMM alice> hello bob, it is alice\$"
	chat_wait alice "^$HHMM me> hello bob, it is alice\$"
	chat_say bob 'hi alice: é ü 😀'
	chat_wait alice "^$HHMM bob> hi alice: é ü 😀\$"
	chat_wait bob "^$HHMM me> hi alice: é ü 😀\$"
	# Verified: no "?" mark, no reason.
	run chat_screen bob
	refute_output --partial 'alice?>'
	refute_output --partial 'not verified'
	# What bob showed was acknowledged: nothing waits for e2e-recv.
	run run_as bob e2e-recv
	assert_success
	assert_output ''
}

@test "chat: a message arriving while the other types leaves the typed text intact" {
	chat_start alice bob
	chat_start bob alice
	chat_type bob 'half of a sentence'
	chat_wait bob '^> half of a sentence *$'
	chat_say alice 'interrupting you'
	chat_wait bob "^$HHMM alice> interrupting you\$"
	# The line being typed is drawn again below the message, whole.
	chat_wait bob '^> half of a sentence *$'
	run chat_screen bob
	assert_line --index 1 --regexp "^$HHMM alice> interrupting you\$"
	chat_type bob ' and the rest'
	chat_enter bob
	chat_wait alice "^$HHMM bob> half of a sentence and the rest\$"
	# A line longer than the terminal's width, interrupted too.
	chat_type bob "$(printf 'word%03d ' $(seq 1 30))"
	chat_say alice 'again'
	chat_wait bob "^$HHMM alice> again\$"
	chat_type bob 'END'
	chat_enter bob
	chat_wait alice "^$HHMM bob> $(printf 'word%03d ' $(seq 1 30))END\$"
}

@test "chat: the arrow keys bring back earlier lines" {
	chat_start alice bob
	chat_start bob alice
	chat_say alice 'first line'
	chat_wait alice "^$HHMM me> first line\$"
	chat_say alice 'second line'
	chat_wait alice "^$HHMM me> second line\$"
	chat_enter alice Up
	chat_enter alice Up
	chat_wait alice '^> first line *$'
	chat_enter alice
	chat_wait_count bob "^$HHMM alice> first line\$" 2
	run chat_screen bob
	assert_line --index 2 --regexp "^$HHMM alice> second line\$"
}

@test "chat: a message whose signature is not by the pinned key is marked, with the reason" {
	chat_start bob alice
	# Sent as alice, signed with mallory's key: alice's name, not her key.
	printf 'trust me\n' | run_as alice e2e-encrypt -r bob -s "$KD/mallory" \
	    > "$T/forged.jwe"
	run_as alice e2e-send --to bob "$T/forged.jwe" > /dev/null
	chat_wait bob "^$HHMM alice\\?> trust me\$"
	chat_wait bob 'not verified: '
}

@test "chat: a message from a third user is left for e2e-recv, with a notice" {
	user carol "$KD/carol"
	run_as carol e2e-keys fetch bob > /dev/null
	chat_start alice bob
	chat_start bob alice
	printf 'from carol\n' | run_as carol e2e-encrypt -r bob |
	    run_as carol e2e-send --to bob > /dev/null
	chat_wait bob 'carol \(1\) wrote to you; read it with e2e-recv'
	chat_say alice 'and from alice'
	chat_wait bob "^$HHMM alice> and from alice\$"
	run chat_screen bob
	refute_output --partial 'from carol'
	# carol's message is still on the server, alice's is not.
	run run_as bob e2e-recv
	assert_success
	assert_equal "${#lines[@]}" 1
	[ "$(printf '%s' "$output" | pyj 'd["from"]')" = carol ]
}

@test "chat: /file crosses, and is saved without overwriting" {
	chat_start alice bob
	chat_start bob alice
	head -c 3000 /dev/urandom > "$T/report.pdf"
	chat_say alice "/file $T/report.pdf"
	chat_wait alice "me> \\[file $T/report.pdf, 3000 bytes\\]"
	dl=$(home_of bob)/downloads
	chat_wait bob "alice> \\[file report.pdf, 3000 bytes, saved as $dl/report.pdf\\]"
	cmp "$T/report.pdf" "$dl/report.pdf"
	# Again: a new name, the first file left as it was.
	printf 'second version\n' > "$T/report.pdf"
	chat_say alice "/file $T/report.pdf"
	chat_wait bob "saved as $dl/report-1.pdf"
	cmp "$T/report.pdf" "$dl/report-1.pdf"
	run stat -c %a "$dl/report-1.pdf"
	assert_output 600
	# A name that climbs out of the folder stays in it.
	printf 'x' > "$T/..evil"
	chat_say alice "/file $T/..evil"
	chat_wait bob "saved as $dl/evil"
}

@test "chat: /quit exits 0, and so does Ctrl-D" {
	chat_start alice bob
	chat_say alice '/help'
	chat_wait alice '/verify'
	chat_say alice '/quit'
	run chat_exit_status alice
	assert_output 0
	chat_start alice bob
	chat_enter alice C-d
	run chat_exit_status alice
	assert_output 0
}

@test "chat: the server stopped and started again: the status line says so and the chat goes on" {
	chat_start alice bob
	chat_start bob alice
	chat_say alice 'before'
	chat_wait bob "alice> before"
	stop_server
	chat_wait bob 'offline: ' 30
	chat_wait bob '^\[offline\] > '
	restart_server
	chat_wait bob 'connected again' 30
	chat_wait alice 'connected again' 30
	chat_say alice 'after'
	chat_wait bob "^$HHMM alice> after\$" 30
	chat_wait alice "^$HHMM me> after\$" 30
}

@test "chat: a sender's escape sequences are shown escaped, never written raw" {
	chat_start bob alice
	printf 'evil \033[2J\033]0;pwned\007 \302\233 end\n' |
	    run_as alice e2e-encrypt -r bob | run_as alice e2e-send --to bob \
	    > /dev/null
	chat_wait bob 'alice> evil \\x1b\[2J\\x1b\]0;pwned\\x07 \\xc2\\x9b end$'
	# The screen was not cleared, the title not set.
	chat_wait bob 'chat with alice'
	run tmux -S "$TMUX_SOCK" display-message -p -t bob '#{pane_title}'
	refute_output --partial pwned
}

@test "chat: the history shows the last messages at start, mode 0600; --no-history keeps none" {
	chat_start alice bob
	chat_say alice 'one'
	chat_wait alice "me> one"
	chat_say alice 'two'
	chat_wait alice "me> two"
	chat_say alice '/quit'
	chat_exit_status alice > /dev/null
	run stat -c %a "$(home_of alice)/chats/bob"
	assert_output 600
	chat_start alice bob --history 1
	chat_wait alice '\(history\)'
	run chat_screen alice
	assert_output --partial 'me> two'
	refute_output --partial 'me> one'
	chat_say alice '/quit'
	chat_exit_status alice > /dev/null
	run_as bob true
	chat_start bob alice --no-history
	chat_say bob 'not kept'
	chat_wait bob "me> not kept"
	assert_file_not_exists "$(home_of bob)/chats/alice"
}

@test "chat: /verify shows the safety number of e2e-keys show" {
	chat_start alice bob
	n=$(run_as alice e2e-keys show bob | pyj 'd["safety_number"]')
	[ -n "$n" ]
	chat_say alice '/verify'
	chat_wait alice "$n"
}

@test "E5: chat: a changed key is refused loudly, at start and while the chat runs" {
	chat_start alice bob
	db_replace_key bob "$KD/newbob.pub"
	# Found by e2e-keys fetch in another terminal: nothing more is sent.
	run -65 run_as alice e2e-keys fetch bob
	chat_say alice 'to the new key?'
	chat_wait alice '!! not sent: to the new key\?'
	chat_wait alice 'THE KEY OF bob HAS CHANGED'
	chat_wait alice 'NOT sending'
	chat_say alice '/quit'
	run chat_exit_status alice
	assert_output 0
	# At start: refused before the chat opens, as e2e-encrypt refuses.
	chat_script alice bob
	tmux -S "$TMUX_SOCK" new-session -d -s alice2 -x 100 -y 40 \
	    "sh $(printf %q "$T/chat-alice.sh") 2>&1; sleep 60"
	chat_wait alice2 'THE KEY OF bob HAS CHANGED'
	run chat_exit_status alice
	assert_output 65
}

@test "chat: -v writes the HTTP exchange to a redirected standard error, token masked; on the terminal it is refused (64)" {
	CHAT_STDERR=$T/http.log chat_start alice bob -v
	chat_say alice 'over http'
	chat_wait alice "$HHMM me> over http"
	chat_say alice '/quit'
	run chat_exit_status alice
	assert_output 0
	grep -q "POST /messages" "$T/http.log"
	grep -qF '> Authorization: ***' "$T/http.log"
	token=$(pyj 'd["token"]' < "$(home_of alice)/session")
	[ -n "$token" ]
	! grep -qF -- "$token" "$T/http.log" || false
	# Standard error on the terminal: refused before the chat opens.
	chat_script alice bob -v
	tmux -S "$TMUX_SOCK" new-session -d -s alice2 -x 100 -y 40 \
	    "sh $(printf %q "$T/chat-alice.sh"); sleep 60"
	chat_wait alice2 'redirect it \(2>FILE\)'
	run chat_exit_status alice
	assert_output 64
}

@test "chat: a prekeys = in the config that is neither yes nor no is refused (78) in one line, as e2e-recv refuses it" {
	printf 'prekeys = maybe\n' >> "$(home_of bob)/config"
	CHAT_STDERR=$T/err chat_script bob alice
	tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s bob -x 100 \
	    -y 40 "sh $(printf %q "$T/chat-bob.sh")"
	run chat_exit_status bob
	assert_output 78
	[ "$(cat "$T/err")" = "e2e-chat: error: prekeys (config file) must be yes or no" ] ||
	    fail "$(cat "$T/err")"
}

@test "chat: standard input not a terminal is refused with a hint (64)" {
	run --separate-stderr run_as alice e2e-chat bob < /dev/null
	assert_failure 64
	assert_output ''
	[[ $stderr == *"needs a terminal"* ]]
	[[ $stderr == *"e2e-send --to bob"* ]]
}

@test "chat: --help ends with examples; bad options are usage errors" {
	run e2e-chat --help
	assert_success
	assert_output --partial 'Examples:'
	assert_output --partial '  e2e-chat bob'
	run --separate-stderr e2e-chat
	assert_failure 64
	run --separate-stderr e2e-chat --history 3 --no-history bob
	assert_failure 64
	run --separate-stderr e2e-chat --history x bob
	assert_failure 64
}

@test "chat: a forward-secret message (to a one-time prekey of bob's) is read with bob's prekeys, and its prekey erased after the grace (fs_grace = 0)" {
	run -0 run_as bob e2e-keys prekeys --count 2
	printf 'fs_grace = 0\n' >> "$(home_of bob)/config"
	chat_start bob alice
	printf 'forward secret\n' | run_as alice e2e-encrypt -r bob > "$T/fs.jwe"
	pkid=$(jq -r '.recipients[0].header.kid' "$T/fs.jwe")
	[ "$(jq -r '.recipients[0].header.alg' "$T/fs.jwe")" = ECDH-ES+A256KW ]
	run_as alice e2e-send --to bob "$T/fs.jwe" > /dev/null
	chat_wait bob "^$HHMM alice> forward secret\$"
	# Shown: the prekey leaves bob's store (marked used, grace 0).
	local i
	for ((i = 0; i < 100; i++)); do
		jq -e --arg p "$pkid" '[.identities[].erased[]] | index($p) != null' \
		    "$(home_of bob)/prekeys.json" > /dev/null && break
		sleep 0.2
	done
	jq -e --arg p "$pkid" '([.identities[].one_time[].pkid] | index($p) == null) and ([.identities[].erased[]] | index($p) != null)' \
	    "$(home_of bob)/prekeys.json"
}

@test "chat: sends forward secret to a contact with prekeys (a one-time prekey claimed per line); a contact without is marked not forward secret, once" {
	run -0 run_as bob e2e-keys prekeys --count 3
	# alice publishes none, not even by her e2e-chat's top-up.
	printf 'prekeys = no\n' >> "$(home_of alice)/config"
	chat_start alice bob
	chat_say alice "to a prekey"
	chat_wait alice "^$HHMM me> to a prekey\$"
	# One one-time prekey claimed (2 left: not under half of 3).
	run -0 run_as bob e2e-keys prekeys --count 3
	[ "$(echo "$output" | jq -c '[.one_time, .added]')" = "[2,0]" ]
	run -0 run_as bob e2e-recv
	[ "$(echo "$output" | jq -r '.message.recipients[0].header.alg')" = ECDH-ES+A256KW ]
	# alice has no prekeys: bob's lines to her are marked, the first
	# only.
	chat_start bob alice
	chat_say bob "plain one"
	chat_wait bob "^$HHMM me> plain one\$"
	chat_say bob "plain two"
	chat_wait bob "^$HHMM me> plain two\$"
	chat_wait_count bob "not forward secret" 1
}

@test "chat: e2e-chat publishes a first batch of prekeys at start for a user who has none (on its receiver thread), and reads a message sent to one of them" {
	[ ! -e "$(home_of bob)/prekeys.json" ]
	[ "$(server_stock bob)" = 0 ]
	chat_start bob alice
	stock_wait bob 100
	# The terminal was never blocked: a line typed meanwhile went out.
	chat_say bob "typed at once"
	chat_wait bob "^$HHMM me> typed at once\$"
	# alice's message goes to one of the new prekeys; bob's running chat
	# read its store again, so it opens.
	printf 'to the new prekeys\n' | run_as alice e2e-encrypt -r bob > "$T/fs.jwe"
	[ "$(jq -r '.recipients[0].header.alg' "$T/fs.jwe")" = ECDH-ES+A256KW ]
	run_as alice e2e-send --to bob "$T/fs.jwe" > /dev/null
	chat_wait bob "^$HHMM alice> to the new prekeys\$"
	[ "$(server_stock bob)" = 99 ]
}

@test "chat: e2e-chat tops the prekey stock up again at once after reading 50 messages to one-time prekeys, not only at start" {
	chat_start bob alice
	stock_wait bob 100
	# 55 claimed before the chat reads any: the stock is under half
	# (45) whenever it counts its 50th.
	local i
	for ((i = 1; i <= 55; i++)); do
		printf 'fs %d\n' "$i" | run_as alice e2e-encrypt -r bob > "$T/m$i.jwe"
	done
	[ "$(server_stock bob)" = 45 ]
	for ((i = 1; i <= 55; i++)); do
		run_as alice e2e-send --to bob "$T/m$i.jwe" > /dev/null
	done
	chat_wait bob "^$HHMM alice> fs 55\$" 60
	# Long before the 10 minutes: by the count.
	stock_wait bob 100
}
