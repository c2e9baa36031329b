"""Recording and working an incident. Each affected company's deadline comes from the DPA in force
for it (its breach-notification hours), counted from detection."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from compliance.agreements.selectors import dpa_in_force
from compliance.incidents.models import (
    CATEGORY_KEYS,
    RESPONSE_CHECKLIST,
    ChecklistItem,
    Incident,
    IncidentCompany,
    IncidentNotification,
)
from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.models import ClientCompany, Membership, User

# Without a DPA in force there is no agreed clause: notify without undue delay, at most this.
DEFAULT_HOURS = 24


def incident_record(
    *,
    title: str,
    description: str,
    detected_at: dt.datetime,
    companies: list[ClientCompany],
    categories: list[str],
    estimated_subjects: int,
    actor: User,
    severity: str = Incident.Severity.MEDIUM,
) -> Incident:
    if actor.provider_role not in (User.ProviderRole.DPO, User.ProviderRole.PROVIDER_ADMIN):
        raise ApplicationError("only the DPO or a provider admin records incidents", code="forbidden")
    if timezone.is_naive(detected_at):
        raise ApplicationError("detected_at must carry a time zone", field="detected_at")
    if detected_at > timezone.now():
        raise ApplicationError("an incident cannot be detected in the future", field="detected_at")
    unknown = [c for c in categories if c not in CATEGORY_KEYS]
    if unknown:
        raise ApplicationError(f"unknown data categories: {', '.join(unknown)}", field="categories")
    if not companies:
        raise ApplicationError("name at least one affected client company", field="companies")
    with transaction.atomic(), change_log_actor(actor):
        incident = Incident.objects.create(
            title=title,
            description=description,
            detected_at=detected_at,
            categories=categories,
            estimated_subjects=estimated_subjects,
            recorded_by=actor,
            severity=severity,
        )
        for company in companies:
            version = dpa_in_force(company=company, day=timezone.localdate(detected_at))
            hours = (
                version.breach_notification_hours if version and version.breach_notification_hours else DEFAULT_HOURS
            )
            IncidentCompany.objects.create(
                incident=incident,
                company=company,
                notification_hours=hours,
                deadline=detected_at + dt.timedelta(hours=hours),
            )
    return incident


def incident_activate_checklist(*, incident: Incident, actor: User) -> Incident:
    """The response plan, in one action: the checklist appears, with nothing ticked yet."""
    with transaction.atomic(), change_log_actor(actor):
        if incident.checklist_activated_at is None:
            for position, text in enumerate(RESPONSE_CHECKLIST, 1):
                ChecklistItem.objects.create(incident=incident, position=position, text=text)
            incident.checklist_activated_at = timezone.now()
            incident.save(update_fields=["checklist_activated_at"])
    return incident


def incident_notify(*, affected: IncidentCompany, actor: User) -> IncidentNotification:
    """Tell an affected client company's admins, by e-mail, and record it."""
    incident = affected.incident
    admins = list(
        Membership.objects.filter(company=affected.company, role=Membership.Role.CLIENT_ADMIN)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    text = (
        f"Personal data processed for {affected.company.name} may have been affected by an incident detected on "
        f"{incident.detected_at:%Y-%m-%d %H:%M %Z}: {incident.title}.\n\n{incident.description}\n\n"
        f"Categories: {', '.join(incident.categories) or 'under assessment'}. "
        f"Estimated data subjects: {incident.estimated_subjects}.\n"
        f"Your notification to the supervisory authority is due by {incident.controller_deadline:%Y-%m-%d %H:%M %Z}."
    )
    with transaction.atomic(), change_log_actor(actor):
        if admins:
            send_mail(f"Incident notification: {incident.title}", text, settings.DEFAULT_FROM_EMAIL, admins)
        notification = IncidentNotification.objects.create(affected=affected, sent_by=actor, recipients=len(admins))
        if affected.notified_at is None:
            affected.notified_at = timezone.now()
            affected.save(update_fields=["notified_at"])
    return notification
