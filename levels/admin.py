from django.contrib import admin
from django.utils.html import format_html

from gates.admin import GatedModelAdmin, gated_column
from gates.engine import gate_objects
from levels.models import LineHourLevels
from levels.selectors import Figures

# An agent sees the levels of the lines they hold a grant on, in the company they work for; the
# admin's company is the one selected, so no other company's rows are in reach at all.
gate_objects(LineHourLevels, through="line")


def _seconds(value):
    return "—" if value is None else f"{value:.0f} s"


@admin.register(LineHourLevels)
class LineHourLevelsAdmin(GatedModelAdmin):
    """Service levels per line and local hour (levels/selectors.py has the definitions), with the
    service level drawn on the server."""

    list_display = [
        "day",
        "local_hour",
        "line",
        "offered",
        "answered",
        "asa",
        "service_level_bar",
        "abandoned_short",
        "abandoned_long",
        "handle_time",
        "wrap_up",
        "transfers",
        "overflowed",
    ]
    list_filter = [("line", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["line"]
    date_hierarchy = "day"
    ordering = ["-hour_start", "line"]
    change_roles = ()

    @gated_column("hour", "utc_offset_minutes", description="local hour")
    def local_hour(self, row):
        sign = "+" if row.utc_offset_minutes >= 0 else "-"
        offset = abs(row.utc_offset_minutes)
        return f"{row.hour:02d}:00 (UTC{sign}{offset // 60:02d}:{offset % 60:02d})"

    @gated_column("wait_seconds", "answered", description="ASA")
    def asa(self, row):
        return _seconds(Figures.of(row).asa_seconds)

    @gated_column("answered_in_target", "offered", "abandoned_short", description="service level")
    def service_level_bar(self, row):
        share = Figures.of(row).service_level
        if share is None:
            return "—"
        return format_html(
            '<svg width="100" height="12" role="img" aria-label="{}% within target"><rect width="100" height="12" '
            'fill="#e3e6ee"/><rect width="{}" height="12" fill="#2a7d4f"/></svg> {}%',
            round(share * 100),
            round(share * 100),
            round(share * 100),
        )

    @gated_column("talk_seconds", "wrap_seconds", "handled", description="average handle time")
    def handle_time(self, row):
        return _seconds(Figures.of(row).handle_seconds)

    @gated_column("wrap_seconds", "handled", description="average wrap-up")
    def wrap_up(self, row):
        return _seconds(Figures.of(row).wrap_avg_seconds)
