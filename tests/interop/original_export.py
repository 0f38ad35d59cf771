"""Lines of an original E2E Chat server's MongoDB collections, as
mongoexport writes them (one JSON object a line, relaxed extended JSON),
for the import tests.

  original_export.py user NAME PASSWORD PREFIX COST [OID]
      {"_id":{"$oid":OID},"name":NAME,"password":HASH,"__v":0}: HASH is
      bcrypt (python3-bcrypt, not the project's) of PASSWORD with that
      prefix (2a or 2b) and cost; no OID: no _id.
  original_export.py message PUBKEY FROM TO TEXT [OID]
      {"_id":{"$oid":OID},"to":TO,"from":FROM,"message":M,"__v":0}: M is
      what the original client sent for the Latin-1 TEXT (the reference
      Encryptor's json.dumps text, with its replacements).

Each prints its line. mongoexport escapes <, > and & in strings as
\\u003c, \\u003e and \\u0026, as Go's encoder does; so do these lines.
"""

import json
import sys

import bcrypt
from cryptography.hazmat.primitives import serialization

import seed_reference as ref


def line(obj):
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for c, e in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(c, e)
    return text


def main():
    a = sys.argv[1:]
    if a[0] == "user":
        name, pw, prefix, cost = a[1:5]
        h = bcrypt.hashpw(pw.encode("utf-8"),
                          bcrypt.gensalt(int(cost), prefix.encode()))
        obj = {"name": name, "password": h.decode(), "__v": 0}
    elif a[0] == "message":
        pub, frm, to, text = a[1:5]
        with open(pub, "rb") as f:
            key = serialization.load_pem_public_key(f.read())
        m = ref.dump(ref.encrypt_parts(key, text.encode("latin-1")))
        obj = {"to": to, "from": frm, "message": m, "__v": 0}
    else:
        sys.exit(__doc__)
    oid = a[5] if len(a) > 5 else None
    if oid:
        obj = dict([("_id", {"$oid": oid})] + list(obj.items()))
    print(line(obj))


if __name__ == "__main__":
    main()
