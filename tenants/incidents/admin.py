from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html

from tenants.incidents.models import ChecklistItem, Incident, IncidentCompany
from tenants.incidents.services import incident_activate_checklist, incident_notify
from tenants.models import User

READERS = (User.ProviderRole.DPO, User.ProviderRole.PROVIDER_ADMIN, User.ProviderRole.SUPERVISOR)


def _countdown(deadline, done) -> str:
    if done:
        return format_html("done {}", done.strftime("%Y-%m-%d %H:%M"))
    left = deadline - timezone.now()
    hours = left.total_seconds() / 3600
    if hours < 0:
        return format_html('<strong style="color:#a4161a">overdue by {} h</strong>', f"{-hours:.0f}")
    return format_html("{} h left (by {})", f"{hours:.0f}", deadline.strftime("%Y-%m-%d %H:%M"))


class _ReadersInline(admin.TabularInline):
    extra = 0

    def has_view_permission(self, request, obj=None):
        return getattr(request.user, "provider_role", "") in READERS

    def has_change_permission(self, request, obj=None):
        return getattr(request.user, "provider_role", "") in (User.ProviderRole.DPO, User.ProviderRole.PROVIDER_ADMIN)

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AffectedInline(_ReadersInline):
    model = IncidentCompany
    fields = ["company", "notification_hours", "deadline", "countdown", "notified_at"]
    readonly_fields = fields

    @admin.display(description="client's deadline")
    def countdown(self, obj):
        return _countdown(obj.deadline, obj.notified_at)


class ChecklistInline(_ReadersInline):
    model = ChecklistItem
    fields = ["position", "text", "done_at", "done_by"]
    readonly_fields = ["position", "text", "done_by"]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "severity", "detected_at", "controller_clock", "contained_at", "reported_at"]
    readonly_fields = ["recorded_by", "controller_clock", "checklist_activated_at", "created_at"]
    inlines = [AffectedInline, ChecklistInline]
    actions = ["activate_checklist", "notify_affected"]

    @admin.display(description="controllers' 72 h (Art. 33)")
    def controller_clock(self, obj):
        return _countdown(obj.controller_deadline, obj.reported_at)

    @admin.action(description="Activate the response checklist")
    def activate_checklist(self, request, queryset):
        for incident in queryset:
            incident_activate_checklist(incident=incident, actor=request.user)
        self.message_user(request, "Response checklist activated.")

    @admin.action(description="Notify every affected client company now")
    def notify_affected(self, request, queryset):
        count = 0
        for affected in IncidentCompany.objects.filter(incident__in=queryset):
            incident_notify(affected=affected, actor=request.user)
            count += 1
        self.message_user(request, f"{count} notification(s) sent.")

    def has_module_permission(self, request):
        return getattr(request.user, "provider_role", "") in READERS

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return getattr(request.user, "provider_role", "") in (User.ProviderRole.DPO, User.ProviderRole.PROVIDER_ADMIN)

    def has_add_permission(self, request):
        return False  # recorded through services.incident_record, which computes the deadlines

    def has_delete_permission(self, request, obj=None):
        return False
