#!/usr/bin/env bats
# The key directory, the keyring and trust (issue 5), against a real
# e2e-server: PUT /keys, GET /keys/NAME, DELETE /keys/KID
# (lib/server/routes.c); e2e-keys (publish, fetch, list, show, verify,
# accept, import, export, forget, withdraw, qr); e2e-account signup
# --key; names for -r and --verify, and the identity of the config file,
# in e2e-encrypt and e2e-decrypt; and what stream mode decides from the
# keyring and the replay cache (lib/keys/trust.c).
#
# Catalogue items: E1 (unsigned never verified), E2 (signer must be
# pinned for the record's sender: a server that lies about senders, a
# JWS re-signed by mallory), E3 (forwarding), E4 (replay, iat window),
# E5 (server key substitution: TOFU, safety numbers, accept), E6 (a bad
# inner signature under a valid outer JWE), E7 (A256GCM to several
# recipients: cek_commit), L2 (seed format never verified; downgrade).
#
# Each test has a server of its own (a key belongs to one account, so
# the committed keys cannot serve two tests' users on one server), its
# own user names (suffixed with the test's number), client homes and a
# working folder ($T/w) that holds no file named like a user, since a
# file that exists wins over a contact's name.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load client_helpers
load keys_helpers

setup_file() {
	# Keys made once for the file: alice's second device, bob's new
	# key, mallory's key.
	file_keys alice2 newbob mallory
}

setup() {
	common_setup
	fixed_keys
	test_names
	KD=$BATS_FILE_TMPDIR/k
	start_own_server || return 1
	mkdir -p "$T/w"
	cd "$T/w" || return 1
}

teardown() {
	stop_own_server
}

# keys_body PEMFILE [KID [PROOF]]: {"keys":[{"pem":...[,"kid":KID]
# [,"proof":PROOF]}]}; an empty KID is left out.
keys_body() {
	"$PYTHON" -c 'import json, sys
k = {"pem": open(sys.argv[1]).read()}
if len(sys.argv) > 2 and sys.argv[2]:
    k["kid"] = sys.argv[2]
if len(sys.argv) > 3:
    k["proof"] = sys.argv[3]
print(json.dumps({"keys": [k]}))' "$@"
}

# proven_body NAME KEYFILE [KID]: the body publishing the public half of
# the private KEYFILE (KEYFILE.pub) for NAME, with a proof.
proven_body() {
	keys_body "$2.pub" "${3:-}" "$(key_proof "$2" "$(uid "$1")" "$1")"
}

# put_keys TOKEN BODY: PUT /keys with BODY (JSON text).
put_keys() {
	printf '%s' "$2" > "$T/put.json"
	api PUT /keys -H "Authorization: Bearer $1" \
	    -H 'Content-Type: application/json' --data-binary "@$T/put.json"
}

# get_keys TOKEN NAME: GET /keys/NAME.
get_keys() {
	api GET "/keys/$2" -H "Authorization: Bearer $1"
}

# sorted_kids KID...: the key ids sorted, space-separated.
sorted_kids() {
	printf '%s\n' "$@" | LC_ALL=C sort | paste -sd ' '
}

# The kids of $body's keys, one line, sorted, space-separated.
body_kids() {
	printf '%s' "$body" | "$PYTHON" -c 'import json, sys
print(" ".join(sorted(k["kid"] for k in json.load(sys.stdin)["keys"])))'
}

# safety NAME_A KIDS_A NAME_B KIDS_B: the safety number of lib/keys/safety.h,
# computed here in Python from its description (KIDS comma-separated).
safety() {
	"$PYTHON" - "$@" <<'EOF'
import hashlib, sys
def half(name, kids):
    k = ",".join(sorted(set(kids.split(",")))).encode()
    d = hashlib.sha512(b"e2e-chat safety number v1\0" + name.encode() +
                       b"\0" + k).digest()
    for _ in range(5199):
        d = hashlib.sha512(d + k).digest()
    return "".join("%05d" % (int.from_bytes(d[i:i + 5], "big") % 100000)
                   for i in range(0, 30, 5))
h = sorted([half(sys.argv[1], sys.argv[2]), half(sys.argv[3], sys.argv[4])])
s = h[0] + h[1]
print(" ".join(s[i:i + 5] for i in range(0, 60, 5)))
EOF
}

# ---- the server's key directory ----

@test "directory: PUT /keys computes the kid, checks a given one (400 on mismatch); GET /keys/NAME gives {name, id, keys:[{kid,pem,created_at,proof}]}" {
	user "$A"
	user "$B"
	signin "$B" "$(password_of "$B")"
	local tb=$token
	signin "$A" "$(password_of "$A")"
	local ta=$token
	# Nothing published yet: an empty list.
	get_keys "$tb" "$A"
	[ "$status_code" = 200 ] || fail "$status_code $body"
	[ "$(printf '%s' "$body" | pyj 'd')" = "{\"name\": \"$A\", \"id\": \"$(uid "$A")\", \"keys\": []}" ]
	# Published without a kid: the server computes it.
	local proof
	proof=$(key_proof "$T/alice" "$(uid "$A")" "$A")
	put_keys "$ta" "$(keys_body "$T/alice.pub" "" "$proof")"
	[ "$status_code" = 200 ] || fail "$status_code $body"
	printf '%s' "$body" > put.json
	get_keys "$tb" "$A"
	[ "$status_code" = 200 ]
	printf '%s' "$body" > get.json
	pycheck '
	p, g = j(sys.argv[1]), j(sys.argv[2])
	assert p == g, (p, g)
	assert list(g) == ["name", "id", "keys"] and g["name"] == sys.argv[3], g
	assert g["id"] == sys.argv[7], g
	(k,) = g["keys"]
	assert sorted(k) == ["created_at", "kid", "pem", "proof"], k
	assert k["kid"] == sys.argv[4], k
	assert k["pem"] == open(sys.argv[5]).read(), k["pem"]
	assert k["proof"] == sys.argv[6], k
	assert isinstance(k["created_at"], int), k
	assert abs(k["created_at"] - time.time()) < 600, k
	' put.json get.json "$A" "$KID_ALICE" "$T/alice.pub" "$proof" "$(uid "$A")"
	# The same key again, with its right kid: kept as it was.
	put_keys "$ta" "$(proven_body "$A" "$T/alice" "$KID_ALICE")"
	[ "$status_code" = 200 ] || fail "$status_code $body"
	[ "$(body_kids)" = "$KID_ALICE" ]
	# A kid that is not the key's: 400, naming both; nothing stored.
	put_keys "$ta" "$(keys_body "$T/carol.pub" "$KID_BOB")"
	[ "$status_code" = 400 ] || fail "$status_code $body"
	[[ "$body" == *"kid is $KID_BOB but the key's id is $KID_CAROL"* ]] ||
	    fail "$body"
	put_keys "$ta" "$(keys_body "$T/carol.pub" "not-a-kid")"
	[ "$status_code" = 400 ] || fail "$status_code $body"
	[[ "$body" == *"kid is not a key id"* ]] || fail "$body"
	get_keys "$tb" "$A"
	[ "$(body_kids)" = "$KID_ALICE" ]
	# A PKCS#1 public key is kept in the server's own encoding (SPKI).
	put_keys "$ta" "$(keys_body "$T/pkcs1.pub" "" \
	    "$(key_proof "$T/pkcs1.key" "$(uid "$A")" "$A")")"
	[ "$status_code" = 200 ] || fail "$status_code $body"
	printf '%s' "$body" | pyj '[k["pem"] for k in d["keys"]]' > pems
	grep -q 'BEGIN PUBLIC KEY' pems
	not grep -q 'BEGIN RSA PUBLIC KEY' pems
	[ "$(body_kids)" = "$(sorted_kids "$KID_ALICE" "$(thumbprint "$T/pkcs1.pub")")" ]
	# Unknown and invalid names: 404.
	get_keys "$tb" "nobody$N"
	[ "$status_code" = 404 ] || fail "$status_code $body"
	[[ "$body" == *"no such user"* ]]
	get_keys "$tb" "bad%20name"
	[ "$status_code" = 404 ] || fail "$status_code $body"
	# Without a token: 403, for every route of the directory.
	api GET "/keys/$A"
	[ "$status_code" = 403 ] || fail "$status_code $body"
	keys_body "$T/bob.pub" > body.json
	api PUT /keys -H 'Content-Type: application/json' --data-binary @body.json
	[ "$status_code" = 403 ] || fail "$status_code $body"
	api DELETE "/keys/$KID_ALICE"
	[ "$status_code" = 403 ] || fail "$status_code $body"
	api PUT /keys -H 'Authorization: Bearer x.y.z' \
	    -H 'Content-Type: application/json' --data-binary @body.json
	[ "$status_code" = 403 ] || fail "$status_code $body"
	get_keys "$tb" "$A"
	[ "$(printf '%s' "$body" | pyj 'len(d["keys"])')" = 2 ]
}

@test "directory: weak (1024 bits), e=3, EC, a private key, garbage, empty, not an array, more than 16, unknown member: 400, nothing stored" {
	user "$A"
	signin "$A" "$(password_of "$A")"
	local f words
	local -A bad=(
		[weak1024.pub]="1024-bit RSA key; at least 2048 bits"
		[e3.pub]="public exponent other than 65537"
		[ec.pub]="not an RSA key"
		[alice]="is a private key"
		[pkcs1.key]="is a private key"
	)
	for f in "${!bad[@]}"; do
		put_keys "$token" "$(keys_body "$T/$f")"
		[ "$status_code" = 400 ] || fail "$f: $status_code $body"
		[[ "$body" == *"${bad[$f]}"* ]] || fail "$f: $body"
	done
	put_keys "$token" '{"keys":[{"pem":"garbage"}]}'
	[ "$status_code" = 400 ] && [[ "$body" == *"not a PEM public key"* ]] ||
	    fail "$status_code $body"
	put_keys "$token" '{"keys":[{"pem":""}]}'
	[ "$status_code" = 400 ] || fail "$status_code $body"
	put_keys "$token" '{"keys":[]}'
	[ "$status_code" = 400 ] && [[ "$body" == *"1 to 16 keys"* ]] ||
	    fail "$status_code $body"
	put_keys "$token" "{\"keys\":$(keys_body "$T/alice.pub" | pyj 'd["keys"][0]')}"
	[ "$status_code" = 400 ] && [[ "$body" == *"1 to 16 keys"* ]] ||
	    fail "$status_code $body"
	put_keys "$token" '{"keys":"-----BEGIN PUBLIC KEY-----"}'
	[ "$status_code" = 400 ] || fail "$status_code $body"
	put_keys "$token" '{}'
	[ "$status_code" = 400 ] || fail "$status_code $body"
	put_keys "$token" '{"keys":["a PEM as a bare string"]}'
	[ "$status_code" = 400 ] || fail "$status_code $body"
	# 17 keys in one request (the same one: the count is checked first).
	put_keys "$token" "$(keys_body "$T/alice.pub" | pyj '{"keys": d["keys"] * 17}')"
	[ "$status_code" = 400 ] && [[ "$body" == *"1 to 16 keys"* ]] ||
	    fail "$status_code $body"
	# An unknown member of a key.
	put_keys "$token" "$(proven_body "$A" "$T/alice" |
	    pyj '{"keys": [dict(d["keys"][0], device="phone")]}')"
	[ "$status_code" = 400 ] || fail "$status_code $body"
	# A good key (with its proof) beside a bad one: nothing of the
	# request is stored.
	put_keys "$token" "$("$PYTHON" -c 'import json, sys
print(json.dumps({"keys": [{"pem": open(sys.argv[1]).read(),
    "proof": sys.argv[3]}, {"pem": open(sys.argv[2]).read()}]}))' \
	    "$T/alice.pub" "$T/weak1024.pub" \
	    "$(key_proof "$T/alice" "$(uid "$A")" "$A")")"
	[ "$status_code" = 400 ] && [[ "$body" == *"keys[1]"* ]] ||
	    fail "$status_code $body"
	get_keys "$token" "$A"
	[ "$status_code" = 200 ]
	[ "$(printf '%s' "$body" | pyj 'd["keys"]')" = "[]" ]
	[ "$(sq "SELECT count(*) FROM keys WHERE user_id = '$(uid "$A")'")" = 0 ]
}

@test "directory: at most 16 keys per user: the 17th is refused (409); a key published already is no new one" {
	user "$A" "$T/alice"
	signin "$A" "$(password_of "$A")"
	# 15 more rows, straight in the database (making 15 RSA keys would
	# take seconds): the server counts rows.
	local i
	for i in $(seq 10 24); do
		sq "INSERT INTO keys VALUES ('$(uid "$A")',
		    'filler-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'x', 1, NULL)"
	done
	[ "$(sq "SELECT count(*) FROM keys WHERE user_id = '$(uid "$A")'")" = 16 ]
	put_keys "$token" "$(proven_body "$A" "$T/bob")"
	[ "$status_code" = 409 ] || fail "$status_code $body"
	[[ "$body" == *"at most 16 keys"* ]] || fail "$body"
	# alice's own key again: already there, fine.
	put_keys "$token" "$(proven_body "$A" "$T/alice")"
	[ "$status_code" = 200 ] || fail "$status_code $body"
	[ "$(sq "SELECT count(*) FROM keys WHERE user_id = '$(uid "$A")'")" = 16 ]
	# The client says it too.
	run --separate-stderr run_as "$A" e2e-keys publish "$T/carol"
	client_error e2e-keys 65 "at most 16 keys"
}

@test "directory: DELETE /keys/KID by its owner only (another user's kid: 404); e2e-keys withdraw" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	signin "$B" "$(password_of "$B")"
	local tb=$token
	signin "$A" "$(password_of "$A")"
	local ta=$token
	# bob cannot withdraw alice's key: not found, and it stays.
	api DELETE "/keys/$KID_ALICE" -H "Authorization: Bearer $tb"
	[ "$status_code" = 404 ] && [[ "$body" == *"no such key"* ]] ||
	    fail "$status_code $body"
	run --separate-stderr run_as "$B" e2e-keys withdraw "$KID_ALICE"
	client_error e2e-keys 65 "no such key"
	get_keys "$tb" "$A"
	[ "$(body_kids)" = "$KID_ALICE" ]
	# Not a key id: 404 from the server, 64 from the tool.
	api DELETE "/keys/not-a-kid" -H "Authorization: Bearer $ta"
	[ "$status_code" = 404 ] || fail "$status_code $body"
	run --separate-stderr run_as "$A" e2e-keys withdraw not-a-kid
	client_error e2e-keys 64 "key id"
	# alice withdraws her own: gone from the directory.
	api DELETE "/keys/$KID_ALICE" -H "Authorization: Bearer $ta"
	[ "$status_code" = 200 ] || fail "$status_code $body"
	[ "$(printf '%s' "$body" | pyj 'd')" = "{\"kid\": \"$KID_ALICE\", \"deleted\": true}" ]
	get_keys "$tb" "$A"
	[ "$(printf '%s' "$body" | pyj 'd["keys"]')" = "[]" ]
	api DELETE "/keys/$KID_ALICE" -H "Authorization: Bearer $ta"
	[ "$status_code" = 404 ] || fail "$status_code $body"
	# The same with e2e-keys withdraw.
	run -0 run_as "$B" e2e-keys withdraw "$KID_BOB"
	[ "$output" = "{\"kid\":\"$KID_BOB\",\"withdrawn\":true}" ]
	get_keys "$ta" "$B"
	[ "$(printf '%s' "$body" | pyj 'd["keys"]')" = "[]" ]
	# Nothing to fetch now.
	run --separate-stderr run_as "$A" e2e-keys fetch "$B"
	client_error e2e-keys 65 "$B has published no key"
	stderr_has "hint: .*e2e-keys publish"
}

@test "directory: the keys go with the account: deleted account, GET /keys/NAME 404, rows gone" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	local aid
	aid=$(uid "$A")
	[ "$(sq "SELECT count(*) FROM keys WHERE user_id = '$aid'")" = 1 ]
	run -0 run_as "$A" e2e-account delete --yes --password-file "$T/$A.pw"
	signin "$B" "$(password_of "$B")"
	get_keys "$token" "$A"
	[ "$status_code" = 404 ] || fail "$status_code $body"
	[ "$(sq "SELECT count(*) FROM keys WHERE user_id = '$aid'")" = 0 ]
	run --separate-stderr run_as "$B" e2e-keys fetch "$A"
	[ "$status" -eq 67 ] || fail "$status $stderr"
	[ -z "$output" ]
	stderr_has "no such user"
}

# ---- publishing ----

@test "C3 an unprotected private key others can read: signup --key refuses it (77) and makes no account; e2e-keys publish and qr refuse it too; publish of a protected one warns" {
	home_config "$A" "$T/alice"
	local f
	f=$(pwfile "$A")
	chmod 644 "$T/alice"
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signup \
	    "$A" --password-file "$f" --key "$T/alice"
	client_error e2e-account 77 "private key file $T/alice can be read by group or others and has no passphrase; not using it: chmod 600 $T/alice"
	[ "$(sq "SELECT count(*) FROM users WHERE name = '$A'")" = 0 ]
	run -0 run_as "$A" e2e-account --server "$URL" signup "$A" --password-file "$f"
	run --separate-stderr run_as "$A" e2e-keys publish
	client_error e2e-keys 77 "chmod 600 $T/alice"
	run --separate-stderr run_as "$A" e2e-keys qr
	client_error e2e-keys 77 "chmod 600 $T/alice"
	[ "$(sq "SELECT count(*) FROM keys WHERE user_id = '$(uid "$A")'")" = 0 ]
	chmod 640 "$T/protected"
	(umask 077 && echo "correct horse" > pp)
	run --separate-stderr run_as "$A" e2e-keys publish --passphrase-file pp "$T/protected"
	[ "$status" -eq 0 ] || fail "$stderr"
	stderr_has "warning: private key file $T/protected can be read by group or others"
	[ "$(sq "SELECT count(*) FROM keys WHERE user_id = '$(uid "$A")'")" = 1 ]
}

@test "publish: signup --key prints the kid; e2e-keys publish takes the config's identity, a KEYFILE, a protected key; never a public key file (it proves nothing)" {
	home_config "$A" "$T/alice"
	local f
	f=$(pwfile "$A")
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signup \
	    "$A" --password-file "$f" --key "$T/alice"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	printf '%s\n' "$output" > out.json
	pycheck '
	o = j(sys.argv[1])
	assert sorted(o) == ["expires_at", "id", "kid", "name", "prekeys",
	    "server"], o
	assert o["name"] == sys.argv[2] and o["kid"] == sys.argv[3], o
	# With the key, a first batch of prekeys (forward secrecy).
	assert o["prekeys"] == 100, o
	' out.json "$A" "$KID_ALICE"
	[ "$(sq "SELECT kid FROM keys WHERE user_id = '$(uid "$A")'")" = "$KID_ALICE" ]
	# publish without KEYFILE: the identity of the config file (again:
	# no change; its prekeys there already).
	run --separate-stderr run_as "$A" e2e-keys publish
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "{\"name\":\"$A\",\"kid\":\"$KID_ALICE\",\"published\":true,\"prekeys\":100}" ]
	# A public key file: refused, it cannot sign a proof (I1).
	run --separate-stderr run_as "$A" e2e-keys publish "$KD/alice2.pub"
	client_error e2e-keys 66 "is a public key, not a private key"
	stderr_has "hint: publish needs your private key"
	# Another private key, and a protected one.
	run -0 run_as "$A" e2e-keys publish "$KD/alice2"
	[ "$output" = "{\"name\":\"$A\",\"kid\":\"$(thumbprint "$KD/alice2.pub")\",\"published\":true,\"prekeys\":100}" ]
	(umask 077 && echo "correct horse" > pp)
	run -0 run_as "$A" e2e-keys publish --passphrase-file pp "$T/protected"
	[ "$output" = "{\"name\":\"$A\",\"kid\":\"$(thumbprint "$T/protected.pub")\",\"published\":true,\"prekeys\":100}" ]
	[ "$(sq "SELECT count(*) FROM keys WHERE user_id = '$(uid "$A")'")" = 3 ]
	# No KEYFILE and no identity: 64 with a hint naming the setting.
	user "$B"
	run --separate-stderr run_as "$B" e2e-keys publish
	client_error e2e-keys 64 "no key file given and no identity"
	stderr_has 'hint: .*identity = PATH'
	# Not signed in: 77.
	run -0 run_as "$B" e2e-account signout
	run --separate-stderr run_as "$B" e2e-keys publish "$T/bob.pub"
	client_error e2e-keys 77 "not signed in"
	[ "$(sq "SELECT count(*) FROM keys WHERE user_id = '$(uid "$B")'")" = 0 ]
}

@test "publish: weak, e=3 and EC keys are refused with the reason (65), as e2e-encrypt and import do; nothing published" {
	user "$A"
	local f
	local -A reason=(
		[weak1024]="1024-bit RSA key; at least 2048 bits are needed"
		[e3]="public exponent other than 65537"
		[ec]="not an RSA key"
	)
	for f in "${!reason[@]}"; do
		# The reference: what e2e-keys import says of the public key.
		run --separate-stderr run_as "$A" e2e-keys import "$B" "$T/$f.pub"
		client_error e2e-keys 65 "${reason[$f]}"
		run --separate-stderr run_as "$A" e2e-keys publish "$T/$f.key"
		client_error e2e-keys 65 "${reason[$f]}"
	done
	[ "$(sq "SELECT count(*) FROM keys WHERE user_id = '$(uid "$A")'")" = 0 ]
}

# ---- three users: publish, fetch and pin, messages by name ----

@test "E5: alice and bob publish; carol fetches and pins (pinned, then unchanged), lists, and they exchange signed messages by name" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	user "$C" "$T/carol"
	run --separate-stderr run_as "$C" e2e-keys fetch "$A"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	[ "$output" = "{\"name\":\"$A\",\"keys\":[\"$KID_ALICE\"],\"status\":\"pinned\",\"verified\":false}" ]
	run -0 run_as "$C" e2e-keys fetch "$A"
	[ "$output" = "{\"name\":\"$A\",\"keys\":[\"$KID_ALICE\"],\"status\":\"unchanged\",\"verified\":false}" ]
	run -0 run_as "$C" e2e-keys fetch "$B"
	[ "$output" = "{\"name\":\"$B\",\"keys\":[\"$KID_BOB\"],\"status\":\"pinned\",\"verified\":false}" ]
	run --separate-stderr run_as "$C" e2e-keys list
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = "{\"name\":\"$A\",\"keys\":[\"$KID_ALICE\"],\"pending\":[],\"verified\":false,\"changed\":false}" ]
	[ "${lines[1]}" = "{\"name\":\"$B\",\"keys\":[\"$KID_BOB\"],\"pending\":[],\"verified\":false,\"changed\":false}" ]
	# The keyring file: 0600, the keys pinned from the directory.
	[ "$(stat -c %a "$(home_of "$C")/keyring.json")" = 600 ]
	pycheck '
	k = j(sys.argv[1])
	assert k["version"] == 1, k
	a = k["contacts"][sys.argv[2]]
	assert [x["kid"] for x in a["keys"]] == [sys.argv[3]], a
	assert a["keys"][0]["source"] == "directory", a
	assert a["keys"][0]["pem"] == open(sys.argv[4]).read(), a
	assert a["pending"] == [] and a["verified"] is False, a
	' "$(home_of "$C")/keyring.json" "$A" "$KID_ALICE" "$T/alice.pub"
	# carol writes to both by name, signed with her identity (the
	# config's) without -s.
	echo "hello both" > pt
	run --separate-stderr run_as "$C" e2e-encrypt -r "$A" -r "$B" -o m.jwe pt
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	[ "$(recipients_of m.jwe)" = "$(sorted_kids "$KID_ALICE" "$KID_BOB")" ]
	[ "$(protected_of m.jwe)" = '{"alg":"RSA-OAEP-256","enc":"A256CBC-HS512","cty":"e2e-msg+jws"}' ]
	# alice reads it without -i (her identity) and checks carol by name:
	# carol is fetched and pinned on first use.
	run --separate-stderr run_as "$A" e2e-decrypt --verify "$C" m.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "hello both" ]
	[ -z "$stderr" ]
	run -0 run_as "$A" e2e-keys list
	[ "$output" = "{\"name\":\"$C\",\"keys\":[\"$KID_CAROL\"],\"pending\":[],\"verified\":false,\"changed\":false}" ]
	run --separate-stderr run_as "$B" e2e-decrypt --verify "$C" m.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "hello both" ]
	# Verified for real: alice's key is not carol's.
	run --separate-stderr run_as "$B" e2e-decrypt --verify "$A" m.jwe
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	stderr_has "^e2e-decrypt: error: the message is signed by key $KID_CAROL, not by the key $KID_ALICE"
	# alice answers through the server; carol's stream verifies her.
	echo "hi carol" | run_as "$A" e2e-encrypt -r "$C" > a2c.jwe
	send_as "$A" "$C" a2c.jwe > id
	run_as "$C" e2e-recv > inbox
	run --separate-stderr run_as "$C" e2e-decrypt inbox
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(field 0 '[o["id"], o["from"], o["signed_by"], o["verified"], o["text"], "warning" in o]')" = \
	    "[\"$(cat id)\", \"$A\", \"$KID_ALICE\", true, \"hi carol\\n\", false]" ]
}

@test "identity: with identity = PATH, e2e-encrypt signs by default (--no-sign does not) and e2e-decrypt needs no -i; without it, 64" {
	home_config "$A" "$T/alice"
	home_config "$B" "$T/bob"
	echo "signed by default" | run_as "$A" e2e-encrypt -r "$T/bob.pub" > s.jwe
	[[ "$(protected_of s.jwe)" == *'"cty":"e2e-msg+jws"'* ]]
	run --separate-stderr run_as "$B" e2e-decrypt --verify "$T/alice.pub" s.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "signed by default" ]
	echo "not signed" | run_as "$A" e2e-encrypt --no-sign -r "$T/bob.pub" > u.jwe
	[ "$(protected_of u.jwe)" = '{"alg":"RSA-OAEP-256","enc":"A256CBC-HS512"}' ]
	run --separate-stderr run_as "$B" e2e-decrypt --verify "$T/alice.pub" u.jwe
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	stderr_has '^e2e-decrypt: error: the message is not signed'
	run --separate-stderr run_as "$A" e2e-encrypt --no-sign -s "$T/alice" \
	    -r "$T/bob.pub" < /dev/null
	client_error e2e-encrypt 64 "contradict"
	# -s beats the identity.
	echo "by carol" | run_as "$A" e2e-encrypt -s "$T/carol" -r "$T/bob.pub" > c.jwe
	run -0 run_as "$B" e2e-decrypt --verify "$T/carol.pub" c.jwe
	# -i beats the identity.
	echo "for carol" | e2e-encrypt -r "$T/carol.pub" > forc.jwe
	run --separate-stderr run_as "$B" e2e-decrypt -i "$T/carol" forc.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "for carol" ]
	# No identity: e2e-encrypt does not sign; e2e-decrypt needs -i.
	home_config "$C"
	echo "plain" | run_as "$C" e2e-encrypt -r "$T/bob.pub" > p.jwe
	[ "$(protected_of p.jwe)" = '{"alg":"RSA-OAEP-256","enc":"A256CBC-HS512"}' ]
	run --separate-stderr run_as "$C" e2e-decrypt p.jwe
	client_error e2e-decrypt 64 "no private key"
	stderr_has 'hint: .*identity = PATH'
}

@test "E5: show: key ids, my_keys and the same safety number on both sides (12 groups of 5 digits); verify --yes; without a terminal 64" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	run -0 run_as "$A" e2e-keys fetch "$B"
	run -0 run_as "$B" e2e-keys fetch "$A"
	run --separate-stderr run_as "$A" e2e-keys show "$B"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	printf '%s\n' "$output" > ab.json
	run --separate-stderr run_as "$B" e2e-keys show "$A"
	[ "$status" -eq 0 ] || fail "$stderr"
	printf '%s\n' "$output" > ba.json
	local want
	want=$(safety "$A" "$KID_ALICE" "$B" "$KID_BOB")
	pycheck '
	import re
	ab, ba = j(sys.argv[1]), j(sys.argv[2])
	A, B, ka, kb, want = sys.argv[3:8]
	assert list(ab) == ["name", "keys", "pending", "verified", "changed",
	    "my_keys", "safety_number"], ab
	assert ab["name"] == B and ab["keys"] == [kb] and ab["my_keys"] == [ka]
	assert ba["name"] == A and ba["keys"] == [ka] and ba["my_keys"] == [kb]
	for x in (ab, ba):
	    assert x["pending"] == [] and x["verified"] is False, x
	    assert x["changed"] is False, x
	    assert re.fullmatch(r"[0-9]{5}( [0-9]{5}){11}", x["safety_number"]), x
	assert ab["safety_number"] == ba["safety_number"], (ab, ba)
	assert ab["safety_number"] == want, (ab, want)
	' ab.json ba.json "$A" "$B" "$KID_ALICE" "$KID_BOB" "$want"
	# verify without a terminal and without --yes: 64, nothing changed.
	run --separate-stderr no_tty env E2E_HOME="$(home_of "$A")" \
	    e2e-keys verify "$B" < /dev/null
	[ "$status" -eq 64 ] || fail "$status $stderr"
	[ -z "$output" ]
	stderr_has '^e2e-keys: error: no terminal'
	stderr_has '^e2e-keys: hint: .*--yes'
	run -0 run_as "$A" e2e-keys show "$B"
	[[ "$output" == *'"verified":false'* ]]
	run --separate-stderr run_as "$A" e2e-keys verify --yes "$B"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "{\"name\":\"$B\",\"verified\":true}" ]
	run -0 run_as "$A" e2e-keys show "$B"
	[ "$(field 0 '[o["verified"], o["safety_number"]]')" = "[true, \"$want\"]" ]
	# Only alice's side is verified.
	run -0 run_as "$B" e2e-keys show "$A"
	[[ "$output" == *'"verified":false'* ]]
	# A name not in the keyring: 65 with a hint to fetch.
	run --separate-stderr run_as "$A" e2e-keys show "$C"
	client_error e2e-keys 65 "$C is not in your keyring"
	stderr_has "hint: .*e2e-keys fetch $C"
	run --separate-stderr run_as "$A" e2e-keys verify --yes "$C"
	client_error e2e-keys 65 "$C is not in your keyring"
	# --yes is for verify only.
	run --separate-stderr run_as "$A" e2e-keys show --yes "$B"
	client_error e2e-keys 64 "--yes"
}

# ---- E5: the directory changes a key ----

@test "E5: a key replaced in the server's database: fetch says THE KEY HAS CHANGED (65); encrypt, decrypt --verify, verify, qr refuse; show and list say changed" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	run -0 run_as "$A" e2e-keys fetch "$B"
	run -0 run_as "$A" e2e-keys verify --yes "$B"
	local knew
	knew=$(thumbprint "$KD/newbob.pub")
	# Messages to alice from bob's old and new keys, made beforehand.
	echo "old key" | e2e-encrypt -r "$T/alice.pub" -s "$T/bob" > old.jwe
	echo "new key" | e2e-encrypt -r "$T/alice.pub" -s "$KD/newbob" > new.jwe
	db_replace_key "$B" "$KD/newbob.pub"
	run --separate-stderr run_as "$A" e2e-keys fetch "$B"
	client_error e2e-keys 65 "THE KEY OF $B HAS CHANGED"
	stderr_has "^e2e-keys: warning: pinned for $B: $KID_BOB\$"
	stderr_has "^e2e-keys: warning: now offered for $B: $knew\$"
	stderr_has "^e2e-keys: hint: .*e2e-keys accept $B\$"
	# Still refused the second time (nothing was accepted).
	run --separate-stderr run_as "$A" e2e-keys fetch "$B"
	client_error e2e-keys 65 "THE KEY OF $B HAS CHANGED"
	# e2e-encrypt -r NAME: refused, nothing written.
	run --separate-stderr run_as "$A" e2e-encrypt -r "$B" -o out.jwe \
	    <<< "secret"
	[ "$status" -eq 65 ] || fail "$status $stderr"
	[ -z "$output" ]
	[ ! -e out.jwe ]
	stderr_has "^e2e-(keys|encrypt): error: THE KEY OF $B HAS CHANGED"
	stderr_has "$knew"
	stderr_has "e2e-keys accept $B"
	# Signed out (the keyring alone): refused too.
	cp -a "$(home_of "$A")" "$T/homes/out$N"
	rm "$T/homes/out$N/session"
	run --separate-stderr run_as "out$N" e2e-encrypt -r "$B" <<< "secret"
	client_error e2e-encrypt 65 "THE KEY OF $B HAS CHANGED"
	# e2e-decrypt --verify NAME: refused, whatever key signed.
	run --separate-stderr run_as "$A" e2e-decrypt --verify "$B" old.jwe
	[ "$status" -eq 65 ] || fail "$status $stderr"
	[ -z "$output" ]
	stderr_has "THE KEY OF $B HAS CHANGED"
	run --separate-stderr run_as "$A" e2e-decrypt --verify "$B" new.jwe
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	# verify and qr refuse the name.
	run --separate-stderr run_as "$A" e2e-keys verify --yes "$B"
	client_error e2e-keys 65 "THE KEY OF $B HAS CHANGED"
	run --separate-stderr run_as "$A" e2e-keys qr "$B"
	client_error e2e-keys 65 "THE KEY OF $B HAS CHANGED"
	# show and list: changed, with the offered key pending.
	run --separate-stderr run_as "$A" e2e-keys show "$B"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["keys"], o["pending"], o["changed"]]')" = \
	    "[[\"$KID_BOB\"], [\"$knew\"], true]" ]
	run -0 run_as "$A" e2e-keys list
	[ "$output" = "{\"name\":\"$B\",\"keys\":[\"$KID_BOB\"],\"pending\":[\"$knew\"],\"verified\":true,\"changed\":true}" ]
	# Stream mode: bob's records are not verified, with a warning.
	{ record 01OLD "$B" old.jwe; record 01NEW "$B" new.jwe; } > records
	run --separate-stderr run_as "$A" e2e-decrypt records
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "${#lines[@]}" -eq 2 ]
	[ "$(field 0 '[o["signed_by"], o["verified"], o["warning"]]')" = \
	    "[\"$KID_BOB\", false, \"the key of $B has changed (e2e-keys show $B)\"]" ]
	[ "$(field 1 '[o["signed_by"], o["verified"], o["warning"]]')" = \
	    "[\"$knew\", false, \"the key of $B has changed (e2e-keys show $B)\"]" ]
}

@test "E5: after e2e-keys accept, every tool works with the new key, the old one is no longer trusted, and verified is false again" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	run -0 run_as "$A" e2e-keys fetch "$B"
	run -0 run_as "$A" e2e-keys verify --yes "$B"
	local knew
	knew=$(thumbprint "$KD/newbob.pub")
	db_replace_key "$B" "$KD/newbob.pub"
	run -65 run_as "$A" e2e-keys fetch "$B"
	# Nothing to accept for a name whose key did not change.
	run --separate-stderr run_as "$A" e2e-keys accept "$C"
	client_error e2e-keys 65 "no new key of $C"
	run --separate-stderr run_as "$A" e2e-keys accept "$B"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "{\"name\":\"$B\",\"keys\":[\"$knew\"],\"pending\":[],\"verified\":false,\"changed\":false}" ]
	run --separate-stderr run_as "$A" e2e-keys accept "$B"
	client_error e2e-keys 65 "no new key of $B"
	run -0 run_as "$A" e2e-keys fetch "$B"
	[ "$output" = "{\"name\":\"$B\",\"keys\":[\"$knew\"],\"status\":\"unchanged\",\"verified\":false}" ]
	run -0 run_as "$A" e2e-keys show "$B"
	[ "$(field 0 '[o["keys"], o["verified"], o["changed"]]')" = "[[\"$knew\"], false, false]" ]
	# The safety number changed with the key.
	[ "$(field 0 'o["safety_number"]')" = "$(safety "$A" "$KID_ALICE" "$B" "$knew")" ]
	# Encrypted to the new key only; its owner reads it.
	run --separate-stderr run_as "$A" e2e-encrypt -r "$B" -o m.jwe <<< "to the new key"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(recipients_of m.jwe)" = "$knew" ]
	run -0 --separate-stderr e2e-decrypt -i "$KD/newbob" --verify "$T/alice.pub" m.jwe
	[ "$output" = "to the new key" ]
	# alice was signed in: her name is signed, which a key file cannot
	# vouch for (issue 8).
	[ "$stderr" = "e2e-decrypt: warning: the message is signed as from $A; --verify with a key file checks the key, not that name (--verify $A checks both)" ]
	run -65 e2e-decrypt -i "$T/bob" m.jwe
	# --verify NAME: the new key verifies, the old one no longer.
	echo "new key" | e2e-encrypt -r "$T/alice.pub" -s "$KD/newbob" > new.jwe
	echo "old key" | e2e-encrypt -r "$T/alice.pub" -s "$T/bob" > old.jwe
	run --separate-stderr run_as "$A" e2e-decrypt --verify "$B" new.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "new key" ]
	run --separate-stderr run_as "$A" e2e-decrypt --verify "$B" old.jwe
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	stderr_has "^e2e-decrypt: error: the message is signed by key $KID_BOB, not by the key $knew"
	# Stream mode: verified with the new key; the old one is not pinned.
	{ record 01NEW "$B" new.jwe; record 01OLD "$B" old.jwe; } > records
	run --separate-stderr run_as "$A" e2e-decrypt records
	[ "$status" -eq 0 ] || fail "$stderr"
	# (Verified by its key only: made without a name, it signs none.)
	[ "$(field 0 '[o["verified"], o["warning"]]')" = \
	    "[true, \"the sender's name is not signed (an older version wrote the message): verified by its key only\"]" ]
	[ "$(field 1 '[o["verified"], o["warning"]]')" = \
	    "[false, \"signed by key $KID_BOB, which is not pinned for $B\"]" ]
}

@test "E5: alice adds a second key (a new device): refused until accepted; then both are hers and the next fetch finds nothing new" {
	user "$A" "$T/alice"
	user "$C" "$T/carol"
	run -0 run_as "$C" e2e-keys fetch "$A"
	# alice adds a second key (a new device; no prekeys: the envelope's
	# entries name the identity keys).
	run -0 run_as "$A" e2e-keys publish --no-prekeys "$KD/alice2"
	local k2
	k2=$(thumbprint "$KD/alice2.pub")
	run --separate-stderr run_as "$C" e2e-keys fetch "$A"
	client_error e2e-keys 65 "THE KEY OF $A HAS CHANGED"
	stderr_has "now offered for $A: $k2"
	run -65 run_as "$C" e2e-encrypt -r "$A" <<< "hi"
	run --separate-stderr run_as "$C" e2e-keys accept "$A"
	[ "$status" -eq 0 ] || fail "$stderr"
	# Both keys are in the directory: both are alice's now, and the
	# next fetch (which every e2e-encrypt -r runs) finds nothing new.
	run --separate-stderr run_as "$C" e2e-keys fetch "$A"
	[ "$status" -eq 0 ] ||
	    fail "after accepting alice's new key, fetch refuses her again: $stderr"
	[ "$(field 0 '[o["status"], " ".join(sorted(o["keys"]))]')" = \
	    "[\"unchanged\", \"$(sorted_kids "$KID_ALICE" "$k2")\"]" ]
	run --separate-stderr run_as "$C" e2e-encrypt -r "$A" -o m.jwe <<< "both"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(recipients_of m.jwe)" = "$(sorted_kids "$KID_ALICE" "$k2")" ]
}

@test "E5: a directory entry whose kid is not its key's, or whose key is weak, is refused and pins nothing" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	# The server names bob's key with carol's id.
	sq "UPDATE keys SET kid = '$KID_CAROL' WHERE user_id = '$(uid "$B")'"
	run --separate-stderr run_as "$A" e2e-keys fetch "$B"
	client_error e2e-keys 65 "$B's key from the directory is refused"
	stderr_has "the directory names key $KID_BOB as $KID_CAROL"
	run -0 run_as "$A" e2e-keys list
	[ -z "$output" ]
	run --separate-stderr run_as "$A" e2e-encrypt -r "$B" <<< "x"
	[ "$status" -eq 65 ] || fail "$status $stderr"
	[ -z "$output" ]
	# A weak key, with its own id.
	local kw
	kw=$(thumbprint "$T/weak1024.pub")
	sq "UPDATE keys SET kid = '$kw', pem = CAST(readfile('$T/weak1024.pub') AS TEXT)
	    WHERE user_id = '$(uid "$B")'"
	run --separate-stderr run_as "$A" e2e-keys fetch "$B"
	client_error e2e-keys 65 "$B's key from the directory is refused: .*1024-bit"
	run -0 run_as "$A" e2e-keys list
	[ -z "$output" ]
}

@test "keyring: a keyring.json others can write, or one that pins a key under another key's id, is refused (78)" {
	home_config "$A"
	run -0 run_as "$A" e2e-keys import "$B" "$T/bob.pub"
	local k
	k=$(home_of "$A")/keyring.json
	chmod 664 "$k"
	run --separate-stderr run_as "$A" e2e-keys list
	client_error e2e-keys 78 "keyring.json"
	run --separate-stderr run_as "$A" e2e-encrypt -r "$B" <<< "x"
	[ "$status" -eq 78 ] || fail "$status $stderr"
	[ -z "$output" ]
	chmod 600 "$k"
	run -0 run_as "$A" e2e-keys list
	# carol's key under bob's id: refused, not used.
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["contacts"][sys.argv[2]]["keys"][0]["pem"] = open(sys.argv[3]).read()
open(sys.argv[1], "w").write(json.dumps(d))' "$k" "$B" "$T/carol.pub"
	run --separate-stderr run_as "$A" e2e-keys list
	client_error e2e-keys 78 "malformed"
	run --separate-stderr run_as "$A" e2e-encrypt -r "$B" <<< "x"
	[ "$status" -eq 78 ] || fail "$status $stderr"
	[ -z "$output" ]
}

# ---- names for -r and --verify ----

@test "names: -r NAME fetches and pins on first use; signed out, the keyring; an unknown name 67 (signed in) or 66; -r FILE.pub stays a file" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	# First use: fetched and pinned.
	run --separate-stderr run_as "$A" e2e-encrypt -r "$B" -o m.jwe <<< "first use"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	[ "$(recipients_of m.jwe)" = "$KID_BOB" ]
	run -0 run_as "$A" e2e-keys list
	[ "$output" = "{\"name\":\"$B\",\"keys\":[\"$KID_BOB\"],\"pending\":[],\"verified\":false,\"changed\":false}" ]
	run -0 run_as "$B" e2e-decrypt --verify "$A" m.jwe
	[ "$output" = "first use" ]
	# An unknown name while signed in: the server says so.
	run --separate-stderr run_as "$A" e2e-encrypt -r "nobody$N" <<< "x"
	[ "$status" -eq 67 ] || fail "$status $stderr"
	[ -z "$output" ]
	stderr_has "^e2e-encrypt: error: nobody$N is not a user of the server"
	# Signed out: the pinned key is used as it is (the directory's
	# change is not seen).
	db_replace_key "$B" "$KD/newbob.pub"
	run -0 run_as "$A" e2e-account signout
	run --separate-stderr run_as "$A" e2e-encrypt -r "$B" -o m2.jwe <<< "offline"
	[ "$status" -eq 0 ] || fail "$stderr"
	# Signed out, nothing names alice: her name is not signed (issue 8);
	# and no prekey can be claimed (issue 16): RSA-OAEP-256, said once.
	[ "$stderr" = "e2e-encrypt: no prekey of $B could be claimed (the server cannot be asked): RSA-OAEP-256, not forward secret
e2e-encrypt: signing without your name, which is unknown: sign in, set name = NAME in the config file, or give --from NAME" ] || fail "$stderr"
	[ "$(recipients_of m2.jwe)" = "$KID_BOB" ]
	run -0 --separate-stderr run_as "$A" e2e-decrypt --verify "$B" < <(
	    echo "signed by bob" | e2e-encrypt -r "$T/alice.pub" -s "$T/bob")
	[ "$output" = "signed by bob" ]
	# An unknown name with nothing to fetch it from: 66.
	run --separate-stderr run_as "$A" e2e-encrypt -r "nobody$N" <<< "x"
	client_error e2e-encrypt 66 "nobody$N is neither a key file nor a contact"
	run --separate-stderr run_as "$A" e2e-decrypt --verify "nobody$N" m.jwe
	client_error e2e-decrypt 66 "nobody$N is neither a key file nor a contact"
	# FILE.pub is a file, even when absent and a contact has that name.
	run --separate-stderr run_as "$A" e2e-encrypt -r "$B.pub" <<< "x"
	client_error e2e-encrypt 66 "cannot open public key file $B.pub"
	cp "$T/carol.pub" "$B.pub"
	run -0 run_as "$A" e2e-encrypt -r "$B.pub" -o m3.jwe <<< "x"
	[ "$(recipients_of m3.jwe)" = "$KID_CAROL" ]
	# A file that exists beats a contact of the same name.
	cp "$T/carol.pub" "$B"
	run -0 run_as "$A" e2e-encrypt -r "$B" -o m4.jwe <<< "x"
	[ "$(recipients_of m4.jwe)" = "$KID_CAROL" ]
	rm "$B"
	# The same name twice, or a contact and its key file: 64.
	run --separate-stderr run_as "$A" e2e-encrypt -r "$B" -r "$T/bob.pub" <<< "x"
	client_error e2e-encrypt 64 "same key"
}

@test "names: the server down, -r NAME uses the pinned keys and says no error" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	run -0 run_as "$A" e2e-keys fetch "$B"
	# The session now names a server that is not there.
	session_set "$A" server "\"http://127.0.0.1:$(free_port)\""
	run --separate-stderr run_as "$A" e2e-encrypt -r "$B" -o m.jwe <<< "server down"
	[ "$status" -eq 0 ] || fail "$status $stderr"
	[ "$(recipients_of m.jwe)" = "$KID_BOB" ]
	run -0 --separate-stderr e2e-decrypt -i "$T/bob" --verify "$T/alice.pub" m.jwe
	[ "$output" = "server down" ]
	# The pinned keys were used as the design says (contacts.h, and
	# e2e-keys fetch --quiet: "no network is no news"): no error line.
	if printf '%s\n' "$stderr" | grep -q 'error:'; then
		fail "an error line on a run that succeeded: $stderr"
	fi
}

@test "names: a contact with two keys (two devices): -r NAME encrypts to both; --verify NAME takes either, not a third (single and stream mode)" {
	user "$A" "$T/alice"
	# No prekeys: the envelope's entries name the identity keys.
	run -0 run_as "$A" e2e-keys publish --no-prekeys "$KD/alice2"
	user "$C" "$T/carol"
	local k2
	k2=$(thumbprint "$KD/alice2.pub")
	run -0 run_as "$C" e2e-keys fetch "$A"
	[ "$(field 0 '" ".join(sorted(o["keys"]))')" = "$(sorted_kids "$KID_ALICE" "$k2")" ]
	# To both of alice's keys; each reads it.
	run -0 run_as "$C" e2e-encrypt -r "$A" -o m.jwe <<< "to both devices"
	[ "$(recipients_of m.jwe)" = "$(sorted_kids "$KID_ALICE" "$k2")" ]
	run -0 --separate-stderr e2e-decrypt -i "$T/alice" --verify "$T/carol.pub" m.jwe
	[ "$output" = "to both devices" ]
	run -0 --separate-stderr e2e-decrypt -i "$KD/alice2" --verify "$T/carol.pub" m.jwe
	[ "$output" = "to both devices" ]
	# Signed by either key: verified; by mallory's: refused.
	echo "from device 1" | e2e-encrypt -r "$T/carol.pub" -s "$T/alice" > s1.jwe
	echo "from device 2" | e2e-encrypt -r "$T/carol.pub" -s "$KD/alice2" > s2.jwe
	echo "from mallory" | e2e-encrypt -r "$T/carol.pub" -s "$KD/mallory" > s3.jwe
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$A" s1.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "from device 1" ]
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$A" s2.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "from device 2" ]
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$A" s3.jwe
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	stderr_has "^e2e-decrypt: error: the message is signed by key $(thumbprint "$KD/mallory.pub"), which is not among the keys pinned for $A"
	# Stream mode, without and with --verify NAME.
	{ record 01A "$A" s1.jwe; record 01B "$A" s2.jwe; record 01C "$A" s3.jwe; } > records
	run --separate-stderr run_as "$C" e2e-decrypt records
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(printf '%s\n' "$output" | pyl '[x["verified"] for x in L]')" = "[true, true, false]" ]
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$A" records
	[ "$status" -eq 65 ]
	[ "$(printf '%s\n' "$output" | pyl '[[x["id"], x["verified"]] for x in L]')" = \
	    '[["01A", true], ["01B", true]]' ]
	stderr_has "^e2e-decrypt: error: message 01C from $A: the message is signed by key"
}

# ---- import, export, forget, qr ----

@test "import NAME FILE (PEM), export NAME (openssl reads it, same kid), forget NAME; no server needed" {
	home_config "$A"
	run --separate-stderr run_as "$A" e2e-keys import "$B" "$T/bob.pub"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	[ "$output" = "{\"name\":\"$B\",\"kid\":\"$KID_BOB\",\"imported\":true}" ]
	# PKCS#1 too, for another name.
	run -0 run_as "$A" e2e-keys import "$C" "$T/pkcs1.pub"
	run -0 run_as "$A" e2e-keys list
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = "{\"name\":\"$B\",\"keys\":[\"$KID_BOB\"],\"pending\":[],\"verified\":false,\"changed\":false}" ]
	pycheck '
	k = j(sys.argv[1])["contacts"][sys.argv[2]]
	assert k["keys"][0]["source"] == "import", k
	' "$(home_of "$A")/keyring.json" "$B"
	# export: a PEM that openssl reads, with the same key id.
	run_as "$A" e2e-keys export "$B" > b.pem
	openssl pkey -pubin -in b.pem -noout
	[ "$(thumbprint b.pem)" = "$KID_BOB" ]
	run_as "$A" e2e-keys export "$C" > c.pem
	grep -q 'BEGIN PUBLIC KEY' c.pem
	[ "$(thumbprint c.pem)" = "$(thumbprint "$T/pkcs1.pub")" ]
	# The imported name works offline for e2e-encrypt.
	run -0 run_as "$A" e2e-encrypt -r "$B" -o m.jwe <<< "imported"
	run --separate-stderr e2e-decrypt -i "$T/bob" m.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "imported" ]
	# Refused files (66, as e2e-encrypt -r does): a private key,
	# garbage, missing; a bad name (64).
	run --separate-stderr run_as "$A" e2e-keys import "$M" "$T/alice"
	client_error e2e-keys 66 "is a private key; give the public key"
	echo garbage > g.txt
	run --separate-stderr run_as "$A" e2e-keys import "$M" g.txt
	client_error e2e-keys 66 "g.txt is not a PEM public key"
	run --separate-stderr run_as "$A" e2e-keys import "$M" missing.pub
	client_error e2e-keys 66 "missing.pub"
	run --separate-stderr run_as "$A" e2e-keys import "bad/name" "$T/bob.pub"
	client_error e2e-keys 64 "name"
	run -0 run_as "$A" e2e-keys list
	[ "${#lines[@]}" -eq 2 ]
	# forget.
	run -0 run_as "$A" e2e-keys forget "$B"
	[ "$output" = "{\"name\":\"$B\",\"forgotten\":true}" ]
	run --separate-stderr run_as "$A" e2e-keys forget "$B"
	client_error e2e-keys 65 "$B is not in your keyring"
	run --separate-stderr run_as "$A" e2e-keys export "$B"
	client_error e2e-keys 65 "$B is not in your keyring"
	run -0 run_as "$A" e2e-keys list
	[ "${#lines[@]}" -eq 1 ]
	run --separate-stderr run_as "$A" e2e-encrypt -r "$B" <<< "x"
	client_error e2e-encrypt 66 "neither a key file nor a contact"
}

@test "import NAME of a QR text: accepted; a text naming another user 65; tampered texts 65" {
	home_config "$A"
	# The text of a QR code, made here from qr.h's description.
	qrtext() {
		"$PYTHON" - "$@" <<'EOF'
import base64, sys
from cryptography.hazmat.primitives import serialization
name, path, kid = sys.argv[1:4]
pub = serialization.load_pem_public_key(open(path, "rb").read())
der = pub.public_bytes(serialization.Encoding.DER,
                       serialization.PublicFormat.SubjectPublicKeyInfo)
spki = base64.urlsafe_b64encode(der).rstrip(b"=").decode()
print("e2e-key:v1:%s:%s:%s" % (name, kid, spki))
EOF
	}
	qrtext "$B" "$T/bob.pub" "$KID_BOB" > b.txt
	run --separate-stderr run_as "$A" e2e-keys import "$B" b.txt
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "{\"name\":\"$B\",\"kid\":\"$KID_BOB\",\"imported\":true}" ]
	run_as "$A" e2e-keys export "$B" > b.pem
	[ "$(thumbprint b.pem)" = "$KID_BOB" ]
	# zbarimg's "QR-Code:" prefix, and an empty name, are fine.
	printf 'QR-Code:%s\n' "$(qrtext "" "$T/carol.pub" "$KID_CAROL")" > c.txt
	run -0 run_as "$A" e2e-keys import "$C" c.txt
	[ "$output" = "{\"name\":\"$C\",\"kid\":\"$KID_CAROL\",\"imported\":true}" ]
	# The text names another user: refused, nothing imported.
	run --separate-stderr run_as "$A" e2e-keys import "$M" b.txt
	client_error e2e-keys 65 "holds the key of $B, not of $M"
	# The key id is not the key's (carol's id on bob's key).
	qrtext "$M" "$T/bob.pub" "$KID_CAROL" > t1.txt
	run --separate-stderr run_as "$A" e2e-keys import "$M" t1.txt
	client_error e2e-keys 65 "t1.txt"
	# One character of the key changed.
	"$PYTHON" -c 'import sys
t = open(sys.argv[1]).read()
i = len(t) - 40
open(sys.argv[2], "w").write(t[:i] + ("A" if t[i] != "A" else "B") + t[i + 1:])' \
	    b.txt t2.txt
	sed -i "s/:$B:/:$M:/" t2.txt
	run --separate-stderr run_as "$A" e2e-keys import "$M" t2.txt
	client_error e2e-keys 65 "t2.txt"
	# A weak key in a well-formed text.
	qrtext "$M" "$T/weak1024.pub" "$(thumbprint "$T/weak1024.pub")" > t3.txt
	run --separate-stderr run_as "$A" e2e-keys import "$M" t3.txt
	client_error e2e-keys 65 "t3.txt"
	# Another version: not a QR text of this version, nor a PEM file.
	sed 's/^e2e-key:v1:/e2e-key:v2:/' b.txt > t4.txt
	run --separate-stderr run_as "$A" e2e-keys import "$B" t4.txt
	client_error e2e-keys 66 "t4.txt is not a PEM public key"
	run -0 run_as "$A" e2e-keys list
	[ "${#lines[@]}" -eq 2 ]
	[[ "$output" != *"$M"* ]]
}

@test "qr: terminal text of space, ▀ ▄ █ only; --png read back with zbarimg gives a text that import accepts, with the key's kid" {
	user "$A" "$T/alice"
	run -0 run_as "$A" e2e-keys import "$B" "$T/bob.pub"
	# A contact's key, a key file, my identity: the text of blocks.
	local arg
	for arg in "$B" "$T/carol.pub" ""; do
		run --separate-stderr run_as "$A" e2e-keys qr ${arg:+"$arg"}
		[ "$status" -eq 0 ] || fail "$arg: $stderr"
		[ -z "$stderr" ]
		printf '%s\n' "$output" > qr.txt
		"$PYTHON" -c 'import sys
t = open(sys.argv[1], encoding="utf-8").read()
assert set(t) <= set(" \u2580\u2584\u2588\n"), set(t)
L = t.split("\n")[:-1]
assert len(L) >= 40 and len(set(map(len, L))) == 1, (len(L), set(map(len, L)))
assert "\u2588" in t' qr.txt
	done
	# --invert swaps the blocks: not the same picture.
	run -0 run_as "$A" e2e-keys qr --invert "$B"
	[ "$output" != "$(run_as "$A" e2e-keys qr "$B")" ]
	# An unknown name: 66.
	run --separate-stderr run_as "$A" e2e-keys qr "nobody$N"
	client_error e2e-keys 66 "neither a key file nor a contact"
	# --png is for qr only.
	run --separate-stderr run_as "$A" e2e-keys list --png x.png
	client_error e2e-keys 64 "--png"
	[ ! -e x.png ]
	command -v zbarimg > /dev/null ||
	    skip "zbarimg (Debian package zbar-tools) is not installed"
	# A contact's code: its name and key.
	run -0 run_as "$A" e2e-keys qr "$B" --png b.png
	[ "$(head -c 8 b.png | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]
	zbarimg --quiet --raw b.png 2>/dev/null > b.txt
	[[ "$(cat b.txt)" == "e2e-key:v1:$B:$KID_BOB:"* ]] || fail "$(cat b.txt)"
	home_config "$C"
	run --separate-stderr run_as "$C" e2e-keys import "$B" b.txt
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "{\"name\":\"$B\",\"kid\":\"$KID_BOB\",\"imported\":true}" ]
	# My own code (the identity's key, my name), imported on the other side.
	run -0 run_as "$A" e2e-keys qr --png a.png
	zbarimg --quiet --raw a.png 2>/dev/null > a.txt
	[[ "$(cat a.txt)" == "e2e-key:v1:$A:$KID_ALICE:"* ]] || fail "$(cat a.txt)"
	run -0 run_as "$C" e2e-keys import "$A" a.txt
	[ "$output" = "{\"name\":\"$A\",\"kid\":\"$KID_ALICE\",\"imported\":true}" ]
	# And under another name it is refused.
	run --separate-stderr run_as "$C" e2e-keys import "$M" a.txt
	client_error e2e-keys 65 "holds the key of $A, not of $M"
}

# ---- stream mode: who signed, and for whom ----

@test "E2: stream mode: verified only when signed by a key pinned for the record's from; a sender changed on the server is caught, naming the real signer" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	user "$C" "$T/carol"
	run -0 run_as "$B" e2e-keys fetch "$A"
	run -0 run_as "$B" e2e-keys fetch "$C"
	# A genuine message from alice, and one from carol whose sender the
	# server changes to alice.
	echo "really alice" | run_as "$A" e2e-encrypt -r "$B" > a.jwe
	echo "really carol" | run_as "$C" e2e-encrypt -r "$B" > c.jwe
	local ida idc
	ida=$(send_as "$A" "$B" a.jwe)
	idc=$(send_as "$C" "$B" c.jwe)
	db_set_sender "$idc" "$A"
	run_as "$B" e2e-recv > inbox
	[ "$(pyl '[[x["id"], x["from"]] for x in L]' < inbox)" = \
	    "[[\"$ida\", \"$A\"], [\"$idc\", \"$A\"]]" ]
	run --separate-stderr run_as "$B" e2e-decrypt inbox
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "${#lines[@]}" -eq 2 ]
	[ "$(field 0 '[o["from"], o["signed_by"], o["verified"], "warning" in o]')" = \
	    "[\"$A\", \"$KID_ALICE\", true, false]" ]
	[ "$(field 1 '[o["from"], o["signed_by"], o["verified"], o["text"]]')" = \
	    "[\"$A\", \"$KID_CAROL\", false, \"really carol\\n\"]" ]
	[ "$(field 1 'o["warning"]')" = \
	    "signed with $C's key, not $A's: the server may be lying about the sender" ]
	# --verify NAME in single mode refuses it outright.
	run --separate-stderr run_as "$B" e2e-decrypt --verify "$A" c.jwe
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	stderr_has "^e2e-decrypt: error: the message is signed by key $KID_CAROL, not by the key $KID_ALICE"
	# And in stream mode with --verify NAME.
	run --separate-stderr run_as "$B" e2e-decrypt --verify "$A" inbox
	[ "$status" -eq 65 ]
	[ "${#lines[@]}" -eq 1 ]
	stderr_has "^e2e-decrypt: error: message $idc from $A: the message is signed by key $KID_CAROL"
}

@test "E2: a message re-signed by mallory (key not pinned) and said to be from alice: not verified, naming the key" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	user "$M" "$KD/mallory"
	run -0 run_as "$B" e2e-keys fetch "$A"
	local km id
	km=$(thumbprint "$KD/mallory.pub")
	echo "trust me, I am alice" | run_as "$M" e2e-encrypt -r "$B" > m.jwe
	id=$(send_as "$M" "$B" m.jwe)
	db_set_sender "$id" "$A"
	run_as "$B" e2e-recv > inbox
	run --separate-stderr run_as "$B" e2e-decrypt inbox
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["from"], o["signed_by"], o["verified"], o["warning"]]')" = \
	    "[\"$A\", \"$km\", false, \"signed by key $km, which is not pinned for $A\"]" ]
	# From a sender not in the keyring at all: not verified either.
	{ record 01X "$C" m.jwe; } > rec
	run --separate-stderr run_as "$B" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["verified"], o["warning"]]')" = \
	    "[false, \"$C is not in your keyring (e2e-keys fetch $C)\"]" ]
	run --separate-stderr run_as "$B" e2e-decrypt --verify "$A" m.jwe
	[ "$status" -eq 65 ]
	[ -z "$output" ]
}

@test "E1: an unsigned JWE from a pinned contact: shown not verified with a warning; --verify NAME refuses it" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	run -0 run_as "$B" e2e-keys fetch "$A"
	echo "no signature" | run_as "$A" e2e-encrypt --no-sign -r "$B" > u.jwe
	send_as "$A" "$B" u.jwe > id
	run_as "$B" e2e-recv > inbox
	run --separate-stderr run_as "$B" e2e-decrypt inbox
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["from"], o["signed_by"], o["verified"], o["warning"]]')" = \
	    "[\"$A\", null, false, \"not signed: anyone could have written it\"]" ]
	run --separate-stderr run_as "$B" e2e-decrypt --verify "$A" u.jwe
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	stderr_has '^e2e-decrypt: error: the message is not signed, and --verify asks for a signature'
	run --separate-stderr run_as "$B" e2e-decrypt --verify "$A" inbox
	[ "$status" -eq 65 ]
	[ -z "$output" ]
}

@test "E3: bob forwards alice's signed message to carol: carol refuses it (aud), in stream and single mode" {
	home_config "$C" "$T/carol"
	run -0 run_as "$C" e2e-keys import "$A" "$T/alice.pub"
	# alice's inner JWS, addressed to bob, re-encrypted by bob to carol.
	craft_env 'signed_for(("carol",), make_jws(b"for bob only\n",
	    header=jc.signed_header("alice", to=("bob",))))' > fwd.jwe
	record 01F "$A" fwd.jwe > rec
	run --separate-stderr run_as "$C" e2e-decrypt rec
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	stderr_has "^e2e-decrypt: error: message 01F from $A: the signed message was not addressed to your key $KID_CAROL"
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$A" fwd.jwe
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	stderr_has "^e2e-decrypt: error: the signed message was not addressed to your key $KID_CAROL"
	# The same built for carol is fine (the crafting is right).
	craft_env 'signed_for(("carol",), make_jws(b"for carol\n",
	    header=jc.signed_header("alice", to=("carol",))))' > ok.jwe
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$A" ok.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "for carol" ]
}

@test "E4: the same envelope delivered twice is dropped the second time ('a second copy', 65), also by a later run; the same record re-read is shown again" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	run -0 run_as "$B" e2e-keys fetch "$A"
	echo "pay 10 euros" | run_as "$A" e2e-encrypt -r "$B" > m.jwe
	local id1 id2 jti
	id1=$(send_as "$A" "$B" m.jwe)
	id2=$(send_as "$A" "$B" m.jwe)
	run_as "$B" e2e-recv > inbox
	[ "$(wc -l < inbox)" -eq 2 ]
	run --separate-stderr run_as "$B" e2e-decrypt inbox
	[ "$status" -eq 65 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(field 0 '[o["id"], o["verified"], o["text"]]')" = "[\"$id1\", true, \"pay 10 euros\\n\"]" ]
	jti=$(awk -v a="$A" '$1 == a { print $2 }' "$(home_of "$B")/replay.log")
	[ -n "$jti" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "${stderr_lines[0]}" = "e2e-decrypt: error: message $id2 from $A: a second copy of message $jti, shown before: dropped (a replay?)" ]
	# A later run: the saved inbox read again shows the first again
	# (same id) and still drops the second.
	run --separate-stderr run_as "$B" e2e-decrypt inbox
	[ "$status" -eq 65 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(field 0 'o["id"]')" = "$id1" ]
	stderr_has "message $id2 from $A: a second copy"
	# The second alone, in yet another run: dropped.
	sed -n 2p inbox > second
	run --separate-stderr run_as "$B" e2e-decrypt second
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	stderr_has "message $id2 from $A: a second copy"
	# The same record line twice in one input: shown twice.
	{ sed -n 1p inbox; sed -n 1p inbox; } > twice
	run --separate-stderr run_as "$B" e2e-decrypt twice
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "E4: the same inner JWS in a new JWE (same jti) is dropped; the same jti from another sender is another message" {
	home_config "$B" "$T/bob"
	run -0 run_as "$B" e2e-keys import "$A" "$T/alice.pub"
	run -0 run_as "$B" e2e-keys import "$C" "$T/carol.pub"
	PYTHONPATH="$INTEROP" "$PYTHON" - "$N" <<'EOF'
import sys
import josecraft as jc
from josecraft import make_jwe, make_jws, envelope_text
jti = "fixed-jti-" + sys.argv[1]
jws = make_jws(b"once only\n", header=jc.signed_header("alice", jti=jti))
for name in ("e1.jwe", "e2.jwe"):	# two JWEs (new CEK, IV) around one JWS
    open(name, "w").write(envelope_text(make_jwe(jws.encode(), signed=True)))
c = make_jws(b"carol's\n", signer="carol",
             header=jc.signed_header("carol", jti=jti))
open("c.jwe", "w").write(envelope_text(make_jwe(c.encode(), signed=True)))
EOF
	not cmp -s e1.jwe e2.jwe
	{ record 01A "$A" e1.jwe; record 01B "$A" e2.jwe; record 01C "$C" c.jwe; } > rec
	run --separate-stderr run_as "$B" e2e-decrypt rec
	[ "$status" -eq 65 ]
	[ "$(printf '%s\n' "$output" | pyl '[[x["id"], x["verified"]] for x in L]')" = \
	    '[["01A", true], ["01C", true]]' ]
	[ "${stderr_lines[0]}" = "e2e-decrypt: error: message 01B from $A: a second copy of message fixed-jti-$N, shown before: dropped (a replay?)" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "E4: a signature more than 30 days old, or from the future, is dropped; 29 days old is shown" {
	home_config "$B" "$T/bob"
	run -0 run_as "$B" e2e-keys import "$A" "$T/alice.pub"
	# Backdated with josecraft: alice's key signs any iat.
	craft_env 'signed_for(("bob",), make_jws(b"old\n",
	    header=jc.signed_header("alice", iat=int(time.time()) - 31 * 86400)))' > old.jwe
	craft_env 'signed_for(("bob",), make_jws(b"recent\n",
	    header=jc.signed_header("alice", iat=int(time.time()) - 29 * 86400)))' > ok.jwe
	craft_env 'signed_for(("bob",), make_jws(b"future\n",
	    header=jc.signed_header("alice", iat=int(time.time()) + 3600)))' > fut.jwe
	{ record 01O "$A" old.jwe; record 01K "$A" ok.jwe; record 01F "$A" fut.jwe; } > rec
	run --separate-stderr run_as "$B" e2e-decrypt rec
	[ "$status" -eq 65 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(field 0 '[o["id"], o["verified"], o["text"]]')" = '["01K", true, "recent\n"]' ]
	[ "${stderr_lines[0]}" = "e2e-decrypt: error: message 01O from $A: signed more than 30 days ago: it cannot be told from a replay; dropped" ]
	[ "${stderr_lines[1]}" = "e2e-decrypt: error: message 01F from $A: signed in the future (check the clocks); dropped" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
}

@test "E6: a valid outer JWE around a bad inner signature by a pinned key is refused in stream mode; a bad outer JWE too" {
	home_config "$B" "$T/bob"
	run -0 run_as "$B" e2e-keys import "$A" "$T/alice.pub"
	(cd "$T/w" && PYTHONPATH="$INTEROP" "$PYTHON" "$INTEROP/attacks.py" \
	    E6-bad-inner-sig E6-bad-outer good-signed)
	{
		record 01S "$A" E6-bad-inner-sig
		record 01O "$A" E6-bad-outer
		record 01G "$A" good-signed
	} > rec
	run --separate-stderr run_as "$B" e2e-decrypt rec
	[ "$status" -eq 65 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(field 0 '[o["id"], o["verified"]]')" = '["01G", true]' ]
	[ "${stderr_lines[0]}" = "e2e-decrypt: error: message 01S from $A: the signature is not valid: the message was not signed by key $KID_ALICE" ]
	[ "${stderr_lines[1]}" = "e2e-decrypt: error: message 01O from $A: cannot decrypt: the message is malformed, was altered, or is not for this key" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	# --verify NAME in single mode: refused as well.
	run --separate-stderr run_as "$B" e2e-decrypt --verify "$A" E6-bad-inner-sig
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	stderr_has "^e2e-decrypt: error: the signature is not valid"
}

@test "E7: A256GCM to several contacts carries cek_commit and each reads it; an uncommitted group message is shown with the warning" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	user "$C" "$T/carol"
	run --separate-stderr run_as "$C" e2e-encrypt --enc A256GCM -r "$A" -r "$B" -o g.jwe <<< "group"
	[ "$status" -eq 0 ] || fail "$stderr"
	"$PYTHON" -c 'import json, re, sys
h = json.loads(sys.argv[1])
assert list(h) == ["alg", "enc", "cty", "cek_commit"], h
assert h["enc"] == "A256GCM", h
assert re.fullmatch(r"[A-Za-z0-9_-]{43}", h["cek_commit"]), h' "$(protected_of g.jwe)"
	local who
	for who in "$A" "$B"; do
		run --separate-stderr run_as "$who" e2e-decrypt --verify "$C" g.jwe
		[ "$status" -eq 0 ] || fail "$who: $stderr"
		[ "$output" = "group" ]
		[ -z "$stderr" ]
	done
	# Crafted: one A256GCM ciphertext that decrypts under bob's and
	# carol's different CEKs (no cek_commit): shown, with the warning.
	(cd "$T/w" && PYTHONPATH="$INTEROP" "$PYTHON" "$INTEROP/attacks.py" \
	    E7-salamander E7-salamander-commit)
	record 01S "$A" E7-salamander > rec
	run --separate-stderr run_as "$B" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["verified"], o["warning"]]')" = '[false, "not signed: anyone could have written it"]' ]
	[ "$stderr" = "e2e-decrypt: warning: message 01S from $A: A256GCM with several recipients and no key commitment: other recipients may have read a different message" ]
	# With cek_commit (bob's CEK committed): carol's copy is refused.
	record 01C "$A" E7-salamander-commit > rec2
	run --separate-stderr e2e-decrypt -i "$T/carol" rec2
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	run --separate-stderr run_as "$B" e2e-decrypt rec2
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
}

# ---- L2: the seed format and downgrade ----

@test "L2: a seed-format record is shown unverified with a warning; after a verified signed JWE from that sender, it is refused as a downgrade (65), also in later runs" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	run -0 run_as "$B" e2e-keys fetch "$A"
	run_as "$A" e2e-encrypt --format seed -r "$B" <<< "seed one" > s1.txt 2>/dev/null
	local s1 j1 s2
	s1=$(send_as "$A" "$B" s1.txt)
	run_as "$B" e2e-recv > in1
	run --separate-stderr run_as "$B" e2e-decrypt in1
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["id"], o["format"], o["verified"], o["warning"]]')" = \
	    "[\"$s1\", \"seed\", false, \"the seed format authenticates no sender\"]" ]
	# A verified signed JWE from alice...
	run_as "$A" e2e-encrypt -r "$B" <<< "signed" > j1.jwe
	j1=$(send_as "$A" "$B" j1.jwe)
	run_as "$B" e2e-recv > in2
	run --separate-stderr run_as "$B" e2e-decrypt in2
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["id"], o["verified"]]')" = "[\"$j1\", true]" ]
	pycheck 'assert j(sys.argv[1])["contacts"][sys.argv[2]]["signed_seen"] is True' \
	    "$(home_of "$B")/keyring.json" "$A"
	# ... and a seed message "from alice" is a possible downgrade.
	run_as "$A" e2e-encrypt --format seed -r "$B" <<< "seed two" > s2.txt 2>/dev/null
	s2=$(send_as "$A" "$B" s2.txt)
	run_as "$B" e2e-recv > in3
	run --separate-stderr run_as "$B" e2e-decrypt in3
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	[ "$stderr" = "e2e-decrypt: error: message $s2 from $A: a seed-format message from $A, who sends signed messages: a possible downgrade; not shown" ]
	# The first seed record, read again now: refused too.
	run --separate-stderr run_as "$B" e2e-decrypt in1
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	stderr_has "downgrade"
	# From someone else (no signed JWE seen): still shown, unverified.
	record 01X "$C" s2.txt > rec
	run --separate-stderr run_as "$B" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["format"], o["verified"]]')" = '["seed", false]' ]
}

@test "L2: an unverified signed JWE (signer not pinned for the sender) does not arm the downgrade check" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	run -0 run_as "$B" e2e-keys fetch "$A"
	echo "not alice" | e2e-encrypt -r "$T/bob.pub" -s "$T/carol" > c.jwe
	echo "seed" | e2e-encrypt --format seed -r "$T/bob.pub" > s.txt 2>/dev/null
	{ record 01C "$A" c.jwe; record 01S "$A" s.txt; } > rec
	run --separate-stderr run_as "$B" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(printf '%s\n' "$output" | pyl '[[x["id"], x["verified"]] for x in L]')" = \
	    '[["01C", false], ["01S", false]]' ]
	pycheck 'assert j(sys.argv[1])["contacts"][sys.argv[2]]["signed_seen"] is False' \
	    "$(home_of "$B")/keyring.json" "$A"
}

# ---- what the review found ----

@test "E5: the safety number takes my half from my own identity, never from the directory's list for me" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	run -0 run_as "$A" e2e-keys fetch "$B"
	local want
	want=$(safety "$A" "$KID_ALICE" "$B" "$KID_BOB")
	# The server lists a key "for alice" that she does not hold: her
	# number does not change, and she is told about the stranger key.
	run -0 run_as "$A" e2e-keys publish "$KD/mallory"
	local km
	km=$(thumbprint "$KD/mallory.pub")
	run --separate-stderr run_as "$A" e2e-keys show "$B"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["my_keys"], o["safety_number"]]')" = \
	    "[[\"$KID_ALICE\"], \"$want\"]" ]
	stderr_has "warning: the directory lists key $km for you too"
	# With the directory out of reach, the same number from the identity
	# (a private key file) alone.
	run --separate-stderr run_as "$A" e2e-keys --server http://127.0.0.1:9 \
	    --retry-time 0 show "$B"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 'o["safety_number"]')" = "$want" ]
}

@test "E5: a key offered once and gone from the directory is not pinned by a later accept" {
	user "$A" "$T/alice"
	user "$C" "$T/carol"
	run -0 run_as "$C" e2e-keys fetch "$A"
	# Injected once: mallory's key listed for alice, then gone.
	run -0 run_as "$A" e2e-keys publish "$KD/mallory"
	run -65 run_as "$C" e2e-keys fetch "$A"
	sq "DELETE FROM keys WHERE kid = '$(thumbprint "$KD/mallory.pub")'"
	# Meanwhile alice really adds a device.
	run -0 run_as "$A" e2e-keys publish "$KD/alice2"
	run -65 run_as "$C" e2e-keys fetch "$A"
	run --separate-stderr run_as "$C" e2e-keys accept "$A"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '" ".join(sorted(o["keys"]))')" = \
	    "$(sorted_kids "$KID_ALICE" "$(thumbprint "$KD/alice2.pub")")" ]
}

@test "a contact imported by hand who published nothing (or withdrew every key) stays usable while signed in" {
	user "$A" "$T/alice"
	user "$C" "$T/carol"
	run -0 run_as "$C" e2e-keys import "$A" "$T/alice.pub"
	run --separate-stderr run_as "$C" e2e-encrypt -r "$A" -o m.jwe <<< "hi"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	[ "$(recipients_of m.jwe)" = "$KID_ALICE" ]
	# A name the server does not know, pinned by hand: still usable
	# (another key: alice's is pinned for alice, one key is one person).
	run -0 run_as "$C" e2e-keys import "nosuchuser$N" "$T/bob.pub"
	run --separate-stderr run_as "$C" e2e-encrypt -r "nosuchuser$N" \
	    -o n.jwe <<< "hi"
	[ "$status" -eq 0 ] || fail "$stderr"
	# Not pinned and unknown to the server: 67, one error line.
	run --separate-stderr run_as "$C" e2e-encrypt -r "nobody$N" <<< "hi"
	client_error e2e-encrypt 67 "nobody$N is not a user of the server"
}

@test "names made only of dots are refused everywhere (they would be URL path segments)" {
	user "$A" "$T/alice"
	run --separate-stderr run_as "$A" e2e-keys fetch ..
	client_error e2e-keys 64 "a name is"
	run --separate-stderr run_as "$A" e2e-send --to .. "$T/alice.pub"
	client_error e2e-send 64 "a name is"
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signup . \
	    --password-file "$(pwfile "$A")"
	client_error e2e-account 64 "a name is"
	run curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	    -d '{"name":"..","password":"pw"}' "$URL/users/signup"
	[ "$output" = 400 ]
}

@test "E5: verify on a terminal: the safety number is shown; no marks nothing, yes marks the contact verified" {
	user "$A" "$T/alice"
	user "$B" "$T/bob"
	run -0 run_as "$A" e2e-keys fetch "$B"
	local want
	want=$(safety "$A" "$KID_ALICE" "$B" "$KID_BOB")
	run --separate-stderr with_tty "no" \
	    env E2E_HOME="$(home_of "$A")" e2e-keys verify "$B"
	client_error e2e-keys 65 "not verified"
	grep -q "$want" "$T/tty.log"
	run -0 run_as "$A" e2e-keys show "$B"
	[[ "$output" == *'"verified":false'* ]]
	run --separate-stderr with_tty "yes" \
	    env E2E_HOME="$(home_of "$A")" e2e-keys verify "$B"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "{\"name\":\"$B\",\"verified\":true}" ]
	run -0 run_as "$A" e2e-keys show "$B"
	[[ "$output" == *'"verified":true'* ]]
}
