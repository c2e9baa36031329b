"""The calendar feed, the on-call rota and booking from the admin, from the side that must not see."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from auditlog.models import LogEntry
from django.utils import timezone
from django_tenants.utils import tenant_context
from icalendar import Calendar

from answering.models import Line
from compliance.agreements import services as dpa
from compliance.agreements.models import AgreementVersion
from crm.models import Contact
from scheduling.models import Appointment, OnCallShift, Resource, Service, StaffMember
from scheduling.selectors import oncall_for_line, rota_gaps
from scheduling.services import appointment_book, feed_issue, feed_revoke
from tenants.errors import ApplicationError
from tenants.models import User

pytestmark = pytest.mark.django_db
TALLINN = zoneinfo.ZoneInfo("Europe/Tallinn")


@pytest.fixture
def booked_feed(acme):
    """Dr. Kask's calendar with one booked appointment for a named caller, and a feed URL."""
    booker = User.objects.get(username="acme-admin")
    with tenant_context(acme):
        resource = Resource.objects.get(label="Dr. Kask")
        service = Service.objects.get(name="Check-up")
        contact = Contact.objects.create(name="Feed Caller", phone_number="+37255500009", notes="Feed secret note")
        day = timezone.localdate() + dt.timedelta(days=14)
        while day.weekday() > 4:
            day += dt.timedelta(days=1)
        appointment = appointment_book(
            service=service,
            resource=resource,
            contact=contact,
            actor=booker,
            starts_at=dt.datetime.combine(day, dt.time(16), tzinfo=TALLINN),
            notes="Feed booking note",
        )
        token = feed_issue(resource=resource, actor=booker)
    return resource, appointment, token


def _events(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return [c for c in Calendar.from_ical(response.content).walk() if c.name == "VEVENT"]


def test_feed_is_valid_ical_and_says_only_booked_and_the_service(client_for, booked_feed):
    _, appointment, token = booked_feed
    response = client_for("acme.localhost").get(f"/calendar/{token}.ics")
    events = _events(response)
    mine = [e for e in events if str(e["uid"]).startswith(f"appointment-{appointment.pk}@")]
    assert len(mine) == 1
    assert str(mine[0]["summary"]) == "Booked: Check-up"
    assert mine[0].decoded("dtstart") == appointment.starts_at
    for secret in (b"Feed Caller", b"+37255500009", b"Feed secret note", b"Feed booking note"):
        assert secret not in response.content


def test_names_appear_only_where_the_client_opted_in_and_the_dpa_grants_them(client_for, booked_feed, acme):
    resource, _, token = booked_feed
    with tenant_context(acme):
        Resource.objects.filter(pk=resource.pk).update(feed_includes_names=True)
    assert b"Feed Caller" in client_for("acme.localhost").get(f"/calendar/{token}.ics").content
    from audit.models import AccessLogEntry

    with tenant_context(acme):
        logged = AccessLogEntry.objects.order_by("-pk").first()
    # Names sent in a feed are reads too: the feed's job loaded the callers' names and nothing else.
    assert (logged.channel, logged.job, logged.object_type, logged.fields) == (
        "system",
        "calendar feed",
        "crm.Contact",
        ["name"],
    )

    dpa.dpa_terminate(
        version=AgreementVersion.objects.get(agreement__company=acme, status="active"),
        actor=User.objects.get(username="dpo"),
        reason="ended",
    )
    response = client_for("acme.localhost").get(f"/calendar/{token}.ics")
    assert b"Feed Caller" not in response.content
    assert len(_events(response)) >= 1


def test_revoked_or_replaced_feed_urls_are_404_at_once(client_for, booked_feed, acme):
    resource, _, token = booked_feed
    client = client_for("acme.localhost")
    with tenant_context(acme):
        new_token = feed_issue(resource=resource, actor=User.objects.get(username="acme-admin"))
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    assert client.get(f"/calendar/{new_token}.ics").status_code == 200
    with tenant_context(acme):
        feed_revoke(resource=resource, actor=User.objects.get(username="acme-admin"))
    assert client.get(f"/calendar/{new_token}.ics").status_code == 404
    assert client.get("/calendar/.ics").status_code == 404


def test_a_feed_token_of_one_company_is_nothing_on_another(client_for, booked_feed):
    _, _, token = booked_feed
    assert client_for("globex.localhost").get(f"/calendar/{token}.ics").status_code == 404


# ---- on-call ---------------------------------------------------------------------------------


def test_who_is_on_call_comes_in_escalation_order(globex):
    with tenant_context(globex):
        line = Line.objects.get(phone_number="+3726002001")
        today_noon = dt.datetime.combine(timezone.localdate(), dt.time(12), tzinfo=zoneinfo.ZoneInfo("Europe/Helsinki"))
        order = oncall_for_line(line=line, at=today_noon)
        shifts = OnCallShift.objects.filter(line=line, starts_at__lte=today_noon, ends_at__gt=today_noon)
        assert [s.pk for s in order] == [s.staff_id for s in shifts.order_by("position")]
        assert len(order) == 2
        with pytest.raises(ApplicationError):
            oncall_for_line(line=line, at=dt.datetime(2027, 1, 1, 12))  # naive


def test_the_demo_rota_covers_every_hour_from_now_until_its_planned_gap(globex):
    # The shifts run 08:00 to 08:00 in the company's zone; a rota that started at today's 08:00
    # left the small hours uncovered, and urgent messages found nobody to escalate to.
    with tenant_context(globex):
        line = Line.objects.get(phone_number="+3726002001")
        now = timezone.now()
        assert rota_gaps(line=line, start=now, end=now + dt.timedelta(days=2)) == []
        assert oncall_for_line(line=line)


def test_rota_gaps_are_found_and_flagged_in_the_portal_and_the_admin(globex, client_for, globex_admin, admin_for):
    with tenant_context(globex):
        line = Line.objects.get(phone_number="+3726002001")
        now = timezone.now()
        gaps = rota_gaps(line=line, start=now, end=now + dt.timedelta(days=7))
    assert len(gaps) >= 1
    assert any(end - start >= dt.timedelta(hours=23) for start, end in gaps)  # the demo's uncovered day
    assert b"Nobody on call" in client_for("globex.localhost", globex_admin).get("/").content
    supervisor = User.objects.get(username="supervisor")
    assert "uncovered" in admin_for(supervisor, "globex").get("/admin/answering/line/").content.decode()


def test_lawyers_phone_numbers_stay_hidden_from_globex_agents(admin_for, agent1, globex):
    with tenant_context(globex):
        numbers = [s.phone_number for s in StaffMember.objects.all()]
    page = admin_for(agent1, "globex").get("/admin/scheduling/staffmember/").content.decode()
    assert numbers
    for number in numbers:
        assert number not in page


# ---- booking from the admin --------------------------------------------------------------------


def test_an_agent_finds_a_slot_and_books_it_in_the_admin(admin_for, agent2, acme):
    client = admin_for(agent2, "acme")
    with tenant_context(acme):
        service = Service.objects.get(name="Check-up")
        resource = Resource.objects.get(label="Dr. Tamm")
        contact = Contact.objects.filter(restricted=False).first()
    day = timezone.localdate() + dt.timedelta(days=20)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    page = client.get(
        "/admin/scheduling/appointment/book/", {"service": service.pk, "resource": resource.pk, "day": day.isoformat()}
    )
    assert page.status_code == 200
    assert "Free slots" in page.content.decode()
    starts = dt.datetime.combine(day, dt.time(9), tzinfo=TALLINN)
    booked = client.post(
        "/admin/scheduling/appointment/book/",
        {
            "service": service.pk,
            "resource": resource.pk,
            "starts_at": starts.isoformat(),
            "contact": contact.pk,
        },
    )
    assert booked.status_code == 302
    with tenant_context(acme):
        assert Appointment.objects.filter(
            resource=resource, starts_at=starts, contact=contact, status="booked"
        ).exists()
    again = client.post(
        "/admin/scheduling/appointment/book/",
        {
            "service": service.pk,
            "resource": resource.pk,
            "starts_at": starts.isoformat(),
        },
        follow=True,
    )
    assert "That slot is taken" in again.content.decode()
    with tenant_context(acme):
        appointment = Appointment.objects.get(resource=resource, starts_at=starts, status="booked")
        assert LogEntry.objects.get_for_object(appointment).get().actor == agent2  # the agent, in acme's log


def test_an_agent_cannot_book_for_a_contact_outside_their_grants(admin_for, agent2, acme):
    client = admin_for(agent2, "acme")
    with tenant_context(acme):
        service = Service.objects.get(name="Check-up")
        resource = Resource.objects.get(label="Dr. Tamm")
        vip = Contact.objects.filter(restricted=True).first()
        other = Contact.objects.filter(restricted=False).first()
    day = timezone.localdate() + dt.timedelta(days=21)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    page = client.get(
        "/admin/scheduling/appointment/book/", {"service": service.pk, "resource": resource.pk, "day": day.isoformat()}
    ).content.decode()
    assert f"Contact #{vip.pk}" not in page  # not offered
    # The page's caller picker is the admin's autocomplete, through the gate.
    picker = {"app_label": "scheduling", "model_name": "appointment", "field_name": "contact", "term": ""}
    offered = {row["id"] for row in client.get("/admin/autocomplete/", picker).json()["results"]}
    assert str(other.pk) in offered
    assert str(vip.pk) not in offered
    starts = dt.datetime.combine(day, dt.time(9), tzinfo=TALLINN)
    for contact_id in (vip.pk, 999999, "x"):
        refused = client.post(
            "/admin/scheduling/appointment/book/",
            {"service": service.pk, "resource": resource.pk, "starts_at": starts.isoformat(), "contact": contact_id},
        )
        # Nor bookable by a crafted post: outside the gate looks exactly like missing, a 404.
        assert refused.status_code == 404, contact_id
    with tenant_context(acme):
        assert not Appointment.objects.filter(resource=resource, starts_at=starts).exists()


def test_the_booking_page_decrypts_no_contact(admin_for, agent2, acme):
    """The page used to list the company's contacts with their names; the picker now asks for them."""
    with tenant_context(acme):
        service = Service.objects.get(name="Check-up")
        names = [contact.name for contact in Contact.objects.all()]
    day = timezone.localdate() + dt.timedelta(days=22)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    page = (
        admin_for(agent2, "acme")
        .get("/admin/scheduling/appointment/book/", {"service": service.pk, "day": day.isoformat()})
        .content.decode()
    )
    assert "Free slots" in page
    assert 'data-ajax--url="/admin/autocomplete/"' in page
    for name in names:
        assert name not in page


def test_booking_page_is_closed_to_the_dpo(admin_for):
    # Not a desk role: to the DPO the page does not exist, as the desk does not.
    response = admin_for(User.objects.get(username="dpo"), "acme").get("/admin/scheduling/appointment/book/")
    assert response.status_code == 404


def test_booking_page_needs_a_company_the_agent_works_for(admin_for, agent2):
    assert admin_for(agent2).get("/admin/scheduling/appointment/book/").status_code == 404
    assert admin_for(agent2, "globex").get("/admin/scheduling/appointment/book/").status_code == 404
