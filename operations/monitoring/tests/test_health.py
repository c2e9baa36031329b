"""/health/ on the provider's host: 200 when the database, the broker, a worker's heartbeat and
every beat job are fine; 503 naming what is not. No company and no person in it."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from operations.monitoring.models import JobRun
from operations.monitoring.services import heartbeat_record
from tenants.models import ClientCompany

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def health(db, client_for):
    def get(host: str = "localhost"):
        response = client_for(host).get("/health/")
        return response, (json.loads(response.content) if response["Content-Type"] == "application/json" else None)

    return get


@pytest.fixture
def worker_alive(db):
    heartbeat_record(hostname="celery@worker-1")


def test_healthy_is_200_with_every_check(health, worker_alive):
    response, body = health()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["failed"] == []
    assert set(body["checks"]) == {"database", "broker", "worker", "jobs"}
    assert body["checks"]["worker"]["workers_alive"] == 1
    jobs = body["checks"]["jobs"]["jobs"]
    assert {"timers-sweep", "retention-purge", "analytics-rollup", "dpa-expire", "alerts-sweep"} <= set(jobs)
    assert "worker-heartbeat" not in jobs  # it has the worker check of its own
    assert response["Cache-Control"] == "no-store"


def test_no_heartbeat_or_a_stale_one_is_503_naming_the_worker(health):
    response, body = health()
    assert response.status_code == 503
    assert body["failed"] == ["worker"]

    heartbeat_record(hostname="celery@worker-1", at=timezone.now() - dt.timedelta(minutes=5))
    response, body = health()
    assert response.status_code == 503
    assert body["failed"] == ["worker"]
    assert body["checks"]["worker"]["age_seconds"] >= 300


def test_a_failing_job_is_503_with_its_name_and_last_runs(health, worker_alive):
    now = timezone.now()
    JobRun.objects.create(
        task="audit.retention_purge",
        schema_name="acme",
        last_started_at=now,
        last_succeeded_at=now - dt.timedelta(days=1),
        last_failed_at=now,
        last_error="OperationalError",
    )
    JobRun.objects.create(
        task="audit.retention_purge", schema_name="globex", last_started_at=now, last_succeeded_at=now
    )
    response, body = health()
    assert response.status_code == 503
    assert body["failed"] == ["jobs"]
    purge = body["checks"]["jobs"]["jobs"]["retention-purge"]
    assert purge["ok"] is False
    assert purge["failing"] == 1
    assert purge["last_success"] == now.isoformat()
    assert purge["never_run"] == 1  # initech
    assert body["checks"]["jobs"]["jobs"]["timers-sweep"]["ok"] is True

    # Once it succeeds again, it is healthy.
    JobRun.objects.filter(schema_name="acme").update(last_succeeded_at=timezone.now())
    assert health()[0].status_code == 200


def test_an_overdue_job_is_503(health, worker_alive):
    JobRun.objects.create(
        task="timers.sweep", schema_name="globex", last_succeeded_at=timezone.now() - dt.timedelta(hours=1)
    )
    response, body = health()
    assert response.status_code == 503
    assert body["checks"]["jobs"]["jobs"]["timers-sweep"]["overdue"] == 1


def test_a_suspended_company_s_old_runs_do_not_count(health, worker_alive, globex):
    JobRun.objects.create(task="timers.sweep", schema_name="globex", last_failed_at=timezone.now())
    ClientCompany.objects.filter(pk=globex.pk).update(status=ClientCompany.Status.SUSPENDED)
    assert health()[0].status_code == 200  # beat sends it nothing now


def test_an_unreachable_broker_is_503_naming_the_broker(health, worker_alive):
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        response, body = health()
    assert response.status_code == 503
    assert body["failed"] == ["broker"]
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"]  # the exception's class, never its text


def test_no_company_or_person_is_named(health, worker_alive):
    now = timezone.now()
    JobRun.objects.create(task="timers.sweep", schema_name="acme", last_failed_at=now, last_error="ValueError")
    text = health()[0].content.decode()
    for slug in ClientCompany.objects.values_list("schema_name", flat=True):
        assert f'"{slug}"' not in text
    assert "acme" not in text


def test_a_client_company_host_does_not_serve_it(health, worker_alive, acme):
    response, body = health("acme.localhost")
    assert body is None
    assert response.status_code in (302, 404)


def test_with_the_database_down_it_is_a_503_naming_the_database_not_a_500():
    """A web process whose database does not answer (a closed port): the host lookup would fail,
    but /health/ is answered before it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DATABASE_URL="postgres://vastaja@127.0.0.1:1/vastaja", DB_CONNECT_TIMEOUT="2")
    script = (
        "import json; from config.wsgi import application; from django.test import Client; "
        "r = Client(HTTP_HOST='localhost').get('/health/'); print(r.status_code, r.content.decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    status, body = result.stdout.strip().split(" ", 1)
    report = json.loads(body)
    assert status == "503"
    assert report["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert report["failed"][0] == "database"
