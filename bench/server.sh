#!/usr/bin/env bash
# bench/server.sh - `make bench-server`: e2e-server next to nginx in one
# run (ratios within a run are what count on a shared, noisy machine):
# durable sends (SQLite, and PostgreSQL with one and two instances) next
# to libmicrohttpd alone (bench/mhd_bare.c) and e2e-server's /healthz,
# receive-and-ack (SQLite, PostgreSQL), delivery latency with long-poll
# (also across two instances), 10,000 receivers waiting at once, and a
# victim under attack. Not a test: it fails only when a
# program it needs fails, never because of a speed. bench/README.md
# explains every number and the targets.
#
#   E2E_BIN            where e2e-server is (default ./bin)
#   TMPDIR             where the work folder and the database go (/tmp:
#                      the disk, as a normal run); a second server runs
#                      on /dev/shm for reference
#   BENCH_SECONDS      length of each wrk run (4)
#   BENCH_ROUNDS       rounds of nginx / disk / shm wrk runs (3)
#   BENCH_CONNS        wrk connections (64)
#   BENCH_USERS        users sending and receiving (64)
#   BENCH_SIZE         length of a message string (200)
#   BENCH_RECV_LIMIT   limit of each GET of receive-and-ack (100)
#   BENCH_DELIVERIES   long-poll deliveries timed (500)
#   BENCH_WAITERS      receivers waiting at once (10000)
#   BENCH_VICTIM_SIGNINS  section 6: the victim's sign-ins per phase (40)
#   BENCH_VICTIM_SENDS    section 6: the victim's sends per phase (200)
#   BENCH_SLOW_CONNS      section 6: slow uploads during the attack (100)
#   BENCH_PERF=1       also profiles the server (perf record) during the
#                      second round's disk run, and prints the top symbols
#   BENCH_PG=0         no PostgreSQL rows (default 1: a throwaway cluster
#                      with tests/pg-cluster, fsync on, when PostgreSQL
#                      is installed; said and skipped when it is not)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
bin=$(abs "${E2E_BIN:-bin}")
secs=${BENCH_SECONDS:-4}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-64}
nusers=${BENCH_USERS:-64}
size=${BENCH_SIZE:-200}
recv_limit=${BENCH_RECV_LIMIT:-100}
deliveries=${BENCH_DELIVERIES:-500}
nwaiters=${BENCH_WAITERS:-10000}
perf=${BENCH_PERF:-0}
victim_signins=${BENCH_VICTIM_SIGNINS:-40}
victim_sends=${BENCH_VICTIM_SENDS:-200}
slow_conns=${BENCH_SLOW_CONNS:-100}
use_pg=${BENCH_PG:-1}
cd "$root"

die() { echo "bench: error: $*" >&2; exit 1; }

if [ -x /usr/bin/python3 ]; then py=/usr/bin/python3; else py=python3; fi
for t in nginx wrk cc curl "$py"; do
	command -v "$t" >/dev/null || die "$t not found (apt-get install nginx-light wrk curl)"
done
[ -x "$bin/e2e-server" ] || die "$bin/e2e-server not found; run make (or set E2E_BIN)"
if [ "$perf" = 1 ]; then
	command -v perf >/dev/null || die "BENCH_PERF=1 needs perf"
fi

# Everything started is stopped at exit, and the work folders removed.
work=$(mktemp -d)
shm=
pg=
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	[ -z "$pg" ] || "$root/tests/pg-cluster" remove "$pg" 3>&- || true
	rm -rf "$work"
	[ -z "$shm" ] || rm -rf "$shm"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	shm=$(mktemp -d /dev/shm/e2e-bench.XXXXXX)
fi

state=$work/state.json
rep() { PYTHONDONTWRITEBYTECODE=1 "$py" "$root/bench/server_report.py" "$@"; }
section() { printf '\n== %s\n\n' "$*"; }
# Removes $1 from the pids to stop at exit.
forget() {
	local p keep=()
	for p in "${pids[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	pids=("${keep[@]}")
}
free_port() {
	"$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
vm() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
metric() { curl -sf "http://127.0.0.1:$1/metrics" | awk -v k="$2" '$1 == k { print $2 }'; }
# commits PORT...: "COMMITS JOBS" of the servers' writers, summed (the
# group commit: jobs per commit is sends per fdatasync).
commits() {
	local p a b c=0 j=0
	for p; do
		a=$(metric "$p" e2e_store_commits_total)
		b=$(metric "$p" e2e_store_commit_jobs_total)
		c=$((c + ${a:-0}))
		j=$((j + ${b:-0}))
	done
	echo "$c $j"
}

# commit_secs PORT...: the servers' seconds spent committing, summed.
commit_secs() {
	local p
	for p; do
		metric "$p" e2e_store_commit_seconds_total
	done | awk '{ s += $1 } END { printf "%.6f\n", s }'
}

# The clients, built with the compiler and plain sockets.
cflags="-std=c11 -D_GNU_SOURCE -O2 -Wall -I$root/bench"
for p in latency recvack waiters; do
	# shellcheck disable=SC2086
	cc $cflags -o "$work/$p" "$root/bench/$p.c" -pthread ||
	    die "cannot build bench/$p.c"
done
# The bare libmicrohttpd server (rows "libmicrohttpd alone" and "+ handoff").
mhdflags=$(pkg-config --cflags --libs libmicrohttpd) ||
    die "pkg-config libmicrohttpd failed"
# shellcheck disable=SC2086
cc $cflags -o "$work/mhd_bare" "$root/bench/mhd_bare.c" $mhdflags -pthread ||
    die "cannot build bench/mhd_bare.c"

# ---- nginx: a small static file, 2 workers, its own prefix ----
ng=$work/nginx
mkdir -p "$ng/www"
printf '{"id":"06H29NTRH8JRGGHXJY8VZQTPKD"}\n' > "$ng/www/m.json"
ngport=$(free_port)
user_line=
[ "$(id -u)" = 0 ] && user_line="user root;"
cat > "$ng/nginx.conf" <<EOF
$user_line
worker_processes 2;
pid $ng/nginx.pid;
error_log $ng/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	client_body_temp_path $ng/body;
	proxy_temp_path $ng/proxy;
	fastcgi_temp_path $ng/fastcgi;
	uwsgi_temp_path $ng/uwsgi;
	scgi_temp_path $ng/scgi;
	server {
		listen 127.0.0.1:$ngport;
		root $ng/www;
		default_type application/json;
	}
}
EOF
nginx -p "$ng" -c "$ng/nginx.conf" -e "$ng/error.log" -g 'daemon off;' \
    >"$ng/out.log" 2>&1 &
pids+=($!)
ng_pid=$!
nginx_url=http://127.0.0.1:$ngport/m.json
for ((i = 0; i < 100; i++)); do
	curl -sf -o /dev/null "$nginx_url" && break
	sleep 0.05
done
curl -sf -o /dev/null "$nginx_url" || { cat "$ng/error.log" >&2; die "nginx did not start"; }

# ---- e2e-server: one on the disk (TMPDIR), one on /dev/shm ----
# start_server NAME DIR [ARGS]: sets port_NAME and pid_NAME. Sections 1-5
# measure throughput, with thousands of users on one address: the limits
# meant for a public server (docs/SERVER.md) are lifted for them. Section
# 6 starts one with its defaults.
start_server() {
	local name=$1 dir=$2 p pid i args
	shift 2
	if [ $# -gt 0 ]; then
		args=("$@")
	else
		args=(--bcrypt-cost 4 --max-per-ip 100000 --signup-limit 1000000
		    --max-connections 20000 --send-rate 1000000
		    --send-burst 1000000 --mailbox-max-messages 1000000000
		    --mailbox-max-bytes 1024G --signin-addr-rate 1000000
		    --signin-account-rate 1000000)
	fi
	mkdir -p "$dir"
	# server_db: another database (PostgreSQL's URL).
	"$bin/e2e-server" --listen 127.0.0.1:0 --db "${server_db:-$dir/e2e.db}" --quiet \
	    "${args[@]}" >"$dir/port" 2>"$dir/server.log" &
	pid=$!
	pids+=("$pid")
	for ((i = 0; i < 200; i++)); do
		p=$(head -n 1 "$dir/port" 2>/dev/null || true)
		[ -n "$p" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$p" ] || { cat "$dir/server.log" >&2; die "e2e-server ($name) did not start"; }
	printf -v "port_$name" '%s' "$p"
	printf -v "pid_$name" '%s' "$pid"
}
stop_server() {
	local pid=$1 dir=$2 rc=0
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	forget "$pid"
	[ "$rc" = 0 ] || { tail -n 5 "$dir/server.log" >&2; echo "bench: warning: e2e-server exited $rc after SIGTERM" >&2; }
}
# start_bare NAME [handoff]: bench/mhd_bare with e2e-server's default
# --threads (2); sets port_NAME.
start_bare() {
	local name=$1 p i
	shift
	"$work/mhd_bare" 2 "$@" >"$work/$name.port" 2>"$work/$name.log" &
	pids+=($!)
	for ((i = 0; i < 100; i++)); do
		p=$(head -n 1 "$work/$name.port" 2>/dev/null || true)
		[ -n "$p" ] && break
		sleep 0.05
	done
	[ -n "$p" ] || { cat "$work/$name.log" >&2; die "bench/mhd_bare ($name) did not start"; }
	printf -v "port_$name" '%s' "$p"
}
mkusers() { "$py" "$root/bench/server_users.py" 127.0.0.1 "$1" "$2" "$3" "$4" ||
    die "cannot make users on port $1"; }

start_bare mhd
start_bare mhdh handoff
start_server disk "$work/disk"
# shellcheck disable=SC2154 # set by start_server
mkusers "$port_disk" u "$nusers" "$work/disk/users.txt"
mkusers "$port_disk" l 32 "$work/disk/lat.txt"
mkusers "$port_disk" w 500 "$work/disk/wait.txt"
if [ -n "$shm" ]; then
	start_server shm "$shm"
	# shellcheck disable=SC2154
	mkusers "$port_shm" u "$nusers" "$shm/users.txt"
	mkusers "$port_shm" l 32 "$shm/lat.txt"
fi
# PostgreSQL: a throwaway cluster with fsync on (as a real one), server
# A alone (pg1), then A and B on its database (pg2). B is started after
# A, without --secret-file: both serve with the secret A kept there.
pg_why=
if [ "$use_pg" = 1 ]; then
	mkdir -p "$work/pg"
	if pg_url=$(E2E_PG_FSYNC=on "$root/tests/pg-cluster" start "$work/pg" 3>&- 2>"$work/pg/err"); then
		pg=$work/pg
		server_db=$pg_url start_server pga "$work/pga"
		# shellcheck disable=SC2154 # set by start_server
		mkusers "$port_pga" u "$nusers" "$work/pga/users.txt"
		mkusers "$port_pga" l 32 "$work/pga/lat.txt"
		server_db=$pg_url start_server pgb "$work/pgb"
		# The postmaster: it and its children are the cluster.
		# shellcheck disable=SC1091 # written by tests/pg-cluster
		pg_pid=$(. "$pg/pg-cluster.env" && head -n 1 "$home/data/postmaster.pid")
	else
		pg_why=$(tail -n 1 "$work/pg/err")
	fi
else
	pg_why="BENCH_PG=0"
fi
tmpdir=$(dirname "$work")
rep env "$state" "static_bytes=$(wc -c < "$ng/www/m.json")" "tmp=$tmpdir" \
    "conns=$conns" "cores=$(nproc)"

echo "e2e-chat server bench: $(uname -m), $(nproc) cores, $(nginx -v 2>&1 | sed 's/.*: //')," \
    "$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), server $bin/e2e-server"
echo "(machines are shared and noisy: read the ratios, not the absolute rates)"
[ -z "$pg_why" ] || echo "(no PostgreSQL rows: $pg_why)"

# ---- 1, 2: nginx and durable sends, interleaved by round ----
section "1-2. HTTP ceiling and durable sends ($rounds rounds x ${secs}s per server, wrk -t2 -c$conns)"
echo "  nginx: worker_processes 2, a $(wc -c < "$ng/www/m.json")-byte file; e2e-server: POST /messages," \
    "$nusers users' tokens, {\"to\",\"message\"} with a $size-character message"
echo "  libmicrohttpd alone: bench/mhd_bare.c, e2e-server's daemon flags, the same POSTs answered" \
    "with a fixed 36-byte body; + handoff: each suspended, resumed by another thread"
echo
runwrk() {	# KIND ROUND URL [-- ARGS]
	local kind=$1 r=$2 url=$3
	shift 3
	# wrk's own CPU time (it shares the cores): the subshell's
	# children's user and system time, from times, into wcpu-KIND-ROUND.
	( wrk -t2 -c"${wrk_conns:-$conns}" -d"${secs}s" --timeout 10s -s "$root/bench/server.lua" \
	    "$url" "$@" > "$work/wrk-$kind-$r.out" 2>&1 || exit 1
	  times > "$work/wcpu-$kind-$r.out" ) ||
	    { cat "$work/wrk-$kind-$r.out" >&2; die "wrk failed ($kind)"; }
}
# ticks PID...: the CPU time (user + system, clock ticks) of each process
# and of its children, with what its reaped children had used (cutime,
# cstime): e2e-server (its threads), nginx's master and its workers, the
# postmaster and every process of its cluster.
ticks() {
	local p c t=0 v
	for p; do
		# shellcheck disable=SC2046 # the children's pids, one word each
		for c in "$p" $(cat /proc/"$p"/task/*/children 2>/dev/null); do
			# Fields after "pid (comm)": utime is the 12th.
			v=$(sed 's/^.*) //' "/proc/$c/stat" 2>/dev/null |
			    awk '{ print $12 + $13 + $14 + $15 }') || continue
			t=$((t + ${v:-0}))
		done
	done
	echo "$t"
}
# cpu KIND ROUND -- COMMAND: the server side's CPU time around COMMAND,
# into cpu-KIND-ROUND.out: "SERVER0 DB0 SERVER1 DB1 HZ" (DB: the
# PostgreSQL cluster's processes, 0 without).
cpu() {
	local kind=$1 r=$2 srv=() db=() s0 d0
	shift 3
	case $kind in
	nginx) srv=("$ng_pid") ;;
	disk) srv=("$pid_disk") ;;
	shm) srv=("$pid_shm") ;;
	pg1 | pg2) srv=("$pid_pga" "$pid_pgb"); db=("$pg_pid") ;;
	esac
	s0=$(ticks "${srv[@]}")
	d0=$(ticks "${db[@]}")
	"$@"
	echo "$s0 $d0 $(ticks "${srv[@]}") $(ticks "${db[@]}") $(getconf CLK_TCK)" \
	    > "$work/cpu-$kind-$r.out"
}
# sends KIND ROUND PORT... -- WRK ARGS: a send run whose commits (all the
# servers') go to commit-KIND-ROUND.out.
sends() {
	local kind=$1 r=$2 ports=() before after
	shift 2
	while [ "$1" != -- ]; do
		ports+=("$1")
		shift
	done
	shift
	before=$(commits "${ports[@]}")
	t0=$(commit_secs "${ports[@]}")
	"$@"
	t1=$(commit_secs "${ports[@]}")
	after=$(commits "${ports[@]}")
	echo "$before $after" > "$work/commit-$kind-$r.out"
	echo "$t0 $t1" > "$work/ctime-$kind-$r.out"
}
kinds=(nginx mhd mhdh healthz disk)
[ -n "$shm" ] && kinds+=(shm)
[ -n "$pg" ] && kinds+=(pg1 pg2)
# pg_both ROUND: wrk through A and through B at once, half the
# connections each, each its own order of senders and recipients.
pg_both() {
	local a
	wrk_conns=$((conns / 2)) runwrk pg2a "$1" "http://127.0.0.1:$port_pga/messages" -- \
	    "$work/pga/users.txt" "$size" 1 &
	a=$!
	# shellcheck disable=SC2154 # set by start_server
	wrk_conns=$((conns / 2)) runwrk pg2b "$1" "http://127.0.0.1:$port_pgb/messages" -- \
	    "$work/pga/users.txt" "$size" 2
	wait "$a"
}
for ((r = 1; r <= rounds; r++)); do
	n=${#kinds[@]}
	for ((k = 0; k < n; k++)); do
		kind=${kinds[(k + r - 1) % n]}
		# shellcheck disable=SC2154 # ports set by start_bare
		case $kind in
		nginx) cpu nginx "$r" -- runwrk nginx "$r" "$nginx_url" ;;
		# The same POST bodies as the sends, answered without work.
		mhd) runwrk mhd "$r" "http://127.0.0.1:$port_mhd/messages" -- \
			    "$work/disk/users.txt" "$size" ;;
		mhdh) runwrk mhdh "$r" "http://127.0.0.1:$port_mhdh/messages" -- \
			    "$work/disk/users.txt" "$size" ;;
		healthz) runwrk healthz "$r" "http://127.0.0.1:$port_disk/healthz" ;;
		disk)
			if [ "$perf" = 1 ] && [ "$r" = 2 ]; then
				# shellcheck disable=SC2154
				perf record -q --call-graph dwarf,16384 -F 199 -p "$pid_disk" \
				    -o "$work/perf.data" \
				    -- sleep "$((secs - 1))" >/dev/null 2>&1 &
				perf_pid=$!
			fi
			sends disk "$r" "$port_disk" -- cpu disk "$r" -- runwrk disk "$r" \
			    "http://127.0.0.1:$port_disk/messages" -- \
			    "$work/disk/users.txt" "$size"
			[ -z "${perf_pid:-}" ] || { wait "$perf_pid" || true; perf_pid=; }
			;;
		shm) sends shm "$r" "$port_shm" -- cpu shm "$r" -- runwrk shm "$r" \
			    "http://127.0.0.1:$port_shm/messages" -- \
			    "$shm/users.txt" "$size" ;;
		pg1) sends pg1 "$r" "$port_pga" "$port_pgb" -- cpu pg1 "$r" -- runwrk pg1 "$r" \
			    "http://127.0.0.1:$port_pga/messages" -- \
			    "$work/pga/users.txt" "$size" ;;
		pg2)
			# Half the connections through each instance, at once.
			# shellcheck disable=SC2154 # set by start_server
			sends pg2 "$r" "$port_pga" "$port_pgb" -- cpu pg2 "$r" -- pg_both "$r" ;;
		esac
	done
done
rep http "$state" "$work"/wrk-*.out "$work"/commit-*.out "$work"/ctime-*.out \
    "$work"/cpu-*.out "$work"/wcpu-*.out

# ---- 3: receive and acknowledge what the sends stored ----
stored=$(metric "$port_disk" e2e_messages_stored)
pg_stored=
[ -z "$pg" ] || pg_stored=", PostgreSQL through A: $(metric "$port_pga" e2e_messages_stored)"
section "3. Receive and acknowledge ($nusers users draining the messages stored: db in $tmpdir: $stored$pg_stored)"
"$work/recvack" 127.0.0.1 "$port_disk" "$work/disk/users.txt" "$recv_limit" 5 \
    > "$work/recvack.out" || die "bench/recvack failed"
ra=("SQLite ($tmpdir)=$work/recvack.out")
if [ -n "$pg" ]; then
	# shellcheck disable=SC2154 # set by start_server
	"$work/recvack" 127.0.0.1 "$port_pga" "$work/pga/users.txt" "$recv_limit" 5 \
	    > "$work/recvack-pg.out" || die "bench/recvack failed (PostgreSQL)"
	ra+=("PostgreSQL, one instance=$work/recvack-pg.out")
fi
rep recvack "$state" "${ra[@]}"

# ---- 4: delivery latency with long-poll ----
# pg_floor N TAG: N (at least 1) one-row INSERTs, each its own
# transaction, by pgbench with one client on the cluster's database
# "postgres" (pgbench's log, the third field: each one's time in us,
# into $work/pg/floor-TAG.*).
# Half are run just before the sends through A and half just after, so
# that they meet the same disk (shared machines' flushes vary by the
# second). pg_floor_json OUT: all of their times, as
# "JSON {"commit_us":[...]}".
pg_floor() {
	local pgbin home
	# shellcheck disable=SC1091 # written by tests/pg-cluster
	pgbin=$(. "$pg/pg-cluster.env" && echo "$bin")
	# shellcheck disable=SC1091
	home=$(. "$pg/pg-cluster.env" && echo "$home")
	"$pgbin/psql" -X -q -h "$home" -U e2e -d postgres \
	    -c "SET client_min_messages = warning" \
	    -c "CREATE TABLE IF NOT EXISTS bench_floor (n int)" >/dev/null ||
	    return 1
	printf 'INSERT INTO bench_floor VALUES (1);\n' > "$work/floor.sql"
	"$pgbin/pgbench" -n -c 1 -t "$(($1 > 0 ? $1 : 1))" -f "$work/floor.sql" \
	    -l --log-prefix="$work/pg/floor-$2" -h "$home" -U e2e postgres \
	    >"$work/pg/floor.out" 2>&1 || { cat "$work/pg/floor.out" >&2; return 1; }
}
pg_floor_json() {
	awk '{ printf "%s%s", n++ ? "," : "JSON {\"commit_us\":[", $3 }
	    END { print "]}" }' "$work"/pg/floor-*.[0-9]* > "$1"
}
section "4. Delivery latency with long-poll ($deliveries sends, one at a time, to 32 waiting receivers in turn)"
"$work/latency" 127.0.0.1 "$port_disk" "$work/disk/users.txt" "$work/disk/lat.txt" \
    "$deliveries" "$size" > "$work/lat-disk.out" || die "bench/latency failed"
lat=("disk ($tmpdir)=$work/lat-disk.out")
if [ -n "$shm" ]; then
	"$work/latency" 127.0.0.1 "$port_shm" "$shm/users.txt" "$shm/lat.txt" \
	    "$deliveries" "$size" > "$work/lat-shm.out" || die "bench/latency failed (shm)"
	lat+=("/dev/shm=$work/lat-shm.out")
	# shellcheck disable=SC2154 # set by start_server
	stop_server "$pid_shm" "$shm"
fi
if [ -n "$pg" ]; then
	# PostgreSQL alone (pg_floor), before and after.
	pg_floor "$((deliveries / 2))" before ||
	    die "pgbench failed on the PostgreSQL cluster"
	# Sent through A, received on B: B hears of it by NOTIFY.
	"$work/latency" 127.0.0.1 "$port_pga" "$work/pga/users.txt" "$work/pga/lat.txt" \
	    "$deliveries" "$size" "$port_pgb" > "$work/lat-pg.out" ||
	    die "bench/latency failed (PostgreSQL)"
	lat+=("PostgreSQL, sent via A, received on B=$work/lat-pg.out")
	# shellcheck disable=SC2154 # set by start_server
	stop_server "$pid_pgb" "$work/pgb"
	stop_server "$pid_pga" "$work/pga"
	# The floor under a send's answer: PostgreSQL alone committing one
	# row at a time on the same cluster (a round trip and the WAL flush).
	pg_floor "$((deliveries - deliveries / 2))" after ||
	    die "pgbench failed on the PostgreSQL cluster"
	pg_floor_json "$work/lat-pgfloor.out"
	lat+=("PostgreSQL alone=$work/lat-pgfloor.out")
fi
rep latency "$state" "${lat[@]}"

# ---- 5: many receivers waiting at once ----
section "5. $nwaiters receivers waiting at once (GET /messages?wait=60, 500 users, db in $tmpdir)"
need=$((nwaiters + 64))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
	ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$need" ] ||
    die "ulimit -n is $(ulimit -n); $nwaiters waiters need $need (raise the hard limit)"
rss0=$(vm "$pid_disk" VmRSS)
# Receivers of section 4 whose client has gone still count until their
# wait ends (a suspended connection is not watched): counted apart.
waiting0=$(metric "$port_disk" e2e_receivers_waiting || echo 0)
"$work/waiters" 127.0.0.1 "$port_disk" "$work/disk/wait.txt" "$nwaiters" 90 \
    > "$work/waiters.out" &
wpid=$!
pids+=("$wpid")
for ((i = 0; i < 600; i++)); do
	grep -q '^sent' "$work/waiters.out" && break
	kill -0 "$wpid" 2>/dev/null || die "bench/waiters failed"
	sleep 0.1
done
held=0
for ((i = 0; i < 100; i++)); do
	held=$(metric "$port_disk" e2e_receivers_waiting || echo 0)
	[ "$((${held:-0} - waiting0))" -ge "$nwaiters" ] && break
	sleep 0.1
done
sleep 0.5
held=$(metric "$port_disk" e2e_receivers_waiting || echo 0)
rss=$(vm "$pid_disk" VmRSS)
hwm=$(vm "$pid_disk" VmHWM)
kill -USR1 "$wpid"
# Then SIGTERM with them all waiting: the server must answer them and
# exit 0 within a few seconds.
for ((i = 0; i < 50; i++)); do
	grep -q '^EARLY' "$work/waiters.out" && break
	sleep 0.1
done
t0=$(date +%s%N)
kill -TERM "$pid_disk"
src=0
wait "$pid_disk" || src=$?
t1=$(date +%s%N)
forget "$pid_disk"
sleep 1
kill -TERM "$wpid"
wait "$wpid" || die "bench/waiters failed"
forget "$wpid"
rep waiters "$state" "$work/waiters.out" "rss_before_kib=$rss0" "rss_kib=$rss" \
    "hwm_kib=$hwm" "held=$((${held:-0} - waiting0))" "before=$waiting0" \
    "stop_ms=$(((t1 - t0) / 1000000))" "stop_status=$src"

if [ "$perf" = 1 ] && [ -s "$work/perf.data" ]; then
	section "Profile of e2e-server during the disk send run of round 2 (perf)"
	echo "  Time spent in each function and what it calls, as a share of the"
	echo "  server's CPU time (user-space functions, 3% and more):"
	echo
	perf report -i "$work/perf.data" --children -g none --sort symbol \
	    --percent-limit 3 --stdio 2>/dev/null |
	    awk '/^ +[0-9]/ && $3 == "[.]" && $4 !~ /^0x/ &&
	        $4 !~ /^(clone3|start_thread)$/ { printf "  %8s  %s%s\n", $1, $4, $5 == "(inlined)" ? " (inlined)" : "" }' |
	    head -n 40
fi

# ---- 6: a victim under attack ----
section "6. A victim under attack (a server with its default limits, bcrypt cost 12)"
echo "  the victim from 127.0.0.2: $victim_signins sign-ins (10 accounts in turn) and $victim_sends sends"
echo "  (to a friend), alone, then while 127.0.0.1 floods sign-ins with a correct password (16"
echo "  threads), keeps $slow_conns slow uploads of 4 MiB going without a token, and floods the"
echo "  victim's mailbox from 8 accounts"
echo
start_server attack "$work/attack" --signup-limit 1000
# shellcheck disable=SC2154 # set by start_server
hwm0=$(vm "$pid_attack" VmHWM)
# In the background and waited for: a signal to the script then runs its
# trap at once, and cleanup stops the client too (run in the foreground,
# it outlived a killed bench, spinning).
# shellcheck disable=SC2154 # set by start_server
"$py" "$root/bench/server_attack.py" 127.0.0.1 "$port_attack" \
    "$victim_signins" "$victim_sends" "$slow_conns" "$work/attack.out" &
pids+=("$!")
wait "$!" || die "bench/server_attack.py failed"
hwm1=$(vm "$pid_attack" VmHWM)
stop_server "$pid_attack" "$work/attack"
rep attack "$state" "$work/attack.out" "hwm_before_kib=$hwm0" \
    "hwm_after_kib=$hwm1"

section "Summary"
rep summary "$state"
