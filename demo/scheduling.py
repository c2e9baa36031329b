"""Demo data for scheduling: acme's dentists, rooms, services and a week of appointments, and its
emergencies line's on-call rota of those dentists (so the demo's warm transfer has someone to put
the caller through to); globex's on-call rota of lawyers (with a gap left on purpose, to show how
gaps are flagged)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db import connection
from django.utils import timezone

from answering.models import Line
from crm.models import Contact
from scheduling.models import OnCallShift, ReminderSettings, Resource, Service, StaffMember, WeeklyAvailability
from scheduling.selectors import slots_find
from scheduling.services import appointment_book
from tenants.errors import ApplicationError
from tenants.models import User


def scheduling_demo(slug: str, rich: bool) -> None:
    if slug == "acme" and not Service.objects.exists():
        _acme()
    if slug == "acme" and rich and not OnCallShift.objects.exists():
        acme_on_call()
    if slug == "globex" and not OnCallShift.objects.exists():
        _globex()


def _acme() -> None:
    ReminderSettings.objects.get_or_create(pk=1, defaults={"lead_hours": 24, "include_service": True})
    checkup = Service.objects.create(name="Check-up", duration_minutes=30, buffer_after_minutes=5)
    cleaning = Service.objects.create(name="Dental cleaning", duration_minutes=45, buffer_after_minutes=10)
    filling = Service.objects.create(
        name="Filling", duration_minutes=60, buffer_before_minutes=5, buffer_after_minutes=10
    )
    dentists = []
    for label, name in [("Dr. Kask", "Kristi Kask"), ("Dr. Tamm", "Toomas Tamm")]:
        staff = StaffMember.objects.create(name=name, phone_number="", email="")
        resource = Resource.objects.create(label=label, kind=Resource.Kind.PERSON, staff=staff)
        resource.services.set([checkup, cleaning, filling])
        dentists.append(resource)
    for label in ("Room 1", "Room 2"):
        room = Resource.objects.create(label=label, kind=Resource.Kind.ROOM)
        room.services.set([cleaning])
    for resource in Resource.objects.all():
        for weekday in range(5):
            WeeklyAvailability.objects.create(
                resource=resource, weekday=weekday, start_time=dt.time(9), end_time=dt.time(17)
            )

    booker = User.objects.get(username="acme-admin")
    contacts = list(Contact.objects.order_by("pk"))
    zone = zoneinfo.ZoneInfo(connection.tenant.time_zone)
    start = dt.datetime.combine(timezone.localdate(timezone=zone) + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    booked = 0
    for day in range(7):
        day_start = start + dt.timedelta(days=day)
        for n, (service, resource) in enumerate(
            [(checkup, dentists[0]), (filling, dentists[1]), (cleaning, dentists[0])]
        ):
            slots = slots_find(
                service=service, resource=resource, start=day_start, end=day_start + dt.timedelta(days=1)
            )
            if len(slots) > 4 * (n + 1):
                try:
                    appointment_book(
                        service=service,
                        resource=resource,
                        starts_at=slots[4 * (n + 1)].starts_at,
                        contact=contacts[(day + n) % len(contacts)] if contacts else None,
                        actor=booker,
                    )
                    booked += 1
                except ApplicationError:
                    pass  # the demo's slot picking met a buffer; fewer appointments is fine


# The dentists' mobile numbers, dialled by the emergencies line's warm transfer (the demo's Twilio
# stand-in answers them, as the dentist on call).
ACME_ON_CALL = {"Dr. Kask": "+37255520101", "Dr. Tamm": "+37255520102"}


def acme_on_call() -> None:
    """The emergencies line's rota: the two dentists by turns, a day each, 08:00 to 08:00 in the
    company's zone, from yesterday for a fortnight, with no gap."""
    dentists = []
    for label, phone in ACME_ON_CALL.items():
        resource = Resource.objects.select_related("staff").filter(label=label, staff__isnull=False).first()
        staff = resource.staff if resource else StaffMember.objects.create(name=label)
        if not staff.phone_number:
            staff.phone_number = phone
            staff.save(update_fields=["phone_number"])
        dentists.append(staff)
    line = Line.objects.order_by("phone_number")[1]  # the emergencies line (+3726001002)
    zone = zoneinfo.ZoneInfo(connection.tenant.time_zone)
    today = dt.datetime.combine(timezone.localdate(timezone=zone), dt.time(8), tzinfo=zone)
    for day in range(-1, 14):
        OnCallShift.objects.create(
            line=line,
            staff=dentists[day % 2],
            starts_at=today + dt.timedelta(days=day),
            ends_at=today + dt.timedelta(days=day + 1),
            position=1,
        )


def _globex() -> None:
    lawyers = [
        StaffMember.objects.create(name=name, phone_number=phone, email=email)
        for name, phone, email in [
            ("Anna Lepp", "+37255510001", "anna.lepp@globex.example"),
            ("Martin Kuusk", "+37255510002", "martin.kuusk@globex.example"),
            ("Eva Mänd", "+37255510003", "eva.mand@globex.example"),
        ]
    ]
    line = Line.objects.order_by("pk").first()
    zone = zoneinfo.ZoneInfo(connection.tenant.time_zone)
    today = dt.datetime.combine(timezone.localdate(timezone=zone), dt.time(8), tzinfo=zone)
    # Shifts run 08:00 to 08:00; the first one starts yesterday so that the small hours of today
    # (before 08:00 in the company's zone) are covered too.
    for day in range(-1, 14):
        if day == 3:
            continue  # a day nobody covers: the admin and the portal flag it
        starts = today + dt.timedelta(days=day)
        ends = today + dt.timedelta(days=day + 1)
        OnCallShift.objects.create(line=line, staff=lawyers[day % 3], starts_at=starts, ends_at=ends, position=1)
        OnCallShift.objects.create(line=line, staff=lawyers[(day + 1) % 3], starts_at=starts, ends_at=ends, position=2)
