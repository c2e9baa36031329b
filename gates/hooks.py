"""Where the gate context starts empty: every Celery task and every management command (every HTTP
request: `gates.middleware.GateContextMiddleware`). Each restores the context it found when it
ends, so a test that drives a task or a command keeps its own afterwards."""

from __future__ import annotations

from functools import wraps

from django.apps import apps
from django.core import checks

from gates.context import cleared
from gates.engine import is_tenant_model
from gates.managers import is_gated

_task_contexts: dict[str, list] = {}


def _task_started(sender=None, task_id=None, **kwargs):
    context = cleared("task")
    context.__enter__()
    _task_contexts.setdefault(task_id, []).append(context)


def _task_ended(sender=None, task_id=None, **kwargs):
    stack = _task_contexts.get(task_id)
    if stack:
        stack.pop().__exit__(None, None, None)
        if not stack:
            del _task_contexts[task_id]


def clear_in_tasks() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_started, dispatch_uid="gates.task_started", weak=False)
    task_postrun.connect(_task_ended, dispatch_uid="gates.task_ended", weak=False)


def clear_in_commands() -> None:
    """Every management command, ours and Django's, starts with no gate context (Django has no
    signal for a command's start, so its `execute` is wrapped once)."""
    from django.core.management.base import BaseCommand

    if getattr(BaseCommand.execute, "_gate_cleared", False):
        return
    execute = BaseCommand.execute

    @wraps(execute)
    def execute_cleared(self, *args, **options):
        with cleared("command"):
            return execute(self, *args, **options)

    execute_cleared._gate_cleared = True
    BaseCommand.execute = execute_cleared


def owned_tenant_models() -> list:
    """Every model of our own per-tenant apps: the ones the gated manager must guard. The
    third-party tenant tables (auditlog's, guardian's generic ones, the admin's log) are read only
    inside the gate layer and are not listed (README, "The three gates")."""
    return [
        model
        for config in apps.get_app_configs()
        if not config.name.startswith(("django.", "guardian", "auditlog")) and config.label != "admin"
        for model in config.get_models()
        if is_tenant_model(model)
    ]


def check_tenant_models_gated(app_configs=None, **kwargs):
    return [
        checks.Error(
            f"{model._meta.label} is a tenant model without a gated default manager",
            hint="declare objects = GatedManager() (gates.managers)",
            obj=model,
            id="gates.E001",
        )
        for model in owned_tenant_models()
        if not is_gated(model)
    ]
