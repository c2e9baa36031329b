"""A purge killed midway resumes without loss or double work: the worker process is SIGKILLed
while it works through batches, and the next run finishes exactly what is left."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Line, Message
from audit.models import RetentionRun
from audit.retention import retention_purge
from demo.processes import in_subprocess_env
from tenants.models import ClientCompany
from tests.fixtures import requires_redis

pytestmark = [requires_redis, pytest.mark.celery_worker]
ROWS = 20_000


@pytest.fixture
def expired_messages(django_db_blocker):
    with django_db_blocker.unblock():
        acme = ClientCompany.objects.get(schema_name="acme")
        with tenant_context(acme):
            line = Line.objects.create(name="Purge test line", phone_number="+3726001777")
            Message.objects.bulk_create(
                [Message(line=line, body=f"Expired body {i}") for i in range(ROWS)], batch_size=5000
            )
            Message.objects.filter(line=line).update(created_at=timezone.now() - dt.timedelta(days=500))
        try:
            yield acme, line
        finally:
            with tenant_context(acme):
                Message.objects.filter(line=line).delete()
                line.delete()
            connection.set_schema_to_public()


def test_a_killed_purge_resumes_without_loss_or_double_work(expired_messages, django_db_blocker):
    from config.celery import app

    acme, line = expired_messages
    queue = f"vastaja-purge-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        env = in_subprocess_env(connection.settings_dict)
    env["CELERY_QUEUE"] = queue
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "WARNING",
        ],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with django_db_blocker.unblock(), tenant_context(acme):
            started = timezone.now()
            app.send_task("audit.retention_purge", kwargs={"batch": 200}, queue=queue, headers={"_schema_name": "acme"})
            deadline = time.monotonic() + 60
            done = 0
            while time.monotonic() < deadline:
                run = RetentionRun.objects.filter(started_at__gte=started).order_by("-started_at").first()
                done = run.report.get("purged", {}).get("message bodies and answers", 0) if run else 0
                if done >= 2000:
                    break
                time.sleep(0.05)
            os.kill(worker.pid, signal.SIGKILL)  # mid-run, between or inside a batch
            worker.wait(timeout=10)
            assert 0 < done < ROWS, "the worker must be killed while it is still working"
            purged_before = Message.objects.filter(line=line, purged_at__isnull=False).count()
            assert purged_before < ROWS

            resumed = retention_purge()
            second = resumed.report["purged"]["message bodies and answers"]

            assert Message.objects.filter(line=line, purged_at__isnull=True).count() == 0  # no loss
            assert second == ROWS - purged_before  # no double work: only what was left
            assert all(m.body == "" for m in Message.objects.filter(line=line).only("body")[:500])
    finally:
        if worker.poll() is None:
            worker.kill()
