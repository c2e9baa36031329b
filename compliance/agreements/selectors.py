"""Reads on DPAs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db.models import QuerySet
from django.utils import timezone

from compliance.agreements.models import AgreementVersion, ClientComment, SubProcessor, SubProcessorObjection
from tenants.categories import special_categories_reached
from tenants.models import ClientCompany

# A version that grants a special category (GDPR Art. 9) needs an impact assessment covering it.
# Assessments live in the risk register, which links them to versions and so sits above us: it
# registers its answer from AppConfig.ready(). Until it has, nothing counts as covered (fail closed).
_dpia_source: Callable[..., list[str]] | None = None


def dpia_source_register(*, source: Callable[..., list[str]]) -> None:
    """Register `source(*, version) -> [special category, ...]`: those no impact assessment covers."""
    global _dpia_source
    _dpia_source = source


def dpa_dpia_missing(*, version: AgreementVersion) -> list[str]:
    """The special categories `version` grants that no impact assessment covers, sorted."""
    if _dpia_source is not None:
        return _dpia_source(version=version)
    reached = set()
    for grant in version.grants.all():
        reached |= special_categories_reached(grant.category)
    return sorted(reached)


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
    from compliance.agreements.services import REQUIRED_TEXT

    def items(v: AgreementVersion | None) -> dict[str, str]:
        if v is None:
            return {}
        out = {label: str(getattr(v, field) or "") for field, label in REQUIRED_TEXT.items()}
        out["duration"] = f"{v.start_date} to {v.end_date}"
        out["breach notification (hours)"] = str(v.breach_notification_hours or "")
        out["grants"] = "\n".join(sorted(f"{g.role} {g.action} {g.category}" for g in v.grants.all()))
        out["retention"] = "\n".join(f"{r.category}: {r.days} days" for r in v.retention_rules.all())
        out["sub-processors"] = "\n".join(
            f"{s.name} ({s.purpose}, {s.location}, authorised {s.authorised_on}; for {', '.join(s.services) or '-'}"
            f" in {', '.join(s.regions) or '-'}, receiving {', '.join(s.categories) or '-'})"
            for s in v.sub_processors.all()
        )
        out["required courses"] = "\n".join(str(r.course) for r in v.course_requirements.select_related("course"))
        return out

    old, new = items(against), items(version)
    return [(key, old.get(key, ""), new[key]) for key in new if old.get(key, "") != new[key]]


# ---- the client company's own view (portal and API) -------------------------------------------

CURRENT = (AgreementVersion.Status.SUBMITTED, AgreementVersion.Status.UNDER_REVIEW, AgreementVersion.Status.ACTIVE)


def dpa_versions_for_company(*, company: ClientCompany) -> QuerySet[AgreementVersion]:
    """Every version of the company's agreement, newest first, with what it grants. Always
    narrowed to the one company: these rows live in the shared public schema."""
    return (
        AgreementVersion.objects.filter(agreement__company=company)
        .select_related("agreement__company")
        .prefetch_related("grants", "retention_rules", "sub_processors__objection", "client_comments__author")
        .order_by("-number")
    )


def dpa_active_for_company(*, company: ClientCompany) -> AgreementVersion | None:
    """The active version (which may not be in force yet, or any more: see `in_force_on`)."""
    return dpa_versions_for_company(company=company).filter(status=AgreementVersion.Status.ACTIVE).first()


def dpa_awaiting_client(*, company: ClientCompany) -> QuerySet[AgreementVersion]:
    """Versions with the DPO, which the client admin may sign or reject."""
    return dpa_versions_for_company(company=company).filter(
        status__in=[AgreementVersion.Status.SUBMITTED, AgreementVersion.Status.UNDER_REVIEW]
    )


def sub_processors_for_company(*, company: ClientCompany) -> QuerySet[SubProcessor]:
    """The sub-processors of the company's active and proposed versions, with any objection."""
    return (
        SubProcessor.objects.filter(version__agreement__company=company, version__status__in=CURRENT)
        .select_related("version", "objection__raised_by")
        .order_by("-version__number", "name", "pk")
    )


def sub_processor_objections() -> QuerySet[SubProcessorObjection]:
    """Every objection raised by a client company, newest first: the DPO's to answer."""
    return SubProcessorObjection.objects.select_related("sub_processor__version__agreement__company", "raised_by")


def dpa_client_rejections() -> QuerySet[ClientComment]:
    """Versions client admins rejected, with their reasons, newest first: the DPO's to revise."""
    return ClientComment.objects.filter(kind=ClientComment.Kind.REJECTION).select_related(
        "version__agreement__company", "author"
    )
