"""The audit app's beat jobs: the daily signed checkpoint, eagerly and in a real worker.

No module-wide database mark here: a test whose worker commits rows cleans them up after its own
transaction has been rolled back, so its clean-up fixture must come before `db` (tests/cleanup.py)."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from audit.checkpoints import checkpoint_line
from audit.models import ChainLink
from tenants.models import AuditCheckpoint
from tenants.signing import payload_verify
from tests.fixtures import requires_redis


def _head(company) -> ChainLink:
    with tenant_context(company):
        return ChainLink.objects.order_by("-seq").first()


def test_the_daily_job_takes_one_checkpoint_in_the_company_it_was_sent_for(acme, globex, eager_tasks):
    from audit.tasks import audit_checkpoint_task

    entry = settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert entry == {"task": "audit.checkpoint", "schedule": 24 * 3600.0}  # every active company, daily
    with tenant_context(acme):
        seq = audit_checkpoint_task.apply_async().get()
    assert seq == _head(acme).seq
    assert AuditCheckpoint.objects.filter(company=acme, seq=seq).count() == 1
    assert not AuditCheckpoint.objects.filter(company=globex).exists()


@pytest.fixture
def committed_checkpoints(django_db_blocker):
    """What the worker commits outlives the test's transaction: removed afterwards."""
    from tests.cleanup import checkpoints_removed_after

    with django_db_blocker.unblock(), checkpoints_removed_after():
        yield
    connection.set_schema_to_public()


@requires_redis
@pytest.mark.celery_worker
def test_a_real_worker_takes_the_checkpoint_in_the_company_beat_sent_it_for(
    committed_checkpoints, celery_worker_queue, initech
):
    from audit.tasks import audit_checkpoint_task

    with tenant_context(initech):
        seq = audit_checkpoint_task.apply_async(queue=celery_worker_queue).get(timeout=90)
    assert seq == _head(initech).seq
    checkpoint = AuditCheckpoint.objects.get(company=initech)
    line = json.loads(checkpoint_line(checkpoint))
    assert payload_verify(line["payload"], line["signature"])  # the worker signs with the same key
    assert not AuditCheckpoint.objects.exclude(company=initech).exists()
