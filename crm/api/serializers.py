from rest_framework import serializers

from crm.models import ConsentRecord, Contact, LawfulBasis


class ContactQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Exact match through the blind indexes: a phone number (any spelling), an e-mail address, "
        "or a whole name (case and spacing do not matter; a part of a name matches nothing).",
    )
    ordering = serializers.ChoiceField(choices=["created_at", "-created_at"], required=False, default="-created_at")


class ContactInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    phone_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    address = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    health_notes = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    lawful_basis = serializers.ChoiceField(choices=LawfulBasis.choices, required=False)


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
