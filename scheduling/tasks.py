from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.utils import formats

from scheduling.models import Appointment, Notification, ReminderSettings
from scheduling.selectors import company_zone
from tenants.sms import SmsError, sms_configured, sms_send

logger = logging.getLogger(__name__)
SUBJECTS = {
    "reminder": "Appointment reminder",
    "changed": "Your appointment has moved",
    "cancelled": "Appointment cancelled",
}


@shared_task(name="scheduling.send_appointment_message", acks_late=True)
def send_appointment_message(appointment_id: int, kind: str, key: str | None = None) -> list[str]:
    """Send a reminder or change notice for one appointment, by the channels the client chose.

    Idempotent: each (appointment, kind, key, channel) is sent at most once. The text carries only
    what the client configured: the time, and optionally the service and the resource, never notes.
    """
    appointment = Appointment.objects.select_related("service", "resource", "contact").filter(pk=appointment_id).first()
    if appointment is None or appointment.contact is None:
        return []
    if kind == "reminder" and appointment.status != Appointment.Status.BOOKED:
        return []
    options = ReminderSettings.objects.first() or ReminderSettings()
    text = appointment_message_text(appointment, kind=kind, options=options)
    sent = []
    contact = appointment.contact
    channels = []
    if options.email_enabled and contact.email:
        channels.append((Notification.Channel.EMAIL, contact.email))
    if options.sms_enabled and contact.phone_number:
        channels.append((Notification.Channel.SMS, contact.phone_number))
    from crm.models import Contact
    from gates.signals import report_read

    report_read(
        user=None,
        channel="task",
        model=Contact,
        object_ids=[contact.pk],
        fields=["email" if c == Notification.Channel.EMAIL else "phone_number" for c, _ in channels],
        path=f"appointment:{appointment.pk}:{kind}",
    )
    for channel, address in channels:
        unique = f"{appointment.pk}:{kind}:{key or appointment.starts_at.isoformat()}:{channel}"
        try:
            with transaction.atomic():
                record = Notification.objects.create(
                    appointment=appointment, kind=kind, channel=channel, key=unique, status="sending"
                )
        except IntegrityError:
            continue  # already sent for this event
        try:
            if channel == Notification.Channel.EMAIL:
                send_mail(SUBJECTS[kind], text, settings.DEFAULT_FROM_EMAIL, [address])
            elif not sms_configured():
                raise SmsError("SMS is not configured")
            else:
                record.provider_id = sms_send(to=address, body=text)
            record.status = "sent"
            sent.append(channel)
        except (SmsError, OSError) as exc:
            logger.warning("appointment %s %s by %s failed: %s", appointment.pk, kind, channel, exc)
            record.status, record.error = "failed", str(exc)[:300]
        record.save(update_fields=["status", "provider_id", "error"])
    return sent


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
        "reminder": f"Reminder: your appointment{detail} at {company} is on {date} at {time}.",
        "changed": f"Your appointment{detail} at {company} has moved to {date} at {time}.",
        "cancelled": f"Your appointment{detail} at {company} on {date} at {time} is cancelled.",
    }
    return lines[kind]
