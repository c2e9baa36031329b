"""Scheduling's Celery tasks: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from gates.context import system_context
from scheduling.services import appointment_message_send


@shared_task(name="scheduling.send_appointment_message", acks_late=True)
@system_context(reason="appointment reminder")
def send_appointment_message(appointment_id: int, kind: str, key: str | None = None) -> list[str]:
    """Send a reminder or change notice for one appointment (idempotent: see the service)."""
    return appointment_message_send(appointment_id=appointment_id, kind=kind, key=key)
