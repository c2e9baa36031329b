"""The training gauges on /metrics follow the records, and carry no names."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from compliance.training.models import ConfidentialityCommitment, TrainingRecord
from operations.monitoring.tests.test_metrics import scrape, value  # noqa: F401 - the fixture is used by name
from tenants.models import User

pytestmark = pytest.mark.django_db


def test_an_expired_course_and_a_missing_commitment_show_on_metrics(scrape):  # noqa: F811
    before = scrape()
    agent = User.objects.get(username="agent1")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    TrainingRecord.objects.filter(user=agent, course__code="health-data").update(expires_on=yesterday)
    ConfidentialityCommitment.objects.filter(user=agent).delete()
    after = scrape()
    assert value(after, "vastaja_training_overdue") == value(before, "vastaja_training_overdue") + 1
    assert value(after, "vastaja_staff_without_commitment") == value(before, "vastaja_staff_without_commitment") + 1
    assert "agent1" not in after
