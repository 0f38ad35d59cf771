#!/usr/bin/env python3
"""Prekeys and their proofs (docs/KEYS.md, "Prekeys") for the server's
tests, made here with python3-cryptography, not by e2e-chat's code.

  prekeys.py proof KEYFILE ID NAME AUD IAT KIND X [PKID [KID]]
      one proof, signed with the private KEYFILE
  prekeys.py body KEYFILE ID NAME AUD [--signed] [--one-time N]
          [--iat T] [--kind KIND] [--kid KID]
      a PUT /prekeys body of fresh random prekeys; --kind makes every
      proof say KIND, whatever its place; --kid names another key (in
      the body and in each proof's header and claims)
  prekeys.py verify PUBFILE NAME AUD < CLAIM
      checks every proof of a GET /prekeys/NAME answer against the
      identity key PUBFILE (and x against pkid); prints one line a key:
      KID ONE_TIME_PKID|- SIGNED_PKID|- NO_ONE_TIME|-
"""
import base64
import hashlib
import json
import os
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def pkid_of(x):
    return b64(hashlib.sha256(('{"crv":"X25519","kty":"OKP","x":"%s"}'
                               % x).encode()).digest())


def kid_of(pub):
    n = pub.public_numbers()
    def be(i):
        return i.to_bytes((i.bit_length() + 7) // 8, "big")
    return b64(hashlib.sha256(('{"e":"%s","kty":"RSA","n":"%s"}' % (
        b64(be(n.e)), b64(be(n.n)))).encode()).digest())


def load(path):
    return serialization.load_pem_private_key(open(path, "rb").read(), None)


def proof(key, uid, name, aud, iat, kind, x, pkid=None, kid=None):
    kid = kid or kid_of(key.public_key())
    h = b64(json.dumps({"alg": "PS256", "typ": "e2e-prekey+jwt",
                        "kid": kid}).encode())
    p = b64(json.dumps({"sub": uid, "name": name, "kid": kid, "aud": aud,
                        "iat": int(iat), "kind": kind,
                        "pkid": pkid or pkid_of(x), "x": x}).encode())
    sig = key.sign((h + "." + p).encode(), padding.PSS(
        mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    return h + "." + p + "." + b64(sig)


def body(args):
    path, uid, name, aud = args[:4]
    opts = args[4:]
    key = load(path)
    signed, n, iat, kind, kid = False, 0, int(time.time()), None, None
    i = 0
    while i < len(opts):
        if opts[i] == "--signed":
            signed = True
        elif opts[i] == "--one-time":
            i += 1
            n = int(opts[i])
        elif opts[i] == "--iat":
            i += 1
            iat = int(opts[i])
        elif opts[i] == "--kind":
            i += 1
            kind = opts[i]
        elif opts[i] == "--kid":
            i += 1
            kid = opts[i]
        i += 1
    out = {"kid": kid or kid_of(key.public_key())}

    def entry(k):
        x = b64(os.urandom(32))
        return {"x": x, "proof": proof(key, uid, name, aud, iat, kind or k,
                                       x, kid=kid)}
    if signed:
        out["signed"] = entry("signed")
    if n:
        out["one_time"] = [entry("one-time") for _ in range(n)]
    print(json.dumps(out))


def verify(args):
    pubpath, name, aud = args
    pub = serialization.load_pem_public_key(open(pubpath, "rb").read())
    kid = kid_of(pub)
    d = json.load(sys.stdin)
    assert d["name"] == name, d["name"]
    for k in d["keys"]:
        out = [k["kid"]]
        for kind in ("one_time", "signed"):
            e = k[kind]
            if e is None:
                out.append("-")
                continue
            h, p, s = e["proof"].split(".")
            pub.verify(unb64(s), (h + "." + p).encode(), padding.PSS(
                mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                hashes.SHA256())
            c = json.loads(unb64(p))
            assert k["kid"] == kid == c["kid"], c
            assert c["name"] == name and c["aud"] == aud, c
            assert c["sub"] == d["id"], c
            assert c["kind"] == kind.replace("_", "-"), c
            assert c["x"] == e["x"] and c["pkid"] == e["pkid"] == \
                pkid_of(e["x"]) and len(unb64(e["x"])) == 32, c
            out.append(e["pkid"])
        out.append(k.get("no_one_time", "-"))
        print(" ".join(out))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "proof":
        key = load(args[0])
        print(proof(key, args[1], args[2], args[3], args[4], args[5],
                    args[6], *(args[7:9])))
    elif cmd == "body":
        body(args)
    elif cmd == "verify":
        verify(args)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
