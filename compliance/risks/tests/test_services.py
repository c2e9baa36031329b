"""The risk register's rules, and the DPIA a special category needs before the DPO approves it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from compliance.agreements import selectors as dpa_selectors
from compliance.agreements import services as dpa
from compliance.agreements.models import AgreementVersion
from compliance.risks import services
from compliance.risks.models import RiskAssessment
from compliance.risks.selectors import (
    assessments_review_overdue,
    diligence_overdue,
    dpia_missing,
    sub_processors_without_diligence,
)
from tenants.errors import ApplicationError
from tenants.models import User

pytestmark = pytest.mark.django_db


def _u(name: str) -> User:
    return User.objects.get(username=name)


def _submitted_with(company, category: str) -> AgreementVersion:
    """A new version of the company's DPA granting `category` to agents, submitted, signed and in review."""
    drafter = _u("provider-admin")
    active = AgreementVersion.objects.get(agreement__company=company, status="active")
    version = dpa.dpa_draft_create(company=company, actor=drafter, copy_from=active)
    dpa.dpa_grant_add(version=version, role="agent", category=category, action="read", actor=drafter)
    dpa.dpa_retention_set(version=version, category=category, days=365, actor=drafter)
    dpa.dpa_submit(version=version, actor=drafter)
    dpa.dpa_sign_for_client(version=version, actor=_u(f"{company.schema_name}-admin"))
    dpa.dpa_review_start(version=version, actor=_u("dpo"))
    return version


def _dpia(company, version=None, *, risks=1, categories=("user.health",)) -> RiskAssessment:
    dpo = _u("dpo")
    assessment = services.assessment_record(
        company=company,
        processing_activity="Recording symptoms in messages",
        kind=RiskAssessment.Kind.DPIA,
        owner=dpo,
        review_due=timezone.localdate() + dt.timedelta(days=90),
        actor=dpo,
        special_categories=list(categories),
        dpa_versions=[version] if version else [],
    )
    for n in range(risks):
        services.risk_add(
            assessment=assessment,
            description=f"risk {n}",
            likelihood=2,
            impact=3,
            mitigations="Encrypted at rest",
            actor=dpo,
        )
    return assessment


def test_the_dpo_cannot_approve_a_health_grant_without_a_dpia(globex):
    version = _submitted_with(globex, "user.health")
    with pytest.raises(ApplicationError) as refused:
        dpa.dpa_approve(version=version, actor=_u("dpo"))
    assert refused.value.code == "dpia_required"
    assert "user.health" in refused.value.message
    assert "impact assessment" in refused.value.message
    version.refresh_from_db()
    assert version.approved_at is None


def test_a_linked_dpia_with_its_risks_lets_the_dpo_approve_and_activate(globex):
    version = _submitted_with(globex, "user.health")
    _dpia(globex, version)
    dpa.dpa_approve(version=version, actor=_u("dpo"))
    dpa.dpa_activate(version=version, actor=_u("dpo"))
    assert AgreementVersion.objects.get(agreement__company=globex, status="active") == version


def test_a_dpia_without_risks_or_not_linked_or_for_another_category_does_not_count(globex):
    version = _submitted_with(globex, "user.health")
    _dpia(globex, version, risks=0)  # not assessed yet
    _dpia(globex, None)  # not linked to this version
    assert dpia_missing(version=version) == ["user.health"]
    with pytest.raises(ApplicationError, match=r"user\.health"):
        dpa.dpa_approve(version=version, actor=_u("dpo"))


def test_a_parent_grant_reaches_the_special_category_too(globex):
    version = _submitted_with(globex, "user")
    assert dpia_missing(version=version) == ["user.health"]
    with pytest.raises(ApplicationError, match=r"user\.health"):
        dpa.dpa_approve(version=version, actor=_u("dpo"))


def test_ordinary_grants_need_no_dpia(globex):
    version = _submitted_with(globex, "user.contact.phone_number")
    assert dpia_missing(version=version) == []
    dpa.dpa_approve(version=version, actor=_u("dpo"))


def test_activation_rechecks_the_dpia(globex):
    version = _submitted_with(globex, "user.health")
    assessment = _dpia(globex, version)
    dpa.dpa_approve(version=version, actor=_u("dpo"))
    assessment.dpa_versions.clear()
    with pytest.raises(ApplicationError, match="impact assessment"):
        dpa.dpa_activate(version=version, actor=_u("dpo"))


def test_the_risk_register_answers_the_agreements_dpia_question():
    # The agreements sit below the register and cannot import it: it registers itself when ready.
    assert dpa_selectors._dpia_source is dpia_missing


def test_without_the_register_no_special_category_counts_as_covered(globex, monkeypatch):
    version = _submitted_with(globex, "user.health")
    _dpia(globex, version)
    assert dpa_selectors.dpa_dpia_missing(version=version) == []
    monkeypatch.setattr(dpa_selectors, "_dpia_source", None)
    assert dpa_selectors.dpa_dpia_missing(version=version) == ["user.health"]  # fail closed
    with pytest.raises(ApplicationError) as refused:
        dpa.dpa_approve(version=version, actor=_u("dpo"))
    assert refused.value.code == "dpia_required"
    ordinary = _submitted_with(globex, "user.contact.phone_number")
    assert dpa_selectors.dpa_dpia_missing(version=ordinary) == []


def test_another_companys_version_cannot_be_linked(acme, globex):
    version = _submitted_with(globex, "user.health")
    with pytest.raises(ApplicationError) as refused:
        _dpia(acme, version)
    assert refused.value.field == "dpa_versions"
    acme_dpia = RiskAssessment.objects.get(company=acme, kind="dpia")
    with pytest.raises(ApplicationError):
        services.dpia_link(assessment=acme_dpia, version=version, actor=_u("dpo"))
    assert dpia_missing(version=version) == ["user.health"]


def test_the_demo_seeds_acmes_dpia_linked_to_its_active_dpa(acme):
    active = AgreementVersion.objects.get(agreement__company=acme, status="active")
    dpia = active.impact_assessments.get()
    assert dpia.kind == "dpia"
    assert dpia.special_categories == ["user.health"]
    assert dpia.risks.count() == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "risk", "special_categories": ["user.health"]}, "kind"),
        ({"special_categories": ["user.contact.name"]}, "special_categories"),
        ({"owner": "acme-admin"}, "owner"),
        ({"processing_activity": "  "}, "processing_activity"),
    ],
)
def test_bad_assessments_are_refused_naming_the_field(acme, changes, field):
    kwargs = {
        "company": acme,
        "processing_activity": "Answering calls",
        "kind": "dpia",
        "owner": _u("dpo"),
        "review_due": timezone.localdate(),
        "actor": _u("dpo"),
        "special_categories": [],
    }
    kwargs.update(changes)
    if isinstance(kwargs["owner"], str):
        kwargs["owner"] = _u(kwargs["owner"])
    with pytest.raises(ApplicationError) as refused:
        services.assessment_record(**kwargs)
    assert refused.value.field == field


@pytest.mark.parametrize("actor", ["agent1", "supervisor", "acme-admin"])
def test_only_the_dpo_or_a_provider_admin_keeps_the_register(acme, actor):
    with pytest.raises(ApplicationError) as refused:
        services.assessment_record(
            company=acme, processing_activity="x", owner=_u("dpo"), review_due=timezone.localdate(), actor=_u(actor)
        )
    assert refused.value.code == "forbidden"


def test_risks_are_rated_on_the_four_level_scales(acme):
    assessment = RiskAssessment.objects.get(company=acme)
    with pytest.raises(ApplicationError) as refused:
        services.risk_add(
            assessment=assessment, description="x", likelihood=5, impact=1, mitigations="", actor=_u("dpo")
        )
    assert refused.value.field == "likelihood"
    risk = services.risk_add(
        assessment=assessment, description="x", likelihood=3, impact=4, mitigations="m", actor=_u("dpo")
    )
    assert (risk.score, risk.level) == (12, "high")


def test_overdue_reviews_are_found_and_a_review_clears_them(globex):
    overdue = list(assessments_review_overdue())
    assert [a.company.schema_name for a in overdue] == ["globex"]
    with pytest.raises(ApplicationError):
        services.assessment_reviewed(assessment=overdue[0], next_review=timezone.localdate(), actor=_u("dpo"))
    services.assessment_reviewed(
        assessment=overdue[0], next_review=timezone.localdate() + dt.timedelta(days=365), actor=_u("dpo")
    )
    assert list(assessments_review_overdue()) == []


def test_due_diligence_overdue_and_missing(acme):
    today = timezone.localdate()
    assert sub_processors_without_diligence() == []
    assert list(diligence_overdue()) == []
    with pytest.raises(ApplicationError) as refused:
        services.diligence_record(
            name="twilio ireland ltd",
            certifications="",
            last_reviewed_on=today,
            next_review_on=today + dt.timedelta(days=1),
            actor=_u("dpo"),
        )
    assert refused.value.field == "name"
    with pytest.raises(ApplicationError) as refused:
        services.diligence_record(
            name="Acme Cloud", certifications="", last_reviewed_on=today, next_review_on=today, actor=_u("dpo")
        )
    assert refused.value.field == "next_review_on"

    # A sub-processor proposed in a submitted version, never reviewed: flagged until it is.
    drafter = _u("provider-admin")
    active = AgreementVersion.objects.get(agreement__company=acme, status="active")
    version = dpa.dpa_draft_create(company=acme, actor=drafter, copy_from=active)
    dpa.dpa_sub_processor_add(
        version=version, name="Acme Cloud", purpose="Hosting", location="EU", authorised_on=today, actor=drafter
    )
    assert sub_processors_without_diligence() == []  # a draft proposes nothing yet
    dpa.dpa_submit(version=version, actor=drafter)
    assert sub_processors_without_diligence() == ["Acme Cloud"]
    record = services.diligence_record(
        name="Acme Cloud",
        certifications="ISO/IEC 27001",
        last_reviewed_on=today - dt.timedelta(days=400),
        next_review_on=today - dt.timedelta(days=35),
        actor=_u("dpo"),
    )
    assert sub_processors_without_diligence() == []
    assert list(diligence_overdue()) == [record]
