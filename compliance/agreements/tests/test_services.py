"""The DPA lifecycle, its completeness rules and the constraints the database enforces."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from compliance.agreements import services as dpa
from compliance.agreements.models import AgreementVersion
from compliance.agreements.selectors import dpa_in_force, dpa_review_queue
from tenants.errors import ApplicationError
from tenants.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def dpo(db):
    return User.objects.get(username="dpo")


@pytest.fixture
def drafter(db):
    return User.objects.get(username="provider-admin")


def _complete_draft(company, actor, **overrides):
    today = timezone.localdate()
    fields = dict(
        subject_matter="Call answering",
        nature_and_purpose="Answering calls",
        start_date=today,
        end_date=today + dt.timedelta(days=365),
        data_subject_categories="Callers",
        security_measures="Encryption",
        data_subject_rights_assistance="Forwarded in 2 days",
        end_of_processing="delete",
        audit_rights="Yearly",
        staff_confidentiality="Signed commitments",
        breach_notification_hours=24,
    )
    fields.update(overrides)
    version = dpa.dpa_draft_create(company=company, actor=actor, **fields)
    dpa.dpa_grant_add(version=version, role="agent", category="user.contact.name", action="read", actor=actor)
    dpa.dpa_retention_set(version=version, category="user.contact.name", days=30, actor=actor)
    return version


def test_an_incomplete_draft_cannot_be_submitted_and_the_error_names_what_is_missing(acme, drafter):
    version = dpa.dpa_draft_create(company=acme, actor=drafter, subject_matter="Call answering")
    dpa.dpa_grant_add(version=version, role="agent", category="user.health", action="read", actor=drafter)
    with pytest.raises(ApplicationError) as refused:
        dpa.dpa_submit(version=version, actor=drafter)
    message = refused.value.message
    for item in [
        "nature and purpose",
        "duration (start and end dates)",
        "security measures (Art. 32)",
        "audit rights",
        "staff confidentiality",
        "breach-notification deadline",
        "retention period for user.health",
    ]:
        assert item in message
    assert "subject matter" not in message
    version.refresh_from_db()
    assert version.status == "draft"


def test_the_dpo_takes_a_version_from_submitted_to_active_and_the_audit_names_them(acme, drafter, dpo, acme_admin):
    previous = AgreementVersion.objects.get(agreement__company=acme, status="active")
    version = _complete_draft(acme, drafter)
    dpa.dpa_submit(version=version, actor=drafter)
    assert version in dpa_review_queue()
    dpa.dpa_sign_for_client(version=version, actor=acme_admin)
    dpa.dpa_review_start(version=version, actor=dpo)
    dpa.dpa_approve(version=version, actor=dpo)
    before = timezone.now()
    dpa.dpa_activate(version=version, actor=dpo)

    version.refresh_from_db()
    previous.refresh_from_db()
    assert version.status == "active"
    assert previous.status == "superseded"
    assert dpa_in_force(company=acme) == version
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(AgreementVersion), object_pk=str(version.pk)
    ).order_by("timestamp")
    activation = [e for e in entries if e.changes_dict.get("status", [None, None])[1] == "active"]
    assert len(activation) == 1
    assert activation[0].actor == dpo
    assert activation[0].timestamp >= before
    assert entries.filter(actor=acme_admin).exists()  # the client's signature is on the record too


def test_activation_needs_the_clients_signature(acme, drafter, dpo):
    version = _complete_draft(acme, drafter)
    dpa.dpa_submit(version=version, actor=drafter)
    dpa.dpa_approve(version=version, actor=dpo)
    with pytest.raises(ApplicationError, match="signature"):
        dpa.dpa_activate(version=version, actor=dpo)


def test_only_the_dpo_decides(acme, drafter, acme_admin):
    version = _complete_draft(acme, drafter)
    dpa.dpa_submit(version=version, actor=drafter)
    agent = User.objects.get(username="agent1")
    for actor in (drafter, agent, acme_admin):
        with pytest.raises(ApplicationError, match="data-protection officer"):
            dpa.dpa_approve(version=version, actor=actor)


def test_only_a_client_admin_of_the_company_signs(acme, drafter, globex_admin):
    version = _complete_draft(acme, drafter)
    with pytest.raises(ApplicationError, match="client admin"):
        dpa.dpa_sign_for_client(version=version, actor=globex_admin)


def test_rejection_needs_a_reason_and_returns_the_version_to_draft(acme, drafter, dpo):
    version = _complete_draft(acme, drafter)
    dpa.dpa_submit(version=version, actor=drafter)
    with pytest.raises(ApplicationError):
        dpa.dpa_reject(version=version, actor=dpo, reason="  ")
    dpa.dpa_reject(version=version, actor=dpo, reason="Retention for names is too long")
    version.refresh_from_db()
    assert version.status == "draft"
    assert version.rejection_reason == "Retention for names is too long"


def test_end_before_start_is_refused_by_the_service_and_by_the_database(acme, drafter):
    today = timezone.localdate()
    with pytest.raises(ApplicationError, match="end date"):
        dpa.dpa_draft_create(company=acme, actor=drafter, start_date=today, end_date=today - dt.timedelta(days=1))
    version = dpa.dpa_draft_create(company=acme, actor=drafter)
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementVersion.objects.filter(pk=version.pk).update(start_date=today, end_date=today - dt.timedelta(days=1))


def test_two_active_versions_are_impossible_in_the_database(acme, drafter):
    version = _complete_draft(acme, drafter)
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementVersion.objects.filter(pk=version.pk).update(
            status="active", approved_at=timezone.now(), client_signed_at=timezone.now()
        )


def test_an_unapproved_version_cannot_be_made_active_even_by_sql(acme, drafter, dpo):
    active = AgreementVersion.objects.get(agreement__company=acme, status="active")
    dpa.dpa_terminate(version=active, actor=dpo, reason="test")
    version = _complete_draft(acme, drafter)
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementVersion.objects.filter(pk=version.pk).update(status="active")


def test_expiry_ends_the_version(acme, dpo):
    active = AgreementVersion.objects.get(agreement__company=acme, status="active")
    tomorrow_of_end = active.end_date + dt.timedelta(days=1)
    assert dpa_in_force(company=acme, day=active.end_date) == active
    assert dpa_in_force(company=acme, day=tomorrow_of_end) is None  # the gates stop at once
    due = AgreementVersion.objects.filter(status="active", end_date__lt=tomorrow_of_end).count()
    assert dpa.dpa_expire_due(today=tomorrow_of_end) == due  # and the daily job records it
    active.refresh_from_db()
    assert active.status == "expired"
    assert active.end_reason == f"end date {active.end_date} passed"


def test_unknown_categories_roles_and_actions_are_refused(acme, drafter):
    version = dpa.dpa_draft_create(company=acme, actor=drafter)
    for kwargs, field in [
        ({"role": "agent", "category": "user.shoe_size", "action": "read"}, "category"),
        ({"role": "dpo", "category": "user.contact.name", "action": "read"}, "role"),
        ({"role": "agent", "category": "user.contact.name", "action": "delete"}, "action"),
    ]:
        with pytest.raises(ApplicationError) as refused:
            dpa.dpa_grant_add(version=version, actor=drafter, **kwargs)
        assert refused.value.field == field


def test_dpo_workspace_and_decision_page(admin_for, dpo, acme, drafter, acme_admin):
    version = _complete_draft(acme, drafter)
    dpa.dpa_submit(version=version, actor=drafter)
    dpa.dpa_sign_for_client(version=version, actor=acme_admin)
    client = admin_for(dpo)

    workspace = client.get("/admin/dpo/").content.decode()
    assert str(version) in workspace

    decide = client.get(f"/admin/agreements/agreementversion/{version.pk}/decide/").content.decode()
    assert "retention" in decide  # the diff against the version in force

    for decision in ("review", "approve", "activate"):
        response = client.post(f"/admin/agreements/agreementversion/{version.pk}/decide/", {"decision": decision})
        assert response.status_code == 302, response.content.decode()[:500]
    version.refresh_from_db()
    assert version.status == "active"

    refused = client.post(f"/admin/agreements/agreementversion/{version.pk}/decide/", {"decision": "terminate"})
    assert refused.status_code == 200
    assert "a termination needs a reason" in refused.content.decode()


def test_agents_cannot_reach_the_dpo_workspace(admin_for, agent1):
    assert admin_for(agent1).get("/admin/dpo/").status_code == 404
    assert admin_for(agent1).get("/admin/agreements/agreementversion/").status_code == 403
