"""Messages taken by agents, their delivery to the client, acknowledgement and escalation."""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from answering.models import Call, Line, Message
from gates.engine import policy_for
from operations.timers.registry import timer_handler
from operations.timers.services import timer_cancel, timer_schedule
from tenants.categories import field_category
from tenants.errors import ApplicationError
from tenants.models import User

TIMER_ESCALATE = "answering.escalate"
BODY_LIMIT = 5000


def message_take(
    *,
    line: Line,
    actor: User,
    urgency: str = Message.Urgency.NORMAL,
    caller_name: str = "",
    caller_number: str = "",
    body: str = "",
    call: Call | None = None,
    contact=None,
    answers: dict | None = None,
    ticket_reference: str = "",
    technical_details: str = "",
) -> Message:
    """Take a message. Each personal field may be written only where the DPA in force grants its
    category to the agent for writing; the error names the field and the category."""
    from crm.blind_index import phone_normalise

    if urgency not in Message.Urgency.values:
        raise ApplicationError(f"'{urgency}' is not an urgency (urgent, normal, low)", field="urgency")
    if len(body) > BODY_LIMIT:
        raise ApplicationError(
            _("the message is limited to %(limit)s characters") % {"limit": f"{BODY_LIMIT:,}"}, field="body"
        )
    caller_number = phone_normalise(caller_number, field="caller_number")
    policy = policy_for(user=actor, company=connection.tenant)
    for name, value in (("caller_name", caller_name), ("caller_number", caller_number), ("body", body)):
        if value and not policy.can_write(Message, name):
            raise ApplicationError(
                f"the data-processing agreement does not let you record {name.replace('_', ' ')} "
                f"({field_category(Message, name)})",
                field=name,
            )
    for key, answer in (answers or {}).items():
        category = answer.get("category", "")
        if answer.get("value") and not (policy.can_write(Message, "answers") and policy.writes_category(category)):
            raise ApplicationError(
                f"the data-processing agreement does not let you record '{answer.get('label', key)}' ({category})",
                field=key,
            )
    with transaction.atomic():
        message = Message.objects.create(
            line=line,
            call=call,
            contact=contact,
            urgency=urgency,
            caller_name=caller_name,
            caller_number=caller_number,
            body=body,
            answers=json.dumps(answers) if answers else "",
            ticket_reference=ticket_reference[:64],
            technical_details=technical_details[:BODY_LIMIT],
            taken_by=actor,
        )
        if urgency == Message.Urgency.URGENT:
            timer_schedule(
                kind=TIMER_ESCALATE,
                target_id=message.pk,
                due_at=timezone.now() + dt.timedelta(minutes=line.urgent_ack_minutes),
            )
    from answering.tasks import deliver_message

    transaction.on_commit(lambda: deliver_message.delay(message.pk))
    return message


def message_acknowledge(*, message: Message, actor: User) -> Message:
    """The client acknowledges a message: escalation stops."""
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        if locked.status == Message.Status.ACKNOWLEDGED:
            return locked
        locked.status = Message.Status.ACKNOWLEDGED
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor
        locked.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
        timer_cancel(kind=TIMER_ESCALATE, target_id=locked.pk)
    return locked


def message_mark(*, message: Message, status: str) -> Message:
    """Move a message forward (sent -> delivered -> read); never backwards, never past acknowledged."""
    order = [
        Message.Status.PENDING,
        Message.Status.SENT,
        Message.Status.DELIVERED,
        Message.Status.READ,
        Message.Status.ACKNOWLEDGED,
    ]
    if status not in order:
        raise ApplicationError(f"'{status}' is not a delivery state", field="status")
    Message.objects.filter(pk=message.pk, status__in=order[: order.index(status)]).update(status=status)
    message.refresh_from_db()
    return message


@timer_handler(TIMER_ESCALATE)
def escalate(target_id: str) -> None:
    """An urgent message is still unacknowledged: tell the next person on call, and wait again."""
    from answering.tasks import send_escalation
    from scheduling.selectors import oncall_for_line

    message = Message.objects.select_related("line").filter(pk=target_id).first()
    if message is None or message.status == Message.Status.ACKNOWLEDGED:
        return
    on_call = oncall_for_line(line=message.line)
    level = message.escalation_level + 1
    if level > len(on_call):
        return  # everyone on call has been told; the admin's message list shows it unacknowledged
    Message.objects.filter(pk=message.pk).update(escalation_level=level)
    person_id = on_call[level - 1].pk
    transaction.on_commit(lambda: send_escalation.delay(message.pk, person_id, level))
    if level < len(on_call):
        timer_schedule(
            kind=TIMER_ESCALATE,
            target_id=message.pk,
            due_at=timezone.now() + dt.timedelta(minutes=message.line.urgent_ack_minutes),
        )
