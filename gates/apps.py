"""The gate layer as an app: where the gate context is cleared at the start of every Celery task and
every management command, and the check that every model of our per-tenant apps is gated."""

from __future__ import annotations

from django.apps import AppConfig


class GatesConfig(AppConfig):
    name = "gates"
    label = "gates"
    verbose_name = "Gates"

    def ready(self):
        from django.core import checks

        from gates import hooks

        hooks.clear_in_tasks()
        hooks.clear_in_commands()
        checks.register(hooks.check_tenant_models_gated, checks.Tags.models)
