"""Recording commitments and completions: who may, and what is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from compliance.training.models import Course, TrainingRecord
from compliance.training.services import add_months, commitment_record, training_record_add
from tenants.errors import ApplicationError
from tenants.models import User

pytestmark = pytest.mark.django_db


def _u(name: str) -> User:
    return User.objects.get(username=name)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),
        (dt.date(2026, 11, 15), 12, dt.date(2027, 11, 15)),
        (dt.date(2026, 12, 1), 13, dt.date(2028, 1, 1)),
    ],
)
def test_add_months_clamps_to_the_month(day, months, expected):
    assert add_months(day, months) == expected


def test_a_completion_expires_after_the_courses_validity_unless_told():
    course = Course.objects.get(code="health-data")
    done = timezone.localdate() - dt.timedelta(days=3)
    record = training_record_add(user=_u("agent2"), course=course, completed_on=done, actor=_u("dpo"))
    assert record.expires_on == add_months(done, course.validity_months)
    assert record.recorded_by == _u("dpo")
    explicit = training_record_add(
        user=_u("agent2"), course=course, completed_on=done, actor=_u("dpo"), expires_on=done + dt.timedelta(days=30)
    )
    assert explicit.expires_on == done + dt.timedelta(days=30)


@pytest.mark.parametrize("actor", ["agent1", "supervisor", "acme-admin"])
def test_only_the_dpo_or_a_provider_admin_records_training(actor):
    before = TrainingRecord.objects.count()
    with pytest.raises(ApplicationError) as refused:
        training_record_add(
            user=_u("agent1"),
            course=Course.objects.get(code="health-data"),
            completed_on=timezone.localdate(),
            actor=_u(actor),
        )
    assert refused.value.code == "forbidden"
    assert TrainingRecord.objects.count() == before


def test_bad_completions_are_refused_naming_the_field():
    course = Course.objects.get(code="dp-essentials")
    today = timezone.localdate()
    cases = [
        ({"user": _u("acme-admin"), "completed_on": today}, "user"),  # not provider staff
        ({"user": _u("agent1"), "completed_on": today + dt.timedelta(days=1)}, "completed_on"),
        ({"user": _u("agent1"), "completed_on": today, "expires_on": today}, "expires_on"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ApplicationError) as refused:
            training_record_add(course=course, actor=_u("dpo"), **kwargs)
        assert refused.value.field == field


def test_a_commitment_version_is_signed_once():
    today = timezone.localdate()
    commitment_record(user=_u("agent1"), document_version="2027-1", signed_on=today, actor=_u("dpo"))
    with pytest.raises(ApplicationError) as refused:
        commitment_record(user=_u("agent1"), document_version=" 2027-1 ", signed_on=today, actor=_u("dpo"))
    assert refused.value.field == "document_version"
    with pytest.raises(ApplicationError) as refused:
        commitment_record(
            user=_u("agent1"), document_version="2027-2", signed_on=today + dt.timedelta(days=1), actor=_u("dpo")
        )
    assert refused.value.field == "signed_on"


def test_a_course_required_by_a_draft_is_copied_into_the_next_draft(acme):
    from compliance.agreements import services as dpa
    from compliance.agreements.models import AgreementVersion

    active = AgreementVersion.objects.get(agreement__company=acme, status="active")
    draft = dpa.dpa_draft_create(company=acme, actor=_u("provider-admin"), copy_from=active)
    assert [r.course.code for r in draft.course_requirements.all()] == ["health-data"]
    with pytest.raises(ApplicationError, match="only on a draft"):
        dpa.dpa_course_require(
            version=active, course=Course.objects.get(code="dp-essentials"), actor=_u("provider-admin")
        )
