"""Charts drawn on the server as inline SVG: no script, nothing fetched. Each chart has a title and
a description for screen readers; the page shows the same numbers in a table as well."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 30, 30
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
GRID = "#d5dae4"
INK = "#4a5468"


def percent_label(value: float) -> str:
    """An axis value that is a share, as a percentage."""
    return f"{round(value * 100)}%"


def seconds_label(value: float) -> str:
    """An axis value in seconds, in the active language."""
    return _("%(seconds)s s") % {"seconds": f"{value:g}"}


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: Sequence[float | None]


def nice_ceiling(value: float) -> float:
    """A round number at or above `value` for the top of the axis (1, 2, 2.5 or 5 times 10^n)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _frame(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    top: float,
    y_format: Callable[[float], str],
    series: Sequence[Series],
) -> list[str]:
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'preserveAspectRatio="xMidYMid meet" font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]
    for n in range(5):  # horizontal grid lines with their values
        value = top * n / 4
        y = TOP + PLOT_H - PLOT_H * n / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{INK}">{escape(y_format(value))}</text>'
        )
    every = max(1, math.ceil(len(labels) / 7))  # at most seven dates under the axis, so they never overlap
    slot = PLOT_W / max(1, len(labels))
    for i, label in enumerate(labels):
        if i % every == 0:
            x = LEFT + slot * (i + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="middle" fill="{INK}">{escape(label)}</text>'
            )
    x = LEFT
    for item in series:  # the legend, across the top
        parts.append(f'<rect x="{x}" y="8" width="12" height="12" fill="{item.colour}"/>')
        parts.append(f'<text x="{x + 16}" y="18" fill="{INK}">{escape(item.name)}</text>')
        x += 28 + 7 * len(item.name)
    return parts


def stacked_bars(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    y_format: Callable[[float], str] = lambda v: f"{v:g}",
) -> SafeString:
    """One bar per label, its series stacked bottom-up (missing values count as nothing)."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    top = nice_ceiling(max(totals, default=0))
    parts = _frame(
        chart_id=chart_id,
        title=title,
        description=description,
        labels=labels,
        top=top,
        y_format=y_format,
        series=series,
    )
    slot = PLOT_W / max(1, len(labels))
    bar = max(1.0, slot * 0.7)
    for i, label in enumerate(labels):
        base = TOP + PLOT_H
        x = LEFT + slot * i + (slot - bar) / 2
        for item in series:
            value = item.values[i] or 0
            if not value:
                continue
            height = PLOT_H * value / top
            base -= height
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{item.colour}"><title>{escape(label)}: {escape(item.name)} '
                f"{escape(y_format(value))}</title></rect>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every piece of text above is escaped


def lines(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    top: float | None = None,
    y_format: Callable[[float], str] = lambda v: f"{v:g}",
) -> SafeString:
    """One line per series; a missing value breaks the line, and a lone point is drawn as a dot."""
    values = [v for s in series for v in s.values if v is not None]
    top = top if top is not None else nice_ceiling(max(values, default=0))
    parts = _frame(
        chart_id=chart_id,
        title=title,
        description=description,
        labels=labels,
        top=top,
        y_format=y_format,
        series=series,
    )
    slot = PLOT_W / max(1, len(labels))
    for item in series:
        run: list[tuple[float, float]] = []
        runs = []
        for i, value in enumerate(item.values):
            if value is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append((LEFT + slot * (i + 0.5), TOP + PLOT_H - PLOT_H * min(value, top) / top))
        if run:
            runs.append(run)
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(f'<polyline points="{points}" fill="none" stroke="{item.colour}" stroke-width="2"/>')
            for x, y in run:
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{item.colour}"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every piece of text above is escaped
