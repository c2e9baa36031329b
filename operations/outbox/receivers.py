"""A task handed by the outbox settles its row when it ends (Celery's signals: no task has to
remember to). The row's schema and id are in the task id, so this needs no tenant context."""

from __future__ import annotations

import logging

from celery.signals import task_failure, task_success
from django.db import DatabaseError
from django_tenants.utils import schema_context

from operations.outbox.services import outbox_entry_of, outbox_settle

logger = logging.getLogger(__name__)


def _settle(task_id: str | None, error: str = "") -> None:
    entry = outbox_entry_of(task_id)
    if entry is None:
        return
    schema, entry_id = entry
    try:
        with schema_context(schema):
            outbox_settle(entry_id=entry_id, error=error)
    except DatabaseError as exc:
        # The row stays open and is handed again after its lease: the task is idempotent.
        logger.warning("outbox row %s in %s not settled: %s", entry_id, schema, type(exc).__name__)


@task_success.connect(dispatch_uid="outbox_task_succeeded")
def task_succeeded(sender=None, **kwargs):
    _settle(getattr(getattr(sender, "request", None), "id", None))


@task_failure.connect(dispatch_uid="outbox_task_failed")
def task_failed(sender=None, task_id=None, exception=None, **kwargs):
    # The exception's class only: its text could quote data.
    _settle(task_id, error=type(exception).__name__ if exception is not None else "failed")
