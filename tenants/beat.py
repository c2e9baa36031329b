"""Celery beat for tenants: periodic jobs run once per *active* client company.

tenant-schemas-celery sends an entry without `tenant_schemas` to every row of this queryset except
public, and an entry with `tenant_schemas: ["public"]` to public. The template schema and
suspended or offboarded companies get none.
"""

from django.db.models import Q
from django_tenants.utils import get_public_schema_name
from tenant_schemas_celery.scheduler import TenantAwarePersistentScheduler

from tenants.models import ClientCompany


class ActiveTenantsScheduler(TenantAwarePersistentScheduler):
    @classmethod
    def get_queryset(cls):
        return ClientCompany.objects.filter(
            Q(kind=ClientCompany.Kind.CLIENT, status=ClientCompany.Status.ACTIVE)
            | Q(schema_name=get_public_schema_name())
        )
