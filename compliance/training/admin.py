"""Staff confidentiality and training in the provider's admin.

The DPO and provider admins record commitments and completions (through the services); supervisors
see them, and the page of who is due. Agents see none of it: the gates tell them, on the company's
pages, what stands between them and its data (`staff/site.py`).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html

from compliance.training import services
from compliance.training.models import ConfidentialityCommitment, Course, TrainingRecord
from compliance.training.selectors import staff_due_within, staff_training_overdue, staff_without_commitment
from gates.engine import companies_entered
from tenants.errors import ApplicationError
from tenants.models import User

READERS = (User.ProviderRole.DPO, User.ProviderRole.PROVIDER_ADMIN, User.ProviderRole.SUPERVISOR)
RECORDERS = services.RECORDERS
DUE_DAYS = 30


def _role(request) -> str:
    return getattr(request.user, "provider_role", "")


class _Permissions:
    """Readers view; recorders add; nobody edits or deletes a record (a correction is a new record)."""

    def has_module_permission(self, request):
        return _role(request) in READERS

    def has_view_permission(self, request, obj=None):
        return _role(request) in READERS

    def has_add_permission(self, request):
        return _role(request) in RECORDERS

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _ServiceForm(forms.ModelForm):
    """A ModelForm whose rules are the service's: `validate` raises ApplicationError, shown inline."""

    actor: User | None = None

    def validate(self, data: dict) -> dict:
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                data.update(self.validate(data))
            except ApplicationError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


def _staff_choices():
    return User.objects.exclude(provider_role="").filter(is_active=True).order_by("username")


class CommitmentForm(_ServiceForm):
    class Meta:
        model = ConfidentialityCommitment
        fields = ["user", "document_version", "signed_on"]

    def validate(self, data):
        version = services.commitment_validate(
            user=data["user"], document_version=data["document_version"], signed_on=data["signed_on"], actor=self.actor
        )
        return {"document_version": version}


class TrainingRecordForm(_ServiceForm):
    expires_on = forms.DateField(required=False, help_text="Leave empty: completion + the course's validity")

    class Meta:
        model = TrainingRecord
        fields = ["user", "course", "completed_on", "expires_on"]

    def validate(self, data):
        expires = services.training_record_validate(
            user=data["user"],
            course=data["course"],
            completed_on=data["completed_on"],
            actor=self.actor,
            expires_on=data.get("expires_on"),
        )
        return {"expires_on": expires}


class _ServiceAdmin(_Permissions, admin.ModelAdmin):
    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.actor = request.user
        if "user" in form.base_fields:
            form.base_fields["user"].queryset = _staff_choices()
        return form


@admin.register(Course)
class CourseAdmin(_Permissions, admin.ModelAdmin):
    list_display = ["code", "title", "validity_months", "required_for_all_staff"]
    list_filter = ["required_for_all_staff"]

    def has_change_permission(self, request, obj=None):
        return _role(request) in RECORDERS


@admin.register(ConfidentialityCommitment)
class ConfidentialityCommitmentAdmin(_ServiceAdmin):
    form = CommitmentForm
    list_display = ["user", "document_version", "signed_on", "recorded_by"]
    list_filter = ["document_version"]
    search_fields = ["user__username"]
    list_select_related = ["user", "recorded_by"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.commitment_record(
            user=data["user"],
            document_version=data["document_version"],
            signed_on=data["signed_on"],
            actor=request.user,
        )
        obj.pk, obj.recorded_by = saved.pk, saved.recorded_by


class RenewalFilter(admin.SimpleListFilter):
    """The completion that counts (the one that expires last for its person and course), by when
    it must be renewed."""

    title = "renewal"
    parameter_name = "renewal"

    def lookups(self, request, model_admin):
        return [("due", f"Due within {DUE_DAYS} days"), ("expired", "Expired"), ("current", "Counts now")]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        today = timezone.localdate()
        later = TrainingRecord.objects.filter(user=OuterRef("user"), course=OuterRef("course")).filter(
            Q(expires_on__gt=OuterRef("expires_on")) | Q(expires_on=OuterRef("expires_on"), pk__gt=OuterRef("pk"))
        )
        latest = queryset.exclude(Exists(later))
        if self.value() == "due":
            return latest.filter(expires_on__gte=today, expires_on__lte=today + dt.timedelta(days=DUE_DAYS))
        if self.value() == "expired":
            return latest.filter(expires_on__lt=today)
        return latest


@admin.register(TrainingRecord)
class TrainingRecordAdmin(_ServiceAdmin):
    form = TrainingRecordForm
    list_display = ["user", "course", "completed_on", "expires_on", "standing", "recorded_by"]
    list_filter = [RenewalFilter, "course"]
    search_fields = ["user__username", "course__code"]
    list_select_related = ["user", "course", "recorded_by"]
    date_hierarchy = "expires_on"
    change_list_template = "admin/training/trainingrecord/change_list.html"

    @admin.display(description="standing")
    def standing(self, obj):
        today = timezone.localdate()
        if obj.expires_on < today:
            return format_html('<strong style="color:#a4161a">expired {}</strong>', obj.expires_on)
        left = (obj.expires_on - today).days
        if left <= DUE_DAYS:
            return format_html('<strong style="color:#b36b00">due in {} days</strong>', left)
        return "valid"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.training_record_add(
            user=data["user"],
            course=data["course"],
            completed_on=data["completed_on"],
            expires_on=data["expires_on"],
            actor=request.user,
        )
        obj.pk, obj.recorded_by = saved.pk, saved.recorded_by

    def get_urls(self):
        return [path("due/", self.admin_site.admin_view(self.due_view), name="training_due"), *super().get_urls()]

    def due_view(self, request):
        """Who must renew what within 30 days, whose required training has lapsed or was never
        done, and who has not signed the commitment: for supervisors and the DPO."""
        if _role(request) not in READERS:
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            "title": "Staff training due",
            "opts": self.model._meta,
            "days": DUE_DAYS,
            # What a company's DPA requires is that company's: only the person's companies count.
            "due": staff_due_within(DUE_DAYS, companies=companies_entered(user=request.user)),
            "overdue": staff_training_overdue(companies=companies_entered(user=request.user)),
            "unsigned": staff_without_commitment(),
        }
        return TemplateResponse(request, "admin/training/due.html", context)
