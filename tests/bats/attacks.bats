#!/usr/bin/env bats
# The attack catalogue (SECURITY-TESTS.md 3.1 and 3.3) with envelopes
# crafted in Python (tests/interop/attacks.py) for bob's committed key,
# signed by alice: each test names its catalogue ID.

bats_require_minimum_version 1.5.0
load helpers
load interop_helpers

setup() { common_setup; fixed_keys; }

PT="attack at dawn"
NOT_PS256="the signature is not acceptable: the signature algorithm is not PS256"

@test "attacks.py: the unaltered crafted envelopes are accepted (the base of every attack)" {
	craft good-signed good-unsigned
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub good-signed
	assert_success
	assert_output "$PT"
	assert_equal "$stderr" ""
	run --separate-stderr e2e-decrypt -i bob good-unsigned
	assert_success
	assert_output "$PT"
	assert_equal "$stderr" "$UNSIGNED_WARNING"
}

@test "J1: inner JWS with alg none, None, NONE, or an empty signature is refused, with or without --verify" {
	local c
	craft J1-none J1-None J1-NONE J1-none-with-sig J1-empty-sig
	for c in J1-none J1-None J1-NONE J1-none-with-sig; do
		run --separate-stderr e2e-decrypt -i bob "$c"
		assert_signature_refused "$NOT_PS256"
		run --separate-stderr e2e-decrypt -i bob --verify alice.pub "$c"
		assert_signature_refused "$NOT_PS256"
	done
	run --separate-stderr e2e-decrypt -i bob J1-empty-sig
	assert_signature_refused "the signature is not acceptable: the signature is missing or too long"
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub J1-empty-sig
	assert_signature_refused "the signature is not acceptable: the signature is missing or too long"
}

@test "J2: key management other than RSA-OAEP-256 is refused with a hint naming it" {
	local alg algs="RSA1_5 RSA-OAEP dir A128KW ECDH-ES PBES2-HS256+A128KW"
	# shellcheck disable=SC2046,SC2086
	craft $(printf 'J2-%s ' $algs) J2-ECDH-ES+A256KW
	for alg in $algs; do
		run --separate-stderr e2e-decrypt -i bob "J2-$alg"
		assert_cannot_hint "key management \"$alg\" is not accepted"
	done
	# ECDH-ES+A256KW is read (forward secrecy, FORMAT.md section 11),
	# with an X25519 ephemeral key only: without one, refused.
	run --separate-stderr e2e-decrypt -i bob J2-ECDH-ES+A256KW
	assert_cannot_hint '"epk" is not a JSON object'
}

@test "J2: content encryption A128GCM and A128CBC-HS256 is refused with a hint naming it" {
	local enc
	craft J2-A128GCM J2-A128CBC-HS256
	for enc in A128GCM A128CBC-HS256; do
		run --separate-stderr e2e-decrypt -i bob "J2-$enc"
		assert_cannot_hint "content encryption \"$enc\" is not accepted"
	done
}

@test "J2: RSA1_5 in another recipient's header refuses the whole message" {
	craft J2-other-recipient
	run --separate-stderr e2e-decrypt -i bob J2-other-recipient
	assert_cannot_hint 'key management "RSA1_5"'
}

@test "J4: inner JWS HS256 keyed with alice's public key PEM is refused" {
	craft J4-hs256
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub J4-hs256
	assert_signature_refused "$NOT_PS256"
	run --separate-stderr e2e-decrypt -i bob J4-hs256
	assert_signature_refused "$NOT_PS256"
}

@test "J5: jwk/jku/x5u/x5c headers naming carol's key do not choose the key" {
	craft J5-embedded-keys
	"$PYTHON" -c '
import json, sys
sys.path.insert(0, sys.argv[1])
import josecraft as jc
p = json.loads(jc.unb64u(json.load(open("J5-embedded-keys"))["protected"]))
assert p["jwk"] == jc.public_jwk(jc.public_key("carol"))
assert {"jku", "x5u", "x5c"} <= set(p)' "$INTEROP"
	run --separate-stderr e2e-decrypt -i carol J5-embedded-keys
	assert_cannot_hint "this message is for key $KID_BOB; your key is $KID_CAROL"
	run --separate-stderr e2e-decrypt -i bob J5-embedded-keys
	assert_success
	assert_output "$PT"
}

@test "J5: a kid that is not bob's: bob is told it is not for his key, carol cannot unwrap it" {
	craft J5-kid-carol
	run --separate-stderr e2e-decrypt -i bob J5-kid-carol
	assert_cannot_hint "this message is for key $KID_CAROL; your key is $KID_BOB"
	run --separate-stderr e2e-decrypt -i carol J5-kid-carol
	assert_cannot_bare
}

@test "J5: an inner jwk header of carol's key, signed by carol, does not pass for alice" {
	craft J5-inner-jwk
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub J5-inner-jwk
	assert_signature_refused "the signature is not valid: the message was not signed by key $KID_ALICE"
}

@test "J6: crit (unknown name, [], a standard name, unprotected, per-recipient) is refused" {
	local c
	craft J6-crit-unknown J6-crit-empty J6-crit-standard \
	    J6-crit-unprotected J6-crit-recipient
	for c in J6-crit-unknown J6-crit-empty J6-crit-standard \
	    J6-crit-unprotected J6-crit-recipient; do
		run --separate-stderr e2e-decrypt -i bob "$c"
		assert_cannot_hint '("crit")'
	done
}

@test "J6: inner JWS with b64:false and crit is refused" {
	craft J6-b64-false
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub J6-b64-false
	assert_signature_refused 'the signature is not acceptable: the signature header has "crit" or "b64", which are not supported'
}

@test "J7: zip DEF (a 64 MiB deflate bomb) is refused without inflating" {
	craft J7-zip
	[ "$(stat -c %s J7-zip)" -lt 200000 ]
	# 32 MiB of address space: inflating the bomb could not fit.
	local cap="ulimit -v 32768;"
	asan_build && cap=""
	run --separate-stderr bash -c "$cap exec e2e-decrypt -i bob J7-zip"
	assert_cannot_hint '("zip") are not accepted'
}

@test "J8: duplicate members inside the protected header are refused" {
	craft J8-dup-alg-same J8-dup-enc
	run --separate-stderr e2e-decrypt -i bob J8-dup-alg-same
	assert_cannot_hint "duplicate object key near '\"alg\"'"
	run --separate-stderr e2e-decrypt -i bob J8-dup-enc
	assert_cannot_hint "duplicate object key near '\"enc\"'"
}

@test "J8: a name in both the protected and a recipient's or the unprotected header is refused" {
	craft J8-alg-in-header J8-enc-in-header J8-alg-in-unprotected
	run --separate-stderr e2e-decrypt -i bob J8-alg-in-header
	assert_cannot_hint 'header parameter "alg" appears more than once'
	run --separate-stderr e2e-decrypt -i bob J8-enc-in-header
	assert_cannot_hint 'header parameter "enc" appears more than once'
	run --separate-stderr e2e-decrypt -i bob J8-alg-in-unprotected
	assert_cannot_hint 'header parameter "alg" appears more than once'
}

@test "J8: duplicate members at the top, in a recipient and in its header are refused" {
	local m
	craft J8-dup-ciphertext J8-dup-iv J8-dup-protected \
	    J8-dup-encrypted-key J8-dup-kid
	for m in ciphertext iv protected encrypted-key kid; do
		run --separate-stderr e2e-decrypt -i bob "J8-dup-$m"
		assert_cannot_hint "duplicate object key near '\"${m/-/_}\"'"
	done
}

@test "J9: 10k recipients are refused quickly, before any RSA operation" {
	craft J9-10k-recipients J9-257-recipients
	local t0 t1
	t0=$(now_ms)
	run --separate-stderr e2e-decrypt -i bob J9-10k-recipients
	t1=$(now_ms)
	assert_cannot_hint "more than 256 recipients"
	[ $((t1 - t0)) -lt 5000 ]
	run --separate-stderr e2e-decrypt -i bob J9-257-recipients
	assert_cannot_hint "more than 256 recipients"
}

@test "J9: 256 recipients, the cap, are accepted" {
	craft J9-256-recipients
	run --separate-stderr e2e-decrypt -i bob J9-256-recipients
	assert_success
	assert_output "$PT"
}

@test "J9: a 1 MB protected header is refused; 16 KiB is accepted, one byte more is not" {
	craft J9-1mb-protected J9-16k-protected J9-16k1-protected
	run --separate-stderr e2e-decrypt -i bob J9-1mb-protected
	assert_cannot_hint "larger than 16384 bytes"
	run --separate-stderr e2e-decrypt -i bob J9-16k1-protected
	assert_cannot_hint "larger than 16384 bytes"
	run --separate-stderr e2e-decrypt -i bob J9-16k-protected
	assert_success
	assert_output "$PT"
}

@test "J9: 100k nesting depth is refused without a crash" {
	craft J9-deep J9-deep-member
	run --separate-stderr e2e-decrypt -i bob J9-deep
	assert_cannot_hint "depth"
	run --separate-stderr e2e-decrypt -i bob J9-deep-member
	assert_cannot_hint "depth"
}

@test "J9: a 300 MiB input on a pipe is refused by size (default --max-size), quickly" {
	local t0 t1
	t0=$(now_ms)
	run --separate-stderr bash -c 'head -c 300M /dev/zero | e2e-decrypt -i bob'
	t1=$(now_ms)
	assert_refused "e2e-decrypt: error: standard input is larger than the limit of 268435456 bytes"
	[ $((t1 - t0)) -lt 20000 ]
}

@test "J11: A256CBC-HS512 tags of 0, 1, 16, 31, 33, 64 bytes are refused" {
	local n
	craft J11-cbc-tag-0 J11-cbc-tag-1 J11-cbc-tag-16 J11-cbc-tag-31 \
	    J11-cbc-tag-33 J11-cbc-tag-64
	for n in 0 1 16 31 33 64; do
		run --separate-stderr e2e-decrypt -i bob "J11-cbc-tag-$n"
		assert_cannot_hint "wrong length for A256CBC-HS512"
	done
}

@test "J11: A256GCM tags of 0, 1, 12, 15 bytes are refused" {
	local n
	craft J11-gcm-tag-0 J11-gcm-tag-1 J11-gcm-tag-12 J11-gcm-tag-15
	for n in 0 1 12 15; do
		run --separate-stderr e2e-decrypt -i bob "J11-gcm-tag-$n"
		assert_cannot_hint "wrong length for A256GCM"
	done
}

@test "J11: an IV of the wrong length for each enc is refused" {
	local c
	craft J11-cbc-iv-0 J11-cbc-iv-12 J11-cbc-iv-17 J11-gcm-iv-0 \
	    J11-gcm-iv-8 J11-gcm-iv-16
	for c in J11-cbc-iv-0 J11-cbc-iv-12; do
		run --separate-stderr e2e-decrypt -i bob "$c"
		assert_cannot_hint "wrong length for A256CBC-HS512"
	done
	run --separate-stderr e2e-decrypt -i bob J11-cbc-iv-17
	assert_cannot_hint '"iv" is too long'
	for c in J11-gcm-iv-0 J11-gcm-iv-8 J11-gcm-iv-16; do
		run --separate-stderr e2e-decrypt -i bob "$c"
		assert_cannot_hint "wrong length for A256GCM"
	done
}

@test "J13: valid HMAC over bad PKCS#7 padding and a bad HMAC give identical errors" {
	local c want
	craft J13-bad-tag J13-pad-0 J13-pad-17 J13-pad-255
	run --separate-stderr e2e-decrypt -i bob J13-bad-tag
	assert_cannot_bare
	want=$stderr
	for c in J13-pad-0 J13-pad-17 J13-pad-255; do
		# Independently: the tag is valid and only the padding is bad.
		run "$PYTHON" -c '
import json, sys
sys.path.insert(0, sys.argv[1])
import josecraft as jc
j = json.load(open(sys.argv[2]))
cek = jc.oaep_unwrap(jc.private_key("bob"),
                     jc.unb64u(j["recipients"][0]["encrypted_key"]))
iv, ct = jc.unb64u(j["iv"]), jc.unb64u(j["ciphertext"])
ok = jc.cbc_hmac_tag(cek[:32], j["protected"].encode(), iv, ct) == \
    jc.unb64u(j["tag"])
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
d = Cipher(algorithms.AES(cek[32:]), modes.CBC(iv)).decryptor()
last = (d.update(ct) + d.finalize())[-1]
print("tag ok" if ok else "tag bad", last)' "$INTEROP" "$c"
		assert_output "tag ok ${c#J13-pad-}"
		run --separate-stderr e2e-decrypt -i bob "$c"
		assert_cannot_bare
		assert_equal "$stderr" "$want"
	done
}

@test "J15: a wrapped CEK of 32 or 65 bytes (and 64 for A256GCM) is refused like a bad tag" {
	local c want
	craft J13-bad-tag J15-cek-32 J15-cek-65 J15-gcm-cek-64 J15-gcm-bad-tag
	run --separate-stderr e2e-decrypt -i bob J13-bad-tag
	assert_cannot_bare
	want=$stderr
	for c in J15-cek-32 J15-cek-65 J15-gcm-cek-64 J15-gcm-bad-tag; do
		run --separate-stderr e2e-decrypt -i bob "$c"
		assert_cannot_bare
		assert_equal "$stderr" "$want"
	done
}

@test "J16: a compact JWS, the server's HS256 JWT, a compact JWE or plain text are refused" {
	local c
	craft J16-compact-jws J16-jwt J16-text J16-compact-jwe
	for c in J16-compact-jws J16-jwt J16-text J16-compact-jwe; do
		run --separate-stderr e2e-decrypt -i bob "$c"
		assert_cannot_hint "not a JSON envelope"
		run --separate-stderr e2e-decrypt -i bob --verify alice.pub "$c"
		assert_cannot_hint "not a JSON envelope"
	done
}

@test "J16: a compact JWE or the server's JWT where the inner JWS is expected is refused" {
	craft J16-inner-jwe J16-inner-jwt
	run --separate-stderr e2e-decrypt -i bob J16-inner-jwe
	assert_signature_refused "the signature is not acceptable: the signed message is not a compact JWS with three parts"
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub J16-inner-jwt
	assert_signature_refused "$NOT_PS256"
}

@test "J17: PS256 with salt 0/20/31/33, MGF1-SHA1, or a signature not of 256 bytes or not reduced is refused by --verify" {
	local c
	craft J17-salt-0 J17-salt-20 J17-salt-31 J17-salt-33 J17-mgf1-sha1 \
	    J17-sig-255 J17-sig-257 J17-sig-zero J17-sig-n good-signed
	for c in J17-salt-0 J17-salt-20 J17-salt-31 J17-salt-33 \
	    J17-mgf1-sha1 J17-sig-255 J17-sig-257 J17-sig-zero J17-sig-n; do
		run --separate-stderr e2e-decrypt -i bob --verify alice.pub "$c"
		assert_signature_refused "the signature is not valid: the message was not signed by key $KID_ALICE"
	done
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub good-signed
	assert_success
}

@test "J17: messages signed by a 1024-bit or an e=3 key: --verify refuses the key file, and they never pass for alice" {
	craft J17-weak1024 J17-e3
	run --separate-stderr e2e-decrypt -i bob --verify weak1024.pub J17-weak1024
	assert_refused "e2e-decrypt: error: weak1024.pub is a 1024-bit RSA key; at least 2048 bits are needed"
	run --separate-stderr e2e-decrypt -i bob --verify e3.pub J17-e3
	assert_refused "e2e-decrypt: error: e3.pub has a public exponent other than 65537"
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub J17-weak1024
	assert_signature_refused "the message is signed by key $(thumbprint weak1024.pub), not by the key $KID_ALICE given to verify it"
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub J17-e3
	assert_signature_refused "the message is signed by key $(thumbprint e3.pub), not by the key $KID_ALICE given to verify it"
}

@test "J19: an inner JWS in JSON serialization (2 signatures, or an unprotected header) is refused" {
	local c
	craft J19-two-signatures J19-flattened-header
	for c in J19-two-signatures J19-flattened-header; do
		run --separate-stderr e2e-decrypt -i bob "$c"
		assert_signature_refused "the signature is not acceptable: the signed message is not a compact JWS with three parts"
		run --separate-stderr e2e-decrypt -i bob --verify alice.pub "$c"
		assert_signature_refused "the signature is not acceptable: the signed message is not a compact JWS with three parts"
	done
}

@test "E1: a JWE without cty is shown as unsigned with a warning, and refused with --verify" {
	local c
	craft E1-plain-no-cty E1-jws-no-cty J1-none
	run --separate-stderr e2e-decrypt -i bob E1-plain-no-cty
	assert_success
	assert_output "hello, no signature here"
	assert_equal "$stderr" "$UNSIGNED_WARNING"
	# A valid JWS stripped of its cty: its text, never its payload as
	# signed content.
	run --separate-stderr e2e-decrypt -i bob E1-jws-no-cty
	assert_success
	assert_output --regexp '^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'
	assert_equal "$stderr" "$UNSIGNED_WARNING"
	for c in E1-plain-no-cty E1-jws-no-cty; do
		run --separate-stderr e2e-decrypt -i bob --verify alice.pub "$c"
		assert_signature_refused "the message is not signed, and --verify asks for a signature"
	done
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub J1-none
	assert_signature_refused "$NOT_PS256"
}

@test "E2: an inner JWS re-signed by carol is refused with --verify alice, naming both key ids" {
	craft E2-carol E2-carol-claims-alice
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub E2-carol
	assert_signature_refused "the message is signed by key $KID_CAROL, not by the key $KID_ALICE given to verify it"
	# Without --verify the real signer is shown, not verified.
	run --separate-stderr e2e-decrypt -i bob E2-carol
	assert_success
	assert_regex "${stderr_lines[0]}" "^e2e-decrypt: signed by key $KID_CAROL at [0-9T:Z-]+, not verified\$"
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub E2-carol-claims-alice
	assert_signature_refused "the signature is not valid: the message was not signed by key $KID_ALICE"
}

@test "E2, E3: the inner header must name its signer (kid = iss) and the reader (aud), with typ, iat and jti" {
	local c
	local -A want=(
		[claims-typ-missing]='the signed message has no "typ" "e2e-msg+jws"'
		[claims-typ-JWT]='the signed message has no "typ" "e2e-msg+jws"'
		[claims-iss-carol]='the signed message does not name its signer'"'"'s key id in "kid" and "iss"'
		[claims-kid-name]='the signed message does not name its signer'"'"'s key id in "kid" and "iss"'
		[claims-iat-string]='the signed message has no valid "iat"'
		[claims-iat-negative]='the signed message has no valid "iat"'
		[claims-iat-float]='the signed message has no valid "iat"'
		[claims-jti-missing]='the signed message has no valid "jti"'
		[claims-jti-empty]='the signed message has no valid "jti"'
		[claims-jti-129]='the signed message has no valid "jti"'
		[claims-aud-string]='the signed message has no valid "aud"'
		[claims-aud-empty]='the signed message has no valid "aud"'
		[claims-aud-number]='the signed message has no valid "aud"'
		[claims-aud-carol]="the signed message was not addressed to your key $KID_BOB: it may have been forwarded by one of its recipients"
		[payload-not-b64]='the signed content is not base64url'
	)
	craft "${!want[@]}" claims-jti-128
	for c in "${!want[@]}"; do
		run --separate-stderr e2e-decrypt -i bob --verify alice.pub "$c"
		assert_signature_refused "${want[$c]}"
	done
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub claims-jti-128
	assert_success
	assert_output "$PT"
}

@test "J10: an aad member must be strict base64url like every other member" {
	craft J10-aad-ok J10-aad-not-b64 J10-aad-padded
	run --separate-stderr e2e-decrypt -i bob J10-aad-ok
	assert_success
	assert_output "$PT"
	run --separate-stderr e2e-decrypt -i bob J10-aad-not-b64
	assert_cannot_hint '"aad"'
	run --separate-stderr e2e-decrypt -i bob J10-aad-padded
	assert_cannot_hint '"aad"'
}

@test "E3: bob forwards alice's signed message to carol: carol refuses it" {
	echo "for bob only" > p
	e2e-encrypt -r bob.pub -s alice p > to-bob
	"$PYTHON" "$INTEROP/jwc.py" open bob --inner < to-bob > inner
	"$PYTHON" "$INTEROP/jwc.py" seal -r carol --cty e2e-msg+jws < inner > to-carol
	"$PYTHON" "$INTEROP/jwc.py" open carol --inner < to-carol > inner2
	cmp inner inner2
	run --separate-stderr e2e-decrypt -i carol to-carol
	assert_signature_refused "the signed message was not addressed to your key $KID_CAROL: it may have been forwarded by one of its recipients"
	run --separate-stderr e2e-decrypt -i carol --verify alice.pub to-carol
	assert_signature_refused "the signed message was not addressed to your key $KID_CAROL: it may have been forwarded by one of its recipients"
}

@test "E6: a valid outer JWE with a bad inner signature, and a bad outer JWE with a good signature" {
	craft E6-bad-inner-sig E6-bad-outer
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub E6-bad-inner-sig
	assert_signature_refused "the signature is not valid: the message was not signed by key $KID_ALICE"
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub E6-bad-outer
	assert_cannot_bare
	run --separate-stderr e2e-decrypt -i bob E6-bad-outer
	assert_cannot_bare
}

@test "E7: one A256GCM ciphertext, a different CEK per recipient, no cek_commit: both read it, both are warned" {
	craft E7-salamander
	run --separate-stderr e2e-decrypt -i bob -o bob.out E7-salamander
	assert_success
	assert_equal "$stderr" "$UNSIGNED_WARNING
$UNCOMMITTED_WARNING"
	run --separate-stderr e2e-decrypt -i carol -o carol.out E7-salamander
	assert_success
	assert_equal "$stderr" "$UNSIGNED_WARNING
$UNCOMMITTED_WARNING"
	# The same envelope, two different messages.
	grep -q "bob: meet at the north gate" bob.out
	run ! cmp -s bob.out carol.out
}

@test "E7: with a cek_commit for bob's CEK, carol's different CEK is refused" {
	craft E7-salamander-commit
	run --separate-stderr e2e-decrypt -i bob -o bob.out E7-salamander-commit
	assert_success
	assert_equal "$stderr" "$UNSIGNED_WARNING"
	grep -q "bob: meet at the north gate" bob.out
	run --separate-stderr e2e-decrypt -i carol -o carol.out E7-salamander-commit
	assert_cannot_bare
	assert_file_not_exists carol.out
}
