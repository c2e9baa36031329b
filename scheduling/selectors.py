"""Reads on scheduling: free slots, the calendar, who is on call, gaps in the rota."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduling.models import Appointment, AvailabilityException, OnCallShift, Resource, Service, StaffMember
from tenants.errors import ApplicationError

SLOT_STEP = dt.timedelta(minutes=15)
MAX_SEARCH = dt.timedelta(days=62)


@dataclass(frozen=True)
class Slot:
    resource: Resource
    starts_at: dt.datetime
    ends_at: dt.datetime


def company_zone() -> zoneinfo.ZoneInfo:
    """The current client company's time zone (the connection's tenant)."""
    return zoneinfo.ZoneInfo(getattr(connection.tenant, "time_zone", None) or "UTC")


def require_aware(value: dt.datetime, field: str) -> dt.datetime:
    """Refuse naive datetimes; return the instant in UTC.

    Python adds and compares datetimes that share a ZoneInfo by wall clock, which is wrong across
    a daylight-saving change. All arithmetic here is on UTC instants.
    """
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise ApplicationError(
            _("%(field)s must be a datetime with a time zone, e.g. 2026-03-29T09:00+03:00") % {"field": field},
            field=field,
        )
    return value.astimezone(dt.UTC)


def blocked_range(service: Service, starts_at: dt.datetime, ends_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return (
        starts_at - dt.timedelta(minutes=service.buffer_before_minutes),
        ends_at + dt.timedelta(minutes=service.buffer_after_minutes),
    )


def availability_windows(
    resource: Resource, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The resource's weekly availability between `start` and `end`, as aware intervals.

    Weekly hours are wall-clock times in the company's zone: each day's window is placed on that
    day's calendar, so the UTC offset follows daylight saving. A wall time that does not exist
    (skipped by a spring-forward) moves to the first instant after the gap.
    """
    zone = company_zone()
    weekly: dict[int, list] = {}
    for window in resource.availability.all():
        weekly.setdefault(window.weekday, []).append(window)
    windows = []
    day = start.astimezone(zone).date()
    while day <= end.astimezone(zone).date():
        for window in weekly.get(day.weekday(), []):
            opens = _wall_to_aware(day, window.start_time, zone)
            closes = _wall_to_aware(day, window.end_time, zone)
            if closes > opens and closes > start and opens < end:
                windows.append((max(opens, start), min(closes, end)))
        day += dt.timedelta(days=1)
    return windows


def _wall_to_aware(day: dt.date, wall: dt.time, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The UTC instant of a wall-clock time on a day. A wall time skipped by a spring-forward
    lands after the gap; a repeated one (fall-back) means its first occurrence."""
    return dt.datetime.combine(day, wall, tzinfo=zone).astimezone(dt.UTC)


def slots_find(
    *,
    service: Service,
    start: dt.datetime,
    end: dt.datetime,
    resource: Resource | None = None,
    now: dt.datetime | None = None,
) -> list[Slot]:
    """Free slots for `service` between `start` and `end`, on one resource or on every resource
    that offers the service, in time order (UTC instants). Past slots, absences and live bookings
    (with their buffers) are left out."""
    start = require_aware(start, "start")
    end = require_aware(end, "end")
    if end <= start:
        raise ApplicationError(_("the search must end after it starts"), field="end")
    if end - start > MAX_SEARCH:
        raise ApplicationError(_("search at most 62 days at a time"), field="end")
    now = require_aware(now or timezone.now(), "now")
    if end <= now:
        # A search that is over entirely has no slot; say so (and the range query below would be
        # an empty, invalid range: a 500).
        from django.utils.formats import date_format

        day = start.astimezone(company_zone()).date()
        raise ApplicationError(
            _("%(day)s has passed: choose today or a later day.") % {"day": date_format(day, "SHORT_DATE_FORMAT")},
            field="start",
        )
    start = max(start, now)
    duration = dt.timedelta(minutes=service.duration_minutes)
    resources = [resource] if resource is not None else list(service.resources.all())
    slots = []
    for res in resources:
        if not res.services.filter(pk=service.pk).exists():
            raise ApplicationError(
                _("%(resource)s does not offer %(service)s") % {"resource": res, "service": service.name},
                field="resource",
            )
        busy = _busy_intervals(res, start - dt.timedelta(days=1), end + dt.timedelta(days=1), now=now)
        for opens, closes in availability_windows(res, start - duration, end):
            candidate = _align(opens)
            while candidate + duration <= closes:
                if candidate >= start:
                    block = blocked_range(service, candidate, candidate + duration)
                    if not any(b0 < block[1] and block[0] < b1 for b0, b1 in busy):
                        slots.append(Slot(res, candidate, candidate + duration))
                candidate += SLOT_STEP
    return sorted(slots, key=lambda slot: (slot.starts_at, slot.resource.label))


def _align(moment: dt.datetime) -> dt.datetime:
    """Slots start on the quarter hour (of the wall clock, which is the quarter hour in UTC too)."""
    floor = moment.replace(second=0, microsecond=0)
    floor -= dt.timedelta(minutes=floor.minute % 15)
    return floor if floor == moment else floor + SLOT_STEP


def _busy_intervals(resource: Resource, start: dt.datetime, end: dt.datetime, *, now: dt.datetime):
    busy = [
        (a.blocked.lower, a.blocked.upper)
        for a in Appointment.objects.filter(resource=resource, blocked__overlap=(start, end)).filter(
            Q(status=Appointment.Status.BOOKED) | Q(status=Appointment.Status.HELD, hold_expires_at__gt=now)
        )
    ]
    busy += [
        (e.starts_at, e.ends_at)
        for e in AvailabilityException.objects.filter(resource=resource, starts_at__lt=end, ends_at__gt=start)
    ]
    return busy


def oncall_for_line(*, line, at: dt.datetime | None = None) -> list[StaffMember]:
    """Who is on call for this line now (or at `at`), in escalation order. The answering desk
    asks this when an urgent message is not acknowledged in time."""
    at = require_aware(at or timezone.now(), "at")
    shifts = (
        OnCallShift.objects.filter(line=line, starts_at__lte=at, ends_at__gt=at, staff__active=True)
        .select_related("staff")
        .order_by("position", "starts_at")
    )
    seen, order = set(), []
    for shift in shifts:
        if shift.staff_id not in seen:
            seen.add(shift.staff_id)
            order.append(shift.staff)
    return order


def rota_gaps(*, line, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The intervals between `start` and `end` when nobody is on call for the line."""
    start = require_aware(start, "start")
    end = require_aware(end, "end")
    shifts = OnCallShift.objects.filter(line=line, ends_at__gt=start, starts_at__lt=end).order_by("starts_at")
    return _gaps([(shift.starts_at, shift.ends_at) for shift in shifts], start, end)


def rota_gaps_by_line(*, start: dt.datetime, end: dt.datetime) -> dict[int, list[tuple[dt.datetime, dt.datetime]]]:
    """`rota_gaps` of every line with a shift between `start` and `end`, by line id, in one query
    (a list of lines shows them all); a line not in it has nobody on call the whole time."""
    start = require_aware(start, "start")
    end = require_aware(end, "end")
    by_line: dict[int, list] = {}
    shifts = OnCallShift.objects.filter(ends_at__gt=start, starts_at__lt=end).order_by("line_id", "starts_at")
    for line_id, starts_at, ends_at in shifts.values_list("line_id", "starts_at", "ends_at"):
        by_line.setdefault(line_id, []).append((starts_at, ends_at))
    return {line_id: _gaps(times, start, end) for line_id, times in by_line.items()}


def _gaps(shifts: list[tuple[dt.datetime, dt.datetime]], start: dt.datetime, end: dt.datetime) -> list[tuple]:
    gaps, cursor = [], start
    for starts_at, ends_at in shifts:
        if starts_at > cursor:
            gaps.append((cursor, starts_at))
        cursor = max(cursor, ends_at)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


# ---- the client's calendar ----------------------------------------------------------------------


def _contact_not_shown() -> list[str]:
    from crm.models import Contact
    from tenants.categories import personal_fields

    return [f"contact__{name}" for name in sorted(set(personal_fields(Contact)) - {"name"})]


def appointment_list(
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    resource: Resource | int | None = None,
    statuses: tuple[str, ...] | None = None,
) -> QuerySet[Appointment]:
    """Appointments starting in [start, end), in time order, with their service, resource and
    contact joined (one query for a week's calendar). Of the contact only the name is loaded, the
    one field a calendar or the API shows of it (so the one the access log records)."""
    appointments = (
        Appointment.objects.select_related("service", "resource", "contact")
        .defer(*_contact_not_shown())
        .order_by("starts_at", "pk")
    )
    if start is not None:
        appointments = appointments.filter(starts_at__gte=require_aware(start, "start"))
    if end is not None:
        appointments = appointments.filter(starts_at__lt=require_aware(end, "end"))
    if resource is not None:
        appointments = appointments.filter(resource=resource)
    if statuses is not None:
        appointments = appointments.filter(status__in=statuses)
    return appointments


def week_bounds(day: dt.date) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """The Monday of `day`'s week, and that week's start and end as instants of the company's zone
    (a week across a daylight-saving change is 167 or 169 hours long)."""
    zone = company_zone()
    monday = day - dt.timedelta(days=day.weekday())
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    return monday, start, end


def service_list(*, active_only: bool = False) -> QuerySet[Service]:
    services = Service.objects.prefetch_related("resources").order_by("name")
    return services.filter(active=True) if active_only else services


def resource_list() -> QuerySet[Resource]:
    return Resource.objects.prefetch_related("services").order_by("label")


def appointment_upcoming(*, user, policy, limit: int = 10) -> list[Appointment]:
    """The next booked appointments from now, with service, resource and caller, through the
    object gate; the caller's fields the person may not read are deferred (never decrypted)."""
    from crm.models import Contact
    from gates.engine import objects_visible

    rows = objects_visible(
        policy=policy, user=user, queryset=Appointment.objects.select_related("service", "resource", "contact")
    )
    masked = [f"contact__{name}" for name in policy.masked(Contact)] + list(policy.masked(Appointment))
    if masked:
        rows = rows.defer(*masked)
    return list(
        rows.filter(status=Appointment.Status.BOOKED, starts_at__gte=timezone.now()).order_by("starts_at")[:limit]
    )
