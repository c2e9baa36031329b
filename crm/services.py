"""Writes on the caller CRM. Numbers are normalised to E.164 before they are stored."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from crm.blind_index import email_normalise, phone_normalise
from crm.models import ConsentRecord, Contact, ContactMerge, ContactPhone, LawfulBasis
from tenants.errors import ApplicationError
from tenants.models import User

LIMITS = {"name": 200, "address": 2000, "notes": 10000, "health_notes": 10000}


def contact_create(
    *,
    name: str,
    actor: User | None,
    phone_number: str = "",
    email: str = "",
    address: str = "",
    notes: str = "",
    lawful_basis: str = LawfulBasis.LEGITIMATE_INTERESTS,
    restricted: bool = False,
) -> Contact:
    """Create a caller record; a malformed number or address is a field error naming it."""
    if not name.strip():
        raise ApplicationError(_("a contact needs a name"), field="name")
    _check_lengths(name=name, address=address, notes=notes)
    if lawful_basis not in LawfulBasis.values:
        raise ApplicationError(_("'%(value)s' is not a lawful basis") % {"value": lawful_basis}, field="lawful_basis")
    return Contact.objects.create(
        name=name.strip(),
        phone_number=phone_normalise(phone_number),
        email=email_normalise(email),
        address=address,
        notes=notes,
        lawful_basis=lawful_basis,
        restricted=restricted,
    )


def contact_update(*, contact: Contact, actor: User | None, **fields) -> Contact:
    allowed = {"name", "phone_number", "email", "address", "notes", "health_notes", "lawful_basis"}
    unknown = set(fields) - allowed
    if unknown:
        raise ApplicationError(f"cannot change {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    _check_lengths(**{k: v for k, v in fields.items() if k in LIMITS})
    if "phone_number" in fields:
        fields["phone_number"] = phone_normalise(fields["phone_number"])
    if "email" in fields:
        fields["email"] = email_normalise(fields["email"])
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.save(update_fields=list(fields))
    return contact


def contact_phone_add(*, contact: Contact, number: str, label: str = "", actor: User | None) -> ContactPhone:
    return ContactPhone.objects.create(contact=contact, number=phone_normalise(number, field="number"), label=label)


def consent_record(
    *, contact: Contact, purpose: str, granted: bool, method: str, actor: User | None, evidence: str = ""
) -> ConsentRecord:
    """Record a consent or its withdrawal as a new entry of the contact's consent history."""
    if method not in ConsentRecord.Method.values:
        raise ApplicationError(_("'%(value)s' is not a way of recording consent") % {"value": method}, field="method")
    if not purpose.strip():
        raise ApplicationError(_("a consent is given for a purpose"), field="purpose")
    return ConsentRecord.objects.create(
        contact=contact, purpose=purpose.strip(), granted=granted, method=method, evidence=evidence, recorded_by=actor
    )


@transaction.atomic
def contact_merge(*, keep: Contact, duplicate: Contact, actor: User | None) -> Contact:
    """Merge a duplicate into the contact kept: its calls, appointments, numbers and consents move,
    empty fields of the kept contact are filled from it, and the duplicate stays as a record that
    points at the one kept, so the trail survives."""
    from answering.models import Call
    from scheduling.models import Appointment

    if keep.pk == duplicate.pk:
        raise ApplicationError("a contact cannot be merged into itself", field="duplicate")
    if duplicate.merged_into_id is not None or keep.merged_into_id is not None:
        raise ApplicationError("one of these contacts was already merged", field="duplicate")
    moved = {
        "calls": Call.objects.filter(contact=duplicate).update(contact=keep),
        "appointments": Appointment.objects.filter(contact=duplicate).update(contact=keep),
        "phones": ContactPhone.objects.filter(contact=duplicate).update(contact=keep),
        "consents": ConsentRecord.objects.filter(contact=duplicate).update(contact=keep),
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
    ContactMerge.objects.create(kept=keep, merged=duplicate, moved=moved, merged_by=actor)
    return keep


def _check_lengths(**values: str) -> None:
    for field, value in values.items():
        if value and len(value) > LIMITS[field]:
            message = _("%(field)s is limited to %(limit)s characters") % {
                "field": field,
                "limit": f"{LIMITS[field]:,}",
            }
            raise ApplicationError(message, field=field)
