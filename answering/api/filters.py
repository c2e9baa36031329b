"""Query parameters of the answering API's lists: validated like any input (a bad one is a 400
naming the parameter), and limited to what the client may see."""

from __future__ import annotations

from rest_framework import serializers

from answering.models import Call, Disposition, Line, Message
from answering.selectors import CALL_ORDERINGS, MESSAGE_ORDERINGS, VOICEMAIL_ORDERINGS
from tenants.inputs import validate_date_in_range
from tenants.models import User


class LineFilterField(serializers.IntegerField):
    """A line of this company, by id (another company's id is simply not one of them)."""

    def to_internal_value(self, data):
        pk = super().to_internal_value(data)
        line = Line.objects.filter(pk=pk).first()
        if line is None:
            raise serializers.ValidationError(f"there is no line {pk}")
        return line


class MessageFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Message.Status.values, required=False)
    urgency = serializers.ChoiceField(choices=Message.Urgency.values, required=False)
    line = LineFilterField(required=False, help_text="a line's id")
    ordering = serializers.ChoiceField(choices=MESSAGE_ORDERINGS, required=False, default="-created_at")


class CallFilterSerializer(serializers.Serializer):
    line = LineFilterField(required=False, help_text="a line's id")
    date_from = serializers.DateField(
        required=False, help_text="first day, in the company's time zone", validators=[validate_date_in_range]
    )
    date_to = serializers.DateField(
        required=False, help_text="last day, in the company's time zone", validators=[validate_date_in_range]
    )
    disposition = serializers.ChoiceField(choices=Disposition.values, required=False)
    status = serializers.ChoiceField(choices=Call.Status.values, required=False)
    agent = serializers.CharField(required=False, help_text="the agent's username")
    ordering = serializers.ChoiceField(choices=CALL_ORDERINGS, required=False, default="-started_at")

    def validate_agent(self, value):
        agent = User.objects.filter(username=value).exclude(provider_role="").first()
        if agent is None:
            raise serializers.ValidationError(f"there is no agent '{value}'")
        return agent

    def validate(self, attrs):
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and end < start:
            raise serializers.ValidationError({"date_to": "the end date is before the start date"})
        return attrs


class VoicemailFilterSerializer(serializers.Serializer):
    line = LineFilterField(required=False, help_text="a line's id")
    unheard = serializers.BooleanField(
        required=False, default=False, help_text="only voicemail nobody of the company has played"
    )
    ordering = serializers.ChoiceField(choices=VOICEMAIL_ORDERINGS, required=False, default="-created_at")
