from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from answering.api.filters import CallFilterSerializer
from answering.models import Call
from answering.selectors import call_list
from api.base import TenantAPIView
from gates.engine import policy_for_request
from scheduling.selectors import company_zone


class CallOutputSerializer(serializers.ModelSerializer):
    line = serializers.CharField(source="line.name")
    line_id = serializers.IntegerField()
    agent = serializers.CharField(source="agent.username", allow_null=True, default=None)
    has_voicemail = serializers.BooleanField()

    class Meta:
        model = Call
        fields = [
            "id",
            "line",
            "line_id",
            "direction",
            "status",
            "started_at",
            "answered_at",
            "ended_at",
            "duration_seconds",
            "caller_name",
            "caller_number",
            "notes",
            "disposition",
            "agent",
            "recording_consent",
            "has_voicemail",
        ]


def _calls(request, **filters):
    return call_list(
        user=request.user, policy=policy_for_request(request, request.tenant), zone=company_zone(), **filters
    )


class CallListApi(TenantAPIView):
    """The company's calls, filtered by line, whole days in the company's time zone, disposition,
    status and agent; ordered by start (newest first) or duration."""

    api_scope = "calls"
    serializer_class = CallOutputSerializer

    @extend_schema(
        operation_id="calls_list", parameters=[CallFilterSerializer], responses=CallOutputSerializer(many=True)
    )
    def get(self, request):
        filters = CallFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(_calls(request, **filters.validated_data))
        return self.get_paginated_response(CallOutputSerializer(page, many=True).data)

    def safely_get_queryset(self):
        return _calls(self.request)


class CallDetailApi(TenantAPIView):
    api_scope = "calls"
    serializer_class = CallOutputSerializer

    @extend_schema(operation_id="calls_read", responses=CallOutputSerializer)
    def get(self, request, pk: int):
        return Response(CallOutputSerializer(self.get_object()).data)

    def safely_get_queryset(self):
        return _calls(self.request)
