"""Provider staff sign in to the admin with a password and a TOTP code; failures are throttled."""

from __future__ import annotations

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


def _code(username: str) -> str:
    device = TOTPDevice.objects.get(user__username=username, name="demo")
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


def test_staff_sign_in_needs_the_one_time_code(client_for, agent1):
    client = client_for("localhost")
    without = client.post(LOGIN, {"username": "agent1", "password": "demo-pass-123"})
    assert without.status_code == 200  # the form again, with an error
    assert client.get("/admin/").status_code == 302

    right = client.post(LOGIN, {"username": "agent1", "password": "demo-pass-123", "otp_token": _code("agent1")})
    assert right.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_is_refused(client_for):
    client = client_for("localhost")
    wrong = client.post(LOGIN, {"username": "agent1", "password": "demo-pass-123", "otp_token": "000000"})
    assert wrong.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_repeated_failures_lock_the_account_with_a_clear_message(client_for, settings):
    client = client_for("localhost")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "agent2", "password": "wrong", "otp_token": "000000"})
    locked = client.post(LOGIN, {"username": "agent2", "password": "demo-pass-123", "otp_token": _code("agent2")})
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "Too many failed sign-ins" in body
    assert "Try again in" in body
    assert client.get("/admin/").status_code == 302  # the right password did not get through


def test_client_portal_sign_in_is_throttled_too(client_for, settings):
    client = client_for("acme.localhost")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "acme-admin", "password": "wrong"})
    locked = client.post("/accounts/login/", {"username": "acme-admin", "password": "demo-pass-123"})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()


def test_client_admin_signs_in_to_the_portal(client_for):
    client = client_for("acme.localhost")
    response = client.post("/accounts/login/", {"username": "acme-admin", "password": "demo-pass-123"})
    assert response.status_code == 302
    assert "Acme Dental reception" in client.get("/").content.decode()
