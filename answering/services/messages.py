"""Messages taken by agents: taking one, moving it through its delivery states, acknowledging it."""

from __future__ import annotations

import json

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from answering.models import Call, Line, Message
from answering.services.delivery import message_delivery_start
from answering.services.escalation import TIMER_ESCALATE, escalation_schedule
from gates.engine import policy_for
from operations.timers.services import timer_cancel
from tenants.categories import field_category
from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.models import User

BODY_LIMIT = 5000
# The delivery states in the only order a message moves through them.
FORWARD = [
    Message.Status.PENDING,
    Message.Status.SENT,
    Message.Status.DELIVERED,
    Message.Status.READ,
    Message.Status.ACKNOWLEDGED,
]


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
    category to the agent for writing; the error names the field and the category. A call already
    answered (it has a disposition) takes no further message.

    Delivery is an outbox row in the same transaction: it starts when the transaction commits, and
    a broker that is down delays it and never fails the request. An urgent message's escalation
    timer starts with it.
    """
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
    with transaction.atomic(), change_log_actor(actor):
        if call is not None:
            disposition = Call.objects.select_for_update().filter(pk=call.pk).values_list("disposition", flat=True)
            if disposition.first():
                raise ApplicationError(f"{call} has already been answered: it takes no further message", field="call")
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
            escalation_schedule(message=message)
        message_delivery_start(message=message)
    return message


def message_acknowledge(*, message: Message, actor: User) -> Message:
    """The client acknowledges a message: escalation stops."""
    with transaction.atomic(), change_log_actor(actor):
        locked = Message.objects.select_for_update().get(pk=message.pk)
        if locked.status == Message.Status.ACKNOWLEDGED:
            return locked
        locked.status = Message.Status.ACKNOWLEDGED
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor
        locked.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
        timer_cancel(kind=TIMER_ESCALATE, target_id=locked.pk)
    return locked


def message_mark(*, message: Message, status: str, actor: User | None) -> Message:
    """Move a message forward (sent -> delivered -> read); never backwards, never past acknowledged.

    `actor` is who caused it: the client reading it, or nobody (the SMS provider's receipt)."""
    if status not in FORWARD:
        raise ApplicationError(f"'{status}' is not a delivery state", field="status")
    with transaction.atomic(), change_log_actor(actor):
        locked = (
            Message.objects.select_for_update()
            .filter(pk=message.pk, status__in=FORWARD[: FORWARD.index(status)])
            .only("pk", "status")
            .first()
        )
        if locked is not None:
            locked.status = status
            locked.save(update_fields=["status"])
    message.refresh_from_db()
    return message
