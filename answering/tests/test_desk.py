"""Scripts and the agent's desk, from the side of what the DPA does not allow."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, DeliveryRoute, Line, Message, Script, ScriptVersion
from answering.scripts import script_current, script_version_draft, script_version_publish
from answering.tasks import deliver_message
from tenants.errors import ApplicationError
from tenants.models import User

pytestmark = pytest.mark.django_db

DISCLOSURE = {"kind": "disclosure", "prompt": "This call may be recorded."}
NAME = {
    "kind": "ask",
    "prompt": "Your name?",
    "questions": [{"key": "name", "label": "Caller's name", "target": "message.caller_name"}],
}
NUMBER = {
    "kind": "ask",
    "prompt": "Your number?",
    "questions": [{"key": "number", "label": "Call-back number", "target": "message.caller_number"}],
}
PAIN = {"key": "pain", "label": "Pain", "target": "message.answer", "category": "user.health"}
HEALTH = {"kind": "ask", "prompt": "Are you in pain?", "questions": [PAIN]}
BODY = {
    "kind": "ask",
    "prompt": "What is it about?",
    "questions": [{"key": "body", "label": "Message", "target": "message.body"}],
}


@pytest.fixture
def supervisor(db):
    return User.objects.get(username="supervisor")


def _script(line: Line, steps: list) -> ScriptVersion:
    script = Script.objects.create(line=line, name="Intake")
    return script_version_draft(script=script, steps=steps, actor=None)


def test_a_recording_line_needs_the_disclosure_first(acme, supervisor):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        Line.objects.filter(pk=line.pk).update(recording_policy="announce")
        line.refresh_from_db()
        with pytest.raises(ApplicationError, match="must open with the recording disclosure"):
            script_version_publish(version=_script(line, [NAME, BODY]), actor=supervisor)
        published = script_version_publish(version=_script(line, [DISCLOSURE, NAME, BODY]), actor=supervisor)
        assert script_current(line=line) == published


def test_a_script_asking_for_an_ungranted_category_cannot_be_published(acme, globex, supervisor):
    with tenant_context(globex):
        line = Line.objects.get(phone_number="+3726002001")
        with pytest.raises(ApplicationError) as refused:
            script_version_publish(version=_script(line, [NAME, NUMBER]), actor=supervisor)
        assert "'Call-back number'" in refused.value.message
        assert "user.contact.phone_number" in refused.value.message
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        with pytest.raises(ApplicationError, match=r"user\.health"):
            script_version_publish(version=_script(line, [NAME, HEALTH]), actor=supervisor)


def test_a_published_version_is_immutable_in_the_database(acme, supervisor):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        version = script_version_publish(version=_script(line, [NAME, BODY]), actor=supervisor)
        with pytest.raises(IntegrityError), transaction.atomic():
            ScriptVersion.objects.filter(pk=version.pk).update(steps=[NAME])
        with pytest.raises(IntegrityError), transaction.atomic():
            ScriptVersion.objects.filter(pk=version.pk).delete()


def test_the_immutability_trigger_comes_with_a_cloned_company(supervisor):
    from tenants.services import client_onboard

    company = client_onboard(slug="hooli", name="Hooli", domain="hooli.localhost")
    with tenant_context(company):
        line = Line.objects.create(name="Hooli", phone_number="+3726004001")
        # Hooli has no DPA yet, so its script may ask for nothing personal.
        greeting_only = [{"kind": "ask", "prompt": "How can we help?", "questions": []}]
        version = script_version_publish(version=_script(line, greeting_only), actor=supervisor)
        with pytest.raises(IntegrityError), transaction.atomic():
            ScriptVersion.objects.filter(pk=version.pk).update(steps=[])


def test_malformed_scripts_are_refused_with_the_step_named(acme):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        script = Script.objects.create(line=line, name="Bad")
        for steps, message in [
            ([], "non-empty"),
            ([{"kind": "sing"}], "step 1"),
            (
                [{"kind": "ask", "questions": [{"key": "x", "label": "X", "target": "message.nothing"}]}],
                "unknown target",
            ),
            ([{"kind": "ask", "questions": [{"key": "x", "label": "X", "target": "message.answer"}]}], "data category"),
        ]:
            with pytest.raises(ApplicationError, match=message):
                script_version_draft(script=script, steps=steps, actor=None)


def _incoming(company, number: str) -> Call:
    with tenant_context(company):
        return Call.objects.create(
            line=Line.objects.get(phone_number=number),
            telephony_sid="CAdesk" + "0" * 28,
            started_at=timezone.now(),
            caller_number="+37251234599",
        )


def test_globex_desk_never_shows_or_sends_the_callers_number(admin_for, agent1, globex):
    call = _incoming(globex, "+3726002001")
    with tenant_context(globex):
        DeliveryRoute.objects.create(line=call.line, channel="email", address="desk@globex.example")
    client = admin_for(agent1, "globex")
    page = client.get(f"/admin/answering/call/{call.pk}/answer/").content.decode()
    assert "+37251234599" not in page
    assert "restricted by DPA" in page
    saved = client.post(
        f"/admin/answering/call/{call.pk}/answer/",
        {"urgency": "normal", "wrap_up": "message_taken", "caller_name": "Jaan", "body": "Please call back"},
    )
    assert saved.status_code == 302
    with tenant_context(globex):
        message = Message.objects.get(call=call)
        assert message.caller_number == ""
        assert Call.objects.get(pk=call.pk).disposition == "message_taken"
        deliver_message.apply(args=[message.pk])
    assert "Please call back" in mail.outbox[-1].body
    assert "+37251234599" not in mail.outbox[-1].body


def test_acme_desk_form_holds_only_writable_questions(admin_for, agent1, acme, supervisor):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001002")
        script_version_publish(version=_script(line, [NAME, NUMBER, BODY]), actor=supervisor)
    call = _incoming(acme, "+3726001002")
    page = admin_for(agent1, "acme").get(f"/admin/answering/call/{call.pk}/answer/").content.decode()
    assert 'name="number"' in page  # acme grants phone numbers
    assert "+37251234599" in page
    assert 'name="pain"' not in page


def test_a_quick_disposition_closes_the_call_without_a_message(admin_for, agent1, acme):
    call = _incoming(acme, "+3726001001")
    response = admin_for(agent1, "acme").post(
        f"/admin/answering/call/{call.pk}/answer/", {"disposition": "wrong_number"}
    )
    assert response.status_code == 302
    with tenant_context(acme):
        assert Call.objects.get(pk=call.pk).disposition == "wrong_number"
        assert not Message.objects.filter(call=call).exists()


def test_the_desk_refuses_to_answer_a_call_twice(admin_for, agent1, acme):
    call = _incoming(acme, "+3726001001")
    client = admin_for(agent1, "acme")
    url = f"/admin/answering/call/{call.pk}/answer/"
    assert (
        client.post(
            url, {"urgency": "normal", "wrap_up": "message_taken", "caller_name": "Jaan", "body": "First"}
        ).status_code
        == 302
    )
    again = client.post(url, {"urgency": "normal", "wrap_up": "message_taken", "caller_name": "Jaan", "body": "Second"})
    assert again.status_code == 200
    assert "has already been answered" in again.content.decode()
    quick = client.post(url, {"disposition": "hung_up"}, follow=True)
    assert "has already been answered" in quick.content.decode()
    with tenant_context(acme):
        assert list(Message.objects.filter(call=call).values_list("body", flat=True)) == ["First"]
        assert Call.objects.get(pk=call.pk).disposition == "message_taken"


def test_the_desk_is_404_outside_the_grants(admin_for, agent2, acme):
    call = _incoming(acme, "+3726001002")  # agent2 holds no grant on this line
    assert admin_for(agent2, "acme").get(f"/admin/answering/call/{call.pk}/answer/").status_code == 404


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://support.initech.example/session", "https"),
        ("https://admin:hunter2@support.initech.example/", "credentials"),
        ("https://support.initech.example/join?access_token=abc", "credential"),
        ("not a url", "https"),
    ],
)
def test_a_support_tool_url_must_be_https_and_carry_no_credential(initech, supervisor, url, why):
    from answering.scripts import support_line_configure

    with tenant_context(initech):
        line = Line.objects.get(phone_number="+3726003001")
        with pytest.raises(ApplicationError, match=why) as refused:
            support_line_configure(line=line, remote_support_url=url, actor=supervisor)
        assert refused.value.field == "remote_support_url"
        line.refresh_from_db()
        assert not line.is_support_line


def test_a_support_line_asks_nothing_personal_and_hands_off_a_link(initech, admin_for, agent1, supervisor):
    from answering.scripts import support_handoff_link, support_line_configure

    with tenant_context(initech):
        line = Line.objects.get(phone_number="+3726003001")
        support_line_configure(
            line=line, remote_support_url="https://support.initech.example/join?room=7", actor=supervisor
        )
        call = Call.objects.create(line=line, telephony_sid="CAsupport" + "0" * 25, started_at=timezone.now())
    # initech has no DPA in force, yet the support script works: it asks for no personal category.
    client = admin_for(agent1, "initech")
    page = client.get(f"/admin/answering/call/{call.pk}/answer/").content.decode()
    assert 'name="ticket_reference"' in page
    assert 'name="caller_name"' not in page
    saved = client.post(
        f"/admin/answering/call/{call.pk}/answer/",
        {
            "urgency": "normal",
            "wrap_up": "message_taken",
            "ticket_reference": "INC-4711",
            "technical_details": "VPN drops every 5 minutes",
        },
    )
    assert saved.status_code == 302
    with tenant_context(initech):
        message = Message.objects.get(call=call)
        assert support_handoff_link(message=message) == "https://support.initech.example/join?room=7&ticket=INC-4711"


def test_delivery_moves_through_delivered_and_read_to_acknowledged(globex, client_for, globex_admin):
    import urllib.parse

    from django.conf import settings
    from django.test import Client

    from answering.models import DeliveryAttempt, DeliveryRoute
    from answering.simulator import sign

    with tenant_context(globex):
        line = Line.objects.get(phone_number="+3726002001")
        route = DeliveryRoute.objects.create(line=line, channel="sms", address="+37255520001")
        message = Message.objects.create(line=line, body="Call back", status="sent")
        DeliveryAttempt.objects.create(
            message=message,
            route=route,
            channel=DeliveryAttempt.Channel.SMS,
            key="k1",
            status=DeliveryAttempt.Status.SENT,
            provider_id="SM" + "1" * 32,
        )
    params = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}
    url = "http://globex.localhost/telephony/sms-status/"
    response = Client(HTTP_HOST="globex.localhost").post(
        "/telephony/sms-status/",
        urllib.parse.urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=sign(auth_token=settings.TWILIO_AUTH_TOKEN, url=url, params=params),
    )
    assert response.status_code == 204
    api = client_for("globex.localhost", globex_admin)
    with tenant_context(globex):
        assert Message.objects.get(pk=message.pk).status == "delivered"
    assert api.get(f"/api/v1/messages/{message.pk}/").json()["status"] == "read"
    assert api.post(f"/api/v1/messages/{message.pk}/acknowledge/").json()["status"] == "acknowledged"
    assert api.get(f"/api/v1/messages/{message.pk}/").json()["status"] == "acknowledged"  # never backwards
