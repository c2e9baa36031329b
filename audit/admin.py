from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from audit.dsr import dsr_forward, dsr_found_summary, dsr_raise
from audit.models import DataSubjectRequest, LineDayStats
from gates.admin import GatedModelAdmin, gated_column
from gates.admin_views import GatedAdminView
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


class StateFilter(admin.SimpleListFilter):
    """Open or closed: the deadline's side of a request, which says nothing of what it found."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("closed", "Closed")]

    def queryset(self, request, queryset):
        if self.value() in ("open", "closed"):
            return queryset.filter(completed_at__isnull=self.value() == "open")
        return queryset


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(GatedModelAdmin):
    """Requests and their deadlines. The DPO and supervisors raise them here.

    What a request found (its status and result) is derived from the person's identifiers, and is
    gated like them (audit.models): staff who may not read both identifiers see only whether a
    request is open or closed, and the requests they raise go to the controller (audit.dsr.dsr_forward).
    """

    list_display = [
        "__str__",
        "kind",
        "state",
        "status",
        "raised_at",
        "due_at",
        "completed_at",
        "phone_number",
        "email",
    ]
    list_filter = ["kind", StateFilter, "status"]
    fields = ["kind", "state", "status", "raised_at", "due_at", "completed_at", "result", "phone_number", "email"]
    readonly_fields = fields
    change_roles = ()

    @gated_column(description="state")
    def state(self, dsr):
        return "Open" if dsr.completed_at is None else "Closed"

    def get_urls(self):
        view = self.admin_site.admin_view(RaiseRequestView.as_view(self))
        return [path("raise/", view, name="audit_datasubjectrequest_raise"), *super().get_urls()]


class RaiseRequestView(GatedAdminView):
    """The DPO and supervisors raise a request inside the company chosen with the switcher; to
    anyone else, and outside a company the person may enter, the page does not exist (404).

    Whoever may not read the identifiers may not learn whether they are on record: the request
    goes, unmatched, to the controller's admins, the same answer either way (audit.dsr.dsr_forward)."""

    roles = (Role.DPO, Role.SUPERVISOR)

    def get(self, request):
        return self._page(RaiseRequestForm())

    def post(self, request):
        form = RaiseRequestForm(request.POST)
        if not form.is_valid():
            return self._page(form)
        sees_match = self._sees_match()
        try:
            if sees_match:
                dsr = dsr_raise(actor=request.user, **form.cleaned_data)
            else:
                dsr = dsr_forward(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self._page(form)
        if sees_match:
            messages.success(request, f"{dsr}: {dsr.get_status_display()}. Found: {dsr_found_summary(dsr)}.")
        else:
            messages.success(
                request,
                f"{dsr.get_kind_display()} request recorded and handed to {self.company.name}'s admins: they "
                "carry it out in their portal, where they alone see what it finds. It is due within a month.",
            )
        return HttpResponseRedirect(reverse("admin:audit_datasubjectrequest_changelist"))

    def _sees_match(self) -> bool:
        return not self.policy.masked(DataSubjectRequest)

    def _page(self, form: RaiseRequestForm):
        context = {"title": "Raise a data-subject request", "form": form, "sees_match": self._sees_match()}
        return self.render("admin/audit/raise_request.html", context)
