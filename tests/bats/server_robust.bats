#!/usr/bin/env bats
# e2e-server under stress: durability across SIGKILL, redelivery until
# acknowledged, long-poll, hostile HTTP (SECURITY-TESTS.md H1-H3, H9),
# garbage requests, and start-up failures. Raw sockets and concurrent
# clients come from server_robust.py beside this file.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers

setup() {
	common_setup
	H="$BATS_TEST_DIRNAME/server_robust.py"
	SERVER_PID=
}

teardown() {
	stop_server
}

# raw_answer: the bytes of standard input on a fresh connection; sets
# $answer to "STATUS HOW SECONDS BODY" (see server_robust.py raw).
raw_answer() {
	answer=$("$PYTHON" "$H" raw "$URL" "${1:-3}")
}

# refused_or_closed: the answer to a malformed request is a 4xx, or the
# connection closed without one.
refused_or_closed() {
	local st=${answer%% *}
	case "$st" in
	4??) ;;
	none) [[ "$answer" == "none closed "* ]] ||
	    fail "neither refused nor closed: $answer" ;;
	*) fail "expected 4xx or a closed connection: $answer" ;;
	esac
}

# ---- durability ----

@test "200 sends, 8 at a time, are each answered 200 with distinct ids" {
	start_server
	api_user bob pw
	api_user alice pw
	"$PYTHON" "$H" send "$URL" "$token" bob 200 8 par "$T/sent"
	run grep -c . "$T/sent"
	assert_output 200
	# Every send must succeed: concurrency is no reason to refuse one.
	run grep -m 3 '^FAIL' "$T/sent"
	assert_output ''
	run sh -c "cut -d' ' -f1 '$T/sent' | sort | uniq -d"
	assert_output ''
}

@test "SIGKILL right after the last 200: every message answered 200 is there after a restart, none lost, none duplicated" {
	local i tb
	start_server
	api_user bob pw
	tb=$token
	api_user alice pw
	"$PYTHON" "$H" send "$URL" "$token" bob 150 8 par "$T/sent"
	for i in $(seq 1 50); do
		api_send "$token" bob "seq-$i"
		if [[ "$status_code" == 200 && "$body" =~ \"id\":\"([0-9A-Z]{26})\" ]]; then
			echo "${BASH_REMATCH[1]} seq-$i" >> "$T/sent"
		else
			echo "FAIL $status_code seq-$i" >> "$T/sent"
		fi
	done
	kill_server
	start_server
	"$PYTHON" "$H" list "$URL" "$tb" > "$T/listed"
	grep -v '^FAIL' "$T/sent" | sort > "$T/promised"
	# Every send was answered 200.
	run grep -m 3 '^FAIL' "$T/sent"
	assert_output ''
	run grep -c . "$T/promised"
	assert_output 200
	# Exactly what was answered 200: nothing lost, nothing added.
	run diff "$T/promised" <(sort "$T/listed")
	assert_success
	run sh -c "cut -d' ' -f2 '$T/listed' | sort | uniq -d"
	assert_output ''
	# The durable settings: WAL (kept in the file), fsynced commits
	# (SQLite's; PostgreSQL's commits are durable by its own settings).
	if ! on_pg; then
		run sqlite3 "$SERVER_DB" 'PRAGMA journal_mode;'
		assert_output wal
	fi
}

@test "SIGKILL at random moments under a concurrent sender (4 rounds): every id answered 200 is there after each restart" {
	local round tb fpid
	start_server
	api_user bob pw
	tb=$token
	api_user alice pw
	: > "$T/sent"
	for round in 1 2 3 4; do
		"$PYTHON" "$H" flood "$URL" "$token" bob 4 "r$round" \
		    "$T/sent" > "$T/flood.out" &
		fpid=$!
		# The kill's moment is random from the round's first 200 on,
		# however long a loaded machine takes to get there: killed
		# before it, the round checked nothing; and before the sender
		# set its SIGTERM handler, the sender died of the TERM below.
		for _ in $(seq 1 1200); do
			grep -q " r$round-" "$T/sent" && break
			kill -0 "$fpid" 2>/dev/null || break
			sleep 0.05
		done
		grep -q " r$round-" "$T/sent" ||
		    fail "round $round: no send answered 200 within 60 s: $(cat "$T/flood.out")"
		sleep "0.$((RANDOM % 8 + 2))"
		kill_server
		kill -TERM "$fpid"
		wait "$fpid"
		start_server
		"$PYTHON" "$H" list "$URL" "$tb" > "$T/listed"
		run comm -23 <(sort "$T/sent") <(sort "$T/listed")
		assert_output ''
		run sh -c "cut -d' ' -f2 '$T/listed' | sort | uniq -d"
		assert_output ''
	done
}

# ---- delivery without loss ----

@test "a receiver that lists without acknowledging gets the same messages again; ack removes them; getmessage takes one" {
	local ta tb id1 id2 id3
	start_server
	api_user alice pw
	ta=$token
	api_user bob pw
	tb=$token
	api_send "$ta" bob one
	id1=$(json_get 'd["id"]')
	api_send "$ta" bob two
	id2=$(json_get 'd["id"]')
	api_send "$ta" bob three
	id3=$(json_get 'd["id"]')
	api GET /messages -H "x-access-token: $tb"
	assert_equal "$status_code" 200
	run json_get '[(m["id"], m["from"], m["to"], m["message"]) for m in d["messages"]]'
	assert_output "[('$id1', 'alice', 'bob', 'one'), ('$id2', 'alice', 'bob', 'two'), ('$id3', 'alice', 'bob', 'three')]"
	local first=$body
	api GET /messages -H "x-access-token: $tb"
	assert_equal "$body" "$first"
	api POST /messages/ack -H "x-access-token: $tb" -H "$JSON" \
	    -d "{\"ids\":[\"$id1\",\"$id2\"]}"
	assert_equal "$status_code" 200
	assert_equal "$body" '{"deleted":2}'
	api GET /messages -H "x-access-token: $tb"
	run json_get '[m["id"] for m in d["messages"]]'
	assert_output "['$id3']"
	# The original route takes the oldest and deletes it.
	api POST /messages/getmessage -H "x-access-token: $tb" -H "$JSON" \
	    -d '{"from":"alice"}'
	assert_equal "$status_code" 200
	run json_get '(d["id"], d["from"], d["to"], d["message"])'
	assert_output "('$id3', 'alice', 'bob', 'three')"
	api GET /messages -H "x-access-token: $tb"
	assert_equal "$body" '{"messages":[]}'
	api POST /messages/getmessage -H "x-access-token: $tb" -H "$JSON" \
	    -d '{"from":"alice"}'
	assert_equal "$status_code" 204
	assert_equal "$body" ''
}

# ---- long-poll ----

@test "long-poll: wait=10 is answered within 500 ms of a send to that user; /metrics counts the waiting receiver" {
	local ta
	start_server
	api_user alice pw
	ta=$token
	api_user bob pw
	run "$PYTHON" "$H" wake "$URL" "$token" "$ta" bob 10
	assert_success
	assert_output --regexp '^waiting=1\.0 send=200 receiver=200 after_send=0\.[0-4][0-9]{2} total=[0-9.]+ got=\["wake-up"\]$'
}

@test "long-poll: a send to another user does not wake a receiver early" {
	local tb
	start_server
	api_user alice pw
	api_user bob pw
	tb=$token
	api_user carol pw
	# bob waits 2 s while carol writes to alice.
	local wpid
	"$PYTHON" "$H" wait "$URL" "$tb" 2 > "$T/wait.out" &
	wpid=$!
	sleep 0.5
	api_send "$token" alice "not for bob"
	assert_equal "$status_code" 200
	wait "$wpid"
	run cat "$T/wait.out"
	assert_output --regexp '^status=200 seconds=(1\.[89]|[23]\.)[0-9]* messages=0$'
}

@test "long-poll: wait=2 with nothing returns an empty list after about 2 s" {
	start_server
	api_user bob pw
	run "$PYTHON" "$H" wait "$URL" "$token" 2
	assert_success
	assert_output --regexp '^status=200 seconds=(1\.[89]|[23]\.)[0-9]* messages=0$'
}

@test "long-poll: wait over --max-wait, or not a number, is 400" {
	local w
	start_server --max-wait 5
	api_user bob pw
	for w in 6 61 99999999999999999999 -1 abc 1.5 ''; do
		api GET "/messages?wait=$w" -H "x-access-token: $token"
		assert_equal "$status_code" 400
		assert_equal "$body" '{"error":"wait must be a number from 0 to 5"}'
	done
	api GET "/messages?wait=0" -H "x-access-token: $token"
	assert_equal "$status_code" 200
	assert_equal "$body" '{"messages":[]}'
}

@test "long-poll: 50 receivers of different users wait at once, each gets its own message" {
	# 50 sign-ups and sign-ins at once from one address: more than its
	# share of the bcrypt queue (A5), raised here.
	start_server --signup-limit 1000 --signin-queue 1000
	run "$PYTHON" "$H" many-waiters "$URL" 50
	assert_success
	assert_line --index 0 'waiting=50.0'
	assert_line --index 1 'done'
	assert_equal "${#lines[@]}" 2
}

@test "SIGTERM while receivers wait: they are answered at once, an in-flight send completes, the server exits 0" {
	local ta tb i rc=0
	start_server
	api_user alice pw
	ta=$token
	api_user bob pw
	tb=$token
	run "$PYTHON" "$H" term "$URL" "$SERVER_PID" "$tb" alice 5
	assert_success
	assert_line --index 0 'waiting=5.0'
	for i in 1 2 3 4 5; do
		# Answered within a second of the signal, with nothing.
		assert_line --index "$i" --regexp '^receiver status=200 messages=0 seconds=0\.[0-9]+$'
	done
	assert_line --index 6 --regexp '^send HTTP/1.1 200 OK \{"id":"[0-9A-Z]{26}"\}$'
	timeout 5 tail --pid="$SERVER_PID" -f /dev/null
	wait "$SERVER_PID" || rc=$?
	SERVER_PID=
	assert_equal "$rc" 0
	run grep -c 'SIGTERM: shutting down' "$SERVER_LOG"
	assert_output 1
	# The send answered 200 while stopping was stored.
	start_server
	api GET /messages -H "x-access-token: $ta"
	run json_get '[m["message"] for m in d["messages"]]'
	assert_output "['in flight']"
}

# ---- H1: oversized bodies ----

@test "H1: a 10 MB body is 413, answered before the upload could finish" {
	start_server
	# 10 MB at 2 MB/s would take 5 s; the answer comes at once.
	run "$PYTHON" "$H" upload "$URL" /messages 10485760 10485760 2000000
	assert_success
	read -r st secs sent <<< "$output"
	assert_equal "$st" 413
	awk -v s="$secs" 'BEGIN { exit !(s < 1.0) }' ||
	    fail "answered after $secs s"
	[ "$sent" -lt 5242880 ] || fail "$sent bytes were taken"
	# With curl too (no 100-continue: the body is sent at once).
	head -c 10485760 /dev/zero | tr '\0' a > "$T/big"
	api POST /messages -H "$JSON" -H 'Expect:' --data-binary @"$T/big"
	assert_equal "$status_code" 413
	assert_equal "$body" '{"error":"the body is larger than 4194304 bytes"}'
	assert_serving
}

@test "H1: Content-Length 10^12 with a small body is 413, at once" {
	start_server
	raw_answer < <(printf 'POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n{}')
	[[ "$answer" =~ ^413\ (answered|closed)\ 0\. ]] || fail "$answer"
	[[ "$answer" == *'{"error":"the body is larger than 4194304 bytes"}' ]]
	# Account routes have a small cap (16 KiB).
	raw_answer < <(printf 'POST /users/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 16385\r\n\r\n{}')
	[[ "$answer" =~ ^413\ (answered|closed)\ 0\. ]] || fail "$answer"
	assert_serving
}

# Chunked bodies have no announced length: httpd.c absorb() counts the
# bytes past the cap without keeping them, and dispatch() answers 413
# when the body ends. Past DISCARD_MAX (64 MiB) absorb() returns MHD_NO
# and MHD closes the connection without an answer, so an endless body
# cannot hold a connection thread forever.
@test "H1: a chunked body over --max-message is 413 (closed when over 64 MiB), without being kept; under it, it works" {
	local ta msg rss0 rss1
	start_server --max-message 64K
	api_user bob pw
	api_user alice pw
	ta=$token
	rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
	# Under the cap: stored as it was sent.
	msg=$(head -c 60000 /dev/zero | tr '\0' m)
	printf '{"to":"bob","message":"%s"}' "$msg" > "$T/under"
	api POST /messages -H "x-access-token: $ta" -H "$JSON" \
	    -H 'Transfer-Encoding: chunked' --data-binary @"$T/under"
	assert_equal "$status_code" 200
	# A little over: 413 when the body ends.
	msg=$(head -c 70000 /dev/zero | tr '\0' m)
	printf '{"to":"bob","message":"%s"}' "$msg" > "$T/over"
	api POST /messages -H "x-access-token: $ta" -H "$JSON" \
	    -H 'Transfer-Encoding: chunked' --data-binary @"$T/over"
	assert_equal "$status_code" 413
	assert_equal "$body" '{"error":"the body is larger than 65536 bytes"}'
	# 10 MB: read, dropped, 413.
	run "$PYTHON" "$H" upload "$URL" /messages chunked 10485760 1e12
	assert_success
	assert_output --regexp '^413 [0-9.]+ 10485760$'
	# 100 MiB: closed without an answer once 64 MiB were dropped.
	run "$PYTHON" "$H" upload "$URL" /messages chunked 104857600 1e12
	assert_success
	read -r st secs sent <<< "$output"
	assert_equal "$st" none
	[ "$sent" -lt 83886080 ] || fail "$sent bytes were taken"
	# None of it was kept.
	rss1=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
	[ $((rss1 - rss0)) -lt 8192 ] ||
	    fail "the server grew from $rss0 kB to $rss1 kB"
	assert_serving
	signin bob pw
	api GET /messages -H "x-access-token: $token"
	run json_get '[len(m["message"]) for m in d["messages"]]'
	assert_output '[60000]'
}

# ---- H3: request smuggling material ----

@test "H3: malformed chunked input (bad hex, ffffffffffffffffff, missing CRLF, negative size) is refused, and the server keeps serving" {
	local head
	start_server
	head='POST /users/signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'
	raw_answer < <(printf "${head}zz\r\n{}\r\n0\r\n\r\n")
	refused_or_closed
	raw_answer < <(printf "${head}-2\r\n{}\r\n0\r\n\r\n")
	refused_or_closed
	raw_answer < <(printf "${head}0x2\r\n{}\r\n0\r\n\r\n")
	refused_or_closed
	# Data longer than its chunk size: no CRLF where one must be.
	raw_answer < <(printf "${head}1\r\n{}\r\n0\r\n\r\n")
	refused_or_closed
	raw_answer < <(printf "${head}5\r\n{}\r\n0\r\n\r\n")
	refused_or_closed
	# A size overflowing 64 bits: MHD answers 413 (a chunk too large),
	# a refusal all the same.
	raw_answer < <(printf "${head}ffffffffffffffffff\r\n{}\r\n0\r\n\r\n")
	refused_or_closed
	raw_answer < <(printf "${head}10000000000000000\r\n{}\r\n0\r\n\r\n")
	refused_or_closed
	assert_serving
}

# A front proxy that takes the other length than the server would let a
# request hide inside another (smuggling): both must be refused.
@test "H3: two different Content-Length headers are refused (400 or closed), and nothing is stored" {
	local tb req
	start_server
	api_user bob pw
	tb=$token
	api_user alice pw
	req='{"to":"bob","message":"smuggled"}'
	raw_answer < <(printf 'POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-access-token: %s\r\nContent-Length: %d\r\nContent-Length: 5\r\nConnection: close\r\n\r\n%s' \
	    "$token" "${#req}" "$req")
	refused_or_closed
	raw_answer < <(printf 'POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-access-token: %s\r\nContent-Length: 5\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
	    "$token" "${#req}" "$req")
	refused_or_closed
	assert_serving
	api GET /messages -H "x-access-token: $tb"
	assert_equal "$body" '{"messages":[]}'
}

@test "H3: Content-Length together with Transfer-Encoding is refused (400 or closed), and nothing is stored" {
	local tb req
	start_server
	api_user bob pw
	tb=$token
	api_user alice pw
	req='{"to":"bob","message":"smuggled"}'
	raw_answer < <(printf 'POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-access-token: %s\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n%x\r\n%s\r\n0\r\n\r\n' \
	    "$token" "${#req}" "$req")
	refused_or_closed
	raw_answer < <(printf 'POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-access-token: %s\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\nConnection: close\r\n\r\n%x\r\n%s\r\n0\r\n\r\n' \
	    "$token" "${#req}" "$req")
	refused_or_closed
	assert_serving
	api GET /messages -H "x-access-token: $tb"
	assert_equal "$body" '{"messages":[]}'
}

# ---- H2: slow and idle clients ----

@test "H2: Slowloris from 127.0.0.1 (--max-per-ip + 1 connections, a header byte a second) does not stop 127.0.0.2 within 2 s" {
	start_server --max-per-ip 8 --timeout 2
	run "$PYTHON" "$H" slowloris "$URL" 9 4 127.0.0.2
	assert_success
	# The 9th is closed at once (per-address limit); 127.0.0.2 is served.
	assert_output --regexp '^closed=1 other=200 [01]\.[0-9]+$'
	assert_serving
}

@test "H2: an idle connection is closed after --timeout seconds" {
	start_server --timeout 2
	run "$PYTHON" "$H" stall "$URL" 6 < /dev/null
	assert_success
	assert_output --regexp '^closed (1\.[5-9]|2\.|3\.)[0-9]* none$'
}

@test "H2: a client that sends half a request and stalls is closed after --timeout; others are served meanwhile" {
	start_server --timeout 2
	printf 'POST /users/signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"name":' > "$T/half-body"
	printf 'GET /healt' > "$T/half-head"
	local p1 p2
	"$PYTHON" "$H" stall "$URL" 6 < "$T/half-body" > "$T/stall1" &
	p1=$!
	"$PYTHON" "$H" stall "$URL" 6 < "$T/half-head" > "$T/stall2" &
	p2=$!
	sleep 0.3
	run curl -s -m 2 -o /dev/null -w '%{http_code} %{time_total}' "$URL/healthz"
	assert_output --regexp '^200 0\.'
	wait "$p1" "$p2"
	run cat "$T/stall1" "$T/stall2"
	assert_line --index 0 --regexp '^closed (1\.[5-9]|2\.|3\.)[0-9]* none$'
	assert_line --index 1 --regexp '^closed (1\.[5-9]|2\.|3\.)[0-9]* none$'
	assert_serving
}

# ---- garbage ----

@test "unknown routes, wrong methods and garbage requests get 4xx or a closed connection; the server and its database stay intact" {
	local tb id req
	start_server
	api_user bob pw
	tb=$token
	api_user alice pw
	api_send "$token" bob kept
	id=$(json_get 'd["id"]')

	raw_answer < <(printf 'GET\r\n\r\n')
	refused_or_closed
	raw_answer < <(printf 'GET /healthz\r\n\r\n')
	refused_or_closed
	raw_answer < <(head -c 4096 /dev/urandom)
	refused_or_closed
	raw_answer < <({ printf 'GET /healthz HTTP/1.1\r\n'; head -c 2000 /dev/urandom; printf '\r\n\r\n'; })
	refused_or_closed
	raw_answer < <(printf 'GET /heal\0thz HTTP/1.1\r\nHost: x\r\n\r\n')
	refused_or_closed
	raw_answer < <(printf 'GET /%s HTTP/1.1\r\nHost: x\r\n\r\n' "$(head -c 100000 /dev/zero | tr '\0' a)")
	refused_or_closed
	raw_answer < <(printf 'GET /messages?from=%s HTTP/1.1\r\nHost: x\r\n\r\n' "$(head -c 100000 /dev/zero | tr '\0' a)")
	refused_or_closed
	raw_answer < <({ printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n'; for i in $(seq 1 1000); do printf 'X-H%d: v\r\n' "$i"; done; printf '\r\n'; })
	refused_or_closed
	raw_answer < <(printf '%s /healthz HTTP/1.1\r\nHost: x\r\n\r\n' "$(head -c 10000 /dev/zero | tr '\0' A)")
	refused_or_closed
	raw_answer < <(printf 'GET /healthz HTTP/1.1\r\n\r\n')
	refused_or_closed
	# An HTTP version it does not speak: 505 is the right answer there.
	raw_answer < <(printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
	[[ "$answer" =~ ^(4[0-9][0-9]|505|none\ closed) ]] || fail "$answer"

	# Unknown routes: 404; known paths with another method: 405 + Allow.
	for req in 'GET /nope' 'GET /' 'POST /users' 'GET /users/signup/' \
	    'GET /messages/' 'POST /messages/ack/x' 'GET /metrics/x' \
	    'GET //healthz' 'GET /healthz/..'; do
		api "${req%% *}" "${req#* }" --path-as-is
		assert_equal "$status_code" 404
		assert_equal "$body" '{"error":"no such route"}'
	done
	for req in 'GET /users/signup' 'PUT /messages' 'DELETE /healthz' \
	    'POST /metrics' 'PATCH /messages/ack' 'FOO /healthz'; do
		run curl -s -i -X "${req%% *}" "$URL${req#* }"
		assert_line --index 0 --regexp '^HTTP/1.1 405 '
		assert_line --regexp '^Allow: [A-Z, ]+'
	done

	assert_serving
	run db_intact
	assert_output ok
	run sq 'SELECT name FROM users ORDER BY name;'
	assert_output $'alice\nbob'
	api GET /messages -H "x-access-token: $tb"
	run json_get '[(m["id"], m["message"]) for m in d["messages"]]'
	assert_output "[('$id', 'kept')]"
}

# ---- H9 ----

@test "H9: no MHD_PostProcessor in the server, and no libmicrohttpd 1.0.0-1.0.2" {
	local src="$BATS_TEST_DIRNAME/../.." v
	run grep -rlE 'MHD_(create_post_processor|PostProcessor|post_process)' \
	    "$src/lib" "$src/cmd"
	assert_output ''
	v=$(pkg-config --modversion libmicrohttpd)
	case "$v" in
	1.0.[012]) fail "libmicrohttpd $v: CVE-2025-59777, CVE-2025-62689" ;;
	esac
	run ldd "$E2E_BIN/e2e-server"
	assert_output --partial libmicrohttpd
}

# ---- start-up failures ----

@test "a second server on the same port fails with exit 75 and says why" {
	start_server
	run --separate-stderr e2e-server --listen "127.0.0.1:$PORT" \
	    --db "$T/other.db" --bcrypt-cost 4
	assert_equal "$status" 75
	assert_output ''
	[[ "$stderr" == *"e2e-server: error: cannot listen on 127.0.0.1:$PORT"* ]] ||
	    fail "$stderr"
	[[ "$stderr" == *"Address already in use"* ]] || fail "$stderr"
	assert_serving
}

# MHD's own message names the port of MHD_start_daemon's port argument,
# which the server leaves at 0 when it passes MHD_OPTION_SOCK_ADDR.
@test "a second server on the same port does not claim it failed on port 0" {
	start_server
	run --separate-stderr e2e-server --listen "127.0.0.1:$PORT" \
	    --db "$T/other.db" --bcrypt-cost 4
	assert_equal "$status" 75
	[[ "$stderr" != *"port 0"* ]] || fail "$stderr"
}

@test "--listen garbage is a usage error (64) that names the value, before any database is made" {
	local l
	for l in garbage 127.0.0.1 127.0.0.1: :8080 127.0.0.1:65536 \
	    127.0.0.1:-1 127.0.0.1:80x localhost:0 '[::1]0' '[::1' \
	    '[::1]:' 999.1.1.1:0 ''; do
		# timeout: a value taken by mistake would serve forever.
		run --separate-stderr timeout 2 e2e-server --listen "$l" \
		    --db "$T/x.db"
		assert_equal "$status" 64
		assert_output ''
		[[ "${stderr_lines[0]}" == "e2e-server: error: --listen $l is not ADDRESS:PORT" ]] ||
		    fail "$l: $stderr"
		assert_file_not_exists "$T/x.db"
	done
}

# "::1:8080" is also a whole IPv6 address (no port): the brackets the
# help shows ("[::1]:0") are what makes an IPv6 address with a port
# unambiguous.
@test "--listen with an IPv6 address without brackets is refused as ambiguous (64)" {
	local l
	for l in ::1:0 fe80::1:8080; do
		run --separate-stderr timeout 2 e2e-server --listen "$l" \
		    --db "$T/x.db"
		assert_equal "$status" 64
		assert_output ''
		[[ "${stderr_lines[0]}" == "e2e-server: error: --listen $l "* ]] ||
		    fail "$l: $stderr"
	done
}

@test "--listen [::1]:0 serves on the IPv6 loopback" {
	ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/' ||
	    skip "no ::1 on this machine"
	e2e-server --listen '[::1]:0' --db "$T/v6.db" --bcrypt-cost 4 \
	    > "$T/v6.port" 2> "$T/v6.log" &
	SERVER_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$T/v6.port" ] && break
		sleep 0.05
	done
	run curl -s -g "http://[::1]:$(cat "$T/v6.port")/healthz"
	assert_output '{"status":"ok"}'
	# The log names a client by the key of its limits: for IPv6, its
	# /64 (::1's is ::/64).
	run grep -c '^::/64 GET /healthz 200' "$T/v6.log"
	assert_output 1
}

@test "--db in a folder that cannot be written: a clear error and exit 73" {
	local db
	if [ "$(id -u)" != 0 ]; then
		mkdir "$T/ro"
		chmod 555 "$T/ro"
		db=$T/ro/e2e.db
	else
		# Folder permissions do not stop root; sysfs does.
		db=/sys/e2e-chat-test.db
		! touch "$db" 2>/dev/null || { rm -f "$db"; skip "/sys is writable"; }
	fi
	run --separate-stderr e2e-server --listen 127.0.0.1:0 --db "$db"
	assert_equal "$status" 73
	assert_output ''
	assert_equal "${stderr_lines[0]}" "e2e-server: error: cannot open the database $db: Permission denied"
	assert_file_not_exists "$db"
}

@test "a database from a future schema version is refused with a clear message" {
	sqlite3 "$T/future.db" 'CREATE TABLE t(x); INSERT INTO t VALUES (7); PRAGMA user_version=99;'
	run --separate-stderr e2e-server --listen 127.0.0.1:0 \
	    --db "$T/future.db"
	# 65 (bad data) or 73 (cannot be opened for writing): refused.
	[[ "$status" == 65 || "$status" == 73 ]] || fail "exit $status"
	assert_output ''
	assert_equal "${stderr_lines[0]}" "e2e-server: error: the database $T/future.db has schema version 99; this server knows up to 6"
	run sqlite3 "$T/future.db" 'PRAGMA user_version; SELECT x FROM t;'
	assert_output $'99\n7'
}

# A server that refuses a database must not write to it: the newer
# server it belongs to may rely on what this one would change.
@test "a database from a future schema version is left as it was" {
	sqlite3 "$T/future.db" 'CREATE TABLE t(x); INSERT INTO t VALUES (7); PRAGMA user_version=99;'
	cp "$T/future.db" "$T/before.db"
	run --separate-stderr e2e-server --listen 127.0.0.1:0 \
	    --db "$T/future.db"
	assert_failure
	cmp "$T/before.db" "$T/future.db" ||
	    fail "the refused database was changed (journal mode: $(sqlite3 "$T/future.db" 'PRAGMA journal_mode;'))"
}
