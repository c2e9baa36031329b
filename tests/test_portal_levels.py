"""The client's Service level screen in a real browser, in English and in Estonian: charts drawn on
the server (no script draws them), the tables, and a screenshot of each for the guides."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.browser import screenshot

TALLINN = zoneinfo.ZoneInfo("Europe/Tallinn")


@pytest.fixture
def acme_levels(live_db):
    """Fourteen days of rollup rows on acme's two lines, eight busy hours a day."""
    from django.db import connections

    from answering.models import Line
    from levels.models import LineHourLevels
    from tenants.models import ClientCompany

    acme = ClientCompany.objects.get(schema_name="acme")
    rng = random.Random(17)
    yesterday = timezone.now().astimezone(TALLINN).date() - dt.timedelta(days=1)
    with tenant_context(acme):
        made = []
        for line in Line.objects.order_by("phone_number"):
            for n in range(14):
                day = yesterday - dt.timedelta(days=n)
                for hour in range(9, 17):
                    start = dt.datetime.combine(day, dt.time(hour), tzinfo=TALLINN)
                    offered = rng.randrange(4, 20) if day.weekday() < 5 else rng.randrange(3)
                    answered = round(offered * rng.uniform(0.8, 0.97))
                    short = min(offered - answered, rng.randrange(2))
                    made.append(
                        LineHourLevels.objects.create(
                            line=line,
                            hour_start=start,
                            day=day,
                            hour=hour,
                            utc_offset_minutes=int(start.utcoffset().total_seconds() // 60),
                            offered=offered,
                            answered=answered,
                            answered_in_target=round(answered * rng.uniform(0.7, 0.95)),
                            abandoned_short=short,
                            abandoned_long=offered - answered - short,
                            handled=answered,
                            wait_seconds=answered * rng.uniform(6, 18),
                            talk_seconds=answered * rng.uniform(90, 200),
                            wrap_seconds=answered * rng.uniform(15, 40),
                            transfers=rng.randrange(2),
                            target_seconds=20,
                        ).pk
                    )
    yield acme
    with tenant_context(acme):
        LineHourLevels.objects.filter(pk__in=made).delete()
    connections.close_all()


def test_the_service_level_screen_in_english_and_estonian(portal, acme_levels):
    page = portal("acme-admin", "acme")
    page.get_by_role("link", name="Service level").click()
    page.wait_for_load_state()
    assert page.locator("h1").first.text_content().strip() == "Service level"
    assert page.locator("svg.chart").count() == 3
    assert page.locator("svg.chart title").first.text_content() == "Calls offered per day"
    assert page.locator("#levels-days tbody tr").count() == 30  # the default period: 30 days
    assert page.locator("#levels-hours tbody tr").count() == 8
    assert page.locator("#levels-totals").get_by_text("Average speed of answer").count() == 1
    screenshot(page, "portal-service-level")

    page.select_option("#language-select", "et")
    page.click("form.language-switch button")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "et"
    assert page.locator("h1").first.text_content().strip() == "Teenindustase"
    assert page.locator("svg.chart title").first.text_content() == "Saabunud kõned päevas"
    assert page.locator("#levels-totals").get_by_text("Keskmine vastamiskiirus").count() == 1
    screenshot(page, "portal-service-level-et")
