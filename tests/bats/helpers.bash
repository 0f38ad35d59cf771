# Shared set-up for the bats tests: the binaries under test, the bats
# libraries, a fresh temporary folder per test, the committed keys, and
# the helpers every kind of test uses: how a refusal looks, key ids, JSON
# readers, time, ports, terminals. Each helper is defined once in
# tests/bats (make lint checks it); the topic files add the rest:
#   server_helpers.bash  a real e2e-server: start, stop, HTTP, database
#   client_helpers.bash  the client tools: homes, accounts, sending
#   keys_helpers.bash    keys, proofs, the key directory (issue 5)
#   net_helpers.bash     TLS in front of the server, SOCKS proxies
#   interop_helpers.bash the Python helpers of tests/interop
# shellcheck disable=SC2034,SC2154  # variables for the .bats files; bats sets status, output, stderr, lines

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
INTEROP="$BATS_TEST_DIRNAME/../interop"
# No __pycache__ in the source tree.
export PYTHONDONTWRITEBYTECODE=1

# Key ids (RFC 7638 thumbprints) of the committed keys; interop.bats
# checks them against jwcrypto's and against e2e-encrypt's output.
KID_ALICE=Y6uyIp-NFRQQmtZ9rLcfgpiPEqI5_c0iGbHeHZmM_zA
KID_BOB=sa58v0dhmhXOXVF-ddQWVzkv7VYg9_vIO6wdWcgyKrY
KID_CAROL=4djZ3eaqLNlfcJ3m8FPe0p3UVsCkjn_fYf4K3vecUPc

# The one reason given for every failure to decrypt (no oracle), and
# e2e-decrypt's line saying it.
CANNOT_WHY="cannot decrypt: the message is malformed, was altered, or is not for this key"
CANNOT="e2e-decrypt: error: $CANNOT_WHY"

common_setup() {
	T="$BATS_TEST_TMPDIR"
	cd "$T" || return 1
	unset E2E_PASSPHRASE E2E_PASSWORD E2E_SERVER E2E_HOME XDG_CONFIG_HOME
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

# ---- refusals ----

# refused STATUS WORDS: after `run --separate-stderr`, the exit status is
# STATUS, stdout is empty, and the first stderr line holds WORDS.
refused() {
	assert_equal "$status" "$1"
	assert_equal "$output" ""
	[[ "${stderr_lines[0]}" == *"$2"* ]] ||
	    fail "first stderr line: '${stderr_lines[0]}', expected '$2'"
}

# usage_refused TOOL WORDS: a usage error of TOOL: 64, nothing on
# stdout, "TOOL: error: WORDS", then the hint to run --help.
usage_refused() {
	refused 64 "$1: error: $2"
	assert_equal "${stderr_lines[1]}" "$1: hint: see $1 --help"
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

# help_and_version TOOL [CODE...]: --help prints the usage on stdout
# (exit 0, nothing on stderr) with the exit status table, a line for
# each CODE, and -h the same; --version and -V print "TOOL X.Y.Z" alone.
# Ends with the output of --help, for the tool's own checks.
help_and_version() {
	local tool=$1 opt code short
	shift
	for opt in --version -V -h --help; do
		run --separate-stderr "$tool" "$opt"
		assert_success
		assert_equal "$stderr" ""
		case $opt in
		--version | -V)
			assert_output --regexp "^$tool [0-9]+\.[0-9]+\.[0-9]+\$" ;;
		-h)
			short=$output ;;
		--help)
			assert_equal "$output" "$short"
			assert_line --index 0 --partial "usage: $tool "
			assert_line "Exit status:"
			for code in "$@"; do
				assert_line --regexp "^  $code +[A-Za-z]"
			done ;;
		esac
	done
}

# no_temp_files [DIR]: DIR (the current folder) holds no temporary file
# of an output (".NAME.XXXXXX~", lib/base/fileio.c).
no_temp_files() {
	local left
	left=$(find "${1:-.}" -maxdepth 1 -name '*~' | head -5)
	[ -z "$left" ] || fail "temporary files left: $left"
}

# ---- keys and JSON, read independently of the tools ----

# thumbprint FILE: the RFC 7638 key id of a public or private key file,
# computed by jwcrypto, not by the project's code.
thumbprint() {
	"$PYTHON" -c 'import sys
from jwcrypto import jwk
print(jwk.JWK.from_pem(open(sys.argv[1], "rb").read()).thumbprint())' "$1"
}

# pyj [--repr] EXPR: evaluates EXPR on the JSON document read from stdin
# (d, also o) and prints it: a string as it is, anything else as JSON
# (with --repr, as Python's print shows it).
pyj() {
	local repr=0
	[ "$1" != --repr ] || { repr=1; shift; }
	"$PYTHON" -c 'import json, sys, time
d = o = json.load(sys.stdin)
r = eval(sys.argv[1])
print(r if sys.argv[2] == "1" or isinstance(r, str) else json.dumps(r))' \
	    "$1" "$repr"
}

# json_get EXPR: EXPR on the JSON answer in $body (d), as Python prints
# it.
json_get() {
	printf '%s' "$body" | pyj --repr "$1"
}

# field N EXPR: EXPR evaluated on the JSON of output line N (o), as pyj
# prints it.
field() {
	printf '%s\n' "${lines[$1]}" | pyj "$2"
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

# ---- time and ports ----

# now_ms: milliseconds since the epoch.
now_ms() {
	local t=${EPOCHREALTIME/./}
	printf '%s\n' "$((t / 1000))"
}

# sanitized_build: true when the tools under test are built with a
# sanitizer (make sanitize): their memory use is the sanitizer's, not
# the product's.
sanitized_build() {
	ldd "$E2E_BIN/e2e-encrypt" 2>/dev/null | grep -q 'lib[at]san'
}

# free_port: prints a loopback TCP port that was free a moment ago (the
# callers retry when another process takes it in between). It is taken
# below the kernel's range of ephemeral ports: no connection made
# meanwhile, by this test or one running alongside (make check runs two
# files at a time), can take it as its own local port, as one did while
# a server was stopped and started again on its port.
free_port() {
	"$PYTHON" -c 'import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
ports = list(range(10000, lo)) if lo > 11000 else []
random.shuffle(ports)
for p in ports[:200] + [0]:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        print(s.getsockname()[1])
        break
    except OSError:
        pass
    finally:
        s.close()'
}

# port_open PORT: true when something accepts on 127.0.0.1:PORT.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_port PORT PID: polls every 50 ms, up to 5 s, until PORT accepts;
# fails early when PID has exited.
wait_port() {
	local i
	for i in $(seq 1 100); do
		port_open "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# wait_for_port_file PID FILE WHAT: polls every 50 ms, up to 10 s, until
# the server PID has written its port to FILE; prints the port. Fails
# when PID exits first (WHAT names it, and FILE.err, if any, is shown).
wait_for_port_file() {
	local pid=$1 file=$2 what=$3 i
	for i in $(seq 1 200); do
		if [ -s "$file" ]; then
			head -n 1 "$file"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "$what did not start" >&2
	return 1
}

# ---- terminals ----

# no_tty CMD...: runs CMD in a new session without a controlling
# terminal, so that it cannot ask anything even when bats has one.
no_tty() {
	setsid -w "$@"
}

# on_tty ANSWER... -- CMD...: runs CMD with a new terminal as its
# controlling terminal, stdin, stdout and stderr; answers each passphrase
# prompt in turn; prints what the terminal showed; exits as CMD did.
on_tty() {
	"$PYTHON" -c '
import os, pty, select, sys, time
i = sys.argv.index("--")
answers, cmd = sys.argv[1:i], sys.argv[i + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
seen, given, deadline = b"", 0, time.time() + 30
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        seen += data
    prompts = seen.count(b"Passphrase for ") + seen.count(b"Same passphrase again: ")
    if prompts > given and given < len(answers) and seen.rstrip().endswith(b":"):
        os.write(fd, answers[given].encode() + b"\n")
        given += 1
_, st = os.waitpid(pid, 0)
sys.stdout.write(seen.decode("utf-8", "replace").replace("\r\n", "\n"))
sys.exit(os.waitstatus_to_exitcode(st))
' "$@"
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
