"""bench/server_report.py - the arithmetic and the tables of bench/server.sh.

server.sh runs nginx, e2e-server, wrk and the small C clients; this reads
the "JSON {...}" lines they print and makes the tables. Targets met or not
go into the same small state file as bench/report.py keeps, and its
summary prints them. Standard library only.

    server_report.py http    STATE WRK_OUTPUT... COMMITS... CPU...
        (named wrk-KIND-ROUND.out, and commit-KIND-ROUND.out: the
        writers' "COMMITS JOBS" before and after that send run;
        ctime-KIND-ROUND.out: their seconds committing, before and after;
        cpu-KIND-ROUND.out: "SERVER0 DB0 SERVER1 DB1 HZ", the server's
        and the PostgreSQL cluster's CPU ticks before and after;
        wcpu-KIND-ROUND.out: bash's times after wrk, its CPU time)
    server_report.py recvack STATE NAME=RECVACK_OUTPUT...
    server_report.py latency STATE NAME=LATENCY_OUTPUT...
    server_report.py waiters STATE WAITERS_OUTPUT KEY=VALUE...
    server_report.py attack  STATE ATTACK_OUTPUT KEY=VALUE...
    server_report.py summary STATE
"""
import json
import re
import statistics
import sys

from report import load_state, save_state, summary, table, target

KINDS = [
    ("nginx", "nginx, static file ({size} bytes)"),
    ("mhd", "libmicrohttpd alone, POST, fixed answer"),
    ("mhdh", "libmicrohttpd + handoff (suspend, resume)"),
    ("healthz", "e2e-server GET /healthz"),
    ("disk", "e2e-server POST /messages, db in {tmp}"),
    ("shm", "e2e-server POST /messages, db in /dev/shm"),
    ("pg1", "e2e-server POST /messages, PostgreSQL, one instance"),
    ("pg2", "e2e-server POST /messages, PostgreSQL, two instances"),
]


def merge_wrk(a, b):
    """Two wrk runs at once (pg2: one through each instance) as one: the
    requests and errors summed over the longer duration; each latency
    the worse of the two."""
    d = {k: a[k] + b[k] for k in ("requests", "status", "connect", "read",
                                    "write", "timeout")}
    d["duration_us"] = max(a["duration_us"], b["duration_us"])
    for k in ("p50_us", "p90_us", "p99_us", "max_us"):
        d[k] = max(a[k], b[k])
    return d


def goal(st, section, what, value, want, met):
    """A target: said under its table, and kept for the summary."""
    target(st, section, what, value, want, met)
    print(f"  target: {what}: {value} (goal {want}): "
          f"{'met' if met else 'NOT MET'}")


def commit_bound(st, runs, commits, ctime, env, kinds=("disk", "shm"),
                 quiet=False):
    """The ceiling the disk's flush puts on durable sends: each of wrk's
    connections has one request at a time, and each send waits at least
    for the commit that holds it, so sends/s <= connections / the mean
    commit time (Little's law), however little the rest costs. Returns
    {kind: (mean commit s, sends/s at most)}."""
    conns = int(env.get("conns", 64))
    out = {}
    for kind in kinds:
        rs = [r for r in runs.get(kind, {}) if r in ctime.get(kind, {})
              and commits.get(kind, {}).get(r, (0, 0))[0] > 0]
        if not rs:
            continue
        mean = sum(ctime[kind][r] for r in rs) / \
            sum(commits[kind][r][0] for r in rs)
        if mean <= 0:
            continue
        bound = conns / mean
        out[kind] = (mean, bound)
        if quiet:
            continue
        ng = [runs["nginx"][r]["rate"] for r in rs
              if r in runs.get("nginx", {})]
        x = bound / statistics.median(ng) if ng else float("nan")
        where = "db on disk" if kind == "disk" else "db in /dev/shm"
        print(f"  commit time ({where}): {mean * 1e3:.2f} ms mean per "
              f"commit (fdatasync); {conns} connections / that = at most "
              f"{bound:.0f} sends/s ({x:.2f} x nginx)")
        st["values"][f"commit_ms_{kind}"] = mean * 1e3
        st["values"][f"commit_bound_{kind}"] = x
    return out


def times_secs(text):
    """User plus system seconds of the children, from bash's times (its
    second line: "0m1.250s 0m0.340s")."""
    lines = text.split("\n")
    t = 0.0
    for f in lines[1].split():
        m = re.fullmatch(r"(\d+)m([\d.]+)s", f)
        if not m:
            sys.exit(f"server_report.py: cannot read times: {f!r}")
        t += int(m.group(1)) * 60 + float(m.group(2))
    return t


def cpu_use(runs, cpu, wcpu):
    """CPU time per request over the rounds that have both the wrk run
    and the CPU counts: {kind: (server us, PostgreSQL us, wrk us or None,
    requests)}. The same rounds as the rates."""
    out = {}
    for kind, rounds in runs.items():
        rs = [r for r in rounds if r in cpu.get(kind, {})]
        n = sum(rounds[r]["requests"] for r in rs)
        if not rs or n == 0:
            continue
        srv = sum(cpu[kind][r][0] for r in rs)
        db = sum(cpu[kind][r][1] for r in rs)
        # pg2: both wrk runs of the round, or none counted.
        want = 2 if kind == "pg2" else 1
        w = [wcpu.get(kind, {}).get(r, []) for r in rs]
        wrk = sum(map(sum, w)) / n * 1e6 \
            if all(len(x) == want for x in w) else None
        out[kind] = (srv / n * 1e6, db / n * 1e6, wrk, n)
    return out


def cpu_table(use, runs, rate, env):
    """Each row's CPU per request, server side and wrk, and the rate the
    cores allow at that cost: the cores / CPU per request."""
    cores = int(env.get("cores", 2))
    rows = []
    for kind, desc in KINDS:
        if kind not in use:
            continue
        srv, db, wrk, _ = use[kind]
        tot = srv + db + (wrk or 0)
        rows.append([desc.format(size=env.get("static_bytes", "?"),
                                 tmp=env.get("tmp", "/tmp")),
                     f"{srv:.1f}", f"{db:.1f}" if db else "-",
                     "-" if wrk is None else f"{wrk:.1f}", f"{tot:.1f}",
                     f"{cores / tot * 1e6:.0f}" if tot > 0 else "-",
                     f"{rate[kind]:.0f}"])
    if not rows:
        return
    print()
    table(["CPU per request (us), same runs", "server", "PostgreSQL",
           "wrk", "all", f"{cores} cores / all", "req/s"], rows,
          "<>>>>>>")
    print("  server: e2e-server's process (nginx's master and workers), "
          "utime + stime from")
    print("  /proc/PID/stat before and after each run; PostgreSQL: the "
          "cluster's postmaster and")
    print("  every child of it; wrk: its own CPU (it shares the cores); per "
          "request wrk completed.")


def cpu_limit(st, kind, use, bound, ref_rate, ref, measured, ref_kind):
    """The lines under a NOT MET send target: the ceiling the measured
    CPU allows, next to the commit time's, and which one is the lower;
    then the ratio of the two rows' CPU ceilings (ref_kind's the
    reference), which other work on the machine does not move."""
    env = st["values"].get("env", {})
    cores = int(env.get("cores", 2))
    if kind not in use:
        return
    srv, db, wrk, _ = use[kind]
    tot = srv + db + (wrk or 0)
    if tot <= 0 or not ref_rate:
        return
    parts = [f"e2e-server {srv:.0f}"]
    if db:
        parts.append(f"PostgreSQL {db:.0f}")
    if wrk is not None:
        parts.append(f"wrk {wrk:.0f}")
    cmax = cores / tot * 1e6
    line = (f"  limit: CPU: {cores} cores / {tot:.0f} us per send "
            f"({', '.join(parts)}) = at most {cmax:.0f} sends/s = "
            f"{cmax / ref_rate:.2f} x {ref}")
    st["values"][f"cpu_us_{kind}"] = tot
    st["values"][f"cpu_bound_{kind}"] = cmax / ref_rate
    if bound is None:
        print(line + f"; measured {measured:.0f} = "
              f"{measured / cmax:.2f} of it")
        return
    mean, dmax = bound
    print(line + f"; commit time ({mean * 1e3:.2f} ms per commit): at "
          f"most {dmax:.0f} = {dmax / ref_rate:.2f} x {ref}")
    if cmax <= dmax:
        print(f"    the lower is CPU: the limit is CPU ({tot:.0f} us per "
              f"send), not {'the disk' if kind == 'disk' else 'the commit'}"
              f"; measured {measured:.0f} sends/s = "
              f"{measured / cmax:.2f} of it")
    else:
        print(f"    the lower is the commit time: the limit is the "
              f"commit ({mean * 1e3:.2f} ms), not CPU; measured "
              f"{measured:.0f} sends/s = {measured / dmax:.2f} of it")
    if ref_kind in use:
        rs, rd, rw, _ = use[ref_kind]
        rtot = rs + rd + (rw or 0)
        print(f"    at each one's CPU cost the cores allow {rtot / tot:.2f}"
              f" x {ref} ({ref} {rtot:.0f} us a request with wrk, at "
              f"most {cores / rtot * 1e6:.0f}/s)")


def json_line(path, tag="JSON"):
    """The "JSON {...}" (or other tag's) line a bench program printed."""
    with open(path) as f:
        for line in f:
            if line.startswith(tag + " "):
                return json.loads(line[len(tag) + 1:])
    sys.exit(f"server_report.py: no {tag} line in {path}")


def pct(v, p):
    """The p-th percentile of v (p in 0..100), nearest rank."""
    v = sorted(v)
    if not v:
        return float("nan")
    k = max(0, min(len(v) - 1, int(round(p / 100 * len(v) + 0.5)) - 1))
    return v[k]


# Sections 1 and 2 --------------------------------------------------------

def http(state, files):
    st = load_state(state)
    runs, halves, commits, ctime, cpu, wcpu = {}, {}, {}, {}, {}, {}
    for fn in files:
        m = re.search(r"(?:^|/)(wrk|commit|ctime|cpu|wcpu)-(\w+)-(\d+)"
                      r"\.out$", fn)
        if not m:
            continue
        kind, r = m.group(2), int(m.group(3))
        if m.group(1) == "wcpu":
            with open(fn) as f:
                t = times_secs(f.read())
            # pg2: the two wrk runs at once, summed.
            kind = "pg2" if kind in ("pg2a", "pg2b") else kind
            wcpu.setdefault(kind, {}).setdefault(r, []).append(t)
        elif m.group(1) == "cpu":
            with open(fn) as f:
                s0, d0, s1, d1, hz = (int(x) for x in f.read().split())
            cpu.setdefault(kind, {})[r] = ((s1 - s0) / hz, (d1 - d0) / hz)
        elif m.group(1) == "ctime":
            with open(fn) as f:
                t0, t1 = (float(x) for x in f.read().split())
            ctime.setdefault(kind, {})[r] = t1 - t0
        elif m.group(1) == "commit":
            with open(fn) as f:
                c0, j0, c1, j1 = (int(x) for x in f.read().split())
            commits.setdefault(kind, {})[r] = (c1 - c0, j1 - j0)
        elif kind in ("pg2a", "pg2b"):
            halves.setdefault(r, {})[kind] = json_line(fn)
        else:
            runs.setdefault(kind, {})[r] = json_line(fn)
    for r, h in halves.items():
        if len(h) == 2:
            runs.setdefault("pg2", {})[r] = merge_wrk(h["pg2a"], h["pg2b"])
    rate, ok_rate = {}, {}
    for kind, rounds in runs.items():
        for r, d in rounds.items():
            sec = d["duration_us"] / 1e6
            bad = d["status"] + d["connect"] + d["read"] + d["write"] + \
                d["timeout"]
            d["rate"] = d["requests"] / sec
            # Only the answers that were 200 count as sends done.
            d["ok_rate"] = (d["requests"] - d["status"]) / sec
            d["bad"] = bad
        rate[kind] = statistics.median(d["rate"] for d in rounds.values())
        ok_rate[kind] = statistics.median(d["ok_rate"]
                                          for d in rounds.values())
    st["values"]["nginx_rate"] = rate.get("nginx")
    env = st["values"].get("env", {})
    use = cpu_use(runs, cpu, wcpu)
    rows = []
    for kind, desc in KINDS:
        if kind not in runs:
            continue
        rounds = runs[kind]
        # The ratio of each round (nginx measured just before or after),
        # then their median: a slow spell hits both sides of a round.
        ratios = [rounds[r]["ok_rate"] / runs["nginx"][r]["rate"]
                  for r in rounds if r in runs.get("nginx", {})]
        ratio = statistics.median(ratios) if ratios else float("nan")
        per = " ".join(f"{rounds[r]['ok_rate']:.0f}" for r in sorted(rounds))
        lat = {p: statistics.median(d[p] for d in rounds.values()) / 1e3
               for p in ("p50_us", "p90_us", "p99_us", "max_us")}
        bad = sum(d["bad"] for d in rounds.values())
        total = sum(d["requests"] for d in rounds.values())
        shown = ok_rate[kind] if kind != "nginx" else rate[kind]
        # The group commit reached: sends (writes) per commit, one
        # fdatasync each, over all the rounds.
        cj = [commits[kind][r] for r in rounds if r in commits.get(kind, {})]
        ncommit = sum(c for c, _ in cj)
        group = f"{sum(j for _, j in cj) / ncommit:.1f}" if ncommit else "-"
        rows.append([desc.format(size=env.get("static_bytes", "?"),
                                 tmp=env.get("tmp", "/tmp")),
                     f"{shown:.0f}", per, f"{ratio:.2f}", group,
                     f"{lat['p50_us']:.2f}", f"{lat['p90_us']:.2f}",
                     f"{lat['p99_us']:.2f}", f"{lat['max_us']:.1f}",
                     f"{bad}/{total}"])
        st["values"][f"rate_{kind}"] = shown
        st["values"][f"bad_{kind}"] = bad
        st["values"][f"ratio_{kind}"] = ratio
    table(["wrk, 64 connections", "req/s", "each round", "x nginx",
           "sends/commit", "p50 ms", "p90 ms", "p99 ms", "max ms",
           "not 200"], rows, "<>>>>>>>><")
    print("  req/s: median over the rounds; for e2e-server only the answers "
          "200 count.")
    print("  x nginx: median of each round's ratio. sends/commit: the "
          "writes per commit (one")
    print("  fdatasync) over the rounds, from /metrics. Latencies: wrk's, "
          "medians over the rounds;")
    print("  PostgreSQL, two instances: 32 connections through each at "
          "once, summed.")
    cpu_table(use, runs, rate, env)
    if "disk" in runs:
        bad = st["values"]["bad_disk"]
        val = f"{st['values']['ratio_disk']:.2f} x"
        if bad:
            val += f" ({bad} not 200)"
        met = st["values"]["ratio_disk"] >= 0.50 and bad == 0
        goal(st, "sends", "durable sends (db on disk) vs nginx static",
             val, ">= 0.50 x", met)
        bounds = commit_bound(st, runs, commits, ctime, env)
        if not met and "nginx" in rate:
            cpu_limit(st, "disk", use, bounds.get("disk"), rate["nginx"],
                      "nginx", ok_rate["disk"], "nginx")
    for kind, n in (("pg1", "one instance"), ("pg2", "two instances")):
        if kind not in runs or "disk" not in runs:
            continue
        # Each round's ratio to the SQLite disk run of the same round.
        ratios = [runs[kind][r]["ok_rate"] / runs["disk"][r]["ok_rate"]
                  for r in runs[kind] if r in runs["disk"] and
                  runs["disk"][r]["ok_rate"] > 0]
        ratio = statistics.median(ratios) if ratios else float("nan")
        bad = st["values"][f"bad_{kind}"]
        val = f"{ratio:.2f} x" + (f" ({bad} not 200)" if bad else "")
        met = ratio >= 0.50 and bad == 0
        goal(st, "sends", f"PostgreSQL durable sends, {n}, vs SQLite",
             val, ">= 0.50 x", met)
        if not met:
            b = commit_bound(st, runs, commits, ctime, env, (kind,), True)
            cpu_limit(st, kind, use, b.get(kind), ok_rate["disk"],
                      "SQLite", ok_rate[kind], "disk")
    for kind in ("disk", "shm", "pg1", "pg2"):
        for r, d in sorted(runs.get(kind, {}).items()):
            if d["bad"]:
                print(f"  {kind} round {r}: {d['status']} answers not 200, "
                      f"{d['connect'] + d['read'] + d['write']} socket "
                      f"errors, {d['timeout']} timeouts")
    save_state(state, st)


# Section 3 ---------------------------------------------------------------

def recvack(state, pairs):
    """NAME=RECVACK_OUTPUT per server (the first SQLite's), one column
    each."""
    st = load_state(state)
    names, cols, notes = [], [], []
    for i, pair in enumerate(pairs):
        name, fn = pair.split("=", 1)
        d = json_line(fn)
        sec = d["elapsed_us"] / 1e6
        msgs = d["acked"] / sec
        reqs = (d["gets"] + d["acks"]) / sec
        per = d["fetched"] / max(1, d["gets"])
        names.append(name)
        cols.append([f"{msgs:.0f}", f"{reqs:.0f}",
                     f"{per:.1f} ({d['limit']})", f"{d['users']}",
                     f"{sec:.2f}" + (" (until a mailbox ran empty)"
                                     if d["ran_empty"] else ""),
                     f"{d['errors']}"])
        if sec < 1:
            notes.append(f"  note ({name}): under a second of work (too few "
                         "messages stored): a rough figure")
        if d["acked"] < d["fetched"] - d["limit"] * d["users"]:
            notes.append(f"  note ({name}): {d['fetched']} fetched but "
                         f"{d['acked']} acknowledged")
        st["values"]["recvack_rate" if i == 0 else
                     f"recvack_rate_{i}"] = msgs
    what = ["messages received and acknowledged /s",
            "HTTP requests /s (GET + ack)", "messages per GET (limit)",
            "users (connections)", "time measured s", "answers not 200"]
    rows = [[w] + [c[k] for c in cols] for k, w in enumerate(what)]
    table(["receive-and-ack (bench/recvack.c)"] + names, rows,
          "<" + ">" * len(names))
    for n in notes:
        print(n)
    save_state(state, st)


# Section 4 ---------------------------------------------------------------

def latency(state, pairs):
    st = load_state(state)
    rows, goals = [], []
    floor = None
    for p in pairs:
        name, fn = p.split("=", 1)
        d = json_line(fn)
        if "commit_us" in d:
            # PostgreSQL's own floor under a send's answer (pg_floor).
            v = [x / 1e3 for x in d["commit_us"]]
            rows.append([f"{name}: one INSERT committed", len(v),
                         f"{pct(v, 50):.2f}", f"{pct(v, 90):.2f}",
                         f"{pct(v, 99):.2f}",
                         f"{max(v) if v else float('nan'):.2f}"])
            floor = pct(v, 50)
            continue
        for what, key in (("delivery", "deliver_us"),
                          ("send answered", "answer_us")):
            v = [x / 1e3 for x in d[key]]
            rows.append([f"{name}: {what}", len(v), f"{pct(v, 50):.2f}",
                         f"{pct(v, 90):.2f}", f"{pct(v, 99):.2f}",
                         f"{max(v) if v else float('nan'):.2f}"])
        notes = [f"{d[k]} {k.replace('_', ' ')}" for k in
                 ("lost", "send_errors", "duplicates", "bad_answers")
                 if d[k]]
        if notes:
            rows.append([f"  {name}: " + ", ".join(notes), "", "", "", "",
                         ""])
        med = pct([x / 1e3 for x in d["deliver_us"]], 50)
        if name.startswith("disk"):
            goals.append(("median delivery with long-poll", med,
                          d["lost"] == 0))
            goals.append(("median send answered, one at a time (the "
                          "commit)", pct([x / 1e3 for x in d["answer_us"]],
                                         50), None))
        elif name.startswith("PostgreSQL"):
            goals.append(("median delivery across two instances "
                          "(PostgreSQL)", med, d["lost"] == 0))
    table(["long-poll, one send at a time", "n", "p50 ms", "p90 ms",
           "p99 ms", "max ms"], rows, "<>>>>>")
    print("  delivery: from just before the send is written to the "
          "receiver having read")
    print("  its GET's answer; send answered: to the sender having its 200 "
          "(the commit).")
    if floor is not None:
        print("  PostgreSQL alone: pgbench, one client, one row inserted "
              "and committed at a time")
        print(f"  (a round trip and the WAL flush): {floor:.2f} ms at the "
              "median, the floor under")
        print("  a send answered through PostgreSQL on this machine, and "
              "so under its delivery.")
    for what, ms, whole in goals:
        # A lone send is not held for the group commit: its answer
        # stays at the commit's own time.
        limit = 2.0 if whole is None else 5.0
        goal(st, "latency", what, f"{ms:.2f} ms", f"<= {limit:.2f} ms",
             ms <= limit and whole is not False)
    save_state(state, st)


# Section 5 ---------------------------------------------------------------

def waiters(state, fn, pairs):
    st = load_state(state)
    d = json_line(fn)
    early = json_line(fn, "EARLY")
    kv = dict(p.split("=", 1) for p in pairs)
    base = int(kv["rss_before_kib"])
    rss = int(kv["rss_kib"])
    hwm = int(kv["hwm_kib"])
    held = int(kv["held"])
    n = d["n"]
    per = (rss - base) / max(1, held)
    rows = [
        ["receivers (connections with GET ?wait=60)", f"{n}"],
        ["requests written by the client", f"{d['sent']}"],
        ["e2e_receivers_waiting (/metrics), less those before",
         f"{held}" + (f" ({kv['before']} before)" if kv.get("before", "0")
                      != "0" else "")],
        ["answered early / closed early / failed to connect",
         f"{early['answered']} / {early['closed']} / {d['failed']}"],
        ["time to write them all s", f"{d['send_ms'] / 1e3:.1f}"],
        ["VmRSS before MB", f"{base * 1.024e-3:.1f}"],
        ["VmRSS while they wait MB", f"{rss * 1.024e-3:.1f}"],
        ["VmHWM (peak of the whole run) MB", f"{hwm * 1.024e-3:.1f}"],
        ["per waiting receiver KiB", f"{per:.1f}"],
        ["then SIGTERM: answered / exit status / seconds",
         f"{d['answered'] - early['answered']} / {kv['stop_status']} / "
         f"{int(kv['stop_ms']) / 1e3:.1f}"],
    ]
    table([f"{n} waiting receivers", "value"], rows, "<>")
    print("  MB = 10^6 bytes. The server was started with --max-connections "
          "20000 and has")
    print("  run sections 1-4 before (VmHWM covers them too).")
    if early["answered"] and d["first_status"]:
        print(f"  the first early answer had status {d['first_status']}")
    target(st, "waiters", f"{n} receivers held at once", f"{held}",
           f"{n}", held >= n and early["answered"] == 0 and
           early["closed"] == 0)
    mb = rss * 1.024e-3
    target(st, "waiters", f"resident memory with {n} waiting",
           f"{mb:.0f} MB", "< 150 MB", mb < 150)
    save_state(state, st)


# Section 6 ---------------------------------------------------------------

def attack(state, fn, pairs):
    st = load_state(state)
    d = json_line(fn)
    kv = dict(p.split("=", 1) for p in pairs)
    rows = []
    p99 = {}
    for what in ("signin", "send"):
        for phase in ("alone", "attack"):
            v = [x * 1e3 for x in d[phase][what]]
            p99[(what, phase)] = pct(v, 99)
            rows.append([f"victim {what}, {phase if phase == 'alone' else 'under attack'}",
                         len(v), f"{pct(v, 50):.1f}", f"{pct(v, 90):.1f}",
                         f"{pct(v, 99):.1f}", f"{max(v):.1f}"])
    table(["victim from 127.0.0.2 (new connection each)", "n", "p50 ms",
           "p90 ms", "p99 ms", "max ms"], rows, "<>>>>>")
    refused = {ph: sum(d[ph]["refused"].values()) for ph in ("alone",
                                                              "attack")}

    def counts(c):
        return ", ".join(f"{n} x {k}" for k, n in sorted(c.items())) or "-"
    rows = [
        ["victim requests not 200, alone / under attack",
         f"{counts(d['alone']['refused'])} / "
         f"{counts(d['attack']['refused'])}"],
        ["sign-in flood, 16 threads, mallory's right password",
         counts(d["signin_flood"])],
        ["send flood to the victim's mailbox, 8 accounts",
         counts(d["send_flood"])],
        [f"slow uploads, {d['slow_conns']} connections of 4 MiB, no token",
         counts({k: v for k, v in d["slow_uploads"].items()
                 if k != "bytes_sent"})],
        ["attack length s", f"{d['attack_s']:.1f}"],
        ["server VmHWM before / after the attack MB",
         f"{int(kv['hwm_before_kib']) * 1.024e-3:.1f} / "
         f"{int(kv['hwm_after_kib']) * 1.024e-3:.1f}"],
    ]
    table(["the attack (from 127.0.0.1)", "value"], rows, "<<")
    print("  statuses: 0 = no answer (connection failed). Slow uploads: "
          "opened, answered early")
    print("  (the status), closed by the server, or still sending when the "
          "attack ended.")
    for what in ("signin", "send"):
        a, b = p99[(what, "alone")], p99[(what, "attack")]
        ratio = b / a if a > 0 else float("nan")
        target(st, "attack", f"victim {what} p99 under attack vs alone",
               f"{ratio:.1f} x", "<= 10 x", ratio <= 10)
    target(st, "attack", "victim requests refused under attack",
           f"{refused['attack']}", "0", refused["attack"] == 0 and
           refused["alone"] == 0)
    save_state(state, st)


def env(state, pairs):
    st = load_state(state)
    st["values"]["env"] = dict(p.split("=", 1) for p in pairs)
    save_state(state, st)


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "http":
        http(args[0], args[1:])
    elif cmd == "recvack":
        recvack(args[0], args[1:])
    elif cmd == "latency":
        latency(args[0], args[1:])
    elif cmd == "waiters":
        waiters(args[0], args[1], args[2:])
    elif cmd == "attack":
        attack(args[0], args[1], args[2:])
    elif cmd == "env":
        env(args[0], args[1:])
    elif cmd == "summary":
        summary(args[0])
    else:
        sys.exit(f"server_report.py: unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
