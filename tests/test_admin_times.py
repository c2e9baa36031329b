"""The provider's admin from the side of the agent: times in the company's zone and labelled with
it, also across a change of daylight-saving time, and a past day in the slot search a clear
error on the page, never a 500."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Line

pytestmark = pytest.mark.django_db

# Europe/Tallinn leaves summer time on 2026-10-25 at 04:00 EEST (01:00 UTC): two minutes apart in
# UTC, the two calls are an hour apart on the wall clock the other way round.
BEFORE = dt.datetime(2026, 10, 25, 0, 59, tzinfo=dt.UTC)  # 03:59 EEST (+03:00)
AFTER = dt.datetime(2026, 10, 25, 1, 1, tzinfo=dt.UTC)  # 03:01 EET (+02:00)


@pytest.fixture
def dst_calls(acme):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        return [
            Call.objects.create(line=line, telephony_sid=f"CAdst{n}".ljust(34, "0"), started_at=at)
            for n, at in enumerate((BEFORE, AFTER))
        ]


def test_calls_across_the_dst_change_show_the_companys_wall_clock(admin_for, agent1, dst_calls):
    client = admin_for(agent1, "acme")
    for call, local, utc in zip(dst_calls, ("2026-10-25 03:59", "2026-10-25 03:01"), ("00:59", "01:01"), strict=True):
        page = client.get(f"/admin/answering/call/{call.pk}/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert local in page
        assert f"2026-10-25 {utc}" not in page  # not left in UTC
        assert "times in Europe/Tallinn" in page
    listing = client.get("/admin/answering/call/?started_at__day=25&started_at__month=10&started_at__year=2026")
    body = listing.content.decode()
    assert "03:59" in body
    assert "03:01" in body
    assert "times in Europe/Tallinn" in body


def test_a_past_day_in_the_admin_slot_search_is_a_clear_error(admin_for, agent1, acme):
    from scheduling.models import Service

    with tenant_context(acme):
        service = Service.objects.get(name="Check-up")
    past = timezone.localdate() - dt.timedelta(days=3)
    response = admin_for(agent1, "acme").get(
        "/admin/scheduling/appointment/book/", {"service": service.pk, "day": past.isoformat()}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "has passed: choose today or a later day." in page
    assert "Traceback" not in page
