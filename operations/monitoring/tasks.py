from celery import shared_task

from operations.monitoring.alerts import alerts_sweep
from operations.monitoring.services import heartbeat_record


@shared_task(name="monitoring.heartbeat", bind=True)
def heartbeat(self) -> str:
    """Beat sends this every WORKER_HEARTBEAT_SECONDS: a worker that runs it is alive, connected to
    the broker and the database, and consuming the queue."""
    return heartbeat_record(hostname=self.request.hostname or "")


@shared_task(name="monitoring.alerts_sweep", acks_late=True)
def alerts_sweep_task() -> int:
    """Mail the alerts that are due and not sent yet (public schema; visits each company)."""
    return alerts_sweep()
