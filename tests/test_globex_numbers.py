"""Under globex's DPA (names and content only), nothing an agent opens shows a caller's number:
calls, messages, voicemail, contacts, the desk, the timeline of a contact."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Line, Message, Voicemail
from crm.models import Contact

pytestmark = pytest.mark.django_db
NUMBER = "+37255591234"


def test_no_admin_page_shows_a_globex_callers_number(globex, admin_for, agent1):
    with tenant_context(globex):
        line = Line.objects.get(phone_number="+3726002001")
        contact = Contact.objects.create(name="Numbered Caller", phone_number=NUMBER)
        call = Call.objects.create(
            line=line,
            telephony_sid="CAnum" + "0" * 29,
            started_at=timezone.now(),
            caller_number=NUMBER,
            caller_name="Numbered Caller",
            contact=contact,
        )
        message = Message.objects.create(line=line, call=call, contact=contact, caller_number=NUMBER, body="Hi")
        voicemail = Voicemail.objects.create(
            call=call, recording_sid="RE" + "5" * 32, audio="none", transcription="Numbered Caller here"
        )
    client = admin_for(agent1, "globex")
    urls = [
        "/admin/answering/call/",
        f"/admin/answering/call/{call.pk}/change/",
        f"/admin/answering/call/{call.pk}/answer/",
        "/admin/answering/message/",
        f"/admin/answering/message/{message.pk}/change/",
        "/admin/answering/voicemail/",
        f"/admin/answering/voicemail/{voicemail.pk}/change/",
        "/admin/crm/contact/",
        f"/admin/crm/contact/{contact.pk}/change/",
        f"/admin/answering/line/{line.pk}/change/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert NUMBER.encode() not in response.content, url
    # Not vacuous: the same pages do show what the DPA grants.
    assert b"Numbered Caller" in client.get(f"/admin/answering/call/{call.pk}/change/").content
