"""Delivering a message to the client: by each of its line's routes (e-mail, SMS) and to each of the
company's active webhooks, with only the fields the client chose for each.

Every send is a DeliveryAttempt keyed by what it delivers, moved through its states under a row lock
(`answering/services/attempts.py`): a redelivered task resumes its own attempt and does not send
what was sent. The services report what is left to retry; the Celery tasks (`answering/tasks.py`)
own the retry schedule, which they keep as outbox rows (`operations/outbox/`), never as a countdown
in the broker. No transaction is held open across a send: the attempt is claimed in one short
transaction before the network and settled in another after it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, mail_admins
from django.db import connection, transaction

from answering.models import DeliveryAttempt, DeliveryRoute, Message, WebhookEndpoint
from answering.services.attempts import attempt_claim, attempt_settle, email_message_id
from answering.webhooks import webhook_url_check
from gates.outbound import SubProcessorRefused, outbound_require
from operations.outbox.services import outbox_put
from tenants.categories import field_category
from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.integrations import EMAIL, TWILIO_SMS
from tenants.models import User
from tenants.sms import SmsError, sms_send

logger = logging.getLogger(__name__)
MAX_DELIVERY_ATTEMPTS = 5
WEBHOOK_MAX_ATTEMPTS = 6
TASK_DELIVER_MESSAGE = "answering.deliver_message"
TASK_DELIVER_WEBHOOK = "answering.deliver_webhook"
Status = DeliveryAttempt.Status


@dataclass(frozen=True)
class Delivery:
    """What one delivery run did: the channels it sent by, the routes that failed, those the DPA
    refused, and whether to run again (`retry`: a route failed before the last try; `busy`: another
    worker is sending)."""

    sent: list[str] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retry: bool = False
    busy: bool = False
    refused: list[int] = field(default_factory=list)


def message_delivery_start(*, message: Message) -> None:
    """In the caller's transaction: the message is to be delivered once it commits."""
    outbox_put(task=TASK_DELIVER_MESSAGE, args=[message.pk, 1], key=f"deliver:{message.pk}:1")


def message_text(message: Message, route: DeliveryRoute) -> str:
    """Only what the client asked this route to receive."""
    lines = [f"{message.get_urgency_display()} message for {message.line.name} ({connection.tenant.name})"]
    if route.include_caller_name and message.caller_name:
        lines.append(f"Caller: {message.caller_name}")
    if route.include_caller_number and message.caller_number:
        lines.append(f"Number: {message.caller_number}")
    if route.include_body and message.body:
        lines.extend(["", message.body])
    lines.append("")
    lines.append(f"Acknowledge it in your portal: message #{message.pk}.")
    return "\n".join(lines)


def message_deliver(
    *, message_id: int, first_try: bool = True, last_try: bool = True, actor: User | None = None
) -> Delivery:
    """Deliver a message by each of its line's routes, once per (message, route): a route already
    sent is skipped, a failed one is tried again in place, one a killed worker left `sending` is
    resumed once it is abandoned. The first try also hands the message to each active webhook (an
    outbox row each). A message that reached any route is sent; one whose routes still fail on the
    last try is marked failed (it then shows, and alerts, as undelivered).

    A route whose provider the company's DPA does not authorise now (gates/outbound.py) sends
    nothing: its attempt is refused with the reason, and the other routes still go. A message no
    route may carry, and none sent, is marked failed at once, with the refusals in its delivery
    history; it stays in the portal and the admin for the client to read."""
    message = Message.objects.select_related("line").filter(pk=message_id).first()
    if message is None:
        return Delivery()
    if first_try:
        with transaction.atomic():
            for endpoint_id in WebhookEndpoint.objects.filter(active=True).values_list("pk", flat=True):
                outbox_put(
                    task=TASK_DELIVER_WEBHOOK,
                    args=[message.pk, endpoint_id, 1],
                    key=f"webhook:{message.pk}:{endpoint_id}:1",
                )
    sent, failed, refused, busy = [], [], [], False
    for route in DeliveryRoute.objects.filter(line=message.line):
        claim = attempt_claim(key=f"{message.pk}:route:{route.pk}", message=message, route=route, channel=route.channel)
        if claim.state == "busy":
            busy = True
        if claim.state != "claimed":
            continue
        attempt = claim.attempt
        try:
            provider_id = _route_send(message=message, route=route, attempt=attempt)
        except SubProcessorRefused as exc:
            attempt_settle(attempt=attempt, status=Status.REFUSED, error=f"Not sent: {exc}")
            refused.append(route.pk)
            continue
        except (SmsError, OSError) as exc:
            attempt_settle(attempt=attempt, status=Status.FAILED, error=exc)
            failed.append(route.pk)
            continue
        attempt_settle(attempt=attempt, status=Status.SENT, provider_id=provider_id)
        sent.append(route.channel)
    if sent:
        _message_move(message_id=message.pk, to=Message.Status.SENT, actor=actor)
    if refused and not (sent or failed or busy or _sent_before(message) or _has_webhooks()):
        # Nothing will retry a refusal, and no webhook (an allowed channel) may yet carry it: the
        # message is undeliverable now.
        _message_move(message_id=message.pk, to=Message.Status.FAILED, actor=actor)
        logger.error("message %s: every route refused by the company's DPA (routes %s)", message.pk, refused)
    if failed and last_try:
        _message_move(message_id=message.pk, to=Message.Status.FAILED, actor=actor)
        logger.error(
            "message %s could not be delivered to routes %s after %s tries", message.pk, failed, MAX_DELIVERY_ATTEMPTS
        )
    return Delivery(sent=sent, failed=failed, retry=bool(failed) and not last_try, busy=busy, refused=refused)


def _sent_before(message: Message) -> bool:
    return DeliveryAttempt.objects.filter(message=message, status=Status.SENT).exists()


def _has_webhooks() -> bool:
    return WebhookEndpoint.objects.filter(active=True).exists()


def _route_send(*, message: Message, route: DeliveryRoute, attempt: DeliveryAttempt) -> str:
    """Send by one route; returns the provider's id for it (the SMS's SID, the e-mail's Message-ID).
    Raises SubProcessorRefused, having sent nothing, when the DPA does not authorise the provider."""
    text = message_text(message, route)
    included = (
        ("caller_name", route.include_caller_name),
        ("caller_number", route.include_caller_number),
        ("body", route.include_body),
    )
    carried = [f for f, on in included if on and getattr(message, f)]
    is_email = route.channel == DeliveryRoute.Channel.EMAIL
    outbound_require(
        integration=EMAIL if is_email else TWILIO_SMS,
        # The recipient's address, and what the text carries of the message.
        categories=["user.contact.email" if is_email else "user.contact.phone_number"]
        + [field_category(Message, f) for f in carried],
        model=Message,
        object_ids=[message.pk],
        fields=carried,
        path=f"route:{route.pk}",
    )
    if is_email:
        message_id = email_message_id(attempt.key)
        EmailMessage(
            f"{message.get_urgency_display()} message #{message.pk}",
            text,
            settings.DEFAULT_FROM_EMAIL,
            [route.address],
            headers={"Message-ID": message_id},
        ).send()
        return message_id
    return sms_send(to=route.address, body=text[:1500])


def _message_move(*, message_id: int, to: str, actor: User | None) -> None:
    """A pending message becomes sent or failed; any later state stands."""
    with transaction.atomic(), change_log_actor(actor):
        message = (
            Message.objects.select_for_update()
            .filter(pk=message_id, status=Message.Status.PENDING)
            .only("pk", "status")
            .first()
        )
        if message is not None:
            message.status = to
            message.save(update_fields=["status"])


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex: what the receiver recomputes to trust a call."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def webhook_payload(message: Message, endpoint: WebhookEndpoint) -> dict:
    """The message as the endpoint subscribed to it: the fields it chose, and no others."""
    payload = {
        "id": message.pk,
        "company": connection.schema_name,
        "line": message.line.phone_number,
        "urgency": message.urgency,
        "created_at": message.created_at.isoformat(),
    }
    if endpoint.include_caller_name:
        payload["caller_name"] = message.caller_name
    if endpoint.include_caller_number:
        payload["caller_number"] = message.caller_number
    if endpoint.include_body:
        payload["body"] = message.body
    return payload


def webhook_deliver(*, message_id: int, endpoint_id: int, attempt_no: int) -> str:
    """POST a message to the client's endpoint, signed; one attempt per try, keyed by the try's
    number, so a redelivered task resumes its own try. Returns "skipped" (gone, or the endpoint
    inactive), "already sent", "busy" (another worker is on this try), or this try's status: "sent",
    "refused" (the URL no longer passes the check), "failed" (to be retried), or "dead_letter" after
    the last of WEBHOOK_MAX_ATTEMPTS tries, when the provider's admins are alerted."""
    message = Message.objects.select_related("line").filter(pk=message_id).first()
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, active=True).first()
    if message is None or endpoint is None:
        return "skipped"
    key = f"{message.pk}:webhook:{endpoint.pk}:{attempt_no}"
    if DeliveryAttempt.objects.filter(message=message, webhook=endpoint, status=Status.SENT).exclude(key=key).exists():
        return "already sent"
    claim = attempt_claim(key=key, message=message, webhook=endpoint, channel=DeliveryAttempt.Channel.WEBHOOK)
    if claim.state == "busy":
        return "busy"
    if claim.state == "done":
        return "already sent" if claim.attempt.status == Status.SENT else str(claim.attempt.status)
    attempt = claim.attempt
    try:
        # Checked again at each delivery: the host's name may point somewhere else by now.
        webhook_url_check(endpoint.url)
    except ApplicationError as exc:
        attempt_settle(attempt=attempt, status=Status.REFUSED, error=exc.message)
        logger.error("webhook %s refused for message %s: %s", endpoint.pk, message.pk, attempt.error)
        return str(Status.REFUSED)
    payload = webhook_payload(message, endpoint)
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Vastaja-Timestamp": timestamp,
            "X-Vastaja-Signature": f"v1={webhook_signature(endpoint.secret, timestamp, body)}",
            # The same at every try: the receiver drops a repeat by it.
            "X-Vastaja-Delivery": f"{message.pk}-{endpoint.pk}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        error = exc  # scrubbed where it is stored: the status only, a response may echo the payload
    else:
        attempt_settle(attempt=attempt, status=Status.SENT, provider_id=str(status))
        _message_move(message_id=message.pk, to=Message.Status.SENT, actor=None)
        return str(Status.SENT)
    if attempt_no < WEBHOOK_MAX_ATTEMPTS:
        attempt_settle(attempt=attempt, status=Status.FAILED, error=error)
        return str(Status.FAILED)
    attempt_settle(attempt=attempt, status=Status.DEAD_LETTER, error=error)
    mail_admins(
        f"Webhook dead-lettered: message #{message.pk} ({connection.schema_name})",
        f"{WEBHOOK_MAX_ATTEMPTS} attempts to deliver message #{message.pk} to webhook #{endpoint.pk} failed. "
        f"Last error: {attempt.error}",
    )
    logger.error("message %s dead-lettered for webhook %s", message.pk, endpoint.pk)
    return str(Status.DEAD_LETTER)


def delivery_retry_later(*, task: str, args: list, key: str, countdown: float) -> None:
    """A try that failed is tried again after `countdown` seconds: an outbox row due then, so the
    wait survives a restart of the broker and of every worker."""
    from django.utils import timezone

    outbox_put(task=task, args=args, key=key, due_at=timezone.now() + dt.timedelta(seconds=countdown))
