"""Reads for sign-in: a company's sign-in rules and a person's second factor."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import CompanySecurity
from tenants.models import ClientCompany, User


def company_requires_totp(*, company: ClientCompany) -> bool:
    """Whether the company's client admins require a one-time code of everyone signing in."""
    return CompanySecurity.objects.filter(company=company, require_totp=True).exists()


def totp_device_confirmed(*, user: User) -> TOTPDevice | None:
    """The person's confirmed TOTP device, if they have set one up."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def second_factor_needed(*, user: User, company: ClientCompany) -> bool:
    """A one-time code is asked of whoever has set up a device, and of everyone once the company
    requires it (those without a device are then guided to set one up)."""
    return totp_device_confirmed(user=user) is not None or company_requires_totp(company=company)


def team_second_factors(*, company: ClientCompany) -> list[dict]:
    """The company's client users, each with their role and whether they have set up a second factor."""
    from tenants.models import Membership

    memberships = list(Membership.objects.filter(company=company).select_related("user").order_by("user__username"))
    with_device = set(
        TOTPDevice.objects.filter(user__in=[m.user for m in memberships], confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    return [
        {"user": m.user, "is_admin": m.role == Membership.Role.CLIENT_ADMIN, "has_device": m.user_id in with_device}
        for m in memberships
    ]
