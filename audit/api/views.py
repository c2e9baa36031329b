"""The client company's view of its access log: who at the provider looked at what."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from audit.models import AccessLogEntry
from tenants.gates.api import TenantAPIView


class AccessLogOutputSerializer(serializers.ModelSerializer):
    who = serializers.CharField(source="user.username", default="(automatic task)")
    role = serializers.CharField(source="user.get_provider_role_display", default="")

    class Meta:
        model = AccessLogEntry
        fields = ["at", "who", "role", "channel", "object_type", "object_ids", "fields", "refused"]


class AccessLogApi(TenantAPIView):
    """Reads of this company's personal data by the provider's staff and tasks. Client admins only."""

    serializer_class = AccessLogOutputSerializer

    @extend_schema(operation_id="access_log_list", responses=AccessLogOutputSerializer(many=True))
    def get(self, request):
        self.require_client_admin(request)
        page = self.paginate_queryset(self.safely_get_queryset())
        return self.get_paginated_response(AccessLogOutputSerializer(page, many=True).data)

    def safely_get_queryset(self):
        # The client's own people reading their own data are not "the provider"; leave them out.
        return AccessLogEntry.objects.select_related("user").exclude(user__provider_role="").order_by("-at", "-pk")
