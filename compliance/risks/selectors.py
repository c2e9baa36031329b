"""Reads on the risk register: overdue reviews, sub-processors' due diligence, and whether a DPA
version has the impact assessment its special categories need."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from compliance.agreements.models import AgreementVersion, SubProcessor
from compliance.risks.models import RiskAssessment, SubProcessorDiligence
from tenants.categories import covers, special_categories_reached
from tenants.models import ClientCompany

CURRENT = (AgreementVersion.Status.SUBMITTED, AgreementVersion.Status.UNDER_REVIEW, AgreementVersion.Status.ACTIVE)


def dpia_missing(*, version: AgreementVersion) -> list[str]:
    """The special categories `version` grants (directly or through a parent such as `user`) that no
    impact assessment linked to it covers. An assessment counts when it is a DPIA of the same
    company, names the category and has at least one risk assessed."""
    needed = set()
    for grant in version.grants.all():
        needed |= special_categories_reached(grant.category)
    if not needed:
        return []
    covered = set()
    dpias = version.impact_assessments.filter(
        kind=RiskAssessment.Kind.DPIA, company=version.agreement.company, risks__isnull=False
    ).distinct()
    for dpia in dpias:
        covered |= {s for s in needed if any(covers(c, s) for c in dpia.special_categories)}
    return sorted(needed - covered)


def assessments_review_overdue(*, today: dt.date | None = None) -> QuerySet[RiskAssessment]:
    today = today or timezone.localdate()
    return RiskAssessment.objects.filter(review_due__lt=today).select_related("company", "owner").order_by("review_due")


def diligence_overdue(*, today: dt.date | None = None) -> QuerySet[SubProcessorDiligence]:
    today = today or timezone.localdate()
    return SubProcessorDiligence.objects.filter(next_review_on__lt=today).order_by("next_review_on")


def sub_processors_without_diligence(*, companies: QuerySet[ClientCompany] | None = None) -> list[str]:
    """Names of sub-processors in current or proposed DPA versions with no due-diligence record;
    with `companies`, only those named in these companies' DPAs."""
    reviewed = {name.lower() for name in SubProcessorDiligence.objects.values_list("name", flat=True)}
    named = SubProcessor.objects.filter(version__status__in=CURRENT)
    if companies is not None:
        named = named.filter(version__agreement__company__in=companies)
    named = named.values_list("name", flat=True).distinct()
    return sorted({name for name in named if name.strip().lower() not in reviewed})


def diligence_for(*, name: str) -> SubProcessorDiligence | None:
    return SubProcessorDiligence.objects.filter(name__iexact=name.strip()).first()
