"""Input of the audit screens, validated once for the portal and the API: the access-log, request
and statistics filters, and raising a data-subject request. Errors name the field."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AccessLogEntry, DataSubjectRequest
from audit.selectors import (
    ACCESS_LOG_ORDERINGS,
    DSR_ORDERINGS,
    READER_PROVIDER,
    READERS,
    STATS_ORDERINGS,
    AccessLogFilter,
    access_log_people,
    access_log_record_types,
    company_zone,
)
from tenants.inputs import validate_date_in_range

MAX_STATS_DAYS = 366


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateRangeMixin:
    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date must not be before the start date."))
        return data


def _any(label):
    return [("", label)]


class AccessLogFilterForm(DateRangeMixin, forms.Form):
    reader = forms.ChoiceField(label=_("Read by"), choices=READERS, required=False)
    person = forms.ChoiceField(label=_("Person"), required=False)
    record_type = forms.ChoiceField(label=_("Record type"), required=False)
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=_any(_("Any channel")) + list(AccessLogEntry.Channel.choices)
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput, validators=[validate_date_in_range])
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput, validators=[validate_date_in_range])
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[
            ("", _("Any outcome")),
            ("shown", _("Shown")),
            ("refused", _("Refused")),
        ],
    )
    ordering = forms.ChoiceField(
        required=False, choices=[(o, o) for o in ACCESS_LOG_ORDERINGS], widget=forms.HiddenInput
    )

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        reader = (data or {}).get("reader") or READER_PROVIDER
        if reader not in dict(READERS):
            reader = READER_PROVIDER  # the field itself reports the bad value
        self.fields["person"].choices = _any(_("Anyone")) + access_log_people(reader=reader)
        self.fields["record_type"].choices = _any(_("Any record type")) + access_log_record_types(reader=reader)

    def filters(self) -> AccessLogFilter:
        data = self.cleaned_data
        return AccessLogFilter(
            reader=data.get("reader") or READER_PROVIDER,
            person=data.get("person") or "",
            record_type=data.get("record_type") or "",
            channel=data.get("channel") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            refused={"shown": False, "refused": True}.get(data.get("outcome") or ""),
            ordering=data.get("ordering") or "-at",
        )


class DsrFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=_any(_("Any kind")) + list(DataSubjectRequest.Kind.choices)
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_any(_("Any status")) + list(DataSubjectRequest.Status.choices)
    )
    ordering = forms.ChoiceField(required=False, choices=[(o, o) for o in DSR_ORDERINGS], widget=forms.HiddenInput)


class DsrRaiseForm(forms.Form):
    """A request for one person, found by number or address. A rectification says what to correct;
    an erasure, which cannot be undone, must be confirmed."""

    kind = forms.ChoiceField(label=_("Kind of request"), choices=DataSubjectRequest.Kind.choices)
    phone_number = forms.CharField(
        label=_("The person's phone number"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("The person's e-mail address"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    new_name = forms.CharField(label=_("Correct name"), required=False, max_length=200)
    new_phone_number = forms.CharField(label=_("Correct phone number"), required=False, max_length=30)
    new_email = forms.EmailField(label=_("Correct e-mail address"), required=False, max_length=254)
    new_address = forms.CharField(label=_("Correct postal address"), required=False, max_length=2000)
    confirm_erasure = forms.BooleanField(
        label=_("I understand that an erasure cannot be undone"),
        required=False,
    )

    CORRECTIONS = {
        "new_name": "name",
        "new_phone_number": "phone_number",
        "new_email": "email",
        "new_address": "address",
    }

    def _phone(self, name: str) -> str:
        from crm.blind_index import phone_normalise
        from tenants.errors import ApplicationError

        try:
            return phone_normalise(self.cleaned_data.get(name) or "", field=name)
        except ApplicationError:
            raise forms.ValidationError(
                _("“%(value)s” is not a phone number: write it with its country code, such as +3725551234."),
                params={"value": self.cleaned_data.get(name)},
                code="invalid_phone",
            ) from None

    def clean_phone_number(self):
        return self._phone("phone_number")

    def clean_new_phone_number(self):
        return self._phone("new_phone_number")

    def clean(self):
        data = super().clean()
        if "phone_number" in self.errors:
            return data
        if not (data.get("phone_number") or "").strip() and not data.get("email") and "email" not in self.errors:
            self.add_error("phone_number", _("Give the person's phone number or e-mail address."))
        kind = data.get("kind")
        if kind == DataSubjectRequest.Kind.RECTIFICATION and not self.corrections():
            self.add_error("new_name", _("Say what to correct: at least one of name, number, e-mail or address."))
        if kind != DataSubjectRequest.Kind.RECTIFICATION and self.corrections():
            self.add_error("kind", _("Only a rectification carries corrections; choose it or clear them."))
        if kind == DataSubjectRequest.Kind.ERASURE and not data.get("confirm_erasure"):
            self.add_error("confirm_erasure", _("Confirm the erasure: it cannot be undone."))
        return data

    def corrections(self) -> dict[str, str]:
        data = getattr(self, "cleaned_data", {})
        return {
            target: data[name].strip() for name, target in self.CORRECTIONS.items() if (data.get(name) or "").strip()
        }


def stats_default_period() -> tuple[dt.date, dt.date]:
    """The last 30 closed days in the company's time zone (today is not rolled up yet)."""
    yesterday = timezone.now().astimezone(company_zone()).date() - dt.timedelta(days=1)
    return yesterday - dt.timedelta(days=29), yesterday


class AnalyticsFilterForm(DateRangeMixin, forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput, validators=[validate_date_in_range])
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput, validators=[validate_date_in_range])
    line = forms.ModelChoiceField(label=_("Line"), required=False, queryset=None, empty_label=_("All lines"))
    ordering = forms.ChoiceField(required=False, choices=[(o, o) for o in STATS_ORDERINGS], widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        from answering.models import Line

        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = Line.objects.order_by("name")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        end = data.get("date_to") or stats_default_period()[1]
        start = data.get("date_from") or end - dt.timedelta(days=29)
        if start > end:
            self.add_error("date_from", _("The start date must not be after the end date."))
        elif (end - start).days + 1 > MAX_STATS_DAYS:
            self.add_error("date_from", _("Choose at most %(days)s days.") % {"days": MAX_STATS_DAYS})
        data["date_from"], data["date_to"] = start, end
        return data
