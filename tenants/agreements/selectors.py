"""Reads on DPAs."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from tenants.agreements.models import AgreementVersion, SubProcessor
from tenants.models import ClientCompany


def dpa_in_force(*, company: ClientCompany, day: dt.date | None = None) -> AgreementVersion | None:
    """The version in force for the company today: active, started, and not past its end date.

    Read fresh on every call, so a revocation or expiry applies on the very next request.
    """
    day = day or timezone.localdate()
    version = (
        AgreementVersion.objects.filter(agreement__company=company, status=AgreementVersion.Status.ACTIVE)
        .prefetch_related("grants")
        .first()
    )
    return version if version is not None and version.in_force_on(day) else None


def dpa_review_queue() -> QuerySet[AgreementVersion]:
    return AgreementVersion.objects.filter(
        status__in=[AgreementVersion.Status.SUBMITTED, AgreementVersion.Status.UNDER_REVIEW]
    ).select_related("agreement__company")


def dpa_expiring(*, within_days: int = 30, today: dt.date | None = None) -> QuerySet[AgreementVersion]:
    today = today or timezone.localdate()
    return AgreementVersion.objects.filter(
        status=AgreementVersion.Status.ACTIVE, end_date__gte=today, end_date__lte=today + dt.timedelta(days=within_days)
    ).select_related("agreement__company")


def sub_processors_in_objection_window(*, today: dt.date | None = None) -> list[SubProcessor]:
    """Sub-processors of current or proposed versions whose objection window is still open."""
    today = today or timezone.localdate()
    subs = SubProcessor.objects.filter(
        version__status__in=[
            AgreementVersion.Status.SUBMITTED,
            AgreementVersion.Status.UNDER_REVIEW,
            AgreementVersion.Status.ACTIVE,
        ]
    ).select_related("version__agreement__company")
    return [sub for sub in subs if sub.authorised_on <= today < sub.objection_window_ends]


def dpa_diff(*, version: AgreementVersion, against: AgreementVersion | None) -> list[tuple[str, str, str]]:
    """(item, in force, proposed) for every item that differs between two versions."""
    from tenants.agreements.services import REQUIRED_TEXT

    def items(v: AgreementVersion | None) -> dict[str, str]:
        if v is None:
            return {}
        out = {label: str(getattr(v, field) or "") for field, label in REQUIRED_TEXT.items()}
        out["duration"] = f"{v.start_date} to {v.end_date}"
        out["breach notification (hours)"] = str(v.breach_notification_hours or "")
        out["grants"] = "\n".join(sorted(f"{g.role} {g.action} {g.category}" for g in v.grants.all()))
        out["retention"] = "\n".join(f"{r.category}: {r.days} days" for r in v.retention_rules.all())
        out["sub-processors"] = "\n".join(
            f"{s.name} ({s.purpose}, {s.location}, authorised {s.authorised_on})" for s in v.sub_processors.all()
        )
        out["required courses"] = "\n".join(str(r.course) for r in v.course_requirements.select_related("course"))
        return out

    old, new = items(against), items(version)
    return [(key, old.get(key, ""), new[key]) for key in new if old.get(key, "") != new[key]]
