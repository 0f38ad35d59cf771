#!/usr/bin/env bats
# The client tools' errors (issue 4): e2e-account, e2e-send and e2e-recv
# against a real e2e-server on a free loopback port, and against servers
# that fail: down (and back, on the same port), a refused or expired
# token, a message too large, rate limits, a web server that is not
# e2e-chat's. Each error is one "TOOL: error:" line on stderr (maybe
# with hints), nothing on stdout, and the documented exit code. Also
# plain http:// to a host that is not loopback (C1), -v masking the
# password and the token (C5), --help and --version, and a failing
# standard output for e2e-recv (nothing acknowledged).
#
# One server serves the tests that leave it running (setup_file); the
# tests that stop it, start it again or need other options start their
# own.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load client_helpers

setup_file() {
	start_shared_server
}

teardown_file() {
	stop_shared_server
}

setup() {
	common_setup
	fixed_keys
	test_names_keys
}

teardown() {
	stop_own_server
	[ -z "${HOLD_PID:-}" ] || { kill "$HOLD_PID"; wait "$HOLD_PID"; } 2>/dev/null
	HOLD_PID=
}

# hold_port: a loopback port that stays the test's while its server is
# stopped, so that no other process takes it (the tests that stop a
# server and try it again, or start it again there): a socket bound with
# SO_REUSEADDR that never listens holds it until teardown. A connection
# to it is refused, as to any stopped server; e2e-server, which binds
# with SO_REUSEADDR too, listens there, and nobody else can while it
# does; free_port, which binds without, never picks it. The port in
# $HELD_PORT; the holder is $HOLD_PID.
hold_port() {
	local i
	"$PYTHON" -c 'import signal, socket, sys
for p in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", int(p)))
    except OSError:
        s.close()
        continue
    print(p, flush=True)
    signal.pause()
sys.exit("no port to hold")' $(free_port) $(free_port) $(free_port) \
	    > "$T/held.port" 3>&- &
	HOLD_PID=$!
	for i in $(seq 1 1200); do
		[ -s "$T/held.port" ] && break
		kill -0 "$HOLD_PID" 2>/dev/null || break
		sleep 0.05
	done
	HELD_PORT=$(cat "$T/held.port")
	[ -n "$HELD_PORT" ] || { echo "no port could be held" >&2; return 1; }
}

# tried_once FILE PID: waits (up to 60 s) until the client PID, run with
# -v into FILE, has failed to reach the server once and says it tries
# again; fails when PID ended first.
tried_once() {
	local i
	for i in $(seq 1 1200); do
		grep -q '^\* trying again in' "$1" && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.05
	done
	echo "the client never tried again; its stderr:" >&2
	cat "$1" >&2
	return 1
}

# no_complaint FILE: a client's -v stderr in FILE holds no error, warning
# or hint.
no_complaint() {
	! grep -E '^e2e-[a-z]+: (error|warning|hint):' "$1" || {
		cat "$1"
		false
	}
}

# elapsed_ms CMD...: runs CMD with `run --separate-stderr`; the time it
# took in $elapsed (ms).
elapsed_ms() {
	local t0
	t0=$(now_ms)
	run --separate-stderr "$@"
	elapsed=$(( $(now_ms) - t0 ))
}

# ---- the server is down, or comes back ----

@test "server down: signin, send and recv fail 75 'cannot reach', at once with --retry-time 0" {
	start_own_server
	account "$A"
	account "$B"
	envelope "$A" "$B" "hello" > "$T/m.jwe"
	stop_server
	elapsed_ms run_as "$A" e2e-send --retry-time 0 --to "$B" "$T/m.jwe"
	client_error e2e-send 75 "cannot reach the server $URL"
	[ "$elapsed" -lt 1500 ] || { echo "took $elapsed ms"; false; }
	elapsed_ms run_as "$B" e2e-recv --retry-time 0
	client_error e2e-recv 75 "cannot reach the server $URL"
	[ "$elapsed" -lt 1500 ] || { echo "took $elapsed ms"; false; }
	elapsed_ms run_as "$A" e2e-account --retry-time 0 --server "$URL" \
	    signin "$A" --password-file "$T/$A.pw"
	client_error e2e-account 75 "cannot reach the server $URL"
	[ "$elapsed" -lt 1500 ] || { echo "took $elapsed ms"; false; }
	elapsed_ms run_as "$A" e2e-account --retry-time 0 --server "$URL" \
	    signup "x$A" --password-file "$T/$A.pw"
	client_error e2e-account 75 "cannot reach"
	elapsed_ms run_as "$A" e2e-account --retry-time 0 delete --yes \
	    --password-file "$T/$A.pw"
	client_error e2e-account 75 "cannot reach"
	# The session was kept; whoami needs no server.
	run --separate-stderr run_as "$A" e2e-account whoami
	[ "$status" -eq 0 ]
}

@test "server down: --retry-time 3 retries with backoff, then 75 after about the time given" {
	hold_port
	start_own_server --listen "127.0.0.1:$HELD_PORT"
	account "$B"
	stop_server
	# Pauses of 250, 500, 1000 ms... (plus up to a quarter of jitter);
	# the last one is cut to end at the time given, and one more try
	# is made then: the client gives up only after about 3 s.
	elapsed_ms run_as "$B" e2e-recv -v --retry-time 3
	[ "$status" -eq 75 ]
	[ -z "$output" ]
	stderr_has "^e2e-recv: error: cannot reach the server $URL"
	# Several attempts, with growing pauses between them.
	printf '%s\n' "$stderr" | grep '^\* trying again in' > "$T/pauses" ||
	    { echo "$stderr"; false; }
	[ "$(wc -l < "$T/pauses")" -ge 3 ]
	pycheck '
	p = [int(l.split()[4]) for l in open(sys.argv[1])][:-1]
	assert p == sorted(p) and p[-1] > p[0], p
	' "$T/pauses"
	[ "$elapsed" -ge 2700 ] || { echo "took $elapsed ms"; false; }
	[ "$elapsed" -lt 8000 ] || { echo "took $elapsed ms"; false; }
}

@test "server back within the retry time on the same port: the client succeeds, the message sent once" {
	hold_port
	start_own_server --listen "127.0.0.1:$HELD_PORT"
	account "$A"
	account "$B"
	envelope "$A" "$B" "through the restart" > "$T/m.jwe"
	stop_server
	# Back once the client has failed once (-v says so), however long a
	# loaded machine takes: the retry time is ample for the restart.
	env E2E_HOME="$(home_of "$A")" e2e-send -v --retry-time 60 \
	    --to "$B" "$T/m.jwe" > "$T/out" 2> "$T/err" 3>&- &
	local pid=$! rc=0
	BG_PIDS=$pid
	tried_once "$T/err" "$pid"
	restart_server
	wait "$pid" || rc=$?
	BG_PIDS=
	[ "$rc" -eq 0 ] || { cat "$T/err"; false; }
	no_complaint "$T/err"
	run -0 pyj 'd["id"]' < "$T/out"
	local id=$output
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	run -0 pyj 'd["id"]' <<< "$output"
	[ "$output" = "$id" ]
	# recv too waits for it.
	stop_server
	env E2E_HOME="$(home_of "$B")" e2e-recv -v --retry-time 60 \
	    > "$T/out2" 2> "$T/err2" 3>&- &
	pid=$!
	BG_PIDS=$pid
	tried_once "$T/err2" "$pid"
	restart_server
	rc=0
	wait "$pid" || rc=$?
	BG_PIDS=
	[ "$rc" -eq 0 ] || { cat "$T/err2"; false; }
	no_complaint "$T/err2"
	[ ! -s "$T/out2" ]
}

# ---- the server says no ----

@test "signin: wrong password and unknown user are both 77 'wrong name or password', no session" {
	account "$A"
	rm "$T/homes/$A/session"
	printf 'not the password\n' > "$T/bad.pw"
	chmod 600 "$T/bad.pw"
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signin \
	    "$A" --password-file "$T/bad.pw"
	client_error e2e-account 77 'wrong name or password'
	[ ! -e "$T/homes/$A/session" ]
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signin \
	    "nobody$BATS_TEST_NUMBER" --password-file "$T/bad.pw"
	client_error e2e-account 77 'wrong name or password'
	[ ! -e "$T/homes/$A/session" ]
	# The right one works (the refusals were for the password).
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signin \
	    "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
}

@test "signup: a name already taken is 65 'the name NAME is taken'; the existing session stays" {
	account "$A"
	cp "$T/homes/$A/session" "$T/before"
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signup \
	    "$A" --password-file "$T/$A.pw"
	client_error e2e-account 65 "the name $A is taken"
	cmp "$T/before" "$T/homes/$A/session"
}

@test "token refused by the server (signed with another secret): 77 'sign in again'; signin mends it" {
	start_own_server
	account "$A"
	account "$B"
	envelope "$A" "$B" "hello" > "$T/m.jwe"
	stop_server
	head -c 48 /dev/urandom > "$T/other-secret"
	chmod 600 "$T/other-secret"
	# A new secret on a database served with another: a rotation.
	restart_server --secret-file "$T/other-secret" --secret-rotate
	run --separate-stderr run_as "$A" e2e-send --to "$B" "$T/m.jwe"
	client_error e2e-send 77 'refused your session'
	stderr_has "^e2e-send: hint: sign in again: e2e-account signin $A\$"
	run --separate-stderr run_as "$B" e2e-recv
	client_error e2e-recv 77 'refused your session'
	stderr_has "^e2e-recv: hint: sign in again: e2e-account signin $B\$"
	run --separate-stderr run_as "$A" e2e-account delete --yes \
	    --password-file "$T/$A.pw"
	client_error e2e-account 77 'refused your session'
	[ -e "$T/homes/$A/session" ]
	run --separate-stderr run_as "$A" e2e-account signin "$A" \
	    --password-file "$T/$A.pw"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	run --separate-stderr run_as "$A" e2e-send --to "$B" "$T/m.jwe"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
}

@test "token expired on the server (the session says otherwise): 77 'sign in again'" {
	start_own_server --token-ttl 1
	account "$A"
	sleep 2.1
	# The session's own clock would catch it first: push it forward.
	session_set "$A" expires_at "$(( $(date +%s) + 3600 ))"
	run --separate-stderr run_as "$A" e2e-recv
	client_error e2e-recv 77 'refused your session'
	stderr_has "^e2e-recv: hint: sign in again"
}

@test "message too large for the server (--max-message 64K): 65 'too large', nothing delivered" {
	start_own_server --max-message 64K
	account "$A"
	account "$B"
	head -c 70000 /dev/urandom | e2e-encrypt -r "$T/$B.pub" -s "$T/$A" \
	    > "$T/big.jwe"
	[ "$(stat -c %s "$T/big.jwe")" -gt 65536 ]
	run --separate-stderr run_as "$A" e2e-send --to "$B" "$T/big.jwe"
	client_error e2e-send 65 'too large'
	run --separate-stderr run_as "$A" e2e-send --legacy --to "$B" \
	    "$T/big.jwe"
	client_error e2e-send 65 'too large'
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# A smaller one goes through.
	head -c 20000 /dev/urandom | e2e-encrypt -r "$T/$B.pub" -s "$T/$A" \
	    > "$T/small.jwe"
	run --separate-stderr run_as "$A" e2e-send --to "$B" "$T/small.jwe"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
}

@test "unknown recipient: 67 'no such user', also with --legacy" {
	account "$A"
	envelope "$A" "$A" "hello" > "$T/m.jwe"
	run --separate-stderr run_as "$A" e2e-send --to "nobody$BATS_TEST_NUMBER" \
	    "$T/m.jwe"
	client_error e2e-send 67 "no such user"
	run --separate-stderr run_as "$A" e2e-send --legacy \
	    --to "nobody$BATS_TEST_NUMBER" "$T/m.jwe"
	client_error e2e-send 67 "no such user"
}

@test "too many failed sign-ins: the server's 429 is 75, with when to try again" {
	# A backoff far longer than a loaded machine takes between two runs.
	start_own_server --signin-limit 2 --signin-backoff 300
	account "$A"
	printf 'wrong\n' > "$T/bad.pw"
	chmod 600 "$T/bad.pw"
	local i
	for i in 1 2; do
		run --separate-stderr run_as "$A" e2e-account signin "$A" \
		    --password-file "$T/bad.pw"
		client_error e2e-account 77 'wrong name or password'
	done
	run --separate-stderr run_as "$A" e2e-account --retry-time 0 signin \
	    "$A" --password-file "$T/$A.pw"
	client_error e2e-account 75 'sign-in'
	stderr_has '^e2e-account: hint: try again in [0-9]+ s'
}

# ---- e2e-send refuses what is not an envelope ----

@test "e2e-send refuses plaintext, empty input, other JSON, a JWE without its protected header: 65, nothing sent" {
	account "$A"
	account "$B"
	envelope "$A" "$B" "real" > "$T/real.jwe"
	printf 'hello bob, this is plaintext\n' > "$T/p1"
	: > "$T/p2"
	printf '\n \n' > "$T/p3"
	printf '{"to":"bob","text":"hi"}\n' > "$T/p4"
	printf '[1, 2, 3]\n' > "$T/p5"
	printf '"a string"\n' > "$T/p6"
	pycheck '
	d = j(sys.argv[1]); del d["protected"]; print(json.dumps(d))
	' "$T/real.jwe" > "$T/p7"
	pycheck '
	d = j(sys.argv[1]); d["recipients"] = []; print(json.dumps(d))
	' "$T/real.jwe" > "$T/p8"
	# A compact JWE (five dot-separated parts) is not our envelope.
	printf 'eyJhbGciOiJSU0EtT0FFUC0yNTYifQ.a.b.c.d\n' > "$T/p9"
	local f
	for f in p1 p2 p3 p4 p5 p6 p7 p8 p9; do
		run --separate-stderr run_as "$A" e2e-send -v --to "$B" "$T/$f"
		client_error e2e-send 65 'not an envelope'
		stderr_has '^e2e-send: hint: .*e2e-encrypt'
		# -v shows no exchange: nothing reached the server.
		! printf '%s\n' "$stderr" | grep -q '^> ' || {
			echo "$f: $stderr"
			false
		}
	done
	run --separate-stderr run_as "$A" e2e-send --to "$B" < "$T/p1"
	client_error e2e-send 65 'not an envelope'
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# The real one goes.
	run --separate-stderr run_as "$A" e2e-send --to "$B" "$T/real.jwe"
	[ "$status" -eq 0 ]
}

@test "e2e-send: an unreadable input file is 66, one over --max-size 65; two files or no --to are 64" {
	account "$A"
	run --separate-stderr run_as "$A" e2e-send --to "$A" "$T/missing.jwe"
	client_error e2e-send 66 'missing.jwe'
	envelope "$A" "$A" "x" > "$T/m.jwe"
	run --separate-stderr run_as "$A" e2e-send --to "$A" "$T/m.jwe" \
	    "$T/m.jwe"
	client_error e2e-send 64 'more than one'
	run --separate-stderr run_as "$A" e2e-send "$T/m.jwe"
	client_error e2e-send 64 '--to'
	run --separate-stderr run_as "$A" e2e-send --to "$A" --to "$A" \
	    "$T/m.jwe"
	client_error e2e-send 64 'more than once'
	run --separate-stderr run_as "$A" e2e-send --max-size 1K --to "$A" \
	    "$T/m.jwe"
	client_error e2e-send 65 'larger than'
	run --separate-stderr run_as "$A" e2e-recv
	[ -z "$output" ]
}

@test "invalid names: --to 'a b', a 65-character name, --from 'a/b', signin '../x': 64" {
	account "$A"
	envelope "$A" "$A" "x" > "$T/m.jwe"
	local long
	long=$(printf 'n%.0s' $(seq 1 65))
	run --separate-stderr run_as "$A" e2e-send --to 'a b' "$T/m.jwe"
	client_error e2e-send 64 'a name is 1 to 64'
	run --separate-stderr run_as "$A" e2e-send --to "$long" "$T/m.jwe"
	client_error e2e-send 64 'a name is 1 to 64'
	run --separate-stderr run_as "$A" e2e-send --to '' "$T/m.jwe"
	client_error e2e-send 64 'name'
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signup \
	    "$long" --password-file "$T/$A.pw"
	client_error e2e-account 64 'a name is 1 to 64'
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signin \
	    '../x' --password-file "$T/$A.pw"
	client_error e2e-account 64 'a name is 1 to 64'
	run --separate-stderr run_as "$A" e2e-recv --from 'a/b'
	client_error e2e-recv 64 'from'
	# 64 characters is a valid name.
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signup \
	    "${long:1}" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
}

@test "usage errors: bad --retry-time, --limit, --wait, --pin, repeated options, commands: 64" {
	account "$A"
	local v
	for v in -1 abc 3601 1.5 ''; do
		run --separate-stderr run_as "$A" e2e-recv --retry-time "$v"
		client_error e2e-recv 64 'retry-time'
	done
	run --separate-stderr run_as "$A" e2e-recv --wait soon
	client_error e2e-recv 64 '--wait'
	run --separate-stderr run_as "$A" e2e-recv --wait 86401
	client_error e2e-recv 64 '--wait'
	run --separate-stderr run_as "$A" e2e-recv --pin md5//abc
	client_error e2e-recv 64 '--pin'
	run --separate-stderr run_as "$A" e2e-recv --server "$URL" --server "$URL"
	client_error e2e-recv 64 'more than once'
	run --separate-stderr run_as "$A" e2e-recv extra
	client_error e2e-recv 64 'no argument'
	run --separate-stderr run_as "$A" e2e-account
	client_error e2e-account 64 'no command'
	run --separate-stderr run_as "$A" e2e-account frobnicate
	client_error e2e-account 64 'unknown command'
	run --separate-stderr run_as "$A" e2e-account signin
	client_error e2e-account 64 'one NAME'
	run --separate-stderr run_as "$A" e2e-account whoami extra
	client_error e2e-account 64 'no argument'
	run --separate-stderr run_as "$A" e2e-account --yes signin "$A"
	client_error e2e-account 64 '--yes'
	run --separate-stderr run_as "$A" e2e-account whoami \
	    --password-file "$T/$A.pw"
	client_error e2e-account 64 '--password-file'
	run --separate-stderr run_as "$A" e2e-recv --server
	client_error e2e-recv 64 'needs a value'
}

# ---- the server URL (C1) ----

@test "plain http:// to a host that is not loopback is refused at once (64), the hint naming --insecure-http (C1)" {
	account "$A"
	local u tool
	for u in http://192.0.2.1:8080 http://example.com \
	    http://10.0.0.1 http://[2001:db8::1]:80; do
		elapsed_ms run_as "$A" e2e-recv --server "$u"
		client_error e2e-recv 64 "refusing plain http://"
		stderr_has '^e2e-recv: hint: .*--insecure-http'
		[ "$elapsed" -lt 1000 ]
		elapsed_ms run_as "$A" e2e-send --to "$A" --server "$u" \
		    "$T/alice.pub"
		client_error e2e-send 64 "refusing plain http://"
		stderr_has '^e2e-send: hint: .*--insecure-http'
		[ "$elapsed" -lt 1000 ]
		elapsed_ms run_as "$A" e2e-account --server "$u" signin "$A" \
		    --password-file "$T/$A.pw"
		client_error e2e-account 64 "refusing plain http://"
		stderr_has '^e2e-account: hint: .*--insecure-http'
		[ "$elapsed" -lt 1000 ]
	done
	# From E2E_SERVER and the config file too.
	run --separate-stderr env E2E_HOME="$(home_of "$A")" \
	    E2E_SERVER=http://192.0.2.1:8080 e2e-recv
	client_error e2e-recv 64 "refusing plain http://"
	# Loopback is fine: localhost and 127.0.0.0/8.
	run --separate-stderr run_as "$A" e2e-account \
	    --server "http://localhost:$PORT" signin "$A" \
	    --password-file "$T/$A.pw"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	# --insecure-http allows it: 0.0.0.0 is not loopback, yet Linux
	# connects it to this machine, so the server answers.
	run --separate-stderr run_as "$A" e2e-account --retry-time 0 \
	    --server "http://0.0.0.0:$PORT" signin "$A" \
	    --password-file "$T/$A.pw"
	client_error e2e-account 64 "refusing plain http://"
	run --separate-stderr run_as "$A" e2e-account --retry-time 0 \
	    --insecure-http --server "http://0.0.0.0:$PORT" signin "$A" \
	    --password-file "$T/$A.pw"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
}

@test "a server URL with a user, a query or a fragment, or not http(s), is refused (64)" {
	account "$A"
	local u
	for u in "http://$A@127.0.0.1:$PORT" "http://u:p@127.0.0.1:$PORT" \
	    "$URL/?x=1" "$URL/#frag"; do
		run --separate-stderr run_as "$A" e2e-recv --server "$u"
		client_error e2e-recv 64 'no user, query or fragment'
		run --separate-stderr run_as "$A" e2e-account --server "$u" \
		    signin "$A" --password-file "$T/$A.pw"
		client_error e2e-account 64 'no user, query or fragment'
	done
	for u in "ftp://127.0.0.1:$PORT" "file:///etc/passwd" 'not a url'; do
		run --separate-stderr run_as "$A" e2e-recv --server "$u"
		client_error e2e-recv 64 ''
	done
}

@test "a web server that is not e2e-chat's: 76 'not e2e-chat's'" {
	account "$A"
	start_fake_server html
	run --separate-stderr run_as "$A" e2e-account --retry-time 0 \
	    --server "$FAKE_URL" signin "$A" --password-file "$T/$A.pw"
	client_error e2e-account 76 "not e2e-chat's"
	# A session for that server: send and recv.
	session_set "$A" server "\"$FAKE_URL\""
	run --separate-stderr run_as "$A" e2e-recv --retry-time 0
	client_error e2e-recv 76 "not e2e-chat's"
	run --separate-stderr run_as "$A" e2e-send --retry-time 0 --to "$A" \
	    "$T/alice.pub"
	client_error e2e-send 65 'not an envelope'
	envelope "$A" "$A" "x" > "$T/m.jwe"
	run --separate-stderr run_as "$A" e2e-send --retry-time 0 --to "$A" \
	    "$T/m.jwe"
	client_error e2e-send 76 "not e2e-chat's"
	grep -q '^GET /messages' "$T/fake.log"
	grep -q '^POST /messages' "$T/fake.log"
}

@test "a JSON answer of another shape: 76" {
	account "$A"
	start_fake_server json
	run --separate-stderr run_as "$A" e2e-account --retry-time 0 \
	    --server "$FAKE_URL" signin "$A" --password-file "$T/$A.pw"
	client_error e2e-account 76 "not e2e-chat's"
	session_set "$A" server "\"$FAKE_URL\""
	run --separate-stderr run_as "$A" e2e-recv --retry-time 0
	client_error e2e-recv 76 "not e2e-chat's"
}

@test "a server answering 503: retried within --retry-time, then 75" {
	account "$A"
	start_fake_server 503
	session_set "$A" server "\"$FAKE_URL\""
	run --separate-stderr run_as "$A" e2e-recv --retry-time 0
	client_error e2e-recv 75 'failed \(HTTP 503\)'
	[ "$(wc -l < "$T/fake.log")" -eq 1 ]
	: > "$T/fake.log"
	run --separate-stderr run_as "$A" e2e-recv --retry-time 2
	client_error e2e-recv 75 'failed \(HTTP 503\)'
	[ "$(wc -l < "$T/fake.log")" -ge 3 ]
}

@test "a second e2e-recv for the same user while one runs: 75" {
	account "$B"
	env E2E_HOME="$(home_of "$B")" e2e-recv --follow > "$T/out" \
	    2> "$T/err" 3>&- &
	local pid=$!
	BG_PIDS=$pid
	sleep 0.5
	run --separate-stderr run_as "$B" e2e-recv
	client_error e2e-recv 75 'another e2e-recv'
	kill -TERM "$pid"
	wait "$pid"
	BG_PIDS=
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ]
}

# ---- -v (C5) ----

@test "-v shows the exchange with the password and the token masked (C5)" {
	local f pw tok
	f=$(pwfile "$A")
	pw=$(password_of "$A")
	run --separate-stderr run_as "$A" e2e-account -v --server "$URL" \
	    signup "$A" --password-file "$f"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	stderr_has '^> POST /users/signup HTTP'
	stderr_has '^> POST /users/signin HTTP'
	stderr_has '^< HTTP/1.1 200'
	tok=$(token_of "$A")
	[[ "$stderr" != *"$pw"* ]]
	[[ "$stderr" != *"$tok"* ]]
	# Parts of the token (its signature) are not there either.
	[[ "$stderr" != *"${tok##*.}"* ]]
	run --separate-stderr run_as "$A" e2e-account -v signin "$A" \
	    --password-file "$f"
	[ "$status" -eq 0 ]
	stderr_has '^> POST /users/signin HTTP'
	tok=$(token_of "$A")
	[[ "$stderr" != *"$pw"* ]]
	[[ "$stderr" != *"$tok"* ]]
	[[ "$stderr" != *"${tok##*.}"* ]]
	account "$B"
	envelope "$A" "$B" "hi" > "$T/m.jwe"
	run --separate-stderr run_as "$A" e2e-send -v --to "$B" "$T/m.jwe"
	[ "$status" -eq 0 ]
	stderr_has '^> POST /messages HTTP'
	stderr_has '^> Authorization: \*\*\*$'
	[[ "$stderr" != *"$tok"* ]]
	[[ "$stderr" != *"${tok##*.}"* ]]
	run --separate-stderr run_as "$B" e2e-recv -v
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	stderr_has '^> GET /messages\?'
	stderr_has '^> POST /messages/ack HTTP'
	stderr_has '^> Authorization: \*\*\*$'
	tok=$(token_of "$B")
	[[ "$stderr" != *"$tok"* ]]
	[[ "$stderr" != *"${tok##*.}"* ]]
	[[ "$stderr" != *Bearer* ]]
	run --separate-stderr run_as "$B" e2e-account -v delete --yes \
	    --password-file "$T/$B.pw"
	[ "$status" -eq 0 ]
	stderr_has "^> DELETE /users/"
	[[ "$stderr" != *"$tok"* ]]
	# Nor the password the deletion carried (C5).
	[[ "$stderr" != *"$(password_of "$B")"* ]]
	[[ "$stderr" != *Bearer* ]]
}

# ---- --help, --version ----

@test "--help and --version (-h, -V) on every tool: stdout, exit 0" {
	local tool
	for tool in e2e-account e2e-send e2e-recv; do
		help_and_version "$tool"
		[[ "$output" == *--server* ]]
		[[ "$output" == *--retry-time* ]]
		[[ "$output" == *--insecure-http* ]]
	done
	run -0 e2e-account --help
	[[ "$output" == *--password-file* ]]
	[[ "$output" == *--yes* ]]
	run -0 e2e-send --help
	[[ "$output" == *--legacy* ]]
	[[ "$output" == *--to* ]]
	run -0 e2e-recv --help
	local o
	for o in --from --limit --wait --follow --peek --legacy; do
		[[ "$output" == *"$o"* ]]
	done
}

# ---- e2e-recv's standard output fails ----

@test "e2e-recv > /dev/full: 74, and the message is not acknowledged" {
	account "$A"
	account "$B"
	send "$A" "$B" "keep me"
	run --separate-stderr bash -c 'E2E_HOME=$1 e2e-recv > /dev/full' _ \
	    "$(home_of "$B")"
	client_error e2e-recv 74 'standard output'
	# Still there: printed by the next run.
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "${#lines[@]}" -eq 1 ]
	run -0 pyj 'd["id"]' <<< "$output"
	[ "$output" = "$(cat "$T/last.id")" ]
}

@test "e2e-recv with standard output closed: 74, and the message is not acknowledged" {
	account "$A"
	account "$B"
	send "$A" "$B" "keep me too"
	run --separate-stderr bash -c 'E2E_HOME=$1 e2e-recv >&-' _ \
	    "$(home_of "$B")"
	client_error e2e-recv 74 'standard output'
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	run -0 pyj 'd["id"]' <<< "$output"
	[ "$output" = "$(cat "$T/last.id")" ]
}

@test "e2e-account and e2e-send with standard output full: 74" {
	account "$A"
	envelope "$A" "$A" "x" > "$T/m.jwe"
	run --separate-stderr bash -c 'E2E_HOME=$1 e2e-account whoami > /dev/full' \
	    _ "$(home_of "$A")"
	client_error e2e-account 74 'standard output'
	run --separate-stderr bash -c \
	    'E2E_HOME=$1 e2e-send --to "$2" "$3" > /dev/full' _ \
	    "$(home_of "$A")" "$A" "$T/m.jwe"
	client_error e2e-send 74 'standard output'
}
