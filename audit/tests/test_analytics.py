"""Statistics per line and day: right numbers, no personal data, and unchanged by a later purge."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Line
from audit.analytics import analytics_rollup
from audit.models import LineDayStats
from audit.retention import retention_purge

pytestmark = pytest.mark.django_db
TALLINN = zoneinfo.ZoneInfo("Europe/Tallinn")
DAY = dt.date(2026, 6, 1)


@pytest.fixture
def a_day_of_calls(acme):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001002")
        start = dt.datetime.combine(DAY, dt.time(10), tzinfo=TALLINN)
        # (caller, seconds to answer or None, seconds talking)
        for n, (caller, wait, talk) in enumerate(
            [("+37255590001", 5, 60), ("+37255590001", 30, 120), ("+37255590002", 10, 90), ("+37255590003", None, 0)]
        ):
            begun = start + dt.timedelta(minutes=10 * n)
            answered = begun + dt.timedelta(seconds=wait) if wait is not None else None
            Call.objects.create(
                line=line,
                telephony_sid=f"CAstat{n}".ljust(34, "0"),
                started_at=begun,
                caller_number=caller,
                caller_name="Stat Person",
                answered_at=answered,
                ended_at=(answered or begun) + dt.timedelta(seconds=talk),
                status="completed" if answered else "missed",
            )
        yield line


def test_a_day_is_counted_right(acme, a_day_of_calls):
    with tenant_context(acme):
        analytics_rollup(day=DAY)
        stats = LineDayStats.objects.get(line=a_day_of_calls, day=DAY)
    assert (stats.offered, stats.answered, stats.abandoned) == (4, 3, 1)
    assert stats.answer_p50_seconds == 10
    assert stats.handle_avg_seconds == 90
    assert stats.within_target_share == pytest.approx(2 / 3)  # target 20 s: 5 and 10, not 30
    assert stats.repeat_caller_share == pytest.approx(1 / 3)  # one of three callers called twice


def test_the_statistics_hold_no_personal_data(acme, a_day_of_calls):
    with tenant_context(acme):
        analytics_rollup(day=DAY)
        with connection.cursor() as cursor:
            cursor.execute("SELECT row_to_json(s)::text FROM audit_linedaystats s")
            text = " ".join(row[0] for row in cursor.fetchall())
    for value in ("+37255590001", "Stat Person", "5559000"):
        assert value not in text


def test_pseudonyms_differ_between_companies():
    from crm.blind_index import pseudonym

    assert pseudonym("+37255590001", schema="acme") != pseudonym("+37255590001", schema="globex")
    assert pseudonym("+37255590001", schema="acme") == pseudonym("+37255590001", schema="acme")


def test_a_purge_after_the_rollup_leaves_the_statistics_unchanged(acme, a_day_of_calls):
    with tenant_context(acme):
        analytics_rollup(day=DAY)
        before = list(LineDayStats.objects.filter(day=DAY).values())
        retention_purge(now=timezone.now() + dt.timedelta(days=800))
        assert Call.objects.filter(line=a_day_of_calls, started_at__date=DAY, caller_pseudonym="").count() == 4
        assert list(LineDayStats.objects.filter(day=DAY).values()) == before


def test_supervisors_see_the_statistics_with_bars(acme, a_day_of_calls, admin_for):
    from tenants.models import User

    with tenant_context(acme):
        analytics_rollup(day=DAY)
    page = admin_for(User.objects.get(username="supervisor"), "acme").get("/admin/audit/linedaystats/")
    assert page.status_code == 200
    assert "75% answered" in page.content.decode()
