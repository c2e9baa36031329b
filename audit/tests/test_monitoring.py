"""Audit's metrics and alerts: a purge run that raised or died is failed (a running one is not),
an open request near or past its deadline is alerted with ids and dates only, and the counters
leave dry runs out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit import monitoring
from audit.models import DataSubjectRequest, RetentionRun
from operations.monitoring.models import JobRun
from tenants.models import User

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def _run(started_ago: dt.timedelta, *, finished: bool = False, dry_run: bool = False) -> RetentionRun:
    run = RetentionRun.objects.create(dry_run=dry_run, finished_at=NOW if finished else None, report={})
    RetentionRun.objects.filter(pk=run.pk).update(started_at=NOW - started_ago)
    return run


def test_a_run_that_died_or_raised_is_failed_and_a_running_or_finished_one_is_not(acme):
    with tenant_context(acme):
        failed_before = next(iter(monitoring.purge_runs_failed()))[1]
        died = _run(dt.timedelta(hours=2))
        running = _run(dt.timedelta(minutes=10))
        runs = [
            died,
            running,
            _run(dt.timedelta(hours=3), finished=True),
            _run(dt.timedelta(hours=3), dry_run=True),
            _run(dt.timedelta(days=8)),  # died, but longer ago than the alerts look back
        ]
        ours = {f"run:{run.pk}" for run in runs}
        assert {a.object_key for a in monitoring.purge_failed(NOW)} & ours == {f"run:{died.pk}"}
        assert list(monitoring.purge_runs_failed()) == [((), failed_before + 1)]

        # The worker recorded the running one's task as failed: it raised, it is not running.
        JobRun.objects.create(task=monitoring.PURGE_TASK, schema_name="acme", last_failed_at=NOW)
        failed = {a.object_key for a in monitoring.purge_failed(NOW)} & ours
        assert failed == {f"run:{died.pk}", f"run:{running.pk}"}


def test_a_request_due_within_three_days_or_overdue_is_alerted_by_id_and_date(acme):
    dpo = User.objects.get(username="dpo")
    with tenant_context(acme):
        overdue_before = next(iter(monitoring.dsars_overdue()))[1]

        def request(due_in: dt.timedelta, status=DataSubjectRequest.Status.OPEN) -> DataSubjectRequest:
            return DataSubjectRequest.objects.create(
                kind="access", email="mari@example.ee", raised_by=dpo, due_at=NOW + due_in, status=status
            )

        overdue = request(-dt.timedelta(hours=5))
        soon = request(dt.timedelta(days=2))
        later = request(dt.timedelta(days=4))  # not yet
        done = request(-dt.timedelta(days=1), status=DataSubjectRequest.Status.DONE)
        ours = {f"dsr:{r.pk}:{r.due_at:%Y-%m-%d}" for r in (overdue, soon, later, done)}
        alerts = {alert.object_key: alert for alert in monitoring.dsar_due(NOW) if alert.object_key in ours}
        assert list(monitoring.dsars_overdue()) == [((), overdue_before + 1)]
    assert set(alerts) == {f"dsr:{overdue.pk}:{overdue.due_at:%Y-%m-%d}", f"dsr:{soon.pk}:{soon.due_at:%Y-%m-%d}"}
    assert " overdue " in alerts[f"dsr:{overdue.pk}:{overdue.due_at:%Y-%m-%d}"].subject
    assert dict(alerts[f"dsr:{soon.pk}:{soon.due_at:%Y-%m-%d}"].facts)["Hours left"] == "48"
    assert all("mari" not in str(alert) for alert in alerts.values())


def test_the_purge_counters_leave_dry_runs_and_unfinished_runs_out(acme):
    with tenant_context(acme):
        runs_before = next(iter(monitoring.purge_runs()))[1]
        rows_before = dict(monitoring.purged_rows())
        RetentionRun.objects.create(finished_at=NOW, report={"purged": {"test bodies": 4, "test contacts": 1}})
        RetentionRun.objects.create(finished_at=NOW, report={"purged": {"test bodies": 2}})
        RetentionRun.objects.create(finished_at=NOW, dry_run=True, report={"purged": {"test bodies": 100}})
        RetentionRun.objects.create(report={})
        assert list(monitoring.purge_runs()) == [((), runs_before + 2)]
        rows = dict(monitoring.purged_rows())
    assert rows_before.keys().isdisjoint({("test bodies",), ("test contacts",)})
    assert (rows[("test bodies",)], rows[("test contacts",)]) == (6, 1)
    assert list(rows) == sorted(rows)
