"""Escalation: an urgent message nobody acknowledged in time goes to the people on call, one after
the other, each told by SMS (or e-mail) that it waits, with no caller data in the notice."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from answering.models import DeliveryAttempt, Message
from operations.timers.registry import timer_handler
from operations.timers.services import timer_schedule
from tenants.changelog import change_log_actor
from tenants.models import User
from tenants.scrub import provider_text_scrub
from tenants.sms import SmsError, sms_send

TIMER_ESCALATE = "answering.escalate"


def escalation_schedule(*, message: Message) -> None:
    """Start (or restart) the wait for an acknowledgement: the line's deadline from now."""
    timer_schedule(
        kind=TIMER_ESCALATE,
        target_id=message.pk,
        due_at=timezone.now() + dt.timedelta(minutes=message.line.urgent_ack_minutes),
    )


def message_escalate(*, message_id: int, actor: User | None = None) -> int | None:
    """An urgent message is still unacknowledged: tell the next person on call, and wait again.

    Returns the level it escalated to, or None when there was nothing to do (acknowledged, gone, or
    everyone on call already told: the admin's message list then shows it unacknowledged)."""
    from answering.tasks import send_escalation
    from scheduling.selectors import oncall_for_line

    with transaction.atomic(), change_log_actor(actor):
        message = Message.objects.select_for_update(of=("self",)).select_related("line").filter(pk=message_id).first()
        if message is None or message.status == Message.Status.ACKNOWLEDGED:
            return None
        on_call = oncall_for_line(line=message.line)
        level = message.escalation_level + 1
        if level > len(on_call):
            return None
        message.escalation_level = level
        message.save(update_fields=["escalation_level"])
        person_id = on_call[level - 1].pk
        transaction.on_commit(lambda: send_escalation.delay(message.pk, person_id, level))
        if level < len(on_call):
            escalation_schedule(message=message)
    return level


@timer_handler(TIMER_ESCALATE)
def _escalation_due(target_id: str) -> None:
    message_escalate(message_id=int(target_id))


def escalation_send(*, message_id: int, staff_id: int, level: int) -> str:
    """Tell a person on call that an urgent message waits: a pointer only, no caller data.

    Once per (message, level): a redelivered task finds its attempt and sends nothing again. Returns
    "skipped", "already sent", or the attempt's status."""
    from scheduling.models import StaffMember

    message = Message.objects.select_related("line").filter(pk=message_id).first()
    person = StaffMember.objects.filter(pk=staff_id).first()
    if message is None or person is None or message.status == Message.Status.ACKNOWLEDGED:
        return "skipped"
    channel = DeliveryAttempt.Channel.SMS if person.phone_number else DeliveryAttempt.Channel.EMAIL
    try:
        with transaction.atomic():
            attempt = DeliveryAttempt.objects.create(
                message=message, escalation_level=level, key=f"{message.pk}:escalation:{level}", channel=channel
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
        attempt.status, attempt.error = DeliveryAttempt.Status.FAILED, provider_text_scrub(exc)
    attempt.save(update_fields=["status", "error", "provider_id"])
    return str(attempt.status)
