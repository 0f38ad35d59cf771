#!/usr/bin/env bats
# e2e-decrypt reading e2e-recv's record lines (issue 4, stream mode):
# cmd/e2e-decrypt/main.c and lib/format/records.c. Records are built here from
# envelopes made by e2e-encrypt, wrapped as e2e-recv prints them: a JWE
# as a JSON object (its bytes unchanged), the seed format as a string.
# Catalogue items: E1 (unsigned never verified), E2 (signed by another
# key than --verify's), E6 (each layer checked, tampering), J8
# (duplicate members), J9 (size caps), L2 (seed never verified).

bats_require_minimum_version 1.5.0
load helpers
load decrypt_helpers
setup() { common_setup; fixed_keys; }

# The incremental test's reader, if a failure left it waiting.
teardown() { live_teardown; }


# summary < OUTPUT: one line per output line: id from sent_at format
# signed_by signed_at-or-"-" verified text=JSON or data=HEX (decoded).
# Fails on a line that is not a JSON object with exactly these members;
# "warning" (why it is not verified) must be there when "verified" is
# false, and may be there when it is true only to say that the sender's
# name is not signed (these envelopes carry no names: issue 8).
summary() {
	"$PYTHON" -c '
import base64, json, sys
NONAME = ("the sender\x27s name is not signed (an older version wrote "
    "the message): verified by its key only")
for l in sys.stdin.read().split("\n")[:-1]:
    o = json.loads(l)
    want = ["id", "from", "sent_at", "format", "signed_by"]
    want += ["signed_at"] if "signed_at" in o else []
    want += ["verified"] + (["warning"] if "warning" in o else [])
    want += ["text" if "text" in o else "data"]
    assert list(o) == want, list(o)
    assert o["verified"] or "warning" in o, o
    assert not o["verified"] or o.get("warning", NONAME) == NONAME, o
    assert isinstance(o["sent_at"], int) and isinstance(o["verified"], bool)
    if "signed_at" in o:
        assert isinstance(o["signed_at"], int) and o["signed_by"] is not None
    body = "text=" + json.dumps(o["text"]) if "text" in o else \
        "data=" + base64.b64decode(o["data"], validate=True).hex()
    print(" ".join([o["id"], o["from"], str(o["sent_at"]), o["format"],
        str(o["signed_by"]), "signed_at" if "signed_at" in o else "-",
        json.dumps(o["verified"]), body]))
'
}

# The envelopes most tests use: signed by alice (A256CBC-HS512 and
# A256GCM), unsigned, the seed format, signed by carol; all for bob.
make_msgs() {
	echo 'hi bob' | e2e-encrypt -r bob.pub -s alice > s.jwe
	echo 'gcm' | e2e-encrypt -r bob.pub -s alice --enc A256GCM > g.jwe
	echo 'unsigned' | e2e-encrypt -r bob.pub > u.jwe
	printf 'from the seed client' |
	    e2e-encrypt --format seed -r bob.pub > seed.txt 2>/dev/null
	echo 'from carol' | e2e-encrypt -r bob.pub -s carol > c.jwe
	KA=$KID_ALICE
	KC=$KID_CAROL
}

# The output summaries of the four records of four_records.
R1="01A alice 1764380001 jwe KA signed_at false text=\"hi bob\\n\""
R2="01B alice 1764380002 jwe None - false text=\"unsigned\\n\""
R3="01C alice 1764380003 seed None - false text=\"from the seed client\""
R4="01D alice 1764380004 jwe KA signed_at false text=\"gcm\\n\""

four_records() {
	record 01A alice s.jwe 1764380001
	record 01B alice u.jwe 1764380002
	record 01C alice seed.txt 1764380003
	record 01D alice g.jwe 1764380004
}

# expect_summary LINE...: $output summarised equals the lines given (KA, KC
# replaced by the key ids, "verified" by true where asked).
expect_summary() {
	local want="" l
	for l in "$@"; do
		want+="${l//KA/$KA}"$'\n'
	done
	want=${want//KC/$KC}
	assert_equal "$(printf '%s\n' "$output" | summary)" "${want%$'\n'}"
}

no_esc() {
	[[ "$1" != *$'\033'* ]] || fail "a raw ESC byte was written: $1"
}

@test "stream: several records (signed, unsigned, A256GCM, seed) decrypted in order, one JSON line each, no warnings" {
	make_msgs
	four_records > records
	run --separate-stderr e2e-decrypt -i bob records
	assert_success
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 4
	expect_summary "$R1" "$R2" "$R3" "$R4"
	# The same from standard input.
	run --separate-stderr e2e-decrypt -i bob < records
	assert_success
	assert_equal "$stderr" ""
	expect_summary "$R1" "$R2" "$R3" "$R4"
	# signed_at is the signature's iat: now, give or take.
	local at
	at=$(printf '%s\n' "${lines[0]}" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["signed_at"])')
	[ $((at - $(date +%s))) -le 5 ] && [ $(($(date +%s) - at)) -le 300 ]
}

@test "stream: the output line, byte for byte" {
	make_msgs
	record 01B alice u.jwe 1764380002 > records
	run --separate-stderr e2e-decrypt -i bob records
	assert_success
	assert_output '{"id":"01B","from":"alice","sent_at":1764380002,"format":"jwe","signed_by":null,"verified":false,"warning":"not signed: anyone could have written it","text":"unsigned\n"}'
}

@test "E1/E2: --verify alice.pub: alice's records verified true; without --verify false with signed_by set" {
	make_msgs
	record 01A alice s.jwe 1764380001 > records
	record 01D alice g.jwe 1764380004 >> records
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub records
	assert_success
	assert_equal "$stderr" ""
	expect_summary "${R1/false/true}" "${R4/false/true}"
	run --separate-stderr e2e-decrypt -i bob records
	assert_success
	expect_summary "$R1" "$R4"
	[[ "$output" == *"\"signed_by\":\"$KA\""* ]] || fail "signed_by is not alice's kid"
}

@test "E2: --verify alice.pub and a record signed by carol: that record fails, the others print, exit 65" {
	make_msgs
	{
		record 01A alice s.jwe 1764380001
		record 01X alice c.jwe 1764380009
		record 01D alice g.jwe 1764380004
	} > records
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub records
	assert_equal "$status" 65
	expect_summary "${R1/false/true}" "${R4/false/true}"
	assert_equal "${#stderr_lines[@]}" 1
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: message 01X from alice: the message is signed by key $KC, not by the key $KA given to verify it"
}

@test "E1/L2: --verify refuses unsigned and seed records, each on its own line; the signed ones print" {
	make_msgs
	four_records > records
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub records
	assert_equal "$status" 65
	expect_summary "${R1/false/true}" "${R4/false/true}"
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: message 01B from alice: the message is not signed, and --verify asks for a signature"
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: error: message 01C from alice: the message is in the seed format, which cannot be signed, and --verify asks for a signature"
	assert_equal "${#stderr_lines[@]}" 2
}

@test "stream: binary plaintext and a NUL byte give \"data\", base64 that decodes to the bytes" {
	head -c 300 /dev/urandom > bin
	printf '\377\376not utf-8' >> bin
	printf 'text\0with a NUL' > nul
	e2e-encrypt -r bob.pub -s alice bin > b.jwe
	e2e-encrypt -r bob.pub nul > n.jwe
	: > empty
	e2e-encrypt -r bob.pub empty > e.jwe
	{ record 01A alice b.jwe; record 01B alice n.jwe; record 01C alice e.jwe; } > records
	run --separate-stderr e2e-decrypt -i bob records
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "${lines[0]}" | "$PYTHON" -c 'import base64,json,sys; sys.stdout.buffer.write(base64.b64decode(json.load(sys.stdin)["data"], validate=True))' > got
	cmp got bin
	printf '%s\n' "${lines[1]}" | "$PYTHON" -c 'import base64,json,sys; sys.stdout.buffer.write(base64.b64decode(json.load(sys.stdin)["data"], validate=True))' > got
	cmp got nul
	# Standard alphabet with padding (14 bytes: two "=").
	[[ "${lines[1]}" == *'"data":"dGV4dAB3aXRoIGEgTlVM"'* ]] || fail "${lines[1]}"
	# An empty message is empty text.
	[[ "${lines[2]}" == *'"verified":false,"warning":"not signed: anyone could have written it","text":""}' ]] || fail "${lines[2]}"
}

@test "stream: control, C1 and bidi characters are escaped in the JSON; other UTF-8 as it is on a pipe" {
	printf 'h\303\251 \033[31mred\302\233x\342\200\256y\342\200\250\177\r\n' > pt
	e2e-encrypt -r bob.pub pt > m.jwe
	"$PYTHON" -c 'import json,sys; print(json.dumps({"id":"01\u00e9\u001b","from":"\u202eeve","sent_at":1,"message":json.loads(open("m.jwe").read())}))' > records
	run --separate-stderr e2e-decrypt -i bob records
	assert_success
	no_esc "$output"
	assert_output '{"id":"01é\u001b","from":"\u202eeve","sent_at":1,"format":"jwe","signed_by":null,"verified":false,"warning":"not signed: anyone could have written it","text":"hé \u001b[31mred\u009bx\u202ey\u2028\u007f\u000d\n"}'
	printf '%s\n' "$output" | "$PYTHON" -c 'import json,sys; sys.stdout.buffer.write(json.load(sys.stdin)["text"].encode())' > got
	cmp got pt
}

@test "stream: on a terminal the JSON is all ASCII: no raw control, C1 or non-ASCII byte reaches it" {
	printf 'h\303\251 \033]0;title\007\302\233 \360\237\230\200\n' > pt
	e2e-encrypt -r bob.pub pt > m.jwe
	record 01A "m$(printf '\303\251')l" m.jwe > records
	run script -qec "e2e-decrypt -i bob records" /dev/null
	assert_success
	no_esc "$output"
	printf '%s' "$output" | "$PYTHON" -c 'import sys; sys.exit(any(b >= 0x80 for b in sys.stdin.buffer.read()))' ||
	    fail "non-ASCII bytes on the terminal: $output"
	assert_output --partial '"from":"m\u00e9l"'
	assert_output --partial '"text":"h\u00e9 \u001b]0;title\u0007\u009b \ud83d\ude00\n"}'
}

@test "E6: a tampered record among good ones: the error names its id, the others print, exit 65" {
	make_msgs
	tampered_copy s.jwe t.jwe
	{
		record 01A alice s.jwe 1764380001
		record 01T alice t.jwe 1764380005
		record 01B alice u.jwe 1764380002
	} > records
	run --separate-stderr e2e-decrypt -i bob records
	assert_equal "$status" 65
	expect_summary "$R1" "$R2"
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: message 01T from alice: $CANNOT_WHY"
	assert_equal "${#stderr_lines[@]}" 1
}

@test "stream: a record that is not for this key fails with the hint naming the keys; the others print" {
	make_msgs
	echo 'for carol' | e2e-encrypt -r carol.pub -s alice > forcarol.jwe
	{
		record 01C alice forcarol.jwe 1764380007
		record 01A alice s.jwe 1764380001
	} > records
	run --separate-stderr e2e-decrypt -i bob records
	assert_equal "$status" 65
	expect_summary "$R1"
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: message 01C from alice: $CANNOT_WHY"
	[[ "${stderr_lines[1]}" == "e2e-decrypt: hint: this message is for key $KID_CAROL; your key is $KID_BOB"* ]] ||
	    fail "hint: ${stderr_lines[1]}"
	assert_equal "${#stderr_lines[@]}" 2
}

@test "J8: malformed lines are reported by line number and skipped; the good ones around them print" {
	make_msgs
	local good
	good=$(record 01A alice s.jwe 1764380001)
	{
		echo "$good"
		echo 'hello'
		echo '[1,2]'
		echo '{"from":"alice","sent_at":1,"message":"x"}'
		echo '{"id":7,"from":"alice","sent_at":1,"message":"x"}'
		echo '{"id":"01M","from":"alice","sent_at":1}'
		echo '{"id":"01S","from":"alice","sent_at":"1764380000","message":"x"}'
		echo '{"id":"01F","from":"","sent_at":1,"message":"x"}'
		echo '{"id":"01Z","from":"alice","to":5,"sent_at":1,"message":"x"}'
		echo '{"id":"01N","from":"alice","sent_at":1,"message":null}'
		echo '{"id":"01D","id":"01E","from":"alice","sent_at":1,"message":"x"}'
		echo '{"id":"01G","from":"alice","sent_at":1,"message":{},"message":{}}'
		printf '{"id":"01\377","from":"alice","sent_at":1,"message":"x"}\n'
		printf '{"id":"01\0","from":"alice","sent_at":1,"message":"x"}\n'
		echo '{"id":"01U\u0000","from":"alice","sent_at":1,"message":"x"}'
		echo '{"id":"01K","from":"alice","sent_at":1,"\u006dessage":{"a":1}}'
		echo "$good"
	} > records
	run --separate-stderr e2e-decrypt -i bob records
	assert_equal "$status" 65
	expect_summary "$R1" "$R1"
	local e="e2e-decrypt: error: line"
	assert_equal "${stderr_lines[0]}" "$e 2: not a record: not JSON: '[' or '{' expected near 'hello' at line 1, column 5"
	assert_equal "${stderr_lines[1]}" "$e 3: not a record: not a JSON object"
	assert_equal "${stderr_lines[2]}" "$e 4: not a record: \"id\" is missing, empty or not a string"
	assert_equal "${stderr_lines[3]}" "$e 5: not a record: \"id\" is missing, empty or not a string"
	assert_equal "${stderr_lines[4]}" "$e 6: message 01M from alice: not a record: \"message\" is missing or neither an object nor a string"
	assert_equal "${stderr_lines[5]}" "$e 7: message 01S from alice: not a record: \"sent_at\" is missing or not an integer"
	assert_equal "${stderr_lines[6]}" "$e 8: message 01F: not a record: \"from\" is missing, empty or not a string"
	assert_equal "${stderr_lines[7]}" "$e 9: message 01Z from alice: not a record: \"to\" is not a string"
	assert_equal "${stderr_lines[8]}" "$e 10: message 01N from alice: not a record: \"message\" is missing or neither an object nor a string"
	assert_equal "${stderr_lines[9]}" "$e 11: not a record: not JSON: duplicate object key near '\"id\"' at line 1, column 16"
	assert_equal "${stderr_lines[10]}" "$e 12: not a record: not JSON: duplicate object key near '\"message\"' at line 1, column 61"
	assert_equal "${stderr_lines[11]}" "$e 13: not a record: not JSON: unable to decode byte 0xff near '\"01' at line 1, column 9"
	assert_equal "${stderr_lines[12]}" "$e 14: not a record: not JSON: control character 0x0 near '\"01' at line 1, column 9"
	assert_equal "${stderr_lines[13]}" "$e 15: not a record: not JSON: \\u0000 is not allowed at line 1, column 17"
	assert_equal "${stderr_lines[14]}" "$e 16: message 01K from alice: not a record: \"message\" is an object whose member name is written with escapes"
	assert_equal "${#stderr_lines[@]}" 15
}

@test "J8: a duplicate member inside the envelope of a record is refused like the same envelope alone" {
	make_msgs
	# "iv" twice in the JWE object.
	sed 's/"iv":"\([^"]*\)"/"iv":"\1","iv":"\1"/' s.jwe > dup.jwe
	grep -q '"iv":.*"iv":' dup.jwe
	{ record 01D alice dup.jwe; record 01A alice s.jwe 1764380001; } > records
	run --separate-stderr e2e-decrypt -i bob records
	assert_equal "$status" 65
	expect_summary "$R1"
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: message 01D from alice: $CANNOT_WHY"
	[[ "${stderr_lines[1]}" == "e2e-decrypt: hint: "*"duplicate object key"* ]] || fail "${stderr_lines[1]}"
}

@test "stream: a hostile id and name with escape sequences are shown escaped, never raw" {
	make_msgs
	"$PYTHON" -c 'import json; print(json.dumps({"id":"\u001b]0;pwned\u0007\u001b[2J","from":"\u009b31m\u202eeve","sent_at":1,"message":"not an envelope"}))' > records
	"$PYTHON" -c 'import json; print(json.dumps({"id":"\u001b[31m","sent_at":1,"message":"x"}))' >> records
	record 01A alice s.jwe 1764380001 >> records
	run --separate-stderr e2e-decrypt -i bob records
	assert_equal "$status" 65
	expect_summary "$R1"
	no_esc "$stderr"
	assert_equal "${stderr_lines[0]}" 'e2e-decrypt: error: message \x1b]0;pwned\x07\x1b[2J from \xc2\x9b31m\xe2\x80\xaeeve: '"$CANNOT_WHY"
	assert_equal "${stderr_lines[2]}" 'e2e-decrypt: error: line 2: message \x1b[31m: not a record: "from" is missing, empty or not a string'
}

@test "J9: a line over --max-size is reported with its number, skipped unbuffered, counted; later lines decrypt; the cap itself is accepted" {
	make_msgs
	head -c 5000 /dev/zero | tr '\0' x | e2e-encrypt -r bob.pub -s alice > long.jwe
	record 01A alice s.jwe 1764380001 > a
	record 01L alice long.jwe > l
	record 01D alice g.jwe 1764380004 > d
	local cap la ld
	la=$(($(stat -c %s a) - 1))
	ld=$(($(stat -c %s d) - 1))
	cap=$((la > ld ? la : ld))
	cat a l d > records
	run --separate-stderr e2e-decrypt -i bob --max-size "$cap" records
	assert_equal "$status" 65
	expect_summary "$R1" "$R4"
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: line 2: longer than the limit of $cap bytes (--max-size): skipped"
	assert_equal "${#stderr_lines[@]}" 1
	# One byte less: the longest good line is refused too.
	run --separate-stderr e2e-decrypt -i bob --max-size "$((cap - 1))" --stream records
	assert_equal "$status" 65
	[[ "$stderr" == *"longer than the limit of $((cap - 1)) bytes"* ]] || fail "$stderr"
	# CRLF line ends do not count; a long first line with --stream is skipped too.
	sed 's/$/\r/' a > a.crlf
	cat l a.crlf > records2
	run --separate-stderr e2e-decrypt -i bob --max-size "$la" --stream records2
	assert_equal "$status" 65
	expect_summary "$R1"
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: line 1: longer than the limit of $la bytes (--max-size): skipped"
}

@test "J9: an over-long line is dropped as it is read: a 300 MiB line on a pipe costs no 300 MiB" {
	make_msgs
	record 01A alice s.jwe 1764380001 > a
	command -v /usr/bin/time >/dev/null || skip "/usr/bin/time is not installed"
	run --separate-stderr bash -c '{ cat a; head -c 300M /dev/zero; echo; cat a; } |
	    /usr/bin/time -f "rss %M" e2e-decrypt -i bob --max-size 64K'
	assert_equal "$status" 65
	expect_summary "$R1" "$R1"
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: line 2: longer than the limit of 65536 bytes (--max-size): skipped"
	local rss=${stderr_lines[-1]#rss }
	[ "$rss" -lt 150000 ] || fail "max RSS $rss KiB"
}

@test "stream: --stream with empty or blank input: no output, exit 0; CRLF, blank lines and a missing final newline are fine" {
	run --separate-stderr e2e-decrypt -i bob --stream < /dev/null
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	printf '\n  \r\n\t\n' > blank
	run --separate-stderr e2e-decrypt -i bob --stream blank
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	make_msgs
	{
		printf '\n \n'
		record 01A alice s.jwe 1764380001 | sed 's/$/\r/'
		printf '\r\n'
		record 01B alice u.jwe 1764380002 | tr -d '\n'
	} > records
	run --separate-stderr e2e-decrypt -i bob records
	assert_success
	assert_equal "$stderr" ""
	expect_summary "$R1" "$R2"
}

@test "stream: the first line decides; an envelope (even with record members) stays one envelope" {
	make_msgs
	# Leading blank lines, then an envelope: single mode, as before.
	{ echo; cat u.jwe; } > m
	run --separate-stderr e2e-decrypt -i bob m
	assert_success
	assert_output "unsigned"
	# An envelope with "id" and "message" members is still an envelope,
	# refused as one.
	sed 's/^{/{"id":"x","message":{},/' u.jwe > idm.jwe
	run --separate-stderr e2e-decrypt -i bob idm.jwe
	assert_equal "$status" 65
	assert_output ""
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: $CANNOT_WHY"
	assert_equal "${stderr_lines[1]}" 'e2e-decrypt: hint: unexpected member "id"'
	# --stream makes it a record line (no "from").
	run --separate-stderr e2e-decrypt -i bob --stream idm.jwe
	assert_equal "$status" 65
	assert_output ""
	assert_equal "${stderr_lines[0]}" 'e2e-decrypt: error: line 1: message x: not a record: "from" is missing, empty or not a string'
	# A seed message stays one message (its warning included).
	run --separate-stderr e2e-decrypt -i bob seed.txt
	assert_success
	assert_output "from the seed client"
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: warning: seed format: neither the IV nor the sender is authenticated"
	# Extra members in a record are ignored; "to" may be absent.
	"$PYTHON" -c 'import json; print(json.dumps({"id":"01B","from":"alice","sent_at":1764380002,"later":[1],"message":json.loads(open("u.jwe").read())}))' > records
	run --separate-stderr e2e-decrypt -i bob records
	assert_success
	expect_summary "$R2"
}

@test "stream: each line is decrypted and printed as soon as it arrives, before the input ends" {
	make_msgs
	live_records
	live_start
	live_send r1 1
	run summary < out
	assert_output "${R1//KA/$KA}"
	live_send r2 2
	live_end
	output=$(cat out)
	expect_summary "$R1" "$R2"
}

@test "stream: a closed stdout or a full disk: 74 at once, nothing more decrypted" {
	make_msgs
	four_records > records
	run --separate-stderr bash -c 'e2e-decrypt -i bob records >&-'
	assert_equal "$status" 74
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: cannot write standard output: Bad file descriptor"
	assert_equal "${#stderr_lines[@]}" 1
	run --separate-stderr bash -c 'e2e-decrypt -i bob records > /dev/full'
	assert_equal "$status" 74
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: cannot write standard output: No space left on device"
	assert_equal "${#stderr_lines[@]}" 1
	# A reader that went away (EPIPE, SIGPIPE ignored): 74 too.
	run --separate-stderr bash -c 'set -o pipefail; { cat records; sleep 1; cat records; } | e2e-decrypt -i bob | head -c 1 >/dev/null'
	assert_equal "$status" 74
	[[ "$stderr" == *"e2e-decrypt: error: cannot write standard output: Broken pipe"* ]] || fail "$stderr"
}

@test "stream: -o OUT is refused in stream mode (64), with a hint to redirect; no file written" {
	make_msgs
	four_records > records
	run --separate-stderr e2e-decrypt -i bob --stream -o out records
	assert_equal "$status" 64
	assert_output ""
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: -o cannot be used with a stream of records"
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: redirect standard output instead: e2e-decrypt -i PRIVKEY < RECORDS > OUT"
	assert_not_exist out
	# Found from the input, the same.
	run --separate-stderr e2e-decrypt -i bob -o out records
	assert_equal "$status" 64
	assert_output ""
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: -o cannot be used with a stream of records"
	assert_not_exist out
	# --help documents stream mode with the chat-reader example, and
	# warns that a jq -r reader must filter control characters.
	run --separate-stderr e2e-decrypt --help
	assert_success
	assert_output --partial "--stream"
	assert_output --partial "e2e-recv --follow | e2e-decrypt -i me.key"
	assert_output --partial "must filter control characters"
}

@test "stream: a large record among small ones decrypts, and memory stays flat over many records" {
	head -c 3000000 /dev/urandom | base64 -w0 > big.txt
	e2e-encrypt -r bob.pub -s alice big.txt > big.jwe
	make_msgs
	{ record 01A alice s.jwe 1764380001; record 01G alice big.jwe; record 01A alice s.jwe 1764380001; } > records
	run --separate-stderr e2e-decrypt -i bob records
	assert_success
	assert_equal "${#lines[@]}" 3
	printf '%s\n' "${lines[1]}" | "$PYTHON" -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)["text"])' | cmp - big.txt
	command -v /usr/bin/time >/dev/null || skip "/usr/bin/time is not installed"
	head -c 200000 /dev/urandom | base64 -w0 > mid.txt
	e2e-encrypt -r bob.pub mid.txt > mid.jwe
	record 01M alice mid.jwe > one
	local i
	for i in 1 2 3 4 5; do cat one; done > five
	for i in $(seq 20); do cat five; done > hundred
	# ASan would keep freed memory in quarantine and look like growth.
	export ASAN_OPTIONS=quarantine_size_mb=0:${ASAN_OPTIONS:-}
	local r5 r100
	r5=$(/usr/bin/time -f %M e2e-decrypt -i bob five 2>&1 >/dev/null | tail -n 1)
	r100=$(/usr/bin/time -f %M e2e-decrypt -i bob hundred 2>&1 >/dev/null | tail -n 1)
	[ $((r100 - r5)) -lt 16000 ] || fail "max RSS: 5 records $r5 KiB, 100 records $r100 KiB"
}
