"""The appointments screen and API: the week calendar, booking, cancelling and rescheduling with
the services' errors shown where they belong, and nothing of one company reaching another."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm.models import Contact
from scheduling.models import Appointment, Resource, Service
from scheduling.services import appointment_book
from tenants.models import Membership, User

pytestmark = pytest.mark.django_db
TALLINN = zoneinfo.ZoneInfo("Europe/Tallinn")


def _free_weekday(weeks_ahead: int = 3) -> dt.date:
    """A weekday weeks ahead, past the demo's week of appointments."""
    day = timezone.localdate() + dt.timedelta(weeks=weeks_ahead)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    return day


@pytest.fixture
def clinic(acme):
    with tenant_context(acme):
        return {
            "kask": Resource.objects.get(label="Dr. Kask"),
            "tamm": Resource.objects.get(label="Dr. Tamm"),
            "room": Resource.objects.get(label="Room 1"),
            "checkup": Service.objects.get(name="Check-up"),
            "caller": Contact.objects.create(name="Calendar Caller", phone_number="+37255588001"),
        }


@pytest.fixture
def booked(acme, acme_admin, clinic):
    """A booking at 10:00 Tallinn time, three weeks ahead, with Dr. Kask."""
    with tenant_context(acme):
        return appointment_book(
            service=clinic["checkup"],
            resource=clinic["kask"],
            contact=clinic["caller"],
            starts_at=dt.datetime.combine(_free_weekday(), dt.time(10), tzinfo=TALLINN),
            notes="Bring the X-ray",
            actor=acme_admin,
        )


@pytest.fixture
def acme_member(acme):
    member = User.objects.create_user("acme-member", password="x")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    return member


def _booking(clinic, day: dt.date, time: str, **extra) -> dict:
    return {
        "service": clinic["checkup"].pk,
        "resource": clinic["kask"].pk,
        "date": day.isoformat(),
        "time": time,
        "contact_phone": "",
        "notes": "",
        **extra,
    }


def test_week_view_shows_the_days_and_bookings_in_the_company_zone(client_for, acme_admin, booked):
    client = client_for("acme.localhost", acme_admin)
    page = client.get("/appointments/", {"week": booked.starts_at.date().isoformat()}).content.decode()
    assert page.count('class="day') == 7
    assert "Calendar Caller" in page
    assert "10:00\u201310:30" in page  # 10:00 Tallinn time, however far from UTC, on a 24-hour clock
    assert f"/appointments/{booked.pk}/" in page
    assert 'id="booking-form"' in page

    partial = client.get("/appointments/", {"week": booked.starts_at.date().isoformat()}, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="calendar">')
    assert "<html" not in body
    assert "Calendar Caller" in body

    previous = client.get("/appointments/", {"week": (booked.starts_at.date() - dt.timedelta(days=7)).isoformat()})
    assert "Calendar Caller" not in previous.content.decode()
    assert client.get("/appointments/", {"week": "not-a-date"}).status_code == 200


def test_booking_from_the_portal(client_for, acme, acme_admin, clinic):
    client = client_for("acme.localhost", acme_admin)
    day = _free_weekday()
    response = client.post(
        "/appointments/book/", _booking(clinic, day, "11:30", contact_phone="+372 5558 8001", notes="First visit")
    )
    assert response.status_code == 302
    assert f"week={day.isoformat()}" in response["Location"]
    with tenant_context(acme):
        appointment = Appointment.objects.get(
            resource=clinic["kask"], starts_at=dt.datetime.combine(day, dt.time(11, 30), tzinfo=TALLINN)
        )
        assert (appointment.status, appointment.contact, appointment.notes) == (
            "booked",
            clinic["caller"],
            "First visit",
        )


@pytest.mark.parametrize(
    ("time", "extra", "message"),
    [
        ("10:00", {}, "That slot is taken"),
        ("10:15", {}, "That slot is taken"),  # overlaps 10:00-10:30 and its buffer
        ("20:00", {}, "outside its working hours"),
        ("11:00", {"contact_phone": "+37255588999"}, "No contact has this number"),
        ("11:00", {"contact_phone": "12"}, "is not a phone number"),
    ],
)
def test_a_booking_that_cannot_be_had_is_an_inline_error(
    client_for, acme, acme_admin, clinic, booked, time, extra, message
):
    with tenant_context(acme):
        before = Appointment.objects.count()
    response = client_for("acme.localhost", acme_admin).post(
        "/appointments/book/", _booking(clinic, booked.starts_at.astimezone(TALLINN).date(), time, **extra)
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'role="alert"' in page
    assert 'id="booking-form"' in page
    with tenant_context(acme):
        assert Appointment.objects.count() == before


def test_a_past_date_is_refused_inline(client_for, acme_admin, clinic):
    response = client_for("acme.localhost", acme_admin).post(
        "/appointments/book/", _booking(clinic, timezone.localdate() - dt.timedelta(days=2), "10:00")
    )
    assert "in the past" in response.content.decode()


def test_free_times_lists_only_free_starts(client_for, acme_admin, clinic, booked):
    day = booked.starts_at.astimezone(TALLINN).date()
    body = (
        client_for("acme.localhost", acme_admin)
        .get(
            "/appointments/free-times/",
            {"service": clinic["checkup"].pk, "resource": clinic["kask"].pk, "date": day.isoformat()},
        )
        .content.decode()
    )
    assert '<option value="09:00">' in body
    assert '<option value="10:45">' in body
    assert '<option value="10:00">' not in body
    assert '<option value="10:15">' not in body
    bad = client_for("acme.localhost", acme_admin).get("/appointments/free-times/", {"service": "x"})
    assert 'role="alert"' in bad.content.decode()


def test_free_times_of_a_past_day_say_the_day_has_passed(client_for, acme_admin, clinic):
    """Not a blank answer (htmx swaps nothing on an error): the button says why there is nothing."""
    client = client_for("acme.localhost", acme_admin)
    client.cookies["django_language"] = "et"
    day = timezone.localdate() - dt.timedelta(days=3)
    response = client.get(
        "/appointments/free-times/",
        {"service": clinic["checkup"].pk, "resource": clinic["kask"].pk, "date": day.isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'role="alert"' in body
    assert f"{day.day}.{day.month}.{day.year} on möödas: valige tänane või hilisem päev." in body
    assert "<option" not in body


def test_cancel_and_reschedule_from_the_detail_page(client_for, acme, acme_admin, clinic, booked):
    client = client_for("acme.localhost", acme_admin)
    detail = client.get(f"/appointments/{booked.pk}/").content.decode()
    assert "Bring the X-ray" in detail
    assert "Calendar Caller" in detail
    day = booked.starts_at.astimezone(TALLINN).date()
    with tenant_context(acme):
        other = appointment_book(
            service=clinic["checkup"],
            resource=clinic["kask"],
            actor=acme_admin,
            starts_at=dt.datetime.combine(day, dt.time(14), tzinfo=TALLINN),
        )

    taken = client.post(f"/appointments/{booked.pk}/reschedule/", {"date": day.isoformat(), "time": "14:00"})
    assert "That slot is taken" in taken.content.decode()
    with tenant_context(acme):
        booked.refresh_from_db()
        assert booked.starts_at.astimezone(TALLINN).time() == dt.time(10)  # left exactly as it was

    moved = client.post(f"/appointments/{booked.pk}/reschedule/", {"date": day.isoformat(), "time": "15:00"})
    assert moved.status_code == 302
    with tenant_context(acme):
        booked.refresh_from_db()
        assert booked.starts_at.astimezone(TALLINN).time() == dt.time(15)

    cancelled = client.post(f"/appointments/{other.pk}/cancel/", {"reason": "Caller is ill"})
    assert cancelled.status_code == 302
    with tenant_context(acme):
        other.refresh_from_db()
        assert (other.status, other.cancelled_reason) == ("cancelled", "Caller is ill")
    again = client.post(f"/appointments/{other.pk}/cancel/", {"reason": ""})
    assert "already cancelled" in again.content.decode()


def test_a_member_sees_the_calendar_but_cannot_book_or_change(client_for, acme, acme_member, clinic, booked):
    client = client_for("acme.localhost", acme_member)
    page = client.get("/appointments/", {"week": booked.starts_at.date().isoformat()}).content.decode()
    assert "Calendar Caller" in page
    assert 'id="booking-form"' not in page
    assert "Cancel the appointment" not in client.get(f"/appointments/{booked.pk}/").content.decode()
    assert client.post("/appointments/book/", _booking(clinic, _free_weekday(), "12:00")).status_code == 404
    assert client.post(f"/appointments/{booked.pk}/cancel/", {}).status_code == 404
    api = client.post(f"/api/v1/appointments/{booked.pk}/cancel/", {}, content_type="application/json")
    assert api.status_code == 403
    with tenant_context(acme):
        booked.refresh_from_db()
        assert booked.status == "booked"


def test_api_books_lists_cancels_and_reschedules(client_for, acme_admin, clinic):
    client = client_for("acme.localhost", acme_admin)
    day = _free_weekday(4)
    starts = dt.datetime.combine(day, dt.time(9), tzinfo=TALLINN)
    created = client.post(
        "/api/v1/appointments/",
        {
            "service": clinic["checkup"].pk,
            "resource": clinic["tamm"].pk,
            "starts_at": starts.isoformat(),
            "contact": clinic["caller"].pk,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["contact_name"], body["resource_label"]) == ("booked", "Calendar Caller", "Dr. Tamm")

    twice = client.post(
        "/api/v1/appointments/",
        {"service": clinic["checkup"].pk, "resource": clinic["tamm"].pk, "starts_at": starts.isoformat()},
        content_type="application/json",
    )
    assert twice.status_code == 400
    assert (twice.json()["code"], twice.json()["field"]) == ("slot_taken", "starts_at")

    window = {"starts_after": starts.isoformat(), "starts_before": (starts + dt.timedelta(days=1)).isoformat()}
    listed = client.get("/api/v1/appointments/", {"resource": clinic["tamm"].pk, **window})
    assert [row["id"] for row in listed.json()["results"]] == [body["id"]]

    later = {"starts_at": (starts + dt.timedelta(hours=2)).isoformat()}
    moved = client.post(f"/api/v1/appointments/{body['id']}/reschedule/", later, content_type="application/json")
    assert moved.status_code == 200
    assert moved.json()["starts_at"].startswith(f"{day.isoformat()}T")
    cancelled = client.post(
        f"/api/v1/appointments/{body['id']}/cancel/", {"reason": "No longer needed"}, content_type="application/json"
    )
    assert cancelled.json()["status"] == "cancelled"
    assert (
        client.post(f"/api/v1/appointments/{body['id']}/cancel/", {}, content_type="application/json").status_code
        == 400
    )

    services = client.get("/api/v1/services/").json()["results"]
    assert {s["name"] for s in services} == {"Check-up", "Dental cleaning", "Filling"}
    resources = client.get("/api/v1/resources/").json()["results"]
    assert {r["label"] for r in resources} >= {"Dr. Kask", "Room 1"}
    slots = client.get(
        "/api/v1/slots/",
        {
            "service": clinic["checkup"].pk,
            "resource": clinic["tamm"].pk,
            "start": starts.isoformat(),
            "end": (starts + dt.timedelta(hours=1)).isoformat(),
        },
    ).json()
    assert slots[0]["starts_at"].startswith(f"{day.isoformat()}T")
    assert slots[0]["resource_label"] == "Dr. Tamm"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"starts_at": "2030-03-04T10:00:00"}, "starts_at"),  # no offset
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"starts_at": "2020-03-04T10:00:00+02:00"}, "starts_at"),  # past
        ({"starts_at": "{day}T21:00:00+02:00"}, "starts_at"),  # outside hours
        ({"service": 99999}, "service"),
        ({"contact": 99999}, "contact"),
        ({"notes": "x" * 2001}, "notes"),
        ({"resource": "room"}, "resource"),  # Room 1 offers cleaning only
    ],
)
def test_api_bad_booking_is_a_400_naming_the_field(client_for, acme, acme_admin, clinic, payload, field):
    day = _free_weekday(5)
    data = {
        "service": clinic["checkup"].pk,
        "resource": clinic["kask"].pk,
        "starts_at": dt.datetime.combine(day, dt.time(10), tzinfo=TALLINN).isoformat(),
    }
    data.update({k: v.format(day=day.isoformat()) if isinstance(v, str) else v for k, v in payload.items()})
    if data["resource"] == "room":
        data["resource"] = clinic["room"].pk
    with tenant_context(acme):
        before = Appointment.objects.count()
    response = client_for("acme.localhost", acme_admin).post(
        "/api/v1/appointments/", data, content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body.get("field") == field or field in body, body
    with tenant_context(acme):
        assert Appointment.objects.count() == before


@pytest.mark.parametrize(
    "query", [{"ordering": "notes"}, {"status": "lost"}, {"starts_after": "2030-01-01T10:00"}, {"resource": "x"}]
)
def test_api_bad_list_query_is_a_400(client_for, acme_admin, query):
    response = client_for("acme.localhost", acme_admin).get("/api/v1/appointments/", query)
    assert response.status_code == 400
    assert set(query) <= set(response.json())


def test_globex_sees_nothing_of_acme(client_for, globex, globex_admin, booked):
    with tenant_context(globex):
        assert not Appointment.objects.filter(pk=booked.pk).exists()
    client = client_for("globex.localhost", globex_admin)
    for path in [f"/appointments/{booked.pk}/", f"/api/v1/appointments/{booked.pk}/"]:
        assert client.get(path).status_code == 404, path
    for action in ["cancel", "reschedule"]:
        for path in [f"/appointments/{booked.pk}/{action}/", f"/api/v1/appointments/{booked.pk}/{action}/"]:
            assert client.post(path, {}, content_type="application/json").status_code == 404, path
    week = client.get("/appointments/", {"week": booked.starts_at.date().isoformat()}).content.decode()
    assert "Calendar Caller" not in week
    assert "Dr. Kask" not in week
    listed = client.get("/api/v1/appointments/").json()
    assert booked.pk not in [row["id"] for row in listed["results"]]
    assert "Check-up" not in str(client.get("/api/v1/services/").json())
    # globex's admin cannot book on acme's resources from its own host either
    refused = client.post(
        "/api/v1/appointments/",
        {"service": booked.service_id, "resource": booked.resource_id, "starts_at": booked.starts_at.isoformat()},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert client_for("acme.localhost", globex_admin).get(f"/api/v1/appointments/{booked.pk}/").status_code == 404
    assert client_for("acme.localhost", globex_admin).get("/appointments/").status_code == 404
