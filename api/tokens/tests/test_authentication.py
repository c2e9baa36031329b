"""Bearer tokens: accepted on their own company's host only, while live and while their person is
still a client user there; scopes decide what each request may do."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Line
from api.tokens.models import ApiToken
from tenants.models import Membership

pytestmark = pytest.mark.django_db


def test_a_token_works_on_its_own_host_and_notes_its_use(acme, acme_admin, issue, bearer):
    token, secret = issue(acme_admin, acme, ["lines:read"])
    assert token.last_used_at is None

    response = bearer("acme.localhost", secret).get("/api/v1/lines/")

    assert response.status_code == 200
    with tenant_context(acme):
        assert {row["phone_number"] for row in response.json()["results"]} == set(
            Line.objects.values_list("phone_number", flat=True)
        )
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_is_refused_on_another_companys_host(acme, acme_admin, globex, issue, bearer):
    _, secret = issue(acme_admin, acme, ["lines:read", "messages:read"])
    with tenant_context(globex):
        globex_numbers = list(Line.objects.values_list("phone_number", flat=True))

    for path in ("/api/v1/lines/", "/api/v1/messages/"):
        response = bearer("globex.localhost", secret).get(path)
        assert response.status_code == 401
        assert all(number.encode() not in response.content for number in globex_numbers)


def test_a_globex_token_on_acmes_host_is_refused(globex, globex_admin, issue, bearer):
    _, secret = issue(globex_admin, globex, ["lines:read"])
    assert bearer("acme.localhost", secret).get("/api/v1/lines/").status_code == 401
    assert bearer("globex.localhost", secret).get("/api/v1/lines/").status_code == 200


def test_revocation_takes_effect_on_the_next_request(acme, acme_admin, issue, bearer, client_for):
    token, secret = issue(acme_admin, acme, ["lines:read"])
    api = bearer("acme.localhost", secret)
    assert api.get("/api/v1/lines/").status_code == 200

    revoked = client_for("acme.localhost", acme_admin).post(f"/api/v1/tokens/{token.pk}/revoke/")

    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    assert api.get("/api/v1/lines/").status_code == 401


def test_an_expired_token_is_refused(acme, acme_admin, issue, bearer):
    token, secret = issue(acme_admin, acme, ["lines:read"])
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert bearer("acme.localhost", secret).get("/api/v1/lines/").status_code == 401


def test_a_token_dies_with_its_persons_membership(acme, acme_member, issue, bearer):
    _, secret = issue(acme_member, acme, ["lines:read"])
    assert bearer("acme.localhost", secret).get("/api/v1/lines/").status_code == 200

    Membership.objects.filter(user=acme_member, company=acme).delete()

    assert bearer("acme.localhost", secret).get("/api/v1/lines/").status_code == 401


def test_a_deactivated_persons_token_is_refused(acme, acme_member, issue, bearer):
    _, secret = issue(acme_member, acme, ["lines:read"])
    acme_member.is_active = False
    acme_member.save(update_fields=["is_active"])
    assert bearer("acme.localhost", secret).get("/api/v1/lines/").status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer not-a-token", "Bearer vst_" + "x" * 43])
def test_malformed_or_unknown_tokens_are_401(client_for, header):
    response = client_for("acme.localhost").get("/api/v1/lines/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_token_without_messages_read_gets_403_on_messages(acme, acme_admin, issue, bearer):
    _, lines_only = issue(acme_admin, acme, ["lines:read"])
    _, messages_reader = issue(acme_admin, acme, ["messages:read"])

    refused = bearer("acme.localhost", lines_only).get("/api/v1/messages/")
    assert refused.status_code == 403
    assert "messages:read" in refused.json()["detail"]
    assert "results" not in refused.json()
    assert bearer("acme.localhost", messages_reader).get("/api/v1/messages/").status_code == 200


def test_writing_needs_the_write_scope(acme, acme_admin, issue, bearer):
    _, reader = issue(acme_admin, acme, ["lines:read"])
    _, writer = issue(acme_admin, acme, ["lines:read", "lines:write"])
    payload = {"name": "Token line", "phone_number": "+3726001777"}

    refused = bearer("acme.localhost", reader).post("/api/v1/lines/", payload, content_type="application/json")
    created = bearer("acme.localhost", writer).post("/api/v1/lines/", payload, content_type="application/json")

    assert refused.status_code == 403
    assert "lines:write" in refused.json()["detail"]
    assert created.status_code == 201
    with tenant_context(acme):
        assert Line.objects.filter(phone_number="+3726001777").count() == 1


def test_token_requests_need_no_csrf_token(acme, acme_admin, issue, client_for):
    from django.test import Client

    _, secret = issue(acme_admin, acme, ["lines:write"])
    client = Client(HTTP_HOST="acme.localhost", enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.post(
        "/api/v1/lines/", {"name": "CSRF-free", "phone_number": "+3726001778"}, content_type="application/json"
    )
    assert response.status_code == 201


def test_a_token_loses_scopes_its_person_no_longer_has(acme, acme_member, issue, bearer):
    member = Membership.objects.get(user=acme_member, company=acme)
    member.role = Membership.Role.CLIENT_ADMIN
    member.save(update_fields=["role"])
    _, secret = issue(acme_member, acme, ["access_log:read"])
    assert bearer("acme.localhost", secret).get("/api/v1/access-log/").status_code == 200

    member.role = Membership.Role.CLIENT_MEMBER
    member.save(update_fields=["role"])

    assert bearer("acme.localhost", secret).get("/api/v1/access-log/").status_code == 403


def test_a_token_acts_as_its_own_person_whatever_session_comes_along(acme, acme_admin, acme_member, issue, client_for):
    _, member_secret = issue(acme_member, acme, ["lines:read", "lines:write"])
    client = client_for("acme.localhost", acme_admin)  # the admin's session cookie, the member's token
    response = client.post(
        "/api/v1/lines/",
        {"name": "Sneaky", "phone_number": "+3726001779"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {member_secret}",
    )
    assert response.status_code == 403  # creating lines is for client admins; the token's person is a member


def test_a_session_has_the_scopes_of_its_role(client_for, acme_member):
    assert client_for("acme.localhost", acme_member).get("/api/v1/messages/").status_code == 200
    refused = client_for("acme.localhost", acme_member).get("/api/v1/access-log/")
    assert refused.status_code == 403
