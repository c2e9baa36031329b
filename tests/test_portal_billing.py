"""The client admin's Usage & billing screen in a real browser, in English and in Estonian: the
running month so far and the issued statements, with their downloads; never another company's.

The test commits what the live server must see (a plan, calls, an issued statement) and removes it
afterwards. An issued statement is immutable in the database, so the clean-up switches the billing
tables' triggers off for its own transaction only (the test database's owner may), and on again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.browser import screenshot

NOVEMBER = dt.date(2025, 11, 1)


@pytest.fixture
def billed(live_db):
    from answering.models import Call, Line
    from billing.models import Plan, Statement, StatementLine
    from billing.services import statement_draft, statement_issue
    from tenants.models import ClientCompany, User

    acme = ClientCompany.objects.get(schema_name="acme")
    supervisor = User.objects.get(username="supervisor")
    now = timezone.now()
    with tenant_context(acme):
        line = Line.objects.order_by("pk").first()
        plan = Plan.objects.create(
            currency="EUR",
            included_minutes=1,
            increment_seconds=30,
            minimum_seconds=60,
            per_call_fee=Decimal("0.50"),
            overage_rate_per_minute=Decimal("1.00"),
        )
        calls = []
        # Two calls this month (in the company's zone): 45 s and 100 s -> 60 + 120 = 180 s billed.
        month_start = now.astimezone(acme_zone(acme)).replace(day=1, hour=12, minute=0, second=0, microsecond=0)
        for n, (started, talk) in enumerate(
            [
                (month_start, 45),
                (month_start + dt.timedelta(minutes=5), 100),
                (dt.datetime(2025, 11, 3, 9, tzinfo=dt.UTC), 61),
            ]
        ):
            calls.append(
                Call.objects.create(
                    line=line,
                    telephony_sid=f"CAbrowserbill{n}".ljust(34, "0"),
                    started_at=started,
                    answered_at=started + dt.timedelta(seconds=3),
                    ended_at=started + dt.timedelta(seconds=3 + talk),
                    status="completed",
                )
            )
        statement = statement_issue(statement=statement_draft(month=NOVEMBER, actor=supervisor), actor=supervisor)
    try:
        yield statement
    finally:
        with tenant_context(acme), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("ALTER TABLE billing_statement DISABLE TRIGGER billing_statement_issued")
            cursor.execute("ALTER TABLE billing_statementline DISABLE TRIGGER billing_line_issued")
            StatementLine.objects.filter(statement=statement).delete()
            Statement.objects.filter(pk=statement.pk).delete()
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no trigger event pending at the ALTER
            cursor.execute("ALTER TABLE billing_statement ENABLE TRIGGER billing_statement_issued")
            cursor.execute("ALTER TABLE billing_statementline ENABLE TRIGGER billing_line_issued")
            plan.delete()
            Call.objects.filter(pk__in=[c.pk for c in calls]).delete()


def acme_zone(company):
    from tenants.timezones import company_zone_of

    return company_zone_of(company)


@pytest.mark.parametrize("language", ["en", "et"])
def test_usage_and_billing_renders_the_running_month_and_the_statements(portal, billed, live_server_port, language):
    page = portal("acme-admin", "acme")
    if language == "et":
        page.context.add_cookies(
            [{"name": "django_language", "value": "et", "url": f"http://acme.localhost:{live_server_port}"}]
        )
    labels = {
        "en": ("Usage & billing", "Billed minutes", "Statements", "Download"),
        "et": ("Kasutus ja arveldus", "Arveldatud minutid", "Arvestused", "Laadi alla"),
    }[language]
    page.goto("/billing/")
    assert page.locator("h1").first.inner_text().strip() == labels[0]
    running = page.locator("#running").inner_text()
    assert labels[1] in running
    point = "," if language == "et" else "."  # each language writes its own decimal mark
    assert f"3{point}00" in running  # 180 s billed = 3 minutes
    # 180 s - 60 included = 2 min x 1.00 = 2.00, plus 2 x 0.50: 3.00 EUR so far
    assert f"3{point}00 EUR" in running
    table = page.locator("#statements").inner_text()
    assert labels[3].lower() in table.lower()  # the headings are upper-cased by the style sheet
    assert f"1{point}00 EUR" in table  # November 2025: one call of 61 s -> 90 s, 0.5 min over: 0.50 + 0.50 fee
    assert page.get_by_role("navigation").get_by_text(labels[0]).count() >= 1
    screenshot(page, "portal-billing" if language == "en" else "portal-billing-et")
    # The statement's own page and its PDF, from the row's link.
    page.goto(f"/billing/statements/{billed.pk}/")
    assert "1.00 EUR" in page.locator("#figures").inner_text()  # the statement's figures, as printed


def test_another_company_never_sees_acmes_billing_in_the_browser(portal, billed):
    page = portal("globex-admin", "globex")
    page.goto("/billing/")
    assert "1.00 EUR" not in page.content()
    response = page.goto(f"/billing/statements/{billed.pk}/")
    assert response.status == 404
