"""Reads for sign-in: who owes a one-time code (whoever set up a device, and everyone once the
company requires it), and which of the team have a second factor."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.selectors import second_factor_needed, team_second_factors, totp_device_confirmed
from portal.services import company_security_update
from tenants.models import Membership, User

pytestmark = pytest.mark.django_db


def test_a_code_is_owed_by_whoever_has_a_device_or_when_the_company_requires_it(acme, globex, acme_admin):
    assert second_factor_needed(user=acme_admin, company=acme) is False
    TOTPDevice.objects.create(user=acme_admin, name="unfinished", confirmed=False)
    assert second_factor_needed(user=acme_admin, company=acme) is False  # only a confirmed device counts
    company_security_update(company=globex, require_totp=True, actor=acme_admin)
    assert second_factor_needed(user=acme_admin, company=acme) is False  # another company's rule
    assert second_factor_needed(user=acme_admin, company=globex) is True
    device = TOTPDevice.objects.create(user=acme_admin, name="phone", confirmed=True)
    assert totp_device_confirmed(user=acme_admin) == device
    assert second_factor_needed(user=acme_admin, company=acme) is True


def test_the_team_shows_each_members_role_and_second_factor(acme, acme_admin):
    member = User.objects.create_user("acme-member-2fa", password="x")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    TOTPDevice.objects.create(user=member, name="phone", confirmed=True)
    team = {row["user"].username: (row["is_admin"], row["has_device"]) for row in team_second_factors(company=acme)}
    assert team["acme-admin"] == (True, False)
    assert team["acme-member-2fa"] == (False, True)
    assert "globex-admin" not in team
    names = [row["user"].username for row in team_second_factors(company=acme)]
    assert names == sorted(names)
