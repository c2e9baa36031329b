"""The one Celery app. tenant-schemas-celery stamps each task with the schema it was sent from,
and the worker runs it in that schema."""

import os

from celery.signals import worker_init
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = CeleryApp("vastaja")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _refuse_transaction_pooling(**kwargs):
    """A worker behind PgBouncer in transaction mode would run tasks in another company's schema."""
    import django

    django.setup()
    from tenants.pooling import refuse_transaction_pooling

    refuse_transaction_pooling()
