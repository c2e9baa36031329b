"""The admin's history belongs to its company.

Django's admin log (`django.contrib.admin.models.LogEntry`) names an object by content type and
id only, and ids repeat from one company's schema to the next. So the log is installed in every
company's schema as well as in public (`config/settings.py`, TENANT_APPS): a change made while
working for a company is written in that company's schema, and its history page, which the gated
admin serves inside the company, reads that company's log and no other.

The index's "Recent actions" is the one other reader, and it reads here.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django_tenants.utils import tenant_context

from tenants.models import ClientCompany, User


def _tenant_only_labels() -> list[str]:
    def listed(config, names) -> bool:
        return config.name in names or f"{config.__module__}.{type(config).__name__}" in names

    return [
        config.label
        for config in apps.get_app_configs()
        if listed(config, settings.TENANT_APPS) and not listed(config, settings.SHARED_APPS)
    ]


def admin_log_recent(*, user: User, company: ClientCompany | None, limit: int = 10) -> list[LogEntry]:
    """The person's latest admin actions where they work now: for a company (already admitted by
    gate 1, as the switcher's choice is), that company's own log; on the provider's own pages, the
    public records' only. The public log also holds entries about companies' records written before
    each company had a log of its own; they say nothing of which company, so they are never shown."""
    entries = LogEntry.objects.filter(user=user).select_related("content_type").order_by("-action_time")
    if company is None:
        return list(entries.exclude(content_type__app_label__in=_tenant_only_labels())[:limit])
    with tenant_context(company):
        return list(entries[:limit])
