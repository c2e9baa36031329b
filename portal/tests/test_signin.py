"""Signing in to a client company's portal: password reset by e-mail, the password (throttled, with
a lock-out page in Estonian too), and the one-time code a client admin can require."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo.world import DEMO_PASSWORD
from portal.models import CompanySecurity
from portal.services import company_security_update
from tenants.models import Membership, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_code_throttle(settings):
    """django-otp slows down guessing after a wrong code (tested below); here the right code follows."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def _code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():0{device.digits}d}"


# ---- Password reset ----------------------------------------------------------------------------


def test_password_reset_by_email_on_the_companys_own_host(acme_admin):
    client = Client(HTTP_HOST="acme.localhost")
    assert "/accounts/password-reset/" in client.get("/accounts/login/").content.decode()
    response = client.post("/accounts/password-reset/", {"email": "admin@acme.example"})
    assert response.status_code == 302
    assert response.url == "/accounts/password-reset/done/"
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["admin@acme.example"]
    assert "Acme Dental Clinic" in email.subject
    link = re.search(r"http://acme\.localhost(/accounts/password-reset/[^/\s]+/[^/\s]+/)", email.body).group(1)

    # The link works on globex's host for nobody.
    assert "does not work" in Client(HTTP_HOST="globex.localhost").get(link, follow=True).content.decode()

    form = client.get(link, follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    weak = client.post(set_url, {"new_password1": "short", "new_password2": "short"})
    assert 'role="alert"' in weak.content.decode()  # the validators' errors, next to the field
    done = client.post(set_url, {"new_password1": "a-Brand-new-pass-42", "new_password2": "a-Brand-new-pass-42"})
    assert done.status_code == 302
    assert done.url == "/accounts/password-reset/complete/"
    acme_admin.refresh_from_db()
    assert acme_admin.check_password("a-Brand-new-pass-42")
    assert "does not work" in client.get(link, follow=True).content.decode()  # used once


def test_a_bad_address_is_an_inline_error():
    response = Client(HTTP_HOST="acme.localhost").post("/accounts/password-reset/", {"email": "not an address"})
    assert response.status_code == 200
    assert 'class="errorlist"' in response.content.decode()


# ---- The password ------------------------------------------------------------------------------


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


# ---- The one-time code -------------------------------------------------------------------------


def test_when_required_a_user_without_a_device_is_guided_to_set_one_up(sign_in, acme, acme_admin, no_code_throttle):
    company_security_update(company=acme, require_totp=True, actor=acme_admin)
    client = sign_in("acme.localhost")
    page = client.get("/calls/", follow=True)
    assert page.redirect_chain[-1][0].startswith("/accounts/second-factor/setup/")
    html = page.content.decode()
    uri = re.search(r'href="(otpauth://totp/[^"]+)"', html).group(1)
    assert "issuer=Vastaja" in uri
    assert "acme-admin" in uri
    device = TOTPDevice.objects.get(user=acme_admin, confirmed=False)
    secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    assert " ".join(re.findall(".{1,4}", secret)) in html  # the key as text, in groups of four

    assert client.get("/api/v1/messages/").json()["code"] == "second_factor_required"
    setup = page.redirect_chain[-1][0]
    wrong = client.post(setup, {"otp_token": "000000"})
    assert "That code is not right" in wrong.content.decode()
    assert client.get("/calls/").status_code == 302
    right = client.post(setup, {"otp_token": _code(device)})
    assert right.status_code == 302
    assert right.url == "/calls/"
    assert client.get("/calls/").status_code == 200
    assert client.get("/api/v1/messages/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_when_required_a_user_with_a_device_gives_the_code(sign_in, acme, acme_admin, no_code_throttle):
    company_security_update(company=acme, require_totp=True, actor=acme_admin)
    device = TOTPDevice.objects.create(user=acme_admin, name="phone", confirmed=True)
    client = sign_in("acme.localhost")
    asked = client.get("/calls/")
    assert asked.status_code == 302
    assert asked.url.startswith("/accounts/second-factor/?next=")
    # The setup page does not hand a second device to someone who has only given a password.
    assert client.get("/accounts/second-factor/setup/").url.startswith("/accounts/second-factor/")
    wrong = client.post(asked.url, {"otp_token": "12345"})
    assert "errorlist" in wrong.content.decode()
    assert client.post(asked.url, {"otp_token": "abcdef"}).status_code == 200
    assert client.get("/").status_code == 302
    right = client.post(asked.url, {"otp_token": _code(device)})
    assert right.url == "/calls/"
    assert client.get("/").status_code == 200


def test_not_required_means_password_only_unless_the_person_set_up_a_device(sign_in, acme_admin):
    assert sign_in("acme.localhost").get("/").status_code == 200
    TOTPDevice.objects.create(user=acme_admin, name="phone", confirmed=True)
    assert sign_in("acme.localhost").get("/").status_code == 302


def test_a_client_admin_requires_the_code_on_the_security_page_and_a_member_cannot(acme, acme_admin, client_for):
    member = User.objects.create_user("acme-member", password="x-member-pass-1")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    as_member = client_for("acme.localhost", member)
    assert as_member.get("/security/").status_code == 404
    assert as_member.post("/security/", {"require_totp": "on"}).status_code == 404
    assert not CompanySecurity.objects.filter(company=acme).exists()  # the member changed nothing

    admin = client_for("acme.localhost", acme_admin)
    page = admin.get("/security/")
    assert page.status_code == 200
    assert 'href="/security/" aria-current="page"' in page.content.decode()
    csrf = Client(HTTP_HOST="acme.localhost", enforce_csrf_checks=True)
    csrf.cookies = admin.cookies
    assert csrf.post("/security/", {"require_totp": "on"}).status_code == 403
    assert not CompanySecurity.objects.filter(company=acme).exists()
    assert admin.post("/security/", {"require_totp": "on"}).status_code == 302
    assert CompanySecurity.objects.get(company=acme).require_totp
    assert CompanySecurity.objects.get(company=acme).updated_by == acme_admin

    # The admin has no device yet: from now on they too are guided to set one up.
    assert admin.get("/security/").url.startswith("/accounts/second-factor/")


def test_globex_requiring_the_code_changes_nothing_for_acme(sign_in, globex, globex_admin, acme_admin):
    company_security_update(company=globex, require_totp=True, actor=globex_admin)
    assert sign_in("acme.localhost").get("/").status_code == 200


def test_the_lock_out_page_speaks_estonian(client_for, settings):
    client = client_for("acme.localhost")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "et"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "acme-admin", "password": "wrong"})
    locked = client.post("/accounts/login/", {"username": "acme-admin", "password": DEMO_PASSWORD})
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "Liiga palju ebaõnnestunud sisselogimisi" in html
    assert "Too many failed sign-ins" not in html


def test_wrong_codes_are_throttled(sign_in, acme, acme_admin):
    device = TOTPDevice.objects.create(user=acme_admin, name="phone", confirmed=True)
    client = sign_in("acme.localhost")
    client.post("/accounts/second-factor/", {"otp_token": "000000"})
    throttled = client.post("/accounts/second-factor/", {"otp_token": _code(device)})
    assert "Too many wrong codes" in throttled.content.decode()
    assert client.get("/").status_code == 302
