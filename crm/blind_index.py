"""Keyed HMAC blind indexes: exact-match lookups on encrypted columns without decrypting any.

"Who is calling from +372…?" becomes one indexed equality on `phone_bidx`; the portal's name
search is one on `name_bidx` (the whole normalised name: exact matches only, never a prefix). The key is
the company's own index key (tenants/keys.py), so one number in two companies gives two unrelated
indexes; `manage.py reindex_contacts` (and `rotate_keys`, in the same run) recomputes every index.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import unicodedata

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext

from tenants import keys
from tenants.errors import ApplicationError


@functools.cache
def _key(secret: bytes | str) -> bytes:
    # django-cryptography replaces CRYPTOGRAPHY_KEY with its PBKDF2-derived bytes at start-up.
    material = secret if isinstance(secret, bytes) else secret.encode()
    return hmac.new(material, b"vastaja blind index v1", hashlib.sha256).digest()


def blind_index(value: str, *, company_id: int | None = None) -> str:
    """The hex HMAC-SHA256 of a normalised value under the company's index key (the company whose
    schema the connection is on), or "" for an empty one."""
    if not value:
        return ""
    company_id = company_id or keys.company_id_for_schema()
    key = keys.index_key(company_id, keys.active_version(company_id, "index"))
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


_COMPANY = object()  # phone_normalise's default region: the connection's company's


def phone_normalise(raw: str, *, region: str | object | None = _COMPANY, field: str = "phone_number") -> str:
    """E.164 form of a phone number, or a field error that names the number. People type numbers
    the local way (`5123 4501`): without a country code, a number is read in `region`, by
    default the company's (from its time zone), so an Estonian company's callers need no +372."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    if region is _COMPANY:
        region = company_region()
    not_a_number = gettext("'%(value)s' is not a phone number (use E.164, such as +3725551234)") % {"value": raw}
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ApplicationError(not_a_number, field=field) from None
    if not phonenumbers.is_valid_number(parsed):
        if not raw.startswith("+"):
            raise ApplicationError(not_a_number, field=field)
        raise ApplicationError(gettext("'%(value)s' is not a valid phone number") % {"value": raw}, field=field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@functools.cache
def region_for_zone(zone: str) -> str | None:
    """The country (ISO 3166 alpha-2) of an IANA time zone, from the tz database's zone.tab, so a
    company in Europe/Tallinn parses local numbers such as 5123 4501 as Estonian. None for a zone
    no country lists (UTC): then only international numbers parse."""
    from importlib import resources

    try:
        table = resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        return None
    for row in table.splitlines():
        fields = row.split("\t")
        if len(fields) >= 3 and not row.startswith("#") and fields[2] == zone:
            return fields[0]
    return None


def company_region() -> str | None:
    """The region local numbers are parsed with: the connection's company's, by its time zone."""
    from django.db import connection

    return region_for_zone(getattr(connection.tenant, "time_zone", "") or "")


def name_normalise(raw: str) -> str:
    """A name as the name search compares it: Unicode-normalised (NFKC), case-folded, and with
    runs of spaces collapsed, so "Mari  TAMM" and "mari tamm" index alike."""
    return " ".join(unicodedata.normalize("NFKC", raw or "").casefold().split())


def email_normalise(raw: str, *, field: str = "email") -> str:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    value = (raw or "").strip()
    if not value:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        message = gettext("'%(value)s' is not an e-mail address") % {"value": value}
        raise ApplicationError(message, field=field) from None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def pseudonym(value: str, *, schema: str) -> str:
    """A per-company keyed pseudonym for analytics: the same caller gets the same pseudonym within
    one company, and different, unlinkable ones across companies; no number can be read back."""
    if not value:
        return ""
    company_key = hmac.new(_key(settings.CRYPTOGRAPHY_KEY), f"pseudonym:{schema}".encode(), hashlib.sha256).digest()
    return hmac.new(company_key, value.encode(), hashlib.sha256).hexdigest()
