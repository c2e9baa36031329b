from django.contrib import admin

from answering.models import Call, Line
from tenants.gates.admin import GatedInline, GatedModelAdmin


class CallInline(GatedInline):
    model = Call
    fields = ["telephony_sid", "started_at", "status", "caller_number", "caller_name"]
    ordering = ["-started_at"]
    max_num = 0


@admin.register(Line)
class LineAdmin(GatedModelAdmin):
    list_display = ["name", "phone_number", "created_at"]
    search_fields = ["name", "phone_number"]
    fields = ["name", "phone_number", "greeting"]
    inlines = [CallInline]


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
