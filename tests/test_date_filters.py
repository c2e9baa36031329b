"""Every date that people type, out of range (Python's dates end at 9999-12-31, so the day after
overflows), is refused with the field named: a 400 in the API, a form error in the portal and the
admin. Never a 500."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from scheduling.models import Resource, Service

pytestmark = pytest.mark.django_db
HOST = "acme.localhost"
RULE = "Enter a date between 1900-01-01 and 2999-12-31."
LATE, EARLY = "9999-12-31", "0001-01-01"
LATE_TIME, EARLY_TIME = "9999-12-31T00:00:00+00:00", "0001-01-01T00:00:00+14:00"


@pytest.fixture
def booking_ids(acme):
    with tenant_context(acme):
        service = Service.objects.get(name="Check-up")
        return {"service": service.pk, "resource": Resource.objects.get(label="Dr. Tamm").pk}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("calls/", "date_to"),
        ("calls/", "date_from"),
        ("access-log/", "date_to"),
        ("access-log/", "date_from"),
        ("analytics/line-days/", "date_to"),
        ("analytics/line-days/", "date_from"),
    ],
)
@pytest.mark.parametrize("value", [LATE, EARLY])
def test_an_api_date_filter_out_of_range_is_a_400_naming_it(client_for, acme_admin, path, field, value):
    response = client_for(HOST, acme_admin).get(f"/api/v1/{path}", {field: value})
    assert response.status_code == 400
    assert response.json() == {field: [RULE]}


@pytest.mark.parametrize("field", ["starts_after", "starts_before"])
@pytest.mark.parametrize("value", [LATE_TIME, EARLY_TIME])
def test_an_api_appointment_filter_out_of_range_is_a_400_naming_it(client_for, acme_admin, field, value):
    response = client_for(HOST, acme_admin).get("/api/v1/appointments/", {field: value})
    assert response.status_code == 400
    # Year 1 at +14:00 is before year 1 in UTC: DRF refuses it itself ("Datetime value out of range.").
    assert list(response.json()) == [field]


def test_api_slots_and_a_booking_out_of_range_are_a_400_naming_the_field(client_for, acme_admin, booking_ids):
    client = client_for(HOST, acme_admin)
    slots = client.get(
        "/api/v1/slots/", {"service": booking_ids["service"], "start": LATE_TIME, "end": "9999-12-31T08:00:00+00:00"}
    )
    assert slots.status_code == 400
    assert slots.json() == {"start": [RULE], "end": [RULE]}
    booking = client.post(
        "/api/v1/appointments/", {**booking_ids, "starts_at": LATE_TIME}, content_type="application/json"
    )
    assert booking.status_code == 400
    assert booking.json() == {"starts_at": [RULE]}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/calls/", "date_to"),
        ("/calls/", "date_from"),
        ("/access-log/", "date_to"),
        ("/access-log/", "date_from"),
        ("/analytics/", "date_to"),
        ("/analytics/", "date_from"),
    ],
)
@pytest.mark.parametrize("value", [LATE, EARLY])
def test_a_portal_date_filter_out_of_range_is_a_form_error_on_its_field(client_for, acme_admin, path, field, value):
    response = client_for(HOST, acme_admin).get(path, {field: value})
    assert response.status_code in (200, 400)
    body = response.content.decode()
    assert f'id="id_{field}-errors"' in body or f'id="id_{field}_error"' in body or RULE in body
    assert RULE in body


@pytest.mark.parametrize("path", ["/access-log/export.csv", "/analytics/export.csv"])
def test_a_portal_export_out_of_range_is_a_400_naming_the_field(client_for, acme_admin, path):
    response = client_for(HOST, acme_admin).get(path, {"date_to": LATE})
    assert response.status_code == 400
    assert "date_to" in response.content.decode()
    assert RULE in response.content.decode()


def test_the_rule_speaks_estonian_in_the_portal(client_for, acme_admin, settings):
    client = client_for(HOST, acme_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "et"
    body = client.get("/calls/", {"date_to": LATE}).content.decode()
    assert "Sisesta kuupäev vahemikus 1900-01-01 kuni 2999-12-31." in body


@pytest.mark.parametrize("week", [LATE, EARLY])
def test_a_week_out_of_range_shows_this_week(client_for, acme_admin, week):
    # As a mistyped week does: the calendar's previous and next weeks could not be computed.
    response = client_for(HOST, acme_admin).get("/appointments/", {"week": week})
    assert response.status_code == 200


@pytest.mark.parametrize("day", [LATE, EARLY])
def test_free_times_and_a_portal_booking_out_of_range_are_refused(client_for, acme_admin, booking_ids, day):
    client = client_for(HOST, acme_admin)
    free = client.get("/appointments/free-times/", {**booking_ids, "date": day})
    assert free.status_code == 200
    assert "Choose a service, who it is with, and a date." in free.content.decode()
    booked = client.post("/appointments/book/", {**booking_ids, "date": day, "time": "23:45"})
    assert booked.status_code < 500
    assert RULE in booked.content.decode()


def test_the_admins_slot_search_and_booking_out_of_range_are_refused(admin_for, agent2, booking_ids):
    client = admin_for(agent2, "acme")
    search = client.get("/admin/scheduling/appointment/book/", {**booking_ids, "day": LATE})
    assert search.status_code == 200
    assert RULE in search.content.decode()
    booked = client.post("/admin/scheduling/appointment/book/", {**booking_ids, "starts_at": LATE_TIME}, follow=True)
    assert booked.status_code == 200
    assert "That slot is not valid any more" in booked.content.decode()


@pytest.mark.parametrize("value", ["1900-01-01", "2999-12-31"])
def test_the_ends_of_the_range_are_accepted(client_for, acme_admin, value):
    client = client_for(HOST, acme_admin)
    assert client.get("/api/v1/calls/", {"date_from": value, "date_to": value}).status_code == 200
    assert client.get("/api/v1/access-log/", {"date_from": value, "date_to": value}).status_code == 200
    assert client.get("/calls/", {"date_from": value, "date_to": value}).status_code == 200
