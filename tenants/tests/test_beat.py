import pytest

from tenants.beat import ActiveTenantsScheduler
from tenants.services import client_suspend

pytestmark = pytest.mark.django_db


def test_beat_sends_periodic_jobs_to_each_active_client_company_only(globex):
    client_suspend(company=globex, reason="unpaid")
    schemas = set(ActiveTenantsScheduler.get_queryset().values_list("schema_name", flat=True))
    assert schemas == {"acme", "initech"}  # not public, not the template, not suspended globex


def test_beat_schedule_runs_the_timer_sweep_for_all_tenants(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["timers-sweep"]
    assert entry["task"] == "timers.sweep"
    assert "tenant_schemas" not in entry  # absent means "every tenant" to tenant-schemas-celery
