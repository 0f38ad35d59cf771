#!/usr/bin/env bats
# The PostgreSQL store (issue 12): what only PostgreSQL has. A password
# in the URL is refused; a schema the server does not know is left alone;
# the database stopped and started again under a run of sends costs 503s,
# never a lost 200 or a wedged server; two servers share one database
# and its quotas. The rest of the server's suite runs against PostgreSQL
# in make check-pg (tests/bats/run-pg.sh), which runs this file last and
# alone, since it stops the cluster. Run by hand (bats pg_store.bats), it
# starts a cluster of its own. When PostgreSQL cannot start, these fail
# with the reason; they do not skip.
bats_require_minimum_version 1.5.0
load helpers
load server_helpers

PG_CLUSTER="$BATS_TEST_DIRNAME/../pg-cluster"

setup_file() {
	if [ -z "${E2E_TEST_PG_DIR:-}" ]; then
		E2E_TEST_PG_URL=$("$PG_CLUSTER" start "$BATS_FILE_TMPDIR" 3>&-) ||
		    return 1
		E2E_TEST_PG_DIR=$BATS_FILE_TMPDIR
		PG_OWN=1
		export E2E_TEST_PG_URL E2E_TEST_PG_DIR PG_OWN
	fi
}

teardown_file() {
	if [ -n "${PG_OWN:-}" ]; then
		"$PG_CLUSTER" remove "$E2E_TEST_PG_DIR"
	fi
}

setup() {
	common_setup
	on_pg || fail "no PostgreSQL cluster (E2E_TEST_PG_URL)"
}

teardown() {
	touch "$T/enough"	# a sender still running stops
	# A test that stopped the cluster leaves it running for the next.
	psql -X -q -At -d "$E2E_TEST_PG_URL" -c 'SELECT 1' >/dev/null 2>&1 ||
	    "$PG_CLUSTER" start-again "$E2E_TEST_PG_DIR" 3>&-
	[ -z "${PID_B:-}" ] || { kill -KILL "$PID_B" 2>/dev/null; wait "$PID_B" 2>/dev/null; }
	stop_own_server
}

@test "--db postgresql:// with a password in it is refused (64) with the hint, and nothing is created" {
	local fresh base query db u
	fresh=$(db_url "$T/fresh")
	base=${fresh%%\?*} query=${fresh#*\?} db=${base##*/}
	for u in "postgresql://e2e:hunter2@/$db?$query" \
	    "postgres://e2e:hunter2@/$db?$query" "$base?$query&password=hunter2"
	do
		run --separate-stderr e2e-server --listen 127.0.0.1:0 --db "$u"
		[ "$status" -eq 64 ] || fail "$u: $status $stderr"
		assert_equal "${stderr_lines[0]}" "e2e-server: error: --db: the URL holds a password, which the command line shows to every user of the machine"
		assert_equal "${stderr_lines[1]}" "e2e-server: hint: give it in the environment (PGPASSWORD) or in ~/.pgpass instead"
		# The password is said nowhere.
		[[ "$stderr" != *hunter2* ]]
	done
	run -0 psql -X -At -d "$fresh" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
	assert_output 0
	# Not a URL libpq reads: a usage error too.
	run --separate-stderr e2e-server --listen 127.0.0.1:0 --db 'postgresql://e2e@/e2e?nosuch=1'
	[ "$status" -eq 64 ] || fail "$status $stderr"
	[[ "${stderr_lines[0]}" == "e2e-server: error: --db: not a PostgreSQL URL: "* ]]
}

@test "a database that cannot be reached at start: 75 (worth retrying), one line that says why" {
	local port
	port=$(free_port)
	run --separate-stderr e2e-server --listen 127.0.0.1:0 \
	    --db "postgresql://127.0.0.1:$port/e2e"
	[ "$status" -eq 75 ] || fail "$status $stderr"
	assert_equal "${#stderr_lines[@]}" 1
	[[ "${stderr_lines[0]}" == "e2e-server: error: database: cannot connect: "*"$port"* ]] ||
	    fail "$stderr"
}

@test "the schema is made at the first start with version 6, names compare byte-wise; a later version, or tables of another program's, are refused (73) and left as they are" {
	start_own_server
	signup alice pw-alice
	signup Bob pw-bob
	stop_server
	assert_equal "$(sq 'SELECT version FROM e2e_schema')" 6
	assert_equal "$(sq "SELECT string_agg(name, ' ' ORDER BY name) FROM users")" "Bob alice"
	assert_equal "$(sq "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name' AND collation_name = 'C'")" 1
	# Started again: the schema is kept, not made twice.
	restart_server
	signin alice pw-alice
	stop_server
	sq 'UPDATE e2e_schema SET version = 7'
	local url
	url=$(db_url "$SERVER_DB")
	run --separate-stderr e2e-server --listen 127.0.0.1:0 --db "$url"
	[ "$status" -eq 73 ] || fail "$status $stderr"
	assert_equal "${stderr_lines[0]}" "e2e-server: error: the database $url has schema version 7; this server knows up to 6"
	assert_equal "$(sq 'SELECT version FROM e2e_schema')" 7
	assert_equal "$(sq 'SELECT count(*) FROM users')" 2
	# Tables of the server's names but no version: another program's.
	sq 'DROP TABLE e2e_schema'
	run --separate-stderr e2e-server --listen 127.0.0.1:0 --db "$url"
	[ "$status" -eq 73 ] || fail "$status $stderr"
	assert_equal "${stderr_lines[0]}" "e2e-server: error: the database $url holds tables of e2e-server's names but no schema version: not e2e-server's, or damaged; refused"
	assert_equal "$(sq 'SELECT count(*) FROM users')" 2
}

@test "I3 --check-names on PostgreSQL lists the look-alike names already there, and sign-up refuses more of them" {
	start_own_server
	signup alice pw-alice
	signup rn pw-rn
	stop_server
	# Look-alikes the server would refuse now, as an older one let in.
	sq "INSERT INTO users SELECT '0000000000000000000000000A', 'Alice', hash, 0, created_at, skeleton FROM users WHERE name = 'alice'"
	sq "INSERT INTO users SELECT '0000000000000000000000000B', 'm', hash, 0, created_at, skeleton FROM users WHERE name = 'rn'"
	run --separate-stderr e2e-server --db "$(db_url "$SERVER_DB")" --check-names
	[ "$status" -eq 0 ] || fail "$stderr"
	assert_output "$(printf 'Alice alice\nm rn')"
	assert_equal "${stderr_lines[-1]}" "e2e-server: 2 groups of names that look alike"
	restart_server
	api POST /users/signup -H "$JSON" -d '{"name":"ALICE","password":"pw of ALICE"}'
	assert_equal "$status_code" 409
}

# send_all FROM N TOKEN: sends "m1".."mN" to bob one after the other,
# each line of $T/sent "TEXT STATUS".
send_all() {
	local i code
	for i in $(seq 1 "$2"); do
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
		    -H "Authorization: Bearer $3" -H "$JSON" \
		    -d "{\"to\":\"bob\",\"message\":\"$1$i\"}" "$URL/messages") ||
		    code=000
		echo "$1$i $code" >> "$T/sent"
	done
}

# send_until FROM FILE TOKEN: as send_all, until FILE exists.
send_until() {
	local i=0 code
	while [ ! -e "$2" ]; do
		i=$((i + 1))
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
		    -H "Authorization: Bearer $3" -H "$JSON" \
		    -d "{\"to\":\"bob\",\"message\":\"$1$i\"}" "$URL/messages") ||
		    code=000
		echo "$1$i $code" >> "$T/sent"
	done
}

# stored: the messages in bob's mailbox, one a line, sorted.
stored() {
	sq "SELECT convert_from(body, 'UTF8') FROM messages ORDER BY 1"
}

@test "PostgreSQL stopped and started again under a run of sends: 503 with Retry-After meanwhile, /healthz not ready; every 200 stored once, the rest stored on retry; no crash" {
	# The sender meets the outage as fast as it can, and the retries
	# come in a burst: not the send rate's business here.
	start_own_server --send-rate 1000000 --send-burst 1000000
	signup bob pw-bob
	api_user alice
	: > "$T/sent"
	send_all a 40 "$token"
	send_until b "$T/enough" "$token" &
	local sender=$!
	BG_PIDS="$sender"
	sleep 0.5
	run -0 "$PG_CLUSTER" stop "$E2E_TEST_PG_DIR"
	# While it is away: not ready, and a send is told to come back.
	api GET /healthz -D "$T/hdr"
	assert_equal "$status_code" 503
	assert_equal "$body" '{"status":"not ready"}'
	api_send "$token" bob during
	assert_equal "$status_code" 503
	echo "during 503" >> "$T/sent"
	assert_equal "$body" '{"error":"the database is unavailable; try again in a moment"}'
	[ -n "$(hdr Retry-After)" ]
	kill -0 "$SERVER_PID"
	sleep 1
	run -0 "$PG_CLUSTER" start-again "$E2E_TEST_PG_DIR" 3>&-
	# Ready again within a generous bound.
	local i
	for i in $(seq 1 100); do
		api GET /healthz
		[ "$status_code" = 200 ] && break
		sleep 0.2
	done
	assert_equal "$status_code" 200
	sleep 0.5
	touch "$T/enough"
	wait "$sender"
	BG_PIDS=
	# Every answer was 200 or 503: never a 500, never a dropped one.
	run awk '$2 != 200 && $2 != 503' "$T/sent"
	assert_output ''
	grep -q ' 503$' "$T/sent" || fail "no send met the outage"
	# Each 200 is stored exactly once.
	stored > "$T/stored"
	run sh -c "awk '\$2 == 200 {print \$1}' '$T/sent' | sort | comm -23 - '$T/stored'"
	assert_output ''
	run sh -c "sort '$T/stored' | uniq -d"
	assert_output ''
	# The others succeed on retry.
	local m
	for m in $(awk '$2 == 503 {print $1}' "$T/sent"); do
		api_send "$token" bob "$m"
		assert_equal "$status_code" 200
	done
	stored > "$T/stored"
	assert_equal "$(wc -l < "$T/stored")" "$(wc -l < "$T/sent")"
	run sh -c "sort '$T/stored' | uniq -d"
	assert_output ''
	# The same process all along, and it reads as before.
	assert_serving
	signin bob pw-bob
	api GET /messages -H "Authorization: Bearer $token"
	assert_equal "$status_code" 200
	grep -q 'error: database' "$SERVER_LOG"
}

@test "A2 two servers on one database serve the same accounts; concurrent sends through both never overfill a mailbox" {
	start_own_server --mailbox-max-messages 50 --send-rate 100000 --send-burst 100000
	local url_a=$URL
	local pid_a=$SERVER_PID
	SERVER_PID=
	start_server --quiet --mailbox-max-messages 50 --send-rate 100000 \
	    --send-burst 100000 3>&-
	PID_B=$SERVER_PID
	local url_b=$URL
	SERVER_PID=$pid_a
	# Signed up through A, signed in through B.
	URL=$url_a
	signup bob pw-bob
	signup alice pw-alice
	URL=$url_b
	signin alice pw-alice
	local tok=$token
	# One send through each, then four senders, two through each
	# server, 30 messages each: 120 tries at the 48 places left.
	URL=$url_a
	api_send "$tok" bob first-a
	assert_equal "$status_code" 200
	URL=$url_b
	api_send "$tok" bob first-b
	assert_equal "$status_code" 200
	: > "$T/sent"
	local p pids=
	for p in a1 a2 b1 b2; do
		case $p in a*) URL=$url_a ;; *) URL=$url_b ;; esac
		send_all "$p-" 30 "$tok" &
		pids="$pids $!"
	done
	BG_PIDS=$pids
	for p in $pids; do
		wait "$p"
	done
	BG_PIDS=
	run awk '$2 != 200 && $2 != 507' "$T/sent"
	assert_output ''
	assert_equal "$(grep -c ' 200$' "$T/sent")" 48
	assert_equal "$(sq 'SELECT count(*) FROM messages')" 50
	URL=$url_a
	assert_serving
}

@test "A2 disk_full (53100) on PostgreSQL: sends get 507 naming the server's full disk, logged once, nothing of them stored; once writes pass again, 200 without a restart" {
	# A real full tablespace raises disk_full from inside an INSERT; here
	# a trigger raises the same SQLSTATE (cheaper than filling a disk;
	# the SQLite full disk is a real one, full_disk.bats).
	start_own_server
	api_user alice
	local ta=$token i
	api_user bob
	local tb=$token
	api_send "$ta" bob before
	assert_equal "$status_code" 200
	sq "CREATE FUNCTION e2e_full() RETURNS trigger LANGUAGE plpgsql AS
	    \$\$BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'
	    USING ERRCODE = 'disk_full'; END\$\$;
	    CREATE TRIGGER e2e_full BEFORE INSERT ON messages FOR EACH ROW
	    EXECUTE FUNCTION e2e_full();"
	for i in 1 2 3; do
		api_send "$ta" bob "refused $i"
		assert_equal "$status_code" 507
		assert_equal "$body" '{"error":"the server'"'"'s disk is full; try again later"}'
	done
	assert_serving
	run -0 grep -c 'the disk is full' "$SERVER_LOG"
	assert_output 1
	grep -qx 'e2e-server: error: database: the disk is full (storing a message: could not extend file: No space left on device): writes are refused (507) until space is freed' "$SERVER_LOG" ||
	    fail "$(cat "$SERVER_LOG")"
	sq "DROP TRIGGER e2e_full ON messages; DROP FUNCTION e2e_full();"
	api_send "$ta" bob after
	assert_equal "$status_code" 200
	run -0 grep -c 'database: writing again: the disk has room' "$SERVER_LOG"
	assert_output 1
	api GET /messages -H "Authorization: Bearer $tb"
	assert_equal "$(json_get '[m["message"] for m in d["messages"]]')" "['before', 'after']"
	assert_equal "$(sq 'SELECT count(*) FROM messages')" 2
}
