#!/usr/bin/env bats
# Large messages stream (issue 14): e2e-encrypt reads its input in pieces
# from a file or a pipe; e2e-decrypt reads an envelope file in pieces and
# writes the output's temporary file, committed only when every check
# passed. Peak memory is measured with /usr/bin/time (%M, KiB) at 64 MiB,
# where the old code held the message (74 MB to encrypt, 161 MB to
# decrypt); round trips cross every buffer boundary; a tampered or cut
# envelope leaves no output file. A signed message streams too: its JWS
# is hashed and its payload decoded into the temporary file as it is
# decrypted, in the same pass (lib/format/jws.c, jws_scan; message.c),
# and every refusal is the one of the message read whole.

bats_require_minimum_version 1.5.0
load helpers
setup() { common_setup; fixed_keys; }

# The most memory a streaming run may take, in KiB (16 MiB).
CAP_KIB=16384
# The pieces of the code (lib/format/jwe.c): the encryption's chunk
# (CHUNK), the decryption's piece of text (FILE_TEXT, 256 KiB) decoded
# (FILE_RAW), and the inner JWS's (JWS_STREAM_RAW); PIECE, 512 KiB of
# text decoded, the pieces an earlier reader took (kept: more sizes).
CHUNK=261120
PIECE=393216
JWS_RAW=196608
FILE_RAW=196608

# under_cap KIB: true when KIB is under CAP_KIB. In a sanitized build
# (make sanitize) the peak is AddressSanitizer's shadow and quarantine,
# not the tools': the bound is checked by make check's own build, and
# here only noted.
under_cap() {
	if sanitized_build; then
		echo "# (a sanitized build: the 16 MiB bound is make check's)" >&3
		return 0
	fi
	[ "$1" -lt "$CAP_KIB" ]
}

# peak_kib OUTVAR CMD...: runs CMD (a shell line), which must succeed,
# and sets OUTVAR to its peak resident set in KiB.
peak_kib() {
	local -n out=$1
	shift
	/usr/bin/time -f %M -o "$T/rss" bash -c "$*" ||
	    fail "failed: $*: $(cat "$T/rss")"
	out=$(tail -n 1 "$T/rss")
}

big_input() {
	[ -e big ] || head -c 64M /dev/zero | tr '\0' 'x' > big
}

@test "issue 14: e2e-encrypt streams 64 MiB from a file and from a pipe, signed or not, in under 16 MiB" {
	[ -x /usr/bin/time ] || skip "no /usr/bin/time"
	local kib
	big_input
	peak_kib kib "e2e-encrypt --no-sign -r bob.pub -o f.jwe big"
	echo "# file, unsigned: $kib KiB" >&3
	under_cap "$kib"
	peak_kib kib "cat big | e2e-encrypt --no-sign --enc A256GCM -r bob.pub > p.jwe"
	echo "# pipe, unsigned (and cat): $kib KiB" >&3
	under_cap "$kib"
	peak_kib kib "cat big | e2e-encrypt -s alice -r bob.pub > s.jwe 2>/dev/null"
	echo "# pipe, signed: $kib KiB" >&3
	under_cap "$kib"
	# Each is a whole envelope: it decrypts to the input.
	e2e-decrypt -i bob -o f.out f.jwe 2>/dev/null
	cmp big f.out
	e2e-decrypt -i bob -o p.out p.jwe 2>/dev/null
	cmp big p.out
	e2e-decrypt -i bob --verify alice.pub -o s.out s.jwe
	cmp big s.out
}

@test "issue 14: e2e-decrypt streams 64 MiB from a file to a file in under 16 MiB, both algorithms" {
	[ -x /usr/bin/time ] || skip "no /usr/bin/time"
	local kib enc
	big_input
	for enc in A256CBC-HS512 A256GCM; do
		e2e-encrypt --no-sign --enc "$enc" -r bob.pub -o "$enc.jwe" big
		peak_kib kib "e2e-decrypt -i bob -o $enc.out $enc.jwe 2>/dev/null"
		echo "# $enc: $kib KiB" >&3
		under_cap "$kib"
		cmp big "$enc.out"
		[ "$(stat -c %a "$enc.out")" = 600 ]
	done
	no_temp_files .
}

@test "issue 14: e2e-decrypt streams a signed 64 MiB message from a file to a file in under 16 MiB, both algorithms, verified or not" {
	[ -x /usr/bin/time ] || skip "no /usr/bin/time"
	local kib enc kid
	kid=$(thumbprint alice.pub)
	big_input
	for enc in A256CBC-HS512 A256GCM; do
		e2e-encrypt -s alice --enc "$enc" -r bob.pub -o "$enc.jwe" \
		    big 2>/dev/null
		peak_kib kib "e2e-decrypt -i bob --verify alice.pub -o $enc.out $enc.jwe"
		echo "# $enc, signed: $kib KiB" >&3
		under_cap "$kib"
		cmp big "$enc.out"
		[ "$(stat -c %a "$enc.out")" = 600 ]
		rm "$enc.out"
		# Not verified: the same reading, and the note on who signed.
		run --separate-stderr e2e-decrypt -i bob -o "$enc.out" "$enc.jwe"
		assert_success
		[[ "${stderr_lines[0]}" == "e2e-decrypt: signed by key $kid at "*", not verified" ]] ||
		    fail "$stderr"
		cmp big "$enc.out"
		rm "$enc.out"
	done
	no_temp_files .
}

@test "issue 14: round trips around every buffer boundary, both algorithms, signed or not, from files and pipes" {
	local n enc sign
	local -a sizes=(0 1 15 16 17 $((CHUNK - 1)) "$CHUNK" $((CHUNK + 1))
	    $((PIECE - 1)) "$PIECE" $((PIECE + 1)) $((JWS_RAW + 1))
	    $((3 * CHUNK + 7)) $((2 * PIECE - 1)) $((2 * PIECE + 2))
	    $((FILE_RAW - 1)) "$FILE_RAW" $((2 * FILE_RAW + 16)))
	for n in "${sizes[@]}"; do
		head -c "$n" /dev/urandom > "in-$n"
		for enc in A256CBC-HS512 A256GCM; do
			for sign in --no-sign "-s alice"; do
				# shellcheck disable=SC2086 # two words
				e2e-encrypt $sign --enc "$enc" -r bob.pub \
				    -o "f.jwe" "in-$n" 2>/dev/null
				# shellcheck disable=SC2086
				e2e-encrypt $sign --enc "$enc" -r bob.pub \
				    < "in-$n" > "p.jwe" 2>/dev/null
				rm -f f.out
				e2e-decrypt -i bob -o f.out f.jwe 2>/dev/null ||
				    fail "$n $enc $sign: file to file"
				cmp "in-$n" f.out ||
				    fail "$n $enc $sign: file to file differs"
				e2e-decrypt -i bob < p.jwe > p.out 2>/dev/null ||
				    fail "$n $enc $sign: pipe to pipe"
				cmp "in-$n" p.out ||
				    fail "$n $enc $sign: pipe to pipe differs"
			done
		done
	done
	no_temp_files .
}

# tampered ENC KIND: an envelope of 1 MiB + 5 with one change, decrypted
# file to file: 65, the one line, and no output file.
tampered() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import json, sys
src, kind = sys.argv[1], sys.argv[2]
o = json.loads(open(src).read())
def flip(s, i):
    c = s[i]
    return s[:i] + ("A" if c != "A" else "B") + s[i + 1:]
if kind == "tag":
    o["tag"] = flip(o["tag"], 0)
elif kind == "iv":
    o["iv"] = flip(o["iv"], 1)
elif kind == "header":
    o["protected"] = o["protected"][:-2] + ("fQ" if o["protected"][-2:] != "fQ" else "fX")
elif kind == "last":
    # The last chunk: a character among the last 40 of the ciphertext.
    o["ciphertext"] = flip(o["ciphertext"], len(o["ciphertext"]) - 30)
elif kind == "first":
    o["ciphertext"] = flip(o["ciphertext"], 5)
text = json.dumps(o, separators=(",", ":")) + "\n"
if kind == "truncated":
    text = open(src).read()
    text = text[:len(text) // 2]
elif kind == "short":
    # Whole quads cut from the ciphertext: still base64url, one chunk less.
    c = o["ciphertext"]
    o["ciphertext"] = c[:len(c) - 4000] if len(c) % 4 != 1 else c
    text = json.dumps(o, separators=(",", ":")) + "\n"
open("t.jwe", "w").write(text)
EOF
}

@test "issue 14: a changed tag, IV, header, first or last chunk, or a cut envelope leaves no output file (65)" {
	local enc kind
	head -c $((1048576 + 5)) /dev/urandom > in
	for enc in A256CBC-HS512 A256GCM; do
		e2e-encrypt --no-sign --enc "$enc" -r bob.pub -o "$enc.jwe" in
		for kind in tag iv header first last truncated short; do
			tampered "$enc.jwe" "$kind"
			run --separate-stderr e2e-decrypt -i bob -o out t.jwe
			assert_equal "$status" 65
			assert_equal "${stderr_lines[0]}" "$CANNOT"
			[ ! -e out ] || fail "$enc $kind: out was written"
			no_temp_files .
		done
		# An existing output is left as it was.
		echo before > out
		tampered "$enc.jwe" last
		run --separate-stderr e2e-decrypt -i bob -f -o out t.jwe
		assert_equal "$status" 65
		assert_equal "$(cat out)" before
		rm out
	done
}

# flip_tag IN OUT: IN with the first character of its tag (the last
# member, as e2e-encrypt writes it) changed, read as bytes (64 MiB).
flip_tag() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import sys
t = bytearray(open(sys.argv[1], "rb").read())
i = t.rindex(b'"tag":"') + 7
t[i] = ord("A") if t[i] != ord("A") else ord("B")
open(sys.argv[2], "wb").write(t)
EOF
}

@test "issue 14: a tag that fails at the end of 64 MiB, decrypted and written in one pass, leaves nothing at the destination nor a temporary file, both algorithms, signed or not, in under 16 MiB" {
	[ -x /usr/bin/time ] || skip "no /usr/bin/time"
	local enc sign kib rc
	big_input
	for enc in A256CBC-HS512 A256GCM; do
		for sign in --no-sign "-s alice"; do
			# shellcheck disable=SC2086 # two words
			e2e-encrypt $sign --enc "$enc" -r bob.pub -o m.jwe big \
			    2>/dev/null
			flip_tag m.jwe t.jwe
			rc=0
			/usr/bin/time -f %M -o "$T/rss" e2e-decrypt -i bob \
			    -o out t.jwe 2>err || rc=$?
			assert_equal "$rc" 65
			assert_equal "$(head -n 1 err)" "$CANNOT"
			[ ! -e out ] || fail "$enc $sign: out was written"
			no_temp_files .
			kib=$(tail -n 1 "$T/rss")
			echo "# $enc $sign, refused: $kib KiB" >&3
			under_cap "$kib"
			# An existing output is left as it was.
			echo before > out
			run --separate-stderr e2e-decrypt -i bob -f -o out t.jwe
			assert_equal "$status" 65
			assert_equal "$(cat out)" before
			no_temp_files .
			rm out t.jwe m.jwe
		done
	done
}

# reshaped IN KIND OUT: IN's ciphertext with one character written as a
# JSON escape deep in it (esc-mid, past the first pieces) or near its end
# (esc-end), or cut by a quote and a member "x" holding the rest
# (quote-mid): valid JSON that is not what e2e-encrypt writes.
reshaped() {
	"$PYTHON" - "$1" "$2" "$3" <<'EOF'
import sys
t = open(sys.argv[1], "rb").read()
kind = sys.argv[2]
c0 = t.index(b'"ciphertext":"') + 14
c1 = t.index(b'"', c0)
def esc(t, i):
    return t[:i] + b"\\u%04x" % t[i] + t[i + 1:]
if kind == "esc-mid":
    t = esc(t, c0 + 600001)
elif kind == "esc-end":
    t = esc(t, c1 - 10)
elif kind == "quote-mid":
    t = t[:c0 + 600000] + b'","x":"' + t[c0 + 600000:]
open(sys.argv[3], "wb").write(t)
EOF
}

@test "issue 14: a large ciphertext with escapes, or cut by a quote, is read whole, file to file as from a pipe: the same plaintext, or the same refusal" {
	local enc kind
	head -c $((1536 * 1024)) /dev/urandom > in
	for enc in A256CBC-HS512 A256GCM; do
		e2e-encrypt --no-sign --enc "$enc" -r bob.pub -o m.jwe in
		for kind in esc-mid esc-end; do
			reshaped m.jwe "$kind" t.jwe
			e2e-decrypt -i bob -o out t.jwe 2>/dev/null ||
			    fail "$enc $kind: file to file"
			cmp in out || fail "$enc $kind: file to file differs"
			rm out
			no_temp_files .
		done
		reshaped m.jwe quote-mid t.jwe
		run --separate-stderr e2e-decrypt -i bob < t.jwe
		local pst=$status perr=$stderr
		[ "$pst" -ne 0 ] || fail "$enc quote-mid: accepted"
		run --separate-stderr e2e-decrypt -i bob -o out t.jwe
		assert_equal "$status" "$pst"
		assert_equal "$stderr" "$perr"
		[ ! -e out ] || fail "$enc quote-mid: out was written"
		no_temp_files .
	done
}

@test "issue 14: an unsigned message file to file with --verify is refused after decryption, and leaves nothing" {
	head -c 300000 /dev/urandom > in
	e2e-encrypt --no-sign -r bob.pub -o m.jwe in
	run --separate-stderr e2e-decrypt -i bob --verify alice.pub -o out m.jwe
	assert_equal "$status" 65
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: the message is not signed, and --verify asks for a signature"
	[ ! -e out ]
	no_temp_files .
}

# signed_cases DIR: envelopes for bob of signed messages of about 1.1 MiB
# (the JWS spans several of jwsfile.c's pieces), made with josecraft.py
# (python3-cryptography, not the project's code), each with one fault,
# and DIR/manifest: file <TAB> what e2e-decrypt --verify alice.pub must
# say (the start of its first stderr line; "ok" for a control).
signed_cases() {
	"$PYTHON" - "$1" "$INTEROP" <<'EOF'
import os, sys
sys.path.insert(0, sys.argv[2])
import josecraft as jc
from josecraft import b64u, dumps, make_jwe, make_jws
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
man = open(os.path.join(out, "manifest"), "w")
E = "e2e-decrypt: error: "
BAD = E + "the signature is not acceptable: "
PARTS = BAD + "the signed message is not a compact JWS with three parts"
NOTSIG = E + "the signature is not valid: the message was not signed by key "
pt = os.urandom(3 * 393216 // 2 + 5)
alice = jc.private_key("alice")

def sign(si):
    return b64u(jc.pss_sign(alice, si.encode()))

def case(name, jws, say, both=False):
    for e in ["A256CBC-HS512", "A256GCM"] if both else ["A256CBC-HS512"]:
        f = "%s-%s.jwe" % (name, e)
        with open(os.path.join(out, f), "w") as fh:
            fh.write(jc.envelope_text(make_jwe(jws.encode(), enc=e,
                                               signed=True)))
        man.write("%s\t%s\n" % (f, say))

good = make_jws(pt)
h, p, s = good.split(".")
case("good", good, "ok", True)
case("empty", make_jws(b""), "ok", True)
raw = bytearray(jc.unb64u(s))
raw[100] ^= 0x40
case("bad-sig", h + "." + p + "." + b64u(bytes(raw)), NOTSIG, True)
mid = len(p) * 2 // 3
alt = p[:mid] + ("B" if p[mid] == "A" else "A") + p[mid + 1:]
case("altered-payload", h + "." + alt + "." + s, NOTSIG, True)
case("by-carol", make_jws(pt, key=jc.private_key("carol")), NOTSIG)
case("by-carol-named", make_jws(pt, signer="carol"),
     E + "the message is signed by key ")
case("cut-signature", good[:-10], E + "the signature is not")
case("cut-in-payload", good[:len(h) + 1 + mid], PARTS, True)
case("dot-in-payload", h + "." + p[:mid] + "." + p[mid:] + "." + s, PARTS)
case("no-dot", p, PARTS)
bh = b64u(dumps(jc.signed_header("alice", x_pad="x" * 17000)))
case("header-17k", bh + "." + p + "." + sign(bh + "." + p),
     BAD + "the signature header is empty or too large")
case("signature-long", h + "." + p + "." + s + "A" * 2400,
     BAD + "the signature is missing or too long")
case("header-not-json", b64u("{nope") + "." + p + "." + s,
     BAD + "the signature header is not a JSON object")
for where, bp in (("start", "+" + p[1:]), ("end", p[:-1] + "+"),
                  # 4k+1 characters: never base64url (p[:-1] could be,
                  # when its last character's spare bits were zero).
                  ("length", p + "A" * ((1 - len(p)) % 4))):
    si = h + "." + bp
    case("payload-bad-" + where, si + "." + sign(si),
         E + "the signed content is not base64url")
ch = b64u(dumps(jc.signed_header("alice", to=("carol",))))
case("aud-carol", ch + "." + p + "." + sign(ch + "." + p),
     E + "the signed message was not addressed to your key ")
EOF
}

# same_as_whole OPTIONS ENVELOPE: e2e-decrypt OPTIONS ENVELOPE, once to
# standard output (read whole) and once file to file (-o f.out,
# streamed): the same exit status (in ws), the same words on stderr, the
# same plaintext, or no f.out and no temporary file left.
same_as_whole() {
	local opts=$1 f=$2 fs
	rm -f w.out f.out
	# shellcheck disable=SC2086 # options, one a word
	e2e-decrypt $opts "$f" > w.out 2> w.err && ws=0 || ws=$?
	# shellcheck disable=SC2086
	e2e-decrypt $opts -o f.out "$f" 2> f.err && fs=0 || fs=$?
	[ "$ws" = "$fs" ] || fail "$f $opts: exit $fs, read whole $ws"
	diff w.err f.err || fail "$f $opts: said otherwise than read whole"
	if [ "$ws" = 0 ]; then
		cmp w.out f.out || fail "$f $opts: the output differs"
	else
		[ ! -e f.out ] || fail "$f $opts: f.out was written"
	fi
	no_temp_files .
}

@test "issue 14: a signed message file to file is refused as when read whole: bad or cut signatures, another signer, a changed payload, cut or extra parts, long headers and signatures, bad payloads; same exit code and words, no output file" {
	local f say ws
	signed_cases c
	[ "$(wc -l < c/manifest)" -ge 20 ]
	while IFS=$'\t' read -r f say; do
		same_as_whole "-i bob" "c/$f"
		same_as_whole "-i bob --verify alice.pub" "c/$f"
		# The cases are what they claim to be.
		if [ "$say" = ok ]; then
			[ "$ws" = 0 ] || fail "$f: refused: $(cat f.err)"
		else
			[ "$ws" = 65 ] || fail "$f: exit $ws"
			[[ "$(head -n 1 f.err)" == "$say"* ]] ||
			    fail "$f: $(head -n 1 f.err), not $say"
		fi
	done < c/manifest
}

@test "issue 14: every crafted attack of attacks.py (J1-J19, E1-E7, claims) decrypted file to file is refused or accepted as when read whole, in the same words" {
	local c ws n=0
	mkdir a
	# shellcheck disable=SC2046 # one name a word
	(cd a && "$PYTHON" "$INTEROP/attacks.py" \
	    $("$PYTHON" "$INTEROP/attacks.py" list))
	for c in a/*; do
		same_as_whole "-i bob" "$c"
		same_as_whole "-i bob --verify alice.pub" "$c"
		n=$((n + 1))
	done
	[ "$n" -ge 100 ]
}

@test "issue 14: --verify NAME file to file: a message signed as from another name is refused (65) in the words of the whole reading, and leaves nothing" {
	local ws h=$T/h g=$T/g
	mkdir -m 700 "$h" "$g"
	install -m 600 /dev/null "$h/config"
	install -m 600 /dev/null "$g/config"
	E2E_HOME=$h run -0 e2e-keys import mallory alice.pub
	head -c 1000000 /dev/urandom > in
	# Signed as from amy (a name no file here has: a file wins).
	e2e-encrypt -s alice --from amy -r bob.pub -o n.jwe in 2>/dev/null
	E2E_HOME=$h same_as_whole "-i bob --verify mallory" n.jwe
	assert_equal "$ws" 65
	assert_equal "$(cat f.err)" "e2e-decrypt: error: the message is signed as from amy, not from mallory as --verify says"
	# The key pinned as amy's, in another home: it passes.
	E2E_HOME=$g run -0 e2e-keys import amy alice.pub
	E2E_HOME=$g same_as_whole "-i bob --verify amy" n.jwe
	assert_equal "$ws" 0
	cmp in f.out
}

# boundary_cases DIR: signed messages for bob whose inner JWS puts the
# payload's base64url quads and the dot after it on each side of the
# decryption's pieces (FILE_RAW bytes of JWS text; CBC's first piece is a
# block shorter), for headers of every length mod 4; payloads of 0 to 5
# bytes; and one of several pieces. DIR/manifest: envelope <TAB> payload.
boundary_cases() {
	"$PYTHON" - "$1" "$INTEROP" "$FILE_RAW" <<'EOF2'
import os, sys
sys.path.insert(0, sys.argv[2])
import josecraft as jc
from josecraft import b64u, dumps, make_jwe, make_jws
out, piece = sys.argv[1], int(sys.argv[3])
os.makedirs(out, exist_ok=True)
man = open(os.path.join(out, "manifest"), "w")
k = 0
for pad in range(4):
    hdr = jc.signed_header("alice", x_pad="x" * pad)
    hl = len(b64u(dumps(hdr)))
    sizes = list(range(6)) + [3 * piece + 7]
    for end in (piece - 16, piece):
        for d in range(-3, 3):
            plen = end + d - hl - 1     # the second dot at end + d
            if plen % 4 != 1:
                sizes.append(plen * 3 // 4)
    for n in sizes:
        pt = os.urandom(n)
        for e in ("A256CBC-HS512", "A256GCM"):
            f = "m%d-%d-%s" % (k, n, e)
            open(os.path.join(out, f + ".pt"), "wb").write(pt)
            jws = make_jws(pt, header=hdr)
            open(os.path.join(out, f + ".jwe"), "w").write(
                jc.envelope_text(make_jwe(jws.encode(), enc=e,
                                          signed=True)))
            man.write("%s.jwe\t%s.pt\n" % (f, f))
        k += 1
EOF2
}

@test "issue 14: a signed message file to file, read in one pass, around every boundary of its reading (payload quads and the dot across the decryption's pieces, headers of every length mod 4, 0 to 5 bytes, several pieces): the payload, verified" {
	local f p n=0
	boundary_cases b
	while IFS=$'\t' read -r f p; do
		rm -f f.out
		e2e-decrypt -i bob --verify alice.pub -o f.out "b/$f" \
		    2>f.err || fail "$f: refused: $(cat f.err)"
		cmp "b/$p" f.out || fail "$f: the output differs"
		n=$((n + 1))
	done < b/manifest
	[ "$n" -ge 100 ]
	no_temp_files .
}

@test "issue 14: a signature that fails at the end of a large signed message, read in one pass, leaves nothing at the destination nor a temporary file (65, the words of the whole reading), both algorithms" {
	local e
	"$PYTHON" - "$INTEROP" <<'EOF2'
import os, sys
sys.path.insert(0, sys.argv[1])
import josecraft as jc
from josecraft import b64u, make_jwe, make_jws
pt = os.urandom((16 << 20) + 5)
h, p, s = make_jws(pt).split(".")
raw = bytearray(jc.unb64u(s))
raw[-1] ^= 1
bad = h + "." + p + "." + b64u(bytes(raw))
for e in ("A256CBC-HS512", "A256GCM"):
    open("big-%s.jwe" % e, "w").write(
        jc.envelope_text(make_jwe(bad.encode(), enc=e, signed=True)))
EOF2
	for e in A256CBC-HS512 A256GCM; do
		run --separate-stderr e2e-decrypt -i bob --verify alice.pub \
		    -o out "big-$e.jwe"
		assert_equal "$status" 65
		assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: the signature is not valid: the message was not signed by key $KID_ALICE"
		[ ! -e out ] || fail "$e: out was written"
		no_temp_files .
		# An existing output is left as it was.
		echo before > out
		run --separate-stderr e2e-decrypt -i bob --verify alice.pub \
		    -f -o out "big-$e.jwe"
		assert_equal "$status" 65
		assert_equal "$(cat out)" before
		no_temp_files .
		rm out
	done
}

@test "issue 14: e2e-encrypt of several chunks onto a full device (the writer's thread fails) stops with 74 and one line, both algorithms, from a file and a pipe" {
	[ -w /dev/full ] || skip "no /dev/full"
	local enc
	head -c $((12 * CHUNK + 5)) /dev/urandom > in
	for enc in A256CBC-HS512 A256GCM; do
		run -74 e2e-encrypt --no-sign --enc "$enc" -r bob.pub \
		    -o /dev/full in
		assert_output "e2e-encrypt: error: cannot write /dev/full: No space left on device"
		run -74 bash -c "e2e-encrypt --no-sign --enc $enc \
		    -r bob.pub -o /dev/full < in"
		assert_output "e2e-encrypt: error: cannot write /dev/full: No space left on device"
	done
}
