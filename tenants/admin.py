from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from tenants.models import Assignment, ClientCompany, Domain, Membership, User


@admin.register(ClientCompany)
class ClientCompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "schema_name", "kind", "status", "time_zone", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = ["schema_name", "kind", "status", "status_changed_at", "status_reason", "created_at"]
    fields = ["name", "time_zone", "schema_name", "kind", "status", "status_changed_at", "status_reason", "created_at"]

    def has_add_permission(self, request):
        return False  # onboarding goes through tenants.services.client_onboard

    def has_delete_permission(self, request, obj=None):
        return False  # offboarding goes through tenants.services.client_offboard


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]


@admin.register(User)
class VastajaUserAdmin(UserAdmin):
    list_display = ["username", "provider_role", "is_staff", "is_active"]
    fieldsets = (*UserAdmin.fieldsets, ("Vastaja", {"fields": ["provider_role"]}))


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "role"]
    list_filter = ["role", "company"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "company"]
    list_filter = ["company"]
