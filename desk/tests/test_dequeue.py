"""Accepting a call dequeues the caller at once (Twilio's "Update a Queue Member"), from the caller's
side: the stand-in records the dequeue with the URL that puts them through to the agent who
accepted, and the call it then runs is that agent's softphone; it happens only after the accept
commits; and when Twilio refuses it, the caller is not lost: the next hold-loop request leaves."""

from __future__ import annotations

import urllib.parse

import pytest
from django.utils import timezone

from answering.tests.test_desk_console import RECEPTION, _available, _call_in, _open_all_day
from answering.tests.test_telephony import post
from desk.models import QueuedCall
from desk.services import offer_accept
from tests.fixtures import TWILIO_TEST_SID

pytestmark = pytest.mark.django_db
QUEUE_SID = "QU" + "1" * 32


@pytest.fixture
def voice(twilio, settings):
    twilio.reset()
    twilio.hold_callbacks = True  # this test's transaction is invisible to the stand-in's thread
    settings.TWILIO_API_BASE, settings.TWILIO_ACCOUNT_SID = twilio.base_url, TWILIO_TEST_SID
    yield twilio
    twilio.reset()


def _waiting(acme, agent, captured, *, queue_sid: str = QUEUE_SID):
    """A call in acme's queue, offered to `agent`, whose hold loop Twilio has requested once."""
    _open_all_day(acme, RECEPTION)
    _available(agent)
    call = _call_in(acme, "acme.localhost", RECEPTION, captured=captured)
    hold = post(
        "/telephony/queue/wait/",
        {"CallSid": call.telephony_sid, "QueueSid": queue_sid, "QueueTime": "0", "CurrentQueueSize": "1"},
    ).content.decode()
    assert "<Say>" in hold  # still waiting
    queued = QueuedCall.objects.get(company=acme, call_id=call.pk)
    assert queued.offered_to == agent
    return call, queued


def _accept(agent, queued, captured) -> list:
    """Accept, as the console does; returns the futures of what ran on commit."""
    with captured(execute=False) as callbacks:
        offer_accept(user=agent, queued_id=queued.pk, now=timezone.now())
    return [callback() for callback in callbacks]


def _dequeued(futures) -> list[str]:
    return [future.result(timeout=30) for future in futures if hasattr(future, "result")]


def test_accepting_dequeues_the_caller_at_once_to_the_agent_who_accepted(
    acme, agent1, voice, django_capture_on_commit_callbacks
):
    call, queued = _waiting(acme, agent1, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        offer_accept(user=agent1, queued_id=queued.pk)
        assert voice.dequeues == []  # nothing goes to Twilio inside the accepting transaction
    assert voice.dequeues == []
    assert _dequeued([callback() for callback in callbacks]) == [""]

    [dequeue] = voice.dequeues
    assert dequeue == {
        "queue_sid": QUEUE_SID,
        "call_sid": call.telephony_sid,
        "url": "http://acme.localhost/telephony/queue/result/",
        "method": "POST",
    }
    method, resource, form = voice.voice_requests[-1]
    assert (method, resource, form) == ("POST", "member", {"Url": dequeue["url"], "Method": "POST"})

    # Twilio then runs the TwiML at that URL on the caller's call: the agent's softphone.
    answered = []

    def send(url, params):
        parts = urllib.parse.urlsplit(url)
        response = post(parts.path, params, host=parts.netloc.split(":")[0])
        answered.append(response.content.decode())
        return response.status_code

    [(url, params, status)] = voice.flush(send)
    assert (url, params["CallSid"], params["QueueSid"], status) == (dequeue["url"], call.telephony_sid, QUEUE_SID, 200)
    assert f"<Dial><Client>agent-{agent1.pk}</Client></Dial>" in answered[0]


def test_when_twilio_refuses_the_dequeue_the_next_hold_request_still_leaves_for_the_agent(
    acme, agent1, voice, django_capture_on_commit_callbacks
):
    call, queued = _waiting(acme, agent1, django_capture_on_commit_callbacks)
    voice.fail_resources.add("member")
    [reason] = _dequeued(_accept(agent1, queued, django_capture_on_commit_callbacks))
    assert "HTTP 500, error 20500" in reason
    assert voice.dequeues == []
    queued.refresh_from_db()
    assert queued.state == QueuedCall.State.CONNECTED  # the accept stands

    hold = post("/telephony/queue/wait/", {"CallSid": call.telephony_sid, "QueueSid": QUEUE_SID}).content.decode()
    assert "<Leave" in hold
    result = post(
        "/telephony/queue/result/", {"CallSid": call.telephony_sid, "QueueResult": "leave", "QueueSid": QUEUE_SID}
    ).content.decode()
    assert f"<Client>agent-{agent1.pk}</Client>" in result


def test_twilio_unreachable_is_the_same_fallback(acme, agent1, voice, settings, django_capture_on_commit_callbacks):
    import socket

    call, queued = _waiting(acme, agent1, django_capture_on_commit_callbacks)
    with socket.socket() as closed:  # a loopback port nobody listens on
        closed.bind(("127.0.0.1", 0))
        settings.TWILIO_API_BASE = f"http://127.0.0.1:{closed.getsockname()[1]}"
    [reason] = _dequeued(_accept(agent1, queued, django_capture_on_commit_callbacks))
    assert reason.startswith("Twilio could not be reached")
    assert "<Leave" in post("/telephony/queue/wait/", {"CallSid": call.telephony_sid}).content.decode()


def test_a_hold_request_without_twilio_s_queue_sid_asks_nothing_of_twilio(
    acme, agent1, voice, django_capture_on_commit_callbacks
):
    """A QueueSid that is not Twilio's is never put into a REST path: the hold loop alone leaves."""
    call, queued = _waiting(acme, agent1, django_capture_on_commit_callbacks, queue_sid="../Calls/x")
    assert (queued.queue_sid, queued.dequeue_url) == ("", "")
    assert _dequeued(_accept(agent1, queued, django_capture_on_commit_callbacks)) == []
    assert voice.voice_requests == []
    assert "<Leave" in post("/telephony/queue/wait/", {"CallSid": call.telephony_sid}).content.decode()
