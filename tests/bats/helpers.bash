# Shared set-up for the bats tests: the binaries under test, the bats
# libraries, a fresh temporary folder per test, and a few helpers.

: "${E2E_BIN:?E2E_BIN must name the folder of the binaries}"
BATS_LIB=${BATS_LIB:-/usr/lib/bats}
load "$BATS_LIB/bats-support/load"
load "$BATS_LIB/bats-assert/load"
load "$BATS_LIB/bats-file/load"

PATH="$E2E_BIN:$PATH"
export PATH
# Python with Debian's packages (jwcrypto, cryptography), whatever else
# is first on PATH.
PYTHON=${PYTHON:-/usr/bin/python3}
VECTORS="$BATS_TEST_DIRNAME/../vectors"

common_setup() {
	T="$BATS_TEST_TMPDIR"
	cd "$T" || return 1
	unset E2E_PASSPHRASE E2E_SERVER E2E_HOME XDG_CONFIG_HOME
	export HOME="$T/home"
	mkdir -p "$HOME"
}

# The committed test keys (tests/vectors/keys), private ones mode 0600.
fixed_keys() {
	local f
	for f in "$VECTORS"/keys/*; do
		case "$f" in
		*/README) ;;
		*.pub) install -m 644 "$f" "$T/" ;;
		*) install -m 600 "$f" "$T/" ;;
		esac
	done
}

# record ID FROM ENVELOPE_FILE [SENT_AT]: the line e2e-recv prints for
# that envelope: a JWE embedded as it is (a JSON object, bytes unchanged),
# anything else (the seed format) as a JSON string.
record() {
	"$PYTHON" - "$@" <<'EOF'
import json, sys
rid, frm, path = sys.argv[1:4]
sent = sys.argv[4] if len(sys.argv) > 4 else "1764380000"
env = open(path, encoding="utf-8").read().rstrip("\n")
try:
    v = json.loads(env)
    is_jwe = isinstance(v, dict) and "ciphertext" in v
except ValueError:
    is_jwe = False
msg = env if is_jwe else json.dumps(env)
sys.stdout.write('{"id":%s,"from":%s,"to":"bob","sent_at":%s,"message":%s}\n'
    % (json.dumps(rid), json.dumps(frm), sent, msg))
EOF
}
