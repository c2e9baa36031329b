"""The live desk's reads."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from desk.models import BreakReason, Presence, PresenceChange, QueuedCall
from desk.services import OPEN_STATES
from tenants.models import ClientCompany, User


def queued_for_call(*, company: ClientCompany, call_id: int) -> QueuedCall | None:
    return QueuedCall.objects.filter(company=company, call_id=call_id).first()


def queue_position(*, queued: QueuedCall) -> int:
    """The caller's place in the queue, counted among their own company's calls only: a count over
    other companies' callers would tell this caller about them."""
    ahead = QueuedCall.objects.filter(company_id=queued.company_id, state=QueuedCall.State.WAITING).filter(
        Q(priority__gt=queued.priority) | Q(priority=queued.priority, enqueued_at__lt=queued.enqueued_at)
    )
    return ahead.count() + 1


def presence_of(*, user: User) -> Presence | None:
    return Presence.objects.select_related("reason").filter(user=user).first()


def offer_current(*, user: User) -> QueuedCall | None:
    return QueuedCall.objects.select_related("company").filter(offered_to=user, state=QueuedCall.State.OFFERED).first()


def queue_waiting_counts(*, companies: QuerySet[ClientCompany]) -> dict[str, int]:
    """Calls waiting per company, for the companies the person works for: counts and slugs only."""
    rows = (
        QueuedCall.objects.filter(company__in=companies, state__in=OPEN_STATES)
        .values("company__schema_name")
        .annotate(n=Count("pk"))
    )
    return {row["company__schema_name"]: row["n"] for row in rows}


def break_reasons() -> QuerySet[BreakReason]:
    return BreakReason.objects.filter(active=True)


def presence_changes(*, user: User, limit: int = 10) -> QuerySet[PresenceChange]:
    return PresenceChange.objects.filter(user=user).select_related("reason")[:limit]
