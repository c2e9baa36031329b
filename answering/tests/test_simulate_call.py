"""`simulate_call`, the demo's stand-in for Twilio: it calls the demo's port, and with --in-hours a
line outside its business hours answers as if it were open (in the development profile only)."""

from __future__ import annotations

import urllib.parse

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

from answering.management.commands.simulate_call import Command
from answering.simulator import AS_IF_IN_HOURS, new_sid, sign

pytestmark = pytest.mark.django_db
RECEPTION = "+3726001001"  # the test world has no business hours: always closed


def _voice(extra: dict) -> str:
    params = {"CallSid": new_sid("CA"), "From": "+37251234501", "To": RECEPTION, "CallStatus": "ringing", **extra}
    url = "http://acme.localhost/telephony/voice/"
    return (
        Client(HTTP_HOST="acme.localhost")
        .post(
            "/telephony/voice/",
            urllib.parse.urlencode(params),
            content_type="application/x-www-form-urlencoded",
            HTTP_X_TWILIO_SIGNATURE=sign(auth_token=settings.TWILIO_AUTH_TOKEN, url=url, params=params),
        )
        .content.decode()
    )


def test_outside_business_hours_a_call_goes_to_voicemail_unless_made_as_if_in_hours(acme):
    assert "<Record" in _voice({})
    in_hours = _voice({AS_IF_IN_HOURS: "1"})
    assert "<Record" not in in_hours
    assert ">agents-acme</Enqueue>" in in_hours


@override_settings(PRODUCTION=True)
def test_in_production_a_call_is_never_made_as_if_in_hours(acme):
    assert "<Record" in _voice({AS_IF_IN_HOURS: "1"})


def test_it_calls_the_demos_port_and_asks_for_business_hours(acme, monkeypatch):
    posted = []

    base = "http://acme.localhost:8123/telephony/"
    answers = {
        f"{base}voice/": f'<Response><Enqueue waitUrl="{base}queue/wait/" action="{base}queue/result/">agents-acme'
        "</Enqueue></Response>",
        f"{base}queue/wait/": "<Response><Leave/></Response>",
        f"{base}queue/result/": "<Response><Dial><Client>agent-1</Client></Dial></Response>",
    }

    def post(self, url, params):
        posted.append((url, params))
        return answers.get(url, "")

    monkeypatch.setattr(Command, "_post", post)
    call_command("simulate_call", "acme", "--port", "8123", "--in-hours")
    assert [url for url, _params in posted] == [
        f"{base}voice/",
        f"{base}queue/wait/",
        f"{base}queue/result/",
        f"{base}status/",
        f"{base}status/",
    ]
    assert posted[2][1]["QueueResult"] == "leave"
    assert posted[0][1][AS_IF_IN_HOURS] == "1"
    assert AS_IF_IN_HOURS not in posted[1][1]

    posted.clear()
    call_command("simulate_call", "acme")
    assert posted[0][0] == "http://acme.localhost:8000/telephony/voice/"
    assert AS_IF_IN_HOURS not in posted[0][1]


def test_talk_keeps_the_caller_on_the_line_until_the_agent_wraps_the_call_up(acme, monkeypatch):
    import io
    import time

    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from answering.models import Call, Line

    base = "http://acme.localhost:8123/telephony/"
    answers = {
        f"{base}voice/": f'<Response><Enqueue waitUrl="{base}queue/wait/" action="{base}queue/result/">agents-acme'
        "</Enqueue></Response>",
        f"{base}queue/wait/": "<Response><Leave/></Response>",
        f"{base}queue/result/": "<Response><Dial><Client>agent-1</Client></Dial></Response>",
    }
    posted, wrap_up = [], {"disposition": "transferred"}

    def post(self, url, params):
        posted.append(params.get("CallStatus", ""))
        if url.endswith("/queue/result/"):  # put through to the agent, who will wrap it up
            with tenant_context(acme):
                Call.objects.create(
                    telephony_sid=params["CallSid"],
                    line=Line.objects.get(phone_number=RECEPTION),
                    started_at=timezone.now(),
                    **wrap_up,
                )
        return answers.get(url, "")

    monkeypatch.setattr(Command, "_post", post)
    out = io.StringIO()
    started = time.monotonic()
    call_command("simulate_call", "acme", "--port", "8123", "--in-hours", "--talk", "30", stdout=out)
    assert time.monotonic() - started < 10
    assert "wrapped up by the agent: transferred" in out.getvalue()
    assert posted[-2:] == ["in-progress", "completed"]  # the caller hangs up only after the wrap-up

    wrap_up["disposition"] = ""
    out = io.StringIO()
    call_command("simulate_call", "acme", "--port", "8123", "--in-hours", "--talk", "1", stdout=out)
    assert "the caller hangs up" in out.getvalue()
