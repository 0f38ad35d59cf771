#!/usr/bin/env bash
# The main job, end to end, on this machine: a local e2e-server on a
# throwaway SQLite database, two users with keys, signed and encrypted
# messages both ways, what the server stored beside what each user reads.
# The users write to each other by name (keys from the server's
# directory, pinned on first use), so each signature names its sender and
# its recipient, and each reader sees the partner's message verified.
# Run by `make demo` (E2E_BIN names the tools' folder); exits non-zero if
# any step fails or a message does not come back as it was sent.
set -euo pipefail

BIN=${E2E_BIN:-$(cd "$(dirname "$0")/.." && pwd)/bin}
export PATH="$BIN:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/e2e-demo.XXXXXX")
server_pid=

cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid"
		wait "$server_pid" || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
# A folder of no files: a file named like a user would be taken for a
# key file instead of that user's name.
mkdir "$work/run"
cd "$work/run"

step() { printf '\n== %s\n' "$*"; }
# Each user has a home of their own (session, state) and a password file.
as() {
	local who=$1
	shift
	E2E_HOME="$work/$who" "$@"
}

step "starting e2e-server on a free loopback port (database $work/chat.db)"
e2e-server --listen 127.0.0.1:0 --db "$work/chat.db" \
    >"$work/port" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
	[ -s "$work/port" ] && break
	kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
	sleep 0.05
done
E2E_SERVER="http://127.0.0.1:$(head -n 1 "$work/port")"
export E2E_SERVER
echo "server: $E2E_SERVER"

for who in alice bob; do
	step "$who: key pair, account, sign-in"
	umask 077
	head -c 18 /dev/urandom | base64 >"$work/$who.password"
	e2e-keygen -o "$work/$who.key"
	as "$who" e2e-account signup "$who" \
	    --password-file "$work/$who.password" --key "$work/$who.key"
done

# Each sends the other a signed message, encrypted for the partner only,
# by name: the partner's key is fetched and pinned on first use, and the
# signature carries both names.
send() {
	local from=$1 to=$2 text=$3
	printf '%s\n' "$text" |
	    as "$from" e2e-encrypt -r "$to" -s "$work/$from.key" |
	    as "$from" e2e-send --to "$to"
}
step "alice -> bob, bob -> alice (e2e-encrypt -r NAME -s | e2e-send)"
send alice bob "Hello Bob, this is Alice. Lunch at noon?"
send bob alice "Hi Alice! Noon works. -- Bob"

step "what the server stored (it sees only ciphertext)"
# Kept aside: each message leaves the server once its reader has it.
as alice e2e-recv --peek >"$work/stored.alice"
as bob e2e-recv --peek >"$work/stored.bob"
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3 -separator ' | ' "$work/chat.db" \
	    "SELECT sender || ' -> ' || recipient, length(body) || ' bytes', substr(body, 1, 90) || '...' FROM messages ORDER BY id"
else
	cut -c 1-160 "$work/stored.alice" "$work/stored.bob"
fi

fail=0
for who in alice bob; do
	partner=$([ "$who" = alice ] && echo bob || echo alice)
	step "$who reads (e2e-recv | e2e-decrypt --verify $partner)"
	as "$who" e2e-recv |
	    as "$who" e2e-decrypt -i "$work/$who.key" --verify "$partner" |
	    tee "$work/$who.read"
	# The demo checks itself: one verified message from the partner,
	# with nothing to warn of (its names signed, for this reader).
	if ! grep -q "\"from\":\"$partner\"" "$work/$who.read" ||
	    ! grep -q '"verified":true' "$work/$who.read" ||
	    grep -q '"warning"' "$work/$who.read"; then
		echo "demo: $who did not read a verified message" >&2
		fail=1
	fi
done

step "side by side: stored by the server / read by the recipient"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
stored = {}
for who in ("alice", "bob"):
    for line in open(f"{work}/stored.{who}"):
        m = json.loads(line)
        stored[m["id"]] = m
for who in ("alice", "bob"):
    for line in open(f"{work}/{who}.read"):
        r = json.loads(line)
        s = stored.get(r["id"], {})
        env = json.dumps(s.get("message"), separators=(",", ":"))
        print(f'{r["from"]} -> {who}')
        print(f'  server: {env[:72]}... ({len(env)} bytes)')
        print(f'  {who} reads: {r.get("text", "").strip()!r}  '
              f'signed by {r["from"]}: {"verified" if r["verified"] else "NOT verified"}')
PY

step "bob deletes his account"
as bob e2e-account delete --yes --password-file "$work/bob.password"

step "stopping the server"
kill -TERM "$server_pid"
wait "$server_pid"
server_pid=
echo "done: $([ "$fail" = 0 ] && echo ok || echo FAILED)"
exit "$fail"
