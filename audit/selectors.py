"""Reads of a client company's audit records, for its own people (portal and API): the access log,
its data-subject requests and its per-line statistics. All run in the current company's schema;
the callers have passed gate 1 (client users of this company) before they get here."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.apps import apps
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from audit.models import AccessLogEntry, DataSubjectRequest, LineDayStats
from tenants.models import User

# Who read: the provider (its staff, and tasks acting for it), the company's own people, or both.
READER_PROVIDER = "provider"
READER_COMPANY = "company"
READER_ALL = "all"
READERS = [
    (READER_PROVIDER, _("The provider (staff and automatic tasks)")),
    (READER_COMPANY, _("Your own people")),
    (READER_ALL, _("Everyone")),
]
PERSON_TASK = "task"  # the `person` filter's value for entries written by a task (no user)

# Names for the record types the access log holds, in the portal's languages.
RECORD_TYPE_LABELS = {
    "crm.Contact": _("Contact"),
    "crm.ContactPhone": _("Contact's other number"),
    "crm.ConsentRecord": _("Consent record"),
    "answering.Call": _("Call"),
    "answering.Message": _("Message"),
    "answering.Voicemail": _("Voicemail"),
    "answering.Recording": _("Call recording"),
    "answering.DeliveryRoute": _("Delivery route"),
    "scheduling.Appointment": _("Appointment"),
    "scheduling.StaffMember": _("Staff member"),
    "audit.DataSubjectRequest": _("Data-subject request"),
}


def company_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(getattr(connection.tenant, "time_zone", "UTC") or "UTC")


def day_bounds(*, date_from: dt.date | None, date_to: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The instants that start `date_from` and end `date_to` (inclusive) in the company's time zone."""
    zone = company_zone()
    start = dt.datetime.combine(date_from, dt.time(0), tzinfo=zone) if date_from else None
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(0), tzinfo=zone) if date_to else None
    return start, end


def record_type_label(object_type: str) -> str:
    if object_type in RECORD_TYPE_LABELS:
        return str(RECORD_TYPE_LABELS[object_type])
    try:
        return capfirst(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def field_labels(object_type: str, names: list[str]) -> list[str]:
    """The fields' names as people read them ("caller number", not "caller_number")."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return list(names)
    labels = []
    for name in names:
        try:
            labels.append(str(model._meta.get_field(name).verbose_name))
        except Exception:  # a field since removed from the model: its stored name is all there is
            labels.append(name)
    return labels


# ---- the access log ----------------------------------------------------------------------------


def access_log_base(*, reader: str = READER_PROVIDER) -> QuerySet[AccessLogEntry]:
    """The company's access log, narrowed to who read: by default the provider (its staff, and
    tasks acting for it); the company's own people's reads are the other choice."""
    entries = AccessLogEntry.objects.select_related("user")
    if reader == READER_PROVIDER:
        return entries.filter(Q(user__isnull=True) | ~Q(user__provider_role=""))
    if reader == READER_COMPANY:
        return entries.filter(user__isnull=False, user__provider_role="")
    return entries


def access_log_people(*, reader: str = READER_PROVIDER) -> list[tuple[str, str]]:
    """(value, label) of everyone who appears in the log, for the `person` filter."""
    ids = set(access_log_base(reader=reader).order_by().values_list("user_id", flat=True).distinct())
    people = [(str(u.pk), _person_label(u)) for u in User.objects.filter(pk__in=ids - {None}).order_by("username")]
    if None in ids:
        people.append((PERSON_TASK, str(_("(automatic task)"))))
    return people


def _person_label(user: User) -> str:
    role = user.get_provider_role_display() if user.provider_role else _("your company")
    return f"{user.username} ({role})"


def access_log_record_types(*, reader: str = READER_PROVIDER) -> list[tuple[str, str]]:
    types = access_log_base(reader=reader).order_by().values_list("object_type", flat=True).distinct()
    return sorted(((t, record_type_label(t)) for t in types), key=lambda pair: pair[1])


@dataclass(frozen=True)
class AccessLogFilter:
    reader: str = READER_PROVIDER
    person: str = ""  # a user's id, PERSON_TASK, or "" for anyone
    record_type: str = ""
    channel: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    refused: bool | None = None
    ordering: str = "-at"


ACCESS_LOG_ORDERINGS = {
    "at": ["at", "pk"],
    "-at": ["-at", "-pk"],
    "channel": ["channel", "-at", "-pk"],
    "-channel": ["-channel", "-at", "-pk"],
    "object_type": ["object_type", "-at", "-pk"],
    "-object_type": ["-object_type", "-at", "-pk"],
}


def access_log_list(*, filters: AccessLogFilter) -> QuerySet[AccessLogEntry]:
    """The access log, filtered. Filter values are validated by the caller's form."""
    entries = access_log_base(reader=filters.reader)
    if filters.person == PERSON_TASK:
        entries = entries.filter(user__isnull=True)
    elif filters.person:
        entries = entries.filter(user_id=int(filters.person))
    if filters.record_type:
        entries = entries.filter(object_type=filters.record_type)
    if filters.channel:
        entries = entries.filter(channel=filters.channel)
    if filters.refused is not None:
        entries = entries.filter(refused=filters.refused)
    start, end = day_bounds(date_from=filters.date_from, date_to=filters.date_to)
    if start:
        entries = entries.filter(at__gte=start)
    if end:
        entries = entries.filter(at__lt=end)
    return entries.order_by(*ACCESS_LOG_ORDERINGS[filters.ordering])


# ---- data-subject requests ---------------------------------------------------------------------


DSR_ORDERINGS = {
    "raised_at": ["raised_at", "pk"],
    "-raised_at": ["-raised_at", "-pk"],
    "due_at": ["due_at", "pk"],
    "-due_at": ["-due_at", "-pk"],
}


def dsr_list(*, kind: str = "", status: str = "", ordering: str = "-raised_at") -> QuerySet[DataSubjectRequest]:
    """The company's data-subject requests. Rows carry encrypted identifiers: callers that show
    them must report the read."""
    requests = DataSubjectRequest.objects.all()
    if kind:
        requests = requests.filter(kind=kind)
    if status:
        requests = requests.filter(status=status)
    return requests.order_by(*DSR_ORDERINGS[ordering])


# ---- statistics --------------------------------------------------------------------------------

STATS_ORDERINGS = {"day": ["day", "line_id"], "-day": ["-day", "line_id"]}


def line_day_stats_list(
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    line_id: int | None = None,
    ordering: str = "day",
) -> QuerySet[LineDayStats]:
    """The per-line daily rollups (no person in them), narrowed to a period and a line."""
    stats = LineDayStats.objects.select_related("line")
    if date_from:
        stats = stats.filter(day__gte=date_from)
    if date_to:
        stats = stats.filter(day__lte=date_to)
    if line_id:
        stats = stats.filter(line_id=line_id)
    return stats.order_by(*STATS_ORDERINGS[ordering])


@dataclass
class DaySeries:
    """One day over the chosen lines. Shares are exact over the lines (answered-weighted where the
    line's figure is a share of answered calls); answer times are the lines' figures weighted by
    their answered calls, since a median cannot be recombined from medians."""

    day: dt.date
    has_data: bool = False
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    voicemails: int = 0
    messages: int = 0
    answer_p50_seconds: float | None = None
    answer_p90_seconds: float | None = None
    within_target_share: float | None = None

    @property
    def abandoned_share(self) -> float | None:
        return (self.abandoned / self.offered) if self.offered else None


def analytics_series(*, date_from: dt.date, date_to: dt.date, line_id: int | None = None) -> list[DaySeries]:
    """One `DaySeries` per day of the period, days without a rollup included (has_data False)."""
    days = {
        date_from + dt.timedelta(days=n): DaySeries(day=date_from + dt.timedelta(days=n))
        for n in range((date_to - date_from).days + 1)
    }
    weights: dict[dt.date, dict[str, float]] = {}
    for row in line_day_stats_list(date_from=date_from, date_to=date_to, line_id=line_id):
        day = days[row.day]
        day.has_data = True
        day.offered += row.offered
        day.answered += row.answered
        day.abandoned += row.abandoned
        day.voicemails += row.voicemails
        day.messages += row.messages
        sums = weights.setdefault(row.day, {})
        for name in ("answer_p50_seconds", "answer_p90_seconds", "within_target_share"):
            value = getattr(row, name)
            if value is not None and row.answered:
                sums[name] = sums.get(name, 0.0) + value * row.answered
                sums[name + ":w"] = sums.get(name + ":w", 0.0) + row.answered
    for day, sums in weights.items():
        for name in ("answer_p50_seconds", "answer_p90_seconds", "within_target_share"):
            if sums.get(name + ":w"):
                setattr(days[day], name, sums[name] / sums[name + ":w"])
    return list(days.values())
