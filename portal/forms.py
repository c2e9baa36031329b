"""Forms of the portal's sign-in pages and its Security page."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import gettext_lazy as _

from tenants.models import ClientCompany


class TenantPasswordResetForm(PasswordResetForm):
    """Password reset on a company's host: only that company's own client users get a link (and
    the same "check your inbox" page is shown either way, so nothing tells who is a user)."""

    def __init__(self, *args, company: ClientCompany, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company

    def get_users(self, email):
        return (
            user
            for user in super().get_users(email)
            if not user.is_provider_staff and user.memberships.filter(company=self.company).exists()
        )


class OneTimeCodeForm(forms.Form):
    otp_token = forms.CharField(
        label=_("One-time code"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "pattern": "[0-9 ]*"}
        ),
        help_text=_("The six digits your authenticator app shows now."),
    )

    def clean_otp_token(self):
        token = self.cleaned_data["otp_token"].replace(" ", "")
        if not token.isdigit():
            raise forms.ValidationError(_("Enter the digits only."), code="digits")
        return token


class SecurityForm(forms.Form):
    require_totp = forms.BooleanField(
        label=_("Require a one-time code (TOTP) of everyone signing in"),
        required=False,
        help_text=_("People without an authenticator app set up are guided to set one up at their next sign-in."),
    )
