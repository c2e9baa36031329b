from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from audit.dsr import dsr_open, dsr_process
from audit.models import DataSubjectRequest, LineDayStats
from gates.admin import GatedModelAdmin, gated_column
from gates.engine import Role, gate_objects
from tenants.errors import ApplicationError

gate_objects(LineDayStats, through="line")
# DataSubjectRequest declares no object rule: closed to agents; the DPO and supervisors see them.


@admin.register(LineDayStats)
class LineDayStatsAdmin(GatedModelAdmin):
    """Per-line, per-day statistics over pseudonymised data, with bars drawn on the server."""

    list_display = [
        "day",
        "line",
        "offered",
        "answered",
        "answered_bar",
        "answer_p50_seconds",
        "answer_p90_seconds",
        "within_target_share",
        "voicemails",
        "messages",
        "repeat_caller_share",
    ]
    list_filter = [("line", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["line"]
    date_hierarchy = "day"
    change_roles = ()

    @gated_column(description="answered")
    def answered_bar(self, stats):
        share = (stats.answered / stats.offered) if stats.offered else 0
        return format_html(
            '<svg width="120" height="12" role="img" aria-label="{}% answered"><rect width="120" height="12" '
            'fill="#e3e6ee"/><rect width="{}" height="12" fill="#2a7d4f"/></svg> {}%',
            round(share * 100),
            round(share * 120),
            round(share * 100),
        )


class RaiseRequestForm(forms.Form):
    kind = forms.ChoiceField(choices=[("access", "Access (Art. 15)"), ("erasure", "Erasure (Art. 17)")])
    phone_number = forms.CharField(required=False, max_length=30)
    email = forms.CharField(required=False, max_length=254)


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(GatedModelAdmin):
    """Requests and their deadlines. The DPO raises them here; identifiers stay masked."""

    list_display = ["__str__", "kind", "status", "raised_at", "due_at", "completed_at", "phone_number", "email"]
    list_filter = ["kind", "status"]
    fields = ["kind", "status", "raised_at", "due_at", "completed_at", "result", "phone_number", "email"]
    readonly_fields = fields
    change_roles = ()

    def get_urls(self):
        view = self.admin_site.admin_view(lambda request: self._in_company(request, self._raise))
        return [path("raise/", view, name="audit_datasubjectrequest_raise"), *super().get_urls()]

    def _raise(self, request):
        if self.gate_policy(request).role not in (Role.DPO, Role.SUPERVISOR):
            raise Http404
        form = RaiseRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    dsr = dsr_open(actor=request.user, **form.cleaned_data)
                    dsr = dsr_process(request=dsr, actor=request.user)
            except ApplicationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"{dsr}: {dsr.get_status_display()}.")
                return HttpResponseRedirect(reverse("admin:audit_datasubjectrequest_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Raise a data-subject request",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/audit/raise_request.html", context)
