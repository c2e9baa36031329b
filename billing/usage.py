"""The arithmetic of billing, pure and exact: no query, no float.

Per call: billed seconds = max(minimum, ceil(counted / increment) * increment), where counted is the
agent's talk time, plus the wrap-up and the transfer time when the plan counts them. Per month: the
billed seconds beyond the included minutes are the overage, charged per minute at the overage rate;
each billed call adds the per-call fee. Every amount is carried unrounded and quantized to the cent
with ROUND_HALF_UP once, at the end; the total is the sum of the two quantized charges, so a
statement always adds up as printed.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
SIXTY = Decimal(60)


def seconds_of(delta: dt.timedelta) -> Decimal:
    """A duration as exact Decimal seconds (microseconds included)."""
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / Decimal(1_000_000)


def cents(amount: Decimal) -> Decimal:
    """The one rounding in billing: to the cent, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def month_bounds(*, month: dt.date, zone: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The instants that start `month` and the month after, at midnight in the company's zone."""
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return (
        dt.datetime.combine(first, dt.time(0), tzinfo=zone),
        dt.datetime.combine(following, dt.time(0), tzinfo=zone),
    )


@dataclass(frozen=True)
class Terms:
    """A plan's terms, as a statement applies them."""

    currency: str
    included_minutes: int
    increment_seconds: int
    minimum_seconds: int
    per_call_fee: Decimal
    overage_rate_per_minute: Decimal
    count_wrap_up: bool
    count_transfer: bool

    FIELDS = (
        "currency",
        "included_minutes",
        "increment_seconds",
        "minimum_seconds",
        "per_call_fee",
        "overage_rate_per_minute",
        "count_wrap_up",
        "count_transfer",
    )

    @classmethod
    def of(cls, source) -> Terms:
        """The terms of a Plan, or those a Statement was worked out with."""
        return cls(**{name: getattr(source, name) for name in cls.FIELDS})

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.FIELDS}


# The figures a statement stores, as `Usage` works them out (the calls as their count).
FIGURES = ("calls", "billed_seconds", "overage_seconds", "overage_amount", "call_fees_amount", "total_amount")


@dataclass(frozen=True)
class CallTime:
    """What a call took, in exact seconds: the agent's talk (transfers left out), the wrap-up after
    it and the warm transfers' time."""

    call_id: int
    telephony_sid: str
    started_at: dt.datetime
    talk: Decimal
    wrap_up: Decimal = Decimal(0)
    transfer: Decimal = Decimal(0)


@dataclass(frozen=True)
class BilledCall:
    time: CallTime
    counted: Decimal
    billed_seconds: int


@dataclass(frozen=True)
class Usage:
    month: dt.date
    terms: Terms
    calls: tuple[BilledCall, ...]
    billed_seconds: int
    overage_seconds: int
    overage_amount: Decimal
    call_fees_amount: Decimal
    total_amount: Decimal

    @property
    def included_seconds(self) -> int:
        return self.terms.included_minutes * 60

    @property
    def billed_minutes(self) -> Decimal:
        """For display: billed seconds in minutes, to two places (the charge uses the seconds)."""
        return cents(Decimal(self.billed_seconds) / SIXTY)

    @property
    def overage_minutes(self) -> Decimal:
        return cents(Decimal(self.overage_seconds) / SIXTY)

    @property
    def included_left_minutes(self) -> Decimal:
        return cents(Decimal(max(0, self.included_seconds - self.billed_seconds)) / SIXTY)


def call_counted_seconds(*, time: CallTime, terms: Terms) -> Decimal:
    counted = time.talk
    if terms.count_wrap_up:
        counted += time.wrap_up
    if terms.count_transfer:
        counted += time.transfer
    return counted


def call_billed_seconds(*, counted: Decimal, terms: Terms) -> int:
    """max(minimum, ceil(counted / increment) * increment), in whole seconds."""
    increments = int((counted / Decimal(terms.increment_seconds)).to_integral_value(rounding=ROUND_CEILING))
    return max(terms.minimum_seconds, increments * terms.increment_seconds)


def usage_compute(*, month: dt.date, terms: Terms, times: list[CallTime]) -> Usage:
    """One month's usage and charges from its calls' times, exactly."""
    billed = []
    for time in times:
        counted = call_counted_seconds(time=time, terms=terms)
        billed.append(
            BilledCall(time=time, counted=counted, billed_seconds=call_billed_seconds(counted=counted, terms=terms))
        )
    billed_seconds = sum(call.billed_seconds for call in billed)
    overage_seconds = max(0, billed_seconds - terms.included_minutes * 60)
    overage_amount = cents(Decimal(overage_seconds) * terms.overage_rate_per_minute / SIXTY)
    call_fees_amount = cents(len(billed) * terms.per_call_fee)
    return Usage(
        month=month.replace(day=1),
        terms=terms,
        calls=tuple(billed),
        billed_seconds=billed_seconds,
        overage_seconds=overage_seconds,
        overage_amount=overage_amount,
        call_fees_amount=call_fees_amount,
        total_amount=overage_amount + call_fees_amount,
    )
