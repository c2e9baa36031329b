"""One call, end to end, on a real Celery worker with Redis: the inbound webhook, the agent's
urgent message, its delivery to the client, escalation along the on-call rota, and the client's
acknowledgement, which stops the escalation. globex's DPA names Twilio for SMS for the length of the
test; once it no longer does, the same long-running worker refuses the very next SMS (nothing about
the DPA is cached across tasks).

The worker is another process, so this test works on committed rows and removes them after.
"""

from __future__ import annotations

import time
import urllib.parse

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from answering.models import Call, DeliveryAttempt, DeliveryRoute, Line, Message
from answering.services.messages import message_take
from answering.simulator import new_sid, sign
from compliance.agreements.models import SubProcessor
from config.celery import app as celery_app
from operations.timers.models import Timer
from operations.timers.tasks import timers_sweep
from scheduling.selectors import oncall_for_line
from tenants.models import ClientCompany, User
from tests.fixtures import requires_redis

pytestmark = [requires_redis, pytest.mark.celery_worker]


def _wait_for(check, *, seconds: float = 60, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def committed(django_db_blocker, celery_worker_queue):
    created: dict[str, list] = {"calls": [], "routes": []}
    with django_db_blocker.unblock():
        globex = ClientCompany.objects.get(schema_name="globex")
        twilio = SubProcessor.objects.filter(
            version__agreement__company=globex, version__status="active", name="Twilio Ireland Ltd"
        )
        twilio.update(services=["voice", "sms"])  # as if globex's DPA named Twilio for SMS too
        previous_queue = celery_app.conf.task_default_queue
        celery_app.conf.task_default_queue = celery_worker_queue
        try:
            yield globex, created
        finally:
            twilio.update(services=["voice"])
            celery_app.conf.task_default_queue = previous_queue
            with tenant_context(globex):
                messages = Message.objects.filter(call__in=created["calls"])
                ids = [str(pk) for pk in messages.values_list("pk", flat=True)]
                Timer.objects.filter(kind="answering.escalate", target_id__in=ids).delete()
                DeliveryAttempt.objects.filter(message__in=messages).delete()
                messages.delete()
                Call.objects.filter(pk__in=created["calls"]).delete()
                DeliveryRoute.objects.filter(pk__in=created["routes"]).delete()
                Line.objects.filter(phone_number="+3726002001").update(urgent_ack_minutes=15)
            connection.set_schema_to_public()


def test_a_call_from_webhook_to_acknowledgement(committed, twilio, celery_worker_queue, client_for):
    globex, created = committed
    agent, client_admin = User.objects.get(username="agent1"), User.objects.get(username="globex-admin")

    # 1. The telephony provider posts the inbound call (signed, as Twilio would).
    params = {
        "CallSid": new_sid("CA"),
        "From": "+37251234502",
        "To": "+3726002001",
        "CallStatus": "ringing",
        "Direction": "inbound",
        "AccountSid": "AC" + "0" * 32,
    }
    url = "http://globex.localhost/telephony/voice/"
    response = Client(HTTP_HOST="globex.localhost").post(
        "/telephony/voice/",
        urllib.parse.urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=sign(auth_token=settings.TWILIO_AUTH_TOKEN, url=url, params=params),
    )
    assert response.status_code == 200
    with tenant_context(globex):
        line = Line.objects.get(phone_number="+3726002001")
        Line.objects.filter(pk=line.pk).update(urgent_ack_minutes=0)  # escalate at the next sweep
        line.refresh_from_db()
        call = Call.objects.get(telephony_sid=params["CallSid"])
        created["calls"].append(call.pk)
        route = DeliveryRoute.objects.create(
            line=line, channel="sms", address="+37255520000", include_caller_number=True
        )
        created["routes"].append(route.pk)
        on_call = oncall_for_line(line=line)
        assert on_call, "the demo rota covers today"

        # 2. The agent takes an urgent message; globex's DPA does not let them record the number.
        message = message_take(
            line=line,
            actor=agent,
            urgency="urgent",
            caller_name="Jaan Kask",
            body="Arrested, needs a lawyer now",
            call=call,
        )

    # 3. The worker delivers it to the client's route by SMS, with no number in it.
    def delivered():
        with tenant_context(globex):
            return DeliveryAttempt.objects.filter(
                message_id=message.pk, route=route, status=DeliveryAttempt.Status.SENT
            ).first()

    _wait_for(delivered, what="delivery to the client's route")
    sms_to_client = [m for m in twilio.messages if m["to"] == "+37255520000"]
    assert "Arrested, needs a lawyer now" in sms_to_client[-1]["body"]
    assert "+37251234502" not in sms_to_client[-1]["body"]

    # 4. Nobody acknowledges: beat's sweep escalates to the first person on call.
    with tenant_context(globex):
        timers_sweep.apply_async(queue=celery_worker_queue).get(timeout=60)

    def escalated():
        with tenant_context(globex):
            return DeliveryAttempt.objects.filter(
                message_id=message.pk, escalation_level=1, status=DeliveryAttempt.Status.SENT
            ).first()

    _wait_for(escalated, what="the escalation to the person on call")
    with tenant_context(globex):
        first_on_call = on_call[0].phone_number
    escalation_sms = [m for m in twilio.messages if m["to"] == first_on_call]
    assert f"Urgent message #{message.pk}" in escalation_sms[-1]["body"]
    assert "Jaan Kask" not in escalation_sms[-1]["body"]  # a pointer, not the caller's data

    # 4b. globex's DPA stops naming Twilio for SMS: the worker, still running, refuses the next one.
    SubProcessor.objects.filter(
        version__agreement__company=globex, version__status="active", name="Twilio Ireland Ltd"
    ).update(services=["voice"])
    with tenant_context(globex):
        second = message_take(line=line, actor=agent, caller_name="Mari Tamm", body="A second message", call=call)

    def refused():
        with tenant_context(globex):
            return DeliveryAttempt.objects.filter(
                message_id=second.pk, route=route, status=DeliveryAttempt.Status.REFUSED
            ).first()

    attempt = _wait_for(refused, what="the refusal of the next SMS")
    assert "no sub-processor is named for SMS" in attempt.error
    assert not any("A second message" in m["body"] for m in twilio.messages)

    # 5. The client acknowledges through its API; the next sweep escalates no further.
    api = client_for("globex.localhost", client_admin)
    acknowledged = api.post(f"/api/v1/messages/{message.pk}/acknowledge/")
    assert acknowledged.status_code == 200
    assert acknowledged.json()["status"] == "acknowledged"
    with tenant_context(globex):
        timers_sweep.apply_async(queue=celery_worker_queue).get(timeout=60)
        assert not DeliveryAttempt.objects.filter(message_id=message.pk, escalation_level=2).exists()
        assert Message.objects.get(pk=message.pk).status == "acknowledged"
