"""Recording staff confidentiality commitments and training completions.

Only the DPO and provider admins record them: a person cannot unlock personal data by declaring
their own training. Every write is atomic and runs under `tenants.changelog.change_log_actor`.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from compliance.training.models import ConfidentialityCommitment, Course, TrainingRecord
from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.models import User

RECORDERS = (User.ProviderRole.DPO, User.ProviderRole.PROVIDER_ADMIN)


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus whole months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def commitment_validate(*, user: User, document_version: str, signed_on: dt.date, actor: User) -> str:
    """Check a commitment before it is recorded; returns the cleaned document version."""
    _require_recorder(actor)
    _require_staff(user)
    document_version = (document_version or "").strip()
    if not document_version:
        raise ApplicationError("name the version of the commitment that was signed", field="document_version")
    if signed_on > timezone.localdate():
        raise ApplicationError("a commitment cannot be signed in the future", field="signed_on")
    if ConfidentialityCommitment.objects.filter(user=user, document_version=document_version).exists():
        raise ApplicationError(f"{user} has already signed version {document_version}", field="document_version")
    return document_version


def commitment_record(
    *, user: User, document_version: str, signed_on: dt.date, actor: User
) -> ConfidentialityCommitment:
    """Record that a staff member signed the confidentiality commitment."""
    document_version = commitment_validate(
        user=user, document_version=document_version, signed_on=signed_on, actor=actor
    )
    try:
        with transaction.atomic(), change_log_actor(actor):
            return ConfidentialityCommitment.objects.create(
                user=user, document_version=document_version, signed_on=signed_on, recorded_by=actor
            )
    except IntegrityError:
        raise ApplicationError(
            f"{user} has already signed version {document_version}", field="document_version"
        ) from None


def training_record_validate(
    *, user: User, course: Course, completed_on: dt.date, actor: User, expires_on: dt.date | None = None
) -> dt.date:
    """Check a completion before it is recorded; returns its expiry (from the course's validity
    when not given)."""
    _require_recorder(actor)
    _require_staff(user)
    if completed_on > timezone.localdate():
        raise ApplicationError("a course cannot be completed in the future", field="completed_on")
    expires_on = expires_on or add_months(completed_on, course.validity_months)
    if expires_on <= completed_on:
        raise ApplicationError("the expiry must come after the completion", field="expires_on")
    return expires_on


def training_record_add(
    *, user: User, course: Course, completed_on: dt.date, actor: User, expires_on: dt.date | None = None
) -> TrainingRecord:
    """Record a completed course. It counts on the holder's next request."""
    expires_on = training_record_validate(
        user=user, course=course, completed_on=completed_on, actor=actor, expires_on=expires_on
    )
    with transaction.atomic(), change_log_actor(actor):
        return TrainingRecord.objects.create(
            user=user, course=course, completed_on=completed_on, expires_on=expires_on, recorded_by=actor
        )


def course_ensure(
    *, code: str, title: str, validity_months: int, required_for_all_staff: bool = False, actor: User
) -> Course:
    """The course with this code, created if missing (an existing course is left as it is)."""
    _require_recorder(actor)
    if validity_months <= 0:
        raise ApplicationError("a course is valid for a positive number of months", field="validity_months")
    with transaction.atomic(), change_log_actor(actor):
        course, _ = Course.objects.get_or_create(
            code=code,
            defaults={
                "title": title,
                "validity_months": validity_months,
                "required_for_all_staff": required_for_all_staff,
            },
        )
    return course


def _require_recorder(actor: User) -> None:
    if actor.provider_role not in RECORDERS:
        raise ApplicationError("only the DPO or a provider admin records staff training", code="forbidden")


def _require_staff(user: User) -> None:
    if not user.is_provider_staff:
        raise ApplicationError(f"{user} is not a member of the provider's staff", field="user")
