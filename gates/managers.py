"""The fail-closed default manager of every model of our per-tenant apps.

`Model.objects` (and so `_default_manager`, `get_object_or_404`, reverse relations such as
`call.messages`, prefetches and `validate_unique`) asks the gate context first
(`gates.context.require`): outside a channel base or a named `system_context(reason=...)` it raises
`GateContextMissing`. Django's `_base_manager`, which `save()`, `refresh_from_db()`, deletion's
collector and forward foreign keys (`message.call`) use, stays a plain manager: those reach a row
already read through the gate, or write.

Migrations are untouched: `use_in_migrations` is False, so historical models in a migration keep
Django's plain manager (and the migration files do not name this one).
"""

from __future__ import annotations

from django.db import models
from guardian.managers import GroupObjectPermissionManager, UserObjectPermissionManager

from gates.context import current, require


class GatedQuerySet(models.QuerySet):
    """The queryset of a gated manager. A job's reads (a system context) are logged here, once per
    evaluation: which personal fields of which rows it loaded, as that job."""

    def _fetch_all(self):
        fresh = self._result_cache is None
        super()._fetch_all()
        if fresh and self._result_cache:
            _log_job_read(self.model, self._result_cache)

    def iterator(self, chunk_size=None):
        batch = []
        for row in super().iterator(chunk_size=chunk_size):
            batch.append(row)
            yield row
            if len(batch) >= (chunk_size or 2000):
                _log_job_read(self.model, batch)
                batch = []
        _log_job_read(self.model, batch)


def _log_job_read(model, results) -> None:
    from gates.signals import report_read
    from tenants.categories import personal_fields

    context = current()
    if context is None or context.is_person or not context.logged:
        return  # a person's reads are logged by the channel bases; the suite's own are not
    rows = [row for row in results if isinstance(row, models.Model)]
    personal = personal_fields(model)
    if not rows or not personal:
        return
    loaded = set(personal) - rows[0].get_deferred_fields()
    report_read(user=None, channel=context.channel, model=model, object_ids=[row.pk for row in rows], fields=loaded)


class _Gated:
    use_in_migrations = False
    gated = True  # what the construction test and the system check look for

    def get_queryset(self):
        require(self.model)
        return super().get_queryset()

    def none(self):
        # Reads nothing, so needs no context: a form field declared at import starts empty and
        # gets its gated choices in the view.
        return super().get_queryset().none()


class GatedManager(_Gated, models.Manager.from_queryset(GatedQuerySet)):
    """The default manager of a tenant model: `objects = GatedManager()`."""


class GatedUserObjectPermissionManager(_Gated, UserObjectPermissionManager):
    """guardian's manager of a direct-FK user grant table, gated the same way."""


class GatedGroupObjectPermissionManager(_Gated, GroupObjectPermissionManager):
    """guardian's manager of a direct-FK group grant table, gated the same way."""


def is_gated(model: type[models.Model]) -> bool:
    return getattr(model._default_manager, "gated", False)
