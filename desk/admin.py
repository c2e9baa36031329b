"""The desk's settings in the provider's admin: break reason codes, and the languages each agent
answers in. Supervisors and provider admins configure them; agents set their state on the console."""

from __future__ import annotations

from django.contrib import admin

from desk.models import BreakReason, Presence, PresenceChange

CONFIGURERS = ("supervisor", "provider_admin")


class _Configured:
    def has_module_permission(self, request):
        return getattr(request.user, "provider_role", "") in CONFIGURERS

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # a reason code in the history stays; retire it with "active"


@admin.register(BreakReason)
class BreakReasonAdmin(_Configured, admin.ModelAdmin):
    list_display = ["label", "code", "active"]
    fields = ["code", "label", "active"]


@admin.register(Presence)
class PresenceAdmin(_Configured, admin.ModelAdmin):
    list_display = ["user", "state", "reason", "since", "languages"]
    list_filter = ["state"]
    fields = ["user", "state", "reason", "since", "languages"]
    readonly_fields = ["user", "state", "reason", "since"]

    def has_add_permission(self, request):
        return False  # a row appears when the agent first opens the console


@admin.register(PresenceChange)
class PresenceChangeAdmin(_Configured, admin.ModelAdmin):
    list_display = ["user", "state", "reason", "cause", "at"]
    list_filter = ["state", "cause"]
    readonly_fields = ["user", "state", "reason", "cause", "at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
