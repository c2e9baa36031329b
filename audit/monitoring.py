"""Retention and data-subject-request metrics and alerts (collected by operations.monitoring).
Requests are read by id, state and deadline only: their encrypted identifiers are never loaded."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from audit.models import DataSubjectRequest, RetentionRun
from operations.monitoring.models import JobRun
from operations.monitoring.registry import Alert, alert_source, counter, gauge

PURGE_TASK = "audit.retention_purge"
# A purge still unfinished this long after it started has died (a real one takes minutes).
PURGE_STALE = dt.timedelta(hours=1)
DSAR_WARNING = dt.timedelta(days=3)
RECENT = dt.timedelta(days=7)


@counter("vastaja_purge_runs", "Retention purge runs finished (dry runs excluded)", per_tenant=True)
def purge_runs():
    yield (), RetentionRun.objects.filter(dry_run=False, finished_at__isnull=False).count()


@counter(
    "vastaja_purged_rows",
    "Rows purged by retention, by kind of record (dry runs excluded)",
    labels=("kind",),
    per_tenant=True,
)
def purged_rows():
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT kv.key, SUM(kv.value::bigint) FROM {RetentionRun._meta.db_table} AS r, "
            "jsonb_each_text(r.report -> 'purged') AS kv WHERE NOT r.dry_run GROUP BY kv.key ORDER BY kv.key"
        )
        yield from (((kind,), total) for kind, total in cursor.fetchall())


def _failed_purges(now: dt.datetime):
    """Runs that did not finish: they raised (the worker recorded the failure) or died."""
    failed_at = (
        JobRun.objects.filter(task=PURGE_TASK, schema_name=connection.schema_name)
        .values_list("last_failed_at", flat=True)
        .first()
    )
    died = Q(started_at__lt=now - PURGE_STALE)
    if failed_at is not None:
        died |= Q(started_at__lte=failed_at)
    return RetentionRun.objects.filter(died, dry_run=False, finished_at__isnull=True)


@gauge("vastaja_purge_runs_failed", "Retention purge runs of the last 7 days that did not finish", per_tenant=True)
def purge_runs_failed():
    now = timezone.now()
    yield (), _failed_purges(now).filter(started_at__gte=now - RECENT).count()


@gauge("vastaja_dsars_overdue", "Open data-subject requests past their due date", per_tenant=True)
def dsars_overdue():
    yield (
        (),
        DataSubjectRequest.objects.filter(status=DataSubjectRequest.Status.OPEN, due_at__lt=timezone.now()).count(),
    )


@alert_source("purge_failed", per_tenant=True)
def purge_failed(now: dt.datetime):
    for pk, started in _failed_purges(now).filter(started_at__gte=now - RECENT).values_list("pk", "started_at"):
        yield Alert(
            kind="purge_failed",
            object_key=f"run:{pk}",
            subject=f"Retention purge run #{pk} failed",
            facts=[
                ("Retention run", f"#{pk}"),
                ("Started", started.isoformat(timespec="minutes")),
                (
                    "What to do",
                    "see the worker's log; the next run resumes where this one stopped "
                    "(manage.py retention_purge --tenant <company>)",
                ),
            ],
        )


@alert_source("dsar_due", per_tenant=True)
def dsar_due(now: dt.datetime):
    rows = DataSubjectRequest.objects.filter(status=DataSubjectRequest.Status.OPEN, due_at__lte=now + DSAR_WARNING)
    for pk, kind, due in rows.values_list("pk", "kind", "due_at"):
        state = "overdue" if due < now else "due"
        yield Alert(
            kind="dsar_due",
            object_key=f"dsr:{pk}:{due:%Y-%m-%d}",
            subject=f"Data-subject request #{pk} {state} {due:%Y-%m-%d %H:%M} UTC",
            facts=[
                ("Request", f"#{pk} ({kind})"),
                ("Due", due.isoformat(timespec="minutes")),
                ("Hours left", f"{(due - now).total_seconds() / 3600:.0f}"),
            ],
        )
