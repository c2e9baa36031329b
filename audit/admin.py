from django.contrib import admin
from django.utils.html import format_html

from audit.models import LineDayStats
from tenants.gates.admin import GatedModelAdmin, gated_column
from tenants.gates.engine import gate_objects

gate_objects(LineDayStats, through="line")


@admin.register(LineDayStats)
class LineDayStatsAdmin(GatedModelAdmin):
    """Per-line, per-day statistics over pseudonymised data, with bars drawn on the server."""

    list_display = ["day", "line", "offered", "answered", "answered_bar", "answer_p50_seconds", "answer_p90_seconds",
                    "within_target_share", "voicemails", "messages", "repeat_caller_share"]  # fmt: skip
    list_filter = [("line", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["line"]
    date_hierarchy = "day"
    change_roles = ()

    @gated_column(description="answered")
    def answered_bar(self, stats):
        share = (stats.answered / stats.offered) if stats.offered else 0
        return format_html(
            '<svg width="120" height="12" role="img" aria-label="{}% answered"><rect width="120" height="12" '
            'fill="#e3e6ee"/><rect width="{}" height="12" fill="#2a7d4f"/></svg> {}%',
            round(share * 100), round(share * 120), round(share * 100),
        )  # fmt: skip
