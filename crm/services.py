"""Writes on the caller CRM. Numbers are normalised to E.164 before they are stored.

The rules of a contact's fields live here, once: every channel (the portal, the API, the desk, a
data-subject rectification) hands the person's input to `contact_create` or `contact_update` and
shows the error it raises, so each channel refuses the same input with the same words. Channels
check only the shape of the input.

Every write runs in a transaction under `change_log_actor`, so the change log names who made it.
They are not durable: other services build on them (a rectification, the desk's answer to a
call, a merge), inside their own transactions. The blind indexes are kept by `Contact.save`, so
that no write path, the admin's included, can leave them behind the values.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from crm.blind_index import email_normalise, phone_normalise
from crm.models import ConsentRecord, Contact, ContactMerge, ContactPhone, LawfulBasis
from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.models import User

EDITABLE = ("name", "phone_number", "email", "address", "notes", "health_notes", "lawful_basis")
LIMITS = {
    "name": 200,
    "phone_number": 40,
    "email": 254,
    "address": 2000,
    "notes": 10000,
    "health_notes": 10000,
}


def contact_create(
    *,
    name: str,
    actor: User | None,
    phone_number: str = "",
    email: str = "",
    address: str = "",
    notes: str = "",
    health_notes: str = "",
    lawful_basis: str = LawfulBasis.LEGITIMATE_INTERESTS,
    restricted: bool = False,
) -> Contact:
    """Create a caller record; a malformed number or address is a field error naming it."""
    values = contact_fields_clean(
        name=name,
        phone_number=phone_number,
        email=email,
        address=address,
        notes=notes,
        health_notes=health_notes,
        lawful_basis=lawful_basis,
    )
    with transaction.atomic(), change_log_actor(actor):
        return Contact.objects.create(**values, restricted=restricted)


def contact_update(*, contact: Contact, actor: User | None, **fields) -> Contact:
    """Change a contact's details. Only what differs from what is stored is written (and logged);
    an erased or merged contact cannot be changed."""
    contact_editable_check(contact=contact)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ApplicationError(
            _("cannot change %(fields)s") % {"fields": ", ".join(sorted(unknown))}, field=sorted(unknown)[0]
        )
    values = contact_fields_clean(**fields)
    # A field the caller's query left deferred (masked for them) is not read to compare it.
    deferred = contact.get_deferred_fields()
    changed = [name for name, value in values.items() if name in deferred or getattr(contact, name) != value]
    if changed:
        with transaction.atomic(), change_log_actor(actor):
            for name in changed:
                setattr(contact, name, values[name])
            contact.save(update_fields=changed)
    return contact


def contact_editable_check(*, contact: Contact) -> None:
    """Refuse to change a contact whose data was erased or that was merged into another."""
    if contact.anonymised_at or contact.merged_into_id:
        raise ApplicationError(_("this contact was erased or merged and cannot be changed"), code="not_editable")


def contact_fields_clean(**fields: str) -> dict[str, str]:
    """The values of a contact's fields as they are stored, or the first rule broken, as an
    ApplicationError naming the field. The checks run in one order, so every channel meets the
    same first error."""
    for field, value in fields.items():
        if field in LIMITS and value and len(value) > LIMITS[field]:
            message = _("%(field)s is limited to %(limit)s characters") % {
                "field": field,
                "limit": f"{LIMITS[field]:,}",
            }
            raise ApplicationError(message, field=field)
    values = dict(fields)
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            raise ApplicationError(_("a contact needs a name"), field="name")
    if "lawful_basis" in values and values["lawful_basis"] not in LawfulBasis.values:
        raise ApplicationError(
            _("'%(value)s' is not a lawful basis") % {"value": values["lawful_basis"]}, field="lawful_basis"
        )
    if "phone_number" in values:
        values["phone_number"] = phone_normalise(values["phone_number"])
    if "email" in values:
        values["email"] = email_normalise(values["email"])
    return values


def contact_phone_add(*, contact: Contact, number: str, label: str = "", actor: User | None) -> ContactPhone:
    """Add a further number to a contact (the first is `Contact.phone_number`)."""
    number = phone_normalise(number, field="number")
    with transaction.atomic(), change_log_actor(actor):
        return ContactPhone.objects.create(contact=contact, number=number, label=label)


def consent_record(
    *, contact: Contact, purpose: str, granted: bool, method: str, actor: User | None, evidence: str = ""
) -> ConsentRecord:
    """Record a consent or its withdrawal as a new entry of the contact's consent history."""
    if method not in ConsentRecord.Method.values:
        raise ApplicationError(_("'%(value)s' is not a way of recording consent") % {"value": method}, field="method")
    if not purpose.strip():
        raise ApplicationError(_("a consent is given for a purpose"), field="purpose")
    with transaction.atomic(), change_log_actor(actor):
        return ConsentRecord.objects.create(
            contact=contact,
            purpose=purpose.strip(),
            granted=granted,
            method=method,
            evidence=evidence,
            recorded_by=actor,
        )


def contact_merge_begin(*, keep: Contact, duplicate: Contact) -> None:
    """Lock both contacts for a merge and check that it may go ahead. Runs inside the merge's
    transaction (see answering.contacts.contact_merge, which also moves what the rooms above the
    CRM hold of the duplicate: calls, messages, appointments)."""
    if keep.pk == duplicate.pk:
        raise ApplicationError(_("a contact cannot be merged into itself"), field="duplicate")
    locked = Contact.objects.select_for_update().filter(pk__in=[keep.pk, duplicate.pk]).order_by("pk")
    if any(merged_into is not None for merged_into in locked.values_list("merged_into", flat=True)):
        raise ApplicationError(_("one of these contacts was already merged"), field="duplicate")


def contact_absorb(*, keep: Contact, duplicate: Contact, actor: User | None, moved: dict[str, int]) -> ContactMerge:
    """The CRM's half of a merge: the duplicate's numbers and consents move to the contact kept,
    empty fields of the kept contact are filled from it, and the duplicate stays as a record that
    points at the one kept, so the trail survives. `moved` counts what the caller moved already.
    Every row moved is saved, so each move is in the change log."""
    with transaction.atomic(), change_log_actor(actor):
        contact_merge_begin(keep=keep, duplicate=duplicate)
        moved = {
            **moved,
            "phones": contact_repoint(queryset=ContactPhone.objects.filter(contact=duplicate), keep=keep),
            "consents": contact_repoint(queryset=ConsentRecord.objects.filter(contact=duplicate), keep=keep),
        }
        changed = []
        for field in ("phone_number", "email", "address", "notes", "health_notes"):
            if not getattr(keep, field) and getattr(duplicate, field):
                setattr(keep, field, getattr(duplicate, field))
                changed.append(field)
        if duplicate.phone_number and duplicate.phone_number != keep.phone_number:
            ContactPhone.objects.create(contact=keep, number=duplicate.phone_number, label="from merged contact")
            moved["phones"] += 1
        if changed:
            keep.save(update_fields=changed)
        duplicate.merged_into = keep
        duplicate.save(update_fields=["merged_into"])
        return ContactMerge.objects.create(kept=keep, merged=duplicate, moved=moved, merged_by=actor)


def contact_repoint(*, queryset: QuerySet, keep: Contact) -> int:
    """Point each row of `queryset` (rows with a `contact`) at the contact kept, one save per row so
    that the change log gets every move (never an .update()); returns how many moved."""
    rows = list(queryset.select_for_update().order_by("pk"))
    for row in rows:
        row.contact = keep
        row.save(update_fields=["contact"])
    return len(rows)
