from celery import shared_task
from django.conf import settings

from desk.services import desk_tick


@shared_task(name="desk.tick", acks_late=True, ignore_result=True)
def desk_tick_task() -> dict[str, int] | None:
    """Beat sends this to the public schema every DESK_TICK_SECONDS. With the in-memory channel
    layer (no Redis) a worker could not reach the web process's consoles, so the web process runs
    the pass itself (desk/ticker.py) and this one stands aside."""
    if settings.DESK_TICK_IN_WEB or not settings.CHANNEL_LAYER_URL:
        return None
    return desk_tick()
