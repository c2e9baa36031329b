"""Billing's reads: the plan, a month's call times and usage, and the statements.

A call counts in the month (in the company's own zone) that it started in. Only answered calls
that have ended are billed; missed calls, voicemail left without an agent and calls still going
are not. Only ids and times are loaded: never a caller's field.
"""

from __future__ import annotations

import bisect
import datetime as dt
import zoneinfo
from collections import defaultdict
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from answering.models import Call, Transfer
from billing.models import Plan, Statement, StatementLine
from billing.usage import CallTime, Terms, Usage, month_bounds, seconds_of, usage_compute
from desk.models import PresenceChange
from tenants.errors import ApplicationError
from tenants.timezones import company_zone_of

# The presence change that ends an agent's wrap-up (desk.services.presence_call_done).
WRAPPED_UP = "wrapped up"


def company_zone() -> zoneinfo.ZoneInfo:
    return company_zone_of(connection.tenant)


def month_current(*, now: dt.datetime | None = None) -> dt.date:
    """The first day of the company's running month, in its own zone."""
    return (now or timezone.now()).astimezone(company_zone()).date().replace(day=1)


def month_parse(value: str) -> dt.date:
    """`YYYY-MM` as the first day of that month, or a clear error naming the field."""
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except (TypeError, ValueError):
        raise ApplicationError("Give the month as YYYY-MM, e.g. 2026-11.", field="month") from None


def plan_get() -> Plan | None:
    """The company's plan, or None while the provider has set none."""
    return Plan.objects.first()


def call_times(*, month: dt.date) -> list[CallTime]:
    """The billable calls that started in `month` (the company's zone), each with its talk, wrap-up
    and transfer time, in exact seconds.

    - talk: from answer to end, less the transfer time;
    - transfer: each warm transfer's dialling and announcing, and after a bridge the rest of the
      call (the caller with the person they were put through to);
    - wrap-up: from the call's end to the agent's next change of state, when that change is the
      wrap-up's end ("wrapped up") and comes before the agent's next call here is answered; if the
      agent did anything else first, there was none (never billed on a guess).
    """
    start, end = month_bounds(month=month, zone=company_zone())
    calls = list(
        Call.objects.filter(
            started_at__gte=start, started_at__lt=end, answered_at__isnull=False, ended_at__isnull=False
        )
        .only("id", "telephony_sid", "started_at", "answered_at", "ended_at", "agent_id")
        .order_by("started_at", "id")
    )
    if not calls:
        return []
    transfers = defaultdict(list)
    for transfer in (
        Transfer.objects.filter(call__in=[c.pk for c in calls], ended_at__isnull=False)
        .only("id", "call_id", "state", "started_at", "ended_at")
        .order_by("started_at")
    ):
        transfers[transfer.call_id].append(transfer)
    changes = _presence_changes(calls)
    # A wrap-up ends before the agent's next call here begins, whatever the presence rows say.
    next_answered: dict[int, dt.datetime | None] = {}
    latest: dict[int, Call] = {}
    for call in sorted(calls, key=lambda c: (c.answered_at, c.pk)):
        if call.agent_id in latest:
            next_answered[latest[call.agent_id].pk] = call.answered_at
        latest[call.agent_id] = call
    times = []
    for call in calls:
        answered, ended = call.answered_at, max(call.ended_at, call.answered_at)
        transfer_time = Decimal(0)
        for transfer in transfers[call.pk]:
            leg_start = min(max(transfer.started_at, answered), ended)
            leg_end = min(max(transfer.ended_at, leg_start), ended)
            transfer_time += seconds_of(leg_end - leg_start)
            if transfer.state == Transfer.State.BRIDGED:
                transfer_time += seconds_of(ended - leg_end)
        whole = seconds_of(ended - answered)
        transfer_time = min(transfer_time, whole)
        times.append(
            CallTime(
                call_id=call.pk,
                telephony_sid=call.telephony_sid,
                started_at=call.started_at,
                talk=whole - transfer_time,
                wrap_up=_wrap_up(changes.get(call.agent_id), ended, until=next_answered.get(call.pk)),
                transfer=transfer_time,
            )
        )
    return times


def _presence_changes(calls) -> dict[int, tuple[list[dt.datetime], list[str]]]:
    """Each agent's state changes from the first call's end to a day after the last's, in order."""
    agents = {c.agent_id for c in calls if c.agent_id}
    if not agents:
        return {}
    first = min(c.ended_at for c in calls)
    last = max(c.ended_at for c in calls) + dt.timedelta(days=1)
    found: dict[int, tuple[list, list]] = {}
    rows = (
        PresenceChange.objects.filter(user_id__in=agents, at__gte=first, at__lt=last)
        .order_by("user_id", "at", "id")
        .values_list("user_id", "at", "cause")
    )
    for user_id, at, cause in rows:
        moments, causes = found.setdefault(user_id, ([], []))
        moments.append(at)
        causes.append(cause)
    return found


def _wrap_up(changes, ended: dt.datetime, *, until: dt.datetime | None) -> Decimal:
    if not changes:
        return Decimal(0)
    moments, causes = changes
    index = bisect.bisect_left(moments, ended)
    if index == len(moments) or causes[index] != WRAPPED_UP or (until is not None and moments[index] > until):
        return Decimal(0)
    return seconds_of(moments[index] - ended)


def usage_for_month(*, month: dt.date, terms: Terms | None = None) -> Usage | None:
    """A month's usage and charges on the plan's terms (or the given ones); None with no plan."""
    if terms is None:
        plan = plan_get()
        if plan is None:
            return None
        terms = Terms.of(plan)
    return usage_compute(month=month, terms=terms, times=call_times(month=month))


def statement_list(*, issued_only: bool) -> QuerySet[Statement]:
    """The company's statements, newest month first; the client sees only issued ones."""
    statements = Statement.objects.select_related("corrects")
    return statements.filter(status=Statement.Status.ISSUED) if issued_only else statements


def statement_get(*, pk: int, issued_only: bool) -> Statement | None:
    """One statement, or None (a draft is as missing as another company's statement)."""
    return statement_list(issued_only=issued_only).filter(pk=pk).first()


def statement_lines(*, statement: Statement) -> QuerySet[StatementLine]:
    return StatementLine.objects.filter(statement=statement).order_by("started_at", "id")
