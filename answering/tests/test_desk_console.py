"""The agent's console and screen pop, from the side of whoever must not see: globex's caller
number never reaches a console, over the channel layer or in the HTML; a restricted contact shows
as restricted; agent2 (one acme line) is never offered an emergencies call; a call offered to one
agent is a 404 to every other."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import BusinessHours, Call, Line
from answering.tests.test_telephony import inbound, post
from crm.models import Contact
from desk.models import AgentState, Presence, PresenceChange, QueuedCall
from desk.push import PUSH_KEYS, agent_group
from desk.services import presence_set

pytestmark = pytest.mark.django_db
GLOBEX_LINE, RECEPTION, EMERGENCIES = "+3726002001", "+3726001001", "+3726001002"
NUMBER = "+37255591234"


def _open_all_day(company, number):
    with tenant_context(company):
        line = Line.objects.get(phone_number=number)
        for weekday in range(7):
            BusinessHours.objects.create(line=line, weekday=weekday, opens=dt.time(0), closes=dt.time(23, 59, 59))


def _available(*users):
    for n, user in enumerate(users):
        presence_set(user=user, state=AgentState.AVAILABLE, now=timezone.now() - dt.timedelta(minutes=10 - n))


@pytest.fixture
def listen():
    """`listen(user)`: a channel of the real layer in the agent's group, as their console's is
    (taken out of the group afterwards, so no stale member fills up)."""
    layer, joined = get_channel_layer(), []

    def join(user):
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(agent_group(user.pk), channel)
        joined.append((agent_group(user.pk), channel))
        return layer, channel

    yield join
    for group, channel in joined:
        async_to_sync(layer.group_discard)(group, channel)


def _received(layer, channel) -> list[dict]:
    import asyncio

    async def drain():
        events = []
        while True:
            try:
                events.append(await asyncio.wait_for(layer.receive(channel), timeout=0.5))
            except TimeoutError:
                return events

    return async_to_sync(drain)()


def _call_in(company, host, number, *, caller=NUMBER, captured) -> Call:
    params = inbound(caller=caller, to=number)
    with captured(execute=True):
        response = post("/telephony/voice/", params, host=host)
    assert response.status_code == 200
    assert "<Enqueue" in response.content.decode()
    with tenant_context(company):
        return Call.objects.get(telephony_sid=params["CallSid"])


def test_the_console_is_the_agents_landing_page_and_their_state_is_a_row(client_for, admin_for, agent1):
    from staff.tests.test_site import LOGIN, _code

    signed_in = client_for("localhost").post(
        LOGIN, {"username": "agent1", "password": "demo-pass-123", "otp_token": _code("agent1")}
    )
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/admin/desk/"
    client = admin_for(agent1)
    page = client.get("/admin/desk/")
    assert page.status_code == 200
    for label in ("Available", "On break", "Wrap-up", "Offline", "Calls waiting"):
        assert label in page.content.decode()
    client.post("/admin/desk/", {"state": "available"})
    assert Presence.objects.get(user=agent1).state == AgentState.AVAILABLE
    assert PresenceChange.objects.filter(user=agent1, state="available", cause="agent").exists()
    assert client.post("/admin/desk/", {"state": "on_call"}).status_code == 302  # refused with a message
    assert Presence.objects.get(user=agent1).state == AgentState.AVAILABLE


def test_client_users_and_the_dpo_have_no_console(admin_for, client_for, acme_admin):
    from tenants.models import User

    assert admin_for(User.objects.get(username="dpo")).get("/admin/desk/").status_code == 404
    assert client_for("localhost", acme_admin).get("/admin/desk/").status_code in (302, 404)


def test_globex_callers_number_reaches_no_console_by_the_layer_or_the_html(
    globex, admin_for, agent1, django_capture_on_commit_callbacks, listen
):
    with tenant_context(globex):
        Contact.objects.create(name="Numbered Caller", phone_number=NUMBER)
    _open_all_day(globex, GLOBEX_LINE)
    _available(agent1)
    layer, channel = listen(agent1)
    call = _call_in(globex, "globex.localhost", GLOBEX_LINE, captured=django_capture_on_commit_callbacks)
    queued = QueuedCall.objects.get(company=globex, call_id=call.pk)
    assert queued.state == QueuedCall.State.OFFERED
    assert queued.offered_to == agent1

    events = [message["event"] for message in _received(layer, channel)]
    offers = [e for e in events if e.get("kind") == "offer"]
    assert offers == [
        {"kind": "offer", "queued": queued.pk, "company": "globex", "expires_in": offers[0]["expires_in"]}
    ]
    for event in events:
        assert set(event) <= PUSH_KEYS
        text = json.dumps(event)
        assert "5559" not in text
        assert "Numbered" not in text

    card = admin_for(agent1).get(f"/admin/desk/offer/globex/{queued.pk}/")
    html = card.content.decode()
    assert card.status_code == 200
    assert "Globex Law main line" in html
    assert "Numbered Caller" in html  # globex's DPA grants names
    assert "restricted by DPA" in html
    for shown in (NUMBER, "5559 1234", "55591234", "5591234"):
        assert shown not in html
    assert "Accept" in html


def test_a_restricted_contact_shows_as_restricted_on_the_screen_pop(
    acme, admin_for, agent1, django_capture_on_commit_callbacks
):
    with tenant_context(acme):
        Contact.objects.create(name="Very Important Person", phone_number="+37255500077", restricted=True)
    _open_all_day(acme, RECEPTION)
    _available(agent1)
    call = _call_in(
        acme, "acme.localhost", RECEPTION, caller="+37255500077", captured=django_capture_on_commit_callbacks
    )
    queued = QueuedCall.objects.get(company=acme, call_id=call.pk)
    html = admin_for(agent1).get(f"/admin/desk/offer/acme/{queued.pk}/").content.decode()
    assert "restricted (their record needs an individual grant)" in html
    assert "Very Important Person" not in html


def test_agent2_is_never_offered_an_emergencies_call(acme, agent1, agent2, django_capture_on_commit_callbacks, listen):
    _open_all_day(acme, EMERGENCIES)
    _available(agent2)
    layer, channel = listen(agent2)
    call = _call_in(acme, "acme.localhost", EMERGENCIES, captured=django_capture_on_commit_callbacks)
    queued = QueuedCall.objects.get(company=acme, call_id=call.pk)
    assert agent2.pk not in queued.eligible
    assert agent1.pk in queued.eligible
    assert queued.state == QueuedCall.State.WAITING
    assert not [m for m in _received(layer, channel) if m["event"].get("kind") == "offer"]
    with django_capture_on_commit_callbacks(execute=True):
        _available(agent1)
    queued.refresh_from_db()
    assert queued.offered_to == agent1


def test_an_offer_is_a_404_to_anyone_else_and_accept_opens_the_answer_page_in_its_company(
    acme, admin_for, agent1, agent2, django_capture_on_commit_callbacks
):
    _open_all_day(acme, RECEPTION)
    _available(agent1)
    call = _call_in(acme, "acme.localhost", RECEPTION, captured=django_capture_on_commit_callbacks)
    queued = QueuedCall.objects.get(company=acme, call_id=call.pk)
    assert queued.offered_to == agent1
    other = admin_for(agent2)
    assert other.get(f"/admin/desk/offer/acme/{queued.pk}/").status_code == 404
    assert other.post(f"/admin/desk/offer/acme/{queued.pk}/accept/").status_code == 302
    queued.refresh_from_db()
    assert queued.state == QueuedCall.State.OFFERED  # agent2's accept changed nothing
    assert admin_for(agent1).get(f"/admin/desk/offer/globex/{queued.pk}/").status_code == 404  # wrong company

    client = admin_for(agent1)
    accepted = client.post(f"/admin/desk/offer/acme/{queued.pk}/accept/")
    assert accepted.status_code == 302
    assert accepted["Location"] == f"/admin/answering/call/{call.pk}/answer/"
    assert client.get(accepted["Location"]).status_code == 200  # the admin now works for acme
    queued.refresh_from_db()
    assert queued.state == QueuedCall.State.CONNECTED
    assert Presence.objects.get(user=agent1).state == AgentState.ON_CALL
    # The caller's hold loop is told to leave, and is then dialled through to the agent's softphone.
    sid = call.telephony_sid
    wait = post("/telephony/queue/wait/", {"CallSid": sid, "QueuePosition": "1"}).content.decode()
    assert "<Leave" in wait
    result = post("/telephony/queue/result/", {"CallSid": sid, "QueueResult": "leave"}).content.decode()
    assert f"<Client>agent-{agent1.pk}</Client>" in result


def test_the_hold_loop_tells_the_caller_their_place_among_their_company_s_calls_only(
    acme, globex, django_capture_on_commit_callbacks
):
    _open_all_day(acme, RECEPTION)
    _open_all_day(globex, GLOBEX_LINE)
    _call_in(globex, "globex.localhost", GLOBEX_LINE, captured=django_capture_on_commit_callbacks)
    first = _call_in(acme, "acme.localhost", RECEPTION, captured=django_capture_on_commit_callbacks)
    second = _call_in(acme, "acme.localhost", RECEPTION, captured=django_capture_on_commit_callbacks)
    hold = post("/telephony/queue/wait/", {"CallSid": second.telephony_sid}).content.decode()
    assert "All our agents are busy. Please hold. You are number 2 in the queue." in hold
    assert "<Pause" in hold
    hold = post("/telephony/queue/wait/", {"CallSid": first.telephony_sid}).content.decode()
    assert "You are number 1 in the queue." in hold


def test_past_the_maximum_wait_the_caller_leaves_for_voicemail(acme, django_capture_on_commit_callbacks):
    from desk.services import desk_tick

    _open_all_day(acme, RECEPTION)
    call = _call_in(acme, "acme.localhost", RECEPTION, captured=django_capture_on_commit_callbacks)
    with tenant_context(acme):
        max_wait = Line.objects.get(phone_number=RECEPTION).queue_max_wait_seconds
    desk_tick(now=timezone.now() + dt.timedelta(seconds=max_wait + 1))
    assert "<Leave" in post("/telephony/queue/wait/", {"CallSid": call.telephony_sid}).content.decode()
    result = post("/telephony/queue/result/", {"CallSid": call.telephony_sid, "QueueResult": "leave"})
    assert "<Record" in result.content.decode()


def test_a_caller_who_hangs_up_in_the_queue_frees_the_agent(acme, agent1, django_capture_on_commit_callbacks):
    _open_all_day(acme, RECEPTION)
    _available(agent1)
    call = _call_in(acme, "acme.localhost", RECEPTION, captured=django_capture_on_commit_callbacks)
    assert Presence.objects.get(user=agent1).state == AgentState.OFFERED
    post("/telephony/queue/result/", {"CallSid": call.telephony_sid, "QueueResult": "hangup"})
    assert QueuedCall.objects.get(company=acme, call_id=call.pk).state == QueuedCall.State.ABANDONED
    assert Presence.objects.get(user=agent1).state == AgentState.AVAILABLE


def test_a_replayed_voice_webhook_queues_the_call_once(acme, django_capture_on_commit_callbacks):
    _open_all_day(acme, RECEPTION)
    params = inbound(to=RECEPTION)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert post("/telephony/voice/", params).status_code == 200
    with tenant_context(acme):
        call = Call.objects.get(telephony_sid=params["CallSid"])
    assert QueuedCall.objects.filter(company=acme, call_id=call.pk).count() == 1


def test_signing_out_is_offline_at_once_and_the_offer_goes_back(
    acme, admin_for, agent1, django_capture_on_commit_callbacks
):
    _open_all_day(acme, RECEPTION)
    _available(agent1)
    call = _call_in(acme, "acme.localhost", RECEPTION, captured=django_capture_on_commit_callbacks)
    queued = QueuedCall.objects.get(company=acme, call_id=call.pk)
    assert queued.offered_to == agent1
    admin_for(agent1).post("/admin/logout/")
    assert Presence.objects.get(user=agent1).state == AgentState.OFFLINE
    assert PresenceChange.objects.filter(user=agent1, state="offline", cause="signed out").exists()
    queued.refresh_from_db()
    assert queued.state == QueuedCall.State.WAITING
    assert agent1.pk in queued.passed_over


def test_a_message_only_line_moves_an_overdue_call_to_the_head_then_to_voicemail(
    acme, django_capture_on_commit_callbacks
):
    from desk.services import desk_tick

    _open_all_day(acme, RECEPTION)
    with tenant_context(acme):
        Line.objects.filter(phone_number=RECEPTION).update(queue_overflow=Line.AfterHours.MESSAGE_ONLY)
        max_wait = Line.objects.get(phone_number=RECEPTION).queue_max_wait_seconds
    call = _call_in(acme, "acme.localhost", RECEPTION, captured=django_capture_on_commit_callbacks)
    queued = QueuedCall.objects.get(company=acme, call_id=call.pk)
    start = queued.enqueued_at
    desk_tick(now=start + dt.timedelta(seconds=max_wait + 1))
    queued.refresh_from_db()
    assert queued.state == QueuedCall.State.WAITING
    assert queued.priority >= 1000
    assert "<Leave" not in post("/telephony/queue/wait/", {"CallSid": call.telephony_sid}).content.decode()
    desk_tick(now=start + dt.timedelta(seconds=2 * max_wait + 2))
    queued.refresh_from_db()
    assert queued.state == QueuedCall.State.OVERFLOWED
    assert "<Leave" in post("/telephony/queue/wait/", {"CallSid": call.telephony_sid}).content.decode()


def test_a_break_reason_that_is_not_a_number_is_no_reason_not_a_500(admin_for, agent1):
    client = admin_for(agent1)
    assert client.post("/admin/desk/", {"state": "on_break", "reason": "coffee"}).status_code == 302
    presence = Presence.objects.get(user=agent1)
    assert (presence.state, presence.reason_id) == (AgentState.ON_BREAK, None)


def test_wrapping_up_makes_the_agent_available_again_and_routes_the_next_call(
    acme, admin_for, agent1, django_capture_on_commit_callbacks
):
    _open_all_day(acme, RECEPTION)
    _available(agent1)
    first = _call_in(acme, "acme.localhost", RECEPTION, captured=django_capture_on_commit_callbacks)
    second = _call_in(acme, "acme.localhost", RECEPTION, captured=django_capture_on_commit_callbacks)
    queued = QueuedCall.objects.get(company=acme, call_id=first.pk)
    client = admin_for(agent1, "acme")
    client.post(f"/admin/desk/offer/acme/{queued.pk}/accept/")
    assert Presence.objects.get(user=agent1).state == AgentState.ON_CALL
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"/admin/answering/call/{first.pk}/answer/", {"disposition": "info_given"})
    assert done.status_code == 302
    assert PresenceChange.objects.filter(user=agent1, state="available", cause="wrapped up").exists()
    # Available again, so the waiting call is offered to them at once.
    assert QueuedCall.objects.get(company=acme, call_id=second.pk).offered_to == agent1
    assert Presence.objects.get(user=agent1).state == AgentState.OFFERED


def test_an_agent_on_break_stays_on_break_when_a_call_is_closed(acme, agent1):
    from desk.services import presence_call_done

    presence_set(user=agent1, state=AgentState.ON_BREAK)
    presence_call_done(user=agent1)
    assert Presence.objects.get(user=agent1).state == AgentState.ON_BREAK
