#!/usr/bin/env bats
# The test hooks (crypto_test_set_random / crypto_test_set_now) exist only
# in the unit test library: the tools must not contain them, nor behave as
# if their randomness were pinned. Also: the golden vectors those hooks
# make are standard JWE (checked with jwcrypto), and tags are compared in
# constant time (J12).
bats_require_minimum_version 1.5.0
load helpers

setup() { common_setup; fixed_keys; }

# nm of a tool, failing when the symbol table is gone (a stripped binary
# would pass any "symbol absent" check without proving anything).
tool_symbols() {
	local bin="$E2E_BIN/$1"
	[ -x "$bin" ] || { echo "no binary $bin" >&2; return 1; }
	nm "$bin" >"$T/$1.nm" 2>&1 || { cat "$T/$1.nm" >&2; return 1; }
	grep -q ' T cli_start$' "$T/$1.nm" ||
	    { echo "$bin has no symbol table: cannot check" >&2; return 1; }
}

@test "hooks: e2e-encrypt has no test hook symbols" {
	tool_symbols e2e-encrypt
	# The positive control: the library code is there, by name.
	grep -q ' T message_seal$' "$T/e2e-encrypt.nm"
	run ! grep -E 'crypto_test_set_(random|now)|test_random' \
	    "$T/e2e-encrypt.nm"
}

@test "hooks: e2e-decrypt has no test hook symbols" {
	tool_symbols e2e-decrypt
	grep -q ' T message_open$' "$T/e2e-decrypt.nm"
	run ! grep -E 'crypto_test_set_(random|now)|test_random' \
	    "$T/e2e-decrypt.nm"
}

@test "hooks: e2e-keygen has no test hook symbols" {
	tool_symbols e2e-keygen
	run ! grep -E 'crypto_test_set_(random|now)|test_random' \
	    "$T/e2e-keygen.nm"
}

@test "hooks: no tool mentions the hooks in its strings" {
	local t
	for t in e2e-encrypt e2e-decrypt e2e-keygen; do
		run ! grep -a -c 'crypto_test_set_random' "$E2E_BIN/$t"
	done
}

# The binary's randomness is real: two encryptions of the same plaintext
# share no IV, ciphertext or tag, and never the golden vectors' IV.
@test "hooks: e2e-encrypt draws a fresh content key and IV every time" {
	printf 'hello' >pt
	e2e-encrypt -r bob.pub -o a.jwe <pt
	e2e-encrypt -r bob.pub -o b.jwe <pt
	run --separate-stderr "$PYTHON" - a.jwe b.jwe <<'EOF'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for m in ("iv", "ciphertext", "tag"):
    assert a[m] != b[m], m
assert a["iv"] != "EBESExQVFhcYGRobHB0eHw", "the golden IV"
assert a["recipients"][0]["encrypted_key"] != b["recipients"][0]["encrypted_key"]
print("fresh")
EOF
	assert_success
	assert_output "fresh"
}

@test "hooks: signed messages get a fresh jti and the real time" {
	printf 'hello' >pt
	e2e-encrypt -r bob.pub -s alice -o a.jwe <pt
	e2e-encrypt -r bob.pub -s alice -o b.jwe <pt
	# The inner header is only visible after decryption: use bob's key.
	run --separate-stderr "$PYTHON" - a.jwe b.jwe bob <<'EOF'
import json, sys, time, base64
from jwcrypto import jwe, jwk
key = jwk.JWK.from_pem(open(sys.argv[3], "rb").read())
def hdr(path):
    t = jwe.JWE()
    t.deserialize(open(path).read(), key=key)
    h = t.plaintext.split(b".")[0]
    return json.loads(base64.urlsafe_b64decode(h + b"=" * (-len(h) % 4)))
a, b = hdr(sys.argv[1]), hdr(sys.argv[2])
assert a["jti"] != b["jti"], "same jti"
assert a["jti"] != "cHFyc3R1dnd4eXp7fH1-fw", "the golden jti"
assert abs(a["iat"] - time.time()) < 600, a["iat"]
print("fresh")
EOF
	assert_success
	assert_output "fresh"
}

# The golden vectors of tests/unit/test_golden.c are standard JWE: with
# RSA-OAEP-256 of the documented CEK in place of each "encrypted_key",
# jwcrypto decrypts every one for every recipient (and not for alice).
@test "golden: jwcrypto decrypts every unsigned golden envelope" {
	run --separate-stderr "$PYTHON" - "$VECTORS/keys" "$VECTORS/golden" <<'EOF'
import sys, json, base64, glob, os
from jwcrypto import jwk, jwe
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives import hashes, serialization
keys, gdir = sys.argv[1], sys.argv[2]
def b64(x): return base64.urlsafe_b64encode(x).rstrip(b"=").decode()
priv, kids = {}, {}
for n in ("bob", "carol", "alice"):
    k = jwk.JWK.from_pem(open(os.path.join(keys, n), "rb").read())
    priv[n] = k
    kids[k.thumbprint()] = n
pts = {"empty": b"", "hello": b"hello",
       "pattern1000": bytes((i * 131 + 7) & 0xff for i in range(1000))}
n = 0
for f in sorted(glob.glob(os.path.join(gdir, "a256*.jwe"))):
    enc, nr, ptn = os.path.basename(f)[:-4].rsplit("-", 2)
    cek = bytes(0xa0 + i for i in range(64 if enc == "a256cbc-hs512" else 32))
    text = open(f).read()
    assert text.count("@ENCRYPTED_KEY@") == int(nr[:-1]), f
    env = json.loads(text)
    for r in env["recipients"]:
        pub = serialization.load_pem_public_key(open(os.path.join(
            keys, kids[r["header"]["kid"]] + ".pub"), "rb").read())
        r["encrypted_key"] = b64(pub.encrypt(cek, padding.OAEP(
            padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)))
    for r in env["recipients"]:
        t = jwe.JWE()
        try:
            t.deserialize(json.dumps(env), key=priv[kids[r["header"]["kid"]]])
        except jwe.InvalidJWEData:
            # jwcrypto 1.1 calls an empty plaintext a failure; its log
            # tells whether the tag verified.
            if pts[ptn] != b"" or "Success" not in t.decryptlog:
                raise
        assert t.plaintext == pts[ptn], f
        n += 1
    t = jwe.JWE()
    try:
        t.deserialize(json.dumps(env), key=priv["alice"])
        raise SystemExit("alice decrypted " + f)
    except jwe.InvalidJWEData:
        pass
print("decrypted", n)
EOF
	assert_success
	# 10 files: 5 with one recipient (bob), 5 with two (carol, bob).
	assert_output "decrypted 15"
}

# J12: tags, MACs and the key commitment are compared in constant time.
# The unit tests cannot see which compare a function uses, so this reads
# the source (the Makefile's lint does a wider, looser version).
@test "J12: lib/format/aead.c and lib/format/seed.c compare tags with CRYPTO_memcmp" {
	local lib="$BATS_TEST_DIRNAME/../../lib"
	# The compares that must be constant-time are there...
	grep -q 'CRYPTO_memcmp(full, tag, d->alg->tag_len)' "$lib/format/aead.c"
	grep -q 'CRYPTO_memcmp(mac, tag.p, 32)' "$lib/format/seed.c"
	grep -q 'CRYPTO_memcmp(commit,' "$lib/format/jwe.c"
	# ...and no plain memcmp/strcmp/bcmp on anything secret-derived.
	run ! grep -nE '(^|[^_A-Za-z])(memcmp|bcmp|strcmp|strncmp)[[:space:]]*\([^;]*(tag|mac|hmac|full|digest|commit|keys|sig)' \
	    "$lib/format/aead.c" "$lib/format/seed.c" "$lib/format/jwe.c"
	# aead.c needs no plain memcmp at all.
	run ! grep -nE '(^|[^_A-Za-z])memcmp[[:space:]]*\(' "$lib/format/aead.c"
	# seed.c's plain memcmp calls only look for the "ampersand" and
	# "plusplus" tokens of seed_unreplace.
	run grep -nE '(^|[^_A-Za-z])memcmp[[:space:]]*\(' "$lib/format/seed.c"
	local line
	while IFS= read -r line; do
		[[ $line == *'"ampersand"'* || $line == *'"plusplus"'* ]] ||
		    { echo "plain memcmp in seed.c: $line" >&2; return 1; }
	done <<<"$output"
}
