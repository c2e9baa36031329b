"""Nightly per-line, per-day statistics: counts and timings only, and repeat callers counted by
keyed pseudonym, never by number. Rows are computed once per closed day and then left alone, so
a later retention purge of the calls does not change them."""

from __future__ import annotations

import datetime as dt
import statistics
import zoneinfo
from collections import Counter

from django.db import connection
from django.utils import timezone

from answering.models import Call, Line, Message, Voicemail
from audit.models import LineDayStats


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def analytics_rollup(*, day: dt.date) -> list[LineDayStats]:
    """Compute (or recompute) one day's statistics for every line of the current company."""
    zone = zoneinfo.ZoneInfo(getattr(connection.tenant, "time_zone", "UTC"))
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = start + dt.timedelta(days=1)
    rows = []
    for line in Line.objects.all():
        calls = list(
            Call.objects.filter(line=line, started_at__gte=start, started_at__lt=end, direction="inbound").only(
                "started_at", "answered_at", "ended_at", "status", "caller_pseudonym"
            )
        )
        answered = [c for c in calls if c.answered_at]
        waits = sorted((c.answered_at - c.started_at).total_seconds() for c in answered)
        handles = [(c.ended_at - c.answered_at).total_seconds() for c in answered if c.ended_at]
        voicemails = Voicemail.objects.filter(call__in=[c.pk for c in calls]).count()
        seen = Counter(c.caller_pseudonym for c in calls if c.caller_pseudonym)
        in_target = (sum(w <= line.answer_target_seconds for w in waits) / len(waits)) if waits else None
        stats, _ = LineDayStats.objects.update_or_create(
            line=line,
            day=day,
            defaults={
                "offered": len(calls),
                "answered": len(answered),
                "abandoned": max(0, len(calls) - len(answered) - voicemails),
                "answer_p50_seconds": _percentile(waits, 0.5),
                "answer_p90_seconds": _percentile(waits, 0.9),
                "handle_avg_seconds": statistics.fmean(handles) if handles else None,
                "within_target_share": in_target,
                "voicemails": voicemails,
                "messages": Message.objects.filter(line=line, created_at__gte=start, created_at__lt=end).count(),
                "repeat_caller_share": (sum(1 for n in seen.values() if n > 1) / len(seen)) if seen else None,
            },
        )
        rows.append(stats)
    return rows


def analytics_rollup_yesterday() -> int:
    zone = zoneinfo.ZoneInfo(getattr(connection.tenant, "time_zone", "UTC"))
    yesterday = timezone.now().astimezone(zone).date() - dt.timedelta(days=1)
    return len(analytics_rollup(day=yesterday))
