#!/usr/bin/env bats
# Forward secrecy (issue 16, docs/FORMAT.md section 11), the client's
# side: X25519 prekeys in HOME/prekeys.json (e2e-keygen --prekeys makes
# them here, before the server hands them out), envelopes whose entries
# are ECDH-ES+A256KW to a prekey beside RSA-OAEP-256 ones (e2e-encrypt
# --prekey), and their reading, use and erasure (e2e-decrypt
# --fs-grace). Interoperability with python3-jwcrypto both ways.

bats_require_minimum_version 1.5.0
load helpers
load interop_helpers

ERASED="e2e-decrypt: error: this message was sent to a one-time key that has been used and erased"

setup() {
	common_setup
	fixed_keys
	# bob's client home, which holds his prekeys.
	export E2E_HOME="$T/bobhome"
	mkdir -m 700 "$E2E_HOME"
	STORE="$E2E_HOME/prekeys.json"
	printf 'forward secret\n' > pt
}

# prekeys N|signed: N one-time prekeys (or a signed one) for bob's key;
# their records go to bob.pre, one per line; the first to p1.
prekeys() {
	e2e-keygen --prekeys "$1" -i bob --name bob > bob.pre
	head -n 1 bob.pre > p1
}

# The private halves of every prekey in the store, as "d x" lines.
store_keys() {
	"$PYTHON" - "$STORE" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for ident in s["identities"].values():
    for e in ident["signed"] + ident["one_time"]:
        print(e["d"], e["x"])
PY
}

# jwc_x25519 D X < ENVELOPE: jwcrypto's decryption with that prekey.
jwc_x25519() {
	"$PYTHON" -c '
import sys
from jwcrypto import jwe, jwk
k = jwk.JWK(kty="OKP", crv="X25519", d=sys.argv[1], x=sys.argv[2])
t = jwe.JWE()
t.deserialize(sys.stdin.read(), key=k)
sys.stdout.buffer.write(t.payload)
' "$@"
}

# The JSON member path (a Python expression on e, the envelope) of FILE.
member() {
	"$PYTHON" -c '
import json, sys
e = json.load(open(sys.argv[1]))
print(json.dumps(eval(sys.argv[2]), separators=(",", ":")))
' "$@"
}

fs_protected() {
	"$PYTHON" -c '
import base64, json, sys
p = json.load(open(sys.argv[1]))["protected"]
print(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode())
' "$1"
}

@test "FS: e2e-keygen --prekeys writes HOME/prekeys.json 0600 and prints records whose pkid is jwcrypto's thumbprint" {
	prekeys 3
	assert_file_exist "$STORE"
	run stat -c %a "$STORE"
	assert_output 600
	assert_equal "$(wc -l < bob.pre)" 3
	run --separate-stderr "$PYTHON" -c '
import json, sys
from jwcrypto import jwk
for line in open("bob.pre"):
    r = json.loads(line)
    assert list(r) == ["name", "kid", "kind", "prekey", "pkid"], r
    assert r["name"] == "bob" and r["kind"] == "one-time", r
    k = jwk.JWK(**r["prekey"])
    assert k.thumbprint() == r["pkid"], (k.thumbprint(), r["pkid"])
    print(r["kid"])
'
	assert_success
	assert_equal "${lines[0]}" "$KID_BOB"
	# A signed prekey: one; a second retires the first (kept for the
	# grace).
	e2e-keygen --prekeys signed -i bob --name bob > s1
	e2e-keygen --prekeys signed -i bob --name bob > s2
	run --separate-stderr "$PYTHON" -c '
import json
s = json.load(open("'"$STORE"'"))["identities"]["'"$KID_BOB"'"]["signed"]
print(len(s), sum(1 for e in s if e["retired"] == 0))
'
	assert_output "2 1"
	run --separate-stderr e2e-keygen --prekeys 1001 -i bob --name bob
	usage_refused e2e-keygen "--prekeys takes a number from 1 to 1000, or signed"
}

@test "FS: a message to a one-time prekey: bob reads it with the prekey, carol's RSA entry of the same envelope too, bob's identity key alone cannot" {
	prekeys 2
	e2e-encrypt --no-sign -r bob.pub -r carol.pub --prekey p1 pt > msg
	# alg per recipient, none in the protected header (section 11).
	run fs_protected msg
	refute_output --partial '"alg"'
	run member msg 'e["recipients"][0]["header"]'
	assert_output --regexp '^\{"alg":"ECDH-ES\+A256KW","kid":"[A-Za-z0-9_-]{43}","epk":\{"kty":"OKP","crv":"X25519","x":"[A-Za-z0-9_-]{43}"\}\}$'
	run member msg 'e["recipients"][1]["header"]'
	assert_output "{\"alg\":\"RSA-OAEP-256\",\"kid\":\"$KID_CAROL\"}"
	run member msg 'e["recipients"][0]["header"]["kid"]'
	assert_output "$(member p1 'e["pkid"]')"
	e2e-decrypt -i bob msg > got 2> err
	cmp got pt
	e2e-decrypt -i carol msg > got 2> err
	cmp got pt
	# Without the prekeys, bob's identity key finds no entry of its own.
	mv "$STORE" "$T/kept.json"
	run --separate-stderr e2e-decrypt -i bob msg
	assert_cannot_hint "this message is for keys"
}

@test "FS: all-RSA envelopes are written as before (alg protected, entries {kid}); --no-fs ignores --prekey" {
	prekeys 1
	e2e-encrypt --no-sign -r bob.pub -r carol.pub pt > rsa
	run fs_protected rsa
	assert_output --partial '"alg":"RSA-OAEP-256"'
	run member rsa '[r["header"] for r in e["recipients"]]'
	assert_output "[{\"kid\":\"$KID_BOB\"},{\"kid\":\"$KID_CAROL\"}]"
	e2e-encrypt --no-sign --no-fs -r bob.pub --prekey p1 pt > nofs
	run member nofs '[r["header"] for r in e["recipients"]]'
	assert_output "[{\"kid\":\"$KID_BOB\"}]"
	# The prekey was not used: still unused in the store.
	e2e-decrypt -i bob nofs > got 2> err
	cmp got pt
	run grep -c '"used_at":0' "$STORE"
	assert_output 1
}

@test "FS: after --fs-grace 0 no key bob holds opens the message, identity key and every prekey included, and he is told the key was erased" {
	prekeys 3
	e2e-encrypt -s alice --from alice -r bob.pub --prekey p1 pt > msg
	cp msg kept
	e2e-decrypt -i bob --fs-grace 0 msg > got 2> err
	cmp got pt
	pkid=$(member p1 'e["pkid"]' | tr -d '"')
	run grep -cF -e "$pkid" "$STORE"
	assert_output 1	# the tombstone only
	run --separate-stderr e2e-decrypt -i bob kept
	assert_refused "$ERASED"
	# Every key bob still holds: his identity key (RSA, no entry of its
	# own: the one entry is the erased prekey's) and each prekey left.
	run --separate-stderr jwc open bob < kept
	assert_failure
	local n=0 d x
	while read -r d x; do
		n=$((n + 1))
		run --separate-stderr jwc_x25519 "$d" "$x" < kept
		assert_failure
	done < <(store_keys)
	assert_equal "$n" 2
	# Nor with the prekeys moved away: nothing in the store to find.
	mv "$STORE" "$T/gone.json"
	run --separate-stderr e2e-decrypt -i bob kept
	assert_cannot_hint "this message is for key"
}

@test "FS: the default grace keeps a used one-time prekey; fs_grace in the config file and --fs-grace 1s shorten it" {
	prekeys 2
	e2e-encrypt --no-sign -r bob.pub --prekey p1 pt > msg
	e2e-decrypt -i bob msg > got 2> err
	e2e-decrypt -i bob msg > got 2> err
	cmp got pt
	run grep -c '"used_at":0' "$STORE"
	assert_output 1	# the other one
	printf 'fs_grace = 1s\n' > "$E2E_HOME/config"
	sleep 2
	run --separate-stderr e2e-decrypt -i bob msg
	assert_refused "$ERASED"
	# A bad value is refused as the config's.
	printf 'fs_grace = soon\n' > "$E2E_HOME/config"
	run --separate-stderr e2e-decrypt -i bob msg
	assert_equal "$status" 78
	rm "$E2E_HOME/config"
	sed -n 2p bob.pre > p2
	e2e-encrypt --no-sign -r bob.pub --prekey p2 pt > msg2
	e2e-decrypt -i bob --fs-grace 1s msg2 > got 2> err
	cmp got pt
	sleep 2
	run --separate-stderr e2e-decrypt -i bob msg2
	assert_refused "$ERASED"
}

@test "FS: --require-fs exits 69 for a key without a prekey; contradictions and stray prekeys are usage errors" {
	prekeys 1
	run --separate-stderr e2e-encrypt --no-sign --require-fs -r bob.pub -r carol.pub --prekey p1 pt
	refused 69 "e2e-encrypt: error: key $KID_CAROL (a key file) has no prekey"
	e2e-encrypt --no-sign --require-fs -r bob.pub --prekey p1 pt > msg
	run --separate-stderr e2e-encrypt --no-sign --no-fs --require-fs -r bob.pub pt
	usage_refused e2e-encrypt "--no-fs and --require-fs contradict each other"
	run --separate-stderr e2e-encrypt --no-sign -r carol.pub --prekey p1 pt
	refused 64 "which no -r recipient has"
	cp p1 p1b
	run --separate-stderr e2e-encrypt --no-sign -r bob.pub --prekey p1 --prekey p1b pt
	refused 64 "has a prekey already"
	run --separate-stderr e2e-encrypt --format seed -r bob.pub --prekey p1 pt
	usage_refused e2e-encrypt "--format seed has no forward secrecy"
}

@test "FS: a prekey record that is not exactly one is refused (pkid not its thumbprint, extra member, wrong curve)" {
	prekeys 2
	local bad
	"$PYTHON" - <<'PY'
import json
r = json.loads(open("p1").read())
other = json.loads(open("bob.pre").read().splitlines()[1])
def out(name, v):
    open(name, "w").write(json.dumps(v))
out("b-pkid", dict(r, pkid=other["pkid"]))
out("b-extra", dict(r, proof="x"))
out("b-crv", dict(r, prekey=dict(r["prekey"], crv="Ed25519")))
out("b-d", dict(r, prekey=dict(r["prekey"], d=r["prekey"]["x"])))
out("b-kind", dict(r, kind="weekly"))
PY
	for bad in b-pkid b-extra b-crv b-d b-kind; do
		run --separate-stderr e2e-encrypt --no-sign -r bob.pub --prekey "$bad" pt
		refused 65 "e2e-encrypt: error: $bad is not a prekey record"
	done
}

@test "FS: a --prekey record whose prekey is a low-order X25519 point is refused (65), naming it, in each of its 19 encodings; its neighbour is used" {
	prekeys 1
	local low
	# The 12 u-coordinates of the well-known list and the 7 below 2^255
	# with bit 255 set, each as a record with its own thumbprint.
	"$PYTHON" - <<'PY'
import base64, hashlib, json
p = 2**255 - 19
a = 325606250916557431795983626356110631294008115727848805560023387167927233504
b = 39382357235489614581723060781553021112529911719440698176882885853963445705823
twelve = [0, 1, a, b, p - 1, p, p + 1, p + a, p + b, 2*p - 1, 2*p, 2*p + 1]
enc = twelve + [v + 2**255 for v in twelve if v < 2**255]
r = json.loads(open("p1").read())
def b64(v):
    return base64.urlsafe_b64encode(v).rstrip(b"=").decode()
def rec(name, v):
    x = b64(v.to_bytes(32, "little"))
    pkid = b64(hashlib.sha256(('{"crv":"X25519","kty":"OKP","x":"%s"}'
                               % x).encode()).digest())
    open(name, "w").write(json.dumps(dict(r, prekey=dict(r["prekey"], x=x),
                                          pkid=pkid)))
for i, v in enumerate(enc):
    rec("low%d" % i, v)
rec("near", a + 1)
PY
	for low in $(seq 0 18); do
		run --separate-stderr e2e-encrypt --no-sign -r bob.pub --prekey "low$low" pt
		refused 65 "e2e-encrypt: error: low$low is not a prekey record: \"prekey\" is a low-order X25519 point (RFC 7748 section 6.1)"
	done
	run --separate-stderr e2e-encrypt --no-sign -r bob.pub --prekey near -o near.jwe pt
	[ "$status" -eq 0 ] || fail "$status $stderr"
	[ -s near.jwe ]
}

@test "C2, C3: prekeys.json readable by others, or a symbolic link, is refused (78), never used" {
	prekeys 1
	e2e-encrypt --no-sign -r bob.pub --prekey p1 pt > msg
	chmod 644 "$STORE"
	run --separate-stderr e2e-decrypt -i bob msg
	refused 78 "holds private keys but is not a regular file of yours that only you can read"
	chmod 600 "$STORE"
	mv "$STORE" "$T/real.json"
	ln -s "$T/real.json" "$STORE"
	run --separate-stderr e2e-decrypt -i bob msg
	assert_equal "$status" 78
	run --separate-stderr e2e-keygen --prekeys 1 -i bob --name bob
	assert_equal "$status" 78
}

@test "FS: stream mode says fs and fs_kind, and marks a one-time prekey used; a signed prekey is not" {
	prekeys 1
	e2e-keygen --prekeys signed -i bob --name bob > s1
	e2e-encrypt --no-sign -r bob.pub --prekey p1 pt > m1
	e2e-encrypt --no-sign -r bob.pub --prekey s1 pt > m2
	e2e-encrypt --no-sign -r bob.pub pt > m3
	{ record 1 alice m1; record 2 alice m2; record 3 alice m3; } > records
	run --separate-stderr e2e-decrypt -i bob --as bob --fs-grace 0 records
	assert_success
	[[ "${lines[0]}" == *'"verified":false,"fs":true,"fs_kind":"one-time",'* ]] || fail "${lines[0]}"
	[[ "${lines[1]}" == *'"verified":false,"fs":true,"fs_kind":"signed",'* ]] || fail "${lines[1]}"
	[[ "${lines[2]}" != *'"fs"'* ]] || fail "${lines[2]}"
	# The one-time prekey is gone (grace 0), the signed one stays.
	run --separate-stderr e2e-decrypt -i bob m2
	assert_success
	run --separate-stderr e2e-decrypt -i bob --stream --as bob records
	assert_equal "$status" 65
	[[ "$stderr" == *"this message was sent to a one-time key that has been used and erased"* ]] || fail "$stderr"
	assert_equal "${#lines[@]}" 2
}

@test "J5, J8: a tampered epk, kid or encrypted_key is refused; alg in both places or in neither too" {
	prekeys 1
	e2e-encrypt --no-sign -r bob.pub -r carol.pub --prekey p1 pt > msg
	"$PYTHON" - <<'PY'
import base64, json
e = json.load(open("msg"))
def out(name, f):
    v = json.loads(json.dumps(e))
    f(v)
    open(name, "w").write(json.dumps(v))
def flip(s, i=5):
    c = "A" if s[i] != "A" else "B"
    return s[:i] + c + s[i + 1:]
h = lambda v: v["recipients"][0]["header"]
def epk_x(v): h(v)["epk"]["x"] = flip(h(v)["epk"]["x"])
def epk_y(v): h(v)["epk"]["y"] = h(v)["epk"]["x"]
def epk_crv(v): h(v)["epk"]["crv"] = "X448"
def epk_zero(v): h(v)["epk"]["x"] = "A" * 43
def kid(v): h(v)["kid"] = flip(h(v)["kid"])
def ek(v): v["recipients"][0]["encrypted_key"] = flip(v["recipients"][0]["encrypted_key"])
def both(v):
    p = json.loads(base64.urlsafe_b64decode(v["protected"] + "=="))
    p["alg"] = "ECDH-ES+A256KW"
    v["protected"] = base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("=")
def neither(v): del v["recipients"][1]["header"]["alg"]
for n, f in [("t-epk-x", epk_x), ("t-epk-y", epk_y), ("t-epk-crv", epk_crv),
             ("t-epk-zero", epk_zero), ("t-kid", kid), ("t-ek", ek),
             ("t-both", both), ("t-neither", neither)]:
    out(n, f)
PY
	# Cryptographic failures all look the same.
	for t in t-epk-x t-epk-zero t-ek; do
		run --separate-stderr e2e-decrypt -i bob "$t"
		assert_cannot_bare
	done
	run --separate-stderr e2e-decrypt -i bob t-epk-y
	assert_cannot_hint 'unexpected member "y" in "epk"'
	run --separate-stderr e2e-decrypt -i bob t-epk-crv
	assert_cannot_hint 'crv "X448" is not accepted'
	run --separate-stderr e2e-decrypt -i bob t-kid
	assert_cannot_hint "this message is for keys"
	run --separate-stderr e2e-decrypt -i carol t-both
	assert_cannot_hint 'header parameter "alg" appears more than once'
	run --separate-stderr e2e-decrypt -i bob t-neither
	assert_cannot_hint '"alg" or "enc" is missing'
	# The untouched message still reads, and the prekey was not used up
	# by the refusals.
	e2e-decrypt -i bob msg > got 2> err
	cmp got pt
}

@test "FS interop: jwcrypto opens an ECDH-ES+A256KW X25519 envelope made here (mixed with RSA, both encs); e2e-decrypt opens jwcrypto's" {
	prekeys 4
	local enc d x
	for enc in A256CBC-HS512 A256GCM; do
		e2e-encrypt --no-sign --enc "$enc" -r bob.pub -r carol.pub --prekey p1 pt > msg
		read -r d x < <(store_keys | head -n 1)
		jwc_x25519 "$d" "$x" < msg > got
		cmp got pt
		jwc open carol < msg > got
		cmp got pt
	done
	# jwcrypto's envelope: bob's prekey (the second record) and carol's
	# RSA key, alg per recipient, the kid the prekey's pkid.
	sed -n 2p bob.pre > p2
	"$PYTHON" - "$KID_CAROL" <<'PY'
import json, sys
from jwcrypto import jwe, jwk
r = json.loads(open("p2").read())
for enc, name in [("A256CBC-HS512", "j1"), ("A256GCM", "j2")]:
    e = jwe.JWE(open("pt", "rb").read(), protected=json.dumps({"enc": enc}))
    e.add_recipient(jwk.JWK(**r["prekey"]),
        header=json.dumps({"alg": "ECDH-ES+A256KW", "kid": r["pkid"]}))
    e.add_recipient(jwk.JWK.from_pem(open("carol.pub", "rb").read()),
        header=json.dumps({"alg": "RSA-OAEP-256", "kid": sys.argv[1]}))
    open(name, "w").write(e.serialize())
# Flattened, alg in the protected header, one recipient.
e = jwe.JWE(open("pt", "rb").read(),
    protected=json.dumps({"alg": "ECDH-ES+A256KW", "enc": "A256CBC-HS512"}))
e.add_recipient(jwk.JWK(**r["prekey"]), header=json.dumps({"kid": r["pkid"]}))
open("j3", "w").write(e.serialize(compact=False))
PY
	for j in j1 j2 j3; do
		e2e-decrypt -i bob "$j" > got 2> err
		cmp got pt
	done
	e2e-decrypt -i carol j1 > got 2> err
	cmp got pt
}

@test "FS: an unsigned message to a prekey streams from a file to -o, and marks the prekey used" {
	prekeys 1
	head -c 3000000 /dev/urandom > big
	e2e-encrypt --no-sign -r bob.pub --prekey p1 big > msg
	e2e-decrypt -i bob -o out msg 2> err
	cmp out big
	run grep -c '"used_at":0' "$STORE"
	assert_output 0
}
