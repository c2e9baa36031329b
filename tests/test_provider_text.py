"""Text from outside services is stored without personal data (issue 13, leak 8).

From the side of those who must not see the person: a reader of the database (raw SQL over the
`error` columns, which are not encrypted), an operator reading alert e-mails, and whoever reads the
logs. The providers here are stand-ins that speak the real protocols and echo the person, as real
ones do: Twilio's REST API refusing a number with error 21211, which quotes it; an SMTP server
refusing a recipient at RCPT, quoting the address; a client's webhook endpoint answering 500 with
a reason and a body that echo the caller's number. The provider's code stays, so operators can act.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import zoneinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import DeliveryAttempt, DeliveryRoute, Line, Message, WebhookEndpoint
from answering.services.delivery import WEBHOOK_MAX_ATTEMPTS, message_deliver
from answering.services.escalation import escalation_send
from answering.tasks import deliver_webhook
from crm.models import Contact
from demo.twilio_standin import TwilioStandIn
from operations.monitoring.alerts import alerts_sweep
from scheduling.models import Notification, ReminderSettings, Resource, Service, StaffMember, WeeklyAvailability
from scheduling.services import appointment_book, appointment_message_send
from tenants.models import User
from tests.outbox import outbox_drain
from tests.smtp_standin import SmtpStandIn

pytestmark = pytest.mark.django_db
NUMBER, LOCAL = "+37251234501", "51234501"  # Estonia has no trunk prefix: the local form is the rest
ADDRESS = "mari.tamm@example.ee"
SID, TOKEN = "AC" + "5" * 32, "standin-token"
TALLINN = zoneinfo.ZoneInfo("Europe/Tallinn")


def _traces(texts: list[str]) -> list[str]:
    """The person's number (in any of its forms, separators or not) or address, where found."""
    found = []
    for text in texts:
        flat = re.sub(r"[\s\-().+/]", "", text)
        if LOCAL in flat or ADDRESS in text or "mari.tamm" in text:
            found.append(text)
    return found


def _rows(schema: str, table: str) -> list[str]:
    """Every row of the table as the database holds it: what a reader with SQL access sees."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT t::text FROM "{schema}"."{table}" t')
        return [row for (row,) in cursor.fetchall()]


@pytest.fixture
def operators(db, settings):
    """Alerts go to the DPO and to the operators' ADMINS (mail_admins)."""
    User.objects.filter(username="dpo").update(email="dpo@provider.example")
    settings.ADMINS = [("Ops", "ops@provider.example")]


@pytest.fixture
def twilio_refusing(settings):
    """Twilio's stand-in, refusing the person's number as Twilio refuses one it cannot send to."""
    with TwilioStandIn(SID, TOKEN) as standin:
        standin.invalid_numbers.add(NUMBER)
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
        settings.TWILIO_FROM_NUMBER, settings.TWILIO_API_BASE = "+3725550000", standin.base_url
        yield standin


@pytest.fixture
def smtp(settings):
    """An SMTP server refusing the person's address at RCPT, through Django's SMTP backend."""
    with SmtpStandIn(refused={ADDRESS}) as standin:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = standin.host, standin.port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5
        yield standin
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


# ---- what sends to the person: each returns (table, the stored error) ---------------------------


def _route_delivery(channel: str) -> tuple[str, str]:
    line = Line.objects.get(phone_number="+3726001002")
    address = NUMBER if channel == "sms" else ADDRESS
    route = DeliveryRoute.objects.create(line=line, channel=channel, address=address)
    message = Message.objects.create(line=line, caller_name="Mari Tamm", caller_number=NUMBER, body="Call me")
    assert message_deliver(message_id=message.pk).failed == [route.pk]
    return "answering_deliveryattempt", DeliveryAttempt.objects.get(message=message, route=route).error


def _escalation(channel: str) -> tuple[str, str]:
    line = Line.objects.get(phone_number="+3726001001")
    person = StaffMember.objects.create(
        name="Dr Mari Tamm", phone_number=NUMBER if channel == "sms" else "", email=ADDRESS
    )
    message = Message.objects.create(line=line, urgency=Message.Urgency.URGENT, body="Swollen jaw")
    assert escalation_send(message_id=message.pk, staff_id=person.pk, level=1) == DeliveryAttempt.Status.FAILED
    return "answering_deliveryattempt", DeliveryAttempt.objects.get(message=message).error


def _reminder(channel: str) -> tuple[str, str]:
    ReminderSettings.objects.update_or_create(
        pk=1, defaults={"email_enabled": channel == "email", "sms_enabled": channel == "sms"}
    )
    service = Service.objects.create(name="Scrub test visit", duration_minutes=30)
    resource = Resource.objects.create(label="Scrub test chair", kind="room")
    resource.services.add(service)
    for weekday in range(7):
        WeeklyAvailability.objects.create(
            resource=resource, weekday=weekday, start_time=dt.time(2), end_time=dt.time(17)
        )
    contact = Contact.objects.create(name="Mari Tamm", phone_number=NUMBER, email=ADDRESS)
    day = timezone.localdate() + dt.timedelta(days=2)
    booking = appointment_book(
        service=service,
        resource=resource,
        starts_at=dt.datetime.combine(day, dt.time(10), tzinfo=TALLINN),
        actor=User.objects.get(username="acme-admin"),
        contact=contact,
    )
    assert appointment_message_send(appointment_id=booking.pk, kind=Notification.Kind.REMINDER) == []
    return "scheduling_notification", Notification.objects.get(appointment=booking, channel=channel).error


SENDS = {"route delivery": _route_delivery, "escalation": _escalation, "reminder": _reminder}


@pytest.mark.parametrize("send", SENDS.values(), ids=SENDS.keys())
def test_a_refused_sms_leaves_no_number_in_the_database_the_logs_or_the_alerts(
    send, acme, twilio_refusing, operators, caplog, mailoutbox
):
    caplog.set_level(logging.DEBUG)
    with tenant_context(acme):
        table, error = send("sms")
        rows = _rows("acme", table)
    alerts_sweep()
    mails = [f"{m.subject}\n{m.body}" for m in mailoutbox]
    assert _traces([*rows, caplog.text, *mails]) == []
    assert "error 21211" in error  # Twilio's code stays: the operator can look it up
    assert "[number]" in error


@pytest.mark.parametrize("send", SENDS.values(), ids=SENDS.keys())
def test_a_refused_email_leaves_no_address_in_the_database_the_logs_or_the_alerts(
    send, acme, smtp, operators, settings, caplog, mailoutbox
):
    caplog.set_level(logging.DEBUG)
    with tenant_context(acme):
        table, error = send("email")
        rows = _rows("acme", table)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    alerts_sweep()
    mails = [f"{m.subject}\n{m.body}" for m in mailoutbox]
    assert _traces([*rows, caplog.text, *mails]) == []
    assert smtp.messages == []
    assert "SMTP 550 5.1.1" in error  # the server's codes stay
    assert "[address]" in error


class EchoingEndpoint:
    """A client's endpoint that fails with the caller's number in its reason and the whole payload
    in its body, as a careless receiver's error page does."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                body = json.dumps({"error": f"unknown caller {payload.get('caller_number')}", "got": payload})
                self.send_response(500, f"Unknown caller {payload.get('caller_number')}")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_webhook_answering_500_with_the_number_leaves_only_its_status(
    acme, operators, caplog, mailoutbox, eager_tasks
):
    caplog.set_level(logging.DEBUG)
    endpoint = EchoingEndpoint()
    try:
        with tenant_context(acme):
            line = Line.objects.get(phone_number="+3726001002")
            message = Message.objects.create(line=line, caller_name="Mari Tamm", caller_number=NUMBER, body="Hi")
            hook = WebhookEndpoint.objects.create(url=endpoint.url, secret="whsec-echo")
            assert deliver_webhook.apply(args=[message.pk, hook.pk]).get() == DeliveryAttempt.Status.FAILED
            outbox_drain()  # every later try, each an outbox row due after its backoff
            last = DeliveryAttempt.objects.filter(webhook=hook).latest("pk")
            assert last.status == DeliveryAttempt.Status.DEAD_LETTER
            errors = list(DeliveryAttempt.objects.filter(webhook=hook).values_list("error", flat=True))
            rows = _rows("acme", "answering_deliveryattempt")
    finally:
        endpoint.close()
    assert any("dead-lettered" in m.subject for m in mailoutbox)  # mail_admins, with the last error
    alerts_sweep()
    mails = [f"{m.subject}\n{m.body}" for m in mailoutbox]
    assert _traces([*rows, caplog.text, *mails]) == []
    assert errors == ["HTTP 500 Internal Server Error"] * WEBHOOK_MAX_ATTEMPTS  # the status, never the body
