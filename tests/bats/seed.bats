#!/usr/bin/env bats
# The original E2E Chat ("seed") format against an independent reference
# (tests/interop/seed_reference.py, python3-cryptography only): round
# trips both ways, byte-exact output, and the legacy weaknesses L1-L6
# (crafted by tests/interop/seed_attacks.py).

bats_require_minimum_version 1.5.0
load helpers
load interop_helpers

setup() { common_setup; fixed_keys; }

seed_craft() {
	"$PYTHON" "$INTEROP/seed_attacks.py" "$@"
}

SIZES="0 1 15 16 17 255 256 1000 4097 65536"

# Random bytes of length $1 into file $2.
random_file() {
	head -c "$1" /dev/urandom > "$2"
}

@test "seed: e2e-encrypt --format seed --binary -> reference Decryptor, many sizes, binary content" {
	local n
	for n in $SIZES; do
		random_file "$n" "p$n"
		e2e-encrypt --format seed --binary -r bob.pub "p$n" > "m$n" 2>/dev/null
		ref decrypt bob < "m$n" > "got$n"
		cmp "got$n" "p$n"
	done
	# Every kind of byte the encoding must handle occurred in these texts:
	# & + " \ control bytes, DEL and bytes above it.
	cat m[0-9]* > all
	grep -q ampersand all
	grep -q plusplus all
	grep -qF '\"' all
	grep -qF '\\' all
	grep -qE '\\u000[0-9a-f]|\\u001[0-9a-f]' all
	grep -qF '\u007f' all
	grep -qE '\\u00[89a-f][0-9a-f]' all
	run ! grep -q '[&+]' all
}

@test "seed: reference Encryptor -> e2e-decrypt --binary, many sizes, binary content, with the warning" {
	local n
	for n in $SIZES; do
		random_file "$n" "p$n"
		ref encrypt bob.pub < "p$n" > "m$n"
		e2e-decrypt --binary -i bob -o "got$n" "m$n" 2> err
		cmp "got$n" "p$n"
		assert_equal "$(cat err)" "$SEED_WARNING"
	done
	# Plaintext with every byte value, and the replaced characters.
	"$PYTHON" -c 'import sys; sys.stdout.buffer.write(b"a&b+c plusplus ampersand " + bytes(range(256)) * 3)' > all
	ref encrypt bob.pub < all > m
	e2e-decrypt --binary -i bob -o got m 2>/dev/null
	cmp got all
}

@test "seed: e2e-encrypt's text is byte for byte what json.dumps writes" {
	local n
	for n in 0 1 17 1000 4097; do
		random_file "$n" p
		e2e-encrypt --format seed --binary -r bob.pub p > m 2>/dev/null
		# One line, ending in a newline.
		assert_equal "$(wc -l < m)" 1
		ref reencode < m > again
		head -c -1 m > m.nonl
		cmp again m.nonl
		assert_equal "$(tail -c 1 m | od -An -c | tr -d ' ')" '\n'
	done
}

@test "seed: e2e-decrypt reads a message without the final newline, as the original client sends it" {
	echo 'no newline' > p
	e2e-encrypt --format seed -r bob.pub p > m 2>/dev/null
	head -c -1 m > m.nonl
	run --separate-stderr e2e-decrypt -i bob m.nonl
	assert_success
	assert_output "no newline"
	assert_equal "$stderr" "$SEED_WARNING"
}

@test "seed: a seed message is never verified: --verify refuses it" {
	echo hi > p
	ref encrypt bob.pub < p > m
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub m
	assert_signature_refused "the message is in the seed format, which cannot be signed, and --verify asks for a signature"
}

@test "seed: a message for another key is refused, no hint" {
	echo hi > p
	ref encrypt carol.pub < p > m
	run --separate-stderr e2e-decrypt -i bob m
	assert_cannot_bare
}

@test "L1: a flipped IV bit still passes the original tag; e2e-decrypt always warns the IV is not authenticated" {
	local bit
	printf 'sixteen bytes!!!and the rest of the message\n' > p
	e2e-encrypt --format seed -r bob.pub p > m 2>/dev/null
	run --separate-stderr e2e-decrypt -i bob m
	assert_success
	assert_equal "$stderr" "$SEED_WARNING"
	for bit in 0 7 64 127; do
		seed_craft flip-iv "$bit" < m > "m$bit"
		# The reference (the original design) accepts the altered message.
		ref decrypt bob < "m$bit" > "ref$bit"
		run --separate-stderr e2e-decrypt --binary -i bob -o "got$bit" "m$bit"
		if [ "$status" -eq 0 ]; then
			# Accepted: the warning must be there, and the first block
			# changed exactly at that bit (the known weakness).
			assert_equal "$stderr" "$SEED_WARNING"
			cmp "got$bit" "ref$bit"
			run "$PYTHON" -c '
import sys
a, b = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
d = [i for i in range(len(a) * 8) if (a[i // 8] ^ b[i // 8]) & (0x80 >> i % 8)]
print(d)' p "got$bit"
			assert_output "[$bit]"
		else
			assert_cannot_bare
			assert_file_not_exists "got$bit"
		fi
	done
}

@test "L3: bad padding under a good tag and a bad tag give the same error and exit code" {
	local kind
	seed_craft badtag > badtag
	run --separate-stderr e2e-decrypt -i bob badtag
	assert_cannot_bare
	local want=$stderr
	for kind in zero big mixed nopad; do
		seed_craft badpad "$kind" > "pad-$kind"
		# The reference shows the tag is good and only the padding is bad.
		run "$PYTHON" -c '
import sys
sys.path.insert(0, sys.argv[1])
import josecraft as jc, seed_reference as ref
try:
    ref.decrypt(jc.private_key("bob"), open(sys.argv[2]).read())
except ValueError as e:
    print(e)' "$INTEROP" "pad-$kind"
		assert_output --partial "padding"
		run --separate-stderr e2e-decrypt -i bob "pad-$kind"
		assert_cannot_bare
		assert_equal "$stderr" "$want"
	done
}

@test "L4: tags of 0, 31, 33 and 64 bytes are refused" {
	local n
	for n in 0 31 33 64; do
		seed_craft tag "$n" > "tag$n"
		run --separate-stderr e2e-decrypt -i bob "tag$n"
		assert_cannot_hint "wrong length"
	done
	seed_craft tag 32 > tag32
	run --separate-stderr e2e-decrypt -i bob tag32
	assert_success
	assert_output "seed test"
}

@test "L5: RSACipher that is not 256 bytes is refused" {
	local n
	for n in 255 257 128; do
		seed_craft rsa "$n" > "rsa$n"
		run --separate-stderr e2e-decrypt -i bob "rsa$n"
		assert_cannot_hint "wrong length"
	done
}

@test "L5: an OAEP plaintext that is not 64 bytes is refused like a bad tag" {
	local n
	for n in 32 48 63 65 96; do
		seed_craft keys "$n" > "keys$n"
		run --separate-stderr e2e-decrypt -i bob "keys$n"
		assert_cannot_bare
	done
}

@test "L5: EncKey == HMACKey decrypts, with a warning" {
	seed_craft samekeys > m
	run --separate-stderr e2e-decrypt -i bob m
	assert_success
	assert_output "seed test"
	assert_equal "${stderr_lines[0]}" "$SEED_WARNING"
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: warning: the sender used the same key for encryption and authentication"
}

@test "L6: a code point above U+00FF is refused (escaped or raw UTF-8)" {
	local kind
	for kind in escape raw; do
		seed_craft above-ff "$kind" > "m-$kind"
		run --separate-stderr e2e-decrypt -i bob "m-$kind"
		assert_cannot_hint 'above U+00FF'
	done
	grep -qF '\u0100' m-escape
	grep -q "$(printf '\xc4\x80')" m-raw
}

@test "L6: a missing member is refused" {
	local name
	for name in RSACipher ct iv tag; do
		seed_craft missing "$name" > "m-$name"
		run --separate-stderr e2e-decrypt -i bob "m-$name"
		assert_refused "$CANNOT"
		# Without RSACipher the text is not recognised as a seed message.
		if [ "$name" != RSACipher ]; then
			assert_cannot_hint "\"$name\" is missing"
		fi
	done
}

@test "L6: a duplicated member is refused" {
	local name
	for name in RSACipher ct iv tag; do
		seed_craft duplicate "$name" clean > "m-$name"
		run --separate-stderr e2e-decrypt -i bob "m-$name"
		assert_cannot_hint "duplicate"
	done
}

@test "L6: a duplicated member in a message holding a NUL byte is refused, and the hint names the duplicate" {
	# Most seed messages hold a NUL byte (\u0000), which is valid in this
	# format: the hint must name the real problem, not the NUL.
	local name
	for name in RSACipher tag; do
		seed_craft duplicate "$name" nul > "m-$name"
		grep -qF '\u0000' "m-$name"
		run --separate-stderr e2e-decrypt -i bob "m-$name"
		assert_cannot_hint "duplicate"
	done
}

@test "L6: an extra member is refused" {
	seed_craft extra > m
	run --separate-stderr e2e-decrypt -i bob m
	assert_cannot_hint 'unexpected member "v"'
}

@test "L6: members of the wrong JSON type are refused" {
	local case name kind
	for case in RSACipher:number RSACipher:object ct:null ct:array \
	    iv:bool iv:number tag:array tag:object; do
		name=${case%:*} kind=${case#*:}
		seed_craft type "$name" "$kind" > m
		run --separate-stderr e2e-decrypt -i bob m
		assert_cannot_hint "\"$name\" is missing or not a string"
	done
}
