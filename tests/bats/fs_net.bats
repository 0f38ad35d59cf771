#!/usr/bin/env bats
# Forward secrecy through a real e2e-server (issue 16, the client's
# network side): e2e-keys prekeys publishes and tops up the stock,
# e2e-keys claim checks each claimed prekey's proof against the pinned
# identity key, e2e-encrypt -r NAME claims by itself (unless --no-fs),
# and e2e-recv | e2e-decrypt reads, uses and erases the prekey.
#
# Catalogue: A13 (draining a stock falls back to the signed prekey);
# a server that hands out a prekey of its own making is caught (65).
#
# Each test has its own server and database.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load client_helpers
load keys_helpers

setup() {
	common_setup
	fixed_keys
	test_names_keys
	mkdir -p "$T/w"
	cd "$T/w" || return 1
}

teardown() {
	stop_own_server
}

# two_users: a server; alice and bob signed up with their keys published
# (the config's identity); bob's first prekeys published (--count N,
# default 4, kept small for speed).
two_users() {
	start_own_server "$@"
	user "$A" "$T/$A"
	user "$B" "$T/$B"
	run_as "$B" e2e-keys prekeys --count "${COUNT:-4}" > "$T/pub.json"
}

# stock NAME: the one-time stock NAME's key has on the server.
stock() {
	run_as "$1" curl -s -S -H "Authorization: Bearer $(token_of "$1")" \
	    "$URL/prekeys" | jq -r '.keys[0].one_time'
}

# private_prekeys NAME: the number of one-time private prekeys NAME holds.
private_prekeys() {
	jq '[.identities[].one_time[]] | length' "$(home_of "$1")/prekeys.json"
}

@test "FS net: e2e-keys prekeys publishes a first batch (signed + N one-time, all marked published), then only shows the stock; tops up below half" {
	two_users
	pycheck '
	o = j(sys.argv[1])
	assert sorted(o) == ["added", "kid", "one_time", "signed"], o
	assert o["one_time"] == 4 and o["added"] == 4, o
	assert o["kid"] == sys.argv[2], o
	assert isinstance(o["signed"], str) and len(o["signed"]) == 43, o
	s = j(sys.argv[3])
	ident = s["identities"][o["kid"]]
	assert len(ident["one_time"]) == 4
	assert all(e["published"] for e in ident["one_time"] + ident["signed"]), ident
	' "$T/pub.json" "$(thumbprint "$T/$B")" "$(home_of "$B")/prekeys.json"
	[ "$(stock "$B")" = 4 ]
	# Again: nothing to add.
	run -0 --separate-stderr run_as "$B" e2e-keys prekeys --count 4
	[ "$(echo "$output" | jq -c '[.one_time, .added]')" = "[4,0]" ]
	# Three claimed: 1 left, under half of 4: topped up to 4.
	run_as "$B" e2e-keys fetch "$B" > /dev/null 2>&1 || true
	for i in 1 2 3; do
		run -0 run_as "$A" e2e-keys claim "$B"
	done
	[ "$(stock "$B")" = 1 ]
	run -0 --separate-stderr run_as "$B" e2e-keys prekeys --count 4
	[ "$(echo "$output" | jq -c '[.one_time, .added]')" = "[4,3]" ]
	[ "$(private_prekeys "$B")" = 7 ]
}
