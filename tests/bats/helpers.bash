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
