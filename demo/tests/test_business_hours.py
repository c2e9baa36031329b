"""`run_demo` says whether each company answers live now, in its own zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django_tenants.utils import tenant_context

from answering.models import BusinessHours, Line
from demo.answering import business_hours_now

pytestmark = pytest.mark.django_db
TALLINN = zoneinfo.ZoneInfo("Europe/Tallinn")


@pytest.fixture
def weekdays_8_to_18(acme):
    with tenant_context(acme):
        for line in Line.objects.all():
            for weekday in range(5):
                BusinessHours.objects.create(line=line, weekday=weekday, opens=dt.time(8), closes=dt.time(18))
    return acme


def test_in_and_out_of_business_hours_by_the_companys_clock(weekdays_8_to_18):
    tuesday_morning = dt.datetime(2026, 12, 1, 9, 30, tzinfo=TALLINN)  # 07:30 UTC: closed by UTC's clock
    with tenant_context(weekdays_8_to_18):
        assert business_hours_now(at=tuesday_morning) == (
            "in business hours now (Tue 09:30 Europe/Tallinn): calls go to the agents"
        )
        evening = business_hours_now(at=tuesday_morning.replace(hour=19, minute=0))
        assert evening == "outside business hours now (Tue 19:00 Europe/Tallinn): calls go to voicemail"
        assert business_hours_now(at=dt.datetime(2026, 12, 5, 10, tzinfo=TALLINN)).startswith(
            "outside business hours now (Sat 10:00"
        )


def test_run_demo_prints_it_for_every_company_with_the_way_round_it(weekdays_8_to_18):
    from io import StringIO

    from demo.management.commands.run_demo import Command
    from gates.context import cleared

    out = StringIO()
    with cleared("command"):  # as in `run_demo` itself, which starts with no gate context
        Command(stdout=out)._business_hours(8123)
    printed = out.getvalue()
    for slug in ("acme", "globex", "initech"):
        assert f"    {slug}: " in printed
    assert "Europe/Helsinki" in printed  # globex's own zone
    assert "simulate_call acme --in-hours --port 8123" in printed
