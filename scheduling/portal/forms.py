"""Forms of the appointments screen. Times are wall-clock times of the company's zone; the
services decide whether a slot can be had."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduling.models import Resource, Service
from scheduling.selectors import company_zone
from tenants.inputs import validate_date_in_range


class _SlotFields(forms.Form):
    date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_date_in_range]
    )
    time = forms.TimeField(
        label=_("Time"),
        # `list` ties the field to the free times the "Show free times" button loads.
        widget=forms.TimeInput(attrs={"type": "time", "step": 900, "list": "free-time-list"}, format="%H:%M"),
    )

    def starts_at(self) -> dt.datetime:
        """The chosen wall-clock time in the company's zone, as an aware instant."""
        return dt.datetime.combine(self.cleaned_data["date"], self.cleaned_data["time"], tzinfo=company_zone())


class BookingForm(_SlotFields):
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none())
    resource = forms.ModelChoiceField(label=_("With"), queryset=Resource.objects.none())
    contact_phone = forms.CharField(
        label=_("Caller's phone number"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        help_text=_("Optional. Finds the contact by number."),
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    field_order = ["service", "resource", "date", "time", "contact_phone", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(active=True).order_by("name")
        self.fields["resource"].queryset = Resource.objects.order_by("label")


class RescheduleForm(_SlotFields):
    pass


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=200)


class FreeTimesForm(forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.none())
    resource = forms.ModelChoiceField(queryset=Resource.objects.none())
    date = forms.DateField(validators=[validate_date_in_range])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(active=True)
        self.fields["resource"].queryset = Resource.objects.all()
