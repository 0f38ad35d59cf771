#!/usr/bin/env python3
"""A fake e2e-server that lies to the client tools (SECURITY-TESTS A12).

Listens on 127.0.0.1 port 0 and prints its port on the first line of
stdout. Signs anyone in (POST /users/signin), then answers the message
routes according to MODE:

  honest        a mailbox of --messages N messages for the signed-in
                user, listed oldest first (after, limit and from
                honoured; each --msg-size bytes long), deleted when
                acknowledged; --fail-acks K
                answers the first K acknowledgements 503, --fail-lists K
                the first K lists (the legitimate cases)
  repeat        every list is the same --page N messages, forever; every
                acknowledgement says they were deleted
  empty         every list is empty at once, whatever wait asks
  big           a list answer of --size bytes (300M by default), streamed
                without a length; --length announces it
  foreign       honest, but the second message of the mailbox is for
                "carol" (a record for another user)
  take-repeat   the original take-one route hands out the same message
                forever
  take-foreign  the take-one route hands out a message for "carol"
  stock-negative  GET /prekeys says the key has -5 one-time prekeys
  stock-fraction  GET /prekeys says the key has 2.5 one-time prekeys
  stock-absurd  GET /prekeys says the key has 1000001 one-time prekeys
                (one past what a store holds)
  put-negative, put-fraction, put-absurd
                GET /prekeys says the key has none; PUT /prekeys takes
                them and says it has -5, 2.5, 1000001
  stock-nokid   GET /prekeys lists an entry without a kid
  keys-foreign  GET /keys/NAME answers with the keys of "carol"
  claim-foreign GET /prekeys/NAME answers with the prekeys of "carol"
  claim-noid    GET /prekeys/NAME answers without an account id
  claim-nokid   GET /prekeys/NAME answers with a key entry without a kid

Every request is logged to --log as "METHOD PATH" (acknowledgements as
"ACK id,id,..."; a request through a proxy, whose line names the whole
URL, first as "PROXIED METHOD URL"). Bounded: nothing is kept but the
mailbox.
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIGITS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
USER_ID = "01J" + "V" * 23
TOKEN = "hostile.test.token"


# The one-time prekeys the stock-* and put-* modes say the key has.
COUNTS = {"negative": -5, "fraction": 2.5, "absurd": 1000001}


def msg_id(n):
    """The n-th message id: 26 Crockford base32 digits, in order."""
    s = ""
    for _ in range(8):
        s = DIGITS[n % 32] + s
        n //= 32
    return "01JM" + "0" * 14 + s


def record(n, to, frm="alice", size=0):
    text = "message %d" % n
    return {"id": msg_id(n), "from": frm, "to": to,
            "sent_at": 1764380000 + n,
            "message": text + "." * max(0, size - len(text))}


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.name = "bob"
        self.acks = 0
        self.lists = 0
        self.mailbox = None

    def box(self):
        """The mailbox, made at the first list (the name is known)."""
        if self.mailbox is None:
            self.mailbox = [record(i, self.name, size=self.args.msg_size)
                            for i in range(1, self.args.messages + 1)]
            if self.args.mode == "foreign" and len(self.mailbox) > 1:
                self.mailbox[1] = record(2, "carol")
        return self.mailbox


def make_handler(st):
    args = st.args

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def parse_request(self):
            """A proxy's request names the whole URL: logged as such,
            then served as if asked directly."""
            if not super().parse_request():
                return False
            if self.path.startswith("http://"):
                self.log("PROXIED " + self.command + " " + self.path)
                self.path = "/" + self.path.split("/", 3)[3]
            return True

        def log(self, line):
            with open(args.log, "a") as f:
                f.write(line + "\n")

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def send_json(self, code, obj):
            b = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(b)))
            self.end_headers()
            try:
                self.wfile.write(b)
            except (BrokenPipeError, ConnectionResetError):
                self.log("CUT " + self.path)

        def do_CONNECT(self):
            """A tunnel asked of us as a proxy: logged, refused."""
            self.log("CONNECT " + self.path)
            self.send_json(502, {"error": "no tunnels here"})

        def do_POST(self):
            data = self.body()
            self.log("POST " + self.path)
            if self.path == "/users/signin":
                st.name = json.loads(data)["name"]
                self.send_json(200, {"id": USER_ID, "token": TOKEN,
                                     "expires_at": int(time.time()) + 3600})
            elif self.path == "/messages/ack":
                ids = json.loads(data)["ids"]
                self.log("ACK " + ",".join(ids))
                with st.lock:
                    st.acks += 1
                    if st.acks <= args.fail_acks:
                        self.send_json(503, {"error": "try again"})
                        return
                    if args.mode in ("honest", "foreign"):
                        st.mailbox = [m for m in st.box()
                                      if m["id"] not in ids]
                self.send_json(200, {"deleted": len(ids)})
            elif self.path == "/messages/getmessage":
                if args.mode == "take-repeat":
                    self.send_json(200, record(1, st.name))
                elif args.mode == "take-foreign":
                    self.send_json(200, record(1, "carol"))
                else:
                    self.send_response(204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
            else:
                self.send_json(404, {"error": "not found"})

        def do_PUT(self):
            data = self.body()
            self.log("PUT " + self.path)
            if self.path == "/prekeys" and args.mode.startswith("put-"):
                kid = json.loads(data)["kid"]
                self.send_json(200, {"kid": kid,
                                     "one_time": COUNTS[args.mode[4:]],
                                     "signed": None, "added": 0})
            else:
                self.send_json(404, {"error": "not found"})

        def do_GET(self):
            self.log("GET " + self.path)
            kid = "sa58v0dhmhXOXVF-ddQWVzkv7VYg9_vIO6wdWcgyKrY"
            route, _, lie = args.mode.partition("-")
            if self.path == "/prekeys" and args.mode == "stock-nokid":
                self.send_json(200, {"keys": [{"one_time": 3,
                                               "signed": None}]})
                return
            if self.path.startswith("/prekeys/") and route == "claim" and \
                    lie in ("noid", "nokid"):
                name = self.path.split("/")[2]
                entry = {"one_time": {"x": "AAAA", "proof": "AAAA"}}
                if lie == "noid":
                    self.send_json(200, {"name": name, "keys": []})
                else:
                    self.send_json(200, {"name": name, "id": USER_ID,
                                         "keys": [entry]})
                return
            if self.path == "/prekeys" and route in ("stock", "put"):
                n = COUNTS[lie] if route == "stock" else 0
                self.send_json(200, {"keys": [{"kid": kid, "one_time": n,
                                               "signed": None}]})
                return
            if ((self.path.startswith("/keys/") and
                 args.mode == "keys-foreign") or
                    (self.path.startswith("/prekeys/") and
                     args.mode == "claim-foreign")):
                self.send_json(200, {"name": "carol", "id": USER_ID,
                                     "keys": []})
                return
            if not self.path.startswith("/messages?"):
                self.send_json(404, {"error": "not found"})
                return
            q = dict(p.split("=", 1)
                     for p in self.path.split("?", 1)[1].split("&"))
            limit = int(q.get("limit", "100"))
            with st.lock:
                st.lists += 1
                if st.lists <= args.fail_lists:
                    self.send_json(503, {"error": "try again"})
                    return
            if args.mode == "repeat":
                page = [record(i, st.name, size=args.msg_size)
                        for i in range(1, args.page + 1)]
                self.send_json(200, {"messages": page[:limit]})
            elif args.mode == "empty":
                self.send_json(200, {"messages": []})
            elif args.mode == "big":
                self.big()
            else:
                with st.lock:
                    box = [m for m in st.box()
                           if m["id"] > q.get("after", "")
                           and ("from" not in q or m["from"] == q["from"])]
                self.send_json(200, {"messages": box[:limit]})

        def big(self):
            """{"messages":[{... "message":"AAAA...."}]}, args.size bytes
            in all, 1 MiB at a time, until the client hangs up."""
            head = json.dumps({"messages": [record(1, st.name)]})
            head = head[:head.rindex('"message": "') + 12].encode()
            tail = b'"}]}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if args.length:
                self.send_header("Content-Length", str(args.size))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            chunk = b"A" * (1 << 20)
            left = args.size - len(head) - len(tail)
            sent = 0
            try:
                self.wfile.write(head)
                while left > 0:
                    n = min(left, len(chunk))
                    self.wfile.write(chunk[:n])
                    left -= n
                    sent += n
                self.wfile.write(tail)
                self.log("BIG sent whole")
            except (BrokenPipeError, ConnectionResetError):
                self.log("BIG cut after %d" % sent)

    return H


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["honest", "repeat", "empty", "big",
                                     "foreign", "take-repeat",
                                     "take-foreign", "stock-negative",
                                     "stock-fraction", "stock-absurd",
                                     "put-negative", "put-fraction",
                                     "put-absurd", "stock-nokid",
                                     "keys-foreign", "claim-foreign",
                                     "claim-noid", "claim-nokid"])
    ap.add_argument("--log", required=True)
    ap.add_argument("--messages", type=int, default=3)
    ap.add_argument("--page", type=int, default=1)
    ap.add_argument("--msg-size", type=int, default=0)
    ap.add_argument("--size", type=int, default=300 << 20)
    ap.add_argument("--length", action="store_true")
    ap.add_argument("--fail-acks", type=int, default=0)
    ap.add_argument("--fail-lists", type=int, default=0)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0),
                              make_handler(State(args)))
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
