"""Writes of monitoring's own records."""

from __future__ import annotations

import datetime as dt
import socket

from django.utils import timezone

from operations.monitoring.models import WorkerHeartbeat


def heartbeat_record(*, hostname: str, at: dt.datetime | None = None) -> str:
    """Record that the worker `hostname` is alive now (one row per worker, updated in place)."""
    hostname = (hostname or f"celery@{socket.gethostname()}")[:200]
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": at or timezone.now()})
    return hostname
