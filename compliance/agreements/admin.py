"""The DPO's workspace: agreements, their versions, and the decisions on them.

Decisions (review, approve, activate, reject, terminate) go through the services, so each one is
checked and lands in the change log with its actor. Content is edited only on drafts.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from compliance.agreements import services
from compliance.agreements.models import (
    Agreement,
    AgreementVersion,
    CategoryGrant,
    ClientComment,
    CourseRequirement,
    RetentionRule,
    SubProcessor,
    SubProcessorObjection,
)
from compliance.agreements.selectors import (
    dpa_diff,
    dpa_dpia_missing,
    dpa_expiring,
    dpa_in_force,
    dpa_review_queue,
)
from compliance.agreements.subprocessors import USAGE_DAYS, integrations_in_use, version_drops_in_use
from tenants.errors import ApplicationError
from tenants.models import User

READERS = (User.ProviderRole.DPO, User.ProviderRole.PROVIDER_ADMIN)


def _role(request) -> str:
    return getattr(request.user, "provider_role", "")


class _DraftOnlyInline(admin.TabularInline):
    extra = 0

    def has_view_permission(self, request, obj=None):
        return _role(request) in READERS

    def _editable(self, request, obj) -> bool:
        return _role(request) == User.ProviderRole.PROVIDER_ADMIN and obj is not None and obj.status == "draft"

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj)


class CategoryGrantInline(_DraftOnlyInline):
    model = CategoryGrant


class RetentionRuleInline(_DraftOnlyInline):
    model = RetentionRule


class SubProcessorInline(_DraftOnlyInline):
    model = SubProcessor


class CourseRequirementInline(_DraftOnlyInline):
    model = CourseRequirement
    verbose_name = "course required of agents and supervisors"


class _ClientRecordInline(admin.TabularInline):
    """What the client company said (rejections, objections): records, read by the DPO, never edited."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return _role(request) in READERS

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return False


class ClientCommentInline(_ClientRecordInline):
    model = ClientComment
    fields = readonly_fields = ["kind", "comment", "author", "created_at"]
    verbose_name_plural = "The client's rejections"


class ReviewQueueFilter(admin.SimpleListFilter):
    title = "DPO workspace"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("review", "Waiting for the DPO"), ("expiring", "Expiring within 30 days")]

    def queryset(self, request, queryset):
        if self.value() == "review":
            return queryset.filter(pk__in=dpa_review_queue().values("pk"))
        if self.value() == "expiring":
            return queryset.filter(pk__in=dpa_expiring().values("pk"))
        return queryset


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("review", "Take into review"),
            ("approve", "Approve"),
            ("activate", "Activate (needs approval and the client's signature)"),
            ("reject", "Reject, back to draft"),
            ("terminate", "Terminate the active version"),
        ]
    )
    reason = forms.CharField(widget=forms.Textarea, required=False, help_text="Required to reject or terminate.")


@admin.register(AgreementVersion)
class AgreementVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "stage", "start_date", "end_date", "submitted_at", "approved_by", "activated_at"]
    list_filter = [ReviewQueueFilter, "status"]
    search_fields = ["agreement__company__name"]
    list_select_related = ["agreement__company", "approved_by"]
    inlines = [
        CategoryGrantInline,
        RetentionRuleInline,
        SubProcessorInline,
        CourseRequirementInline,
        ClientCommentInline,
    ]
    WORKFLOW = [
        "status",
        "client_signed_by",
        "client_signed_at",
        "submitted_at",
        "review_started_at",
        "approved_by",
        "approved_at",
        "rejection_reason",
        "activated_at",
        "ended_at",
        "end_reason",
    ]

    def has_module_permission(self, request):
        return _role(request) in READERS

    def has_view_permission(self, request, obj=None):
        return _role(request) in READERS

    def has_change_permission(self, request, obj=None):
        return _role(request) == User.ProviderRole.PROVIDER_ADMIN and (obj is None or obj.status == "draft")

    def has_add_permission(self, request):
        return False  # drafts start with services.dpa_draft_create (numbering, copying)

    def has_delete_permission(self, request, obj=None):
        return False  # agreements are records; they end, they are not deleted

    def get_readonly_fields(self, request, obj=None):
        readonly = ["agreement", "number", *self.WORKFLOW, "diff_against_active", "missing_items"]
        if not self.has_change_permission(request, obj):
            readonly += [f.name for f in self.model._meta.concrete_fields]
        return list(dict.fromkeys(readonly))

    @admin.display(description="status", ordering="status")
    def stage(self, obj):
        return obj.stage_display()

    @admin.display(description="Changes against the version in force")
    def diff_against_active(self, obj):
        active = dpa_in_force(company=obj.agreement.company)
        if active is not None and active.pk == obj.pk:
            return "This is the version in force."
        rows = dpa_diff(version=obj, against=active)
        if not rows:
            return "No differences."
        body = format_html_join(
            "",
            "<tr><th>{}</th><td><pre>{}</pre></td><td><pre>{}</pre></td></tr>",
            ((k, old, new) for k, old, new in rows),
        )
        return format_html("<table><tr><th></th><th>In force</th><th>This version</th></tr>{}</table>", body)

    @admin.display(description="Missing Art. 28(3) items")
    def missing_items(self, obj):
        return "; ".join(services.dpa_missing_items(version=obj)) or "None: complete."

    def get_urls(self):
        return [
            path("<int:pk>/decide/", self.admin_site.admin_view(self.decide_view), name="agreements_decide"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "show_decide": _role(request) == User.ProviderRole.DPO}
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request, pk: int):
        """The DPO's decision on one version, through the lifecycle services."""
        if _role(request) != User.ProviderRole.DPO:
            raise Http404
        version = AgreementVersion.objects.select_related("agreement__company").filter(pk=pk).first()
        if version is None:
            raise Http404
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
            actions = {
                "review": lambda: services.dpa_review_start(version=version, actor=request.user),
                "approve": lambda: services.dpa_approve(version=version, actor=request.user),
                "activate": lambda: services.dpa_activate(version=version, actor=request.user),
                "reject": lambda: services.dpa_reject(version=version, actor=request.user, reason=reason),
                "terminate": lambda: services.dpa_terminate(version=version, actor=request.user, reason=reason),
            }
            drops = version_drops_in_use(version=version) if decision in ("approve", "activate") else []
            try:
                actions[decision]()
            except ApplicationError as exc:
                form.add_error("reason" if exc.field in ("rejection_reason", "end_reason") else None, exc.message)
            else:
                done = dict(form.fields["decision"].choices)[decision]
                messages.success(request, f"{version}: {done} — done. Now: {version.stage_display()}.")
                for warning in drops:
                    # Approved all the same (the client may want exactly this), but said out loud.
                    messages.warning(request, f"Warning: {warning}")
                return HttpResponseRedirect(reverse("admin:agreements_agreementversion_change", args=[version.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Decide on {version}",
            "version": version,
            "form": form,
            "diff": dpa_diff(version=version, against=dpa_in_force(company=version.agreement.company)),
            "missing": services.dpa_missing_items(version=version),
            "needs_dpia": dpa_dpia_missing(version=version),
            "in_use": integrations_in_use(company=version.agreement.company, version=version),
            "drops": version_drops_in_use(version=version),
            "usage_days": USAGE_DAYS,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/agreements/decide.html", context)


class _ReadOnlyForReaders(admin.ModelAdmin):
    """Records the DPO and provider admins read and nobody edits here."""

    def has_module_permission(self, request):
        return _role(request) in READERS

    def has_view_permission(self, request, obj=None):
        return _role(request) in READERS

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        widget=forms.Textarea,
        help_text="How it was settled: the client withdrew it after your answer, or a version without the "
        "sub-processor replaces this one. Until then nothing of the company's goes to the sub-processor.",
    )


@admin.register(SubProcessorObjection)
class SubProcessorObjectionAdmin(_ReadOnlyForReaders):
    """Client companies' objections to sub-processors, for the DPO to answer. While one is open,
    the gate before every send refuses the sub-processor for that company (gates/outbound.py)."""

    list_display = ["sub_processor", "company", "raised_by", "raised_at", "state"]
    list_select_related = ["sub_processor__version__agreement__company", "raised_by"]
    fields = readonly_fields = [
        "sub_processor",
        "company",
        "reason",
        "raised_by",
        "raised_at",
        "resolution",
        "resolved_by",
        "resolved_at",
    ]

    @admin.display(description="Client company")
    def company(self, obj):
        return obj.sub_processor.version.agreement.company

    @admin.display(description="state")
    def state(self, obj):
        if obj.resolved_at is not None:
            return "resolved"
        # The view itself lets only the DPO record a resolution.
        url = reverse("admin:agreements_objection_resolve", args=[obj.pk])
        return format_html('open: sends refused (<a href="{}">resolve</a>)', url)

    def get_urls(self):
        return [
            path(
                "<int:pk>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="agreements_objection_resolve",
            ),
            *super().get_urls(),
        ]

    def resolve_view(self, request, pk: int):
        """The DPO records how an objection was settled, through the service."""
        if _role(request) != User.ProviderRole.DPO:
            raise Http404
        objection = (
            SubProcessorObjection.objects.select_related("sub_processor__version__agreement__company")
            .filter(pk=pk)
            .first()
        )
        if objection is None:
            raise Http404
        form = ResolveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.sub_processor_objection_resolve(
                    objection=objection, actor=request.user, resolution=form.cleaned_data["resolution"]
                )
            except ApplicationError as exc:
                form.add_error("resolution" if exc.field == "resolution" else None, exc.message)
            else:
                messages.success(
                    request,
                    f"The objection to {objection.sub_processor.name} is resolved: sends to it go again "
                    "as far as the DPA in force allows.",
                )
                return HttpResponseRedirect(
                    reverse("admin:agreements_subprocessorobjection_change", args=[objection.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Resolve the objection to {objection.sub_processor.name} "
            f"({objection.sub_processor.version.agreement.company})",
            "objection": objection,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/agreements/resolve_objection.html", context)


@admin.register(Agreement)
class AgreementAdmin(_ReadOnlyForReaders):
    list_display = ["company", "created_at"]
