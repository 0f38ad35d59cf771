#!/usr/bin/env bats
# compat (issue 10): the original E2E Chat client as it was really
# written, its Latin-1 text, and moving an original server's users and
# messages over (docs/COMPAT.md).
#
# tests/interop/original_client.py builds the original client's form
# bodies by hand, exactly as it did; seed_reference.py is the original
# Encryptor and Decryptor; original_export.py writes mongoexport lines
# with python3-bcrypt's hashes. The form rules themselves are pinned by
# the unit test test_srv_form (against Node's own querystring).
#
# Loop counters are not named i: bats 1.8's run --separate-stderr changes
# $i.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load client_helpers
load interop_helpers

setup() { common_setup; fixed_keys; }

teardown() {
	stop_server || true
}

orig() {
	(cd "$INTEROP" && "$PYTHON" original_client.py "$@")
}

export_line() {
	(cd "$INTEROP" && "$PYTHON" original_export.py "$@")
}

form() {
	api POST "$1" -H 'Content-Type: application/x-www-form-urlencoded' \
	    ${3:+-H "x-access-token: $3"} --data-binary "$2"
}

SEED_ENC_WARNING="e2e-encrypt: warning: the seed format authenticates neither its IV nor its sender; use it only to talk to the original client"
LATIN="café ÿ§ñ & + % %41 plusplus ampersand"

# ---- the original client's form bodies ----

@test "compat: the original client's raw form bodies: 2000 random Latin-1 messages both ways through sendmessage and getmessage, stored and delivered byte for byte" {
	# 2000 sends from one account at full speed: a script, which the
	# send rate would slow to 20 a second (A3).
	start_server --quiet --send-rate 100000 --send-burst 100000
	run -0 orig roundtrip "$URL" "$T/alice.pub" "$T/alice" "$T/bob.pub" \
	    "$T/bob" 2000 "$RANDOM"
	# Some of them held '%' and two hex digits, which Node would have
	# decoded.
	[[ "$output" =~ ^2000\ messages\ stored\ and\ delivered\ byte\ for\ byte\;\ ([0-9]+)\ held ]]
	[ "${BASH_REMATCH[1]}" -gt 10 ]
	assert_equal "$(sq 'SELECT count(*) FROM messages')" 0
}

@test "compat: form bodies through a server: a bad escape kept, invalid UTF-8 as U+FFFD, never 400; NUL, a name twice and 1000 '&' refused" {
	start_server --quiet
	# A password with bad escapes is those characters (Node kept them).
	form /users/signup 'name=alice&password=100%+sure%zz%4'
	assert_equal "$status_code" 200
	sign_json() {
		api POST /users/signin -H 'Content-Type: application/json' \
		    --data-binary "{\"name\":\"alice\",\"password\":\"$1\"}"
	}
	sign_json '100% sure%zz%4'
	assert_equal "$status_code" 200
	token=$(json_get 'd["token"]')
	form /users/signup 'name=bob&password=bob-password'
	assert_equal "$status_code" 200
	# Messages: as Node read them, stored as such.
	local b
	for b in 'message=%' 'message=%zz%41' 'message=%C0%AF' \
	    $'message=caf\xe9' 'message=%E9+x' 'message={"raw": "%41%E9"}'; do
		form /messages/sendmessage "to=bob&$b" "$token"
		[ "$status_code" = 200 ] || fail "$b: $status_code $body"
	done
	run sq "SELECT $(db_hex body) FROM messages ORDER BY id"
	assert_output "$(printf '%s\n' 25 257A7A41 EFBFBDEFBFBD 636166EFBFBD \
	    EFBFBD2078 "$(printf '{"raw": "%%41%%E9"}' | od -An -tx1 |
	    tr -d ' \n' | tr a-f A-F)")"
	# Refused, each with its reason.
	form /messages/sendmessage 'to=bob&message=a%00b' "$token"
	assert_equal "$status_code $body" '400 {"error":"a form field holds a NUL byte"}'
	form /messages/sendmessage 'to=bob&message=x&message=y' "$token"
	assert_equal "$status_code $body" '400 {"error":"form field given twice"}'
	form /messages/sendmessage "to=bob&message=$(printf 'x&%.0s' $(seq 999))" \
	    "$token"
	assert_equal "$status_code $body" '413 {"error":"too many form fields: at most 1000"}'
	form /messages/sendmessage "to=bob&message=x&$(seq -f 'k%g' 997 | paste -sd'&')" \
	    "$token"
	assert_equal "$status_code" 200
	assert_equal "$(sq 'SELECT count(*) FROM messages')" 7
}

# ---- Latin-1 text ----

@test "compat: e2e-encrypt --format seed writes Latin-1 that the reference Decryptor reads: café ÿ§ñ, &, +, %, empty" {
	local t k=0
	for t in "café ÿ§ñ" "&" "+" "%" "" "$LATIN" $'two\nlines\tand \x01 control'; do
		printf '%s' "$t" > "in$k"
		run --separate-stderr e2e-encrypt --format seed -r bob.pub "in$k"
		assert_success
		assert_equal "$stderr" "$SEED_ENC_WARNING"
		printf '%s' "$output" > "m$k"
		ref decrypt bob < "m$k" > "got$k"
		# The original client's reading: bytes.decode("latin-1").
		"$PYTHON" -c 'import sys
got = open(sys.argv[1], "rb").read()
want = open(sys.argv[2], encoding="utf-8").read()
assert got == want.encode("latin-1"), (got, want)
assert got.decode("latin-1") == want' "got$k" "in$k"
		k=$((k + 1))
	done
	# "café ÿ§ñ": 8 bytes in Latin-1 (12 in UTF-8).
	assert_equal "$(wc -c < got0)" 8
}

@test "compat: the reference Encryptor's Latin-1 text comes out of e2e-decrypt as UTF-8 (one envelope, stream mode); --binary gives the bytes" {
	local t k=0
	for t in "café ÿ§ñ" "&" "+" "%" "" "$LATIN"; do
		"$PYTHON" -c 'import sys; sys.stdout.buffer.write(sys.argv[1].encode("latin-1"))' \
		    "$t" > "pt$k"
		ref encrypt bob.pub < "pt$k" > "m$k"
		run --separate-stderr e2e-decrypt -i bob "m$k"
		assert_success
		assert_output "$t"
		assert_equal "$stderr" "$SEED_WARNING"
		e2e-decrypt -i bob -o "out$k" "m$k" 2>/dev/null
		assert_equal "$(cat "out$k")" "$t"
		e2e-decrypt --binary -i bob -o "bin$k" "m$k" 2>/dev/null
		cmp "bin$k" "pt$k"
		record "0$k" carol "m$k" > "r$k"
		run --separate-stderr e2e-decrypt -i bob "r$k"
		assert_success
		run -0 pyj 'd["text"]' <<< "$output"
		assert_output "$t"
		run --separate-stderr e2e-decrypt --binary -i bob "r$k"
		assert_success
		printf '%s\n' "$output" > "line$k"
		"$PYTHON" -c 'import base64, json, sys
d = json.load(open(sys.argv[1]))
raw = open(sys.argv[2], "rb").read()
# Bytes as decrypted: text only when they happen to be UTF-8.
try:
    assert d["text"].encode("utf-8") == raw, d
except KeyError:
    assert base64.b64decode(d["data"]) == raw, d' "line$k" "pt$k"
		k=$((k + 1))
	done
	# Latin-1 holding a NUL stays "data", its bytes as decrypted.
	printf 'caf\xe9\0' > nul
	ref encrypt bob.pub < nul > mnul
	record 09 carol mnul > rnul
	run -0 --separate-stderr e2e-decrypt -i bob rnul
	run -0 pyj 'd["data"]' <<< "$output"
	assert_output "$(base64 < nul)"
	# On a terminal-less stdout the text is UTF-8; C1 controls stay
	# escaped in stream mode.
	printf 'x\x85y' > c1
	ref encrypt bob.pub < c1 > mc1
	record 10 carol mc1 > rc1
	run -0 --separate-stderr e2e-decrypt -i bob rc1
	[[ "$output" == *'"text":"x\u0085y"'* ]]
}

@test "compat: e2e-encrypt --format seed refuses a character above U+00FF and bytes that are not UTF-8 (65), naming it and where; --binary sends them; --binary alone is 64" {
	printf 'ab\xc3\xa9c\xe2\x82\xac!' > euro
	run --separate-stderr e2e-encrypt --format seed -r bob.pub -o out euro
	assert_equal "$status" 65
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "e2e-encrypt: error: the message holds U+20AC at character 5 (byte offset 5), which the seed format cannot carry: its text is Latin-1 (U+0000 to U+00FF)"
	assert_equal "${stderr_lines[1]}" "e2e-encrypt: hint: send it as a JWE (without --format seed), or send the bytes as they are with --binary"
	assert_file_not_exists out
	printf 'x\xf0\x9f\x98\x80' > emoji
	run --separate-stderr e2e-encrypt --format seed -r bob.pub emoji
	assert_equal "$status" 65
	assert_equal "${stderr_lines[0]}" "e2e-encrypt: error: the message holds U+1F600 at character 2 (byte offset 1), which the seed format cannot carry: its text is Latin-1 (U+0000 to U+00FF)"
	printf 'caf\xe9' > latin
	run --separate-stderr e2e-encrypt --format seed -r bob.pub latin
	assert_equal "$status" 65
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "e2e-encrypt: error: the message is not UTF-8 text: byte 0xE9 at character 4 (byte offset 3) is not part of a valid character"
	# --binary: the bytes as they are, for both.
	for f in euro latin; do
		e2e-encrypt --format seed --binary -r bob.pub "$f" > "m.$f" 2>/dev/null
		ref decrypt bob < "m.$f" | cmp - "$f"
	done
	run --separate-stderr e2e-encrypt --binary -r bob.pub latin
	assert_equal "$status" 64
	assert_equal "${stderr_lines[0]}" "e2e-encrypt: error: --binary is only used with --format seed"
	# JWE stays bytes as they are, both ways.
	e2e-encrypt --no-sign -r bob.pub latin > j.jwe
	e2e-decrypt -i bob -o j.out j.jwe 2>/dev/null
	cmp j.out latin
}

@test "compat: the original client and the tools talk both ways in Latin-1 through e2e-server (e2e-send and e2e-recv --legacy and not)" {
	start_server --quiet
	account alice
	form /users/signup 'name=orig&password=pw-orig-original'
	assert_equal "$status_code" 200
	# Tools -> the original client.
	printf '%s' "$LATIN" | e2e-encrypt --format seed -r bob.pub 2>/dev/null |
	    run_as alice e2e-send --legacy --to orig > /dev/null
	printf '%s' "$LATIN" | e2e-encrypt --format seed -r bob.pub 2>/dev/null |
	    run_as alice e2e-send --to orig > /dev/null
	run -0 orig get "$URL" orig pw-orig-original alice "$T/bob"
	assert_output "$LATIN"
	run -0 orig get "$URL" orig pw-orig-original alice "$T/bob"
	assert_output "$LATIN"
	run -3 orig get "$URL" orig pw-orig-original alice "$T/bob"
	# The original client -> tools.
	orig send "$URL" orig pw-orig-original alice "$T/alice.pub" "$LATIN"
	orig send "$URL" orig pw-orig-original alice "$T/alice.pub" "ÿ§ñ"
	run_as alice e2e-recv --legacy --from orig --limit 1 > got1
	run_as alice e2e-recv > got2
	run -0 --separate-stderr e2e-decrypt -i alice got1
	run -0 pyj 'd["text"]' <<< "$output"
	assert_output "$LATIN"
	run -0 --separate-stderr e2e-decrypt -i alice got2
	run -0 pyj 'd["text"]' <<< "$output"
	assert_output "ÿ§ñ"
}

# ---- moving over: users ----

# The original's users: alice ($2a$ at the original's cost 10), bob
# ($2b$), pat (a password with '&', '+' and '%'), an 80-byte password, a
# user without _id, and erin, who never signs in here.
original_users() {
	{
		export_line user alice 'alice old pw' 2a 10 5f1d7c2e9b1e8a3d4c5b6a71
		export_line user bob 'bob old pw' 2b 4 5f1d7c2e9b1e8a3d4c5b6a72
		export_line user pat 'pat: p&ss+word %41' 2b 4 5f1d7c2e9b1e8a3d4c5b6a74
		export_line user long "$(printf 'L%.0s' $(seq 72))tail-one" 2a 4 \
		    5f1d7c2e9b1e8a3d4c5b6a73
		export_line user dave 'dave old pw' 2b 4
		export_line user erin 'erin old pw' 2a 4 5f1d7c2e9b1e8a3d4c5b6a75
	} > users.json
}

# until_rehashed NAME: the new hash is written after the answer.
until_rehashed() {
	local i
	for i in $(seq 1 200); do
		[[ "$(stored_hash "$1")" == '$2b$04$'* ]] && return 0
		sleep 0.05
	done
	echo "$1: still $(stored_hash "$1")" >&2
	return 1
}

signin_json() {
	api POST /users/signin -H 'Content-Type: application/json' \
	    --data-binary "$(NAME=$1 PW=$2 "$PYTHON" -c 'import json, os
print(json.dumps({"name": os.environ["NAME"], "password": os.environ["PW"]}))')"
}

@test "compat: --import-users: \$2a\$/\$2b\$ hashes (python3-bcrypt) sign in with the old password, replaced after the first sign-in; an account never signed in keeps it" {
	original_users
	start_server --import-users users.json
	grep -qx "e2e-server: users.json: 6 users imported, 0 imported before, 0 refused" \
	    "$SERVER_LOG"
	[[ "$(stored_hash alice)" == 'original:$2a$10$'* ]]
	[[ "$(stored_hash bob)" == 'original:$2b$04$'* ]]
	# A wrong password changes nothing.
	signin_json alice 'alice old pW'
	assert_equal "$status_code $body" '403 {"error":"authentication failed"}'
	[[ "$(stored_hash alice)" == 'original:$2a$10$'* ]]
	# The old password, sent as the original client sent it (a raw form
	# body); the hash is then this server's (pre-hashed, $2b$ at its
	# cost, 4 here), which the plain bcrypt of the password does not
	# match.
	form /users/signin 'name=alice&password=alice old pw'
	assert_equal "$status_code" 200
	until_rehashed alice
	"$PYTHON" -c 'import bcrypt, sys
assert not bcrypt.checkpw(b"alice old pw", sys.argv[1].encode())' "$(stored_hash alice)"
	signin_json alice 'alice old pw'
	assert_equal "$status_code" 200
	signin_json alice 'alice old pW'
	assert_equal "$status_code" 403
	# A form decoded as Node decoded it matches the hash it made.
	form /users/signin 'name=pat&password=pat:+p%26ss%2Bword+%41'
	assert_equal "$status_code" 403
	form /users/signin 'name=pat&password=pat:+p%26ss%2Bword+%2541'
	assert_equal "$status_code" 200
	until_rehashed pat
	form /users/signin 'name=bob&password=bob+old+pw'
	assert_equal "$status_code" 200
	# bcrypt read 72 bytes of it, here as there; once: after that the
	# password is this server's, whole.
	signin_json long "$(printf 'L%.0s' $(seq 72))another-tail"
	assert_equal "$status_code" 200
	until_rehashed long
	signin_json long "$(printf 'L%.0s' $(seq 72))tail-one"
	assert_equal "$status_code" 403
	signin_json long "$(printf 'L%.0s' $(seq 72))another-tail"
	assert_equal "$status_code" 200
	signin_json dave 'dave old pw'
	assert_equal "$status_code" 200
	until_rehashed dave
	# erin never signed in: the old hash stays, also after a restart.
	stop_server
	start_server
	[[ "$(stored_hash erin)" == 'original:$2a$04$'* ]]
	signin_json erin 'erin old pw'
	assert_equal "$status_code" 200
	until_rehashed erin
}

@test "compat: --import-users twice adds nothing (a deleted account is not brought back); bad lines are refused with a line each and the server starts" {
	original_users
	local h n
	h=$(export_line user x pw 2a 4 | pyj 'd["password"]')
	{
		cat users.json
		printf '%s\n' 'not json' '[1,2]' '{"name":"x"}' \
		    '{"name":"bad name","password":"'"$h"'"}' \
		    '{"name":"frank","password":"plain text"}' \
		    '{"name":"gina","password":"$2y'"${h:3}"'"}' \
		    '{"name":"alice","password":"'"$h"'","_id":{"$oid":"5f1d7c2e9b1e8a3d4c5b6a99"}}' \
		    '{"name":"'"$(printf 'n%.0s' $(seq 65))"'","password":"'"$h"'"}'
		printf '{"name":"huge","password":"%s"}\n' "$(head -c 70000 /dev/zero | tr '\0' x)"
	} > mixed.json
	# A name taken here by someone else is refused too.
	start_server
	signup carol 'a password, long enough'
	stop_server
	printf '%s\n' "$(export_line user carol 'carol old pw' 2b 4 5f1d7c2e9b1e8a3d4c5b6a76)" >> mixed.json
	start_server --import-users mixed.json
	run cat "$SERVER_LOG"
	n=$(wc -l < users.json)
	assert_line "e2e-server: warning: mixed.json line $((n + 1)): refused: not a JSON object: '[' or '{' expected near 'not' at line 1, column 3"
	assert_line "e2e-server: warning: mixed.json line $((n + 2)): refused: not a JSON object"
	assert_line "e2e-server: warning: mixed.json line $((n + 3)): refused: \"name\" and \"password\" must be strings"
	assert_line "e2e-server: warning: mixed.json line $((n + 4)): refused: the name \"bad name\" is not valid here: 1 to 64 letters, digits, '.', '_' or '-', not only dots"
	assert_line "e2e-server: warning: mixed.json line $((n + 5)): refused: the password of frank is not a bcrypt hash (\$2a\$ or \$2b\$, cost 04 to 31)"
	assert_line "e2e-server: warning: mixed.json line $((n + 6)): refused: the password of gina is not a bcrypt hash (\$2a\$ or \$2b\$, cost 04 to 31)"
	assert_line "e2e-server: warning: mixed.json line $((n + 7)): refused: the name alice is taken here"
	assert_line --partial "e2e-server: warning: mixed.json line $((n + 8)): refused: the name \"nnnnnnnn"
	assert_line "e2e-server: warning: mixed.json line $((n + 9)): refused: longer than 65536 bytes"
	assert_line "e2e-server: warning: mixed.json line $((n + 10)): refused: the name carol is taken here"
	assert_line "e2e-server: mixed.json: 6 users imported, 0 imported before, 10 refused"
	# Every good one is there; the names taken here kept their owners.
	signin_json alice 'alice old pw'
	assert_equal "$status_code" 200
	signin_json carol 'carol old pw'
	assert_equal "$status_code" 403
	signin_json carol 'a password, long enough'
	assert_equal "$status_code" 200
	local users
	users=$(sq 'SELECT count(*) FROM users')
	# Twice: nothing added, nothing refused anew but the bad lines.
	signin_json dave 'dave old pw'
	token=$(json_get 'd["token"]')
	id=$(json_get 'd["id"]')
	api DELETE "/users/$id" -H "x-access-token: $token" \
	    -H 'Content-Type: application/json' -d '{"password":"dave old pw"}'
	assert_equal "$status_code" 200
	stop_server
	start_server --import-users mixed.json
	run grep "mixed.json: " "$SERVER_LOG"
	assert_line --index 1 "e2e-server: mixed.json: 0 users imported, 6 imported before, 10 refused"
	assert_equal "$(sq 'SELECT count(*) FROM users')" \
	    "$((users - 1))"
	signin_json dave 'dave old pw'
	assert_equal "$status_code" 403
	# A file that cannot be read stops the start (66), before serving.
	stop_server
	run e2e-server --listen 127.0.0.1:0 --db "$SERVER_DB" \
	    --import-users "$T/nothing.json"
	assert_equal "$status" 66
	assert_output "e2e-server: error: cannot open input $T/nothing.json: No such file or directory"
	run e2e-server --listen 127.0.0.1:0 --db "$SERVER_DB" --import-users x \
	    --import-users y
	assert_equal "$status" 64
}

# ---- moving over: messages ----

@test "compat: --import-messages: delivered through getmessage oldest first and read by the reference Decryptor; twice adds nothing, even after delivery; bad lines and recipients not imported are refused" {
	original_users
	local m=5f1d7c3 o=9b1e8a3d4c00000
	{
		export_line message "$T/bob.pub" alice bob "second" ${m}1${o}1
		export_line message "$T/bob.pub" alice bob "first café" ${m}0${o}2
		export_line message "$T/bob.pub" alice bob "third ÿ§ñ &+% %41" ${m}2${o}3
		export_line message "$T/alice.pub" bob alice "to alice" ${m}4${o}4
		export_line message "$T/bob.pub" alice zed "to nobody" ${m}5${o}5
		export_line message "$T/bob.pub" alice eve "to the other eve" ${m}6${o}6
		echo '{"to":"bob","from":"alice","message":'
		echo '{"to":"bob","from":"bad name","message":"x"}'
		echo '{"to":"bob","from":"alice","message":""}'
		export_line message "$T/bob.pub" alice bob "second again" ${m}1${o}1
		export_line message "$T/bob.pub" carol bob "no id, from a stranger"
		echo '{"to":"bob","from":"alice","message":["not a string"]}'
	} > messages.json
	# eve signed up here: not the original's eve.
	start_server
	signup eve 'a password, long enough'
	stop_server
	start_server --import-users users.json --import-messages messages.json
	run cat "$SERVER_LOG"
	assert_line "e2e-server: users.json: 6 users imported, 0 imported before, 0 refused"
	assert_line "e2e-server: warning: messages.json line 5: refused: no account zed here: import the users first (--import-users)"
	assert_line "e2e-server: warning: messages.json line 6: refused: the account eve here was not imported from the original server: not delivered to it"
	assert_line --partial "e2e-server: warning: messages.json line 7: refused: not a JSON object: "
	assert_line "e2e-server: warning: messages.json line 8: refused: the sender \"bad name\" is not a valid name here"
	assert_line "e2e-server: warning: messages.json line 9: refused: the message has 0 bytes; 1 to 4194304 (--max-message) are taken"
	assert_line "e2e-server: warning: messages.json line 12: refused: \"to\", \"from\" and \"message\" must be strings"
	assert_line "e2e-server: messages.json: 5 messages imported, 1 imported before, 6 refused"
	# The original client reads them, oldest first by their _id, as it
	# did (its sign-in, its raw getmessage body, its Decryptor).
	run -0 orig get "$URL" bob 'bob old pw' alice "$T/bob"
	assert_output "first café"
	run -0 orig get "$URL" bob 'bob old pw' alice "$T/bob"
	assert_output "second"
	run -0 orig get "$URL" bob 'bob old pw' alice "$T/bob"
	assert_output "third ÿ§ñ &+% %41"
	run -3 orig get "$URL" bob 'bob old pw' alice "$T/bob"
	run -0 orig get "$URL" bob 'bob old pw' carol "$T/bob"
	assert_output "no id, from a stranger"
	# The message text is stored as the original held it, and sent_at
	# is its _id's time.
	signin_json alice 'alice old pw'
	token=$(json_get 'd["token"]')
	api GET /messages -H "x-access-token: $token"
	run -0 pyj '[(x["from"], x["to"], x["sent_at"]) for x in d["messages"]]' <<< "$body"
	assert_output "[[\"bob\", \"alice\", $((16#${m}4))]]"
	json_get 'd["messages"][0]["message"]' > m.seed
	pycheck '
	want = json.loads(open("messages.json").readlines()[3])["message"]
	assert open("m.seed").read().rstrip("\n") == want
	'
	run -0 ref decrypt alice < m.seed
	assert_output "to alice"
	run -0 --separate-stderr e2e-decrypt -i alice m.seed
	assert_output "to alice"
	# Twice: nothing added, not even the messages delivered meanwhile.
	stop_server
	start_server --import-users users.json --import-messages messages.json
	run grep "messages.json: " "$SERVER_LOG"
	assert_line --index 1 "e2e-server: messages.json: 0 messages imported, 6 imported before, 6 refused"
	run -3 orig get "$URL" bob 'bob old pw' alice "$T/bob"
	run -3 orig get "$URL" bob 'bob old pw' carol "$T/bob"
	assert_equal "$(sq 'SELECT count(*) FROM messages')" 1
}
