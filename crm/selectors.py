"""Reads on the caller CRM."""

from __future__ import annotations

import functools
import re
from collections.abc import Collection

from django.db.models import Q, QuerySet

from crm.blind_index import blind_index, email_normalise, name_normalise, phone_normalise
from crm.models import ConsentRecord, Contact, ContactPhone
from tenants.errors import ApplicationError

# Looks like a phone number: digits with the usual separators, at least five digits.
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{5,}$")


def contact_list() -> QuerySet[Contact]:
    """The company's contacts, newest first; merged duplicates are left out (they point at the
    contact kept)."""
    return Contact.objects.filter(merged_into__isnull=True).order_by("-created_at", "-pk")


def contact_search_kind(*, query: str) -> str:
    """What `contact_search` matches `query` against: "phone", "email" or "name" (the whole name),
    so that a screen can say which."""
    query = (query or "").strip()
    if _PHONE_LIKE.match(query):
        return "phone"
    return "email" if "@" in query else "name"


def contact_search(*, query: str) -> QuerySet[Contact]:
    """Contacts matching `query` exactly, found through the blind indexes (nothing is decrypted to
    search, and nothing is matched with SQL LIKE, since the columns hold ciphertext):

    - a phone number (any spelling; E.164 once normalised), on the main or a further number;
    - an e-mail address (the domain case-insensitive);
    - otherwise the whole name, case- and spacing-insensitive ("mari tamm" finds "Mari Tamm";
      "Mari" alone does not: a part of a name would need an index of name parts, which would
      tell far more about the names than an exact one).

    A query that looks like a number but is not a valid one is a field error naming it.
    """
    query = (query or "").strip()
    if not query:
        return contact_list()
    return contact_list().filter(contact_search_filter(query=query))


SEARCH_FIELDS = ("name", "phone_number", "email")


def contact_search_filter(*, query: str, fields: Collection[str] = SEARCH_FIELDS) -> Q:
    """The condition `contact_search` applies to `query`, on `fields` only: a query of a kind whose
    field is not among them (a number, where numbers may not be read) matches nothing, rather than
    confirming through a match what the person may not read. A query that looks like a number but
    is not a valid one is a field error naming it."""
    query = query.strip()
    kind = contact_search_kind(query=query)
    if kind == "phone":
        if "phone_number" not in fields:
            return Q(pk__in=[])
        digest = blind_index(phone_normalise(query, field="q"))
        further = ContactPhone.objects.filter(number_bidx=digest).values("contact_id")
        return Q(phone_bidx=digest) | Q(pk__in=further)
    if kind == "email":
        if "email" not in fields:
            return Q(pk__in=[])
        email = email_normalise(query, field="q")
        return Q(email_bidx=blind_index(email.lower()))
    return Q(name_bidx=blind_index(name_normalise(query))) if "name" in fields else Q(pk__in=[])


def consent_history(*, contact: Contact) -> QuerySet[ConsentRecord]:
    """Every consent given or withdrawn by the contact, newest first, with who recorded it."""
    return ConsentRecord.objects.filter(contact=contact).select_related("recorded_by").order_by("-recorded_at", "-pk")


def contact_find_by_phone(*, number: str) -> Contact | None:
    """Who is calling from this number? One indexed equality on the blind index; nothing is
    decrypted to find it. Merged duplicates lead to the contact they were merged into."""
    contact_id = contact_id_find_by_phone(number=number)
    return None if contact_id is None else Contact.objects.get(pk=contact_id)


def contact_id_find_by_phone(*, number: str) -> int | None:
    """`contact_find_by_phone`, for callers that need only the id: nothing is loaded or decrypted."""
    try:
        normalised = phone_normalise(number)
    except ApplicationError:
        return None
    if not normalised:
        return None
    digest = blind_index(normalised)
    # Two indexed equalities rather than one OR: an OR with a join would scan the table.
    contact_id = (
        Contact.objects.filter(phone_bidx=digest, merged_into__isnull=True).order_by("pk").values_list("pk", flat=True)
    ).first()
    if contact_id is None:
        contact_id = (
            Contact.objects.filter(phones__number_bidx=digest, merged_into__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
    return contact_id


@functools.cache
def _contact_id_probes() -> tuple[str, str]:
    """The SQL of `contact_id_find_by_phone`'s two probes, compiled once per process: it is the
    same text for every number and company (the schema is the connection's search path)."""
    compiled = []
    for queryset in (
        Contact.objects.filter(phone_bidx="?", merged_into__isnull=True),
        Contact.objects.filter(phones__number_bidx="?", merged_into__isnull=True),
    ):
        sql, params = queryset.order_by("pk").values_list("pk", flat=True)[:1].query.sql_with_params()
        if list(params) != ["?"]:  # a change of the query's shape must not bind the wrong values
            raise RuntimeError(f"unexpected parameters in the caller probe: {params!r}")
        compiled.append(sql)
    return compiled[0], compiled[1]


def contact_id_probe(*, number: str) -> tuple[str, list[str]]:
    """`contact_id_find_by_phone` as one SQL expression and its parameters, for the statement that
    writes the id (the inbound call's INSERT), so the lookup costs no round trip of its own: the
    same two indexed probes by blind index, the contact kept over a merged one. `NULL` for a
    number that is none."""
    try:
        normalised = phone_normalise(number)
    except ApplicationError:
        return "NULL", []
    if not normalised:
        return "NULL", []
    digest = blind_index(normalised)
    by_contact, by_phone = _contact_id_probes()
    return f"COALESCE(({by_contact}), ({by_phone}))", [digest, digest]


def consent_current(*, contact: Contact, purpose: str) -> ConsentRecord | None:
    """The latest consent entry for a purpose: granted, withdrawn, or None if never asked."""
    return ConsentRecord.objects.filter(contact=contact, purpose=purpose).order_by("-recorded_at", "-pk").first()
