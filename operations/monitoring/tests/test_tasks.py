"""Monitoring's tasks: the heartbeat records the worker that runs it; and across processes, a real
worker's heartbeat and beat jobs reach the web process's /health/ and /metrics."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import RetentionRun
from audit.tasks import retention_purge_task
from operations.monitoring.models import JobRun, WorkerHeartbeat
from operations.monitoring.tasks import heartbeat
from operations.monitoring.tests.test_metrics import value
from tenants.models import ClientCompany
from tests.fixtures import requires_redis


@pytest.fixture
def worker_rows(django_db_blocker):
    """What the worker commits outlives the test's transaction: removed afterwards."""
    yield
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        WorkerHeartbeat.objects.all().delete()
        JobRun.objects.all().delete()
        with tenant_context(ClientCompany.objects.get(schema_name="initech")):
            RetentionRun.objects.filter(dry_run=False).delete()
        connection.set_schema_to_public()


@requires_redis
@pytest.mark.celery_worker
def test_the_worker_s_heartbeat_and_jobs_reach_health_and_metrics(
    worker_rows, celery_worker_queue, initech, client_for
):
    web = client_for("localhost")
    assert web.get("/health/").json()["checks"]["worker"]["ok"] is False
    before = web.get("/metrics").content.decode()

    hostname = heartbeat.apply_async(queue=celery_worker_queue).get(timeout=90)
    with tenant_context(initech):
        report = retention_purge_task.apply_async(queue=celery_worker_queue).get(timeout=90)
    assert "nothing is purged" in report["policy"]  # initech has no DPA in force

    health = web.get("/health/").json()
    assert health["checks"]["worker"]["ok"] is True
    assert WorkerHeartbeat.objects.get().hostname == hostname
    run = JobRun.objects.get(task="audit.retention_purge", schema_name="initech")
    assert run.last_succeeded_at is not None
    assert not run.failing
    assert health["checks"]["jobs"]["jobs"]["retention-purge"]["last_success"] == run.last_succeeded_at.isoformat()

    after = web.get("/metrics").content.decode()
    assert value(after, "vastaja_purge_runs_total", tenant="initech") == (
        value(before, "vastaja_purge_runs_total", tenant="initech") + 1
    )
    assert (
        value(after, "vastaja_job_last_success_timestamp_seconds", task="audit.retention_purge", schema="initech")
        == run.last_succeeded_at.timestamp()
    )


def test_the_heartbeat_task_records_the_worker(db):
    from operations.monitoring.tasks import heartbeat

    heartbeat.apply()
    assert WorkerHeartbeat.objects.count() == 1
    assert timezone.now() - WorkerHeartbeat.objects.get().seen_at < dt.timedelta(seconds=5)
