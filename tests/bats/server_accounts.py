"""server_accounts.py - the clients of server_accounts.bats (issue 9):
floods of sign-ins from one loopback address while a victim signs in
from another, concurrent sends against a quota, pages of a list, and
the timing of failed sign-ins. Standard library only; every loop is
bounded in count and time.

    server_accounts.py burst URL SOURCE:NAME:PASSWORD...
    server_accounts.py flood URL SOURCE NAME PASSWORD THREADS SECONDS \
        VSOURCE VNAME VPASSWORD VCOUNT
    server_accounts.py signins URL SOURCE NAME PASSWORD COUNT
    server_accounts.py sends URL TOKEN TO COUNT PARALLEL SIZE
    server_accounts.py pages URL TOKEN LIMIT
    server_accounts.py timing URL RUNS KNOWN UNKNOWN
    server_accounts.py deletion_timing URL RUNS NAME ID TOKEN
"""
import http.client
import json
import statistics
import sys
import threading
import time
import urllib.parse


def conn(url, source=None, timeout=60):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(
        u.hostname, u.port, timeout=timeout,
        source_address=(source, 0) if source else None)


def request(c, method, path, body=None, token=None):
    """(status, parsed body or text, headers, seconds)."""
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    t = time.monotonic()
    c.request(method, path, body=data, headers=headers)
    r = c.getresponse()
    raw = r.read()
    dt = time.monotonic() - t
    try:
        v = json.loads(raw)
    except ValueError:
        v = raw[:200]
    return r.status, v, r, dt, len(raw)


def signin(url, source, name, password):
    c = conn(url, source)
    try:
        st, v, r, dt, _ = request(c, "POST", "/users/signin",
                                  {"name": name, "password": password})
        return st, v, r.getheader("Retry-After"), dt
    finally:
        c.close()


def cmd_burst(url, *specs):
    """Every SOURCE:NAME:PASSWORD signs in at the same moment, each on
    its own connection. One line each: STATUS SECONDS RETRY-AFTER."""
    out = [None] * len(specs)
    go = threading.Barrier(len(specs))

    def work(i, spec):
        source, name, password = spec.split(":", 2)
        c = conn(url, source)
        c.connect()
        go.wait()
        try:
            st, v, r, dt, _ = request(c, "POST", "/users/signin",
                                      {"name": name, "password": password})
            out[i] = "%d %.3f %s" % (st, dt, r.getheader("Retry-After"))
        except (OSError, http.client.HTTPException) as e:
            out[i] = "000 0 %s" % type(e).__name__
        finally:
            c.close()
    ts = [threading.Thread(target=work, args=(i, s))
          for i, s in enumerate(specs)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    for line in out:
        print(line)


def cmd_signins(url, source, name, password, count):
    """COUNT sign-ins one after another: STATUS SECONDS lines."""
    for _ in range(int(count)):
        st, _, _, dt = signin(url, source, name, password)
        print("%d %.4f" % (st, dt), flush=True)


def cmd_flood(url, source, name, password, threads, seconds, vsource,
              vname, vpassword, vcount):
    """THREADS loop sign-ins of NAME from SOURCE for SECONDS (NAME may
    be a comma-separated list: thread i takes name i modulo their number;
    PASSWORD is then a format, "pw of %s"); meanwhile the victim signs in
    VCOUNT times from VSOURCE, one after another, once the flood is under
    way. Prints "victim STATUS SECONDS CHECKS" lines, CHECKS the flood's
    sign-ins answered 200 or 401 (each a bcrypt check done) while that
    victim's waited: what it waited behind, whatever the machine's
    speed; then "flood STATUS COUNT" lines."""
    stop = time.monotonic() + float(seconds)
    counts = {}
    checked = []
    lock = threading.Lock()
    names = name.split(",")

    def flood(i):
        n = names[i % len(names)]
        pw = password % n if "%s" in password else password
        while time.monotonic() < stop:
            try:
                st, _, _, _ = signin(url, source, n, pw)
            except (OSError, http.client.HTTPException):
                st = 0
            end = time.monotonic()
            with lock:
                counts[st] = counts.get(st, 0) + 1
                if st in (200, 401):
                    checked.append(end)
            # Refused for a full queue: a short pause keeps the queue
            # full without a storm of refusals taking the CPU (the test
            # is of the queue's order; bench/server.sh measures storms).
            if st == 503:
                time.sleep(0.1)
    ts = [threading.Thread(target=flood, args=(i,))
          for i in range(int(threads))]
    for t in ts:
        t.start()
    time.sleep(0.5)
    for _ in range(int(vcount)):
        start = time.monotonic()
        st, _, _, dt = signin(url, vsource, vname, vpassword)
        end = time.monotonic()
        with lock:
            n = sum(1 for t in checked if start < t < end)
        print("victim %d %.4f %d" % (st, dt, n), flush=True)
    for t in ts:
        t.join(float(seconds) + 60)
    for st in sorted(counts):
        print("flood %d %d" % (st, counts[st]))


def cmd_sends(url, token, to, count, parallel, size):
    """COUNT sends of SIZE bytes of \\x01 to TO, PARALLEL at a time, each
    on its own connection. Prints "STATUS COUNT" lines and the error
    texts seen."""
    count, parallel, size = int(count), int(parallel), int(size)
    body = {"to": to, "message": "\x01" * size}
    counts, errors = {}, set()
    lock = threading.Lock()
    left = [count]

    def work():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            c = conn(url)
            try:
                st, v, _, _, _ = request(c, "POST", "/messages", body, token)
            finally:
                c.close()
            with lock:
                counts[st] = counts.get(st, 0) + 1
                if st != 200 and isinstance(v, dict):
                    errors.add("%d %s" % (st, v.get("error")))
    ts = [threading.Thread(target=work) for _ in range(parallel)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    for st in sorted(counts):
        print("%d %d" % (st, counts[st]))
    for e in sorted(errors):
        print("error %s" % e)


def cmd_pages(url, token, limit):
    """Pages through GET /messages?limit=LIMIT with after=: one line per
    page "BYTES COUNT MORE", then "ids N DISTINCT"."""
    c = conn(url)
    after, ids = None, []
    for _ in range(10000):
        path = "/messages?limit=%s" % limit
        if after:
            path += "&after=" + after
        st, v, _, _, n = request(c, "GET", path, token=token)
        if st != 200:
            print("status %d %s" % (st, v))
            return
        msgs = v["messages"]
        print("%d %d %s" % (n, len(msgs), v.get("more", False)))
        if not msgs:
            break
        ids += [m["id"] for m in msgs]
        after = msgs[-1]["id"]
    print("ids %d %d" % (len(ids), len(set(ids))))


def cmd_timing(url, runs, known, unknown):
    """Failed sign-ins of KNOWN (an existing name) and UNKNOWN, RUNS
    times each, interleaved on one connection; prints the medians in
    seconds and their ratio, larger over smaller."""
    c = conn(url)
    times = {known: [], unknown: []}
    # One of each first, not counted: the connection and the caches warm.
    for name in (known, unknown) * (int(runs) + 1):
        st, v, _, dt, _ = request(c, "POST", "/users/signin",
                                  {"name": name, "password": "wrong pw"})
        if st != 403:
            print("status %d %s" % (st, v))
            sys.exit(1)
        times[name].append(dt)
    k = statistics.median(times[known][1:])
    u = statistics.median(times[unknown][1:])
    print("known %.4f unknown %.4f ratio %.3f" % (k, u, max(k, u) / min(k, u)))


def cmd_deletion_timing(url, runs, name, user_id, token):
    """Failed sign-ins of NAME and deletions of its account (ID, with
    TOKEN) with a wrong password, RUNS times each, interleaved on one
    connection; prints the medians in seconds and their ratio, larger
    over smaller."""
    c = conn(url)
    times = {"signin": [], "delete": []}
    # One of each first, not counted: the connection and the caches warm.
    for _ in range(int(runs) + 1):
        for what in ("signin", "delete"):
            if what == "signin":
                st, v, _, dt, _ = request(
                    c, "POST", "/users/signin",
                    {"name": name, "password": "wrong pw"})
            else:
                st, v, _, dt, _ = request(
                    c, "DELETE", "/users/" + user_id,
                    {"password": "wrong pw"}, token)
            if st != 403:
                print("%s: status %d %s" % (what, st, v))
                sys.exit(1)
            times[what].append(dt)
    s = statistics.median(times["signin"][1:])
    d = statistics.median(times["delete"][1:])
    print("signin %.4f delete %.4f ratio %.3f" % (s, d, max(s, d) / min(s, d)))


def main(argv):
    cmds = {"burst": cmd_burst, "flood": cmd_flood, "signins": cmd_signins,
            "sends": cmd_sends, "pages": cmd_pages, "timing": cmd_timing,
            "deletion_timing": cmd_deletion_timing}
    if len(argv) < 2 or argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[argv[1]](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
