from django.contrib import admin

from crm.models import Contact
from gates.admin import GatedModelAdmin


@admin.register(Contact)
class ContactAdmin(GatedModelAdmin):
    list_display = ["__str__", "name", "phone_number", "email", "restricted", "created_at"]
    list_filter = ["restricted"]
    fields = ["name", "phone_number", "email", "address", "notes", "health_notes", "restricted"]
    readonly_fields = ["restricted"]
