from rest_framework import serializers

from answering.models import Line


class LineInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    phone_number = serializers.CharField(max_length=20)
    greeting = serializers.CharField(required=False, allow_blank=True, default="")


class LineOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Line
        fields = ["id", "name", "phone_number", "greeting", "created_at"]
