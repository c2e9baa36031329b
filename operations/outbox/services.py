"""Write, relay and settle outbox rows in the current tenant's schema (see models.py for why)."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import tenant_context

from gates.context import system_context
from operations.outbox.models import OutboxEntry

logger = logging.getLogger(__name__)
# A row handed this many times without success stops being relayed and raises an alert instead.
MAX_HANDOFFS = 20
TASK_ID_PREFIX = "outbox"


def outbox_put(*, task: str, args: list, key: str, due_at: dt.datetime | None = None) -> None:
    """Record a side effect in the caller's transaction: the relay hands it to `task` once the
    transaction has committed and `due_at` has come. A row with the same key is kept as it is, so
    putting a side effect twice does it once. `args` are ids and keys, never personal values."""
    OutboxEntry.objects.bulk_create(
        [OutboxEntry(task=task, args=list(args), key=key[:200], due_at=due_at or timezone.now())],
        ignore_conflicts=True,
    )
    if due_at is None or due_at <= timezone.now():
        tenant = connection.tenant
        transaction.on_commit(lambda: outbox_wake(tenant=tenant))


@system_context(reason="outbox relay")
def outbox_relay(*, now: dt.datetime | None = None, batch_size: int = 100) -> int:
    """Hand the due rows to Celery and mark them handed. Returns how many were handed.

    Safe to run twice at once: rows are claimed with SKIP LOCKED, and a row handed twice all the same
    (a lease ran out) finds its task idempotent. The broker down: the row stays as it was, the run
    stops, and the next run (beat, or the next wake-up) hands it."""
    now = now or timezone.now()
    handed = 0
    while True:
        with transaction.atomic():
            rows = list(
                OutboxEntry.objects.select_for_update(skip_locked=True)
                .filter(done_at__isnull=True, due_at__lte=now, handoffs__lt=MAX_HANDOFFS)
                .order_by("due_at", "pk")[:batch_size]
            )
            for row in rows:
                try:
                    _publish(row)
                except Exception as exc:  # any failure to publish keeps the row for the next run
                    logger.warning("outbox: the broker is unavailable (%s); rows wait", type(exc).__name__)
                    OutboxEntry.objects.filter(pk=row.pk).update(last_error=f"publish: {type(exc).__name__}"[:300])
                    return handed
                # Due again only if its task has not succeeded by then: one lease at first, doubling
                # at each hand-off, so a backlog of the workers is not handed over and over.
                again = now + dt.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS * 2**row.handoffs)
                OutboxEntry.objects.filter(pk=row.pk).update(handed_at=now, handoffs=F("handoffs") + 1, due_at=again)
                handed += 1
        if len(rows) < batch_size:
            return handed


def outbox_task_id(entry_id: int) -> str:
    """The Celery task id of a row's task: the same at every hand-off, so it names the side effect."""
    return f"{TASK_ID_PREFIX}:{connection.schema_name}:{entry_id}"


def outbox_entry_of(task_id: str | None) -> tuple[str, int] | None:
    """(schema, row id) from a task id made by `outbox_task_id`, or None for any other task."""
    prefix, _, rest = (task_id or "").partition(":")
    schema, _, pk = rest.rpartition(":")
    if prefix != TASK_ID_PREFIX or not schema or not pk.isdigit():
        return None
    return schema, int(pk)


def _publish(row: OutboxEntry) -> None:
    from celery import current_app

    if current_app.conf.task_always_eager:  # unit tests: run it here, as a worker would
        if row.task not in current_app.tasks:
            current_app.loader.import_default_modules()  # the apps' tasks modules
        current_app.tasks[row.task].apply_async(args=row.args, task_id=outbox_task_id(row.pk))
        return
    # By name: a web process need not have imported the task's module. No result is waited for, so
    # publishing never subscribes to the result backend; retry=False so that a broker that is down
    # fails at once (bounded by the connect timeout), not after a retry loop.
    current_app.send_task(row.task, args=row.args, task_id=outbox_task_id(row.pk), ignore_result=True, retry=False)


@system_context(reason="outbox relay")
def outbox_settle(*, entry_id: int, error: str = "") -> None:
    """A row's task finished: done when it succeeded; with `error` (the exception's class only) it
    stays open, and is handed again when its lease runs out."""
    if error:
        OutboxEntry.objects.filter(pk=entry_id, done_at__isnull=True).update(last_error=error[:300])
    else:
        OutboxEntry.objects.filter(pk=entry_id, done_at__isnull=True).update(done_at=timezone.now(), last_error="")


def outbox_wake(*, tenant) -> None:
    """Relay a schema's due rows now, without blocking the caller: from a request that has just
    committed, the relay runs in a background thread of this process, so a broker that is down
    delays the work and never the answer. Inline in eager mode (unit tests)."""
    from celery import current_app

    if current_app.conf.task_always_eager:
        with tenant_context(tenant):
            outbox_relay()
        return
    if settings.OUTBOX_WAKE_ON_COMMIT:
        _WAKER.wake(tenant)


class _Waker:
    """One daemon thread per process that relays the schemas it is woken for, coalescing wake-ups:
    a burst of commits costs one relay run per schema, and never a thread each."""

    def __init__(self):
        self._pending: dict[str, object] = {}
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def wake(self, tenant) -> None:
        with self._condition:
            self._pending[tenant.schema_name] = tenant
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
                self._thread.start()
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._pending:
                    self._condition.wait()
                tenants, self._pending = list(self._pending.values()), {}
            for tenant in tenants:
                try:
                    with tenant_context(tenant):
                        outbox_relay()
                except Exception as exc:  # the database down, say: beat relays the rows later
                    logger.warning("outbox wake-up in %s failed: %s", tenant.schema_name, type(exc).__name__)
            connections.close_all()  # this thread's own connections only


_WAKER = _Waker()
