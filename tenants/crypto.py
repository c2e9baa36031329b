"""The encrypted model field: a text value, AES-GCM-encrypted under the data key of the company
whose schema the connection is on (tenants/keys.py), with a header naming that key's version.

Why not django-cryptography: its field holds one key per field, fixed at import, and stores a
pickle; a per-company key chosen per row and a versioned header are not something it can take.
Values written by it before the keys existed (a Fernet token of a pickled str) are still read,
through an unpickler that accepts nothing but plain values, until `rotate_keys` rewrites them.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

from django.db import models
from django.utils.encoding import force_bytes
from django.utils.translation import gettext_lazy as _

from tenants import keys


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module, name):  # a str, int or None needs no class: anything else is refused
        raise pickle.UnpicklingError(f"legacy value names {module}.{name}: refused")


def legacy_decrypt(token: bytes) -> Any:
    """A value written by django-cryptography under FIELD_ENCRYPTION_KEY."""
    from django_cryptography.utils.crypto import FernetBytes

    return _PlainUnpickler(io.BytesIO(FernetBytes().decrypt(token))).load()


def value_decrypt(token: bytes) -> str:
    token = bytes(token)
    if keys.header_of(token) is None:
        return legacy_decrypt(token)
    return keys.field_decrypt(token).decode()


def value_encrypt(value: str, *, company_id: int | None = None) -> bytes:
    return keys.field_encrypt(str(value).encode(), company_id=company_id)


class EncryptedMixin(models.Field):
    """Stores the base field's value encrypted (bytea); only `isnull` can be looked up."""

    supported_lookups = ("isnull",)

    def _description(self) -> str:
        return _("Encrypted %s") % super().description

    description = property(_description)  # type: ignore[assignment]

    def check(self, **kwargs):
        from django.core import checks

        errors = super().check(**kwargs)
        if getattr(self, "remote_field", None):
            errors.append(checks.Error("an encrypted field cannot be a relation", obj=self, id="vastaja.E020"))
        return errors

    def clone(self):
        _, _, args, kwargs = super().deconstruct()
        return encrypt(self.base_class(*args, **kwargs))

    def deconstruct(self):
        name, _, args, kwargs = super().deconstruct()
        return name, f"{encrypt.__module__}.{encrypt.__name__}", [self.base_class(*args, **kwargs)], {}

    def get_lookup(self, lookup_name):
        return super().get_lookup(lookup_name) if lookup_name in self.supported_lookups else None

    def get_transform(self, lookup_name):
        return super().get_transform(lookup_name) if lookup_name in self.supported_lookups else None

    def get_internal_type(self) -> str:
        return "BinaryField"

    def db_type(self, connection):
        return "bytea"

    def get_db_prep_value(self, value, connection, prepared=False):
        value = models.Field.get_db_prep_value(self, value, connection, prepared)
        if value is None:
            return None
        return connection.Database.Binary(value_encrypt(value))

    get_db_prep_save = models.Field.get_db_prep_save

    def _load(self, value: bytes) -> str:
        """The one place a stored value is decrypted (tests count its calls)."""
        return value_decrypt(value)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return self._load(force_bytes(value))


_FIELD_CLASSES: dict[type, type] = {}


def encrypt(base_field: models.Field) -> models.Field:
    """`encrypt(models.CharField(max_length=200))`: the same field, encrypted at rest."""
    base = type(base_field)
    cls = _FIELD_CLASSES.get(base)
    if cls is None:
        cls = _FIELD_CLASSES.setdefault(
            base, type(f"Encrypted{base.__name__}", (EncryptedMixin, base), {"base_class": base})
        )
    _, _, args, kwargs = base_field.deconstruct()
    return cls(*args, **kwargs)


def encrypted_fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]
