"""The provider's admin site: staff sign in with a password and a one-time code (without picking a
device when they have one), failures are throttled; and the switcher between the client companies a
staff member is assigned to."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from gates.selection import SESSION_KEY

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


def test_with_two_devices_the_code_alone_does_not_say_which(client_for, agent1):
    TOTPDevice.objects.create(user=agent1, name="spare phone", confirmed=True)
    client = client_for("localhost")
    response = client.post(LOGIN, {"username": "agent1", "password": "demo-pass-123", "otp_token": _code("agent1")})
    assert response.status_code == 200  # the form again: choose the device
    assert client.get("/admin/").status_code == 302


def test_the_switcher_sets_the_company_worked_for_and_says_so(admin_for, agent1, globex):
    client = admin_for(agent1)
    response = client.post("/admin/switch/", {"company": "globex"})
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert client.session[SESSION_KEY] == "globex"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"You are now working for {globex.name}."]
    assert client.get("/admin/").context["admin_company"].schema_name == "globex"


def test_choosing_no_company_clears_the_choice(admin_for, agent1):
    client = admin_for(agent1, "acme")
    assert client.get("/admin/").context["admin_company"].schema_name == "acme"
    assert client.post("/admin/switch/", {"company": ""}).status_code == 302
    assert client.session[SESSION_KEY] is None
    assert client.get("/admin/").context["admin_company"] is None


def test_the_switcher_lists_the_assigned_companies_by_name(admin_for, agent1):
    companies = admin_for(agent1).get("/admin/switch/").context["companies"]
    names = [c.name for c in companies]
    assert names == sorted(names)
    assert {c.schema_name for c in companies} == {"acme", "globex", "initech"}


def test_an_unknown_company_gets_the_same_404_as_an_unassigned_one(admin_for, agent2):
    client = admin_for(agent2)
    assert client.post("/admin/switch/", {"company": "nosuch"}).status_code == 404
    assert client.post("/admin/switch/", {"company": "public"}).status_code == 404
    assert client.session[SESSION_KEY] is None
