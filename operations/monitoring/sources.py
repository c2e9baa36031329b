"""Monitoring's own metrics: how fresh the workers' heartbeat is, and each beat job's last
success and state per schema, so Prometheus can alert on them as /health/ does."""

from __future__ import annotations

from django.utils import timezone

from operations.monitoring.models import JobRun, WorkerHeartbeat
from operations.monitoring.registry import gauge


@gauge("vastaja_worker_heartbeat_age_seconds", "Seconds since a worker last ran the heartbeat task")
def worker_heartbeat_age():
    latest = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    if latest is not None:
        yield (), (timezone.now() - latest).total_seconds()


@gauge(
    "vastaja_job_last_success_timestamp_seconds",
    "When a beat job last succeeded, per schema",
    labels=("task", "schema"),
)
def job_last_success():
    for run in JobRun.objects.exclude(last_succeeded_at=None):
        yield (run.task, run.schema_name), run.last_succeeded_at.timestamp()


@gauge("vastaja_job_failing", "1 when a beat job's latest outcome in a schema is a failure", labels=("task", "schema"))
def job_failing():
    for run in JobRun.objects.all():
        yield (run.task, run.schema_name), int(run.failing)
