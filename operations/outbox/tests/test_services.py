"""The outbox (operations/outbox/services.py): a side effect is a row of the causing transaction,
put once per key, relayed when due, safe to relay twice, settled by its task's success."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from operations.outbox.models import OutboxEntry
from operations.outbox.services import (
    MAX_HANDOFFS,
    outbox_entry_of,
    outbox_put,
    outbox_relay,
    outbox_task_id,
)

pytestmark = pytest.mark.django_db
PROBE = "answering.schema_probe"  # a real task with no side effect: it reports its schema


def test_a_side_effect_put_twice_is_one_row_and_rolls_back_with_its_transaction(acme):
    with tenant_context(acme):
        outbox_put(task=PROBE, args=[], key="probe:1")
        outbox_put(task=PROBE, args=[], key="probe:1")
        assert OutboxEntry.objects.filter(key="probe:1").count() == 1
        with pytest.raises(RuntimeError):
            _put_then_fail("probe:2")
        assert not OutboxEntry.objects.filter(key="probe:2").exists()


def _put_then_fail(key: str) -> None:
    with transaction.atomic():
        outbox_put(task=PROBE, args=[], key=key)
        raise RuntimeError("the causing change fails")


def test_the_relay_hands_due_rows_once_and_their_success_settles_them(acme, eager_tasks):
    with tenant_context(acme):
        outbox_put(task=PROBE, args=[], key="probe:now")
        outbox_put(task=PROBE, args=[], key="probe:later", due_at=timezone.now() + dt.timedelta(hours=1))
        assert outbox_relay() == 1
        now_row, later_row = OutboxEntry.objects.get(key="probe:now"), OutboxEntry.objects.get(key="probe:later")
        assert (now_row.handoffs, now_row.done_at is not None) == (1, True)
        assert (later_row.handoffs, later_row.handed_at) == (0, None)
        assert outbox_relay() == 0  # run again: nothing is handed twice
        assert outbox_relay(now=timezone.now() + dt.timedelta(hours=2)) == 1
        assert OutboxEntry.objects.get(key="probe:later").done_at is not None


def test_a_row_handed_and_never_done_is_handed_again_after_its_lease_then_given_up(acme, settings, eager_tasks):
    with tenant_context(acme):
        outbox_put(task=PROBE, args=[], key="probe:lost")
        row = OutboxEntry.objects.get(key="probe:lost")
        lease = dt.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
        assert outbox_relay() == 1
        OutboxEntry.objects.filter(pk=row.pk).update(done_at=None)  # as if the broker had lost it
        row.refresh_from_db()
        assert (row.handoffs, row.done_at) == (1, None)
        assert row.due_at >= row.handed_at + lease  # not before its lease is over
        assert outbox_relay(now=row.handed_at + lease / 2) == 0  # the broker still has it
        assert outbox_relay(now=row.handed_at + lease) == 1
        OutboxEntry.objects.filter(pk=row.pk).update(done_at=None)
        row.refresh_from_db()
        assert row.due_at >= row.handed_at + 2 * lease  # the next lease is twice as long
        OutboxEntry.objects.filter(pk=row.pk).update(handoffs=MAX_HANDOFFS, due_at=timezone.now())
        assert outbox_relay() == 0  # handed too often: the outbox_stuck alert takes over
        from operations.outbox.monitoring import stuck

        assert [alert.object_key for alert in stuck(timezone.now())] == [f"outbox:{row.pk}"]


def test_the_task_id_names_the_schema_and_row(acme):
    with tenant_context(acme):
        assert outbox_entry_of(outbox_task_id(42)) == ("acme", 42)
    assert outbox_entry_of("2f0c8c1e-5c1e-4f0e-9d7e-1a2b3c4d5e6f") is None
    assert outbox_entry_of("outbox:acme:x") is None
