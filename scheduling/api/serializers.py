from django.utils import timezone
from rest_framework import serializers

from crm.models import Contact
from scheduling.models import Appointment, Resource, Service
from tenants.inputs import validate_date_in_range


class AwareDateTimeField(serializers.DateTimeField):
    """A datetime that must carry its offset: a naive one is refused, not silently read as UTC."""

    default_error_messages = {"naive": "Give the time with its offset, e.g. 2026-03-29T09:00:00+03:00."}
    default_validators = [validate_date_in_range]  # the arithmetic on it (a week, a duration) must not overflow

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


class AppointmentQuerySerializer(serializers.Serializer):
    starts_after = AwareDateTimeField(required=False, help_text="Appointments starting at or after this instant")
    starts_before = AwareDateTimeField(required=False, help_text="Appointments starting before this instant")
    resource = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(choices=Appointment.Status.choices, required=False)
    ordering = serializers.ChoiceField(choices=["starts_at", "-starts_at"], required=False, default="starts_at")

    def validate(self, attrs):
        if "starts_after" in attrs and "starts_before" in attrs and attrs["starts_before"] <= attrs["starts_after"]:
            raise serializers.ValidationError({"starts_before": "must be after starts_after"})
        return attrs


class RowField(serializers.PrimaryKeyRelatedField):
    """A row of `model` named by its id, looked up when the request is validated (inside the
    request's gate context, never at import: a tenant model read at import raises), among the rows
    `narrow` keeps. The schema reads the model from the manager without querying."""

    def __init__(self, model, narrow=None, **kwargs):
        self.narrow = narrow
        super().__init__(queryset=model._default_manager, **kwargs)

    def get_queryset(self):
        rows = self.queryset.all()
        return self.narrow(rows) if self.narrow else rows


class AppointmentCreateSerializer(serializers.Serializer):
    service = RowField(Service)
    resource = RowField(Resource)
    starts_at = AwareDateTimeField()
    contact = RowField(Contact, lambda rows: rows.filter(merged_into__isnull=True), required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class AppointmentCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class AppointmentRescheduleSerializer(serializers.Serializer):
    starts_at = AwareDateTimeField()


class AppointmentOutputSerializer(serializers.ModelSerializer):
    service_name = serializers.CharField(source="service.name", read_only=True)
    resource_label = serializers.CharField(source="resource.label", read_only=True)
    contact_name = serializers.CharField(source="contact.name", default=None, allow_null=True, read_only=True)

    class Meta:
        model = Appointment
        fields = [
            "id",
            "service",
            "service_name",
            "resource",
            "resource_label",
            "contact",
            "contact_name",
            "starts_at",
            "ends_at",
            "status",
            "hold_expires_at",
            "notes",
            "cancelled_reason",
            "created_at",
        ]


class ServiceOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "duration_minutes",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "active",
            "resources",
        ]


class ResourceOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Resource
        fields = ["id", "label", "kind", "services"]


class SlotQuerySerializer(serializers.Serializer):
    service = RowField(Service, lambda rows: rows.filter(active=True))
    resource = RowField(Resource, required=False)
    start = AwareDateTimeField()
    end = AwareDateTimeField()


class SlotOutputSerializer(serializers.Serializer):
    resource = serializers.IntegerField(source="resource.pk")
    resource_label = serializers.CharField(source="resource.label")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
