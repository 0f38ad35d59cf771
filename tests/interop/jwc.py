"""Interoperability with an independent JOSE library (python3-jwcrypto).

  jwc.py open KEY [--signer NAME] [--sub NAME --aud-names N,N...]
              [--inner]                         < envelope > plaintext
      Decrypts an envelope (general or flattened JSON) with jwcrypto and
      KEY's private key. With --signer, the plaintext must be a compact
      JWS that jwcrypto verifies with NAME's public key and whose header
      holds the claims e2e-encrypt writes (typ, kid = iss = the signer's
      RFC 7638 thumbprint, aud naming KEY, integer iat, string jti); the
      JWS payload is written. With --sub, the header must also hold the
      signed names, "sub" and "aud_names" (comma-separated; an empty
      entry is ""), in e2e-encrypt's member order; without it, it may
      hold none or both. --inner writes the JWE plaintext as it is.
      Also checks the protected header: cty only when signed, and a
      cek_commit for A256GCM only.

  jwc.py seal -r NAME [-r NAME ...] [--enc ENC] [--sign NAME]
              [--sign-with NAME] [--sub NAME] [--cty CTY] [--aad TEXT]
              [--alg-in-header] [--flattened] [--no-kid]  < plaintext
      Encrypts with jwcrypto (RSA-OAEP-256, general JSON serialization,
      "kid" = thumbprint per recipient). --sign wraps a jwcrypto PS256 JWS
      with e2e-encrypt's exact protected header (cty e2e-msg+jws), and
      with --sub the signed names too (aud_names: the -r key names);
      --sign-with signs that header with another key (a forgery).
      --aad adds a JWE "aad" member.
      --alg-in-header puts "alg" in each recipient's header instead of the
      protected one; --flattened writes the flattened serialization (one
      recipient); --no-kid leaves "kid" out.

Key names are files of tests/vectors/keys ("bob" is bob and bob.pub).
Failures raise (exit 1 with a traceback), so a test sees them.
"""

import argparse
import json
import os
import sys

from jwcrypto import jwe, jwk, jws

import josecraft as jc


def load(name, public):
    path = os.path.join(jc.KEYS, name + ".pub" if public and "." not in name
                        else name)
    with open(path, "rb") as f:
        return jwk.JWK.from_pem(f.read())


def check(cond, what):
    if not cond:
        sys.exit("jwc.py: check failed: " + what)


def cmd_open(a):
    key = load(a.key, False)
    text = sys.stdin.read()
    obj = jwe.JWE()
    obj.deserialize(text, key=key)
    prot = json.loads(jc.unb64u(json.loads(text)["protected"]))
    pt = obj.payload
    check((prot.get("cek_commit") is not None) == (prot["enc"] == "A256GCM"),
          "cek_commit present exactly for A256GCM")
    if a.inner:
        sys.stdout.buffer.write(pt)
        return
    if a.signer is None:
        check("cty" not in prot, "no cty on an unsigned message")
        sys.stdout.buffer.write(pt)
        return
    check(prot.get("cty") == jc.CTY, "cty is " + jc.CTY)
    s = jws.JWS()
    s.deserialize(pt.decode("ascii"))
    signer = load(a.signer, True)
    s.verify(signer, alg="PS256")
    h = s.jose_header
    me = key.thumbprint()
    check(h.get("alg") == "PS256", "alg PS256")
    check(h.get("typ") == jc.CTY, "typ")
    check(h.get("kid") == signer.thumbprint(), "kid is the signer's")
    check(h.get("iss") == h.get("kid"), "iss equals kid")
    check(isinstance(h.get("aud"), list) and me in h["aud"],
          "aud names the recipient")
    check(type(h.get("iat")) is int, "iat is an integer")
    check(isinstance(h.get("jti"), str) and h["jti"], "jti is a string")
    check(("sub" in h) == ("aud_names" in h), "sub and aud_names together")
    if a.sub is not None:
        order = ["alg", "typ", "kid", "iss", "sub", "aud", "aud_names",
                 "iat", "jti"]
        names = a.aud_names.split(",") if a.aud_names is not None else []
        check(list(json.loads(s.objects["protected"])) == order,
              "members in the order " + ",".join(order))
        check(h["sub"] == a.sub, "sub is " + a.sub)
        check(h["aud_names"] == names, "aud_names is %r" % names)
        check(len(h["aud_names"]) == len(h["aud"]), "as long as aud")
    sys.stdout.buffer.write(s.payload)


def cmd_seal(a):
    pt = sys.stdin.buffer.read()
    pubs = [load(n, True) for n in a.r]
    cty = a.cty
    if a.sign is not None:
        hdr = jc.signed_header(a.sign, a.r, sub=a.sub)
        s = jws.JWS(pt)
        s.add_signature(load(a.sign_with or a.sign, False), alg="PS256",
                        protected=jc.dumps(hdr))
        pt = s.serialize(compact=True).encode()
        cty = jc.CTY
    prot = {"enc": a.enc}
    if not a.alg_in_header:
        prot = {"alg": "RSA-OAEP-256", "enc": a.enc}
    if cty is not None:
        prot["cty"] = cty
    obj = jwe.JWE(pt, protected=jc.dumps(prot),
                  aad=a.aad.encode() if a.aad else None)
    for p in pubs:
        h = {}
        if a.alg_in_header:
            h["alg"] = "RSA-OAEP-256"
        if not a.no_kid:
            h["kid"] = p.thumbprint()
        obj.add_recipient(p, header=json.dumps(h) if h else None)
    out = json.loads(obj.serialize())
    if "recipients" not in out and not a.flattened:
        # jwcrypto writes one recipient flattened: move it into the list.
        r = {k: out.pop(k) for k in ("header", "encrypted_key") if k in out}
        out["recipients"] = [r]
    check(not a.flattened or "recipients" not in out, "flattened")
    sys.stdout.write(json.dumps(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("open")
    o.add_argument("key")
    o.add_argument("--signer")
    o.add_argument("--inner", action="store_true")
    o.add_argument("--sub")
    o.add_argument("--aud-names")
    s = sub.add_parser("seal")
    s.add_argument("-r", action="append", required=True)
    s.add_argument("--enc", default="A256CBC-HS512")
    s.add_argument("--sign")
    s.add_argument("--sign-with")
    s.add_argument("--sub")
    s.add_argument("--cty")
    s.add_argument("--aad")
    s.add_argument("--alg-in-header", action="store_true")
    s.add_argument("--flattened", action="store_true")
    s.add_argument("--no-kid", action="store_true")
    a = ap.parse_args()
    (cmd_open if a.cmd == "open" else cmd_seal)(a)


if __name__ == "__main__":
    main()
