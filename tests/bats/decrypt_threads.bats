#!/usr/bin/env bats
# e2e-decrypt's stream mode on several threads (issue 14, --threads N):
# lib/keys/stream.c, lib/base/opool.c, cmd/e2e-decrypt/main.c. Records
# are opened on a pool of threads and printed in input order, with the
# decisions that depend on the records before (replays, E4; the seed
# format refused once a contact signed, L2) taken in input order as one
# thread takes them: every run below must give the same bytes, on
# standard output and on standard error, whatever the threads.
# Catalogue items: E4 (replay), E6 (tampering), L2 (downgrade).

bats_require_minimum_version 1.5.0
load helpers
load decrypt_helpers
setup() { common_setup; fixed_keys; }

# pristine_home: a client home (E2E_HOME) whose keyring pins alice.pub
# for alice (no signed message seen yet), and carol.pub for carol with
# erin.pub offered as carol's new key (a changed key: carol unusable).
# Each run starts from a copy of it (the replay cache and the keyring
# remember what a run showed).
pristine_home() {
	e2e-keygen -o erin > /dev/null 2>&1
	mkdir -m 700 home0
	(umask 077 && "$PYTHON" - "$KID_ALICE" alice.pub "$KID_CAROL" \
	    carol.pub erin.pub > home0/keyring.json) <<'EOF'
import json, sys
from jwcrypto import jwk
ka, pa, kc, pc, pe = sys.argv[1:6]
pem = lambda p: open(p).read()
ke = jwk.JWK.from_pem(open(pe, "rb").read()).thumbprint()
key = lambda k, p: {"kid": k, "pem": pem(p), "added_at": 1764380000,
                    "source": "import"}
print(json.dumps({"version": 1, "contacts": {
    "alice": {"keys": [key(ka, pa)], "pending": [], "verified": False,
              "verified_at": 0, "signed_seen": False},
    "carol": {"keys": [key(kc, pc)],
              "pending": [{"kid": ke, "pem": pem(pe),
                           "seen_at": 1764380000}],
              "verified": False, "verified_at": 0,
              "signed_seen": False}}}))
EOF
}

# run_threads NAME [OPTION...]: e2e-decrypt -i bob on records with a fresh
# copy of the home; stdout in NAME.out, stderr in NAME.err, both in their
# order in NAME.all, the status in NAME.rc.
run_threads() {
	local name=$1 st=0
	shift
	rm -rf h && cp -a home0 h
	E2E_HOME=$T/h e2e-decrypt -i bob "$@" records > "$name.out" \
	    2> "$name.err" || st=$?
	echo "$st" > "$name.rc"
	rm -rf h && cp -a home0 h
	E2E_HOME=$T/h e2e-decrypt -i bob "$@" records > "$name.all" 2>&1 || true
}

# same_as_one NAME: NAME's outputs are byte for byte those of one thread.
same_as_one() {
	cmp one.out "$1.out" || fail "$1: standard output differs"
	cmp one.err "$1.err" || fail "$1: standard error differs"
	cmp one.all "$1.all" || fail "$1: the order of stdout and stderr differs"
	assert_equal "$(cat "$1.rc")" "$(cat one.rc)"
}

# ids NAME: the ids of NAME.out's lines, one line.
ids() {
	"$PYTHON" -c 'import json, sys
print(" ".join(json.loads(l)["id"] for l in open(sys.argv[1])))' "$1"
}

@test "E4/E6/L2: a mixed batch gives the same bytes, in input order, with --threads 1, 2, 4 and the default" {
	pristine_home
	echo 'hi bob' | e2e-encrypt -r bob.pub -s alice > s.jwe
	echo 'gcm' | e2e-encrypt -r bob.pub -s alice --enc A256GCM > g.jwe
	echo 'unsigned' | e2e-encrypt -r bob.pub > u.jwe
	printf 'seed one' | e2e-encrypt --format seed -r bob.pub > seed.txt 2>/dev/null
	echo 'from carol' | e2e-encrypt -r bob.pub -s carol > c.jwe
	echo 'from erin' | e2e-encrypt -r bob.pub -s erin > e.jwe
	tampered_copy s.jwe t.jwe
	{
		record 01 alice seed.txt	# shown: alice has not signed yet
		record 02 alice s.jwe		# verified: alice signs from now on
		record 03 alice u.jwe
		record 04 alice t.jwe		# tampered (E6)
		record 05 alice s.jwe		# a second copy of 02 (E4)
		record 06 alice seed.txt	# a downgrade now (L2)
		record 07 carol c.jwe		# carol's key has changed
		record 08 erin e.jwe		# a sender not in the keyring
		record 09 mallory s.jwe		# alice's key, another sender
		echo '{"id":"10","from":"alice"}'	# not a record
		record 11 alice g.jwe
		record 12 alice s.jwe		# a third copy of 02 (E4)
		record 13 alice u.jwe
	} > records
	run_threads one --threads 1
	# What one thread decides, as before (the test can fail).
	assert_equal "$(cat one.rc)" 65
	assert_equal "$(ids one.out)" "01 02 03 07 08 09 11 13"
	run cat one.err
	assert_line --index 0 "e2e-decrypt: error: message 04 from alice: $CANNOT_WHY"
	assert_line --index 1 --partial "e2e-decrypt: error: message 05 from alice: a second copy of message"
	assert_line --index 2 "e2e-decrypt: error: message 06 from alice: a seed-format message from alice, who sends signed messages: a possible downgrade; not shown"
	assert_line --index 3 --partial "e2e-decrypt: error: line 10: "
	assert_line --index 4 --partial "e2e-decrypt: error: message 12 from alice: a second copy of message"
	assert_equal "${#lines[@]}" 5
	grep -q '"id":"07".*"verified":false,"warning":"the key of carol has changed' one.out
	grep -q '"id":"08".*"verified":false,"warning":"erin is not in your keyring' one.out
	grep -q '"id":"09".*"verified":false,"warning":"signed with alice' one.out
	grep -q '"id":"02".*"verified":true' one.out
	run_threads two --threads 2
	same_as_one two
	run_threads four --threads 4
	same_as_one four
	run_threads dflt
	same_as_one dflt
	# From standard input, on a pipe, the same.
	rm -rf h && cp -a home0 h
	E2E_HOME=$T/h e2e-decrypt -i bob --threads 4 < records > pipe.out \
	    2> pipe.err || true
	cmp one.out pipe.out
	cmp one.err pipe.err
}

@test "E4: a batch of 300 records keeps its order on several threads; the replays in it are refused alike" {
	pristine_home
	local i
	for ((i = 0; i < 100; i++)); do
		echo "message $i" | e2e-encrypt -r bob.pub -s alice > "m$i.jwe"
	done
	# Each message three times: at i, and again after 100 and 200
	# others, in an order that mixes the copies.
	{
		for ((i = 0; i < 300; i++)); do
			record "$(printf 'r%03d' "$i")" alice "m$(((i * 37) % 100)).jwe"
		done
	} > records
	run_threads one --threads 1
	assert_equal "$(cat one.rc)" 65
	assert_equal "$(wc -l < one.out)" 100
	assert_equal "$(grep -c 'a second copy of message' one.err)" 200
	# In input order: the ids rise, and the texts are the first copies'.
	"$PYTHON" - one.out <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ids = [int(r["id"][1:]) for r in rows]
assert ids == sorted(ids), ids
assert [r["text"] for r in rows] == ["message %d\n" % ((i * 37) % 100)
                                     for i in ids], rows[:3]
assert all(r["verified"] for r in rows)
EOF
	run_threads two --threads 2
	same_as_one two
	run_threads four --threads 4
	same_as_one four
	run_threads many --threads 16
	same_as_one many
}

@test "E2: --verify NAME with two keys pinned for NAME: the same bytes on 1, 2 and 4 threads (each thread checks with its own copy of the keys)" {
	pristine_home
	# dana's keys: alice.pub and carol.pub, her two devices (a name that
	# is no file here, so that --verify takes it as a contact).
	"$PYTHON" - home0/keyring.json "$KID_CAROL" carol.pub <<'EOF'
import json, os, sys
p, kid, pem = sys.argv[1], sys.argv[2], open(sys.argv[3]).read()
k = json.load(open(p))
k["contacts"]["dana"] = k["contacts"].pop("alice")
k["contacts"]["dana"]["keys"].append({"kid": kid, "pem": pem,
    "added_at": 1764380000, "source": "import"})
del k["contacts"]["carol"]
with open(p + ".tmp", "w") as f:
    json.dump(k, f)
os.chmod(p + ".tmp", 0o600)
os.rename(p + ".tmp", p)
EOF
	echo 'from the laptop' | e2e-encrypt -r bob.pub -s alice > a.jwe
	echo 'from the phone' | e2e-encrypt -r bob.pub -s carol > c.jwe
	echo 'unsigned' | e2e-encrypt -r bob.pub > u.jwe
	echo 'from erin' | e2e-encrypt -r bob.pub -s erin > e.jwe
	local i
	{
		for ((i = 10; i < 40; i++)); do
			record "a$i" dana a.jwe
			record "c$i" dana c.jwe
			record "u$i" dana u.jwe
			record "e$i" dana e.jwe
		done
	} > records
	run_threads one --verify dana --threads 1
	assert_equal "$(cat one.rc)" 65
	# The first copy of each signed message is verified; the rest fail.
	assert_equal "$(ids one.out)" "a10 c10"
	grep -c '"verified":true' one.out | grep -qx 2
	run grep -c "is not signed, and --verify asks for a signature" one.err
	assert_output 30
	run grep -c "which is not among the keys pinned for dana" one.err
	assert_output 30
	run grep -c "a second copy of message" one.err
	assert_output 58
	run_threads two --verify dana --threads 2
	same_as_one two
	run_threads four --verify dana --threads 4
	same_as_one four
}

@test "--threads: 0, 65, a sign, a suffix, text or an empty value are refused (64) with one clear line; twice too" {
	make_records() { echo 'unsigned' | e2e-encrypt -r bob.pub > u.jwe; record 01 alice u.jwe > records; }
	make_records
	local v
	for v in 0 65 -1 +2 2x two "" 99999999999999999999; do
		run --separate-stderr e2e-decrypt -i bob --threads "$v" records
		assert_equal "$status" 64
		assert_output ""
		assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: --threads needs a number from 1 to 64"
		assert_equal "${#stderr_lines[@]}" 2
		assert_equal "${stderr_lines[1]}" "e2e-decrypt: hint: see e2e-decrypt --help"
	done
	run --separate-stderr e2e-decrypt -i bob --threads 2 --threads 3 records
	assert_equal "$status" 64
	assert_output ""
	[[ "${stderr_lines[0]}" == "e2e-decrypt: error: "*"--threads"* ]] || fail "${stderr_lines[0]}"
	# The bounds themselves are accepted.
	run --separate-stderr e2e-decrypt -i bob --threads 1 records
	assert_success
	run --separate-stderr e2e-decrypt -i bob --threads 64 records
	assert_success
	assert_equal "${#lines[@]}" 1
	# Documented in --help.
	run e2e-decrypt --help
	assert_output --partial "--threads N"
}

@test "--threads 4: each line is still printed as soon as it arrives, and a closed stdout is 74 with nothing more said" {
	echo 'hi bob' | e2e-encrypt -r bob.pub -s alice > s.jwe
	echo 'unsigned' | e2e-encrypt -r bob.pub > u.jwe
	live_records
	live_start --threads 4
	live_send r1 1
	live_send r2 2
	live_end
	# 74 at once on a closed stdout: one line, the records read ahead
	# are dropped unseen.
	for ((i = 0; i < 50; i++)); do cat r1 r2; done > records
	run --separate-stderr bash -c 'e2e-decrypt -i bob --threads 4 records >&-'
	assert_equal "$status" 74
	assert_equal "${stderr_lines[0]}" "e2e-decrypt: error: cannot write standard output: Bad file descriptor"
	assert_equal "${#stderr_lines[@]}" 1
}

teardown() { live_teardown; }
