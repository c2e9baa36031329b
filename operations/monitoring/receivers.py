"""Workers record each beat job's last start, success and failure per schema (`JobRun`), from
Celery's task signals: no job has to remember to report, and a job that raises is recorded too."""

from __future__ import annotations

import logging

from celery.signals import task_failure, task_prerun, task_success
from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from django_tenants.utils import get_public_schema_name
from tenant_schemas_celery.app import get_schema_name_from_task

from operations.monitoring.models import JobRun

logger = logging.getLogger(__name__)
HEARTBEAT_TASK = "monitoring.heartbeat"


def beat_tasks() -> set[str]:
    """The task names beat sends; the heartbeat has a check of its own."""
    return {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} - {HEARTBEAT_TASK}


def _record(task, outcome: str, error: str = "") -> None:
    if task is None or task.name not in beat_tasks():
        return
    schema = get_schema_name_from_task(task, {}) or get_public_schema_name()
    table = f'"{get_public_schema_name()}"."{JobRun._meta.db_table}"'
    now = timezone.now()
    column, extra = {
        "started": ("last_started_at", "runs = t.runs + 1"),
        "succeeded": ("last_succeeded_at", "last_error = ''"),
        "failed": ("last_failed_at", "failures = t.failures + 1, last_error = EXCLUDED.last_error"),
    }[outcome]
    sql = (
        f"INSERT INTO {table} AS t (task, schema_name, {column}, last_error, runs, failures) "
        f"VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (task, schema_name) "
        f"DO UPDATE SET {column} = EXCLUDED.{column}, {extra}"
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, [task.name, schema, now, error, int(outcome == "started"), int(outcome == "failed")])
    except DatabaseError as exc:
        # Monitoring must never fail the job it watches; a database that is down shows in /health/.
        logger.warning("could not record %s of %s in %s: %s", outcome, task.name, schema, type(exc).__name__)


@task_prerun.connect(dispatch_uid="monitoring_job_started")
def job_started(sender=None, task=None, **kwargs):
    _record(task or sender, "started")


@task_success.connect(dispatch_uid="monitoring_job_succeeded")
def job_succeeded(sender=None, **kwargs):
    _record(sender, "succeeded")


@task_failure.connect(dispatch_uid="monitoring_job_failed")
def job_failed(sender=None, exception=None, **kwargs):
    # The exception's class only: its text could quote data.
    _record(sender, "failed", type(exception).__name__[:200] if exception is not None else "")
