"""Delivery (answering/services/delivery.py): by the line's routes, and signed outbound webhooks to
the client's own systems: signature, field choice, retries, dead letter, idempotency."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django_tenants.utils import tenant_context

from answering.models import DeliveryAttempt, DeliveryRoute, Line, Message, WebhookEndpoint
from answering.services.delivery import (
    WEBHOOK_MAX_ATTEMPTS,
    Delivery,
    message_deliver,
    webhook_deliver,
    webhook_signature,
)
from answering.tasks import deliver_webhook
from tests.outbox import outbox_args, outbox_drain

pytestmark = pytest.mark.django_db
SECRET = "whsec-test-0123456789"


class Receiver:
    """The client's endpoint: checks the signature as a client would, or fails on purpose."""

    def __init__(self, *, fail: bool = False):
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "v1=" + webhook_signature(SECRET, self.headers["X-Vastaja-Timestamp"], body)
                receiver.received.append(
                    {"valid": self.headers["X-Vastaja-Signature"] == expected, "json": json.loads(body)}
                )
                self.send_response(500 if fail else 204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def globex_message(globex):
    with tenant_context(globex):
        line = Line.objects.get(phone_number="+3726002001")
        yield Message.objects.create(line=line, urgency="urgent", caller_name="Jaan Kask", body="Call me back")


def test_the_webhook_is_signed_and_carries_only_the_chosen_fields(globex, globex_message):
    receiver = Receiver()
    try:
        with tenant_context(globex):
            endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret=SECRET, include_caller_number=False)
            assert deliver_webhook.apply(args=[globex_message.pk, endpoint.pk]).get() == DeliveryAttempt.Status.SENT
            assert deliver_webhook.apply(args=[globex_message.pk, endpoint.pk]).get() == "already sent"
    finally:
        receiver.close()
    assert len(receiver.received) == 1
    delivered = receiver.received[0]
    assert delivered["valid"]
    assert delivered["json"]["body"] == "Call me back"
    assert "caller_number" not in delivered["json"]


def test_a_failing_endpoint_is_retried_then_dead_lettered_with_an_alert(globex, globex_message, settings, eager_tasks):
    settings.ADMINS = [("Ops", "ops@provider.example")]
    receiver = Receiver(fail=True)
    try:
        with tenant_context(globex):
            endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret=SECRET)
            deliver_webhook.apply(args=[globex_message.pk, endpoint.pk])
            # Each later try is an outbox row, due after its backoff: relayed as the time comes.
            assert [args[2] for args in outbox_args("answering.deliver_webhook")] == [2]
            assert outbox_drain() == WEBHOOK_MAX_ATTEMPTS - 1
            assert outbox_args("answering.deliver_webhook") == []
            attempts = list(DeliveryAttempt.objects.filter(webhook=endpoint).order_by("pk"))
    finally:
        receiver.close()
    assert len(receiver.received) == WEBHOOK_MAX_ATTEMPTS
    Status = DeliveryAttempt.Status
    assert [a.status for a in attempts] == [Status.FAILED] * (WEBHOOK_MAX_ATTEMPTS - 1) + [Status.DEAD_LETTER]
    assert "500" in attempts[-1].error
    assert mail.outbox[-1].to == ["ops@provider.example"]
    assert "dead-lettered" in mail.outbox[-1].subject


def test_a_tampered_body_fails_the_receivers_check():
    body = b'{"id":1}'
    good = webhook_signature(SECRET, "1700000000", body)
    assert webhook_signature(SECRET, "1700000000", b'{"id":2}') != good
    assert webhook_signature(SECRET, "1700000001", body) != good
    assert webhook_signature("other-secret", "1700000000", body) != good


# ---- By the line's routes (message_deliver) ---------------------------------------------------


@pytest.fixture
def routed(acme):
    """An acme message and its line's e-mail route, which leaves out the caller's number."""
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001002")
        route = DeliveryRoute.objects.create(
            line=line, channel=DeliveryRoute.Channel.EMAIL, address="desk@acme.example", include_caller_number=False
        )
        message = Message.objects.create(
            line=line, caller_name="Kati Karu", caller_number="+37251234577", body="Crown fell out"
        )
    return message, route


def _by_sms(acme, route: DeliveryRoute) -> None:
    with tenant_context(acme):
        route.channel, route.address = DeliveryRoute.Channel.SMS, "+37255520009"
        route.save(update_fields=["channel", "address"])


def test_each_route_gets_the_message_once_however_often_the_task_is_redelivered(acme, routed):
    message, route = routed
    with tenant_context(acme):
        assert message_deliver(message_id=message.pk) == Delivery(sent=["email"])
        assert message_deliver(message_id=message.pk) == Delivery()  # redelivered: nothing sent again
        attempt = DeliveryAttempt.objects.get(message=message)
        assert (attempt.route, attempt.status, attempt.key) == (
            route,
            DeliveryAttempt.Status.SENT,
            f"{message.pk}:route:{route.pk}",
        )
        assert Message.objects.get(pk=message.pk).status == Message.Status.SENT
        entry = LogEntry.objects.get_for_object(message).get(action=LogEntry.Action.UPDATE)
        assert (entry.actor, entry.changes_dict["status"]) == (None, ["pending", "sent"])
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["desk@acme.example"]
    assert "Crown fell out" in mail.outbox[0].body
    assert "+37251234577" not in mail.outbox[0].body  # the route did not ask for the number


def test_a_failing_route_is_retried_in_place_until_the_last_try_marks_the_message_failed(acme, routed, monkeypatch):
    from tenants.sms import SmsError

    message, route = routed
    _by_sms(acme, route)

    def refuse(**kwargs):
        raise SmsError("Twilio refused the message: HTTP 400, error 21211: invalid number")

    monkeypatch.setattr("answering.services.delivery.sms_send", refuse)
    with tenant_context(acme):
        assert message_deliver(message_id=message.pk, last_try=False) == Delivery(failed=[route.pk], retry=True)
        assert Message.objects.get(pk=message.pk).status == Message.Status.PENDING
        assert message_deliver(message_id=message.pk, first_try=False) == Delivery(failed=[route.pk])
        attempt = DeliveryAttempt.objects.get(message=message)  # one row, tried again in place
        assert (attempt.status, attempt.error) == (
            DeliveryAttempt.Status.FAILED,
            "Twilio refused the message: HTTP 400, error 21211: invalid number",
        )
        assert Message.objects.get(pk=message.pk).status == Message.Status.FAILED


def test_the_task_retries_a_failing_route_then_gives_the_message_up(acme, routed, monkeypatch, eager_tasks):
    from answering.services.delivery import MAX_DELIVERY_ATTEMPTS
    from answering.tasks import deliver_message
    from tenants.sms import SmsError

    message, route = routed
    _by_sms(acme, route)
    tries = []

    def refuse(**kwargs):
        tries.append(kwargs["to"])
        raise SmsError("unreachable")

    monkeypatch.setattr("answering.services.delivery.sms_send", refuse)
    with tenant_context(acme):
        deliver_message.apply(args=[message.pk])
        assert Message.objects.get(pk=message.pk).status == Message.Status.PENDING  # its next try is due later
        outbox_drain()
        assert Message.objects.get(pk=message.pk).status == Message.Status.FAILED
        attempt = DeliveryAttempt.objects.get(message=message)
        assert (attempt.status, attempt.tries) == (DeliveryAttempt.Status.FAILED, MAX_DELIVERY_ATTEMPTS)
    assert tries == ["+37255520009"] * MAX_DELIVERY_ATTEMPTS


def test_webhooks_are_handed_over_on_the_first_try_only_as_outbox_rows(acme, routed):
    message, _ = routed
    with tenant_context(acme):
        endpoint = WebhookEndpoint.objects.create(url="https://hooks.acme.example/in", secret=SECRET)
        WebhookEndpoint.objects.create(url="https://hooks.acme.example/old", secret=SECRET, active=False)
        message_deliver(message_id=message.pk)
        assert outbox_args("answering.deliver_webhook") == [[message.pk, endpoint.pk, 1]]
        message_deliver(message_id=message.pk, first_try=False)
        message_deliver(message_id=message.pk)  # a redelivered first try puts nothing twice
        assert outbox_args("answering.deliver_webhook") == [[message.pk, endpoint.pk, 1]]


def test_a_message_gone_is_delivered_nowhere(acme):
    with tenant_context(acme):
        assert message_deliver(message_id=10**9) == Delivery()
        assert webhook_deliver(message_id=10**9, endpoint_id=1, attempt_no=1) == "skipped"


# ---- A worker killed mid-send: the redelivered task resumes its own attempt ---------------------


def _abandon(attempt_key: str, *, seconds_ago: float) -> None:
    """What a worker killed between its send and its settle leaves: the attempt `sending`."""
    import datetime as dt

    from django.utils import timezone

    DeliveryAttempt.objects.filter(key=attempt_key).update(
        status=DeliveryAttempt.Status.SENDING, updated_at=timezone.now() - dt.timedelta(seconds=seconds_ago)
    )


def test_a_redelivered_webhook_try_resumes_its_attempt_and_never_trips_on_its_key(globex, globex_message, settings):
    receiver = Receiver()
    try:
        with tenant_context(globex):
            endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret=SECRET)
            key = f"{globex_message.pk}:webhook:{endpoint.pk}:1"
            DeliveryAttempt.objects.create(
                message=globex_message, webhook=endpoint, channel="webhook", key=key, tries=1
            )
            _abandon(key, seconds_ago=1)
            # Fresh in another worker's hands: not sent twice at once, and no IntegrityError.
            assert webhook_deliver(message_id=globex_message.pk, endpoint_id=endpoint.pk, attempt_no=1) == "busy"
            assert receiver.received == []
            # Older than a task may run: its worker died; the same try is sent again, on the same row.
            _abandon(key, seconds_ago=settings.DELIVERY_SENDING_TIMEOUT + 1)
            assert webhook_deliver(message_id=globex_message.pk, endpoint_id=endpoint.pk, attempt_no=1) == "sent"
            attempt = DeliveryAttempt.objects.get(key=key)
            assert (attempt.status, attempt.tries, attempt.provider_id) == ("sent", 2, "204")
            assert DeliveryAttempt.objects.filter(webhook=endpoint).count() == 1
            assert Message.objects.get(pk=globex_message.pk).status == Message.Status.SENT
            assert webhook_deliver(message_id=globex_message.pk, endpoint_id=endpoint.pk, attempt_no=1) == (
                "already sent"
            )
    finally:
        receiver.close()
    assert len(receiver.received) == 1


def test_an_abandoned_route_attempt_is_sent_again_with_the_same_message_id(acme, routed, settings):
    message, route = routed
    with tenant_context(acme):
        assert message_deliver(message_id=message.pk) == Delivery(sent=["email"])
        key = f"{message.pk}:route:{route.pk}"
        first_id = DeliveryAttempt.objects.get(key=key).provider_id
        _abandon(key, seconds_ago=settings.DELIVERY_SENDING_TIMEOUT - 5)
        assert message_deliver(message_id=message.pk) == Delivery(busy=True)
        _abandon(key, seconds_ago=settings.DELIVERY_SENDING_TIMEOUT + 5)
        assert message_deliver(message_id=message.pk) == Delivery(sent=["email"])
        attempt = DeliveryAttempt.objects.get(key=key)
        assert (attempt.status, attempt.tries, attempt.provider_id) == ("sent", 2, first_id)
    # At least once: the repeat carries the first one's Message-ID, so the receiving side drops it.
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [first_id, first_id]
    assert first_id.startswith(f"<{message.pk}.route.{route.pk}.acme@")


def test_a_settled_attempt_is_not_overwritten_by_a_worker_given_up_on(acme, routed):
    from answering.services.attempts import attempt_claim, attempt_settle

    message, route = routed
    with tenant_context(acme):
        key = f"{message.pk}:route:{route.pk}"
        slow = attempt_claim(key=key, message=message, route=route, channel="email").attempt
        DeliveryAttempt.objects.filter(key=key).update(tries=slow.tries + 1)  # a later claim took it over
        assert attempt_settle(attempt=slow, status=DeliveryAttempt.Status.FAILED, error="late") is False
        assert DeliveryAttempt.objects.get(key=key).status == DeliveryAttempt.Status.SENDING
