from celery import shared_task

from gates.context import system_context


@shared_task(name="levels.rollup", acks_late=True)
@system_context(reason="analytics rollup")
def levels_rollup_task() -> int:
    """Yesterday's and today's service levels, for the company this task was sent for (beat, hourly)."""
    from levels.rollup import levels_rollup_recent

    return levels_rollup_recent()
