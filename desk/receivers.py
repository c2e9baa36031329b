"""Signing out of the admin is going offline at once (desk.services.presence_signed_out)."""

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from desk.services import presence_signed_out


@receiver(user_logged_out, dispatch_uid="desk-signed-out")
def _signed_out(sender, request, user, **kwargs):
    if user is not None and getattr(user, "provider_role", ""):
        presence_signed_out(user=user)
