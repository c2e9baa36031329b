"""Escalation: an urgent message nobody acknowledged in time goes to the people on call, one after
the other, each told by SMS (or e-mail) that it waits, with no caller data in the notice. Each
channel goes only through a provider the company's DPA authorises now (gates/outbound.py): SMS
falls back to e-mail, and a notice no channel may carry is refused with the reason, in the
message's delivery history."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone

from answering.models import DeliveryAttempt, Message
from answering.services.attempts import attempt_claim, attempt_settle, email_message_id
from gates.outbound import outbound_check
from operations.outbox.services import outbox_put
from operations.timers.registry import timer_handler
from operations.timers.services import timer_schedule
from tenants.changelog import change_log_actor
from tenants.integrations import EMAIL, TWILIO_SMS
from tenants.models import User
from tenants.sms import SmsError, sms_send

TIMER_ESCALATE = "answering.escalate"
TASK_SEND_ESCALATION = "answering.send_escalation"


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
        # The notice is an outbox row in this transaction: told once the level is committed.
        outbox_put(
            task=TASK_SEND_ESCALATION, args=[message.pk, person_id, level], key=f"escalation:{message.pk}:{level}"
        )
        if level < len(on_call):
            escalation_schedule(message=message)
    return level


@timer_handler(TIMER_ESCALATE)
def _escalation_due(target_id: str) -> None:
    message_escalate(message_id=int(target_id))


def escalation_send(*, message_id: int, staff_id: int, level: int) -> str:
    """Tell a person on call that an urgent message waits: a pointer only, no caller data.

    Once per (message, level): a redelivered task resumes its own attempt and sends nothing that
    was sent. Returns "skipped", "already sent", "busy" (another worker is sending it), or the
    attempt's status."""
    from scheduling.models import StaffMember

    message = Message.objects.select_related("line").filter(pk=message_id).first()
    person = StaffMember.objects.filter(pk=staff_id).first()
    if message is None or person is None or message.status == Message.Status.ACKNOWLEDGED:
        return "skipped"
    channel = DeliveryAttempt.Channel.SMS if person.phone_number else DeliveryAttempt.Channel.EMAIL
    claim = attempt_claim(
        key=f"{message.pk}:escalation:{level}", message=message, escalation_level=level, channel=channel
    )
    if claim.state == "done":
        return "already sent"
    if claim.state == "busy":
        return "busy"
    attempt = claim.attempt
    text = (
        f"Urgent message #{message.pk} for {message.line.name} ({connection.tenant.name}) is not acknowledged. "
        "Please check the portal."
    )
    # The person's number or address is all of theirs the notice carries; the text has no caller data.
    ways = []
    if person.phone_number:
        ways.append((DeliveryAttempt.Channel.SMS, TWILIO_SMS, "phone_number", "user.contact.phone_number"))
    if person.email:
        ways.append((DeliveryAttempt.Channel.EMAIL, EMAIL, "email", "user.contact.email"))
    refusals = []
    for way, integration, field_name, category in ways:
        decision = outbound_check(
            integration=integration,
            categories=[category],
            model=StaffMember,
            object_ids=[person.pk],
            fields=[field_name],
            path=f"escalation:{message.pk}:{level}",
        )
        if decision.allowed:
            break
        refusals.append(f"{way.label}: {decision.reason}")
    else:
        if refusals:
            attempt_settle(
                attempt=attempt, status=DeliveryAttempt.Status.REFUSED, error="Not sent. " + "; ".join(refusals)
            )
            return str(attempt.status)
        attempt_settle(
            attempt=attempt,
            status=DeliveryAttempt.Status.FAILED,
            error="the person on call has no phone number or e-mail",
        )
        return str(attempt.status)
    if way != attempt.channel:
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(channel=way)
        attempt.channel = way
    try:
        if way == DeliveryAttempt.Channel.SMS:
            provider_id = sms_send(to=person.phone_number, body=text)
        else:
            provider_id = email_message_id(attempt.key)
            EmailMessage(
                f"Urgent message #{message.pk} waiting",
                text,
                settings.DEFAULT_FROM_EMAIL,
                [person.email],
                headers={"Message-ID": provider_id},
            ).send()
    except (SmsError, OSError) as exc:
        attempt_settle(attempt=attempt, status=DeliveryAttempt.Status.FAILED, error=exc)
    else:
        attempt_settle(attempt=attempt, status=DeliveryAttempt.Status.SENT, provider_id=provider_id)
    return str(attempt.status)
