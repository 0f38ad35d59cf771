#!/usr/bin/env bash
# bench/run.sh - `make bench`: how fast the tools are, next to age and
# openssl, in one run (ratios within a run are what count on a shared,
# noisy machine). Not a test: it fails only when a tool or a measuring
# tool fails, never because of a speed. bench/README.md explains every
# number and the targets.
#
#   E2E_BIN      the tools (default ./bin)
#   LIBE2E       the library bench/phases.c links (default build/libe2e.a)
#   TMPDIR       where the work folder goes (TMPDIR=/dev/shm keeps the
#                64 MiB files, and their fsync, off the disk)
#   BENCH_ROUNDS, BENCH_RUNS    section 1: hyperfine rounds x runs (40 x 10)
#   BENCH_PROCS                 section 2: processes of phases (about 50,
#                               run between the rounds of section 1)
#   BENCH_BIG_MIB               sections 3-5: message size (64)
#   BENCH_BIG_ROUNDS            sections 3-5: rounds (12), each the limit
#                               and one run of every command
#   BENCH_BIG_DIR               sections 3-5: where the files go
#                               (default /dev/shm, else the work folder)
#   BENCH_HUGE=1                section 5: also 1 GiB (about 10 GiB of
#                               TMPDIR), BENCH_HUGE_ROUNDS rounds (2)
#   BENCH_BATCH, BENCH_BATCH_ROUNDS  section 6: signed records (1000),
#                               rounds of 3 runs each (5)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
bin=$(abs "${E2E_BIN:-bin}")
lib=$(abs "${LIBE2E:-build/libe2e.a}")
rounds=${BENCH_ROUNDS:-40}
runs=${BENCH_RUNS:-10}
procs=${BENCH_PROCS:-50}
big_mib=${BENCH_BIG_MIB:-64}
big_n=${BENCH_BIG_ROUNDS:-12}
cd "$root"

die() { echo "bench: error: $*" >&2; exit 1; }

if [ -x /usr/bin/python3 ]; then py=/usr/bin/python3; else py=python3; fi
for t in hyperfine age age-keygen openssl "$py" cc pkg-config; do
	command -v "$t" >/dev/null || die "$t not found (make deps installs what is missing)"
done
for t in e2e-encrypt e2e-decrypt; do
	[ -x "$bin/$t" ] || die "$bin/$t not found; run make (or set E2E_BIN)"
done
[ -f "$lib" ] || die "$lib not found; run make (or set LIBE2E)"

work=$(mktemp -d)
bw=
trap 'rm -rf "$work" ${bw:+"$bw"}' EXIT
keys=$root/tests/vectors/keys
KID_ALICE=Y6uyIp-NFRQQmtZ9rLcfgpiPEqI5_c0iGbHeHZmM_zA	# alice.pub's key id
report() { "$py" "$root/bench/report.py" "$@"; }
state=$work/state.json
# hyperfine without a shell (-N), its own output kept for when it fails.
hf() {
	local log=$work/hf.log
	if ! hyperfine -N --style none "$@" >"$log" 2>&1; then
		cat "$log" >&2
		die "hyperfine failed (a command above exited non-zero)"
	fi
}
# Rotates the "-n NAME CMD" pairs held in the array named $1 by $2 places,
# so each round starts with another command.
rotate() {
	local -n a=$1
	local n=$((${#a[@]} / 3)) k=$(($2 % (${#a[@]} / 3))) i j
	rot=()
	for ((i = 0; i < n; i++)); do
		j=$(((i + k) % n * 3))
		rot+=("${a[j]}" "${a[j + 1]}" "${a[j + 2]}")
	done
}
q() { printf '%q' "$1"; }

section() { printf '\n== %s\n\n' "$*"; }

echo "e2e-chat bench: $(uname -m), $(nproc) cores, $(openssl version | cut -d' ' -f1-2)," \
    "age $(age --version), tools from $bin"
echo "(machines are shared and noisy: read the ratios, not the absolute times)"

# Set-up, and a check that every job below really works.
cd "$work"
cp "$keys/bob" "$keys/bob.pub" "$keys/alice" "$keys/alice.pub" .
chmod 600 bob alice
cflags="-std=c11 -D_GNU_SOURCE -O2 -fPIE -I$root/lib $(pkg-config --cflags libcrypto jansson)"
ldflags="-pie -Wl,-z,relro,-z,now"
printf 'int main(void) { return 0; }\n' > empty.c
# shellcheck disable=SC2086
cc $cflags $ldflags -o empty empty.c
# shellcheck disable=SC2086,SC2046
cc $cflags $ldflags -o phases "$root/bench/phases.c" "$lib" \
    $(pkg-config --libs libcrypto jansson)
head -c 1024 /dev/urandom > m1k
head -c 32 /dev/urandom > key32
age-keygen -o age.key 2>/dev/null
age_r=$(age-keygen -y age.key)
age -r "$age_r" -o m1k.age m1k
"$bin/e2e-encrypt" -r bob.pub -o m1k.jwe m1k
"$bin/e2e-encrypt" -r bob.pub -s alice -o m1ks.jwe m1k
oaep=(-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256)
openssl pkeyutl -encrypt -pubin -inkey bob.pub "${oaep[@]}" -in key32 -out wrapped.bin
age -d -i age.key m1k.age | cmp -s - m1k || die "age round trip failed"
"$bin/e2e-decrypt" -i bob m1k.jwe 2>/dev/null | cmp -s - m1k ||
    die "e2e-decrypt of m1k.jwe failed"
"$bin/e2e-decrypt" -i bob --verify alice.pub m1ks.jwe | cmp -s - m1k ||
    die "e2e-decrypt --verify of m1ks.jwe failed"
openssl pkeyutl -decrypt -inkey bob "${oaep[@]}" -in wrapped.bin | cmp -s - key32 ||
    die "openssl pkeyutl round trip failed"
./phases . wrapped.bin >/dev/null || die "bench/phases failed"

# Absolute paths: no PATH search inside the timed runs.
E=$(q "$bin/e2e-encrypt") D=$(q "$bin/e2e-decrypt")
# A STATIC=1 build of the same tools, when given (make bench builds one).
sbin=${E2E_BIN_STATIC:+$(abs "$E2E_BIN_STATIC")}
if [ -n "$sbin" ]; then
	SE=$(q "$sbin/e2e-encrypt") SD=$(q "$sbin/e2e-decrypt")
	"$sbin/e2e-decrypt" -i bob m1k.jwe 2>/dev/null | cmp -s - m1k ||
	    die "the static e2e-decrypt failed"
fi
A=$(q "$(command -v age)") O=$(q "$(command -v openssl)")
ol="-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256"
# shellcheck disable=SC2034 # used through rotate
small=(
	-n "age -r" "$A -r $age_r m1k"
	-n "e2e-encrypt" "$E -r bob.pub m1k"
	-n "e2e-encrypt -s" "$E -r bob.pub -s alice m1k"
	-n "openssl pkeyutl -encrypt" "$O pkeyutl -encrypt -pubin -inkey bob.pub $ol -in key32"
	-n "age -d" "$A -d -i age.key m1k.age"
	-n "e2e-decrypt" "$D -i bob m1k.jwe"
	-n "e2e-decrypt --verify" "$D -i bob --verify alice.pub m1ks.jwe"
	-n "openssl pkeyutl -decrypt" "$O pkeyutl -decrypt -inkey bob $ol -in wrapped.bin"
	-n "empty C program" "./empty"
	-n "phases -n" "./phases -n"
	-n "phases (whole run)" "./phases . wrapped.bin"
)
if [ -n "$sbin" ]; then
	small+=(
		-n "e2e-encrypt (static)" "$SE -r bob.pub m1k"
		-n "e2e-encrypt -s (static)" "$SE -r bob.pub -s alice m1k"
		-n "e2e-decrypt (static)" "$SD -i bob m1k.jwe"
		-n "e2e-decrypt --verify (static)" "$SD -i bob --verify alice.pub m1ks.jwe"
	)
fi

# The phases processes run between the rounds, so that they meet the
# same load as the whole-process times they are compared with.
per_round=$(((procs + rounds - 1) / rounds))
section "1. Whole process, 1 KiB message ($rounds rounds x $runs runs, commands interleaved by round)"
for ((r = 0; r < rounds; r++)); do
	rotate small "$r"
	hf --warmup 1 --runs "$runs" --export-json "hf-small-$r.json" "${rot[@]}"
	for ((i = 0; i < per_round; i++)); do
		./phases . wrapped.bin > "phases-$r-$i.txt" ||
		    die "bench/phases failed"
	done
done
# The phases files too: the -s row prints its floor from them.
report startup "$state" hf-small-*.json phases-*.txt

section "2. Phases of one short-lived run (bench/phases.c, $((per_round * rounds)) processes)"
report phases "$state" phases-*.txt

# ---- 3-5. The big files: BENCH_BIG_MIB (64) MiB, and 1 GiB with
# BENCH_HUGE=1. Every round measures the one-core limit (phases -t) and
# runs each command once, in an order that turns from round to round, so
# that a tool, its reference (age, the limit) and the load they met go
# together; report.py takes each round's ratio, and calls a target met
# or not only when the middle half of the rounds agree.
# The files of the rows, of $2 MiB in $1: the plaintext, age's envelope
# and e2e's (each content algorithm, unsigned and signed by alice), each
# round trip checked.
big_files() {
	local p=$1/s$2M enc
	head -c $(($2 << 20)) /dev/urandom > "$p"
	age -r "$age_r" -o "$p.age" "$p"
	age -d -i age.key -o "$p.out" "$p.age"
	cmp -s "$p" "$p.out" || die "$2 MiB age round trip failed"
	for enc in A256CBC-HS512 A256GCM; do
		"$bin/e2e-encrypt" --no-sign --enc "$enc" -r bob.pub \
		    -o "$p.$enc" "$p"
		"$bin/e2e-decrypt" -i bob -f -o "$p.out" "$p.$enc" 2>/dev/null
		cmp -s "$p" "$p.out" || die "$2 MiB $enc round trip failed"
		# Signed by alice, decrypted with --verify: the JWS hashed and
		# its payload decoded in the same pass.
		"$bin/e2e-encrypt" -s alice --enc "$enc" -r bob.pub \
		    -o "$p.s$enc" "$p" 2>/dev/null
		"$bin/e2e-decrypt" -i bob --verify alice.pub -f -o "$p.out" \
		    "$p.s$enc"
		cmp -s "$p" "$p.out" || die "$2 MiB $enc signed round trip failed"
	done
	rm -f "$p.out"
}
# $3 rounds over the files of big_files $1 $2: runs-$2.tsv gets a line
# per run (round, name, wall s, CPU s, peak RSS KiB), limits-$2.tsv the
# one-core speeds of each round (round, name, bytes/s).
big_rounds() {
	local p n r i j label
	p=$(q "$1/s$2M")
	local -a cmds=(
		"age -r" "$A -r $age_r -o $p.o $p"
		"age -d" "$A -d -i age.key -o $p.o $p.age"
		"e2e-encrypt A256CBC-HS512" "$E --no-sign -r bob.pub -o $p.o $p"
		"e2e-decrypt A256CBC-HS512" "$D -i bob -o $p.o $p.A256CBC-HS512"
		"e2e-encrypt A256GCM" "$E --no-sign --enc A256GCM -r bob.pub -o $p.o $p"
		"e2e-decrypt A256GCM" "$D -i bob -o $p.o $p.A256GCM"
		"e2e-decrypt --verify A256CBC-HS512 (signed)" "$D -i bob --verify alice.pub -o $p.o $p.sA256CBC-HS512"
		"e2e-decrypt --verify A256GCM (signed)" "$D -i bob --verify alice.pub -o $p.o $p.sA256GCM"
	)
	n=$((${#cmds[@]} / 2))
	: > "runs-$2.tsv"
	: > "limits-$2.tsv"
	# The load around the rounds: the wall times are the other jobs' too.
	echo "  load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	for ((r = 0; r < $3; r++)); do
		./phases -t 100 | awk -v r="$r" '{ print r "\t" $0 }' \
		    >> "limits-$2.tsv" || die "bench/phases -t failed"
		for ((i = 0; i < n; i++)); do
			j=$(((i + r) % n * 2))
			# Every output written afresh (age and e2e-encrypt
			# refuse to overwrite; replacing a big file costs its
			# pages' freeing in the rename), and gone after.
			eval "rm -f $p.o"
			# shellcheck disable=SC2034 # used through eval
			label=$r$'\t'${cmds[j]}
			eval "./phases -w runs-$2.tsv \"\$label\" ${cmds[j + 1]}" \
			    2>run.err || {
				cat run.err >&2
				die "${cmds[j + 1]} failed"
			}
			eval "rm -f $p.o"
		done
	done
	echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}
# Where the big files go: tmpfs by default, so that the times are the
# tools' work and not the disk's flush (e2e's -o syncs its output before
# the rename, age does not; on this machine's disk the sync added 0.05
# to 0.15 s, as noisy as the disk's other writers).
bigroot=${BENCH_BIG_DIR:-}
if [ -z "$bigroot" ]; then
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then
		bigroot=/dev/shm
	else
		bigroot=$work
	fi
fi
bw=$(mktemp -d "$bigroot/e2e-bench.XXXXXX")

section "3. Throughput, ${big_mib} MiB message, file to file ($big_n rounds," \
    "the limit and every command once a round)"
echo "  files in $(df --output=fstype "$bw" | tail -n 1) ($bigroot)"
# openssl speed once, beside the rounds' own figures (user CPU time,
# 1 s each: what one core does when nothing else runs on it).
speed() {
	local name=$1 v
	shift
	v=$(openssl speed -mr -seconds 1 -bytes 16384 "$@" 2>/dev/null |
	    awk -F: '$1 == "+F" { print $4 }') || v=
	[ -n "$v" ] || die "openssl speed $* failed"
	printf '%s\t%s\n' "$name" "$v" >> speed.tsv
}
: > speed.tsv
speed aes_enc -evp aes-256-cbc
speed aes_dec -decrypt -evp aes-256-cbc
speed sha512 -evp sha512
big_files "$bw" "$big_mib"
big_rounds "$bw" "$big_mib" "$big_n"
report speed "$state" $((big_mib << 20)) "$bw/s${big_mib}M.sA256CBC-HS512" \
    "limits-$big_mib.tsv" "runs-$big_mib.tsv" speed.tsv

section "4. Peak memory, ${big_mib} MiB message (the largest of section 3's rounds)"
report memory "$state" $((big_mib << 20)) "runs-$big_mib.tsv"

# Section 5 (issue 14): large files stream, beside age in the same run.
section "5. Large files stream (issue 14): file to file, beside age"
report stream "$state" $((big_mib << 20)) "runs-$big_mib.tsv"
rm -f "$bw"/s*
if [ "${BENCH_HUGE:-0}" = 1 ]; then
	# 1 GiB: in the work folder (TMPDIR), not in memory; the speeds
	# then include the disk's flush.
	echo
	echo "  1 GiB (BENCH_HUGE=1, ${BENCH_HUGE_ROUNDS:-2} rounds, files in $work)"
	big_files "$work" 1024
	big_rounds "$work" 1024 "${BENCH_HUGE_ROUNDS:-2}"
	report speed "$state" $((1024 << 20)) "$work/s1024M.sA256CBC-HS512" \
	    limits-1024.tsv runs-1024.tsv
	echo
	report stream "$state" $((1024 << 20)) runs-1024.tsv
	rm -f "$work"/s1024M*
fi
# ---- 6. Batch decryption: stream mode on one thread and on every core
# (issue 14). Distinct signed records from alice, pinned in the home's
# keyring, so that each costs an RSA unwrap and a signature check. Read
# again, the same records are no replays (the same message ids), so every
# run does the same work.
batch_n=${BENCH_BATCH:-1000}
batch_rounds=${BENCH_BATCH_ROUNDS:-5}
cores=$(nproc)
section "6. Batch decryption, stream mode: $batch_n signed records, 1 thread and $cores ($batch_rounds rounds)"
mkdir -m 700 bhome
(umask 077 && "$py" - alice.pub "$KID_ALICE" > bhome/keyring.json) <<'EOF'
import json, sys
pem, kid = open(sys.argv[1]).read(), sys.argv[2]
print(json.dumps({"version": 1, "contacts": {"alice": {"keys": [
    {"kid": kid, "pem": pem, "added_at": 1764380000, "source": "import"}],
    "pending": [], "verified": False, "verified_at": 0,
    "signed_seen": False}}}))
EOF
for ((i = 0; i < batch_n; i++)); do
	printf 'message %d\n' "$i" |
	    "$bin/e2e-encrypt" -r bob.pub -s alice 2>/dev/null
done > batch.jwe
"$py" - batch.jwe > batch.jsonl <<'EOF'
import sys
for i, env in enumerate(open(sys.argv[1])):
    sys.stdout.write('{"id":"%06d","from":"alice","to":"bob",'
                     '"sent_at":1764380000,"message":%s}\n' % (i, env.strip()))
EOF
[ "$(wc -l < batch.jsonl)" -eq "$batch_n" ] || die "the batch was not made"
E2E_HOME=$work/bhome "$bin/e2e-decrypt" -i bob --threads 1 batch.jsonl > batch1.out ||
    die "e2e-decrypt of the batch failed"
E2E_HOME=$work/bhome "$bin/e2e-decrypt" -i bob --threads "$cores" batch.jsonl > batchn.out ||
    die "e2e-decrypt --threads $cores of the batch failed"
cmp -s batch1.out batchn.out || die "the batch's output differs on $cores threads"
[ "$(grep -c '"verified":true' batch1.out)" -eq "$batch_n" ] ||
    die "the batch's records were not all verified"
# shellcheck disable=SC2034 # used through rotate
batchcmds=(
	-n "threads=1" "$D -i bob --threads 1 batch.jsonl"
	-n "threads=$cores" "$D -i bob --threads $cores batch.jsonl"
)
for ((r = 0; r < batch_rounds; r++)); do
	rotate batchcmds "$r"
	E2E_HOME=$work/bhome hf --runs 3 --export-json "hf-batch-$r.json" "${rot[@]}"
done
report batch "$state" "$batch_n" "$cores" hf-batch-*.json
# ---- end of section 6

section "Summary"
report summary "$state"
