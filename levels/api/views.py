"""The service levels in the client company's API: the rollup rows (line and local hour) with the
figures made from each. Filters are the portal's (levels/forms.py); another company's line is 404."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers

from api.base import TenantAPIView
from audit.api.views import BAD_FILTER, validated
from levels.forms import LevelsFilterForm
from levels.models import LineHourLevels
from levels.selectors import COUNTS, FIGURES, Figures, levels_list


class LevelsOutputSerializer(serializers.ModelSerializer):
    line_name = serializers.CharField(source="line.name")
    asa_seconds = serializers.SerializerMethodField()
    service_level = serializers.SerializerMethodField()
    abandon_rate = serializers.SerializerMethodField()
    handle_seconds = serializers.SerializerMethodField()
    wrap_seconds_avg = serializers.SerializerMethodField()

    class Meta:
        model = LineHourLevels
        fields = [
            "line",
            "line_name",
            "day",
            "hour",
            "utc_offset_minutes",
            "hour_start",
            *COUNTS,
            "target_seconds",
            *FIGURES,
        ]

    def get_asa_seconds(self, row) -> float | None:
        return Figures.of(row).asa_seconds

    def get_service_level(self, row) -> float | None:
        return Figures.of(row).service_level

    def get_abandon_rate(self, row) -> float | None:
        return Figures.of(row).abandon_rate

    def get_handle_seconds(self, row) -> float | None:
        return Figures.of(row).handle_seconds

    def get_wrap_seconds_avg(self, row) -> float | None:
        return Figures.of(row).wrap_avg_seconds


class ServiceLevelApi(TenantAPIView):
    """Service levels per line and local hour of the company's zone: counts and seconds, no person
    in them. Without dates, the last 30 closed days. An hour that happens twice when the clocks go
    back is two rows, told apart by `utc_offset_minutes` and `hour_start`."""

    api_scope = "analytics"
    serializer_class = LevelsOutputSerializer

    @extend_schema(
        operation_id="service_levels",
        parameters=[
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="First local day (inclusive)"),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="Last local day (inclusive); default yesterday"),
            OpenApiParameter("line", OpenApiTypes.INT, description="Only this line's rows"),
        ],
        responses={
            200: LevelsOutputSerializer(many=True),
            400: BAD_FILTER,
            404: OpenApiResponse(description="No such line"),
        },
    )
    def get(self, request):
        data = validated(LevelsFilterForm, request).cleaned_data
        rows = levels_list(
            date_from=data["date_from"], date_to=data["date_to"], line_id=data["line"].pk if data["line"] else None
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(LevelsOutputSerializer(page, many=True).data)

    def safely_get_queryset(self):
        return LineHourLevels.objects.all()
