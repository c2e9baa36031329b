"""E-mail alerts to the DPO and the company's supervisors, each sent once.

`alerts_sweep` (beat job `monitoring.alerts_sweep`, in the public schema) asks every registered
alert source: public ones once, per-tenant ones inside each client company's schema. An alert is
recorded in `AlertSent` (kind, company, object key) in the same transaction that mails it, so the
next sweep skips it; if the mail cannot be sent the record rolls back and the next sweep tries
again. Alerts carry ids, the company's slug and deadlines, never a person's data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import DatabaseError, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from gates.context import system_context
from operations.monitoring.metrics import monitored_companies
from operations.monitoring.models import AlertSent
from operations.monitoring.registry import ALERT_SOURCES, Alert
from tenants.models import User

logger = logging.getLogger(__name__)
FOOTER = "This alert is sent once. It names records by id only; open them in the admin for details."


def alert_recipients(*, company: str) -> list[str]:
    """Every active DPO, and the supervisors assigned to the company; the operators' ALERT_EMAILS
    only when there is neither."""
    dpos = User.objects.filter(is_active=True, provider_role=User.ProviderRole.DPO)
    supervisors = User.objects.filter(
        is_active=True, provider_role=User.ProviderRole.SUPERVISOR, assignments__company__schema_name=company
    )
    addresses = {u.email for u in (*dpos.exclude(email=""), *supervisors.exclude(email=""))}
    return sorted(addresses) or [address for _name, address in settings.ADMINS]


def alerts_due(*, now: dt.datetime) -> list[Alert]:
    """What every source reports now, sent or not."""
    alerts: list[Alert] = []
    public = [source for source in ALERT_SOURCES.values() if not source.per_tenant]
    per_tenant = [source for source in ALERT_SOURCES.values() if source.per_tenant]
    with schema_context(get_public_schema_name()):
        for source in public:
            alerts.extend(source.find(now))
        companies = monitored_companies()
    for company in companies:
        with schema_context(company.schema_name), system_context(reason="metrics and alerts: counts and ids"):
            for source in per_tenant:
                try:
                    found = list(source.find(now))
                except DatabaseError as exc:  # one company's failure must not silence the others
                    logger.error(
                        "alert source %s failed in %s: %s", source.kind, company.schema_name, type(exc).__name__
                    )
                    continue
                alerts.extend(dataclasses.replace(alert, company=company.schema_name) for alert in found)
    return alerts


def alert_send(alert: Alert) -> bool:
    """Mail one alert unless it was sent before. True when it went out now."""
    key = {"kind": alert.kind, "company": alert.company, "object_key": alert.object_key}
    if AlertSent.objects.filter(**key).exists():
        return False
    recipients = alert_recipients(company=alert.company)
    if not recipients:
        logger.warning(
            "alert %s for %s has nobody to go to (no DPO or supervisor e-mail, no ALERT_EMAILS)",
            alert.kind,
            alert.company,
        )
        return False
    facts = [("Company", alert.company), *alert.facts]
    body = "\n".join([*(f"{label}: {value}" for label, value in facts), "", FOOTER])
    with transaction.atomic():
        _, created = AlertSent.objects.get_or_create(**key, defaults={"recipients": len(recipients)})
        if not created:
            return False  # a concurrent sweep sent it
        send_mail(f"[Vastaja {alert.company}] {alert.subject}", body, settings.DEFAULT_FROM_EMAIL, recipients)
    return True


def alerts_sweep(*, now: dt.datetime | None = None) -> int:
    """Send every due alert that has not been sent. Returns how many went out."""
    now = now or timezone.now()
    sent = 0
    alerts = alerts_due(now=now)
    with schema_context(get_public_schema_name()):
        for alert in alerts:
            try:
                sent += alert_send(alert)
            except OSError as exc:  # SMTP down: nothing was recorded, so the next sweep tries again
                logger.error(
                    "alert %s %s for %s not sent: %s", alert.kind, alert.object_key, alert.company, type(exc).__name__
                )
    if sent:
        logger.info("alerts sweep: %s sent", sent)
    return sent
