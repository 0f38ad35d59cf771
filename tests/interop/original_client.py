"""The original E2E Chat client's HTTP exchanges, as it really wrote them.

The original client built its form bodies by hand and never
percent-encoded them:

    "from=" + user + "&to=" + partner + "&message=" + jsonMsg

where jsonMsg is json.dumps of the message's byte strings read as
Latin-1 (seed_reference.dump: "&" and "+" already replaced by
"ampersand" and "plusplus"), sent as application/x-www-form-urlencoded
with the token in x-access-token. Its text is Latin-1: bytes(message,
"latin-1") before encrypting, .decode("latin-1") after decrypting.

  original_client.py roundtrip URL ALICE_PUB ALICE_KEY BOB_PUB BOB_KEY N SEED

signs up and in as alice and bob (raw form bodies), sends N messages of
random Latin-1 text (random lengths, and some with chosen '%' patterns
in their IV) in both directions through /messages/sendmessage on one
keep-alive connection, checks that GET /messages lists every one stored
byte for byte, then takes each back with /messages/getmessage in order
and checks it byte for byte and with the reference Decryptor. Prints a
summary line; exits 1 on the first difference.

  original_client.py send URL NAME PASSWORD TO PUBKEY TEXT
  original_client.py get URL NAME PASSWORD FROM PRIVKEY

one message each way, for the shell: send prints nothing, get prints
the Latin-1 text as UTF-8 (or exits 3 when there is none, 4 when it
cannot be decrypted).
"""

import http.client
import json
import random
import re
import sys
import urllib.parse

from cryptography.hazmat.primitives import serialization

import seed_reference as ref

FORM = "application/x-www-form-urlencoded"
# Said before every failure: the roundtrip's seed, to run it again.
PREFIX = ""


class Server:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port,
                                               timeout=60)

    def post(self, path, body, token=None):
        """body: the raw text, sent as its Latin-1 bytes (all ASCII from
        json.dumps) exactly as built."""
        headers = {"Content-Type": FORM}
        if token is not None:
            headers["x-access-token"] = token
        self.conn.request("POST", path, body.encode("latin-1"), headers)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, data

    def get(self, path, token):
        self.conn.request("GET", path, headers={"x-access-token": token})
        r = self.conn.getresponse()
        return r.status, r.read()


def fail(msg):
    sys.exit(PREFIX + msg)


def must(status, data, what, want=200):
    if status != want:
        fail("%s: HTTP %d %s" % (what, status, data[:200]))
    return json.loads(data) if data else None


def account(srv, name, password):
    """Signs up (a taken name is fine) and in; returns the token."""
    body = "name=" + name + "&password=" + password
    st, data = srv.post("/users/signup", body)
    if st not in (200, 409):
        fail("signup %s: HTTP %d %s" % (name, st, data))
    return must(*srv.post("/users/signin", body), "signin " + name)["token"]


def send(srv, token, user, partner, pub, text):
    """The original's send: encrypt the Latin-1 bytes, build the body."""
    jsonMsg = ref.dump(ref.encrypt_parts(pub, bytes(text, "latin-1")))
    body = "from=" + user + "&to=" + partner + "&message=" + jsonMsg
    must(*srv.post("/messages/sendmessage", body, token), "sendmessage")
    return jsonMsg


def take(srv, token, user, partner):
    """The original's receive: one message from partner, or None."""
    st, data = srv.post("/messages/getmessage",
                        "from=" + partner + "&to=" + user, token)
    if st == 204:
        return None
    return must(st, data, "getmessage")["message"]


def load(path, private):
    with open(path, "rb") as f:
        if private:
            return serialization.load_pem_private_key(f.read(), None)
        return serialization.load_pem_public_key(f.read())


# Escapes and non-escapes the original server's parser decoded or kept.
IV_PATTERNS = [b"%41", b"%e9", b"%E9", b"%00", b"%zz", b"%", b"%4", b"%%41",
               b"%C3%A9", b"%ED%A0%80", b"100%", b"%2B%26", b"=%3D"]
ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def roundtrip(url, apub, akey, bpub, bkey, n, seed):
    global PREFIX
    PREFIX = "roundtrip seed %d: " % seed
    rnd = random.Random(seed)
    keys = {"alice": (load(apub, False), load(akey, True)),
            "bob": (load(bpub, False), load(bkey, True))}
    srv = Server(url)
    tok = {u: account(srv, u, "pw-" + u + "-original")
           for u in ("alice", "bob")}
    sent = {"alice": [], "bob": []}     # by recipient, in order
    escapes = 0
    for i in range(n):
        user, partner = ("alice", "bob") if i % 2 == 0 else ("bob", "alice")
        size = rnd.choice([0, 1, 15, 16, 17, 100, rnd.randrange(300)])
        text = "".join(chr(rnd.randrange(256)) for _ in range(size))
        if i % 10 == 0:
            text += "café ÿ§ñ &+% %41 plusplus ampersand"
        pub = keys[partner][0]
        if i < 4 * len(IV_PATTERNS):
            # The IV is random bytes: any of these can occur in it.
            pat = IV_PATTERNS[i % len(IV_PATTERNS)]
            iv = (pat + bytes(rnd.randrange(256) for _ in range(16)))[:16]
            parts = ref.encrypt_parts(pub, bytes(text, "latin-1"), iv=iv)
            jsonMsg = ref.dump(parts)
            body = "from=" + user + "&to=" + partner + "&message=" + jsonMsg
            must(*srv.post("/messages/sendmessage", body, tok[user]),
                 "sendmessage")
        else:
            jsonMsg = send(srv, tok[user], user, partner, pub, text)
        if ESCAPE.search(jsonMsg):
            escapes += 1
        sent[partner].append((jsonMsg, text, user))
    # Stored as sent: the list route shows what the server keeps.
    for u in ("alice", "bob"):
        stored, after = [], ""
        while True:
            st, data = srv.get("/messages?limit=1000" +
                               ("&after=" + after if after else ""), tok[u])
            page = must(st, data, "list")["messages"]
            if not page:
                break
            stored += [m["message"] for m in page]
            after = page[-1]["id"]
        want = [m for m, _, _ in sent[u]]
        if stored != want:
            bad = next(i for i, (a, b) in enumerate(zip(stored, want))
                       if a != b) if len(stored) == len(want) else -1
            fail("%s: %d stored, %d sent; first difference at %d"
                     % (u, len(stored), len(want), bad))
    # Delivered as sent, in order, and readable by the original's
    # Decryptor, its Latin-1 text unchanged.
    for u in ("alice", "bob"):
        priv = keys[u][1]
        for k, (jsonMsg, text, frm) in enumerate(sent[u]):
            got = take(srv, tok[u], u, frm)
            if got != jsonMsg:
                fail("%s: message %d from %s differs:\n%r\n%r"
                         % (u, k, frm, got, jsonMsg))
            if ref.decrypt(priv, got).decode("latin-1") != text:
                fail("%s: message %d does not decrypt to its text"
                         % (u, k))
        for frm in ("alice", "bob"):
            if take(srv, tok[u], u, frm) is not None:
                fail("%s: a message from %s left over" % (u, frm))
    print("%d messages stored and delivered byte for byte; %d held %%XX"
          % (n, escapes))


def main():
    cmd = sys.argv[1]
    if cmd == "roundtrip":
        url, apub, akey, bpub, bkey, n, seed = sys.argv[2:9]
        roundtrip(url, apub, akey, bpub, bkey, int(n), int(seed))
    elif cmd == "send":
        url, name, pw, to, pub, text = sys.argv[2:8]
        srv = Server(url)
        tok = must(*srv.post("/users/signin", "name=" + name +
                             "&password=" + pw), "signin")["token"]
        send(srv, tok, name, to, load(pub, False), text)
    elif cmd == "get":
        url, name, pw, frm, priv = sys.argv[2:7]
        srv = Server(url)
        tok = must(*srv.post("/users/signin", "name=" + name +
                             "&password=" + pw), "signin")["token"]
        msg = take(srv, tok, name, frm)
        if msg is None:
            sys.exit(3)
        try:
            pt = ref.decrypt(load(priv, True), msg)
        except Exception as e:  # the reference raises on any failure
            print("cannot decrypt: %s" % e, file=sys.stderr)
            sys.exit(4)
        sys.stdout.buffer.write(pt.decode("latin-1").encode("utf-8"))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
