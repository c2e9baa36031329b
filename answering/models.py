"""The answering desk's records, in each client company's schema."""

from django.core.exceptions import ValidationError
from django.db import models
from django_cryptography.fields import encrypt
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from tenants.categories import not_personal, personal_data
from tenants.gates.engine import gate_objects


def validate_e164(value: str) -> None:
    import phonenumbers

    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValidationError(f"'{value}' is not a phone number in E.164 form, such as +3725551234") from None
    if (
        not phonenumbers.is_valid_number(parsed)
        or phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) != value
    ):
        raise ValidationError(f"'{value}' is not a valid phone number in E.164 form, such as +3725551234")


class Line(models.Model):
    """A client company's answering line: the phone number its callers dial.

    A business number, not personal data. Lines are the coarse objects that agents are granted
    (guardian's `answering.view_line` on the line); the calls on a line inherit its grants.
    """

    name = models.CharField(max_length=120)
    phone_number = models.CharField(max_length=20, unique=True, validators=[validate_e164])
    greeting = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.phone_number})"


class LineUserObjectPermission(UserObjectPermissionBase):
    """Direct-FK grants on lines: generic-FK lookups are slow at scale (guardian #68, #811)."""

    content_object = models.ForeignKey(Line, on_delete=models.CASCADE)


class LineGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Line, on_delete=models.CASCADE)


class Call(models.Model):
    """An inbound or outbound call on a line. The answering-desk issue adds its workflow."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Status(models.TextChoices):
        RINGING = "ringing", "Ringing"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        MISSED = "missed", "Missed"

    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="calls")
    telephony_sid = models.CharField("telephony id", max_length=64, unique=True)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.INBOUND)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETED)
    started_at = models.DateTimeField()
    caller_number = encrypt(models.CharField(max_length=20, blank=True))
    caller_name = encrypt(models.CharField(max_length=200, blank=True))
    notes = encrypt(models.TextField(blank=True))
    contact = models.ForeignKey("crm.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="calls")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["line", "-started_at"], name="call_line_started")]

    def __str__(self) -> str:
        # Shown in breadcrumbs, history and delete pages: never a personal value.
        return f"Call {self.telephony_sid}"


personal_data(
    Call,
    caller_number="user.contact.phone_number",
    caller_name="user.contact.name",
    notes="user.content.private",
)
not_personal(Line, "name", "phone_number", reason="the client company's own business line")

gate_objects(Line, grants=LineUserObjectPermission, group_grants=LineGroupObjectPermission, permission="view_line")
gate_objects(Call, through="line")
