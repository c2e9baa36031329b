"""A task sent from a client company runs in that company's schema on a real worker.

Needs a real broker: CELERY_BROKER_URL=redis://... (CI sets it). Without one the test reports
itself skipped, with the reason; it never passes without a worker having run the task.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from answering.tasks import schema_probe
from tests.fixtures import requires_redis


def _run_in(company, queue: str) -> dict:
    with tenant_context(company):
        result = schema_probe.apply_async(queue=queue)
    return result.get(timeout=90)


@requires_redis
@pytest.mark.celery_worker
def test_task_sent_from_globex_runs_in_globex_schema(celery_worker_queue, globex, acme):
    globex_run = _run_in(globex, celery_worker_queue)
    acme_run = _run_in(acme, celery_worker_queue)

    assert globex_run == {"schema": "globex", "lines": ["+3726002001"]}
    assert acme_run["schema"] == "acme"
    assert sorted(acme_run["lines"]) == ["+3726001001", "+3726001002"]
