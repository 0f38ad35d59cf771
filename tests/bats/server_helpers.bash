# Shared by the bats files that need a real e2e-server: start one on a free
# loopback port with a fresh database, talk to it with curl, stop it.
# Load after helpers.bash.

# Starts e2e-server (extra arguments are passed on) with bcrypt cost 4 and
# a database in $T, on 127.0.0.1:0 unless the test gives --listen
# ([::1]:0, say); sets SERVER_PID, PORT, URL, SERVER_DB, SERVER_LOG.
# The route tests sign up with short passwords ("pw-alice"): the minimum
# length is 1 unless the test chooses one (the default of 10 has its own
# tests in server_accounts.bats).
start_server() {
	SERVER_DB=${SERVER_DB:-$T/server.db}
	SERVER_LOG=$T/server.log
	: > "$T/server.port"
	# bcrypt cost 4 for speed, unless the test chose one.
	local cost=(--bcrypt-cost 4) minpw=(--min-password 1)
	local listen=(--listen 127.0.0.1:0) host=127.0.0.1 a prev=
	for a in "$@"; do
		[ "$a" = --bcrypt-cost ] && cost=()
		[ "$a" = --min-password ] && minpw=()
		if [ "$prev" = --listen ]; then
			listen=()
			host=${a%:*}
		fi
		prev=$a
	done
	e2e-server "${listen[@]}" --db "$SERVER_DB" "${cost[@]}" \
	    "${minpw[@]}" "$@" > "$T/server.port" 2>> "$SERVER_LOG" &
	SERVER_PID=$!
	local i
	for i in $(seq 1 200); do
		if [ -s "$T/server.port" ]; then
			PORT=$(head -n 1 "$T/server.port")
			URL="http://$host:$PORT"
			return 0
		fi
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			echo "e2e-server exited; its log:" >&2
			cat "$SERVER_LOG" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "e2e-server did not print its port" >&2
	return 1
}

# Stops the server with SIGTERM and checks that it exits 0 in time.
stop_server() {
	[ -n "${SERVER_PID:-}" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	local rc=0 i
	# Polled every 50 ms, up to 10 s.
	for i in $(seq 1 200); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		echo "e2e-server did not exit within 10 s of SIGTERM" >&2
		kill -KILL "$SERVER_PID" 2>/dev/null
		rc=1
	fi
	wait "$SERVER_PID" || rc=$?
	SERVER_PID=
	return "$rc"
}

# Kills the server hard (for durability tests).
kill_server() {
	[ -n "${SERVER_PID:-}" ] || return 0
	kill -KILL "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

# api METHOD PATH [curl arguments...]: sets $status_code and $body.
api() {
	local method=$1 path=$2
	shift 2
	local out
	rm -f "$T/body"	# curl leaves an old one in place on a 204
	out=$(curl -s -S -o "$T/body" -w '%{http_code}' -X "$method" "$@" \
	    "$URL$path") || out=000
	status_code=$out
	body=$(cat "$T/body" 2>/dev/null || true)
}

# signup NAME PASSWORD: creates an account (JSON body); sets $user_id.
signup() {
	api POST /users/signup -H 'Content-Type: application/json' \
	    -d "{\"name\":\"$1\",\"password\":\"$2\"}"
	[ "$status_code" = 200 ] || {
		echo "signup $1: $status_code $body" >&2
		return 1
	}
	user_id=$(printf '%s' "$body" | $PYTHON -c \
	    'import json,sys; print(json.load(sys.stdin)["id"])')
}

# signin NAME PASSWORD: sets $token.
signin() {
	api POST /users/signin -H 'Content-Type: application/json' \
	    -d "{\"name\":\"$1\",\"password\":\"$2\"}"
	[ "$status_code" = 200 ] || {
		echo "signin $1: $status_code $body" >&2
		return 1
	}
	token=$(printf '%s' "$body" | $PYTHON -c \
	    'import json,sys; print(json.load(sys.stdin)["token"])')
}

# json_get FIELD: prints a field of $body (Python expression on d).
json_get() {
	printf '%s' "$body" | $PYTHON -c \
	    "import json,sys; d=json.load(sys.stdin); print($1)"
}
