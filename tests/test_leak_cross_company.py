"""Leak 7 of issue 13: the DPO's cross-company pages skip the tenant gate.

Written from the side of a DPO whose assignment to a company was removed: every page that gathers
several companies' records (evidence packs, the DPO workspace, incidents, training due) lists only
the companies gate 1 still admits them to, and a download or an object of another company is
answered exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.models import Assignment, User

pytestmark = pytest.mark.django_db


def _u(username: str) -> User:
    return User.objects.get(username=username)


def _unassign(user: User, company) -> None:
    Assignment.objects.filter(user=user, company=company).delete()


@pytest.fixture
def initech_pack(client_for, initech):
    """An evidence pack initech's admin asked for."""
    from audit.models import EvidencePack

    assert client_for("initech.localhost", _u("initech-admin")).post("/audits/").status_code == 302
    with tenant_context(initech):
        return EvidencePack.objects.get()


def test_an_unassigned_dpo_neither_lists_nor_downloads_the_companys_evidence(admin_for, initech, initech_pack):
    dpo = _u("dpo")
    url = f"/admin/dpo/evidence/initech/{initech_pack.pk}/download/"
    assert "Initech Software" in admin_for(dpo).get("/admin/dpo/evidence/").content.decode()  # while assigned

    _unassign(dpo, initech)
    client = admin_for(dpo)
    listing = client.get("/admin/dpo/evidence/")
    assert listing.status_code == 200
    assert "Initech Software" not in listing.content.decode()
    assert url not in listing.content.decode()
    refused, missing = client.post(url), client.post(f"/admin/dpo/evidence/initech/{initech_pack.pk + 999}/download/")
    assert refused.status_code == missing.status_code == 404
    assert refused.content == missing.content  # nothing tells "not yours" from "not there"


@pytest.fixture
def initech_in_the_workspace(initech):
    """Something of initech's in every section of the DPO workspace that names companies."""
    from compliance.agreements.models import AgreementVersion, ClientComment, SubProcessor, SubProcessorObjection
    from compliance.risks.models import RiskAssessment

    version = AgreementVersion.objects.filter(agreement__company=initech).order_by("-number").first()
    today = timezone.localdate()
    RiskAssessment.objects.create(
        company=initech,
        processing_activity="Initech helpdesk calls",
        owner=_u("dpo"),
        review_due=today - dt.timedelta(days=3),
    )
    ClientComment.objects.create(
        version=version, kind=ClientComment.Kind.REJECTION, comment="Initech says no", author=_u("initech-admin")
    )
    sub = SubProcessor.objects.create(
        version=version, name="Initech Relay Oy", purpose="SMS", location="FI", authorised_on=today
    )
    SubProcessorObjection.objects.create(sub_processor=sub, reason="Initech objects", raised_by=_u("initech-admin"))
    return version


def test_an_unassigned_dpo_sees_nothing_of_the_company_in_the_workspace(admin_for, initech, initech_in_the_workspace):
    dpo = _u("dpo")
    before = admin_for(dpo).get("/admin/dpo/").content.decode()
    sections = ("Initech Software", "Initech helpdesk calls", "Initech says no", "Initech Relay Oy", "Initech objects")
    for shown in sections:
        assert shown in before  # while assigned, every section names initech

    _unassign(dpo, initech)
    page = admin_for(dpo).get("/admin/dpo/")
    assert page.status_code == 200
    assert "Initech" not in page.content.decode()
    assert "Waiting for the DPO" in page.content.decode()


def _incident(*companies, title: str):
    from compliance.incidents.services import incident_record

    return incident_record(
        title=title,
        description="A report went to the wrong address.",
        detected_at=timezone.now() - dt.timedelta(hours=1),
        companies=list(companies),
        categories=["user.contact.name"],
        estimated_subjects=3,
        actor=_u("dpo"),
    )


def test_an_unassigned_dpo_sees_neither_the_companys_incidents_nor_its_deadlines(admin_for, acme, initech):
    from compliance.incidents.models import Incident

    theirs = _incident(initech, title="Initech-only breach")
    shared = _incident(acme, initech, title="Shared breach")
    dpo = _u("dpo")
    _unassign(dpo, initech)
    client = admin_for(dpo)

    listing = client.get("/admin/incidents/incident/").content.decode()
    assert "Initech-only breach" not in listing
    assert "Shared breach" in listing  # acme is still the DPO's
    missing_id = Incident.objects.order_by("-pk").first().pk + 999
    refused = client.get(f"/admin/incidents/incident/{theirs.pk}/change/")
    missing = client.get(f"/admin/incidents/incident/{missing_id}/change/")
    assert refused.status_code == missing.status_code
    assert refused.get("Location") == missing.get("Location")
    assert "Initech-only breach" not in client.get("/admin/", follow=True).content.decode()

    change = client.get(f"/admin/incidents/incident/{shared.pk}/change/").content.decode()
    assert "Acme Dental" in change
    assert "Initech" not in change  # not its name, not its deadline

    record = client.get("/admin/incidents/incident/record/").content.decode()
    assert "Acme Dental" in record
    assert "Initech" not in record  # the form offers only the DPO's companies
    tampered = client.post(
        "/admin/incidents/incident/record/",
        {
            "title": "Tampered",
            "description": "x",
            "severity": "low",
            "detected_at": (timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "companies": [initech.pk],
            "categories": ["user.contact.name"],
            "estimated_subjects": "1",
        },
    )
    assert tampered.status_code == 200
    assert not Incident.objects.filter(title="Tampered").exists()


def test_an_unassigned_dpo_sees_no_training_the_companys_dpa_requires(admin_for, acme):
    from compliance.training.models import TrainingRecord

    # acme's DPA requires the health-data course of its agents; agent1's has lapsed.
    TrainingRecord.objects.filter(user__username="agent1", course__code="health-data").update(
        expires_on=timezone.localdate() - dt.timedelta(days=1)
    )
    dpo = _u("dpo")
    due = "/admin/training/trainingrecord/due/"
    assert "Handling health data in calls" in admin_for(dpo).get(due).content.decode()  # while assigned
    assert "1 required course(s) lapsed" in admin_for(dpo).get("/admin/dpo/").content.decode()

    _unassign(dpo, acme)
    client = admin_for(dpo)
    page = client.get(due)
    assert page.status_code == 200
    assert "Handling health data in calls" not in page.content.decode()
    assert "Data protection essentials" in page.content.decode()  # every member of staff's course stays
    assert "0 required course(s) lapsed" in client.get("/admin/dpo/").content.decode()


def test_companies_entered_is_gate_one_over_every_company(acme, globex, initech):
    """The cross-company pages' list is the tenant gate's own answer, person by person."""
    from gates.engine import Role, companies_entered, role_in

    _unassign(_u("dpo"), initech)
    for user in User.objects.filter(
        username__in=["agent1", "agent2", "supervisor", "dpo", "provider-admin", "acme-admin"]
    ):
        entered = set(companies_entered(user=user))
        assert entered == {c for c in (acme, globex, initech) if role_in(user=user, company=c) != Role.NONE}, user
