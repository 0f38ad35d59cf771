#!/usr/bin/env bats
# The store's group commit (issue 14): with --commit-delay, the writer
# waits a little for the writes of requests under way, so that one
# commit (one fdatasync) covers more sends; a lone send does not wait.
# GET /metrics counts the commits and the writes they held. On SQLite,
# and on PostgreSQL in make check-pg.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers

setup() {
	common_setup
}

teardown() {
	[ -n "${HELD_FD:-}" ] && exec {HELD_FD}>&-
	HELD_FD=
	if [ -n "${A_PID:-}" ]; then
		kill -KILL "$A_PID" 2>/dev/null
		wait "$A_PID" 2>/dev/null
	fi
	stop_own_server
}

# commit_counts: "COMMITS JOBS" from GET /metrics.
commit_counts() {
	curl -s -S "$URL/metrics" | awk '
	    $1 == "e2e_store_commits_total" { c = $2 }
	    $1 == "e2e_store_commit_jobs_total" { j = $2 }
	    END { print c + 0, j + 0 }'
}

# hold_request: a send whose headers are in and whose body never comes,
# on HELD_FD: a request under way for as long as the test holds it.
# Returns once the server has taken it (its body memory is reserved).
hold_request() {
	local i used=0
	exec {HELD_FD}<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: 100\r\n\r\n' \
	    application/json >&"$HELD_FD"
	# Polled every 50 ms, up to 10 s.
	for i in $(seq 200); do
		used=$(curl -s -S "$URL/metrics" |
		    awk '$1 == "e2e_body_memory_bytes" { print $2 }')
		[ "${used:-0}" -ge 100 ] && return 0
		sleep 0.05
	done
	echo "the held request was not taken: body memory $used" >&2
	return 1
}

# send_parallel N TOKEN: N sends to bob at once, each in its own curl;
# "TEXT STATUS ID TO" lines in $T/sent.
send_parallel() {
	local i pids=
	: > "$T/sent"
	for i in $(seq "$1"); do
		(
			out=$(curl -s -o "$T/ans.$i" -w '%{http_code}' -X POST \
			    -H "Authorization: Bearer $2" -H "$JSON" \
			    -d "{\"to\":\"bob\",\"message\":\"m$i\"}" \
			    "$URL/messages") || out=000
			id=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' \
			    "$T/ans.$i" 2>/dev/null)
			echo "m$i $out ${id:--} bob" >> "$T/sent"
		) &
		pids="$pids $!"
	done
	BG_PIDS=$pids
	for i in $pids; do
		wait "$i"
	done
	BG_PIDS=
}

# stored_once [NAME...]: every send to NAME (default bob) answered 200
# in $T/sent is in NAME's mailbox once, with the id it was answered
# (when known, not "-"); nothing else is there.
stored_once() {
	local n
	for n in "${@:-bob}"; do
		signin "$n" "pw of $n"
		api GET '/messages?limit=1000' -H "x-access-token: $token"
		assert_equal "$status_code" 200
		printf '%s' "$body" > "$T/list"
		"$PYTHON" - "$T/sent" "$T/list" "$n" <<'EOF'
import json, sys
sent = [l.split() for l in open(sys.argv[1])]
ok = {text: mid for text, code, mid, to in sent
      if code == "200" and to == sys.argv[3]}
got = [(m["message"], m["id"]) for m in json.load(open(sys.argv[2]))["messages"]]
texts = [t for t, _ in got]
assert len(texts) == len(set(texts)), ("stored twice", texts)
assert set(texts) == set(ok), ("stored", texts, "answered 200", ok)
for text, mid in got:
    assert ok[text] in ("-", mid), (text, "stored as", mid, "answered", ok[text])
EOF
	done
}

# fastest_send TOKEN N: the shortest time in ms of N sends one after
# the other.
fastest_send() {
	local i t best=
	for i in $(seq "$2"); do
		t=$(curl -s -o /dev/null -w '%{time_total}' -X POST \
		    -H "Authorization: Bearer $1" -H "$JSON" \
		    -d "{\"to\":\"bob\",\"message\":\"s$i\"}" "$URL/messages")
		t=$(awk -v t="$t" 'BEGIN { printf "%d", t * 1000 }')
		[ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
	done
	echo "$best"
}

@test "--commit-delay: sends at once while another request is under way share commits: more than one send per commit, each 200 stored once" {
	start_own_server --commit-delay 1000000 --send-rate 100000 \
	    --send-burst 100000
	api_user bob
	api_user alice
	# The held request keeps the writer waiting its full second for
	# more: the parallel sends meet in a few commits, however slowly
	# their curls start.
	hold_request
	read -r c0 j0 <<< "$(commit_counts)"
	local t0 ok
	t0=$(now_ms)
	send_parallel 20 "$token"
	read -r c1 j1 <<< "$(commit_counts)"
	# Each commit waited its second (then the held request was still
	# under way): a second per commit at least, however fast the disk.
	[ "$(($(now_ms) - t0))" -ge "$(((c1 - c0) * 1000))" ] ||
	    fail "$((c1 - c0)) commits in $(($(now_ms) - t0)) ms"
	ok=$(awk '$2 == 200' "$T/sent" | wc -l)
	[ "$ok" -ge 1 ] || fail "no send answered 200: $(cat "$T/sent")"
	run awk '$2 != 200' "$T/sent"
	assert_output ''
	# Sends are the only writes meanwhile: each commit held more than one.
	assert_equal "$((j1 - j0))" "$ok"
	[ "$((j1 - j0))" -gt "$((c1 - c0))" ] ||
	    fail "$((j1 - j0)) sends in $((c1 - c0)) commits"
	stored_once
}

@test "--commit-delay: a lone send does not wait for the delay when nothing else is under way" {
	start_own_server --commit-delay 1000000
	api_user bob
	api_user alice
	read -r c0 j0 <<< "$(commit_counts)"
	local best
	best=$(fastest_send "$token" 3)
	read -r c1 j1 <<< "$(commit_counts)"
	# Waiting, each would take a second at least.
	[ "$best" -lt 500 ] || fail "the fastest of 3 sends took $best ms"
	assert_equal "$((c1 - c0))" 3
	assert_equal "$((j1 - j0))" 3
}

@test "--commit-delay 0: a send is committed at once, even with a request under way; parallel sends each 200 stored once" {
	start_own_server --commit-delay 0 --send-rate 100000 \
	    --send-burst 100000
	api_user bob
	api_user alice
	local tok=$token best
	hold_request
	read -r c0 j0 <<< "$(commit_counts)"
	best=$(fastest_send "$tok" 3)
	read -r c1 j1 <<< "$(commit_counts)"
	[ "$best" -lt 500 ] || fail "the fastest of 3 sends took $best ms"
	assert_equal "$((c1 - c0)) $((j1 - j0))" "3 3"
	# As before the flag: a commit holds what queued while the last one
	# flushed, never more than the sends.
	send_parallel 20 "$tok"
	run awk '$2 != 200' "$T/sent"
	assert_output ''
	read -r c2 j2 <<< "$(commit_counts)"
	assert_equal "$((j2 - j1))" 20
	[ "$((c2 - c1))" -ge 1 ] && [ "$((c2 - c1))" -le 20 ]
	printf 's%s 200 - bob\n' 1 2 3 >> "$T/sent"
	stored_once
}

@test "/metrics: e2e_store_commits_total and e2e_store_commit_jobs_total are counters; a sign-up is two commits of one write each" {
	start_own_server --commit-delay 0
	api GET /metrics
	grep -q '^# TYPE e2e_store_commits_total counter$' <<<"$body"
	grep -q '^# TYPE e2e_store_commit_jobs_total counter$' <<<"$body"
	read -r c0 j0 <<< "$(commit_counts)"
	signup carol "pw of carol"
	read -r c1 j1 <<< "$(commit_counts)"
	# The address's sign-ups counted (shared by every server) before
	# the bcrypt, then the account: one at a time, nothing to wait for.
	assert_equal "$((c1 - c0)) $((j1 - j0))" "2 2"
}

@test "/metrics: e2e_store_commit_seconds_total is a counter that grows with the commits" {
	start_own_server --commit-delay 0
	api GET /metrics
	grep -q '^# TYPE e2e_store_commit_seconds_total counter$' <<<"$body"
	s0=$(awk '$1 == "e2e_store_commit_seconds_total" { print $2 }' <<<"$body")
	signup carol "pw of carol"
	api GET /metrics
	s1=$(awk '$1 == "e2e_store_commit_seconds_total" { print $2 }' <<<"$body")
	# Each commit took some time (a clock's tick at least), none an hour.
	run awk -v a="$s0" -v b="$s1" 'BEGIN { exit !(b > a && b - a < 3600) }'
	assert_success
}

# send_threads URL,URL TOKEN NAME,NAME COUNT: 8 threads, each on a kept-
# alive connection to one of the servers in turn, each sending COUNT
# messages to the names at random (seeded); "TEXT STATUS ID TO" lines
# in $T/sent.
send_threads() {
	"$PYTHON" - "$@" > "$T/sent" <<'EOF'
import http.client, json, random, sys, threading, urllib.parse
urls, token, names, count = sys.argv[1].split(","), sys.argv[2], \
    sys.argv[3].split(","), int(sys.argv[4])
out, lock = [], threading.Lock()
def run(k):
    u = urllib.parse.urlsplit(urls[k % len(urls)])
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    rnd = random.Random(k)
    for i in range(count):
        to, text = rnd.choice(names), f"t{k}-{i}"
        c.request("POST", "/messages", json.dumps({"to": to, "message": text}),
                  {"Content-Type": "application/json",
                   "Authorization": "Bearer " + token})
        r = c.getresponse()
        body = r.read()
        mid = json.loads(body)["id"] if r.status == 200 else "-"
        with lock:
            out.append(f"{text} {r.status} {mid} {to}")
threads = [threading.Thread(target=run, args=(k,)) for k in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("\n".join(out))
EOF
}

@test "two servers on one database, sends at once through both to the same recipients: every send 200 and stored once; the writers never deadlock" {
	SERVER_DB=$T/shared.db
	start_server --quiet --send-rate 100000 --send-burst 100000 3>&-
	A_PID=$SERVER_PID
	local a_url=$URL
	start_server --quiet --send-rate 100000 --send-burst 100000 3>&-
	api_user bob
	api_user carol
	api_user dave
	api_user alice
	# Each writer's transaction holds the recipients' rows of its sends,
	# in the order they came: on PostgreSQL two of them at once held
	# them crosswise (a deadlock: a second's wait, then a 503).
	send_threads "$a_url,$URL" "$token" bob,carol,dave 60
	assert_equal "$(wc -l < "$T/sent")" 480
	run awk '$2 != 200' "$T/sent"
	assert_output ''
	stored_once bob carol dave
	run grep -i deadlock "$T/server.log"
	assert_output ''
}
