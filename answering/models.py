"""The answering desk's records, in each client company's schema."""

from django.core.exceptions import ValidationError
from django.db import models


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

    A business number, not personal data. Lines are the coarse objects that agents are granted.
    """

    name = models.CharField(max_length=120)
    phone_number = models.CharField(max_length=20, unique=True, validators=[validate_e164])
    greeting = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.phone_number})"
