"""A reference of the original E2E Chat ("seed") Encryptor and Decryptor.

Written from the format's description only (python3-cryptography, not the
project's code):

  A JSON object {"RSACipher", "ct", "iv", "tag"}: RSACipher is RSA-OAEP
  (SHA-256, MGF1-SHA-256) of EncKey || HMACKey, two fresh 32-byte keys;
  ct is AES-256-CBC with PKCS#7 padding of the plaintext under EncKey with
  a fresh 16-byte IV; tag is HMAC-SHA256 under HMACKey of ct alone. Each
  byte string is a JSON string of its bytes read as Latin-1, the JSON text
  is what json.dumps writes by default (members in the order RSACipher,
  ct, iv, tag), then every "&" becomes "ampersand" and every "+"
  "plusplus".

  seed_reference.py encrypt PUBKEY   < plaintext > message
  seed_reference.py decrypt PRIVKEY  < message > plaintext
  seed_reference.py reencode         < message > message
      undoes the replacements, reads the four byte strings and writes
      them again with json.dumps and the replacements (no newline): a
      byte-exact check of another writer's text.

Key arguments are file paths. The functions are also used by
seed_attacks.py to craft altered messages.
"""

import hashlib
import hmac
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as apad
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MEMBERS = ("RSACipher", "ct", "iv", "tag")


def oaep():
    return apad.OAEP(mgf=apad.MGF1(hashes.SHA256()),
                     algorithm=hashes.SHA256(), label=None)


def replace(text):
    return text.replace("&", "ampersand").replace("+", "plusplus")


def unreplace(text):
    return text.replace("ampersand", "&").replace("plusplus", "+")


def dump(parts):
    """parts: a list of (name, bytes or any JSON value) in output order."""
    obj = {}
    for name, value in parts:
        obj[name] = value.decode("latin-1") if isinstance(value, bytes) \
            else value
    return replace(json.dumps(obj))


def parts_of(text):
    """The four byte strings of a message text (after the replacements)."""
    obj = json.loads(unreplace(text))
    return [(m, obj[m].encode("latin-1")) for m in MEMBERS]


def encrypt_parts(pub, pt, enc_key=None, hmac_key=None, iv=None,
                  padded=None, keys=None):
    """The Encryptor. Tests may fix the keys and IV, give the exact bytes
    to encrypt (padded: no PKCS#7 added) or the exact RSA plaintext."""
    enc_key = enc_key if enc_key is not None else os.urandom(32)
    hmac_key = hmac_key if hmac_key is not None else os.urandom(32)
    iv = iv if iv is not None else os.urandom(16)
    if padded is None:
        p = padding.PKCS7(128).padder()
        padded = p.update(pt) + p.finalize()
    e = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor()
    ct = e.update(padded) + e.finalize()
    rsa = pub.encrypt(keys if keys is not None else enc_key + hmac_key,
                      oaep())
    tag = hmac.new(hmac_key, ct, hashlib.sha256).digest()
    return [("RSACipher", rsa), ("ct", ct), ("iv", iv), ("tag", tag)]


def decrypt(priv, text):
    """The Decryptor: raises on any failure."""
    p = dict(parts_of(text))
    keys = priv.decrypt(p["RSACipher"], oaep())
    if len(keys) != 64:
        raise ValueError("RSACipher does not hold two 32-byte keys")
    want = hmac.new(keys[32:], p["ct"], hashlib.sha256).digest()
    if not hmac.compare_digest(want, p["tag"]):
        raise ValueError("tag mismatch")
    d = Cipher(algorithms.AES(keys[:32]), modes.CBC(p["iv"])).decryptor()
    u = padding.PKCS7(128).unpadder()
    return u.update(d.update(p["ct"]) + d.finalize()) + u.finalize()


def read_text():
    return sys.stdin.buffer.read().decode("utf-8")


def main():
    cmd = sys.argv[1]
    if cmd == "encrypt":
        with open(sys.argv[2], "rb") as f:
            pub = serialization.load_pem_public_key(f.read())
        pt = sys.stdin.buffer.read()
        sys.stdout.write(dump(encrypt_parts(pub, pt)))
    elif cmd == "decrypt":
        with open(sys.argv[2], "rb") as f:
            priv = serialization.load_pem_private_key(f.read(), None)
        sys.stdout.buffer.write(decrypt(priv, read_text()))
    elif cmd == "reencode":
        sys.stdout.write(dump(parts_of(read_text())))
    else:
        sys.exit("usage: seed_reference.py encrypt|decrypt|reencode ...")


if __name__ == "__main__":
    main()
