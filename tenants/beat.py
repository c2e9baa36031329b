"""Celery beat for tenants: periodic jobs run once per *active* client company.

tenant-schemas-celery sends an entry without `tenant_schemas` to every row of this queryset except
public, and an entry with `tenant_schemas: ["public"]` to public. The template schema and
suspended or offboarded companies get none. While the database is away the entries due are
skipped, not fatal: beat keeps running and sends them at their next time.
"""

import logging

from django.db import DatabaseError
from django.db.models import Q
from django_tenants.utils import get_public_schema_name
from tenant_schemas_celery.scheduler import TenantAwarePersistentScheduler

from tenants.models import ClientCompany

logger = logging.getLogger(__name__)


class ActiveTenantsScheduler(TenantAwarePersistentScheduler):
    @classmethod
    def get_queryset(cls):
        return ClientCompany.objects.filter(
            Q(kind=ClientCompany.Kind.CLIENT, status=ClientCompany.Status.ACTIVE)
            | Q(schema_name=get_public_schema_name())
        )

    def apply_entry(self, entry, producer=None):
        try:
            return super().apply_entry(entry, producer=producer)
        except DatabaseError as exc:  # the list of companies is a query
            logger.warning("beat: %s not sent, the database is unavailable (%s)", entry.name, type(exc).__name__)
            return None
