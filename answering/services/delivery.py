"""Delivering a message to the client: by each of its line's routes (e-mail, SMS) and to each of the
company's active webhooks, with only the fields the client chose for each.

Every send is recorded as a DeliveryAttempt whose unique key makes it idempotent: a redelivered
task finds its attempt and does not send twice. The services report what is left to retry; the
Celery tasks (`answering/tasks.py`) own the retry schedule. No transaction is held open across a
send: each attempt's row is written in its own short transaction before and after the network.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.db import IntegrityError, connection, transaction

from answering.models import DeliveryAttempt, DeliveryRoute, Message, WebhookEndpoint
from answering.webhooks import webhook_url_check
from gates.signals import report_read
from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.models import User
from tenants.scrub import provider_text_scrub
from tenants.sms import SmsError, sms_send

logger = logging.getLogger(__name__)
MAX_DELIVERY_ATTEMPTS = 5
WEBHOOK_MAX_ATTEMPTS = 6
Status = DeliveryAttempt.Status


@dataclass(frozen=True)
class Delivery:
    """What one delivery run did: the channels it sent by, and the routes that failed."""

    sent: list[str] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retry: bool = False


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
    sent is skipped, a failed one is tried again in place. The first try also hands the message to
    each active webhook. A message that reached any route is sent; one whose routes still fail on the
    last try is marked failed (it then shows, and alerts, as undelivered)."""
    from answering.tasks import deliver_webhook

    message = Message.objects.select_related("line").filter(pk=message_id).first()
    if message is None:
        return Delivery()
    sent, failed = [], []
    for route in DeliveryRoute.objects.filter(line=message.line):
        attempt = _route_attempt(message=message, route=route)
        if attempt is None:
            continue
        try:
            _route_send(message=message, route=route, attempt=attempt)
            attempt.status, attempt.error = Status.SENT, ""
            sent.append(route.channel)
        except (SmsError, OSError) as exc:
            attempt.status, attempt.error = Status.FAILED, provider_text_scrub(exc)
            failed.append(route.pk)
        attempt.save(update_fields=["status", "error", "provider_id"])
    if first_try:
        for endpoint_id in WebhookEndpoint.objects.filter(active=True).values_list("pk", flat=True):
            transaction.on_commit(lambda endpoint_id=endpoint_id: deliver_webhook.delay(message.pk, endpoint_id))
    if sent:
        _message_move(message_id=message.pk, to=Message.Status.SENT, actor=actor)
    if failed and last_try:
        _message_move(message_id=message.pk, to=Message.Status.FAILED, actor=actor)
        logger.error(
            "message %s could not be delivered to routes %s after %s tries", message.pk, failed, MAX_DELIVERY_ATTEMPTS
        )
    return Delivery(sent=sent, failed=failed, retry=bool(failed) and not last_try)


def _route_attempt(*, message: Message, route: DeliveryRoute) -> DeliveryAttempt | None:
    """The attempt to (re)send on, or None when the route is already served."""
    key = f"{message.pk}:route:{route.pk}"
    attempt = DeliveryAttempt.objects.filter(key=key).first()
    if attempt is not None:
        return None if attempt.status == Status.SENT else attempt
    try:
        with transaction.atomic():
            return DeliveryAttempt.objects.create(message=message, route=route, channel=route.channel, key=key)
    except IntegrityError:
        return None  # another worker has it


def _route_send(*, message: Message, route: DeliveryRoute, attempt: DeliveryAttempt) -> None:
    text = message_text(message, route)
    included = (
        ("caller_name", route.include_caller_name),
        ("caller_number", route.include_caller_number),
        ("body", route.include_body),
    )
    report_read(
        user=None,
        channel="task",
        model=Message,
        object_ids=[message.pk],
        path=f"route:{route.pk}",
        fields=[f for f, on in included if on and getattr(message, f)],
    )
    if route.channel == DeliveryRoute.Channel.EMAIL:
        send_mail(
            f"{message.get_urgency_display()} message #{message.pk}", text, settings.DEFAULT_FROM_EMAIL, [route.address]
        )
    else:
        attempt.provider_id = sms_send(to=route.address, body=text[:1500])


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
    """POST a message to the client's endpoint, signed; one attempt row per try. Returns "skipped"
    (gone, or the endpoint inactive), "already sent", or this try's status: "sent", "refused" (the
    URL no longer passes the check), "failed" (to be retried), or "dead_letter" after the last of
    WEBHOOK_MAX_ATTEMPTS tries, when the provider's admins are alerted."""
    message = Message.objects.select_related("line").filter(pk=message_id).first()
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, active=True).first()
    if message is None or endpoint is None:
        return "skipped"
    if DeliveryAttempt.objects.filter(message=message, webhook=endpoint, status=Status.SENT).exists():
        return "already sent"
    key = f"{message.pk}:webhook:{endpoint.pk}:{attempt_no}"
    try:
        # Checked again at each delivery: the host's name may point somewhere else by now.
        webhook_url_check(endpoint.url)
    except ApplicationError as exc:
        DeliveryAttempt.objects.create(
            message=message,
            webhook=endpoint,
            channel=DeliveryAttempt.Channel.WEBHOOK,
            status=Status.REFUSED,
            error=exc.message[:300],
            key=key,
        )
        logger.error("webhook %s refused for message %s: %s", endpoint.pk, message.pk, exc.message)
        return str(Status.REFUSED)
    payload = webhook_payload(message, endpoint)
    body = json.dumps(payload, separators=(",", ":")).encode()
    report_read(
        user=None,
        channel="task",
        model=Message,
        object_ids=[message.pk],
        fields=list(payload),
        path=f"webhook:{endpoint.pk}",
    )
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Vastaja-Timestamp": timestamp,
            "X-Vastaja-Signature": f"v1={webhook_signature(endpoint.secret, timestamp, body)}",
            "X-Vastaja-Delivery": f"{message.pk}-{endpoint.pk}",
        },
    )
    attempt = DeliveryAttempt.objects.create(
        message=message, webhook=endpoint, channel=DeliveryAttempt.Channel.WEBHOOK, key=key
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
        attempt.status = Status.SENT
        attempt.provider_id = str(status)
        attempt.save(update_fields=["status", "provider_id"])
        return str(Status.SENT)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        attempt.error = provider_text_scrub(exc)  # the status only: a response may echo the payload
    if attempt_no < WEBHOOK_MAX_ATTEMPTS:
        attempt.status = Status.FAILED
        attempt.save(update_fields=["status", "error"])
        return str(Status.FAILED)
    attempt.status = Status.DEAD_LETTER
    attempt.save(update_fields=["status", "error"])
    mail_admins(
        f"Webhook dead-lettered: message #{message.pk} ({connection.schema_name})",
        f"{WEBHOOK_MAX_ATTEMPTS} attempts to deliver message #{message.pk} to webhook #{endpoint.pk} failed. "
        f"Last error: {attempt.error}",
    )
    logger.error("message %s dead-lettered for webhook %s", message.pk, endpoint.pk)
    return str(Status.DEAD_LETTER)
