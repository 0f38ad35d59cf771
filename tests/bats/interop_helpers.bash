# Shared by interop.bats, seed.bats, attacks.bats and compat.bats: the
# Python helpers of tests/interop and checks of how e2e-decrypt refuses
# a message.
# shellcheck disable=SC2034,SC2154  # constants for the .bats files; bats sets status, output, stderr

SEED_WARNING="e2e-decrypt: warning: seed format: neither the IV nor the sender is authenticated"
UNSIGNED_WARNING="e2e-decrypt: warning: the message is not signed: its sender is not authenticated"
UNCOMMITTED_WARNING="e2e-decrypt: warning: A256GCM with several recipients and no key commitment: other recipients may have read a different message"

BAD_SIG_ALICE="e2e-decrypt: error: the signature is not valid: the message was not signed by key $KID_ALICE"

# jwc ARGS...: jwcrypto's side (tests/interop/jwc.py).
jwc() {
	"$PYTHON" "$INTEROP/jwc.py" "$@"
}

# Writes the named crafted envelopes (tests/interop/attacks.py) to $T.
craft() {
	"$PYTHON" "$INTEROP/attacks.py" "$@"
}

# ref ARGS...: the original client's Encryptor and Decryptor
# (tests/interop/seed_reference.py).
ref() {
	"$PYTHON" "$INTEROP/seed_reference.py" "$@"
}

# After `run --separate-stderr`: refused with exit 65, no plaintext, and
# first_line as the first line of stderr.
assert_refused() {
	local first=$1
	assert_equal "$status" 65
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]-}" "$first"
}

# Refused as undecryptable, followed by a hint holding words.
assert_cannot_hint() {
	assert_refused "$CANNOT"
	[[ "${stderr_lines[1]-}" == "e2e-decrypt: hint: "*"$1"* ]] ||
		fail "expected a hint with '$1'; stderr was: $stderr"
	assert_equal "${#stderr_lines[@]}" 2
}

# Refused as undecryptable with nothing else: a cryptographic failure,
# which must look like every other one.
assert_cannot_bare() {
	assert_refused "$CANNOT"
	assert_equal "$stderr" "$CANNOT"
}

# Refused after decryption, by a signature check: exactly one line.
assert_signature_refused() {
	assert_refused "e2e-decrypt: error: $1"
	assert_equal "${#stderr_lines[@]}" 1
}

# True when the binaries are built with AddressSanitizer (which cannot
# run under a virtual memory limit).
asan_build() {
	ldd "$E2E_BIN/e2e-decrypt" 2>/dev/null | grep -q libasan
}
