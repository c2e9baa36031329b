"""What each company's data actually went through: the gate's record of sends and refusals
(`SubProcessorUse`, written by audit/receivers.py), counted per integration for the RoPA, the
evidence pack, the DPO's workspace and /metrics. Counts, provider names and categories only."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count
from django_tenants.utils import tenant_context

from audit.models import SubProcessorUse
from gates.context import system_context
from tenants.integrations import EMAIL, TWILIO_SMS, TWILIO_VOICE, integrations
from tenants.models import ClientCompany


def subprocessor_use_counts(*, since: dt.datetime, until: dt.datetime) -> dict[str, dict]:
    """In the current company: {integration key: {"sent", "refused", "sub_processors", "categories"}}
    for the sends checked in [since, until)."""
    out: dict[str, dict] = {}
    rows = (
        SubProcessorUse.objects.filter(at__gte=since, at__lt=until)
        .values("integration", "sub_processor", "allowed")
        .annotate(n=Count("id"))
        .order_by("integration", "sub_processor")
    )
    for row in rows:
        entry = out.setdefault(
            row["integration"], {"sent": 0, "refused": 0, "sub_processors": set(), "categories": set()}
        )
        entry["sent" if row["allowed"] else "refused"] += row["n"]
        if row["sub_processor"]:
            entry["sub_processors"].add(row["sub_processor"])
    categories = (
        SubProcessorUse.objects.filter(at__gte=since, at__lt=until).values_list("integration", "categories").distinct()
    )
    for key, cats in categories:
        out[key]["categories"].update(cats or [])
    for entry in out.values():
        entry["sub_processors"] = sorted(entry["sub_processors"])
        entry["categories"] = sorted(entry["categories"])
    return out


def _set_up_to_use() -> set[str]:
    """The integrations the current company's set-up routes its data through, sent or not yet."""
    from answering.models import DeliveryRoute, Line
    from scheduling.models import OnCallShift, ReminderSettings

    used = set()
    channels = set(DeliveryRoute.objects.values_list("channel", flat=True).distinct())
    if DeliveryRoute.Channel.SMS in channels:
        used.add(TWILIO_SMS.key)
    if DeliveryRoute.Channel.EMAIL in channels:
        used.add(EMAIL.key)
    if Line.objects.exists():
        used.add(TWILIO_VOICE.key)
    if OnCallShift.objects.exists():
        used.add(TWILIO_SMS.key)  # escalations reach the people on call (forwarding and transfers: voice)
    options = ReminderSettings.objects.first()
    if options is not None:
        if options.email_enabled:
            used.add(EMAIL.key)
        if options.sms_enabled:
            used.add(TWILIO_SMS.key)
    return used


def subprocessor_usage(*, company: ClientCompany, since: dt.datetime, until: dt.datetime) -> dict[str, dict]:
    """For the DPO's workspace and the RoPA (registered with compliance.agreements): the company's
    integrations used in the period, with counts, and those its set-up routes through."""
    with tenant_context(company), system_context(reason="count sub-processor sends"):
        usage = subprocessor_use_counts(since=since, until=until)
        for key in _set_up_to_use():
            usage.setdefault(key, {"sent": 0, "refused": 0, "sub_processors": [], "categories": []})
    known = {integration.key for integration in integrations()}
    return {key: value for key, value in usage.items() if key in known}
