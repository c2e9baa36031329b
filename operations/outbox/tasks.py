from celery import shared_task

from operations.outbox.services import outbox_relay


@shared_task(name="outbox.relay", acks_late=True)
def outbox_relay_task() -> int:
    """Hand the due outbox rows of the tenant this task was sent for (beat sends it to each)."""
    return outbox_relay()
