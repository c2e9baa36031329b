"""The answering desk's Celery tasks: thin wrappers that take ids, call a service in
`answering/services/`, and hold Celery's retry schedule. Each runs in the tenant schema it was sent
from (tenant-schemas-celery), is `acks_late`, is idempotent by its attempt's key, and retries with
backoff while the database is away (`operations/outbox/retry.py`). Retries of a failed send are
outbox rows due later, never a long countdown in the broker."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import connection

from answering.models import DeliveryAttempt
from answering.selectors import line_list
from answering.services.delivery import (
    MAX_DELIVERY_ATTEMPTS,
    TASK_DELIVER_MESSAGE,
    TASK_DELIVER_WEBHOOK,
    delivery_retry_later,
    message_deliver,
    webhook_deliver,
)
from answering.services.escalation import TASK_SEND_ESCALATION, escalation_send
from gates.context import system_context
from operations.outbox.retry import DATABASE_RETRY, schema_check


@shared_task(name="answering.schema_probe")
@system_context(reason="schema probe")
def schema_probe() -> dict:
    """Report which schema a worker ran this task in, and which lines it sees there.

    Used by the operator (and the test suite) to prove that a task runs in the tenant it was sent
    from.
    """
    return {"schema": connection.schema_name, "lines": [line.phone_number for line in line_list()]}


def _backoff(try_no: int, cap: int) -> int:
    return min(30 * 2 ** (try_no - 1), cap)


@shared_task(name=TASK_DELIVER_MESSAGE, bind=True, **DATABASE_RETRY)
@system_context(reason="deliver a message to the client")
def deliver_message(self, message_id: int, try_no: int = 1) -> list[str]:
    """Deliver a message by its line's routes (`message_deliver`); failed routes are tried again
    with exponential backoff, and the message is marked failed when the tries run out."""
    schema_check(self)
    delivery = message_deliver(message_id=message_id, first_try=try_no == 1, last_try=try_no >= MAX_DELIVERY_ATTEMPTS)
    if delivery.busy:
        raise self.retry(countdown=settings.DELIVERY_SENDING_TIMEOUT)
    if delivery.retry:
        delivery_retry_later(
            task=TASK_DELIVER_MESSAGE,
            args=[message_id, try_no + 1],
            key=f"deliver:{message_id}:{try_no + 1}",
            countdown=_backoff(try_no, 3600),
        )
    return delivery.sent


@shared_task(name=TASK_SEND_ESCALATION, bind=True, **DATABASE_RETRY)
@system_context(reason="escalate an urgent message")
def send_escalation(self, message_id: int, staff_id: int, level: int) -> str:
    """Tell a person on call that an urgent message waits (`escalation_send`)."""
    schema_check(self)
    outcome = escalation_send(message_id=message_id, staff_id=staff_id, level=level)
    if outcome == "busy":
        raise self.retry(countdown=settings.DELIVERY_SENDING_TIMEOUT)
    return outcome


@shared_task(name=TASK_DELIVER_WEBHOOK, bind=True, **DATABASE_RETRY)
@system_context(reason="deliver a message to the client")
def deliver_webhook(self, message_id: int, endpoint_id: int, attempt_no: int = 1) -> str:
    """POST a message to the client's endpoint (`webhook_deliver`); a failed try is tried again
    with exponential backoff, and dead-lettered by the service after the last one."""
    schema_check(self)
    outcome = webhook_deliver(message_id=message_id, endpoint_id=endpoint_id, attempt_no=attempt_no)
    if outcome == "busy":
        raise self.retry(countdown=settings.DELIVERY_SENDING_TIMEOUT)
    if outcome == DeliveryAttempt.Status.FAILED:
        delivery_retry_later(
            task=TASK_DELIVER_WEBHOOK,
            args=[message_id, endpoint_id, attempt_no + 1],
            key=f"webhook:{message_id}:{endpoint_id}:{attempt_no + 1}",
            countdown=_backoff(attempt_no, 6 * 3600),
        )
    return outcome
