#!/usr/bin/env bats
# A full disk (issue 15). The server's SQLite database on a small tmpfs
# that fills up: sends fail with 507 and a clear error, the server logs
# it once, keeps serving reads, stores nothing it refused, corrupts
# nothing, and writes again by itself once there is room. e2e-recv
# writing to a full disk: exit 74, one line, nothing acknowledged that
# was not written, and the next run prints it. An output whose sync
# fails (EIO): 74, and the next run prints again what the disk may have
# lost.
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

# big_send TOKEN TO N: sends message N; sets $status_code and $body.
big_send() {
	body "$3" > "$T/msg.$3"
	api POST /messages -H "Authorization: Bearer $1" -H "$JSON" \
	    --data-binary "{\"to\":\"$2\",\"message\":\"$(cat "$T/msg.$3")\"}"
}

# parallel_sends TOKEN BASE FIRST LAST STATUS: messages BASE+FIRST to
# BASE+LAST to bob, all at once (one group commit), each answered STATUS.
parallel_sends() {
	local i pids=()
	for i in $(seq "$3" "$4"); do
		( big_send "$1" bob "$(($2 + i))"; echo "$status_code" > "$T/par.$i" ) &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq "$3" "$4"); do
		assert_equal "$(cat "$T/par.$i")" "$5"
	done
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
	# carol's client, for e2e-send's own words.
	fixed_keys
	account carol
	# Until the disk is full: each send is 200 or 507, never another.
	for i in $(seq 1 400); do
		big_send "$ta" bob "$i"
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
		big_send "$ta" bob "$((full + i))"
		assert_equal "$status_code" 507
	done
	parallel_sends "$ta" "$full" 11 20 507
	# e2e-send: 75 (temporary), the reason and what will clear it.
	# Larger than the sends refused above: it cannot fit either.
	head -c 60000 /dev/urandom | base64 | run_as carol e2e-encrypt -r "$T/bob.pub" -s "$T/carol" > "$T/env" 2>/dev/null
	run --separate-stderr run_as carol e2e-send --to bob "$T/env"
	[ "$status" -eq 75 ] || fail "$status: $stderr"
	assert_equal "${stderr_lines[0]}" "e2e-send: error: sending: the server's disk is full; try again later"
	assert_equal "${stderr_lines[1]}" "e2e-send: hint: try again once the server's operator has freed disk space"
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
	big_send "$ta" bob 9000
	assert_equal "$status_code" 200
	ok+=("$(json_get 'd["id"]'):9000")
	run -0 grep -c 'database: writing again: the disk has room' "$SERVER_LOG"
	assert_output 1
	parallel_sends "$ta" 9000 21 25 200
	n=5
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

# ---- e2e-recv writing to a full disk ----

# client_setup N: the server (on the ordinary disk), bob's client home
# ($BOB_HOME, made by e2e-account), and N messages of 48 KB from alice
# waiting for bob ($T/msg.K, their ids in $T/sent.ids, sorted).
client_setup() {
	start_own_server --send-burst 100000 --send-rate 100000
	api_user alice
	local ta=$token i
	BOB_HOME=${BOB_HOME:-$T/homes/bob}
	pwfile bob > /dev/null
	in_fs env E2E_HOME="$BOB_HOME" "$E2E_BIN/e2e-account" --server "$URL" \
	    signup bob --password-file "$T/bob.pw" > /dev/null
	for i in $(seq 1 "$1"); do
		big_send "$ta" bob "$i"
		assert_equal "$status_code" 200
		json_get 'd["id"]'
	done | sort > "$T/sent.ids"
	BOB_TOKEN=$(in_fs jq -r .token "$BOB_HOME/session")
}

# recv_bob FILE: e2e-recv as bob, appending to FILE (as >> FILE); for
# run, which would take its output.
recv_bob() {
	in_fs sh -c 'exec "$@" >> "$0"' "$1" env E2E_HOME="$BOB_HOME" \
	    "$E2E_BIN/e2e-recv"
}

# waiting_ids: the ids still in bob's mailbox on the server, sorted.
waiting_ids() {
	api GET "/messages?limit=1000" -H "Authorization: Bearer $BOB_TOKEN"
	[ "$status_code" = 200 ] || fail "list: $status_code $body"
	printf '%s' "$body" | pyj '"\n".join(sorted(m["id"] for m in d["messages"]))'
}

# inbox_whole FILE: every line of FILE is one JSON record, each id once,
# the ids those of $T/sent.ids and each message the text sent.
inbox_whole() {
	pycheck '
	lines = open(sys.argv[1]).read().split("\n")
	assert lines[-1] == "", "the last line is cut short"
	recs = [json.loads(x) for x in lines[:-1]]
	ids = [r["id"] for r in recs]
	assert len(ids) == len(set(ids)), "an id printed twice"
	want = open(sys.argv[2]).read().split()
	assert sorted(ids) == want, (len(ids), len(want))
	for r in recs:
	    k = int(r["message"][1:5])
	    assert r["message"] == open(os.path.join(sys.argv[3], "msg.%d" % k)).read(), r["id"]
	' "$1" "$T/sent.ids" "$T"
}

@test "full disk, client: e2e-recv >> a file on a full disk stops with 74 and one line, acknowledges nothing it did not write; with room again the next run prints the rest, each message once" {
	client_setup 30
	small_fs 2m
	# 1.5 MB taken: the 30 lines (about 1.5 MB) do not fit.
	in_fs dd if=/dev/zero of="$T/fs/reserve" bs=64k count=24 status=none
	run --separate-stderr recv_bob "$T/fs/inbox"
	[ "$status" -eq 74 ] || fail "$status: $stderr"
	assert_equal "$stderr" "e2e-recv: error: cannot write to standard output: No space left on device"
	# Some lines got there, not all; whatever was not written whole is
	# still on the server.
	in_fs cat "$T/fs/inbox" > "$T/inbox.1"
	local whole
	whole=$(grep -c '' "$T/inbox.1")
	# A last line cut short is not whole.
	[ -z "$(tail -c 1 "$T/inbox.1")" ] || whole=$((whole - 1))
	[ "$whole" -gt 0 ] && [ "$whole" -lt 30 ] || fail "$whole whole lines"
	comm -23 "$T/sent.ids" <(head -n "$whole" "$T/inbox.1" | jq -r .id | sort) > "$T/unwritten"
	comm -13 <(waiting_ids) "$T/unwritten" > "$T/lost"
	[ ! -s "$T/lost" ] || fail "acknowledged but not written: $(cat "$T/lost")"
	# Room again: the same command prints what was missing.
	in_fs rm "$T/fs/reserve"
	run --separate-stderr recv_bob "$T/fs/inbox"
	[ "$status" -eq 0 ] || fail "$status: $stderr"
	in_fs cat "$T/fs/inbox" > "$T/inbox.2"
	inbox_whole "$T/inbox.2"
	assert_equal "$(waiting_ids)" ""
}

@test "full disk, client: a client home on a full disk: e2e-recv stops with 74 naming its log, prints and acknowledges nothing; with room again every message is printed once" {
	BOB_HOME=$T/fs/bob
	small_fs 2m
	client_setup 10
	# Every block taken.
	in_fs dd if=/dev/zero of="$T/fs/filler" bs=64k status=none 2>/dev/null || true
	run --separate-stderr recv_bob "$T/out.1"
	[ "$status" -eq 74 ] || fail "$status: $stderr"
	local id
	id=$(in_fs jq -r .id "$BOB_HOME/session")
	assert_equal "$stderr" "e2e-recv: error: cannot write to $BOB_HOME/recv-$id.log: No space left on device"
	[ ! -s "$T/out.1" ] || fail "printed: $(head -c 300 "$T/out.1")"
	assert_equal "$(waiting_ids)" "$(cat "$T/sent.ids")"
	in_fs rm "$T/fs/filler"
	run --separate-stderr recv_bob "$T/out.2"
	[ "$status" -eq 0 ] || fail "$status: $stderr"
	inbox_whole "$T/out.2"
	assert_equal "$(waiting_ids)" ""
}

@test "full disk, client: the client home and the inbox on one file system that fills up mid-run, at several points: 74 and one line each time, and in the end every message printed once" {
	BOB_HOME=$T/fs/bob
	small_fs 1m
	client_setup 12
	local inbox=$BOB_HOME/inbox reserve runs=0
	# Taken: from most of the room to some of it; freed step by step.
	for reserve in 15 12 9 6 3 0; do
		in_fs rm -f "$T/fs/reserve"
		[ "$reserve" = 0 ] ||
		    in_fs dd if=/dev/zero of="$T/fs/reserve" bs=64k count="$reserve" status=none
		run --separate-stderr recv_bob "$inbox"
		runs=$((runs + 1))
		case "$status" in
		0) break ;;
		74) [[ "$stderr" =~ ^"e2e-recv: error: cannot write to "[^$'\n']*": No space left on device"$ ]] ||
		    fail "run $runs: $stderr" ;;
		*) fail "run $runs: $status: $stderr" ;;
		esac
	done
	[ "$status" -eq 0 ] || fail "no room in the end: $stderr"
	[ "$runs" -gt 2 ] || fail "the disk was full only $((runs - 1)) times"
	in_fs cat "$inbox" > "$T/inbox"
	inbox_whole "$T/inbox"
	assert_equal "$(waiting_ids)" ""
}

# sync_failer: $T/failsync.so, for LD_PRELOAD: fsync and fdatasync fail
# with EIO on the files named in E2E_FAIL_SYNC (paths, separated by
# colons), and unlink on those named in E2E_FAIL_UNLINK: a write-back
# that failed (a disk's EIO, a quota, NFS) made on demand, without root
# (a device that fails its syncs needs device-mapper or FUSE). The real
# e2e-recv runs with it; the checks after each run are the proof that
# the calls were caught (without it, the run ends 0). Skips without a C
# compiler.
sync_failer() {
	command -v cc > /dev/null || skip "no C compiler"
	cat > "$T/failsync.c" <<'SRC'
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
/* Whether path is one of the colon-separated list in env var. */
static int
listed(const char *var, const char *path)
{
	const char *l = getenv(var), *end;
	size_t n = strlen(path);

	for (; l != NULL && *l != '\0'; l = *end ? end + 1 : end) {
		end = strchr(l, ':');
		if (end == NULL)
			end = l + strlen(l);
		if ((size_t)(end - l) == n && memcmp(l, path, n) == 0)
			return 1;
	}
	return 0;
}
static int
fails(int fd)
{
	char proc[64], path[PATH_MAX];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((n = readlink(proc, path, sizeof(path) - 1)) < 0)
		return 0;
	path[n] = '\0';
	return listed("E2E_FAIL_SYNC", path);
}
static int
sync_call(long nr, int fd)
{
	if (fails(fd)) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(nr, fd);
}
int
fdatasync(int fd)
{
	return sync_call(SYS_fdatasync, fd);
}
int
fsync(int fd)
{
	return sync_call(SYS_fsync, fd);
}
int
unlink(const char *path)
{
	if (listed("E2E_FAIL_UNLINK", path)) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_unlink, path);
}
SRC
	cc -shared -fPIC -o "$T/failsync.so" "$T/failsync.c" ||
	    skip "cannot build the sync failer"
}

# recv_bob_failing FILE SYNC [UNLINK]: recv_bob with the sync failer,
# failing the syncs of SYNC and the unlink of UNLINK. A sanitizer's
# runtime would insist on coming first: told not to.
recv_bob_failing() {
	sh -c 'exec "$@" >> "$0"' "$1" env E2E_HOME="$BOB_HOME" \
	    LD_PRELOAD="$T/failsync.so" E2E_FAIL_SYNC="$2" \
	    E2E_FAIL_UNLINK="${3:-}" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    "$E2E_BIN/e2e-recv"
}

# bob_log: bob's e2e-recv log.
bob_log() {
	echo "$BOB_HOME/recv-$(jq -r .id "$BOB_HOME/session").log"
}

# next_run_prints_all: after a failed sync, what the disk kept of the
# inbox is taken to be nothing: the next e2e-recv, into an emptied inbox,
# prints every message and acknowledges them all.
next_run_prints_all() {
	: > "$T/inbox"
	run --separate-stderr recv_bob "$T/inbox"
	[ "$status" -eq 0 ] || fail "$status: $stderr"
	inbox_whole "$T/inbox"
	assert_equal "$(waiting_ids)" ""
}

@test "sync fails, client: standard output's fsync fails (EIO): e2e-recv stops with 74 and one line, acknowledges nothing and forgets what it printed; the next run prints it all again, though the disk lost it" {
	sync_failer
	client_setup 3
	run --separate-stderr recv_bob_failing "$T/inbox" "$T/inbox"
	[ "$status" -eq 74 ] || fail "$status: $stderr"
	assert_equal "$stderr" "e2e-recv: error: cannot sync standard output (nothing acknowledged; the next run prints these messages again): Input/output error"
	# Written (the page cache holds them), not acknowledged, and the log
	# no longer says they were printed.
	[ "$(grep -c '' "$T/inbox")" -eq 3 ] || fail "$(head -c 300 "$T/inbox")"
	assert_equal "$(waiting_ids)" "$(cat "$T/sent.ids")"
	[ ! -s "$(bob_log)" ] || fail "the log still says: $(cat "$(bob_log)")"
	# What the disk kept after its write-back failed: nothing of them.
	next_run_prints_all
}

@test "sync fails, client: the fsync of the output and of the emptied log both fail: the log is removed, and the next run prints every message again" {
	sync_failer
	client_setup 3
	local log
	log=$(bob_log)
	run --separate-stderr recv_bob_failing "$T/inbox" "$T/inbox:$log"
	[ "$status" -eq 74 ] || fail "$status: $stderr"
	assert_equal "$stderr" "e2e-recv: error: cannot sync standard output (nothing acknowledged; the next run prints these messages again): Input/output error"
	[ ! -e "$log" ] || fail "the log is still there: $(cat "$log")"
	assert_equal "$(waiting_ids)" "$(cat "$T/sent.ids")"
	next_run_prints_all
}

@test "sync fails, client: neither the output nor the log can be synced, nor the log removed: 74 and one line naming the log to remove; removed, the next run prints every message again" {
	sync_failer
	client_setup 3
	local log
	log=$(bob_log)
	run --separate-stderr recv_bob_failing "$T/inbox" "$T/inbox:$log" \
	    "$log"
	[ "$status" -eq 74 ] || fail "$status: $stderr"
	assert_equal "$stderr" "e2e-recv: error: cannot sync standard output, nor forget what $log says was printed (remove it before the next run, which then prints them again): Input/output error"
	assert_equal "$(waiting_ids)" "$(cat "$T/sent.ids")"
	rm "$log"
	next_run_prints_all
}
