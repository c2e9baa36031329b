"""Training in the admin: who sees it, who records it, and who is due."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from compliance.training.models import Course, TrainingRecord
from tenants.models import User

pytestmark = pytest.mark.django_db

RECORDS = "/admin/training/trainingrecord/"
DUE = "/admin/training/trainingrecord/due/"


def _u(name: str) -> User:
    return User.objects.get(username=name)


@pytest.mark.parametrize("username", ["supervisor", "dpo"])
def test_supervisors_and_the_dpo_see_who_is_due(admin_for, username):
    page = admin_for(_u(username)).get(DUE).content.decode()
    assert "Due within 30 days (1)" in page
    assert "agent2" in page
    assert "Data protection essentials" in page


def test_the_due_page_lists_lapsed_training_and_missing_commitments(admin_for):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    TrainingRecord.objects.filter(user__username="agent1", course__code="health-data").update(expires_on=yesterday)
    page = admin_for(_u("dpo")).get(DUE).content.decode()
    assert "Required training lapsed or never done (1)" in page
    assert f"{yesterday:%Y-%m-%d}" in page


def test_the_renewal_filter_shows_only_the_completion_that_counts(admin_for):
    agent2 = _u("agent2")
    course = Course.objects.get(code="dp-essentials")
    old = TrainingRecord.objects.get(user=agent2, course=course)
    client = admin_for(_u("supervisor"))
    assert f"{RECORDS}{old.pk}/change/" in client.get(RECORDS, {"renewal": "due"}).content.decode()
    renewed = TrainingRecord.objects.create(
        user=agent2,
        course=course,
        completed_on=timezone.localdate(),
        expires_on=timezone.localdate() + dt.timedelta(days=365),
        recorded_by=_u("dpo"),
    )
    page = client.get(RECORDS, {"renewal": "due"}).content.decode()
    assert f"{RECORDS}{old.pk}/change/" not in page
    assert "0 training records" in page
    assert f"{RECORDS}{renewed.pk}/change/" in client.get(RECORDS, {"renewal": "current"}).content.decode()


@pytest.mark.parametrize("username", ["agent1", "agent2"])
def test_agents_see_no_one_elses_training(admin_for, username):
    client = admin_for(_u(username), "acme")
    assert client.get(RECORDS).status_code == 403
    assert client.get("/admin/training/confidentialitycommitment/").status_code == 403
    assert client.get(DUE).status_code == 404
    assert "Staff confidentiality and training" not in client.get("/admin/").content.decode()


def test_a_supervisor_cannot_record_training(admin_for):
    client = admin_for(_u("supervisor"))
    assert client.get(f"{RECORDS}add/").status_code == 403
    before = TrainingRecord.objects.count()
    response = client.post(
        f"{RECORDS}add/", {"user": _u("supervisor").pk, "course": 1, "completed_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 403
    assert TrainingRecord.objects.count() == before


def test_the_dpo_records_a_completion_and_bad_input_is_an_inline_error(admin_for):
    client = admin_for(_u("dpo"))
    course = Course.objects.get(code="health-data")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(
        f"{RECORDS}add/", {"user": _u("agent1").pk, "course": course.pk, "completed_on": tomorrow.isoformat()}
    )
    assert response.status_code == 200
    assert "a course cannot be completed in the future" in response.content.decode()

    today = timezone.localdate()
    response = client.post(
        f"{RECORDS}add/", {"user": _u("agent1").pk, "course": course.pk, "completed_on": today.isoformat()}
    )
    assert response.status_code == 302
    record = TrainingRecord.objects.filter(user__username="agent1", course=course).latest("pk")
    assert record.completed_on == today
    assert record.recorded_by == _u("dpo")
    assert record.expires_on > today


def test_the_dpo_records_a_commitment(admin_for):
    client = admin_for(_u("dpo"))
    url = "/admin/training/confidentialitycommitment/add/"
    data = {"user": _u("agent2").pk, "document_version": "2027-1", "signed_on": timezone.localdate().isoformat()}
    assert client.post(url, data).status_code == 302
    again = client.post(url, data)
    assert again.status_code == 200
    assert "already signed version 2027-1" in again.content.decode()
