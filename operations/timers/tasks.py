from celery import shared_task

from operations.timers.services import timers_fire_due


@shared_task(name="timers.sweep", acks_late=True)
def timers_sweep() -> int:
    """Fire the due timers of the tenant this task was sent for (beat sends it to each)."""
    return timers_fire_due()
