"""The overviews other parts of the platform build on (the client's evidence, monitoring)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from compliance.training.models import ConfidentialityCommitment, Course, TrainingRecord
from compliance.training.selectors import (
    overdue_training_count,
    staff_due_within,
    staff_training_overdue,
    staff_without_commitment,
    training_status_for_company,
)
from compliance.training.services import training_record_add
from tenants.models import User

pytestmark = pytest.mark.django_db


def _today():
    return timezone.localdate()


def test_status_for_acme_lists_its_staff_with_the_courses_required_of_them_there(acme):
    rows = {user.username: (signed, courses) for user, signed, courses in training_status_for_company(acme)}
    assert set(rows) == {"agent1", "agent2", "supervisor", "dpo"}  # provider-admin is assigned nowhere
    signed, courses = rows["agent1"]
    assert signed == ConfidentialityCommitment.objects.get(user__username="agent1").signed_on
    assert [c.code for c in courses] == ["dp-essentials", "health-data"]
    health = courses[1]
    record = TrainingRecord.objects.get(user__username="agent1", course__code="health-data")
    assert (health.completed_on, health.expires_on) == (record.completed_on, record.expires_on)
    # The DPO is required the general course only: a DPA's courses are for the roles it grants data to.
    assert [c.code for c in rows["dpo"][1]] == ["dp-essentials"]


def test_status_for_globex_does_not_list_acmes_course_nor_acmes_staff(globex):
    rows = {user.username: courses for user, _, courses in training_status_for_company(globex)}
    assert "agent2" not in rows  # assigned to acme only
    assert all([c.code for c in courses] == ["dp-essentials"] for courses in rows.values())


def test_status_carries_names_only(acme):
    user = training_status_for_company(acme)[0].user
    assert set(user.get_deferred_fields()) >= {"email", "password"}


def test_status_shows_a_missing_commitment_and_course_as_none(acme):
    agent1 = User.objects.get(username="agent1")
    ConfidentialityCommitment.objects.filter(user=agent1).delete()
    TrainingRecord.objects.filter(user=agent1, course__code="health-data").delete()
    row = next(r for r in training_status_for_company(acme) if r.user.username == "agent1")
    assert row.commitment_signed_on is None
    assert [(c.code, c.completed_on) for c in row.courses][1] == ("health-data", None)


def test_due_within_finds_the_demos_renewal_and_no_lapsed_one():
    due = staff_due_within(30)
    assert [(d.user.username, d.course.code) for d in due] == [("agent2", "dp-essentials")]
    assert _today() <= due[0].expires_on <= _today() + dt.timedelta(days=30)


def test_a_renewal_takes_a_person_off_the_due_list():
    agent2 = User.objects.get(username="agent2")
    training_record_add(
        user=agent2,
        course=Course.objects.get(code="dp-essentials"),
        completed_on=_today(),
        actor=User.objects.get(username="dpo"),
    )
    assert staff_due_within(30) == []


def test_overdue_count_counts_lapsed_and_never_completed_required_courses():
    assert overdue_training_count() == 0
    yesterday = _today() - dt.timedelta(days=1)
    TrainingRecord.objects.filter(user__username="agent1", course__code="health-data").update(expires_on=yesterday)
    assert overdue_training_count() == 1
    TrainingRecord.objects.filter(user__username="supervisor").delete()  # general and health-data
    assert overdue_training_count() == 3
    overdue = {(d.user.username, d.course.code, d.expires_on) for d in staff_training_overdue()}
    assert ("agent1", "health-data", yesterday) in overdue
    assert ("supervisor", "health-data", None) in overdue


def test_a_new_general_course_is_overdue_for_every_member_of_staff():
    Course.objects.create(code="phishing", title="Phishing awareness", validity_months=12, required_for_all_staff=True)
    staff = User.objects.filter(is_active=True).exclude(provider_role="").count()
    assert overdue_training_count() == staff


def test_a_suspended_company_requires_nothing_of_its_staff(acme):
    from tenants.services import client_suspend

    TrainingRecord.objects.filter(user__username="agent2", course__code="health-data").delete()
    assert overdue_training_count() == 1
    client_suspend(company=acme, actor=User.objects.get(username="provider-admin"), reason="unpaid invoices")
    assert overdue_training_count() == 0


def test_overdue_count_makes_a_constant_number_of_queries(django_assert_max_num_queries):
    User.objects.exists()  # the connection's search_path is set by the first query
    with django_assert_max_num_queries(5):
        overdue_training_count()
    for n in range(20):
        User.objects.create(username=f"extra-agent-{n}", provider_role="agent")
    with django_assert_max_num_queries(5):
        assert overdue_training_count() == 20


def test_staff_without_commitment():
    assert staff_without_commitment() == []
    ConfidentialityCommitment.objects.filter(user__username="agent2").delete()
    assert [u.username for u in staff_without_commitment()] == ["agent2"]
