"""The provider's audit signing key (`AUDIT_SIGNING_KEY`, Ed25519) and the exact bytes it signs.

A checkpoint states "company C's audit chain had hash H at link S at time T". Its payload is a JSON
object serialised canonically, so anyone can rebuild the signed bytes from a checkpoint line:

    {"company":"acme","format":"vastaja-audit-checkpoint/1","hash":"<64 hex>","seq":1234,
     "time":"2026-12-03T12:00:00.000000Z"}

keys sorted, no spaces (`separators=(",", ":")`), ASCII only, UTF-8 bytes; `seq` an integer, the rest
strings; `time` in UTC with microseconds and a `Z`. The signature is Ed25519 over those bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

PAYLOAD_FORMAT = "vastaja-audit-checkpoint/1"
PAYLOAD_KEYS = frozenset({"company", "format", "hash", "seq", "time"})


@cache
def _private_key(seed_hex: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))


def signing_key() -> Ed25519PrivateKey:
    return _private_key(settings.AUDIT_SIGNING_KEY.lower())


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def public_key_raw(key: Ed25519PublicKey | None = None) -> bytes:
    key = key or public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem() -> str:
    return (
        public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def key_fingerprint(raw: bytes | None = None) -> str:
    """The SHA-256 of the raw 32-byte public key, in hex: what names a signing key."""
    return hashlib.sha256(raw if raw is not None else public_key_raw()).hexdigest()


def checkpoint_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def checkpoint_payload(*, company: str, seq: int, head_hash: str, time: dt.datetime) -> dict:
    return {"company": company, "format": PAYLOAD_FORMAT, "hash": head_hash, "seq": seq, "time": checkpoint_time(time)}


def canonical_bytes(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def payload_sign(payload: dict) -> str:
    """The Ed25519 signature of the payload's canonical bytes, in hex (128 characters)."""
    return signing_key().sign(canonical_bytes(payload)).hex()


def payload_verify(payload: dict, signature_hex: str, key: Ed25519PublicKey | None = None) -> bool:
    """Whether the signature is the (configured, or given) key's over exactly this payload."""
    try:
        signature = bytes.fromhex(signature_hex)
        (key or public_key()).verify(signature, canonical_bytes(payload))
    except (ValueError, InvalidSignature):
        return False
    return True
