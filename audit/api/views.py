"""The client company's audit API: its access log, its data-subject requests and its statistics.

Filters are validated by the same forms as the portal's (`audit/forms.py`): a bad value is a 400
naming the field."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from api.base import TenantAPIView
from audit.dsr import dsr_export_read, dsr_raise
from audit.forms import AccessLogFilterForm, AnalyticsFilterForm, DsrFilterForm
from audit.models import AccessLogEntry, DataSubjectRequest, LineDayStats
from audit.selectors import (
    ACCESS_LOG_ORDERINGS,
    DSR_ORDERINGS,
    READERS,
    STATS_ORDERINGS,
    access_log_base,
    access_log_list,
    dsr_list,
    line_day_stats_list,
)
from tenants.errors import ApplicationError

BAD_FILTER = OpenApiResponse(description="A filter value is invalid: the body names each field and what is wrong")


def validated(form_class, request):
    """The form bound to the query string, or a 400 with its field errors."""
    form = form_class(request.query_params)
    if not form.is_valid():
        raise ValidationError(
            {name: [e["message"] for e in errors] for name, errors in form.errors.get_json_data().items()}
        )
    return form


def _date(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.DATE, description=description)


def _choice(name: str, values, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, enum=list(values), description=description)


# ---- access log --------------------------------------------------------------------------------


class AccessLogOutputSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(allow_null=True)
    who = serializers.CharField(source="user.username", default="(automatic task)")
    role = serializers.CharField(source="user.get_provider_role_display", default="")

    class Meta:
        model = AccessLogEntry
        fields = ["at", "user_id", "who", "role", "channel", "object_type", "object_ids", "fields", "refused"]


class AccessLogApi(TenantAPIView):
    """Reads of this company's personal data by the provider's staff and tasks (or, with
    `reader`, by the company's own people). Client admins only."""

    api_scope = "access_log"
    serializer_class = AccessLogOutputSerializer

    @extend_schema(
        operation_id="access_log_list",
        parameters=[
            _choice("reader", dict(READERS), "Whose reads: the provider's (default), your own people's, or all"),
            OpenApiParameter("person", OpenApiTypes.STR, description="A user's id, or `task` for automatic tasks"),
            OpenApiParameter("record_type", OpenApiTypes.STR, description="e.g. `crm.Contact`"),
            _choice("channel", AccessLogEntry.Channel.values, "The channel of the read"),
            _date("date_from", "First day (inclusive, in the company's time zone)"),
            _date("date_to", "Last day (inclusive, in the company's time zone)"),
            _choice("outcome", ["shown", "refused"], "Only reads that were shown, or only refused attempts"),
            _choice("ordering", ACCESS_LOG_ORDERINGS, "Sort order (default `-at`, newest first)"),
        ],
        responses={200: AccessLogOutputSerializer(many=True), 400: BAD_FILTER},
    )
    def get(self, request):
        self.require_client_admin(request)
        form = validated(AccessLogFilterForm, request)
        page = self.paginate_queryset(access_log_list(filters=form.filters()))
        return self.get_paginated_response(AccessLogOutputSerializer(page, many=True).data)

    def safely_get_queryset(self):
        return access_log_base()


# ---- data-subject requests ---------------------------------------------------------------------


class DsrInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DataSubjectRequest.Kind.choices)
    phone_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=30)
    email = serializers.CharField(required=False, allow_blank=True, default="", max_length=254)
    corrections = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000), required=False, default=dict
    )


class DsrOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataSubjectRequest
        fields = ["id", "kind", "status", "raised_at", "due_at", "completed_at", "result"]


class DsrDetailOutputSerializer(serializers.ModelSerializer):
    """One request, with the identifiers it was made for (the read is in the access log)."""

    has_export = serializers.SerializerMethodField()

    class Meta:
        model = DataSubjectRequest
        fields = [
            "id",
            "kind",
            "status",
            "raised_at",
            "due_at",
            "completed_at",
            "result",
            "phone_number",
            "email",
            "has_export",
        ]

    def get_has_export(self, dsr) -> bool:
        return bool(dsr.export_file)


class DsrListApi(TenantAPIView):
    """The company's data-subject requests and their due dates; client admins raise new ones."""

    api_scope = "data_requests"
    serializer_class = DsrOutputSerializer

    @extend_schema(
        operation_id="dsr_list",
        parameters=[
            _choice("kind", DataSubjectRequest.Kind.values, "Only requests of this kind"),
            _choice("status", DataSubjectRequest.Status.values, "Only requests in this state"),
            _choice("ordering", DSR_ORDERINGS, "Sort order (default `-raised_at`, newest first)"),
        ],
        responses={200: DsrOutputSerializer(many=True), 400: BAD_FILTER},
    )
    def get(self, request):
        data = validated(DsrFilterForm, request).cleaned_data
        requests = dsr_list(kind=data["kind"], status=data["status"], ordering=data["ordering"] or "-raised_at")
        page = self.paginate_queryset(requests)
        return self.get_paginated_response(DsrOutputSerializer(page, many=True).data)

    @extend_schema(operation_id="dsr_create", request=DsrInputSerializer, responses={201: DsrOutputSerializer})
    def post(self, request):
        self.require_client_admin(request)
        data = DsrInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dsr = dsr_raise(actor=request.user, **data.validated_data)
        return Response(DsrOutputSerializer(dsr).data, status=201)

    def safely_get_queryset(self):
        return DataSubjectRequest.objects.all()


class DsrDetailApi(TenantAPIView):
    """One data-subject request: its state, what was done, and whom it was for."""

    api_scope = "data_requests"
    serializer_class = DsrDetailOutputSerializer

    @extend_schema(operation_id="dsr_detail", responses=DsrDetailOutputSerializer)
    def get(self, request, pk: int):
        return Response(DsrDetailOutputSerializer(self.get_object()).data)

    def safely_get_queryset(self):
        return DataSubjectRequest.objects.all()


class DsrExportApi(TenantAPIView):
    """The ZIP of an access request, decrypted on the way out. Client admins only."""

    api_scope = "data_requests"
    serializer_class = DsrOutputSerializer

    @extend_schema(operation_id="dsr_export", responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        self.require_client_admin(request)
        dsr = self.get_object()
        try:
            content = dsr_export_read(request=dsr, user=request.user, channel="export", path=request.path)
        except ApplicationError:
            raise NotFound("this request has no export") from None
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="access-request-{dsr.pk}.zip"'
        response["Cache-Control"] = "private, no-store"
        return response

    def safely_get_queryset(self):
        return DataSubjectRequest.objects.all()


# ---- statistics --------------------------------------------------------------------------------


class LineDayStatsOutputSerializer(serializers.ModelSerializer):
    line_name = serializers.CharField(source="line.name")

    class Meta:
        model = LineDayStats
        fields = [
            "id",
            "day",
            "line",
            "line_name",
            "offered",
            "answered",
            "abandoned",
            "voicemails",
            "messages",
            "answer_p50_seconds",
            "answer_p90_seconds",
            "handle_avg_seconds",
            "within_target_share",
            "repeat_caller_share",
        ]


class LineDayStatsApi(TenantAPIView):
    """The nightly per-line, per-day rollups: counts, times and shares, no person in them.
    Without dates, the last 30 closed days."""

    api_scope = "analytics"
    serializer_class = LineDayStatsOutputSerializer

    @extend_schema(
        operation_id="analytics_line_days",
        parameters=[
            _date("date_from", "First day (inclusive); default 29 days before `date_to`"),
            _date("date_to", "Last day (inclusive); default yesterday in the company's time zone"),
            OpenApiParameter("line", OpenApiTypes.INT, description="Only this line's rows"),
            _choice("ordering", STATS_ORDERINGS, "Sort order (default `day`, oldest first)"),
        ],
        responses={200: LineDayStatsOutputSerializer(many=True), 400: BAD_FILTER},
    )
    def get(self, request):
        data = validated(AnalyticsFilterForm, request).cleaned_data
        stats = line_day_stats_list(
            date_from=data["date_from"],
            date_to=data["date_to"],
            line_id=data["line"].pk if data["line"] else None,
            ordering=data["ordering"] or "day",
        )
        page = self.paginate_queryset(stats)
        return self.get_paginated_response(LineDayStatsOutputSerializer(page, many=True).data)

    def safely_get_queryset(self):
        return LineDayStats.objects.all()
