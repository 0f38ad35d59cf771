#!/usr/bin/env bats
# The client tools over HTTPS (issue 4; catalogue C1, and C5 for -v):
# e2e-account, e2e-send and e2e-recv against a real e2e-server behind
# nginx, which terminates TLS with a certificate from a throwaway CA.
# HTTPS is verified by default (no --cacert: refused), --cacert and
# --pin add trust or narrow it and never switch verification off, and
# plain http:// is allowed only to loopback unless --insecure-http.
# One server and one nginx serve the whole file (setup_file); each test
# uses its own user names and client homes.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load client_helpers
load net_helpers

setup_file() {
	clear_proxy_env
	net_tools_missing nginx && return 0
	start_tls_server
	PIN_GOOD=$(cert_pin "$CERTS/server.pem")
	PIN_OTHER=$(cert_pin "$CERTS/other.pem")
	export PIN_GOOD PIN_OTHER
}

teardown_file() {
	stop_tls_server
}

setup() {
	# Names unique in the file: the server is shared.
	tls_test_setup
}

teardown() {
	kill_bg
}

# account_via_curl NAME: makes NAME's account straight on the server, so
# that a failing client command can only fail for the reason tested.
account_via_curl() {
	as_user "$1"
	signup "$1" "$(password_of "$1")"
}

# tls_refused TOOL: $status 69, nothing on stdout, and TOOL's error line
# names the certificate (or the key pin, for PIN=1).
tls_refused() {
	local what='certificate'
	[ "${PIN:-0}" = 1 ] && what='pin|public key'
	[ "$status" -eq 69 ] || {
		echo "expected exit 69, got $status; stderr: $stderr" >&2
		return 1
	}
	[ -z "$output" ] || {
		echo "stdout not empty: $output" >&2
		return 1
	}
	[[ "$stderr" == "$1: error: "* ]] || {
		echo "no '$1: error:' line: $stderr" >&2
		return 1
	}
	printf '%s\n' "$stderr" | head -n 1 | grep -qiE "$what" || {
		echo "first stderr line does not mention /$what/: $stderr" >&2
		return 1
	}
}

@test "fixture: nginx serves e2e-server over TLS, trusted only with the test CA" {
	# Without the CA: curl's own verification fails (60).
	run curl -sS -o /dev/null "$TLS_URL/messages"
	[ "$status" -eq 60 ] || { echo "curl: $status $output"; false; }
	# With it: the answer is e2e-server's (a JSON error for no token).
	run curl -sS --cacert "$CA" "$TLS_URL/messages"
	[ "$status" -eq 0 ]
	[[ "$output" == '{"error":'* ]]
	run curl -sS --cacert "$CA" -o /dev/null "$TLS_URL_LOCALHOST/messages"
	[ "$status" -eq 0 ]
	# The unrelated certificate does not vouch for the server.
	run curl -sS --cacert "$CERTS/other.pem" -o /dev/null "$TLS_URL/messages"
	[ "$status" -eq 60 ] || { echo "curl: $status $output"; false; }
	# The second port's certificate names another host.
	run curl -sS --cacert "$CA" -o /dev/null "$WRONGNAME_URL/messages"
	[ "$status" -eq 60 ] || { echo "curl: $status $output"; false; }
	# The pins: the right one passes, the other one is refused (90).
	run curl -sS --cacert "$CA" --pinnedpubkey "$PIN_GOOD" -o /dev/null \
	    "$TLS_URL/messages"
	[ "$status" -eq 0 ]
	run curl -sS --cacert "$CA" --pinnedpubkey "$PIN_OTHER" -o /dev/null \
	    "$TLS_URL/messages"
	[ "$status" -eq 90 ]
	[ "$PIN_GOOD" != "$PIN_OTHER" ]
	[[ "$PIN_GOOD" =~ ^sha256//[A-Za-z0-9+/]{43}=$ ]]
}

@test "C1: signin over https without --cacert: exit 69, nothing saved" {
	account_via_curl "$A"
	run --separate-stderr e2e-account --server "$TLS_URL" \
	    signin "$A" --password-file "$T/$A.pw"
	tls_refused e2e-account
	[ ! -e "$E2E_HOME/session" ]
}

@test "C1: signup over https without --cacert: exit 69, no account made" {
	as_user "$A"
	run --separate-stderr e2e-account --server "$TLS_URL" \
	    signup "$A" --password-file "$T/$A.pw"
	tls_refused e2e-account
	[ ! -e "$E2E_HOME/session" ]
	# The name is still free: nothing reached the server.
	signup "$A" "$(password_of "$A")"
}

@test "https with --cacert: signup, signin, send, recv, decrypt" {
	as_user "$A"
	run --separate-stderr e2e-account --server "$TLS_URL" --cacert "$CA" \
	    signup "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	[ "$(jq -r .name <<<"$output")" = "$A" ]
	[ "$(jq -r .server <<<"$output")" = "$TLS_URL" ]
	[[ "$output" != *token* ]]
	[ "$(stat -c %a "$E2E_HOME/session")" = 600 ]
	[ "$(session_field server)" = "$TLS_URL" ]
	# signin again: the server comes from the session.
	run --separate-stderr e2e-account --cacert "$CA" \
	    signin "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	[ "$(jq -r .name <<<"$output")" = "$A" ]
	[ "$(jq -r .server <<<"$output")" = "$TLS_URL" ]

	as_user "$B"
	run --separate-stderr e2e-account --server "$TLS_URL" --cacert "$CA" \
	    signup "$B" --password-file "$T/$B.pw"
	[ "$status" -eq 0 ]

	echo 'over TLS, through nginx' > plain
	e2e-encrypt -r bob.pub -s alice -o msg.jwe plain
	as_user "$A"
	run --separate-stderr e2e-send --cacert "$CA" --to "$B" msg.jwe
	[ "$status" -eq 0 ]
	[ "$(jq -r .to <<<"$output")" = "$B" ]
	[ -n "$(jq -r .id <<<"$output")" ]
	# Verification does not lapse for later commands: the session's
	# https server without --cacert is refused, and nothing is sent.
	run --separate-stderr e2e-send --to "$B" msg.jwe
	tls_refused e2e-send

	as_user "$B"
	run --separate-stderr e2e-recv --cacert "$CA"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
	[ "$(sed -n 1p <<<"$output" | jq -r .from)" = "$A" ]
	[ "$(sed -n 1p <<<"$output" | jq -r .to)" = "$B" ]
	msg_of_line 1 > got.jwe
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub got.jwe
	[ "$status" -eq 0 ]
	[ "$output" = 'over TLS, through nginx' ]
	# Acknowledged: nothing more (and e2e-recv without --cacert is refused).
	run --separate-stderr e2e-recv --cacert "$CA"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run --separate-stderr e2e-recv
	tls_refused e2e-recv
}

@test "C1: --cacert with an unrelated self-signed certificate: exit 69" {
	account_via_curl "$A"
	run --separate-stderr e2e-account --server "$TLS_URL" \
	    --cacert "$CERTS/other.pem" signin "$A" --password-file "$T/$A.pw"
	tls_refused e2e-account
	[ ! -e "$E2E_HOME/session" ]
}

@test "--cacert naming a file that does not exist: exit 66, naming it" {
	account_via_curl "$A"
	run --separate-stderr e2e-account --server "$TLS_URL" \
	    --cacert "$T/no-such-ca.pem" signin "$A" --password-file "$T/$A.pw"
	echo "exit $status: $stderr"
	# Fails closed whatever the code; the code is 66 (an input file
	# cannot be read, client-spec.md), not 69 (the server's fault).
	[ "$status" -ne 0 ]
	[ -z "$output" ]
	[ ! -e "$E2E_HOME/session" ]
	[[ "$stderr" == "e2e-account: error: "*no-such-ca.pem* ]]
	[ "$status" -eq 66 ]
}

@test "C1: a certificate for another host name, from the trusted CA: exit 69" {
	account_via_curl "$A"
	run --separate-stderr e2e-account --server "$WRONGNAME_URL" \
	    --cacert "$CA" signin "$A" --password-file "$T/$A.pw"
	tls_refused e2e-account
	[ ! -e "$E2E_HOME/session" ]
}

@test "C1: a redirect from the https server (to plain http) is not followed" {
	account_via_curl "$A"
	# The fixture: curl -L would follow it to the plain backend.
	run curl -sS --cacert "$CA" -o /dev/null -w '%{http_code} %{redirect_url}' \
	    "$TLS_URL/moved/messages"
	[ "$output" = "307 $URL/messages" ]
	run --separate-stderr e2e-account --server "$TLS_URL/moved" \
	    --cacert "$CA" --retry-time 0 signin "$A" \
	    --password-file "$T/$A.pw"
	# A 307 is not an answer of the protocol (76).
	[ "$status" -eq 76 ]
	[ -z "$output" ]
	[[ "$stderr" == "e2e-account: error: "* ]]
	[ ! -e "$E2E_HOME/session" ]
}

@test "http:// to the TLS port, https:// to the plain port: refused, nothing saved" {
	account_via_curl "$A"
	# nginx answers plain HTTP on its TLS port with an HTML 400: not
	# e2e-chat's protocol (76).
	run --separate-stderr e2e-account --server "http://127.0.0.1:$TLS_PORT" \
	    --retry-time 0 signin "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 76 ]
	[ -z "$output" ]
	[[ "$stderr" == "e2e-account: error: "* ]]
	[ ! -e "$E2E_HOME/session" ]
	# A TLS handshake with a plain HTTP server cannot succeed (75).
	run --separate-stderr e2e-account --server "https://127.0.0.1:$PORT" \
	    --cacert "$CA" --retry-time 0 signin "$A" \
	    --password-file "$T/$A.pw"
	[ "$status" -eq 75 ]
	[ -z "$output" ]
	[[ "$stderr" == "e2e-account: error: "* ]]
	[ ! -e "$E2E_HOME/session" ]
}

@test "https://localhost:PORT verifies the DNS name of the certificate" {
	account_via_curl "$A"
	run --separate-stderr e2e-account --server "$TLS_URL_LOCALHOST" \
	    --cacert "$CA" signin "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	[ "$(jq -r .server <<<"$output")" = "$TLS_URL_LOCALHOST" ]
	# The same name without the CA is still refused.
	rm -f "$E2E_HOME/session"
	run --separate-stderr e2e-account --server "$TLS_URL_LOCALHOST" \
	    signin "$A" --password-file "$T/$A.pw"
	tls_refused e2e-account
}

@test "--pin with the server's key and --cacert: works; in a ';' list too" {
	account_via_curl "$A"
	run --separate-stderr e2e-account --server "$TLS_URL" --cacert "$CA" \
	    --pin "$PIN_GOOD" signin "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	[ "$(jq -r .name <<<"$output")" = "$A" ]
	# One right pin among several is enough (libcurl's syntax).
	run --separate-stderr e2e-account --server "$TLS_URL" --cacert "$CA" \
	    --pin "$PIN_OTHER;$PIN_GOOD" signin "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	# The pin holds for e2e-recv as well.
	run --separate-stderr e2e-recv --cacert "$CA" --pin "$PIN_GOOD"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "C1: a wrong --pin (the CA trusted): exit 69, nothing saved" {
	account_via_curl "$A"
	run --separate-stderr e2e-account --server "$TLS_URL" --cacert "$CA" \
	    --pin "$PIN_OTHER" signin "$A" --password-file "$T/$A.pw"
	PIN=1 tls_refused e2e-account
	[ ! -e "$E2E_HOME/session" ]
	# And for e2e-recv with a valid session.
	run --separate-stderr e2e-account --server "$TLS_URL" --cacert "$CA" \
	    signin "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	run --separate-stderr e2e-recv --cacert "$CA" --pin "$PIN_OTHER"
	PIN=1 tls_refused e2e-recv
}

@test "C1: the right --pin without --cacert does not switch verification off" {
	account_via_curl "$A"
	run --separate-stderr e2e-account --server "$TLS_URL" \
	    --pin "$PIN_GOOD" signin "$A" --password-file "$T/$A.pw"
	tls_refused e2e-account
	[ ! -e "$E2E_HOME/session" ]
}

@test "config: server, cacert and pin from \$E2E_HOME/config" {
	account_via_curl "$A"
	mkdir -m 700 "$E2E_HOME"
	printf '%s\n' '# test CA' "server = $TLS_URL" "cacert = $CA" \
	    > "$E2E_HOME/config"
	chmod 600 "$E2E_HOME/config"
	run --separate-stderr e2e-account signin "$A" \
	    --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	[ "$(jq -r .server <<<"$output")" = "$TLS_URL" ]
	run --separate-stderr e2e-recv
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# The option wins over the file: an untrusting --cacert fails.
	run --separate-stderr e2e-recv --cacert "$CERTS/other.pem"
	tls_refused e2e-recv
	# A wrong pin in the file is enforced.
	echo "pin = $PIN_OTHER" >> "$E2E_HOME/config"
	run --separate-stderr e2e-recv
	PIN=1 tls_refused e2e-recv
	# And the right one passes.
	sed -i "s|^pin = .*|pin = $PIN_GOOD|" "$E2E_HOME/config"
	run --separate-stderr e2e-recv
	[ "$status" -eq 0 ]
	# Without the cacert line, the server is not trusted any more.
	sed -i '/^cacert/d;/^pin/d' "$E2E_HOME/config"
	run --separate-stderr e2e-account signin "$A" \
	    --password-file "$T/$A.pw"
	tls_refused e2e-account
}

@test "E2E_SERVER names the https server like --server" {
	account_via_curl "$A"
	E2E_SERVER=$TLS_URL run --separate-stderr e2e-account --cacert "$CA" \
	    signin "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	[ "$(jq -r .server <<<"$output")" = "$TLS_URL" ]
	E2E_SERVER=$TLS_URL run --separate-stderr e2e-account \
	    signin "$A" --password-file "$T/$A.pw"
	tls_refused e2e-account
}

@test "plain http:// to 127.0.0.1 needs no --insecure-http" {
	account_via_curl "$A"
	run --separate-stderr e2e-account --server "$URL" \
	    signin "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	[ "$(jq -r .server <<<"$output")" = "$URL" ]
}

# refused_fast URL: e2e-account signin to URL exits 64 within 3 s (so
# before any connection), stdout empty, with its error line.
refused_fast() {
	local t0 t1
	t0=$(date +%s%N)
	run --separate-stderr timeout 20 e2e-account --server "$1" \
	    signin "$A" --password-file "$T/$A.pw"
	t1=$(date +%s%N)
	[ "$status" -eq 64 ] || {
		echo "$1: expected 64, got $status: $stderr" >&2
		return 1
	}
	[ -z "$output" ]
	[[ "$stderr" == "e2e-account: error: "* ]]
	[ $(((t1 - t0) / 1000000)) -lt 3000 ] || {
		echo "$1: took $(((t1 - t0) / 1000000)) ms" >&2
		return 1
	}
	[ ! -e "$E2E_HOME/session" ]
}

@test "C1: http:// to a non-loopback host: exit 64 at once, naming --insecure-http" {
	as_user "$A"
	local u
	for u in http://192.0.2.1:1 http://example.com HTTP://192.0.2.1:1/ \
	    http://127.0.0.1.example.com:1/ http://[2001:db8::1]:1/; do
		refused_fast "$u"
		[[ "$stderr" == *--insecure-http* ]] || {
			echo "$u: no --insecure-http in: $stderr" >&2
			return 1
		}
	done
	# signup likewise.
	run --separate-stderr timeout 20 e2e-account --server \
	    http://192.0.2.1:1 signup "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 64 ]
	[ -z "$output" ]
	[[ "$stderr" == *--insecure-http* ]]
}

@test "C1: URLs that only look loopback (user part, fragment): exit 64 at once" {
	as_user "$A"
	local u
	for u in http://127.0.0.1@192.0.2.1:1/ http://example.com/#@127.0.0.1 \
	    'http://example.com\@127.0.0.1:1/'; do
		refused_fast "$u"
	done
}

@test "C1: --insecure-http to an unreachable http:// host: it tries, exit 75" {
	as_user "$A"
	local t0 t1
	t0=$(date +%s)
	run --separate-stderr timeout 30 e2e-account --server \
	    http://192.0.2.1:1 --insecure-http --retry-time 0 \
	    signin "$A" --password-file "$T/$A.pw"
	t1=$(date +%s)
	[ "$status" -eq 75 ]
	[ -z "$output" ]
	[[ "$stderr" == "e2e-account: error: "* ]]
	[[ "$stderr" != *--insecure-http* ]]
	[ $((t1 - t0)) -lt 30 ]
	[ ! -e "$E2E_HOME/session" ]
}

@test "C1: http:// to this host's own non-loopback address: 64, not one request; --insecure-http reaches it" {
	local ip
	ip=$(hostname -I 2>/dev/null | tr ' ' '\n' |
	    grep -E '^[0-9]+(\.[0-9]+){3}$' | grep -v '^127\.' | head -n 1)
	[ -n "$ip" ] || skip "this host has no non-loopback IPv4 address"
	# A second e2e-server, with its request log, on that address.
	e2e-server --listen "$ip:0" --db "$T/extra.db" --bcrypt-cost 4 \
	    > "$T/extra.port" 2> "$T/extra.log" 3>&- &
	BG_PIDS=$!
	local xport xurl
	xport=$(wait_for_port_file "$BG_PIDS" "$T/extra.port" \
	    "the second e2e-server")
	xurl="http://$ip:$xport"
	as_user "$A"
	run --separate-stderr e2e-account --server "$xurl" \
	    signup "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 64 ]
	[ -z "$output" ]
	[[ "$stderr" == *--insecure-http* ]]
	# The server saw nothing (its log has a line per request).
	[ "$(grep -c users "$T/extra.log")" -eq 0 ]
	run --separate-stderr e2e-account --server "$xurl" --insecure-http \
	    signup "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	[ "$(jq -r .server <<<"$output")" = "$xurl" ]
	grep -q users "$T/extra.log"
}

@test "C5: -v over TLS shows the exchange, never the password or the token" {
	local pa pb tok all=''
	pa=$(password_of "$A")
	pb=$(password_of "$B")
	as_user "$B"
	run --separate-stderr e2e-account -v --server "$TLS_URL" \
	    --cacert "$CA" signup "$B" --password-file "$T/$B.pw"
	[ "$status" -eq 0 ]
	all+=$stderr
	[[ "$stderr" == */users/signup* ]]
	[[ "$stderr" == */users/signin* ]]
	tok=$(session_field token)
	[ -n "$tok" ] && [ "$tok" != null ]
	[[ "$stderr" != *"$tok"* ]]
	[[ "$stderr" != *"${tok##*.}"* ]]

	as_user "$A"
	run --separate-stderr e2e-account -v --server "$TLS_URL" \
	    --cacert "$CA" signup "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	all+=$stderr
	run --separate-stderr e2e-account --verbose --cacert "$CA" \
	    signin "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	all+=$stderr
	[[ "$stderr" == */users/signin* ]]
	tok=$(session_field token)
	[[ "$stderr" != *"${tok##*.}"* ]]

	echo secret > plain
	e2e-encrypt -r bob.pub -s alice -o msg.jwe plain
	run --separate-stderr e2e-send -v --cacert "$CA" --to "$B" msg.jwe
	[ "$status" -eq 0 ]
	all+=$stderr
	[[ "$stderr" == */messages* ]]
	[[ "$stderr" == *'***'* ]]
	[[ "$stderr" != *"${tok##*.}"* ]]
	as_user "$B"
	run --separate-stderr e2e-recv -v --cacert "$CA"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
	all+=$stderr
	[[ "$stderr" == */messages* ]]
	[[ "$stderr" == *'***'* ]]
	tok=$(session_field token)
	[[ "$stderr" != *"${tok##*.}"* ]]

	# Over everything: no password, and nothing shaped like a token.
	[[ "$all" != *"$pa"* ]]
	[[ "$all" != *"$pb"* ]]
	[ "$(grep -cE 'eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}' <<<"$all")" -eq 0 ]
}

@test "https: a 4 MB envelope goes through nginx and back" {
	local u
	for u in "$A" "$B"; do
		as_user "$u"
		run --separate-stderr e2e-account --server "$TLS_URL" \
		    --cacert "$CA" signup "$u" --password-file "$T/$u.pw"
		[ "$status" -eq 0 ]
	done
	# Unsigned: 3,000,000 bytes make a 4.0 MB envelope, just under the
	# server's 4 MiB body limit.
	head -c 3000000 /dev/urandom > big
	e2e-encrypt -r bob.pub -o big.jwe big
	[ "$(stat -c %s big.jwe)" -gt 4000000 ]
	as_user "$A"
	run --separate-stderr e2e-send --cacert "$CA" --to "$B" big.jwe
	[ "$status" -eq 0 ]
	as_user "$B"
	run --separate-stderr e2e-recv --cacert "$CA"
	[ "$status" -eq 0 ]
	msg_of_line 1 > got.jwe
	e2e-decrypt -i bob -o got got.jwe
	cmp big got
}

@test "https: a long-poll through nginx wakes up when a message arrives" {
	local u
	for u in "$A" "$B"; do
		as_user "$u"
		run --separate-stderr e2e-account --server "$TLS_URL" \
		    --cacert "$CA" signup "$u" --password-file "$T/$u.pw"
		[ "$status" -eq 0 ]
	done
	echo 'woken up' > plain
	e2e-encrypt -r bob.pub -o msg.jwe plain
	as_user "$B"
	local t0 t1 pid
	t0=$(date +%s%N)
	e2e-recv --cacert "$CA" --wait 20 --limit 1 > got.txt 2> recv.err 3>&- &
	pid=$!
	sleep 1
	# Still waiting: nothing there yet.
	kill -0 "$pid"
	as_user "$A"
	run --separate-stderr e2e-send --cacert "$CA" --to "$B" msg.jwe
	[ "$status" -eq 0 ]
	wait "$pid"
	t1=$(date +%s%N)
	# Well before the 20 s wait ran out.
	[ $(((t1 - t0) / 1000000)) -lt 10000 ]
	output=$(cat got.txt)
	[ "$(jq -r .from <<<"$output")" = "$A" ]
	msg_of_line 1 > got.jwe
	run --separate-stderr e2e-decrypt -i bob got.jwe
	[ "$status" -eq 0 ]
	[ "$output" = 'woken up' ]
}
