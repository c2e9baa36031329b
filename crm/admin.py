from django import forms
from django.contrib import admin

from crm.models import Contact
from crm.selectors import contact_search_filter
from crm.services import EDITABLE, contact_editable_check, contact_fields_clean
from gates.admin import GatedModelAdmin
from tenants.errors import ApplicationError


class ContactAdminForm(forms.ModelForm):
    """An agent's edit in the admin meets the CRM's own rules (crm.services), as the portal's and
    the API's do: numbers in E.164, checked addresses, lengths, and no edit of an erased or merged
    contact. The admin saves it; the request's user is the change log's actor."""

    class Meta:
        model = Contact
        fields = ["name", "phone_number", "email", "address", "notes", "health_notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "name" in self.fields:
            self.fields["name"].required = False  # "a contact needs a name" is the service's to say

    def clean(self):
        cleaned = super().clean()
        try:
            if self.instance.pk:
                contact_editable_check(contact=self.instance)
            changed = {name: cleaned[name] for name in self.changed_data if name in EDITABLE and name in cleaned}
            cleaned.update(contact_fields_clean(**changed))
        except ApplicationError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return cleaned


@admin.register(Contact)
class ContactAdmin(GatedModelAdmin):
    form = ContactAdminForm
    list_display = ["__str__", "name", "phone_number", "email", "restricted", "created_at"]
    list_filter = ["restricted"]
    fields = ["name", "phone_number", "email", "address", "notes", "health_notes", "restricted"]
    readonly_fields = ["restricted"]
    # Encrypted: found by exact match through the blind indexes, on the fields the person may read
    # (the changelist's search box and every contact picker).
    search_fields = ["name", "phone_number", "email"]
    search_index = staticmethod(contact_search_filter)
    picker_fields = ("name",)
    # Agents add the callers they meet; the form applies the CRM's rules, as on every channel.
    add_roles = ("agent", "supervisor")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            self._warn_duplicates(request, obj)

    def _warn_duplicates(self, request, contact):
        """A new contact whose number another record already has: say so, and link the records, so
        that the agent merges rather than keeps two. Only records this person may see count (a
        restricted one is not hinted at), and only where they may read numbers at all."""
        from django.contrib import messages
        from django.urls import reverse
        from django.utils.html import format_html, format_html_join

        if not contact.phone_number or not self.gate_policy(request).can_read(Contact, "phone_number"):
            return
        same = list(
            self.get_queryset(request)
            .filter(contact_search_filter(query=contact.phone_number, fields=("phone_number",)))
            .exclude(pk=contact.pk)
            .order_by("pk")[:5]
        )
        if same:
            links = format_html_join(
                ", ", '<a href="{}">{}</a>', ((reverse("admin:crm_contact_change", args=[c.pk]), c) for c in same)
            )
            messages.warning(
                request,
                format_html(
                    "Another contact already has the number {}: {}. Merge them if they are the same caller.",
                    contact.phone_number,
                    links,
                ),
            )
