"""Small JOSE building blocks for crafting test envelopes.

Written from RFC 7516/7518/7515/7638 with python3-cryptography only, not
from the project's C code, so that what it makes is an independent check
of e2e-decrypt. Every function takes explicit bytes and headers: the
attack scripts change exactly one thing of an otherwise valid message.

Keys are the committed test keys of tests/vectors/keys.
"""

import base64
import hashlib
import hmac
import json
import os
import time

from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as apad
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEYS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    "..", "vectors", "keys")
CTY = "e2e-msg+jws"
COMMIT_LABEL = b"e2e-chat CEK commitment v1\x00"


def b64u(data):
    """base64url without padding (RFC 7515 section 2)."""
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def dumps(obj):
    """Compact JSON, as the project writes headers."""
    return json.dumps(obj, separators=(",", ":"))


def private_key(name):
    """A committed private key by file name ("alice", "weak1024.key")."""
    with open(os.path.join(KEYS, name), "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def public_key(name):
    """A committed public key ("bob" reads bob.pub)."""
    path = os.path.join(KEYS, name if "." in name else name + ".pub")
    with open(path, "rb") as f:
        return serialization.load_pem_public_key(f.read())


def public_pem(name):
    path = os.path.join(KEYS, name if "." in name else name + ".pub")
    with open(path, "rb") as f:
        return f.read()


def _uint(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def public_jwk(pub):
    nums = pub.public_numbers()
    return {"kty": "RSA", "n": b64u(_uint(nums.n)), "e": b64u(_uint(nums.e))}


def kid(pub):
    """RFC 7638 thumbprint: SHA-256 of {"e","kty","n"} in that order."""
    j = public_jwk(pub)
    canon = '{"e":"%s","kty":"RSA","n":"%s"}' % (j["e"], j["n"])
    return b64u(hashlib.sha256(canon.encode()).digest())


def oaep_wrap(pub, cek, md=hashes.SHA256):
    """RSAES-OAEP (RSA-OAEP-256 by default) of cek."""
    return pub.encrypt(cek, apad.OAEP(mgf=apad.MGF1(md()), algorithm=md(),
                                      label=None))


def oaep_unwrap(priv, ek):
    return priv.decrypt(ek, apad.OAEP(mgf=apad.MGF1(hashes.SHA256()),
                                      algorithm=hashes.SHA256(), label=None))


def pkcs7(data, block=16):
    p = padding.PKCS7(block * 8).padder()
    return p.update(data) + p.finalize()


def aes_cbc_raw(key, iv, data):
    """AES-CBC without padding: the caller decides what the last block is."""
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return e.update(data) + e.finalize()


def cbc_hmac_tag(mac_key, aad, iv, ct, md=hashlib.sha512, tlen=32):
    """RFC 7518 5.2.2.1: HMAC(MAC_KEY, A || IV || E || AL), first T_LEN."""
    al = (len(aad) * 8).to_bytes(8, "big")
    return hmac.new(mac_key, aad + iv + ct + al, md).digest()[:tlen]


def cbc_hmac_encrypt(cek, iv, aad, pt, padded=None):
    """A256CBC-HS512. padded, when given, is encrypted as it is (so a test
    can write bad PKCS#7 padding under a valid tag)."""
    mac_key, enc_key = cek[:32], cek[32:]
    ct = aes_cbc_raw(enc_key, iv, padded if padded is not None
                     else pkcs7(pt))
    return ct, cbc_hmac_tag(mac_key, aad, iv, ct)


def gcm_encrypt(cek, iv, aad, pt):
    out = AESGCM(cek).encrypt(iv, pt, aad)
    return out[:-16], out[-16:]


def cek_commit(cek):
    """The project's A256GCM key commitment (protected "cek_commit")."""
    return b64u(hashlib.sha256(COMMIT_LABEL + cek).digest())


ENC = {"A256CBC-HS512": (64, 16), "A256GCM": (32, 12)}


def make_jwe(pt, to=("bob",), enc="A256CBC-HS512", signed=False,
             prot=None, prot_raw=None, unprotected=None, headers=None,
             cek=None, eks=None, iv=None, padded=None, aad_member=None,
             commit=None):
    """A JWE in the general JSON serialization, as a dict in the member
    order e2e-encrypt writes.

    to: recipient key names; headers: per-recipient header dicts (default
    {"kid": thumbprint}); prot: the protected header dict (default as
    e2e-encrypt writes it); prot_raw: its exact JSON text instead;
    eks: encrypted_key bytes per recipient instead of wrapping cek.
    commit: True adds cek_commit for A256GCM (the default for GCM, as
    e2e-encrypt does); False leaves it out.
    """
    klen, ivlen = ENC.get(enc, (64, 16))
    cek = cek if cek is not None else os.urandom(klen)
    iv = iv if iv is not None else os.urandom(ivlen)
    if prot is None:
        prot = {"alg": "RSA-OAEP-256", "enc": enc}
        if signed:
            prot["cty"] = CTY
        if enc == "A256GCM" and commit is not False:
            prot["cek_commit"] = cek_commit(cek)
    prot_b64 = b64u(prot_raw if prot_raw is not None else dumps(prot))
    aad = prot_b64.encode()
    if aad_member is not None:
        aad += b"." + aad_member.encode()
    if enc == "A256GCM":
        ct, tag = gcm_encrypt(cek, iv, aad, pt)
    else:
        ct, tag = cbc_hmac_encrypt(cek, iv, aad, pt, padded)
    pubs = [public_key(n) for n in to]
    if headers is None:
        headers = [{"kid": kid(p)} for p in pubs]
    if eks is None:
        eks = [oaep_wrap(p, cek) for p in pubs]
    jwe = {"protected": prot_b64}
    if unprotected is not None:
        jwe["unprotected"] = unprotected
    jwe["recipients"] = []
    for h, ek in zip(headers, eks):
        r = {}
        if h is not None:
            r["header"] = h
        r["encrypted_key"] = b64u(ek)
        jwe["recipients"].append(r)
    if aad_member is not None:
        jwe["aad"] = aad_member
    jwe.update({"iv": b64u(iv), "ciphertext": b64u(ct), "tag": b64u(tag)})
    return jwe


def signed_header(signer, to=("bob",), sub=None, aud_names=None, **extra):
    """The inner JWS protected header exactly as e2e-encrypt writes it.
    With sub (the sender's name), also "sub" after "iss" and "aud_names"
    after "aud" (default: the key names of to; False leaves it out), as
    e2e-encrypt writes a message whose sender's name it knows (FORMAT.md
    section 4)."""
    k = kid(public_key(signer))
    h = {"alg": "PS256", "typ": CTY, "kid": k, "iss": k}
    if sub is not None:
        h["sub"] = sub
    h["aud"] = [kid(public_key(n)) for n in to]
    if aud_names is not False and (sub is not None or
                                   aud_names is not None):
        h["aud_names"] = list(to) if aud_names is None else aud_names
    h.update({"iat": int(time.time()), "jti": b64u(os.urandom(16))})
    h.update(extra)
    return h


def pss_sign(priv, data, salt=32, mgf=hashes.SHA256):
    return priv.sign(data, apad.PSS(mgf=apad.MGF1(mgf()), salt_length=salt),
                     hashes.SHA256())


def make_jws(payload, signer="alice", header=None, key=None, sig=None,
             **pss):
    """A compact JWS over payload. header: dict or exact JSON text;
    key: the private key object to sign with (default: signer's);
    sig: a function (signing_input) -> signature bytes instead of PS256."""
    if header is None:
        header = signed_header(signer)
    if not isinstance(header, str):
        header = dumps(header)
    si = (b64u(header) + "." + b64u(payload)).encode()
    if sig is None:
        key = key if key is not None else private_key(signer)
        s = pss_sign(key, si, **pss)
    else:
        s = sig(si)
    return si.decode() + "." + b64u(s)


def envelope_text(jwe):
    """One line, compact, as e2e-encrypt writes it."""
    return dumps(jwe) + "\n"
