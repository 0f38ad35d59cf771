#!/usr/bin/env bats
# Who a person is to another (issue 8, items 1, 2, 4 and 5), against a
# real e2e-server: proofs of possession at PUT /keys and at e2e-keys
# fetch (lib/format/keyproof.c, lib/net/directory.c), one key per account (the
# server's 409, the keyring's refusals and e2e-keys list's flags),
# confusable names at sign-up (lib/base/names.c) and e2e-server
# --check-names, the quarantine of a deleted account's name and keys,
# messages that record their sender's account, and the migration of a
# version 2 database.
#
# Catalogue items (../shared/SECURITY-TESTS.md 3.8): I1 key squatting,
# I3 confusable names, I4 name reuse. (I2, forwarding, is in the tests
# of the signed names.)
#
# Each test has its own server and database.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load client_helpers
load keys_helpers

setup_file() {
	file_keys mallory neweve
}

setup() {
	common_setup
	fixed_keys
	KD=$BATS_FILE_TMPDIR/k
	mkdir -p "$T/w"
}

teardown() {
	stop_own_server
}

# in_w: into the working folder (no file there is named like a user).
in_w() {
	cd "$T/w" || return 1
}

# put_proven TOKEN PEMFILE PROOF: PUT /keys of one key with PROOF ("-"
# for none, "null" for a JSON null).
put_proven() {
	"$PYTHON" -c 'import json, sys
k = {"pem": open(sys.argv[1]).read()}
if sys.argv[2] == "null":
    k["proof"] = None
elif sys.argv[2] != "-":
    k["proof"] = sys.argv[2]
print(json.dumps({"keys": [k]}))' "$2" "$3" > "$T/put.json"
	api PUT /keys -H "Authorization: Bearer $1" \
	    -H 'Content-Type: application/json' --data-binary "@$T/put.json"
}

# ---- I1: proofs of possession ----

@test "I1 key squatting: PUT /keys without a proof, with a proof by another key, for another name, another id, another server URL, too old, from the future: each 400 with its own error; nothing stored" {
	start_own_server
	user mallory
	user bob
	signin mallory "$(password_of mallory)"
	local tm=$token mid bid now
	mid=$(uid mallory)
	bid=$(uid bob)
	now=$(date +%s)
	# No proof at all, or a null one (what the previous client sent).
	put_proven "$tm" "$T/bob.pub" -
	[ "$status_code" = 400 ] || fail "$status_code $body"
	error_is "keys[0] has no proof of possession (\"proof\"): publish it with e2e-keys publish, which proves you hold its private key"
	put_proven "$tm" "$T/bob.pub" null
	[ "$status_code" = 400 ] || fail "$status_code $body"
	error_is "keys[0] has no proof of possession (\"proof\"): publish it with e2e-keys publish, which proves you hold its private key"
	put_proven "$tm" "$T/bob.pub" 42
	[ "$status_code" = 400 ] || fail "$status_code $body"
	# bob's public key with a proof mallory made with her own key.
	put_proven "$tm" "$T/bob.pub" "$(key_proof "$KD/mallory" "$mid" mallory)"
	[ "$status_code" = 400 ] || fail "$status_code $body"
	error_is "keys[0].proof is made by key $(thumbprint "$KD/mallory"), not by key $KID_BOB"
	# ... and one whose header names bob's key, signed with hers.
	put_proven "$tm" "$T/bob.pub" "$(key_proof "$KD/mallory" "$mid" mallory \
	    "$URL" "$now" "$KID_BOB")"
	[ "$status_code" = 400 ] || fail "$status_code $body"
	error_is "keys[0].proof is not signed by key $KID_BOB: it was made with another key"
	# Proofs made with bob's key (the test holds it) for bob: mallory
	# cannot pass them off as hers, neither by name nor by id.
	put_proven "$tm" "$T/bob.pub" "$(key_proof "$T/bob" "$bid" bob)"
	[ "$status_code" = 400 ] || fail "$status_code $body"
	error_is "keys[0].proof is for the user bob (id $bid), not for mallory (id $mid)"
	put_proven "$tm" "$T/bob.pub" "$(key_proof "$T/bob" "$mid" bob)"
	[ "$status_code" = 400 ] || fail "$status_code $body"
	error_is "keys[0].proof is for the user bob (id $mid), not for mallory (id $mid)"
	put_proven "$tm" "$T/bob.pub" "$(key_proof "$T/bob" "$bid" mallory)"
	[ "$status_code" = 400 ] || fail "$status_code $body"
	error_is "keys[0].proof is for the user mallory (id $bid), not for mallory (id $mid)"
	# For another server: both URLs named.
	put_proven "$tm" "$KD/mallory.pub" "$(key_proof "$KD/mallory" "$mid" \
	    mallory https://chat.example)"
	[ "$status_code" = 400 ] || fail "$status_code $body"
	error_is "keys[0].proof is for the server https://chat.example, not for $URL"
	# Too old, from the future (an hour off; 300 s allowed).
	put_proven "$tm" "$KD/mallory.pub" "$(key_proof "$KD/mallory" "$mid" \
	    mallory "$URL" $((now - 3600)))"
	[ "$status_code" = 400 ] || fail "$status_code $body"
	[[ "$(printf '%s' "$body" | pyj 'd["error"]')" =~ ^keys\[0\]\.proof\ is\ too\ old:\ made\ 36[0-9][0-9]\ s\ before\ the\ server\'s\ time\ \(at\ most\ 300\ s\)$ ]] ||
	    fail "$body"
	put_proven "$tm" "$KD/mallory.pub" "$(key_proof "$KD/mallory" "$mid" \
	    mallory "$URL" $((now + 3600)))"
	[ "$status_code" = 400 ] || fail "$status_code $body"
	[[ "$(printf '%s' "$body" | pyj 'd["error"]')" =~ ^keys\[0\]\.proof\ is\ from\ the\ future:\ made\ 3[56][0-9][0-9]\ s\ after\ the\ server\'s\ time\ \(at\ most\ 300\ s\)$ ]] ||
	    fail "$body"
	# Not a proof at all.
	put_proven "$tm" "$KD/mallory.pub" "not.a.jws"
	[ "$status_code" = 400 ] || fail "$status_code $body"
	[[ "$body" == *"keys[0].proof is not a key proof"* ]] || fail "$body"
	[ "$(sq "SELECT count(*) FROM keys")" = 0 ]
	# Her own key with her own proof, a minute old: published.
	put_proven "$tm" "$KD/mallory.pub" "$(key_proof "$KD/mallory" "$mid" \
	    mallory "$URL" $((now - 60)))"
	[ "$status_code" = 200 ] || fail "$status_code $body"
	[ "$(sq "SELECT kid FROM keys")" = "$(thumbprint "$KD/mallory.pub")" ]
	# What the issue tried: e2e-keys publish bob.pub proves nothing.
	in_w
	run --separate-stderr run_as mallory e2e-keys publish "$T/bob.pub"
	client_error e2e-keys 66 "bob.pub is a public key, not a private key"
	stderr_has "hint: publish needs your private key: it signs the proof that you hold it"
	run --separate-stderr run_as mallory e2e-account --server "$URL" \
	    signup mallory2 --password-file "$(pwfile mallory2)" \
	    --key "$T/bob.pub"
	client_error e2e-account 66 "bob.pub is a public key"
	stderr_has "hint: --key needs your private key"
	signin mallory2 "$(password_of mallory2)" 2>/dev/null && fail "mallory2 was created"
	true
}

@test "I1 key squatting: a key another account holds is 409, even with a valid proof; e2e-keys publish says so (65)" {
	start_own_server
	user alice "$T/alice"
	user mallory
	in_w
	# mallory somehow holds alice's private key and proves it: a key
	# still belongs to one account.
	signin mallory "$(password_of mallory)"
	put_proven "$token" "$T/alice.pub" "$(key_proof "$T/alice" \
	    "$(uid mallory)" mallory)"
	[ "$status_code" = 409 ] || fail "$status_code $body"
	error_is "key $KID_ALICE is another account's: a key belongs to one account"
	run --separate-stderr run_as mallory e2e-keys publish "$T/alice"
	client_error e2e-keys 65 "publishing keys: key $KID_ALICE is another account's"
	[ "$(sq "SELECT u.name FROM keys k JOIN users u ON u.id = k.user_id")" = alice ]
	# alice publishing it again is no conflict (and renews its proof).
	run -0 run_as alice e2e-keys publish
	[ "$(sq "SELECT count(*) FROM keys")" = 1 ]
}

@test "I1 the proof is a standard JWS: jwcrypto checks what GET /keys serves with the key served beside it; header and claims exactly as docs/KEYS.md says" {
	start_own_server
	user alice "$T/alice"
	user bob
	signin bob "$(password_of bob)"
	get_keys() { api GET "/keys/$1" -H "Authorization: Bearer $token"; }
	get_keys alice
	[ "$status_code" = 200 ] || fail "$status_code $body"
	printf '%s' "$body" > keys.json
	run --separate-stderr "$PYTHON" - keys.json "$URL" "$(uid alice)" \
	    "$KID_ALICE" <<'EOF'
import json, sys, time
from jwcrypto import jwk, jws
a = json.load(open(sys.argv[1]))
url, uid, kid = sys.argv[2:5]
assert a["name"] == "alice" and a["id"] == uid, a
(k,) = a["keys"]
key = jwk.JWK.from_pem(k["pem"].encode())
assert key.thumbprint() == kid == k["kid"], k
t = jws.JWS()
t.deserialize(k["proof"])
t.verify(key, alg="PS256")
h = t.jose_header
assert h == {"alg": "PS256", "typ": "e2e-key-proof+jwt", "kid": kid}, h
c = json.loads(t.payload)
assert sorted(c) == ["aud", "iat", "kid", "name", "sub"], c
assert c["sub"] == uid and c["name"] == "alice" and c["kid"] == kid, c
assert c["aud"] == url, c
assert abs(c["iat"] - time.time()) < 600, c
# Another key does not verify it.
other = jwk.JWK.generate(kty="RSA", size=2048)
try:
    t.verify(other, alg="PS256")
    raise SystemExit("verified with another key")
except jws.InvalidJWSSignature:
    pass
print("ok")
EOF
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = ok ]
}

@test "I1 a lying directory: the server's database lists bob's key under mallory; fetch refuses it (65) loudly, nothing pinned; encrypt to mallory refuses too" {
	start_own_server
	user bob "$T/bob"
	user mallory
	user carol "$T/carol"
	in_w
	sq "UPDATE keys SET user_id = '$(uid mallory)' WHERE kid = '$KID_BOB'"
	run --separate-stderr run_as carol e2e-keys fetch mallory
	client_error e2e-keys 65 "THE DIRECTORY LISTS KEY $KID_BOB UNDER mallory, but its proof is for the user bob \(id $(uid bob)\), not for mallory \(id $(uid mallory)\): refused"
	stderr_has "warning: the server may be passing another user's key off as mallory's"
	run -0 run_as carol e2e-keys list
	[ -z "$output" ]
	run --separate-stderr run_as carol e2e-encrypt -r mallory <<< "hi"
	[ "$status" -eq 65 ] || fail "$status $stderr"
	[ -z "$output" ]
	stderr_has "THE DIRECTORY LISTS KEY $KID_BOB UNDER mallory"
	run -0 run_as carol e2e-keys list
	[ -z "$output" ]
	# The same key listed under bob again, with its proof: pinned.
	sq "UPDATE keys SET user_id = '$(uid bob)' WHERE kid = '$KID_BOB'"
	run -0 run_as carol e2e-keys fetch bob
	[ "$output" = "{\"name\":\"bob\",\"keys\":[\"$KID_BOB\"],\"status\":\"pinned\",\"verified\":false}" ]
	# A proof for another server is refused too, naming both URLs.
	sq "UPDATE keys SET proof = '$(key_proof "$T/bob" "$(uid bob)" bob \
	    https://other.example)' WHERE kid = '$KID_BOB'"
	run -0 run_as carol e2e-keys forget bob
	run --separate-stderr run_as carol e2e-keys fetch bob
	client_error e2e-keys 65 "bob's key $KID_BOB from the directory is refused: its proof is for the server https://other.example, not for $URL"
	# A proof stripped: not pinned on first use, with what to do.
	sq "UPDATE keys SET proof = NULL WHERE kid = '$KID_BOB'"
	run --separate-stderr run_as carol e2e-keys fetch bob
	client_error e2e-keys 65 "bob's key $KID_BOB has no proof of possession \(published by an older version\): not pinned"
	stderr_has "hint: ask bob to run e2e-keys publish again"
	run -0 run_as carol e2e-keys list
	[ -z "$output" ]
	# bob publishes again: his proof is back, carol pins.
	run -0 run_as bob e2e-keys publish
	run -0 run_as carol e2e-keys fetch bob
	[ "$output" = "{\"name\":\"bob\",\"keys\":[\"$KID_BOB\"],\"status\":\"pinned\",\"verified\":false}" ]
}

@test "I1 keys published before proofs (proof null): listed as such; fetch pins none on first use and says to publish again; a contact pinned before keeps working; after e2e-keys publish, fetch pins" {
	start_own_server
	user bob "$T/bob"
	user alice "$T/alice"
	user carol "$T/carol"
	in_w
	# alice pinned bob's key under the previous version.
	run -0 run_as alice e2e-keys fetch bob
	sq "UPDATE keys SET proof = NULL WHERE kid = '$KID_BOB'"
	signin carol "$(password_of carol)"
	api GET /keys/bob -H "Authorization: Bearer $token"
	[ "$(printf '%s' "$body" | pyj '[k["proof"] for k in d["keys"]]')" = "[null]" ]
	run --separate-stderr run_as carol e2e-keys fetch bob
	client_error e2e-keys 65 "bob's key $KID_BOB has no proof of possession"
	stderr_has "hint: ask bob to run e2e-keys publish again"
	[ ! -e "$(home_of carol)/keyring.json" ] ||
	    [ "$(run_as carol e2e-keys list)" = "" ]
	# Pinned before: unchanged, and usable.
	run --separate-stderr run_as alice e2e-keys fetch bob
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "{\"name\":\"bob\",\"keys\":[\"$KID_BOB\"],\"status\":\"unchanged\",\"verified\":false}" ]
	run -0 run_as alice e2e-encrypt -r bob -o m.jwe <<< "hi"
	# One command for bob.
	run -0 run_as bob e2e-keys publish
	[ "$(sq "SELECT count(*) FROM keys WHERE kid = '$KID_BOB' AND proof IS NOT NULL")" = 1 ]
	run -0 run_as carol e2e-keys fetch bob
	[ "$output" = "{\"name\":\"bob\",\"keys\":[\"$KID_BOB\"],\"status\":\"pinned\",\"verified\":false}" ]
}

# ---- I1: the keyring, one key one person ----

@test "I1 keyring: one kid under two names, or my own kid under a contact's name: refused (65) naming both, by import, fetch and accept; nothing changed" {
	start_own_server
	user bob "$T/bob"
	user mallory
	user carol "$T/carol"
	in_w
	run -0 run_as carol e2e-keys import bob "$T/bob.pub"
	cp "$(home_of carol)/keyring.json" before.json
	# bob's key under mallory's name.
	run --separate-stderr run_as carol e2e-keys import mallory "$T/bob.pub"
	client_error e2e-keys 65 "key $KID_BOB is pinned for bob already: refusing to pin it for mallory"
	stderr_has "warning: one key is one person: bob and mallory cannot both hold it"
	# My own key (the identity's: carol, from carol.pub) under a
	# contact's name, signed in: named by my name.
	run --separate-stderr run_as carol e2e-keys import mallory "$T/carol.pub"
	client_error e2e-keys 65 "key $KID_CAROL is your own \(carol\): refusing to pin it for mallory"
	cmp before.json "$(home_of carol)/keyring.json"
	# Signed out: named by the identity file.
	run -0 run_as carol e2e-account signout
	run --separate-stderr run_as carol e2e-keys import mallory "$T/carol.pub"
	client_error e2e-keys 65 "key $KID_CAROL is your own \($T/carol\): refusing to pin it for mallory"
	cmp before.json "$(home_of carol)/keyring.json"
	run -0 run_as carol e2e-account --server "$URL" signin carol \
	    --password-file "$(pwfile carol)"
	# By fetch: dave pinned bob's key by hand under mallory (a mistake,
	# or a trick), then fetches the real bob.
	home_config dave "$T/alice"
	run -0 run_as dave e2e-account --server "$URL" signup dave \
	    --password-file "$(pwfile dave)"
	run -0 run_as dave e2e-keys import mallory "$T/bob.pub"
	run --separate-stderr run_as dave e2e-keys fetch bob
	client_error e2e-keys 65 "key $KID_BOB is pinned for mallory already: refusing to pin it for bob"
	[ "$(run_as dave e2e-keys list | pyl '[x["name"] for x in L]')" = '["mallory"]' ]
	# By accept: carol's pinned bob changes to newkey, which carol had
	# meanwhile pinned by hand under mallory.
	db_replace_key bob "$KD/mallory.pub"
	run --separate-stderr run_as carol e2e-keys fetch bob
	client_error e2e-keys 65 "THE KEY OF bob HAS CHANGED"
	run -0 run_as carol e2e-keys import mallory "$KD/mallory.pub"
	run --separate-stderr run_as carol e2e-keys accept bob
	client_error e2e-keys 65 "key $(thumbprint "$KD/mallory.pub") is pinned for mallory already: refusing to pin it for bob"
	run -0 run_as carol e2e-keys list
	[ "$(printf '%s\n' "$output" | pyl '[(x["name"], x["keys"], x["changed"]) for x in L]')" = \
	    "[[\"bob\", [\"$KID_BOB\"], true], [\"mallory\", [\"$(thumbprint "$KD/mallory.pub")\"], false]]" ]
}

@test "I1 keyring: my own key under my own name is no contact: I fetch my own name and write a note to myself by name; under another name, or with my name unknown, still refused" {
	start_own_server
	user carol "$T/carol"
	in_w
	run --separate-stderr run_as carol e2e-keys fetch carol
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(printf '%s' "$output" | pyj '[d["name"], d["keys"], d["status"]]')" = \
	    "[\"carol\", [\"$KID_CAROL\"], \"pinned\"]" ]
	run --separate-stderr run_as carol e2e-encrypt -r carol -o n.jwe <<< "note to self"
	[ "$status" -eq 0 ] || fail "$stderr"
	run --separate-stderr run_as carol e2e-decrypt n.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "note to self" ]
	run --separate-stderr run_as carol e2e-keys list
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	[ "$output" = "{\"name\":\"carol\",\"keys\":[\"$KID_CAROL\"],\"pending\":[],\"verified\":false,\"changed\":false}" ]
	run -0 run_as carol e2e-keys forget carol
	# Signed out, the config's name = carol says who I am.
	run -0 run_as carol e2e-account signout
	printf 'name = carol\n' >> "$(home_of carol)/config"
	run -0 run_as carol e2e-keys import carol "$T/carol.pub"
	run --separate-stderr run_as carol e2e-keys import Carol "$T/carol.pub"
	client_error e2e-keys 65 "key $KID_CAROL is your own \(carol\): refusing to pin it for Carol"
	# With no name known, my key is refused under any name, and the
	# hint says how to name myself.
	run -0 run_as carol e2e-keys forget carol
	home_config carol "$T/carol"
	run --separate-stderr run_as carol e2e-keys import carol "$T/carol.pub"
	client_error e2e-keys 65 "key $KID_CAROL is your own \($T/carol\): refusing to pin it for carol"
	stderr_has "hint: if you are carol, sign in, or set name = carol in the config file"
}

@test "I1 keyring: e2e-keys list flags a kid pinned for two names, and my own kid pinned for a contact, in a keyring of the previous version" {
	home_config carol "$T/carol"
	in_w
	run -0 run_as carol e2e-keys import bob "$T/bob.pub"
	run -0 run_as carol e2e-keys import alice "$T/alice.pub"
	# As the previous version could leave it: bob's key under mallory
	# too, and carol's own key under eve.
	"$PYTHON" -c 'import json, sys
p = sys.argv[1]
d = json.load(open(p))
c = d["contacts"]
c["mallory"] = json.loads(json.dumps(c["bob"]))
e = json.loads(json.dumps(c["bob"]))
e["keys"][0]["kid"] = sys.argv[2]
e["keys"][0]["pem"] = open(sys.argv[3]).read()
c["eve"] = e
open(p, "w").write(json.dumps(d))' "$(home_of carol)/keyring.json" \
	    "$KID_CAROL" "$T/carol.pub"
	run --separate-stderr run_as carol e2e-keys list
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "${#lines[@]}" -eq 4 ]
	[ "${lines[0]}" = "{\"name\":\"alice\",\"keys\":[\"$KID_ALICE\"],\"pending\":[],\"verified\":false,\"changed\":false}" ]
	[ "${lines[1]}" = "{\"name\":\"bob\",\"keys\":[\"$KID_BOB\"],\"pending\":[],\"verified\":false,\"changed\":false,\"same_key_as\":[\"mallory\"]}" ]
	[ "${lines[2]}" = "{\"name\":\"eve\",\"keys\":[\"$KID_CAROL\"],\"pending\":[],\"verified\":false,\"changed\":false,\"my_key\":true}" ]
	[ "${lines[3]}" = "{\"name\":\"mallory\",\"keys\":[\"$KID_BOB\"],\"pending\":[],\"verified\":false,\"changed\":false,\"same_key_as\":[\"bob\"]}" ]
	# Each pair warned of once, naming both.
	[ "$(printf '%s\n' "$stderr" | grep -c "pinned for both")" = 1 ]
	stderr_has "^e2e-keys: warning: key $KID_BOB is pinned for both bob and mallory: one of them, or the directory, lied; forget the wrong one \(e2e-keys forget NAME\)$"
	stderr_has "^e2e-keys: warning: key $KID_CAROL pinned for eve is your own \($T/carol\): forget it \(e2e-keys forget eve\)$"
	# Forgetting the wrong ones clears the flags.
	run -0 run_as carol e2e-keys forget mallory
	run -0 run_as carol e2e-keys forget eve
	run --separate-stderr run_as carol e2e-keys list
	[ -z "$stderr" ]
	[ "${lines[1]}" = "{\"name\":\"bob\",\"keys\":[\"$KID_BOB\"],\"pending\":[],\"verified\":false,\"changed\":false}" ]
}

@test "I1 keyring: a protected identity without its .pub is not opened to learn its kid (no passphrase asked, nothing refused)" {
	home_config carol "$T/w/me"
	cp "$T/protected" "$T/w/me"
	chmod 600 "$T/w/me"
	in_w
	run --separate-stderr no_tty env E2E_HOME="$(home_of carol)" \
	    e2e-keys import x "$T/protected.pub"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	# With its .pub beside it, the kid is known.
	cp "$T/protected.pub" "$T/w/me.pub"
	run --separate-stderr no_tty env E2E_HOME="$(home_of carol)" \
	    e2e-keys list
	stderr_has "pinned for x is your own"
}

# ---- I3: names people cannot confuse ----

@test "I3 confusable names: every pair of the issue refused at the second sign-up, naming the clash; -v, --help, .x refused; the existing name keeps working" {
	start_own_server
	signup alice 'pw of alice'
	local n
	for n in Alice ALICE aIice a1ice alice. al-ice a_lice "a|ice"; do
		api POST /users/signup -H 'Content-Type: application/json' \
		    -d "{\"name\":\"$n\",\"password\":\"pw of $n\"}"
		if [ "$n" = "a|ice" ]; then
			# Not even a name: '|' is outside the alphabet.
			[ "$status_code" = 400 ] || fail "$n: $status_code $body"
			continue
		fi
		[ "$status_code" = 409 ] || fail "$n: $status_code $body"
		error_is "the name $n is too close to the existing name alice"
	done
	local pair
	for pair in rn:m m:rn barney:bamey vv:w w:vv vvill:will O0:oo; do
		signup "${pair%%:*}" "pw of ${pair%%:*}"
		api POST /users/signup -H 'Content-Type: application/json' \
		    -d "{\"name\":\"${pair#*:}\",\"password\":\"pw\"}"
		[ "$status_code" = 409 ] || fail "$pair: $status_code $body"
		error_is "the name ${pair#*:} is too close to the existing name ${pair%%:*}"
		# Only the first of each pair exists; the next pair may reuse
		# the second.
		sq "DELETE FROM users WHERE name = '${pair%%:*}'"
	done
	for n in -v --help .x -rf ..x; do
		api POST /users/signup -H 'Content-Type: application/json' \
		    -d "{\"name\":\"$n\",\"password\":\"pw of x\"}"
		[ "$status_code" = 400 ] || fail "$n: $status_code $body"
		error_is "a new name may not start with '-' or '.'"
	done
	[ "$(sq "SELECT name FROM users ORDER BY name")" = alice ]
	# The same from e2e-account: 65 naming the clash; 64 before asking.
	in_w
	run --separate-stderr run_as x e2e-account --server "$URL" signup \
	    aIice --password-file "$(pwfile x)"
	client_error e2e-account 65 "sign-up: the name aIice is too close to the existing name alice"
	for n in --help -v .x; do
		run --separate-stderr run_as x e2e-account --server "$URL" \
		    signup --password-file "$(pwfile x)" -- "$n"
		client_error e2e-account 64 "a new name may not start with '-' or '.'"
	done
	# Names that only a machine would confuse are fine.
	signup alicf 'pw of alicf'
	signup bob 'pw of bob'
	signup rob 'pw of rob'
	# Look-ups stay exact: alice works, Alice is nobody.
	signin alice 'pw of alice'
	api GET /keys/alice -H "Authorization: Bearer $token"
	[ "$status_code" = 200 ] || fail "$status_code $body"
	api GET /keys/Alice -H "Authorization: Bearer $token"
	[ "$status_code" = 404 ] || fail "$status_code $body"
}

@test "I3 e2e-server --check-names lists the look-alike names taken before (one line each) and never blocks a start; sign-up refuses more of them" {
	sqlite_only "look-alike names taken under schema 2, a SQLite file (pg_store.bats: I3 --check-names on PostgreSQL)"
	SERVER_DB=$T/old.db
	make_v2_db "$SERVER_DB"
	run --separate-stderr e2e-server --db "$SERVER_DB" --check-names
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "$(printf 'Alice alice\nm rn')" ]
	[ "${stderr_lines[-1]}" = "e2e-server: 2 groups of names that look alike" ]
	# Migrated meanwhile, and it starts; both Alice and alice sign in.
	[ "$(sqlite3 "$SERVER_DB" 'PRAGMA user_version')" = 6 ]
	start_server --quiet
	signin Alice 'the password'
	signin alice 'the password'
	api POST /users/signup -H 'Content-Type: application/json' \
	    -d '{"name":"ALICE","password":"pw of ALICE"}'
	[ "$status_code" = 409 ] || fail "$status_code $body"
	error_is "the name ALICE is too close to the existing name Alice"
	# A database without clashes: nothing on stdout.
	stop_server
	sqlite3 "$SERVER_DB" "DELETE FROM users WHERE name IN ('Alice', 'rn')"
	run --separate-stderr e2e-server --db "$SERVER_DB" --check-names
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$output" ]
	[ "$stderr" = "e2e-server: 0 groups of names that look alike" ]
	# No database there: 66, and none made.
	run --separate-stderr e2e-server --db "$T/none.db" --check-names
	[ "$status" -eq 66 ] || fail "$status $stderr"
	[[ "${stderr_lines[0]}" == "e2e-server: error: cannot open the database $T/none.db: No such file or directory" ]]
	[ ! -e "$T/none.db" ]
}

# ---- I4: a deleted name rests ----

@test "I4 name reuse: a deleted account's name, a look-alike and its key are refused while they rest; after the quarantine the new account has none of the old one's messages, and a contact who pinned the old key is told it changed" {
	start_own_server --name-quarantine 10m
	user eve "$T/alice"
	user bob "$T/bob"
	user carol "$T/carol"
	in_w
	local old_id
	old_id=$(uid eve)
	# carol pins eve's key; bob writes to eve; eve writes to carol.
	run -0 run_as carol e2e-keys fetch eve
	echo "for the old eve" | run_as bob e2e-encrypt -r eve > to-eve.jwe
	run -0 run_as bob e2e-send --to eve to-eve.jwe
	echo "from the old eve" | run_as eve e2e-encrypt -r carol > from-eve.jwe
	run -0 run_as eve e2e-send --to carol from-eve.jwe
	[ "$(sq "SELECT sender_id FROM messages WHERE recipient = 'carol'")" = "$old_id" ]
	run -0 run_as eve e2e-account delete --yes --password-file "$T/eve.pw"
	# At once: the name, a look-alike and the key rest.
	api POST /users/signup -H 'Content-Type: application/json' \
	    -d '{"name":"eve","password":"pw of the new eve"}'
	[ "$status_code" = 409 ] || fail "$status_code $body"
	[[ "$(printf '%s' "$body" | pyj 'd["error"]')" =~ ^the\ name\ eve\ rests\ until\ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z:\ its\ account\ was\ deleted\ less\ than\ 10\ minutes\ ago$ ]] ||
	    fail "$body"
	api POST /users/signup -H 'Content-Type: application/json' \
	    -d '{"name":"Eve.","password":"pw of the new eve"}'
	[ "$status_code" = 409 ] || fail "$status_code $body"
	[[ "$body" == *"the name Eve. is too close to eve, the name of an account deleted less than 10 minutes ago; it rests until "* ]] ||
	    fail "$body"
	signin bob "$(password_of bob)"
	put_proven "$token" "$T/alice.pub" "$(key_proof "$T/alice" "$(uid bob)" bob)"
	[ "$status_code" = 409 ] || fail "$status_code $body"
	[[ "$body" == *"key $KID_ALICE was another account's less than 10 minutes ago (withdrawn, or its account deleted); it rests until "* ]] ||
	    fail "$body"
	[ "$(sq "SELECT kind || ' ' || value || ' ' || name || ' ' || user_id FROM quarantine ORDER BY kind")" = \
	    "$(printf 'kid %s eve %s\nname eve eve %s' "$KID_ALICE" "$old_id" "$old_id")" ]
	# Ten minutes later (the rows aged in the database).
	sq "UPDATE quarantine SET deleted_at = deleted_at - 601"
	rm -rf "$(home_of eve)"
	user eve "$KD/neweve"
	[ "$(uid eve)" != "$old_id" ]
	# The new eve's mailbox is her own: nothing of the old one's.
	run --separate-stderr run_as eve e2e-recv
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$output" ]
	# carol pinned the old eve's key: the new one is a changed key.
	run --separate-stderr run_as carol e2e-keys fetch eve
	client_error e2e-keys 65 "THE KEY OF eve HAS CHANGED"
	stderr_has "pinned for eve: $KID_ALICE"
	stderr_has "now offered for eve: $(thumbprint "$KD/neweve.pub")"
	# The new eve's messages carry her account's id, not the old one's.
	echo "from the new eve" | run_as eve e2e-encrypt -r "$T/carol.pub" > new.jwe
	run -0 run_as eve e2e-send --to carol new.jwe
	[ "$(sq "SELECT sender_id FROM messages WHERE recipient = 'carol' ORDER BY id")" = \
	    "$(printf '%s\n%s' "$old_id" "$(uid eve)")" ]
	# The old eve's key rests no more either.
	put_proven "$token" "$T/alice.pub" "$(key_proof "$T/alice" "$(uid bob)" bob)"
	[ "$status_code" = 200 ] || fail "$status_code $body"
}

@test "I4 a withdrawn key rests too: withdrawn before its account is deleted, no other account takes it during the quarantine; its own account may publish it again" {
	start_own_server --name-quarantine 10m
	user eve "$T/alice"
	user bob "$T/bob"
	in_w
	signin bob "$(password_of bob)"
	local tb=$token
	run -0 run_as eve e2e-keys withdraw "$KID_ALICE"
	[ "$(sq "SELECT count(*) FROM keys WHERE kid = '$KID_ALICE'")" = 0 ]
	put_proven "$tb" "$T/alice.pub" "$(key_proof "$T/alice" "$(uid bob)" bob)"
	[ "$status_code" = 409 ] || fail "$status_code $body"
	[[ "$(printf '%s' "$body" | pyj 'd["error"]')" =~ ^key\ $KID_ALICE\ was\ another\ account\'s\ less\ than\ 10\ minutes\ ago\ \(withdrawn,\ or\ its\ account\ deleted\)\;\ it\ rests\ until\ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]] ||
	    fail "$body"
	# Hers still: she publishes it again, withdraws it, then goes.
	run -0 run_as eve e2e-keys publish
	run -0 run_as eve e2e-keys withdraw "$KID_ALICE"
	run -0 run_as eve e2e-account delete --yes --password-file "$T/eve.pw"
	put_proven "$tb" "$T/alice.pub" "$(key_proof "$T/alice" "$(uid bob)" bob)"
	[ "$status_code" = 409 ] || fail "$status_code $body"
	# Ten minutes later it is free.
	sq "UPDATE quarantine SET deleted_at = deleted_at - 601"
	put_proven "$tb" "$T/alice.pub" "$(key_proof "$T/alice" "$(uid bob)" bob)"
	[ "$status_code" = 200 ] || fail "$status_code $body"
}

@test "I4 --name-quarantine takes seconds, s, m, h, d (0: none); a bad value is 64; the default is 30 days; --help lists it and --public-url, --check-names" {
	run --separate-stderr e2e-server --name-quarantine 5x --db "$T/x.db"
	[ "$status" -eq 64 ] || fail "$status $stderr"
	[[ "${stderr_lines[0]}" == "e2e-server: error: --name-quarantine needs a duration from 0 to 315360000 seconds, such as 3600, 30d, 12h, 10m or 5s" ]]
	run --separate-stderr e2e-server --name-quarantine 9999999999 --db "$T/x.db"
	[ "$status" -eq 64 ] || fail "$status $stderr"
	run --separate-stderr e2e-server --name-quarantine 1d --name-quarantine 2d
	[ "$status" -eq 64 ] || fail "$status $stderr"
	[[ "$stderr" == *"--name-quarantine given more than once"* ]]
	[ ! -e "$T/x.db" ]
	run -0 e2e-server --help
	[[ "$output" == *"--public-url URL"* ]]
	[[ "$output" == *"--name-quarantine DURATION"* ]]
	[[ "$output" == *"default 30d"* ]]
	[[ "$output" == *"--check-names"* ]]
	# 0: a deleted name is free at once.
	start_own_server --name-quarantine 0
	signup eve 'pw of eve'
	signin eve 'pw of eve'
	api DELETE "/users/$user_id" -H "Authorization: Bearer $token" \
	    -H "$JSON" -d '{"password":"pw of eve"}'
	[ "$status_code" = 200 ] || fail "$status_code $body"
	signup eve 'pw of the next eve'
	stop_server
	# The default: 30 days.
	start_own_server
	signup eve2 'pw of eve2'
	signin eve2 'pw of eve2'
	api DELETE "/users/$user_id" -H "Authorization: Bearer $token" \
	    -H "$JSON" -d '{"password":"pw of eve2"}'
	[ "$status_code" = 200 ] || fail "$status_code $body"
	api POST /users/signup -H 'Content-Type: application/json' \
	    -d '{"name":"eve2","password":"pw"}'
	[ "$status_code" = 409 ] || fail "$status_code $body"
	[[ "$body" == *"deleted less than 30 days ago"* ]] || fail "$body"
}

@test "I1 --public-url: proofs must name it (normalised: case, default port, final /); a proof for the address bound is refused naming both; a bad URL is 64" {
	run --separate-stderr e2e-server --public-url ftp://x --db "$T/x.db"
	[ "$status" -eq 64 ] || fail "$status $stderr"
	[[ "${stderr_lines[0]}" == "e2e-server: error: --public-url needs an http:// or https:// URL without a user, query or fragment" ]]
	[ ! -e "$T/x.db" ]
	start_own_server --public-url https://Chat.Example:443/
	user bob
	in_w
	signin bob "$(password_of bob)"
	put_proven "$token" "$T/bob.pub" "$(key_proof "$T/bob" "$(uid bob)" bob \
	    HTTPS://CHAT.example/)"
	[ "$status_code" = 200 ] || fail "$status_code $body"
	# The client names the URL it uses, which is not the public one.
	run --separate-stderr run_as bob e2e-keys publish "$T/carol"
	client_error e2e-keys 65 "keys\[0\]\.proof is for the server $URL, not for https://chat.example"
}

# ---- the migration of a version 2 database ----

# make_v2_db FILE: a database as the previous version (schema 2) left
# it, made by SQL: users alice, Alice, rn, m, bob and carol (password
# "the password", a bcrypt hash made by a real server), alice's key,
# bob's key listed under both bob and carol (squatting: no proof was
# asked), and messages to alice from bob and from zed, an account gone.
make_v2_db() {
	local hash
	(
		SERVER_DB=$T/hash.db
		start_server --quiet >/dev/null
		signup tmp 'the password' >/dev/null
		sqlite3 "$SERVER_DB" "SELECT hash FROM users" > "$T/hash"
		stop_server
	) || return 1
	hash=$(cat "$T/hash")
	sqlite3 "$1" <<EOF
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL, token_version INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL);
CREATE TABLE messages (id TEXT PRIMARY KEY,
  recipient_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  recipient TEXT NOT NULL, sender TEXT NOT NULL, sent_at INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE INDEX messages_to ON messages(recipient_id, id);
CREATE TABLE keys (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kid TEXT NOT NULL, pem TEXT NOT NULL, created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, kid)) WITHOUT ROWID;
INSERT INTO users VALUES
  ('0000000000000000000000000A', 'alice', '$hash', 0, 1),
  ('0000000000000000000000000B', 'Alice', '$hash', 0, 1),
  ('0000000000000000000000000C', 'rn', '$hash', 0, 1),
  ('0000000000000000000000000D', 'm', '$hash', 0, 1),
  ('0000000000000000000000000E', 'bob', '$hash', 0, 1),
  ('0000000000000000000000000F', 'carol', '$hash', 0, 1);
INSERT INTO keys VALUES
  ('0000000000000000000000000A', '$KID_ALICE',
   CAST(readfile('$T/alice.pub') AS TEXT), 1),
  ('0000000000000000000000000E', '$KID_BOB',
   CAST(readfile('$T/bob.pub') AS TEXT), 2),
  ('0000000000000000000000000F', '$KID_BOB',
   CAST(readfile('$T/bob.pub') AS TEXT), 3);
INSERT INTO messages VALUES
  ('01J00000000000000000000001', '0000000000000000000000000A', 'alice',
   'bob', 1764380000, 'hello from bob'),
  ('01J00000000000000000000002', '0000000000000000000000000A', 'alice',
   'zed', 1764380001, 'hello from zed');
PRAGMA user_version = 2;
EOF
}

@test "schema: a version 2 database migrates to 3 (and on to 6) in place: skeletons, proofs null, sender ids, a key listed under two accounts withdrawn (logged); its users sign in, read their messages, and a later version is still refused" {
	sqlite_only "a schema 2 SQLite file (PostgreSQL starts at 3; pg_store.bats: a later schema refused)"
	SERVER_DB=$T/old.db
	make_v2_db "$SERVER_DB"
	start_server --quiet
	[ "$(sqlite3 "$SERVER_DB" 'PRAGMA user_version')" = 6 ]
	grep -qF "e2e-server: warning: database: key $KID_BOB was listed under the accounts bob, carol; withdrawn from all of them: its holder must publish it again (e2e-keys publish)" "$SERVER_LOG" ||
	    fail "$(cat "$SERVER_LOG")"
	[ "$(sq "SELECT name || ' ' || skeleton FROM users ORDER BY name")" = \
	    "$(printf 'Alice allce\nalice allce\nbob bob\ncarol carol\nm m\nrn m')" ]
	[ "$(sq "SELECT kid || ' ' || (proof IS NULL) FROM keys")" = "$KID_ALICE 1" ]
	[ "$(sq "SELECT sender || ' ' || coalesce(sender_id, '-') FROM messages ORDER BY id")" = \
	    "$(printf 'bob 0000000000000000000000000E\nzed -')" ]
	[ "$(sq "SELECT count(*) FROM quarantine")" = 0 ]
	# alice reads both messages, from as before.
	signin alice 'the password'
	api GET /messages -H "Authorization: Bearer $token"
	[ "$status_code" = 200 ] || fail "$status_code $body"
	[ "$(printf '%s' "$body" | pyj '[(m["from"], m["message"]) for m in d["messages"]]')" = \
	    '[["bob", "hello from bob"], ["zed", "hello from zed"]]' ]
	api GET '/messages?from=bob' -H "Authorization: Bearer $token"
	[ "$(printf '%s' "$body" | pyj 'len(d["messages"])')" = 1 ]
	# alice's key: listed with proof null; bob's: withdrawn.
	api GET /keys/alice -H "Authorization: Bearer $token"
	[ "$(printf '%s' "$body" | pyj '[(k["kid"], k["proof"]) for k in d["keys"]]')" = \
	    "[[\"$KID_ALICE\", null]]" ]
	api GET /keys/bob -H "Authorization: Bearer $token"
	[ "$(printf '%s' "$body" | pyj 'd["keys"]')" = "[]" ]
	# Now bob (who holds the key) publishes it with a proof; carol,
	# who does not, cannot take it.
	home_config bob "$T/bob"
	in_w
	printf 'the password\n' > "$T/pw"
	chmod 600 "$T/pw"
	run -0 run_as bob e2e-account --server "$URL" signin bob --password-file "$T/pw"
	run -0 run_as bob e2e-keys publish
	signin carol 'the password'
	put_proven "$token" "$T/bob.pub" "$(key_proof "$T/bob" "$(uid carol)" carol)"
	[ "$status_code" = 409 ] || fail "$status_code $body"
	# Started again: nothing more to migrate, no warning.
	stop_server
	: > "$SERVER_LOG"
	start_server --quiet
	[ ! -s "$SERVER_LOG" ] || fail "$(cat "$SERVER_LOG")"
	stop_server
	# A later version is refused, naming both versions.
	sqlite3 "$SERVER_DB" 'PRAGMA user_version = 7'
	run --separate-stderr e2e-server --db "$SERVER_DB" --listen 127.0.0.1:0
	[ "$status" -ne 0 ]
	[ "${stderr_lines[0]}" = "e2e-server: error: the database $SERVER_DB has schema version 7; this server knows up to 6" ]
}

@test "I4 schema: migrating a version 2 database gives a message to no account made after it was sent (a name deleted and taken again under schema 2)" {
	sqlite_only "a schema 2 SQLite file (PostgreSQL starts at 3)"
	SERVER_DB=$T/old.db
	make_v2_db "$SERVER_DB"
	# zed wrote to alice and was deleted; a new zed signed up later and
	# wrote to alice too.
	sqlite3 "$SERVER_DB" "INSERT INTO users VALUES
	  ('0000000000000000000000000Z', 'zed', 'x', 0, 1764390000);
	INSERT INTO messages VALUES ('01J00000000000000000000003',
	  '0000000000000000000000000A', 'alice', 'zed', 1764390100,
	  'hello from the new zed')"
	start_server --quiet
	[ "$(sq "SELECT id || ' ' || coalesce(sender_id, '-') FROM messages ORDER BY id")" = \
	    "$(printf '%s\n%s\n%s' '01J00000000000000000000001 0000000000000000000000000E' \
	    '01J00000000000000000000002 -' \
	    '01J00000000000000000000003 0000000000000000000000000Z')" ]
	# Both still read as from zed, the name each was sent under.
	signin alice 'the password'
	api GET /messages -H "Authorization: Bearer $token"
	[ "$status_code" = 200 ] || fail "$status_code $body"
	[ "$(printf '%s' "$body" | pyj '[m["from"] for m in d["messages"]]')" = \
	    '["bob", "zed", "zed"]' ]
}
