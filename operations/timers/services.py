"""Schedule, cancel and fire timers in the current tenant's schema."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from operations.timers.models import Timer
from operations.timers.registry import HANDLERS
from tenants.errors import ApplicationError
from tenants.scrub import provider_text_scrub

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def timer_schedule(*, kind: str, target_id: str | int, due_at: dt.datetime) -> Timer:
    """Set the pending timer for (kind, target) to fire at `due_at`, replacing any earlier one."""
    if timezone.is_naive(due_at):
        raise ApplicationError("due_at must carry a time zone", field="due_at")
    if kind not in HANDLERS:
        raise ApplicationError(f"no handler is registered for timer kind '{kind}'", field="kind")
    with transaction.atomic():
        timer, _ = Timer.objects.select_for_update().update_or_create(
            kind=kind,
            target_id=str(target_id),
            fired_at__isnull=True,
            cancelled_at__isnull=True,
            defaults={"due_at": due_at, "attempts": 0, "last_error": ""},
        )
    return timer


def timer_cancel(*, kind: str, target_id: str | int) -> int:
    """Cancel the pending timer for (kind, target), if any. Returns how many were cancelled."""
    return Timer.objects.filter(
        kind=kind, target_id=str(target_id), fired_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=timezone.now())


def timers_fire_due(*, now: dt.datetime | None = None, batch_size: int = 100) -> int:
    """Fire the due timers, each in its own transaction. Returns how many fired.

    Rows are claimed with SKIP LOCKED, so two sweeps running at once never fire one timer twice.
    A failing handler is retried on later sweeps with a growing delay, up to MAX_ATTEMPTS.
    """
    now = now or timezone.now()
    fired = 0
    while True:
        with transaction.atomic():
            timers = list(
                Timer.objects.select_for_update(skip_locked=True)
                .filter(fired_at__isnull=True, cancelled_at__isnull=True, due_at__lte=now, attempts__lt=MAX_ATTEMPTS)
                .order_by("due_at")[:batch_size]
            )
            for timer in timers:
                fired += _fire(timer, now=now)
        if len(timers) < batch_size:
            return fired


def _fire(timer: Timer, *, now: dt.datetime) -> int:
    handler = HANDLERS.get(timer.kind)
    try:
        if handler is None:
            raise LookupError(f"no handler registered for timer kind '{timer.kind}'")
        with transaction.atomic():
            handler(timer.target_id)
    except Exception as exc:  # a handler's failure must not stop the other timers of the sweep
        logger.exception("timer %s failed", timer.pk)
        timer.attempts += 1
        timer.last_error = provider_text_scrub(f"{exc.__class__.__name__}: {exc}", limit=2000)
        timer.due_at = now + dt.timedelta(seconds=30 * 2**timer.attempts)
        timer.save(update_fields=["attempts", "last_error", "due_at"])
        return 0
    timer.fired_at = now
    timer.save(update_fields=["fired_at"])
    return 1
