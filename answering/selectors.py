"""Reads on the answering desk. The lists a person gets pass the gates: the object gate narrows
the rows (agents see their granted lines' records), and fields the DPA does not grant them are
deferred, so never loaded or decrypted. Client users see their own company's data in full."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.db.models.lookups import IsNull
from django.utils.translation import gettext as _

from answering.models import Call, DeliveryAttempt, Disposition, Line, Listen, Message, Transfer, Voicemail
from gates.engine import WITHHELD, Policy, Withheld, objects_visible
from tenants.errors import ApplicationError
from tenants.models import User

if TYPE_CHECKING:
    from crm.models import Contact

MESSAGE_ORDERINGS = ("created_at", "-created_at")
CALL_ORDERINGS = ("started_at", "-started_at", "duration_seconds", "-duration_seconds")
VOICEMAIL_ORDERINGS = ("created_at", "-created_at", "duration_seconds", "-duration_seconds")
OPEN_MESSAGE_STATES = (Message.Status.PENDING, Message.Status.SENT, Message.Status.DELIVERED, Message.Status.FAILED)


def line_list() -> QuerySet[Line]:
    """The current client company's lines (its schema is the connection's)."""
    return Line.objects.order_by("name")


def _ordered(rows: QuerySet, ordering: str) -> QuerySet:
    """Order by one allowed field, then newest id first; rows without a value (a call still ringing)
    come last either way. A column that cannot be empty is ordered plainly, so that its index
    (`-started_at, -id`) serves the page without sorting the table."""
    name = ordering.lstrip("-")
    if not rows.model._meta.get_field(name).null:
        return rows.order_by(ordering, "-pk")
    field = F(name)
    return rows.order_by(field.desc(nulls_last=True) if ordering.startswith("-") else field.asc(nulls_last=True), "-pk")


def _gated(queryset: QuerySet, *, user: User, policy: Policy) -> QuerySet:
    rows = objects_visible(policy=policy, user=user, queryset=queryset)
    masked = policy.masked(queryset.model)
    return rows.defer(*masked) if masked else rows


def _day_range(date_from: dt.date | None, date_to: dt.date | None, zone) -> tuple[dt.datetime | None, ...]:
    """Whole days in the company's zone, as instants: [from 00:00, the day after `to` 00:00)."""
    if date_from and date_to and date_to < date_from:
        raise ApplicationError(_("the end date is before the start date"), field="date_to")
    start = dt.datetime.combine(date_from, dt.time(0), tzinfo=zone) if date_from else None
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(0), tzinfo=zone) if date_to else None
    return start, end


def message_list(
    *,
    user: User,
    policy: Policy,
    status: str = "",
    urgency: str = "",
    line: Line | None = None,
    open_only: bool = False,
    ordering: str = "-created_at",
) -> QuerySet[Message]:
    """The messages this person may see, filtered; newest first unless `ordering` says otherwise."""
    if status and status not in Message.Status.values:
        raise ApplicationError(_("'%(value)s' is not a message status") % {"value": status}, field="status")
    if urgency and urgency not in Message.Urgency.values:
        raise ApplicationError(_("'%(value)s' is not an urgency") % {"value": urgency}, field="urgency")
    if ordering not in MESSAGE_ORDERINGS:
        raise ApplicationError(
            _("ordering must be one of %(values)s") % {"values": ", ".join(MESSAGE_ORDERINGS)}, field="ordering"
        )
    rows = _gated(Message.objects.select_related("line"), user=user, policy=policy)
    if status:
        rows = rows.filter(status=status)
    if urgency:
        rows = rows.filter(urgency=urgency)
    if line is not None:
        rows = rows.filter(line=line)
    if open_only:
        rows = rows.filter(status__in=OPEN_MESSAGE_STATES)
    return _ordered(rows, ordering)


def message_today(*, user: User, policy: Policy, limit: int = 10) -> list[Message]:
    """New and urgent messages: urgent ones not yet acknowledged first, then the rest not yet read."""
    rows = _gated(Message.objects.select_related("line"), user=user, policy=policy)
    urgent = list(
        rows.filter(urgency=Message.Urgency.URGENT)
        .exclude(status=Message.Status.ACKNOWLEDGED)
        .order_by("-created_at")[:limit]
    )
    new = list(
        rows.filter(status__in=OPEN_MESSAGE_STATES)
        .exclude(pk__in=[m.pk for m in urgent])
        .order_by("-created_at")[: max(limit - len(urgent), 0)]
    )
    return urgent + new


def message_answers(message: Message) -> list[dict]:
    """The message's answers to script questions that target no message field, each with its own
    label, category and value, in the order they were asked."""
    if not message.answers:
        return []
    try:
        answers = json.loads(message.answers)
    except ValueError:
        return []
    return [
        {
            "key": key,
            "label": answer.get("label", key),
            "category": answer.get("category", ""),
            "value": answer.get("value", ""),
        }
        for key, answer in answers.items()
        if isinstance(answer, dict)
    ]


def message_attempts(*, message: Message) -> QuerySet[DeliveryAttempt]:
    """The delivery history of a message: every send and escalation, oldest first."""
    return DeliveryAttempt.objects.filter(message=message).order_by("created_at", "pk")


def call_list(
    *,
    user: User,
    policy: Policy,
    zone=dt.UTC,
    line: Line | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    disposition: str = "",
    agent: User | None = None,
    status: str = "",
    ordering: str = "-started_at",
) -> QuerySet[Call]:
    """The calls this person may see, filtered by line, whole days (in the company's zone),
    disposition, the agent who took them and status."""
    if disposition and disposition not in Disposition.values:
        raise ApplicationError(_("'%(value)s' is not a disposition") % {"value": disposition}, field="disposition")
    if status and status not in Call.Status.values:
        raise ApplicationError(_("'%(value)s' is not a call status") % {"value": status}, field="status")
    if ordering not in CALL_ORDERINGS:
        raise ApplicationError(
            _("ordering must be one of %(values)s") % {"values": ", ".join(CALL_ORDERINGS)}, field="ordering"
        )
    start, end = _day_range(date_from, date_to, zone)
    rows = _gated(Call.objects.select_related("line", "agent"), user=user, policy=policy)
    # A scalar subquery, probed per row on the page through the unique index on the call: with
    # EXISTS, PostgreSQL hashes every voicemail of the company before it returns the first row.
    voicemail = Subquery(Voicemail.objects.filter(call=OuterRef("pk")).values("pk")[:1])
    rows = rows.annotate(has_voicemail=IsNull(voicemail, False))
    if line is not None:
        rows = rows.filter(line=line)
    if start is not None:
        rows = rows.filter(started_at__gte=start)
    if end is not None:
        rows = rows.filter(started_at__lt=end)
    if disposition:
        rows = rows.filter(disposition=disposition)
    if agent is not None:
        rows = rows.filter(agent=agent)
    if status:
        rows = rows.filter(status=status)
    return _ordered(rows, ordering)


def call_agents() -> QuerySet[User]:
    """The provider's people who have taken this company's calls (for filtering by agent)."""
    return User.objects.filter(pk__in=Call.objects.exclude(agent=None).values("agent_id")).order_by("username")


def transfer_list(*, user: User, policy: Policy, call: Call) -> QuerySet[Transfer]:
    """The warm transfers of one call, oldest first; the number dialled only where it is granted."""
    return _gated(Transfer.objects.filter(call=call), user=user, policy=policy).order_by("started_at", "pk")


def voicemail_list(
    *,
    user: User,
    policy: Policy,
    line: Line | None = None,
    unheard: bool = False,
    ordering: str = "-created_at",
) -> QuerySet[Voicemail]:
    """The voicemails this person may see, with their call and line. `unheard`: none of the
    company's own people has played it yet."""
    if ordering not in VOICEMAIL_ORDERINGS:
        raise ApplicationError(
            _("ordering must be one of %(values)s") % {"values": ", ".join(VOICEMAIL_ORDERINGS)}, field="ordering"
        )
    rows = _gated(Voicemail.objects.select_related("call", "call__line"), user=user, policy=policy)
    masked_call = policy.masked(Call)
    if masked_call:
        rows = rows.defer(*(f"call__{name}" for name in masked_call))
    heard = Listen.objects.filter(voicemail=OuterRef("pk"), user__provider_role="")
    rows = rows.annotate(heard_by_client=Exists(heard))
    if line is not None:
        rows = rows.filter(call__line=line)
    if unheard:
        rows = rows.filter(heard_by_client=False)
    return _ordered(rows, ordering)


RESTRICTED = "restricted by DPA"
CALLER_FIELDS = ("name", "phone_number", "email")


@dataclass(frozen=True)
class DeskCaller:
    """Who is calling, as the desk shows it: the number, and the matched contact's fields as
    (label, value) pairs; a field the DPA does not let this person read says so instead. A contact
    the object gate withholds (`restricted`) shows none of its fields."""

    number: str
    known: list[tuple[str, str]]
    restricted: bool = False
    # What the desk pre-fills: the contact's name and the number, where this person may read them.
    name: str = ""
    call_back: str = ""


def call_desk_caller(*, call: Call, contact: Contact | Withheld | None, policy: Policy) -> DeskCaller:
    """The caller of `call` as far as `policy` lets this person read (the layer logs the reads).
    `contact` is the call's contact as the gates hand it to this person (a channel's
    `related(call, "contact")`): the record with its ungranted fields deferred, or WITHHELD."""
    number = call.caller_number if policy.can_read(Call, "caller_number") else RESTRICTED
    if contact is WITHHELD:
        return DeskCaller(number=number, known=[], restricted=True)
    known, readable = [], {}
    if contact is not None:
        for name in CALLER_FIELDS:
            value = getattr(contact, name) if policy.can_read(type(contact), name) else RESTRICTED
            known.append((type(contact)._meta.get_field(name).verbose_name, value))
            if value != RESTRICTED:
                readable[name] = value or ""
    call_back = number if number != RESTRICTED else ""
    return DeskCaller(
        number=number,
        known=known,
        name=readable.get("name", ""),
        call_back=call_back or readable.get("phone_number", ""),
    )
