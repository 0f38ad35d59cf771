# Shared by the bats files of the client tools (issue 4): users with their
# own client homes and password files, their accounts, sessions and
# messages, and a web server that is not e2e-chat's. Load after
# helpers.bash and server_helpers.bash.
# shellcheck disable=SC2034,SC2154  # variables for the .bats files; bats sets output

# test_names: N is the test's number; A, B, C and M are alice, bob, carol
# and mallory suffixed with it, so that names are unique in a file whose
# server is shared.
test_names() {
	N=$BATS_TEST_NUMBER
	A=alice$N
	B=bob$N
	C=carol$N
	M=mallory$N
}

# test_names_keys: test_names, and the committed keys of alice, bob and
# carol (fixed_keys) also under those names ($T/$A, $T/$A.pub, ...).
test_names_keys() {
	local k
	test_names
	for k in alice bob carol; do
		install -m 600 "$T/$k" "$T/${k}$N"
		install -m 644 "$T/$k.pub" "$T/${k}$N.pub"
	done
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

# password_of NAME: NAME's password, distinctive enough to grep for.
password_of() {
	printf 'pw of %s, long enough' "$1"
}

# pwfile NAME: NAME's password file $T/NAME.pw (mode 0600).
pwfile() {
	(umask 077 && printf '%s\n' "$(password_of "$1")" > "$T/$1.pw")
	printf '%s\n' "$T/$1.pw"
}

# as_user NAME: NAME's client home becomes E2E_HOME (the tools make it;
# the folder of the homes exists), and NAME's password file exists.
as_user() {
	export E2E_HOME
	E2E_HOME=$(home_of "$1")
	mkdir -p "$T/homes"
	pwfile "$1" > /dev/null
}

# account NAME [e2e-account signup options]: signs NAME up (and in) with
# e2e-account on $URL; signup's output in $T/signup-NAME.json.
account() {
	local f name=$1
	shift
	f=$(pwfile "$name")
	run_as "$name" e2e-account --server "$URL" signup "$name" \
	    --password-file "$f" "$@" > "$T/signup-$name.json" || {
		echo "signup of $name failed" >&2
		return 1
	}
}

# session_field FIELD [NAME]: a member of NAME's session file (without
# NAME, the one in $E2E_HOME).
session_field() {
	local home=${E2E_HOME:-}
	[ -z "${2:-}" ] || home=$(home_of "$2")
	jq -r --arg f "$1" '.[$f]' "$home/session"
}

# token_of NAME: the token in NAME's session file.
token_of() {
	session_field token "$1"
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

# send_as FROM TO FILE: FROM sends the envelope FILE to TO with e2e-send;
# prints the message id.
send_as() {
	run_as "$1" e2e-send --to "$2" "$3" | pyj 'd["id"]'
}

# msg_of_line N: the "message" member of line N of $output (the JSON
# lines of e2e-recv), as text: an object back to JSON, a string as is.
msg_of_line() {
	printf '%s\n' "$output" | sed -n "${1}p" |
	    jq -rc '.message | if type == "string" then . else tojson end'
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
	: > "$T/fake.log"
	start_py_server fake "$T/fake_server.py" "$1" "$T/fake.log" ||
	    return 1
	FAKE_PID=$PY_PID
	FAKE_URL=http://127.0.0.1:$PY_PORT
}
