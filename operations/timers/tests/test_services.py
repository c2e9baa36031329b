"""Timers are database rows: they survive restarts, fire once, and retry on failure."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from operations.timers.models import Timer
from operations.timers.registry import HANDLERS, timer_handler
from operations.timers.services import MAX_ATTEMPTS, timer_cancel, timer_schedule, timers_fire_due
from tenants.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def fired():
    calls: list[str] = []

    @timer_handler("test.record")
    def record(target_id: str) -> None:
        if target_id == "broken":
            raise RuntimeError("handler failed")
        calls.append(target_id)

    yield calls
    HANDLERS.pop("test.record")


def test_due_timer_fires_once(acme, fired):
    now = timezone.now()
    with tenant_context(acme):
        timer_schedule(kind="test.record", target_id=7, due_at=now - dt.timedelta(seconds=1))
        timer_schedule(kind="test.record", target_id=8, due_at=now + dt.timedelta(hours=1))

        assert timers_fire_due(now=now) == 1
        assert timers_fire_due(now=now) == 0
        assert fired == ["7"]
        assert Timer.objects.get(kind="test.record", target_id="7").fired_at == now
        assert Timer.objects.get(kind="test.record", target_id="8").fired_at is None


def test_timers_belong_to_their_tenant(acme, globex, fired):
    now = timezone.now()
    with tenant_context(acme):
        timer_schedule(kind="test.record", target_id="acme-1", due_at=now)
    with tenant_context(globex):
        assert timers_fire_due(now=now) == 0
    with tenant_context(acme):
        assert timers_fire_due(now=now) == 1
    assert fired == ["acme-1"]


def test_rescheduling_moves_the_pending_timer(acme, fired):
    now = timezone.now()
    with tenant_context(acme):
        timer_schedule(kind="test.record", target_id=1, due_at=now - dt.timedelta(minutes=1))
        timer_schedule(kind="test.record", target_id=1, due_at=now + dt.timedelta(minutes=5))
        assert Timer.objects.filter(kind="test.record", target_id="1").count() == 1
        assert timers_fire_due(now=now) == 0


def test_cancelled_timer_never_fires(acme, fired):
    now = timezone.now()
    with tenant_context(acme):
        timer_schedule(kind="test.record", target_id=2, due_at=now)
        assert timer_cancel(kind="test.record", target_id=2) == 1
        assert timers_fire_due(now=now) == 0
    assert fired == []


def test_failing_handler_is_retried_later_and_does_not_block_others(acme, fired):
    now = timezone.now()
    with tenant_context(acme):
        timer_schedule(kind="test.record", target_id="broken", due_at=now)
        timer_schedule(kind="test.record", target_id="fine", due_at=now)

        assert timers_fire_due(now=now) == 1
        broken = Timer.objects.get(kind="test.record", target_id="broken")
        assert broken.attempts == 1
        assert "handler failed" in broken.last_error
        assert broken.due_at > now
        assert broken.fired_at is None

        for day in range(1, MAX_ATTEMPTS + 2):  # each retry waits longer; a day covers every delay
            timers_fire_due(now=now + dt.timedelta(days=day))
        broken.refresh_from_db()
        assert broken.attempts == MAX_ATTEMPTS
        assert broken.fired_at is None
    assert fired == ["fine"]


def test_schedule_refuses_naive_times_and_unknown_kinds(acme, fired):
    with tenant_context(acme):
        with pytest.raises(ApplicationError) as naive:
            timer_schedule(kind="test.record", target_id=1, due_at=dt.datetime(2030, 1, 1))
        assert naive.value.field == "due_at"
        with pytest.raises(ApplicationError) as unknown:
            timer_schedule(kind="no.such.kind", target_id=1, due_at=timezone.now())
        assert unknown.value.field == "kind"
