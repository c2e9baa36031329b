from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from compliance.agreements.models import CATEGORY_CHOICES
from compliance.incidents.models import ChecklistItem, Incident, IncidentCompany
from compliance.incidents.services import incident_activate_checklist, incident_notify, incident_record
from gates.engine import companies_entered
from tenants.errors import ApplicationError
from tenants.models import ClientCompany, User

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

    def get_queryset(self, request):
        # Only the companies gate 1 admits the person to: not even another company's name.
        return super().get_queryset(request).filter(company__in=companies_entered(user=request.user))

    @admin.display(description="client's deadline")
    def countdown(self, obj):
        return _countdown(obj.deadline, obj.notified_at)


class ChecklistInline(_ReadersInline):
    model = ChecklistItem
    fields = ["position", "text", "done_at", "done_by"]
    readonly_fields = ["position", "text", "done_by"]


class RecordIncidentForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea, help_text="What happened; no personal data of the subjects")
    severity = forms.ChoiceField(choices=Incident.Severity.choices, initial=Incident.Severity.MEDIUM)
    detected_at = forms.DateTimeField(help_text="e.g. 2026-11-28 14:30 (the server's time zone, UTC)")
    companies = forms.ModelMultipleChoiceField(
        queryset=ClientCompany.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    categories = forms.MultipleChoiceField(choices=CATEGORY_CHOICES, widget=forms.CheckboxSelectMultiple)
    estimated_subjects = forms.IntegerField(min_value=0, initial=0)

    def __init__(self, *args, companies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["companies"].queryset = companies


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "severity", "detected_at", "controller_clock", "contained_at", "reported_at"]
    readonly_fields = ["recorded_by", "controller_clock", "checklist_activated_at", "created_at"]
    inlines = [AffectedInline, ChecklistInline]
    actions = ["activate_checklist", "notify_affected"]

    def get_urls(self):
        return [
            path("record/", self.admin_site.admin_view(self.record_view), name="incidents_incident_record"),
            *super().get_urls(),
        ]

    def record_view(self, request):
        """Record an incident: the deadlines are computed from each affected company's DPA."""
        if not self.has_change_permission(request):
            raise Http404
        form = RecordIncidentForm(request.POST or None, companies=companies_entered(user=request.user))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                incident = incident_record(
                    title=data["title"],
                    description=data["description"],
                    severity=data["severity"],
                    detected_at=data["detected_at"],
                    companies=list(data["companies"]),
                    categories=list(data["categories"]),
                    estimated_subjects=data["estimated_subjects"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"{incident} recorded; the deadlines are counting.")
                return HttpResponseRedirect(reverse("admin:incidents_incident_change", args=[incident.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Record an incident",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/incidents/record.html", context)

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
        mine = companies_entered(user=request.user)
        for affected in IncidentCompany.objects.filter(incident__in=queryset, company__in=mine):
            incident_notify(affected=affected, actor=request.user)
            count += 1
        self.message_user(request, f"{count} notification(s) sent.")

    def get_queryset(self, request):
        # An incident is listed (and opens) only for someone gate 1 admits to a company it affected.
        mine = companies_entered(user=request.user)
        affecting_mine = IncidentCompany.objects.filter(company__in=mine).values("incident")
        return super().get_queryset(request).filter(pk__in=affecting_mine)

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
