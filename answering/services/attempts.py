"""A delivery attempt's states, moved under a row lock so that they cannot lie:

    pending -> sending -> sent
                       -> failed -> sending (tried again in place) ... -> dead_letter

An attempt is keyed by what it delivers (message and route, webhook try or escalation level), so a
task that the broker hands out again, after its worker was killed, finds its own attempt and resumes
it: it never creates a second one, and never raises on the key. One that is still `sending` is being
sent by another worker, unless it has been so for longer than DELIVERY_SENDING_TIMEOUT (longer than
a task may run): then its worker died mid-send, and the attempt is tried again. That makes delivery
at least once; receivers drop a repeat by the attempt's idempotency key (the webhook's
`X-Vastaja-Delivery`, the e-mail's Message-ID), which is the same at every try.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from answering.models import DeliveryAttempt
from tenants.scrub import provider_text_scrub

Status = DeliveryAttempt.Status
FINAL = (Status.SENT, Status.REFUSED, Status.DEAD_LETTER)


@dataclass(frozen=True)
class Claim:
    """`claimed`: this worker sends now. `done`: it reached a final state before. `busy`: another
    worker is sending it right now (ask again after DELIVERY_SENDING_TIMEOUT)."""

    attempt: DeliveryAttempt
    state: Literal["claimed", "done", "busy"]


def attempt_claim(*, key: str, **fields) -> Claim:
    """The attempt with this key (created pending with `fields` the first time), moved to sending
    for this worker unless it is final or fresh in another worker's hands."""
    DeliveryAttempt.objects.get_or_create(key=key, defaults=fields)
    abandoned = timezone.now() - dt.timedelta(seconds=settings.DELIVERY_SENDING_TIMEOUT)
    with transaction.atomic():
        attempt = DeliveryAttempt.objects.select_for_update().get(key=key)
        if attempt.status in FINAL:
            return Claim(attempt, "done")
        if attempt.status == Status.SENDING and attempt.updated_at > abandoned:
            return Claim(attempt, "busy")
        attempt.status = Status.SENDING
        attempt.tries += 1
        attempt.save(update_fields=["status", "tries", "updated_at"])
    return Claim(attempt, "claimed")


def attempt_settle(
    *, attempt: DeliveryAttempt, status: str, error: str | BaseException = "", provider_id: str = ""
) -> bool:
    """Move a claimed attempt to sent, failed, refused or dead-lettered. The provider's error text
    is scrubbed here, where it is stored (tenants/scrub.py). False, and nothing written, when a later
    claim has taken the attempt over meanwhile (this worker was too slow and was given up on)."""
    with transaction.atomic():
        locked = DeliveryAttempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.status != Status.SENDING or locked.tries != attempt.tries:
            return False
        locked.status = status
        locked.error = provider_text_scrub(error) if error else ""
        if provider_id:
            locked.provider_id = provider_id[:200]
        locked.save(update_fields=["status", "error", "provider_id", "updated_at"])
    attempt.status, attempt.error, attempt.provider_id = locked.status, locked.error, locked.provider_id
    return True


def email_message_id(key: str) -> str:
    """The Message-ID of an attempt's e-mail: derived from its key, so a try sent again carries the
    same one and the receiving side can drop the repeat."""
    from django.db import connection

    return f"<{key.replace(':', '.')}.{connection.schema_name}@{settings.PUBLIC_HOST}>"
