"""bench/server_attack.py - section 6 of bench/server.sh: a victim under
attack. Standard library only.

    server_attack.py HOST PORT SIGNINS SENDS SLOW_CONNS OUT

On an e2e-server started with its default limits (bcrypt cost 12):
makes the accounts (from 127.0.0.1), then measures a victim's sign-in and
send latency from 127.0.0.2 alone, then again while 127.0.0.1 floods
sign-ins with a correct password, keeps SLOW_CONNS uploads of a 4 MiB
body going slowly without a token, and floods the victim's mailbox with
sends from 8 accounts, all in one run. The victim signs in SIGNINS times
(10 accounts in turn, as people do) and sends SENDS messages (the same 10
accounts, to a friend), each on a new connection as a client tool does.
Writes one "JSON {...}" line to OUT with every latency and every count.
"""
import http.client
import json
import multiprocessing
import select
import socket
import sys
import threading
import time

ATTACKER, VICTIM = "127.0.0.1", "127.0.0.2"
BODY_MAX = 4 << 20


def password(name):
    return "bench password of " + name


class Conn:
    def __init__(self, host, port, source=None, timeout=60):
        self.c = http.client.HTTPConnection(
            host, port, timeout=timeout,
            source_address=(source, 0) if source else None)

    def call(self, method, path, body=None, token=None):
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        self.c.request(method, path, body=data, headers=headers)
        r = self.c.getresponse()
        raw = r.read()
        try:
            v = json.loads(raw)
        except ValueError:
            v = None
        return r.status, v

    def close(self):
        self.c.close()


def once(host, port, source, method, path, body=None, token=None):
    """One request on a new connection: (status, answer, seconds);
    status 0 when the connection failed."""
    t = time.monotonic()
    c = Conn(host, port, source)
    try:
        st, v = c.call(method, path, body, token)
    except (OSError, http.client.HTTPException):
        st, v = 0, None
    finally:
        c.close()
    return st, v, time.monotonic() - t


def account(host, port, name):
    """Signs name up and in (retrying while the bcrypt queue is busy);
    returns its token."""
    cred = {"name": name, "password": password(name)}
    for path in ("/users/signup", "/users/signin"):
        for _ in range(100):
            st, v, _ = once(host, port, ATTACKER, "POST", path, cred)
            if st != 503:
                break
            time.sleep(0.5)
        if st != 200:
            sys.exit(f"server_attack.py: {path} {name}: {st} {v}")
    return v["token"]


def victim_run(host, port, victims, tokens, signins, sends):
    """The victim's requests, interleaved: a sign-in, then its share of
    the sends. Returns {"signin": [s...], "send": [s...], "refused":
    {status: n}}."""
    out = {"signin": [], "send": [], "refused": {}}
    per = max(1, sends // max(1, signins))
    left = sends
    for i in range(signins):
        name = victims[i % len(victims)]
        st, _, dt = once(host, port, VICTIM, "POST", "/users/signin",
                         {"name": name, "password": password(name)})
        out["signin"].append(dt)
        if st != 200:
            out["refused"][str(st)] = out["refused"].get(str(st), 0) + 1
        for _ in range(per if i < signins - 1 else left):
            if left == 0:
                break
            left -= 1
            st, _, dt = once(host, port, VICTIM, "POST", "/messages",
                             {"to": "friend", "message": "x" * 200},
                             tokens[name])
            out["send"].append(dt)
            if st != 200:
                out["refused"][str(st)] = \
                    out["refused"].get(str(st), 0) + 1
    return out


def count(d, key, lock):
    with lock:
        d[key] = d.get(key, 0) + 1


def signin_flood(host, port, stop, counts, lock):
    while not stop.is_set():
        st, _, _ = once(host, port, ATTACKER, "POST", "/users/signin",
                        {"name": "mallory", "password": password("mallory")})
        count(counts, str(st), lock)


def send_flood(host, port, token, stop, counts, lock):
    c = Conn(host, port, ATTACKER)
    msg = {"to": "victim", "message": "y" * 1000}
    while not stop.is_set():
        try:
            st, _ = c.call("POST", "/messages", msg, token)
        except (OSError, http.client.HTTPException):
            st = 0
            c.close()
            c = Conn(host, port, ATTACKER)
        count(counts, str(st), lock)
    c.close()


def slow_uploads(host, port, n, stop, counts):
    """n connections each announcing a 4 MiB send without a token and
    sending 1 KiB every 0.1 s; an early answer is counted, and that
    connection starts again half a second later."""
    head = (f"POST /messages HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\n"
            f"Content-Length: {BODY_MAX}\r\n\r\n").encode()
    chunk = b"z" * 1024
    conns = {}      # socket -> bytes sent
    again = []      # (time, ) of connections to open again

    def connect():
        s = socket.socket()
        s.setblocking(True)
        s.settimeout(5)
        try:
            s.bind((ATTACKER, 0))
            s.connect((host, port))
            s.sendall(head)
            s.setblocking(False)
            conns[s] = 0
            counts["opened"] = counts.get("opened", 0) + 1
        except OSError:
            counts["connect_failed"] = counts.get("connect_failed", 0) + 1
            s.close()
            again.append(time.monotonic() + 0.5)

    def drop(s, why):
        counts[why] = counts.get(why, 0) + 1
        s.close()
        del conns[s]
        again.append(time.monotonic() + 0.5)

    for _ in range(n):
        connect()
    next_send = time.monotonic()
    while not stop.is_set():
        r, _, _ = select.select(list(conns), [], [], 0.05)
        for s in r:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if data[:9] == b"HTTP/1.1 " and data[9:12].isdigit():
                drop(s, "answered_" + data[9:12].decode())
            else:
                drop(s, "closed")
        now = time.monotonic()
        while again and again[0] <= now:
            again.pop(0)
            connect()
        if now >= next_send:
            next_send = now + 0.1
            for s in list(conns):
                try:
                    if conns[s] + len(chunk) < BODY_MAX:
                        s.send(chunk)
                        conns[s] += len(chunk)
                except OSError:
                    drop(s, "closed")
    counts["bytes_sent"] = sum(conns.values())
    for s in list(conns):
        s.close()


def attack(host, port, tokens, flooders, slow, stop, results):
    """The attack, in its own process, until stop is set: 16 threads
    flooding sign-ins with a correct password, one thread per flooder
    account sending to the victim, slow uploads; puts its counts on
    results."""
    lock = threading.Lock()
    flood_counts, send_counts, slow_counts = {}, {}, {}
    ts = [threading.Thread(target=signin_flood,
                           args=(host, port, stop, flood_counts, lock))
          for _ in range(16)]
    ts += [threading.Thread(target=send_flood,
                            args=(host, port, tokens[f], stop, send_counts,
                                  lock))
           for f in flooders]
    ts.append(threading.Thread(target=slow_uploads,
                               args=(host, port, slow, stop, slow_counts)))
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    results.put((flood_counts, send_counts, slow_counts))


def main(argv):
    host, port = argv[1], int(argv[2])
    signins, sends, slow = int(argv[3]), int(argv[4]), int(argv[5])
    out = argv[6]
    victims = [f"v{i:02d}" for i in range(10)]
    flooders = [f"f{i:02d}" for i in range(8)]
    tokens = {}
    names = victims + flooders + ["friend", "victim", "mallory"]
    ts = []
    lock = threading.Lock()

    def make(chunk):
        for n in chunk:
            t = account(host, port, n)
            with lock:
                tokens[n] = t
    for k in range(4):
        ts.append(threading.Thread(target=make, args=(names[k::4],)))
    for t in ts:
        t.start()
    for t in ts:
        t.join()

    alone = victim_run(host, port, victims, tokens, signins, sends)

    # The attack runs in another process: in this one its 25 threads
    # would hold Python's interpreter lock while the victim's thread
    # waits for it, and the victim's times would measure Python, not
    # the server.
    stop = multiprocessing.Event()
    results = multiprocessing.Queue()
    attacker = multiprocessing.Process(
        target=attack, args=(host, port, tokens, flooders, slow, stop,
                             results))
    t0 = time.monotonic()
    attacker.start()
    time.sleep(1)
    attack_lat = victim_run(host, port, victims, tokens, signins, sends)
    stop.set()
    flood_counts, send_counts, slow_counts = results.get(timeout=120)
    attacker.join(60)
    secs = time.monotonic() - t0
    d = {"alone": alone, "attack": attack_lat, "signin_flood": flood_counts,
         "send_flood": send_counts, "slow_uploads": slow_counts,
         "slow_conns": slow, "attack_s": secs}
    with open(out, "w") as f:
        f.write("JSON " + json.dumps(d) + "\n")


if __name__ == "__main__":
    main(sys.argv)
