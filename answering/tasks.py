from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request

from celery import shared_task
from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.db import IntegrityError, connection, transaction

from answering.models import DeliveryAttempt, DeliveryRoute, Message, WebhookEndpoint
from answering.selectors import line_list
from answering.webhooks import webhook_url_check
from gates.signals import report_read
from tenants.errors import ApplicationError
from tenants.sms import SmsError, sms_send

logger = logging.getLogger(__name__)
MAX_DELIVERY_ATTEMPTS = 5


@shared_task(name="answering.schema_probe")
def schema_probe() -> dict:
    """Report which schema a worker ran this task in, and which lines it sees there.

    Used by the operator (and the test suite) to prove that a task runs in the tenant it was sent
    from.
    """
    return {"schema": connection.schema_name, "lines": [line.phone_number for line in line_list()]}


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


@shared_task(name="answering.deliver_message", bind=True, acks_late=True, max_retries=MAX_DELIVERY_ATTEMPTS - 1)
def deliver_message(self, message_id: int) -> list[str]:
    """Deliver a message by each of its line's routes. Idempotent per (message, route); a failed
    route is retried with exponential backoff, and the message is marked failed when retries run out."""
    message = Message.objects.select_related("line").filter(pk=message_id).first()
    if message is None:
        return []
    sent, failed = [], []
    for route in DeliveryRoute.objects.filter(line=message.line):
        key = f"{message.pk}:route:{route.pk}"
        attempt = DeliveryAttempt.objects.filter(key=key).first()
        if attempt is not None and attempt.status == DeliveryAttempt.Status.SENT:
            continue
        if attempt is None:
            try:
                with transaction.atomic():
                    attempt = DeliveryAttempt.objects.create(
                        message=message, route=route, channel=route.channel, key=key
                    )
            except IntegrityError:
                continue  # another worker has it
        try:
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
                    f"{message.get_urgency_display()} message #{message.pk}",
                    text,
                    settings.DEFAULT_FROM_EMAIL,
                    [route.address],
                )
            else:
                attempt.provider_id = sms_send(to=route.address, body=text[:1500])
            attempt.status, attempt.error = DeliveryAttempt.Status.SENT, ""
            sent.append(route.channel)
        except (SmsError, OSError) as exc:
            attempt.status, attempt.error = DeliveryAttempt.Status.FAILED, str(exc)[:300]
            failed.append(route.pk)
        attempt.save(update_fields=["status", "error", "provider_id"])
    if self.request.retries == 0:
        for endpoint_id in WebhookEndpoint.objects.filter(active=True).values_list("pk", flat=True):
            deliver_webhook.delay(message.pk, endpoint_id)
    if sent:
        Message.objects.filter(pk=message.pk, status=Message.Status.PENDING).update(status=Message.Status.SENT)
    if failed:
        if self.request.retries < self.max_retries:
            raise self.retry(countdown=min(30 * 2**self.request.retries, 3600))
        Message.objects.filter(pk=message.pk, status=Message.Status.PENDING).update(status=Message.Status.FAILED)
        logger.error(
            "message %s could not be delivered to routes %s after %s tries", message.pk, failed, MAX_DELIVERY_ATTEMPTS
        )
    return sent


@shared_task(name="answering.send_escalation", acks_late=True)
def send_escalation(message_id: int, staff_id: int, level: int) -> str:
    """Tell a person on call that an urgent message waits. No caller data: a pointer only."""
    from scheduling.models import StaffMember

    message = Message.objects.select_related("line").filter(pk=message_id).first()
    person = StaffMember.objects.filter(pk=staff_id).first()
    if message is None or person is None or message.status == Message.Status.ACKNOWLEDGED:
        return "skipped"
    key = f"{message.pk}:escalation:{level}"
    try:
        with transaction.atomic():
            attempt = DeliveryAttempt.objects.create(
                message=message,
                escalation_level=level,
                key=key,
                channel=DeliveryAttempt.Channel.SMS if person.phone_number else DeliveryAttempt.Channel.EMAIL,
            )
    except IntegrityError:
        return "already sent"
    text = (
        f"Urgent message #{message.pk} for {message.line.name} ({connection.tenant.name}) is not acknowledged. "
        "Please check the portal."
    )
    try:
        if person.phone_number:
            attempt.provider_id = sms_send(to=person.phone_number, body=text)
        elif person.email:
            send_mail(f"Urgent message #{message.pk} waiting", text, settings.DEFAULT_FROM_EMAIL, [person.email])
        else:
            raise SmsError("the person on call has no phone number or e-mail")
        attempt.status = DeliveryAttempt.Status.SENT
    except (SmsError, OSError) as exc:
        attempt.status, attempt.error = DeliveryAttempt.Status.FAILED, str(exc)[:300]
    attempt.save(update_fields=["status", "error", "provider_id"])
    return str(attempt.status)


WEBHOOK_MAX_ATTEMPTS = 6


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex: what the receiver recomputes to trust a call."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def webhook_payload(message: Message, endpoint: WebhookEndpoint) -> dict:
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


@shared_task(name="answering.deliver_webhook", bind=True, acks_late=True, max_retries=WEBHOOK_MAX_ATTEMPTS - 1)
def deliver_webhook(self, message_id: int, endpoint_id: int) -> str:
    """POST a message to the client's endpoint, signed; retried with exponential backoff, and
    dead-lettered (recorded, and the provider's admins alerted) after the last attempt."""
    message = Message.objects.select_related("line").filter(pk=message_id).first()
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, active=True).first()
    if message is None or endpoint is None:
        return "skipped"
    attempt_no = self.request.retries + 1
    if DeliveryAttempt.objects.filter(message=message, webhook=endpoint, status=DeliveryAttempt.Status.SENT).exists():
        return "already sent"
    try:
        # Checked again at each delivery: the host's name may point somewhere else by now.
        webhook_url_check(endpoint.url)
    except ApplicationError as exc:
        DeliveryAttempt.objects.create(
            message=message,
            webhook=endpoint,
            channel=DeliveryAttempt.Channel.WEBHOOK,
            status=DeliveryAttempt.Status.REFUSED,
            error=exc.message[:300],
            key=f"{message.pk}:webhook:{endpoint.pk}:{attempt_no}",
        )
        logger.error("webhook %s refused for message %s: %s", endpoint.pk, message.pk, exc.message)
        return str(DeliveryAttempt.Status.REFUSED)
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
        message=message,
        webhook=endpoint,
        channel=DeliveryAttempt.Channel.WEBHOOK,
        key=f"{message.pk}:webhook:{endpoint.pk}:{attempt_no}",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
        attempt.status = DeliveryAttempt.Status.SENT
        attempt.provider_id = str(status)
        attempt.save(update_fields=["status", "provider_id"])
        return str(DeliveryAttempt.Status.SENT)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        attempt.error = str(exc)[:300]
    if attempt_no < WEBHOOK_MAX_ATTEMPTS:
        attempt.status = DeliveryAttempt.Status.FAILED
        attempt.save(update_fields=["status", "error"])
        raise self.retry(countdown=min(30 * 2**self.request.retries, 6 * 3600))
    attempt.status = DeliveryAttempt.Status.DEAD_LETTER
    attempt.save(update_fields=["status", "error"])
    mail_admins(
        f"Webhook dead-lettered: message #{message.pk} ({connection.schema_name})",
        f"{WEBHOOK_MAX_ATTEMPTS} attempts to deliver message #{message.pk} to webhook #{endpoint.pk} failed. "
        f"Last error: {attempt.error}",
    )
    logger.error("message %s dead-lettered for webhook %s", message.pk, endpoint.pk)
    return str(DeliveryAttempt.Status.DEAD_LETTER)
