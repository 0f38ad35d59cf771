#!/usr/bin/env bats
# e2e-encrypt: every option and every error path (cmd/e2e-encrypt/main.c,
# lib/format/keyfile.c, lib/base/fileio.c, lib/base/passphrase.c),
# checked through e2e-decrypt and, independently, through Python
# (jwcrypto, cryptography).

bats_require_minimum_version 1.5.0
load helpers
setup() { common_setup; fixed_keys; }

# Describes an envelope, one "name=value" per line, parsed independently
# of the tools: member names in order, the protected header as written,
# lengths, kids; with a private key also the unwrapped CEK's length and
# whether cek_commit matches it (docs/FORMAT.md 3.3).
inspect() {
	"$PYTHON" - "$@" <<'EOF'
import base64, hashlib, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

def b64d(s):
    d = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    # Canonical: encoding the bytes again gives the same text.
    assert base64.urlsafe_b64encode(d).rstrip(b"=").decode() == s, s
    return d

raw = open(sys.argv[1], "rb").read()
print("newline_count=%d" % raw.count(b"\n"))
print("ends_with_newline=%s" % raw.endswith(b"\n"))
pairs = json.loads(raw, object_pairs_hook=lambda p: p)
obj = dict(pairs)
print("members=" + ",".join(k for k, _ in pairs))
hdr = b64d(obj["protected"])
print("protected=" + hdr.decode())
h = json.loads(hdr)
print("enc=" + h["enc"])
print("cty=" + h.get("cty", "-"))
rs = obj["recipients"]
print("recipient_members=" + ";".join(",".join(k for k, _ in r) for r in rs))
print("recipient_header=" + ";".join(",".join(k for k, _ in dict(r)["header"]) for r in rs))
print("kids=" + ",".join(dict(dict(r)["header"])["kid"] for r in rs))
print("ek_len=" + ",".join(str(len(b64d(dict(r)["encrypted_key"]))) for r in rs))
print("iv_len=%d" % len(b64d(obj["iv"])))
print("tag_len=%d" % len(b64d(obj["tag"])))
print("ct_len=%d" % len(b64d(obj["ciphertext"])))
if len(sys.argv) > 2:
    key = serialization.load_pem_private_key(open(sys.argv[2], "rb").read(), None)
    ek = b64d(dict(rs[int(sys.argv[3]) if len(sys.argv) > 3 else 0])["encrypted_key"])
    cek = key.decrypt(ek, padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))
    print("cek_len=%d" % len(cek))
    if "cek_commit" in h:
        want = base64.urlsafe_b64encode(hashlib.sha256(
            b"e2e-chat CEK commitment v1\0" + cek).digest()).rstrip(b"=").decode()
        print("commit=" + ("ok" if want == h["cek_commit"] else "bad"))
    else:
        print("commit=none")
EOF
}

# Decrypts an envelope with jwcrypto (an independent JOSE implementation)
# and prints the plaintext, or for a signed message the verified payload
# and the claims.
jwcrypto_open() {
	"$PYTHON" - "$@" <<'EOF'
import json, sys
from jwcrypto import jwe, jwk, jws
env, keyfile = sys.argv[1], sys.argv[2]
k = jwk.JWK.from_pem(open(keyfile, "rb").read())
e = jwe.JWE()
e.deserialize(open(env).read().strip(), key=k)
if e.jose_header.get("cty") == "e2e-msg+jws":
    s = jws.JWS()
    s.deserialize(e.payload.decode())
    signer = jwk.JWK.from_pem(open(sys.argv[3], "rb").read())
    s.verify(signer, alg="PS256")
    h = s.jose_header
    print("claims=" + json.dumps(h, sort_keys=True))
    sys.stdout.buffer.write(s.payload)
else:
    sys.stdout.buffer.write(e.payload)
EOF
}

@test "encrypt: round trips: empty, 1 byte, NUL bytes, 1 MiB random, both encs, signed or not" {
	printf '' > p0
	printf 'x' > p1
	printf 'a\0b\0\0c\377\n\r\033' > pnul
	head -c 1048576 /dev/urandom > pbig
	head -c 48 /dev/urandom > p48	# exact multiples of the block
	head -c 49151 /dev/urandom > pchunk	# around the 48 KiB chunk
	head -c 49153 /dev/urandom >> pchunk
	local f enc sign
	for f in p0 p1 pnul p48 pbig pchunk; do
		for enc in A256CBC-HS512 A256GCM; do
			for sign in "" "-s alice"; do
				# shellcheck disable=SC2086
				e2e-encrypt -r bob.pub $sign --enc "$enc" "$f" > m.jwe
				e2e-decrypt -i bob m.jwe > out 2>/dev/null
				cmp "$f" out || fail "$f $enc $sign: round trip differs"
			done
		done
	done
}

@test "encrypt: exactly 64 MiB signed round trip" {
	head -c 67108864 /dev/urandom > big
	run --separate-stderr e2e-encrypt -r bob.pub -s alice -o big.jwe big
	assert_success
	assert_equal "$output" ""
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub -o big.out big.jwe
	assert_success
	cmp big big.out
	rm -f big big.jwe big.out
}

@test "encrypt: input from stdin, from FILE and from '-'" {
	echo 'from stdin' | e2e-encrypt -r bob.pub > a.jwe
	echo 'from file' > in.txt
	e2e-encrypt -r bob.pub in.txt > b.jwe
	echo 'from dash' | e2e-encrypt -r bob.pub - > c.jwe
	run --separate-stderr e2e-decrypt -i bob a.jwe
	assert_output 'from stdin'
	run --separate-stderr e2e-decrypt -i bob b.jwe
	assert_output 'from file'
	run --separate-stderr e2e-decrypt -i bob c.jwe
	assert_output 'from dash'
}

@test "encrypt: a missing input FILE (66) or a folder (66)" {
	run --separate-stderr e2e-encrypt -r bob.pub nosuch.txt
	refused 66 "e2e-encrypt: error: cannot open input nosuch.txt: No such file or directory"
	mkdir dir
	run --separate-stderr e2e-encrypt -r bob.pub dir
	refused 66 "e2e-encrypt: error: input dir is a directory"
	run --separate-stderr e2e-encrypt -r bob.pub a b
	usage_refused e2e-encrypt "more than one input FILE"
}

@test "encrypt: -o OUT writes the envelope file (0644, atomically)" {
	echo hello > in.txt
	run --separate-stderr e2e-encrypt -r bob.pub -o out.jwe in.txt
	assert_success
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	assert_equal "$(stat -c %a out.jwe)" 644
	run --separate-stderr e2e-decrypt -i bob out.jwe
	assert_output hello
	# An existing OUT is replaced.
	echo again | e2e-encrypt -r bob.pub --output out.jwe
	run --separate-stderr e2e-decrypt -i bob out.jwe
	assert_output again
	no_temp_files .
	# ...but not a private key, unless --force (S5).
	cp alice victim
	run --separate-stderr e2e-encrypt -r bob.pub -o victim in.txt
	refused 73 "e2e-encrypt: error: victim holds a private key; not overwriting it"
	assert_equal "${stderr_lines[1]}" "e2e-encrypt: hint: use --force to overwrite it"
	cmp alice victim
	run --separate-stderr e2e-encrypt -r bob.pub -f -o victim in.txt
	assert_success
	run --separate-stderr e2e-decrypt -i bob victim
	assert_output hello
	# "-o -" is stdout.
	run --separate-stderr e2e-encrypt -r bob.pub -o - in.txt
	assert_success
	printf '%s\n' "$output" > dash.jwe
	run --separate-stderr e2e-decrypt -i bob dash.jwe
	assert_output hello
	[ ! -e ./- ]
	run --separate-stderr e2e-encrypt -r bob.pub -o a -o b in.txt
	usage_refused e2e-encrypt "-o given more than once"
	[ ! -e a ] && [ ! -e b ]
	run --separate-stderr e2e-encrypt -r bob.pub -o
	usage_refused e2e-encrypt "option -o needs a value"
}

@test "encrypt: the envelope is one JSON line with exactly protected, recipients, iv, ciphertext, tag" {
	echo hi | e2e-encrypt -r bob.pub -r carol.pub > m.jwe
	run inspect m.jwe bob
	assert_success
	assert_line "newline_count=1"
	assert_line "ends_with_newline=True"
	assert_line "members=protected,recipients,iv,ciphertext,tag"
	assert_line 'protected={"alg":"RSA-OAEP-256","enc":"A256CBC-HS512"}'
	assert_line "recipient_members=header,encrypted_key;header,encrypted_key"
	assert_line "recipient_header=kid;kid"
	assert_line "kids=$(thumbprint bob.pub),$(thumbprint carol.pub)"
	assert_line "ek_len=256,256"
	assert_line "iv_len=16"
	assert_line "tag_len=32"
	assert_line "ct_len=16"
	assert_line "cek_len=64"
	assert_line "commit=none"
	# Two encryptions of one message differ (fresh CEK and IV).
	echo hi | e2e-encrypt -r bob.pub -r carol.pub > m2.jwe
	! cmp -s m.jwe m2.jwe
}

@test "encrypt: --enc A256GCM and A256CBC-HS512 in the protected header" {
	echo hi | e2e-encrypt -r bob.pub --enc A256GCM > g.jwe
	run inspect g.jwe bob
	assert_success
	assert_line "members=protected,recipients,iv,ciphertext,tag"
	assert_line --regexp '^protected=\{"alg":"RSA-OAEP-256","enc":"A256GCM","cek_commit":"[A-Za-z0-9_-]{43}"\}$'
	assert_line "iv_len=12"
	assert_line "tag_len=16"
	assert_line "cek_len=32"
	assert_line "commit=ok"
	run --separate-stderr e2e-decrypt -i bob g.jwe
	assert_success
	assert_output hi

	echo hi | e2e-encrypt -r bob.pub --enc A256CBC-HS512 -s alice > c.jwe
	run inspect c.jwe bob
	assert_line 'protected={"alg":"RSA-OAEP-256","enc":"A256CBC-HS512","cty":"e2e-msg+jws"}'
	assert_line "cek_len=64"
	echo hi | e2e-encrypt -r bob.pub --enc A256GCM -s alice > gs.jwe
	run inspect gs.jwe bob
	assert_line --regexp '^protected=\{"alg":"RSA-OAEP-256","enc":"A256GCM","cty":"e2e-msg\+jws","cek_commit":"[A-Za-z0-9_-]{43}"\}$'
	assert_line "commit=ok"
}

@test "encrypt: --enc other than the two refused (64)" {
	local e
	for e in bad A128GCM A128CBC-HS256 A192GCM a256gcm "" "A256GCM "; do
		run --separate-stderr e2e-encrypt -r bob.pub --enc "$e" </dev/null
		usage_refused e2e-encrypt "--enc must be A256CBC-HS512 or A256GCM"
	done
	run --separate-stderr e2e-encrypt -r bob.pub --enc A256GCM --enc A256GCM </dev/null
	usage_refused e2e-encrypt "--enc given more than once"
	run --separate-stderr e2e-encrypt -r bob.pub --enc
	usage_refused e2e-encrypt "option --enc needs a value"
}

@test "encrypt: jwcrypto decrypts the envelope and verifies the PS256 signature and claims" {
	echo 'interop' | e2e-encrypt -r bob.pub -r carol.pub -s alice > m.jwe
	local t0 t1
	t0=$(date +%s)
	run jwcrypto_open m.jwe carol alice.pub
	assert_success
	assert_line --index 1 interop
	t1=$(date +%s)
	"$PYTHON" - "${lines[0]#claims=}" "$(thumbprint alice.pub)" \
	    "$(thumbprint bob.pub)" "$(thumbprint carol.pub)" "$t0" "$t1" <<'EOF'
import json, re, sys
h = json.loads(sys.argv[1])
alice, bob, carol, t0, t1 = sys.argv[2:7]
assert set(h) == {"alg", "typ", "kid", "iss", "aud", "iat", "jti"}, h
assert h["alg"] == "PS256" and h["typ"] == "e2e-msg+jws", h
assert h["kid"] == alice and h["iss"] == alice, h
assert h["aud"] == [bob, carol], h
assert int(t0) - 5 <= h["iat"] <= int(t1) + 5, h
assert re.fullmatch(r"[A-Za-z0-9_-]{22}", h["jti"]), h
EOF
	# Unsigned, both encs, through jwcrypto.
	echo plain | e2e-encrypt -r bob.pub --enc A256GCM > g.jwe
	run jwcrypto_open g.jwe bob
	assert_success
	assert_output plain
}

@test "encrypt: several recipients can each decrypt; a non-recipient cannot (65, hint with the kids)" {
	echo 'for both' | e2e-encrypt -r bob.pub -r carol.pub -s alice > m.jwe
	run --separate-stderr e2e-decrypt -i bob m.jwe
	assert_success
	assert_output 'for both'
	run --separate-stderr e2e-decrypt -i carol m.jwe
	assert_success
	assert_output 'for both'
	run --separate-stderr e2e-decrypt -i alice m.jwe
	refused 65 "$CANNOT"
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: this message is for keys $(thumbprint bob.pub), $(thumbprint carol.pub); your key is $(thumbprint alice.pub)"
	assert_equal "${#stderr_lines[@]}" 2
	# The same with A256GCM.
	echo gcm | e2e-encrypt -r bob.pub -r carol.pub --enc A256GCM > g.jwe
	run --separate-stderr e2e-decrypt -i carol g.jwe
	assert_success
	assert_output gcm
	[[ "$stderr" != *"other recipients may have read"* ]]	# committed
	run --separate-stderr e2e-decrypt -i pkcs1.key g.jwe
	refused 65 "$CANNOT"
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: this message is for keys $(thumbprint bob.pub), $(thumbprint carol.pub); your key is $(thumbprint pkcs1.key)"
}

@test "encrypt: the same key twice is refused (64)" {
	run --separate-stderr e2e-encrypt -r bob.pub -r bob.pub </dev/null
	usage_refused e2e-encrypt "bob.pub and bob.pub are the same key ($(thumbprint bob.pub))"
	cp bob.pub bob2.pub
	run --separate-stderr e2e-encrypt -r bob.pub -r carol.pub -r bob2.pub </dev/null
	usage_refused e2e-encrypt "bob.pub and bob2.pub are the same key"
}

@test "encrypt: J9 at most 256 recipients: the 257th -r is refused (64)" {
	# The count is checked while parsing options, before any key is read,
	# so 257 copies of one name are enough to reach it.
	local args=() i
	for i in $(seq 257); do args+=(-r bob.pub); done
	run --separate-stderr e2e-encrypt "${args[@]}" </dev/null
	usage_refused e2e-encrypt "at most 256 recipients"
	# 256 gets past the count (and is then refused as one key repeated).
	run --separate-stderr e2e-encrypt "${args[@]:2}" </dev/null
	usage_refused e2e-encrypt "bob.pub and bob.pub are the same key"
	# 256 distinct keys would need 256 key generations: not done here.
}

@test "encrypt: -s signing: unverified note without --verify, verified with the right key" {
	echo 'signed hi' | e2e-encrypt -r bob.pub -s alice > m.jwe
	run --separate-stderr e2e-decrypt -i bob m.jwe
	assert_success
	assert_output 'signed hi'
	assert_regex "${stderr_lines[0]}" "^e2e-decrypt: signed by key $(thumbprint alice.pub) at [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z, not verified\$"
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: give the sender's public key with --verify PUBKEY"
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub m.jwe
	assert_success
	assert_output 'signed hi'
	assert_equal "$stderr" ""
	# --sign, and a PKCS#1 signing key.
	echo pk | e2e-encrypt -r bob.pub --sign pkcs1.key > p.jwe
	run --separate-stderr e2e-decrypt -i bob --verify pkcs1.pub p.jwe
	assert_success
	assert_output pk
}

@test "encrypt: E2 --verify with another key: 65, nothing on stdout" {
	echo 'signed hi' | e2e-encrypt -r bob.pub -s alice > m.jwe
	run --separate-stderr e2e-decrypt -i bob --verify carol.pub m.jwe
	refused 65 "e2e-decrypt: error: the message is signed by key $(thumbprint alice.pub), not by the key $(thumbprint carol.pub) given to verify it"
}

@test "encrypt: E1 --verify on an unsigned message: 65" {
	echo 'not signed' | e2e-encrypt -r bob.pub > m.jwe
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub m.jwe
	refused 65 "e2e-decrypt: error: the message is not signed, and --verify asks for a signature"
	# Without --verify it is shown, with a warning.
	run --separate-stderr e2e-decrypt -i bob m.jwe
	assert_success
	assert_output 'not signed'
	assert_equal "$stderr" "e2e-decrypt: warning: the message is not signed: its sender is not authenticated"
}

@test "encrypt: -s twice refused; -s needs a value" {
	run --separate-stderr e2e-encrypt -r bob.pub -s alice -s alice </dev/null
	usage_refused e2e-encrypt "-s given more than once"
	run --separate-stderr e2e-encrypt -r bob.pub -s
	usage_refused e2e-encrypt "option -s needs a value"
	run --separate-stderr e2e-encrypt -r
	usage_refused e2e-encrypt "option -r needs a value"
	run --separate-stderr e2e-encrypt --recipient
	usage_refused e2e-encrypt "option --recipient needs a value"
}

@test "encrypt: --format seed round trip, with its warnings" {
	printf 'seed & more + plus\n' > in.txt
	run --separate-stderr e2e-encrypt -r bob.pub --format seed in.txt
	assert_success
	assert_equal "$stderr" "e2e-encrypt: warning: the seed format authenticates neither its IV nor its sender; use it only to talk to the original client"
	printf '%s\n' "$output" > m.seed
	# The seed shape: four members, no "&" or "+" left in the text.
	"$PYTHON" - m.seed <<'EOF'
import json, sys
t = open(sys.argv[1]).read()
assert t.endswith("\n") and t.count("\n") == 1
assert "&" not in t and "+" not in t
o = json.loads(t.replace("ampersand", "&").replace("plusplus", "+"),
    object_pairs_hook=lambda p: p)
assert [k for k, _ in o] == ["RSACipher", "ct", "iv", "tag"], o
d = dict(o)
assert len(d["RSACipher"]) == 256 and len(d["iv"]) == 16 and len(d["tag"]) == 32
assert len(d["ct"]) % 16 == 0
EOF
	run --separate-stderr e2e-decrypt -i bob m.seed
	assert_success
	assert_output 'seed & more + plus'
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: warning: seed format: neither the IV nor the sender is authenticated"
	# Empty and binary plaintexts too.
	printf '' | e2e-encrypt -r bob.pub --format seed > e.seed 2>/dev/null
	run --separate-stderr e2e-decrypt -i bob e.seed
	assert_success
	assert_output ''
	head -c 5000 /dev/urandom > bin
	e2e-encrypt -r bob.pub --format seed --binary bin > b.seed 2>/dev/null
	e2e-decrypt --binary -i bob -o b.out b.seed 2>/dev/null
	cmp bin b.out
	# --format jwe is the default.
	echo j | e2e-encrypt -r bob.pub --format jwe > j.jwe
	run inspect j.jwe
	assert_line "members=protected,recipients,iv,ciphertext,tag"
}

@test "encrypt: --format seed with two -r, with -s or with --enc refused (64); --format bad (64)" {
	run --separate-stderr e2e-encrypt --format seed -r bob.pub -r carol.pub </dev/null
	usage_refused e2e-encrypt "--format seed takes exactly one -r, and no -s or --enc"
	run --separate-stderr e2e-encrypt --format seed -r bob.pub -s alice </dev/null
	usage_refused e2e-encrypt "--format seed takes exactly one -r, and no -s or --enc"
	run --separate-stderr e2e-encrypt --format seed -r bob.pub --enc A256CBC-HS512 </dev/null
	usage_refused e2e-encrypt "--format seed takes exactly one -r, and no -s or --enc"
	local f
	for f in bad JWE SEED "" compact; do
		run --separate-stderr e2e-encrypt --format "$f" -r bob.pub </dev/null
		usage_refused e2e-encrypt "--format must be jwe or seed"
	done
	run --separate-stderr e2e-encrypt --format jwe --format jwe -r bob.pub </dev/null
	usage_refused e2e-encrypt "--format given more than once"
}

@test "encrypt: --max-size: a larger plaintext refused (65), the limit itself accepted" {
	head -c 1024 /dev/zero > k1
	head -c 1025 /dev/zero > k1plus
	run --separate-stderr e2e-encrypt -r bob.pub --max-size 1K k1
	assert_success
	run --separate-stderr e2e-encrypt -r bob.pub --max-size 1k k1plus
	refused 65 "e2e-encrypt: error: input k1plus is larger than the limit of 1024 bytes"
	run --separate-stderr e2e-encrypt -r bob.pub --max-size 1024 < k1plus
	refused 65 "e2e-encrypt: error: standard input is larger than the limit of 1024 bytes"
	# Through a pipe (no size known in advance).
	run --separate-stderr bash -c 'cat k1plus | e2e-encrypt -r bob.pub --max-size 1024'
	refused 65 "standard input is larger than the limit of 1024 bytes"
	run --separate-stderr e2e-encrypt -r bob.pub --max-size 1M -o out.jwe k1plus
	assert_success
	# Refused: no output file, no temporary file.
	run --separate-stderr e2e-encrypt -r bob.pub --max-size 1000 -o no.jwe k1plus
	refused 65 "larger than the limit of 1000 bytes"
	[ ! -e no.jwe ]
	no_temp_files .
	# A pipe is encrypted as it is read: one over the limit is refused
	# when it passes it, and what went to standard output is no envelope
	# (it has no tag); to a file, nothing is left.
	run --separate-stderr bash -c 'head -c 3000001 /dev/zero | e2e-encrypt -r bob.pub --max-size 3000000'
	assert_equal "$status" 65
	[[ "${stderr_lines[0]}" == *"standard input is larger than the limit of 3000000 bytes"* ]]
	[[ "$output" == '{"protected":'* ]]
	[[ "$output" != *'"tag"'* ]]
	run --separate-stderr bash -c 'head -c 3000001 /dev/zero | e2e-encrypt -r bob.pub --max-size 3000000 -o no.jwe'
	refused 65 "standard input is larger than the limit of 3000000 bytes"
	[ ! -e no.jwe ]
	no_temp_files .
	# The seed format is read whole: its default stays 128 MiB.
	run --separate-stderr bash -c 'head -c 134217729 /dev/zero | e2e-encrypt --format seed --binary -r bob.pub'
	refused 65 "standard input is larger than the limit of 134217728 bytes"
}

@test "encrypt: --max-size bad values (64)" {
	local v
	for v in 0 -1 abc 1x 1KB 1T "" " 1" "1 " 1.5 +1 0x10 99999999999999999999 17179869184G; do
		run --separate-stderr e2e-encrypt -r bob.pub --max-size "$v" </dev/null
		usage_refused e2e-encrypt "--max-size needs a positive size such as 4096, 64K, 256M or 1G"
	done
	run --separate-stderr e2e-encrypt -r bob.pub --max-size 1G --max-size 1G </dev/null
	usage_refused e2e-encrypt "--max-size given more than once"
	# The format's limit (docs/FORMAT.md section 6).
	run --separate-stderr e2e-encrypt -r bob.pub --max-size 33G </dev/null
	usage_refused e2e-encrypt "--max-size is at most 32G"
}

@test "encrypt: a protected signing key with E2E_PASSPHRASE, --passphrase-file, wrong passphrase (77)" {
	echo p1 | E2E_PASSPHRASE='correct horse' e2e-encrypt -r bob.pub -s protected > a.jwe
	run --separate-stderr e2e-decrypt -i bob --verify protected.pub a.jwe
	assert_success
	assert_output p1
	echo 'correct horse' > pf; chmod 600 pf	# a passphrase file is secret
	echo p2 | e2e-encrypt -r bob.pub -s protected --passphrase-file pf > b.jwe
	run --separate-stderr e2e-decrypt -i bob --verify protected.pub b.jwe
	assert_success
	assert_output p2

	E2E_PASSPHRASE='wrong horse' run --separate-stderr e2e-encrypt -r bob.pub -s protected </dev/null
	refused 77 "e2e-encrypt: error: wrong passphrase for protected"
	echo nope > bad; chmod 600 bad	# a passphrase file is secret
	run --separate-stderr e2e-encrypt -r bob.pub -s protected --passphrase-file bad </dev/null
	refused 77 "e2e-encrypt: error: wrong passphrase for protected"
	run --separate-stderr e2e-encrypt -r bob.pub -s protected --passphrase-file nosuch </dev/null
	refused 66 "e2e-encrypt: error: cannot open passphrase file nosuch"
	run --separate-stderr setsid -w e2e-encrypt -r bob.pub -s protected </dev/null
	refused 64 "e2e-encrypt: error: a passphrase is needed for protected and there is no terminal to ask it on"
	assert_equal "${stderr_lines[1]}" "e2e-encrypt: hint: use --passphrase-file FILE or set E2E_PASSPHRASE"
	E2E_PASSPHRASE= run --separate-stderr e2e-encrypt -r bob.pub -s protected </dev/null
	refused 65 "e2e-encrypt: error: the passphrase is empty"
	run --separate-stderr e2e-encrypt -r bob.pub -s protected --passphrase-file pf --passphrase-file pf </dev/null
	usage_refused e2e-encrypt "--passphrase-file given more than once"
}

@test "encrypt: --passphrase-file without -s refused (64)" {
	echo pw > pf; chmod 600 pf	# a passphrase file is secret
	run --separate-stderr e2e-encrypt -r bob.pub --passphrase-file pf </dev/null
	usage_refused e2e-encrypt "--passphrase-file is only used with -s"
}

@test "encrypt: missing key files (66)" {
	run --separate-stderr e2e-encrypt -r nosuch.pub </dev/null
	refused 66 "e2e-encrypt: error: cannot open public key file nosuch.pub: No such file or directory"
	run --separate-stderr e2e-encrypt -r bob.pub -s nosuch </dev/null
	refused 66 "e2e-encrypt: error: cannot open private key file nosuch: No such file or directory"
	mkdir d
	run --separate-stderr e2e-encrypt -r d </dev/null
	refused 66 "e2e-encrypt: error: public key file d is a directory"
	printf 'garbage\n' > junk.pub
	run --separate-stderr e2e-encrypt -r junk.pub </dev/null
	refused 66 "e2e-encrypt: error: junk.pub is not a PEM public key"
	: > empty.pub
	run --separate-stderr e2e-encrypt -r empty.pub </dev/null
	refused 66 "e2e-encrypt: error: empty.pub is not a PEM public key"
}

@test "encrypt: a private key given to -r (66, hint: .pub or e2e-keygen -y)" {
	local k
	for k in bob pkcs1.key protected; do
		run --separate-stderr e2e-encrypt -r "$k" </dev/null
		refused 66 "e2e-encrypt: error: $k is a private key; give the public key"
		assert_equal "${stderr_lines[1]}" "e2e-encrypt: hint: e2e-keygen writes it beside the private key, as FILE.pub; or run e2e-keygen -y FILE"
	done
}

@test "encrypt: a public key given to -s (66, says public key)" {
	install -m 600 alice.pub apub
	run --separate-stderr e2e-encrypt -r bob.pub -s apub </dev/null
	refused 66 "e2e-encrypt: error: apub is a public key, not a private key"
	install -m 600 pkcs1.pub ppub
	run --separate-stderr e2e-encrypt -r bob.pub -s ppub </dev/null
	refused 66 "e2e-encrypt: error: ppub is a public key, not a private key"
	printf 'junk\n' > junk
	chmod 600 junk
	run --separate-stderr e2e-encrypt -r bob.pub -s junk </dev/null
	refused 66 "e2e-encrypt: error: junk is not a PEM private key"
}

@test "encrypt: weak1024, e=3 and EC keys refused (65) as -r and as -s" {
	run --separate-stderr e2e-encrypt -r weak1024.pub </dev/null
	refused 65 "e2e-encrypt: error: weak1024.pub is a 1024-bit RSA key; at least 2048 bits are needed"
	run --separate-stderr e2e-encrypt -r e3.pub </dev/null
	refused 65 "e2e-encrypt: error: e3.pub has a public exponent other than 65537"
	run --separate-stderr e2e-encrypt -r bob.pub -s weak1024.key </dev/null
	refused 65 "e2e-encrypt: error: weak1024.key is a 1024-bit RSA key; at least 2048 bits are needed"
	run --separate-stderr e2e-encrypt -r bob.pub -s e3.key </dev/null
	refused 65 "e2e-encrypt: error: e3.key has a public exponent other than 65537"
	run --separate-stderr e2e-encrypt -r bob.pub -s ec.key </dev/null
	refused 65 "e2e-encrypt: error: ec.key is not an RSA key"
	# A weak key among good ones refuses the whole message.
	run --separate-stderr e2e-encrypt -r bob.pub -r weak1024.pub -o m.jwe </dev/null
	refused 65 "weak1024.pub is a 1024-bit RSA key"
	[ ! -e m.jwe ]
}

@test "encrypt: an EC public key as -r is refused as not RSA (65)" {
	# A readable key of the wrong type is a refused key (65, like e3 and
	# weak1024 and like ec.key given to -s), not an unreadable file (66).
	run --separate-stderr e2e-encrypt -r ec.pub </dev/null
	refused 65 "e2e-encrypt: error: ec.pub is not an RSA key"
}

@test "encrypt: no -r (64, hint)" {
	run --separate-stderr e2e-encrypt </dev/null
	refused 64 "e2e-encrypt: error: no recipient"
	assert_equal "${stderr_lines[1]}" "e2e-encrypt: hint: give a recipient's public key with -r PUBKEY"
	run --separate-stderr e2e-encrypt -s alice in.txt </dev/null
	refused 64 "e2e-encrypt: error: no recipient"
}

@test "encrypt: a key and the message both from stdin refused (64)" {
	# -s - with the message on stdin too (no FILE): the key would eat the
	# input and an empty message would be encrypted.
	run --separate-stderr e2e-encrypt -r bob.pub -s - < alice
	usage_refused e2e-encrypt "-s and the message cannot both read standard input"
	run --separate-stderr e2e-encrypt -r bob.pub -s - - < alice
	usage_refused e2e-encrypt "-s and the message cannot both read standard input"
	run --separate-stderr e2e-encrypt -r - < bob.pub
	usage_refused e2e-encrypt "-r and the message cannot both read standard input"
	run --separate-stderr e2e-encrypt -r bob.pub -r - - < carol.pub
	usage_refused e2e-encrypt "-r and the message cannot both read standard input"
}

@test "encrypt: the signing key's passphrase and the message both from stdin refused (64)" {
	run --separate-stderr e2e-encrypt -r bob.pub -s protected --passphrase-file - <<<'correct horse'
	refused 64 "e2e-encrypt: error: "
	assert_equal "${stderr_lines[1]}" "e2e-encrypt: hint: see e2e-encrypt --help"
	echo m > in.txt
	run --separate-stderr e2e-encrypt -r bob.pub -s - --passphrase-file - in.txt < protected
	refused 64 "e2e-encrypt: error: "
}

@test "encrypt: a key on stdin with the message in a FILE works" {
	# A key on stdin with the message in a FILE is fine.
	echo filed > in.txt
	run --separate-stderr e2e-encrypt -r - in.txt < bob.pub
	assert_success
	printf '%s\n' "$output" > m.jwe
	run --separate-stderr e2e-decrypt -i bob m.jwe
	assert_output filed
	# The passphrase of the signing key on stdin.
	run --separate-stderr e2e-encrypt -r bob.pub -s protected --passphrase-file - in.txt <<<'correct horse'
	assert_success
	printf '%s\n' "$output" > p.jwe
	run --separate-stderr e2e-decrypt -i bob --verify protected.pub p.jwe
	assert_success
	assert_output filed
	# The signing key on stdin.
	run --separate-stderr e2e-encrypt -r bob.pub -s - in.txt < alice
	assert_success
	printf '%s\n' "$output" > s.jwe
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub s.jwe
	assert_success
	assert_output filed
}

@test "encrypt: -o OUT that is a FIFO is written to (or refused), never replaced by a file" {
	# outfile_commit renames a temporary file over OUT: over a FIFO or
	# a device (as root: -o /dev/null) that replaces the special file.
	echo x > in.txt
	mkfifo out.fifo
	timeout 10 cat out.fifo > got 3>&- &
	local reader=$!
	run --separate-stderr timeout 10 e2e-encrypt -r bob.pub -o out.fifo in.txt
	local rc=$status
	[ -p out.fifo ] || { kill "$reader" 2>/dev/null; fail "out.fifo was replaced by a regular file (status $rc)"; }
	if [ "$rc" -eq 0 ]; then
		wait "$reader"
		run --separate-stderr e2e-decrypt -i bob got
		assert_output x
	else
		kill "$reader" 2>/dev/null
		assert_equal "$rc" 73
	fi
	no_temp_files .
}

@test "encrypt: output to a folder that cannot be written (73), no partial file" {
	echo x > in.txt
	run --separate-stderr e2e-encrypt -r bob.pub -o nodir/m.jwe in.txt
	refused 73 "e2e-encrypt: error: cannot create nodir/m.jwe"
	# OUT is a folder: found only at the final rename, the temporary file
	# must go.
	mkdir m.jwe
	run --separate-stderr e2e-encrypt -r bob.pub -o m.jwe in.txt
	refused 73 "e2e-encrypt: error: cannot create m.jwe"
	[ -z "$(ls -A m.jwe)" ]
	no_temp_files .
	run --separate-stderr e2e-encrypt -r bob.pub -o sub/ in.txt
	refused 73 "cannot create sub/"
	mkdir ro
	chmod 555 ro
	if [ "$(id -u)" -ne 0 ]; then
		run --separate-stderr e2e-encrypt -r bob.pub -o ro/m.jwe in.txt
		refused 73 "e2e-encrypt: error: cannot create ro/m.jwe: Permission denied"
		[ -z "$(ls -A ro)" ]
	fi
	no_temp_files .
}

@test "encrypt: stdout on /dev/full: 74 cannot write" {
	echo x > in.txt
	# Not "-o /dev/full": OUT is replaced by a rename, which would put a
	# file in place of the device. As stdout it is written to.
	run --separate-stderr bash -c 'e2e-encrypt -r bob.pub in.txt > /dev/full'
	assert_equal "$status" 74
	assert_equal "${stderr_lines[0]}" "e2e-encrypt: error: cannot write standard output: No space left on device"
}

@test "encrypt: a closed stdout: 74 cannot write, not a silent success" {
	echo x > in.txt
	run --separate-stderr bash -c 'e2e-encrypt -r bob.pub in.txt >&-'
	assert_equal "$status" 74
	[[ "${stderr_lines[0]}" == "e2e-encrypt: error: cannot write standard output"* ]] ||
	    fail "first stderr line: '${stderr_lines[0]}'"
}

@test "encrypt: unknown options and --help / --version" {
	run --separate-stderr e2e-encrypt -x
	usage_refused e2e-encrypt "unknown option -x"
	run --separate-stderr e2e-encrypt --bogus -r bob.pub
	usage_refused e2e-encrypt "unknown option --bogus"
	help_and_version e2e-encrypt 0 64 65 66 70 73 74 75 77
	assert_line --index 0 --partial "usage: e2e-encrypt -r PUBKEY"
	assert_output --partial "up to 256"
	assert_output --partial "--enc ENC"
	assert_output --partial "--format FORMAT"
	assert_output --partial "--max-size SIZE"
	assert_output --partial "--passphrase-file FILE"
}

@test "encrypt: C3 an unprotected signing key readable by others is refused (77, one line naming chmod 600), nothing written; a protected one: warning naming chmod 600" {
	chmod 644 alice
	echo hi > in.txt
	run --separate-stderr e2e-encrypt -r bob.pub -s alice in.txt
	refused 77 "e2e-encrypt: error: private key file alice can be read by group or others and has no passphrase; not using it: chmod 600 alice"
	assert_equal "${#stderr_lines[@]}" 1
	run --separate-stderr e2e-encrypt -r bob.pub -s alice -o out.jwe in.txt
	[ "$status" -eq 77 ]
	[ ! -e out.jwe ]
	chmod 604 protected
	E2E_PASSPHRASE="correct horse" run --separate-stderr e2e-encrypt -r bob.pub -s protected -o p.jwe in.txt
	assert_success
	assert_equal "${stderr_lines[0]}" "e2e-encrypt: warning: private key file protected can be read by group or others"
	assert_equal "${stderr_lines[1]}" "e2e-encrypt: hint: chmod 600 protected"
	run --separate-stderr e2e-decrypt -i bob --verify protected.pub p.jwe
	assert_success
	assert_output hi
}
