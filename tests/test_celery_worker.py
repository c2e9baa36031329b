"""A task sent from a client company runs in that company's schema on a real worker.

Needs a real broker: CELERY_BROKER_URL=redis://... (CI sets it). Without one the test reports
itself skipped, with the reason; it never passes without a worker having run the task.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from answering.tasks import schema_probe
from config.database import in_subprocess_env

ROOT = Path(__file__).resolve().parent.parent

requires_redis = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis"),
    reason="no Redis broker configured: set CELERY_BROKER_URL=redis://127.0.0.1:6379/0 to run the real worker",
)


@pytest.fixture(scope="module")
def worker(django_db_blocker):
    """A real `celery worker` process on the configured Redis broker, against the test database,
    consuming a queue of its own so that no other worker can take these tasks."""
    queue = f"vastaja-test-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        env = in_subprocess_env(connection.settings_dict)
    env["CELERY_QUEUE"] = queue
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    log = open(Path(settings.DATA_DIR) / f"test-worker-{queue}.log", "w+")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    yield queue
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    os.unlink(log.name)


def _run_in(company, queue: str) -> dict:
    with tenant_context(company):
        result = schema_probe.apply_async(queue=queue)
    return result.get(timeout=90)


@requires_redis
@pytest.mark.celery_worker
def test_task_sent_from_globex_runs_in_globex_schema(worker, globex, acme):
    globex_run = _run_in(globex, worker)
    acme_run = _run_in(acme, worker)

    assert globex_run == {"schema": "globex", "lines": ["+3726002001"]}
    assert acme_run["schema"] == "acme"
    assert sorted(acme_run["lines"]) == ["+3726001001", "+3726001002"]
