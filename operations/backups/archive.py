"""The backup file: a plaintext header, then the body as a sequence of encrypted chunks.

    file   := MAGIC, u32 header length, header (JSON), chunk*
    chunk  := u32 token length, Fernet token
    token  := Fernet(key) over: SHA-256 of the header, u64 sequence number, u8 last?, zlib(body part)
    body   := record*;  record := u8 kind, u32 length, payload

The header says what the backup is (format version, company, schema, when, migration state) and
which key encrypted it (a key id, not the key), so a foreign backup, or one made with another key,
is recognised before anything is decrypted. Every chunk carries the header's digest and its place,
so a changed header, a swapped, reordered or missing chunk, and a cut-off file are all refused.
Chunks are Fernet tokens (AES-128-CBC with HMAC-SHA256), so any changed byte fails authentication.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

MAGIC = b"VASTAJA-TENANT-BACKUP\n"
FORMAT_VERSION = 1
CHUNK_BYTES = 1 << 20
MAX_HEADER_BYTES = 1 << 20
MAX_TOKEN_BYTES = 4 * CHUNK_BYTES

# Record kinds of the body.
TABLE, DATA, TABLE_END, SEQUENCES, FILE, FILE_END, END = b"T", b"D", b"t", b"S", b"F", b"f", b"Z"


class BackupError(Exception):
    """A backup cannot be made or used; the message is one line, for the operator."""


def _material(secret: str) -> bytes:
    return secret.encode()


def backup_key_ids() -> dict[str, Fernet]:
    """Key id -> Fernet, for every key in BACKUP_ENCRYPTION_KEY (comma-separated; the first one
    encrypts, the others still decrypt backups made before a rotation)."""
    keys = {}
    for secret in [s.strip() for s in settings.BACKUP_ENCRYPTION_KEY.split(",") if s.strip()]:
        material = _material(secret)
        key = hmac.new(material, b"vastaja tenant backup encryption v1", hashlib.sha256).digest()
        key_id = hmac.new(material, b"vastaja tenant backup key id v1", hashlib.sha256).hexdigest()[:16]
        keys[key_id] = Fernet(base64.urlsafe_b64encode(key))
    if not keys:
        raise BackupError("BACKUP_ENCRYPTION_KEY is empty: set it to the key backups are encrypted with")
    return keys


def current_key_id() -> str:
    return next(iter(backup_key_ids()))


class BackupWriter:
    """Writes a backup to an open binary file: `record()` the body, then `close()`."""

    def __init__(self, handle: BinaryIO, header: dict):
        self._handle = handle
        key_id = current_key_id()
        self._fernet = backup_key_ids()[key_id]
        header = {**header, "key_id": key_id}
        raw = json.dumps(header, sort_keys=True).encode()
        self._header_digest = hashlib.sha256(raw).digest()
        handle.write(MAGIC + struct.pack(">I", len(raw)) + raw)
        self._buffer = bytearray()
        self._seq = 0
        self.bytes_written = len(MAGIC) + 4 + len(raw)

    def record(self, kind: bytes, payload: bytes | dict = b"") -> None:
        if isinstance(payload, dict):
            payload = json.dumps(payload, sort_keys=True, default=str).encode()
        self._buffer += kind + struct.pack(">I", len(payload))
        self._buffer += payload
        while len(self._buffer) >= CHUNK_BYTES:
            self._flush(bytes(self._buffer[:CHUNK_BYTES]), last=False)
            del self._buffer[:CHUNK_BYTES]

    def _flush(self, part: bytes, *, last: bool) -> None:
        plain = self._header_digest + struct.pack(">QB", self._seq, int(last)) + zlib.compress(part, 3)
        token = self._fernet.encrypt(plain)
        self._handle.write(struct.pack(">I", len(token)) + token)
        self.bytes_written += 4 + len(token)
        self._seq += 1

    def close(self) -> None:
        self._flush(bytes(self._buffer), last=True)
        self._buffer.clear()


def read_header(handle: BinaryIO) -> tuple[dict, bytes]:
    """The header, checked for what can be checked without the key. Returns (header, its digest)."""
    if handle.read(len(MAGIC)) != MAGIC:
        raise BackupError("not a Vastaja tenant backup (its first bytes are not a backup header)")
    size = handle.read(4)
    if len(size) != 4 or not 0 < struct.unpack(">I", size)[0] <= MAX_HEADER_BYTES:
        raise BackupError("the backup is corrupt: its header is cut off or malformed")
    raw = handle.read(struct.unpack(">I", size)[0])
    try:
        header = json.loads(raw)
    except ValueError:
        raise BackupError("the backup is corrupt: its header is not readable") from None
    if not isinstance(header, dict) or header.get("format") != "vastaja-tenant-backup":
        raise BackupError("the backup is corrupt: its header is not a backup header")
    if header.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"the backup is format version {header.get('version')}; this release reads version {FORMAT_VERSION} only"
        )
    for required in ("tenant", "schema", "created_at", "snapshot", "migrations", "key_id"):
        if required not in header:
            raise BackupError(f"the backup is corrupt: its header has no '{required}'")
    return header, hashlib.sha256(raw).digest()


class BackupReader:
    """Reads a backup: `header` at once; `records()` decrypts and yields the body's records."""

    def __init__(self, handle: BinaryIO):
        self._handle = handle
        self.header, self._header_digest = read_header(handle)
        keys = backup_key_ids()
        key_id = self.header["key_id"]
        if key_id not in keys:
            raise BackupError(
                f"the backup was encrypted with another key (key id {key_id}; BACKUP_ENCRYPTION_KEY "
                f"holds {', '.join(keys)}): set the key it was made with"
            )
        self._fernet = keys[key_id]
        self._parts = self._chunks()
        self._buffer = bytearray()
        self._ended = False
        # Decrypt the first chunk now: a backup that fails authentication is refused before any work.
        self._fill(1)

    def _chunks(self) -> Iterator[bytes]:
        seq = 0
        while True:
            size = self._handle.read(4)
            if not size:
                raise BackupError("the backup is corrupt: it ends before its last chunk (cut off?)")
            (length,) = struct.unpack(">I", size) if len(size) == 4 else (0,)
            token = self._handle.read(length) if 0 < length <= MAX_TOKEN_BYTES else b""
            if not token or len(token) != length:
                raise BackupError(f"the backup is corrupt: chunk {seq} is cut off or malformed")
            try:
                plain = self._fernet.decrypt(token)
            except InvalidToken:
                raise BackupError(f"the backup is corrupt: chunk {seq} fails authentication") from None
            digest, (number, last) = plain[:32], struct.unpack(">QB", plain[32:41])
            if digest != self._header_digest:
                raise BackupError(f"the backup is corrupt: chunk {seq} does not belong to this header")
            if number != seq:
                raise BackupError(f"the backup is corrupt: chunk {number} found where chunk {seq} belongs")
            try:
                yield zlib.decompress(plain[41:])
            except zlib.error:
                raise BackupError(f"the backup is corrupt: chunk {seq} does not decompress") from None
            seq += 1
            if last:
                if self._handle.read(1):
                    raise BackupError("the backup is corrupt: there are bytes after its last chunk")
                return

    def _fill(self, size: int) -> bool:
        while len(self._buffer) < size:
            part = next(self._parts, None)
            if part is None:
                return False
            self._buffer += part
        return True

    def _take(self, size: int) -> bytes:
        if not self._fill(size):
            raise BackupError("the backup is corrupt: a record is cut off")
        taken = bytes(self._buffer[:size])
        del self._buffer[:size]
        return taken

    def records(self) -> Iterator[tuple[bytes, bytes]]:
        """Yield (kind, payload) up to and including the END record; then check nothing follows."""
        while True:
            kind = self._take(1)
            (length,) = struct.unpack(">I", self._take(4))
            payload = self._take(length)
            yield kind, payload
            if kind == END:
                if self._fill(1) or next(self._parts, None):
                    raise BackupError("the backup is corrupt: there is data after its end")
                return


def payload_json(payload: bytes) -> dict:
    try:
        return json.loads(payload)
    except ValueError:
        raise BackupError("the backup is corrupt: a record is not readable") from None
