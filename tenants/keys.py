"""Envelope keys: a key-encryption key (KEK) from the environment wraps each client company's own
data keys (fields, files, blind indexes), which live wrapped in the public table `CompanyKey`.

- `KEY_ENCRYPTION_KEY` is a comma-separated list: the first KEK wraps, every one of them unwraps,
  so a rolling deploy can run servers on `old,new` and on `new,old` side by side.
- A data key is 32 random bytes, wrapped with AES-GCM under the KEK; the wrap's associated data
  names the company, purpose and version, so a wrapped key copied onto another row does not open.
- Unwrapped keys are cached per process (and per KEK list), except a key this process made in a
  transaction not yet committed: one that rolls back is never remembered.
- Which version is *active* (the one that encrypts) is cached for `KEY_CACHE_SECONDS`; every
  version that is not destroyed still decrypts, so a server that has not yet seen a rotation keeps
  writing rows that everyone can read, and `rotate_keys` sweeps them up.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import struct
import threading
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone


class KeyUnavailable(Exception):
    """A data key cannot be had: no KEK in the list wrapped it, or it was destroyed."""


class KeyDestroyed(KeyUnavailable):
    """The data key was crypto-shredded: what it encrypted can no longer be read by anyone."""


def _kek_material(secret: str) -> bytes:
    return hashlib.sha256(b"vastaja kek v1\x00" + secret.encode()).digest()


def kek_fingerprint(secret: str) -> str:
    """A short public name of a KEK: which one wrapped a key, without revealing it."""
    return hashlib.sha256(b"vastaja kek id\x00" + _kek_material(secret)).hexdigest()[:16]


def kek_list() -> list[str]:
    keks = [k.strip() for k in settings.KEY_ENCRYPTION_KEY.split(",") if k.strip()]
    if not keks:
        raise KeyUnavailable("KEY_ENCRYPTION_KEY is empty: set at least one key-encryption key")
    return keks


class _State:
    """What one process remembers under one KEK list."""

    def __init__(self, keks: tuple[str, ...]):
        self.keks = {kek_fingerprint(k): AESGCM(_kek_material(k)) for k in keks}
        self.wrapping = kek_fingerprint(keks[0])
        self.deks: dict[tuple[int, str, int], AESGCM] = {}
        self.index_keys: dict[tuple[int, int], bytes] = {}
        self.active: dict[tuple[int, str], tuple[float, int]] = {}


_states: dict[tuple[str, ...], _State] = {}
_companies: dict[str, tuple[float, int]] = {}
_lock = threading.Lock()


def _state() -> _State:
    keks = tuple(kek_list())
    state = _states.get(keks)
    if state is None:
        with _lock:
            state = _states.setdefault(keks, _State(keks))
    return state


def cache_clear() -> None:
    """Forget every unwrapped key and active version (after a rotation or shredding here)."""
    with _lock:
        _states.clear()
        _companies.clear()


def _aad(company_id: int, purpose: str, version: int) -> bytes:
    return f"vastaja data key|{company_id}|{purpose}|{version}".encode()


def wrap(*, dek: bytes, company_id: int, purpose: str, version: int) -> tuple[bytes, str]:
    state = _state()
    nonce = os.urandom(12)
    return nonce + state.keks[state.wrapping].encrypt(nonce, dek, _aad(company_id, purpose, version)), state.wrapping


def _unwrap(row) -> bytes:
    from tenants.models import CompanyKey

    if row.state == CompanyKey.State.DESTROYED or row.wrapped is None:
        raise KeyDestroyed(
            f"the {row.purpose} key v{row.version} of company #{row.company_id} was destroyed "
            f"(crypto-shredded) at {row.destroyed_at:%Y-%m-%d %H:%M} UTC"
        )
    kek = _state().keks.get(row.kek_id)
    if kek is None:
        raise KeyUnavailable(
            f"the {row.purpose} key v{row.version} of company #{row.company_id} is wrapped by KEK {row.kek_id}, "
            "which is not in KEY_ENCRYPTION_KEY"
        )
    blob = bytes(row.wrapped)
    return kek.decrypt(blob[:12], blob[12:], _aad(row.company_id, row.purpose, row.version))


def _remember(apply) -> None:
    """Cache now if nothing can roll back what was read, otherwise once the transaction commits."""
    if connection.in_atomic_block:
        transaction.on_commit(apply)
    else:
        apply()


# Keys this process created in transactions not yet committed. Only those can vanish in a rollback
# (another connection's uncommitted rows are invisible), so every other key is cached at once.
_unsettled: set[tuple[int, str, int]] = set()


def _remember_key(ident: tuple[int, str, int], apply) -> None:
    if ident in _unsettled:
        _remember(apply)
    else:
        apply()


_acting_for: contextvars.ContextVar[int | None] = contextvars.ContextVar("keys_acting_for", default=None)


@contextlib.contextmanager
def acting_for(company_id: int):
    """Encrypt under `company_id`'s keys whatever schema the connection is on: a backup restored
    into a new schema still holds that company's data."""
    token = _acting_for.set(company_id)
    try:
        yield
    finally:
        _acting_for.reset(token)


def company_id_for_schema(schema: str | None = None) -> int:
    """The client company whose schema the connection is on (or `schema`)."""
    from tenants.models import ClientCompany

    if schema is None and _acting_for.get() is not None:
        return _acting_for.get()
    schema = schema or connection.schema_name
    cached = _companies.get(schema)
    now = time.monotonic()
    if cached and now - cached[0] < settings.KEY_CACHE_SECONDS:
        return cached[1]
    pk = ClientCompany.objects.filter(schema_name=schema).values_list("pk", flat=True).first()
    if pk is None:
        pk = restored_from(schema)
    if pk is None:
        raise KeyUnavailable(f"schema {schema!r} belongs to no client company, so it has no keys")
    _remember(lambda: _companies.__setitem__(schema, (now, pk)))
    return pk


RESTORED_MARK = "vastaja: a restored copy of company #"


def restored_from(schema: str) -> int | None:
    """The company whose backup was restored into `schema` (restore_tenant --into-schema marks
    the schema so), or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(n.oid, 'pg_namespace') FROM pg_namespace n WHERE n.nspname = %s", [schema]
        )
        row = cursor.fetchone()
    if row and row[0] and row[0].startswith(RESTORED_MARK):
        return int(row[0][len(RESTORED_MARK) :])
    return None


def _row(company_id: int, purpose: str, version: int):
    from tenants.models import CompanyKey

    row = CompanyKey.objects.filter(company_id=company_id, purpose=purpose, version=version).first()
    if row is None:
        raise KeyUnavailable(f"company #{company_id} has no {purpose} key v{version}")
    return row


def data_key(company_id: int, purpose: str, version: int) -> AESGCM:
    """The AES-GCM of one key version, for decrypting (every version not destroyed)."""
    state = _state()
    found = state.deks.get((company_id, purpose, version))
    if found is None:
        found = AESGCM(_unwrap(_row(company_id, purpose, version)))
        ident = (company_id, purpose, version)
        _remember_key(ident, lambda: state.deks.__setitem__(ident, found))
    return found


def index_key(company_id: int, version: int) -> bytes:
    state = _state()
    found = state.index_keys.get((company_id, version))
    if found is None:
        from tenants.models import CompanyKey

        found = _unwrap(_row(company_id, CompanyKey.Purpose.INDEX, version))
        ident = (company_id, "index", version)
        _remember_key(ident, lambda: state.index_keys.__setitem__((company_id, version), found))
    return found


_pinned: contextvars.ContextVar[dict | None] = contextvars.ContextVar("keys_pinned", default=None)


@contextlib.contextmanager
def pinned(company_id: int):
    """Within the block, the company's active versions are read once (one batch of a rotation
    encrypts thousands of values: not one query each)."""
    from tenants.models import CompanyKey

    versions = {(company_id, p): active_version(company_id, p) for p in CompanyKey.Purpose.values}
    token = _pinned.set(versions)
    try:
        with acting_for(company_id):
            yield
    finally:
        _pinned.reset(token)


def active_version(company_id: int, purpose: str) -> int:
    """The version that encrypts now, creating version 1 on first use."""
    pins = _pinned.get()
    if pins is not None and (company_id, purpose) in pins:
        return pins[(company_id, purpose)]
    state = _state()
    cached = state.active.get((company_id, purpose))
    now = time.monotonic()
    if cached and now - cached[0] < settings.KEY_CACHE_SECONDS:
        return cached[1]
    version = _active_row(company_id, purpose).version
    ident = (company_id, purpose, version)
    _remember_key(ident, lambda: state.active.__setitem__((company_id, purpose), (now, version)))
    return version


def _active_row(company_id: int, purpose: str):
    from tenants.models import CompanyKey

    row = CompanyKey.objects.filter(company_id=company_id, purpose=purpose, state=CompanyKey.State.ACTIVE).first()
    if row is not None:
        return row
    if CompanyKey.objects.filter(company_id=company_id, state=CompanyKey.State.DESTROYED).exists():
        raise KeyDestroyed(f"company #{company_id}'s keys were destroyed at offboarding: nothing can be encrypted")
    try:
        with transaction.atomic(), public_schema():
            return key_create(company_id=company_id, purpose=purpose)
    except IntegrityError:  # another process created it first
        return CompanyKey.objects.get(company_id=company_id, purpose=purpose, state=CompanyKey.State.ACTIVE)


@contextlib.contextmanager
def public_schema():
    """Key rows are public records: their change-log entries belong in the public log, not in the
    schema of the company the connection happens to be on."""
    from django_tenants.utils import get_public_schema_name, schema_context

    if connection.schema_name == get_public_schema_name():
        yield
        return
    with schema_context(get_public_schema_name()):
        yield


def key_create(*, company_id: int, purpose: str):
    """A new active version of a purpose's key; the active one before it is retired (it still
    decrypts). Call inside a transaction."""
    from django.db.models import Max

    from tenants.models import CompanyKey

    CompanyKey.objects.filter(company_id=company_id, purpose=purpose, state=CompanyKey.State.ACTIVE).update(
        state=CompanyKey.State.RETIRED, retired_at=timezone.now()
    )
    latest = CompanyKey.objects.filter(company_id=company_id, purpose=purpose).aggregate(v=Max("version"))["v"]
    version = (latest or 0) + 1
    wrapped, kek_id = wrap(
        dek=AESGCM.generate_key(bit_length=256), company_id=company_id, purpose=purpose, version=version
    )
    ident = (company_id, purpose, version)
    _unsettled.add(ident)
    transaction.on_commit(lambda: _unsettled.discard(ident))
    return CompanyKey.objects.create(
        company_id=company_id, purpose=purpose, version=version, wrapped=wrapped, kek_id=kek_id
    )


def keys_ensure(company_id: int) -> None:
    """Every purpose's first key, at onboarding (otherwise made on first use)."""
    from tenants.models import CompanyKey

    for purpose in CompanyKey.Purpose.values:
        _active_row(company_id, purpose)


def key_rewrap(row) -> bool:
    """Wrap one key again under the first KEK; False if it already is (or is destroyed)."""
    from tenants.models import CompanyKey

    if row.state == CompanyKey.State.DESTROYED or row.kek_id == _state().wrapping:
        return False
    dek = _unwrap(row)
    row.wrapped, row.kek_id = wrap(dek=dek, company_id=row.company_id, purpose=row.purpose, version=row.version)
    row.save(update_fields=["wrapped", "kek_id"])
    return True


# Ciphertext of one field value: a header naming the format, company and key version, then the
# AES-GCM nonce and ciphertext. The header is the associated data, so it cannot be edited.
FIELD_FORMAT = 0x01
_HEADER = struct.Struct(">BII")
_FIELD = "field"


def field_encrypt(plain: bytes, *, company_id: int | None = None) -> bytes:
    company_id = company_id or company_id_for_schema()
    version = active_version(company_id, _FIELD)
    header = _HEADER.pack(FIELD_FORMAT, company_id, version)
    nonce = os.urandom(12)
    return header + nonce + data_key(company_id, _FIELD, version).encrypt(nonce, plain, header)


def header_of(token: bytes) -> tuple[int, int] | None:
    """(company id, key version) of a value in the current format, None for a legacy one."""
    if len(token) < _HEADER.size + 28 or token[0] != FIELD_FORMAT:
        return None
    _, company_id, version = _HEADER.unpack_from(token)
    return company_id, version


def field_decrypt(token: bytes) -> bytes:
    head = header_of(token)
    if head is None:
        raise KeyUnavailable("not a value in the keyed format")
    company_id, version = head
    n = _HEADER.size
    return data_key(company_id, _FIELD, version).decrypt(token[n : n + 12], token[n + 12 :], token[:n])


# Files: the same scheme under the company's file key, with a magic prefix.
FILE_MAGIC = b"VKF1"
_FILE = "file"


def file_encrypt(plain: bytes, *, company_id: int | None = None) -> bytes:
    company_id = company_id or company_id_for_schema()
    version = active_version(company_id, _FILE)
    header = FILE_MAGIC + struct.pack(">II", company_id, version)
    nonce = os.urandom(12)
    return header + nonce + data_key(company_id, _FILE, version).encrypt(nonce, plain, header)


def file_header_of(token: bytes) -> tuple[int, int] | None:
    if len(token) < 12 + 28 or not token.startswith(FILE_MAGIC):
        return None
    return struct.unpack_from(">II", token, 4)


def file_decrypt(token: bytes) -> bytes:
    head = file_header_of(token)
    if head is None:
        raise KeyUnavailable("not a file in the keyed format")
    company_id, version = head
    return data_key(company_id, _FILE, version).decrypt(token[12:24], token[24:], token[:12])


def keys_destroyed(*, company_id: int):
    """When the company's keys were crypto-shredded, or None if they were not."""
    from django.db.models import Max

    from tenants.models import CompanyKey

    return CompanyKey.objects.filter(company_id=company_id, state=CompanyKey.State.DESTROYED).aggregate(
        at=Max("destroyed_at")
    )["at"]


def keys_destroy(*, company_id: int) -> list[str]:
    """Crypto-shred: overwrite every key of the company, all purposes and versions, so nothing it
    encrypted (rows, files, every backup ever taken) can be decrypted again. Each key's change-log
    entry records when and which version; the caller's change_log_actor names who. Returns the
    versions destroyed ("field v1", ...)."""
    from tenants.models import CompanyKey

    destroyed = []
    now = timezone.now()
    with public_schema():
        for row in (
            CompanyKey.objects.select_for_update()
            .filter(company_id=company_id)
            .exclude(state=CompanyKey.State.DESTROYED)
        ):
            row.wrapped, row.state, row.destroyed_at = None, CompanyKey.State.DESTROYED, now
            row.save(update_fields=["wrapped", "state", "destroyed_at"])
            destroyed.append(f"{row.purpose} v{row.version}")
        if not destroyed:  # a company that never had a key still gets its "nothing can be made" mark
            CompanyKey.objects.create(
                company_id=company_id,
                purpose=CompanyKey.Purpose.FIELD,
                version=1,
                state=CompanyKey.State.DESTROYED,
                destroyed_at=now,
            )
    transaction.on_commit(cache_clear)
    return destroyed


SHREDDING_STATEMENT = (
    "Each company's personal fields, audio files and blind indexes are encrypted under its own data keys, "
    "wrapped by a key-encryption key kept outside the database. When the service ends, the company's data is "
    "deleted and then its keys are destroyed (crypto-shredding, Art. 28(3)(g)): every backup of it, wherever "
    "it lies, can no longer be decrypted. The public change log records who did it, when, and which key versions."
)


def keys_summary(*, company_id: int) -> list[dict]:
    """Each key version of the company: purpose, state and dates (never the key itself)."""
    from tenants.models import CompanyKey

    return [
        {
            "purpose": k.purpose,
            "version": k.version,
            "state": k.state,
            "created_at": k.created_at.isoformat(timespec="seconds"),
            "retired_at": k.retired_at.isoformat(timespec="seconds") if k.retired_at else None,
            "destroyed_at": k.destroyed_at.isoformat(timespec="seconds") if k.destroyed_at else None,
        }
        for k in CompanyKey.objects.filter(company_id=company_id).order_by("purpose", "version")
    ]
