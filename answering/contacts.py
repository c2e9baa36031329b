"""A contact across the rooms: merging duplicates, and a contact's timeline.

A contact's calls and messages (answering) and appointments (scheduling) sit in rooms above the
CRM, which may not import them. This top domain app sees all three, so the merge and the timeline
that span them live here; the CRM's own half of a merge stays in crm.services.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from answering.models import Call, Message
from crm.models import Contact
from crm.services import contact_absorb, contact_merge_begin, contact_repoint
from gates.engine import Policy, objects_visible
from scheduling.models import Appointment
from tenants.changelog import change_log_actor
from tenants.models import User


@dataclass(frozen=True)
class TimelineEntry:
    when: dt.datetime
    kind: str
    summary: str


def contact_merge(*, keep: Contact, duplicate: Contact, actor: User | None) -> Contact:
    """Merge a duplicate into the contact kept: its calls, messages, appointments, numbers and
    consents move, empty fields of the kept contact are filled from it, and the duplicate stays as
    a record that points at the one kept, so the trail survives. One transaction; every row moved
    is in the change log, with the actor."""
    with transaction.atomic(), change_log_actor(actor):
        contact_merge_begin(keep=keep, duplicate=duplicate)
        moved = {
            "calls": contact_repoint(queryset=Call.objects.filter(contact=duplicate), keep=keep),
            "messages": contact_repoint(queryset=Message.objects.filter(contact=duplicate), keep=keep),
            "appointments": contact_repoint(queryset=Appointment.objects.filter(contact=duplicate), keep=keep),
        }
        contact_absorb(keep=keep, duplicate=duplicate, actor=actor, moved=moved)
    return keep


def contact_timeline(*, contact: Contact, user: User, policy: Policy, limit: int = 100) -> list[TimelineEntry]:
    """What happened with this caller, newest first. Rows outside the person's object grants are
    left out; the summaries carry no personal field the policy does not grant."""
    entries: list[TimelineEntry] = []
    calls = objects_visible(policy=policy, user=user, queryset=Call.objects.filter(contact=contact))
    for call in calls.select_related("line").only("started_at", "status", "line__name", "telephony_sid")[:limit]:
        entries.append(TimelineEntry(call.started_at, "call", f"{call.get_status_display()} call on {call.line.name}"))
    messages = objects_visible(policy=policy, user=user, queryset=Message.objects.filter(contact=contact))
    show_body = policy.can_read(Message, "body")
    for message in messages.select_related("line").defer(
        "caller_name", "caller_number", "answers", *([] if show_body else ["body"])
    )[:limit]:
        text = f"{message.get_urgency_display()} message for {message.line.name}"
        if show_body and message.body:
            text += f": {message.body[:120]}"
        entries.append(TimelineEntry(message.created_at, "message", text))
    appointments = objects_visible(policy=policy, user=user, queryset=Appointment.objects.filter(contact=contact))
    for appointment in appointments.select_related("service", "resource").defer("notes")[:limit]:
        entries.append(
            TimelineEntry(
                appointment.starts_at,
                "appointment",
                f"{appointment.service.name} with {appointment.resource.label} "
                f"({appointment.get_status_display().lower()})",
            )
        )
    return sorted(entries, key=lambda entry: entry.when, reverse=True)[:limit]
