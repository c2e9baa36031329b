"""Helpers for tests of side effects, which are outbox rows (operations/outbox/)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def outbox_args(task: str) -> list[list]:
    """The arguments of the open outbox rows for `task`, in the current schema, oldest first."""
    from operations.outbox.models import OutboxEntry

    return [row.args for row in OutboxEntry.objects.filter(task=task, done_at__isnull=True).order_by("pk")]


def outbox_drain(*, ahead: dt.timedelta = dt.timedelta(days=2)) -> int:
    """Relay every row due within `ahead` until none is left (their tries' waits included). Needs
    the `eager_tasks` fixture: the tasks then run inline. Returns how many were handed."""
    from operations.outbox.services import outbox_relay

    total = 0
    while handed := outbox_relay(now=timezone.now() + ahead):
        total += handed
    return total
