#!/usr/bin/env python3
"""Clients for tests/bats/server_robust.bats: concurrent senders, long-poll
receivers and raw HTTP bytes that curl will not send. Each command prints
what it saw; the bats file decides what is right.

    server_robust.py COMMAND URL [ARGS...]

Standard library only, so that any python3 will do.
"""
import http.client
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse


def hostport(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


class Client:
    """One keep-alive connection; reconnects after an error."""

    def __init__(self, url, token=None, timeout=30, source=None):
        self.host, self.port = hostport(url)
        self.token = token
        self.timeout = timeout
        self.source = source
        self.conn = None

    def request(self, method, path, body=None, timeout=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(
                self.host, self.port, timeout=timeout or self.timeout,
                source_address=(self.source, 0) if self.source else None)
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["x-access-token"] = self.token
        try:
            self.conn.request(method, path, body=data, headers=headers)
            r = self.conn.getresponse()
            text = r.read()
        except Exception:
            self.close()
            raise
        try:
            value = json.loads(text) if text else None
        except ValueError:
            value = text
        return r.status, value

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def signup_signin(url, name, password="pw"):
    c = Client(url)
    st, v = c.request("POST", "/users/signup",
                      {"name": name, "password": password})
    if st != 200:
        raise SystemExit("signup %s: %s %s" % (name, st, v))
    st, v = c.request("POST", "/users/signin",
                      {"name": name, "password": password})
    if st != 200:
        raise SystemExit("signin %s: %s %s" % (name, st, v))
    c.close()
    return v["token"]


def metric(url, name):
    st, text = Client(url, timeout=5).request("GET", "/metrics")
    if st != 200:
        return None
    if isinstance(text, bytes):
        text = text.decode()
    for line in str(text).splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def wait_metric(url, name, want, limit=5.0):
    """Polls /metrics until name >= want; returns the last value."""
    end = time.monotonic() + limit
    v = None
    while time.monotonic() < end:
        v = metric(url, name)
        if v is not None and v >= want:
            return v
        time.sleep(0.02)
    return v


# ---- sending ----

def cmd_send(url, token, to, count, parallel, prefix, out):
    """Sends count messages "PREFIX-i" with parallel connections; writes
    "id body" for each 200 to out, and "FAIL status body" for the rest."""
    count, parallel = int(count), int(parallel)
    lock = threading.Lock()
    next_i = [0]
    f = open(out, "a")

    def work():
        c = Client(url, token)
        while True:
            with lock:
                i = next_i[0]
                if i >= count:
                    break
                next_i[0] += 1
            body = "%s-%d" % (prefix, i)
            try:
                st, v = c.request("POST", "/messages",
                                  {"to": to, "message": body})
            except Exception as e:
                st, v = 0, repr(e)
            with lock:
                if st == 200:
                    f.write("%s %s\n" % (v["id"], body))
                else:
                    f.write("FAIL %s %s\n" % (st, body))
                f.flush()
        c.close()

    ts = [threading.Thread(target=work) for _ in range(parallel)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    f.close()


def cmd_flood(url, token, to, parallel, prefix, out):
    """Sends "PREFIX-i" messages until SIGTERM; writes "id body" to out
    for each 200, as soon as it arrives (and only then). Errors (the
    server was killed) are ignored: those messages were never promised."""
    parallel = int(parallel)
    stop = threading.Event()
    lock = threading.Lock()
    counter = [0]
    f = open(out, "a")
    signal.signal(signal.SIGTERM, lambda *a: stop.set())

    def work():
        c = Client(url, token, timeout=5)
        while not stop.is_set():
            with lock:
                i = counter[0]
                counter[0] += 1
            body = "%s-%d" % (prefix, i)
            try:
                st, v = c.request("POST", "/messages",
                                  {"to": to, "message": body})
            except Exception:
                time.sleep(0.01)
                continue
            if st == 200:
                with lock:
                    f.write("%s %s\n" % (v["id"], body))
                    f.flush()

    ts = [threading.Thread(target=work, daemon=True)
          for _ in range(parallel)]
    for t in ts:
        t.start()
    # Ready: the bats file waits for this line.
    print("started", flush=True)
    while not stop.is_set():
        stop.wait(0.05)
    for t in ts:
        t.join(10)
    f.close()


def cmd_list(url, token):
    """Prints "id body" of every message of the token's user, oldest
    first, paging with after= while a page is full or says "more" (one
    cut at --max-answer-bytes); deletes nothing."""
    c = Client(url, token)
    after = None
    while True:
        path = "/messages?limit=1000" + ("&after=" + after if after else "")
        st, v = c.request("GET", path)
        if st != 200:
            raise SystemExit("list: %s %s" % (st, v))
        for m in v["messages"]:
            print(m["id"], m["message"])
        if len(v["messages"]) < 1000 and not v.get("more"):
            break
        after = v["messages"][-1]["id"]


# ---- long-poll ----

def timed_get(url, token, path, result, source=None):
    t = time.monotonic()
    try:
        st, v = Client(url, token, timeout=60, source=source).request(
            "GET", path)
    except Exception as e:
        st, v = 0, repr(e)
    result.append((st, v, time.monotonic()))
    result.append(t)


def cmd_wake(url, waiter_token, sender_token, to, wait):
    """A receiver waits (GET /messages?wait=WAIT); once /metrics counts it,
    a message is sent to TO. Prints the send's status, the receiver's
    status, the seconds from the send's start to the receiver's answer,
    the seconds the receiver waited in all, and the bodies it got."""
    res = []
    t = threading.Thread(target=timed_get, args=(
        url, waiter_token, "/messages?wait=%s" % wait, res))
    t.start()
    waiting = wait_metric(url, "e2e_receivers_waiting", 1)
    sent_at = time.monotonic()
    st, v = Client(url, sender_token).request(
        "POST", "/messages", {"to": to, "message": "wake-up"})
    t.join()
    (wst, wv, done), started = res[0], res[1]
    bodies = [m["message"] for m in wv["messages"]] if wst == 200 else wv
    print("waiting=%s send=%s receiver=%s after_send=%.3f total=%.3f "
          "got=%s" % (waiting, st, wst, done - sent_at, done - started,
                      json.dumps(bodies)))


def cmd_wait(url, token, wait):
    """One long-poll: prints the status, the seconds it took and the
    number of messages."""
    res = []
    timed_get(url, token, "/messages?wait=%s" % wait, res)
    (st, v, done), started = res[0], res[1]
    n = len(v["messages"]) if st == 200 else -1
    print("status=%s seconds=%.3f messages=%d" % (st, done - started, n))


def cmd_many_waiters(url, n):
    """n users wait at once, each for its own message, sent only once
    /metrics counts all n waiting. Prints the largest e2e_receivers_waiting
    seen, then one line per receiver that did not get exactly its own
    message, then "done"."""
    n = int(n)
    tokens = [None] * n

    def make(i):
        tokens[i] = signup_signin(url, "w%03d" % i)
    ts = [threading.Thread(target=make, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    sender = signup_signin(url, "sender")
    results = [[] for _ in range(n)]
    ts = [threading.Thread(target=timed_get, args=(
        url, tokens[i], "/messages?wait=20", results[i]))
        for i in range(n)]
    for t in ts:
        t.start()
    print("waiting=%s" % wait_metric(url, "e2e_receivers_waiting", n,
                                     limit=10), flush=True)
    c = Client(url, sender)
    for i in range(n):
        st, v = c.request("POST", "/messages",
                          {"to": "w%03d" % i, "message": "for w%03d" % i})
        if st != 200:
            print("send to w%03d: %s %s" % (i, st, v))
    for t in ts:
        t.join()
    for i in range(n):
        st, v, _ = results[i][0]
        got = [(m["to"], m["message"]) for m in v["messages"]] \
            if st == 200 else v
        if got != [("w%03d" % i, "for w%03d" % i)]:
            print("w%03d got %s %s" % (i, st, got))
    print("done")


def cmd_term(url, pid, token, to, n):
    """n receivers wait (wait=30) and one send is half uploaded; then
    SIGTERM goes to the server, and the send's rest follows 0.3 s later.
    Prints each receiver's status, message count and seconds from the
    signal, then the send's answer."""
    pid, n = int(pid), int(n)
    results = [[] for _ in range(n)]
    ts = [threading.Thread(target=timed_get, args=(
        url, token, "/messages?wait=30", results[i])) for i in range(n)]
    for t in ts:
        t.start()
    waiting = wait_metric(url, "e2e_receivers_waiting", n)
    body = json.dumps({"to": to, "message": "in flight"}).encode()
    s = socket.create_connection(hostport(url))
    s.sendall(b"POST /messages HTTP/1.1\r\nHost: x\r\n"
              b"Content-Type: application/json\r\nx-access-token: " +
              token.encode() + b"\r\nContent-Length: %d\r\n\r\n" %
              len(body) + body[:10])
    time.sleep(0.2)
    signalled = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    time.sleep(0.3)
    s.sendall(body[10:])
    answer, _ = read_answer(s, 10, whole=True)
    for t in ts:
        t.join()
    print("waiting=%s" % waiting)
    for r in results:
        st, v, done = r[0]
        print("receiver status=%s messages=%s seconds=%.3f" % (
            st, len(v["messages"]) if st == 200 else v, done - signalled))
    head, _, rest = answer.partition(b"\r\n\r\n")
    print("send %s %s" % (head.split(b"\r\n")[0].decode(errors="replace"),
                          rest.decode(errors="replace")))


# ---- raw bytes ----

def complete(data):
    """Whether data holds a whole answer with a Content-Length."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def read_answer(s, limit, whole=False):
    """Reads until the peer closes or limit seconds pass (or, with whole,
    a whole answer is in); returns the bytes and "closed", "open" or
    "answered"."""
    s.settimeout(limit)
    end = time.monotonic() + limit
    out = b""
    try:
        while True:
            s.settimeout(max(end - time.monotonic(), 0.001))
            b = s.recv(65536)
            if not b:
                return out, "closed"
            out += b
            if whole and complete(out):
                return out, "answered"
    except socket.timeout:
        return out, "open"
    except OSError:
        return out, "closed"


def status_of(data):
    line = data.split(b"\r\n", 1)[0].split(b" ")
    if len(line) >= 2 and line[0].startswith(b"HTTP/"):
        return line[1].decode()
    return "none"


def cmd_raw(url, limit="3"):
    """Sends standard input as it is on a new connection and prints the
    status of the first answer ("none" when there is none), then
    "answered" (a whole answer came), "closed" (the server closed without
    one) or "open" (nothing within LIMIT seconds), then the seconds it
    took, then the answer's body."""
    data = sys.stdin.buffer.read()
    s = socket.create_connection(hostport(url))
    t = time.monotonic()
    try:
        s.sendall(data)
    except OSError:
        pass
    out, how = read_answer(s, float(limit), whole=True)
    s.close()
    body = out.partition(b"\r\n\r\n")[2]
    print("%s %s %.3f %s" % (status_of(out), how, time.monotonic() - t,
                             body.decode(errors="replace")))


def cmd_upload(url, path, length, total, rate):
    """POST path with Content-Length LENGTH (or, when LENGTH is "chunked",
    a chunked body), then sends TOTAL body bytes at about RATE bytes a
    second, watching for an answer all along. Prints the answer's status
    ("none" when the server closed without one), the seconds until the
    answer or the close, and how many body bytes were sent by then."""
    total, rate = int(total), float(rate)
    chunked = length == "chunked"
    s = socket.create_connection(hostport(url))
    s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: "
              b"application/json\r\n%s\r\n" % (path.encode(),
              b"Transfer-Encoding: chunked\r\n" if chunked else
              b"Content-Length: %d\r\n" % int(length)))
    t = time.monotonic()
    sent, piece, out, pending = 0, 16384, b"", b""
    s.setblocking(False)
    ended = False
    while sent < total and not ended:
        try:
            b = s.recv(65536)
            if not b:
                ended = True
                break
            out += b
            if b"\r\n\r\n" in out:
                break
        except BlockingIOError:
            pass
        except OSError:
            ended = True
            break
        if not pending:
            n = min(piece, total - sent)
            pending = (b"%x\r\n" % n + b"a" * n + b"\r\n") if chunked \
                else b"a" * n
            size = n
        try:
            k = s.send(pending)
            pending = pending[k:]
            if not pending:
                sent += size
        except BlockingIOError:
            time.sleep(0.001)
        except OSError:
            ended = True
            break
        # Paced: the whole upload would take total / rate seconds.
        ahead = sent / rate - (time.monotonic() - t)
        if ahead > 0:
            time.sleep(ahead)
    took = time.monotonic() - t
    if not ended and b"\r\n\r\n" not in out:
        if chunked:
            try:
                s.setblocking(True)
                s.sendall(b"0\r\n\r\n")
            except OSError:
                pass
        s.setblocking(True)
        more, _ = read_answer(s, 3, whole=True)
        out += more
        took = time.monotonic() - t
    print("%s %.3f %d" % (status_of(out), took, sent))


def cmd_slowloris(url, conns, seconds, other_source):
    """Opens CONNS connections from 127.0.0.1 that each send one header
    byte a second for SECONDS seconds; in the middle, a normal request
    from OTHER_SOURCE. Prints how many of the slow connections the server
    closed, then the other request's status and seconds."""
    conns, seconds = int(conns), int(seconds)
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 64
    socks = []
    for _ in range(conns):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.connect(hostport(url))
        s.setblocking(False)
        socks.append(s)
    closed = set()
    other = None
    for k in range(seconds):
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                if s.recv(1) == b"":
                    closed.add(i)
                    continue
            except BlockingIOError:
                pass
            except OSError:
                closed.add(i)
                continue
            try:
                s.send(req[k:k + 1])
            except OSError:
                closed.add(i)
        if k == seconds // 2:
            res = []
            timed_get(url, None, "/healthz", res, source=other_source)
            (st, v, done), started = res[0], res[1]
            other = "%s %.3f" % (st, done - started)
        time.sleep(1)
    for s in socks:
        s.close()
    print("closed=%d other=%s" % (len(closed), other))


def cmd_stall(url, limit):
    """Sends STDIN on a connection, then nothing: prints whether and when
    the server closed it (within LIMIT seconds), and any answer's status."""
    data = sys.stdin.buffer.read()
    s = socket.create_connection(hostport(url))
    t = time.monotonic()
    if data:
        s.sendall(data)
    out, how = read_answer(s, float(limit))
    print("%s %.3f %s" % (how,
                          time.monotonic() - t, status_of(out)))


COMMANDS = {
    "send": cmd_send, "flood": cmd_flood, "list": cmd_list,
    "wake": cmd_wake, "wait": cmd_wait, "many-waiters": cmd_many_waiters,
    "term": cmd_term, "raw": cmd_raw, "upload": cmd_upload,
    "slowloris": cmd_slowloris, "stall": cmd_stall,
}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
