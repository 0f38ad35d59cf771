#!/usr/bin/env bats
# A server run as a Tor onion service (docs/DEPLOY.md): plain http:// to
# a .onion name is accepted without --insecure-http when it goes through
# Tor's SOCKS port on this machine as socks5h:// (Tor encrypts the whole
# way, and the name is the service's key); anything else is refused (78)
# before a connection is made. onion_socks.py stands in for Tor: SOCKS5
# by name only, every .onion name connected to the test's e2e-server,
# every request logged.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load client_helpers

ONION=e2echatxxvqmnd7wbdr3ko2zzu5yitg4tc2ngaeozy7hhqihgbjvfkqd.onion

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
	: > "$T/socks.log"
	"$PYTHON" "$BATS_TEST_DIRNAME/onion_socks.py" "$T/socks.port" \
	    "$T/socks.log" "$PORT" 3>&- &
	SOCKS_PID=$!
	SP=$(wait_for_port_file "$SOCKS_PID" "$T/socks.port" "onion_socks.py")
	TOR=socks5h://127.0.0.1:$SP
}

teardown() {
	kill "$SOCKS_PID" 2>/dev/null || true
	wait "$SOCKS_PID" 2>/dev/null || true
	stop_own_server
}

@test "a .onion server through socks5h on this machine: plain http without --insecure-http, the name resolved by the proxy, the whole flow" {
	local srv=http://$ONION
	run -0 run_as "$A" e2e-account --server "$srv" --proxy "$TOR" \
	    signup "$A" --password-file "$(pwfile "$A")"
	run -0 run_as "$B" e2e-account --server "$srv" --proxy "$TOR" \
	    signup "$B" --password-file "$(pwfile "$B")"
	envelope alice bob 'through tor' > "$T/m.jwe"
	run -0 run_as "$A" e2e-send --server "$srv" --proxy "$TOR" \
	    --to "$B" "$T/m.jwe"
	run -0 run_as "$B" e2e-recv --server "$srv" --proxy "$TOR"
	[ "$(jq -r .from <<<"$output")" = "$A" ]
	# Every connection went through the proxy, by name.
	grep -qx "name $ONION:80" "$T/socks.log"
	[ -z "$(grep -v "^name $ONION:80\$" "$T/socks.log")" ]
	# The proxy from the environment (all_proxy) and from the config
	# file serves as well as --proxy.
	run -0 env all_proxy="$TOR" E2E_HOME="$(home_of "$A")" \
	    e2e-account --server "$srv" whoami
	printf 'server = %s\nproxy = %s\n' "$srv" "$TOR" \
	    > "$(home_of "$B")/config"
	run -0 run_as "$B" e2e-account whoami
}

@test "a .onion server without a proxy, through socks5:// (names resolved here), or through a proxy elsewhere: refused (78) before any connection, with the hint" {
	local srv=http://$ONION proxy
	pwfile "$A" > /dev/null
	run --separate-stderr run_as "$A" e2e-account --server "$srv" \
	    signup "$A" --password-file "$T/$A.pw"
	assert_failure 78
	[ "${stderr_lines[0]}" = "e2e-account: error: $ONION is a Tor onion service: it is reached through Tor's SOCKS port on this machine, as socks5h://" ]
	[[ "${stderr_lines[1]}" == *"--proxy socks5h://127.0.0.1:9050"* ]]
	for proxy in "socks5://127.0.0.1:$SP" "socks5h://192.0.2.1:9050" \
	    "http://127.0.0.1:$SP"; do
		run --separate-stderr run_as "$A" e2e-account --server "$srv" \
		    --proxy "$proxy" signup "$A" --password-file "$T/$A.pw"
		[ "$status" -eq 78 ] || fail "$proxy: $status $stderr"
		[[ "$stderr" == *"Tor onion service"* ]] || fail "$proxy: $stderr"
	done
	# no_proxy naming the service takes the proxy away: refused too.
	run --separate-stderr env no_proxy=.onion E2E_HOME="$(home_of "$A")" \
	    e2e-account --server "$srv" --proxy "$TOR" signup "$A" \
	    --password-file "$T/$A.pw"
	assert_failure 78
	# Not one request reached the proxy.
	[ ! -s "$T/socks.log" ]
	# --insecure-http still lets the user decide, as for any host.
	run -0 run_as "$A" e2e-account --server "$srv" --proxy "$TOR" \
	    --insecure-http signup "$A" --password-file "$T/$A.pw"
	grep -qx "name $ONION:80" "$T/socks.log"
}

@test "a name that only ends like an onion service is not one: plain http to it is refused (64) as to any host" {
	local srv
	pwfile "$A" > /dev/null
	for srv in http://example.onion.example.com http://xonion; do
		run --separate-stderr run_as "$A" e2e-account --server "$srv" \
		    --proxy "$TOR" signup "$A" --password-file "$T/$A.pw"
		[ "$status" -eq 64 ] || fail "$srv: $status $stderr"
		[[ "$stderr" == *"refusing plain http://"* ]] || fail "$stderr"
	done
	[ ! -s "$T/socks.log" ]
}
