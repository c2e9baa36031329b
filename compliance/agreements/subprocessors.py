"""Which outbound integrations a DPA version authorises (GDPR Art. 28(2) and 28(4)).

An integration (tenants/integrations.py) may receive a company's data only when the version in
force names its sub-processor for its service, lets it process in its region and receive every
category the send carries, and the record is neither under an open objection nor still inside its
objection window. `sub_processor_authorisation` answers that, read fresh from the database on every
call; the gate before each send (gates/outbound.py) asks it. The DPO's workspace and the decide page
ask the same question of a version not yet in force.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils import timezone

from compliance.agreements.models import AgreementVersion, SubProcessor, SubProcessorObjection
from compliance.agreements.selectors import CURRENT, dpa_in_force
from tenants.categories import covered_by_any
from tenants.integrations import Integration, integrations, region_allowed
from tenants.models import ClientCompany
from tenants.timezones import company_zone_of

# The services in a reason's words.
SERVICE_WORDS = {
    "voice": "telephony",
    "sms": "SMS",
    "email": "e-mail",
    "storage": "storage",
    "transcription": "transcription",
}

# Why a send was refused (the metric's `kind` label, and the access log's).
KINDS = {
    "no_dpa": "no DPA in force",
    "not_named": "sub-processor not named for this service",
    "region": "region not allowed",
    "categories": "data category not allowed",
    "objection": "under an open objection",
    "window": "inside its objection window",
    "unnamed_provider": "the integration names no provider",
}


@dataclass(frozen=True)
class Authorisation:
    """`allowed`, or `kind` (one of KINDS) and `reason`, in words that say what to change."""

    integration: Integration
    allowed: bool
    kind: str = ""
    reason: str = ""
    version_number: int | None = None


def _day(day: dt.date) -> str:
    # In words ("1 December 2026"): a numeric date would read as a number to the scrubber that
    # cleans every stored error text (tenants/scrub.py).
    return f"{day.day} {day:%B} {day.year}"


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def sub_processor_record(*, version: AgreementVersion, integration: Integration) -> SubProcessor | None:
    """The version's record of the integration's sub-processor for its service, if any."""
    for record in version.sub_processors.all():
        if _same_name(record.name, integration.sub_processor) and integration.service in record.services:
            return record
    return None


def company_today(company: ClientCompany, now: dt.datetime | None = None) -> dt.date:
    """The day it is in the company's own zone: windows open and close on the company's calendar."""
    return (now or timezone.now()).astimezone(company_zone_of(company)).date()


def sub_processor_authorisation(
    *,
    company: ClientCompany,
    integration: Integration,
    categories: Iterable[str],
    version: AgreementVersion | None = None,
    now: dt.datetime | None = None,
) -> Authorisation:
    """May `integration` receive `categories` of `company`'s data now? Under `version`, or (by
    default) under the version in force, read now: nothing is cached, so a changed DPA applies on
    the very next send."""
    today = company_today(company, now)
    if version is None:
        version = dpa_in_force(company=company, day=today)
    if version is None:
        return Authorisation(integration, False, "no_dpa", f"{company.name} has no DPA in force")
    number = version.number

    def refuse(kind: str, reason: str) -> Authorisation:
        return Authorisation(integration, False, kind, f"DPA v{number}: {reason}", number)

    name = integration.sub_processor
    service = SERVICE_WORDS.get(integration.service, integration.service)
    if not name:
        return refuse("unnamed_provider", f"the provider for {service} is not named in the settings")
    record = sub_processor_record(version=version, integration=integration)
    if record is None:
        named = [r for r in version.sub_processors.all() if _same_name(r.name, name)]
        if named:
            engaged = ", ".join(SERVICE_WORDS.get(s, s) for s in named[0].services) or "no service"
            return refuse("not_named", f"no sub-processor is named for {service} ({name} is named for {engaged} only)")
        return refuse("not_named", f"no sub-processor is named for {service} ({name})")
    if not region_allowed(integration.region, record.regions):
        allowed = ", ".join(record.regions) or "no region"
        return refuse("region", f"{name} processes in {integration.region or 'an unnamed region'}; allowed: {allowed}")
    outside = sorted(c for c in set(categories) if not covered_by_any(set(record.categories), c))
    if outside:
        return refuse("categories", f"{name} may not receive {', '.join(outside)}")
    objection = (
        SubProcessorObjection.objects.filter(
            resolved_at__isnull=True,
            sub_processor__version__agreement__company=company,
            sub_processor__version__status__in=CURRENT,
        )
        .select_related("sub_processor")
        .order_by("raised_at")
    )
    for open_objection in objection:
        if _same_name(open_objection.sub_processor.name, name):
            raised = open_objection.raised_at.astimezone(company_zone_of(company)).date()
            return refuse("objection", f"{company.name} objected to {name} on {_day(raised)}; the objection is open")
    if today < record.authorised_on:
        return refuse("window", f"{name} is authorised from {_day(record.authorised_on)}")
    if today < record.objection_window_ends:
        return refuse(
            "window",
            f"{name} is inside its objection window, which ends on {_day(record.objection_window_ends)}",
        )
    return Authorisation(integration, True, version_number=number)


# ---- what a company actually uses -------------------------------------------------------------

# Sends and refusals are counted in each company's own schema (audit/subprocessors.py), above us:
# it registers the count from AppConfig.ready(). Until it has, nothing counts as used.
_usage_source: Callable[..., dict[str, dict[str, int]]] | None = None


def usage_source_register(*, source: Callable[..., dict[str, dict[str, int]]]) -> None:
    """Register `source(*, company, since, until) -> {integration key: {"sent": n, "refused": n,
    "categories": [...]}}`: the integrations the company's data went through (or was refused at) in
    the period, with the categories those sends carried, and the ones its set-up routes through
    (with zero counts)."""
    global _usage_source
    _usage_source = source


def sub_processor_usage(*, company: ClientCompany, since: dt.datetime, until: dt.datetime) -> dict[str, dict]:
    if _usage_source is None:
        return {}
    return _usage_source(company=company, since=since, until=until)


@dataclass(frozen=True)
class IntegrationInUse:
    integration: Integration
    sent: int
    refused: int
    authorisation: Authorisation


USAGE_DAYS = 90


def integrations_in_use(
    *, company: ClientCompany, version: AgreementVersion | None = None, now: dt.datetime | None = None
) -> list[IntegrationInUse]:
    """Each integration the company used in the last USAGE_DAYS days or is set up to use, with its
    counts, and whether `version` (by default the one in force) authorises it for the categories
    those sends carried."""
    now = now or timezone.now()
    usage = sub_processor_usage(company=company, since=now - dt.timedelta(days=USAGE_DAYS), until=now)
    rows = []
    for integration in integrations():
        if integration.key not in usage:
            continue
        counts = usage[integration.key]
        authorisation = sub_processor_authorisation(
            company=company,
            integration=integration,
            categories=counts.get("categories", ()),
            version=version,
            now=now,
        )
        rows.append(IntegrationInUse(integration, counts.get("sent", 0), counts.get("refused", 0), authorisation))
    return rows


def version_drops_in_use(*, version: AgreementVersion, now: dt.datetime | None = None) -> list[str]:
    """Warnings for the DPO: integrations the company uses that `version` would not authorise.
    Approving such a version is allowed (the client may want exactly that), but from the day it is
    in force those sends are refused."""
    return [
        f"{row.integration.label} is in use ({row.sent} sends in the last {USAGE_DAYS} days) and version "
        f"{version.number} does not authorise it: {row.authorisation.reason}"
        for row in integrations_in_use(company=version.agreement.company, version=version, now=now)
        if not row.authorisation.allowed
    ]
