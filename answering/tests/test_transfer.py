"""Warm transfer, against the Twilio stand-in speaking Calls, Conferences and Participants, with its
signed status callbacks delivered to the real webhook. From the side of whoever must not see or
get through: an agent whose DPA grants no phone numbers never sees the number dialled (page,
panel, push, error); an agent outside the call's company or line cannot transfer it; a forged
callback changes nothing; a person who does not answer, or Twilio failing, brings the caller back
to the agent with a clear message, and the message is still taken."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Disposition, Message, Transfer
from answering.tests.test_desk_console import EMERGENCIES, GLOBEX_LINE, _available, _call_in, _open_all_day, _received
from answering.tests.test_telephony import post
from desk.models import AgentState, Presence, QueuedCall
from desk.push import PUSH_KEYS
from desk.services import offer_accept
from scheduling.models import OnCallShift, StaffMember
from tests.fixtures import TWILIO_TEST_SID

pytestmark = pytest.mark.django_db
ON_CALL = "+37255520001"
FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}


@pytest.fixture
def voice(twilio, settings):
    """The stand-in as Twilio's REST API, its callbacks held for the test to deliver in its own
    transaction, through the real signed webhook."""
    twilio.reset()
    twilio.hold_callbacks = True
    settings.TWILIO_API_BASE, settings.TWILIO_ACCOUNT_SID = twilio.base_url, TWILIO_TEST_SID

    def deliver():
        def send(url, params):
            parts = urllib.parse.urlsplit(url)
            path = f"{parts.path}?{parts.query}" if parts.query else parts.path
            return post(path, params, host=parts.netloc.split(":")[0], sign_params=params).status_code

        return twilio.flush(send)

    twilio.deliver = deliver
    yield twilio
    twilio.reset()


@pytest.fixture
def listen():
    """`listen(user)`: a channel of the real layer in the agent's group, as their console's is."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from desk.push import agent_group

    layer, joined = get_channel_layer(), []

    def join(user):
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(agent_group(user.pk), channel)
        joined.append((agent_group(user.pk), channel))
        return layer, channel

    yield join
    for group, channel in joined:
        async_to_sync(layer.group_discard)(group, channel)


def _on_call(company, line_number: str, number: str = ON_CALL) -> None:
    from answering.models import Line

    with tenant_context(company):
        person = StaffMember.objects.create(name="Dr Valve", phone_number=number)
        now = timezone.now()
        OnCallShift.objects.create(
            line=Line.objects.get(phone_number=line_number),
            staff=person,
            starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=1),
        )


def _emergency_script(company, line_number: str = EMERGENCIES) -> None:
    """The demo's emergency script (a transfer to the person on call on its emergency branch)."""
    from answering.models import Line, Script
    from answering.scripts import script_version_draft, script_version_publish
    from demo.answering import EMERGENCY_SCRIPT
    from tenants.models import User

    supervisor = User.objects.get(username="supervisor")
    with tenant_context(company):
        script = Script.objects.create(line=Line.objects.get(phone_number=line_number), name="Emergencies")
        draft = script_version_draft(script=script, steps=EMERGENCY_SCRIPT, actor=supervisor)
        script_version_publish(version=draft, actor=supervisor)


def _live_call(company, host, line_number, agent, captured) -> Call:
    """A call in the queue, offered to and accepted by `agent`, put through to them."""
    if company.schema_name == "acme":
        _emergency_script(company)
    _open_all_day(company, line_number)
    _available(agent)
    call = _call_in(company, host, line_number, captured=captured)
    queued = QueuedCall.objects.get(company=company, call_id=call.pk)
    assert queued.offered_to == agent
    offer_accept(user=agent, queued_id=queued.pk)
    post("/telephony/status/", {"CallSid": call.telephony_sid, "CallStatus": "in-progress"}, host=host)
    return call


def _start(client, call, step="transfer"):
    return client.post(f"/admin/answering/call/{call.pk}/transfer/", {"action": "start", "step": step}, **FETCH)


def _wrap_up_emergency(client, call, *, wrap_up: str = "transferred", urgency: str = "normal"):
    """The answer page's form down the emergency branch (the caller's name and number), wrapped up."""
    answers = {"reason": "Emergency", "caller_name": "Mari Tamm", "emergency_number": "+37255512345"}
    return client.post(f"/admin/answering/call/{call.pk}/answer/", {**answers, "wrap_up": wrap_up, "urgency": urgency})


def _transfer(company, call) -> Transfer:
    with tenant_context(company):
        return Transfer.objects.filter(call_id=call.pk).order_by("-pk").first()


def test_the_agent_announces_the_caller_bridges_and_leaves_and_the_call_is_recorded_as_transferred(
    acme, agent1, admin_for, client_for, acme_admin, voice, django_capture_on_commit_callbacks
):
    _on_call(acme, EMERGENCIES)
    call = _live_call(acme, "acme.localhost", EMERGENCIES, agent1, django_capture_on_commit_callbacks)
    client = admin_for(agent1, "acme")
    page = client.get(f"/admin/answering/call/{call.pk}/answer/").content.decode()
    assert 'data-action="start"' in page  # the transfer step's panel is on the answer page

    panel = _start(client, call)
    assert panel.status_code == 200
    assert "Dialling" in panel.content.decode()
    transfer = _transfer(acme, call)
    assert transfer.state == Transfer.State.DIALLING
    # Twilio's conventions, in order: the caller's live call gets <Dial><Conference>, the agent's
    # softphone joins it, the caller is put on hold, the person on call is dialled in.
    requests = voice.voice_requests
    assert requests[0][:2] == ("POST", "call")
    conference = f">{transfer.conference_name}</Conference></Dial>"
    assert conference in requests[0][2]["Twiml"]
    assert 'startConferenceOnEnter="true"' in requests[0][2]["Twiml"]
    assert requests[1][2]["To"] == f"client:agent-{agent1.pk}"
    assert requests[2][2] == {"Hold": "true"}
    dial = requests[3][2]
    assert (dial["To"], dial["From"], dial["Timeout"]) == (ON_CALL, EMERGENCIES, "25")
    assert dial["StatusCallback"] == f"http://acme.localhost/telephony/transfer/status/?transfer={transfer.pk}"
    assert voice.participants(transfer.conference_name)[call.telephony_sid]["hold"] is True

    sent = voice.deliver()  # ringing, then the person on call answers
    assert [(p["CallStatus"], status) for _, p, status in sent] == [("ringing", 204), ("in-progress", 204)]
    assert _transfer(acme, call).state == Transfer.State.ANNOUNCING
    panel = client.get(f"/admin/answering/call/{call.pk}/transfer/", **FETCH).content.decode()
    assert "Bridge and leave" in panel
    assert ON_CALL in panel  # acme's DPA grants its agents phone numbers

    bridged = client.post(f"/admin/answering/call/{call.pk}/transfer/", {"action": "bridge"}, **FETCH)
    assert "Put through" in bridged.content.decode()
    transfer = _transfer(acme, call)
    assert transfer.state == Transfer.State.BRIDGED
    assert transfer.ended_at is not None
    people = voice.participants(transfer.conference_name)
    assert people[call.telephony_sid]["hold"] is False
    assert transfer.agent_call_sid not in people  # the agent left
    assert transfer.target_call_sid in people

    page = client.get(f"/admin/answering/call/{call.pk}/answer/").content.decode()
    assert '<option value="transferred" selected>' in page  # the wrap-up it suggests
    with django_capture_on_commit_callbacks(execute=True):
        done = _wrap_up_emergency(client, call)
    assert done.status_code == 302
    with tenant_context(acme):
        assert Call.objects.get(pk=call.pk).disposition == Disposition.TRANSFERRED
    assert Presence.objects.get(user=agent1).state == AgentState.AVAILABLE  # back to available after wrap-up

    portal = client_for("acme.localhost", acme_admin)
    html = portal.get(f"/calls/{call.pk}/").content.decode()
    assert "Put through" in html
    assert "the person on call" in html
    # The message taken before the transfer holds the script's answers, not a body: the client
    # reads those answers, never an empty "Message #n:".
    with tenant_context(acme):
        [message] = Message.objects.filter(call_id=call.pk)
    taken = html.split('class="call-messages"')[1].split("</ul>")[0]
    assert f"Message #{message.pk}</a>: Reason: Emergency</li>" in taken
    html = portal.get(f"/calls/{call.pk}/", HTTP_ACCEPT_LANGUAGE="et").content.decode()
    assert "Ühendatud" in html or "Put through" in html


def test_no_answer_brings_the_caller_back_to_the_agent_who_then_takes_the_message(
    acme, agent1, admin_for, voice, django_capture_on_commit_callbacks
):
    _on_call(acme, EMERGENCIES)
    voice.unanswered_numbers.add(ON_CALL)
    call = _live_call(acme, "acme.localhost", EMERGENCIES, agent1, django_capture_on_commit_callbacks)
    client = admin_for(agent1, "acme")
    _start(client, call)
    statuses = [(p["CallStatus"], status) for _, p, status in voice.deliver()]
    assert statuses == [("ringing", 204), ("no-answer", 204)]
    transfer = _transfer(acme, call)
    assert transfer.state == Transfer.State.FAILED
    assert transfer.failure == "the person did not answer"
    assert voice.voice_requests[-1][2] == {"Hold": "false"}  # the caller is back with the agent
    panel = client.get(f"/admin/answering/call/{call.pk}/transfer/", **FETCH).content.decode()
    assert "the person did not answer" in panel
    assert "take their message" in panel
    page = client.get(f"/admin/answering/call/{call.pk}/answer/").content.decode()
    assert '<option value="message_taken" selected>' in page
    done = _wrap_up_emergency(client, call, wrap_up="message_taken", urgency="urgent")
    assert done.status_code == 302
    with tenant_context(acme):
        message = Message.objects.get(call_id=call.pk)
        assert message.caller_number == "+37255512345"


def test_return_to_the_caller_hangs_up_on_the_person_called_and_takes_the_caller_off_hold(
    acme, agent1, admin_for, voice, django_capture_on_commit_callbacks
):
    _on_call(acme, EMERGENCIES)
    call = _live_call(acme, "acme.localhost", EMERGENCIES, agent1, django_capture_on_commit_callbacks)
    client = admin_for(agent1, "acme")
    _start(client, call)
    voice.deliver()
    again = _start(client, call).content.decode()
    assert "already under way" in again  # one open transfer per call
    returned = client.post(f"/admin/answering/call/{call.pk}/transfer/", {"action": "return"}, **FETCH)
    assert "back with the caller" in returned.content.decode()
    transfer = _transfer(acme, call)
    assert transfer.state == Transfer.State.RETURNED
    assert transfer.target_call_sid not in voice.participants(transfer.conference_name)
    assert voice.participants(transfer.conference_name)[call.telephony_sid]["hold"] is False
    assert [p["CallStatus"] for _, p, _ in voice.deliver()] == ["completed"]  # a late hang-up changes nothing
    assert _transfer(acme, call).state == Transfer.State.RETURNED
    bridge = client.post(f"/admin/answering/call/{call.pk}/transfer/", {"action": "bridge"}, **FETCH)
    assert bridge.status_code == 200
    assert "can no longer be done" in bridge.content.decode()


@pytest.mark.parametrize("fault", ["outage", "caller_gone"])
def test_twilio_failing_is_a_clear_message_never_a_500_and_the_call_can_still_be_wrapped_up(
    fault, acme, agent1, admin_for, voice, django_capture_on_commit_callbacks
):
    _on_call(acme, EMERGENCIES)
    call = _live_call(acme, "acme.localhost", EMERGENCIES, agent1, django_capture_on_commit_callbacks)
    if fault == "outage":
        voice.fail_voice = True
    else:
        voice.gone_calls.add(call.telephony_sid)
    client = admin_for(agent1, "acme")
    panel = _start(client, call)
    text = panel.content.decode()
    assert panel.status_code == 200
    assert "The transfer failed: Twilio answered HTTP" in text
    assert ("20500" if fault == "outage" else "20404") in text
    assert "take a message" in text
    assert ON_CALL not in _transfer(acme, call).failure
    assert _transfer(acme, call).state == Transfer.State.FAILED
    plain = client.post(f"/admin/answering/call/{call.pk}/transfer/", {"action": "start", "step": "transfer"})
    assert plain.status_code == 302  # without the page's script: back to the answer page, with the message
    done = client.post(
        f"/admin/answering/call/{call.pk}/answer/",
        {
            "reason": "Emergency",
            "caller_name": "Mari",
            "emergency_number": "+37255512345",
            "wrap_up": "message_taken",
            "urgency": "normal",
        },
    )
    assert done.status_code == 302


def test_a_forged_or_replayed_status_callback_changes_nothing(
    acme, agent1, admin_for, voice, django_capture_on_commit_callbacks
):
    _on_call(acme, EMERGENCIES)
    call = _live_call(acme, "acme.localhost", EMERGENCIES, agent1, django_capture_on_commit_callbacks)
    _start(admin_for(agent1, "acme"), call)
    transfer = _transfer(acme, call)
    path = f"/telephony/transfer/status/?transfer={transfer.pk}"
    forged = {"CallSid": transfer.target_call_sid, "CallStatus": "no-answer", "AccountSid": TWILIO_TEST_SID}
    assert post(path, forged, signature="").status_code == 403  # unsigned
    assert post(path, forged, signature="bm90LWEtc2lnbmF0dXJl").status_code == 403  # signed by nobody
    # Signed for another transfer's URL: the signature covers the query, so it does not carry over.
    from answering.simulator import sign

    other = sign(
        auth_token=settings.TWILIO_AUTH_TOKEN,
        url="http://acme.localhost/telephony/transfer/status/?transfer=999999",
        params=forged,
    )
    assert post(path, forged, signature=other).status_code == 403
    # A genuine callback for a leg this transfer did not dial is ignored.
    assert post(path, {**forged, "CallSid": "CA" + "1" * 32}).status_code == 204
    assert post("/telephony/transfer/status/?transfer=x", forged).status_code == 400
    assert _transfer(acme, call).state == Transfer.State.DIALLING


def test_no_other_agent_and_no_other_company_transfers_a_call(
    acme, globex, agent1, agent2, admin_for, voice, django_capture_on_commit_callbacks
):
    _on_call(acme, EMERGENCIES)
    call = _live_call(acme, "acme.localhost", EMERGENCIES, agent1, django_capture_on_commit_callbacks)
    with tenant_context(globex):
        assert not Call.objects.filter(pk=call.pk).exists() or pytest.skip("the ids happen to meet")
    # Working for globex, the acme call's id is nobody's: 404, and nothing reaches Twilio.
    assert _start(admin_for(agent1, "globex"), call).status_code == 404
    # agent2 works for acme, with no grant on the emergencies line: the call does not exist for them.
    assert _start(admin_for(agent2, "acme"), call).status_code == 404
    assert voice.voice_requests == []
    assert _transfer(acme, call) is None


def test_an_agent_whose_dpa_grants_no_phone_numbers_never_sees_the_number_dialled(
    globex, agent1, admin_for, voice, django_capture_on_commit_callbacks, listen
):
    from answering.models import Line, Script
    from answering.scripts import script_version_draft, script_version_publish
    from tenants.models import User

    supervisor = User.objects.get(username="supervisor")
    with tenant_context(globex):
        line = Line.objects.get(phone_number=GLOBEX_LINE)
        script = Script.objects.create(line=line, name="Urgent matters")
        steps = [
            {
                "id": "ask",
                "kind": "ask",
                "prompt": "Name?",
                "questions": [{"key": "caller_name", "label": "Name", "target": "message.caller_name"}],
            },
            {"id": "transfer", "kind": "transfer", "prompt": "Putting you through.", "target": "oncall"},
        ]
        script_version_publish(
            version=script_version_draft(script=script, steps=steps, actor=supervisor), actor=supervisor
        )
        numbers = list(StaffMember.objects.values_list("phone_number", flat=True))
    _on_call(globex, GLOBEX_LINE, number="+37255529999")
    numbers.append("+37255529999")
    call = _live_call(globex, "globex.localhost", GLOBEX_LINE, agent1, django_capture_on_commit_callbacks)
    layer, channel = listen(agent1)
    client = admin_for(agent1, "globex")
    shown = [client.get(f"/admin/answering/call/{call.pk}/answer/").content.decode()]
    with django_capture_on_commit_callbacks(execute=True):
        shown.append(_start(client, call).content.decode())
        voice.deliver()
        shown.append(client.get(f"/admin/answering/call/{call.pk}/transfer/", **FETCH).content.decode())
        shown.append(_start(client, call).content.decode())  # refused: a transfer is open, or it failed
    transfer = _transfer(globex, call)
    assert transfer is not None
    shown.append(transfer.failure)
    events = [m["event"] for m in _received(layer, channel)]
    assert any(e.get("kind") == "transfer" for e in events)
    for event in events:
        assert set(event) <= PUSH_KEYS
        shown.append(json.dumps(event))
    for text in shown:
        for number in numbers:
            if number:
                assert number not in text
                assert number[4:] not in text  # nor its local form


def test_a_failure_after_the_caller_left_the_agent_dials_the_caller_back_to_the_agent(
    acme, agent1, admin_for, voice, django_capture_on_commit_callbacks
):
    _on_call(acme, EMERGENCIES)
    call = _live_call(acme, "acme.localhost", EMERGENCIES, agent1, django_capture_on_commit_callbacks)
    voice.fail_resources.add("conference")  # the caller is moved, then the agent cannot join them
    text = _start(admin_for(agent1, "acme"), call).content.decode()
    assert "The transfer failed" in text
    assert "still on hold" not in text
    method, resource, form = voice.voice_requests[-1]
    assert (method, resource) == ("POST", "call")
    assert f"<Client>agent-{agent1.pk}</Client>" in form["Twiml"]  # back on the agent's softphone
    assert _transfer(acme, call).state == Transfer.State.FAILED


def test_a_caller_who_hangs_up_during_the_transfer_ends_it(
    acme, agent1, admin_for, voice, django_capture_on_commit_callbacks
):
    _on_call(acme, EMERGENCIES)
    call = _live_call(acme, "acme.localhost", EMERGENCIES, agent1, django_capture_on_commit_callbacks)
    client = admin_for(agent1, "acme")
    _start(client, call)
    hung_up = {"CallSid": call.telephony_sid, "CallStatus": "completed", "CallDuration": "40"}
    assert post("/telephony/status/", hung_up).status_code == 204
    transfer = _transfer(acme, call)
    assert transfer.state == Transfer.State.FAILED
    assert transfer.failure == "the caller hung up"
    panel = client.get(f"/admin/answering/call/{call.pk}/transfer/", **FETCH).content.decode()
    assert "the caller hung up" in panel
    assert "Bridge and leave" not in panel
