from celery import shared_task

from gates.context import system_context
from operations.timers.services import timers_fire_due


@shared_task(name="timers.sweep", acks_late=True)
@system_context(reason="timer sweep")
def timers_sweep() -> int:
    """Fire the due timers of the tenant this task was sent for (beat sends it to each)."""
    return timers_fire_due()
