from celery import shared_task

from audit.retention import retention_purge
from gates.context import system_context


@shared_task(name="audit.retention_purge", acks_late=True)
@system_context(reason="retention purge")
def retention_purge_task(dry_run: bool = False, batch: int | None = None) -> dict:
    """The daily purge, for the company this task was sent for (beat sends it to each)."""
    return retention_purge(dry_run=dry_run, **({"batch": batch} if batch else {})).report


@shared_task(name="audit.analytics_rollup", acks_late=True)
@system_context(reason="analytics rollup")
def analytics_rollup_task() -> int:
    """Yesterday's per-line statistics, for the company this task was sent for."""
    from audit.analytics import analytics_rollup_yesterday

    return analytics_rollup_yesterday()


@shared_task(name="audit.checkpoint", acks_late=True)
def audit_checkpoint_task() -> int | None:
    """The daily signed checkpoint of the chain head, for the company this task was sent for."""
    from audit.checkpoints import checkpoint_take

    checkpoint = checkpoint_take()
    return checkpoint.seq if checkpoint else None


@shared_task(name="audit.seal", acks_late=True)
def audit_seal_task() -> int:
    """Link the queued audit rows of the company this task was sent for (beat, every
    AUDIT_SEAL_SECONDS); if another sealer is at it, leave them to it."""
    from audit.sealing import audit_seal

    return audit_seal(wait=False).sealed
