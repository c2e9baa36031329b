"""Writes on scheduling: holds, bookings, reschedules, cancellations, the calendar feed, and the
reminders and notices they set off.

Double booking is refused by the database (the exclusion constraint of migration 0002), not by a
check-then-insert here, so two agents booking the same slot at the same instant cannot both win.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gates.engine import policy_for
from operations.timers.registry import timer_handler
from operations.timers.services import timer_cancel, timer_schedule
from scheduling.models import Appointment, Resource, Service
from scheduling.selectors import availability_windows, blocked_range, require_aware
from tenants.errors import ApplicationError
from tenants.models import User

HOLD_MINUTES = 10
SLOT_TAKEN = gettext_lazy("That slot is taken: another booking or hold overlaps it. Choose another slot.")
TIMER_HOLD = "scheduling.hold_expire"
TIMER_REMINDER = "scheduling.reminder"


def appointment_hold(
    *,
    service: Service,
    resource: Resource,
    starts_at: dt.datetime,
    actor: User,
    contact=None,
    minutes: int = HOLD_MINUTES,
) -> Appointment:
    """Hold a slot while the caller decides. The hold expires by itself (a timer row)."""
    if not 1 <= minutes <= 60:
        raise ApplicationError(_("a hold lasts between 1 and 60 minutes"), field="minutes")
    expires = timezone.now() + dt.timedelta(minutes=minutes)
    appointment = _insert(
        service=service,
        resource=resource,
        starts_at=starts_at,
        contact=contact,
        notes="",
        status=Appointment.Status.HELD,
        hold_expires_at=expires,
        actor=actor,
    )
    timer_schedule(kind=TIMER_HOLD, target_id=appointment.pk, due_at=expires)
    return appointment


def appointment_book(
    *,
    service: Service,
    resource: Resource,
    starts_at: dt.datetime,
    actor: User,
    contact=None,
    notes: str = "",
    hold: Appointment | None = None,
) -> Appointment:
    """Book a slot (or confirm a hold on it). Refused with a clear error when the slot is outside
    the resource's hours, in the past, or taken."""
    if hold is not None:
        return _hold_confirm(hold=hold, actor=actor, contact=contact, notes=notes)
    appointment = _insert(
        service=service,
        resource=resource,
        starts_at=starts_at,
        contact=contact,
        notes=notes,
        status=Appointment.Status.BOOKED,
        hold_expires_at=None,
        actor=actor,
    )
    _reminder_schedule(appointment)
    return appointment


def appointment_reschedule(*, appointment: Appointment, starts_at: dt.datetime, actor: User) -> Appointment:
    """Move a booking. If the new slot cannot be had, the original booking is left exactly as it was."""
    if appointment.status != Appointment.Status.BOOKED:
        raise ApplicationError(_("only a booked appointment can be rescheduled"), field="status")
    service = appointment.service
    starts_at, ends_at = _validate_slot(service=service, resource=appointment.resource, starts_at=starts_at)
    try:
        with transaction.atomic():
            locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
            locked.starts_at, locked.ends_at = starts_at, ends_at
            locked.blocked = blocked_range(service, starts_at, ends_at)
            locked.save(update_fields=["starts_at", "ends_at", "blocked"])
    except IntegrityError:
        appointment.refresh_from_db()
        raise ApplicationError(str(SLOT_TAKEN), field="starts_at", code="slot_taken") from None
    appointment.refresh_from_db()
    _reminder_schedule(appointment)
    _notice(appointment, kind="changed")
    return appointment


def appointment_cancel(*, appointment: Appointment, actor: User, reason: str = "") -> Appointment:
    if appointment.status not in Appointment.LIVE:
        raise ApplicationError(
            _("this appointment is already %(status)s") % {"status": appointment.get_status_display().lower()}
        )
    with transaction.atomic():
        was_booked = appointment.status == Appointment.Status.BOOKED
        appointment.status = Appointment.Status.CANCELLED
        appointment.cancelled_reason = reason[:200]
        appointment.save(update_fields=["status", "cancelled_reason"])
        timer_cancel(kind=TIMER_REMINDER, target_id=appointment.pk)
        timer_cancel(kind=TIMER_HOLD, target_id=appointment.pk)
    if was_booked:
        _notice(appointment, kind="cancelled")
    return appointment


@timer_handler(TIMER_HOLD)
def hold_expire(target_id: str) -> None:
    """Release a hold that was not confirmed in time; its slot is free again. (Confirming a hold
    cancels this timer, so a hold still held when it fires has run out.)"""
    Appointment.objects.filter(pk=target_id, status=Appointment.Status.HELD).update(status=Appointment.Status.EXPIRED)


@timer_handler(TIMER_REMINDER)
def reminder_due(target_id: str) -> None:
    from scheduling.tasks import send_appointment_message

    appointment_id = int(target_id)
    transaction.on_commit(lambda: send_appointment_message.delay(appointment_id, "reminder"))


def feed_issue(*, resource: Resource, actor: User) -> str:
    """Issue a new secret calendar-feed URL path for the resource (the old one stops at once).

    Returns the token; only its hash is stored, so it is shown this once.
    """
    token = secrets.token_urlsafe(32)
    resource.feed_token_hash = feed_token_hash(token)
    resource.feed_issued_at = timezone.now()
    resource.save(update_fields=["feed_token_hash", "feed_issued_at"])
    return token


def feed_revoke(*, resource: Resource, actor: User) -> None:
    resource.feed_token_hash = ""
    resource.feed_issued_at = None
    resource.save(update_fields=["feed_token_hash", "feed_issued_at"])


def feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---- internals ---------------------------------------------------------------------------------


def _validate_slot(*, service: Service, resource: Resource, starts_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    starts_at = require_aware(starts_at, "starts_at")
    if not service.active:
        raise ApplicationError(_("%(service)s is not bookable") % {"service": service.name}, field="service")
    if not resource.services.filter(pk=service.pk).exists():
        message = _("%(resource)s does not offer %(service)s") % {"resource": resource, "service": service.name}
        raise ApplicationError(message, field="resource")
    ends_at = starts_at + dt.timedelta(minutes=service.duration_minutes)
    if starts_at <= timezone.now():
        raise ApplicationError(_("that slot is in the past"), field="starts_at")
    if not any(
        opens <= starts_at and ends_at <= closes for opens, closes in availability_windows(resource, starts_at, ends_at)
    ):
        message = _("%(resource)s is not available then: outside its working hours") % {"resource": resource}
        raise ApplicationError(message, field="starts_at")
    if resource.exceptions.filter(starts_at__lt=ends_at, ends_at__gt=starts_at).exists():
        raise ApplicationError(_("%(resource)s is away then") % {"resource": resource}, field="starts_at")
    return starts_at, ends_at


def _insert(*, service, resource, starts_at, contact, notes, status, hold_expires_at, actor) -> Appointment:
    starts_at, ends_at = _validate_slot(service=service, resource=resource, starts_at=starts_at)
    _check_notes_allowed(notes, actor)
    block = blocked_range(service, starts_at, ends_at)
    try:
        with transaction.atomic():
            # A hold past its expiry that the sweep has not reached yet must not block the slot.
            Appointment.objects.filter(
                resource=resource,
                status=Appointment.Status.HELD,
                hold_expires_at__lte=timezone.now(),
                blocked__overlap=block,
            ).update(status=Appointment.Status.EXPIRED)
            return Appointment.objects.create(
                service=service,
                resource=resource,
                contact=contact,
                starts_at=starts_at,
                ends_at=ends_at,
                blocked=block,
                status=status,
                hold_expires_at=hold_expires_at,
                notes=notes,
            )
    except IntegrityError as exc:
        if "appointment_no_overlap" in str(exc):
            raise ApplicationError(str(SLOT_TAKEN), field="starts_at", code="slot_taken") from None
        raise


def _hold_confirm(*, hold: Appointment, actor: User, contact, notes: str) -> Appointment:
    _check_notes_allowed(notes, actor)
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=hold.pk)
        if locked.status != Appointment.Status.HELD or locked.hold_expires_at <= timezone.now():
            raise ApplicationError(
                _("the hold has expired; search for the slot again"), field="hold", code="hold_expired"
            )
        locked.status = Appointment.Status.BOOKED
        locked.hold_expires_at = None
        locked.contact = contact or locked.contact
        locked.notes = notes
        locked.save(update_fields=["status", "hold_expires_at", "contact", "notes"])
        timer_cancel(kind=TIMER_HOLD, target_id=locked.pk)
    _reminder_schedule(locked)
    return locked


def _check_notes_allowed(notes: str, actor: User) -> None:
    """A booking holds notes only where the DPA grants the actor `user.content.private` for writing."""
    if not notes:
        return
    if len(notes) > 2000:
        raise ApplicationError(_("notes are limited to 2,000 characters"), field="notes")
    policy = policy_for(user=actor, company=connection.tenant)
    if not policy.can_write(Appointment, "notes"):
        raise ApplicationError(
            _("the data-processing agreement does not allow notes on bookings (user.content.private)"), field="notes"
        )


def _reminder_schedule(appointment: Appointment) -> None:
    from scheduling.models import ReminderSettings

    settings_row = ReminderSettings.objects.first() or ReminderSettings()
    due = appointment.starts_at - dt.timedelta(hours=settings_row.lead_hours)
    if due > timezone.now():
        timer_schedule(kind=TIMER_REMINDER, target_id=appointment.pk, due_at=due)
    else:
        timer_cancel(kind=TIMER_REMINDER, target_id=appointment.pk)


def _notice(appointment: Appointment, *, kind: str) -> None:
    from scheduling.models import ReminderSettings
    from scheduling.tasks import send_appointment_message

    settings_row = ReminderSettings.objects.first() or ReminderSettings()
    if settings_row.notify_changes:
        key = f"{kind}:{appointment.starts_at.isoformat()}:{appointment.status}"
        transaction.on_commit(lambda: send_appointment_message.delay(appointment.pk, kind, key))
