#!/usr/bin/env python3
"""Makes a prekey proof (docs/KEYS.md, "Prekeys") with jwcrypto, not with
the project's code: proves that any JOSE library can make one.

usage: prekeyproof_jwcrypto.py PRIVATE_PEM SUB NAME AUD IAT KIND X
Prints the compact JWS. Its claims are written in sorted order (not the
order e2e-chat writes), which a checker must accept.
"""
import hashlib
import json
import sys

from jwcrypto import jwk, jws
from jwcrypto.common import base64url_encode


def main():
    path, sub, name, aud, iat, kind, x = sys.argv[1:8]
    key = jwk.JWK.from_pem(open(path, "rb").read())
    kid = key.thumbprint()
    pkid = base64url_encode(hashlib.sha256(json.dumps(
        {"crv": "X25519", "kty": "OKP", "x": x}, sort_keys=True,
        separators=(",", ":")).encode()).digest())
    claims = {"sub": sub, "name": name, "kid": kid, "aud": aud,
              "iat": int(iat), "kind": kind, "pkid": pkid, "x": x}
    s = jws.JWS(json.dumps(claims, sort_keys=True).encode())
    s.add_signature(key, alg="PS256", protected=json.dumps(
        {"alg": "PS256", "typ": "e2e-prekey+jwt", "kid": kid}))
    print(s.serialize(compact=True))


if __name__ == "__main__":
    main()
