"""Celery beat for tenants: periodic jobs run once per *active* client company.

tenant-schemas-celery sends a schedule entry to every row of the tenant model; the template
schema and suspended or offboarded companies must get none.
"""

from tenant_schemas_celery.scheduler import TenantAwarePersistentScheduler

from tenants.selectors import client_list_active


class ActiveTenantsScheduler(TenantAwarePersistentScheduler):
    @classmethod
    def get_queryset(cls):
        return client_list_active()
