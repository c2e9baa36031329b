import pytest

from tenants.beat import ActiveTenantsScheduler
from tenants.services import client_suspend

pytestmark = pytest.mark.django_db


def test_beat_sends_periodic_jobs_to_each_active_client_company_only(globex):
    client_suspend(company=globex, reason="unpaid")
    schemas = set(ActiveTenantsScheduler.get_queryset().values_list("schema_name", flat=True))
    # public is there for the jobs that name it; "all tenants" jobs skip it (tenant-schemas-celery)
    assert schemas == {"public", "acme", "initech"}  # not the template, not suspended globex


def test_beat_schedule_runs_the_timer_sweep_for_all_tenants(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["timers-sweep"]
    assert entry["task"] == "timers.sweep"
    assert "tenant_schemas" not in entry  # absent means "every tenant" to tenant-schemas-celery


def test_the_dpa_expiry_job_runs_in_the_public_schema(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["dpa-expire"]
    assert entry["task"] == "agreements.expire_due"
    assert entry["tenant_schemas"] == ["public"]
