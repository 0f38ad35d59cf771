# Shared by keys.bats, claims.bats and identity.bats (issues 5 and 8):
# keys made for a file, users whose client home names their key
# ("identity = PATH"), user ids, proofs of possession, the server's
# database changed behind its back (a key or a sender replaced), what an
# envelope shows without a key, and envelopes crafted with
# tests/interop/josecraft.py. Load after helpers.bash,
# server_helpers.bash and client_helpers.bash.
# shellcheck disable=SC2154  # bats sets status, output, stderr

# file_keys NAME...: in setup_file, a key pair for each NAME, made once
# for the whole file in $BATS_FILE_TMPDIR/k (KD in the tests).
file_keys() {
	local d=$BATS_FILE_TMPDIR/k k
	mkdir -p "$d"
	for k in "$@"; do
		e2e-keygen -o "$d/$k" 2>/dev/null || return 1
	done
}

# home_config NAME [KEYFILE]: NAME's client home (0700) with a config
# file (0600) naming KEYFILE as the identity, or empty.
home_config() {
	local h
	h=$(home_of "$1")
	mkdir -p "$h"
	chmod 700 "$h"
	if [ -n "${2:-}" ]; then
		printf 'identity = %s\n' "$2" > "$h/config"
	else
		: > "$h/config"
	fi
	chmod 600 "$h/config"
}

# user NAME [KEYFILE]: signs NAME up (and in) on $URL; with KEYFILE, the
# config names it as the identity and signup publishes it (--key),
# without the first batch of prekeys signup makes by default (the tests
# make prekeys when they want them), unless USER_PREKEYS=1.
user() {
	home_config "$1" "${2:-}"
	if [ -n "${2:-}" ] && [ "${USER_PREKEYS:-}" != 1 ]; then
		account "$1" --key "$2" --no-prekeys
	else
		account "$1" ${2:+--key "$2"}
	fi
}

# uid NAME: NAME's user id, from the database.
uid() {
	sq "SELECT id FROM users WHERE name = '$1'"
}

# key_proof KEYFILE ID NAME [AUD [IAT [KID]]]: a proof of possession
# (docs/KEYS.md) signed with the private KEYFILE for the account ID, NAME
# of the server AUD ($URL), made at IAT (now), proving KID (KEYFILE's);
# made here with python3-cryptography, not by the project's code.
key_proof() {
	"$PYTHON" - "$1" "$2" "$3" "${4:-$URL}" "${5:-$(date +%s)}" \
	    "${6:-$(thumbprint "$1")}" <<'EOF'
import base64, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
path, uid, name, aud, iat, kid = sys.argv[1:7]
key = serialization.load_pem_private_key(open(path, "rb").read(), None)
def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
h = b64(json.dumps({"alg": "PS256", "typ": "e2e-key-proof+jwt",
    "kid": kid}).encode())
p = b64(json.dumps({"sub": uid, "name": name, "kid": kid, "aud": aud,
    "iat": int(iat)}).encode())
sig = key.sign((h + "." + p).encode(), padding.PSS(
    mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
print(h + "." + p + "." + b64(sig))
EOF
}

# db_replace_key NAME PUBFILE: every key NAME published becomes the key
# of PUBFILE, straight in the database (a server that lies, E5), with a
# proof made by the private key beside PUBFILE: the lying server holds
# the key it swaps in, so it can prove it for anyone.
db_replace_key() {
	local kid proof
	kid=$(thumbprint "$2")
	proof=$(key_proof "${2%.pub}" "$(uid "$1")" "$1")
	sq "UPDATE keys SET kid = '$kid',
	    pem = '$(cat "$2")', proof = '$proof'
	    WHERE user_id = '$(uid "$1")'"
	[ "$(sq "SELECT kid FROM keys WHERE user_id = '$(uid "$1")'")" = \
	    "$kid" ]
}

# db_set_sender ID NAME: the message ID now claims to come from NAME
# (the stored name and the account it names: a record's from is its
# sender account's name).
db_set_sender() {
	sq "UPDATE messages SET sender = '$2',
	    sender_id = (SELECT id FROM users WHERE name = '$2')
	    WHERE id = '$1'"
	[ "$(sq "SELECT sender FROM messages WHERE id = '$1'")" = "$2" ]
}
# craft_env PYTHON_EXPR > FILE: an envelope built with josecraft (jc) from
# the committed keys of tests/vectors/keys; time, os and b64u are there.
craft_env() {
	PYTHONPATH="$INTEROP" "$PYTHON" -c '
import os, sys, time
import josecraft as jc
from josecraft import b64u, kid, make_jwe, make_jws, envelope_text
def signed_for(to, jws):
    return envelope_text(make_jwe(jws.encode(), to=to, signed=True))
sys.stdout.write(eval(sys.argv[1]))' "$1"
}

# protected_of FILE: the protected header of the envelope FILE, decoded.
protected_of() {
	"$PYTHON" -c 'import base64, json, sys
p = json.load(open(sys.argv[1]))["protected"]
print(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode())' "$1"
}

# recipients_of FILE: the recipients' kids of the envelope FILE, sorted,
# space-separated.
recipients_of() {
	"$PYTHON" -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(" ".join(sorted(r["header"]["kid"] for r in j["recipients"])))' "$1"
}

# server_stock NAME: the one-time prekeys NAME's (first) key has on the
# server (GET /prekeys with NAME's session); 0 when it has none.
server_stock() {
	run_as "$1" curl -s -S -H "Authorization: Bearer $(token_of "$1")" \
	    "$URL/prekeys" | jq -r '.keys[0].one_time // 0'
}
