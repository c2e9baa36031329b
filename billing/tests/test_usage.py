"""Amounts for three plan shapes on a fixture of calls, equal to figures worked out by hand below,
to the cent; and the month is the company's own."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from billing.selectors import call_times, usage_for_month
from billing.tests.conftest import NOVEMBER, PLANS
from billing.usage import CallTime, Terms, call_billed_seconds, cents, usage_compute

pytestmark = pytest.mark.django_db


def _usage(acme, shape):
    with tenant_context(acme):
        return usage_for_month(month=NOVEMBER, terms=Terms(**PLANS[shape]))


def _billed(usage) -> dict[str, int]:
    return {call.time.telephony_sid[6]: call.billed_seconds for call in usage.calls}


def test_the_times_of_each_call_are_exact(acme, november_calls):
    with tenant_context(acme):
        times = {t.telephony_sid[6]: t for t in call_times(month=NOVEMBER)}
    assert sorted(times) == ["A", "B", "C", "D", "E"]  # not the missed call, not December's
    assert (times["A"].talk, times["A"].wrap_up) == (Decimal("7.2"), 0)  # a break came first: no wrap-up
    assert (times["B"].talk, times["B"].wrap_up) == (Decimal(61), Decimal(20))
    # D: the agent's next "wrapped up" came after their next call (E) was answered: not D's wrap-up.
    assert (times["D"].talk, times["D"].transfer, times["D"].wrap_up) == (Decimal("0.5"), 0, 0)
    # E: 140 s answered; the transfer dialled 15 s, then the caller talked 25 s with the person on call.
    assert (times["E"].talk, times["E"].transfer, times["E"].wrap_up) == (Decimal(100), Decimal(40), Decimal(10))


def test_six_second_increments_with_no_minimum(acme, november_calls):
    usage = _usage(acme, "six_second")
    # A 7.2 -> 2 x 6 = 12; B 61 -> 11 x 6 = 66; C 30 -> 30; D 0.5 -> 6; E 100 -> 17 x 6 = 102
    assert _billed(usage) == {"A": 12, "B": 66, "C": 30, "D": 6, "E": 102}
    assert usage.billed_seconds == 216  # 3.6 minutes, none included
    assert usage.overage_seconds == 216
    # 3.6 min x 0.8125 = 2.925 -> 2.93 (half up; half-even would say 2.92)
    assert usage.overage_amount == Decimal("2.93")
    assert usage.call_fees_amount == Decimal("0.00")
    assert usage.total_amount == Decimal("2.93")


def test_thirty_second_increments_with_a_minimum_and_included_minutes(acme, november_calls):
    usage = _usage(acme, "thirty_second")
    # wrap-up counts: A 7.2 -> 30, min 60; B 61 + 20 = 81 -> 90; C 30 -> 30, min 60; D 0.5 -> 60 (the
    # agent's next "wrapped up" is after E was answered, so it is E's, not D's);
    # E 100 + 10 = 110 -> 120 (the transfer does not count)
    assert _billed(usage) == {"A": 60, "B": 90, "C": 60, "D": 60, "E": 120}
    assert usage.billed_seconds == 390
    assert usage.overage_seconds == 90  # 390 - 5 x 60
    assert usage.overage_amount == Decimal("1.80")  # 1.5 min x 1.20
    assert usage.total_amount == Decimal("1.80")
    assert usage.included_left_minutes == Decimal("0.00")


def test_a_per_call_fee_with_sixty_second_increments_and_overage(acme, november_calls):
    usage = _usage(acme, "per_call")
    # wrap-up and transfers count: A 7.2 -> 60; B 81 -> 120; C 30 -> 60; D 0.5 -> 60; E 100 + 10 + 40 = 150 -> 180
    assert _billed(usage) == {"A": 60, "B": 120, "C": 60, "D": 60, "E": 180}
    assert usage.billed_seconds == 480
    assert usage.overage_seconds == 360  # 480 - 2 x 60
    assert usage.overage_amount == Decimal("3.00")  # 6 min x 0.4999 = 2.9994
    assert usage.call_fees_amount == Decimal("0.63")  # 5 x 0.125 = 0.625, half up
    assert usage.total_amount == Decimal("3.63")
    assert usage.terms.currency == "USD"


def test_the_month_is_the_companys_own(acme, november_calls):
    # 2025-10-31 22:30 UTC is 1 November in Tallinn: November's. 2025-11-30 22:30 UTC is December's.
    with tenant_context(acme):
        assert connection.tenant.time_zone == "Europe/Tallinn"
        november = {t.telephony_sid[6] for t in call_times(month=NOVEMBER)}
        december = {t.telephony_sid[6] for t in call_times(month=dt.date(2025, 12, 1))}
        october = {t.telephony_sid[6] for t in call_times(month=dt.date(2025, 10, 1))}
    assert "C" in november
    assert "X" not in november
    assert december == {"X"}
    assert october == set()


def test_the_arithmetic_is_decimal_and_exact():
    terms = Terms(**PLANS["six_second"])
    # An exact multiple is not rounded up; a hair over is a whole increment more.
    assert call_billed_seconds(counted=Decimal("12"), terms=terms) == 12
    assert call_billed_seconds(counted=Decimal("12.000001"), terms=terms) == 18
    assert call_billed_seconds(counted=Decimal(0), terms=terms) == 0
    assert cents(Decimal("0.005")) == Decimal("0.01")
    assert cents(Decimal("0.015")) == Decimal("0.02")
    usage = usage_compute(
        month=NOVEMBER,
        terms=terms,
        times=[
            CallTime(
                call_id=1, telephony_sid="x", started_at=dt.datetime(2025, 11, 1, tzinfo=dt.UTC), talk=Decimal("0.1")
            )
        ],
    )
    assert isinstance(usage.total_amount, Decimal)
    assert usage.total_amount == Decimal("0.08")  # 6 s x 0.8125 / 60 = 0.08125
