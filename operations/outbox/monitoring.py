"""The outbox's metrics and alert (collected by operations.monitoring): counts and ids only."""

from __future__ import annotations

import datetime as dt

from django.db.models import Min
from django.utils import timezone

from operations.monitoring.registry import Alert, alert_source, gauge
from operations.outbox.models import OutboxEntry
from operations.outbox.services import MAX_HANDOFFS


@gauge("vastaja_outbox_waiting", "Outbox rows due and not yet done (the broker or the workers behind)", per_tenant=True)
def outbox_waiting():
    yield (), OutboxEntry.objects.filter(done_at__isnull=True, due_at__lte=timezone.now()).count()


@gauge("vastaja_outbox_oldest_age_seconds", "Age of the oldest outbox row due and not done", per_tenant=True)
def outbox_oldest_age():
    oldest = OutboxEntry.objects.filter(done_at__isnull=True, due_at__lte=timezone.now()).aggregate(at=Min("due_at"))[
        "at"
    ]
    yield (), (timezone.now() - oldest).total_seconds() if oldest else 0


@alert_source("outbox_stuck", per_tenant=True)
def stuck(now: dt.datetime):
    """A row handed MAX_HANDOFFS times that never succeeded: the relay has stopped handing it."""
    for pk, task, error in OutboxEntry.objects.filter(done_at__isnull=True, handoffs__gte=MAX_HANDOFFS).values_list(
        "pk", "task", "last_error"
    ):
        yield Alert(
            kind="outbox_stuck",
            object_key=f"outbox:{pk}",
            subject=f"Outbox row #{pk} ({task}) stopped after {MAX_HANDOFFS} hand-offs",
            facts=[("Outbox row", f"#{pk}"), ("Task", task), ("Last error", error or "none recorded")],
        )
