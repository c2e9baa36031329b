"""Every time a person sees is in the company's zone, labelled with it, and written the way the
active language writes it: the same appointment on the portal, in the admin and in the API, in
Estonian and in English."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.conf import settings
from django.utils import formats, translation
from django_tenants.utils import tenant_context

from scheduling.models import Appointment

pytestmark = pytest.mark.django_db
TALLINN = zoneinfo.ZoneInfo("Europe/Tallinn")
MOMENT = dt.datetime(2026, 12, 1, 9, 5, tzinfo=TALLINN)


@pytest.mark.parametrize(
    ("language", "date", "time", "both"),
    [("et", "1.12.2026", "09:05", "1.12.2026 09:05"), ("en", "2026-12-01", "09:05", "2026-12-01 09:05")],
)
def test_each_language_writes_a_time_one_way(language, date, time, both):
    """tenants/formats/: the short and the long forms agree, and the clock has 24 hours."""
    with translation.override(language):
        assert formats.date_format(MOMENT, "SHORT_DATE_FORMAT") == date
        assert formats.date_format(MOMENT.date(), "DATE_FORMAT") == date
        assert formats.time_format(MOMENT, "TIME_FORMAT") == time
        assert formats.date_format(MOMENT, "SHORT_DATETIME_FORMAT") == both
        assert formats.date_format(MOMENT, "DATETIME_FORMAT") == both
        assert formats.date_format(dt.datetime(2026, 12, 1, 21, 30), "SHORT_DATETIME_FORMAT").endswith("21:30")
        assert formats.get_format("FIRST_DAY_OF_WEEK") == 1  # Monday


@pytest.fixture
def appointment(acme):
    """One of acme's demo appointments, and how it reads in acme's zone."""
    with tenant_context(acme):
        booking = Appointment.objects.select_related("service").filter(status="booked").order_by("pk").first()
    local = booking.starts_at.astimezone(zoneinfo.ZoneInfo(acme.time_zone))
    assert local.utcoffset() != dt.timedelta(0)  # so that a time left in UTC would show
    return booking, local


def _expected(local: dt.datetime, language: str) -> str:
    return f"{local:%Y-%m-%d %H:%M}" if language == "en" else f"{local.day}.{local.month}.{local.year} {local:%H:%M}"


@pytest.mark.parametrize("language", ["et", "en"])
def test_an_appointment_reads_alike_on_the_portal_the_admin_and_the_api(
    language, appointment, acme, acme_admin, agent1, client_for, admin_for
):
    booking, local = appointment
    expected, in_utc = _expected(local, language), _expected(booking.starts_at.astimezone(dt.UTC), language)

    portal = client_for("acme.localhost", acme_admin)
    portal.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = portal.get(f"/appointments/{booking.pk}/").content.decode()
    assert f'<html lang="{language}">' in page
    assert expected in page
    assert in_utc not in page
    zone_label = {"en": "Times in Europe/Tallinn", "et": "Kellaajad vööndis Europe/Tallinn"}[language]
    assert zone_label in page

    admin = admin_for(agent1, "acme")
    for path in (f"/admin/scheduling/appointment/{booking.pk}/change/", "/admin/scheduling/appointment/"):
        page = admin.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert f'lang="{language}"' in page
        assert expected in page, path
        assert in_utc not in page, path
        assert "times in Europe/Tallinn" in page

    # The API speaks ISO 8601, in every language, with the company's offset rather than UTC's.
    api = client_for("acme.localhost", acme_admin)
    data = api.get(f"/api/v1/appointments/{booking.pk}/", HTTP_ACCEPT_LANGUAGE=language).json()
    assert data["starts_at"] == local.isoformat()
    assert dt.datetime.fromisoformat(data["starts_at"]).utcoffset() == local.utcoffset()


def test_the_admin_shows_utc_and_says_so_while_no_company_is_chosen(admin_for):
    from tenants.models import User

    page = admin_for(User.objects.get(username="dpo")).get("/admin/dpo/").content.decode()
    assert "times in UTC" in page


def test_the_zone_does_not_outlive_the_request(acme_admin, client_for):
    from django.utils import timezone

    client_for("acme.localhost", acme_admin).get("/")
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE
