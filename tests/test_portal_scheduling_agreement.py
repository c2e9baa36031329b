"""Appointments, contacts and the agreement in a real browser: booking (and being refused a taken
slot) and cancelling, searching contacts and reading one with its consent history, and signing a
pending DPA version. Each test removes what it made and restores what it changed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.browser import screenshot


@pytest.fixture(autouse=True)
def _close_connections(live_db):
    """The ORM calls these tests make run while Playwright's event loop is current, so Django keeps
    their connection in that context, where the session's teardown would not close it (and could
    not drop the test database): close it here, after every fixture's clean-up."""
    yield
    connections.close_all()


def _company(slug: str):
    from tenants.models import ClientCompany

    connection.set_schema_to_public()
    return ClientCompany.objects.get(schema_name=slug)


def _free_weekday() -> dt.date:
    """A weekday three weeks ahead: past the demo's week of appointments."""
    day = timezone.localdate() + dt.timedelta(weeks=3)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    return day


@pytest.fixture
def acme_bookings(live_db):
    """Appointments the test books in acme, removed afterwards with their timers and notices."""
    from operations.timers.models import Timer
    from scheduling.models import Appointment

    acme = _company("acme")
    with tenant_context(acme):
        before = set(Appointment.objects.values_list("pk", flat=True))
    yield acme
    with tenant_context(acme):
        made = Appointment.objects.exclude(pk__in=before)
        made_ids = [str(pk) for pk in made.values_list("pk", flat=True)]
        Timer.objects.filter(kind__startswith="scheduling.", target_id__in=made_ids).delete()
        made.delete()
    connection.set_schema_to_public()


def test_booking_and_cancelling_an_appointment(portal, acme_bookings):
    from scheduling.models import Appointment

    page = portal("acme-admin", "acme")
    page.goto("/appointments/")
    assert page.get_by_role("link", name="Appointments").get_attribute("aria-current") == "page"
    assert page.locator("section.day").count() == 7

    # Next week (the demo's bookings run through the coming seven days) comes in through htmx,
    # and the address follows.
    title = page.locator("#week-title").inner_text()
    page.get_by_role("link", name="Next week").click()
    page.wait_for_url(re.compile(r"week="))
    assert page.locator("#week-title").inner_text() != title
    assert page.locator("a.appt").count() > 0
    screenshot(page, "appointments-calendar")

    day = _free_weekday()
    form = page.locator("#booking-form")
    form.get_by_label("Service").select_option(label="Check-up (30 min)")
    form.get_by_label("With").select_option(label="Dr. Kask")
    form.get_by_label("Date").fill(day.isoformat())
    form.get_by_role("button", name="Show free times").click()
    page.locator("#free-times .free-times li").first.wait_for()
    form.get_by_label("Time").fill("11:00")
    form.get_by_label("Caller's phone number").fill("+372 5123 4502")
    form.get_by_role("button", name="Book").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text().startswith("Booked: Check-up with Dr. Kask")
    booked = page.locator("a.appt", has_text="Jaan Kask")
    assert booked.count() == 1

    # The same slot again: refused, inline, next to the time.
    form = page.locator("#booking-form")
    form.get_by_label("Service").select_option(label="Check-up (30 min)")
    form.get_by_label("With").select_option(label="Dr. Kask")
    form.get_by_label("Date").fill(day.isoformat())
    form.get_by_label("Time").fill("11:15")
    form.get_by_role("button", name="Book").click()
    page.wait_for_load_state()
    assert "That slot is taken" in page.locator("#id_time-error").inner_text()

    page.goto(f"/appointments/?week={day.isoformat()}")
    page.locator("a.appt", has_text="Jaan Kask").click()
    page.wait_for_url(re.compile(r"/appointments/\d+/$"))
    pk = int(page.url.rstrip("/").rsplit("/", 1)[1])
    page.get_by_label("Reason (optional)").fill("Caller rang to cancel")
    page.get_by_role("button", name="Cancel the appointment").click()
    page.wait_for_load_state()
    assert "The appointment is cancelled." in page.locator(".flash").inner_text()
    assert page.locator("a.appt", has_text="Jaan Kask").count() == 0
    with tenant_context(acme_bookings):
        appointment = Appointment.objects.get(pk=pk)
        assert (appointment.status, appointment.cancelled_reason) == ("cancelled", "Caller rang to cancel")
    connection.set_schema_to_public()


@pytest.fixture
def consents(live_db):
    """Two consent entries for acme's Jaan Kask, deleted afterwards."""
    from crm.models import ConsentRecord
    from crm.selectors import contact_find_by_phone
    from crm.services import consent_record

    acme = _company("acme")
    with tenant_context(acme):
        contact = contact_find_by_phone(number="+37251234502")
        made = [
            consent_record(
                contact=contact,
                purpose="sms_reminders",
                granted=True,
                method="call",
                actor=None,
                evidence="Agreed on the call",
            ),
            consent_record(contact=contact, purpose="call_recording", granted=False, method="portal", actor=None),
        ]
    connection.set_schema_to_public()
    yield contact
    with tenant_context(acme):
        ConsentRecord.objects.filter(pk__in=[r.pk for r in made]).delete()
    connection.set_schema_to_public()


def test_searching_contacts_and_reading_one(portal, consents):
    page = portal("acme-admin", "acme")
    page.goto("/contacts/")
    assert page.locator("#contact-table tbody tr").count() >= 4
    screenshot(page, "contacts-list")

    search = page.get_by_role("searchbox")
    search.fill("JAAN   kask")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"q=JAAN"))
    rows = page.locator("#contact-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 1
    assert "Jaan Kask" in rows.first.inner_text()

    search.fill("Jaan")  # a part of a name: nothing, and the page says why
    page.get_by_role("button", name="Search").click()
    page.get_by_text("A name matches only in full", exact=False).wait_for()

    page.goto("/contacts/?q=%2B37251234502")
    page.get_by_role("link", name="Jaan Kask").click()
    page.wait_for_url(re.compile(rf"/contacts/{consents.pk}/$"))
    history = page.locator("table", has=page.get_by_role("columnheader", name="Purpose"))
    assert "Agreed on the call" in history.inner_text()
    assert "withdrawn" in history.inner_text()
    screenshot(page, "contact-detail")


@pytest.fixture
def initech_version(live_db):
    """Initech's submitted, unsigned DPA version; its signature is undone afterwards."""
    from compliance.agreements.models import AgreementVersion

    version = AgreementVersion.objects.get(agreement__company__schema_name="initech", status="submitted")
    assert version.client_signed_at is None
    yield version
    AgreementVersion.objects.filter(pk=version.pk).update(client_signed_by="", client_signed_at=None)


def test_signing_a_pending_dpa_version(portal, initech_version):
    acme_page = portal("acme-admin", "acme")
    acme_page.goto("/agreement/")
    assert acme_page.get_by_text("in force", exact=True).is_visible()
    screenshot(acme_page, "agreement")

    page = portal("initech-admin", "initech")
    page.goto("/agreement/")
    assert page.get_by_text("No agreement is in force").is_visible()
    version = page.locator(f"#version-{initech_version.pk}")
    assert "Not signed yet." in version.inner_text()
    screenshot(page, "agreement-pending")
    version.get_by_role("button", name=f"Sign version {initech_version.number}").click()
    page.wait_for_load_state()
    assert "You signed version" in page.locator(".flash").inner_text()
    assert "waiting for the DPO" in page.locator(f"#version-{initech_version.pk}").inner_text()
    initech_version.refresh_from_db()
    assert initech_version.client_signed_by == "initech-admin"
    assert initech_version.status == "submitted"
