"""Scheduling's Celery tasks: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from gates.context import system_context
from operations.outbox.retry import DATABASE_RETRY, schema_check
from scheduling.services import TASK_SEND_APPOINTMENT_MESSAGE, appointment_message_send


@shared_task(name=TASK_SEND_APPOINTMENT_MESSAGE, bind=True, **DATABASE_RETRY)
@system_context(reason="appointment reminder")
def send_appointment_message(self, appointment_id: int, kind: str, key: str | None = None) -> list[str]:
    """Send a reminder or change notice for one appointment (idempotent: see the service)."""
    schema_check(self)
    return appointment_message_send(appointment_id=appointment_id, kind=kind, key=key)
