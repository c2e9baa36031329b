from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.models import ConsentRecord, Contact, LawfulBasis
from crm.services import LIMITS


class ContactQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Exact match through the blind indexes: a phone number (any spelling), an e-mail address, "
        "or a whole name (case and spacing do not matter; a part of a name matches nothing).",
    )
    ordering = serializers.ChoiceField(choices=["created_at", "-created_at"], required=False, default="-created_at")


@extend_schema_field({"type": "string", "enum": LawfulBasis.values})
class LawfulBasisField(serializers.CharField):
    """Documented as its choices; checked by crm.services, like every other rule of a contact."""


def _text(field: str, **kwargs) -> serializers.CharField:
    # The limit is documented here and enforced by the service, so that the API and the portal
    # refuse the same input with the same error.
    return serializers.CharField(
        allow_blank=True, help_text=f"At most {LIMITS[field]:,} characters.", **{"required": False, **kwargs}
    )


class ContactInputSerializer(serializers.Serializer):
    """Shape only: the rules (a name, E.164, an address, lengths, a lawful basis) are
    crm.services', and its errors are the 400s."""

    name = _text("name", required=True)
    phone_number = _text("phone_number")
    email = _text("email")
    address = _text("address")
    notes = _text("notes")
    health_notes = _text("health_notes")
    lawful_basis = LawfulBasisField(required=False)


class ContactOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id",
            "name",
            "phone_number",
            "email",
            "address",
            "notes",
            "health_notes",
            "lawful_basis",
            "restricted",
            "created_at",
            "anonymised_at",
            "merged_into",
        ]


class ConsentOutputSerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="recorded_by.username", default=None, allow_null=True)

    class Meta:
        model = ConsentRecord
        fields = ["id", "purpose", "granted", "method", "evidence", "recorded_by", "recorded_at"]
