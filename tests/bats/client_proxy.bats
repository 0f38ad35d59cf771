#!/usr/bin/env bats
# The client tools through a SOCKS5 proxy (issue 4): microsocks on a free
# loopback port, e2e-server behind it (plain http on loopback, and https
# through nginx). The proxy comes from --proxy, from `proxy =` in the
# config, or from libcurl's environment variables (all_proxy, https_proxy,
# no_proxy). microsocks logs every connection it makes ("connected to
# HOST:PORT"), so each test proves the traffic went through it, and for
# socks5h that the proxy, not the client, resolved the host name.
# One server and one nginx per file; one microsocks per test.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load client_helpers
load net_helpers

setup_file() {
	clear_proxy_env
	net_tools_missing nginx microsocks && return 0
	start_tls_server
}

teardown_file() {
	stop_tls_server
}

setup() {
	tls_test_setup
	start_socks
	PX=127.0.0.1:$SOCKS_PORT
}

teardown() {
	stop_socks
	# A server of the test's own (the file's is in setup_file).
	[ -z "${OWN_PID:-}" ] || { kill -KILL "$OWN_PID"; wait "$OWN_PID"; } 2>/dev/null
	true
}

# flow SERVER [common options...]: alice and bob sign up, alice sends bob
# an envelope, bob receives and decrypts it; every tool gets the options.
flow() {
	local srv=$1
	shift
	as_user "$A"
	run --separate-stderr e2e-account --server "$srv" "$@" \
	    signup "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ] || { echo "signup $A: $status $stderr" >&2; return 1; }
	as_user "$B"
	run --separate-stderr e2e-account --server "$srv" "$@" \
	    signup "$B" --password-file "$T/$B.pw"
	[ "$status" -eq 0 ] || { echo "signup $B: $status $stderr" >&2; return 1; }
	echo "through the proxy: $*" > plain
	e2e-encrypt -r bob.pub -s alice -o msg.jwe plain
	as_user "$A"
	run --separate-stderr e2e-send "$@" --to "$B" msg.jwe
	[ "$status" -eq 0 ] || { echo "send: $status $stderr" >&2; return 1; }
	[ "$(jq -r .to <<<"$output")" = "$B" ]
	as_user "$B"
	run --separate-stderr e2e-recv "$@"
	[ "$status" -eq 0 ] || { echo "recv: $status $stderr" >&2; return 1; }
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
	[ "$(jq -r .from <<<"$output")" = "$A" ]
	msg_of_line 1 > got.jwe
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub got.jwe
	[ "$status" -eq 0 ]
	[ "$output" = "through the proxy: $*" ]
}

# cannot_connect TOOL: $status 75, empty stdout, TOOL's error line.
cannot_connect() {
	[ "$status" -eq 75 ] || {
		echo "expected exit 75, got $status; stderr: $stderr" >&2
		return 1
	}
	[ -z "$output" ]
	[[ "$stderr" == "$1: error: "* ]]
	head -n 1 <<<"$stderr" | grep -qiE 'reach|connect'
}

@test "fixture: microsocks forwards, and logs who resolved the name" {
	run curl -sS --cacert "$CA" -x "socks5h://$PX" -o /dev/null \
	    "$TLS_URL_LOCALHOST/messages"
	[ "$status" -eq 0 ]
	[ "$(socks_seen "localhost:$TLS_PORT")" -eq 1 ]
	run curl -sS -x "socks5://$PX" -o /dev/null "$URL/messages"
	[ "$status" -eq 0 ]
	[ "$(socks_seen "127.0.0.1:$PORT")" -eq 1 ]
	stop_socks
	run curl -sS -x "socks5h://$PX" -o /dev/null "$URL/messages"
	[ "$status" -eq 7 ]
}

@test "--proxy socks5h://: the whole flow, every tool through the proxy" {
	flow "$URL" --proxy "socks5h://$PX"
	# signup x2, send, recv, at least one connection each.
	[ "$(socks_seen "127.0.0.1:$PORT")" -ge 4 ]
	# Proof: with the proxy gone the same command cannot connect...
	stop_socks
	as_user "$B"
	run --separate-stderr e2e-recv --proxy "socks5h://$PX" --retry-time 0
	cannot_connect e2e-recv
	as_user "$A"
	run --separate-stderr e2e-send --proxy "socks5h://$PX" \
	    --retry-time 0 --to "$B" msg.jwe
	cannot_connect e2e-send
	run --separate-stderr e2e-account --proxy "socks5h://$PX" \
	    --retry-time 0 signin "$A" --password-file "$T/$A.pw"
	cannot_connect e2e-account
	# ...while without it, it works.
	run --separate-stderr e2e-account signin "$A" \
	    --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	as_user "$B"
	run --separate-stderr e2e-recv --retry-time 0
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "--proxy socks5://: the whole flow through the proxy" {
	flow "$URL" --proxy "socks5://$PX"
	[ "$(socks_seen "127.0.0.1:$PORT")" -ge 4 ]
	stop_socks
	run --separate-stderr e2e-recv --proxy "socks5://$PX" --retry-time 0
	cannot_connect e2e-recv
}

@test "SECURITY through socks5h the server sees the proxy's address, never the client's, and the proxy resolves the server's name" {
	# The proxy's connections leave from 127.0.0.3; the client's come
	# from 127.0.0.1. A server of the test's own, with its request log.
	stop_socks
	SOCKS_BIND=127.0.0.3 start_socks
	PX=127.0.0.1:$SOCKS_PORT
	SERVER_DB=$T/own.db
	start_server --signup-limit 100000 3>&-
	OWN_PID=$SERVER_PID
	flow "http://localhost:$PORT" --proxy "socks5h://$PX"
	# The name went to the proxy, which resolved it.
	[ "$(socks_seen "localhost:$PORT")" -ge 4 ]
	[ "$(socks_seen "127.0.0.1:$PORT")" -eq 0 ]
	# Every request the server logged came from the proxy's address.
	run -0 grep -cE '^127\.0\.0\.3 (GET|POST|PUT|DELETE) ' "$SERVER_LOG"
	[ "$output" -ge 4 ] || fail "$(cat "$SERVER_LOG")"
	run -1 grep -vE '^127\.0\.0\.3 ' "$SERVER_LOG"
}

@test "socks5h + https + --cacert: the whole flow, the proxy resolves the name" {
	flow "$TLS_URL_LOCALHOST" --proxy "socks5h://$PX" --cacert "$CA"
	[ "$(socks_seen "localhost:$TLS_PORT")" -ge 4 ]
	# The client never resolved "localhost" itself.
	[ "$(socks_seen "127.0.0.1:$TLS_PORT")" -eq 0 ]
	# The certificate is still checked through the tunnel.
	as_user "$B"
	run --separate-stderr e2e-recv --proxy "socks5h://$PX" \
	    --retry-time 0
	[ "$status" -eq 69 ]
	[ -z "$output" ]
	[[ "$stderr" == "e2e-recv: error: "* ]]
	grep -qi certificate <<<"$stderr"
	run --separate-stderr e2e-recv --proxy "socks5h://$PX" \
	    --cacert "$CERTS/other.pem" --retry-time 0
	[ "$status" -eq 69 ]
	[ -z "$output" ]
}

@test "socks5 + https://127.0.0.1 + --cacert: the whole flow" {
	flow "$TLS_URL" --proxy "socks5://$PX" --cacert "$CA"
	[ "$(socks_seen "127.0.0.1:$TLS_PORT")" -ge 4 ]
}

@test "ALL_PROXY / all_proxy=socks5h:// without --proxy" {
	export ALL_PROXY="socks5h://$PX"
	flow "$URL"
	[ "$(socks_seen "127.0.0.1:$PORT")" -ge 4 ]
	unset ALL_PROXY
	export all_proxy="socks5h://$PX"
	local n
	n=$(socks_seen "127.0.0.1:$PORT")
	run --separate-stderr e2e-recv
	[ "$status" -eq 0 ]
	[ "$(socks_seen "127.0.0.1:$PORT")" -gt "$n" ]
	# The variable really is what routes it: the proxy gone, 75.
	stop_socks
	run --separate-stderr e2e-recv --retry-time 0
	cannot_connect e2e-recv
	unset all_proxy
	run --separate-stderr e2e-recv --retry-time 0
	[ "$status" -eq 0 ]
}

@test "https_proxy=socks5h:// for an https server, with --cacert" {
	export https_proxy="socks5h://$PX"
	flow "$TLS_URL_LOCALHOST" --cacert "$CA"
	[ "$(socks_seen "localhost:$TLS_PORT")" -ge 4 ]
	[ "$(socks_seen "127.0.0.1:$TLS_PORT")" -eq 0 ]
}

@test "no_proxy / NO_PROXY: the named host skips the proxy" {
	as_user "$A"
	signup "$A" "$(password_of "$A")"
	stop_socks
	# A proxy that is not there: used, it fails.
	export ALL_PROXY="socks5h://$PX"
	run --separate-stderr e2e-account --server "$URL" --retry-time 0 \
	    signin "$A" --password-file "$T/$A.pw"
	cannot_connect e2e-account
	NO_PROXY=127.0.0.1 run --separate-stderr e2e-account \
	    --server "$URL" --retry-time 0 signin "$A" \
	    --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	no_proxy=127.0.0.1 run --separate-stderr e2e-account \
	    --server "$URL" --retry-time 0 signin "$A" \
	    --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
}

@test "--proxy wins over the environment" {
	export ALL_PROXY="socks5h://127.0.0.1:1"
	flow "$URL" --proxy "socks5h://$PX"
	[ "$(socks_seen "127.0.0.1:$PORT")" -ge 4 ]
}

@test "proxy = URL in \$E2E_HOME/config" {
	as_user "$A"
	signup "$A" "$(password_of "$A")"
	mkdir -m 700 "$E2E_HOME"
	printf '%s\n' "server = $TLS_URL_LOCALHOST" "cacert = $CA" \
	    "proxy = socks5h://$PX" > "$E2E_HOME/config"
	chmod 600 "$E2E_HOME/config"
	run --separate-stderr e2e-account signin "$A" \
	    --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	run --separate-stderr e2e-recv
	[ "$status" -eq 0 ]
	[ "$(socks_seen "localhost:$TLS_PORT")" -ge 2 ]
	stop_socks
	run --separate-stderr e2e-recv --retry-time 0
	cannot_connect e2e-recv
}

@test "SOCKS5 with a user and password; -v never shows the proxy's password" {
	stop_socks
	start_socks proxyuser 'Sx-pr0xy-secret'
	PX=127.0.0.1:$SOCKS_PORT
	as_user "$A"
	signup "$A" "$(password_of "$A")"
	run --separate-stderr e2e-account -v --server "$URL" \
	    --proxy "socks5h://proxyuser:Sx-pr0xy-secret@$PX" \
	    signin "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	[ "$(socks_seen "127.0.0.1:$PORT")" -ge 1 ]
	[[ "$stderr" != *Sx-pr0xy-secret* ]]
	[[ "$stderr" != *"$(password_of "$A")"* ]]
	# Without the credentials, or with wrong ones, the proxy refuses
	# and there is no way around it: the server cannot be reached (75).
	rm -f "$E2E_HOME/session"
	run --separate-stderr e2e-account --server "$URL" --retry-time 0 \
	    --proxy "socks5h://$PX" signin "$A" --password-file "$T/$A.pw"
	cannot_connect e2e-account
	[ ! -e "$E2E_HOME/session" ]
	run --separate-stderr e2e-account --server "$URL" --retry-time 0 \
	    --proxy "socks5h://proxyuser:wrong@$PX" signin "$A" \
	    --password-file "$T/$A.pw"
	cannot_connect e2e-account
	[ ! -e "$E2E_HOME/session" ]
}

@test "C1: http:// to a non-loopback host through the proxy: still 64, proxy untouched" {
	as_user "$A"
	run --separate-stderr timeout 20 e2e-account --proxy "socks5h://$PX" \
	    --server http://example.com signin "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 64 ]
	[ -z "$output" ]
	[[ "$stderr" == *--insecure-http* ]]
	[ ! -s "$SOCKS_LOG" ]
}

@test "a --proxy scheme libcurl does not know: exit 64 at once, not retried" {
	as_user "$A"
	signup "$A" "$(password_of "$A")"
	local t0 t1
	t0=$(date +%s%N)
	# The default --retry-time (10 s): a typo is not worth retrying.
	run --separate-stderr timeout 30 e2e-account --server "$URL" \
	    --proxy "sock5h://$PX" signin "$A" --password-file "$T/$A.pw"
	t1=$(date +%s%N)
	echo "exit $status after $(((t1 - t0) / 1000000)) ms: $stderr"
	[ "$status" -eq 64 ]
	[ -z "$output" ]
	[[ "$stderr" == "e2e-account: error: "* ]]
	grep -qi proxy <<<"$stderr"
	[ $(((t1 - t0) / 1000000)) -lt 3000 ]
	[ ! -e "$E2E_HOME/session" ]
}

@test "--server naming the SOCKS port (not HTTP at all): exit 76, not a usage error" {
	as_user "$A"
	run --separate-stderr e2e-account --server "http://127.0.0.1:$SOCKS_PORT" \
	    --retry-time 0 signin "$A" --password-file "$T/$A.pw"
	echo "exit $status: $stderr"
	# "the answer is not e2e-chat's protocol" (client-spec.md); 64 is
	# for a wrong command line, decided before connecting.
	[ "$status" -eq 76 ]
	[ -z "$output" ]
	[[ "$stderr" == "e2e-account: error: "* ]]
	[ ! -e "$E2E_HOME/session" ]
}
