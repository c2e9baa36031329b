"""Slots, bookings, holds, reminders and the rota, in acme's schema (Europe/Tallinn); and the change
log of every booking, with who made it."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm.models import Contact
from operations.timers.models import Timer
from operations.timers.tasks import timers_sweep
from scheduling.models import Appointment, Notification, ReminderSettings, Resource, Service, WeeklyAvailability
from scheduling.selectors import slots_find
from scheduling.services import (
    appointment_book,
    appointment_cancel,
    appointment_hold,
    appointment_message_send,
    appointment_reschedule,
)
from scheduling.tasks import send_appointment_message
from tenants.errors import ApplicationError
from tenants.models import User

pytestmark = pytest.mark.django_db
TALLINN = zoneinfo.ZoneInfo("Europe/Tallinn")


@pytest.fixture
def in_acme(acme):
    with tenant_context(acme):
        yield acme


@pytest.fixture
def clinic(in_acme):
    """A service and a resource open every day 02:00-17:00, Tallinn time."""
    service = Service.objects.create(name="Test visit", duration_minutes=30)
    resource = Resource.objects.create(label="Test chair", kind="room")
    resource.services.add(service)
    for weekday in range(7):
        WeeklyAvailability.objects.create(
            resource=resource, weekday=weekday, start_time=dt.time(2), end_time=dt.time(17)
        )
    return service, resource


@pytest.fixture
def booker(db):
    return User.objects.get(username="acme-admin")


def _next_day_at(hour: int, days: int = 2) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TALLINN)


# ---- slots across daylight saving -------------------------------------------------------------


def test_spring_forward_skips_the_missing_hour(clinic):
    service, resource = clinic
    WeeklyAvailability.objects.filter(resource=resource).update(start_time=dt.time(2), end_time=dt.time(5))
    # 2027-03-28: at 03:00 EET the clocks go to 04:00 EEST.
    day = dt.datetime(2027, 3, 28, tzinfo=TALLINN)
    slots = slots_find(
        service=service,
        resource=resource,
        start=day,
        end=day + dt.timedelta(days=1),
        now=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    )
    local = [slot.starts_at.astimezone(TALLINN).strftime("%H:%M") for slot in slots]
    assert local == ["02:00", "02:15", "02:30", "02:45", "04:00", "04:15", "04:30"]
    assert all(slot.ends_at - slot.starts_at == dt.timedelta(minutes=30) for slot in slots)


def test_fall_back_gives_the_repeated_hour_its_real_length(clinic):
    service, resource = clinic
    WeeklyAvailability.objects.filter(resource=resource).update(start_time=dt.time(2), end_time=dt.time(5))
    # 2027-10-31: at 04:00 EEST the clocks go back to 03:00 EET; 02:00-05:00 is four real hours.
    day = dt.datetime(2027, 10, 31, tzinfo=TALLINN)
    slots = slots_find(
        service=service,
        resource=resource,
        start=day,
        end=day + dt.timedelta(days=1),
        now=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    )
    assert len(slots) == 15  # starts every 15 minutes from 0 to 210 real minutes
    assert slots[-1].ends_at - slots[0].starts_at == dt.timedelta(hours=4)


def test_nine_oclock_stays_nine_oclock_across_the_change(clinic):
    service, resource = clinic
    WeeklyAvailability.objects.filter(resource=resource).update(start_time=dt.time(9))
    now = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    friday = slots_find(
        service=service,
        resource=resource,
        start=dt.datetime(2027, 3, 26, tzinfo=TALLINN),
        end=dt.datetime(2027, 3, 27, tzinfo=TALLINN),
        now=now,
    )
    monday = slots_find(
        service=service,
        resource=resource,
        start=dt.datetime(2027, 3, 29, tzinfo=TALLINN),
        end=dt.datetime(2027, 3, 30, tzinfo=TALLINN),
        now=now,
    )
    assert friday[0].starts_at.astimezone(TALLINN).hour == monday[0].starts_at.astimezone(TALLINN).hour == 9
    assert friday[0].starts_at.astimezone(dt.UTC).hour == 7
    assert monday[0].starts_at.astimezone(dt.UTC).hour == 6


def test_slot_search_leaves_out_bookings_with_their_buffers(clinic, booker):
    service, resource = clinic
    Service.objects.filter(pk=service.pk).update(buffer_after_minutes=15)
    service.refresh_from_db()
    start = _next_day_at(10)
    appointment_book(service=service, resource=resource, starts_at=start, actor=booker)
    slots = {
        s.starts_at for s in slots_find(service=service, resource=resource, start=_next_day_at(9), end=_next_day_at(12))
    }
    assert start not in slots
    assert start + dt.timedelta(minutes=30) not in slots  # inside the 15-minute buffer after
    assert start + dt.timedelta(minutes=45) in slots


# ---- booking rules ---------------------------------------------------------------------------


def test_overlapping_booking_gets_slot_taken(clinic, booker):
    service, resource = clinic
    appointment_book(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)
    with pytest.raises(ApplicationError) as refused:
        appointment_book(
            service=service, resource=resource, starts_at=_next_day_at(10) + dt.timedelta(minutes=15), actor=booker
        )
    assert refused.value.code == "slot_taken"
    assert "taken" in refused.value.message


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (lambda: _next_day_at(20), "not available"),
        (lambda: timezone.now() - dt.timedelta(hours=1), "past"),
        (lambda: _next_day_at(10).replace(tzinfo=None), "time zone"),
    ],
)
def test_bad_slots_get_clear_errors(clinic, booker, when, message):
    service, resource = clinic
    with pytest.raises(ApplicationError, match=message):
        appointment_book(service=service, resource=resource, starts_at=when(), actor=booker)
    assert not Appointment.objects.filter(resource=resource).exists()


def test_a_failed_reschedule_leaves_the_booking_intact(clinic, booker):
    service, resource = clinic
    first = appointment_book(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)
    appointment_book(service=service, resource=resource, starts_at=_next_day_at(11), actor=booker)
    for bad in (_next_day_at(11), _next_day_at(23), _next_day_at(10).replace(tzinfo=None)):
        with pytest.raises(ApplicationError):
            appointment_reschedule(appointment=first, starts_at=bad, actor=booker)
        first.refresh_from_db()
        assert first.starts_at == _next_day_at(10)
        assert first.status == "booked"
    appointment_reschedule(appointment=first, starts_at=_next_day_at(12), actor=booker)
    first.refresh_from_db()
    assert first.starts_at == _next_day_at(12)


def test_notes_only_where_the_dpa_grants_content(clinic):
    service, resource = clinic
    agent = User.objects.get(username="agent1")
    booking = appointment_book(
        service=service, resource=resource, starts_at=_next_day_at(10), actor=agent, notes="Sensitive teeth"
    )
    assert booking.notes == "Sensitive teeth"  # acme's DPA grants agents user.content.private
    dpo = User.objects.get(username="dpo")
    with pytest.raises(ApplicationError, match=r"user\.content\.private"):
        appointment_book(service=service, resource=resource, starts_at=_next_day_at(11), actor=dpo, notes="x")


def test_cancelled_slot_is_free_again(clinic, booker):
    service, resource = clinic
    booking = appointment_book(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)
    appointment_cancel(appointment=booking, actor=booker, reason="caller cancelled")
    appointment_book(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)


# ---- holds -------------------------------------------------------------------------------------


def test_a_hold_blocks_the_slot_then_expires_by_itself(clinic, booker):
    service, resource = clinic
    hold = appointment_hold(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)
    timer = Timer.objects.get(kind="scheduling.hold_expire", target_id=str(hold.pk))
    assert timer.due_at == hold.hold_expires_at
    with pytest.raises(ApplicationError, match="taken"):
        appointment_book(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)

    # Time passes: the hold's deadline is behind us, and beat's sweep runs.
    past = timezone.now() - dt.timedelta(seconds=1)
    Appointment.objects.filter(pk=hold.pk).update(hold_expires_at=past)
    Timer.objects.filter(pk=timer.pk).update(due_at=past)
    assert timers_sweep() >= 1

    hold.refresh_from_db()
    assert hold.status == "expired"
    free = slots_find(service=service, resource=resource, start=_next_day_at(9), end=_next_day_at(12))
    assert _next_day_at(10) in {s.starts_at for s in free}
    appointment_book(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)


def test_an_expired_hold_does_not_block_even_before_the_sweep(clinic, booker):
    service, resource = clinic
    hold = appointment_hold(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)
    Appointment.objects.filter(pk=hold.pk).update(hold_expires_at=timezone.now() - dt.timedelta(seconds=1))
    appointment_book(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)


def test_confirming_a_hold_books_it_and_cancels_its_timer(clinic, booker):
    service, resource = clinic
    hold = appointment_hold(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)
    booked = appointment_book(service=service, resource=resource, starts_at=hold.starts_at, actor=booker, hold=hold)
    assert booked.status == "booked"
    assert Timer.objects.get(kind="scheduling.hold_expire", target_id=str(hold.pk)).cancelled_at is not None


# ---- reminders and notices ----------------------------------------------------------------------


def test_reminder_is_scheduled_and_sent_once_with_only_what_the_client_chose(clinic, booker):
    service, resource = clinic
    ReminderSettings.objects.update_or_create(
        pk=1, defaults={"lead_hours": 24, "include_service": True, "include_resource": False}
    )
    contact = Contact.objects.create(name="Reminder Person", email="reminder@example.ee", phone_number="+37255500002")
    booking = appointment_book(
        service=service,
        resource=resource,
        starts_at=_next_day_at(10),
        actor=booker,
        contact=contact,
        notes="Private remark",
    )
    timer = Timer.objects.get(kind="scheduling.reminder", target_id=str(booking.pk), fired_at__isnull=True)
    assert timer.due_at == booking.starts_at - dt.timedelta(hours=24)

    assert send_appointment_message(booking.pk, "reminder") == ["email"]
    assert send_appointment_message(booking.pk, "reminder") == []  # idempotent
    assert len(mail.outbox) == 1
    text = mail.outbox[0].body
    assert mail.outbox[0].to == ["reminder@example.ee"]
    assert "10:00" in text
    assert "Test visit" in text
    assert "Test chair" not in text  # the client did not ask for the resource
    assert "Private remark" not in text
    assert "Reminder Person" not in text


def test_sms_reminders_go_through_twilios_rest_protocol(clinic, booker, settings):
    from demo.twilio_standin import TwilioStandIn

    service, resource = clinic
    ReminderSettings.objects.update_or_create(pk=1, defaults={"email_enabled": False, "sms_enabled": True})
    contact = Contact.objects.create(name="Sms Person", phone_number="+37255500003")
    booking = appointment_book(
        service=service, resource=resource, starts_at=_next_day_at(10), actor=booker, contact=contact
    )
    sid, token = "AC" + "1" * 32, "secret-token"
    with TwilioStandIn(sid, token) as twilio:
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = sid, token
        settings.TWILIO_FROM_NUMBER, settings.TWILIO_API_BASE = "+3725550000", twilio.base_url
        assert send_appointment_message(booking.pk, "reminder") == ["sms"]
        assert twilio.messages[0]["to"] == "+37255500003"
        assert "Test visit" in twilio.messages[0]["body"]
        record = Notification.objects.get(appointment=booking, channel="sms")
        assert record.provider_id == twilio.messages[0]["sid"]

        settings.TWILIO_AUTH_TOKEN = "wrong"
        other = appointment_book(
            service=service, resource=resource, starts_at=_next_day_at(12), actor=booker, contact=contact
        )
        assert send_appointment_message(other.pk, "reminder") == []
        failed = Notification.objects.get(appointment=other, channel="sms")
        assert failed.status == "failed"
        assert "20003" in failed.error


def test_a_reschedule_sends_a_change_notice(clinic, booker, django_capture_on_commit_callbacks, eager_tasks):
    service, resource = clinic
    contact = Contact.objects.create(name="Moved Person", email="moved@example.ee")
    booking = appointment_book(
        service=service, resource=resource, starts_at=_next_day_at(10), actor=booker, contact=contact
    )
    with django_capture_on_commit_callbacks(execute=True):
        appointment_reschedule(appointment=booking, starts_at=_next_day_at(14), actor=booker)
    assert [m.subject for m in mail.outbox] == ["Your appointment has moved"]
    assert "14:00" in mail.outbox[0].body


# ---- the change log: who booked, moved, cancelled or let a hold run out -------------------------


def _log(appointment: Appointment) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(appointment).order_by("pk"))


def test_a_booking_is_in_the_change_log_with_its_actor_and_no_notes(clinic):
    service, resource = clinic
    agent = User.objects.get(username="agent1")
    booking = appointment_book(
        service=service, resource=resource, starts_at=_next_day_at(10), actor=agent, notes="Sensitive teeth"
    )
    (created,) = _log(booking)
    assert created.action == LogEntry.Action.CREATE
    assert created.actor == agent
    assert created.changes_dict["status"][1] == "booked"
    assert "Sensitive teeth" not in created.changes  # personal fields are masked in the log


def test_a_refused_booking_leaves_no_row_and_no_log_entry(clinic, booker):
    service, resource = clinic
    appointment_book(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)
    entries = LogEntry.objects.count()
    with pytest.raises(ApplicationError) as refused:
        appointment_book(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)
    assert refused.value.code == "slot_taken"
    assert Appointment.objects.filter(resource=resource).count() == 1
    assert LogEntry.objects.count() == entries
    ids = [str(pk) for pk in Appointment.objects.filter(resource=resource).values_list("pk", flat=True)]
    assert Timer.objects.filter(kind="scheduling.reminder", target_id__in=ids).count() == 1


def test_moving_and_cancelling_are_logged_with_the_actor_and_notices_go_on_commit(
    clinic, booker, django_capture_on_commit_callbacks
):
    service, resource = clinic
    supervisor = User.objects.get(username="supervisor")
    booking = appointment_book(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)
    with django_capture_on_commit_callbacks() as moved:
        appointment_reschedule(appointment=booking, starts_at=_next_day_at(12), actor=supervisor)
    with django_capture_on_commit_callbacks() as cancelled:
        appointment_cancel(appointment=booking, actor=supervisor, reason="caller cancelled")
    assert len(moved) == len(cancelled) == 1  # each notice waits for its commit
    assert booking.status == "cancelled"  # the caller's instance shows what is stored
    created, rescheduled, cancel = _log(booking)
    assert (created.actor, rescheduled.actor, cancel.actor) == (booker, supervisor, supervisor)
    assert "starts_at" in rescheduled.changes_dict
    assert cancel.changes_dict["status"] == ["booked", "cancelled"]


def test_an_expired_hold_cleared_by_a_booking_is_logged_row_by_row(clinic, booker):
    service, resource = clinic
    hold = appointment_hold(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)
    Appointment.objects.filter(pk=hold.pk).update(hold_expires_at=timezone.now() - dt.timedelta(seconds=1))
    appointment_book(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)
    hold.refresh_from_db()
    assert hold.status == "expired"
    assert _log(hold)[-1].changes_dict["status"] == ["held", "expired"]
    assert Timer.objects.get(kind="scheduling.hold_expire", target_id=str(hold.pk)).cancelled_at is not None


def test_a_hold_that_runs_out_is_logged_with_no_actor(clinic, booker):
    service, resource = clinic
    hold = appointment_hold(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)
    past = timezone.now() - dt.timedelta(seconds=1)
    Appointment.objects.filter(pk=hold.pk).update(hold_expires_at=past)
    Timer.objects.filter(kind="scheduling.hold_expire", target_id=str(hold.pk)).update(due_at=past)
    timers_sweep()
    held, expired = _log(hold)
    assert held.actor == booker
    assert expired.changes_dict["status"] == ["held", "expired"]
    assert expired.actor is None  # nobody expired it: the time ran out


def test_booking_is_the_outer_unit_and_refuses_to_run_inside_another(clinic, booker):
    service, resource = clinic
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        appointment_book(service=service, resource=resource, starts_at=_next_day_at(10), actor=booker)
    assert not Appointment.objects.filter(resource=resource).exists()


def test_a_reminder_task_is_a_thin_wrapper_around_the_service(clinic, booker):
    service, resource = clinic
    contact = Contact.objects.create(name="Wrapped", email="wrapped@example.ee")
    booking = appointment_book(
        service=service, resource=resource, starts_at=_next_day_at(10), actor=booker, contact=contact
    )
    assert appointment_message_send(appointment_id=booking.pk, kind="reminder") == ["email"]
    assert send_appointment_message(booking.pk, "reminder") == []  # the same event, already sent
    assert Notification.objects.get(appointment=booking).status == Notification.Status.SENT


def test_a_notice_a_killed_worker_left_sending_is_sent_again_once_abandoned(clinic, booker, settings):
    service, resource = clinic
    contact = Contact.objects.create(name="Killed Worker", email="killed@example.ee")
    booking = appointment_book(
        service=service, resource=resource, starts_at=_next_day_at(10), actor=booker, contact=contact
    )
    assert appointment_message_send(appointment_id=booking.pk, kind="reminder") == ["email"]
    notice = Notification.objects.get(appointment=booking)
    # What a worker killed between its send and its settle leaves behind.
    Notification.objects.filter(pk=notice.pk).update(status=Notification.Status.SENDING, updated_at=timezone.now())
    assert appointment_message_send(appointment_id=booking.pk, kind="reminder") == []  # another worker's, still
    Notification.objects.filter(pk=notice.pk).update(
        updated_at=timezone.now() - dt.timedelta(seconds=settings.DELIVERY_SENDING_TIMEOUT + 1)
    )
    assert appointment_message_send(appointment_id=booking.pk, kind="reminder") == ["email"]
    notice.refresh_from_db()
    assert (notice.status, notice.tries) == (Notification.Status.SENT, 2)
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [notice.provider_id] * 2  # the same key
