"""Each beat job's last start, success and failure per schema, recorded from Celery's task signals:
a job that raises is recorded as failing, with its exception's class only; a task beat does not
send is not recorded; and a database that refuses the record never fails the job."""

from __future__ import annotations

import logging

import pytest
from celery import shared_task
from django.conf import settings
from django.db import DatabaseError
from django.test import override_settings
from django_tenants.utils import tenant_context

from operations.monitoring.models import JobRun
from operations.monitoring.receivers import HEARTBEAT_TASK, beat_tasks

pytestmark = pytest.mark.django_db


@shared_task(name="tests.monitoring.boom")
def boom() -> None:
    raise LookupError("a beat job that fails")


@override_settings(
    CELERY_BEAT_SCHEDULE={**settings.CELERY_BEAT_SCHEDULE, "boom": {"task": "tests.monitoring.boom", "schedule": 60.0}}
)
def test_a_beat_job_that_raises_is_recorded_failing_with_its_exception_class_only(acme):
    with tenant_context(acme):
        boom.apply()
    run = JobRun.objects.get(task="tests.monitoring.boom")
    assert run.schema_name == "acme"
    assert run.failing
    assert (run.runs, run.failures, run.last_error) == (1, 1, "LookupError")


def test_a_task_beat_does_not_send_is_not_recorded(acme):
    from answering.tasks import schema_probe

    with tenant_context(acme):
        schema_probe.apply()
    assert not JobRun.objects.exists()


@shared_task(name="tests.monitoring.fine")
def fine() -> str:
    return "done"


BEAT_WITH_TEST_JOBS = {
    **settings.CELERY_BEAT_SCHEDULE,
    "boom": {"task": "tests.monitoring.boom", "schedule": 60.0},
    "fine": {"task": "tests.monitoring.fine", "schedule": 60.0},
}


def test_the_jobs_watched_are_those_beat_sends_but_the_heartbeat():
    sent = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert HEARTBEAT_TASK in sent
    assert beat_tasks() == sent - {HEARTBEAT_TASK}
    assert "audit.retention_purge" in beat_tasks()


@override_settings(CELERY_BEAT_SCHEDULE=BEAT_WITH_TEST_JOBS)
def test_runs_are_counted_per_schema_and_a_success_clears_the_last_failure(acme, globex):
    with tenant_context(acme):
        boom.apply()
        fine.apply()
        fine.apply()
    with tenant_context(globex):
        fine.apply()
    fine.apply()  # in the public schema

    acme_fine = JobRun.objects.get(task="tests.monitoring.fine", schema_name="acme")
    assert (acme_fine.runs, acme_fine.failures, acme_fine.failing) == (2, 0, False)
    assert acme_fine.last_started_at <= acme_fine.last_succeeded_at
    assert set(JobRun.objects.filter(task="tests.monitoring.fine").values_list("schema_name", flat=True)) == {
        "acme",
        "globex",
        "public",
    }
    assert JobRun.objects.get(task="tests.monitoring.boom", schema_name="acme").failing  # its own record

    JobRun.objects.filter(task="tests.monitoring.fine", schema_name="acme").update(last_error="LookupError")
    with tenant_context(acme):
        fine.apply()
    assert JobRun.objects.get(task="tests.monitoring.fine", schema_name="acme").last_error == ""


@override_settings(CELERY_BEAT_SCHEDULE=BEAT_WITH_TEST_JOBS)
def test_a_database_that_refuses_the_record_does_not_fail_the_job(acme, monkeypatch, caplog):
    from operations.monitoring import receivers

    class RefusingCursor:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, *args):
            raise DatabaseError("the database is read-only")

    class RefusingConnection:
        def cursor(self):
            return RefusingCursor()

    monkeypatch.setattr(receivers, "connection", RefusingConnection())
    with tenant_context(acme), caplog.at_level(logging.WARNING, logger="operations.monitoring.receivers"):
        result = fine.apply()
    assert result.get() == "done"
    assert result.successful()
    assert "could not record started of tests.monitoring.fine in acme: DatabaseError" in caplog.text
    assert not JobRun.objects.filter(task="tests.monitoring.fine").exists()
