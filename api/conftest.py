"""Fixtures shared by the API tests (api/tests and api/tokens/tests): issuing a token, a client
that sends it, and a client member of acme."""

from __future__ import annotations

import pytest


@pytest.fixture
def issue():
    """`issue(user, company, ["lines:read"])` -> (token, secret), through the service."""
    from api.tokens.services import token_create

    def make(user, company, scopes, *, name="test token", expires_in_days=30):
        return token_create(
            company=company, user=user, name=name, scopes=scopes, expires_in_days=expires_in_days, actor=user
        )

    return make


@pytest.fixture
def bearer(client_for):
    """`bearer("acme.localhost", secret)`: an HTTP client that sends the token and no session."""

    def make(host: str, secret: str):
        client = client_for(host)
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        return client

    return make


@pytest.fixture
def acme_member(acme):
    from tenants.models import Membership, User

    member = User.objects.create_user("acme-member-tokens", password="x")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    return member
