"""The tokens API: list, issue (the secret once), revoke; and who may see and revoke whose."""

from __future__ import annotations

import pytest
from django.db import connection

from api.tokens.models import ApiToken
from api.tokens.services import token_hash

pytestmark = pytest.mark.django_db


def test_issuing_shows_the_secret_once_and_stores_only_its_hash(client_for, acme_admin):
    api = client_for("acme.localhost", acme_admin)
    created = api.post(
        "/api/v1/tokens/",
        {"name": "CRM sync", "scopes": ["messages:read", "lines:read"], "expires_in_days": 30},
        content_type="application/json",
    )

    assert created.status_code == 201
    body = created.json()
    secret = body["token"]
    assert secret.startswith("vst_")
    assert len(secret) > 40
    assert body["scopes"] == ["lines:read", "messages:read"]
    assert body["state"] == "active"
    stored = ApiToken.objects.get(pk=body["id"])
    assert stored.token_hash == token_hash(secret)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM tokens_apitoken WHERE id = %s", [stored.pk])
        assert all(secret not in str(value) for value in cursor.fetchone())
    listed = api.get("/api/v1/tokens/").json()["results"]
    assert stored.pk in {row["id"] for row in listed}
    assert all("token" not in row for row in listed)
    assert secret not in api.get("/api/v1/tokens/").content.decode()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "", "scopes": ["lines:read"]}, "name"),
        ({"name": "x" * 101, "scopes": ["lines:read"]}, "name"),
        ({"name": "No scopes", "scopes": []}, "scopes"),
        ({"name": "Bad scope", "scopes": ["everything:write"]}, "scopes"),
        ({"name": "Scopes not a list", "scopes": "lines:read"}, "scopes"),
        ({"name": "Forever and more", "scopes": ["lines:read"], "expires_in_days": 100000}, "expires_in_days"),
        ({"name": "Negative", "scopes": ["lines:read"], "expires_in_days": -1}, "expires_in_days"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client_for, acme_admin, payload, field):
    before = ApiToken.objects.count()
    response = client_for("acme.localhost", acme_admin).post(
        "/api/v1/tokens/", payload, content_type="application/json"
    )
    assert response.status_code == 400
    assert field in response.json() or response.json().get("field") == field
    assert ApiToken.objects.count() == before


def test_a_member_cannot_grant_themselves_admin_scopes(client_for, acme_member):
    response = client_for("acme.localhost", acme_member).post(
        "/api/v1/tokens/", {"name": "Peek", "scopes": ["access_log:read"]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "scopes"
    assert not ApiToken.objects.filter(user=acme_member).exists()


def test_a_token_cannot_mint_a_stronger_token(acme, acme_admin, issue, bearer):
    _, secret = issue(acme_admin, acme, ["tokens:read", "tokens:write", "lines:read"])
    api = bearer("acme.localhost", secret)

    stronger = api.post(
        "/api/v1/tokens/", {"name": "Escalate", "scopes": ["messages:read"]}, content_type="application/json"
    )
    same = api.post("/api/v1/tokens/", {"name": "Rotate", "scopes": ["lines:read"]}, content_type="application/json")

    assert stronger.status_code == 400
    assert stronger.json()["field"] == "scopes"
    assert same.status_code == 201


def test_members_see_their_own_tokens_and_admins_everyones(acme, acme_admin, acme_member, issue, client_for):
    admins, _ = issue(acme_admin, acme, ["lines:read"], name="admin's")
    members, _ = issue(acme_member, acme, ["lines:read"], name="member's")

    as_member = client_for("acme.localhost", acme_member)
    as_admin = client_for("acme.localhost", acme_admin)

    assert {row["id"] for row in as_member.get("/api/v1/tokens/").json()["results"]} == {members.pk}
    assert {admins.pk, members.pk} <= {row["id"] for row in as_admin.get("/api/v1/tokens/").json()["results"]}
    assert as_member.post(f"/api/v1/tokens/{admins.pk}/revoke/").status_code == 404
    assert as_admin.post(f"/api/v1/tokens/{members.pk}/revoke/").status_code == 200
    admins.refresh_from_db()
    members.refresh_from_db()
    assert admins.revoked_at is None
    assert members.revoked_at is not None
    assert members.revoked_by == acme_admin


def test_globex_sees_and_revokes_none_of_acmes_tokens(acme, acme_admin, globex_admin, issue, client_for):
    token, _secret = issue(acme_admin, acme, ["lines:read"])
    globex_api = client_for("globex.localhost", globex_admin)

    assert token.pk not in {row["id"] for row in globex_api.get("/api/v1/tokens/").json()["results"]}
    assert globex_api.post(f"/api/v1/tokens/{token.pk}/revoke/").status_code == 404
    assert client_for("acme.localhost", globex_admin).post(f"/api/v1/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_issuing_and_revoking_are_in_the_change_log_without_the_hash(acme, acme_admin, client_for):
    from auditlog.models import LogEntry
    from django_tenants.utils import tenant_context

    api = client_for("acme.localhost", acme_admin)
    token_id = api.post(
        "/api/v1/tokens/", {"name": "Logged", "scopes": ["lines:read"]}, content_type="application/json"
    ).json()["id"]
    api.post(f"/api/v1/tokens/{token_id}/revoke/")
    with tenant_context(acme):
        entries = list(LogEntry.objects.filter(object_pk=str(token_id), content_type__model="apitoken"))
    assert {entry.action for entry in entries} == {LogEntry.Action.CREATE, LogEntry.Action.UPDATE}
    assert all(entry.actor_id == acme_admin.pk for entry in entries)
    assert all("token_hash" not in (entry.changes_dict or {}) for entry in entries)
