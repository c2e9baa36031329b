"""The answering desk's metrics and alerts (collected by operations.monitoring). Counts and ids only.

Counters are counted from rows that never change once written, so they only grow: a call is never
deleted (retention anonymises it), a webhook try and an escalation notice are one row each. An
e-mail or SMS route's attempt is one row retried in place, so messages not delivered are a gauge:
those past their deadline, whatever their state (until delivered or acknowledged)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from answering.models import Call, DeliveryAttempt, Message, WebhookEndpoint
from operations.monitoring.registry import Alert, alert_source, counter, gauge

RECENT = dt.timedelta(days=7)
Status = DeliveryAttempt.Status


@counter("vastaja_calls", "Inbound calls recorded", per_tenant=True)
def calls():
    yield (), Call.objects.count()


@counter(
    "vastaja_deliveries_failed",
    "Failed delivery tries recorded one per try: webhook tries (failed or dead-lettered) and escalation notices",
    labels=("channel",),
    per_tenant=True,
)
def deliveries_failed():
    rows = (
        DeliveryAttempt.objects.filter(
            Q(webhook__isnull=False, status__in=[Status.FAILED, Status.DEAD_LETTER])
            | Q(escalation_level__gt=0, status=Status.FAILED)
        )
        .values("channel")
        .annotate(n=Count("id"))
    )
    # Every channel from zero, so the first failure is an increase Prometheus can see.
    counts = dict.fromkeys(DeliveryAttempt.Channel.values, 0) | {row["channel"]: row["n"] for row in rows}
    for channel, n in sorted(counts.items()):
        yield (channel,), n


def overdue_messages(now: dt.datetime):
    """Messages not delivered within DELIVERY_DEADLINE_MINUTES of being taken, whatever held them:
    still pending (the broker or the workers down, a task lost, an attempt stuck in `sending`), and
    every message given up on (failed) at once. A pending one counts only when it has somewhere to
    go: a line with a route, or a company with an active webhook."""
    deadline = now - dt.timedelta(minutes=settings.DELIVERY_DEADLINE_MINUTES)
    somewhere = Q(line__delivery_routes__isnull=False)
    if WebhookEndpoint.objects.filter(active=True).exists():
        somewhere = Q()
    late = Q(status=Message.Status.PENDING, created_at__lte=deadline) & somewhere
    return Message.objects.filter(late | Q(status=Message.Status.FAILED), purged_at__isnull=True).distinct()


@gauge(
    "vastaja_messages_undelivered",
    "Messages not delivered within their deadline (DELIVERY_DEADLINE_MINUTES), whatever their state",
    per_tenant=True,
)
def messages_undelivered():
    yield (), overdue_messages(timezone.now()).count()


@counter("vastaja_escalations", "Escalations of unacknowledged urgent messages to the people on call", per_tenant=True)
def escalations():
    yield (), Message.objects.aggregate(n=Sum("escalation_level"))["n"] or 0


@alert_source("delivery_dead_letter", per_tenant=True)
def dead_letters(now: dt.datetime):
    """A webhook delivery dead-lettered after its last try, and a message given up on."""
    for pk, message_id, webhook_id, at in DeliveryAttempt.objects.filter(
        status=Status.DEAD_LETTER, created_at__gte=now - RECENT
    ).values_list("pk", "message_id", "webhook_id", "created_at"):
        yield Alert(
            kind="delivery_dead_letter",
            object_key=f"attempt:{pk}",
            subject=f"Webhook delivery of message #{message_id} dead-lettered",
            facts=[
                ("Message", f"#{message_id}"),
                ("Webhook endpoint", f"#{webhook_id}"),
                ("Delivery attempt", f"#{pk}"),
                ("Last try", at.isoformat(timespec="minutes")),
            ],
        )
    for pk, at, status in (
        overdue_messages(now).filter(created_at__gte=now - RECENT).values_list("pk", "created_at", "status")
    ):
        yield Alert(
            kind="delivery_dead_letter",
            object_key=f"message:{pk}",
            subject=f"Message #{pk} could not be delivered",
            facts=[
                ("Message", f"#{pk}"),
                ("Taken", at.isoformat(timespec="minutes")),
                (
                    "State",
                    "every delivery route failed after all retries"
                    if status == Message.Status.FAILED
                    else f"still {status} after {settings.DELIVERY_DEADLINE_MINUTES} minutes",
                ),
            ],
        )
