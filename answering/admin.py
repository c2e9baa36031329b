import datetime as dt

from django.contrib import admin
from django.utils import timezone

from answering.models import Call, Line
from scheduling.selectors import rota_gaps
from tenants.gates.admin import GatedInline, GatedModelAdmin, gated_column


class CallInline(GatedInline):
    model = Call
    fields = ["telephony_sid", "started_at", "status", "caller_number", "caller_name"]
    ordering = ["-started_at"]
    max_num = 0


@admin.register(Line)
class LineAdmin(GatedModelAdmin):
    list_display = ["name", "phone_number", "oncall_gaps", "created_at"]
    search_fields = ["name", "phone_number"]
    fields = ["name", "phone_number", "greeting"]
    inlines = [CallInline]

    @gated_column(description="on-call gaps, next 7 days")
    def oncall_gaps(self, line):
        now = timezone.now()
        gaps = rota_gaps(line=line, start=now, end=now + dt.timedelta(days=7))
        hours = sum((end - start).total_seconds() for start, end in gaps) / 3600
        return "none" if hours == 0 else f"⚠ {hours:.0f} h uncovered"


@admin.register(Call)
class CallAdmin(GatedModelAdmin):
    list_display = ["telephony_sid", "line", "started_at", "direction", "status", "caller_number", "caller_name"]
    list_filter = ["status", "direction", ("line", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["telephony_sid"]  # personal fields are encrypted: exact matches use blind indexes
    date_hierarchy = "started_at"
    list_select_related = ["line"]
    fields = ["telephony_sid", "line", "started_at", "direction", "status", "caller_number", "caller_name", "notes",
              "contact"]  # fmt: skip
    readonly_fields = ["telephony_sid", "line", "started_at", "direction", "contact"]
