"""The per-resource iCalendar feed, at a secret, revocable URL on the company's host."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from compliance.agreements.selectors import dpa_in_force
from crm.models import Contact
from gates.context import system_context
from scheduling.models import Appointment, Resource
from scheduling.services import feed_token_hash
from tenants.categories import covered_by_any, personal_fields

FEED_PAST = dt.timedelta(days=30)
FEED_FUTURE = dt.timedelta(days=180)


@require_GET
@system_context(reason="calendar feed")  # the feed's secret token is its only credential
def calendar_feed(request, token: str):
    """Booked appointments of one resource. Events say "Booked" and the service; the caller's
    name only where the client opted in *and* the DPA in force grants names. A revoked or unknown
    token is a 404."""
    if not token:
        raise Http404
    resource = Resource.objects.filter(feed_token_hash=feed_token_hash(token)).exclude(feed_token_hash="").first()
    if resource is None:
        raise Http404
    show_names = resource.feed_includes_names and _dpa_grants_names()
    now = timezone.now()
    appointments = (
        Appointment.objects.filter(
            resource=resource,
            status=Appointment.Status.BOOKED,
            starts_at__gte=now - FEED_PAST,
            starts_at__lt=now + FEED_FUTURE,
        ).select_related("service", "contact")
    ).defer("notes")
    # Only what an event shows is loaded (and so logged): the caller's name, where it is sent at all.
    sent = {"name"} if show_names else set()
    appointments = appointments.defer(*(f"contact__{name}" for name in sorted(set(personal_fields(Contact)) - sent)))
    calendar = Calendar()
    calendar.add("prodid", "-//Vastaja//Scheduling feed//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{resource.label} ({request.tenant.name})")
    for appointment in appointments:
        event = Event()
        event.add("uid", f"appointment-{appointment.pk}@{request.tenant.schema_name}.vastaja")
        event.add("dtstamp", now)
        event.add("dtstart", appointment.starts_at)
        event.add("dtend", appointment.ends_at)
        summary = f"Booked: {appointment.service.name}"
        if show_names and appointment.contact is not None:
            summary += f" ({appointment.contact.name})"
        event.add("summary", summary)
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


def _dpa_grants_names() -> bool:
    version = dpa_in_force(company=connection.tenant)
    if version is None:
        return False
    granted = {g.category for g in version.grants.all() if g.action == "read"}
    return covered_by_any(granted, "user.contact.name")
