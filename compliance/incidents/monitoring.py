"""Incident deadlines close at hand (collected by operations.monitoring): an alert 12 hours before an
affected company must be notified, or when it is already late. No incident title or description."""

from __future__ import annotations

import datetime as dt

from compliance.incidents.models import IncidentCompany
from operations.monitoring.registry import Alert, alert_source

DEADLINE_WARNING = dt.timedelta(hours=12)
RECENT = dt.timedelta(days=7)


@alert_source("incident_deadline", per_tenant=False)
def incident_deadlines(now: dt.datetime):
    affected = IncidentCompany.objects.filter(
        notified_at__isnull=True, deadline__lte=now + DEADLINE_WARNING, deadline__gte=now - RECENT
    ).select_related("company")
    for row in affected:
        slug = row.company.schema_name
        state = "passed" if row.deadline < now else "due"
        yield Alert(
            kind="incident_deadline",
            company=slug,
            object_key=f"affected:{row.pk}",
            subject=f"Incident #{row.incident_id}: notification of {slug} {state} {row.deadline:%Y-%m-%d %H:%M} UTC",
            facts=[
                ("Incident", f"#{row.incident_id}"),
                ("Deadline", row.deadline.isoformat(timespec="minutes")),
                ("Hours left", f"{(row.deadline - now).total_seconds() / 3600:.1f}"),
            ],
        )
