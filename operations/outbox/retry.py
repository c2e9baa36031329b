"""What a task handed by the outbox does when the database is away: it retries with backoff and is
not acknowledged as done. Spread into a task's decorator:

    @shared_task(name="...", bind=True, **DATABASE_RETRY)

The backoff stays under the broker's visibility_timeout (a countdown longer than it would be handed
out twice), and when the retries run out the task fails: its outbox row stays open, and the relay
hands it again once its lease is over.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError


class WrongSchema(Exception):
    """The worker could not switch to the task's schema (the database was away when it tried)."""


DATABASE_RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError, WrongSchema),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 60,
}


def schema_check(task) -> None:
    """Refuse to run a task anywhere but in the schema it was sent from: tenant-schemas-celery
    switches before the task runs, and a switch that met a database going away is only logged."""
    from django.db import connection
    from tenant_schemas_celery.app import get_schema_name_from_task

    wanted = get_schema_name_from_task(task, {})
    if wanted and connection.schema_name != wanted:
        raise WrongSchema(f"the task is for {wanted} and the connection is in {connection.schema_name}")
