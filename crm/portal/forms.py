"""Forms of the contacts screen. They check shape only; the services decide (E.164, lengths)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.models import LawfulBasis


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
    name = forms.CharField(label=_("Name"), max_length=200)
    phone_number = forms.CharField(
        label=_("Phone number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        help_text=_("International form, such as +3725551234."),
    )
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"type": "email", "autocomplete": "off"}),
    )
    address = forms.CharField(label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    health_notes = forms.CharField(label=_("Health notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    lawful_basis = forms.ChoiceField(label=_("Lawful basis"), choices=LawfulBasis.choices)
