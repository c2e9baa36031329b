"""Twenty agents book the same slot at the same instant, each on its own database connection.
Exactly one wins; the database's exclusion constraint refuses the other nineteen."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from operations.timers.models import Timer
from scheduling.models import Appointment, Resource, Service, WeeklyAvailability
from scheduling.services import appointment_book
from tenants.errors import ApplicationError
from tenants.models import ClientCompany, User
from tests.fixtures import in_test_context

THREADS = 20


@pytest.fixture
def committed_clinic(django_db_blocker):
    """Committed rows (the threads' own connections cannot see a test transaction), removed after."""
    with django_db_blocker.unblock():
        acme = ClientCompany.objects.get(schema_name="acme")
        with tenant_context(acme):
            service = Service.objects.create(name="Race visit", duration_minutes=30)
            resource = Resource.objects.create(label="Race chair", kind="room")
            resource.services.add(service)
            for weekday in range(7):
                WeeklyAvailability.objects.create(
                    resource=resource, weekday=weekday, start_time=dt.time(8), end_time=dt.time(18)
                )
        yield acme, service, resource
        with tenant_context(acme):
            ids = [str(pk) for pk in Appointment.objects.filter(resource=resource).values_list("pk", flat=True)]
            Timer.objects.filter(target_id__in=ids, kind__startswith="scheduling.").delete()
            Appointment.objects.filter(resource=resource).delete()
            resource.delete()
            service.delete()
        connection.set_schema_to_public()


def test_twenty_concurrent_bookings_of_one_slot_exactly_one_succeeds(committed_clinic, django_db_blocker):
    acme, service, resource = committed_clinic
    day = timezone.localdate() + dt.timedelta(days=3)
    slot = dt.datetime.combine(day, dt.time(10), tzinfo=zoneinfo.ZoneInfo("Europe/Tallinn"))
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def book(n: int) -> None:
        from django.db import connection as thread_connection

        try:
            with schema_context("public"):
                agent = User.objects.get(username="acme-admin")
            with tenant_context(acme):
                barrier.wait(timeout=30)
                try:
                    appointment_book(service=service, resource=resource, starts_at=slot, actor=agent)
                    outcome = "booked"
                except ApplicationError as exc:
                    outcome = exc.code
        except Exception as exc:  # anything else is a failure of the test, reported below
            outcome = f"error: {exc!r}"
        finally:
            thread_connection.close()
        with lock:
            outcomes.append(outcome)

    with django_db_blocker.unblock():
        threads = [threading.Thread(target=in_test_context(book), args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        with tenant_context(acme):
            live = Appointment.objects.filter(resource=resource, status__in=Appointment.LIVE).count()

    assert sorted(outcomes) == ["booked"] + ["slot_taken"] * (THREADS - 1), outcomes
    assert live == 1
