"""Altered seed-format messages for bob's committed key (catalogue L1-L6).

  seed_attacks.py CASE [ARG] > message

Each case starts from a valid message made by seed_reference.py and
changes one thing:

  flip-iv BIT      reads a message on stdin, flips bit BIT of "iv" (L1)
  good             valid, plaintext "seed test"
  badpad KIND      valid tag over a ct whose PKCS#7 padding is wrong (L3):
                   zero (last byte 0), big (last byte 17), mixed (bytes
                   of the padding disagree), nopad (full block of text)
  badtag           valid padding, one bit of the tag flipped (L3)
  tag N            the tag cut or extended to N bytes (L4)
  rsa N            RSACipher of N bytes (L5)
  keys N           RSA-OAEP plaintext of N bytes instead of 64 (L5)
  samekeys         EncKey == HMACKey (L5)
  above-ff KIND    a code point above U+00FF in "ct": escape (\\u0100)
                   or raw (UTF-8 in the text) (L6)
  missing NAME     member NAME left out (L6)
  duplicate NAME HOW  member NAME written twice (L6); HOW is "nul" (the
                   text holds a \\u0000, as most messages do) or "clean"
  extra            a fifth member (L6)
  type NAME KIND   member NAME as a number, null, array, object or bool (L6)
"""

import json
import sys

import josecraft as jc
import seed_reference as ref

PT = b"seed test"


def pub():
    return jc.public_key("bob")


def flip_iv(bit):
    parts = ref.parts_of(sys.stdin.buffer.read().decode("utf-8"))
    iv = bytearray(parts[2][1])
    iv[bit // 8] ^= 0x80 >> (bit % 8)
    parts[2] = ("iv", bytes(iv))
    return ref.dump(parts)


def badpad(kind):
    block = {"zero": b"0123456789abcde\x00",
             "big": b"0123456789abcde\x11",
             "mixed": b"0123456789ab\x04\x03\x04\x04",
             "nopad": b"0123456789abcdef"}[kind]
    return ref.dump(ref.encrypt_parts(pub(), None, padded=block))


def badtag():
    parts = ref.encrypt_parts(pub(), PT)
    tag = bytearray(parts[3][1])
    tag[5] ^= 1
    parts[3] = ("tag", bytes(tag))
    return ref.dump(parts)


def tag_len(n):
    parts = ref.encrypt_parts(pub(), PT)
    t = parts[3][1]
    parts[3] = ("tag", (t + t)[:n])
    return ref.dump(parts)


def rsa_len(n):
    parts = ref.encrypt_parts(pub(), PT)
    r = parts[0][1]
    parts[0] = ("RSACipher", r[len(r) - n:] if n <= len(r)
                else b"\x00" * (n - len(r)) + r)
    return ref.dump(parts)


def keys_len(n):
    enc, mac = b"\x11" * 32, b"\x22" * 32
    keys = (enc + mac + b"\x33" * 64)[:n]
    parts = ref.encrypt_parts(pub(), PT, enc_key=enc, hmac_key=mac,
                              keys=keys)
    return ref.dump(parts)


def samekeys():
    k = b"\x5a" * 16 + b"\xa5" * 16
    return ref.dump(ref.encrypt_parts(pub(), PT, enc_key=k, hmac_key=k))


def above_ff(kind):
    parts = ref.encrypt_parts(pub(), PT)
    ct = parts[1][1].decode("latin-1")
    parts[1] = ("ct", ct[:3] + "\u0100" + ct[4:])
    obj = {n: v.decode("latin-1") if isinstance(v, bytes) else v
           for n, v in parts}
    return ref.replace(json.dumps(obj, ensure_ascii=(kind == "escape")))


def missing(name):
    parts = ref.encrypt_parts(pub(), PT)
    return ref.dump([p for p in parts if p[0] != name])


def parts_with_nul(nul):
    """A valid message whose text holds a \\u0000 (nul) or none."""
    while True:
        iv = b"\x00" + bytes(range(1, 16)) if nul else None
        parts = ref.encrypt_parts(pub(), PT, iv=iv)
        if nul or not any(b"\x00" in v for _, v in parts):
            return parts


def duplicate(name, how):
    text = ref.dump(parts_with_nul(how == "nul"))
    obj = json.loads(ref.unreplace(text))
    dup = ", %s: %s}" % (json.dumps(name), json.dumps(obj[name]))
    return text[:-1] + ref.replace(dup)


def extra():
    return ref.dump(ref.encrypt_parts(pub(), PT) + [("v", "2")])


def wrong_type(name, kind):
    value = {"number": 5, "null": None, "array": ["x"], "object": {},
             "bool": True}[kind]
    parts = ref.encrypt_parts(pub(), PT)
    return ref.dump([(n, value if n == name else v) for n, v in parts])


CASES = {
    "flip-iv": lambda a: flip_iv(int(a[0])),
    "good": lambda a: ref.dump(ref.encrypt_parts(pub(), PT)),
    "badpad": lambda a: badpad(a[0]),
    "badtag": lambda a: badtag(),
    "tag": lambda a: tag_len(int(a[0])),
    "rsa": lambda a: rsa_len(int(a[0])),
    "keys": lambda a: keys_len(int(a[0])),
    "samekeys": lambda a: samekeys(),
    "above-ff": lambda a: above_ff(a[0]),
    "missing": lambda a: missing(a[0]),
    "duplicate": lambda a: duplicate(a[0], a[1]),
    "extra": lambda a: extra(),
    "type": lambda a: wrong_type(a[0], a[1]),
}


if __name__ == "__main__":
    sys.stdout.write(CASES[sys.argv[1]](sys.argv[2:]))
