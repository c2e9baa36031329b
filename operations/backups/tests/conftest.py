"""Fixtures shared by the backup tests."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Line, Message, Voicemail
from crm.services import contact_create, contact_phone_add
from operations.backups.tests.helpers import SUBJECT_OTHER_PHONE, SUBJECT_PHONE
from tenants.files import encrypted_file_save


@pytest.fixture
def people(acme):
    """A data subject with a call, a voicemail (audio file), a message and a second number; a
    bystander with a message."""
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        subject = contact_create(
            name="Subject Backup", phone_number=SUBJECT_PHONE, email="subject@backup.ee", actor=None
        )
        contact_phone_add(contact=subject, number=SUBJECT_OTHER_PHONE, actor=None)
        bystander = contact_create(name="Bystander Backup", phone_number="+37255592222", actor=None)
        messages = {}
        for contact, sid in ((subject, "CAbk1"), (bystander, "CAbk2")):
            call = Call.objects.create(
                line=line,
                telephony_sid=sid + "0" * 29,
                started_at=timezone.now(),
                caller_number=contact.phone_number,
                caller_name=contact.name,
                notes=f"Notes of {contact.name}",
                contact=contact,
            )
            messages[contact.pk] = Message.objects.create(
                line=line, call=call, contact=contact, body=f"Body of {contact.name}"
            )
        voicemail = Voicemail.objects.create(
            call=Call.objects.get(contact=subject),
            recording_sid="RE" + "b" * 32,
            audio=encrypted_file_save(folder="audio/acme", content=b"subject voice"),
            transcription="Subject's own words",
        )
        other = Voicemail.objects.create(
            call=Call.objects.get(contact=bystander),
            recording_sid="RE" + "c" * 32,
            audio=encrypted_file_save(folder="audio/acme", content=b"bystander voice"),
        )
    created = [voicemail.audio, other.audio]
    yield subject, bystander, messages, voicemail
    for name in created:
        default_storage.delete(name)
