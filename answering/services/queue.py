"""Inbound calls and the ACD queue (desk/): who may be offered a call, and its entry in the queue."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Q

from answering.models import Line
from desk.models import QueuedCall
from desk.services import queue_enter
from gates.engine import Role, users_granted
from tenants.models import User


def line_eligible_agents(*, line: Line) -> list[int]:
    """Provider staff assigned to this company who may open a call on `line`: supervisors, and
    agents holding the line's grant (directly or through a group). One query."""
    staff = User.objects.filter(is_active=True, assignments__company=connection.tenant)
    granted = users_granted(obj=line, users=User.objects.filter(provider_role=Role.AGENT)).values("pk")
    return sorted(staff.filter(Q(provider_role=Role.SUPERVISOR) | Q(pk__in=granted)).values_list("pk", flat=True))


def call_queue_enter(*, call_id: int, line: Line, now: dt.datetime | None = None) -> QueuedCall:
    """Put an inbound call in the queue across companies: ids, priority and times only."""
    overflow = {
        Line.AfterHours.VOICEMAIL: QueuedCall.Overflow.VOICEMAIL,
        Line.AfterHours.MESSAGE_ONLY: QueuedCall.Overflow.MESSAGE_ONLY,
        Line.AfterHours.FORWARD_ONCALL: QueuedCall.Overflow.FORWARD_ONCALL,
    }[line.queue_overflow]
    return queue_enter(
        company=connection.tenant,
        line_id=line.pk,
        call_id=call_id,
        priority=line.queue_priority,
        language=line.queue_language,
        eligible=line_eligible_agents(line=line),
        max_wait_seconds=line.queue_max_wait_seconds,
        overflow=overflow,
        now=now,
    )
