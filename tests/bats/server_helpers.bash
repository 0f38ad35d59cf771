# Shared by the bats files that need a real e2e-server: start one on a free
# loopback port with a fresh database (for a test, or for a whole file),
# stop it, start it again; talk to it with curl; look into its database;
# and fake servers in Python on free ports. Load after helpers.bash.

# shellcheck disable=SC2034  # for the .bats files
JSON='Content-Type: application/json'

# Starts e2e-server (extra arguments are passed on) with bcrypt cost 4 and
# a database in $T, on a free_port of 127.0.0.1 (tried again on another
# when a test running alongside took it first) unless the test gives
# --listen ([::1]:0, say); sets SERVER_PID, PORT, URL, SERVER_DB,
# SERVER_LOG.
# The route tests sign up with short passwords ("pw-alice"): the minimum
# length is 1 unless the test chooses one (the default of 10 has its own
# tests in server_accounts.bats). A test that wants the server's own
# default of --bcrypt-cost or --min-password names the option in
# SERVER_OWN_DEFAULTS.
start_server() {
	SERVER_DB=${SERVER_DB:-$T/server.db}
	SERVER_LOG=$T/server.log
	: > "$T/server.port"
	# bcrypt cost 4 for speed, unless the test chose one.
	local cost=(--bcrypt-cost 4) minpw=(--min-password 1)
	local listen=(--listen 127.0.0.1:0) host=127.0.0.1 a prev= try
	for a in "$@" ${SERVER_OWN_DEFAULTS:-}; do
		[ "$a" = --bcrypt-cost ] && cost=()
		[ "$a" = --min-password ] && minpw=()
		if [ "$prev" = --listen ]; then
			listen=()
			host=${a%:*}
		fi
		prev=$a
	done
	local db
	db=$(db_url "$SERVER_DB") || return 1
	for try in 1 2 3; do
		[ ${#listen[@]} -eq 0 ] ||
		    listen=(--listen "127.0.0.1:$(free_port)")
		e2e-server "${listen[@]}" --db "$db" "${cost[@]}" \
		    "${minpw[@]}" "$@" > "$T/server.port" 2>> "$SERVER_LOG" &
		SERVER_PID=$!
		if PORT=$(wait_for_port_file "$SERVER_PID" "$T/server.port" \
		    e2e-server); then
			URL="http://$host:$PORT"
			return 0
		fi
		wait "$SERVER_PID" 2>/dev/null
		[ ${#listen[@]} -gt 0 ] &&
		    tail -n 1 "$SERVER_LOG" | grep -q 'in use' || break
	done
	echo "e2e-server's log:" >&2
	cat "$SERVER_LOG" >&2
	return 1
}

# restart_server [ARGS]: starts e2e-server again on the same $PORT with
# the same database (after stop_server), and waits until it listens.
restart_server() {
	start_server --listen "127.0.0.1:$PORT" --quiet "$@" 3>&-
}

# start_shared_server [ARGS]: in setup_file, one server for the whole
# file (its folder is the file's); each test then uses its own names.
start_shared_server() {
	local T=$BATS_FILE_TMPDIR
	start_server --quiet --signup-limit 100000 --signin-addr-limit 100000 \
	    "$@" 3>&- || return 1
	SHARED_PID=$SERVER_PID
	export SERVER_PID SHARED_PID PORT URL SERVER_DB
}

# stop_shared_server: in teardown_file, stops the file's server.
stop_shared_server() {
	local T=$BATS_FILE_TMPDIR
	stop_server
}

# start_own_server [ARGS]: a server of the test's own (fresh database in
# $T), for the tests that stop it, start it again or need other options.
start_own_server() {
	SERVER_DB=$T/server.db
	start_server --quiet "$@" 3>&-
}

# stop_own_server: in teardown, stops a server the test started itself
# (never the file's shared one) and the test's background processes.
stop_own_server() {
	if [ -n "${SERVER_PID:-}" ] && [ "$SERVER_PID" != "${SHARED_PID:-}" ]
	then
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	SERVER_PID=${SHARED_PID:-}
	kill_bg
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
	if [ "$rc" -ne 0 ] && [ -s "${SERVER_LOG:-}" ]; then
		echo "e2e-server exited $rc; the end of its log:" >&2
		tail -n 20 "$SERVER_LOG" >&2
	fi
	return "$rc"
}

# Kills the server hard (for durability tests).
kill_server() {
	[ -n "${SERVER_PID:-}" ] || return 0
	kill -KILL "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

# kill_bg: kills (SIGKILL) and reaps each process a test put in BG_PIDS.
kill_bg() {
	local p
	for p in ${BG_PIDS:-}; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	BG_PIDS=
	true
}

# The server still answers, and its process is alive.
assert_serving() {
	kill -0 "$SERVER_PID"
	api GET /healthz
	assert_equal "$status_code" 200
}

# ---- HTTP ----

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
	api POST /users/signup -H "$JSON" \
	    -d "{\"name\":\"$1\",\"password\":\"$2\"}"
	[ "$status_code" = 200 ] || {
		echo "signup $1: $status_code $body" >&2
		return 1
	}
	user_id=$(json_get 'd["id"]')
}

# signin NAME PASSWORD: sets $token.
signin() {
	api POST /users/signin -H "$JSON" \
	    -d "{\"name\":\"$1\",\"password\":\"$2\"}"
	[ "$status_code" = 200 ] || {
		echo "signin $1: $status_code $body" >&2
		return 1
	}
	token=$(json_get 'd["token"]')
}

# api_user NAME [PASSWORD]: signs NAME up and in (password "pw of
# NAME" unless given); sets $user_id and $token.
api_user() {
	signup "$1" "${2:-pw of $1}" && signin "$1" "${2:-pw of $1}"
}

# api_send TOKEN TO MESSAGE [curl arguments]: one send, as e2e-send
# authenticates (Authorization: Bearer); sets $status_code and $body,
# the answer's headers in $T/hdr.
api_send() {
	local tok=$1 to=$2 msg=$3
	shift 3
	api POST /messages -H "Authorization: Bearer $tok" -H "$JSON" \
	    -d "{\"to\":\"$to\",\"message\":\"$msg\"}" -D "$T/hdr" "$@"
}

# error_is TEXT: the answer ($body) is {"error": TEXT} exactly.
error_is() {
	local got
	got=$(printf '%s' "$body" | pyj 'd["error"]')
	[ "$got" = "$1" ] || {
		echo "error: $got" >&2
		echo "want:  $1" >&2
		return 1
	}
}

# hdr NAME: the value of header NAME of the last answer fetched with
# -D "$T/hdr" (its last occurrence: the final answer's).
hdr() {
	tr -d '\r' < "$T/hdr" | sed -n "s/^$1:[[:space:]]*//Ip" | tail -n 1
}

# ---- the database ----
#
# SQLite by default. When E2E_TEST_PG_URL names a PostgreSQL cluster's
# database (make check-pg: tests/bats/run-pg.sh), every server a test
# starts gets a database of its own in that cluster instead: the same
# files test both backends.

# on_pg: the tests run against PostgreSQL.
on_pg() {
	[ -n "${E2E_TEST_PG_URL:-}" ]
}

# sqlite_only WHY: skips the test on PostgreSQL, saying why (a test of
# SQLite's file itself); its PostgreSQL counterpart, where the behaviour
# matters, is named in WHY.
sqlite_only() {
	if on_pg; then
		skip "SQLite only: $1"
	fi
}

# db_url PATH: the --db that PATH stands for. On SQLite, PATH. On
# PostgreSQL, the URL of a database of the cluster named after PATH,
# created at its first use: the same PATH (a restarted server) finds the
# same data, another PATH (another test) a fresh database.
db_url() {
	local path=$1
	if ! on_pg || [[ "$path" == postgres* ]]; then
		echo "$path"
		return 0
	fi
	"$BATS_TEST_DIRNAME/../pg-db" "$E2E_TEST_PG_URL" \
	    "t_$(printf '%s' "$path" | md5sum | cut -c1-24)"
}

# db_query SQL [PATH]: runs SQL on the server's database (or PATH's),
# also while the server runs; rows one a line, columns joined by "|",
# as sqlite3 and psql -At both print them.
db_query() {
	local path=${2:-$SERVER_DB}
	if on_pg; then
		psql -X -q -At -v ON_ERROR_STOP=1 -d "$(db_url "$path")" \
		    -c "$1"
	else
		sqlite3 -cmd ".timeout 5000" "$path" "$1"
	fi
}

# db_hex COLUMN: SQL for a blob column's bytes in upper-case hex.
db_hex() {
	if on_pg; then
		echo "upper(encode($1, 'hex'))"
	else
		echo "hex($1)"
	fi
}

# db_copy_users FROM TO: copies the users of database FROM into TO.
db_copy_users() {
	if on_pg; then
		db_query "COPY users TO STDOUT" "$1" |
		    psql -X -q -d "$(db_url "$2")" -c "COPY users FROM STDIN"
	else
		sqlite3 "$2" "ATTACH '$1' AS a; INSERT INTO users SELECT * FROM a.users;"
	fi
}

# db_intact: prints "ok" when the server's database is whole: SQLite's
# integrity check; on PostgreSQL (which checks its pages itself), every
# table of the server's read through.
db_intact() {
	if on_pg; then
		db_query "SELECT 'ok' FROM (SELECT (SELECT count(*) FROM users) +
		    (SELECT count(*) FROM messages) + (SELECT count(*) FROM keys) +
		    (SELECT count(*) FROM meta) +
		    (SELECT count(*) FROM quarantine) +
		    (SELECT count(*) FROM limits) +
		    (SELECT count(*) FROM prekeys) AS n) t WHERE n >= 0"
	else
		db_query 'PRAGMA integrity_check;'
	fi
}

# db_tables: the server's tables (not the schema's version), by name.
db_tables() {
	if on_pg; then
		db_query "SELECT tablename FROM pg_tables WHERE schemaname =
		    'public' AND tablename <> 'e2e_schema' ORDER BY tablename"
	else
		db_query "SELECT name FROM sqlite_master WHERE type = 'table'
		    ORDER BY name;"
	fi
}

# undo_schema_6: takes from the server's database what schema 6 added
# (each mailbox's counters on its owner's row, and the triggers keeping
# them), as the server of schema 5 left it; the version is the caller's.
undo_schema_6() {
	if on_pg; then
		db_query 'DROP TRIGGER messages_in ON messages;
		    DROP TRIGGER messages_out ON messages;
		    DROP FUNCTION e2e_mailbox_in(); DROP FUNCTION e2e_mailbox_out();
		    ALTER TABLE users DROP COLUMN msg_count, DROP COLUMN msg_bytes'
	else
		db_query 'DROP TRIGGER messages_in; DROP TRIGGER messages_out;
		    ALTER TABLE users DROP COLUMN msg_count;
		    ALTER TABLE users DROP COLUMN msg_bytes;'
	fi
}

# mailbox_counts: each account's name, its mailbox's counters and what
# they count (its messages' count and bytes), one line an account.
mailbox_counts() {
	db_query "SELECT u.name, u.msg_count, u.msg_bytes, (SELECT count(*)
	    FROM messages m WHERE m.recipient_id = u.id), (SELECT
	    coalesce(sum(length(m.body)), 0) FROM messages m WHERE
	    m.recipient_id = u.id) FROM users u ORDER BY u.name"
}

# sq SQL: db_query on the server's database.
sq() {
	db_query "$1"
}

# stored_hash NAME: the password hash stored for a user name.
stored_hash() {
	sq "SELECT hash FROM users WHERE name = '$1'"
}

# ---- fake servers ----

# start_py_server NAME SCRIPT ARGS...: the Python SCRIPT, a server that
# prints its port first, in the background; its stderr in $T/NAME.err.
# Sets PY_PID (also added to BG_PIDS) and PY_PORT.
start_py_server() {
	local name=$1
	shift
	: > "$T/$name.port"
	"$PYTHON" "$@" > "$T/$name.port" 2>> "$T/$name.err" 3>&- &
	PY_PID=$!
	BG_PIDS="${BG_PIDS:-} $PY_PID"
	PY_PORT=$(wait_for_port_file "$PY_PID" "$T/$name.port" "$name") || {
		cat "$T/$name.err" >&2
		return 1
	}
}
