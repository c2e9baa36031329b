"""A month of acme's calls with known times (November 2025, Europe/Tallinn, UTC+2), and the three
plan shapes the figures are worked out for by hand in test_usage.py.

The calls, as billed (talk is the agent's, transfers left out):
    A  talk  7.2 s
    B  talk 61 s, wrap-up 20 s
    C  talk 30 s, started 2025-10-31 22:30 UTC: 00:30 on 1 November in Tallinn, so November's
    D  talk  0.5 s
    E  talk 100 s, a warm transfer of 15 s then 25 s bridged (40 s), wrap-up 10 s
and, not billed in November: a missed call, and a call at 2025-11-30 22:30 UTC (December in
Tallinn).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from answering.models import Call, Line, Transfer
from billing.models import Plan
from desk.models import PresenceChange

UTC = dt.UTC
NOVEMBER = dt.date(2025, 11, 1)


def _at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=UTC)


def _call(line, sid: str, started: dt.datetime, talk: float | None, agent, *, ring: int = 5) -> Call:
    answered = None if talk is None else started + dt.timedelta(seconds=ring)
    ended = (answered or started) + dt.timedelta(seconds=talk or 0)
    return Call.objects.create(
        line=line,
        telephony_sid=f"CAbill{sid}".ljust(34, "0"),
        started_at=started,
        caller_number="+37255599999",
        caller_name="Billed Caller",
        answered_at=answered,
        ended_at=ended,
        status="completed" if answered else "missed",
        agent=agent if answered else None,
    )


@pytest.fixture
def november_calls(acme, agent1):
    """The calls above in acme, with agent1's presence changes after them."""
    with tenant_context(acme):
        assert not Call.objects.filter(started_at__year=2025).exists(), "the fixture's month must hold only its calls"
        line = Line.objects.order_by("pk").first()
        calls = {
            "A": _call(line, "A", _at(3, 9), 7.2, agent1),
            "B": _call(line, "B", _at(4, 9), 61, agent1),
            "C": _call(line, "C", _at(31, 22, 30, month=10), 30, agent1),
            "D": _call(line, "D", _at(5, 9), 0.5, agent1),
            "E": _call(line, "E", _at(6, 9), 140, agent1),
            "missed": _call(line, "M", _at(7, 9), None, agent1),
            "december": _call(line, "X", _at(30, 22, 30), 50, agent1),
        }
        e = calls["E"]
        Transfer.objects.create(
            call=e,
            agent=agent1,
            target_kind=Transfer.Target.ONCALL,
            state=Transfer.State.BRIDGED,
            conference_name="CFbillE",
            started_at=e.answered_at + dt.timedelta(seconds=100),
            ended_at=e.answered_at + dt.timedelta(seconds=115),
        )
    # The wrap-up ends when the agent's next change of state is "wrapped up"; after A the agent
    # went on a break first, so A had none.
    for key, seconds, cause in (("A", 4, "agent"), ("B", 20, "wrapped up"), ("E", 10, "wrapped up")):
        PresenceChange.objects.create(
            user=agent1, state="available", cause=cause, at=calls[key].ended_at + dt.timedelta(seconds=seconds)
        )
    return calls


PLANS = {
    # 6-second increments, no minimum, nothing included: every billed second is overage.
    "six_second": dict(
        currency="EUR",
        included_minutes=0,
        increment_seconds=6,
        minimum_seconds=0,
        per_call_fee=Decimal("0"),
        overage_rate_per_minute=Decimal("0.8125"),
        count_wrap_up=False,
        count_transfer=False,
    ),
    # 30-second increments, a 60-second minimum, 5 minutes included, wrap-up counted.
    "thirty_second": dict(
        currency="EUR",
        included_minutes=5,
        increment_seconds=30,
        minimum_seconds=60,
        per_call_fee=Decimal("0"),
        overage_rate_per_minute=Decimal("1.20"),
        count_wrap_up=True,
        count_transfer=False,
    ),
    # Per call: a fee each, 60-second increments, 2 minutes included, wrap-up and transfers counted.
    "per_call": dict(
        currency="USD",
        included_minutes=2,
        increment_seconds=60,
        minimum_seconds=0,
        per_call_fee=Decimal("0.125"),
        overage_rate_per_minute=Decimal("0.4999"),
        count_wrap_up=True,
        count_transfer=True,
    ),
}


@pytest.fixture
def plan_of(acme):
    """`plan_of("per_call")`: acme's plan set to that shape."""

    def make(shape: str) -> Plan:
        with tenant_context(acme):
            Plan.objects.all().delete()
            return Plan.objects.create(**PLANS[shape])

    return make
