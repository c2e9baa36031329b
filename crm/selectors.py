"""Reads on the caller CRM."""

from __future__ import annotations

from crm.blind_index import blind_index, phone_normalise
from crm.models import ConsentRecord, Contact
from tenants.errors import ApplicationError


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


def consent_current(*, contact: Contact, purpose: str) -> ConsentRecord | None:
    """The latest consent entry for a purpose: granted, withdrawn, or None if never asked."""
    return ConsentRecord.objects.filter(contact=contact, purpose=purpose).order_by("-recorded_at", "-pk").first()
