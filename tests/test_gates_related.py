"""Related objects pass their own gates (issue 13, leak 3), tested from the side of the agent who
must not see them.

agent2 works for acme with a grant on the reception line (+3726001001), so it sees that line's
calls, messages and the appointments; it holds no individual grant on a restricted contact, whose
own page is a 404 to it. A row it may see that points at such a contact shows "restricted" in the
contact's place: never the contact's name, number, e-mail or notes, its "Contact #id" or a link to it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Line, Message, Script
from answering.scripts import script_version_draft, script_version_publish
from crm.models import Contact
from scheduling.models import Resource, Service
from tenants.models import User

pytestmark = pytest.mark.django_db

VIP = {
    "name": "Vera Salajane",
    "phone_number": "+37255500777",
    "email": "vera.salajane@example.ee",
    "notes": "Only ever by the back door",
}


def _secrets(contact: Contact) -> list[str]:
    return [*VIP.values(), f"Contact #{contact.pk}", f"/admin/crm/contact/{contact.pk}/"]


@pytest.fixture
def vip_call(acme):
    """A call on agent2's granted line from a restricted contact. The call's own caller fields
    differ from the contact's, so whatever of the contact shows was read through the relation."""
    with tenant_context(acme):
        vip = Contact.objects.create(restricted=True, **VIP)
        call = Call.objects.create(
            line=Line.objects.get(phone_number="+3726001001"),
            telephony_sid="CAvip" + "0" * 29,
            started_at=timezone.now(),
            caller_number="+37250000001",
            contact=vip,
        )
        message = Message.objects.create(line=call.line, call=call, contact=vip, body="Call back")
    return vip, call, message


@pytest.fixture
def vip_appointment(acme, vip_call):
    from scheduling.services import appointment_book

    vip, _call, _message = vip_call
    day = timezone.localdate() + dt.timedelta(days=24)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    with tenant_context(acme):
        return appointment_book(
            service=Service.objects.get(name="Check-up"),
            resource=Resource.objects.get(label="Dr. Tamm"),
            starts_at=dt.datetime.combine(day, dt.time(10), tzinfo=ZoneInfo("Europe/Tallinn")),
            actor=User.objects.get(username="supervisor"),
            contact=vip,
        )


def _shows_none_of(page: str, contact: Contact) -> None:
    for secret in _secrets(contact):
        assert secret not in page, secret


def test_the_desk_shows_a_restricted_contact_as_restricted(admin_for, agent2, vip_call):
    vip, call, _message = vip_call
    response = admin_for(agent2, "acme").get(f"/admin/answering/call/{call.pk}/answer/")
    assert response.status_code == 200
    page = response.content.decode()
    _shows_none_of(page, vip)
    assert "restricted" in page
    assert "+37250000001" in page  # the call's own number is the call's, on a granted line


def test_the_desk_does_not_write_into_a_restricted_contact(admin_for, agent2, acme, vip_call):
    vip, call, _message = vip_call
    with tenant_context(acme):
        script = Script.objects.create(line=call.line, name="Intake")
        steps = [
            {
                "kind": "ask",
                "prompt": "Your e-mail?",
                "questions": [
                    {"key": "email", "label": "E-mail", "target": "contact.email"},
                    {"key": "body", "label": "Message", "target": "message.body"},
                ],
            },
        ]
        version = script_version_draft(script=script, steps=steps, actor=None)
        script_version_publish(version=version, actor=User.objects.get(username="supervisor"))
    saved = admin_for(agent2, "acme").post(
        f"/admin/answering/call/{call.pk}/answer/",
        {"urgency": "normal", "wrap_up": "message_taken", "email": "taken@example.ee", "body": "Call me"},
    )
    assert saved.status_code == 302
    with tenant_context(acme):
        assert Contact.objects.get(pk=vip.pk).email == VIP["email"]


def test_the_call_change_form_shows_a_restricted_contact_as_restricted(admin_for, agent2, vip_call):
    vip, call, _message = vip_call
    response = admin_for(agent2, "acme").get(f"/admin/answering/call/{call.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    _shows_none_of(page, vip)
    assert "restricted" in page


def test_saving_the_call_form_keeps_a_contact_the_agent_cannot_see(admin_for, agent2, acme, vip_call):
    vip, call, _message = vip_call
    client = admin_for(agent2, "acme")
    saved = client.post(
        f"/admin/answering/call/{call.pk}/change/",
        {"status": "completed", "caller_number": "+37250000001", "caller_name": "", "notes": "", "contact": ""},
    )
    assert saved.status_code == 302
    with tenant_context(acme):
        assert Call.objects.get(pk=call.pk).contact_id == vip.pk


def test_the_call_form_refuses_a_posted_contact_outside_the_gate(admin_for, agent2, acme, vip_call):
    vip, _call, _message = vip_call
    with tenant_context(acme):
        other = Call.objects.filter(line__phone_number="+3726001001", contact__restricted=False).first()
    page = admin_for(agent2, "acme").post(
        f"/admin/answering/call/{other.pk}/change/",
        {"status": "completed", "caller_number": "", "caller_name": "", "notes": "", "contact": vip.pk},
    )
    assert page.status_code == 200  # the form again, with the choice refused
    with tenant_context(acme):
        assert Call.objects.get(pk=other.pk).contact_id != vip.pk


def test_the_call_changelist_and_message_pages_show_nothing_of_a_restricted_contact(admin_for, agent2, vip_call):
    vip, _call, message = vip_call
    client = admin_for(agent2, "acme")
    for url in (
        "/admin/answering/call/",
        "/admin/answering/message/",
        f"/admin/answering/message/{message.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        _shows_none_of(response.content.decode(), vip)


def test_the_appointment_pages_show_a_restricted_contact_as_restricted(admin_for, agent2, vip_appointment):
    vip = vip_appointment.contact
    client = admin_for(agent2, "acme")
    for url in ("/admin/scheduling/appointment/", f"/admin/scheduling/appointment/{vip_appointment.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        _shows_none_of(page, vip)
        assert "restricted" in page, url


def test_an_individual_grant_shows_the_contact_again(admin_for, agent2, acme, vip_appointment):
    from guardian.shortcuts import assign_perm

    vip = vip_appointment.contact
    with tenant_context(acme):
        assign_perm("crm.view_contact", agent2, vip)
    page = admin_for(agent2, "acme").get(f"/admin/scheduling/appointment/{vip_appointment.pk}/change/")
    assert f"/admin/crm/contact/{vip.pk}/change/" in page.content.decode()


@pytest.mark.urls("config.urls_public")
def test_an_inline_shows_a_restricted_contact_as_restricted(rf, agent2, acme, vip_call):
    """A throwaway inline naming the contact: the inlines render relations through the same gate."""
    from django.contrib.admin import AdminSite
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    from gates.admin import GatedInline, GatedModelAdmin
    from gates.selection import SESSION_KEY

    vip, call, _message = vip_call

    class ContactCallInline(GatedInline):
        model = Call
        fields = ["telephony_sid", "contact"]
        readonly_fields = ["telephony_sid", "contact"]

    class ThrowawayLineAdmin(GatedModelAdmin):
        fields = ["name"]
        inlines = [ContactCallInline]

    site = AdminSite(name="admin")
    line_admin = ThrowawayLineAdmin(Line, site)
    request = rf.get(f"/admin/answering/line/{call.line_id}/change/", HTTP_HOST="localhost")
    request.user = agent2
    request.session = SessionStore()
    request.session[SESSION_KEY] = "acme"
    request._messages = FallbackStorage(request)
    page = line_admin.change_view(request, str(call.line_id)).content.decode()
    assert call.telephony_sid in page
    _shows_none_of(page, vip)
    assert "restricted" in page
