#!/bin/sh
# Installs the Debian packages e2e-chat needs, when they are missing.
# Idempotent and quick when everything is there; when it cannot install
# (not root, no apt-get), prints the exact command to run and fails.
set -u

# Building and running the tools.
BUILD_PKGS="gcc make pkg-config libssl-dev libjansson-dev libmicrohttpd-dev
libsqlite3-dev libjwt-dev libcrypt-dev libcurl4-openssl-dev libqrencode-dev
libpng-dev scdoc libpq-dev libedit-dev"
# Tests and benchmarks only.
TEST_PKGS="bats bats-support bats-assert bats-file python3 python3-jwcrypto
python3-cryptography python3-bcrypt age hyperfine clang clang-format curl
sqlite3 wrk nginx-light microsocks zbar-tools postgresql bash-completion
man-db systemd tmux cppcheck clang-tidy valgrind parallel"

missing=
for p in $BUILD_PKGS $TEST_PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$st" in
	*"ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run: sudo $cmd" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# The package lists may be stale or absent on a fresh machine.
if ! $cmd >/tmp/e2e-deps.log 2>&1; then
	apt-get update >>/tmp/e2e-deps.log 2>&1
	if ! $cmd >>/tmp/e2e-deps.log 2>&1; then
		tail -n 20 /tmp/e2e-deps.log >&2
		echo "deps: failed; run: $cmd" >&2
		exit 1
	fi
fi
