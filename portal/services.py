"""Writes for sign-in: a company's sign-in rules and a person's second factor."""

from __future__ import annotations

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import CompanySecurity
from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.models import ClientCompany, User

PORTAL_DEVICE_NAME = "portal"


def company_security_update(*, company: ClientCompany, require_totp: bool, actor: User) -> CompanySecurity:
    """Set the company's sign-in rules (client admins, through the portal's Security page). The
    change log names who changed them."""
    if not company.is_client:
        raise ApplicationError("only a client company has portal sign-in rules", field="company")
    with transaction.atomic(), change_log_actor(actor):
        security, _ = CompanySecurity.objects.select_for_update().get_or_create(company=company)
        security.require_totp = require_totp
        security.updated_by = actor
        security.full_clean()
        security.save()
    return security


def totp_device_start(*, user: User) -> TOTPDevice:
    """The unconfirmed device a person is setting up (one at a time: a reload shows the same
    secret). Refused when they already have a confirmed one: another device is added only after
    signing in with the first."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ApplicationError("you have a second factor already", field="device", code="device_exists")
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=PORTAL_DEVICE_NAME).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=PORTAL_DEVICE_NAME, confirmed=False)
    return device


def totp_device_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm a device being set up with a code from the person's app. False for a wrong code
    (the device's own throttling slows down guessing)."""
    token = token.strip().replace(" ", "")
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not locked.verify_token(token):
            return False
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])
    device.refresh_from_db()
    return True
