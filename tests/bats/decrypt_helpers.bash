# Shared by decrypt_stream.bats and decrypt_threads.bats: a tampered
# envelope, and e2e-decrypt reading a fifo whose writing end the test
# holds, to see each record's line printed before the input ends.

# tampered_copy IN OUT: envelope IN with one character in the middle of
# its ciphertext changed, into OUT.
tampered_copy() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import json, sys
t = open(sys.argv[1]).read().rstrip("\n")
ct = json.loads(t)["ciphertext"]
i = len(ct) // 2
bad = ct[:i] + ("A" if ct[i] != "A" else "B") + ct[i + 1:]
open(sys.argv[2], "w").write(t.replace(ct, bad) + "\n")
EOF
}

# live_records: r1 (alice's signed s.jwe) and r2 (the unsigned u.jwe),
# one record each.
live_records() {
	record 01A alice s.jwe 1764380001 > r1
	record 01B alice u.jwe 1764380002 > r2
}

# live_start OPTION...: e2e-decrypt -i bob OPTION... in the background
# ($DPID) on the fifo "in", its output in out and err. The read and
# write ends are held here (fd 5): opening never blocks, and the end of
# input comes only when live_end closes fd 5.
live_start() {
	mkfifo in
	exec 5<>in
	e2e-decrypt -i bob "$@" in > out 2> err 3>&- 5>&- &
	DPID=$!
}

# live_send FILE N: writes FILE to the fifo and waits (10 s at most) for
# the Nth line of out; e2e-decrypt must still be running, its input
# still open.
live_send() {
	local i
	cat "$1" >&5
	for ((i = 0; i < 100; i++)); do
		[ "$(wc -l < out)" -ge "$2" ] && break
		sleep 0.1
	done
	kill -0 "$DPID" || fail "e2e-decrypt has exited"
	assert_equal "$(wc -l < out)" "$2"
}

# live_end: closes the input; e2e-decrypt ends by itself (10 s at most),
# with 0 and nothing on stderr.
live_end() {
	local i st=0
	exec 5>&-
	for ((i = 0; i < 100; i++)); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$DPID" 2>/dev/null && fail "e2e-decrypt did not end with its input"
	wait "$DPID" || st=$?
	DPID=
	assert_equal "$st" 0
	assert_equal "$(cat err)" ""
}

# live_teardown: what a failed test left running.
live_teardown() {
	if [ -n "${DPID:-}" ]; then
		kill "$DPID" 2>/dev/null || true
	fi
	exec 5>&- || true
}
