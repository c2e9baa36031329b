"""Encrypted files through Django's storage API: what reaches the disk (or the bucket) is
ciphertext only, under the company's own file key (tenants/keys.py). Used for voicemail and call
recordings. Files written before per-company keys (Fernet under FIELD_ENCRYPTION_KEY) still read."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tenants import keys


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


def encrypted_file_save(*, folder: str, content: bytes) -> str:
    """Encrypt `content` and store it; returns the storage name."""
    token = keys.file_encrypt(content)
    return default_storage.save(f"{folder}/{uuid.uuid4().hex}.enc", ContentFile(token))


def encrypted_file_read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
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
    if name:
        default_storage.delete(name)
