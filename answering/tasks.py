"""The answering desk's Celery tasks: thin wrappers that take ids, call a service in
`answering/services/`, and hold Celery's retry schedule. Each runs in the tenant schema it was sent
from (tenant-schemas-celery), is `acks_late`, and is idempotent by its attempt's key."""

from __future__ import annotations

from celery import shared_task
from django.db import connection

from answering.models import DeliveryAttempt
from answering.selectors import line_list
from answering.services.delivery import (
    MAX_DELIVERY_ATTEMPTS,
    WEBHOOK_MAX_ATTEMPTS,
    message_deliver,
    webhook_deliver,
)
from answering.services.escalation import escalation_send
from gates.context import system_context


@shared_task(name="answering.schema_probe")
@system_context(reason="schema probe")
def schema_probe() -> dict:
    """Report which schema a worker ran this task in, and which lines it sees there.

    Used by the operator (and the test suite) to prove that a task runs in the tenant it was sent
    from.
    """
    return {"schema": connection.schema_name, "lines": [line.phone_number for line in line_list()]}


@shared_task(name="answering.deliver_message", bind=True, acks_late=True, max_retries=MAX_DELIVERY_ATTEMPTS - 1)
@system_context(reason="deliver a message to the client")
def deliver_message(self, message_id: int) -> list[str]:
    """Deliver a message by its line's routes (`message_deliver`); failed routes are retried with
    exponential backoff, and the message is marked failed when the retries run out."""
    delivery = message_deliver(
        message_id=message_id, first_try=self.request.retries == 0, last_try=self.request.retries >= self.max_retries
    )
    if delivery.retry:
        raise self.retry(countdown=min(30 * 2**self.request.retries, 3600))
    return delivery.sent


@shared_task(name="answering.send_escalation", acks_late=True)
@system_context(reason="escalate an urgent message")
def send_escalation(message_id: int, staff_id: int, level: int) -> str:
    """Tell a person on call that an urgent message waits (`escalation_send`)."""
    return escalation_send(message_id=message_id, staff_id=staff_id, level=level)


@shared_task(name="answering.deliver_webhook", bind=True, acks_late=True, max_retries=WEBHOOK_MAX_ATTEMPTS - 1)
@system_context(reason="deliver a message to the client")
def deliver_webhook(self, message_id: int, endpoint_id: int) -> str:
    """POST a message to the client's endpoint (`webhook_deliver`); a failed try is retried with
    exponential backoff, and dead-lettered by the service after the last one."""
    outcome = webhook_deliver(message_id=message_id, endpoint_id=endpoint_id, attempt_no=self.request.retries + 1)
    if outcome == DeliveryAttempt.Status.FAILED:
        raise self.retry(countdown=min(30 * 2**self.request.retries, 6 * 3600))
    return outcome
