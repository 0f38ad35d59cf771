#!/usr/bin/env bats
# The client tools against a hostile server (issue 9, SECURITY-TESTS
# A12): a server that lists the same messages forever, answers of
# 300 MB, a record addressed to someone else, and plain http:// through
# a proxy on another host. The server is hostile_server.py (a fake
# e2e-server in Python, on a free loopback port, that logs every
# request); the honest cases next to each refusal prove that no honest
# server's behaviour trips it. Everything stays on loopback: the
# "remote" proxy 192.0.2.1 (TEST-NET-1) is refused before any
# connection, and 0.0.0.0, which the rule counts as another host, is
# where Linux connects to this machine.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load client_helpers
load net_helpers

REMOTE_PROXY=http://192.0.2.1:9

setup() {
	common_setup
	clear_proxy_env
	as_user bob
}

teardown() {
	kill_bg
}

# start_hostile MODE [OPTIONS]: hostile_server.py in MODE on a free
# loopback port; HURL is its URL, $T/hostile.log what it was asked.
start_hostile() {
	: > "$T/hostile.log"
	start_py_server hostile "$BATS_TEST_DIRNAME/hostile_server.py" "$@" \
	    --log "$T/hostile.log" || return 1
	HPORT=$PY_PORT
	HURL=http://127.0.0.1:$HPORT
}

# signin_bob: bob's session for the hostile server.
signin_bob() {
	e2e-account --server "$HURL" signin bob --password-file "$T/bob.pw" \
	    > /dev/null
}

# asked REGEX: how many requests the hostile server logged matching REGEX.
asked() {
	grep -cE -- "$1" "$T/hostile.log" || true
}

# mid N: the id of the hostile server's message N.
mid() {
	"$PYTHON" -B -c 'import sys
sys.path.insert(0, sys.argv[1])
from hostile_server import msg_id
print(msg_id(int(sys.argv[2])))' "$BATS_TEST_DIRNAME" "$1"
}

# lines_unique N: $output is N lines of distinct ids.
lines_unique() {
	local n u
	n=$(printf '%s\n' "$output" | grep -c .)
	u=$(printf '%s\n' "$output" | jq -r .id | sort -u | wc -l)
	[ "$n" -eq "$1" ] && [ "$u" -eq "$1" ] || {
		echo "expected $1 distinct lines, got $n lines, $u ids" >&2
		return 1
	}
}

# ---- a server repeating itself ----

@test "A12 repeating server: a full page listed again after its acknowledgement stops e2e-recv (76), each message printed once" {
	start_hostile repeat --page 100
	signin_bob
	run --separate-stderr timeout 30 e2e-recv --retry-time 0
	[ "$status" -eq 76 ]
	lines_unique 100
	[[ "$stderr" == "e2e-recv: error: "*"repeating itself"* ]]
	[[ "$stderr" == *"$(mid 1)"* ]]
	# One page, its acknowledgement, the same page again: stop.
	[ "$(asked '^GET /messages')" -eq 2 ]
	[ "$(asked '^ACK ')" -eq 1 ]
}

@test "A12 repeating server with --follow: the same message listed forever stops e2e-recv (76)" {
	start_hostile repeat --page 1
	signin_bob
	run --separate-stderr timeout 30 e2e-recv --follow
	[ "$status" -eq 76 ]
	lines_unique 1
	[ "$(jq -r .id <<<"$output")" = "$(mid 1)" ]
	client_error_line=$(head -n 1 <<<"$stderr")
	[[ "$client_error_line" == "e2e-recv: error: "*"repeating itself"* ]]
	[ "$(asked '^GET /messages')" -eq 2 ]
}

@test "A12 repeating server with --peek: the page after the last one printed is the same page (76)" {
	start_hostile repeat --page 100
	signin_bob
	run --separate-stderr timeout 30 e2e-recv --peek
	[ "$status" -eq 76 ]
	lines_unique 100
	[[ "$stderr" == *"repeating itself"* ]]
	# The second question asked for what comes after the last id.
	[ "$(asked "^GET /messages.*after=$(mid 100)")" -eq 1 ]
	[ "$(asked '^ACK ')" -eq 0 ]
}

@test "A12 repeating server, --legacy take-one: the same message handed out twice stops e2e-recv (76)" {
	start_hostile take-repeat
	signin_bob
	run --separate-stderr timeout 30 e2e-recv --legacy --from alice --follow
	[ "$status" -eq 76 ]
	lines_unique 1
	[[ "$stderr" == *"repeating itself"* ]]
	[ "$(asked '^POST /messages/getmessage')" -eq 2 ]
}

@test "A12 empty answers at once to --follow's long-polls: one question a second, no busy loop" {
	start_hostile empty
	signin_bob
	e2e-recv --follow > "$T/out" 2> "$T/err" &
	local pid=$! i n0 n
	for i in $(seq 1 400); do
		[ "$(asked '^GET /messages')" -ge 1 ] && break
		sleep 0.05
	done
	n0=$(asked '^GET /messages')
	sleep 3
	n=$(( $(asked '^GET /messages') - n0 ))
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ]
	[ ! -s "$T/out" ]
	echo "lists in 3 s: $n" >&2
	# A busy loop asks thousands of times; a second's pause, about 3.
	[ "$n0" -ge 1 ]
	[ "$n" -le 6 ]
}

@test "A12 legitimate: lists and acknowledgements that fail are made again with --follow; nothing printed twice, no 76" {
	start_hostile honest --messages 3 --fail-lists 1 --fail-acks 2
	signin_bob
	e2e-recv --follow --retry-time 0 > "$T/out" 2> "$T/err" &
	local pid=$! i
	# The same three listed again after each failed acknowledgement,
	# until one succeeds (backoff 1 s, then 2 s).
	for i in $(seq 1 400); do
		[ "$(asked '^ACK ')" -ge 3 ] && break
		sleep 0.1
	done
	sleep 0.3
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	cat "$T/err" >&2
	[ "$rc" -eq 0 ]
	[ "$(asked '^ACK ')" -eq 3 ]
	[ "$(asked "^ACK $(mid 1),$(mid 2),$(mid 3)\$")" -eq 3 ]
	output=$(cat "$T/out")
	lines_unique 3
	not grep -q 'repeating' "$T/err"
}

@test "A12 legitimate: an acknowledgement that failed (75) is made on the next run without printing again" {
	start_hostile honest --messages 3 --fail-acks 1
	signin_bob
	run --separate-stderr e2e-recv --retry-time 0
	[ "$status" -eq 75 ]
	lines_unique 3
	run --separate-stderr e2e-recv --retry-time 0
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	[ "$(asked "^ACK $(mid 1),$(mid 2),$(mid 3)\$")" -eq 2 ]
}

# ---- answers too large ----

# max_rss_kb FILE: the "Maximum resident set size" /usr/bin/time -v wrote.
max_rss_kb() {
	sed -n 's/^.*Maximum resident set size (kbytes): //p' "$1"
}

@test "A12 a 300 MB answer: refused (76) once past 64 MiB, never buffered whole; the client's memory stays near the cap" {
	[ -x /usr/bin/time ] || skip "no /usr/bin/time"
	start_hostile big --size $((300 << 20))
	signin_bob
	# ASan keeps freed blocks in quarantine: a small one, so that it
	# measures the program, not the sanitizer.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1 \
	    run --separate-stderr /usr/bin/time -v -o "$T/time" \
	    timeout 60 e2e-recv
	[ "$status" -eq 76 ]
	[ -z "$output" ]
	[[ "$stderr" == "e2e-recv: error: the server's answer is larger than 67108864 bytes"* ]]
	stderr_has '^e2e-recv: hint: .*--max-answer'
	local rss
	rss=$(max_rss_kb "$T/time")
	echo "max RSS: $rss KiB" >&2
	# 64 MiB of answer and the program; buffering all of it took 1.2 GB.
	[ "$rss" -lt $(( (64 + 64) * 1024 )) ]
	# Each answer cut a little past the cap (what was in flight).
	not grep -q 'BIG sent whole' "$T/hostile.log"
	# Pages of 100, then fewer (an honest server's large messages), down
	# to one message: still too large, so refused.
	[ "$(asked '^GET /messages\?limit=1&')" -eq 1 ]
	[ "$(asked '^GET /messages')" -le 8 ]
	# --max-answer lowers the cap, and the memory with it.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1 \
	    run --separate-stderr /usr/bin/time -v -o "$T/time" \
	    timeout 60 e2e-recv --max-answer 1M
	[ "$status" -eq 76 ]
	[[ "$stderr" == "e2e-recv: error: the server's answer is larger than 1048576 bytes"* ]]
	rss=$(max_rss_kb "$T/time")
	echo "max RSS with --max-answer 1M: $rss KiB" >&2
	[ "$rss" -lt $(( 64 * 1024 )) ]
}

@test "A12 an answer announcing 300 MB: refused (76) at its Content-Length, before its body" {
	start_hostile big --length --size $((300 << 20))
	signin_bob
	run --separate-stderr timeout 60 e2e-recv --limit 1
	[ "$status" -eq 76 ]
	[ -z "$output" ]
	[[ "$stderr" == "e2e-recv: error: the server's answer is larger than 67108864 bytes"* ]]
	# Refused at the headers: at most what was in flight was read.
	not grep -q 'BIG sent whole' "$T/hostile.log"
}

@test "A12 --max-answer: a size from 64K to 1G, once" {
	run --separate-stderr e2e-recv --max-answer 1K
	client_error e2e-recv 64 'max-answer'
	run --separate-stderr e2e-recv --max-answer 2G
	client_error e2e-recv 64 'max-answer'
	run --separate-stderr e2e-recv --max-answer lots
	client_error e2e-recv 64 'max-answer'
	run --separate-stderr e2e-recv --max-answer 1M --max-answer 2M
	client_error e2e-recv 64 'more than once'
	run e2e-recv --help
	[[ "$output" == *"--max-answer SIZE"* ]]
}

@test "A12 legitimate: a page over --max-answer is asked again for fewer messages; every message printed once" {
	# 100 messages of 10 KB: a page of all is 1 MB, over a 256K cap.
	start_hostile honest --messages 100 --msg-size 10000
	signin_bob
	run --separate-stderr e2e-recv --max-answer 256K
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	lines_unique 100
	[ "$(asked '^GET /messages\?limit=100&')" -eq 1 ]
	[ "$(asked '^GET /messages\?limit=25&')" -ge 4 ]
	run --separate-stderr e2e-recv --max-answer 256K
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

# ---- a record for another user ----

@test "A12 a record for another user: refused (76) naming its id, neither printed nor acknowledged; the ones before it are" {
	# Message 2 of 3 is for carol.
	start_hostile foreign --messages 3
	signin_bob
	run --separate-stderr e2e-recv
	[ "$status" -eq 76 ]
	lines_unique 1
	[ "$(jq -r '.id + " " + .to' <<<"$output")" = "$(mid 1) bob" ]
	[[ "$stderr" == "e2e-recv: error: message $(mid 2) is for carol, not for you (bob)"* ]]
	# Message 1 was printed, so acknowledged; 2 neither; 3 not reached.
	[ "$(asked '^ACK ')" -eq 1 ]
	[ "$(asked "^ACK $(mid 1)\$")" -eq 1 ]
	# Again: the foreign record comes first now; nothing printed.
	run --separate-stderr e2e-recv
	[ "$status" -eq 76 ]
	[ -z "$output" ]
	[[ "$stderr" == *"message $(mid 2) is for carol"* ]]
	[ "$(asked '^ACK ')" -eq 1 ]
	# --peek and --follow refuse it the same way.
	run --separate-stderr e2e-recv --peek
	[ "$status" -eq 76 ]
	[ -z "$output" ]
	run --separate-stderr timeout 30 e2e-recv --follow
	[ "$status" -eq 76 ]
	[ -z "$output" ]
	[ "$(asked '^ACK ')" -eq 1 ]
}

@test "A12 a record for another user from the take-one route (--legacy): refused (76), not printed" {
	start_hostile take-foreign
	signin_bob
	run --separate-stderr timeout 30 e2e-recv --legacy --from alice
	client_error e2e-recv 76 "message $(mid 1) is for carol, not for you"
}

# ---- plain http through a proxy ----

# remote_refused TOOL: $status 78, nothing on stdout, one error naming
# the proxy and where it came from, a hint with --insecure-http; and
# nothing reached the server.
remote_refused() {
	client_error "$1" 78 "plain http:// to 127\.0\.0\.1 through the proxy 192\.0\.2\.1 \(from $2\)"
	stderr_has "^$1: hint: .*no_proxy.*--insecure-http"
	[[ "$stderr" != *Trying* ]]
	[ "$(asked '^(GET|POST|PUT|DELETE)')" -eq "$LOGGED" ]
}

@test "A12 plain http through a proxy that is not on loopback: 78 before any connection, in every network tool, wherever the proxy comes from" {
	fixed_keys
	start_hostile honest --messages 1
	signin_bob
	envelope alice bob 'hello' > "$T/msg.jwe"
	LOGGED=$(asked '^(GET|POST|PUT|DELETE)')
	local t0
	t0=$(now_ms)
	# Every network tool, the proxy from the environment (-v: not even
	# a connection is tried).
	export http_proxy=$REMOTE_PROXY
	run --separate-stderr e2e-account -v --server "$HURL" signin bob \
	    --password-file "$T/bob.pw"
	remote_refused e2e-account http_proxy
	run --separate-stderr e2e-send -v --to alice "$T/msg.jwe"
	remote_refused e2e-send http_proxy
	run --separate-stderr e2e-recv -v
	remote_refused e2e-recv http_proxy
	run --separate-stderr e2e-keys -v fetch alice
	remote_refused e2e-keys http_proxy
	unset http_proxy
	# all_proxy, ALL_PROXY, --proxy (any scheme), the config file.
	all_proxy=$REMOTE_PROXY run --separate-stderr e2e-recv
	remote_refused e2e-recv all_proxy
	ALL_PROXY=socks5h://192.0.2.1:1080 run --separate-stderr e2e-recv
	remote_refused e2e-recv ALL_PROXY
	run --separate-stderr e2e-recv --proxy socks5://192.0.2.1:1080
	remote_refused e2e-recv --proxy
	run --separate-stderr e2e-recv --proxy "http://user:s3cret@192.0.2.1:3128"
	remote_refused e2e-recv --proxy
	[[ "$stderr" != *s3cret* ]]
	printf 'proxy = %s\n' "$REMOTE_PROXY" > "$E2E_HOME/config"
	chmod 600 "$E2E_HOME/config"
	run --separate-stderr e2e-recv
	remote_refused e2e-recv 'proxy in the config file'
	# A no_proxy that names another host changes nothing.
	no_proxy=example.com,10.0.0.0/8 run --separate-stderr e2e-recv
	remote_refused e2e-recv 'proxy in the config file'
	rm "$E2E_HOME/config"
	# Refused at once: no connection was tried (192.0.2.1 answers
	# nothing), no retry waited for.
	[ $(( $(now_ms) - t0 )) -lt 20000 ]
	# The same commands without the proxy work.
	run --separate-stderr e2e-recv
	[ "$status" -eq 0 ]
	lines_unique 1
}

@test "A12 plain http through a proxy: allowed on loopback; no_proxy, NO_PROXY and HTTP_PROXY as libcurl reads them" {
	start_hostile honest --messages 0
	signin_bob
	# A proxy on loopback (here the fake server itself, as an HTTP proxy)
	# is used, and sees the request.
	http_proxy=http://127.0.0.1:$HPORT run --separate-stderr e2e-recv
	[ "$status" -eq 0 ]
	[ "$(asked "^PROXIED GET http://127\.0\.0\.1:$HPORT/messages")" -eq 1 ]
	http_proxy=http://localhost:$HPORT run --separate-stderr e2e-recv
	[ "$status" -eq 0 ]
	[ "$(asked '^PROXIED')" -eq 2 ]
	# A remote proxy that no_proxy or NO_PROXY skips for this host: not
	# used, so not refused (a name, an address, a network, "*").
	local np
	for np in 127.0.0.1 127.0.0.0/8 '*' 'example.com, 127.0.0.1'; do
		http_proxy=$REMOTE_PROXY no_proxy=$np \
		    run --separate-stderr e2e-recv
		[ "$status" -eq 0 ] || { echo "no_proxy=$np: $stderr" >&2; return 1; }
		all_proxy=$REMOTE_PROXY NO_PROXY=$np \
		    run --separate-stderr e2e-recv
		[ "$status" -eq 0 ] || { echo "NO_PROXY=$np: $stderr" >&2; return 1; }
	done
	http_proxy=$REMOTE_PROXY no_proxy=.localhost,localhost \
	    run --separate-stderr e2e-account --server "http://localhost:$HPORT" \
	    signin bob --password-file "$T/bob.pw"
	[ "$status" -eq 0 ]
	# An empty variable is as none (libcurl reads the next one).
	http_proxy= all_proxy=$REMOTE_PROXY run --separate-stderr e2e-recv
	client_error e2e-recv 78 'from all_proxy'
	http_proxy=$REMOTE_PROXY no_proxy= NO_PROXY=localhost \
	    run --separate-stderr e2e-recv
	[ "$status" -eq 0 ]
	# HTTP_PROXY (upper case) is not read for http://, by libcurl nor by
	# the rule (a CGI request can set it): not refused, not used.
	HTTP_PROXY=$REMOTE_PROXY run --separate-stderr e2e-recv
	[ "$status" -eq 0 ]
	[ "$(asked '^PROXIED')" -eq 2 ]
}

@test "A12 --insecure-http lets plain http through a proxy that is not on loopback" {
	start_hostile honest --messages 1
	signin_bob
	# 0.0.0.0 is not loopback for the rule; Linux connects it here.
	run --separate-stderr e2e-recv --proxy "http://0.0.0.0:$HPORT"
	client_error e2e-recv 78 'through the proxy 0\.0\.0\.0 \(from --proxy\)'
	[ "$(asked '^PROXIED')" -eq 0 ]
	run --separate-stderr e2e-recv --insecure-http \
	    --proxy "http://0.0.0.0:$HPORT"
	[ "$status" -eq 0 ]
	lines_unique 1
	[ "$(asked '^PROXIED GET')" -eq 1 ]
	[ "$(asked '^PROXIED POST http://127.0.0.1:[0-9]+/messages/ack')" -eq 1 ]
}

@test "A12 https through a proxy that is not on loopback is not refused: the proxy sees only TLS" {
	start_hostile honest
	# Nothing listens on port 1; the proxy is asked for a tunnel.
	run --separate-stderr e2e-account --server https://127.0.0.1:1 \
	    --proxy "http://0.0.0.0:$HPORT" --retry-time 0 signin bob \
	    --password-file "$T/bob.pw"
	[ "$status" -eq 75 ]
	[ "$(asked '^CONNECT 127\.0\.0\.1:1$')" -eq 1 ]
}

@test "A12 a prekey stock that is not a count (negative, fractional, absurd): e2e-keys prekeys refuses it (76) in one line, nothing made or sent" {
	fixed_keys
	for mode in stock-negative stock-fraction stock-absurd; do
		start_hostile "$mode"
		signin_bob
		run --separate-stderr e2e-keys prekeys "$T/bob"
		[ "$status" -eq 76 ] || fail "$mode: $status $stderr"
		[ -z "$output" ]
		[ "$stderr" = "e2e-keys: error: the server's prekey stock is not a count of prekeys (one_time must be an integer from 0 to 1000000): refused" ] ||
		    fail "$mode: $stderr"
		[ ! -e "$E2E_HOME/prekeys.json" ]
		[ "$(asked '^PUT /prekeys')" = 0 ]
	done
}

@test "A12 an answer to publishing prekeys whose stock is not a count (negative, fractional, absurd): e2e-keys prekeys refuses it (76) in one line, nothing marked published" {
	fixed_keys
	for mode in put-negative put-fraction put-absurd; do
		start_hostile "$mode"
		signin_bob
		rm -f "$E2E_HOME/prekeys.json"
		run --separate-stderr e2e-keys prekeys "$T/bob"
		[ "$status" -eq 76 ] || fail "$mode: $status $stderr"
		[ -z "$output" ]
		[ "$stderr" = "e2e-keys: error: the server's prekey stock is not a count of prekeys (one_time must be an integer from 0 to 1000000): refused" ] ||
		    fail "$mode: $stderr"
		[ "$(asked '^PUT /prekeys')" = 1 ]
		# Made, and kept to be sent again; none taken for published.
		jq -e '[.. | objects | select(has("published"))] as $p |
		    ($p | length) > 0 and ($p | all(.published == false))' \
		    "$E2E_HOME/prekeys.json" > /dev/null || fail "$mode"
	done
}

@test "A12 a prekey stock with an entry without a kid: e2e-keys prekeys refuses it (76) in one line, nothing made or sent" {
	# prekeydir.c compares each entry's kid without a NULL check:
	# this refusal in api.c is what makes that safe.
	fixed_keys
	start_hostile stock-nokid
	signin_bob
	run --separate-stderr e2e-keys prekeys "$T/bob"
	[ "$status" -eq 76 ] || fail "$status $stderr"
	[ -z "$output" ]
	[ "$stderr" = "e2e-keys: error: the server's answer to reading the prekey stock is not e2e-chat's" ] ||
	    fail "$stderr"
	[ ! -e "$E2E_HOME/prekeys.json" ]
	[ "$(asked '^PUT /prekeys')" = 0 ]
}

@test "A12 a claim without an account id or a kid: e2e-keys claim --pinned refuses it (76) in one line, nothing printed" {
	# prekeydir_claim takes the answer's id and each entry's kid
	# without a NULL check: this refusal in api.c is what makes that
	# safe.
	fixed_keys
	run -0 e2e-keys import alice "$T/alice.pub"
	for mode in claim-noid claim-nokid; do
		start_hostile "$mode"
		signin_bob
		run --separate-stderr e2e-keys claim --pinned alice
		[ "$status" -eq 76 ] || fail "$mode: $status $stderr"
		[ -z "$output" ]
		[ "$stderr" = "e2e-keys: error: the server's answer to claiming prekeys is not e2e-chat's" ] ||
		    fail "$mode: $stderr"
		[ "$(asked '^GET /prekeys/alice')" = 1 ]
	done
}

@test "A12 a directory that answers for another name: fetch and claim --pinned refuse it (65), nothing pinned or printed" {
	fixed_keys
	start_hostile keys-foreign
	signin_bob
	run --separate-stderr e2e-keys fetch alice
	[ "$status" -eq 65 ] || fail "$status $stderr"
	[ -z "$output" ]
	[ "$stderr" = "e2e-keys: error: asked for the keys of alice, the server answered with those of carol: refused" ] ||
	    fail "$stderr"
	run -0 e2e-keys list
	[[ "$output" != *alice* ]] || fail "$output"
	start_hostile claim-foreign
	signin_bob
	run -0 e2e-keys import alice "$T/alice.pub"
	run --separate-stderr e2e-keys claim --pinned alice
	[ "$status" -eq 65 ] || fail "$status $stderr"
	[ -z "$output" ]
	[ "$stderr" = "e2e-keys: error: asked for the prekeys of alice, the server answered with those of carol: refused" ] ||
	    fail "$stderr"
	# --pinned: the directory was not asked for the keys.
	[ "$(asked '^GET /keys/')" = 0 ]
	[ "$(asked '^GET /prekeys/alice')" = 1 ]
}
