"""Retention and data-subject-request metrics and alerts (collected by operations.monitoring).
Requests are read by id, state and deadline only: their encrypted identifiers are never loaded."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import connection
from django.db.models import Count, Min, Q
from django.utils import timezone

from audit.models import DataSubjectRequest, RetentionRun, SubProcessorUse
from audit.sealing import seal_lag
from operations.monitoring.models import JobRun
from operations.monitoring.registry import Alert, alert_source, counter, gauge
from tenants.integrations import integrations

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


# ---- sub-processors: the gate before every send (gates/outbound.py) ---------------------------


@counter(
    "vastaja_subprocessor_sends",
    "Sends of the company's data handed to a sub-processor, by integration (channel)",
    labels=("channel",),
    per_tenant=True,
)
def subprocessor_sends():
    counts = dict.fromkeys((i.key for i in integrations()), 0)
    for key, n in SubProcessorUse.objects.filter(allowed=True).values_list("integration").annotate(n=Count("id")):
        counts[key] = n
    for key, n in sorted(counts.items()):
        yield (key,), n


@counter(
    "vastaja_subprocessor_refusals",
    "Sends refused because the company's DPA does not authorise the sub-processor, by integration and why",
    labels=("channel", "kind"),
    per_tenant=True,
)
def subprocessor_refusals():
    # Every integration from zero, so the first refusal is an increase Prometheus can see.
    counts = {(i.key, "no_dpa"): 0 for i in integrations()}
    rows = SubProcessorUse.objects.filter(allowed=False).values_list("integration", "kind").annotate(n=Count("id"))
    for key, kind, n in rows:
        counts[(key, kind or "unknown")] = n
    for labels, n in sorted(counts.items()):
        yield labels, n


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@alert_source("subprocessor_refused", per_tenant=True)
def subprocessor_refused(now: dt.datetime):
    """Sends refused by the company's DPA: one alert per integration, reason and day, to the DPO and
    the company's supervisors, who decide whether the DPA or the set-up should change."""
    rows = (
        SubProcessorUse.objects.filter(allowed=False, at__gte=now - RECENT)
        .values("integration", "sub_processor", "kind", "reason", "at__date")
        .annotate(n=Count("id"), first=Min("at"))
        .order_by("first")
    )
    for row in rows:
        yield Alert(
            kind="subprocessor_refused",
            object_key=f"{row['integration']}:{row['kind']}:{row['at__date']}:{_digest(row['reason'])}",
            subject=f"Sends by {row['integration']} refused: the DPA does not authorise {row['sub_processor'] or 'it'}",
            facts=[
                ("Integration", row["integration"]),
                ("Sub-processor", row["sub_processor"] or "not named in the settings"),
                ("Why", row["reason"]),
                ("Refused sends that day", str(row["n"])),
                ("First", row["first"].isoformat(timespec="minutes")),
            ],
        )


@gauge(
    "vastaja_audit_seal_lag_seconds",
    "Age of the oldest audit entry waiting to be linked into the chain (0 when none waits)",
    per_tenant=True,
)
def audit_seal_lag():
    yield (), seal_lag().oldest_seconds


@gauge(
    "vastaja_audit_unsealed_overdue",
    "Audit entries waiting to be sealed for longer than AUDIT_SEAL_MAX_DELAY_SECONDS",
    per_tenant=True,
)
def audit_unsealed_overdue():
    yield (), seal_lag().overdue
