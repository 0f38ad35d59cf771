#!/usr/bin/env bats
# e2e-decrypt: every option and every error path (cmd/e2e-decrypt/main.c,
# lib/format/message.c, lib/format/keyfile.c, lib/base/fileio.c,
# lib/base/passphrase.c). Forged messages are built in Python
# (cryptography) so that each one fails for exactly one reason; a
# correctly built one is accepted (the control).

bats_require_minimum_version 1.5.0
load helpers
setup() { common_setup; fixed_keys; }

# forge_envelope OUT [name=value...]: writes an envelope made in Python exactly as
# docs/FORMAT.md says, with one thing changed by the options:
#   to=a.pub,b.pub   recipients (default bob.pub)
#   enc=A256GCM      content encryption (default A256CBC-HS512)
#   commit=0         no cek_commit for A256GCM
#   cty=0            no "cty" even though the content is signed
#   signer=KEY       sign with this private key (default: not signed)
#   kid=KEYFILE      the key id claimed in the JWS ("kid"/"iss")
#   aud=a.pub,...    the JWS "aud" (default: the recipients)
#   jws=TEXT         the JWE plaintext is TEXT, with cty (a malformed JWS)
#   pt=TEXT          the message (default "forged")
forge_envelope() {
	"$PYTHON" - "$@" <<'EOF'
import base64, hashlib, hmac, json, os, sys, time
from cryptography.hazmat.primitives import hashes, padding as sympad, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def dumps(o): return json.dumps(o, separators=(",", ":"))
def kid_of(pub):
    n = pub.public_numbers()
    be = lambda i: i.to_bytes((i.bit_length() + 7) // 8, "big")
    t = dumps({"e": b64(be(n.e)), "kty": "RSA", "n": b64(be(n.n))})
    return b64(hashlib.sha256(t.encode()).digest())
def load_pub(f): return serialization.load_pem_public_key(open(f, "rb").read())
def load_priv(f): return serialization.load_pem_private_key(open(f, "rb").read(), None)

out = sys.argv[1]
o = dict(a.split("=", 1) for a in sys.argv[2:])
to = [load_pub(f) for f in o.get("to", "bob.pub").split(",")]
kids = [kid_of(p) for p in to]
enc = o.get("enc", "A256CBC-HS512")
pt = o.get("pt", "forged").encode()
cty = None
if "signer" in o:
    sk = load_priv(o["signer"])
    skid = kid_of(load_pub(o["kid"])) if "kid" in o else kid_of(sk.public_key())
    aud = [kid_of(load_pub(f)) for f in o["aud"].split(",")] if "aud" in o else kids
    sh = dumps({"alg": "PS256", "typ": "e2e-msg+jws", "kid": skid, "iss": skid,
                "aud": aud, "iat": int(time.time()), "jti": b64(os.urandom(16))})
    si = (b64(sh.encode()) + "." + b64(pt)).encode()
    sig = sk.sign(si, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    pt = si + b"." + b64(sig).encode()
    cty = "e2e-msg+jws"
if "jws" in o:
    pt = o["jws"].encode()
    cty = "e2e-msg+jws"
if o.get("cty") == "0":
    cty = None
cek = os.urandom(64 if enc == "A256CBC-HS512" else 32)
hdr = {"alg": "RSA-OAEP-256", "enc": enc}
if cty: hdr["cty"] = cty
if enc == "A256GCM" and o.get("commit") != "0":
    hdr["cek_commit"] = b64(hashlib.sha256(b"e2e-chat CEK commitment v1\0" + cek).digest())
P = b64(dumps(hdr).encode())
aad = P.encode()
if enc == "A256CBC-HS512":
    iv = os.urandom(16)
    p = sympad.PKCS7(128).padder()
    padded = p.update(pt) + p.finalize()
    e = Cipher(algorithms.AES(cek[32:]), modes.CBC(iv)).encryptor()
    ct = e.update(padded) + e.finalize()
    al = (len(aad) * 8).to_bytes(8, "big")
    tag = hmac.new(cek[:32], aad + iv + ct + al, hashlib.sha512).digest()[:32]
else:
    iv = os.urandom(12)
    r = AESGCM(cek).encrypt(iv, pt, aad)
    ct, tag = r[:-16], r[-16:]
oaep = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
env = {"protected": P,
       "recipients": [{"header": {"kid": k}, "encrypted_key": b64(p.encrypt(cek, oaep))}
                      for p, k in zip(to, kids)],
       "iv": b64(iv), "ciphertext": b64(ct), "tag": b64(tag)}
open(out, "w").write(dumps(env) + "\n")
EOF
}

@test "decrypt: the forge helper is right: its messages are accepted" {
	forge_envelope ok.jwe signer=alice pt=control
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub ok.jwe
	assert_success
	assert_output control
	assert_equal "$stderr" ""
	forge_envelope g.jwe enc=A256GCM to=bob.pub,carol.pub signer=alice pt=gcm
	run --separate-stderr e2e-decrypt -i carol --verify alice.pub g.jwe
	assert_success
	assert_output gcm
	forge_envelope u.jwe pt=unsigned
	run --separate-stderr e2e-decrypt -i bob u.jwe
	assert_success
	assert_output unsigned
}

@test "decrypt: input from FILE, stdin and '-'" {
	echo one | e2e-encrypt -r bob.pub > m.jwe
	run --separate-stderr e2e-decrypt -i bob m.jwe
	assert_success
	assert_output one
	run --separate-stderr e2e-decrypt -i bob < m.jwe
	assert_success
	assert_output one
	run --separate-stderr e2e-decrypt --identity bob - < m.jwe
	assert_success
	assert_output one
	run --separate-stderr e2e-decrypt -i bob m.jwe m.jwe
	usage_refused e2e-decrypt "more than one input FILE"
	run --separate-stderr e2e-decrypt -i bob nosuch.jwe
	refused 66 "e2e-decrypt: error: cannot open input nosuch.jwe: No such file or directory"
	mkdir d
	run --separate-stderr e2e-decrypt -i bob d
	refused 66 "e2e-decrypt: error: input d is a directory"
	# Empty input, from a file and from stdin.
	: > empty.jwe
	run --separate-stderr e2e-decrypt -i bob empty.jwe
	refused 65 "$CANNOT"
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: the input is not a JSON envelope: '[' or '{' expected near end of file at line 1, column 0"
	run --separate-stderr e2e-decrypt -i bob < empty.jwe
	refused 65 "$CANNOT"
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: the input is not a JSON envelope: '[' or '{' expected near end of file at line 1, column 0"
}

@test "decrypt: -o OUT gets the plaintext with mode 0600, whatever the umask" {
	printf 'a\0binary\377' > pt
	e2e-encrypt -r bob.pub -s alice pt > m.jwe
	umask 000
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub -o out m.jwe
	assert_success
	assert_equal "$output" ""
	cmp pt out
	assert_equal "$(stat -c %a out)" 600
	# An existing OUT is replaced, and gets 0600.
	echo old > out2
	chmod 644 out2
	run --separate-stderr e2e-decrypt -i bob --output out2 m.jwe
	assert_success
	cmp pt out2
	assert_equal "$(stat -c %a out2)" 600
	# ...but not a private key, not even the key just used (S5), unless
	# --force.
	cp bob bobkey
	run --separate-stderr e2e-decrypt -i bobkey --verify alice.pub -o bobkey m.jwe
	refused 73 "e2e-decrypt: error: bobkey holds a private key; not overwriting it"
	cmp bob bobkey
	run --separate-stderr e2e-decrypt -i bobkey --verify alice.pub --force -o bobkey m.jwe
	assert_success
	cmp pt bobkey
	no_temp_files .
	# "-o -" is stdout.
	e2e-decrypt -i bob -o - m.jwe 2>/dev/null | cmp - pt
	[ ! -e ./- ]
	run --separate-stderr e2e-decrypt -i bob -o a -o b m.jwe
	usage_refused e2e-decrypt "-o given more than once"
	run --separate-stderr e2e-decrypt -i bob -o
	usage_refused e2e-decrypt "option -o needs a value"
}

@test "decrypt: a refused message writes no OUT and leaves no temporary file" {
	echo secret | e2e-encrypt -r bob.pub -s alice > m.jwe
	run --separate-stderr e2e-decrypt -i bob --verify carol.pub -o out m.jwe
	refused 65 "not by the key"
	[ ! -e out ]
	sed 's/"tag":"./"tag":"A/' m.jwe > t.jwe
	cmp -s m.jwe t.jwe && sed 's/"tag":"./"tag":"B/' m.jwe > t.jwe
	run --separate-stderr e2e-decrypt -i bob -o out t.jwe
	refused 65 "$CANNOT"
	[ ! -e out ]
	# An existing OUT is left as it was.
	echo keep > out
	run --separate-stderr e2e-decrypt -i carol -o out m.jwe
	refused 65 "$CANNOT"
	assert_equal "$(cat out)" keep
	no_temp_files .
}

@test "decrypt: output to a folder that cannot be written (73), no partial file" {
	echo x | e2e-encrypt -r bob.pub > m.jwe
	run --separate-stderr e2e-decrypt -i bob -o nodir/out m.jwe
	# The notes about the message come only once it is written.
	assert_equal "$status" 73
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: cannot create nodir/out: No such file or directory"
	assert_equal "${#stderr_lines[@]}" 1
	mkdir out
	run --separate-stderr e2e-decrypt -i bob -o out m.jwe
	assert_equal "$status" 73
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: cannot create out: Is a directory"
	[ -z "$(ls -A out)" ]
	no_temp_files .
	if [ "$(id -u)" -ne 0 ]; then
		mkdir ro
		chmod 555 ro
		run --separate-stderr e2e-decrypt -i bob -o ro/out m.jwe
		assert_equal "$status" 73
		[ -z "$(ls -A ro)" ]
	fi
}

@test "decrypt: -o OUT that is a FIFO is written to (or refused), never replaced by a file" {
	# outfile_commit renames a temporary file over OUT: over a FIFO or
	# a device (as root: -o /dev/null) that replaces the special file.
	echo 'to the fifo' | e2e-encrypt -r bob.pub > m.jwe
	mkfifo out.fifo
	timeout 10 cat out.fifo > got 3>&- &
	local reader=$!
	run --separate-stderr timeout 10 e2e-decrypt -i bob -o out.fifo m.jwe
	local rc=$status
	[ -p out.fifo ] || { kill "$reader" 2>/dev/null; fail "out.fifo was replaced by a regular file (status $rc)"; }
	if [ "$rc" -eq 0 ]; then
		wait "$reader"
		assert_equal "$(cat got)" 'to the fifo'
	else
		kill "$reader" 2>/dev/null
		assert_equal "$rc" 73
	fi
	no_temp_files .
}

@test "decrypt: a non-recipient: 65, cannot decrypt, hint naming the key ids" {
	echo hi | e2e-encrypt -r bob.pub > m.jwe
	run --separate-stderr e2e-decrypt -i carol m.jwe
	refused 65 "$CANNOT"
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: this message is for key $(thumbprint bob.pub); your key is $(thumbprint carol.pub)"
	assert_equal "${#stderr_lines[@]}" 2
}

@test "decrypt: a signed message without --verify: plaintext and a 'not verified' note" {
	echo 'from alice' | e2e-encrypt -r bob.pub -s alice > m.jwe
	run --separate-stderr e2e-decrypt -i bob m.jwe
	assert_success
	assert_output 'from alice'
	assert_regex "${stderr_lines[0]}" "^e2e-decrypt: signed by key $(thumbprint alice.pub) at [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z, not verified\$"
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: give the sender's public key with --verify PUBKEY"
	assert_equal "${#stderr_lines[@]}" 2
}

@test "decrypt: --verify with the right key: 0 and nothing on stderr" {
	echo 'from alice' | e2e-encrypt -r bob.pub -r carol.pub -s alice > m.jwe
	run --separate-stderr e2e-decrypt -i carol --verify alice.pub m.jwe
	assert_success
	assert_output 'from alice'
	assert_equal "$stderr" ""
	# A PKCS#1 public key verifies as well.
	echo 'from pkcs1' | e2e-encrypt -r bob.pub -s pkcs1.key > p.jwe
	run --separate-stderr e2e-decrypt -i bob --verify pkcs1.pub p.jwe
	assert_success
	assert_output 'from pkcs1'
}

@test "decrypt: E2 --verify with a wrong key: 65, no stdout" {
	echo 'from alice' | e2e-encrypt -r bob.pub -s alice > m.jwe
	run --separate-stderr e2e-decrypt -i bob --verify carol.pub m.jwe
	refused 65 "e2e-decrypt: error: the message is signed by key $(thumbprint alice.pub), not by the key $(thumbprint carol.pub) given to verify it"
	assert_equal "${#stderr_lines[@]}" 1
	# Mallory (carol) signs, claiming alice's key id: not valid.
	forge_envelope f.jwe signer=carol kid=alice.pub pt=forged
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub f.jwe
	refused 65 "e2e-decrypt: error: the signature is not valid: the message was not signed by key $(thumbprint alice.pub)"
}

@test "decrypt: E1 --verify on an unsigned message: 65" {
	echo plain | e2e-encrypt -r bob.pub > m.jwe
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub m.jwe
	refused 65 "e2e-decrypt: error: the message is not signed, and --verify asks for a signature"
	# A signed JWS inside a JWE without "cty" is not a signed message.
	forge_envelope s.jwe signer=alice cty=0
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub s.jwe
	refused 65 "e2e-decrypt: error: the message is not signed, and --verify asks for a signature"
	run --separate-stderr e2e-decrypt -i bob s.jwe
	assert_success
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: warning: the message is not signed: its sender is not authenticated"
	# A seed message cannot be signed.
	echo seed | e2e-encrypt -r bob.pub --format seed > m.seed 2>/dev/null
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub m.seed
	refused 65 "e2e-decrypt: error: the message is in the seed format, which cannot be signed, and --verify asks for a signature"
}

@test "decrypt: E3 a signed message forwarded to someone not in aud: 65" {
	# Bob re-encrypts alice's signed message (for bob) to carol.
	forge_envelope fwd.jwe signer=alice to=carol.pub aud=bob.pub pt='for bob'
	run --separate-stderr e2e-decrypt -i carol fwd.jwe
	refused 65 "e2e-decrypt: error: the signed message was not addressed to your key $(thumbprint carol.pub): it may have been forwarded by one of its recipients"
	run --separate-stderr e2e-decrypt -i carol --verify alice.pub fwd.jwe
	refused 65 "the signed message was not addressed to your key"
}

@test "decrypt: a malformed inner JWS: 65, signature not acceptable" {
	local j
	for j in 'not a jws' 'a.b' 'a.b.c.d' '..'; do
		forge_envelope bad.jwe jws="$j"
		run --separate-stderr e2e-decrypt -i bob bad.jwe
		refused 65 "e2e-decrypt: error: the signature is not acceptable: "
	done
}

@test "decrypt: E7 A256GCM for several recipients without cek_commit: accepted with a warning" {
	forge_envelope g.jwe enc=A256GCM commit=0 to=bob.pub,carol.pub pt=group
	run --separate-stderr e2e-decrypt -i carol g.jwe
	assert_success
	assert_output group
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: warning: A256GCM with several recipients and no key commitment: other recipients may have read a different message"
	# One recipient: nothing to warn about.
	forge_envelope g1.jwe enc=A256GCM commit=0 pt=single
	run --separate-stderr e2e-decrypt -i bob g1.jwe
	assert_success
	[[ "$stderr" != *"key commitment"* ]]
}

@test "decrypt: --verify given a private key (66, hint) or a missing file (66)" {
	echo hi | e2e-encrypt -r bob.pub -s alice > m.jwe
	run --separate-stderr e2e-decrypt -i bob --verify alice m.jwe
	refused 66 "e2e-decrypt: error: alice is a private key; give the public key"
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: e2e-keygen writes it beside the private key, as FILE.pub; or run e2e-keygen -y FILE"
	run --separate-stderr e2e-decrypt -i bob --verify nosuch.pub m.jwe
	refused 66 "e2e-decrypt: error: cannot open public key file nosuch.pub: No such file or directory"
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub --verify alice.pub m.jwe
	usage_refused e2e-decrypt "--verify given more than once"
	run --separate-stderr e2e-decrypt -i bob --verify
	usage_refused e2e-decrypt "option --verify needs a value"
}

@test "decrypt: -i missing (66), a folder (66), a public key (66, says public key), garbage (66)" {
	echo hi | e2e-encrypt -r bob.pub > m.jwe
	run --separate-stderr e2e-decrypt -i nosuch m.jwe
	refused 66 "e2e-decrypt: error: cannot open private key file nosuch: No such file or directory"
	mkdir d
	run --separate-stderr e2e-decrypt -i d m.jwe
	refused 66 "e2e-decrypt: error: private key file d is a directory"
	install -m 600 bob.pub bpub
	run --separate-stderr e2e-decrypt -i bpub m.jwe
	refused 66 "e2e-decrypt: error: bpub is a public key, not a private key"
	install -m 600 pkcs1.pub ppub
	run --separate-stderr e2e-decrypt -i ppub m.jwe
	refused 66 "e2e-decrypt: error: ppub is a public key, not a private key"
	printf 'garbage\n' > junk
	chmod 600 junk
	run --separate-stderr e2e-decrypt -i junk m.jwe
	refused 66 "e2e-decrypt: error: junk is not a PEM private key"
	run --separate-stderr e2e-decrypt -i bob -i bob m.jwe
	usage_refused e2e-decrypt "-i given more than once"
	run --separate-stderr e2e-decrypt -i
	usage_refused e2e-decrypt "option -i needs a value"
}

@test "decrypt: weak1024, e=3 and EC keys refused (65) as -i" {
	echo hi | e2e-encrypt -r bob.pub -s alice > m.jwe
	run --separate-stderr e2e-decrypt -i weak1024.key m.jwe
	refused 65 "e2e-decrypt: error: weak1024.key is a 1024-bit RSA key; at least 2048 bits are needed"
	run --separate-stderr e2e-decrypt -i e3.key m.jwe
	refused 65 "e2e-decrypt: error: e3.key has a public exponent other than 65537"
	run --separate-stderr e2e-decrypt -i ec.key m.jwe
	refused 65 "e2e-decrypt: error: ec.key is not an RSA key"
	run --separate-stderr e2e-decrypt -i bob --verify weak1024.pub m.jwe
	refused 65 "e2e-decrypt: error: weak1024.pub is a 1024-bit RSA key; at least 2048 bits are needed"
	run --separate-stderr e2e-decrypt -i bob --verify e3.pub m.jwe
	refused 65 "e2e-decrypt: error: e3.pub has a public exponent other than 65537"
}

@test "decrypt: an EC public key as --verify is refused as not RSA (65)" {
	echo hi | e2e-encrypt -r bob.pub -s alice > m.jwe
	run --separate-stderr e2e-decrypt -i bob --verify ec.pub m.jwe
	refused 65 "e2e-decrypt: error: ec.pub is not an RSA key"
}

@test "decrypt: no -i (64, hint)" {
	echo hi | e2e-encrypt -r bob.pub > m.jwe
	run --separate-stderr e2e-decrypt m.jwe
	refused 64 "e2e-decrypt: error: no private key"
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: give your private key with -i PRIVKEY"
	run --separate-stderr e2e-decrypt --verify alice.pub < m.jwe
	refused 64 "e2e-decrypt: error: no private key"
}

@test "decrypt: the key and the message both from stdin refused (64)" {
	run --separate-stderr e2e-decrypt -i - - < bob
	usage_refused e2e-decrypt "-i and the message cannot both read standard input"
	# No FILE means the message comes from stdin too.
	run --separate-stderr e2e-decrypt -i - < bob
	usage_refused e2e-decrypt "-i and the message cannot both read standard input"
}

@test "decrypt: any two inputs from stdin refused (64): --verify -, --passphrase-file -" {
	echo hi | e2e-encrypt -r protected.pub -s alice > m.jwe
	# Each would read what another input left of stdin (nothing).
	run --separate-stderr e2e-decrypt -i - --verify - m.jwe < bob
	refused 64 "e2e-decrypt: error: "
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: see e2e-decrypt --help"
	run --separate-stderr e2e-decrypt -i protected --passphrase-file - < m.jwe
	refused 64 "e2e-decrypt: error: "
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: see e2e-decrypt --help"
}

@test "decrypt: a passphrase failure is reported once" {
	echo hi | e2e-encrypt -r protected.pub > m.jwe
	E2E_PASSPHRASE= run --separate-stderr e2e-decrypt -i protected m.jwe
	refused 65 "e2e-decrypt: error: the passphrase is empty"
	assert_equal "${#stderr_lines[@]}" 1
	run --separate-stderr e2e-decrypt -i protected --passphrase-file nosuch m.jwe
	refused 66 "e2e-decrypt: error: cannot open passphrase file nosuch"
	assert_equal "${#stderr_lines[@]}" 1
	run --separate-stderr setsid -w e2e-decrypt -i protected m.jwe </dev/null
	refused 64 "a passphrase is needed for protected"
	assert_equal "${#stderr_lines[@]}" 2
}

@test "decrypt: the key from stdin with the message in a FILE works" {
	echo hi | e2e-encrypt -r bob.pub -s alice > m.jwe
	run --separate-stderr e2e-decrypt -i - --verify alice.pub m.jwe < bob
	assert_success
	assert_output hi
	run --separate-stderr e2e-decrypt -i bob --verify - m.jwe < alice.pub
	assert_success
	assert_output hi
}

@test "decrypt: --max-size: a larger envelope refused (65); bad values (64)" {
	head -c 2000 /dev/zero | tr '\0' x > pt
	echo hi >> pt
	e2e-encrypt -r bob.pub pt > m.jwe
	local size
	size=$(stat -c %s m.jwe)
	run --separate-stderr e2e-decrypt -i bob --max-size "$size" m.jwe
	assert_success
	assert_output "$(cat pt)"
	run --separate-stderr e2e-decrypt -i bob --max-size $((size - 1)) m.jwe
	refused 65 "e2e-decrypt: error: input m.jwe is larger than the limit of $((size - 1)) bytes"
	run --separate-stderr bash -c "cat m.jwe | e2e-decrypt -i bob --max-size 1K"
	refused 65 "e2e-decrypt: error: standard input is larger than the limit of 1024 bytes"
	local v
	for v in 0 -5 abc 1x 2KB "" " 1" 1.0 99999999999999999999 17179869184G; do
		run --separate-stderr e2e-decrypt -i bob --max-size "$v" m.jwe
		usage_refused e2e-decrypt "--max-size needs a positive size such as 4096, 64K, 256M or 1G"
	done
	run --separate-stderr e2e-decrypt -i bob --max-size 1M --max-size 1M m.jwe
	usage_refused e2e-decrypt "--max-size given more than once"
	run --separate-stderr e2e-decrypt -i bob --max-size
	usage_refused e2e-decrypt "option --max-size needs a value"
}

@test "decrypt: J9 the default cap is 256 MiB" {
	run --separate-stderr bash -c 'head -c 268435457 /dev/zero | e2e-decrypt -i bob'
	refused 65 "e2e-decrypt: error: standard input is larger than the limit of 268435456 bytes"
}

@test "decrypt: a protected key with E2E_PASSPHRASE, --passphrase-file, wrong passphrase (77)" {
	echo 'for protected' | e2e-encrypt -r protected.pub -s alice > m.jwe
	E2E_PASSPHRASE='correct horse' run --separate-stderr e2e-decrypt -i protected --verify alice.pub m.jwe
	assert_success
	assert_output 'for protected'
	printf 'correct horse\n' > pf; chmod 600 pf	# a passphrase file is secret
	run --separate-stderr e2e-decrypt -i protected --passphrase-file pf --verify alice.pub m.jwe
	assert_success
	assert_output 'for protected'
	E2E_PASSPHRASE='wrong' run --separate-stderr e2e-decrypt -i protected m.jwe
	refused 77 "e2e-decrypt: error: wrong passphrase for protected"
	echo wrong > bad; chmod 600 bad	# a passphrase file is secret
	run --separate-stderr e2e-decrypt -i protected --passphrase-file bad m.jwe
	refused 77 "e2e-decrypt: error: wrong passphrase for protected"
	run --separate-stderr e2e-decrypt -i protected --passphrase-file nosuch m.jwe
	refused 66 "e2e-decrypt: error: cannot open passphrase file nosuch"
	run --separate-stderr setsid -w e2e-decrypt -i protected m.jwe </dev/null
	refused 64 "e2e-decrypt: error: a passphrase is needed for protected and there is no terminal to ask it on"
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: use --passphrase-file FILE or set E2E_PASSPHRASE"
	run --separate-stderr e2e-decrypt -i protected --passphrase-file pf --passphrase-file pf m.jwe
	usage_refused e2e-decrypt "--passphrase-file given more than once"
	run --separate-stderr e2e-decrypt -i protected --passphrase-file
	usage_refused e2e-decrypt "option --passphrase-file needs a value"
}

@test "decrypt: a protected key asks for its passphrase on the terminal" {
	echo 'secret words' | e2e-encrypt -r protected.pub -s alice > m.jwe
	run on_tty 'correct horse' -- e2e-decrypt -i protected --verify alice.pub m.jwe
	assert_success
	assert_line --index 0 "Passphrase for protected: "
	assert_line --index 1 "secret words"
	refute_output --partial "correct horse"
	run on_tty 'wrong horse' -- e2e-decrypt -i protected m.jwe
	assert_equal "$status" 77
	assert_line --index 1 "e2e-decrypt: error: wrong passphrase for protected"
	refute_output --partial "secret words"
}

@test "decrypt: control characters are not written to a terminal, but are to a pipe or file" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	printf 'evil\033]0;title\007\033[2J\n' > esc.txt
	e2e-encrypt -r bob.pub -s alice esc.txt > esc.jwe
	printf 'plain text\twith tab\n' | e2e-encrypt -r bob.pub -s alice > ok.jwe
	head -c 64 /dev/urandom | e2e-encrypt -r bob.pub -s alice > bin.jwe
	# script gives the command a terminal as stdout (and stderr).
	run script -qec "e2e-decrypt -i bob --verify alice.pub esc.jwe" /dev/null
	assert_equal "$status" 73
	assert_output --partial "e2e-decrypt: error: the plaintext is binary or holds control characters; not writing it to a terminal"
	assert_output --partial "e2e-decrypt: hint: write it to a file with -o OUT, or pipe it"
	[[ "$output" != *$'\033'* ]] || fail "an escape sequence reached the terminal"
	run script -qec "e2e-decrypt -i bob --verify alice.pub bin.jwe" /dev/null
	assert_equal "$status" 73
	assert_output --partial "not writing it to a terminal"
	run script -qec "e2e-decrypt -i bob --verify alice.pub ok.jwe" /dev/null
	assert_success
	assert_output --partial "plain text"
	# To a pipe and to a file, the bytes as they are.
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub esc.jwe
	assert_success
	e2e-decrypt -i bob --verify alice.pub esc.jwe | cmp - esc.txt
	e2e-decrypt -i bob --verify alice.pub -o out esc.jwe
	cmp out esc.txt
	# -o OUT while on a terminal is fine too.
	run script -qec "e2e-decrypt -i bob --verify alice.pub -o out2 esc.jwe" /dev/null
	assert_success
	cmp out2 esc.txt
}

@test "decrypt: stdout on /dev/full: 74 cannot write" {
	echo hi | e2e-encrypt -r bob.pub -s alice > m.jwe
	run --separate-stderr bash -c 'e2e-decrypt -i bob --verify alice.pub m.jwe > /dev/full'
	assert_equal "$status" 74
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: cannot write standard output: No space left on device"
}

@test "decrypt: a closed stdout: 74 cannot write, not a silent success" {
	echo hi | e2e-encrypt -r bob.pub -s alice > m.jwe
	run --separate-stderr bash -c 'e2e-decrypt -i bob --verify alice.pub m.jwe >&-'
	assert_equal "$status" 74
	[[ "${stderr_lines[0]}" == "e2e-decrypt: error: cannot write standard output"* ]] ||
	    fail "first stderr line: '${stderr_lines[0]}'"
}

@test "decrypt: unknown options, extra arguments, --help / --version" {
	run --separate-stderr e2e-decrypt -x
	usage_refused e2e-decrypt "unknown option -x"
	run --separate-stderr e2e-decrypt --bogus -i bob
	usage_refused e2e-decrypt "unknown option --bogus"
	run --separate-stderr e2e-decrypt -r bob
	usage_refused e2e-decrypt "unknown option -r"
	help_and_version e2e-decrypt 0 64 65 66 70 73 74 75 77
	assert_line --index 0 "usage: e2e-decrypt -i PRIVKEY [--verify PUBKEY] [-o OUT] [FILE]"
	assert_output --partial "-i, --identity PRIVKEY"
	assert_output --partial "--verify PUBKEY"
	assert_output --partial "--max-size SIZE"
	assert_output --partial "--passphrase-file FILE"
}

@test "decrypt: C3 an unprotected private key readable by others is refused (77, one line naming chmod 600), nothing decrypted; a protected one: warning naming chmod 600" {
	echo hi | e2e-encrypt -r bob.pub > m.jwe
	chmod 644 bob
	run --separate-stderr e2e-decrypt -i bob m.jwe
	refused 77 "e2e-decrypt: error: private key file bob can be read by group or others and has no passphrase; not using it: chmod 600 bob"
	assert_equal "${#stderr_lines[@]}" 1
	chmod 600 bob
	run --separate-stderr e2e-decrypt -i bob m.jwe
	assert_success
	assert_output hi
	echo hi | e2e-encrypt -r protected.pub > p.jwe
	chmod 640 protected
	E2E_PASSPHRASE="correct horse" run --separate-stderr e2e-decrypt -i protected p.jwe
	assert_success
	assert_output hi
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: warning: private key file protected can be read by group or others"
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: chmod 600 protected"
}

@test "decrypt: a passphrase file readable by others gets a warning (C3)" {
	echo hi | e2e-encrypt -r protected.pub > m.jwe
	printf 'correct horse\n' > loose
	chmod 644 loose
	run --separate-stderr e2e-decrypt -i protected --passphrase-file loose m.jwe
	assert_success
	assert_output hi
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: warning: passphrase file loose can be read by group or others"
	assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: chmod 600 loose"
}
