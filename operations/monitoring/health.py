"""The health report behind `/health/` on the provider's host: database, broker, worker heartbeat
and the last run of every beat job. JSON, 200 when every check passes and 503 naming the checks
that fail. It names no person and no client company: counts, times and task names only, and an
error is reported by its exception class, never its text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from celery import current_app
from celery.schedules import schedule as interval_schedule
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from operations.monitoring.models import JobRun, WorkerHeartbeat
from operations.monitoring.receivers import HEARTBEAT_TASK
from tenants.models import ClientCompany

HEALTH_PATH = "/health/"
# A job is overdue when its last success (or, never having succeeded, its last start) is older
# than two of its intervals plus this.
JOB_GRACE = dt.timedelta(minutes=10)
# A heartbeat older than this many intervals means no worker is consuming the queue.
HEARTBEAT_INTERVALS = 4
BROKER_TIMEOUT_SECONDS = 3


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def check_broker() -> dict:
    """Connect to the configured Celery broker (Redis answers a PING when the channel opens)."""
    url = settings.CELERY_BROKER_URL
    with current_app.connection_for_write(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
        conn.default_channel  # noqa: B018  (opening a channel is what proves the broker answers)
    return {"ok": True, "transport": url.split("://", 1)[0]}


def check_worker(now: dt.datetime) -> dict:
    max_age = dt.timedelta(seconds=HEARTBEAT_INTERVALS * settings.WORKER_HEARTBEAT_SECONDS)
    beats = list(WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True))
    alive = [seen for seen in beats if now - seen <= max_age]
    latest = beats[0] if beats else None
    return {
        "ok": bool(alive),
        "workers_alive": len(alive),
        "last_heartbeat": _iso(latest),
        "age_seconds": round((now - latest).total_seconds()) if latest else None,
        "max_age_seconds": int(max_age.total_seconds()),
    }


def _every(entry: dict) -> dt.timedelta:
    sched = entry["schedule"]
    if isinstance(sched, int | float):
        return dt.timedelta(seconds=sched)
    if isinstance(sched, dt.timedelta):
        return sched
    if isinstance(sched, interval_schedule):
        return sched.run_every
    return dt.timedelta(days=1)  # a crontab: at least daily is the assumption worth alerting on


def check_jobs(now: dt.datetime) -> dict:
    """Per beat job: when it last ran and succeeded (latest over the schemas it runs in), and how
    many schemas have it failing (latest outcome a failure), overdue, or never run yet. A job that
    has never run is not a failure: beat first runs an entry one interval after it starts, and a
    beat that is not running at all shows as a stale worker heartbeat."""
    active = list(
        ClientCompany.objects.filter(kind=ClientCompany.Kind.CLIENT, status=ClientCompany.Status.ACTIVE).values_list(
            "schema_name", flat=True
        )
    )
    jobs, ok = {}, True
    for name, entry in sorted(settings.CELERY_BEAT_SCHEDULE.items()):
        if entry["task"] == HEARTBEAT_TASK:
            continue
        schemas = list(entry.get("tenant_schemas") or active)
        every = _every(entry)
        runs = list(JobRun.objects.filter(task=entry["task"], schema_name__in=schemas))
        failing = [run for run in runs if run.failing]
        overdue = [
            run for run in runs if (run.last_succeeded_at or run.last_started_at or now) < now - (2 * every + JOB_GRACE)
        ]
        started = [run.last_started_at for run in runs if run.last_started_at]
        succeeded = [run.last_succeeded_at for run in runs if run.last_succeeded_at]
        job_ok = not failing and not overdue
        ok = ok and job_ok
        jobs[name] = {
            "ok": job_ok,
            "task": entry["task"],
            "every_seconds": int(every.total_seconds()),
            "schemas": len(schemas),
            "last_run": _iso(max(started, default=None)),
            "last_success": _iso(max(succeeded, default=None)),
            "failing": len(failing),
            "overdue": len(overdue),
            "never_run": len(set(schemas) - {run.schema_name for run in runs}),
        }
    return {"ok": ok, "jobs": jobs}


def _run(check: Callable[[], dict]) -> dict:
    try:
        return check()
    except Exception as exc:  # any failure of a check is the answer, not a 500
        return {"ok": False, "error": type(exc).__name__}


def health_report(*, now: dt.datetime | None = None) -> dict:
    """Every check's result, and which failed."""
    now = now or timezone.now()
    checks = {"database": _run(check_database), "broker": _run(check_broker)}
    if checks["database"]["ok"]:
        with schema_context(get_public_schema_name()):
            checks["worker"] = _run(lambda: check_worker(now))
            checks["jobs"] = _run(lambda: check_jobs(now))
    else:
        checks["worker"] = checks["jobs"] = {"ok": False, "error": "database unavailable"}
    failed = [name for name, result in checks.items() if not result["ok"]]
    return {"status": "ok" if not failed else "unhealthy", "failed": failed, "time": now.isoformat(), "checks": checks}
