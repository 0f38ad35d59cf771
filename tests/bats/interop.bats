#!/usr/bin/env bats
# Interoperability with an independent JOSE implementation (python3-jwcrypto,
# driven by tests/interop/jwc.py): what e2e-encrypt writes, jwcrypto reads
# and verifies; what jwcrypto writes, e2e-decrypt reads and verifies.
# Also K13-style agreement of RFC 7638 key ids.

bats_require_minimum_version 1.5.0
load helpers
load interop_helpers

setup() {
	common_setup
	fixed_keys
	# Text and every byte value, so nothing depends on the content.
	{
		printf 'interop test: caf\xc3\xa9 & a+b "quoted" \\ back\n'
		"$PYTHON" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 9)'
	} > pt
}

@test "interop: key ids agree with jwcrypto's RFC 7638 thumbprints and e2e-encrypt's kids" {
	run --separate-stderr "$PYTHON" -c '
import sys
from jwcrypto import jwk
for n in sys.argv[1:]:
    print(jwk.JWK.from_pem(open(n + ".pub", "rb").read()).thumbprint())
' alice bob carol
	assert_success
	assert_equal "$output" "$KID_ALICE
$KID_BOB
$KID_CAROL"
	e2e-encrypt -r bob.pub -r carol.pub pt > msg
	run --separate-stderr "$PYTHON" -c '
import json, sys
for r in json.load(open("msg"))["recipients"]:
    print(r["header"]["kid"])
'
	assert_success
	assert_equal "$output" "$KID_BOB
$KID_CAROL"
}

@test "interop: jwc.py refuses a message not for its key and a wrong signer (the helper can fail)" {
	e2e-encrypt -r bob.pub -s alice pt > msg
	run --separate-stderr jwc open carol --signer alice < msg
	assert_failure
	assert_equal "$output" ""
	run --separate-stderr jwc open bob --signer carol < msg
	assert_failure
	assert_equal "$output" ""
	jwc open bob --signer alice < msg > got
	cmp got pt
}

@test "interop: e2e-encrypt -> jwcrypto, unsigned, A256CBC-HS512 and A256GCM, one and three recipients" {
	local enc k
	for enc in A256CBC-HS512 A256GCM; do
		e2e-encrypt --enc "$enc" -r bob.pub pt > one
		jwc open bob < one > got
		cmp got pt
		e2e-encrypt --enc "$enc" -r carol.pub -r bob.pub -r alice.pub pt > three
		for k in alice bob carol; do
			jwc open "$k" < three > got
			cmp got pt
		done
	done
}

@test "interop: e2e-encrypt -s -> jwcrypto decrypts, verifies the PS256 JWS and its claims" {
	local enc k
	for enc in A256CBC-HS512 A256GCM; do
		e2e-encrypt --enc "$enc" -r bob.pub -s alice pt > one
		jwc open bob --signer alice < one > got
		cmp got pt
		e2e-encrypt --enc "$enc" -r bob.pub -r carol.pub -s alice pt > two
		for k in bob carol; do
			jwc open "$k" --signer alice < two > got
			cmp got pt
		done
	done
}

@test "interop: e2e-encrypt's signed empty message reads with jwcrypto" {
	: > empty
	e2e-encrypt -r bob.pub -s alice empty > msg
	run --separate-stderr jwc open bob --signer alice < msg
	assert_success
	assert_equal "$output" ""
}

@test "interop: jwcrypto -> e2e-decrypt, general JSON, one and three recipients with kid" {
	local enc k
	for enc in A256CBC-HS512 A256GCM; do
		jwc seal --enc "$enc" -r bob < pt > one
		run --separate-stderr e2e-decrypt -i bob one
		assert_success
		assert_equal "$stderr" "$UNSIGNED_WARNING"
		e2e-decrypt -i bob one > got 2>/dev/null
		cmp got pt
		jwc seal --enc "$enc" -r carol -r bob -r alice < pt > three
		for k in alice bob carol; do
			e2e-decrypt -i "$k" -o got three 2>err
			cmp got pt
			rm got
			# jwcrypto writes no key commitment: GCM groups get the warning.
			if [ "$enc" = A256GCM ]; then
				grep -qxF "$UNCOMMITTED_WARNING" err
			else
				run ! grep -q "commitment" err
			fi
		done
	done
}

@test "interop: jwcrypto -> e2e-decrypt with alg in each recipient's header, not the protected one" {
	local enc
	for enc in A256CBC-HS512 A256GCM; do
		jwc seal --enc "$enc" -r bob --alg-in-header < pt > one
		"$PYTHON" -c '
import json, base64
j = json.load(open("one"))
p = json.loads(base64.urlsafe_b64decode(j["protected"] + "=="))
assert "alg" not in p and j["recipients"][0]["header"]["alg"] == "RSA-OAEP-256"
'
		e2e-decrypt -i bob one > got 2>/dev/null
		cmp got pt
		jwc seal --enc "$enc" -r carol -r bob --alg-in-header < pt > two
		e2e-decrypt -i bob two > got 2>/dev/null
		cmp got pt
	done
}

@test "interop: jwcrypto -> e2e-decrypt, flattened serialization" {
	local enc
	for enc in A256CBC-HS512 A256GCM; do
		jwc seal --enc "$enc" -r bob --flattened < pt > flat
		grep -q '"encrypted_key"' flat
		run ! grep -q '"recipients"' flat
		e2e-decrypt -i bob flat > got 2>/dev/null
		cmp got pt
	done
}

@test "interop: jwcrypto without kid: refused, every entry must name its key" {
	local enc
	for enc in A256CBC-HS512 A256GCM; do
		jwc seal --enc "$enc" -r bob --no-kid < pt > one
		run ! grep -q '"kid"' one
		run --separate-stderr e2e-decrypt -i bob one
		assert_failure 65
		assert_equal "${stderr_lines[0]}" "$CANNOT"
		assert_equal "${stderr_lines[1]}" \
		    'e2e-decrypt: hint: recipient 1 has no key id ("kid")'
		assert_equal "$output" ""
	done
}

@test "interop: jwcrypto without kid, not for this key: refused" {
	jwc seal -r carol -r alice --no-kid < pt > msg
	run --separate-stderr e2e-decrypt -i bob msg
	assert_refused "$CANNOT"
	assert_equal "${stderr_lines[1]}" \
	    'e2e-decrypt: hint: recipient 1 has no key id ("kid")'
}

@test "interop: jwcrypto -> e2e-decrypt with an aad member" {
	jwc seal -r bob --aad "room 7, thread 3" < pt > msg
	grep -q '"aad"' msg
	e2e-decrypt -i bob msg > got 2>/dev/null
	cmp got pt
}

@test "interop: jwcrypto JWS (our header, PS256) in a jwcrypto JWE -> e2e-decrypt --verify" {
	local enc k
	for enc in A256CBC-HS512 A256GCM; do
		jwc seal --enc "$enc" -r bob --sign alice < pt > one
		run --separate-stderr e2e-decrypt -i bob --verify alice.pub one
		assert_success
		assert_equal "$stderr" ""
		e2e-decrypt -i bob --verify alice.pub one > got
		cmp got pt
		jwc seal --enc "$enc" -r carol -r bob --sign alice < pt > two
		for k in bob carol; do
			e2e-decrypt -i "$k" --verify alice.pub -o got two 2>/dev/null
			cmp got pt
			rm got
		done
	done
}

@test "interop: jwcrypto JWS signed with a key other than the one its header names: refused" {
	local enc
	for enc in A256CBC-HS512 A256GCM; do
		jwc seal --enc "$enc" -r bob --sign alice --sign-with carol < pt > msg
		run --separate-stderr e2e-decrypt -i bob --verify alice.pub msg
		assert_signature_refused "the signature is not valid: the message was not signed by key $KID_ALICE"
	done
	# Genuinely signed by alice, but the reader expects carol.
	jwc seal -r bob --sign alice < pt > msg
	run --separate-stderr e2e-decrypt -i bob --verify carol.pub msg
	assert_signature_refused "the message is signed by key $KID_ALICE, not by the key $KID_CAROL given to verify it"
}

@test "interop: a 150001-byte message (several encryption chunks) both ways, signed" {
	local enc
	head -c 150001 /dev/urandom > big
	for enc in A256CBC-HS512 A256GCM; do
		e2e-encrypt --enc "$enc" -r bob.pub -s alice big > m1
		jwc open bob --signer alice < m1 > got
		cmp got big
		jwc seal --enc "$enc" -r bob --sign alice < big > m2
		e2e-decrypt -i bob --verify alice.pub -o got2 m2
		cmp got2 big
	done
}

@test "interop: a message of several of e2e-encrypt's reading chunks (261120 bytes) file to file, both ways, signed and not" {
	# Over one chunk, A256GCM is written by a second thread and a signed
	# A256GCM message is decrypted by the reading one (jwe.c): the 150001
	# bytes above stay within one.
	local enc n=$((3 * 261120 + 1))
	head -c "$n" /dev/urandom > big
	for enc in A256CBC-HS512 A256GCM; do
		e2e-encrypt --enc "$enc" -r bob.pub -o m0 big
		jwc open bob < m0 > got
		cmp got big
		e2e-encrypt --enc "$enc" -r bob.pub -s alice -o m1 big
		jwc open bob --signer alice < m1 > got
		cmp got big
		jwc seal --enc "$enc" -r bob < big > m2
		e2e-decrypt -i bob -o got2 m2
		cmp got2 big
		jwc seal --enc "$enc" -r bob --sign alice < big > m3
		e2e-decrypt -i bob --verify alice.pub -o got2 m3
		cmp got2 big
	done
}
