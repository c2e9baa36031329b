"""A contact's timeline: calls, messages and appointments, each through the gates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gates.engine import Policy, objects_visible
from tenants.models import User


@dataclass(frozen=True)
class TimelineEntry:
    when: dt.datetime
    kind: str
    summary: str


def contact_timeline(*, contact, user: User, policy: Policy, limit: int = 100) -> list[TimelineEntry]:
    """What happened with this caller, newest first. Rows outside the person's object grants are
    left out; the summaries carry no personal field the policy does not grant."""
    from answering.models import Call, Message
    from scheduling.models import Appointment

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
