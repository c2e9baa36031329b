"""Delivery (answering/services/delivery.py): by the line's routes, and signed outbound webhooks to
the client's own systems: signature, field choice, retries, dead letter, idempotency."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from answering.models import DeliveryAttempt, Line, Message, WebhookEndpoint
from answering.services.delivery import WEBHOOK_MAX_ATTEMPTS, webhook_signature
from answering.tasks import deliver_webhook

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


def test_a_failing_endpoint_is_retried_then_dead_lettered_with_an_alert(globex, globex_message, settings):
    settings.ADMINS = [("Ops", "ops@provider.example")]
    receiver = Receiver(fail=True)
    try:
        with tenant_context(globex):
            endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret=SECRET)
            deliver_webhook.apply(args=[globex_message.pk, endpoint.pk])
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
