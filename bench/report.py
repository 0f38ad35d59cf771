"""bench/report.py - the arithmetic and the tables of bench/run.sh.

run.sh runs the commands; this turns hyperfine's JSON exports, the
phases program's lines and openssl speed's figures into aligned tables.
Results that later sections need (and the targets met or not) are kept in
a small JSON state file between calls. Standard library only.

    report.py startup    STATE HYPERFINE.json... [PHASES.txt]...
    report.py phases     STATE PHASES.txt...
    report.py speed      STATE PT_BYTES SIGNED_ENVELOPE LIMITS.tsv RUNS.tsv [SPEED.tsv]
    report.py memory     STATE PT_BYTES RUNS.tsv
    report.py stream     STATE PT_BYTES RUNS.tsv
    report.py batch      STATE RECORDS CORES HYPERFINE.json...
    report.py summary    STATE
"""
import json
import mmap
import os
import statistics
import sys

MS = 1e3
US = 1e-3


def load_state(path):
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {"targets": [], "values": {}}


def save_state(path, st):
    with open(path, "w") as f:
        json.dump(st, f)


def target(st, section, what, value, goal, met, spread=""):
    """met: True, False, or None when the spread crosses the goal."""
    st["targets"].append([section, what, value, goal,
                          None if met is None else bool(met), spread])


def mark(met):
    if met is None:
        return "unclear (spread crosses the goal)"
    return "met" if met else "NOT MET"


def spread(v):
    """p25 and p75 of v (interpolated between the values, never past
    them: a few rounds give no tails to extrapolate)."""
    v = list(v)
    if len(v) == 1:
        return v[0], v[0]
    q = statistics.quantiles(v, n=4, method="inclusive")
    return q[0], q[2]


def verdict(v, goal, higher, digits=2):
    """Whether the per-round values v meet goal (at least it when higher,
    at most it otherwise): True when the middle half of the rounds,
    p25 to p75, is on the goal's side, False when it is all on the other
    side, None when it crosses the goal: one run's noise would decide.
    Compared as printed (rounded to digits), so that what the table
    shows and its verdict agree."""
    lo, hi = (round(x, digits) for x in spread(v))
    goal = round(goal, digits)
    if higher:
        return True if lo >= goal else False if hi < goal else None
    return True if hi <= goal else False if lo > goal else None


def per_round(rounds, f, *names):
    """f of the named commands' medians, round by round (rounds as
    hyperfine_times gives them, one median per round and command)."""
    return [f(*vals) for vals in zip(*(rounds[n] for n in names))]


def hyperfine_times(files):
    """Every run's wall time (s) per command, over all rounds, and the
    median of each round, keyed by the command's name."""
    times, rounds = {}, {}
    for fn in files:
        with open(fn) as f:
            for r in json.load(f)["results"]:
                times.setdefault(r["command"], []).extend(r["times"])
                rounds.setdefault(r["command"], []).append(
                    statistics.median(r["times"]))
    return times, rounds


def table(header, rows, align):
    """Prints rows under header, columns padded to their widest cell;
    align holds '<' or '>' per column."""
    cells = [header] + [[str(c) for c in r] for r in rows]
    w = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for n, r in enumerate(cells):
        print("  " + "  ".join(
            f"{c:{a}{wi}}" for c, a, wi in zip(r, align, w)).rstrip())
        if n == 0:
            print("  " + "  ".join("-" * wi for wi in w))


# Section 1 ---------------------------------------------------------------

ENC = ["age -r", "e2e-encrypt", "e2e-encrypt -s", "openssl pkeyutl -encrypt"]
DEC = ["age -d", "e2e-decrypt", "e2e-decrypt --verify",
       "openssl pkeyutl -decrypt"]


def quartiles(v):
    if len(v) < 2:
        return v[0], v[0]
    q = statistics.quantiles(v, n=4)
    return q[0], q[2]


def phase_medians(files):
    """The median (us) of each phase over bench/phases's output files."""
    runs = {}
    for fn in files:
        with open(fn) as f:
            for line in f:
                name, ns = line.split("\t")
                runs.setdefault(name, []).append(int(ns))
    return {k: statistics.median(v) / 1e3 for k, v in runs.items()}


def sign_floor(ph):
    """What e2e-encrypt -s cannot cost less than on one core (ms), from
    bench/phases of the same run: the signer's key load and thumbprint,
    and one warm PS256 signature (one RSA-2048 private operation), or
    None."""
    keys = ("load_signer", "thumbprint_signer", "pss_sign_warm")
    if not all(k in ph for k in keys):
        return None
    return sum(ph[k] for k in keys) * US


def startup(state, args):
    st = load_state(state)
    files = [a for a in args if a.endswith(".json")]
    ph = phase_medians([a for a in args if a.endswith(".txt")])
    floor = sign_floor(ph)
    times, rounds = hyperfine_times(files)
    med = {k: statistics.median(v) * MS for k, v in times.items()}
    st["values"]["startup_ms"] = med
    rows = []
    static = [n for n in ("e2e-encrypt (static)", "e2e-encrypt -s (static)",
                          "e2e-decrypt (static)",
                          "e2e-decrypt --verify (static)") if n in med]
    enc = ENC + [n for n in static if n.startswith("e2e-encrypt")]
    dec = DEC + [n for n in static if n.startswith("e2e-decrypt")]
    for group, base in ((enc, "age -r"), (dec, "age -d")):
        for name in group:
            lo, hi = quartiles(times[name])
            ratio = med[name] / med[base]
            rows.append([name, f"{med[name]:.2f}",
                         f"{lo * MS:.2f}-{hi * MS:.2f}", f"{ratio:.2f}",
                         len(times[name])])
    table(["command (1 KiB message)", "median ms", "p25-p75 ms",
           "x age", "runs"], rows, "<>>>>")
    print()
    # The targets from each round's medians (every command's
    # BENCH_RUNS runs, interleaved): the ratio, or the difference, round by round, its
    # median and its spread.
    goals = []
    pairs = [("e2e-encrypt", "age -r"), ("e2e-decrypt", "age -d")]
    pairs += [(n, "age -r" if "encrypt" in n else "age -d") for n in static
              if " -s " not in n and "--verify" not in n]
    for tool, base in pairs:
        rs = per_round(rounds, lambda a, b: a / b, tool, base)
        lo, hi = spread(rs)
        ok = verdict(rs, 1.0, False)
        r = statistics.median(rs)
        goals.append([f"{tool} no slower than {base}", f"{r:.2f} x",
                      f"{lo:.2f}-{hi:.2f}", "<= 1.00 x", mark(ok)])
        target(st, "startup", f"{tool} <= {base}", f"{r:.2f} x",
               "<= 1.00 x", ok, f"{lo:.2f}-{hi:.2f}")
    signed_pairs = [("e2e-encrypt", "e2e-encrypt -s"),
                    ("e2e-decrypt", "e2e-decrypt --verify")]
    if static:
        signed_pairs += [("e2e-encrypt (static)", "e2e-encrypt -s (static)"),
                         ("e2e-decrypt (static)",
                          "e2e-decrypt --verify (static)")]
    for tool, signed in signed_pairs:
        ds = per_round(rounds, lambda a, b: (a - b) * MS, signed, tool)
        lo, hi = spread(ds)
        ok = verdict(ds, 0.3, False)
        d = statistics.median(ds)
        goal = "<= 0.30 ms"
        if " -s" in signed and floor is not None:
            goal += f" (floor {floor:.2f})"
        # "to": a difference may be negative (noise).
        goals.append([f"{signed} minus {tool}", f"{d:+.2f} ms",
                      f"{lo:+.2f} to {hi:+.2f}", goal, mark(ok)])
        target(st, "startup", f"{signed} extra cost", f"{d:+.2f} ms",
               goal, ok, f"{lo:+.2f} to {hi:+.2f}")
    table(["target (per round)", "measured", "p25-p75", "goal", ""],
          goals, "<>>><")
    if floor is not None:
        under = "under" if floor > 0.3 else "above"
        key = (ph["load_signer"] + ph["thumbprint_signer"]) * US
        print("  floor of -s on one core (bench/phases, this run): the "
              "signer's key load and")
        print(f"  thumbprint {key:.2f} ms + a warm PS256 signature "
              "(one RSA-2048 private")
        print(f"  operation) {ph['pss_sign_warm'] * US:.2f} ms = "
              f"{floor:.2f} ms: the 0.30 ms goal is {under} it. The first")
        print("  signature of a process also sets up the key's RSA blinding "
              "(section 2).")
    save_state(state, st)


# Section 2 ---------------------------------------------------------------

# (name in phases.c, description, on e2e-decrypt's path)
PHASES = [
    ("cli_start", "cli_start (program name, signals, no core)", "yes"),
    ("crypto_init", "crypto_init (OPENSSL_init_crypto, no config)", "yes"),
    ("first_fetch", "first algorithm fetch (digest SHA256)", "yes"),
    ("fetch_cipher", "first cipher fetch (AES-256-CBC)", "yes"),
    ("fetch_mac", "first MAC fetch (HMAC)", "yes"),
    ("first_random", "first random bytes (DRBG set-up)", "yes"),
    ("load_private", "keyfile_load_private bob (PKCS#8 PEM)", "yes"),
    ("thumbprint_private", "jwk_thumbprint of it", "yes"),
    ("rsa_private_first", "first RSA-2048 private op (OAEP unwrap)",
     "yes (1)"),
    ("rsa_private_warm", "second RSA private op (warm)", "no"),
    ("load_public", "keyfile_load_public bob.pub", "--verify"),
    ("thumbprint_public", "jwk_thumbprint of it", "--verify"),
    ("message_seal_1k", "message_seal, 1 KiB, unsigned", "no"),
    ("message_open_1k", "message_open, 1 KiB (one warm RSA op)", "yes (2)"),
    # What e2e-encrypt -s adds (issue 14: at most 0.3 ms in all).
    ("load_signer", "keyfile_load_private alice (the signer)", "-s"),
    ("thumbprint_signer", "jwk_thumbprint of it", "-s"),
    ("seal_unsigned_warm", "message_seal, 1 KiB, unsigned, again (warm)",
     "no"),
    ("seal_signed_first", "the same signed by alice: her first signature",
     "-s (3)"),
    ("seal_signed_warm", "the same again (her key set up)", "no"),
    ("pss_sign_warm", "a warm PS256 signature (one RSA private op)", "no"),
    ("openssl_cleanup", "OPENSSL_cleanup (the tools skip it: NO_ATEXIT)",
     "no"),
]


def phases(state, files):
    st = load_state(state)
    med = phase_medians(files)
    # What e2e-decrypt (unsigned) runs, as measured here: its one RSA
    # operation is the first one, inside message_open.
    path = {k: med[k] for k, _, on in PHASES if on in ("yes", "yes (1)")}
    path["message_open_1k"] = max(0.0, med["message_open_1k"] -
                                  med["rsa_private_warm"])
    total = sum(path.values())
    rows = []
    for k, desc, on in PHASES:
        share = f"{100 * path[k] / total:.0f}%" if k in path else ""
        rows.append([desc, f"{med[k]:.0f}", on, share])
    table(["phase (in-process, in order)", "median us",
           "in e2e-decrypt", "share"], rows, "<>><")
    print(f"  ({len(files)} processes; (1) in e2e-decrypt this happens "
          "inside message_open;")
    print("   (2) counted on the path without its warm RSA op, "
          f"{path['message_open_1k']:.0f} us;")
    print("   (3) e2e-encrypt -s's path: the PS256 JWS streamed into the "
          "JWE, jws.c)")
    print()
    s = st["values"].get("startup_ms", {})
    floor = s.get("empty C program")
    libs = s.get("phases -n")
    dec = s.get("e2e-decrypt")
    whole = s.get("phases (whole run)")
    if None not in (floor, libs, dec, whole):
        load = libs - floor
        est = floor + load + total * US
        every = floor + load + sum(med.values()) * US
        rows = [
            ["exec of an empty C program (hyperfine)", f"{floor:.2f}"],
            ["+ loading libcrypto, jansson (phases -n minus empty)",
             f"{load:.2f}"],
            ["+ in-process phases on e2e-decrypt's path (above)",
             f"{total * US:.2f}"],
            ["= estimate for e2e-decrypt", f"{est:.2f}"],
            ["  e2e-decrypt, whole process (section 1)", f"{dec:.2f}"],
            ["  not accounted for (reading input, output, noise)",
             f"{dec - est:.2f}"],
            ["check: exec + loading + every phase above", f"{every:.2f}"],
            ["  bench/phases, whole process (hyperfine)", f"{whole:.2f}"],
        ]
        table(["where e2e-decrypt's time goes", "ms"], rows, "<>")
        print()
        parts = dict(path)
        parts["exec (empty program)"] = floor * MS
        parts["library loading"] = load * MS
        top = sorted(parts.items(), key=lambda kv: -kv[1])[:4]
        print("  largest: " + ", ".join(
            f"{k} {v / MS:.2f} ms" for k, v in top))
    # What signing adds to e2e-encrypt in-process (the -s phases, (3):
    # the signed seal minus the same seal unsigned).
    if all(k in med for k in ("load_signer", "thumbprint_signer",
                              "seal_signed_first", "seal_unsigned_warm",
                              "seal_signed_warm", "pss_sign_warm")):
        sign = med["load_signer"] + med["thumbprint_signer"] + \
            med["seal_signed_first"] - med["seal_unsigned_warm"]
        setup = med["seal_signed_first"] - med["seal_signed_warm"]
        print(f"  e2e-encrypt -s in-process: {sign:.0f} us (the -s phases, "
              f"(3) minus the unsigned seal);")
        print(f"  of which the key's first-use set-up (RSA blinding, "
              f"Montgomery contexts) {setup:.0f} us,")
        print(f"  and the RSA operation itself {med['pss_sign_warm']:.0f} us "
              "(a warm PS256 signature)")
    save_state(state, st)


# Section 3 ---------------------------------------------------------------

def signed_content_bytes(envelope):
    """Bytes the cipher and MAC see in a signed envelope: the decoded
    length of its ciphertext member (the inner JWS, ~4/3 the plaintext)."""
    key = b'"ciphertext":"'
    # Mapped, not read: a signed 1 GiB message is 1.8 GiB of envelope.
    with open(envelope, "rb") as f, \
            mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        start = data.find(key)
        if start < 0:
            sys.exit(f"report.py: {envelope}: no ciphertext member")
        start += len(key)
        n = data.find(b'"', start) - start
    return n * 3 // 4


def one_core_limits(sp):
    """The limits (bytes/s) from the three one-core speeds (bytes/s)."""
    return {"encrypt": 1 / (1 / sp["aes_enc"] + 1 / sp["sha512"]),
            "decrypt": 1 / (1 / sp["aes_dec"] + 1 / sp["sha512"])}


def read_limits(fn):
    """limits.tsv (round, name, bytes/s: bench/phases -t of each round):
    {round: {name: bytes/s}}."""
    out = {}
    with open(fn) as f:
        for line in f:
            r, name, v = line.rstrip("\n").split("\t")
            out.setdefault(int(r), {})[name] = float(v)
    return out


def read_runs(fn):
    """runs.tsv (round, name, wall s, CPU s, peak RSS KiB: bench/phases
    -w, one line a run): {name: {round: (wall, cpu, rss)}}."""
    out = {}
    with open(fn) as f:
        for line in f:
            r, name, wall, cpu, rss = line.rstrip("\n").split("\t")
            out.setdefault(name, {})[int(r)] = (float(wall), float(cpu),
                                                int(rss))
    return out


BIG = ["age -r", "age -d", "e2e-encrypt A256CBC-HS512",
       "e2e-decrypt A256CBC-HS512", "e2e-encrypt A256GCM",
       "e2e-decrypt A256GCM", "e2e-decrypt --verify A256CBC-HS512 (signed)",
       "e2e-decrypt --verify A256GCM (signed)"]


def speed(state, pt_bytes, signed_env, limits_fn, runs_fn, speed_fn=None):
    """The big files' speeds, round by round (issue 14): A256CBC-HS512
    against the one-core limit of the same round (a signed message
    counted by its inner JWS's bytes), A256GCM against age in the same
    round; each target's verdict from the spread of its rounds."""
    st = load_state(state)
    pt_bytes = int(pt_bytes)
    size = f"{pt_bytes >> 20} MiB"
    lims = read_limits(limits_fn)
    runs = read_runs(runs_fn)
    once = {}
    if speed_fn is not None:
        with open(speed_fn) as f:
            for line in f:
                k, v = line.split()
                once[k] = float(v)
    rows = []
    byround = {k: [lims[r][k] for r in sorted(lims)]
               for k in ("aes_enc", "aes_dec", "sha512")}
    byround["limit_enc"] = [one_core_limits(lims[r])["encrypt"]
                            for r in sorted(lims)]
    byround["limit_dec"] = [one_core_limits(lims[r])["decrypt"]
                            for r in sorted(lims)]
    if once:
        once["limit_enc"] = one_core_limits(once)["encrypt"]
        once["limit_dec"] = one_core_limits(once)["decrypt"]
    for k, desc in (("aes_enc", "aes-256-cbc, encrypt"),
                    ("aes_dec", "aes-256-cbc, decrypt"),
                    ("sha512", "sha512"),
                    ("limit_enc", "limit, encrypt = 1/(1/aes-enc + "
                     "1/sha512)"),
                    ("limit_dec", "limit, decrypt = 1/(1/aes-dec + "
                     "1/sha512)")):
        lo, hi = spread(byround[k])
        rows.append([desc, f"{statistics.median(byround[k]) / 1e6:.0f}",
                     f"{lo / 1e6:.0f}-{hi / 1e6:.0f}",
                     f"{once[k] / 1e6:.0f}" if k in once else "-"])
    table(["one core, 16 KiB blocks, MB/s", "rounds", "p25-p75",
           "openssl speed"], rows, "<>>>")
    print("  rounds: bench/phases -t, 0.1 s of wall time each, at the "
          "start of every round;")
    print("  openssl speed: once before them, 1 s of user CPU time each "
          "(the core alone)")
    print()
    sbytes = signed_content_bytes(signed_env)
    rows = []
    for name in BIG:
        rr = runs[name]
        walls = [rr[r][0] for r in sorted(rr)]
        t = statistics.median(walls)
        lo, hi = spread(walls)
        cpu = statistics.median(rr[r][1] for r in rr)
        cells = [name, f"{t:.3f}", f"{lo:.3f}-{hi:.3f}", f"{cpu:.2f}",
                 f"{pt_bytes / t / 1e6:.0f}"]
        if name.startswith("age"):
            rows.append(cells + ["(reference)", "", "", ""])
            continue
        way = "encrypt" if "encrypt" in name else "decrypt"
        if "CBC" in name:
            cbytes = sbytes if "signed" in name else pt_bytes
            rs = [cbytes / rr[r][0] / one_core_limits(lims[r])[way]
                  for r in sorted(rr)]
            goal, ok = ">= 0.80", verdict(rs, 0.80, True)
            star = " *" if "signed" in name else ""
            got = f"{statistics.median(rs):.2f}{star} of limit"
        else:
            ref = runs["age -r" if way == "encrypt" else "age -d"]
            rs = [rr[r][0] / ref[r][0] for r in sorted(rr)]
            goal, ok = "<= 1.00x", verdict(rs, 1.0, False)
            got = f"{statistics.median(rs):.2f}x age"
        lo, hi = spread(rs)
        rows.append(cells + [got, f"{lo:.2f}-{hi:.2f}", goal, mark(ok)])
        target(st, "speed", f"{size} {name}", got, goal, ok,
               f"{lo:.2f}-{hi:.2f}")
    table([f"{size}, file to file", "median s", "p25-p75 s", "CPU s",
           "MB/s", "per round", "p25-p75", "goal", ""], rows,
          "<>>>>>><<")
    print(f"  {len(lims)} rounds; per round: the run's ratio to the "
          "limit measured in its round, or")
    print("    to age's run of its round; a target is met or NOT MET "
          "when the rounds' p25-p75 is")
    print("    on one side of the goal, unclear when it crosses it. "
          "CPU s: user + system,")
    print("    every thread, median. MB/s: 10^6 plaintext bytes per "
          "second, at the median.")
    print(f"  * the signed message's inner JWS ({sbytes / pt_bytes:.2f}x "
          "the plaintext) goes through the")
    print("    cipher and MAC, and is hashed and decoded in the same "
          "pass; its ratio counts")
    print("    the JWS's bytes")
    save_state(state, st)


# Section 4 ---------------------------------------------------------------

def peak_rss(runs, name):
    """The largest peak RSS (KiB) of name's runs."""
    return max(v[2] for v in runs[name].values())


def memory(state, pt_bytes, runs_fn):
    st = load_state(state)
    pt_bytes = int(pt_bytes)
    runs = read_runs(runs_fn)
    rows = []
    for name in ("e2e-encrypt A256CBC-HS512", "e2e-decrypt A256CBC-HS512",
                 "e2e-decrypt --verify A256CBC-HS512 (signed)"):
        kib = peak_rss(runs, name)
        x = kib * 1024 / pt_bytes
        ok = x <= 4
        rows.append([name, f"{kib / 1024:.0f}", f"{x:.2f}", "<= 4.00",
                     mark(ok)])
        target(st, "memory", f"{name} peak RSS", f"{x:.2f} x",
               "<= 4.00 x", ok)
    table([f"{pt_bytes >> 20} MiB message", "max RSS MiB", "x size",
           "goal", ""], rows, "<>>><")
    save_state(state, st)


# Section 5 ---------------------------------------------------------------

def stream(state, pt_bytes, runs_fn):
    """Large files (issue 14): each row's peak RSS (< 16 MiB for e2e,
    the largest of its rounds) beside its time and CPU time (their
    medians); the speeds' targets are the speed table's."""
    st = load_state(state)
    pt_bytes = int(pt_bytes)
    size = f"{pt_bytes >> 20} MiB"
    runs = read_runs(runs_fn)
    rows = []
    for name in BIG:
        rr = runs[name]
        t = statistics.median(v[0] for v in rr.values())
        cpu = statistics.median(v[1] for v in rr.values())
        mib = peak_rss(runs, name) / 1024
        cells = [name, f"{t:.3f}", f"{cpu:.2f}",
                 f"{pt_bytes / t / 1e6:.0f}", f"{mib:.1f}"]
        if name.startswith("age"):
            rows.append(cells + ["(reference)", ""])
            continue
        ok = mib < 16
        rows.append(cells + ["< 16 MiB", mark(ok)])
        target(st, "stream", f"{size} {name} peak RSS", f"{mib:.1f} MiB",
               "< 16 MiB", ok)
    table([f"{size}, file to file", "median s", "CPU s", "MB/s",
           "RSS MiB", "RSS goal", ""], rows, "<>>>><<")
    print(f"  {len(runs[BIG[0]])} runs each (the speed table's rounds); "
          "RSS: the largest of them; the")
    print("    speed targets are the speed table's")
    save_state(state, st)


# Section 6: batch decryption (stream mode on every core, issue 14) -------

def batch(state, records, cores, files):
    """Rows "threads=1" and "threads=CORES" of hyperfine's runs over
    the same batch: records per second, and the speed-up of all cores
    over one (the median of each round's ratio)."""
    st = load_state(state)
    records, cores = int(records), int(cores)
    times, rounds = hyperfine_times(files)
    one, many = "threads=1", f"threads={cores}"
    rows = []
    for name in (one, many):
        med = statistics.median(times[name])
        lo, hi = quartiles(times[name])
        rows.append([f"e2e-decrypt --{name.replace('=', ' ')}",
                     f"{med * MS:.1f}",
                     f"{lo * MS:.1f}-{hi * MS:.1f}", f"{records / med:.0f}",
                     len(times[name])])
    table([f"{records} signed records", "median ms", "p25-p75 ms",
           "records/s", "runs"], rows, "<>>>>")
    print()
    rs = per_round(rounds, lambda a, b: a / b, one, many)
    ratio = statistics.median(rs)
    if cores >= 2:
        lo, hi = spread(rs)
        ok = verdict(rs, 1.7, True)
        table(["target (per round)", "measured", "p25-p75", "goal", ""],
              [[f"{cores} threads over 1 thread", f"{ratio:.2f} x",
                f"{lo:.2f}-{hi:.2f}", ">= 1.70 x", mark(ok)]], "<>>><")
        target(st, "batch", f"stream mode, {cores} threads over 1",
               f"{ratio:.2f} x", ">= 1.70 x", ok, f"{lo:.2f}-{hi:.2f}")
    else:
        print(f"  one core: no speed-up to measure ({ratio:.2f} x)")
    save_state(state, st)


def summary(state):
    st = load_state(state)
    rows = [[sec, what, val, spr, goal, mark(ok)]
            for sec, what, val, goal, ok, spr in st["targets"]]
    table(["section", "target", "measured", "p25-p75", "goal", ""], rows,
          "<<>>><")
    oks = [t[4] for t in st["targets"]]
    print()
    print(f"  targets: {oks.count(True)} met, {oks.count(False)} not met, "
          f"{oks.count(None)} unclear (of {len(oks)}); unclear: the "
          "rounds' p25-p75")
    print("  crosses the goal, so one run's noise would decide")


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "startup":
        startup(args[0], args[1:])
    elif cmd == "phases":
        phases(args[0], args[1:])
    elif cmd == "speed":
        speed(*args)
    elif cmd == "memory":
        memory(args[0], args[1], args[2])
    elif cmd == "stream":
        stream(args[0], args[1], args[2])
    elif cmd == "batch":
        batch(args[0], args[1], args[2], args[3:])
    elif cmd == "summary":
        summary(args[0])
    else:
        sys.exit(f"report.py: unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
