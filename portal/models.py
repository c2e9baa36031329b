"""The portal's own records, in the public schema: a client company's sign-in rules."""

from __future__ import annotations

from django.db import models


class CompanySecurity(models.Model):
    """How a client company's people sign in to its portal. No row means the defaults (password
    only); a client admin changes it on the portal's Security page."""

    company = models.OneToOneField("tenants.ClientCompany", on_delete=models.CASCADE, related_name="portal_security")
    require_totp = models.BooleanField(
        default=False, help_text="Everyone signing in to this company's portal must give a one-time code (TOTP)"
    )
    updated_by = models.ForeignKey("tenants.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "portal security settings"
        verbose_name_plural = "portal security settings"

    def __str__(self) -> str:
        return f"Sign-in rules of company #{self.company_id}"
