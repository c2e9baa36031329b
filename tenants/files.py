"""Encrypted files through Django's storage API: what reaches the disk (or the bucket) is
ciphertext only, under the company's own file key (tenants/keys.py). Used for voicemail and call
recordings. Files written before per-company keys (Fernet under FIELD_ENCRYPTION_KEY) still read."""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import hmac
import uuid

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tenants import keys


class StorageUnavailable(Exception):
    """The file storage (the local disk, or the bucket) did not answer: nothing was stored or read.
    A missing file is not this: it stays FileNotFoundError."""


@contextlib.contextmanager
def _storage_call(action: str, name: str):
    try:
        yield
    except FileNotFoundError:
        raise
    except (OSError, BotoCoreError, ClientError) as exc:
        raise StorageUnavailable(f"the file storage could not {action} {name}: {type(exc).__name__}") from exc


@functools.cache
def _fernet(secret: bytes | str) -> Fernet:
    material = secret if isinstance(secret, bytes) else secret.encode()
    key = hmac.new(material, b"vastaja file encryption v1", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


# Which columns of which tenant models name a stored file: backups carry those files along with the
# rows, and a restore writes back only the ones still named. Declared next to the models.
_FILE_FIELDS: dict[type, tuple[str, ...]] = {}


def stored_files(model: type, *fields: str) -> None:
    """Declare that these columns of `model` hold storage names of encrypted files."""
    _FILE_FIELDS[model] = tuple(dict.fromkeys((*_FILE_FIELDS.get(model, ()), *fields)))


def stored_file_fields() -> dict[type, tuple[str, ...]]:
    """Every model with file columns, and those columns."""
    return dict(_FILE_FIELDS)


# The kinds of file a company's own folder holds (`<kind>/<schema>/`): audio, and access exports.
COMPANY_FOLDER_KINDS = ("audio", "dsr")


def company_folder(kind: str, schema: str) -> str:
    """Where a company's files of one kind are stored: every name under it is that company's."""
    assert kind in COMPANY_FOLDER_KINDS, kind
    return f"{kind}/{schema}"


def company_folder_files(schema: str) -> set[str]:
    """Every file in the company's own folders, whether a row names it or not (one a crash left
    between storing and its row): what offboarding deletes beside the named ones."""
    names: set[str] = set()
    for kind in COMPANY_FOLDER_KINDS:
        folder = company_folder(kind, schema)
        try:
            with _storage_call("list", folder):
                _folders, files = default_storage.listdir(folder)
        except FileNotFoundError:  # the local disk has no such folder yet
            continue
        names.update(f"{folder}/{name}" for name in files)
    return names


def encrypted_file_save(*, folder: str, content: bytes) -> str:
    """Encrypt `content` and store it; returns the storage name."""
    token = keys.file_encrypt(content)
    name = f"{folder}/{uuid.uuid4().hex}.enc"
    with _storage_call("store", name):
        return default_storage.save(name, ContentFile(token))


def encrypted_file_read(name: str) -> bytes:
    """The decrypted file. FileNotFoundError if storage does not have it, StorageUnavailable if
    storage does not answer, ValueError if it cannot be decrypted."""
    with _storage_call("read", name), default_storage.open(name, "rb") as handle:
        token = handle.read()
    return token_decrypt(token, name=name)


def token_decrypt(token: bytes, *, name: str = "the file") -> bytes:
    if keys.file_header_of(token) is not None:
        try:
            return keys.file_decrypt(token)
        except keys.KeyUnavailable as exc:
            raise ValueError(f"{name} cannot be decrypted: {exc}") from None
        except InvalidTag:
            raise ValueError(f"{name} cannot be decrypted: it was altered") from None
    try:
        return _fernet(settings.CRYPTOGRAPHY_KEY).decrypt(token)
    except InvalidToken:
        raise ValueError(f"{name} cannot be decrypted with the current key") from None


def encrypted_file_delete(name: str) -> None:
    """Delete a stored file; one already gone is fine. StorageUnavailable if storage does not answer."""
    if name:
        with _storage_call("delete", name):
            default_storage.delete(name)
