"""Writes on the risk register. Only the DPO and provider admins make them."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from compliance.agreements.models import AgreementVersion
from compliance.risks.models import Risk, RiskAssessment, SubProcessorDiligence
from tenants.categories import SPECIAL_CATEGORIES
from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.models import ClientCompany, User

EDITORS = (User.ProviderRole.DPO, User.ProviderRole.PROVIDER_ADMIN)


def assessment_validate(
    *,
    company: ClientCompany,
    kind: str,
    owner: User,
    special_categories: list[str],
    dpa_versions: list[AgreementVersion],
    actor: User,
) -> None:
    """The rules an assessment must keep, for the service and the admin's form alike."""
    require_editor(actor)
    if not company.is_client:
        raise ApplicationError("risk assessments are made for client companies", field="company")
    if not owner.is_provider_staff:
        raise ApplicationError(f"{owner} is not a member of the provider's staff", field="owner")
    if kind not in RiskAssessment.Kind.values:
        raise ApplicationError(f"'{kind}' is not a kind of assessment", field="kind")
    unknown = [c for c in special_categories if c not in SPECIAL_CATEGORIES]
    if unknown:
        raise ApplicationError(
            f"not a special category: {', '.join(unknown)} (known: {', '.join(sorted(SPECIAL_CATEGORIES))})",
            field="special_categories",
        )
    if kind != RiskAssessment.Kind.DPIA and (special_categories or dpa_versions):
        raise ApplicationError(
            "only an impact assessment (DPIA) covers special categories or supports DPA versions", field="kind"
        )
    foreign = [str(v) for v in dpa_versions if v.agreement.company_id != company.pk]
    if foreign:
        raise ApplicationError(
            f"these versions belong to another company's DPA: {'; '.join(foreign)}", field="dpa_versions"
        )


def assessment_record(
    *,
    company: ClientCompany,
    processing_activity: str,
    owner: User,
    review_due: dt.date,
    actor: User,
    kind: str = RiskAssessment.Kind.RISK,
    special_categories: list[str] | None = None,
    dpa_versions: list[AgreementVersion] | None = None,
    conclusion: str = "",
) -> RiskAssessment:
    """Record a risk assessment (or a DPIA) of one processing activity of a client company."""
    special_categories, dpa_versions = list(special_categories or []), list(dpa_versions or [])
    assessment_validate(
        company=company,
        kind=kind,
        owner=owner,
        special_categories=special_categories,
        dpa_versions=dpa_versions,
        actor=actor,
    )
    if not processing_activity.strip():
        raise ApplicationError("name the processing activity assessed", field="processing_activity")
    with transaction.atomic(), change_log_actor(actor):
        assessment = RiskAssessment.objects.create(
            company=company,
            processing_activity=processing_activity.strip(),
            kind=kind,
            owner=owner,
            review_due=review_due,
            special_categories=special_categories,
            conclusion=conclusion,
        )
        assessment.dpa_versions.set(dpa_versions)
    return assessment


def risk_add(
    *, assessment: RiskAssessment, description: str, likelihood: int, impact: int, mitigations: str, actor: User
) -> Risk:
    require_editor(actor)
    if likelihood not in Risk.Likelihood.values:
        raise ApplicationError("likelihood is rated 1 (negligible) to 4 (maximum)", field="likelihood")
    if impact not in Risk.Impact.values:
        raise ApplicationError("impact is rated 1 (negligible) to 4 (maximum)", field="impact")
    if not description.strip():
        raise ApplicationError("describe the risk", field="description")
    with transaction.atomic(), change_log_actor(actor):
        return Risk.objects.create(
            assessment=assessment,
            description=description.strip(),
            likelihood=likelihood,
            impact=impact,
            mitigations=mitigations,
        )


def dpia_link(*, assessment: RiskAssessment, version: AgreementVersion, actor: User) -> RiskAssessment:
    """Link a DPIA to a DPA version it supports: the DPO confirms it still holds for that version."""
    assessment_validate(
        company=assessment.company,
        kind=assessment.kind,
        owner=assessment.owner,
        special_categories=assessment.special_categories,
        dpa_versions=[version],
        actor=actor,
    )
    with transaction.atomic(), change_log_actor(actor):
        assessment.dpa_versions.add(version)
    return assessment


def assessment_reviewed(*, assessment: RiskAssessment, next_review: dt.date, actor: User) -> RiskAssessment:
    """The owner reviewed the assessment today; the next review is due on `next_review`."""
    require_editor(actor)
    today = timezone.localdate()
    if next_review <= today:
        raise ApplicationError("the next review must be in the future", field="review_due")
    with transaction.atomic(), change_log_actor(actor):
        assessment.last_reviewed_on, assessment.review_due = today, next_review
        assessment.save(update_fields=["last_reviewed_on", "review_due"])
    return assessment


def diligence_validate(
    *, name: str, last_reviewed_on: dt.date, next_review_on: dt.date, actor: User, exclude_pk: int | None = None
) -> str:
    require_editor(actor)
    name = (name or "").strip()
    if not name:
        raise ApplicationError("name the sub-processor as the DPAs name it", field="name")
    if last_reviewed_on > timezone.localdate():
        raise ApplicationError("a review cannot have happened in the future", field="last_reviewed_on")
    if next_review_on <= last_reviewed_on:
        raise ApplicationError("the next review must come after the last one", field="next_review_on")
    if SubProcessorDiligence.objects.filter(name__iexact=name).exclude(pk=exclude_pk).exists():
        raise ApplicationError(f"{name} already has a due-diligence record; update that one", field="name")
    return name


def diligence_record(
    *,
    name: str,
    certifications: str,
    last_reviewed_on: dt.date,
    next_review_on: dt.date,
    actor: User,
    findings: str = "",
) -> SubProcessorDiligence:
    """Record due diligence on a sub-processor (certifications, when reviewed, when next)."""
    name = diligence_validate(name=name, last_reviewed_on=last_reviewed_on, next_review_on=next_review_on, actor=actor)
    with transaction.atomic(), change_log_actor(actor):
        return SubProcessorDiligence.objects.create(
            name=name,
            certifications=certifications,
            last_reviewed_on=last_reviewed_on,
            next_review_on=next_review_on,
            findings=findings,
            reviewed_by=actor,
        )


def require_editor(actor: User) -> None:
    if actor.provider_role not in EDITORS:
        raise ApplicationError("only the DPO or a provider admin keeps the risk register", code="forbidden")
