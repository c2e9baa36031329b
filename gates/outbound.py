"""The gate before every send: a company's data leaves through an outbound integration (SMS, voice,
e-mail; tenants/integrations.py) only when the DPA in force for the company authorises that
sub-processor for it, now.

    decision = outbound_check(integration=TWILIO_SMS, categories=[...], model=Message, object_ids=[pk])
    if not decision.allowed:
        ...  # send nothing; fall back to another channel, or mark it undeliverable with decision.reason

The decision comes from the DPA (compliance registers the source, so the gates import nothing
above them) and is asked for afresh on every send: nothing is cached across requests or tasks.
With no source registered, every send is refused (fail closed). Every check is reported on
`outbound_checked`, which `audit` turns into the company's record of sends and refusals and, for a
refusal, an access-log entry on the channel `subprocessor`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection
from django.dispatch import Signal

from tenants.integrations import Integration

# kwargs: integration, sub_processor, region, categories, allowed, kind, reason, version_number,
# model, object_ids, fields, path.
outbound_checked = Signal()

_source: Callable | None = None


def outbound_source_register(*, source: Callable) -> None:
    """`source(*, company, integration, categories)` -> an object with `allowed`, `kind`, `reason`
    and `version_number` (compliance.agreements.subprocessors.sub_processor_authorisation)."""
    global _source
    _source = source


@dataclass(frozen=True)
class OutboundDecision:
    integration: Integration
    allowed: bool
    kind: str = ""
    reason: str = ""
    version_number: int | None = None


class SubProcessorRefused(Exception):
    """A send the DPA does not authorise; nothing was sent. Its text is the refusal's reason."""

    def __init__(self, decision: OutboundDecision):
        super().__init__(decision.reason)
        self.decision = decision


def outbound_check(
    *,
    integration: Integration,
    categories: Iterable[str],
    model,
    object_ids: Iterable,
    fields: Iterable[str] = (),
    path: str = "",
) -> OutboundDecision:
    """May this send go, in the current company, now? Reported either way; never raises."""
    categories = sorted(set(categories))
    company = getattr(connection, "tenant", None)
    undeclared = [c for c in categories if c not in integration.categories]
    if undeclared:
        # A send carrying more than its integration declares is a bug in the sender: refuse it loudly.
        decision = OutboundDecision(
            integration, False, "categories", f"{integration.key} does not declare {', '.join(undeclared)}"
        )
    elif _source is None or company is None or not getattr(company, "is_client", False):
        decision = OutboundDecision(integration, False, "no_dpa", "no DPA source, or no client company, to ask")
    else:
        answer = _source(company=company, integration=integration, categories=categories)
        decision = OutboundDecision(integration, answer.allowed, answer.kind, answer.reason, answer.version_number)
    outbound_checked.send(
        sender=integration.__class__,
        integration=integration.key,
        sub_processor=integration.sub_processor,
        region=integration.region,
        categories=categories,
        allowed=decision.allowed,
        kind=decision.kind,
        reason=decision.reason,
        version_number=decision.version_number,
        model=model,
        object_ids=[str(pk) for pk in object_ids if pk is not None],
        fields=sorted(set(fields)),
        path=path,
    )
    return decision


def outbound_require(**kwargs) -> OutboundDecision:
    """`outbound_check`, raising SubProcessorRefused when the send may not go."""
    decision = outbound_check(**kwargs)
    if not decision.allowed:
        raise SubProcessorRefused(decision)
    return decision
