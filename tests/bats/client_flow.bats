#!/usr/bin/env bats
# The client tools' flows and options (issue 4): e2e-account, e2e-send
# and e2e-recv against a real e2e-server on a free loopback port. Two
# users end to end (signup, signin, keygen, encrypt, send, receive,
# decrypt, deletion), the same with --legacy on both ends, and every
# option: server, home and config lookup, password sources (C4), the
# session file (C2), --limit, --from, --wait, --peek, --follow, whoami
# and signout. The errors are in client_errors.bats.
#
# One server serves the whole file (setup_file); each test uses its own
# user names (suffixed with the test's number) and client homes.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load client_helpers

setup_file() {
	start_shared_server
}

teardown_file() {
	stop_shared_server
}

setup() {
	common_setup
	fixed_keys
	test_names_keys
}

teardown() {
	stop_own_server
}

# ---- the whole flow ----

@test "signup: one JSON line with id, name, server, expires_at, never the token; home 0700, session 0600 (C2)" {
	local f
	f=$(pwfile "$A")
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signup "$A" \
	    --password-file "$f"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 1 ]
	printf '%s\n' "$output" > "$T/out.json"
	# The home and the session (C2).
	[ "$(stat -c %a "$T/homes/$A")" = 700 ]
	[ "$(stat -c %a "$T/homes/$A/session")" = 600 ]
	pycheck '
	out, s = j(sys.argv[1]), j(sys.argv[2])
	assert sorted(out) == ["expires_at", "id", "name", "server"], out
	assert out["name"] == sys.argv[3] and out["server"] == sys.argv[4], out
	assert len(out["id"]) == 26, out
	assert isinstance(out["expires_at"], int), out
	assert out["expires_at"] > time.time() + 3600, out
	assert sorted(s) == ["expires_at", "id", "name", "server", "token"], s
	assert {k: s[k] for k in out} == out, (s, out)
	assert len(s["token"]) > 20
	assert s["token"] not in open(sys.argv[1]).read()
	' "$T/out.json" "$T/homes/$A/session" "$A" "$URL"
	not grep -qi token "$T/out.json"
	# signin prints the same shape, again without the token.
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signin "$A" \
	    --password-file "$f"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" != *"$(token_of "$A")"* ]]
	[[ "$output" != *token* ]]
	run -0 pyj '[sorted(d), d["name"], d["server"]]' <<< "$output"
	[ "$output" = "[[\"expires_at\", \"id\", \"name\", \"server\"], \"$A\", \"$URL\"]" ]
	[ "$(stat -c %a "$T/homes/$A/session")" = 600 ]
}

@test "full flow both ways: keygen, encrypt signed, send, recv oldest first, decrypt --verify" {
	account "$A"
	account "$B"
	run -0 e2e-keygen -o "$T/ka"
	run -0 e2e-keygen -o "$T/kb"
	# alice -> bob, twice: from a file, then from standard input.
	printf 'hello %s\n' "$B" | e2e-encrypt -r "$T/kb.pub" -s "$T/ka" \
	    > "$T/ab1.jwe"
	printf 'again %s\n' "$B" | e2e-encrypt -r "$T/kb.pub" -s "$T/ka" \
	    > "$T/ab2.jwe"
	run --separate-stderr run_as "$A" e2e-send --to "$B" "$T/ab1.jwe"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 1 ]
	printf '%s\n' "$output" > "$T/sent1.json"
	run --separate-stderr run_as "$A" e2e-send --to "$B" < "$T/ab2.jwe"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	printf '%s\n' "$output" > "$T/sent2.json"
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$stderr" ]
	printf '%s\n' "$output" > "$T/b.jsonl"
	[ "${#lines[@]}" -eq 2 ]
	pycheck '
	L, s1, s2 = jl(sys.argv[1]), j(sys.argv[2]), j(sys.argv[3])
	e1, e2 = j(sys.argv[4]), j(sys.argv[5])
	sender, rcpt = sys.argv[6], sys.argv[7]
	for s in (s1, s2):
	    assert sorted(s) == ["id", "to"] and s["to"] == rcpt, s
	assert [sorted(x) for x in L] == [["from", "id", "message",
	    "sent_at", "to"]] * 2, L
	assert [x["id"] for x in L] == [s1["id"], s2["id"]], "oldest first"
	for x in L:
	    assert x["from"] == sender and x["to"] == rcpt, x
	    assert isinstance(x["sent_at"], int), x
	    assert abs(x["sent_at"] - time.time()) < 600, x
	    assert isinstance(x["message"], dict), x
	assert L[0]["message"]["protected"] == e1["protected"]
	assert L[0]["message"] == e1 and L[1]["message"] == e2
	' "$T/b.jsonl" "$T/sent1.json" "$T/sent2.json" "$T/ab1.jwe" \
	    "$T/ab2.jwe" "$A" "$B"
	# bob decrypts each and checks alice's signature.
	pycheck 'print(json.dumps(jl(sys.argv[1])[0]["message"]))' \
	    "$T/b.jsonl" > "$T/m1.jwe"
	pycheck 'print(json.dumps(jl(sys.argv[1])[1]["message"]))' \
	    "$T/b.jsonl" > "$T/m2.jwe"
	run --separate-stderr e2e-decrypt -i "$T/kb" --verify "$T/ka.pub" \
	    "$T/m1.jwe"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$output" = "hello $B" ]
	run --separate-stderr e2e-decrypt -i "$T/kb" --verify "$T/ka.pub" \
	    "$T/m2.jwe"
	[ "$status" -eq 0 ]
	[ "$output" = "again $B" ]
	# Verified for real: another key is not the signer.
	run --separate-stderr e2e-decrypt -i "$T/kb" --verify "$T/carol.pub" \
	    "$T/m1.jwe"
	[ "$status" -eq 65 ]
	# Acknowledged: nothing is left.
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	# bob -> alice.
	printf 'hi %s\n' "$A" | e2e-encrypt -r "$T/ka.pub" -s "$T/kb" \
	    > "$T/ba.jwe"
	run_as "$B" e2e-send --to "$A" "$T/ba.jwe" > "$T/sent3.json"
	run --separate-stderr run_as "$A" e2e-recv
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	printf '%s\n' "$output" > "$T/a.jsonl"
	pycheck '
	(x,), s = jl(sys.argv[1]), j(sys.argv[2])
	assert x["id"] == s["id"] and x["from"] == sys.argv[3], x
	assert x["to"] == sys.argv[4] and x["message"] == j(sys.argv[5])
	print(json.dumps(x["message"]))
	' "$T/a.jsonl" "$T/sent3.json" "$B" "$A" "$T/ba.jwe" > "$T/m3.jwe"
	run --separate-stderr e2e-decrypt -i "$T/ka" --verify "$T/kb.pub" \
	    "$T/m3.jwe"
	[ "$status" -eq 0 ]
	[ "$output" = "hi $A" ]
}

@test "stream mode: e2e-recv | e2e-decrypt -i KEY --verify PUB prints {id, from, ..., text}" {
	e2e-decrypt --help | grep -q -- '--stream' ||
	    skip "e2e-decrypt has no stream mode yet"
	account "$A"
	account "$B"
	send "$A" "$B" "first line"
	cp "$T/last.id" "$T/id1"
	send "$A" "$B" "second line"
	cp "$T/last.id" "$T/id2"
	run --separate-stderr bash -c 'set -o pipefail
	    E2E_HOME=$1 e2e-recv | e2e-decrypt -i "$2" --verify "$3"' _ \
	    "$(home_of "$B")" "$T/$B" "$T/$A.pub"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 2 ]
	printf '%s\n' "$output" > "$T/dec.jsonl"
	pycheck '
	L = jl(sys.argv[1])
	ids = [open(p).read().strip() for p in sys.argv[2:4]]
	assert [x["id"] for x in L] == ids, (L, ids)
	assert [x["text"] for x in L] == ["first line\n", "second line\n"]
	for x in L:
	    assert x["from"] == sys.argv[4], x
	    assert x["verified"] is True, x
	    assert isinstance(x["sent_at"], int), x
	' "$T/dec.jsonl" "$T/id1" "$T/id2" "$A"
	# The messages were acknowledged by e2e-recv.
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "delete --yes: deleted true, session gone, signin again 77, messages to the deleted user 67" {
	account "$A"
	account "$B"
	send "$A" "$B" "waiting for bob"
	local bid
	bid=$(pyj 'd["id"]' < "$T/signup-$B.json")
	run --separate-stderr run_as "$B" e2e-account delete --yes \
	    --password-file "$T/$B.pw"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 1 ]
	run -0 pyj '(sorted(d) == ["deleted", "id", "name"] and
	    d["deleted"] is True and [d["id"], d["name"]])' <<< "$output"
	[ "$output" = "[\"$bid\", \"$B\"]" ]
	[ ! -e "$T/homes/$B/session" ]
	# The account is gone: its password no longer signs in.
	run --separate-stderr run_as "$B" e2e-account --server "$URL" signin \
	    "$B" --password-file "$T/$B.pw"
	client_error e2e-account 77 'wrong name or password'
	[ ! -e "$T/homes/$B/session" ]
	# Sending to it: no such user.
	envelope "$A" "$B" "too late" > "$T/late.jwe"
	run --separate-stderr run_as "$A" e2e-send --to "$B" "$T/late.jwe"
	client_error e2e-send 67 "no such user"
	# Deleting again: not signed in.
	run --separate-stderr run_as "$B" e2e-account --server "$URL" delete --yes
	client_error e2e-account 77 "not signed in"
	# alice is untouched.
	run --separate-stderr run_as "$A" e2e-account whoami
	[ "$status" -eq 0 ]
}

@test "delete asks on the terminal: another name deletes nothing (64), the name and the password delete" {
	account "$A"
	run --separate-stderr with_tty "not-$A" \
	    env E2E_HOME="$(home_of "$A")" e2e-account delete
	client_error e2e-account 64 "not confirmed"
	grep -q "Type its name to confirm" "$T/tty.log"
	[ -e "$T/homes/$A/session" ]
	run --separate-stderr run_as "$A" e2e-recv
	[ "$status" -eq 0 ]
	run --separate-stderr with_tty "$A
$(password_of "$A")" \
	    env E2E_HOME="$(home_of "$A")" e2e-account delete
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	run -0 pyj '[d["name"], d["deleted"]]' <<< "$output"
	[ "$output" = "[\"$A\", true]" ]
	[ ! -e "$T/homes/$A/session" ]
	grep -q "assword" "$T/tty.log"
	# Asked without echo: the password never shows on the terminal.
	run ! grep -q "$(password_of "$A")" "$T/tty.log"
}

@test "delete needs the password as well as the session (a stolen token alone deletes nothing): a wrong one 77 naming it, nothing deleted; without a terminal or --password-file, 64; E2E_PASSWORD works" {
	account "$A"
	printf 'a wrong guess\n' > "$T/wrong.pw"
	chmod 600 "$T/wrong.pw"
	run --separate-stderr run_as "$A" e2e-account delete --yes \
	    --password-file "$T/wrong.pw"
	client_error e2e-account 77 "account deletion: the password is wrong; nothing deleted"
	[ -e "$T/homes/$A/session" ]
	run --separate-stderr run_as "$A" e2e-account whoami
	[ "$status" -eq 0 ]
	run --separate-stderr no_tty env E2E_HOME="$(home_of "$A")" \
	    e2e-account delete --yes
	[ "$status" -eq 64 ] || { echo "$status: $stderr"; false; }
	[ -e "$T/homes/$A/session" ]
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signin "$A" \
	    --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	run --separate-stderr env E2E_PASSWORD="$(password_of "$A")" \
	    E2E_HOME="$(home_of "$A")" e2e-account delete --yes
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ ! -e "$T/homes/$A/session" ]
}

@test "delete without --yes and without a terminal: 64 with a hint naming --yes, nothing deleted" {
	account "$A"
	run --separate-stderr no_tty env E2E_HOME="$(home_of "$A")" \
	    e2e-account delete
	client_error e2e-account 64 "terminal"
	stderr_has '^e2e-account: hint: .*--yes'
	[ -e "$T/homes/$A/session" ]
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signin "$A" \
	    --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
}

# ---- --legacy on both ends ----

@test "--legacy both ends: /messages/sendmessage and /messages/getmessage, each delivered once" {
	account "$A"
	account "$B"
	account "$C"
	envelope "$A" "$B" "legacy one" > "$T/l1.jwe"
	envelope "$A" "$B" "modern two" > "$T/l2.jwe"
	run --separate-stderr run_as "$A" e2e-send -v --legacy --to "$B" "$T/l1.jwe"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	stderr_has '^> POST /messages/sendmessage '
	stderr_has '^> Content-Type: application/x-www-form-urlencoded'
	printf '%s\n' "$output" > "$T/s1.json"
	run -0 pyj 'sorted(d) == ["id", "to"] and d["to"]' < "$T/s1.json"
	[ "$output" = "$B" ]
	run_as "$A" e2e-send --to "$B" "$T/l2.jwe" > "$T/s2.json"
	send "$C" "$B" "from carol"
	# Only alice's, oldest first, through the original route.
	run --separate-stderr run_as "$B" e2e-recv -v --legacy --from "$A"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	stderr_has '^> POST /messages/getmessage '
	printf '%s\n' "$output" | grep '^{' > "$T/got.jsonl"
	pycheck '
	L = jl(sys.argv[1])
	assert [x["id"] for x in L] == [j(sys.argv[2])["id"],
	    j(sys.argv[3])["id"]], L
	assert [x["message"] for x in L] == [j(sys.argv[4]), j(sys.argv[5])]
	assert all(x["from"] == sys.argv[6] for x in L)
	' "$T/got.jsonl" "$T/s1.json" "$T/s2.json" "$T/l1.jwe" "$T/l2.jwe" "$A"
	pycheck 'print(json.dumps(jl(sys.argv[1])[0]["message"]))' \
	    "$T/got.jsonl" > "$T/m.jwe"
	run -0 e2e-decrypt -i "$T/$B" --verify "$T/$A.pub" "$T/m.jwe"
	[ "$output" = "legacy one" ]
	# Once: neither route gives them again; carol's is still there.
	run --separate-stderr run_as "$B" e2e-recv --legacy --from "$A"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	run -0 pyj 'd["from"]' <<< "$output"
	[ "$output" = "$C" ]
}

@test "seed format: sent and received (modern and --legacy), message stays a string" {
	account "$A"
	account "$B"
	printf 'seed hello\n' | e2e-encrypt --format seed -r "$T/$B.pub" \
	    > "$T/s.seed" 2>/dev/null
	run --separate-stderr run_as "$A" e2e-send --legacy --to "$B" "$T/s.seed"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	run --separate-stderr run_as "$A" e2e-send --to "$B" "$T/s.seed"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	run --separate-stderr run_as "$B" e2e-recv --legacy --from "$A" --limit 1
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "${#lines[@]}" -eq 1 ]
	printf '%s\n' "$output" > "$T/r1.jsonl"
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	printf '%s\n' "$output" > "$T/r2.jsonl"
	local f
	for f in r1 r2; do
		pycheck '
		(x,) = jl(sys.argv[1])
		assert isinstance(x["message"], str), x
		assert x["message"] == open(sys.argv[2]).read().rstrip("\n")
		sys.stdout.write(x["message"])
		' "$T/$f.jsonl" "$T/s.seed" > "$T/$f.seed"
		run --separate-stderr e2e-decrypt -i "$T/$B" "$T/$f.seed"
		[ "$status" -eq 0 ] || { echo "$stderr"; false; }
		[ "$output" = "seed hello" ]
	done
}

@test "--legacy needs --from (64), --legacy --peek and --follow --wait refused (64); nothing taken" {
	account "$A"
	account "$B"
	send "$A" "$B" "still here"
	run --separate-stderr run_as "$B" e2e-recv --legacy
	client_error e2e-recv 64 '--legacy needs --from'
	run --separate-stderr run_as "$B" e2e-recv --legacy --from "$A" --peek
	client_error e2e-recv 64 '--peek'
	run --separate-stderr run_as "$B" e2e-recv --follow --wait 5
	client_error e2e-recv 64 '--wait'
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	run -0 pyj 'd["id"]' <<< "$output"
	[ "$output" = "$(cat "$T/last.id")" ]
}

# ---- the server: --server, else E2E_SERVER, else the config, else the session ----

@test "server: --server beats E2E_SERVER, which beats the config file" {
	account "$A"
	local wrong f
	wrong=http://127.0.0.1:$(free_port)
	f=$T/$A.pw
	(umask 077 && printf 'server = %s\n' "$wrong" > "$T/homes/$A/config")
	# A wrong config, the right E2E_SERVER: E2E_SERVER is used.
	run --separate-stderr env E2E_HOME="$(home_of "$A")" E2E_SERVER="$URL" \
	    e2e-account --retry-time 0 signin "$A" --password-file "$f"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	run -0 pyj 'd["server"]' <<< "$output"
	[ "$output" = "$URL" ]
	# A wrong E2E_SERVER (and config), the right --server: --server.
	run --separate-stderr env E2E_HOME="$(home_of "$A")" E2E_SERVER="$wrong" \
	    e2e-account --retry-time 0 --server "$URL" signin "$A" \
	    --password-file "$f"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	run -0 pyj 'd["server"]' <<< "$output"
	[ "$output" = "$URL" ]
	# And the other way round: the higher one wins even when wrong.
	(umask 077 && printf 'server = %s\n' "$URL" > "$T/homes/$A/config")
	run --separate-stderr env E2E_HOME="$(home_of "$A")" E2E_SERVER="$wrong" \
	    e2e-account --retry-time 0 signin "$A" --password-file "$f"
	client_error e2e-account 75 "cannot reach the server $wrong"
	run --separate-stderr env E2E_HOME="$(home_of "$A")" E2E_SERVER="$URL" \
	    e2e-account --retry-time 0 --server "$wrong" signin "$A" \
	    --password-file "$f"
	client_error e2e-account 75 "cannot reach the server $wrong"
}

@test "server: the config file's when no --server nor E2E_SERVER, else the session's" {
	account "$A"
	local wrong
	wrong=http://127.0.0.1:$(free_port)
	# Neither: the session's server.
	run --separate-stderr run_as "$A" e2e-recv --retry-time 0
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	# The config's beats the session's.
	(umask 077 && printf 'server = %s\n' "$wrong" > "$T/homes/$A/config")
	run --separate-stderr run_as "$A" e2e-account --retry-time 0 signin "$A" \
	    --password-file "$T/$A.pw"
	client_error e2e-account 75 "cannot reach the server $wrong"
	(umask 077 && printf 'server = %s\n' "$URL" > "$T/homes/$A/config")
	run --separate-stderr run_as "$A" e2e-account --retry-time 0 signin "$A" \
	    --password-file "$T/$A.pw"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	run -0 pyj 'd["server"]' <<< "$output"
	[ "$output" = "$URL" ]
	# No server anywhere and no session: 64, saying where to give one.
	run --separate-stderr env E2E_HOME="$T/nohome" e2e-account signin "$A" \
	    --password-file "$T/$A.pw"
	client_error e2e-account 64 "no server"
	stderr_has '^e2e-account: hint: .*--server'
}

# ---- the client home: E2E_HOME, else $XDG_CONFIG_HOME/e2e, else ~/.config/e2e ----

@test "home: \$XDG_CONFIG_HOME/e2e without E2E_HOME, created 0700; E2E_HOME beats it" {
	local f
	f=$(pwfile "$A")
	run --separate-stderr env -u E2E_HOME XDG_CONFIG_HOME="$T/xdg" \
	    e2e-account --server "$URL" signup "$A" --password-file "$f"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -f "$T/xdg/e2e/session" ]
	[ "$(stat -c %a "$T/xdg")" = 700 ]
	[ "$(stat -c %a "$T/xdg/e2e")" = 700 ]
	[ "$(stat -c %a "$T/xdg/e2e/session")" = 600 ]
	[ ! -e "$HOME/.config" ]
	run -0 pyj 'd["name"]' < "$T/xdg/e2e/session"
	[ "$output" = "$A" ]
	run --separate-stderr env -u E2E_HOME XDG_CONFIG_HOME="$T/xdg" \
	    e2e-account whoami
	[ "$status" -eq 0 ]
	# E2E_HOME first: a session there, none in the XDG folder.
	run --separate-stderr env E2E_HOME="$T/eh" XDG_CONFIG_HOME="$T/xdg2" \
	    e2e-account --server "$URL" signin "$A" --password-file "$f"
	[ "$status" -eq 0 ]
	[ -f "$T/eh/session" ]
	[ "$(stat -c %a "$T/eh")" = 700 ]
	[ ! -e "$T/xdg2" ]
}

@test "home: ~/.config/e2e without E2E_HOME and XDG_CONFIG_HOME (or a relative one), folders 0700" {
	local f
	f=$(pwfile "$A")
	run --separate-stderr env -u E2E_HOME -u XDG_CONFIG_HOME \
	    e2e-account --server "$URL" signup "$A" --password-file "$f"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -f "$HOME/.config/e2e/session" ]
	[ "$(stat -c %a "$HOME/.config")" = 700 ]
	[ "$(stat -c %a "$HOME/.config/e2e")" = 700 ]
	[ "$(stat -c %a "$HOME/.config/e2e/session")" = 600 ]
	run -0 pyj 'd["name"]' < "$HOME/.config/e2e/session"
	[ "$output" = "$A" ]
	# A relative XDG_CONFIG_HOME is ignored (XDG spec): ~/.config again.
	rm "$HOME/.config/e2e/session"
	run --separate-stderr env -u E2E_HOME XDG_CONFIG_HOME=relative \
	    e2e-account --server "$URL" signin "$A" --password-file "$f"
	[ "$status" -eq 0 ]
	[ -f "$HOME/.config/e2e/session" ]
	[ ! -e "$T/relative" ]
}

# ---- the config file ----

@test "config: comments, blank lines and spaces are fine; server taken from it" {
	account "$A"
	printf '%s\n' '# the server' '' "   server   =   $URL   " \
	    '  # indented comment' '' > "$T/homes/$A/config"
	chmod 600 "$T/homes/$A/config"
	run --separate-stderr run_as "$A" e2e-account signin "$A" \
	    --password-file "$T/$A.pw"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$stderr" ]
	run -0 pyj 'd["server"]' <<< "$output"
	[ "$output" = "$URL" ]
	# Readable by others is fine (only writable is not).
	chmod 644 "$T/homes/$A/config"
	run --separate-stderr run_as "$A" e2e-recv
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
}

@test "config: unknown key, duplicate key, a line without '=', an empty value: 78 with file:line" {
	account "$A"
	local cfg=$T/homes/$A/config tool
	printf '# ok\nserver = %s\ncolour = blue\n' "$URL" > "$cfg"
	chmod 600 "$cfg"
	for tool in e2e-account e2e-send e2e-recv; do
		case $tool in
		e2e-account) run --separate-stderr run_as "$A" $tool whoami ;;
		e2e-send) run --separate-stderr run_as "$A" $tool --to "$A" \
		    "$T/alice.pub" ;;
		*) run --separate-stderr run_as "$A" $tool ;;
		esac
		client_error "$tool" 78 "$cfg:3: unknown key"
	done
	printf 'server = %s\n\nserver = %s\n' "$URL" "$URL" > "$cfg"
	run --separate-stderr run_as "$A" e2e-recv
	client_error e2e-recv 78 "$cfg:3: .*twice"
	printf 'server %s\n' "$URL" > "$cfg"
	run --separate-stderr run_as "$A" e2e-recv
	client_error e2e-recv 78 "$cfg:1: "
	printf '\nproxy =\n' > "$cfg"
	run --separate-stderr run_as "$A" e2e-recv
	client_error e2e-recv 78 "$cfg:2: .*empty"
}

@test "config: writable by group or others is refused (78)" {
	account "$A"
	local cfg=$T/homes/$A/config mode
	printf 'server = %s\n' "$URL" > "$cfg"
	for mode in 620 602 666; do
		chmod "$mode" "$cfg"
		run --separate-stderr run_as "$A" e2e-recv
		client_error e2e-recv 78 "$cfg.*other users"
		run --separate-stderr run_as "$A" e2e-account signin "$A" \
		    --password-file "$T/$A.pw"
		client_error e2e-account 78 "$cfg.*other users"
	done
	chmod 600 "$cfg"
	run --separate-stderr run_as "$A" e2e-recv
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
}

# ---- passwords (C4) ----

@test "password: --password-file - reads standard input; E2E_PASSWORD; the file beats the variable" {
	local f
	f=$(pwfile "$A")
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signup \
	    "$A" --password-file - < "$f"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	rm "$T/homes/$A/session"
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signin \
	    "$A" --password-file - < "$f"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -f "$T/homes/$A/session" ]
	rm "$T/homes/$A/session"
	run --separate-stderr env E2E_HOME="$(home_of "$A")" \
	    E2E_PASSWORD="$(password_of "$A")" \
	    e2e-account --server "$URL" signin "$A"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -f "$T/homes/$A/session" ]
	rm "$T/homes/$A/session"
	# Only the first line of the file is the password.
	printf '%s\nsecond line\n' "$(password_of "$A")" > "$T/two.pw"
	chmod 600 "$T/two.pw"
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signin \
	    "$A" --password-file "$T/two.pw"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	rm "$T/homes/$A/session"
	# The file first: a wrong variable does not matter...
	run --separate-stderr env E2E_HOME="$(home_of "$A")" \
	    E2E_PASSWORD=wrong e2e-account --server "$URL" signin "$A" \
	    --password-file "$f"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	# ...and a wrong file is not rescued by the right variable.
	printf 'wrong\n' > "$T/wrong.pw"
	chmod 600 "$T/wrong.pw"
	run --separate-stderr env E2E_HOME="$(home_of "$A")" \
	    E2E_PASSWORD="$(password_of "$A")" e2e-account --server "$URL" \
	    signin "$A" --password-file "$T/wrong.pw"
	client_error e2e-account 77 'wrong name or password'
}

@test "password: --password, --password=x, --pass are refused (64) with a hint naming --password-file, the file unread (C4)" {
	account "$A"
	rm "$T/homes/$A/session"
	# The file holds the right password: read, it would sign in.
	local f=$T/$A.pw form
	for form in "--password $f" "--password=$f" "--pass $f" \
	    "--passw=$f" "--password"; do
		# shellcheck disable=SC2086
		run --separate-stderr run_as "$A" e2e-account --server "$URL" \
		    signin "$A" $form
		client_error e2e-account 64 'no --password option'
		stderr_has '^e2e-account: hint: .*--password-file'
		[ ! -e "$T/homes/$A/session" ]
		# shellcheck disable=SC2086
		run --separate-stderr run_as "$A" e2e-account $form \
		    --server "$URL" signup "x$A"
		client_error e2e-account 64 'no --password option'
	done
	# The other tools refuse it too.
	run --separate-stderr run_as "$A" e2e-send --password "$f" --to "$A"
	client_error e2e-send 64 'no --password option'
	run --separate-stderr run_as "$A" e2e-recv --password="$f"
	client_error e2e-recv 64 'no --password option'
	# Nothing was signed up under the other name.
	run --separate-stderr env E2E_HOME="$T/other" \
	    E2E_PASSWORD="$(password_of "$A")" e2e-account --server "$URL" \
	    signin "x$A"
	client_error e2e-account 77 'wrong name or password'
}

@test "options: abbreviations of long options are refused (64)" {
	account "$A"
	rm "$T/homes/$A/session"
	run --separate-stderr run_as "$A" e2e-account --serv "$URL" signin "$A" \
	    --password-file "$T/$A.pw"
	client_error e2e-account 64 'option --serv is abbreviated; write --server in full'
	[ ! -e "$T/homes/$A/session" ]
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signin \
	    "$A" --password-f "$T/$A.pw"
	[ "$status" -eq 64 ]
	[ ! -e "$T/homes/$A/session" ]
	run --separate-stderr run_as "$A" e2e-account --server="$URL" signin \
	    "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	envelope "$A" "$A" "to myself" > "$T/me.jwe"
	run --separate-stderr run_as "$A" e2e-send --t "$A" "$T/me.jwe"
	client_error e2e-send 64 'option --t is abbreviated; write --to in full'
	run --separate-stderr run_as "$A" e2e-send --to "$A" --retry 0 \
	    "$T/me.jwe"
	client_error e2e-send 64 'option --retry is abbreviated; write --retry-time in full'
	run --separate-stderr run_as "$A" e2e-recv --lim 1
	client_error e2e-recv 64 'option --lim is abbreviated; write --limit in full'
	run --separate-stderr run_as "$A" e2e-account delete --ye
	client_error e2e-account 64 'option --ye is abbreviated; write --yes in full'
	# Nothing was sent, nothing deleted.
	run --separate-stderr run_as "$A" e2e-recv
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "options: before or after the command word" {
	account "$A"
	rm "$T/homes/$A/session"
	run --separate-stderr run_as "$A" e2e-account --password-file \
	    "$T/$A.pw" --server "$URL" signin "$A"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	rm "$T/homes/$A/session"
	run --separate-stderr run_as "$A" e2e-account signin "$A" --server \
	    "$URL" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	run --separate-stderr run_as "$A" e2e-account whoami --retry-time 0
	[ "$status" -eq 0 ]
}

@test "signup on the terminal: asked twice without echo; two different entries refused (65), no account" {
	run --separate-stderr with_tty $'first secret\nsecond secret' \
	    env E2E_HOME="$(home_of "$A")" e2e-account --server "$URL" \
	    signup "$A"
	client_error e2e-account 65 'differ'
	grep -q "Password for $A: " "$T/tty.log"
	grep -q "again: " "$T/tty.log"
	not grep -q secret "$T/tty.log"
	[ ! -e "$T/homes/$A/session" ]
	run --separate-stderr env E2E_HOME="$T/h2" E2E_PASSWORD='first secret' \
	    e2e-account --server "$URL" signin "$A"
	client_error e2e-account 77 'wrong name or password'
	# The same twice: signed up and in; only JSON on stdout.
	run --separate-stderr with_tty $'same secret\nsame secret' \
	    env E2E_HOME="$(home_of "$A")" e2e-account --server "$URL" \
	    signup "$A"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "${#lines[@]}" -eq 1 ]
	run -0 pyj 'd["name"]' <<< "$output"
	[ "$output" = "$A" ]
	not grep -q secret "$T/tty.log"
	[ -f "$T/homes/$A/session" ]
	# signin asks once.
	rm "$T/homes/$A/session"
	run --separate-stderr with_tty 'same secret' \
	    env E2E_HOME="$(home_of "$A")" e2e-account --server "$URL" \
	    signin "$A"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(grep -c 'Password for' "$T/tty.log")" -eq 1 ]
	not grep -q again "$T/tty.log"
}

@test "signup and signin with no password source and no terminal: 64, hint naming --password-file" {
	run --separate-stderr no_tty env E2E_HOME="$(home_of "$A")" \
	    e2e-account --server "$URL" signup "$A"
	client_error e2e-account 64 'no terminal'
	stderr_has '^e2e-account: hint: .*--password-file'
	[ ! -e "$T/homes/$A/session" ]
	account "$A"
	rm "$T/homes/$A/session"
	run --separate-stderr no_tty env E2E_HOME="$(home_of "$A")" \
	    e2e-account --server "$URL" signin "$A"
	client_error e2e-account 64 'no terminal'
	[ ! -e "$T/homes/$A/session" ]
}

# ---- e2e-recv's options ----

@test "recv --limit N: exactly N, the oldest; the rest stay for the next run" {
	account "$A"
	account "$B"
	local i
	: > "$T/ids"
	for i in 1 2 3 4 5; do
		send "$A" "$B" "message $i"
		cat "$T/last.id" >> "$T/ids"
	done
	run --separate-stderr run_as "$B" e2e-recv --limit 2
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "${#lines[@]}" -eq 2 ]
	printf '%s\n' "$output" > "$T/r1.jsonl"
	run --separate-stderr run_as "$B" e2e-recv --limit 10
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	printf '%s\n' "$output" > "$T/r2.jsonl"
	pycheck '
	ids = open(sys.argv[1]).read().split()
	assert [x["id"] for x in jl(sys.argv[2])] == ids[:2]
	assert [x["id"] for x in jl(sys.argv[3])] == ids[2:]
	' "$T/ids" "$T/r1.jsonl" "$T/r2.jsonl"
	run --separate-stderr run_as "$B" e2e-recv --limit 1
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run --separate-stderr run_as "$B" e2e-recv --limit 0
	client_error e2e-recv 64 'limit'
	run --separate-stderr run_as "$B" e2e-recv --limit two
	client_error e2e-recv 64 'limit'
}

@test "recv --from NAME: only that sender's; the others stay" {
	account "$A"
	account "$B"
	account "$C"
	send "$A" "$B" "a1"
	cp "$T/last.id" "$T/a1"
	send "$C" "$B" "c1"
	cp "$T/last.id" "$T/c1"
	send "$A" "$B" "a2"
	cp "$T/last.id" "$T/a2"
	run --separate-stderr run_as "$B" e2e-recv --from "$C"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "${#lines[@]}" -eq 1 ]
	run -0 pyj '[d["id"], d["from"]]' <<< "$output"
	[ "$output" = "[\"$(cat "$T/c1")\", \"$C\"]" ]
	run --separate-stderr run_as "$B" e2e-recv --from "$C"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > "$T/rest.jsonl"
	run -0 pyl '[x["id"] for x in L]' < "$T/rest.jsonl"
	[ "$output" = "[\"$(cat "$T/a1")\", \"$(cat "$T/a2")\"]" ]
	run --separate-stderr run_as "$B" e2e-recv --from 'not a name'
	client_error e2e-recv 64 'from'
}

@test "recv --wait S: returns as soon as a message is sent during the wait" {
	account "$A"
	account "$B"
	local t0 t1 rc=0
	t0=$(now_ms)
	env E2E_HOME="$(home_of "$B")" e2e-recv --wait 30 > "$T/out" \
	    2> "$T/err" 3>&- &
	local pid=$!
	BG_PIDS=$pid
	sleep 1
	send "$A" "$B" "while waiting"
	wait "$pid" || rc=$?
	t1=$(now_ms)
	BG_PIDS=
	[ "$rc" -eq 0 ] || { cat "$T/err"; false; }
	[ ! -s "$T/err" ]
	# Well before the 30 s.
	[ $((t1 - t0)) -lt 10000 ] || { echo "took $((t1 - t0)) ms"; false; }
	[ "$(wc -l < "$T/out")" -eq 1 ]
	run -0 pyj 'd["id"]' < "$T/out"
	[ "$output" = "$(cat "$T/last.id")" ]
}

# receivers_waiting: the receivers the server counts in a long-poll
# (e2e_receivers_waiting of /metrics, served to loopback clients), or
# "none" when it does not answer.
receivers_waiting() {
	local n
	n=$(curl -s --max-time 10 "$URL/metrics" |
	    awk '$1 == "e2e_receivers_waiting" { print $2 }')
	echo "${n:-none}"
}

# sigint_caught PID: process PID has a handler for SIGINT (bit 2 of its
# SigCgt mask in /proc).
sigint_caught() {
	local mask
	mask=$(awk '$1 == "SigCgt:" { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -n "$mask" ] && [ $((0x$mask & 2)) -ne 0 ]
}

# A bound on time that valgrind's slowness breaks: not run by make memcheck
# (scripts/memcheck.sh).
# bats test_tags=timing
@test "recv --wait S: nothing came, returns empty after about S seconds" {
	account "$B"
	local t0 t1
	t0=$(now_ms)
	run --separate-stderr run_as "$B" e2e-recv --wait 5
	t1=$(now_ms)
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$output" ]
	[ -z "$stderr" ]
	# Whole seconds: at least 4 s of the 5 (a second's edge may cut one).
	[ $((t1 - t0)) -ge 3900 ] || { echo "took $((t1 - t0)) ms"; false; }
	[ $((t1 - t0)) -lt 15000 ] || { echo "took $((t1 - t0)) ms"; false; }
	# Without --wait: at once, well before a wait of 5 s would end
	# (generous for a loaded machine, or valgrind).
	t0=$(now_ms)
	run --separate-stderr run_as "$B" e2e-recv
	t1=$(now_ms)
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ $((t1 - t0)) -lt 3500 ] || { echo "took $((t1 - t0)) ms"; false; }
}

@test "recv --peek: printed, not acknowledged: printed again by the next run" {
	account "$A"
	account "$B"
	send "$A" "$B" "p1"
	send "$A" "$B" "p2"
	run --separate-stderr run_as "$B" e2e-recv --peek
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "${#lines[@]}" -eq 2 ]
	local first=$output
	run --separate-stderr run_as "$B" e2e-recv --peek
	[ "$status" -eq 0 ]
	[ "$output" = "$first" ]
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ]
	[ "$output" = "$first" ]
	run --separate-stderr run_as "$B" e2e-recv --peek
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

# A bound on time that valgrind's slowness breaks: not run by make memcheck
# (scripts/memcheck.sh).
# bats test_tags=timing
@test "recv --follow: prints messages as they come; SIGTERM ends it with 0 within a few seconds, all acknowledged" {
	account "$A"
	account "$B"
	# env, so that $! is e2e-recv itself (it execs).
	env E2E_HOME="$(home_of "$B")" e2e-recv --follow > "$T/out" \
	    2> "$T/err" 3>&- &
	local pid=$! i rc=0
	BG_PIDS=$pid
	: > "$T/ids"
	for i in 1 2 3; do
		sleep 0.3
		send "$A" "$B" "follow $i"
		cat "$T/last.id" >> "$T/ids"
	done
	# All three appear (up to 15 s).
	for i in $(seq 1 150); do
		[ "$(wc -l < "$T/out")" -ge 3 ] && break
		sleep 0.1
	done
	[ "$(wc -l < "$T/out")" -eq 3 ] || { cat "$T/out" "$T/err"; false; }
	kill -0 "$pid"
	local t0 t1
	t0=$(now_ms)
	kill -TERM "$pid"
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	t1=$(now_ms)
	! kill -0 "$pid" 2>/dev/null || { echo "still running after SIGTERM"; false; }
	wait "$pid" || rc=$?
	BG_PIDS=
	[ "$rc" -eq 0 ] || { echo "exit $rc"; cat "$T/err"; false; }
	[ $((t1 - t0)) -lt 5000 ]
	[ ! -s "$T/err" ]
	pycheck '
	assert [x["id"] for x in jl(sys.argv[1])] == open(sys.argv[2]).read().split()
	' "$T/out" "$T/ids"
	# They were acknowledged.
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# SIGINT ends it as well, also while it waits: the server counts
	# the second one's long-poll only (the first one's is gone once the
	# server has seen it close).
	for i in $(seq 1 200); do
		[ "$(receivers_waiting)" = 0 ] && break
		sleep 0.05
	done
	[ "$(receivers_waiting)" = 0 ] ||
	    { echo "the first --follow still waits on the server"; false; }
	env E2E_HOME="$(home_of "$B")" e2e-recv --follow > "$T/out2" \
	    2> "$T/err2" 3>&- &
	pid=$!
	BG_PIDS=$pid
	# SIGINT once e2e-recv catches it (before, a background job of
	# this shell ignores SIGINT: the signal would be lost), and once
	# it waits in its long-poll (the server counts it).
	# Up to 60 s: the handler is set right after the options, but a
	# loaded machine (load 18) has taken more than 10 s to get there.
	for i in $(seq 1 1200); do
		sigint_caught "$pid" && [ "$(receivers_waiting)" = 1 ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if ! kill -0 "$pid" 2>/dev/null; then
		rc=0
		wait "$pid" || rc=$?
		BG_PIDS=
		echo "e2e-recv --follow ended (exit $rc) before SIGINT was" \
		    "sent; its stderr:"
		cat "$T/err2"
		false
	fi
	sigint_caught "$pid" || {
		echo "e2e-recv --follow, still running after 60 s, never" \
		    "caught SIGINT; its stderr:"
		cat "$T/err2"
		false
	}
	[ "$(receivers_waiting)" = 1 ] || {
		echo "e2e-recv --follow, still running after 60 s, never" \
		    "waited on the server ($(receivers_waiting) waiting);" \
		    "its stderr:"
		cat "$T/err2"
		false
	}
	kill -INT "$pid"
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	! kill -0 "$pid" 2>/dev/null || { echo "still running after SIGINT"; false; }
	rc=0
	wait "$pid" || rc=$?
	BG_PIDS=
	[ "$rc" -eq 0 ] || { echo "exit $rc"; cat "$T/err2"; false; }
	[ ! -s "$T/out2" ]
}

@test "recv: no messages prints nothing and exits 0" {
	account "$B"
	run --separate-stderr run_as "$B" e2e-recv
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
}

# ---- the session: whoami, signout, expiry, protection (C2) ----

@test "whoami: 77 'not signed in' before signin; after, the session JSON with expired false" {
	run --separate-stderr run_as "$A" e2e-account whoami
	client_error e2e-account 77 'not signed in'
	account "$A"
	run --separate-stderr run_as "$A" e2e-account whoami
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 1 ]
	printf '%s\n' "$output" > "$T/who.json"
	pycheck '
	w, s = j(sys.argv[1]), j(sys.argv[2])
	assert sorted(w) == ["expired", "expires_at", "id", "name", "server"], w
	assert w["expired"] is False, w
	assert [w[k] for k in ("id", "name", "server", "expires_at")] == \
	    [s[k] for k in ("id", "name", "server", "expires_at")]
	assert w["server"] == sys.argv[3]
	' "$T/who.json" "$T/homes/$A/session" "$URL"
	not grep -q "$(token_of "$A")" "$T/who.json"
}

@test "expired session: whoami prints expired true (77); send and recv 77 'sign in again' without contacting the server" {
	account "$A"
	account "$B"
	session_set "$A" expires_at "$(( $(date +%s) - 60 ))"
	[ "$(stat -c %a "$T/homes/$A/session")" = 600 ]
	run --separate-stderr run_as "$A" e2e-account whoami
	[ "$status" -eq 77 ]
	run -0 pyj '[d["expired"], d["name"]]' <<< "$output"
	[ "$output" = "[true, \"$A\"]" ]
	stderr_has '^e2e-account: error: .*expired'
	stderr_has '^e2e-account: hint: sign in again'
	envelope "$A" "$B" "late" > "$T/m.jwe"
	# -v would show any exchange: there is none.
	run --separate-stderr run_as "$A" e2e-send -v --to "$B" "$T/m.jwe"
	client_error e2e-send 77 'expired'
	stderr_has '^e2e-send: hint: sign in again: e2e-account signin '"$A"
	run --separate-stderr run_as "$A" e2e-recv -v
	client_error e2e-recv 77 'expired'
	stderr_has '^e2e-recv: hint: sign in again'
	run --separate-stderr run_as "$B" e2e-recv
	[ -z "$output" ]
	# Signing in again mends it.
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signin \
	    "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ]
	run --separate-stderr run_as "$A" e2e-account whoami
	[ "$status" -eq 0 ]
	run -0 pyj 'd["expired"]' <<< "$output"
	[ "$output" = false ]
}

@test "signout: {\"signed_out\":true,\"revoked\":true}, then false; afterwards not signed in (77)" {
	account "$A"
	# The server revokes the session's token too (issue 9, A9 in
	# server_accounts.bats).
	run --separate-stderr run_as "$A" e2e-account signout
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = '{"signed_out":true,"revoked":true}' ]
	[ ! -e "$T/homes/$A/session" ]
	run --separate-stderr run_as "$A" e2e-account signout
	[ "$status" -eq 0 ]
	[ "$output" = '{"signed_out":false}' ]
	run --separate-stderr run_as "$A" e2e-account whoami
	client_error e2e-account 77 'not signed in'
	run --separate-stderr run_as "$A" e2e-recv --server "$URL"
	client_error e2e-recv 77 'not signed in'
	run --separate-stderr run_as "$A" e2e-send --server "$URL" --to "$A" \
	    "$T/alice.pub"
	client_error e2e-send 77 'not signed in'
}

@test "session file readable by others (0644, 0640) is refused: 77 (C2)" {
	account "$A"
	local mode
	for mode in 644 640 604; do
		chmod "$mode" "$T/homes/$A/session"
		run --separate-stderr run_as "$A" e2e-recv
		client_error e2e-recv 77 'read by other users'
		run --separate-stderr run_as "$A" e2e-account whoami
		client_error e2e-account 77 'read by other users'
		run --separate-stderr run_as "$A" e2e-send --to "$A" \
		    "$T/alice.pub"
		client_error e2e-send 77 'read by other users'
	done
	chmod 600 "$T/homes/$A/session"
	run --separate-stderr run_as "$A" e2e-recv
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
}

@test "session file as a symlink is refused (77) (C2)" {
	account "$A"
	mv "$T/homes/$A/session" "$T/real-session"
	ln -s "$T/real-session" "$T/homes/$A/session"
	run --separate-stderr run_as "$A" e2e-recv
	client_error e2e-recv 77 'symbolic link'
	run --separate-stderr run_as "$A" e2e-account whoami
	client_error e2e-account 77 'symbolic link'
	run --separate-stderr run_as "$A" e2e-send --to "$A" "$T/alice.pub"
	client_error e2e-send 77 'symbolic link'
	# Without the link, the same session works.
	rm "$T/homes/$A/session"
	mv "$T/real-session" "$T/homes/$A/session"
	run --separate-stderr run_as "$A" e2e-recv
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
}

@test "a refused session (0644, symlink): signout removes it and signin replaces it, as the hint says (C2)" {
	account "$A"
	# 0644: the hint says "e2e-account signout; e2e-account signin NAME".
	chmod 644 "$T/homes/$A/session"
	run --separate-stderr run_as "$A" e2e-recv
	[ "$status" -eq 77 ]
	stderr_has '^e2e-recv: hint: .*e2e-account signout'
	# A session file that cannot be used cannot be revoked: forgotten
	# all the same, and said so.
	run --separate-stderr run_as "$A" e2e-account signout
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$output" = '{"signed_out":true,"revoked":false}' ]
	stderr_has '^e2e-account: warning: .*not revoked'
	[ ! -e "$T/homes/$A/session" ]
	# A symlink: signin replaces the link, never writes its target.
	echo 'not a session' > "$T/target"
	ln -s "$T/target" "$T/homes/$A/session"
	run --separate-stderr run_as "$A" e2e-account --server "$URL" signin \
	    "$A" --password-file "$T/$A.pw"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(cat "$T/target")" = 'not a session' ]
	[ ! -L "$T/homes/$A/session" ]
	[ "$(stat -c %a "$T/homes/$A/session")" = 600 ]
	run --separate-stderr run_as "$A" e2e-recv
	[ "$status" -eq 0 ]
}

@test "session file owned by another user is refused (77); a config file too (78) (C2)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to give a file to another user"
	account "$A"
	chown 65534 "$T/homes/$A/session"
	run --separate-stderr run_as "$A" e2e-recv
	client_error e2e-recv 77 'another user'
	run --separate-stderr run_as "$A" e2e-account whoami
	client_error e2e-account 77 'another user'
	chown 0 "$T/homes/$A/session"
	printf 'server = %s\n' "$URL" > "$T/homes/$A/config"
	chmod 600 "$T/homes/$A/config"
	chown 65534 "$T/homes/$A/config"
	run --separate-stderr run_as "$A" e2e-recv
	client_error e2e-recv 78 'other users'
	chown 0 "$T/homes/$A/config"
	run --separate-stderr run_as "$A" e2e-recv
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
}

@test "session for another server URL: send and recv refuse it (77) and say to sign in there" {
	account "$A"
	session_set "$A" server '"http://127.0.0.1:1"'
	run --separate-stderr run_as "$A" e2e-recv --server "$URL"
	client_error e2e-recv 77 'signed in to http://127.0.0.1:1, not to this server'
	stderr_has '^e2e-recv: hint: .*e2e-account signin'
	run --separate-stderr run_as "$A" e2e-send --server "$URL" --to "$A" \
	    "$T/alice.pub"
	client_error e2e-send 77 'not to this server'
	# localhost is another URL than 127.0.0.1, even for the same server.
	session_set "$A" server "\"http://localhost:$PORT\""
	run --separate-stderr run_as "$A" e2e-recv --server "$URL"
	client_error e2e-recv 77 'not to this server'
}

@test "e2e-recv escapes what others wrote to ASCII: no C1 control, DEL or bidi mark reaches a terminal raw" {
	account "$A"
	account "$B"
	# Any user can store any string; A sends C1 OSC/ST, DEL and U+202E.
	curl -s -o /dev/null -H "Authorization: Bearer $(token_of "$A")" \
	    -H 'Content-Type: application/json' \
	    -d "{\"to\":\"$B\",\"message\":\"x\\u009d52;c;\\u009c\\u007f\\u202ey\"}" \
	    "$URL/messages"
	run --separate-stderr run_as "$B" e2e-recv --peek
	[ "$status" -eq 0 ] || fail "$stderr"
	[[ "$output" == *'"message":"x\u009D52;c;\u009C\u007F\u202Ey"'* ]] ||
	    fail "$output"
	# Only printable ASCII on the line.
	LC_ALL=C; [[ "$output" != *[^[:print:]]* ]] || fail "raw bytes: $output"
	# A JSON reader gets the same string back.
	[ "$(printf '%s\n' "$output" | pyj 'd["message"]' | od -An -c | tr -s ' ')" = \
	    "$(printf 'x\302\23552;c;\302\234\177\342\200\256y\n' | od -An -c | tr -s ' ')" ]
}
