#!/usr/bin/env bats
# e2e-server's HTTP layer against abuse (SECURITY-TESTS.md 3.9, issue 9):
# the token checked at the headers and the request-body memory cap (A1),
# limits keyed by the real client behind a trusted proxy, through a real
# nginx (A6), forged forwarding headers and IPv6 /64s (A7), lingering
# close after early answers (A11), long-polls of clients that went away,
# and /metrics for loopback only. Hostile clients come from
# server_conn.py beside this file.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load net_helpers

setup() {
	common_setup
	H="$BATS_TEST_DIRNAME/server_conn.py"
	SERVER_PID=
	NGINX_PID=
	HOLD_PID=
	CURLS=()
}

teardown() {
	local p
	[ -z "$HOLD_PID" ] || kill "$HOLD_PID" 2>/dev/null || true
	for p in "${CURLS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	stop_nginx
	stop_server
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"
}

# hold ARGS...: server_conn.py hold in the background, until its summary
# is out; sets $held (the summary) and HOLD_PID.
hold() {
	local i
	rm -f "$T/ready"
	"$PYTHON" "$H" hold "$@" "$T/ready" > "$T/hold.out" 2>&1 3>&- &
	HOLD_PID=$!
	for i in $(seq 1 600); do
		[ -e "$T/ready" ] && break
		kill -0 "$HOLD_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -e "$T/ready" ] || {
		cat "$T/hold.out" >&2
		return 1
	}
	held=$(cat "$T/hold.out")
}

unhold() {
	kill "$HOLD_PID" 2>/dev/null || true
	wait "$HOLD_PID" 2>/dev/null || true
	HOLD_PID=
}

# eventually SECONDS COMMAND...: polls COMMAND every 100 ms until it
# succeeds, for at most SECONDS.
eventually() {
	local n=$(($1 * 10)) i
	shift
	for i in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# metric NAME: its value in the server's /metrics.
metric() {
	curl -s "$URL/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

metric_is() {
	[ "$(metric "$1")" = "$2" ]
}

waiting_is() {
	metric_is e2e_receivers_waiting "$1"
}

healthz_ok() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ]
}

# longpoll TOKEN [curl arguments]: a GET /messages?wait=60 in the
# background (its pid in CURLS).
longpoll() {
	local tok=$1
	shift
	curl -s -o /dev/null -H "x-access-token: $tok" "$@" \
	    "$URL/messages?wait=60" 3>&- &
	CURLS+=($!)
}

kill_curls() {
	local p
	for p in "${CURLS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	CURLS=()
}

# ---- A1: the token at the headers, the body memory cap ----

@test "A1 token at the headers: a bad token, or none with a body over 16 KiB, is refused before the body is read" {
	start_server
	signup alice 'alice pw'
	signin alice 'alice pw'
	# A forged token and 4 MB announced: 403 at once, and the body that
	# follows only drained, never kept.
	run "$PYTHON" "$H" flood "$URL" /messages 4000000 forged.token.here
	assert_success
	read -r st secs sent <<< "$output"
	assert_equal "$st" 403
	# No token header and 1 MB announced: 413 at once (a token in the
	# body comes only in a small body).
	printf 'POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n' > "$T/req"
	run "$PYTHON" "$BATS_TEST_DIRNAME/server_robust.py" raw "$URL" 3 < "$T/req"
	[[ "$output" =~ ^413\ (answered|closed)\ 0\. ]] || fail "$output"
	[[ "$output" == *'{"error":"the body is larger than 16384 bytes (the limit without an x-access-token header)"}' ]] ||
	    fail "$output"
	# No token and no body: 403 without waiting for anything.
	api GET /messages
	assert_equal "$status_code" 403
	# A token in a small body still works (the original's clients).
	api POST /messages/getmessage -H "$JSON" \
	    -d "{\"from\":\"alice\",\"token\":\"$token\"}"
	assert_equal "$status_code" 204
	# A good header token takes a large body.
	head -c 1000000 /dev/zero | tr '\0' m > "$T/m"
	printf '{"to":"alice","message":"%s"}' "$(cat "$T/m")" > "$T/big.json"
	api POST /messages -H "$JSON" -H "x-access-token: $token" \
	    --data-binary @"$T/big.json"
	assert_equal "$status_code" 200
}

@test "A1 token at the headers: a user deleted while its upload was on its way is refused when the body is in (T4)" {
	local tok pid
	start_server
	signup bob 'bob pw'
	signup alice 'alice pw'
	signin alice 'alice pw'
	tok=$token
	printf '{"to":"bob","message":"%s"}' "$(head -c 100000 /dev/zero | tr '\0' m)" > "$T/m.json"
	"$PYTHON" "$H" split "$URL" /messages "$tok" "$T/m.json" "$T/ready" \
	    "$T/go" > "$T/split.out" 3>&- &
	pid=$!
	eventually 10 test -e "$T/ready"
	api DELETE "/users/$user_id" -H "x-access-token: $tok" -H "$JSON" \
	    -d '{"password":"alice pw"}'
	assert_equal "$status_code" 200
	touch "$T/go"
	wait "$pid"
	assert_equal "$(cat "$T/split.out")" '403 {"error":"authentication failed"}'
	# Nothing was stored in the name of the deleted sender.
	signin bob 'bob pw'
	api GET /messages -H "x-access-token: $token"
	assert_equal "$body" '{"messages":[]}'
}

@test "A1 100 slow uploads without a token: refused at the headers, server memory stays flat, others served" {
	local rss0 rss1
	start_server --max-message 1M --max-body-memory 4M --linger 2 --quiet
	signup bob 'bob pw'
	rss0=$(rss_kb)
	# Each announces 1 MiB, sends all but the last byte whatever the
	# answer, and waits. The old server kept every byte: ~100 MiB.
	hold "$URL" /messages 100 1048576 1048575 - ignore
	assert_equal "$held" '413 100'
	# Nothing reserved; the refused ones are drained, not kept.
	assert_equal "$(metric e2e_body_memory_bytes)" 0
	rss1=$(rss_kb)
	[ $((rss1 - rss0)) -lt $((4096 + 16384)) ] ||
	    fail "the server grew from $rss0 kB to $rss1 kB"
	# Meanwhile the others are served.
	signin bob 'bob pw'
	api POST /messages -H "$JSON" -H "x-access-token: $token" \
	    -d '{"to":"bob","message":"still here"}'
	assert_equal "$status_code" 200
	assert_serving
	unhold
}

@test "A1 small uploads without a token header get a quarter of --max-body-memory; over it, 503 with Retry-After; signed-in senders are still served" {
	local rss0 rss1 hdr
	# 256K in all, 64K for uploads without a token header: four bodies
	# of 16 KiB.
	start_server --max-message 64K --max-body-memory 256K --quiet
	signup bob 'bob pw'
	signin bob 'bob pw'
	rss0=$(rss_kb)
	hold "$URL" /messages 20 16384 15000 - keep
	assert_equal "$held" '503+retry 16 pending 4'
	assert_equal "$(metric e2e_body_memory_bytes)" 65536
	rss1=$(rss_kb)
	[ $((rss1 - rss0)) -lt 8192 ] ||
	    fail "the server grew from $rss0 kB to $rss1 kB"
	# One more is refused at once, saying when to come back.
	api POST /users/signin -H "$JSON" -D "$T/hdr" \
	    -d '{"name":"bob","password":"bob pw"}'
	assert_equal "$status_code" 503
	assert_equal "$body" '{"error":"the server is busy receiving other uploads; try again shortly"}'
	grep -qi '^Retry-After: 1' "$T/hdr" || fail "$(cat "$T/hdr")"
	# A signed-in sender draws on the rest.
	head -c 50000 /dev/zero | tr '\0' m > "$T/m"
	printf '{"to":"bob","message":"%s"}' "$(cat "$T/m")" > "$T/m.json"
	api POST /messages -H "$JSON" -H "x-access-token: $token" \
	    --data-binary @"$T/m.json"
	assert_equal "$status_code" 200
	# Once the holders are gone, their memory is free again.
	unhold
	eventually 10 signin bob 'bob pw'
}

@test "A1 signed-in uploads over --max-body-memory: 503 at once with Retry-After; free again when they end" {
	start_server --max-message 64K --max-body-memory 256K --quiet
	signup bob 'bob pw'
	signin bob 'bob pw'
	# Three bodies of 64 KiB fill the signed-in three quarters of 256K;
	# the next two do not fit.
	hold "$URL" /messages 5 65536 30000 "$token" keep
	assert_equal "$held" '503+retry 2 pending 3'
	assert_equal "$(metric e2e_body_memory_bytes)" 196608
	api POST /messages -H "$JSON" -H "x-access-token: $token" -D "$T/hdr" \
	    -d '{"to":"bob","message":"one more"}'
	assert_equal "$status_code" 503
	grep -qi '^Retry-After: 1' "$T/hdr" || fail "$(cat "$T/hdr")"
	# A sign-in has its own quarter.
	signin bob 'bob pw'
	unhold
	# Every reservation is given back.
	eventually 10 metric_is e2e_body_memory_bytes 0
	send_ok() {
		api POST /messages -H "$JSON" -H "x-access-token: $token" \
		    -d '{"to":"bob","message":"again"}'
		[ "$status_code" = 200 ]
	}
	eventually 10 send_ok
}

# ---- A11: early answers are read ----

@test "A11 lingering close: a 10 MB upload gets its 413 read by curl every time (50 runs)" {
	local fails=0 i c
	start_server --quiet
	head -c 10485760 /dev/zero | tr '\0' a > "$T/big"
	# Two loops at once, for some load; no 100-continue, so curl sends
	# the body at once and is still sending when the 413 comes.
	run_loop() {
		local i c
		for i in $(seq 1 25); do
			c=$(curl -s -S -o "$T/a$1" -w '%{http_code}' -H "$JSON" \
			    -H 'Expect:' --data-binary @"$T/big" \
			    "$URL/messages" 2>&1)
			[ "$c" = 413 ] && grep -q 'larger than' "$T/a$1" ||
			    echo "run $i: $c" >> "$T/fails"
		done
	}
	run_loop 1 3>&- &
	i=$!
	run_loop 2
	wait "$i"
	[ ! -s "$T/fails" ] || fail "$(cat "$T/fails")"
	# The same for a 403 at the headers (a forged token), raw.
	run "$PYTHON" "$H" early "$URL" /messages 3000000 forged.token 20
	assert_output '403 20'
	assert_serving
}

@test "A11 lingering close is bounded: a client that never stops sending is cut off after --linger seconds or 64 MiB" {
	local i
	start_server --linger 1 --quiet
	# As fast as it can: cut off after 64 MiB.
	run "$PYTHON" "$H" flood "$URL" /messages 1000000000000 -
	assert_success
	read -r st secs sent <<< "$output"
	assert_equal "$st" 413
	awk -v s="$secs" 'BEGIN { exit !(s < 10) }' || fail "$output"
	[ "$sent" -lt $((80 << 20)) ] || fail "$output"
	# 100 kB/s: cut off after the second (not before it: it lingered).
	"$PYTHON" "$H" flood "$URL" /messages 1000000000000 - 100000 \
	    > "$T/flood.out" 3>&- &
	i=$!
	eventually 10 metric_is e2e_connections_lingering 1
	wait "$i"
	read -r st secs sent < "$T/flood.out"
	assert_equal "$st" 413
	awk -v s="$secs" 'BEGIN { exit !(s >= 0.9 && s < 8) }' ||
	    fail "$(cat "$T/flood.out")"
	metric_is e2e_connections_lingering 0
	# With --linger 0 the connection closes at once after the answer.
	stop_server
	start_server --linger 0 --quiet
	run "$PYTHON" "$H" flood "$URL" /messages 1000000000000 -
	read -r st secs sent <<< "$output"
	[ "$sent" -lt $((16 << 20)) ] || fail "$output"
	assert_serving
}

# ---- long-polls of clients that went away ----

@test "long-poll: clients that close release their waiter and their --max-per-ip slot at once, not at the end of the wait" {
	local i
	start_server --max-per-ip 4 --max-wait 60
	signup bob 'bob pw'
	signin bob 'bob pw'
	for i in 1 2 3; do
		longpoll "$token"
	done
	eventually 10 waiting_is 3
	longpoll "$token"
	# All four slots are taken: a fifth connection is refused.
	refused() { ! healthz_ok; }
	eventually 10 refused
	kill_curls
	# The waits had 60 s to go; the slots come back in moments.
	eventually 10 healthz_ok
	eventually 10 waiting_is 0
	# And every one of them: three more waiters and a fourth request.
	for i in 1 2 3; do
		longpoll "$token"
	done
	eventually 10 waiting_is 3
	kill_curls
	eventually 10 waiting_is 0
	# The log calls them 499 (closed by the client): at least the six
	# that were surely waiting.
	[ "$(grep -c 'GET /messages 499 ' "$SERVER_LOG")" -ge 6 ] ||
	    fail "$(cat "$SERVER_LOG")"
}

# ---- A6, A7: the real client behind a trusted proxy ----

# start_proxy: nginx on a free 127.0.0.1 port in front of $URL, as
# docs/SERVER.md configures it; sets PROXY_URL, NGINX_PID, NGINX_DIR.
start_proxy() {
	start_nginx PROXY_PORT _nginx_proxy_conf || return 1
	PROXY_URL="http://127.0.0.1:$PROXY_PORT"
}

_nginx_proxy_conf() {
	_nginx_head
	cat <<EOF
	server {
		listen 127.0.0.1:$PROXY_PORT;
		location / {
			proxy_pass $URL;
			proxy_set_header X-Real-IP \$remote_addr;
			proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
			proxy_buffering off;
			proxy_request_buffering off;
			proxy_read_timeout 600s;
		}
	}
}
EOF
}

# fail_signins SOURCE N [curl arguments]: N failed sign-ins through the
# proxy from 127.0.0.SOURCE, each for another unknown name; prints the
# statuses, one per line.
fail_signins() {
	local src=$1 n=$2 i
	shift 2
	for i in $(seq 1 "$n"); do
		curl -s -o /dev/null -w '%{http_code}\n' --interface "$src" \
		    -H "$JSON" "$@" -d "{\"name\":\"nobody$i\",\"password\":\"x\"}" \
		    "$PROXY_URL/users/signin"
	done
}

# signin_via SOURCE NAME PASSWORD: a sign-in through the proxy from
# SOURCE; prints the status.
signin_via() {
	curl -s -o /dev/null -w '%{http_code}' --interface "$1" -H "$JSON" \
	    -d "{\"name\":\"$2\",\"password\":\"$3\"}" "$PROXY_URL/users/signin"
}

@test "A6 behind nginx: 50 failed sign-ins from one client do not lock out another client of the same nginx" {
	start_server --trusted-proxy 127.0.0.1 --signin-addr-limit 5
	start_proxy
	signup bob 'bob pw'
	run fail_signins 127.0.0.2 50
	# The first five fail as failures, the rest are throttled.
	assert_equal "$(grep -c '^403$' <<< "$output")" 5
	assert_equal "$(grep -c '^429$' <<< "$output")" 45
	# Another client behind the same proxy is not that client.
	assert_equal "$(signin_via 127.0.0.3 bob 'bob pw')" 200
	# The log names the clients, never the proxy.
	grep -q '^127\.0\.0\.2 POST /users/signin 429 ' "$SERVER_LOG"
	grep -q '^127\.0\.0\.3 POST /users/signin 200 ' "$SERVER_LOG"
	! grep -q '^127\.0\.0\.1 POST /users/signin' "$SERVER_LOG"
}

@test "A6 without --trusted-proxy, every client of nginx is the proxy: one client's failures lock out the other (why the flag exists)" {
	start_server --signin-addr-limit 5
	start_proxy
	signup bob 'bob pw'
	run fail_signins 127.0.0.2 6
	assert_equal "$(signin_via 127.0.0.3 bob 'bob pw')" 429
}

@test "A6 behind nginx: --max-per-ip counts one client's requests, not the proxy's connections; a client that goes away frees its slots" {
	local i
	start_server --trusted-proxy 127.0.0.1 --max-per-ip 3 --max-wait 60
	start_proxy
	signup alice 'alice pw'
	signin alice 'alice pw'
	for i in 1 2 3; do
		curl -s -o /dev/null --interface 127.0.0.2 \
		    -H "x-access-token: $token" \
		    "$PROXY_URL/messages?wait=60" 3>&- &
		CURLS+=($!)
	done
	eventually 10 waiting_is 3
	# A fourth request from that client: 429, naming it.
	status_code=$(curl -s -o "$T/body" -w '%{http_code}' -D "$T/hdr" \
	    --interface 127.0.0.2 "$PROXY_URL/healthz")
	assert_equal "$status_code" 429
	assert_equal "$(cat "$T/body")" '{"error":"too many requests at once from 127.0.0.2 (at most 3)"}'
	grep -qi '^Retry-After: 1' "$T/hdr"
	# Others behind the same proxy go on (the proxy itself holds four
	# connections, more than --max-per-ip).
	for i in 3 4 5; do
		[ "$(curl -s -o /dev/null -w '%{http_code}' \
		    --interface "127.0.0.$i" "$PROXY_URL/healthz")" = 200 ] ||
		    fail "127.0.0.$i refused"
	done
	# The client leaves: nginx closes its upstream connections, and the
	# server frees the waits at once (they had a minute to go).
	kill_curls
	eventually 10 waiting_is 0
	via2() {
		[ "$(curl -s -o /dev/null -w '%{http_code}' \
		    --interface 127.0.0.2 "$PROXY_URL/healthz")" = 200 ]
	}
	eventually 10 via2
}

@test "A7 X-Forwarded-For and X-Real-IP from an untrusted peer are ignored" {
	local i flags n=0
	# No trusted proxy at all, then one that is not this peer; each on a
	# database of its own (the failed sign-ins counted there outlive a
	# restart).
	for flags in '' '--trusted-proxy 10.0.0.0/8'; do
		n=$((n + 1))
		SERVER_DB=$T/xff$n.db
		start_server --signin-addr-limit 5 $flags
		for i in $(seq 1 8); do
			api POST /users/signin -H "$JSON" \
			    -H "X-Forwarded-For: 203.0.113.$i" \
			    -H "X-Real-IP: 198.51.100.$i" \
			    -d "{\"name\":\"nobody$i\",\"password\":\"x\"}"
			echo "$status_code" >> "$T/st"
		done
		assert_equal "$(grep -c '^429$' "$T/st")" 3
		! grep -q '^203\.\|^198\.' "$SERVER_LOG" || false
		rm "$T/st"
		stop_server
	done
}

@test "A7 through a trusted nginx, a client's own X-Forwarded-For is ignored: the address nginx saw counts" {
	start_server --trusted-proxy 127.0.0.1 --signin-addr-limit 5
	start_proxy
	signup bob 'bob pw'
	for i in $(seq 1 8); do
		curl -s -o /dev/null -w '%{http_code}\n' --interface 127.0.0.2 \
		    -H "$JSON" -H "X-Forwarded-For: 203.0.113.$i" \
		    -H "X-Real-IP: 198.51.100.$i" \
		    -d "{\"name\":\"nobody$i\",\"password\":\"x\"}" \
		    "$PROXY_URL/users/signin" >> "$T/st"
	done
	assert_equal "$(grep -c '^429$' "$T/st")" 3
	grep -q '^127\.0\.0\.2 POST /users/signin 429 ' "$SERVER_LOG"
	! grep -q '^203\.\|^198\.' "$SERVER_LOG"
}

@test "A7 IPv6: the addresses of one /64 share one bucket, another /64 has its own" {
	local i
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
	    2>/dev/null || skip "no ::1 on this machine"
	start_server --listen '[::1]:0' --trusted-proxy ::1 \
	    --signin-addr-limit 5 --max-per-ip 2 --max-wait 60
	signup bob 'bob pw'
	signin bob 'bob pw'
	# A client rotating through its /64, as the proxy saw it.
	for i in $(seq 1 8); do
		api POST /users/signin -H "$JSON" \
		    -H "X-Forwarded-For: 2001:db8:1:2::$i" \
		    -d "{\"name\":\"nobody$i\",\"password\":\"x\"}"
		echo "$status_code" >> "$T/st"
	done
	assert_equal "$(grep -c '^429$' "$T/st")" 3
	grep -q '^2001:db8:1:2::/64 POST /users/signin 429 ' "$SERVER_LOG"
	# The next /64 is someone else.
	api POST /users/signin -H "$JSON" -H "X-Forwarded-For: 2001:db8:1:3::1" \
	    -d '{"name":"bob","password":"bob pw"}'
	assert_equal "$status_code" 200
	# Requests at once, per /64 too.
	for i in a b; do
		longpoll "$token" -g -H "X-Forwarded-For: 2001:db8:1:2::$i"
	done
	eventually 10 waiting_is 2
	api GET /healthz -H "X-Forwarded-For: 2001:db8:1:2::c"
	assert_equal "$status_code" 429
	assert_equal "$body" '{"error":"too many requests at once from 2001:db8:1:2::/64 (at most 2)"}'
	api GET /healthz -H "X-Forwarded-For: 2001:db8:1:3::c"
	assert_equal "$status_code" 200
	# Direct IPv6 clients are keyed by their /64 as well.
	kill_curls
	eventually 10 waiting_is 0
	grep -q '^::/64 POST /users/signup 200 ' "$SERVER_LOG"
}

# ---- /metrics ----

@test "/metrics answers loopback and --metrics-allow clients only (judged behind a trusted proxy by the real client); 403 otherwise" {
	start_server --trusted-proxy 127.0.0.1
	api GET /metrics
	assert_equal "$status_code" 200
	api GET /metrics -H 'X-Forwarded-For: 203.0.113.5'
	assert_equal "$status_code" 403
	assert_equal "$body" '{"error":"/metrics is served only to loopback and --metrics-allow addresses, not to 203.0.113.5"}'
	api GET /metrics -H 'X-Forwarded-For: 2001:db8::1'
	assert_equal "$status_code" 403
	stop_server
	start_server --trusted-proxy 127.0.0.1 --metrics-allow 203.0.113.0/24 \
	    --metrics-allow 2001:db8::/32
	api GET /metrics -H 'X-Forwarded-For: 203.0.113.5'
	assert_equal "$status_code" 200
	api GET /metrics -H 'X-Forwarded-For: 2001:db8::1'
	assert_equal "$status_code" 200
	api GET /metrics -H 'X-Forwarded-For: 198.51.100.1'
	assert_equal "$status_code" 403
	api GET /metrics
	assert_equal "$status_code" 200
}
