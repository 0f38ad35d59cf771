# Shared by client_flow.bats and client_errors.bats (issue 4): users with
# their own client homes and password files, servers to start, stop and
# start again on the same port, a pseudo-terminal for the prompts, and
# small JSON and timing helpers. Load after helpers.bash and
# server_helpers.bash.

# start_shared_server [ARGS]: in setup_file, one server for the whole
# file (its folder is the file's); each test then uses its own names.
start_shared_server() {
	local T=$BATS_FILE_TMPDIR
	start_server --quiet --signup-limit 100000 --signin-addr-limit 100000 \
	    "$@" 3>&- || return 1
	SHARED_PID=$SERVER_PID
	export SERVER_PID SHARED_PID PORT URL SERVER_DB
}

# start_own_server [ARGS]: a server of the test's own (fresh database in
# $T), for the tests that stop it, start it again or need other options.
start_own_server() {
	SERVER_DB=$T/server.db
	start_server --quiet "$@" 3>&-
}

# start_fake_server MODE: a web server that is not e2e-server, on a free
# loopback port; sets FAKE_PID and FAKE_URL. Every request line goes to
# $T/fake.log. MODE: html (200, an HTML page, to every method), json
# (200, a JSON object of no e2e-chat shape), 503 (503 with a JSON error).
start_fake_server() {
	cat > "$T/fake_server.py" <<'EOF2'
import http.server, sys

mode, log = sys.argv[1], sys.argv[2]

class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        with open(log, "a") as f:
            f.write(self.command + " " + self.path + "\n")
        if mode == "html":
            code, ctype = 200, "text/html"
            body = b"<html><body>It works!</body></html>"
        elif mode == "json":
            code, ctype = 200, "application/json"
            body = b'{"hello":"world"}'
        else:
            code, ctype = 503, "application/json"
            body = b'{"error":"down for maintenance"}'
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_DELETE = answer
    def log_message(self, *a):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
EOF2
	: > "$T/fake.port"
	: > "$T/fake.log"
	"$PYTHON" "$T/fake_server.py" "$1" "$T/fake.log" > "$T/fake.port" \
	    2>> "$T/fake.err" 3>&- &
	FAKE_PID=$!
	BG_PIDS="${BG_PIDS:-} $FAKE_PID"
	local i
	for i in $(seq 1 100); do
		if [ -s "$T/fake.port" ]; then
			FAKE_URL=http://127.0.0.1:$(head -n 1 "$T/fake.port")
			return 0
		fi
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "the fake server did not start" >&2
	cat "$T/fake.err" >&2
	return 1
}

# stop_own_server: in teardown, stops a server the test started itself
# (never the file's shared one).
stop_own_server() {
	if [ -n "${SERVER_PID:-}" ] && [ "$SERVER_PID" != "${SHARED_PID:-}" ]
	then
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	SERVER_PID=${SHARED_PID:-}
	local p
	for p in ${BG_PIDS:-}; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	true
}

# restart_server [ARGS]: starts e2e-server again on the same $PORT with
# the same database (after stop_server), and waits until it listens.
restart_server() {
	: > "$T/server.port"
	e2e-server --listen "127.0.0.1:$PORT" --db "$SERVER_DB" \
	    --bcrypt-cost 4 --quiet "$@" > "$T/server.port" \
	    2>> "$T/server.log" 3>&- &
	SERVER_PID=$!
	local i
	for i in $(seq 1 200); do
		[ -s "$T/server.port" ] && return 0
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			echo "e2e-server did not start again; its log:" >&2
			cat "$T/server.log" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "e2e-server did not listen again on $PORT" >&2
	return 1
}

# free_loopback_port: a port nothing listens on (a moment ago).
free_loopback_port() {
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# home_of NAME: the client home of NAME in this test.
home_of() {
	printf '%s\n' "$T/homes/$1"
}

# run_as NAME CMD...: runs CMD with NAME's client home.
run_as() {
	local who=$1
	shift
	E2E_HOME="$T/homes/$who" "$@"
}

# pwfile NAME: NAME's password file $T/NAME.pw (mode 0600).
pwfile() {
	(umask 077 && printf 'pw of %s, long enough\n' "$1" > "$T/$1.pw")
	printf '%s\n' "$T/$1.pw"
}

# password_of NAME: the password in NAME's file.
password_of() {
	printf 'pw of %s, long enough\n' "$1"
}

# account NAME: signs NAME up (and in) with e2e-account on $URL.
account() {
	local f
	f=$(pwfile "$1")
	run_as "$1" e2e-account --server "$URL" signup "$1" --password-file "$f" \
	    > "$T/signup-$1.json" || {
		echo "signup of $1 failed" >&2
		return 1
	}
}

# token_of NAME: the token in NAME's session file.
token_of() {
	"$PYTHON" -c 'import json, sys
print(json.load(open(sys.argv[1]))["token"])' "$(home_of "$1")/session"
}

# session_set NAME KEY JSONVALUE: changes one member of NAME's session
# file in place (its mode and owner stay).
session_set() {
	"$PYTHON" -c 'import json, sys
p = sys.argv[1]
d = json.load(open(p))
d[sys.argv[2]] = json.loads(sys.argv[3])
with open(p, "r+") as f:
    f.seek(0)
    f.truncate()
    f.write(json.dumps(d))' "$(home_of "$1")/session" "$2" "$3"
}

# envelope FROM TO TEXT: a signed envelope from FROM's key to TO's public
# key (the committed keys), on stdout.
envelope() {
	printf '%s\n' "$3" | e2e-encrypt -r "$T/$2.pub" -s "$T/$1"
}

# send FROM TO TEXT: FROM sends a signed envelope to TO; the message id
# in $T/last.id.
send() {
	local out
	out=$(envelope "$@" | run_as "$1" e2e-send --to "$2") || {
		echo "sending from $1 to $2 failed" >&2
		return 1
	}
	printf '%s' "$out" | pyj 'd["id"]' > "$T/last.id"
}

# pyj EXPR: evaluates EXPR on the JSON document read from stdin (d).
pyj() {
	"$PYTHON" -c 'import json, sys, time
d = json.load(sys.stdin)
r = eval(sys.argv[1])
print(json.dumps(r) if not isinstance(r, str) else r)' "$1"
}

# pyl EXPR: evaluates EXPR on the JSON lines read from stdin (L, a list);
# fails when a line is not one JSON object.
pyl() {
	"$PYTHON" -c 'import json, sys, time
L = [json.loads(x) for x in sys.stdin.read().splitlines()]
assert all(isinstance(x, dict) for x in L), "a line is not an object"
r = eval(sys.argv[1])
print(json.dumps(r) if not isinstance(r, str) else r)' "$1"
}

# pycheck CODE ARGS...: runs the Python CODE (dedented, so it may be
# indented with the test) with ARGS in sys.argv[1:]; json, os, sys and
# time are imported, j(PATH) reads a JSON file and jl(PATH) a file of
# JSON lines. A failed assert fails the command.
pycheck() {
	"$PYTHON" -c 'import json, os, sys, textwrap, time
def j(p):
    return json.load(open(p))
def jl(p):
    return [json.loads(x) for x in open(p).read().splitlines()]
sys.argv = sys.argv[1:]
exec(compile(textwrap.dedent(sys.argv[0]), "check", "exec"))' "$@"
}

# now_ms: milliseconds since the epoch.
now_ms() {
	local t=${EPOCHREALTIME/./}
	printf '%s\n' "$((t / 1000))"
}

# client_error TOOL STATUS WORDS: after `run --separate-stderr`, the exit
# status is STATUS, stdout is empty, and stderr is exactly one
# "TOOL: error: ..." line, matching the extended regex WORDS (case
# folded), followed only by hint or warning lines.
client_error() {
	local tool=$1 want=$2 words=$3 first
	if [ "$status" -ne "$want" ]; then
		echo "expected exit $want, got $status; stderr: $stderr" >&2
		return 1
	fi
	if [ -n "$output" ]; then
		echo "stdout not empty: $output" >&2
		return 1
	fi
	first=$(printf '%s\n' "$stderr" | head -n 1)
	if [[ "$first" != "$tool: error: "* ]]; then
		echo "first stderr line is not '$tool: error: ...': $stderr" >&2
		return 1
	fi
	if ! printf '%s\n' "$first" | grep -qiE -- "$words"; then
		echo "first stderr line does not match '$words': $first" >&2
		return 1
	fi
	if printf '%s\n' "$stderr" | tail -n +2 |
	    grep -vqE "^$tool: (hint|warning): "; then
		echo "stderr has more than one error line: $stderr" >&2
		return 1
	fi
}

# stderr_has REGEX: some stderr line matches the extended REGEX.
stderr_has() {
	printf '%s\n' "$stderr" | grep -qE -- "$1" || {
		echo "no stderr line matches '$1': $stderr" >&2
		return 1
	}
}

# not CMD...: succeeds when CMD fails. Unlike "! CMD", a failure stops
# the test (bash's errexit ignores a command negated with !).
not() {
	! "$@"
}

# no_tty CMD...: runs CMD in a new session without a controlling
# terminal, so that it cannot ask anything even when bats has one.
no_tty() {
	setsid -w "$@"
}

# with_tty ANSWERS CMD...: runs CMD with a pseudo-terminal as its
# controlling terminal (stdin, stdout and stderr stay as they are). Each
# line of ANSWERS is typed once the terminal shows a prompt (a text
# ending in ": "). What the terminal showed goes to $T/tty.log.
with_tty() {
	local answers=$1
	shift
	cat > "$T/pty_drive.py" <<'EOF2'
import fcntl, os, select, subprocess, sys, termios, time, pty

answers = sys.argv[1].split("\n") if sys.argv[1] else []
log = open(sys.argv[2], "wb")
master, slave = pty.openpty()

def ctty():
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

p = subprocess.Popen(sys.argv[3:], preexec_fn=ctty, pass_fds=(slave,))
os.close(slave)
seen = b""
deadline = time.time() + 30
while time.time() < deadline:
    r, _, _ = select.select([master], [], [], 0.1)
    if r:
        try:
            data = os.read(master, 4096)
        except OSError:
            data = b""
        if not data:
            break
        log.write(data)
        log.flush()
        seen += data
        if seen.endswith(b": "):
            if answers:
                os.write(master, answers.pop(0).encode() + b"\n")
            seen = b""
    elif p.poll() is not None:
        break
try:
    rc = p.wait(timeout=max(1, deadline - time.time()))
except subprocess.TimeoutExpired:
    p.kill()
    rc = 124
sys.exit(rc)
EOF2
	"$PYTHON" "$T/pty_drive.py" "$answers" "$T/tty.log" "$@"
}
