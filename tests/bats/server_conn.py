#!/usr/bin/env python3
"""Hostile clients for tests/bats/server_conn.bats: many slow uploads held
open, an upload that ignores an early answer, requests with forged
X-Forwarded-For. Each command prints what it saw; the bats file decides
what is right.

    server_conn.py COMMAND URL [ARGS...]

Standard library only, so that any python3 will do.
"""
import os
import socket
import sys
import time
import urllib.parse


def hostport(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


def status_of(data):
    line = data.split(b"\r\n", 1)[0].split(b" ")
    if len(line) >= 2 and line[0].startswith(b"HTTP/"):
        return line[1].decode()
    return "none"


def header_of(data, name):
    head = data.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


class Upload:
    """One POST whose body goes out in pieces, without blocking."""

    def __init__(self, url, path, length, send, headers):
        self.s = socket.create_connection(hostport(url))
        self.s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: "
                        "application/json\r\nContent-Length: %d\r\n%s\r\n"
                        % (path, length, headers)).encode())
        self.s.setblocking(False)
        self.left = send
        self.answer = b""
        self.closed = False

    def step(self, ignore_answers):
        """Reads what came, sends one more piece; returns True while
        there is something left to do."""
        try:
            b = self.s.recv(65536)
            if b:
                self.answer += b
            else:
                self.closed = True
        except BlockingIOError:
            pass
        except OSError:
            self.closed = True
        if self.closed:
            return False
        if self.answer and not ignore_answers:
            return False
        if self.left > 0:
            try:
                self.left -= self.s.send(b"a" * min(self.left, 65536))
            except BlockingIOError:
                pass
            except OSError:
                self.closed = True
                return False
        return self.left > 0

    def status(self):
        st = status_of(self.answer)
        if st == "none":
            return "closed" if self.closed else "pending"
        if st in ("429", "503") and header_of(self.answer, "Retry-After"):
            st += "+retry"
        return st


def cmd_hold(url, path, n, length, send, token, ignore, ready):
    """Opens N connections that each send the headers of a POST PATH with
    Content-Length LENGTH (and x-access-token TOKEN unless it is "-"),
    then SEND bytes of its body, and wait. Answers that come are read
    (with IGNORE "ignore", the body goes on regardless, as an attacker
    would; "keep" stops at an answer). Once every body is out (or answered, or cut), prints how many
    connections ended how ("413 100", "503+retry 16", "pending 4",
    "closed 0") and creates the file READY; then holds the sockets open
    until killed (at most 60 s)."""
    n, length, send = int(n), int(length), int(send)
    headers = "" if token == "-" else "x-access-token: %s\r\n" % token
    ups = [Upload(url, path, length, send, headers) for _ in range(n)]
    busy = list(ups)
    end = time.monotonic() + 30
    while busy and time.monotonic() < end:
        busy = [u for u in busy if u.step(ignore == "ignore")]
        if busy:
            time.sleep(0.002)
    # Answers still on their way.
    quiet = time.monotonic() + 0.5
    while time.monotonic() < quiet:
        for u in ups:
            if u.left == 0 and not u.closed:
                u.step(True)
        time.sleep(0.01)
    counts = {}
    for u in ups:
        counts[u.status()] = counts.get(u.status(), 0) + 1
    print(" ".join("%s %d" % kv for kv in sorted(counts.items())))
    sys.stdout.flush()
    open(ready, "w").close()
    time.sleep(60)


def cmd_flood(url, path, length, token, rate="0"):
    """POST PATH announcing LENGTH bytes (x-access-token TOKEN unless
    "-"), then sends without reading, as a client that ignores an early
    answer: as fast as it can, or RATE bytes a second. Prints the answer's status, the seconds until
    the server stopped taking bytes (reset or closed) and how many bytes
    it took by then."""
    headers = "" if token == "-" else "x-access-token: %s\r\n" % token
    s = socket.create_connection(hostport(url))
    s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: "
               "application/json\r\nContent-Length: %d\r\n%s\r\n"
               % (path, int(length), headers)).encode())
    t = time.monotonic()
    sent = 0
    rate = float(rate)
    piece = b"a" * (65536 if rate == 0 else 1024)
    s.settimeout(5)
    try:
        while time.monotonic() - t < 30 and sent < int(length):
            sent += s.send(piece)
            if rate > 0:
                ahead = sent / rate - (time.monotonic() - t)
                if ahead > 0:
                    time.sleep(ahead)
    except OSError:
        pass
    took = time.monotonic() - t
    answer = b""
    s.settimeout(1)
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            answer += b
    except OSError:
        pass
    print("%s %.2f %d" % (status_of(answer), took, sent))


def cmd_early(url, path, length, token, runs):
    """RUNS times: POST PATH with Content-Length LENGTH (x-access-token
    TOKEN unless "-"), sending the whole body at once without waiting for
    an answer, as curl does without Expect: 100-continue; then reads. Prints
    how many answers were read whole, by status ("413 50"), and how many
    connections broke first ("reset N")."""
    runs, length = int(runs), int(length)
    headers = "" if token == "-" else "x-access-token: %s\r\n" % token
    counts = {}
    body = b"a" * length
    for _ in range(runs):
        s = socket.create_connection(hostport(url))
        s.settimeout(10)
        got = "reset"
        try:
            s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: "
                       "application/json\r\nContent-Length: %d\r\n%s\r\n"
                       % (path, length, headers)).encode())
            try:
                s.sendall(body)
            except OSError:
                pass  # the server stopped reading: the answer may be in
            answer = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                answer += b
            if b"\r\n\r\n" in answer:
                got = status_of(answer)
        except OSError:
            pass
        s.close()
        counts[got] = counts.get(got, 0) + 1
    print(" ".join("%s %d" % kv for kv in sorted(counts.items())))


def cmd_split(url, path, token, body, ready, go):
    """POST PATH with x-access-token TOKEN and the JSON in file BODY: the
    headers and half the body, then creates the file READY and waits
    (at most 30 s) for the file GO to appear before it sends the rest.
    Prints the answer's status and body."""
    data = open(body, "rb").read()
    s = socket.create_connection(hostport(url))
    s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: "
               "application/json\r\nContent-Length: %d\r\nx-access-token: "
               "%s\r\n\r\n" % (path, len(data), token)).encode())
    s.sendall(data[:len(data) // 2])
    open(ready, "w").close()
    end = time.monotonic() + 30
    while not os.path.exists(go) and time.monotonic() < end:
        time.sleep(0.02)
    s.sendall(data[len(data) // 2:])
    s.settimeout(10)
    answer = b""
    try:
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            b = s.recv(65536)
            if not b:
                break
            answer += b
    except OSError:
        pass
    print("%s %s" % (status_of(answer),
                     answer.partition(b"\r\n\r\n")[2].decode(
                         errors="replace")))


def main():
    cmds = {"hold": cmd_hold, "flood": cmd_flood, "early": cmd_early,
            "split": cmd_split}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        sys.exit("usage: server_conn.py hold|flood|early|split URL ARGS...")
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
