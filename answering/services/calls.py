"""Answering a call at the agent's desk: a message taken on it, or a quick disposition for a call
handled without one. Either closes the call: its disposition, the agent and the script version
they followed are written once, in the change log with the agent, and a call already answered
is refused."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import connection, transaction

from answering.models import Call, Disposition, Message, ScriptVersion
from answering.scripts import call_facts, desk_script, script_current, script_run
from answering.services.messages import message_take
from crm.blind_index import company_region
from crm.models import Contact
from crm.services import contact_update
from gates.engine import Policy, objects_visible, policy_for
from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.models import User

DESK_ROLES = ("agent", "supervisor")
DISPOSITIONS_WITH_MESSAGE = (Disposition.MESSAGE_TAKEN, Disposition.APPOINTMENT, Disposition.TRANSFERRED)
DISPOSITIONS_WITHOUT_MESSAGE = (Disposition.INFO_GIVEN, Disposition.WRONG_NUMBER, Disposition.HUNG_UP)
MESSAGE_FIELDS = ("caller_name", "caller_number", "body", "ticket_reference", "technical_details")


def call_answer(
    *,
    call: Call,
    actor: User,
    values: Mapping[str, str],
    disposition: str,
    urgency: str = Message.Urgency.NORMAL,
) -> Message | None:
    """Wrap up a call that followed the line's script, in one transaction. The answers (`values`
    by question key; only the questions the DPA lets `actor` write count) are followed down the
    script's branches: a required answer on the path taken must be there and of its type, and
    answers off the path are dropped. The message built from them, and the matched contact's
    fields the script targets, are written; the call is closed with `disposition` (required:
    message taken, appointment booked or transferred) by `actor` on that script version.

    "Message taken" needs a message with something in it. After a booking or a transfer the
    message is optional: with no answer at all, the call closes without one (None)."""
    if disposition not in DISPOSITIONS_WITH_MESSAGE:
        choices = ", ".join(DISPOSITIONS_WITH_MESSAGE)
        raise ApplicationError(
            f"choose how the call ended (one of {choices}); '{disposition}' is not one", field="disposition"
        )
    policy = _desk_policy(actor)
    script = desk_script(line=call.line, policy=policy)
    # The contact is written only where its own gate shows it to `actor`: an answer aimed at a
    # restricted contact the agent holds no grant on is dropped, as one aimed at no contact is.
    # The message still names the contact (by id, unread), for the client who may see it.
    contact = None
    if call.contact_id is not None:
        held = Contact.objects.filter(pk=call.contact_id)
        contact = objects_visible(policy=policy, user=actor, queryset=held).first()
    run = script_run(script=script, values=values, facts=call_facts(call=call, line=call.line), region=company_region())
    run.raise_first()
    writable = {q["key"] for q in script.questions}
    fields, answers, contact_updates = _intake([q for q in run.path.questions if q["key"] in writable], run.values)
    content = any(fields[name] for name in ("body", "ticket_reference", "technical_details")) or bool(answers)
    with transaction.atomic(durable=True), change_log_actor(actor):
        locked = _call_lock(call)
        message = None
        if disposition == Disposition.MESSAGE_TAKEN or content:
            message = message_take(
                line=call.line,
                actor=actor,
                urgency=urgency,
                call=locked,
                contact=contact or (Contact(pk=call.contact_id) if call.contact_id else None),
                answers=answers,
                contact_fields=contact_updates,
                **fields,
            )
        if contact_updates and contact is not None:
            contact_update(contact=contact, actor=actor, **contact_updates)
        named = (message.caller_name if message else "") or _contact_name(contact, policy)
        _call_close(
            locked,
            disposition=disposition,
            actor=actor,
            script_version=script.version,
            caller_name=named,
            policy=policy,
        )
    return message


def call_dispose(*, call: Call, disposition: str, actor: User) -> Call:
    """Close a call handled without a message (information given, a wrong number, the caller hung up)."""
    if disposition not in DISPOSITIONS_WITHOUT_MESSAGE:
        choices = ", ".join(DISPOSITIONS_WITHOUT_MESSAGE)
        raise ApplicationError(
            f"'{disposition}' does not close a call without a message (one of {choices})", field="disposition"
        )
    policy = _desk_policy(actor)
    version = script_current(line=call.line)
    contact = None
    if call.contact_id is not None:
        contact = objects_visible(
            policy=policy, user=actor, queryset=Contact.objects.filter(pk=call.contact_id)
        ).first()
    with transaction.atomic(durable=True), change_log_actor(actor):
        locked = _call_lock(call)
        _call_close(
            locked,
            disposition=disposition,
            actor=actor,
            script_version=version,
            caller_name=_contact_name(contact, policy),
            policy=policy,
        )
    return locked


def _desk_policy(actor: User) -> Policy:
    policy = policy_for(user=actor, company=connection.tenant)
    if policy.role not in DESK_ROLES:
        raise ApplicationError("only the provider's agents and supervisors answer calls", field="actor")
    return policy


def _intake(questions: list[dict], values: Mapping[str, str]) -> tuple[dict, dict, dict]:
    """Sort the answers by their question's target: message fields, free answers, contact fields."""
    fields, answers, contact_updates = dict.fromkeys(MESSAGE_FIELDS, ""), {}, {}
    for question in questions:
        value = (values.get(question["key"]) or "").strip()
        target = question["target"]
        if not value:
            continue
        if target == "message.answer":
            answers[question["key"]] = {"label": question["label"], "category": question["category"], "value": value}
        elif target.startswith("message."):
            fields[target.split(".", 1)[1]] = value
        else:
            contact_updates[target.split(".", 1)[1]] = value
    return fields, answers, contact_updates


def _call_lock(call: Call) -> Call:
    locked = Call.objects.select_for_update().get(pk=call.pk)
    if locked.disposition:
        raise ApplicationError(
            f"{call} has already been answered ({locked.get_disposition_display().lower()})", field="call"
        )
    return locked


def _contact_name(contact: Contact | None, policy: Policy) -> str:
    """The known caller's name, where the agent may read it (a restricted contact gives none)."""
    if contact is None or not policy.can_read(Contact, "name"):
        return ""
    return contact.name or ""


def _call_close(
    call: Call,
    *,
    disposition: str,
    actor: User,
    script_version: ScriptVersion | None,
    caller_name: str = "",
    policy: Policy | None = None,
) -> None:
    """Close the call. It keeps the caller's name the desk showed (from the message, or the known
    contact), so the portal, the API and the admin name the same caller as the desk did."""
    call.disposition = disposition
    call.agent = actor
    call.script_version = script_version
    fields = ["disposition", "agent", "script_version"]
    named = policy is not None and policy.can_read(Call, "caller_name") and policy.can_write(Call, "caller_name")
    if caller_name and named and not call.caller_name:
        call.caller_name = caller_name[:200]
        fields.append("caller_name")
    call.save(update_fields=fields)
