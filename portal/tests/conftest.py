"""Fixtures shared by the portal's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def sign_in(db):
    """`sign_in("acme.localhost")`: a client signed in on that host with a password, as a person
    does (so the session is bound to the host); acme-admin unless `username` says otherwise."""
    from django.test import Client

    from demo.world import DEMO_PASSWORD

    def make(host: str, username: str = "acme-admin", password: str = DEMO_PASSWORD) -> Client:
        client = Client(HTTP_HOST=host)
        response = client.post("/accounts/login/", {"username": username, "password": password, "next": "/calls/"})
        assert response.status_code == 302, response.content
        return client

    return make
