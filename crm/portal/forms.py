"""Forms of the contacts screen. They check shape only; the services decide (E.164, lengths)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.models import LawfulBasis
from crm.services import LIMITS


class ContactSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, phone number or e-mail"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
        help_text=_(
            "Finds exact matches only: a whole name in any case or spacing (“mari tamm”, not “mari”), a "
            "phone number however it is written, or a whole e-mail address."
        ),
    )


class ContactForm(forms.Form):
    """Shape only: every rule (a name, E.164, an address, lengths, a lawful basis) is
    crm.services', so the portal refuses exactly what the API refuses, in the same words. The
    browser's own hints (required, maxlength) follow the same limits."""

    name = forms.CharField(
        label=_("Name"), required=False, widget=forms.TextInput(attrs={"required": True, "maxlength": LIMITS["name"]})
    )
    phone_number = forms.CharField(
        label=_("Phone number"),
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "maxlength": LIMITS["phone_number"]}),
        help_text=_("International form, such as +3725551234."),
    )
    email = forms.CharField(
        label=_("E-mail"),
        required=False,
        widget=forms.TextInput(attrs={"type": "email", "autocomplete": "off", "maxlength": LIMITS["email"]}),
    )
    address = forms.CharField(
        label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 2, "maxlength": LIMITS["address"]})
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3, "maxlength": LIMITS["notes"]})
    )
    health_notes = forms.CharField(
        label=_("Health notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": LIMITS["health_notes"]}),
    )
    lawful_basis = forms.CharField(
        label=_("Lawful basis"), required=False, widget=forms.Select(choices=LawfulBasis.choices)
    )
