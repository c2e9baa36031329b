"""The DPO's risk register (public schema): risk assessments and data-protection impact assessments
(DPIAs) per client company and processing activity, and due diligence on sub-processors.

Only the DPO and provider admins see or change any of it (compliance/risks/admin.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from tenants.models import ClientCompany


class RiskAssessment(models.Model):
    class Kind(models.TextChoices):
        RISK = "risk", "Risk assessment"
        DPIA = "dpia", "Data-protection impact assessment (Art. 35)"

    company = models.ForeignKey(
        ClientCompany,
        on_delete=models.PROTECT,
        related_name="risk_assessments",
        limit_choices_to={"kind": ClientCompany.Kind.CLIENT},
    )
    processing_activity = models.CharField(max_length=200, help_text="e.g. Answering calls and taking messages")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.RISK)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", limit_choices_to=~Q(provider_role="")
    )
    review_due = models.DateField(help_text="The next review; past it, the assessment is flagged overdue")
    last_reviewed_on = models.DateField(null=True, blank=True)
    special_categories = models.JSONField(
        default=list, blank=True, help_text="DPIA: the special categories (Art. 9) it assesses, e.g. user.health"
    )
    dpa_versions = models.ManyToManyField(
        "agreements.AgreementVersion",
        blank=True,
        related_name="impact_assessments",
        help_text="DPIA: the DPA versions it supports. A version granting a special category needs one to be approved.",
    )
    conclusion = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["company", "processing_activity"]
        indexes = [models.Index(fields=["review_due"], name="risk_assessment_review_due")]

    def __str__(self) -> str:
        return f"{self.company}: {self.processing_activity} ({self.get_kind_display()})"


class Risk(models.Model):
    """One risk to the data subjects, rated on the 4-level scales of the CNIL's PIA method."""

    class Likelihood(models.IntegerChoices):
        NEGLIGIBLE = 1, "1 negligible"
        LIMITED = 2, "2 limited"
        SIGNIFICANT = 3, "3 significant"
        MAXIMUM = 4, "4 maximum"

    class Impact(models.IntegerChoices):
        NEGLIGIBLE = 1, "1 negligible"
        LIMITED = 2, "2 limited"
        SIGNIFICANT = 3, "3 significant"
        MAXIMUM = 4, "4 maximum"

    assessment = models.ForeignKey(RiskAssessment, on_delete=models.CASCADE, related_name="risks")
    description = models.CharField(max_length=300)
    likelihood = models.PositiveSmallIntegerField(choices=Likelihood.choices)
    impact = models.PositiveSmallIntegerField(choices=Impact.choices)
    mitigations = models.TextField(help_text="The measures that reduce it")

    class Meta:
        ordering = ["assessment", "-likelihood", "-impact"]
        constraints = [
            models.CheckConstraint(condition=Q(likelihood__gte=1, likelihood__lte=4), name="risk_likelihood_scale"),
            models.CheckConstraint(condition=Q(impact__gte=1, impact__lte=4), name="risk_impact_scale"),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def level(self) -> str:
        return "high" if self.score >= 9 else "medium" if self.score >= 4 else "low"


class SubProcessorDiligence(models.Model):
    """Due diligence on a sub-processor, by its name as the DPAs list it (`agreements.SubProcessor`):
    one record per sub-processor, however many client companies' DPAs name it."""

    name = models.CharField(max_length=200, help_text="As the DPAs name it, e.g. Twilio Ireland Ltd")
    certifications = models.TextField(blank=True, help_text="e.g. ISO/IEC 27001:2022; SOC 2 Type II")
    last_reviewed_on = models.DateField()
    next_review_on = models.DateField()
    findings = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "sub-processor due diligence"
        verbose_name_plural = "sub-processor due diligence"
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="diligence_one_per_sub_processor",
                violation_error_message="This sub-processor already has a due-diligence record.",
            ),
            models.CheckConstraint(
                condition=Q(next_review_on__gt=models.F("last_reviewed_on")),
                name="diligence_next_after_last",
                violation_error_message="The next review must come after the last one.",
            ),
        ]

    def __str__(self) -> str:
        return f"Due diligence: {self.name}"
