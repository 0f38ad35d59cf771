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

# private_prekeys NAME: the number of one-time private prekeys NAME holds.
private_prekeys() {
	jq '[.identities[].one_time[]] | length' "$(home_of "$1")/prekeys.json"
}

# pkid_of X: the prekey id of the X25519 public key X (base64url): its
# JWK thumbprint.
pkid_of() {
	"$PYTHON" -c 'import base64, hashlib, sys
print(base64.urlsafe_b64encode(hashlib.sha256(("{\"crv\":\"X25519\",\"kty\":\"OKP\",\"x\":\"%s\"}" % sys.argv[1]).encode()).digest()).rstrip(b"=").decode())' "$1"
}

# plant_prekey X PROOF IAT: the server's one-time stock of bob's key made
# the single prekey X with PROOF (made at IAT), as a lying server would.
plant_prekey() {
	local bid bkid
	bid=$(uid "$B")
	bkid=$(thumbprint "$T/$B")
	sq "DELETE FROM prekeys WHERE kid = '$bkid' AND kind = 0;
	    INSERT INTO prekeys (user_id, kid, pkid, kind, x, proof, iat, created_at)
	    VALUES ('$bid', '$bkid', '$(pkid_of "$1")', 0, '$1', '$2', $3, $3);"
	[ "$(server_stock "$B")" = 1 ]
}

# claim_refused WHY: alice's e2e-keys claim of bob's prekeys refuses the
# one handed out (65), loudly, in one error line naming bob's key and
# WHY (a regex) its proof fails; nothing printed.
claim_refused() {
	run --separate-stderr run_as "$A" e2e-keys claim "$B"
	[ "$status" -eq 65 ] || fail "$status $output $stderr"
	[ -z "$output" ]
	grep -q "^e2e-keys: error: THE SERVER HANDED OUT A one-time PREKEY FOR $B's KEY $(thumbprint "$T/$B") WHOSE PROOF $1: refused" <<< "$stderr" ||
	    fail "$stderr"
}

# encrypt_refused WHAT: alice's e2e-encrypt -r bob refuses the prekey
# handed out (65), saying WHAT (a regex), and writes no envelope.
encrypt_refused() {
	run --separate-stderr run_as "$A" e2e-encrypt -r "$B" -o "$T/x.jwe" <<< "no"
	[ "$status" -eq 65 ] || fail "$status $stderr"
	[ ! -s "$T/x.jwe" ]
	grep -q "$1" <<< "$stderr" || fail "$stderr"
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
	[ "$(server_stock "$B")" = 4 ]
	# Again: nothing to add.
	run -0 --separate-stderr run_as "$B" e2e-keys prekeys --count 4
	[ "$(echo "$output" | jq -c '[.one_time, .added]')" = "[4,0]" ]
	# Three claimed: 1 left, under half of 4: topped up to 4.
	run_as "$B" e2e-keys fetch "$B" > /dev/null 2>&1 || true
	for i in 1 2 3; do
		run -0 run_as "$A" e2e-keys claim "$B"
	done
	[ "$(server_stock "$B")" = 1 ]
	run -0 --separate-stderr run_as "$B" e2e-keys prekeys --count 4
	[ "$(echo "$output" | jq -c '[.one_time, .added]')" = "[4,3]" ]
	[ "$(private_prekeys "$B")" = 7 ]
}

@test "FS net end to end: e2e-encrypt -r bob | e2e-send claims a one-time prekey; bob's e2e-recv | e2e-decrypt reads it fs:true one-time; the prekey leaves the server at once, bob's store after the grace; e2e-recv tops the stock up; then no key bob holds opens the stored ciphertext, identity included" {
	two_users
	run -0 run_as "$A" e2e-keys fetch "$B"
	run -0 run_as "$B" e2e-keys fetch "$A"
	[ "$(server_stock "$B")" = 4 ]
	# alice sends as a user would: forward secret by default.
	run --separate-stderr env E2E_HOME="$(home_of "$A")" bash -c \
	    'printf "gone tomorrow\n" | e2e-encrypt -r "$1" | tee "$2" | e2e-send --to "$1"' _ "$B" "$T/sent.jwe"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ] || fail "$stderr"
	# The claimed prekey left the server at once.
	[ "$(server_stock "$B")" = 3 ]
	# The entry is ECDH-ES+A256KW to one of bob's one-time prekeys.
	pkid=$(jq -r '.recipients[0].header.kid' "$T/sent.jwe")
	[ "$(jq -r '.recipients[0].header.alg' "$T/sent.jwe")" = ECDH-ES+A256KW ]
	jq -e --arg p "$pkid" '[.identities[].one_time[].pkid] | index($p) != null' \
	    "$(home_of "$B")/prekeys.json"
	# bob reads it, with no grace: the prekey is erased once shown.
	run --separate-stderr env E2E_HOME="$(home_of "$B")" bash -c \
	    'e2e-recv | tee "$1" | e2e-decrypt --fs-grace 0' _ "$T/inbox"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["text"], o["fs"], o["fs_kind"], o["verified"]]')" = \
	    '["gone tomorrow\n", true, "one-time", true]' ]
	jq -e --arg p "$pkid" '([.identities[].one_time[].pkid] | index($p) == null) and ([.identities[].erased[]] | index($p) != null)' \
	    "$(home_of "$B")/prekeys.json"
	# e2e-recv topped bob's stock up, quietly (3 left, under half of
	# the default 100).
	[ "$(server_stock "$B")" = 100 ]
	# The stored copy cannot be read again by bob's tools...
	run --separate-stderr run_as "$B" e2e-decrypt --fs-grace 0 "$T/inbox"
	[ "$status" -eq 65 ]
	grep -q "this message was sent to a one-time key that has been used and erased" <<< "$stderr" ||
	    fail "$stderr"
	# ... nor with any key bob still holds, tried outside them with
	# jwcrypto: every private prekey of his store, and his identity.
	"$PYTHON" - "$(home_of "$B")/prekeys.json" "$T/$B" "$T/sent.jwe" <<'PY'
import json, sys
from jwcrypto import jwe, jwk
s = json.load(open(sys.argv[1]))
env = open(sys.argv[3]).read()
keys = [jwk.JWK(kty="OKP", crv="X25519", d=e["d"], x=e["x"])
        for i in s["identities"].values() for e in i["signed"] + i["one_time"]]
keys.append(jwk.JWK.from_pem(open(sys.argv[2], "rb").read()))
assert len(keys) >= 4, len(keys)
for k in keys:
    t = jwe.JWE()
    try:
        t.deserialize(env, key=k)
    except Exception:
        continue
    sys.exit("opened with " + k.thumbprint())
PY
}

# claim_pkids FILE...: the pkid and kind of every record in FILEs.
claim_pkids() {
	cat "$@" | jq -r '"\(.pkid) \(.kind)"'
}

@test "FS net A13: concurrent claims by two senders never get the same one-time prekey" {
	COUNT=6 two_users
	user "$C" "$T/$C"
	run -0 run_as "$A" e2e-keys fetch "$B"
	run -0 run_as "$C" e2e-keys fetch "$B"
	local i pids=()
	for i in 1 2 3; do
		run_as "$A" e2e-keys claim "$B" > "$T/a$i" 2> "$T/a$i.err" & pids+=($!)
		run_as "$C" e2e-keys claim "$B" > "$T/c$i" 2> "$T/c$i.err" & pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || fail "a claim failed: $(cat "$T"/*.err)"
	done
	claim_pkids "$T"/a? "$T"/c? > "$T/all"
	[ "$(wc -l < "$T/all")" = 6 ]
	[ "$(grep -c ' one-time$' "$T/all")" = 6 ]
	[ "$(sort -u "$T/all" | wc -l)" = 6 ] || fail "$(sort "$T/all")"
	[ "$(server_stock "$B")" = 0 ]
}

@test "FS net A13: an empty stock falls back to the signed prekey, and says so; the message is still forward secret (fs_kind signed)" {
	COUNT=1 two_users
	run -0 run_as "$A" e2e-keys fetch "$B"
	run -0 run_as "$B" e2e-keys fetch "$A"
	run -0 --separate-stderr run_as "$A" e2e-keys claim "$B"
	[ "$(echo "$output" | jq -r .kind)" = one-time ]
	[ -z "$stderr" ]
	run -0 --separate-stderr run_as "$A" e2e-keys claim "$B"
	[ "$(echo "$output" | jq -r .kind)" = signed ]
	[ "$(echo "$output" | jq -r .pkid)" = "$(jq -r .signed "$T/pub.json")" ]
	grep -q "^e2e-keys: $B's one-time prekeys are used up.*the signed prekey serves" <<< "$stderr" ||
	    fail "$stderr"
	# Sent as a user would: the signed prekey, said on stderr.
	run --separate-stderr env E2E_HOME="$(home_of "$A")" bash -c \
	    'echo "signed only" | e2e-encrypt -r "$1" | e2e-send --to "$1"' _ "$B"
	[ "$status" -eq 0 ] || fail "$stderr"
	grep -q "the signed prekey serves" <<< "$stderr" || fail "$stderr"
	run --separate-stderr env E2E_HOME="$(home_of "$B")" bash -c \
	    'e2e-recv | e2e-decrypt --fs-grace 0'
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["text"], o["fs"], o["fs_kind"]]')" = \
	    '["signed only\n", true, "signed"]' ]
}

@test "FS net: a prekey the server made (its proof by another key) is refused by e2e-keys claim (65), loudly, and e2e-encrypt sends nothing" {
	two_users
	run -0 run_as "$A" e2e-keys fetch "$B"
	local bid bkid x pkid proof now
	bid=$(uid "$B")
	bkid=$(thumbprint "$T/$B")
	now=$(date +%s)
	# The server's own X25519 key, its proof signed by carol's key in
	# bob's key's name: every one-time prekey of bob's replaced by it.
	x=$("$PYTHON" -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode())')
	pkid=$(pkid_of "$x")
	proof=$("$PYTHON" "$BATS_TEST_DIRNAME/prekeys.py" proof "$T/$C" "$bid" "$B" "$URL" "$now" one-time "$x" "$pkid" "$bkid")
	plant_prekey "$x" "$proof" "$now"
	claim_refused '.*'
	grep -q "passing off a prekey of its own" <<< "$stderr" || fail "$stderr"
	# Another such prekey, through e2e-encrypt: 65, no envelope, no
	# quiet fallback to RSA-OAEP-256.
	plant_prekey "$x" "$proof" "$now"
	encrypt_refused "THE SERVER HANDED OUT"
}

@test "FS net: a low-order X25519 point in the server's stock, its proof valid (bob's own key signed it; a server of an older version took it), is refused by e2e-keys claim (65), loudly, naming it; e2e-encrypt sends nothing" {
	two_users
	run -0 run_as "$A" e2e-keys fetch "$B"
	local x proof now
	now=$(date +%s)
	# u = p + 1, which X25519 reads as the point 1 (order 4 on the
	# twist); the proof by bob's key, for bob, this server.
	x=$("$PYTHON" -c 'import base64
print(base64.urlsafe_b64encode((2**255 - 18).to_bytes(32, "little")).rstrip(b"=").decode())')
	proof=$("$PYTHON" "$BATS_TEST_DIRNAME/prekeys.py" proof "$T/$B" "$(uid "$B")" "$B" "$URL" "$now" one-time "$x")
	plant_prekey "$x" "$proof" "$now"
	claim_refused 'is for a prekey that is a low-order X25519 point (RFC 7748 section 6.1): no key agreement with it is secret'
	plant_prekey "$x" "$proof" "$now"
	encrypt_refused "low-order X25519 point"
}

@test "FS net: --require-fs against a user without prekeys is refused (69); without it, RSA-OAEP-256 as before; --no-fs claims nothing" {
	two_users
	user "$C" "$T/$C"
	run -0 run_as "$A" e2e-keys fetch "$C"
	run --separate-stderr run_as "$A" e2e-encrypt --require-fs -r "$C" -o "$T/x.jwe" <<< "no"
	[ "$status" -eq 69 ] || fail "$status $stderr"
	grep -q "has no prekey, and --require-fs refuses to send without forward secrecy" <<< "$stderr" ||
	    fail "$stderr"
	run -0 --separate-stderr run_as "$A" e2e-encrypt -r "$C" -o "$T/y.jwe" <<< "rsa"
	[ "$(fs_alg "$T/y.jwe")" = RSA-OAEP-256 ]
	# --no-fs: bob's stock untouched.
	run -0 run_as "$A" e2e-keys fetch "$B"
	run -0 --separate-stderr run_as "$A" e2e-encrypt --no-fs -r "$B" -o "$T/z.jwe" <<< "rsa"
	[ "$(fs_alg "$T/z.jwe")" = RSA-OAEP-256 ]
	[ "$(server_stock "$B")" = 4 ]
}

# fs_alg FILE: the protected header's alg (RSA-OAEP-256 for an all-RSA
# envelope), else the first recipient's.
fs_alg() {
	"$PYTHON" -c '
import base64, json, sys
e = json.load(open(sys.argv[1]))
p = e["protected"]
h = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
print(h.get("alg") or e["recipients"][0]["header"]["alg"])' "$1"
}

@test "FS net: the server out of reach: e2e-encrypt -r NAME falls back to RSA-OAEP-256 with one note; --require-fs refuses" {
	two_users
	run -0 run_as "$A" e2e-keys fetch "$B"
	stop_server
	run --separate-stderr run_as "$A" e2e-encrypt -r "$B" -o "$T/x.jwe" <<< "offline"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$stderr" = "e2e-encrypt: no prekey of $B could be claimed (the server cannot be asked): RSA-OAEP-256, not forward secret" ] || fail "$stderr"
	[ "$(fs_alg "$T/x.jwe")" = RSA-OAEP-256 ]
	run --separate-stderr run_as "$A" e2e-encrypt --require-fs -r "$B" -o "$T/y.jwe" <<< "offline"
	[ "$status" -eq 69 ] || fail "$status $stderr"
	# e2e-keys claim itself (not --quiet) says why, in one error line.
	run --separate-stderr run_as "$A" e2e-keys claim --retry-time 1 "$B"
	[ "$status" -ne 0 ] && [ "$status" -ne 65 ] || fail "$status $stderr"
	[ -z "$output" ]
	[ "$(grep -c '^e2e-keys: error: ' <<< "$stderr")" = 1 ] || fail "$stderr"
}

@test "FS net A13: past --prekey-claim-rate, a claim gets the signed prekey only, says so, and leaves the stock to others" {
	two_users --prekey-claim-rate 1
	user "$C" "$T/$C"
	run -0 run_as "$A" e2e-keys fetch "$B"
	run -0 --separate-stderr run_as "$A" e2e-keys claim "$B"
	[ "$(echo "$output" | jq -r .kind)" = one-time ]
	run -0 --separate-stderr run_as "$A" e2e-keys claim "$B"
	[ "$(echo "$output" | jq -r .kind)" = signed ]
	grep -q "the signed prekey serves" <<< "$stderr" || fail "$stderr"
	[ "$(server_stock "$B")" = 3 ]
	# carol has her own allowance.
	run -0 run_as "$C" e2e-keys fetch "$B"
	run -0 --separate-stderr run_as "$C" e2e-keys claim "$B"
	[ "$(echo "$output" | jq -r .kind)" = one-time ]
}

# route_count ROUTE: the requests the server answered on ROUTE (its
# /metrics, every status).
route_count() {
	curl -s -S "$URL/metrics" | awk -v r="route=\"$1\"" '
	    index($0, "e2e_requests_total{" r ",") == 1 { n += $NF }
	    END { print n + 0 }'
}

@test "FS net by default: two users who only do what README says (signup --key, fetch, e2e-encrypt -r NAME | e2e-send, e2e-recv | e2e-decrypt) get a forward-secret message; the server's stock down by one; e2e-encrypt asks the directory for the keys once" {
	start_own_server
	USER_PREKEYS=1 user "$A" "$T/$A"
	USER_PREKEYS=1 user "$B" "$T/$B"
	# signup --key published a first batch with the key.
	jq -e '.prekeys == 100' "$T/signup-$B.json"
	[ "$(server_stock "$B")" = 100 ]
	[ "$(private_prekeys "$B")" = 100 ]
	run -0 run_as "$A" e2e-keys fetch "$B"
	run -0 run_as "$B" e2e-keys fetch "$A"
	keys0=$(route_count keys_get)
	claims0=$(route_count prekeys_claim)
	run --separate-stderr env E2E_HOME="$(home_of "$A")" bash -c \
	    'printf "hi bob\n" | e2e-encrypt -r "$1" | tee "$2" | e2e-send --to "$1"' _ "$B" "$T/sent.jwe"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ] || fail "$stderr"
	# GET /keys/bob once (e2e-keys fetch), GET /prekeys/bob once (the
	# claim, with the keys just pinned).
	[ "$(( $(route_count keys_get) - keys0 ))" = 1 ] ||
	    fail "keys_get: $(( $(route_count keys_get) - keys0 ))"
	[ "$(( $(route_count prekeys_claim) - claims0 ))" = 1 ]
	[ "$(server_stock "$B")" = 99 ]
	[ "$(jq -r '.recipients[0].header.alg' "$T/sent.jwe")" = ECDH-ES+A256KW ]
	run --separate-stderr env E2E_HOME="$(home_of "$B")" bash -c \
	    'e2e-recv | e2e-decrypt'
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["text"], o["fs"], o["fs_kind"], o["verified"]]')" = \
	    '["hi bob\n", true, "one-time", true]' ]
}

@test "FS net by default: e2e-keys publish publishes a first batch with the key (prekeys.json made), none again once it has some; --no-prekeys publishes none: claim says so, e2e-encrypt -r NAME uses RSA-OAEP-256" {
	start_own_server
	user "$A" "$T/$A"
	home_config "$B" "$T/$B"
	account "$B"
	run -0 --separate-stderr run_as "$B" e2e-keys publish
	[ -z "$stderr" ] || fail "$stderr"
	[ "$output" = "{\"name\":\"$B\",\"kid\":\"$(thumbprint "$T/$B")\",\"published\":true,\"prekeys\":100}" ] ||
	    fail "$output"
	[ "$(server_stock "$B")" = 100 ]
	[ "$(private_prekeys "$B")" = 100 ]
	# Again: it has prekeys; nothing made.
	run -0 --separate-stderr run_as "$B" e2e-keys publish
	[ "$output" = "{\"name\":\"$B\",\"kid\":\"$(thumbprint "$T/$B")\",\"published\":true,\"prekeys\":100}" ]
	[ "$(private_prekeys "$B")" = 100 ]
	# --no-prekeys: the key alone.
	home_config "$C" "$T/$C"
	account "$C"
	run -0 --separate-stderr run_as "$C" e2e-keys publish --no-prekeys
	[ -z "$stderr" ] || fail "$stderr"
	[ "$output" = "{\"name\":\"$C\",\"kid\":\"$(thumbprint "$T/$C")\",\"published\":true,\"prekeys\":null}" ]
	[ ! -e "$(home_of "$C")/prekeys.json" ]
	[ "$(server_stock "$C")" = 0 ]
	run -0 run_as "$A" e2e-keys fetch "$C"
	run -0 --separate-stderr run_as "$A" e2e-keys claim "$C"
	[ -z "$output" ]
	[[ "$stderr" == *"$C has no prekeys: messages to $C are not forward secret"* ]] || fail "$stderr"
	run -0 --separate-stderr run_as "$A" e2e-encrypt -r "$C" -o "$T/c.jwe" <<< "rsa"
	[ "$(fs_alg "$T/c.jwe")" = RSA-OAEP-256 ]
	# --no-prekeys is for publish (and signup --key) only.
	run --separate-stderr run_as "$C" e2e-keys fetch --no-prekeys "$A"
	client_error e2e-keys 64 "--no-prekeys is for publish only"
	run --separate-stderr run_as "$C" e2e-account signup "$C" --no-prekeys
	client_error e2e-account 64 "--no-prekeys is for signup --key only"
}

@test "FS net by default: when the prekeys cannot be made, publish and signup --key still publish the key (exit 0) and say so in one warning line with the fix; e2e-keys prekeys then finishes" {
	start_own_server
	home_config "$B" "$T/$B"
	account "$B"
	# A store others may read: refused (C3), the key published anyway.
	printf '{"version":1,"identities":{}}' > "$(home_of "$B")/prekeys.json"
	chmod 644 "$(home_of "$B")/prekeys.json"
	run -0 --separate-stderr run_as "$B" e2e-keys publish
	[ "$output" = "{\"name\":\"$B\",\"kid\":\"$(thumbprint "$T/$B")\",\"published\":true,\"prekeys\":null}" ]
	[ "$(grep -c . <<< "$stderr")" = 1 ] || fail "$stderr"
	[[ "$stderr" == "e2e-keys: warning: your key is published, but no prekeys ("*"only you can read"*"): messages to you are not forward secret until you run: e2e-keys prekeys" ]] ||
	    fail "$stderr"
	[ "$(sq "SELECT count(*) FROM keys WHERE kid = '$(thumbprint "$T/$B")'")" = 1 ]
	[ "$(server_stock "$B")" = 0 ]
	chmod 600 "$(home_of "$B")/prekeys.json"
	run -0 run_as "$B" e2e-keys prekeys
	[ "$(server_stock "$B")" = 100 ]
	# signup --key the same way.
	home_config "$C" "$T/$C"
	printf '{"version":1,"identities":{}}' > "$(home_of "$C")/prekeys.json"
	chmod 644 "$(home_of "$C")/prekeys.json"
	run -0 --separate-stderr run_as "$C" e2e-account --server "$URL" signup "$C" \
	    --password-file "$(pwfile "$C")" --key "$T/$C"
	jq -e --arg k "$(thumbprint "$T/$C")" '.kid == $k and .prekeys == null' <<< "$output"
	[[ "$stderr" == *"e2e-account: warning: your key is published, but no prekeys ("*"): messages to you are not forward secret until you run: e2e-keys prekeys" ]] ||
	    fail "$stderr"
	[ "$(server_stock "$C")" = 0 ]
}

@test "FS net: e2e-recv's first run publishes a first batch for a published key without prekeys, quietly; not with prekeys = no in the config, for a passphrase-protected identity, or before the key is published" {
	start_own_server
	user "$B" "$T/$B"
	[ ! -e "$(home_of "$B")/prekeys.json" ]
	printf 'prekeys = no\n' >> "$(home_of "$B")/config"
	run -0 --separate-stderr run_as "$B" e2e-recv
	[ ! -e "$(home_of "$B")/prekeys.json" ]
	[ "$(server_stock "$B")" = 0 ]
	sed -i '/^prekeys/d' "$(home_of "$B")/config"
	run -0 --separate-stderr run_as "$B" e2e-recv
	[ -z "$output" ] && [ -z "$stderr" ] || fail "$output $stderr"
	[ "$(server_stock "$B")" = 100 ]
	[ "$(private_prekeys "$B")" = 100 ]
	# Then a top-up only when low: nothing made.
	run -0 run_as "$B" e2e-recv
	[ "$(private_prekeys "$B")" = 100 ]
	# A value that is neither yes nor no: e2e-recv refuses it as any
	# bad value of the config (78, one line naming it), publish says so
	# and publishes.
	printf 'prekeys = maybe\n' >> "$(home_of "$B")/config"
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 78 ] || fail "$status $stderr"
	[ -z "$output" ]
	[ "$stderr" = "e2e-recv: error: prekeys (config file) must be yes or no" ] ||
	    fail "$stderr"
	run -0 --separate-stderr run_as "$B" e2e-keys publish
	[[ "$stderr" == *"prekeys (config file) must be yes or no"* ]] || fail "$stderr"
	# No key published: nothing made.
	home_config "$C" "$T/$C"
	account "$C"
	run -0 --separate-stderr run_as "$C" e2e-recv
	[ -z "$stderr" ] || fail "$stderr"
	[ ! -e "$(home_of "$C")/prekeys.json" ]
	# A protected identity cannot sign proofs unattended: nothing made,
	# nothing asked.
	home_config "$A" "$T/protected"
	account "$A"
	(umask 077 && echo "correct horse" > "$T/pp")
	run -0 run_as "$A" e2e-keys publish --no-prekeys --passphrase-file "$T/pp"
	run -0 --separate-stderr run_as "$A" e2e-recv < /dev/null
	[ -z "$stderr" ] || fail "$stderr"
	[ ! -e "$(home_of "$A")/prekeys.json" ]
	[ "$(server_stock "$A")" = 0 ]
}
