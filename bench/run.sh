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
#   BENCH_BIG_MIB               sections 3, 4: message size (64)
#   BENCH_BIG_ROUNDS            section 3: rounds of 2 runs each (3)
#   BENCH_HUGE=1                section 5: also 1 GiB (several GiB of disk)
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
big_rounds=${BENCH_BIG_ROUNDS:-3}
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
trap 'rm -rf "$work"' EXIT
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

section "3. Throughput, ${big_mib} MiB message, file to file ($big_rounds rounds)"
head -c $((big_mib << 20)) /dev/urandom > big
"$bin/e2e-encrypt" -r bob.pub -o big.jwe big
"$bin/e2e-encrypt" -r bob.pub -s alice -o bigs.jwe big
"$bin/e2e-decrypt" -i bob -o big.out big.jwe 2>/dev/null
cmp -s big big.out || die "64 MiB round trip failed"
"$bin/e2e-decrypt" -i bob --verify alice.pub -o bigs.out bigs.jwe
cmp -s big bigs.out || die "64 MiB signed round trip failed"
# shellcheck disable=SC2034 # used through rotate
bigcmds=(
	-n "e2e-encrypt" "$E -r bob.pub -o big.enc big"
	-n "e2e-decrypt" "$D -i bob -o big.out big.jwe"
	-n "e2e-decrypt --verify (signed)" "$D -i bob --verify alice.pub -o bigs.out bigs.jwe"
)
# One-core speed in bytes/s: "NAME BYTES_PER_S" appended to speed.tsv.
speed() {
	local name=$1 v
	shift
	v=$(openssl speed -mr -seconds 1 -bytes 16384 "$@" 2>/dev/null |
	    awk -F: '$1 == "+F" { print $4 }') || v=
	[ -n "$v" ] || die "openssl speed $* failed"
	echo "$name $v" >> speed.tsv
}
: > speed.tsv
for ((r = 0; r < big_rounds; r++)); do
	speed aes_enc -evp aes-256-cbc
	speed aes_dec -decrypt -evp aes-256-cbc
	speed sha512 -evp sha512
	rotate bigcmds "$r"
	hf --runs 2 --export-json "hf-big-$r.json" "${rot[@]}"
done
report throughput "$state" $((big_mib << 20)) bigs.jwe speed.tsv hf-big-*.json

section "4. Peak memory, ${big_mib} MiB message"
# Peak resident set size in KiB of the command given.
maxrss() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o rss.txt "$@" >/dev/null 2>&1 ||
		    die "$* failed"
		tail -n 1 rss.txt
	else
		./phases -x "$@" 2>rss.txt >/dev/null || die "$* failed"
		tail -n 1 rss.txt
	fi
}
m1=$(maxrss "$bin/e2e-encrypt" -r bob.pub -o big.enc big)
m2=$(maxrss "$bin/e2e-decrypt" -i bob -o big.out big.jwe)
m3=$(maxrss "$bin/e2e-decrypt" -i bob --verify alice.pub -o bigs.out bigs.jwe)
report memory "$state" $((big_mib << 20)) "e2e-encrypt=$m1" \
    "e2e-decrypt=$m2" "e2e-decrypt --verify (signed)=$m3"

# Section 5 (issue 14): large files stream, beside age in the same run.
# 64 MiB, and 1 GiB with BENCH_HUGE=1; file to file; time and peak RSS.
stream_rows() {
	local mib=$1 runs=$2 n=$1M name kib
	local -a cmds rss=()
	head -c $((mib << 20)) /dev/urandom > "s$n"
	age -r "$age_r" -o "s$n.age" "s$n"
	"$bin/e2e-encrypt" --no-sign -r bob.pub -o "s$n.cbc" "s$n"
	"$bin/e2e-encrypt" --no-sign --enc A256GCM -r bob.pub -o "s$n.gcm" "s$n"
	"$bin/e2e-decrypt" -i bob -o "s$n.out" "s$n.cbc" 2>/dev/null
	cmp -s "s$n" "s$n.out" || die "$n A256CBC-HS512 round trip failed"
	"$bin/e2e-decrypt" -i bob -o "s$n.out" "s$n.gcm" 2>/dev/null
	cmp -s "s$n" "s$n.out" || die "$n A256GCM round trip failed"
	# Signed by alice, decrypted with --verify: the JWS hashed and its
	# payload decoded in the same pass.
	for enc in A256CBC-HS512 A256GCM; do
		"$bin/e2e-encrypt" -s alice --enc "$enc" -r bob.pub \
		    -o "s$n.s$enc" "s$n" 2>/dev/null
		"$bin/e2e-decrypt" -i bob --verify alice.pub -f -o "s$n.out" \
		    "s$n.s$enc"
		cmp -s "s$n" "s$n.out" || die "$n $enc signed round trip failed"
	done
	cmds=(
		-n "age -r" "$A -r $age_r -o s$n.o1 s$n"
		-n "age -d" "$A -d -i age.key -o s$n.o2 s$n.age"
		-n "e2e-encrypt A256CBC-HS512" "$E --no-sign -r bob.pub -o s$n.o3 s$n"
		-n "e2e-decrypt A256CBC-HS512" "$D -i bob -f -o s$n.o4 s$n.cbc"
		-n "e2e-encrypt A256GCM" "$E --no-sign --enc A256GCM -r bob.pub -o s$n.o5 s$n"
		-n "e2e-decrypt A256GCM" "$D -i bob -f -o s$n.o6 s$n.gcm"
		-n "e2e-decrypt --verify A256CBC-HS512 (signed)" "$D -i bob --verify alice.pub -f -o s$n.o7 s$n.sA256CBC-HS512"
		-n "e2e-decrypt --verify A256GCM (signed)" "$D -i bob --verify alice.pub -f -o s$n.o8 s$n.sA256GCM"
	)
	# age and e2e-encrypt refuse to overwrite: each run starts afresh.
	# The load around the runs: the wall times are the other jobs' too.
	echo "  load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	hf --runs "$runs" --prepare "rm -f s$n.o1 s$n.o3 s$n.o5" \
	    --export-json "hf-stream-$n.json" "${cmds[@]}"
	echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
	# Peak RSS and CPU time (user + system, both cores), one run each:
	# on a loaded machine the CPU time says what the wall time cannot.
	for ((i = 1; i < ${#cmds[@]}; i += 3)); do
		name=${cmds[i]}
		rm -f "s$n.o1" "s$n.o3" "s$n.o5"
		if [ -x /usr/bin/time ]; then
			# shellcheck disable=SC2086 # the command line, as hyperfine runs it
			/usr/bin/time -f "%M %U %S" -o rss.txt ${cmds[i + 1]} \
			    >/dev/null 2>&1 || die "${cmds[i + 1]} failed"
			kib=$(tail -n 1 rss.txt | awk '{ printf "%s:%.2f", $1, $2 + $3 }')
		else
			# shellcheck disable=SC2086
			kib=$(maxrss ${cmds[i + 1]})
		fi
		rss+=("$name=$kib")
	done
	report stream "$state" $((mib << 20)) speed.tsv "hf-stream-$n.json" \
	    "s$n.sA256CBC-HS512" "${rss[@]}"
	rm -f "s$n" "s$n".*
}
section "5. Large files stream (issue 14): file to file, beside age"
stream_rows "$big_mib" 3
if [ "${BENCH_HUGE:-0}" = 1 ]; then
	stream_rows 1024 2
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
