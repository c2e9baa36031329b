"""Filter forms of the portal's answering screens. Invalid input is shown next to its field."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from answering.models import Call, Disposition, Line, Message, Transfer
from answering.selectors import call_agents
from tenants.inputs import validate_date_in_range

DISPOSITION_LABELS = {
    Disposition.MESSAGE_TAKEN: _("Message taken"),
    Disposition.APPOINTMENT: _("Appointment booked"),
    Disposition.INFO_GIVEN: _("Information given"),
    Disposition.WRONG_NUMBER: _("Wrong number"),
    Disposition.HUNG_UP: _("Caller hung up"),
    Disposition.TRANSFERRED: _("Transferred"),
}
CALL_STATUS_LABELS = {
    Call.Status.RINGING: _("Ringing"),
    Call.Status.IN_PROGRESS: _("In progress"),
    Call.Status.COMPLETED: _("Completed"),
    Call.Status.MISSED: _("Missed"),
}
MESSAGE_STATUS_LABELS = {
    Message.Status.PENDING: _("Pending"),
    Message.Status.SENT: _("Sent"),
    Message.Status.DELIVERED: _("Delivered"),
    Message.Status.READ: _("Read"),
    Message.Status.ACKNOWLEDGED: _("Acknowledged"),
    Message.Status.FAILED: _("Delivery failed"),
}
TRANSFER_STATE_LABELS = {
    Transfer.State.DIALLING: _("Dialling"),
    Transfer.State.ANNOUNCING: _("Announcing the caller"),
    Transfer.State.BRIDGED: _("Put through"),
    Transfer.State.RETURNED: _("Returned to the caller"),
    Transfer.State.FAILED: _("Failed: back with the caller"),
}
TRANSFER_TARGET_LABELS = {
    Transfer.Target.ONCALL: _("the person on call"),
    Transfer.Target.NUMBER: _("the number the script names"),
}
URGENCY_LABELS = {
    Message.Urgency.URGENT: _("Urgent"),
    Message.Urgency.NORMAL: _("Normal"),
    Message.Urgency.LOW: _("Low"),
}


class LineChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, line):
        return line.name


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.username


class _LineFilterForm(forms.Form):
    """A filter form with a `line` choice: the lines are read when the form is made, in the
    page's gate context (never at import)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = Line.objects.order_by("name")


class MessageFilterForm(_LineFilterForm):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *MESSAGE_STATUS_LABELS.items()]
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"), required=False, choices=[("", _("Any urgency")), *URGENCY_LABELS.items()]
    )
    line = LineChoiceField(label=_("Line"), required=False, queryset=Line.objects.none(), empty_label=_("All lines"))


class CallFilterForm(_LineFilterForm):
    line = LineChoiceField(label=_("Line"), required=False, queryset=Line.objects.none(), empty_label=_("All lines"))
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_date_in_range],
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_date_in_range],
    )
    disposition = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", _("Any outcome")), *DISPOSITION_LABELS.items()]
    )
    agent = AgentChoiceField(label=_("Agent"), required=False, queryset=None, empty_label=_("Any agent"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = call_agents()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned
