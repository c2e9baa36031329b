"""Writes for sign-in: a client company's sign-in rules (with who changed them), and setting up a
second factor: one device in the making at a time, confirmed only by a right code."""

from __future__ import annotations

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import CompanySecurity
from portal.services import PORTAL_DEVICE_NAME, company_security_update, totp_device_confirm, totp_device_start
from tenants.errors import ApplicationError
from tenants.models import ClientCompany

pytestmark = pytest.mark.django_db


def _code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():0{device.digits}d}"


def test_the_sign_in_rules_are_one_row_per_company_naming_who_changed_them(acme, acme_admin, globex_admin):
    company_security_update(company=acme, require_totp=True, actor=acme_admin)
    company_security_update(company=acme, require_totp=False, actor=globex_admin)
    rules = CompanySecurity.objects.get(company=acme)
    assert (rules.require_totp, rules.updated_by) == (False, globex_admin)


def test_only_a_client_company_has_sign_in_rules(acme_admin):
    provider = ClientCompany.objects.get(schema_name="public")
    with pytest.raises(ApplicationError, match="only a client company"):
        company_security_update(company=provider, require_totp=True, actor=acme_admin)
    assert not CompanySecurity.objects.filter(company=provider).exists()


def test_setting_up_shows_the_same_device_until_it_is_confirmed(acme_admin):
    first = totp_device_start(user=acme_admin)
    assert (first.name, first.confirmed) == (PORTAL_DEVICE_NAME, False)
    assert totp_device_start(user=acme_admin).pk == first.pk  # a reload shows the same secret
    assert TOTPDevice.objects.filter(user=acme_admin).count() == 1


def test_a_wrong_code_confirms_nothing_and_the_right_one_confirms_the_device(acme_admin, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = totp_device_start(user=acme_admin)
    assert totp_device_confirm(device=device, token="000000") is False
    assert TOTPDevice.objects.get(pk=device.pk).confirmed is False
    code = _code(device)
    assert totp_device_confirm(device=device, token=f" {code[:3]} {code[3:]} ") is True
    assert device.confirmed is True  # the caller's object is refreshed too


def test_a_person_with_a_confirmed_device_cannot_start_another(acme_admin):
    TOTPDevice.objects.create(user=acme_admin, name="phone", confirmed=True)
    with pytest.raises(ApplicationError, match="you have a second factor already") as refused:
        totp_device_start(user=acme_admin)
    assert refused.value.code == "device_exists"
    assert not TOTPDevice.objects.filter(user=acme_admin, confirmed=False).exists()
