"""The audit API (`/api/v1/access-log/`, `/api/v1/data-subject-requests/`): for the company's
client admins only, filtered and ordered as asked, and itself in the access log."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry

pytestmark = pytest.mark.django_db


def test_client_admins_see_who_at_the_provider_looked_at_what(acme, admin_for, agent2, client_for, acme_admin):
    from answering.models import Call

    with tenant_context(acme):
        call = Call.objects.filter(line__phone_number="+3726001001").first()
    admin_for(agent2, "acme").get(f"/admin/answering/call/{call.pk}/change/")
    client = client_for("acme.localhost", acme_admin)
    client.get("/api/v1/messages/")  # the client's own reads are not listed
    entries = client.get("/api/v1/access-log/").json()["results"]
    assert entries[0]["who"] == "agent2"
    assert entries[0]["role"] == "Agent"
    assert entries[0]["object_ids"] == [str(call.pk)]
    assert "caller_number" in entries[0]["fields"]
    assert all(entry["who"] != "acme-admin" for entry in entries)


def test_the_access_log_is_for_client_admins_of_that_company_only(client_for, globex_admin, acme):
    from tenants.models import Membership, User

    member = User.objects.create_user("acme-member2", password="x")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    assert client_for("acme.localhost", member).get("/api/v1/access-log/").status_code == 403
    assert client_for("acme.localhost", globex_admin).get("/api/v1/access-log/").status_code == 404


def test_the_api_filters_and_orders_the_access_log(client_for, acme_admin, agent1, acme_log):
    client = client_for("acme.localhost", acme_admin)
    rows = client.get(f"/api/v1/access-log/?person={agent1.pk}").json()["results"]
    assert {(r["who"], r["object_type"], tuple(r["fields"])) for r in rows} >= {
        ("agent1", "crm.Contact", ("name", "phone_number"))
    }
    assert all(r["user_id"] == agent1.pk for r in rows)
    period = "date_from=2026-03-01&date_to=2026-03-06"
    oldest_first = client.get(f"/api/v1/access-log/?{period}&ordering=at").json()["results"]
    assert [r["who"] for r in oldest_first] == ["agent1", "agent2", "(automatic task)", "agent2"]
    assert oldest_first[-1]["refused"] is True
    newest_first = client.get(f"/api/v1/access-log/?{period}").json()["results"]
    assert newest_first == list(reversed(oldest_first))


def test_the_request_api_filters_and_shows_one_request(acme, client_for, acme_admin, subject):
    client = client_for("acme.localhost", acme_admin)
    created = client.post(
        "/api/v1/data-subject-requests/",
        {"kind": "access", "email": "portal@example.ee"},
        content_type="application/json",
    ).json()
    kinds = {r["kind"] for r in client.get("/api/v1/data-subject-requests/?kind=access").json()["results"]}
    assert kinds == {"access"}
    assert client.get("/api/v1/data-subject-requests/?kind=erasure&status=done").status_code == 200
    bad = client.get("/api/v1/data-subject-requests/?status=lost&ordering=name")
    assert bad.status_code == 400
    assert set(bad.json()) == {"status", "ordering"}
    detail = client.get(f"/api/v1/data-subject-requests/{created['id']}/").json()
    assert (detail["email"], detail["has_export"], detail["status"]) == ("portal@example.ee", True, "done")
    with tenant_context(acme):
        read = AccessLogEntry.objects.filter(user=acme_admin).order_by("-pk").first()
    assert (read.channel, read.object_type, read.fields) == (
        "api",
        "audit.DataSubjectRequest",
        ["email", "phone_number", "result", "status"],  # what it found is read with whom it was for
    )
