"""Messages taken by agents: taking one, moving it through its delivery states, acknowledging it."""

from __future__ import annotations

import json
from collections.abc import Mapping

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
    contact_fields: Mapping[str, str] | None = None,
) -> Message:
    """Take a message. Each personal field may be written only where the DPA in force grants its
    category to the agent for writing; the error names the field and the category. A call already
    answered (it has a disposition) takes no further message.

    Delivery is an outbox row in the same transaction: it starts when the transaction commits, and
    a broker that is down delays it and never fails the request. An urgent message's escalation
    timer starts with it.

    A message with nothing in it (no body, no answer, no ticket) is refused, and so is one that
    leaves out an answer the line's script requires on the branch the answers lead down, or gives
    one of the wrong type: the same rules as the desk's. `contact_fields` are the answers the
    desk writes to the caller's contact (by field), counted here for the script's sake only.
    """
    from crm.blind_index import company_region, phone_normalise

    if urgency not in Message.Urgency.values:
        raise ApplicationError(f"'{urgency}' is not an urgency (urgent, normal, low)", field="urgency")
    if len(body) > BODY_LIMIT:
        raise ApplicationError(
            _("the message is limited to %(limit)s characters") % {"limit": f"{BODY_LIMIT:,}"}, field="body"
        )
    has_answer = any(str((a or {}).get("value") or "").strip() for a in (answers or {}).values())
    if not (body.strip() or has_answer or ticket_reference.strip() or technical_details.strip()):
        raise ApplicationError(
            _("the message is empty: write down what the caller wants before saving it"), field="body"
        )
    caller_number = phone_normalise(caller_number, region=company_region(), field="caller_number")
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
    _script_check(
        line=line,
        policy=policy,
        call=call,
        contact=contact,
        values={
            "caller_name": caller_name,
            "caller_number": caller_number,
            "body": body,
            "ticket_reference": ticket_reference,
            "technical_details": technical_details,
        },
        answers=answers or {},
        contact_fields=contact_fields or {},
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


def _script_check(*, line, policy, call, contact, values, answers, contact_fields) -> None:
    """The line's script, followed with this message's answers: a required answer on the branch
    they lead down must be there, and each answer of its type."""
    from answering.scripts import call_facts, desk_script, script_run
    from crm.blind_index import company_region

    script = desk_script(line=line, policy=policy)
    by_key = {}
    for question in script.questions:
        target = question["target"]
        if target == "message.answer":
            by_key[question["key"]] = str((answers.get(question["key"]) or {}).get("value") or "")
        elif target.startswith("message."):
            by_key[question["key"]] = values.get(target.split(".", 1)[1], "")
        else:
            by_key[question["key"]] = contact_fields.get(target.split(".", 1)[1], "")
    facts = call_facts(call=call, line=line, contact=contact)
    script_run(script=script, values=by_key, facts=facts, region=company_region()).raise_first()


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
