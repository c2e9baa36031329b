"""Demo data of the audit app: the statistics of the demo's last two weeks, counted from its calls as
the nightly job would have (runs after the answering desk's demo, which makes the calls)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from audit.analytics import analytics_rollup
from audit.models import LineDayStats
from audit.selectors import company_zone


def audit_demo(slug: str, rich: bool) -> None:
    if not rich or LineDayStats.objects.exists():
        return
    yesterday = timezone.now().astimezone(company_zone()).date() - dt.timedelta(days=1)
    for n in range(14, 0, -1):
        analytics_rollup(day=yesterday - dt.timedelta(days=n - 1))
