"""Writes on scheduling: holds, bookings, reschedules, cancellations, the calendar feed, and the
reminders and notices they set off (outbox rows in the same transaction: `operations/outbox/`).

Each booking service is one durable transaction that names its actor in the change log (the
Appointment is in it: its notes are personal), and sends its notices on commit. They are the outer
unit on every channel (portal, API, the agent's booking page), so nothing can wrap a booking in a
larger transaction that would roll it back after its notice has gone. A notice that a killed
worker left `sending` is sent again once it is abandoned (DELIVERY_SENDING_TIMEOUT).

Double booking is refused by the database (the exclusion constraint of migration 0002), not by a
check-then-insert here, so two agents booking the same slot at the same instant cannot both win.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import Contact
from gates.engine import policy_for
from gates.outbound import outbound_check
from operations.outbox.services import outbox_put
from operations.timers.registry import timer_handler
from operations.timers.services import timer_cancel, timer_schedule
from scheduling.models import Appointment, Notification, ReminderSettings, Resource, Service
from scheduling.selectors import availability_windows, blocked_range, company_zone, require_aware
from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.integrations import EMAIL, TWILIO_SMS
from tenants.models import User
from tenants.scrub import provider_text_scrub
from tenants.sms import SmsError, sms_configured, sms_send

logger = logging.getLogger(__name__)
HOLD_MINUTES = 10
SLOT_TAKEN = gettext_lazy("That slot is taken: another booking or hold overlaps it. Choose another slot.")
TIMER_HOLD = "scheduling.hold_expire"
TIMER_REMINDER = "scheduling.reminder"
TASK_SEND_APPOINTMENT_MESSAGE = "scheduling.send_appointment_message"
SUBJECTS = {
    Notification.Kind.REMINDER: "Appointment reminder",
    Notification.Kind.CHANGED: "Your appointment has moved",
    Notification.Kind.CANCELLED: "Appointment cancelled",
}


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
    with transaction.atomic(durable=True), change_log_actor(actor):
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
    """Book a slot (or confirm a hold on it), with its reminder timer, in one transaction that
    names `actor` in the change log. Refused with a clear error when the slot is outside the
    resource's hours, in the past, or taken."""
    with transaction.atomic(durable=True), change_log_actor(actor):
        if hold is not None:
            appointment = _hold_confirm(hold=hold, actor=actor, contact=contact, notes=notes)
        else:
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
    starts_at, ends_at = _validate_slot(service=appointment.service, resource=appointment.resource, starts_at=starts_at)
    with transaction.atomic(durable=True), change_log_actor(actor):
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.status != Appointment.Status.BOOKED:
            raise ApplicationError(_("only a booked appointment can be rescheduled"), field="status")
        locked.starts_at, locked.ends_at = starts_at, ends_at
        locked.blocked = blocked_range(locked.service, starts_at, ends_at)
        _save_unless_taken(locked, update_fields=["starts_at", "ends_at", "blocked"])
        _reminder_schedule(locked)
        _notice(locked, kind=Notification.Kind.CHANGED)
    appointment.refresh_from_db()
    return appointment


def appointment_cancel(*, appointment: Appointment, actor: User, reason: str = "") -> Appointment:
    """Cancel a booking or a hold; the slot is free again, and a booked caller is told."""
    with transaction.atomic(durable=True), change_log_actor(actor):
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.status not in Appointment.LIVE:
            raise ApplicationError(
                _("this appointment is already %(status)s") % {"status": locked.get_status_display().lower()}
            )
        was_booked = locked.status == Appointment.Status.BOOKED
        locked.status = Appointment.Status.CANCELLED
        locked.cancelled_reason = reason[:200]
        locked.save(update_fields=["status", "cancelled_reason"])
        timer_cancel(kind=TIMER_REMINDER, target_id=locked.pk)
        timer_cancel(kind=TIMER_HOLD, target_id=locked.pk)
        if was_booked:
            _notice(locked, kind=Notification.Kind.CANCELLED)
    appointment.refresh_from_db()
    return appointment


@timer_handler(TIMER_HOLD)
def hold_expire(target_id: str) -> None:
    """Release a hold that was not confirmed in time; its slot is free again. (Confirming a hold
    cancels this timer, so a hold still held when it fires has run out.) The change log records
    the expiry with no actor: nobody did it, the time ran out."""
    hold = Appointment.objects.select_for_update().filter(pk=target_id, status=Appointment.Status.HELD).first()
    if hold is not None:
        _expire(hold)


@timer_handler(TIMER_REMINDER)
def reminder_due(target_id: str) -> None:
    starts_at = Appointment.objects.filter(pk=target_id).values_list("starts_at", flat=True).first()
    if starts_at is not None:
        _outbox_message(int(target_id), kind=Notification.Kind.REMINDER, key=None, event=starts_at.isoformat())


def _outbox_message(appointment_id: int, *, kind: str, key: str | None, event: str) -> None:
    """The notice is an outbox row in the caller's transaction, sent once it commits."""
    outbox_put(
        task=TASK_SEND_APPOINTMENT_MESSAGE,
        args=[appointment_id, kind, key],
        key=f"appointment:{appointment_id}:{kind}:{event}",
    )


def appointment_message_send(*, appointment_id: int, kind: str, key: str | None = None) -> list[str]:
    """Send a reminder or change notice for one appointment, by the channels the client chose;
    returns the channels it went by.

    Idempotent: each (appointment, kind, key, channel) is sent at most once. The text carries only
    what the client configured: the time, and optionally the service and the resource, never notes.
    """
    appointment = Appointment.objects.select_related("service", "resource", "contact").filter(pk=appointment_id).first()
    if appointment is None or appointment.contact is None:
        return []
    if kind == Notification.Kind.REMINDER and appointment.status != Appointment.Status.BOOKED:
        return []
    options = ReminderSettings.objects.first() or ReminderSettings()
    text = appointment_message_text(appointment, kind=kind, options=options)
    contact = appointment.contact
    channels = []
    if options.email_enabled and contact.email:
        channels.append((Notification.Channel.EMAIL, contact.email))
    if options.sms_enabled and contact.phone_number:
        channels.append((Notification.Channel.SMS, contact.phone_number))
    sent = []
    for channel, address in channels:
        unique = f"{appointment.pk}:{kind}:{key or appointment.starts_at.isoformat()}:{channel}"
        record = _notification_claim(appointment=appointment, kind=kind, channel=channel, key=unique)
        if record is None:
            continue  # sent for this event already, or being sent by another worker
        is_email = channel == Notification.Channel.EMAIL
        decision = outbound_check(
            integration=EMAIL if is_email else TWILIO_SMS,
            categories=["user.contact.email" if is_email else "user.contact.phone_number", "user.schedule"],
            model=Contact,
            object_ids=[contact.pk],
            fields=["email" if is_email else "phone_number"],
            path=f"appointment:{appointment.pk}:{kind}",
        )
        if not decision.allowed:
            # Sent nothing: the company's DPA does not authorise this provider now. The other channel
            # still goes; the notice shows why this one did not.
            error = provider_text_scrub(f"Not sent: {decision.reason}")
            Notification.objects.filter(pk=record.pk).update(status=Notification.Status.FAILED, error=error)
            logger.warning("appointment %s %s by %s refused: %s", appointment.pk, kind, channel, error)
            continue
        try:
            if channel == Notification.Channel.EMAIL:
                provider_id = f"<{unique.replace(':', '.')}.{connection.schema_name}@{settings.PUBLIC_HOST}>"
                EmailMessage(
                    SUBJECTS[kind], text, settings.DEFAULT_FROM_EMAIL, [address], headers={"Message-ID": provider_id}
                ).send()
            elif not sms_configured():
                raise SmsError("SMS is not configured")
            else:
                provider_id = sms_send(to=address, body=text)
        except (SmsError, OSError) as exc:
            error = provider_text_scrub(exc)  # scrubbed where it is stored
            Notification.objects.filter(pk=record.pk).update(status=Notification.Status.FAILED, error=error)
            logger.warning("appointment %s %s by %s failed: %s", appointment.pk, kind, channel, error)
            continue
        Notification.objects.filter(pk=record.pk).update(
            status=Notification.Status.SENT, provider_id=provider_id[:200], error=""
        )
        sent.append(channel)
    return sent


def _notification_claim(*, appointment: Appointment, kind: str, channel: str, key: str) -> Notification | None:
    """The notice's row, moved to sending for this worker under a lock; None when it was sent, or is
    being sent by another worker (unless that one has been at it longer than any task may run: it
    was killed, and the notice is sent again)."""
    Notification.objects.get_or_create(
        key=key, defaults={"appointment": appointment, "kind": kind, "channel": channel, "status": "pending"}
    )
    abandoned = timezone.now() - dt.timedelta(seconds=settings.DELIVERY_SENDING_TIMEOUT)
    with transaction.atomic():
        record = Notification.objects.select_for_update().get(key=key)
        if record.status == Notification.Status.SENT:
            return None
        if record.status == Notification.Status.SENDING and record.updated_at > abandoned:
            return None
        record.status, record.tries = Notification.Status.SENDING, record.tries + 1
        record.save(update_fields=["status", "tries", "updated_at"])
    return record


def appointment_message_text(appointment: Appointment, *, kind: str, options: ReminderSettings) -> str:
    when = appointment.starts_at.astimezone(company_zone())
    date = formats.date_format(when, "l j F Y")
    time = when.strftime("%H:%M")
    what = []
    if options.include_service:
        what.append(appointment.service.name)
    if options.include_resource:
        what.append(f"with {appointment.resource.label}")
    detail = f" ({', '.join(what)})" if what else ""
    company = getattr(connection.tenant, "name", "")
    lines = {
        Notification.Kind.REMINDER: f"Reminder: your appointment{detail} at {company} is on {date} at {time}.",
        Notification.Kind.CHANGED: f"Your appointment{detail} at {company} has moved to {date} at {time}.",
        Notification.Kind.CANCELLED: f"Your appointment{detail} at {company} on {date} at {time} is cancelled.",
    }
    return lines[kind]


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
    # A hold past its expiry that the sweep has not reached yet must not block the slot. Each is
    # expired by a save, one change-log entry per hold: at most the few that overlap this slot.
    for stale in Appointment.objects.select_for_update().filter(
        resource=resource,
        status=Appointment.Status.HELD,
        hold_expires_at__lte=timezone.now(),
        blocked__overlap=block,
    ):
        _expire(stale)
        timer_cancel(kind=TIMER_HOLD, target_id=stale.pk)
    appointment = Appointment(
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
    _save_unless_taken(appointment)
    return appointment


def _save_unless_taken(appointment: Appointment, **kwargs) -> None:
    """Save, turning the database's refusal of an overlap (migration 0002) into a clear error. In a
    savepoint, so that the refusal does not break the caller's transaction."""
    try:
        with transaction.atomic():
            appointment.save(**kwargs)
    except IntegrityError as exc:
        if "appointment_no_overlap" in str(exc):
            raise ApplicationError(str(SLOT_TAKEN), field="starts_at", code="slot_taken") from None
        raise


def _expire(hold: Appointment) -> None:
    hold.status = Appointment.Status.EXPIRED
    hold.save(update_fields=["status"])


def _hold_confirm(*, hold: Appointment, actor: User, contact, notes: str) -> Appointment:
    _check_notes_allowed(notes, actor)
    locked = Appointment.objects.select_for_update().get(pk=hold.pk)
    if locked.status != Appointment.Status.HELD or locked.hold_expires_at <= timezone.now():
        raise ApplicationError(_("the hold has expired; search for the slot again"), field="hold", code="hold_expired")
    locked.status = Appointment.Status.BOOKED
    locked.hold_expires_at = None
    locked.contact = contact or locked.contact
    locked.notes = notes
    locked.save(update_fields=["status", "hold_expires_at", "contact", "notes"])
    timer_cancel(kind=TIMER_HOLD, target_id=locked.pk)
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
    settings_row = ReminderSettings.objects.first() or ReminderSettings()
    due = appointment.starts_at - dt.timedelta(hours=settings_row.lead_hours)
    if due > timezone.now():
        timer_schedule(kind=TIMER_REMINDER, target_id=appointment.pk, due_at=due)
    else:
        timer_cancel(kind=TIMER_REMINDER, target_id=appointment.pk)


def _notice(appointment: Appointment, *, kind: str) -> None:
    settings_row = ReminderSettings.objects.first() or ReminderSettings()
    if settings_row.notify_changes:
        key = f"{kind}:{appointment.starts_at.isoformat()}:{appointment.status}"
        _outbox_message(appointment.pk, kind=kind, key=key, event=key)
