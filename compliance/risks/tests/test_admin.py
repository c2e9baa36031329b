"""The risk register in the admin: the DPO's, and nobody else's. Tested first from the side of the
agents and supervisors who must not see it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from compliance.agreements import services as dpa
from compliance.agreements.models import AgreementVersion
from compliance.risks.models import RiskAssessment, SubProcessorDiligence
from tenants.models import User

pytestmark = pytest.mark.django_db

ASSESSMENTS = "/admin/risks/riskassessment/"
DILIGENCE = "/admin/risks/subprocessordiligence/"


def _u(name: str) -> User:
    return User.objects.get(username=name)


@pytest.mark.parametrize("username", ["agent1", "agent2", "supervisor"])
def test_agents_and_supervisors_cannot_see_or_edit_the_register(admin_for, username):
    client = admin_for(_u(username), "acme")
    assessment = RiskAssessment.objects.get(company__schema_name="acme")
    diligence = SubProcessorDiligence.objects.get(name="Twilio Ireland Ltd")
    for url in (
        ASSESSMENTS,
        f"{ASSESSMENTS}add/",
        f"{ASSESSMENTS}{assessment.pk}/change/",
        DILIGENCE,
        f"{DILIGENCE}add/",
        f"{DILIGENCE}{diligence.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert assessment.processing_activity.encode() not in response.content
    before = RiskAssessment.objects.count()
    response = client.post(
        f"{ASSESSMENTS}add/",
        {
            "company": assessment.company_id,
            "processing_activity": "x",
            "kind": "risk",
            "owner": _u(username).pk,
            "review_due": "2030-01-01",
        },
    )
    assert response.status_code == 403
    assert RiskAssessment.objects.count() == before
    response = client.post(f"{ASSESSMENTS}{assessment.pk}/change/", {"processing_activity": "tampered"})
    assert response.status_code == 403
    assessment.refresh_from_db()
    assert assessment.processing_activity != "tampered"
    index = client.get("/admin/").content.decode()
    assert "Risk register" not in index
    assert client.get("/admin/dpo/").status_code == 404


def test_the_dpo_sees_the_register_with_overdue_reviews_flagged(admin_for):
    client = admin_for(_u("dpo"))
    page = client.get(ASSESSMENTS).content.decode()
    assert "Answering calls for a law firm" in page
    assert "overdue since" in page
    overdue = client.get(ASSESSMENTS, {"review": "overdue"}).content.decode()
    assert "Answering calls for a law firm" in overdue
    assert "dental clinic" not in overdue
    assert "Risk register" in client.get("/admin/").content.decode()


def test_the_dpo_workspace_flags_the_register(admin_for):
    SubProcessorDiligence.objects.filter(name="Twilio Ireland Ltd").update(
        last_reviewed_on=timezone.localdate() - dt.timedelta(days=500),
        next_review_on=timezone.localdate() - dt.timedelta(days=2),
    )
    page = admin_for(_u("dpo")).get("/admin/dpo/").content.decode()
    assert "Risk assessments overdue for review (1)" in page
    assert "Answering calls for a law firm" in page
    assert "Sub-processor due diligence overdue (1)" in page
    assert "Twilio Ireland Ltd" in page
    assert "0 required course(s) lapsed" in page


def test_bad_input_in_the_assessment_form_is_an_inline_error(admin_for, acme):
    client = admin_for(_u("dpo"))
    data = {
        "company": acme.pk,
        "processing_activity": "Booking appointments",
        "kind": "risk",
        "owner": _u("dpo").pk,
        "review_due": "2030-01-01",
        "special_categories": ["user.health"],
        "risks-TOTAL_FORMS": "0",
        "risks-INITIAL_FORMS": "0",
    }
    response = client.post(f"{ASSESSMENTS}add/", data)
    assert response.status_code == 200
    assert "only an impact assessment (DPIA) covers special categories" in response.content.decode()
    assert not RiskAssessment.objects.filter(processing_activity="Booking appointments").exists()

    data.update(
        {
            "kind": "dpia",
            "risks-TOTAL_FORMS": "1",
            "risks-0-description": "Symptoms in notes",
            "risks-0-likelihood": "2",
            "risks-0-impact": "3",
            "risks-0-mitigations": "Not recorded",
        }
    )
    assert client.post(f"{ASSESSMENTS}add/", data).status_code == 302
    created = RiskAssessment.objects.get(processing_activity="Booking appointments")
    assert created.special_categories == ["user.health"]
    assert [(r.likelihood, r.impact) for r in created.risks.all()] == [(2, 3)]


def test_the_decide_page_refuses_approval_without_a_dpia(admin_for, globex):
    drafter = _u("provider-admin")
    active = AgreementVersion.objects.get(agreement__company=globex, status="active")
    version = dpa.dpa_draft_create(company=globex, actor=drafter, copy_from=active)
    dpa.dpa_grant_add(version=version, role="agent", category="user.health", action="read", actor=drafter)
    dpa.dpa_retention_set(version=version, category="user.health", days=90, actor=drafter)
    dpa.dpa_submit(version=version, actor=drafter)
    client = admin_for(_u("dpo"))
    url = f"/admin/agreements/agreementversion/{version.pk}/decide/"
    assert "without a linked impact assessment" in client.get(url).content.decode()
    response = client.post(url, {"decision": "approve"})
    assert response.status_code == 200
    assert "no impact assessment covers it" in response.content.decode()
    version.refresh_from_db()
    assert version.approved_at is None


def test_the_diligence_form_refuses_a_duplicate_and_records_the_reviewer(admin_for):
    client = admin_for(_u("dpo"))
    data = {
        "name": "TWILIO IRELAND LTD",
        "certifications": "",
        "last_reviewed_on": "2026-01-01",
        "next_review_on": "2027-01-01",
        "findings": "",
    }
    response = client.post(f"{DILIGENCE}add/", data)
    assert response.status_code == 200
    assert "already has a due-diligence record" in response.content.decode()
    data["name"] = "Acme Cloud"
    assert client.post(f"{DILIGENCE}add/", data).status_code == 302
    assert SubProcessorDiligence.objects.get(name="Acme Cloud").reviewed_by == _u("dpo")
