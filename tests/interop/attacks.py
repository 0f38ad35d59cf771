"""Crafted envelopes for the attack catalogue (SECURITY-TESTS.md 3.1, 3.3).

  attacks.py NAME [NAME ...]

writes each named envelope to a file NAME in the current folder. Every
envelope is for bob's committed key and, when signed, signed by alice,
unless its name says otherwise; each changes one thing of a message that
e2e-decrypt would otherwise accept. "attacks.py list" prints the names.
Built with josecraft.py (python3-cryptography), not with the C code.
"""

import base64
import hashlib
import hmac
import os
import sys
import zlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding as apad
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import josecraft as jc
from josecraft import b64u, dumps, envelope_text, kid, make_jwe, make_jws

PT = b"attack at dawn\n"
CBC, GCM = "A256CBC-HS512", "A256GCM"


def signed(jws_text, **kw):
    """An envelope for bob whose plaintext is jws_text, cty e2e-msg+jws."""
    return envelope_text(make_jwe(jws_text.encode(), signed=True, **kw))


def unsigned(pt=PT, **kw):
    return envelope_text(make_jwe(pt, **kw))


def with_alg(alg, sig=b""):
    h = jc.signed_header("alice", alg=alg)
    return signed(make_jws(PT, header=h, sig=lambda si: sig))


def outer_alg(alg):
    """A message whose key management is alg, wrapped as alg would."""
    cek = os.urandom(64)
    bob = jc.public_key("bob")
    if alg == "RSA1_5":
        ek = bob.encrypt(cek, apad.PKCS1v15())
    elif alg == "RSA-OAEP":
        ek = jc.oaep_wrap(bob, cek, hashes.SHA1)
    elif alg == "dir":
        ek = b""
    else:
        ek = os.urandom(40)
    return unsigned(prot={"alg": alg, "enc": CBC}, cek=cek, eks=[ek])


def outer_enc(enc):
    return unsigned(prot={"alg": "RSA-OAEP-256", "enc": enc})


def alg_for_other_recipient():
    """bob's entry is fine; carol's names RSA1_5 (J2: any recipient)."""
    b, c = kid(jc.public_key("bob")), kid(jc.public_key("carol"))
    return unsigned(to=("carol", "bob"), prot={"enc": CBC},
                    headers=[{"alg": "RSA1_5", "kid": c},
                             {"alg": "RSA-OAEP-256", "kid": b}])


def hs256_with_public_key():
    """J4: HMAC keyed with the bytes of alice's public key file."""
    pem = jc.public_pem("alice")
    h = jc.signed_header("alice", alg="HS256")
    return signed(make_jws(PT, header=h, sig=lambda si: hmac.new(
        pem, si, hashlib.sha256).digest()))


def carol_jwk():
    return jc.public_jwk(jc.public_key("carol"))


def embedded_key_headers():
    """J5: every header that could name a key, all naming carol's."""
    return unsigned(prot={"alg": "RSA-OAEP-256", "enc": CBC,
                          "jwk": carol_jwk(),
                          "jku": "https://attacker.example/jwks.json",
                          "x5u": "https://attacker.example/cert.pem",
                          "x5c": [base64.b64encode(os.urandom(64)).decode()]})


def inner_jwk_by_carol():
    """J5: inner header claims alice and carries carol's jwk; carol signs."""
    h = jc.signed_header("alice", jwk=carol_jwk())
    return signed(make_jws(PT, header=h, key=jc.private_key("carol")))


def crit(where, names):
    extra = {"crit": names, "x-foo": 1}
    prot = {"alg": "RSA-OAEP-256", "enc": CBC}
    if where == "protected":
        prot.update(extra)
        return unsigned(prot=prot)
    if where == "unprotected":
        return unsigned(prot=prot, unprotected=extra)
    return unsigned(prot=prot, headers=[dict(extra,
                    kid=kid(jc.public_key("bob")))])


def inner_b64_false():
    """J6: RFC 7797 unencoded payload, signed correctly by alice."""
    h = dumps(jc.signed_header("alice", b64=False, crit=["b64"]))
    si = b64u(h).encode() + b"." + PT.strip()
    sig = jc.pss_sign(jc.private_key("alice"), si)
    return signed(si.decode() + "." + b64u(sig))


def deflate_bomb():
    """J7: zip DEF, 64 MiB of zeros deflated to about 64 KiB."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    data = b"".join(z.compress(chunk) for _ in range(64)) + z.flush()
    return unsigned(data, prot={"alg": "RSA-OAEP-256", "enc": CBC,
                                "zip": "DEF"})


def insert_after(text, anchor, member):
    """Inserts member text right after the first occurrence of anchor."""
    i = text.index(anchor) + len(anchor)
    return text[:i] + member + text[i:]


def dup_top(name):
    text = unsigned()
    j = make_jwe(PT)
    return insert_after(text, "{", '"%s":"%s",' % (name, j[name]))


def dup_in_recipient():
    text = unsigned()
    return insert_after(text, '"recipients":[{', '"encrypted_key":"%s",'
                        % b64u(os.urandom(256)))


def dup_in_header():
    text = unsigned()
    return insert_after(text, '"header":{', '"kid":"%s",'
                        % kid(jc.public_key("carol")))


def prot_and_header(name):
    b = kid(jc.public_key("bob"))
    h = {"kid": b, name: {"alg": "RSA-OAEP-256", "enc": CBC}[name]}
    return unsigned(headers=[h])


def many_recipients(n):
    """bob's entry and n - 1 decoys, each with its own (made-up) kid:
    readers refuse two entries with one kid."""
    j = make_jwe(PT)
    real = j["recipients"][0]
    decoys = []
    for i in range(n - 1):
        d = dict(real)
        d["header"] = {"kid": b64u(hashlib.sha256(b"decoy %d" % i).digest())}
        decoys.append(d)
    j["recipients"] = decoys + [real]
    return envelope_text(j)


def big_protected(size):
    """A protected header of exactly size bytes of JSON."""
    prot = {"alg": "RSA-OAEP-256", "enc": CBC, "x-pad": ""}
    prot["x-pad"] = "A" * (size - len(dumps(prot)))
    assert len(dumps(prot)) == size
    return unsigned(prot=prot)


def deep_member(depth):
    text = unsigned()
    return insert_after(text, "{", '"unprotected":%s%s,' % ("[" * depth,
                                                            "]" * depth))


def with_tag(enc, n):
    j = make_jwe(PT, enc=enc)
    t = jc.unb64u(j["tag"])
    j["tag"] = b64u((t * 4)[:n])
    return envelope_text(j)


def with_iv(enc, n):
    j = make_jwe(PT, enc=enc)
    j["iv"] = b64u(os.urandom(n))
    return envelope_text(j)


def bad_padding(last):
    """J13: a valid tag over a last block whose padding is wrong."""
    block = b"attack at dawn!" + bytes([last])
    return unsigned(padded=b"0123456789abcdef" + block)


def bad_tag(enc=CBC):
    j = make_jwe(PT, enc=enc)
    t = bytearray(jc.unb64u(j["tag"]))
    t[0] ^= 1
    j["tag"] = b64u(bytes(t))
    return envelope_text(j)


def wrapped_cek(n, enc=CBC):
    """J15: encrypted_key unwraps to n bytes; the content uses a key of
    the right length that starts with them."""
    short = os.urandom(n)
    klen = jc.ENC[enc][0]
    cek = (short + os.urandom(klen))[:klen]
    return unsigned(enc=enc, cek=cek, eks=[jc.oaep_wrap(
        jc.public_key("bob"), short)])


def hs256_jwt():
    """J16: a bearer token as the chat server issues it."""
    h = b64u(dumps({"alg": "HS256", "typ": "JWT"}))
    p = b64u(dumps({"sub": "alice", "iat": 1700000000, "exp": 1700086400}))
    s = hmac.new(b"k" * 32, (h + "." + p).encode(), hashlib.sha256).digest()
    return h + "." + p + "." + b64u(s) + "\n"


def compact_jwe():
    j = make_jwe(PT)
    return ".".join([j["protected"], j["recipients"][0]["encrypted_key"],
                     j["iv"], j["ciphertext"], j["tag"]]) + "\n"


def pss(signer="alice", **kw):
    """An envelope for bob signed by signer with PSS options kw; the
    header names signer's key as e2e-encrypt would."""
    key = jc.private_key(signer)
    h = jc.signed_header("alice")
    h["kid"] = h["iss"] = kid(key.public_key())
    return signed(make_jws(PT, header=h, key=key, **kw))


def sig_bytes(transform):
    """Alice's valid signature, then transformed (length, value)."""
    alice = jc.private_key("alice")
    n = alice.public_key().public_numbers().n
    h = jc.signed_header("alice")
    while True:
        s = make_jws(PT, header=h, key=alice)
        head, sig = s.rsplit(".", 1)
        raw = transform(jc.unb64u(sig), n)
        if raw is not None:
            return signed(head + "." + b64u(raw))
        h["jti"] = b64u(os.urandom(16))


def strip_leading_zero(sig, n):
    """A valid signature whose first byte is 0, sent as 255 bytes."""
    return sig[1:] if sig[0] == 0 else None


def json_jws(two):
    inner = make_jws(PT)
    prot, payload, sig = inner.split(".")
    if two:
        other = make_jws(PT, header=jc.signed_header("alice")).split(".")
        obj = {"payload": payload, "signatures": [
            {"protected": prot, "signature": sig},
            {"protected": other[0], "signature": other[2]}]}
    else:
        obj = {"payload": payload, "protected": prot,
               "header": {"kid": kid(jc.public_key("carol"))},
               "signature": sig}
    return signed(dumps(obj))


def resigned_by_carol(claim_alice):
    """E2: the inner JWS signed by carol, naming carol or claiming alice."""
    h = jc.signed_header("alice" if claim_alice else "carol")
    return signed(make_jws(PT, header=h, key=jc.private_key("carol")))


def flip_char(b64text, i):
    c = b64text[i]
    return b64text[:i] + ("B" if c == "A" else "A") + b64text[i + 1:]


def bad_inner_sig():
    """E6: a valid outer JWE around a signature with one byte changed."""
    s = make_jws(PT)
    head, sig = s.rsplit(".", 1)
    raw = bytearray(jc.unb64u(sig))
    raw[100] ^= 0x40
    return signed(head + "." + b64u(bytes(raw)))


def bad_outer():
    """E6: a valid inner signature, one ciphertext byte changed."""
    j = make_jwe(make_jws(PT).encode(), signed=True)
    j["ciphertext"] = flip_char(j["ciphertext"], 5)
    return envelope_text(j)


def claims(**changes):
    """E2/E3: alice's signed message with header claims changed (None
    removes one), validly signed by alice."""
    h = jc.signed_header("alice")
    for k, v in changes.items():
        if v is None:
            del h[k]
        else:
            h[k] = v
    return signed(make_jws(PT, header=h))


def payload_not_b64():
    """A valid signature over a payload that is not base64url."""
    h = b64u(dumps(jc.signed_header("alice")))
    si = (h + ".not+base64").encode()
    return signed(si.decode() + "." + b64u(jc.pss_sign(
        jc.private_key("alice"), si)))


def aad_member(value):
    """J10: an "aad" member (authenticated as written) of value."""
    return unsigned(aad_member=value)


# --- E7: one A256GCM ciphertext that two different keys both accept ---

R = 0xE1 << 120


def gmul(x, y):
    """Multiplication in GF(2^128) as GCM defines it (SP 800-38D 6.3)."""
    z = 0
    for i in range(127, -1, -1):
        if (x >> i) & 1:
            z ^= y
        y = (y >> 1) ^ R if y & 1 else y >> 1
    return z


def ginv(x):
    """x^(2^128 - 2) = 1/x."""
    r, e = 1 << 127, (1 << 128) - 2	# 1 << 127 is the field's "1"
    while e:
        if e & 1:
            r = gmul(r, x)
        x = gmul(x, x)
        e >>= 1
    return r


def blocks(data):
    data += bytes(-len(data) % 16)
    return [int.from_bytes(data[i:i + 16], "big")
            for i in range(0, len(data), 16)]


def ghash(h, aad, ct):
    y = 0
    for b in blocks(aad) + blocks(ct) + [(len(aad) * 8) << 64 |
                                         len(ct) * 8]:
        y = gmul(y ^ b, h)
    return y


def aes_block(key, block):
    e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return int.from_bytes(e.update(block) + e.finalize(), "big")


def salamander(commit):
    """GCM is not key-committing: with its last block chosen, one
    ciphertext and tag are valid under bob's CEK and under carol's (a
    different one), and decrypt to different plaintexts."""
    k1, k2, iv = os.urandom(32), os.urandom(32), os.urandom(12)
    prot = {"alg": "RSA-OAEP-256", "enc": GCM}
    if commit:
        prot["cek_commit"] = jc.cek_commit(k1)
    aad = b64u(dumps(prot)).encode()
    p1 = b"bob: meet at the north gate, 9pm"	# two blocks
    ct = bytearray(AESGCM(k1).encrypt(iv, p1 + bytes(16), aad)[:-16])
    ct[32:48] = bytes(16)
    j0 = iv + b"\x00\x00\x00\x01"
    h1, h2 = aes_block(k1, bytes(16)), aes_block(k2, bytes(16))
    s1 = aes_block(k1, j0) ^ ghash(h1, aad, bytes(ct))
    s2 = aes_block(k2, j0) ^ ghash(h2, aad, bytes(ct))
    # The last ciphertext block is followed only by the length block.
    e1, e2 = gmul(h1, h1), gmul(h2, h2)
    free = gmul(s1 ^ s2, ginv(e1 ^ e2))
    ct[32:48] = free.to_bytes(16, "big")
    tag = (s1 ^ gmul(free, e1)).to_bytes(16, "big")
    for k in (k1, k2):	# both keys accept it
        AESGCM(k).decrypt(iv, bytes(ct) + tag, aad)
    bob, carol = jc.public_key("bob"), jc.public_key("carol")
    j = {"protected": aad.decode(), "recipients": [
        {"header": {"kid": kid(bob)},
         "encrypted_key": b64u(jc.oaep_wrap(bob, k1))},
        {"header": {"kid": kid(carol)},
         "encrypted_key": b64u(jc.oaep_wrap(carol, k2))}],
        "iv": b64u(iv), "ciphertext": b64u(bytes(ct)), "tag": b64u(tag)}
    return envelope_text(j)


CASES = {
    "good-signed": lambda: signed(make_jws(PT)),
    "good-unsigned": lambda: unsigned(),
    "J1-none": lambda: with_alg("none"),
    "J1-None": lambda: with_alg("None"),
    "J1-NONE": lambda: with_alg("NONE"),
    "J1-none-with-sig": lambda: with_alg("none", os.urandom(256)),
    "J1-empty-sig": lambda: with_alg("PS256"),
    "J2-RSA1_5": lambda: outer_alg("RSA1_5"),
    "J2-RSA-OAEP": lambda: outer_alg("RSA-OAEP"),
    "J2-dir": lambda: outer_alg("dir"),
    "J2-A128KW": lambda: outer_alg("A128KW"),
    "J2-ECDH-ES": lambda: outer_alg("ECDH-ES"),
    "J2-ECDH-ES+A256KW": lambda: outer_alg("ECDH-ES+A256KW"),
    "J2-PBES2-HS256+A128KW": lambda: outer_alg("PBES2-HS256+A128KW"),
    "J2-A128GCM": lambda: outer_enc("A128GCM"),
    "J2-A128CBC-HS256": lambda: outer_enc("A128CBC-HS256"),
    "J2-other-recipient": alg_for_other_recipient,
    "J4-hs256": hs256_with_public_key,
    "J5-embedded-keys": embedded_key_headers,
    "J5-kid-carol": lambda: unsigned(headers=[{"kid": kid(
        jc.public_key("carol"))}]),
    "J5-inner-jwk": inner_jwk_by_carol,
    "J6-crit-unknown": lambda: crit("protected", ["x-foo"]),
    "J6-crit-empty": lambda: crit("protected", []),
    "J6-crit-standard": lambda: crit("protected", ["enc"]),
    "J6-crit-unprotected": lambda: crit("unprotected", ["x-foo"]),
    "J6-crit-recipient": lambda: crit("recipient", ["x-foo"]),
    "J6-b64-false": inner_b64_false,
    "J7-zip": deflate_bomb,
    "J8-dup-alg-same": lambda: unsigned(
        prot_raw='{"alg":"RSA-OAEP-256","alg":"RSA-OAEP-256",'
        '"enc":"A256CBC-HS512"}'),
    "J8-dup-enc": lambda: unsigned(
        prot_raw='{"alg":"RSA-OAEP-256","enc":"A256GCM",'
        '"enc":"A256CBC-HS512"}'),
    "J8-alg-in-header": lambda: prot_and_header("alg"),
    "J8-enc-in-header": lambda: prot_and_header("enc"),
    "J8-alg-in-unprotected": lambda: unsigned(
        unprotected={"alg": "RSA-OAEP-256"}),
    "J8-dup-ciphertext": lambda: dup_top("ciphertext"),
    "J8-dup-iv": lambda: dup_top("iv"),
    "J8-dup-protected": lambda: dup_top("protected"),
    "J8-dup-encrypted-key": dup_in_recipient,
    "J8-dup-kid": dup_in_header,
    "J9-10k-recipients": lambda: many_recipients(10000),
    "J9-257-recipients": lambda: many_recipients(257),
    "J9-256-recipients": lambda: many_recipients(256),
    "J9-1mb-protected": lambda: big_protected(1 << 20),
    "J9-16k-protected": lambda: big_protected(16384),
    "J9-16k1-protected": lambda: big_protected(16385),
    "J9-deep": lambda: "[" * 100000 + "]" * 100000 + "\n",
    "J9-deep-member": lambda: deep_member(100000),
    "J11-cbc-tag-0": lambda: with_tag(CBC, 0),
    "J11-cbc-tag-1": lambda: with_tag(CBC, 1),
    "J11-cbc-tag-16": lambda: with_tag(CBC, 16),
    "J11-cbc-tag-31": lambda: with_tag(CBC, 31),
    "J11-cbc-tag-33": lambda: with_tag(CBC, 33),
    "J11-cbc-tag-64": lambda: with_tag(CBC, 64),
    "J11-gcm-tag-0": lambda: with_tag(GCM, 0),
    "J11-gcm-tag-1": lambda: with_tag(GCM, 1),
    "J11-gcm-tag-12": lambda: with_tag(GCM, 12),
    "J11-gcm-tag-15": lambda: with_tag(GCM, 15),
    "J11-cbc-iv-0": lambda: with_iv(CBC, 0),
    "J11-cbc-iv-12": lambda: with_iv(CBC, 12),
    "J11-cbc-iv-17": lambda: with_iv(CBC, 17),
    "J11-gcm-iv-0": lambda: with_iv(GCM, 0),
    "J11-gcm-iv-8": lambda: with_iv(GCM, 8),
    "J11-gcm-iv-16": lambda: with_iv(GCM, 16),
    "J13-pad-0": lambda: bad_padding(0),
    "J13-pad-17": lambda: bad_padding(17),
    "J13-pad-255": lambda: bad_padding(255),
    "J13-bad-tag": bad_tag,
    "J15-cek-32": lambda: wrapped_cek(32),
    "J15-cek-65": lambda: wrapped_cek(65),
    "J15-gcm-cek-64": lambda: wrapped_cek(64, GCM),
    "J15-gcm-bad-tag": lambda: bad_tag(GCM),
    "J16-compact-jws": lambda: make_jws(PT) + "\n",
    "J16-jwt": hs256_jwt,
    "J16-text": lambda: "hello bob, this is not an envelope\n",
    "J16-compact-jwe": compact_jwe,
    "J16-inner-jwe": lambda: signed(compact_jwe().strip()),
    "J16-inner-jwt": lambda: signed(hs256_jwt().strip()),
    "J17-salt-0": lambda: pss(salt=0),
    "J17-salt-20": lambda: pss(salt=20),
    "J17-salt-31": lambda: pss(salt=31),
    "J17-salt-33": lambda: pss(salt=33),
    "J17-mgf1-sha1": lambda: pss(mgf=hashes.SHA1),
    "J17-weak1024": lambda: pss("weak1024.key"),
    "J17-e3": lambda: pss("e3.key"),
    "J17-sig-255": lambda: sig_bytes(strip_leading_zero),
    "J17-sig-257": lambda: sig_bytes(lambda s, n: b"\x00" + s),
    "J17-sig-zero": lambda: sig_bytes(lambda s, n: bytes(256)),
    "J17-sig-n": lambda: sig_bytes(lambda s, n: n.to_bytes(256, "big")),
    "J19-two-signatures": lambda: json_jws(True),
    "J19-flattened-header": lambda: json_jws(False),
    "E1-plain-no-cty": lambda: unsigned(b"hello, no signature here\n"),
    "E1-jws-no-cty": lambda: unsigned(make_jws(PT).encode()),
    "E2-carol": lambda: resigned_by_carol(False),
    "E2-carol-claims-alice": lambda: resigned_by_carol(True),
    "E6-bad-inner-sig": bad_inner_sig,
    "E6-bad-outer": bad_outer,
    "E7-salamander": lambda: salamander(False),
    "E7-salamander-commit": lambda: salamander(True),
    "claims-typ-missing": lambda: claims(typ=None),
    "claims-typ-JWT": lambda: claims(typ="JWT"),
    "claims-iss-carol": lambda: claims(iss=kid(jc.public_key("carol"))),
    "claims-kid-name": lambda: claims(kid="alice", iss="alice"),
    "claims-iat-string": lambda: claims(iat="1700000000"),
    "claims-iat-negative": lambda: claims(iat=-1),
    "claims-iat-float": lambda: claims(iat=1700000000.5),
    "claims-jti-missing": lambda: claims(jti=None),
    "claims-jti-empty": lambda: claims(jti=""),
    "claims-jti-128": lambda: claims(jti="j" * 128),
    "claims-jti-129": lambda: claims(jti="j" * 129),
    "claims-aud-string": lambda: claims(aud=kid(jc.public_key("bob"))),
    "claims-aud-empty": lambda: claims(aud=[]),
    "claims-aud-number": lambda: claims(aud=[5, kid(jc.public_key("bob"))]),
    "claims-aud-carol": lambda: claims(aud=[kid(jc.public_key("carol"))]),
    "payload-not-b64": payload_not_b64,
    "J10-aad-ok": lambda: aad_member("cm9vbSA3"),
    "J10-aad-not-b64": lambda: aad_member("room 7!"),
    "J10-aad-padded": lambda: aad_member("cm9vbQ=="),
}


def main():
    if sys.argv[1:] == ["list"]:
        print("\n".join(CASES))
        return
    for name in sys.argv[1:]:
        with open(name, "w") as f:
            f.write(CASES[name]())


if __name__ == "__main__":
    main()
