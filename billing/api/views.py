"""The company's billing through the API, read-only and for client admins: the running month's
usage (or another month's, `?month=YYYY-MM`) and its issued statements. A draft, or another
company's statement, is the 404 of a missing one."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.base import TenantAPIView
from billing.models import Statement, StatementLine
from billing.selectors import company_zone, month_current, month_parse, statement_list, usage_for_month
from billing.usage import FIGURES, Terms
from tenants.errors import ApplicationError

# Amounts go out as strings ("12.30"): exact, never a float.
AMOUNT = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": True}


class TermsOutputSerializer(serializers.Serializer):
    currency = serializers.CharField()
    included_minutes = serializers.IntegerField()
    increment_seconds = serializers.IntegerField()
    minimum_seconds = serializers.IntegerField()
    per_call_fee = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=True)
    overage_rate_per_minute = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=True)
    count_wrap_up = serializers.BooleanField()
    count_transfer = serializers.BooleanField()


class UsageOutputSerializer(serializers.Serializer):
    month = serializers.DateField()
    time_zone = serializers.SerializerMethodField()
    terms = TermsOutputSerializer()
    calls = serializers.SerializerMethodField()
    billed_seconds = serializers.IntegerField()
    overage_seconds = serializers.IntegerField()
    overage_amount = serializers.DecimalField(**AMOUNT)
    call_fees_amount = serializers.DecimalField(**AMOUNT)
    total_amount = serializers.DecimalField(**AMOUNT)

    def get_calls(self, usage) -> int:
        return len(usage.calls)

    def get_time_zone(self, usage) -> str:
        return company_zone().key


class StatementLineOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatementLine
        fields = [
            "telephony_sid",
            "started_at",
            "talk_seconds",
            "wrap_up_seconds",
            "transfer_seconds",
            "counted_seconds",
            "billed_seconds",
        ]


class StatementOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Statement
        fields = ["id", "month", "status", "corrects", *Terms.FIELDS, *FIGURES, "issued_at"]


class StatementDetailOutputSerializer(StatementOutputSerializer):
    lines = StatementLineOutputSerializer(many=True)

    class Meta(StatementOutputSerializer.Meta):
        fields = [*StatementOutputSerializer.Meta.fields, "lines"]


class UsageApi(TenantAPIView):
    """A month's usage and charges so far, worked out from the calls (the company's zone)."""

    api_scope = "billing"
    serializer_class = UsageOutputSerializer

    @extend_schema(
        operation_id="billing_usage",
        parameters=[OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM; default the running month")],
        responses={
            200: UsageOutputSerializer,
            400: OpenApiResponse(description="The month is not YYYY-MM, or no billing plan is set up yet"),
        },
    )
    def get(self, request):
        self.require_client_admin(request)
        value = request.query_params.get("month")
        month = month_parse(value) if value else month_current()
        usage = usage_for_month(month=month)
        if usage is None:
            raise ApplicationError("No billing plan is set up for this company yet.", field="plan", code="no_plan")
        return Response(UsageOutputSerializer(usage).data)

    def safely_get_queryset(self):
        return statement_list(issued_only=True)


class StatementListApi(TenantAPIView):
    """The company's issued statements, newest month first."""

    api_scope = "billing"
    serializer_class = StatementOutputSerializer

    @extend_schema(operation_id="billing_statements_list", responses=StatementOutputSerializer(many=True))
    def get(self, request):
        self.require_client_admin(request)
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(StatementOutputSerializer(page, many=True).data)

    def safely_get_queryset(self):
        return statement_list(issued_only=True)


class StatementDetailApi(TenantAPIView):
    """One issued statement, with a line per billed call."""

    api_scope = "billing"
    serializer_class = StatementDetailOutputSerializer

    @extend_schema(operation_id="billing_statements_read", responses=StatementDetailOutputSerializer)
    def get(self, request, pk: int):
        self.require_client_admin(request)
        return Response(StatementDetailOutputSerializer(self.get_object()).data)

    def safely_get_queryset(self):
        return statement_list(issued_only=True).prefetch_related("lines")
