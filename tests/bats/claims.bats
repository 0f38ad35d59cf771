#!/usr/bin/env bats
# Names in the signed claims (issue 8 item 3, and item 2's stream mode):
# e2e-encrypt signs the sender's name ("sub") and the recipients' names
# ("aud_names") with the key ids (docs/FORMAT.md section 4); e2e-decrypt
# shows a stream's message verified only when it is signed by a key
# pinned for its sender (and for nobody else, and not mine), as from
# that sender, for me (FORMAT.md section 9.2; lib/keys/trust.c); --verify
# NAME checks the signed name; --from and --as say who I am when no
# session or config does (lib/keys/myname.c).
#
# Catalogue items: I2 (surreptitious forwarding, Davis 2001: B signs
# for M and C, M forwards the envelope to C or re-encrypts the inner JWS
# for C alone), I1 (one kid under two names, or my own kid under a
# contact, in a keyring made by an older version: never verified).
#
# A test that needs a server starts its own (the committed keys are
# published by the users of several tests, and a server refuses a key
# another account holds, issue 8 item 2); each test uses its own user
# names (suffixed with the test's number), client homes and a working
# folder ($T/w) that holds no file named like a user, since a file that
# exists wins over a contact's name.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load client_helpers
load keys_helpers

setup_file() {
	file_keys mallory
}

setup() {
	common_setup
	fixed_keys
	test_names
	KD=$BATS_FILE_TMPDIR/k
	KID_MALLORY=$(thumbprint "$KD/mallory.pub")
	NONAME="the sender's name is not signed (an older version wrote the message): verified by its key only"
	NOTE_NONAME="e2e-encrypt: signing without your name, which is unknown: sign in, set name = NAME in the config file, or give --from NAME"
	mkdir -p "$T/w"
	cd "$T/w" || return 1
}

teardown() {
	stop_own_server
}

# inner KEYFILE ENVELOPE: the inner JWS header of ENVELOPE, decrypted
# with jwcrypto (an independent JOSE library) and KEYFILE: its members
# in order, as one JSON object.
inner() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import base64, json, sys
from jwcrypto import jwe, jwk
t = jwe.JWE()
t.deserialize(open(sys.argv[2]).read(),
              key=jwk.JWK.from_pem(open(sys.argv[1], "rb").read()))
h = t.payload.split(b".")[0]
print(base64.urlsafe_b64decode(h + b"=" * (-len(h) % 4)).decode())
EOF
}

# names_of KEYFILE ENVELOPE: [sub, aud_names] of the inner header ("-"
# for a member that is absent).
names_of() {
	inner "$1" "$2" | pyj '[d.get("sub", "-"), d.get("aud_names", "-")]'
}

# with_name NAME: adds "name = NAME" to NAME's client config.
with_name() {
	printf 'name = %s\n' "$1" >> "$(home_of "$1")/config"
}

# pin_twice HOME_OF NAME OTHER: the keyring of HOME_OF pins NAME's keys
# under OTHER too, as a keyring written before pinning refused that
# (issue 8) could: the JSON edited by hand.
pin_twice() {
	"$PYTHON" - "$(home_of "$1")/keyring.json" "$2" "$3" <<'EOF'
import json, os, sys
p, name, other = sys.argv[1:4]
k = json.load(open(p))
k["contacts"][other] = json.loads(json.dumps(k["contacts"][name]))
with open(p + ".tmp", "w") as f:
    json.dump(k, f)
os.chmod(p + ".tmp", 0o600)
os.rename(p + ".tmp", p)
EOF
}

# own_keyring NAME...: carol's keyring ($C's home) written by hand,
# pinning carol's own key under each NAME, as a keyring from before the
# keyring refused such pins could hold.
own_keyring() {
	(umask 077 && "$PYTHON" - "$KID_CAROL" "$T/carol.pub" "$@" \
	    > "$(home_of "$C")/keyring.json.tmp") <<'EOF'
import json, sys
kid, pem = sys.argv[1], open(sys.argv[2]).read()
print(json.dumps({"version": 1, "contacts": {name: {
    "keys": [{"kid": kid, "pem": pem, "added_at": 1764380000,
              "source": "import"}],
    "pending": [], "verified": False, "verified_at": 0,
    "signed_seen": False} for name in sys.argv[3:]}}))
EOF
	mv "$(home_of "$C")/keyring.json.tmp" "$(home_of "$C")/keyring.json"
}

# envelope_of RECORDS N: the envelope of record N (0-based) of a file of
# record lines, as its sender wrote it (compact, members in order).
envelope_of() {
	"$PYTHON" -c 'import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[int(sys.argv[2])])
print(json.dumps(r["message"], separators=(",", ":")))' "$1" "$2"
}

@test "I2 forwarding end to end: bob signs for mallory and carol; mallory forwards the envelope with e2e-send --to carol; carol's e2e-recv | e2e-decrypt shows it not verified, naming who signed it for whom; bob's own delivery verifies" {
	start_own_server
	user "$B" "$T/bob"
	user "$M" "$KD/mallory"
	user "$C" "$T/carol"
	run -0 run_as "$C" e2e-keys fetch "$B"
	run -0 run_as "$C" e2e-keys fetch "$M"
	# bob writes one signed message to mallory and carol, by name.
	run --separate-stderr run_as "$B" e2e-encrypt -r "$M" -r "$C" -o b.jwe \
	    <<< "Bob says: I approve the transfer"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	[ "$(names_of "$T/carol" b.jwe)" = "[\"$B\", [\"$M\", \"$C\"]]" ]
	send_as "$B" "$C" b.jwe > id_direct
	send_as "$B" "$M" b.jwe > /dev/null
	# mallory receives it and forwards the very same envelope to carol.
	run_as "$M" e2e-recv > minbox
	envelope_of minbox 0 > fwd.jwe
	cmp fwd.jwe b.jwe
	run_as "$M" e2e-send --to "$C" fwd.jwe | pyj 'd["id"]' > id_fwd
	# carol reads her mailbox as a user would.
	run --separate-stderr env E2E_HOME="$(home_of "$C")" bash -c \
	    'e2e-recv | tee inbox | e2e-decrypt'
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$(field 0 '[o["id"], o["from"], o["signed_by"], o["verified"], "warning" in o, o["text"]]')" = \
	    "[\"$(cat id_direct)\", \"$B\", \"$KID_BOB\", true, false, \"Bob says: I approve the transfer\\n\"]" ]
	[ "$(field 1 '[o["id"], o["from"], o["signed_by"], o["verified"], o["text"]]')" = \
	    "[\"$(cat id_fwd)\", \"$M\", \"$KID_BOB\", false, \"Bob says: I approve the transfer\\n\"]" ]
	[ "$(field 1 'o["warning"]')" = \
	    "forwarded: signed by $B for $M, $C; delivered by $M" ]
	# Read again (a saved inbox): the same answers, nothing dropped.
	run --separate-stderr run_as "$C" e2e-decrypt inbox
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(printf '%s\n' "$output" | pyl '[x["verified"] for x in L]')" = "[true, false]" ]
	# A single envelope: as mallory's it is refused; as bob's it is his,
	# for carol too.
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$M" fwd.jwe
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	stderr_has "^e2e-decrypt: error: the message is signed by key $KID_BOB, not by the key $KID_MALLORY"
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$B" fwd.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	[ "$output" = "Bob says: I approve the transfer" ]
}

@test "I2 re-encryption: mallory re-encrypts bob's inner JWS for carol alone (jwcrypto) and sends it: not verified, same warning; the same JWS delivered as from bob verifies (it was for carol)" {
	start_own_server
	user "$B" "$T/bob"
	user "$M" "$KD/mallory"
	user "$C" "$T/carol"
	run -0 run_as "$C" e2e-keys fetch "$B"
	run -0 run_as "$C" e2e-keys fetch "$M"
	echo "Bob says: I approve the transfer" |
	    run_as "$B" e2e-encrypt -r "$M" -r "$C" > b.jwe
	send_as "$B" "$M" b.jwe > /dev/null
	run_as "$M" e2e-recv > minbox
	envelope_of minbox 0 > got.jwe
	# mallory opens it with her key and puts bob's signed JWS, as it
	# is, in a new JWE for carol alone (jwcrypto, not the project's
	# code), then sends that.
	"$PYTHON" - "$KD/mallory" "$T/carol.pub" got.jwe > re.jwe <<'EOF'
import json, sys
from jwcrypto import jwe, jwk
mk = jwk.JWK.from_pem(open(sys.argv[1], "rb").read())
ck = jwk.JWK.from_pem(open(sys.argv[2], "rb").read())
t = jwe.JWE()
t.deserialize(open(sys.argv[3]).read(), key=mk)
prot = {"alg": "RSA-OAEP-256", "enc": "A256CBC-HS512", "cty": "e2e-msg+jws"}
o = jwe.JWE(t.payload, protected=json.dumps(prot, separators=(",", ":")))
o.add_recipient(ck, header=json.dumps({"kid": ck.thumbprint()}))
f = json.loads(o.serialize())
out = {"protected": f["protected"],
       "recipients": [{"header": f["header"],
                       "encrypted_key": f["encrypted_key"]}],
       "iv": f["iv"], "ciphertext": f["ciphertext"], "tag": f["tag"]}
print(json.dumps(out, separators=(",", ":")))
EOF
	[ "$(recipients_of re.jwe)" = "$KID_CAROL" ]
	# The signed header inside is bob's (his names, his jti).
	[ "$(inner "$T/carol" re.jwe)" = "$(inner "$KD/mallory" b.jwe)" ]
	local id
	id=$(send_as "$M" "$C" re.jwe)
	run_as "$C" e2e-recv > inbox
	run --separate-stderr run_as "$C" e2e-decrypt inbox
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "${#lines[@]}" -eq 1 ]
	[ "$(field 0 '[o["id"], o["from"], o["signed_by"], o["verified"], o["warning"]]')" = \
	    "[\"$id\", \"$M\", \"$KID_BOB\", false, \"forwarded: signed by $B for $M, $C; delivered by $M\"]" ]
	# The server saying bob sent it (as he did write it, for carol too):
	# verified, so the check is of the names, not of the re-encryption.
	record 01BOB "$B" re.jwe > rec
	run --separate-stderr run_as "$C" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["from"], o["verified"], "warning" in o]')" = "[\"$B\", true, false]" ]
}

@test "I2 the signed header: sub after iss, aud_names after aud (one per key, \"\" for a key file), written by e2e-encrypt and read by jwcrypto" {
	start_own_server
	user "$B" "$T/bob"
	user "$C" "$T/carol"
	run -0 run_as "$B" e2e-keys fetch "$C"
	# A contact and a key file.
	run --separate-stderr run_as "$B" e2e-encrypt -r "$C" -r "$KD/mallory.pub" \
	    -o m.jwe <<< "names"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$stderr" = "e2e-encrypt: a recipient given as a key file has no name to sign: its reader will not see the message verified (give a contact's name with -r NAME)" ]
	[ "$(inner "$T/carol" m.jwe | pyj 'list(d)')" = \
	    '["alg", "typ", "kid", "iss", "sub", "aud", "aud_names", "iat", "jti"]' ]
	[ "$(inner "$T/carol" m.jwe | pyj '[d["kid"], d["iss"], d["sub"], d["aud"], d["aud_names"]]')" = \
	    "[\"$KID_BOB\", \"$KID_BOB\", \"$B\", [\"$KID_CAROL\", \"$KID_MALLORY\"], [\"$C\", \"\"]]" ]
	# jwcrypto verifies the signature and reads the names, in order.
	"$PYTHON" "$INTEROP/jwc.py" open "$T/carol" --signer "$T/bob.pub" \
	    --sub "$B" --aud-names "$C," < m.jwe > got
	[ "$(cat got)" = "names" ]
	not "$PYTHON" "$INTEROP/jwc.py" open "$T/carol" --signer "$T/bob.pub" \
	    --sub "$C" --aud-names "$C," < m.jwe 2>/dev/null
	# A contact with two keys (two devices): its name once per key (no
	# prekeys: jwcrypto opens the entry with the identity key).
	run -0 run_as "$C" e2e-keys publish --no-prekeys "$KD/mallory"
	run -65 run_as "$B" e2e-keys fetch "$C"	# a new device: accepted
	run -0 run_as "$B" e2e-keys accept "$C"
	run --separate-stderr run_as "$B" e2e-encrypt -r "$C" -o two.jwe <<< "two"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	[ "$(names_of "$T/carol" two.jwe)" = "[\"$B\", [\"$C\", \"$C\"]]" ]
	[ "$(names_of "$KD/mallory" two.jwe)" = "[\"$B\", [\"$C\", \"$C\"]]" ]
	# --no-sign: no JWS, no names.
	echo x | run_as "$B" e2e-encrypt --no-sign -r "$C" > u.jwe
	[ "$(protected_of u.jwe)" = '{"alg":"RSA-OAEP-256","enc":"A256CBC-HS512"}' ]
}

@test "I2 jwcrypto writes the names (sub, aud_names) and e2e-decrypt reads them: --verify NAME, stream mode" {
	home_config "$C" "$T/carol"
	with_name "$C"
	run -0 run_as "$C" e2e-keys import "$B" "$T/bob.pub"
	# jwc.py names the keys by their files: "bob" and "carol".
	"$PYTHON" "$INTEROP/jwc.py" seal -r bob -r carol --sign bob --sub "$B" \
	    <<< "from jwcrypto" > j.jwe
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$B" j.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	[ "$output" = "from jwcrypto" ]
	# Stream mode: signed as bob, but for "bob" and "carol", not for
	# $C: not verified, and why.
	record 01J "$B" j.jwe > rec
	run --separate-stderr run_as "$C" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["verified"], o["warning"]]')" = \
	    "[false, \"signed by $B for bob, carol, not for you ($C): your key was given as carol's\"]" ]
	# The same with the right names: verified, no warning.
	PYTHONPATH="$INTEROP" "$PYTHON" - "$B" "$C" > ok.jwe <<'EOF'
import sys
import josecraft as jc
b, c = sys.argv[1:3]
h = jc.signed_header("bob", to=("bob", "carol"), sub=b, aud_names=[b, c])
jws = jc.make_jws(b"named\n", signer="bob", header=h)
sys.stdout.write(jc.envelope_text(jc.make_jwe(jws.encode(),
    to=("bob", "carol"), signed=True)))
EOF
	record 01K "$B" ok.jwe > rec
	run --separate-stderr run_as "$C" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["verified"], "warning" in o, o["text"]]')" = '[true, false, "named\n"]' ]
}

@test "I1/I2 a kid pinned for two names (a keyring written by hand, as an older version could) never verifies in stream mode, named or not" {
	home_config "$C" "$T/carol"
	with_name "$C"
	home_config "$B" "$T/bob"
	with_name "$B"
	run -0 run_as "$B" e2e-keys import "$C" "$T/carol.pub"
	run -0 run_as "$C" e2e-keys import "$B" "$T/bob.pub"
	pin_twice "$C" "$B" "$M"
	pycheck '
	k = j(sys.argv[1])["contacts"]
	assert k[sys.argv[2]]["keys"][0]["kid"] == k[sys.argv[3]]["keys"][0]["kid"]' \
	    "$(home_of "$C")/keyring.json" "$B" "$M"
	echo "named" | run_as "$B" e2e-encrypt -r "$C" > named.jwe
	[ "$(names_of "$T/carol" named.jwe)" = "[\"$B\", [\"$C\"]]" ]
	echo "old" | e2e-encrypt -r "$T/carol.pub" -s "$T/bob" > old.jwe 2>/dev/null
	[ "$(names_of "$T/carol" old.jwe)" = '["-", "-"]' ]
	{
		record 01A "$B" named.jwe
		record 01B "$M" named.jwe
		record 01C "$B" old.jwe
		record 01D "$M" old.jwe
	} > rec
	run --separate-stderr run_as "$C" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "${#lines[@]}" -eq 4 ]
	local i want
	want="signed by key $KID_BOB, which your keyring pins for both $B and $M: it cannot tell who signed (e2e-keys forget the wrong one)"
	for i in 0 1 2 3; do
		[ "$(field $i '[o["signed_by"], o["verified"], o["warning"]]')" = \
		    "[\"$KID_BOB\", false, \"$want\"]" ]
	done
	# Nothing was remembered as a verified signer (the seed downgrade
	# check is armed only by a verified message).
	pycheck '
	k = j(sys.argv[1])["contacts"]
	assert not k[sys.argv[2]]["signed_seen"] and not k[sys.argv[3]]["signed_seen"]' \
	    "$(home_of "$C")/keyring.json" "$B" "$M"
	# With the wrong pin gone, bob's named message (the same record,
	# read again) verifies.
	run -0 run_as "$C" e2e-keys forget "$M"
	sed -n 1p rec > rec2
	run --separate-stderr run_as "$C" e2e-decrypt rec2
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["verified"], "warning" in o]')" = "[true, false]" ]
}

@test "I1 -r NAME and --verify NAME refuse a contact whose key the keyring also pins for another name (65, both names); once the wrong pin is forgotten they work" {
	home_config "$C" "$T/carol"
	with_name "$C"
	run -0 run_as "$C" e2e-keys import "$B" "$T/bob.pub"
	pin_twice "$C" "$B" "$M"
	# An old message of bob's (no names): with the pin twice, it would
	# verify as mallory's.
	echo "old" | e2e-encrypt -r "$T/carol.pub" -s "$T/bob" > old.jwe 2>/dev/null
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$M" old.jwe
	[ "$status" -eq 65 ] || fail "$status $output $stderr"
	[ -z "$output" ]
	[ "${stderr_lines[0]}" = "e2e-decrypt: error: key $KID_BOB is pinned for both $M and $B: refusing to use it for $M" ]
	[ "${stderr_lines[1]}" = "e2e-decrypt: hint: one key is one person: compare the key ids with each of them in person (e2e-keys show NAME), then forget the wrong one: e2e-keys forget NAME" ]
	run --separate-stderr run_as "$C" e2e-encrypt -r "$B" -o x.jwe <<< "hi"
	[ "$status" -eq 65 ] || fail "$status $stderr"
	[ ! -e x.jwe ]
	[ "${stderr_lines[0]}" = "e2e-encrypt: error: key $KID_BOB is pinned for both $B and $M: refusing to use it for $B" ]
	run -0 run_as "$C" e2e-keys forget "$M"
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$B" old.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "old" ]
	run -0 run_as "$C" e2e-encrypt -r "$B" -o x.jwe <<< "hi"
}

@test "I1/I2 my own kid pinned under a contact never verifies in stream mode" {
	home_config "$C" "$T/carol"
	with_name "$C"
	# carol's keyring pins her own key as mallory's (written by hand,
	# as a keyring from before the refusals could hold), and as her own.
	own_keyring "$M" "$C"
	# e2e-keys list flags the pair on stderr (the keyring refuses to
	# make it today) and marks mallory's pin as my key.
	run -0 --separate-stderr run_as "$C" e2e-keys list
	[ "$(field 0 '[o["name"], o["keys"]]')" = "[\"$C\", [\"$KID_CAROL\"]]" ]
	[ "$(field 1 '[o["name"], o["keys"], o.get("my_key")]')" = "[\"$M\", [\"$KID_CAROL\"], true]" ]
	[[ "$stderr" == *"$M"* ]]
	# A message carol signed for herself, named and not; and an old one
	# mallory could send back to her.
	echo "mine, named" | run_as "$C" e2e-encrypt -r "$T/carol.pub" > named.jwe 2>/dev/null
	[ "$(names_of "$T/carol" named.jwe)" = "[\"$C\", [\"\"]]" ]
	echo "mine, old" | e2e-encrypt -r "$T/carol.pub" -s "$T/carol" > old.jwe 2>/dev/null
	{ record 01A "$M" named.jwe; record 01B "$M" old.jwe; } > rec
	run --separate-stderr run_as "$C" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "${#lines[@]}" -eq 2 ]
	local want="signed by your own key $KID_CAROL, which your keyring pins for $M: not verified (e2e-keys forget $M)"
	[ "$(field 0 '[o["verified"], o["warning"]]')" = "[false, \"$want\"]" ]
	[ "$(field 1 '[o["verified"], o["warning"]]')" = "[false, \"$want\"]" ]
	# Delivered as from carol herself: still not, while mallory holds
	# the pin.
	record 01C "$C" named.jwe > rec
	run --separate-stderr run_as "$C" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["verified"], o["warning"]]')" = "[false, \"$want\"]" ]
	# Pinned only under her own name: a note to herself, by name, is
	# hers (her own name is no contact).
	own_keyring "$C"
	echo "note to self" | run_as "$C" e2e-encrypt -r "$C" > self.jwe 2>/dev/null
	[ "$(names_of "$T/carol" self.jwe)" = "[\"$C\", [\"$C\"]]" ]
	record 01D "$C" self.jwe > rec
	run --separate-stderr run_as "$C" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["verified"], "warning" in o]')" = "[true, false]" ]
}

@test "I2 old messages without names: verified with the warning in stream mode (jwcrypto's too), and with --verify NAME; --verify FILE as before" {
	start_own_server
	user "$B" "$T/bob"
	user "$C" "$T/carol"
	run -0 run_as "$C" e2e-keys fetch "$B"
	# Made where no name is known: the previous version's header.
	run --separate-stderr e2e-encrypt -r "$T/carol.pub" -s "$T/bob" -o old.jwe <<< "old"
	[ "$status" -eq 0 ]
	[ "$stderr" = "$NOTE_NONAME" ]
	[ "$(inner "$T/carol" old.jwe | pyj 'list(d)')" = \
	    '["alg", "typ", "kid", "iss", "aud", "iat", "jti"]' ]
	"$PYTHON" "$INTEROP/jwc.py" seal -r carol --sign bob <<< "old jwcrypto" > oldj.jwe
	local id
	id=$(send_as "$B" "$C" old.jwe)
	run_as "$C" e2e-recv > inbox
	record 01J "$B" oldj.jwe >> inbox
	run --separate-stderr run_as "$C" e2e-decrypt inbox
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	[ "$(field 0 '[o["id"], o["verified"], o["warning"], o["text"]]')" = \
	    "[\"$id\", true, \"$NONAME\", \"old\\n\"]" ]
	[ "$(field 1 '[o["id"], o["verified"], o["warning"], o["text"]]')" = \
	    "[\"01J\", true, \"$NONAME\", \"old jwcrypto\\n\"]" ]
	# A single envelope: --verify NAME verifies the key and says the
	# name is not signed; --verify FILE says nothing, as before.
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$B" old.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$output" = "old" ]
	[ "$stderr" = "e2e-decrypt: warning: the sender's name is not signed (an older version wrote the message): its key is verified, not its name" ]
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$T/bob.pub" old.jwe
	[ "$status" -eq 0 ]
	[ "$output" = "old" ]
	[ -z "$stderr" ]
}

@test "I2 --verify NAME: a message signed as from another name is refused (65); --verify FILE warns of the name; stream mode says whose pinned key signed it as from another name" {
	home_config "$C" "$T/carol"
	with_name "$C"
	home_config "$B" "$T/bob"
	with_name "$B"
	run -0 run_as "$B" e2e-keys import "$C" "$T/carol.pub"
	# carol pinned bob's key as mallory's only (mallory published it in
	# her name, before proofs of possession).
	run -0 run_as "$C" e2e-keys import "$M" "$T/bob.pub"
	echo "from bob" | run_as "$B" e2e-encrypt -r "$C" > b.jwe
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$M" b.jwe
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	[ "$stderr" = "e2e-decrypt: error: the message is signed as from $B, not from $M as --verify says" ]
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$T/bob.pub" b.jwe
	[ "$status" -eq 0 ]
	[ "$output" = "from bob" ]
	[ "$stderr" = "e2e-decrypt: warning: the message is signed as from $B; --verify with a key file checks the key, not that name (--verify $B checks both)" ]
	# Without --verify: shown unverified, with the names it claims.
	run --separate-stderr run_as "$C" e2e-decrypt -i "$T/carol" b.jwe
	[ "$status" -eq 0 ]
	[[ "${stderr_lines[0]}" == "e2e-decrypt: signed by key $KID_BOB at "*", not verified; it says it is from $B, for $C" ]] ||
	    fail "$stderr"
	# In a stream, delivered by mallory (the key pinned for her): the
	# keyring says the key is hers, so not "signed by bob" (mallory could
	# sign as from bob with her own key); or with --verify mallory.
	record 01M "$M" b.jwe > rec
	run --separate-stderr run_as "$C" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["verified"], o["warning"]]')" = \
	    "[false, \"signed with $M's key, but it names $B as its sender (for $C)\"]" ]
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$M" rec
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	[ "$stderr" = "e2e-decrypt: error: message 01M from $M: the message is signed as from $B, not from $M as --verify says" ]
}

@test "I2 mallory signs with her own key as from bob (--from bob) and sends it to carol: not verified, and the warning says whose key signed it, never that bob signed it" {
	home_config "$C" "$T/carol"
	with_name "$C"
	home_config "$M" "$KD/mallory"
	run -0 run_as "$M" e2e-keys import "$C" "$T/carol.pub"
	run -0 run_as "$C" e2e-keys import "$M" "$KD/mallory.pub"
	run -0 run_as "$C" e2e-keys import "$B" "$T/bob.pub"
	# Her tools sign whatever name she says is hers.
	run --separate-stderr run_as "$M" e2e-encrypt --from "$B" -r "$C" \
	    -o m.jwe <<< "Bob says: I approve the transfer"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(names_of "$T/carol" m.jwe)" = "[\"$B\", [\"$C\"]]" ]
	record 01M "$M" m.jwe > rec
	run --separate-stderr run_as "$C" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["from"], o["signed_by"], o["verified"], o["warning"]]')" = \
	    "[\"$M\", \"$KID_MALLORY\", false, \"signed with $M's key, but it names $B as its sender (for $C)\"]" ]
	[[ "$output" != *"signed by $B"* ]] || fail "$output"
	# Delivered as from bob (a lying server): bob's key did not sign it.
	record 01N "$B" m.jwe > rec
	run --separate-stderr run_as "$C" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["verified"], o["warning"]]')" = \
	    "[false, \"signed with $M's key, not $B's: the server may be lying about the sender\"]" ]
}

@test "I2 --from: my name when no session or config names me; refused when it contradicts them (64, 78 for the config against the session); not a name; not signing" {
	start_own_server
	home_config "$B" "$T/bob"
	# Nothing names bob: a note, and no names signed.
	run --separate-stderr run_as "$B" e2e-encrypt -r "$T/carol.pub" -o a.jwe <<< "a"
	[ "$status" -eq 0 ]
	[ "$stderr" = "$NOTE_NONAME" ]
	[ "$(names_of "$T/carol" a.jwe)" = '["-", "-"]' ]
	# --from names him.
	run --separate-stderr run_as "$B" e2e-encrypt --from "$B" -r "$T/carol.pub" -o b.jwe <<< "b"
	[ "$status" -eq 0 ]
	[ "$(names_of "$T/carol" b.jwe)" = "[\"$B\", [\"\"]]" ]
	# Not a name; with --no-sign; twice.
	run --separate-stderr run_as "$B" e2e-encrypt --from 'bob smith' -r "$T/carol.pub" <<< "x"
	client_error e2e-encrypt 64 "--from bob smith is not a user name"
	run --separate-stderr run_as "$B" e2e-encrypt --from "$(printf 'a\033[31m')" -r "$T/carol.pub" <<< "x"
	client_error e2e-encrypt 64 "is not a user name"
	[[ "$stderr" != *$'\033'* ]]
	run --separate-stderr run_as "$B" e2e-encrypt --no-sign --from "$B" -r "$T/carol.pub" <<< "x"
	client_error e2e-encrypt 64 "--from is only used to sign"
	run --separate-stderr run_as "$B" e2e-encrypt --from "$B" --from "$B" -r "$T/carol.pub" <<< "x"
	client_error e2e-encrypt 64 "--from given more than once"
	# The config's name = NAME.
	with_name "$B"
	run --separate-stderr run_as "$B" e2e-encrypt -r "$T/carol.pub" -o c.jwe <<< "c"
	[ "$status" -eq 0 ]
	[[ "$stderr" != *"without your name"* ]]
	[ "$(names_of "$T/carol" c.jwe)" = "[\"$B\", [\"\"]]" ]
	run --separate-stderr run_as "$B" e2e-encrypt --from "$M" -r "$T/carol.pub" <<< "x"
	client_error e2e-encrypt 64 "--from $M contradicts the config file, which says you are $B"
	# Signed in: the session's name; --from must agree with it.
	user "$B" "$T/bob"
	run --separate-stderr run_as "$B" e2e-encrypt --from "$B" -r "$T/carol.pub" -o d.jwe <<< "d"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(names_of "$T/carol" d.jwe)" = "[\"$B\", [\"\"]]" ]
	run --separate-stderr run_as "$B" e2e-encrypt --from "$M" -r "$T/carol.pub" <<< "x"
	client_error e2e-encrypt 64 "--from $M contradicts the signed-in session, which says you are $B"
	stderr_has "hint: leave --from out, or sign in as $M"
	# The config naming someone else than the session: 78.
	printf 'name = %s\n' "$M" >> "$(home_of "$B")/config"
	run --separate-stderr run_as "$B" e2e-encrypt -r "$T/carol.pub" <<< "x"
	client_error e2e-encrypt 78 "the config file says name = $M, but you are signed in as $B"
	# A session others can read is not believed (a warning), and the
	# config's name is used instead.
	chmod 644 "$(home_of "$B")/session"
	run --separate-stderr run_as "$B" e2e-encrypt -r "$T/carol.pub" -o e.jwe <<< "e"
	[ "$status" -eq 0 ]
	stderr_has "^e2e-encrypt: warning: not taking your name from .*/session: other users can read it"
	[ "$(names_of "$T/carol" e.jwe)" = "[\"$M\", [\"\"]]" ]
	# A config name that is not a name: 78.
	chmod 600 "$(home_of "$B")/session"
	printf 'identity = %s\nname = a b\n' "$T/bob" > "$(home_of "$B")/config"
	run --separate-stderr run_as "$B" e2e-encrypt -r "$T/carol.pub" <<< "x"
	client_error e2e-encrypt 78 "name = a b is not a user name"
}

@test "I2 e2e-decrypt's own name: unknown, a named message is not verified (the warning says how to set it); --as NAME, the config's name; --as against the session: 64" {
	start_own_server
	user "$B" "$T/bob"
	home_config "$C" "$T/carol"
	run -0 run_as "$C" e2e-keys import "$B" "$T/bob.pub"
	run -0 run_as "$B" e2e-keys import "$C" "$T/carol.pub"
	echo "for carol" | run_as "$B" e2e-encrypt -r "$C" > m.jwe
	record 01A "$B" m.jwe > rec
	run --separate-stderr run_as "$C" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["verified"], o["warning"]]')" = \
	    "[false, \"signed by $B for $C; your own name is unknown, so it cannot be checked that it is for you (sign in, or set name = NAME in the config file, or give --as NAME)\"]" ]
	run --separate-stderr run_as "$C" e2e-decrypt --as "$C" rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["verified"], "warning" in o]')" = "[true, false]" ]
	# Another name: not for that reader.
	run --separate-stderr run_as "$C" e2e-decrypt --as "$M" rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["verified"], o["warning"]]')" = \
	    "[false, \"signed by $B for $C, not for you ($M): your key was given as $C's\"]" ]
	run --separate-stderr run_as "$C" e2e-decrypt --as 'x y' rec
	client_error e2e-decrypt 64 "--as x y is not a user name"
	with_name "$C"
	run --separate-stderr run_as "$C" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 'o["verified"]')" = "true" ]
	run --separate-stderr run_as "$C" e2e-decrypt --as "$M" rec
	client_error e2e-decrypt 64 "--as $M contradicts the config file, which says you are $C"
	# The session says who reads: --as must agree with it.
	run --separate-stderr run_as "$B" e2e-decrypt -i "$T/carol" --as "$C" rec
	client_error e2e-decrypt 64 "--as $C contradicts the signed-in session, which says you are $B"
}

@test "I2 a recipient given as a key file: \"\" in aud_names, a note, and its reader's stream does not verify the message" {
	home_config "$B" "$T/bob"
	with_name "$B"
	home_config "$C" "$T/carol"
	with_name "$C"
	run -0 run_as "$C" e2e-keys import "$B" "$T/bob.pub"
	run --separate-stderr run_as "$B" e2e-encrypt -r "$T/carol.pub" -o f.jwe <<< "by file"
	[ "$status" -eq 0 ]
	[ "$stderr" = "e2e-encrypt: a recipient given as a key file has no name to sign: its reader will not see the message verified (give a contact's name with -r NAME)" ]
	[ "$(names_of "$T/carol" f.jwe)" = "[\"$B\", [\"\"]]" ]
	record 01F "$B" f.jwe > rec
	run --separate-stderr run_as "$C" e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[ "$(field 0 '[o["verified"], o["warning"]]')" = \
	    "[false, \"signed by $B for a key file: your key, but not your name ($C), was given\"]" ]
	# A single envelope with --verify NAME only checks the sender.
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$B" f.jwe
	[ "$status" -eq 0 ]
	[ "$output" = "by file" ]
	[ -z "$stderr" ]
}

@test "I2 malformed names in the signed header are refused (65), each with its reason; a well-formed one passes" {
	home_config "$C" "$T/carol"
	with_name "$C"
	run -0 run_as "$C" e2e-keys import "$B" "$T/bob.pub"
	local what expr
	while IFS='|' read -r what expr; do
		craft_env "signed_for((\"carol\",), make_jws(b\"x\\n\", signer=\"bob\",
		    header=jc.signed_header(\"bob\", to=(\"carol\",), $expr)))" > m.jwe
		run --separate-stderr run_as "$C" e2e-decrypt --verify "$B" m.jwe
		[ "$status" -eq 65 ] || fail "$expr: $status $stderr"
		[ -z "$output" ]
		[ "$stderr" = "e2e-decrypt: error: $what" ] || fail "$expr: $stderr"
		record 01X "$B" m.jwe > rec
		run --separate-stderr run_as "$C" e2e-decrypt rec
		[ "$status" -eq 65 ]
		[ -z "$output" ]
		[ "$stderr" = "e2e-decrypt: error: message 01X from $B: $what" ] || fail "$expr: $stderr"
	done <<EOF
the signed message has no valid "sub" (the sender's name)|sub=5, aud_names=["$C"]
the signed message has no valid "sub" (the sender's name)|sub="", aud_names=["$C"]
the signed message has no valid "sub" (the sender's name)|sub="b b", aud_names=["$C"]
the signed message has no valid "sub" (the sender's name)|sub="b"*65, aud_names=["$C"]
the signed message has no valid "sub" (the sender's name)|aud_names=["$C"]
the signed message's "aud_names" is not an array as long as its "aud"|sub="$B", aud_names=False
the signed message's "aud_names" is not an array as long as its "aud"|sub="$B", aud_names="$C"
the signed message's "aud_names" is not an array as long as its "aud"|sub="$B", aud_names=[]
the signed message's "aud_names" is not an array as long as its "aud"|sub="$B", aud_names=["$C", "$C"]
the signed message's "aud_names" holds something that is not a name|sub="$B", aud_names=[None]
the signed message's "aud_names" holds something that is not a name|sub="$B", aud_names=["c/../d"]
the signed message's "aud_names" holds something that is not a name|sub="$B", aud_names=["\u00e9"]
the signed message names your key $KID_CAROL more than once in "aud"|sub="$B", aud_names=["$C", "$M"], aud=[kid(jc.public_key("carol"))] * 2
EOF
	# The crafting is right: the same with good names passes.
	craft_env "signed_for((\"carol\",), make_jws(b\"x\\n\", signer=\"bob\",
	    header=jc.signed_header(\"bob\", to=(\"carol\",), sub=\"$B\", aud_names=[\"$C\"])))" > ok.jwe
	run --separate-stderr run_as "$C" e2e-decrypt --verify "$B" ok.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$stderr" ]
	[ "$output" = "x" ]
}

# free_scanner: $T/scan.so, a free() for LD_PRELOAD that writes
# FREED-SECRET to stderr when a block it frees holds one of the byte
# strings of E2E_SCAN_HEX (hex, separated by spaces) anywhere in it.
# Skips without a C compiler, or in a sanitized build (LD_PRELOAD cannot
# come before a sanitizer's runtime). It sees the heap's blocks as they
# are freed, not the stack, nor memory still held at exit.
free_scanner() {
	command -v cc > /dev/null || skip "no C compiler"
	! sanitized_build || skip "a sanitized build"
	cat > "$T/scan.c" <<'SRC'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static void (*real_free)(void *);
static unsigned char marks[8][64];
static size_t lens[8], nmarks = (size_t)-1;
static void load(void)
{
	const char *h = getenv("E2E_SCAN_HEX");
	unsigned v;
	nmarks = 0;
	while (h != NULL && *h != '\0' && nmarks < 8) {
		while (*h == ' ')
			h++;
		lens[nmarks] = 0;
		while (h[0] != '\0' && h[0] != ' ' && lens[nmarks] < 64 &&
		    sscanf(h, "%2x", &v) == 1) {
			marks[nmarks][lens[nmarks]++] = (unsigned char)v;
			h += 2;
		}
		if (lens[nmarks] > 0)
			nmarks++;
	}
}
void free(void *p)
{
	size_t n, i;
	if (real_free == NULL)
		real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	if (nmarks == (size_t)-1)
		load();
	for (i = 0; p != NULL && i < nmarks; i++)
		if ((n = malloc_usable_size(p)) >= lens[i] &&
		    memmem(p, n, marks[i], lens[i]) != NULL) {
			(void)!write(2, "FREED-SECRET\n", 13);
			break;
		}
	real_free(p);
}
SRC
	cc -shared -fPIC -o "$T/scan.so" "$T/scan.c" -ldl || skip "cannot build a preload library"
	# It can fail: a block holding a marker, freed, is seen.
	cat > "$T/leak.c" <<'SRC'
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
	char *p = malloc(strlen(argv[1]) + 32);
	if (p == NULL)
		return 1;
	strcpy(p, "before ");
	strcat(p, argv[1]);
	free(p);
	return 0;
}
SRC
	cc -o "$T/leak" "$T/leak.c" || skip "cannot build the scanner's check"
	[ "$(E2E_SCAN_HEX="$(printf zz | xxd -p) $(printf 'x-marker-y' | xxd -p)" LD_PRELOAD="$T/scan.so" "$T/leak" x-marker-y 2>&1)" = FREED-SECRET ] ||
	    fail "the free() scanner does not see a freed marker"
}

@test "C5 the session file that e2e-encrypt and e2e-decrypt read for my name holds a token: nothing jansson frees still holds it" {
	free_scanner
	E2E_SCAN_HEX=$(printf SECRETTOKENMARKER | xxd -p -c 64)
	export E2E_SCAN_HEX
	home_config "$C" "$T/carol"
	(umask 077 && printf '{"name":"%s","token":"SECRETTOKENMARKER-%s","server":"http://127.0.0.1:9","id":"0000000000000000000000000A","expires_at":9999999999}' \
	    "$C" "$(head -c 600 /dev/zero | tr '\0' x)" > "$(home_of "$C")/session")
	run --separate-stderr env E2E_HOME="$(home_of "$C")" LD_PRELOAD="$T/scan.so" \
	    e2e-encrypt -r "$T/carol.pub" -o n.jwe <<< "note"
	[ "$status" -eq 0 ] || fail "$stderr"
	[[ "$stderr" != *FREED-SECRET* ]] || fail "$stderr"
	[ "$(names_of "$T/carol" n.jwe)" = "[\"$C\", [\"\"]]" ]
	record 01A "$C" n.jwe > rec
	run --separate-stderr env E2E_HOME="$(home_of "$C")" LD_PRELOAD="$T/scan.so" \
	    e2e-decrypt rec
	[ "$status" -eq 0 ] || fail "$stderr"
	[[ "$stderr" != *FREED-SECRET* ]] || fail "$stderr"
	[ "$(field 0 'o["text"]')" = "note" ]
}

# key_slices KEYFILE [PASSPHRASE]: hex of 32 bytes from the middle of the
# key's private exponent and of its first prime, space-separated.
key_slices() {
	"$PYTHON" -c 'import sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
k = load_pem_private_key(open(sys.argv[1], "rb").read(),
    sys.argv[2].encode() if len(sys.argv) > 2 else None).private_numbers()
d = k.d.to_bytes((k.d.bit_length() + 7) // 8, "big")
p = k.p.to_bytes((k.p.bit_length() + 7) // 8, "big")
print(d[100:132].hex(), p[40:72].hex())' "$@"
}

@test "C5 SECURITY private keys and passphrases: no block e2e-decrypt or e2e-encrypt frees holds the passphrase, the key file's text or the private key's numbers" {
	free_scanner
	printf 'correct horse\n' > pf
	chmod 600 pf
	echo 'for protected' | e2e-encrypt -r "$T/protected.pub" -o m.jwe 2>/dev/null
	echo 'for alice' | e2e-encrypt -r "$T/alice.pub" -o a.jwe 2>/dev/null
	# The protected key: its passphrase, from a file or the environment,
	# and the numbers it decrypts to.
	E2E_SCAN_HEX="$(printf 'correct horse' | xxd -p -c 64) $(key_slices "$T/protected" 'correct horse')"
	export E2E_SCAN_HEX
	run --separate-stderr env LD_PRELOAD="$T/scan.so" \
	    e2e-decrypt -i "$T/protected" --passphrase-file pf m.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	assert_output 'for protected'
	[[ "$stderr" != *FREED-SECRET* ]] || fail "$stderr"
	run --separate-stderr env LD_PRELOAD="$T/scan.so" \
	    E2E_PASSPHRASE='correct horse' e2e-decrypt -i "$T/protected" m.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	assert_output 'for protected'
	[[ "$stderr" != *FREED-SECRET* ]] || fail "$stderr"
	# Signing with it.
	run --separate-stderr env LD_PRELOAD="$T/scan.so" \
	    e2e-encrypt -r "$T/alice.pub" -s "$T/protected" --from carol \
	    --passphrase-file pf -o s.jwe <<< "signed"
	[ "$status" -eq 0 ] || fail "$stderr"
	[[ "$stderr" != *FREED-SECRET* ]] || fail "$stderr"
	# An unprotected key: a line of its PEM text, and its numbers.
	E2E_SCAN_HEX="$(sed -n 5p "$T/alice" | tr -d '\n' | xxd -p -c 64) $(key_slices "$T/alice")"
	run --separate-stderr env LD_PRELOAD="$T/scan.so" e2e-decrypt -i "$T/alice" a.jwe
	[ "$status" -eq 0 ] || fail "$stderr"
	assert_output 'for alice'
	[[ "$stderr" != *FREED-SECRET* ]] || fail "$stderr"
	run --separate-stderr env LD_PRELOAD="$T/scan.so" \
	    e2e-encrypt -r "$T/bob.pub" -s "$T/alice" --from alice -o s2.jwe <<< "signed"
	[ "$status" -eq 0 ] || fail "$stderr"
	[[ "$stderr" != *FREED-SECRET* ]] || fail "$stderr"
}

@test "C5 e2e-encrypt -s: no block it frees holds the plaintext (the signature's stream wipes what it read), short or several pieces long" {
	free_scanner
	E2E_SCAN_HEX=$(printf 'plain-marker-qqqq' | xxd -p -c 64)
	export E2E_SCAN_HEX
	for n in 2000 400000; do
		printf 'plain-marker-%s' "$(head -c "$n" /dev/zero | tr '\0' q)" \
		    > "pm$n"
		run --separate-stderr env LD_PRELOAD="$T/scan.so" \
		    e2e-encrypt -r "$T/bob.pub" -s "$T/alice" --from alice \
		    -o "pm$n.jwe" "pm$n"
		[ "$status" -eq 0 ] || fail "$n: $stderr"
		[[ "$stderr" != *FREED-SECRET* ]] || fail "$n: $stderr"
	done
}

# What the server keeps (docs/SECURITY.md, the server operator): its
# database, the database's write-ahead log and its own log, read while
# it runs and after it stops, hold neither a message's text nor a
# password; they do hold the envelope (so the search looks where the
# message is).
@test "SECURITY the server's database, its WAL and its log hold the envelope but never the message's text nor a password" {
	SERVER_DB=$T/server.db
	start_server
	user "$B" "$T/bob"
	user "$C" "$T/carol"
	run -0 run_as "$B" e2e-keys fetch "$C"
	mark="plaintext marker $RANDOM$RANDOM for the operator"
	run --separate-stderr run_as "$B" e2e-encrypt -r "$C" -o m.jwe <<< "$mark"
	[ "$status" -eq 0 ] || fail "$stderr"
	send_as "$B" "$C" m.jwe > /dev/null
	ct=$(pyj 'd["ciphertext"]' < m.jwe)
	[ ${#ct} -gt 40 ]
	look() {
		local f found=
		for f in "$SERVER_DB" "$SERVER_DB-wal" "$SERVER_LOG"; do
			[ -e "$f" ] || continue
			grep -aqF -- "$1" "$f" && found="$found $f"
		done
		printf '%s' "$found"
	}
	check() {
		[ -n "$(look "${ct:0:40}")" ] || fail "the envelope is not where the search looks"
		[ -z "$(look "$mark")" ] || fail "the text is in$(look "$mark")"
		[ -z "$(look "$(password_of "$B")")" ] || fail "bob's password is in$(look "$(password_of "$B")")"
		[ -z "$(look "$(password_of "$C")")" ] || fail "carol's password is in$(look "$(password_of "$C")")"
	}
	check
	stop_server
	check
}

@test "SECURITY T2 with --secret-file the database holds no token secret (without it, it does: a copy of the database could make tokens)" {
	head -c 48 /dev/urandom > "$T/secret"
	chmod 600 "$T/secret"
	SERVER_DB=$T/with.db
	start_server --quiet --secret-file "$T/secret"
	user "$B" "$T/bob"
	stop_server
	[ "$(sq "SELECT count(*) FROM meta WHERE key = 'jwt_secret'")" = 0 ]
	hex=$(od -An -tx1 "$T/secret" | tr -d ' \n')
	! od -An -tx1 -v "$SERVER_DB" | tr -d ' \n' | grep -qF "${hex:0:32}" || false
	SERVER_DB=$T/without.db
	start_server --quiet
	api GET /healthz
	stop_server
	[ "$(sq "SELECT count(*) FROM meta WHERE key = 'jwt_secret'")" = 1 ]
}
