"""The client admin's audit and team screens in a real browser: the access log and its filters, an
erasure request, the statistics, and inviting a colleague who then sets a password and signs in.

Each test commits what it makes (the live server must see it) and removes it again, its audit rows
included (tests/cleanup.py), so the shared demo world is left as it was."""

from __future__ import annotations

import datetime as dt
import random
import re
import zoneinfo
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.browser import screenshot
from tests.cleanup import audit_rows_removed_after, users_delete

TALLINN = zoneinfo.ZoneInfo("Europe/Tallinn")


@pytest.fixture
def acme_company(live_db):
    from django.db import connections

    from tenants.models import ClientCompany

    yield ClientCompany.objects.get(schema_name="acme")
    # This thread's queries opened a connection of its own; close it, or the test database cannot
    # be dropped at the end of the session while it is still open.
    connections.close_all()


def test_the_access_log_and_its_filters(portal, acme_company):
    from answering.models import Call
    from crm.models import Contact
    from gates.signals import report_read
    from tenants.models import User

    agent1, agent2 = User.objects.get(username="agent1"), User.objects.get(username="agent2")
    with audit_rows_removed_after("acme"):
        with tenant_context(acme_company):
            contact, call = Contact.objects.order_by("pk").first(), Call.objects.order_by("pk").first()
            reads = [
                (agent1, "admin", Contact, contact, ["name", "phone_number"], dt.datetime(2026, 2, 2, 9, 15)),
                (agent2, "api", Call, call, ["caller_name", "notes"], dt.datetime(2026, 2, 3, 14, 40)),
                (None, "task", Call, call, ["caller_number"], dt.datetime(2026, 2, 3, 15, 5)),
                (agent1, "admin", Call, call, ["caller_name"], dt.datetime(2026, 2, 4, 8, 0)),
            ]
            for user, channel, model, row, fields, at in reads:
                with mock.patch("django.utils.timezone.now", return_value=at.replace(tzinfo=TALLINN)):
                    report_read(user=user, channel=channel, model=model, object_ids=[row.pk], fields=fields)
        page = portal("acme-admin", "acme")
        page.get_by_role("link", name="Access log").click()
        page.wait_for_load_state()
        assert page.get_by_role("link", name="Access log").get_attribute("aria-current") == "page"
        table = page.locator("#access-log tbody")
        assert table.locator("tr").count() >= 1

        # Other suites' committed work (a worker's job reads, say) is newer than these reads, and
        # the log is newest first: the days of these four come first.
        page.fill("#id_date_from", "2026-02-02")
        page.fill("#id_date_to", "2026-02-04")
        page.click("form.filters button[type=submit]")
        page.wait_for_load_state()
        assert table.locator("tr").count() == 4
        for who in ("agent1", "agent2", "(automatic task)"):
            assert table.get_by_text(who).count() >= 1
        screenshot(page, "portal-access-log")

        page.select_option("#id_person", label="agent2 (Agent)")
        page.click("form.filters button[type=submit]")
        page.wait_for_load_state()
        assert table.locator("tr").count() == 1
        assert "Caller name, Notes".lower() in table.inner_text().lower()
        assert "agent1" not in table.inner_text()

        page.select_option("#id_person", label="agent1 (Agent)")
        page.select_option("#id_record_type", label="Call")
        page.click("form.filters button[type=submit]")
        page.wait_for_load_state()
        assert table.locator("tr").count() == 1
        assert "record_type=answering.Call" in page.url

        # A period that ends before it starts is named, next to the field.
        page.fill("#id_date_from", "2026-02-05")
        page.click("form.filters button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("#id_date_to_error").inner_text().strip() != ""
        assert page.locator("#access-log").count() == 0

        page.goto("/access-log/")
        page.fill("#id_date_from", "2026-02-03")
        page.fill("#id_date_to", "2026-02-03")
        page.click("form.filters button[type=submit]")
        page.wait_for_load_state()
        with page.expect_download() as download:
            page.get_by_role("link", name="Download as CSV").click()
        with open(download.value.path(), encoding="utf-8-sig") as csv_file:
            text = csv_file.read()
        assert len(text.strip().splitlines()) == 3  # the header and the two reads of 3 February


def test_raising_an_erasure_request(portal, acme_company):
    from answering.models import Call, Line, Message
    from audit.models import DataSubjectRequest
    from crm.models import Contact
    from crm.services import contact_create

    with audit_rows_removed_after("acme"):
        with tenant_context(acme_company):
            line = Line.objects.get(phone_number="+3726001001")
            person = contact_create(
                name="Erase Me Browser", phone_number="+37255597777", email="erase@example.ee", actor=None
            )
            call = Call.objects.create(
                line=line,
                telephony_sid="CAbrowsererase".ljust(34, "0"),
                contact=person,
                started_at=timezone.now(),
                caller_number=person.phone_number,
                caller_name=person.name,
            )
            Message.objects.create(line=line, call=call, contact=person, body="Please erase everything about me")
            before = set(DataSubjectRequest.objects.values_list("pk", flat=True))
        try:
            page = portal("acme-admin", "acme")
            page.goto("/data-requests/")
            page.select_option("#id_kind", "erasure")
            page.fill("#id_phone_number", "+372 5559 7777")
            page.click("form.stacked button[type=submit]")
            page.wait_for_load_state()
            # Not confirmed: nothing is done, and the form says why.
            assert "cannot be undone" in page.locator("#id_confirm_erasure ~ ul.errorlist").inner_text()
            assert page.locator("#id_phone_number").input_value() == "+372 5559 7777"

            page.check("#id_confirm_erasure")
            page.click("form.stacked button[type=submit]")
            page.wait_for_load_state()
            assert re.search(r"/data-requests/\d+/$", page.url)
            assert page.get_by_role("status").inner_text().strip().endswith("is done.")
            assert page.get_by_text("Contact records anonymised").is_visible()
            with tenant_context(acme_company):
                person.refresh_from_db()
                assert (person.name, person.phone_number, person.email) == ("Erased data subject", "", "")
                assert Message.objects.get(call=call).body == ""
            page.get_by_role("link", name="All data requests").click()
            page.wait_for_load_state()
            assert page.locator("#data-requests tbody tr").first.get_by_text("Erasure").count() == 1
            screenshot(page, "portal-data-requests")
        finally:
            with tenant_context(acme_company):
                DataSubjectRequest.objects.exclude(pk__in=before).delete()
                Message.objects.filter(call=call).delete()
                Call.objects.filter(pk=call.pk).delete()
                Contact.objects.filter(pk=person.pk).delete()


def test_the_statistics_page(portal, acme_company):
    from answering.models import Line
    from audit.models import LineDayStats

    rng = random.Random(7)
    yesterday = timezone.now().astimezone(TALLINN).date() - dt.timedelta(days=1)
    with tenant_context(acme_company):
        lines = list(Line.objects.order_by("phone_number"))
        made = []
        for n in range(30):
            for line in lines:
                offered = (
                    rng.randrange(20, 60) if (yesterday - dt.timedelta(days=n)).weekday() < 5 else rng.randrange(3)
                )
                answered = round(offered * rng.uniform(0.75, 0.95))
                voicemails = min(offered - answered, rng.randrange(3))
                made.append(
                    LineDayStats.objects.create(
                        line=line,
                        day=yesterday - dt.timedelta(days=n),
                        offered=offered,
                        answered=answered,
                        voicemails=voicemails,
                        abandoned=offered - answered - voicemails,
                        messages=answered // 3,
                        answer_p50_seconds=rng.uniform(6, 14) if answered else None,
                        answer_p90_seconds=rng.uniform(18, 40) if answered else None,
                        within_target_share=rng.uniform(0.7, 0.98) if answered else None,
                    ).pk
                )
    try:
        page = portal("acme-admin", "acme")
        page.get_by_role("link", name="Analytics").click()
        page.wait_for_load_state()
        assert page.locator("svg.chart").count() == 4
        assert page.locator("svg.chart title").first.text_content() == "Calls offered per day"
        assert page.locator("#analytics-table tbody tr").count() == 30
        screenshot(page, "portal-analytics")
        page.select_option("#id_line", str(lines[0].pk))
        page.fill("#id_date_from", (yesterday - dt.timedelta(days=6)).isoformat())
        page.click("form.filters button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("#analytics-table tbody tr").count() == 7
    finally:
        with tenant_context(acme_company):
            LineDayStats.objects.filter(pk__in=made).delete()


def test_inviting_a_team_member_who_then_signs_in(portal, acme_company, browser, live_server_port):
    from tenants.models import Membership, User

    address = "invited.colleague@example.ee"
    try:
        with audit_rows_removed_after("acme"):  # the newcomer's own reads are in acme's access log
            page = portal("acme-admin", "acme")
            page.get_by_role("link", name="Team").click()
            page.wait_for_load_state()
            page.fill("#id_email", address)
            page.fill("#id_first_name", "Invited")
            page.fill("#id_last_name", "Colleague")
            page.select_option("#id_role", "client_member")
            page.get_by_role("button", name="Send the invitation").click()
            page.wait_for_load_state()
            assert address in page.get_by_role("status").inner_text()
            row = page.locator(f'#team tr[data-username="{address}"]')
            assert row.get_by_text("Invited: no password yet").is_visible()
            screenshot(page, "portal-team")
            user = User.objects.get(username=address)
            assert Membership.objects.get(user=user).role == "client_member"

            (invitation,) = [m for m in mail.outbox if address in m.to]
            link = re.search(r"http://\S+/accounts/password-reset/\S+/", invitation.body).group(0)
            assert link.startswith(f"http://acme.localhost:{live_server_port}/")
            newcomer = portal(None, "acme")
            newcomer.goto(link)
            newcomer.fill("#id_new_password1", "Tallinn-Harbour-2026")
            newcomer.fill("#id_new_password2", "Tallinn-Harbour-2026")
            newcomer.get_by_role("button", name="Set the password").click()
            newcomer.wait_for_load_state()
            assert "/accounts/password-reset/complete/" in newcomer.url
            newcomer.get_by_role("link", name="Sign in").click()
            newcomer.wait_for_load_state()
            assert "/accounts/login/" in newcomer.url
            newcomer.fill("#id_username", address)
            newcomer.fill("#id_password", "Tallinn-Harbour-2026")
            with newcomer.expect_navigation():
                newcomer.click("main form button[type=submit]")
            nav = newcomer.locator("nav.portal-nav")
            assert nav.get_by_role("link", name="Analytics").is_visible()
            assert nav.get_by_role("link", name="Team").count() == 0  # a member, not an admin

            # The admin makes them an admin, then takes them out of the team again.
            page.reload()
            row.locator("select").select_option("client_admin")
            row.get_by_role("button", name="Save role").click()
            page.wait_for_load_state()
            assert Membership.objects.get(user=user).role == "client_admin"
            row.get_by_role("button", name=f"Remove {address} from the team").click()
            page.wait_for_load_state()
            assert page.locator(f'#team tr[data-username="{address}"]').count() == 0
            newcomer.goto("/analytics/")
            assert newcomer.locator("nav.portal-nav").count() == 0  # gone: the host no longer knows them
    finally:
        users_delete(address)
