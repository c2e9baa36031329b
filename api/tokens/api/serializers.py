from rest_framework import serializers

from api.tokens.models import ApiToken
from api.tokens.scopes import ALL_SCOPES
from api.tokens.services import MAX_LIFETIME_DAYS


class TokenInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ALL_SCOPES), min_length=1, max_length=50)
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_LIFETIME_DAYS,
        required=False,
        allow_null=True,
        default=90,
        help_text="Days until the token expires; null for never.",
    )


class TokenOutputSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username")
    state = serializers.ChoiceField(choices=["active", "expired", "revoked"])
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ALL_SCOPES))

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "user",
            "scopes",
            "state",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
        ]


class TokenCreatedSerializer(TokenOutputSerializer):
    token = serializers.CharField(help_text="The secret. Shown this once; only its hash is stored.")

    class Meta(TokenOutputSerializer.Meta):
        fields = [*TokenOutputSerializer.Meta.fields, "token"]
