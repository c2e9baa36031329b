"""Reads of the service levels: the rollup rows through the gates, and the figures made from them.

Every figure is a ratio of sums over the chosen rows (hours, days, lines), divided last:

- ASA (average speed of answer) = sum of waits / answered;
- service level = answered within the line's target / (offered - short abandons);
- abandon rate = long abandons / (offered - short abandons);
- average handle time = (talk + wrap-up seconds) / handled; average wrap-up = wrap-up / handled.

A figure with a zero denominator is None ("no calls"), never 0 or 100%.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet, Sum

from levels.models import LineHourLevels

# The counts of a rollup row, in the order the CSV and the API give them; then its sums of seconds.
COUNTS = (
    "offered",
    "answered",
    "answered_in_target",
    "abandoned_short",
    "abandoned_long",
    "overflowed",
    "transfers",
    "handled",
)
SUMMED = (*COUNTS, "wait_seconds", "talk_seconds", "wrap_seconds")
# The figures made from one row's sums (Figures' properties), by their CSV and API names.
FIGURES = {
    "asa_seconds": "asa_seconds",
    "service_level": "service_level",
    "abandon_rate": "abandon_rate",
    "handle_seconds": "handle_seconds",
    "wrap_seconds_avg": "wrap_avg_seconds",
}


@dataclass
class Figures:
    """Sums over some rollup rows, and the figures made from them."""

    offered: int = 0
    answered: int = 0
    answered_in_target: int = 0
    abandoned_short: int = 0
    abandoned_long: int = 0
    overflowed: int = 0
    transfers: int = 0
    handled: int = 0
    wait_seconds: float = 0.0
    talk_seconds: float = 0.0
    wrap_seconds: float = 0.0
    label: str = field(default="", compare=False)

    @classmethod
    def of(cls, row) -> Figures:
        """The figures of one rollup row."""
        figures = cls()
        figures.add(row)
        return figures

    def add(self, row) -> None:
        for name in SUMMED:
            setattr(self, name, getattr(self, name) + (getattr(row, name) or 0))

    @property
    def counted(self) -> int:
        """Calls the service level and abandon rate are shares of: offered less short abandons."""
        return self.offered - self.abandoned_short

    @property
    def asa_seconds(self) -> float | None:
        return self.wait_seconds / self.answered if self.answered else None

    @property
    def service_level(self) -> float | None:
        return self.answered_in_target / self.counted if self.counted else None

    @property
    def abandon_rate(self) -> float | None:
        return self.abandoned_long / self.counted if self.counted else None

    @property
    def handle_seconds(self) -> float | None:
        return (self.talk_seconds + self.wrap_seconds) / self.handled if self.handled else None

    @property
    def wrap_avg_seconds(self) -> float | None:
        return self.wrap_seconds / self.handled if self.handled else None

    @property
    def abandoned(self) -> int:
        return self.abandoned_short + self.abandoned_long


def levels_list(
    *, date_from: dt.date | None = None, date_to: dt.date | None = None, line_id: int | None = None
) -> QuerySet[LineHourLevels]:
    """The rollup rows (line and local hour) of the chosen local days and line, oldest first."""
    rows = LineHourLevels.objects.select_related("line")
    if date_from:
        rows = rows.filter(day__gte=date_from)
    if date_to:
        rows = rows.filter(day__lte=date_to)
    if line_id:
        rows = rows.filter(line_id=line_id)
    return rows.order_by("hour_start", "line_id")


def levels_total(rows: QuerySet[LineHourLevels]) -> Figures:
    """The chosen rows summed in the database, as one set of figures."""
    sums = rows.order_by().aggregate(**{name: Sum(name) for name in SUMMED})
    return Figures(**{name: value or 0 for name, value in sums.items()})


def levels_by_day(*, date_from: dt.date, date_to: dt.date, line_id: int | None = None) -> list[tuple[dt.date, Figures]]:
    """One `Figures` per local day from `date_from` to `date_to`, days without calls included."""
    days = {date_from + dt.timedelta(days=n): Figures() for n in range((date_to - date_from).days + 1)}
    for row in levels_list(date_from=date_from, date_to=date_to, line_id=line_id).iterator(chunk_size=2000):
        days[row.day].add(row)
    return list(days.items())


def levels_by_hour(*, day: dt.date, line_id: int | None = None) -> list[tuple[str, Figures]]:
    """One `Figures` per local hour of `day` that had calls, labelled "HH:00", and "HH:00 (+02:00)"
    for each of an hour that occurs twice when the clocks go back."""
    hours: dict[dt.datetime, Figures] = {}
    offsets: dict[int, set[int]] = {}
    for row in levels_list(date_from=day, date_to=day, line_id=line_id):
        hours.setdefault(row.hour_start, Figures(label=f"{row.hour:02d}:00|{row.utc_offset_minutes}")).add(row)
        offsets.setdefault(row.hour, set()).add(row.utc_offset_minutes)
    out = []
    for _start, figures in sorted(hours.items()):
        hour, offset = figures.label.split("|")
        offset = int(offset)
        figures.label = hour
        if len(offsets[int(hour[:2])]) > 1:
            sign = "+" if offset >= 0 else "-"
            figures.label = f"{hour} ({sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d})"
        out.append((figures.label, figures))
    return out
