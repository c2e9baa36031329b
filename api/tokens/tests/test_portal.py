"""The portal's API tokens page: issue (the secret shown once), list, revoke; members and other
companies see none of what is not theirs."""

from __future__ import annotations

import re

import pytest

from api.tokens.models import ApiToken
from api.tokens.services import token_hash

pytestmark = pytest.mark.django_db


def test_creating_a_token_shows_its_secret_once(client_for, acme_admin, acme):
    page = client_for("acme.localhost", acme_admin)
    response = page.post(
        "/api-tokens/", {"name": "Nightly export", "scopes": ["messages:read", "calls:read"], "expires_in_days": "30"}
    )

    assert response.status_code == 200
    secret = re.search(r'id="new-token-secret" value="(vst_[^"]+)"', response.content.decode()).group(1)
    token = ApiToken.objects.get(token_hash=token_hash(secret))
    assert (token.company, token.user, token.name) == (acme, acme_admin, "Nightly export")
    assert token.scopes == ["calls:read", "messages:read"]
    again = page.get("/api-tokens/").content.decode()
    assert "Nightly export" in again
    assert secret not in again
    assert token.prefix in again


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "scopes": ["lines:read"]}, "This field is required."),
        ({"name": "No scope"}, "This field is required."),
        ({"name": "Bad", "scopes": ["root:write"]}, "Select a valid choice"),
        ({"name": "Bad", "scopes": ["lines:read"], "expires_in_days": "7"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_an_inline_error_and_stores_nothing(client_for, acme_admin, data, message):
    before = ApiToken.objects.count()
    response = client_for("acme.localhost", acme_admin).post("/api-tokens/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ApiToken.objects.count() == before


def test_a_member_is_offered_no_admin_scope_and_cannot_post_one(client_for, acme_member):
    page = client_for("acme.localhost", acme_member)
    html = page.get("/api-tokens/").content.decode()
    assert 'value="messages:read"' in html
    assert 'value="access_log:read"' not in html
    assert 'value="webhooks:write"' not in html
    response = page.post("/api-tokens/", {"name": "Peek", "scopes": ["access_log:read"]})
    assert response.status_code == 400
    assert not ApiToken.objects.filter(user=acme_member).exists()


def test_revoking_from_the_portal(client_for, acme_admin, acme, issue, bearer):
    token, secret = issue(acme_admin, acme, ["lines:read"])
    response = client_for("acme.localhost", acme_admin).post(f"/api-tokens/{token.pk}/revoke/", follow=True)
    assert response.status_code == 200
    assert "is revoked" in response.content.decode()
    assert bearer("acme.localhost", secret).get("/api/v1/lines/").status_code == 401


def test_a_member_sees_and_revokes_only_their_own(client_for, acme_admin, acme_member, acme, issue):
    admins, _ = issue(acme_admin, acme, ["lines:read"], name="Admin robot")
    _mine, _ = issue(acme_member, acme, ["lines:read"], name="Member robot")
    page = client_for("acme.localhost", acme_member)
    html = page.get("/api-tokens/").content.decode()
    assert "Member robot" in html
    assert "Admin robot" not in html
    assert page.post(f"/api-tokens/{admins.pk}/revoke/").status_code == 404
    admins.refresh_from_db()
    assert admins.revoked_at is None


def test_globex_sees_and_revokes_none_of_acmes_tokens(client_for, acme_admin, globex_admin, acme, issue):
    token, _ = issue(acme_admin, acme, ["lines:read"], name="Acme robot")
    globex_page = client_for("globex.localhost", globex_admin)
    assert "Acme robot" not in globex_page.get("/api-tokens/").content.decode()
    assert globex_page.post(f"/api-tokens/{token.pk}/revoke/").status_code == 404
    assert client_for("acme.localhost", globex_admin).get("/api-tokens/").status_code == 404
    assert client_for("acme.localhost", globex_admin).post(f"/api-tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoke_needs_post_and_a_csrf_token(acme_admin, acme, issue):
    from django.test import Client

    token, _ = issue(acme_admin, acme, ["lines:read"])
    from portal.middleware import SESSION_SCHEMA_KEY

    client = Client(HTTP_HOST="acme.localhost", enforce_csrf_checks=True)
    client.force_login(acme_admin)
    session = client.session
    session[SESSION_SCHEMA_KEY] = "acme"  # as a sign-in on acme's host would have bound it
    session.save()
    assert client.get(f"/api-tokens/{token.pk}/revoke/").status_code == 405
    assert client.post(f"/api-tokens/{token.pk}/revoke/").status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_nav_lists_the_page(client_for, acme_admin):
    html = client_for("acme.localhost", acme_admin).get("/api-tokens/").content.decode()
    assert 'href="/api-tokens/" aria-current="page"' in html
