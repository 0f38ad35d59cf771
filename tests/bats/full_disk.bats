#!/usr/bin/env bats
# A full disk (issue 15). The server's SQLite database on a small tmpfs
# that fills up: sends fail with 507 and a clear error, the server logs
# it once, keeps serving reads, stores nothing it refused, corrupts
# nothing, and writes again by itself once there is room. e2e-recv
# writing to a full disk: exit 74, one line, nothing acknowledged that
# was not written, and the next run prints it.
#
# The small file systems are tmpfs mounts made here: root mounts them
# (CI runs as root); another user gets them in a user and mount
# namespace of its own (unshare -rm), and every command that needs the
# mount runs in it (in_fs). Without either the tests skip, saying why.
bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load client_helpers

setup() {
	common_setup
	SERVER_PID=
	FS_PID=
}

teardown() {
	stop_own_server
	if [ -n "$FS_PID" ]; then
		kill -KILL "$FS_PID" 2>/dev/null
		wait "$FS_PID" 2>/dev/null
	elif mountpoint -q "$T/fs" 2>/dev/null; then
		umount "$T/fs"
	fi
	true
}

# small_fs SIZE: a tmpfs of SIZE (as mount's size=) at $T/fs. As root, a
# mount; else in a namespace that a sleeping process ($FS_PID) holds.
# Skips when neither works.
small_fs() {
	mkdir -p "$T/fs"
	if [ "$(id -u)" = 0 ]; then
		mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$T/fs" ||
		    skip "root, yet cannot mount a tmpfs (a container without CAP_SYS_ADMIN?)"
		return 0
	fi
	command -v unshare >/dev/null && command -v nsenter >/dev/null ||
	    skip "not root, and no unshare or nsenter to mount a tmpfs in a namespace"
	unshare -rm sh -c 'mount -t tmpfs -o "size=$1" tmpfs "$2" &&
	    echo up > "$3" && exec sleep 100000' sh "$1" "$T/fs" "$T/fs.up" \
	    2>/dev/null &
	FS_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s "$T/fs.up" ] && break
		kill -0 "$FS_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$T/fs.up" ] ||
	    skip "not root, and unshare -rm cannot mount a tmpfs here (user namespaces disabled?)"
	# start_server runs e2e-server by name, in the background: there,
	# in the namespace (exec: $! stays the server's).
	e2e-server() {
		exec nsenter --preserve-credentials -U -m -t "$FS_PID" \
		    "$E2E_BIN/e2e-server" "$@"
	}
}

# in_fs COMMAND...: runs COMMAND where $T/fs is the small file system.
in_fs() {
	if [ -n "$FS_PID" ]; then
		nsenter --preserve-credentials -U -m -t "$FS_PID" "$@"
	else
		"$@"
	fi
}

# A message of about 48 KB, different each time (an envelope is
# base64url: the server stores it as it is).
body() {
	printf 'm%04d-' "$1"
	head -c 36000 /dev/urandom | base64 -w0 | tr '+/' '-_'
}

# send_as TOKEN TO N: sends message N; sets $status_code and $body.
send_as() {
	body "$3" > "$T/msg.$3"
	api POST /messages -H "Authorization: Bearer $1" -H "$JSON" \
	    --data-binary "{\"to\":\"$2\",\"message\":\"$(cat "$T/msg.$3")\"}"
}

# listed TOKEN: "ID TEXT" of each waiting message of TOKEN's user, as
# the server lists them, sorted.
listed() {
	api GET "/messages?limit=1000" -H "Authorization: Bearer $1"
	[ "$status_code" = 200 ] || fail "list: $status_code $body"
	printf '%s' "$body" |
	    pyj '"\n".join(sorted(m["id"] + " " + m["message"] for m in d["messages"]))'
}

@test "full disk, server (A2): sends get 507 naming the server's full disk, logged once; reads go on; nothing refused is stored, nothing stored is lost or corrupted; room again: 200 without a restart" {
	sqlite_only "SQLite's file on a small tmpfs; PostgreSQL's disk_full (53100) is mapped the same way (store_pg.c), see pg_store.bats"
	small_fs 3m
	# Room to free later: the operator's way out.
	in_fs dd if=/dev/zero of="$T/fs/reserve" bs=64k count=8 status=none
	SERVER_DB=$T/fs/server.db
	start_server --quiet --send-burst 100000 --send-rate 100000 3>&-
	api_user alice
	local ta=$token
	api_user bob
	local tb=$token i n=0 ok=() full=0
	# Until the disk is full: each send is 200 or 507, never another.
	for i in $(seq 1 400); do
		send_as "$ta" bob "$i"
		case "$status_code" in
		200) ok+=("$(json_get 'd["id"]'):$i") ;;
		507) full=$i; break ;;
		*) fail "send $i: $status_code $body" ;;
		esac
	done
	[ "$full" -gt 0 ] || fail "the disk never filled up in 400 sends of 48 KB"
	[ "${#ok[@]}" -gt 10 ] || fail "only ${#ok[@]} sends before the disk was full"
	assert_equal "$body" '{"error":"the server'"'"'s disk is full; try again later"}'
	# More sends, one after another and ten at once (one group commit):
	# 507 each, the server still serving.
	for i in 1 2 3; do
		send_as "$ta" bob "$((full + i))"
		assert_equal "$status_code" 507
	done
	local pids=()
	for i in $(seq 11 20); do
		( send_as "$ta" bob "$((full + i))"; echo "$status_code" > "$T/par.$i" ) &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq 11 20); do
		assert_equal "$(cat "$T/par.$i")" 507
	done
	assert_serving
	# Reads work: bob lists every message that was answered 200, each
	# with its text.
	local want
	want=$(for i in "${ok[@]}"; do echo "${i%%:*} $(cat "$T/msg.${i#*:}")"; done | sort)
	[ "$(listed "$tb")" = "$want" ] || fail "bob's list is not what was answered 200"
	# One line in the log for the whole outage, naming the disk.
	run -0 grep -c 'the disk is full' "$SERVER_LOG"
	assert_output 1
	grep -q 'database: the disk is full (COMMIT: database or disk is full): writes are refused (507) until space is freed' "$SERVER_LOG" ||
	    fail "$(cat "$SERVER_LOG")"
	! grep -q 'ROLLBACK' "$SERVER_LOG" || fail "$(cat "$SERVER_LOG")"
	kill -0 "$SERVER_PID"
	# Room again: the next send is 200, without a restart, logged once.
	in_fs rm "$T/fs/reserve"
	send_as "$ta" bob 9000
	assert_equal "$status_code" 200
	ok+=("$(json_get 'd["id"]'):9000")
	run -0 grep -c 'database: writing again: the disk has room' "$SERVER_LOG"
	assert_output 1
	pids=()
	for i in $(seq 21 25); do
		( send_as "$ta" bob "$((9000 + i))"; echo "$status_code" > "$T/par.$i" ) &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq 21 25); do
		assert_equal "$(cat "$T/par.$i")" 200
		n=$((n + 1))
	done
	stop_server
	# Nothing corrupted, nothing refused stored, every 200 there with its
	# own text.
	run -0 in_fs sqlite3 "$SERVER_DB" 'PRAGMA integrity_check;'
	assert_output ok
	assert_equal "$(in_fs sqlite3 "$SERVER_DB" 'SELECT count(*) FROM messages')" "$(( ${#ok[@]} + n ))"
	local pair id k
	for pair in "${ok[@]}"; do
		id=${pair%%:*} k=${pair#*:}
		assert_equal "$(in_fs sqlite3 "$SERVER_DB" "SELECT body FROM messages WHERE id = '$id'")" "$(cat "$T/msg.$k")"
	done
	for i in 0 1 2 3 $(seq 11 20); do
		assert_equal "$(in_fs sqlite3 "$SERVER_DB" "SELECT count(*) FROM messages WHERE body LIKE 'm$(printf %04d "$((full + i))")-%'")" 0
	done
}
