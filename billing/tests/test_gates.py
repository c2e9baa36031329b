"""Billing from the side of those who must not see it: another company's admin (portal and API,
by session and by token), acme's own client member, a draft (not yet the client's), and the
provider's agents and DPO in the admin. A refusal is a 404, the same as for a missing statement,
so nothing says what exists."""

from __future__ import annotations

import datetime as dt

import pytest
from django_tenants.utils import tenant_context

from api.tokens.services import token_create
from billing.models import Statement
from billing.services import statement_draft, statement_issue
from billing.tests.conftest import NOVEMBER
from tenants.models import Membership, User

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 12, 3, 10, tzinfo=dt.UTC)


@pytest.fixture
def statements(acme, november_calls, plan_of):
    """acme's November statement, issued, and December's as a draft."""
    supervisor = User.objects.get(username="supervisor")
    plan_of("per_call")
    with tenant_context(acme):
        issued = statement_issue(
            statement=statement_draft(month=NOVEMBER, actor=supervisor, now=NOW), actor=supervisor, now=NOW
        )
        draft = statement_draft(
            month=dt.date(2025, 12, 1), actor=supervisor, now=dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
        )
    return issued, draft


def _portal_urls(pk: int) -> list[str]:
    return [
        f"/billing/statements/{pk}/",
        f"/billing/statements/{pk}/statement.csv",
        f"/billing/statements/{pk}/statement.pdf",
    ]


def _api_urls(pk: int) -> list[str]:
    return [f"/api/v1/billing/statements/{pk}/"]


def test_acmes_admin_sees_the_issued_statement_and_its_documents(client_for, acme_admin, statements):
    issued, _draft = statements
    client = client_for("acme.localhost", acme_admin)
    page = client.get("/billing/")
    assert page.status_code == 200
    assert "3.63 USD" in page.content.decode()
    csv = client.get(f"/billing/statements/{issued.pk}/statement.csv")
    assert csv.status_code == 200
    assert "3.63 USD" in csv.content.decode("utf-8-sig")
    pdf = client.get(f"/billing/statements/{issued.pk}/statement.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    body = client.get("/api/v1/billing/statements/").json()
    assert [s["id"] for s in body["results"]] == [issued.pk]
    assert body["results"][0]["total_amount"] == "3.63"


def test_a_draft_is_not_the_clients_yet(client_for, acme_admin, statements):
    _issued, draft = statements
    client = client_for("acme.localhost", acme_admin)
    for url in [*_portal_urls(draft.pk), *_api_urls(draft.pk)]:
        assert client.get(url).status_code == 404, url
    assert str(draft.pk) not in str([s["id"] for s in client.get("/api/v1/billing/statements/").json()["results"]])


def test_another_companys_admin_never_sees_acmes_billing(client_for, globex_admin, statements):
    issued, draft = statements
    on_acme = client_for("acme.localhost", globex_admin)
    for url in ["/billing/", "/api/v1/billing/usage/", "/api/v1/billing/statements/", *_portal_urls(issued.pk)]:
        assert on_acme.get(url).status_code == 404, url
    # On globex's own host, acme's ids are as missing as ids that never were.
    on_globex = client_for("globex.localhost", globex_admin)
    for pk in (issued.pk, draft.pk, 987654):
        for url in [*_portal_urls(pk), *_api_urls(pk)]:
            assert on_globex.get(url).status_code == 404, url
    page = on_globex.get("/billing/").content.decode()
    assert "3.63" not in page
    assert "Billed Caller" not in page
    assert on_globex.get("/api/v1/billing/statements/").json()["results"] == []


def test_another_companys_token_never_sees_acmes_billing(client_for, globex, globex_admin, statements):
    issued, _draft = statements
    _token, secret = token_create(
        company=globex, user=globex_admin, name="t", scopes=["billing:read"], expires_in_days=30, actor=globex_admin
    )
    # On acme's host globex's token is no token at all: the same 401 for an id that exists and one
    # that never did. On globex's host, acme's id is missing.
    for host, expected in (("acme.localhost", 401), ("globex.localhost", 404)):
        client = client_for(host)
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        assert client.get(f"/api/v1/billing/statements/{issued.pk}/").status_code == expected
        assert client.get("/api/v1/billing/statements/987654/").status_code == expected
    client = client_for("acme.localhost")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    assert client.get("/api/v1/billing/usage/").status_code == 401


def test_a_client_member_does_not_see_billing(client_for, acme, statements):
    issued, _draft = statements
    member = User.objects.create_user("acme-member-billing", password="x")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    client = client_for("acme.localhost", member)
    for url in ["/billing/", *_portal_urls(issued.pk)]:
        assert client.get(url).status_code == 404, url
    assert client.get("/api/v1/billing/statements/").status_code == 403
    assert "/billing/" not in client.get("/").content.decode()


def test_the_usage_api_is_worked_out_like_the_statement(client_for, acme_admin, statements):
    body = client_for("acme.localhost", acme_admin).get("/api/v1/billing/usage/?month=2025-11").json()
    assert (body["billed_seconds"], body["calls"], body["total_amount"], body["time_zone"]) == (
        480,
        5,
        "3.63",
        "Europe/Tallinn",
    )
    bad = client_for("acme.localhost", acme_admin).get("/api/v1/billing/usage/?month=November")
    assert bad.status_code == 400
    assert bad.json()["field"] == "month"


@pytest.mark.parametrize("username", ["agent1", "agent2", "dpo"])
def test_agents_and_the_dpo_cannot_reach_billing_in_the_admin(admin_for, username, statements):
    issued, _draft = statements
    client = admin_for(User.objects.get(username=username), "acme")
    # The app's own page lists the models a person may view: for them there is none, so no page.
    assert client.get("/admin/billing/").status_code == 404
    for url in ["/admin/billing/plan/", "/admin/billing/statement/", f"/admin/billing/statement/{issued.pk}/change/"]:
        assert client.get(url).status_code in (403, 404), url


def test_a_supervisor_handles_billing_in_the_admin(admin_for, acme, statements):
    issued, _draft = statements
    client = admin_for(User.objects.get(username="supervisor"), "acme")
    assert client.get("/admin/billing/").status_code == 200
    page = client.get(f"/admin/billing/statement/{issued.pk}/change/")
    assert page.status_code == 200
    assert "3.63" in page.content.decode()
    # Issued figures are read-only: a posted edit changes nothing.
    client.post(f"/admin/billing/statement/{issued.pk}/change/", {"total_amount": "0.00"})
    with tenant_context(acme):
        assert Statement.objects.get(pk=issued.pk).total_amount == issued.total_amount
