#!/usr/bin/env bats
# The prekey directory of e2e-server (issue 16; docs/SERVER.md,
# "Prekeys"; docs/KEYS.md, "Prekeys"): PUT /prekeys with every proof
# checked, GET /prekeys (the owner's stock), GET /prekeys/NAME (a claim:
# each one-time prekey handed out once, then the signed one only), the
# limits (--prekeys-max, --prekeys-batch, --prekey-claim-rate: A13), the
# prekeys of a withdrawn key or a deleted account gone, and the schema's
# migration from version 4. Runs on SQLite in make check and on
# PostgreSQL in make check-pg.
#
# The proofs are made here with python3-cryptography (prekeys.py), one
# with jwcrypto (tests/interop/prekeyproof_jwcrypto.py), never by
# e2e-chat's code. Each test has its own server and database.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load keys_helpers

PREKEYS="$BATS_TEST_DIRNAME/prekeys.py"

setup() {
	common_setup
	fixed_keys
}

teardown() {
	[ -z "${A_PID:-}" ] || { kill -KILL "$A_PID" 2>/dev/null; wait "$A_PID" 2>/dev/null; }
	A_PID=
	stop_own_server
}

# ident NAME [KEY]: signs NAME up and in, and publishes the committed key
# KEY (NAME's, or carol's for mallory) with its proof; sets TOK_NAME and
# ID_NAME.
ident() {
	local name=$1 key=${2:-$1}
	api_user "$name" || return 1
	printf -v "TOK_$name" '%s' "$token"
	printf -v "ID_$name" '%s' "$user_id"
	"$PYTHON" -c 'import json, sys
print(json.dumps({"keys": [{"pem": open(sys.argv[1]).read(),
    "proof": sys.argv[2]}]}))' "$T/$key.pub" \
	    "$(key_proof "$T/$key" "$user_id" "$name" "${AUD:-$URL}")" \
	    > "$T/key.json"
	api PUT /keys -H "Authorization: Bearer $token" -H "$JSON" \
	    --data-binary "@$T/key.json"
	[ "$status_code" = 200 ] || {
		echo "publishing $name's key: $status_code $body" >&2
		return 1
	}
}

# prekey_body NAME [prekeys.py body options]: a PUT /prekeys body of NAME's
# key (or KEY_OF's), for NAME, this server (or AUD), now, into
# $T/body.json.
prekey_body() {
	local name=$1 key=${KEY_OF:-$1} id
	shift
	id=ID_$name
	"$PYTHON" "$PREKEYS" body "$T/$key" "${!id}" "$name" "${AUD:-$URL}" "$@" \
	    > "$T/body.json"
}

# prekey_put NAME [FILE]: PUT /prekeys of FILE ($T/body.json) as NAME.
prekey_put() {
	local tok=TOK_$1
	api PUT /prekeys -H "Authorization: Bearer ${!tok}" -H "$JSON" \
	    --data-binary "@${2:-$T/body.json}"
}

# put_for_kid NAME KID: PUT /prekeys as NAME of $T/body.json offered for
# the key KID (its "kid" changed, its proofs as they were made).
put_for_kid() {
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1])); d["kid"] = sys.argv[2]
print(json.dumps(d))' "$T/body.json" "$2" > "$T/for-kid.json" || return 1
	prekey_put "$1" "$T/for-kid.json"
}

# claim AS NAME: GET /prekeys/NAME as AS; the answer in $body.
claim() {
	local tok=TOK_$1
	api GET "/prekeys/$2" -H "Authorization: Bearer ${!tok}"
}

# stock NAME: NAME's GET /prekeys, each key as "KID ONE_TIME SIGNED".
stock() {
	local tok=TOK_$1
	api GET /prekeys -H "Authorization: Bearer ${!tok}"
	[ "$status_code" = 200 ] || { echo "$status_code $body" >&2; return 1; }
	printf '%s' "$body" | "$PYTHON" -c 'import json, sys
for k in json.load(sys.stdin)["keys"]:
    print(k["kid"], k["one_time"], k["signed"] or "-")'
}

# verified OWNER: the claim in $body checked against OWNER's committed
# key (every proof, x against pkid), one line a key (prekeys.py verify).
verified() {
	printf '%s' "$body" | "$PYTHON" "$PREKEYS" verify "$T/$1.pub" "$1" \
	    "${AUD:-$URL}"
}

# rows: the prekeys stored, all accounts.
rows() {
	sq 'SELECT count(*) FROM prekeys'
}

@test "PUT /prekeys: good proofs stored; the owner's stock; sent again, nothing twice; a new signed prekey replaces the old; a proof made by jwcrypto accepted; a claim's proofs check against the identity key" {
	start_own_server
	ident alice
	prekey_body alice --signed --one-time 5
	prekey_put alice
	assert_equal "$status_code" 200
	local signed
	signed=$(printf '%s' "$body" | pyj 'd["signed"]')
	assert_equal "$(json_get 'd["kid"], d["one_time"], d["added"]')" \
	    "('$KID_ALICE', 5, 5)"
	[ "${#signed}" = 43 ] || fail "$body"
	run -0 stock alice
	assert_output "$KID_ALICE 5 $signed"
	api GET /prekeys -H "Authorization: Bearer $TOK_alice"
	[ "$(json_get 'd["keys"][0]["signed_iat"]')" -ge $(($(date +%s) - 60)) ] ||
	    fail "$body"
	# The same body again (an answer lost): nothing added.
	prekey_put alice
	assert_equal "$status_code" 200
	assert_equal "$(json_get 'd["one_time"], d["added"]')" "(5, 0)"
	assert_equal "$(rows)" 6
	# A new signed prekey alone: it replaces the old one.
	prekey_body alice --signed
	prekey_put alice
	assert_equal "$status_code" 200
	[ "$(printf '%s' "$body" | pyj 'd["signed"]')" != "$signed" ] || fail "$body"
	assert_equal "$(json_get 'd["one_time"], d["added"]')" "(5, 0)"
	assert_equal "$(sq 'SELECT count(*) FROM prekeys WHERE kind = 1')" 1
	# One made by another JOSE library (claims in another order).
	local x
	x=$("$PYTHON" -c 'import base64, os
print(base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode())')
	"$PYTHON" -c 'import json, sys
print(json.dumps({"kid": sys.argv[1], "one_time": [{"x": sys.argv[2],
    "proof": sys.argv[3]}]}))' "$KID_ALICE" "$x" "$("$PYTHON" \
	    "$INTEROP/prekeyproof_jwcrypto.py" "$T/alice" "$ID_alice" alice \
	    "$URL" "$(date +%s)" one-time "$x")" > "$T/jwc.json"
	prekey_put alice "$T/jwc.json"
	assert_equal "$status_code" 200
	assert_equal "$(json_get 'd["one_time"], d["added"]')" "(6, 1)"
	# What a sender gets checks against alice's identity key.
	ident bob
	claim bob alice
	assert_equal "$status_code" 200
	run -0 verified alice
	[[ "$output" =~ ^$KID_ALICE\ [A-Za-z0-9_-]{43}\ [A-Za-z0-9_-]{43}\ -$ ]] ||
	    fail "$output"
}

@test "PUT /prekeys refusals, each 400 with its reason and nothing stored: a changed proof, one made by another user's key, for another user, for another server, too old, a one-time proof as the signed one, x not what the proof signs, one prekey twice; a key not the caller's: 403 (another account's) or 404 (no one's)" {
	start_own_server
	ident alice
	ident mallory carol
	local p
	# One byte of a proof's signature changed.
	prekey_body alice --one-time 2
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
p = d["one_time"][1]["proof"]
d["one_time"][1]["proof"] = p[:-5] + ("A" if p[-5] != "A" else "B") + p[-4:]
print(json.dumps(d))' "$T/body.json" > "$T/bad.json"
	prekey_put alice "$T/bad.json"
	assert_equal "$status_code" 400
	error_is "one_time[1].proof is not signed by key $KID_ALICE: it was made with another key"
	# Made by mallory's key (carol's) for alice, offered for alice's
	# key; the same naming alice's key in its header and claims.
	KEY_OF=carol prekey_body alice --one-time 1
	put_for_kid alice "$KID_ALICE"
	assert_equal "$status_code" 400
	error_is "one_time[0].proof is made by key $KID_CAROL, not by key $KID_ALICE"
	KEY_OF=carol prekey_body alice --one-time 1 --kid "$KID_ALICE"
	prekey_put alice
	assert_equal "$status_code" 400
	error_is "one_time[0].proof is not signed by key $KID_ALICE: it was made with another key"
	# Made by alice's key, but for mallory (a foreign proof replayed).
	KEY_OF=alice prekey_body mallory --one-time 1
	put_for_kid alice "$KID_ALICE"
	assert_equal "$status_code" 400
	error_is "one_time[0].proof is for the user mallory (id $ID_mallory), not for alice (id $ID_alice)"
	# mallory offering alice's proofs for alice's key: not her key.
	prekey_body alice --one-time 1
	prekey_put mallory
	assert_equal "$status_code" 403
	error_is "key $KID_ALICE is another account's: publish prekeys for your own keys"
	# For another server.
	p=$("$PYTHON" "$PREKEYS" proof "$T/alice" "$ID_alice" alice \
	    https://chat.example "$(date +%s)" one-time \
	    AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8)
	printf '{"kid":"%s","one_time":[{"x":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","proof":"%s"}]}' \
	    "$KID_ALICE" "$p" > "$T/other.json"
	prekey_put alice "$T/other.json"
	assert_equal "$status_code" 400
	error_is "one_time[0].proof is for the server https://chat.example, not for $URL"
	# Too old (an hour; 300 s allowed).
	prekey_body alice --one-time 1 --iat $(($(date +%s) - 3600))
	prekey_put alice
	assert_equal "$status_code" 400
	[[ "$(json_get 'd["error"]')" =~ ^one_time\[0\]\.proof\ is\ too\ old:\ made\ 36[0-9][0-9]\ s\ before ]] ||
	    fail "$body"
	# A one-time proof offered as the signed prekey, and the reverse.
	prekey_body alice --signed --kind one-time
	prekey_put alice
	assert_equal "$status_code" 400
	error_is "signed.proof is for a one-time prekey, not a signed one"
	prekey_body alice --one-time 1 --kind signed
	prekey_put alice
	assert_equal "$status_code" 400
	error_is "one_time[0].proof is for a signed prekey, not a one-time one"
	# x is not the prekey the proof signs.
	prekey_body alice --one-time 1
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["one_time"][0]["x"] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
print(json.dumps(d))' "$T/body.json" > "$T/x.json"
	prekey_put alice "$T/x.json"
	assert_equal "$status_code" 400
	[[ "$(json_get 'd["error"]')" == "one_time[0].x is not the prekey its proof signs ("*")" ]] ||
	    fail "$body"
	# One prekey twice in a request.
	prekey_body alice --one-time 2
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1])); d["one_time"].append(d["one_time"][0])
print(json.dumps(d))' "$T/body.json" > "$T/dup.json"
	prekey_put alice "$T/dup.json"
	assert_equal "$status_code" 400
	[[ "$(json_get 'd["error"]')" =~ ^prekey\ [A-Za-z0-9_-]{43}\ is\ in\ the\ request\ twice$ ]] ||
	    fail "$body"
	# A key no one published (bob's, never published).
	KEY_OF=bob prekey_body alice --one-time 1
	prekey_put alice
	assert_equal "$status_code" 404
	error_is "you have published no key $KID_BOB: publish it first (e2e-keys publish)"
	assert_equal "$(rows)" 0
}

@test "PUT /prekeys: a low-order X25519 point with a valid proof is refused, 400 naming it, in each of its 19 encodings (the 12 u-coordinates of the well-known list, 7 with bit 255 set), one-time or signed, nothing stored; its neighbour is accepted" {
	start_own_server
	ident alice
	local n where
	# Bodies made with prekeys.py's proof: low0..low18.json one-time,
	# signedN.json the same points as the signed prekey, near.json the
	# point of order 8 plus one.
	"$PYTHON" - "$BATS_TEST_DIRNAME" "$T" "$ID_alice" "$URL" "$KID_ALICE" <<'PY'
import base64, json, sys, time
sys.path.insert(0, sys.argv[1])
import prekeys
t, uid, url, kid = sys.argv[2:]
key = prekeys.load(t + "/alice")
p = 2**255 - 19
a = 325606250916557431795983626356110631294008115727848805560023387167927233504
b = 39382357235489614581723060781553021112529911719440698176882885853963445705823
twelve = [0, 1, a, b, p - 1, p, p + 1, p + a, p + b, 2*p - 1, 2*p, 2*p + 1]
enc = twelve + [v + 2**255 for v in twelve if v < 2**255]
def body(name, v, kind):
    x = prekeys.b64(v.to_bytes(32, "little"))
    e = {"x": x, "proof": prekeys.proof(key, uid, "alice", url, time.time(),
                                        kind, x)}
    d = {"kid": kid}
    if kind == "signed":
        d["signed"] = e
    else:
        d["one_time"] = [e]
    open("%s/%s.json" % (t, name), "w").write(json.dumps(d))
for i, v in enumerate(enc):
    body("low%d" % i, v, "one-time")
for i in (0, 4, 12):
    body("signed%d" % i, enc[i], "signed")
body("near", a + 1, "one-time")
PY
	for n in $(seq 0 18); do
		prekey_put alice "$T/low$n.json"
		assert_equal "$status_code" 400
		error_is "one_time[0].proof is for a prekey that is a low-order X25519 point (RFC 7748 section 6.1): no key agreement with it is secret"
	done
	for n in 0 4 12; do
		prekey_put alice "$T/signed$n.json"
		assert_equal "$status_code" 400
		error_is "signed.proof is for a prekey that is a low-order X25519 point (RFC 7748 section 6.1): no key agreement with it is secret"
	done
	assert_equal "$(rows)" 0
	prekey_put alice "$T/near.json"
	assert_equal "$status_code" 200
	assert_equal "$(rows)" 1
}

@test "PUT /prekeys malformed bodies: wrong types, unknown members, no prekeys, more than --prekeys-batch, huge (413), invalid UTF-8, not JSON: each refused with its reason, nothing stored; the server keeps serving" {
	start_own_server --prekeys-batch 3
	ident alice
	local b
	prekey_body alice --one-time 1
	local good
	good=$(cat "$T/body.json")
	while IFS='|' read -r b want; do
		printf '%s' "$b" > "$T/m.json"
		prekey_put alice "$T/m.json"
		assert_equal "$status_code" 400
		error_is "$want" || fail "body $b"
	done <<EOF
{}|"kid" must be the id of one of your keys
{"kid":42}|"kid" must be the id of one of your keys
{"kid":"short"}|"kid" must be the id of one of your keys
{"kid":"$KID_ALICE"}|nothing to publish: give "signed", "one_time" or both
{"kid":"$KID_ALICE","one_time":[]}|"signed" must be {"x", "proof"} and "one_time" a list of 1 to 3 of them
{"kid":"$KID_ALICE","one_time":{"x":"a"}}|"signed" must be {"x", "proof"} and "one_time" a list of 1 to 3 of them
{"kid":"$KID_ALICE","signed":"x"}|"signed" must be {"x", "proof"} and "one_time" a list of 1 to 3 of them
{"kid":"$KID_ALICE","one_time":[1,2,3,4]}|"signed" must be {"x", "proof"} and "one_time" a list of 1 to 3 of them
{"kid":"$KID_ALICE","one_time":[42]}|one_time[0] must be {"x", "proof"} (strings)
{"kid":"$KID_ALICE","one_time":[{"x":1,"proof":"a"}]}|one_time[0] must be {"x", "proof"} (strings)
{"kid":"$KID_ALICE","one_time":[{"x":"a","proof":"a","y":1}]}|one_time[0] must be {"x", "proof"} (strings)
{"kid":"$KID_ALICE","signed":{"x":"a"}}|signed must be {"x", "proof"} (strings)
{"kid":"$KID_ALICE","extra":1,"one_time":[{}]}|the body must be {"kid", "signed", "one_time"}: no other member
EOF
	# A proof that is no JWS: the reason is jws_parse's.
	printf '{"kid":"%s","one_time":[{"x":"a","proof":"a.b.c"}]}' "$KID_ALICE" > "$T/m.json"
	prekey_put alice "$T/m.json"
	assert_equal "$status_code" 400
	[[ "$(json_get 'd["error"]')" == "one_time[0].proof is not a prekey proof (a compact PS256 JWS): "* ]] ||
	    fail "$body"
	# Over the body cap of 1 MiB: 413 before it is read.
	"$PYTHON" -c 'import json, sys
print(json.dumps({"kid": sys.argv[1], "one_time": [{"x": "A" * 43,
    "proof": "B" * 8000}] * 140}))' "$KID_ALICE" > "$T/huge.json"
	prekey_put alice "$T/huge.json"
	assert_equal "$status_code" 413
	# Invalid UTF-8, and not JSON at all.
	printf '{"kid":"%s","one_time":[{"x":"\xff\xfe","proof":"a"}]}' "$KID_ALICE" > "$T/utf.json"
	prekey_put alice "$T/utf.json"
	assert_equal "$status_code" 400
	[[ "$(json_get 'd["error"]')" == "malformed JSON: "* ]] || fail "$body"
	printf '[%s]' "$good" > "$T/arr.json"
	prekey_put alice "$T/arr.json"
	assert_equal "$status_code" 400
	error_is "the body must be a JSON object"
	assert_equal "$(rows)" 0
	# Still serving: the good body is taken.
	printf '%s' "$good" > "$T/good.json"
	prekey_put alice "$T/good.json"
	assert_equal "$status_code" 200
	assert_equal "$(rows)" 1
}

@test "--prekeys-max: an upload past the stock cap is 409 with the reason and stores nothing of it; once claims took some, it fits" {
	start_own_server --prekeys-max 5
	ident alice
	ident bob
	prekey_body alice --signed --one-time 4
	prekey_put alice
	assert_equal "$status_code" 200
	prekey_body alice --one-time 2
	prekey_put alice
	assert_equal "$status_code" 409
	error_is "at most 5 one-time prekeys per key: key $KID_ALICE has 4, and 2 more would pass it"
	run -0 stock alice
	assert_output --regexp "^$KID_ALICE 4 [A-Za-z0-9_-]{43}\$"
	claim bob alice
	assert_equal "$status_code" 200
	prekey_put alice
	assert_equal "$status_code" 200
	assert_equal "$(json_get 'd["one_time"], d["added"]')" "(5, 2)"
}

@test "claims: each one-time prekey handed out once to concurrent curl processes; exhausted, only the signed prekey, and the answer says so; a key without prekeys, an unknown name" {
	start_own_server --prekey-claim-rate 100000
	ident alice
	ident bob
	prekey_body alice --signed --one-time 30
	prekey_put alice
	assert_equal "$status_code" 200
	local signed i j
	signed=$(json_get 'd["signed"]')
	# 8 processes, 5 claims each, at once: 40 claims of 30.
	for i in 1 2 3 4 5 6 7 8; do
		(
			for j in 1 2 3 4 5; do
				curl -s -S -H "Authorization: Bearer $TOK_bob" \
				    "$URL/prekeys/alice" > "$T/claim.$i.$j" ||
				    echo "curl $i.$j failed" >> "$T/claim.err"
			done
		) 3>&- &
		BG_PIDS="${BG_PIDS:-} $!"
	done
	for i in $BG_PIDS; do
		wait "$i"
	done
	BG_PIDS=
	[ ! -s "$T/claim.err" ] || fail "$(cat "$T/claim.err")"
	"$PYTHON" -c 'import json, sys
ot, sg, why = [], set(), []
for path in sys.argv[2:]:
    d = json.load(open(path))
    k, = d["keys"]
    if k["one_time"]:
        ot.append(k["one_time"]["pkid"])
    else:
        why.append(k["no_one_time"])
    sg.add(k["signed"]["pkid"])
assert len(ot) == 30 and len(set(ot)) == 30, (len(ot), len(set(ot)))
assert why == ["empty"] * 10, why
assert sg == {sys.argv[1]}, sg' "$signed" "$T"/claim.*.*
	run -0 stock alice
	assert_output "$KID_ALICE 0 $signed"
	# Exhausted: the signed prekey, and why there is no one-time one.
	claim bob alice
	assert_equal "$status_code" 200
	run -0 verified alice
	assert_output "$KID_ALICE - $signed empty"
	# A key without any prekey: both null. No such user: 404.
	claim alice bob
	assert_equal "$status_code" 200
	assert_equal "$body" "{\"name\":\"bob\",\"id\":\"$ID_bob\",\"keys\":[{\"kid\":\"$KID_BOB\",\"one_time\":null,\"signed\":null,\"no_one_time\":\"empty\"}]}"
	claim alice nobody
	assert_equal "$status_code" 404
	error_is "no such user: nobody"
	api GET /prekeys/alice
	assert_equal "$status_code" 403
}

@test "A13 prekey draining: past --prekey-claim-rate a caller gets the signed prekey only (no_one_time rate, retry_after), counted by every server on the database; others still get one-time prekeys" {
	# Both servers are one service to clients: one public URL.
	SERVER_DB=$T/shared.db
	AUD=https://chat.example
	start_server --quiet --prekey-claim-rate 3 --public-url "$AUD" 3>&-
	A_PID=$SERVER_PID
	local a_url=$URL
	ident alice
	ident mallory carol
	ident bob
	prekey_body alice --signed --one-time 10
	prekey_put alice
	assert_equal "$status_code" 200
	# A second server on the same database.
	start_server --quiet --prekey-claim-rate 3 --public-url "$AUD" 3>&-
	local b_url=$URL round
	# mallory drains: 3 through A and B together, then signed only.
	# (round, not i: the helpers bats runs may set an i of their own.)
	for round in 1 2 3 4 5 6; do
		if [ $((round % 2)) = 1 ]; then URL=$a_url; else URL=$b_url; fi
		claim mallory alice
		assert_equal "$status_code" 200
		run -0 verified alice
		if [ "$round" -le 3 ]; then
			assert_output --regexp "^$KID_ALICE [A-Za-z0-9_-]{43} [A-Za-z0-9_-]{43} -\$"
		else
			assert_output --regexp "^$KID_ALICE - [A-Za-z0-9_-]{43} rate\$"
			[ "$(json_get 'd["retry_after"]')" -ge 1 ] || fail "$body"
		fi
	done
	URL=$a_url
	run -0 stock alice
	assert_output --regexp "^$KID_ALICE 7 "
	# bob, another caller, still gets one-time prekeys.
	claim bob alice
	run -0 verified alice
	assert_output --regexp "^$KID_ALICE [A-Za-z0-9_-]{43} [A-Za-z0-9_-]{43} -\$"
	# An exhausted stock costs no token: with none left, still "empty".
	claim mallory bob
	assert_equal "$(json_get 'd["keys"][0]["no_one_time"]')" empty
}

@test "prekeys go with their identity key: withdrawn (DELETE /keys), the key published again has none; the account deleted, its prekeys are gone" {
	start_own_server
	ident alice
	ident bob
	prekey_body alice --signed --one-time 3
	prekey_put alice
	assert_equal "$status_code" 200
	prekey_body bob --signed --one-time 2
	prekey_put bob
	assert_equal "$status_code" 200
	assert_equal "$(rows)" 7
	api DELETE "/keys/$KID_ALICE" -H "Authorization: Bearer $TOK_alice"
	assert_equal "$status_code" 200
	assert_equal "$(rows)" 3
	claim bob alice
	assert_equal "$body" "{\"name\":\"alice\",\"id\":\"$ID_alice\",\"keys\":[]}"
	run -0 stock alice
	assert_output ''
	# Published again: no prekey of before.
	"$PYTHON" -c 'import json, sys
print(json.dumps({"keys": [{"pem": open(sys.argv[1]).read(),
    "proof": sys.argv[2]}]}))' "$T/alice.pub" \
	    "$(key_proof "$T/alice" "$ID_alice" alice)" > "$T/key.json"
	api PUT /keys -H "Authorization: Bearer $TOK_alice" -H "$JSON" \
	    --data-binary "@$T/key.json"
	assert_equal "$status_code" 200
	run -0 stock alice
	assert_output "$KID_ALICE 0 -"
	# bob's account deleted: his prekeys too.
	api DELETE "/users/$ID_bob" -H "Authorization: Bearer $TOK_bob" \
	    -H "$JSON" -d '{"password":"pw of bob"}'
	assert_equal "$status_code" 200
	assert_equal "$(rows)" 0
}

@test "schema 5: a version 4 database (as the previous server left it) migrates in place at start (on to 6): its users and keys kept, the prekeys table added and working" {
	start_own_server
	ident alice
	ident bob
	stop_server
	# Version 4 was version 6 without the prekeys table and the
	# mailbox counters.
	undo_schema_6
	if on_pg; then
		sq 'DROP TABLE prekeys; UPDATE e2e_schema SET version = 4'
		assert_equal "$(sq 'SELECT version FROM e2e_schema')" 4
	else
		sq 'DROP TABLE prekeys; PRAGMA user_version = 4'
		assert_equal "$(sq 'PRAGMA user_version')" 4
	fi
	restart_server
	if on_pg; then
		assert_equal "$(sq 'SELECT version FROM e2e_schema')" 6
	else
		assert_equal "$(sq 'PRAGMA user_version')" 6
	fi
	signin alice 'pw of alice'
	TOK_alice=$token
	prekey_body alice --signed --one-time 2
	prekey_put alice
	assert_equal "$status_code" 200
	claim bob alice
	run -0 verified alice
	assert_output --regexp "^$KID_ALICE [A-Za-z0-9_-]{43} [A-Za-z0-9_-]{43} -\$"
	# The cascade works on the migrated table too.
	api DELETE "/keys/$KID_ALICE" -H "Authorization: Bearer $TOK_alice"
	assert_equal "$(rows)" 0
}
