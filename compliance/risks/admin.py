"""The risk register in the provider's admin: the DPO's (and provider admins'), nobody else's.
Agents and supervisors get 403 on every page and do not see the section."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html

from compliance.risks import services
from compliance.risks.models import Risk, RiskAssessment, SubProcessorDiligence
from tenants.categories import SPECIAL_CATEGORIES
from tenants.errors import ApplicationError
from tenants.models import User

EDITORS = services.EDITORS


def _editor(request) -> bool:
    return getattr(request.user, "provider_role", "") in EDITORS


def _overdue(day) -> str:
    if day < timezone.localdate():
        return format_html('<strong style="color:#a4161a">overdue since {}</strong>', day)
    return str(day)


class _EditorsOnly:
    def has_module_permission(self, request):
        return _editor(request)

    def has_view_permission(self, request, obj=None):
        return _editor(request)

    def has_add_permission(self, request, obj=None):
        return _editor(request)

    def has_change_permission(self, request, obj=None):
        return _editor(request)

    def has_delete_permission(self, request, obj=None):
        return False  # the register is a record; an assessment is reviewed or superseded, not deleted


class OverdueReviewFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"
    field = "review_due"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("current", "Not yet due")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(**{f"{self.field}__lt": today})
        if self.value() == "current":
            return queryset.filter(**{f"{self.field}__gte": today})
        return queryset


class NextReviewFilter(OverdueReviewFilter):
    field = "next_review_on"


class RiskInline(_EditorsOnly, admin.TabularInline):
    model = Risk
    extra = 1
    fields = ["description", "likelihood", "impact", "level", "mitigations"]
    readonly_fields = ["level"]

    @admin.display(description="level (likelihood x impact)")
    def level(self, obj):
        return f"{obj.level} ({obj.score})" if obj.pk else "—"


class RiskAssessmentForm(forms.ModelForm):
    special_categories = forms.MultipleChoiceField(
        choices=[(c, c) for c in sorted(SPECIAL_CATEGORIES)],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="DPIA only: the special categories (GDPR Art. 9) it assesses",
    )
    actor: User | None = None

    class Meta:
        model = RiskAssessment
        fields = [
            "company",
            "processing_activity",
            "kind",
            "owner",
            "review_due",
            "last_reviewed_on",
            "special_categories",
            "dpa_versions",
            "conclusion",
        ]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            services.assessment_validate(
                company=data["company"],
                kind=data["kind"],
                owner=data["owner"],
                special_categories=list(data.get("special_categories") or []),
                dpa_versions=list(data.get("dpa_versions") or []),
                actor=self.actor,
            )
        except ApplicationError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


@admin.register(RiskAssessment)
class RiskAssessmentAdmin(_EditorsOnly, admin.ModelAdmin):
    form = RiskAssessmentForm
    list_display = ["processing_activity", "company", "kind", "owner", "review", "risk_count", "highest"]
    list_filter = [OverdueReviewFilter, "kind", "company"]
    search_fields = ["processing_activity", "company__name"]
    list_select_related = ["company", "owner"]
    filter_horizontal = ["dpa_versions"]
    inlines = [RiskInline]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.actor = request.user
        form.base_fields["owner"].queryset = User.objects.exclude(provider_role="").order_by("username")
        return form

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("risks")

    @admin.display(description="review due", ordering="review_due")
    def review(self, obj):
        return _overdue(obj.review_due)

    @admin.display(description="risks")
    def risk_count(self, obj):
        return len(obj.risks.all())

    @admin.display(description="highest level")
    def highest(self, obj):
        risks = list(obj.risks.all())
        return max(risks, key=lambda r: r.score).level if risks else "—"


class DiligenceForm(forms.ModelForm):
    actor: User | None = None

    class Meta:
        model = SubProcessorDiligence
        fields = ["name", "certifications", "last_reviewed_on", "next_review_on", "findings"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["name"] = services.diligence_validate(
                name=data["name"],
                last_reviewed_on=data["last_reviewed_on"],
                next_review_on=data["next_review_on"],
                actor=self.actor,
                exclude_pk=self.instance.pk,
            )
        except ApplicationError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


@admin.register(SubProcessorDiligence)
class SubProcessorDiligenceAdmin(_EditorsOnly, admin.ModelAdmin):
    form = DiligenceForm
    list_display = ["name", "certifications", "last_reviewed_on", "next_review", "reviewed_by"]
    list_filter = [NextReviewFilter]
    search_fields = ["name"]
    list_select_related = ["reviewed_by"]
    readonly_fields = ["reviewed_by"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.actor = request.user
        return form

    def save_model(self, request, obj, form, change):
        obj.reviewed_by = request.user  # whoever records a review is its reviewer
        super().save_model(request, obj, form, change)

    @admin.display(description="next review", ordering="next_review_on")
    def next_review(self, obj):
        return _overdue(obj.next_review_on)
