"""The desk's periodic pass inside the web process, for the in-memory channel layer only (the demo
without Redis): pushes from any other process would reach no console. Several passes at once are
safe (SKIP LOCKED), so this never fights a worker's."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)
_started = threading.Event()


def ticker_start() -> bool:
    """Start the in-process pass once, where DESK_TICK_IN_WEB asks for it (the demo without Redis);
    False otherwise (beat runs it)."""
    if not settings.DESK_TICK_IN_WEB or _started.is_set():
        return False
    _started.set()
    threading.Thread(target=_run, name="desk-ticker", daemon=True).start()
    return True


def _run() -> None:
    from desk.services import desk_tick

    while True:
        time.sleep(settings.DESK_TICK_SECONDS)
        try:
            desk_tick()
        except Exception:
            logger.exception("desk tick failed; trying again in %s s", settings.DESK_TICK_SECONDS)
        finally:
            close_old_connections()
