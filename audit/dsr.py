"""Data-subject requests: find the person by their number and address (blind indexes), then give
them everything that is theirs, or erase it except what a legal hold keeps, and say what was kept."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import DataSubjectRequest, LegalHold
from crm.blind_index import blind_index, email_normalise, phone_normalise
from crm.models import Contact
from gates.context import system_context
from operations.backups.erasures import erased_files_delete, erasure_apply
from operations.backups.models import ErasureRecord
from tenants.errors import ApplicationError
from tenants.files import company_folder, encrypted_file_read, encrypted_file_save
from tenants.models import User

ONE_MONTH = dt.timedelta(days=30)


def dsr_open(*, kind: str, actor: User, phone_number: str = "", email: str = "") -> DataSubjectRequest:
    if kind not in DataSubjectRequest.Kind.values:
        raise ApplicationError(
            _("'%(kind)s' is not a kind of request (access, rectification, erasure)") % {"kind": kind}, field="kind"
        )
    phone, address = phone_normalise(phone_number), email_normalise(email)
    if not phone and not address:
        raise ApplicationError(_("give the data subject's phone number or e-mail address"), field="phone_number")
    now = timezone.now()
    return DataSubjectRequest.objects.create(
        kind=kind, phone_number=phone, email=address, raised_by=actor, raised_at=now, due_at=now + ONE_MONTH
    )


def dsr_subjects(request: DataSubjectRequest) -> list[Contact]:
    """Every contact record that is this person: by number (any of theirs) or by address."""
    ids = set()
    if request.phone_number:
        digest = blind_index(request.phone_number)
        ids |= set(Contact.objects.filter(phone_bidx=digest).values_list("pk", flat=True))
        ids |= set(Contact.objects.filter(phones__number_bidx=digest).values_list("pk", flat=True))
    if request.email:
        ids |= set(Contact.objects.filter(email_bidx=blind_index(request.email.lower())).values_list("pk", flat=True))
    # Duplicates merged into one of these are the same person too.
    ids |= set(Contact.objects.filter(merged_into__in=ids).values_list("pk", flat=True))
    return list(Contact.objects.filter(pk__in=ids).order_by("pk"))


def dsr_access(*, request: DataSubjectRequest, actor: User) -> DataSubjectRequest:
    """A ZIP of every record of the person, as JSON, with their voicemail and recording audio."""
    from answering.models import Call, Message, Recording, Voicemail
    from scheduling.models import Appointment

    contacts = dsr_subjects(request)
    ids = [c.pk for c in contacts]
    calls = list(Call.objects.filter(contact__in=ids).select_related("line"))
    data = {
        "request": {"id": request.pk, "company": connection.tenant.name, "made": timezone.now().isoformat()},
        "contacts": [
            {
                "id": c.pk,
                "name": c.name,
                "phone_number": c.phone_number,
                "email": c.email,
                "address": c.address,
                "notes": c.notes,
                "health_notes": c.health_notes,
                "lawful_basis": c.lawful_basis,
                "other_numbers": [p.number for p in c.phones.all()],
                "consents": [
                    {
                        "purpose": r.purpose,
                        "granted": r.granted,
                        "method": r.method,
                        "recorded_at": r.recorded_at.isoformat(),
                    }
                    for r in c.consents.all()
                ],
            }
            for c in contacts
        ],
        "calls": [
            {
                "id": call.pk,
                "line": call.line.name,
                "started_at": call.started_at.isoformat(),
                "caller_number": call.caller_number,
                "caller_name": call.caller_name,
                "notes": call.notes,
                "status": call.status,
            }
            for call in calls
        ],
        "messages": [
            {
                "id": m.pk,
                "created_at": m.created_at.isoformat(),
                "caller_name": m.caller_name,
                "caller_number": m.caller_number,
                "body": m.body,
                "answers": m.answers,
            }
            for m in Message.objects.filter(contact__in=ids)
        ],
        "appointments": [
            {
                "id": a.pk,
                "service": a.service.name,
                "starts_at": a.starts_at.isoformat(),
                "status": a.status,
                "notes": a.notes,
            }
            for a in Appointment.objects.filter(contact__in=ids).select_related("service")
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("records.json", json.dumps(data, indent=2, ensure_ascii=False))
        for kind, rows in (
            ("voicemail", Voicemail.objects.filter(call__in=calls).exclude(audio="")),
            ("recording", Recording.objects.filter(call__in=calls).exclude(audio="")),
        ):
            for row in rows:
                archive.writestr(f"audio/{kind}-{row.recording_sid}.wav", encrypted_file_read(row.audio))
    with transaction.atomic():
        request.export_file = encrypted_file_save(
            folder=company_folder("dsr", connection.schema_name), content=buffer.getvalue()
        )
        request.result = {
            "contacts": len(contacts),
            "calls": len(calls),
            "messages": len(data["messages"]),
            "appointments": len(data["appointments"]),
            "contact_ids": ids,
        }
        request.status = DataSubjectRequest.Status.DONE
        request.completed_at = timezone.now()
        request.save(update_fields=["export_file", "result", "status", "completed_at"])
    return request


def dsr_erase(*, request: DataSubjectRequest, actor: User) -> DataSubjectRequest:
    """Erase the person: anonymise their records, delete their audio, keep non-personal stubs for
    statistics. A legal hold on them refuses the erasure, with the hold's reason."""
    from answering.models import Call, Message, Recording, Voicemail
    from crm.models import ConsentRecord, ContactPhone
    from scheduling.models import Appointment

    contacts = dsr_subjects(request)
    ids = [c.pk for c in contacts]
    holds = list(LegalHold.objects.filter(contact__in=ids, expires_at__gt=timezone.now()))
    if holds:
        reasons = "; ".join(f"{h.reason} (until {h.expires_at:%Y-%m-%d})" for h in holds)
        request.status = DataSubjectRequest.Status.REFUSED
        request.result = {"refused": f"under legal hold: {reasons}"}
        request.completed_at = timezone.now()
        request.save(update_fields=["status", "result", "completed_at"])
        raise ApplicationError(
            _("the data subject is under legal hold: %(reasons)s") % {"reasons": reasons},
            field="hold",
            code="legal_hold",
        )
    now = timezone.now()
    reference = f"request {request.pk}"
    # An earlier access request's export is a copy of everything the person had: it goes too.
    earlier_exports = [
        earlier.pk
        for earlier in DataSubjectRequest.objects.filter(kind=DataSubjectRequest.Kind.ACCESS).exclude(export_file="")
        if earlier.pk != request.pk and {c.pk for c in dsr_subjects(earlier)} & set(ids)
    ]

    def erase(model, rows, **kwargs) -> int:
        # Row by id, logged in the erasure log (public schema), so a restore from an older backup
        # erases them again.
        count, names = erasure_apply(
            model=model,
            ids=rows.values_list("pk", flat=True),
            reference=reference,
            source=ErasureRecord.Source.ERASURE_REQUEST,
            **kwargs,
        )
        audio.extend(names)
        return count

    audio: list[str] = []
    with transaction.atomic():
        calls = Call.objects.filter(contact__in=ids)
        voicemails = Voicemail.objects.filter(call__in=calls)
        recordings = Recording.objects.filter(call__in=calls)
        done = {
            "calls anonymised": erase(
                Call,
                calls,
                changes=dict(caller_number="", caller_name="", notes="", caller_pseudonym="", anonymised_at=now),
            ),
            "voicemail erased": erase(
                Voicemail,
                voicemails,
                files=["audio"],
                changes=dict(audio="", transcription="", transcription_purged=True),
            ),
            "recordings erased": erase(Recording, recordings, files=["audio"], changes=dict(audio="")),
            "messages erased": erase(
                Message,
                Message.objects.filter(contact__in=ids),
                changes=dict(
                    caller_name="", caller_number="", body="", answers="", technical_details="", purged_at=now
                ),
            ),
            "appointments unlinked": erase(
                Appointment,
                Appointment.objects.filter(contact__in=ids),
                changes=dict(notes="", notes_purged=True, contact=None),
            ),
            "other numbers deleted": erase(ContactPhone, ContactPhone.objects.filter(contact__in=ids), delete=True),
            "consent evidence erased": erase(
                ConsentRecord, ConsentRecord.objects.filter(contact__in=ids), changes=dict(evidence="")
            ),
            "earlier access exports deleted": erase(
                DataSubjectRequest,
                DataSubjectRequest.objects.filter(pk__in=earlier_exports),
                files=["export_file"],
                changes=dict(export_file=""),
            ),
            "contacts anonymised": erase(
                Contact,
                Contact.objects.filter(pk__in=ids),
                changes=dict(
                    name="Erased data subject",
                    phone_number="",
                    email="",
                    address="",
                    notes="",
                    health_notes="",
                    phone_bidx="",
                    email_bidx="",
                    name_bidx="",
                    anonymised_at=now,
                ),
            ),
        }
        request.result = {
            "erased": done,
            "kept": [
                "call stubs (line, times, status) without any personal field, for statistics",
                "consent records' purposes and dates, as proof of what was agreed (GDPR Art. 7(1))",
                "the change and access logs, which hold no personal values",
                "this request, with the number and address it was made for (encrypted), as proof of the erasure",
            ],
        }
        request.status = DataSubjectRequest.Status.DONE
        request.completed_at = now
        request.save(update_fields=["result", "status", "completed_at"])
        erased_files_delete(names=audio)
    return request


RECTIFIABLE = ("name", "phone_number", "email", "address")


def dsr_rectify(*, request: DataSubjectRequest, corrections: dict, actor: User) -> DataSubjectRequest:
    """Correct the person's contact details (Art. 16) on every record that is them."""
    from crm.services import contact_update

    unknown = set(corrections) - set(RECTIFIABLE)
    if unknown or not corrections:
        raise ApplicationError(
            _("corrections may change only %(fields)s") % {"fields": ", ".join(RECTIFIABLE)}, field="corrections"
        )
    contacts = dsr_subjects(request)
    with transaction.atomic():
        for contact in contacts:
            contact_update(contact=contact, actor=actor, **corrections)
        request.result = {"contacts corrected": len(contacts), "fields": sorted(corrections)}
        request.status = DataSubjectRequest.Status.DONE
        request.completed_at = timezone.now()
        request.save(update_fields=["result", "status", "completed_at"])
    return request


@system_context(reason="carry out a data-subject request")
def dsr_process(*, request: DataSubjectRequest, actor: User, corrections: dict | None = None) -> DataSubjectRequest:
    """Carry a request out at once; a refused erasure comes back with its reason in the result."""
    if request.kind == DataSubjectRequest.Kind.ACCESS:
        return dsr_access(request=request, actor=actor)
    if request.kind == DataSubjectRequest.Kind.RECTIFICATION:
        return dsr_rectify(request=request, corrections=corrections or {}, actor=actor)
    try:
        return dsr_erase(request=request, actor=actor)
    except ApplicationError:
        request.refresh_from_db()
        return request


def dsr_raise(
    *, kind: str, actor: User, phone_number: str = "", email: str = "", corrections: dict | None = None
) -> DataSubjectRequest:
    """Raise a request and carry it out at once, in one transaction: bad input leaves nothing
    behind, and a refused erasure is kept, with its reason, as a refused request."""
    from tenants.changelog import change_log_actor

    if kind == DataSubjectRequest.Kind.RECTIFICATION and not corrections:
        raise ApplicationError(_("a rectification needs its corrections"), field="corrections")
    if kind != DataSubjectRequest.Kind.RECTIFICATION and corrections:
        raise ApplicationError(_("only a rectification carries corrections"), field="corrections")
    with transaction.atomic(), change_log_actor(actor):
        request = dsr_open(kind=kind, actor=actor, phone_number=phone_number, email=email)
        return dsr_process(request=request, actor=actor, corrections=corrections)


def dsr_forward(*, kind: str, actor: User, phone_number: str = "", email: str = "") -> DataSubjectRequest:
    """Record a request that reached the provider's staff, for the controller to answer (GDPR
    Art. 28(3)(e): the processor assists, the controller decides and replies). Nothing is looked
    up: the request stays open, and the company's client admins carry it out in their portal and
    see what it finds. So whoever raised it learns nothing of whether the person is on record, not
    even from how long the answer took."""
    from tenants.changelog import change_log_actor

    with transaction.atomic(), change_log_actor(actor):
        return dsr_open(kind=kind, actor=actor, phone_number=phone_number, email=email)


def dsr_carry_out(*, request: DataSubjectRequest, actor: User) -> DataSubjectRequest:
    """Carry out an open request (one the provider forwarded), as the controller's client admin."""
    from tenants.changelog import change_log_actor

    if request.status != DataSubjectRequest.Status.OPEN:
        raise ApplicationError(_("this request has already been answered"), field="status", code="not_open")
    with transaction.atomic(), change_log_actor(actor):
        return dsr_process(request=request, actor=actor)


def dsr_found_summary(request: DataSubjectRequest) -> str:
    """What a carried-out request found, in a line: for those who may read it (see audit.models)."""
    result = request.result or {}
    if "refused" in result:
        return str(result["refused"])
    if "erased" in result:
        return "; ".join(f"{what}: {count}" for what, count in result["erased"].items())
    if "contacts corrected" in result:
        return f"{result['contacts corrected']} contact record(s) corrected"
    return (
        f"{result.get('contacts', 0)} contact record(s), {result.get('calls', 0)} call(s), "
        f"{result.get('messages', 0)} message(s), {result.get('appointments', 0)} appointment(s)"
    )


def dsr_export_read(*, request: DataSubjectRequest, user: User, channel: str, path: str = "") -> bytes:
    """The access request's ZIP, decrypted, with the read of every record in it in the access log."""
    from gates.signals import report_read
    from tenants.categories import personal_fields

    if not request.export_file:
        raise ApplicationError(_("this request has no export"), field="export", code="no_export")
    try:
        content = encrypted_file_read(request.export_file)
    except (FileNotFoundError, ValueError):  # gone from storage, or altered there: nothing to hand out
        raise ApplicationError(_("this request has no export"), field="export", code="export_missing") from None
    report_read(
        user=user,
        channel=channel,
        model=Contact,
        object_ids=request.result.get("contact_ids", []),
        fields=personal_fields(Contact),
        path=path,
    )
    return content
