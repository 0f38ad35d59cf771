#!/usr/bin/env bats
# Tampering with real envelopes: every change must be refused by
# e2e-decrypt with exit 65, the one "cannot decrypt" line first on stderr,
# and nothing on stdout. Mutants are written by Python into a folder with
# a manifest; one bats test per family runs them all and lists every
# mutant that was not refused the right way.
#
# The envelopes are signed and unsigned, A256CBC-HS512 and A256GCM, for
# one recipient (bob) and for two (bob, carol). A change inside the
# ciphertext fails the tag before the inner JWS is even seen, so with or
# without --verify no signature error line can appear: every failure is
# the generic one.
#
# The per-recipient "header" is not integrity protected (RFC 7516), but
# every entry must name its key with "kid" (docs/FORMAT.md section 5 step
# 5): an entry whose "kid" is renamed or removed is refused like any other
# change. The only mutants listed as "accept" are the controls: a missing
# final newline (framing, not JWE) and headers re-sealed with a correct
# tag and the same meaning.

bats_require_minimum_version 1.5.0
load helpers

MESSAGE="the original message"

setup_file() {
	local d="$BATS_FILE_TMPDIR/env" f s e n
	mkdir -p "$d"
	cd "$d" || return 1
	for f in alice bob carol; do
		install -m 600 "$BATS_TEST_DIRNAME/../vectors/keys/$f" "$d/$f"
		install -m 644 "$BATS_TEST_DIRNAME/../vectors/keys/$f.pub" "$d/$f.pub"
	done
	for s in u s; do
		for e in A256CBC-HS512 A256GCM; do
			for n in 1 2; do
				local args=(-r bob.pub --enc "$e")
				[ "$n" = 2 ] && args+=(-r carol.pub)
				[ "$s" = s ] && args+=(-s alice)
				printf '%s' "$MESSAGE" |
				    "$E2E_BIN/e2e-encrypt" "${args[@]}" > "$s-$e-$n.jwe" ||
				    return 1
			done
		done
	done
}

setup() {
	common_setup
	fixed_keys
	ENV="$BATS_FILE_TMPDIR/env"
}

# mutants ENVELOPE OUTDIR MODE [name=value...]: writes the mutants of one
# envelope and OUTDIR/manifest, one line per mutant:
#   file <TAB> key <TAB> kind <TAB> description
# key is the recipient (bob or carol) whose decryption must fail; kind is
# "crypto" (the change survives every structural check, so the refusal
# must come from the cryptography: exactly one stderr line, no hint),
# "fail" (refused, a hint may follow), or "accept" (see the top).
mutants() {
	"$PYTHON" - "$@" <<'EOF'
import base64, hashlib, hmac, json, os, re, sys
from collections import OrderedDict

ALPH = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
KEYS = ["bob", "carol"]
envfile, outdir, mode = sys.argv[1:4]
opt = dict(a.split("=", 1) for a in sys.argv[4:])
raw = open(envfile).read()
os.makedirs(outdir, exist_ok=True)
manifest = open(os.path.join(outdir, "manifest"), "w")
count = [0]

def emit(text, key, kind, desc):
    count[0] += 1
    name = "%05d.jwe" % count[0]
    with open(os.path.join(outdir, name), "w") as f:
        f.write(text)
    manifest.write("%s\t%s\t%s\t%s\n" % (name, key, kind, desc))

def b64e(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def b64d(s):
    """Strict base64url (docs/FORMAT.md), or None."""
    if len(s) % 4 == 1 or any(c not in ALPH for c in s):
        return None
    d = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    return d if b64e(d) == s else None

def strict_json(b):
    def hook(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate")
        return OrderedDict(pairs)
    return json.loads(b.decode("utf-8"), object_pairs_hook=hook)

obj = json.loads(raw, object_pairs_hook=OrderedDict)
dumps = lambda o: json.dumps(o, separators=(",", ":"))
assert dumps(obj) + "\n" == raw, "the envelope is not in the compact form"
orig_hdr = strict_json(b64d(obj["protected"]))
nrec = len(obj["recipients"])

# Where each member's value lies in the text.
regions = []
for name in ("protected", "iv", "ciphertext", "tag"):
    m = re.search('"%s":"([^"]*)"' % name, raw)
    regions.append((m.start(1), m.end(1), name, None))
recspans, kidnames = [], []
for i, m in enumerate(re.finditer(
        r'\{"header":\{"kid":"([^"]*)"\},"encrypted_key":"([^"]*)"\}', raw)):
    recspans.append((m.start(), m.end()))
    regions.append((m.start(1), m.end(1), "kid", i))
    regions.append((m.start(2), m.end(2), "encrypted_key", i))
    k = m.start() + len('{"header":{"')
    kidnames.append((k, k + 3))
assert len(recspans) == nrec

def region_of(p):
    for s, e, name, i in regions:
        if s <= p < e:
            return name, i, p - s, e - s
    # The structure's offset is its place in the whole text.
    for i, (s, e) in enumerate(recspans):
        if s <= p < e:
            return "structure", i, p, len(raw)
    return "structure", None, p, len(raw)

def kind_of(name, value):
    """crypto: the mutated member passes every structural check."""
    if name in ("iv", "tag", "ciphertext", "encrypted_key"):
        return "crypto" if b64d(value) is not None else "fail"
    if name == "protected":
        d = b64d(value)
        try:
            h = strict_json(d) if d is not None else None
        except Exception:
            h = None
        # A cek_commit that is no longer strict base64url of 32 bytes is
        # refused as malformed, with a reason (FORMAT step 7).
        if (isinstance(h, dict) and list(h) == list(orig_hdr) and
                all(h[k] == orig_hdr[k] for k in ("alg", "enc", "cty")
                    if k in orig_hdr) and
                ("cek_commit" not in h or (isinstance(h["cek_commit"], str)
                 and len(h["cek_commit"]) == 43
                 and b64d(h["cek_commit"]) is not None))):
            return "crypto"
    return "fail"

def key_for(i, p):
    return KEYS[i] if i is not None else KEYS[p % nrec]

def byte_mutants(select):
    for p, c in enumerate(raw):
        name, i, off, length = region_of(p)
        if not select(name, off, length):
            continue
        n = ALPH[(ALPH.index(c) + 1) % 64] if c in ALPH else \
            ("A" if c != "A" else "B")
        text = raw[:p] + n + raw[p + 1:]
        if name == "structure" or name == "kid" or \
                any(s <= p < e for s, e in kidnames):
            kind = "fail"
        else:
            s = [r for r in regions if r[0] <= p < r[1]][0]
            kind = kind_of(name, text[s[0]:s[1] + len(n) - 1])
        where = name + ("[%d]" % i if i is not None else "")
        emit(text, key_for(i, p), kind,
             "byte %d (%s +%d) %r->%r" % (p, where, off, c, n))

def replace_member(name, i, value):
    """The text with member name (of recipient i) set to value (text)."""
    for s, e, nm, ri in regions:
        if nm == name and ri == i:
            return raw[:s - 1] + value + raw[e + 1:]
    raise KeyError(name)

def members():
    yield "protected", None, obj["protected"]
    for i, r in enumerate(obj["recipients"]):
        yield "encrypted_key", i, r["encrypted_key"]
    for name in ("iv", "ciphertext", "tag"):
        yield name, None, obj[name]

if mode == "all":
    byte_mutants(lambda name, off, length: True)

elif mode == "members":
    # Every byte but those of the ciphertext, of which the characters of
    # the first and last two blocks and a sample in between, and of the
    # encrypted keys, of which the ends and a sample.
    # With step=N, the other bytes are sampled too: each member's first
    # and last 4 and every Nth, and every Nth of the structure (and the
    # text's first and last 4).
    step = int(opt.get("ct_step", "23"))
    ek_step = int(opt.get("ek_step", "1"))
    rest_step = int(opt.get("step", "1"))
    def select(name, off, length):
        if name == "ciphertext":
            return off < 24 or off >= length - 44 or off % step == 0
        if name == "encrypted_key":
            return off < 4 or off >= length - 4 or off % ek_step == 0
        return off < 4 or off >= length - 4 or off % rest_step == 0
    byte_mutants(select)

elif mode == "b64":
    # J10 base64url and J11 lengths, member by member.
    for name, i, v in members():
        key = KEYS[i] if i is not None else "bob"
        tag = name + ("[%d]" % i if i is not None else "")
        mid = len(v) // 2
        variants = [
            ("padding =", v + "="), ("padding ==", v + "=="),
            ("padding inside", v[:4] + "=" + v[4:]),
            ("'+' for the first character", "+" + v[1:]),
            ("'/' for the first character", "/" + v[1:]),
            ("'+' in the middle", v[:mid] + "+" + v[mid + 1:]),
            ("'/' in the middle", v[:mid] + "/" + v[mid + 1:]),
            ("standard alphabet", v.replace("-", "+").replace("_", "/")),
            ("space inside", v[:mid] + " " + v[mid:]),
            ("leading space", " " + v), ("trailing space", v + " "),
            ("escaped newline inside", v[:mid] + "\\n" + v[mid:]),
            ("escaped CR LF at the end", v + "\\r\\n"),
            ("escaped tab inside", v[:mid] + "\\t" + v[mid:]),
            ("escaped NUL inside", v[:mid] + "\\u0000" + v[mid:]),
            ("a dot inside", v[:mid] + "." + v[mid:]),
            ("empty", ""),
            ("one character less", v[:-1]),
            ("one character more", v + "A"),
            ("two characters more", v + "AA"),
            ("four characters less", v[:-4]),
        ]
        if len(v) % 4:
            # Non-zero unused bits in the last character.
            c = ALPH[ALPH.index(v[-1]) ^ 1]
            variants.append(("unused bits set", v[:-1] + c))
        d = b64d(v)
        if name != "protected":
            variants += [("one byte less", b64e(d[:-1])),
                         ("one byte more", b64e(d + b"\0"))]
        if name == "tag":
            variants += [("tag of 0 bytes", ""), ("tag of 1 byte", b64e(d[:1])),
                         ("tag halved", b64e(d[:len(d) // 2])),
                         ("tag doubled", b64e(d + d)),
                         ("tag of 64 bytes", b64e(d + bytes(64 - len(d)))),
                         ("tag of 12 bytes", b64e(d[:12])),
                         ("tag of 15 bytes", b64e(d[:15]))]
        if name == "iv":
            variants += [("IV of 0 bytes", ""), ("IV of 12 bytes", b64e(d[:12])),
                         ("IV of 16 bytes", b64e((d + bytes(16))[:16])),
                         ("IV of 32 bytes", b64e(d + d))]
        for desc, nv in variants:
            if nv == v:
                continue
            emit(replace_member(name, i, '"' + nv + '"'), key, "fail",
                 "%s: %s" % (tag, desc))
        for desc, nv in (("a number", "123"), ("null", "null"),
                         ("an array", '["' + v + '"]'),
                         ("an object", '{"v":"' + v + '"}'),
                         ("true", "true")):
            emit(replace_member(name, i, nv), key, "fail",
                 "%s: %s instead of a string" % (tag, desc))
        # A raw newline inside the string is not JSON.
        emit(replace_member(name, i, '"' + v[:mid] + "\n" + v[mid:] + '"'),
             key, "fail", "%s: raw newline inside" % tag)

elif mode == "remove":
    def without(o, path):
        o = json.loads(raw, object_pairs_hook=OrderedDict)
        t = o
        for p in path[:-1]:
            t = t[p]
        del t[path[-1]]
        return dumps(o) + "\n"
    for m in list(obj):
        emit(without(obj, [m]), "bob", "fail", "no %s" % m)
    for i in range(nrec):
        emit(without(obj, ["recipients", i, "encrypted_key"]), KEYS[i],
             "fail", "no encrypted_key in recipient %d" % i)
        emit(without(obj, ["recipients", i]), KEYS[i], "fail",
             "recipient %d removed" % i)
        # Every entry must name its key (see the top): refused.
        emit(without(obj, ["recipients", i, "header"]), KEYS[i], "fail",
             "no header in recipient %d" % i)
        emit(without(obj, ["recipients", i, "header", "kid"]), KEYS[i],
             "fail", "no kid in recipient %d" % i)
    o = json.loads(raw, object_pairs_hook=OrderedDict)
    o["recipients"] = []
    emit(dumps(o) + "\n", "bob", "fail", "empty recipients")
    emit(raw.rstrip("\n")[:-1] + "\n", "bob", "fail", "no closing brace")
    emit("", "bob", "fail", "empty input")
    emit(raw[:len(raw) // 2], "bob", "fail", "first half only")
    emit(raw.replace("\n", ""), "bob", "accept", "no final newline")

elif mode == "dup":
    # J8: raw text edits, since JSON libraries drop duplicates.
    for name in obj:
        v = dumps(obj[name])
        member = '"%s":%s' % (name, v)
        s = raw.index(member)
        e = s + len(member)
        emit(raw[:e] + "," + member + raw[e:], "bob", "fail",
             "%s twice, same value" % name)
        emit(raw[:s] + member + "," + raw[s:], "bob", "fail",
             "%s twice, before" % name)
        if isinstance(obj[name], str):
            other = '"%s":"%s"' % (name, "A" * len(obj[name]))
            emit(raw[:e] + "," + other + raw[e:], "bob", "fail",
                 "%s twice, other value after" % name)
            emit(raw[:s] + other + "," + raw[s:], "bob", "fail",
                 "%s twice, other value before" % name)
    for i, r in enumerate(obj["recipients"]):
        s, e = recspans[i]
        entry = raw[s:e]
        hdr = dumps(r["header"])
        ek = '"encrypted_key":%s' % dumps(r["encrypted_key"])
        kid = '"kid":%s' % dumps(r["header"]["kid"])
        for desc, new in (
                ("header twice", entry.replace('{"header":' + hdr,
                    '{"header":' + hdr + ',"header":' + hdr, 1)),
                ("encrypted_key twice", entry.replace(ek, ek + "," + ek, 1)),
                ("kid twice", entry.replace(kid, kid + "," + kid, 1)),
                ("alg also in the header", entry.replace(kid,
                    kid + ',"alg":"RSA-OAEP-256"', 1)),
                ("enc also in the header", entry.replace(kid,
                    kid + ',"enc":"%s"' % orig_hdr["enc"], 1)),
                ("protected names also in the header", entry.replace(kid,
                    kid + "," + dumps(orig_hdr)[1:-1], 1))):
            emit(raw[:s] + new + raw[e:], KEYS[i], "fail",
                 "recipient %d: %s" % (i, desc))
    # The same names in an "unprotected" header.
    e = raw.index('"recipients"')
    for desc, u in (("alg", {"alg": "RSA-OAEP-256"}),
                    ("enc", {"enc": orig_hdr["enc"]}),
                    ("kid", {"kid": obj["recipients"][0]["header"]["kid"]})):
        emit(raw[:e] + '"unprotected":' + dumps(u) + "," + raw[e:], "bob",
             "fail", "%s also in unprotected" % desc)

elif mode == "j14":
    # The protected member is the AAD as written: a re-serialisation with
    # the same meaning must fail, by the tag alone.
    h = orig_hdr
    for desc, text in (
            ("spaces after separators", json.dumps(h)),
            ("a space before the first member", "{ " + dumps(h)[1:]),
            ("a trailing space", dumps(h) + " "),
            ("a trailing newline", dumps(h) + "\n"),
            ("members reversed", dumps(OrderedDict(reversed(list(h.items()))))),
            ("pretty printed", json.dumps(h, indent=1)),
            ("an escaped character", dumps(h).replace("A", "\\u0041", 1))):
        emit(replace_member("protected", None, '"' + b64e(text.encode()) + '"'),
             "bob", "crypto", "protected header with " + desc)

elif mode == "retag":
    # A correct tag over a new protected header (the CEK unwrapped with
    # bob's key), so only the header checks can refuse.
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    key = serialization.load_pem_private_key(open(opt["key"], "rb").read(), None)
    cek = key.decrypt(b64d(obj["recipients"][0]["encrypted_key"]),
                      padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))
    iv, ct, tag = b64d(obj["iv"]), b64d(obj["ciphertext"]), b64d(obj["tag"])
    old_aad = obj["protected"].encode()
    if orig_hdr["enc"] == "A256GCM":
        pt = AESGCM(cek).decrypt(iv, ct + tag, old_aad)
    def sealed(hdr_text):
        P = b64e(hdr_text if isinstance(hdr_text, bytes) else hdr_text.encode())
        aad = P.encode()
        if orig_hdr["enc"] == "A256CBC-HS512":
            al = (len(aad) * 8).to_bytes(8, "big")
            t = hmac.new(cek[:32], aad + iv + ct + al, hashlib.sha512).digest()[:32]
            c = ct
        else:
            r = AESGCM(cek).encrypt(iv, pt, aad)
            c, t = r[:-16], r[-16:]
        o = json.loads(raw, object_pairs_hook=OrderedDict)
        o["protected"], o["ciphertext"], o["tag"] = P, b64e(c), b64e(t)
        return dumps(o) + "\n"
    body = dumps(orig_hdr)[1:-1]
    kid = obj["recipients"][0]["header"]["kid"]
    for kind, desc, text in (
            ("accept", "the same header (control)", dumps(orig_hdr)),
            ("accept", "spaces after separators (control)", json.dumps(orig_hdr)),
            ("accept", "members reversed (control)",
             dumps(OrderedDict(reversed(list(orig_hdr.items()))))),
            ("fail", "J8 alg twice", '{"alg":"RSA-OAEP-256",' + body + "}"),
            ("fail", "J8 enc twice", "{" + body + ',"enc":"%s"}' % orig_hdr["enc"]),
            ("fail", "J8 the whole header twice", "{" + body + "," + body + "}"),
            ("fail", "J8 kid also protected", "{" + body + ',"kid":"%s"}' % kid),
            ("fail", "J7 zip", "{" + body + ',"zip":"DEF"}'),
            ("fail", "J6 crit", "{" + body + ',"crit":["exp"],"exp":1}'),
            ("fail", "J6 empty crit", "{" + body + ',"crit":[]}'),
            ("fail", "J2 alg RSA-OAEP", dumps(OrderedDict(orig_hdr, alg="RSA-OAEP"))),
            ("fail", "J2 alg RSA1_5", dumps(OrderedDict(orig_hdr, alg="RSA1_5"))),
            ("fail", "J2 enc A128GCM", dumps(OrderedDict(orig_hdr, enc="A128GCM"))),
            ("fail", "cty JWT", dumps(OrderedDict(orig_hdr, cty="JWT"))),
            ("fail", "alg not a string", dumps(OrderedDict(orig_hdr, alg=["RSA-OAEP-256"]))),
            ("fail", "not an object", json.dumps([orig_hdr])),
            ("fail", "invalid UTF-8", dumps(orig_hdr)[:-1].encode() +
             b',"x":"\xff"}'),
            ("fail", "a NUL escape", "{" + body + ',"x":"\\u0000"}'),
            ("fail", "trailing garbage", dumps(orig_hdr) + "x")):
        emit(sealed(text), "bob", kind, desc)
else:
    sys.exit("unknown mode " + mode)
manifest.close()
EOF
}

# run_mutants DIR [extra e2e-decrypt options]: runs every mutant of DIR
# and fails listing those that were not handled as their kind requires.
# With TO_FILE=1 each is decrypted from its file to a file (-o), the path
# that streams (issue 14): a refusal must leave no file at all, not even
# a temporary one.
run_mutants() {
	local dir=$1 f key kind desc rc first n=0
	local -a errs report=()
	shift
	while IFS=$'\t' read -r f key kind desc; do
		n=$((n + 1))
		rc=0
		if [ "${TO_FILE-}" = 1 ]; then
			mkdir -p "$T/o"
			rm -f "$T/o/out"
			e2e-decrypt -i "$T/$key" "$@" -o "$T/o/out" "$dir/$f" \
			    > "$T/out" 2> "$T/err" || rc=$?
			if [ "$rc" -eq 0 ]; then
				cat "$T/o/out" >> "$T/out"
			elif [ -n "$(ls -A "$T/o")" ]; then
				report+=("$f [$key] $desc: left $(ls -A "$T/o")")
			fi
		else
			e2e-decrypt -i "$T/$key" "$@" "$dir/$f" > "$T/out" \
			    2> "$T/err" || rc=$?
		fi
		mapfile -t errs < "$T/err"
		first=${errs[0]-}
		if [ "$kind" = accept ]; then
			if [ "$rc" -ne 0 ] || [ "$(cat "$T/out")" != "$MESSAGE" ]; then
				report+=("$f [$key] $desc: expected success, got $rc: $first")
			fi
			continue
		fi
		if [ "$rc" -ne 65 ]; then
			report+=("$f [$key] $desc: exit $rc: $first")
		elif [ -s "$T/out" ]; then
			report+=("$f [$key] $desc: wrote $(wc -c < "$T/out") bytes to stdout")
		elif [ "$first" != "$CANNOT" ]; then
			report+=("$f [$key] $desc: first line: $first")
		elif [ "$kind" = crypto ] && [ "${#errs[@]}" -ne 1 ]; then
			report+=("$f [$key] $desc: a cryptographic failure with more: ${errs[1]}")
		fi
	done < "$dir/manifest"
	echo "# $n mutants of $dir, ${#report[@]} not refused as required" >&3
	[ "$n" -gt 0 ] || fail "no mutants in $dir"
	if [ "${#report[@]}" -gt 0 ]; then
		printf '%s\n' "${report[@]:0:60}"
		fail "${#report[@]} of $n mutants were not refused as required"
	fi
}

# The envelopes are what they should be, and decrypt as they are.
@test "tamper: the untouched envelopes decrypt (control)" {
	local f k
	for f in "$ENV"/*.jwe; do
		for k in bob carol; do
			case "$f" in *-1.jwe) [ "$k" = carol ] && continue ;; esac
			run --separate-stderr e2e-decrypt -i "$T/$k" "$f"
			assert_success
			assert_output "$MESSAGE"
		done
		case "$f" in
		*/s-*) run --separate-stderr e2e-decrypt -i "$T/bob" \
			    --verify "$T/alice.pub" "$f"
			assert_success ;;
		esac
	done
	[ "$(ls "$ENV"/*.jwe | wc -l)" -eq 8 ]
}

@test "tamper: every byte of a signed A256CBC-HS512 envelope for two recipients" {
	mutants "$ENV/s-A256CBC-HS512-2.jwe" m all
	run_mutants m --verify "$T/alice.pub"
}

@test "tamper: every byte of protected, kids, encrypted_keys, iv, tag, names and structure of the other envelopes" {
	local e
	# Sampled where every byte costs an RSA decryption (the time budget):
	# each encrypted_key's first and last 4 characters and every 16th,
	# the ciphertext's first 24 and last 44 characters and every 97th.
	for e in u-A256CBC-HS512-1 u-A256CBC-HS512-2 u-A256GCM-1 u-A256GCM-2 \
	    s-A256CBC-HS512-1 s-A256GCM-1 s-A256GCM-2; do
		mutants "$ENV/$e.jwe" "m-$e" members ek_step=16 ct_step=97
		run_mutants "m-$e"
	done
}

@test "tamper: J10 J11 base64url and length mutations of every member" {
	local e
	for e in s-A256CBC-HS512-2 u-A256GCM-1 s-A256GCM-2; do
		mutants "$ENV/$e.jwe" "m-$e" b64
		run_mutants "m-$e"
	done
}

@test "tamper: file to file (the streaming reader, issue 14): J10 J11 base64url and length mutations, members removed, J8 duplicates, sampled bytes, signed and not" {
	# Signed envelopes stream too (their JWS is checked in the output's
	# temporary file): half the samples are of signed ones, with
	# --verify, so that the time stays that of the unsigned ones alone.
	mutants "$ENV/u-A256GCM-1.jwe" f-u b64
	TO_FILE=1 run_mutants f-u
	mutants "$ENV/s-A256CBC-HS512-1.jwe" f-s b64
	TO_FILE=1 run_mutants f-s --verify "$T/alice.pub"
	mutants "$ENV/s-A256CBC-HS512-2.jwe" r remove
	TO_FILE=1 run_mutants r --verify "$T/alice.pub"
	mutants "$ENV/u-A256GCM-1.jwe" d dup
	TO_FILE=1 run_mutants d
	mutants "$ENV/u-A256CBC-HS512-2.jwe" s-u members ek_step=128 \
	    ct_step=11 step=3
	TO_FILE=1 run_mutants s-u
	mutants "$ENV/s-A256GCM-2.jwe" s-s members ek_step=128 ct_step=11 \
	    step=4
	TO_FILE=1 run_mutants s-s --verify "$T/alice.pub"
}

@test "tamper: each required member removed" {
	local e
	for e in s-A256CBC-HS512-2 u-A256GCM-1 u-A256CBC-HS512-1; do
		mutants "$ENV/$e.jwe" "m-$e" remove
		run_mutants "m-$e"
	done
}

@test "tamper: J8 duplicate members at every level, and names in two header sets" {
	local e
	for e in s-A256CBC-HS512-2 u-A256GCM-1; do
		mutants "$ENV/$e.jwe" "m-$e" dup
		run_mutants "m-$e"
	done
}

@test "tamper: J14 the protected header re-serialised with the same meaning fails" {
	local e
	for e in s-A256CBC-HS512-1 u-A256GCM-2; do
		mutants "$ENV/$e.jwe" "m-$e" j14
		run_mutants "m-$e"
	done
}

@test "tamper: J8 J6 J7 J2 header refusals with a correct tag (re-sealed CEK)" {
	local e
	for e in u-A256CBC-HS512-1 s-A256GCM-2; do
		mutants "$ENV/$e.jwe" "m-$e" retag key="$T/bob"
		run_mutants "m-$e"
	done
}
