"""Reads on staff confidentiality and training: the gate's check, and the overviews.

Which courses a person must hold:
- every member of the provider's staff: each course marked `required_for_all_staff` (the general
  data-protection course);
- agents and supervisors (the roles a DPA grants data to), in a company: also each course that
  company's DPA in force requires (`agreements.CourseRequirement`).
A completion is valid up to and including its `expires_on`; renewals are new records, and the one
that expires last counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from compliance.training.models import ConfidentialityCommitment, Course, TrainingRecord
from tenants.models import Assignment, ClientCompany, User

DPA_ROLES = (User.ProviderRole.AGENT, User.ProviderRole.SUPERVISOR)
STAFF_FIELDS = ("id", "username", "first_name", "last_name", "provider_role")  # names only, never more


@dataclass(frozen=True)
class TrainingGap:
    """Why a person may not see a company's personal data, and what to do about it."""

    kind: str  # "commitment_missing", "course_missing" or "course_expired"
    course_code: str = ""
    course_title: str = ""
    expired_on: dt.date | None = None
    required_by: str = ""  # "all staff", or the company whose DPA requires the course

    @property
    def message(self) -> str:
        if self.kind == "commitment_missing":
            return (
                "You have not signed the staff confidentiality commitment. Sign it and ask the "
                "data-protection officer to record it."
            )
        course = f"“{self.course_title}” ({self.course_code})"
        why = (
            "every member of staff must hold it"
            if self.required_by == "all staff"
            else f"{self.required_by}'s data-processing agreement requires it"
        )
        if self.kind == "course_expired":
            return (
                f"Your {course} training expired on {self.expired_on:%Y-%m-%d}; {why}. Renew it and ask the "
                "data-protection officer to record the new completion."
            )
        return (
            f"You have no record of the {course} training; {why}. Complete it and ask the data-protection "
            "officer to record it."
        )


def training_gaps(*, user: User, company: ClientCompany, version, today: dt.date | None = None) -> list[TrainingGap]:
    """What stands between an agent or supervisor and the company's personal data under `version`
    (the DPA in force): a missing commitment, and each required course missing or expired.

    Two queries, read fresh on every call: an expiry takes effect on the person's next request.
    """
    today = today or timezone.localdate()
    gaps = []
    if not ConfidentialityCommitment.objects.filter(user=user, signed_on__lte=today).exists():
        gaps.append(TrainingGap(kind="commitment_missing"))
    from compliance.agreements.models import CourseRequirement

    by_dpa = CourseRequirement.objects.filter(version=version, course=OuterRef("pk"))
    courses = (
        Course.objects.filter(
            Q(required_for_all_staff=True)
            | Q(pk__in=Subquery(CourseRequirement.objects.filter(version=version).values("course_id")))
        )
        .annotate(
            valid_until=Max("records__expires_on", filter=Q(records__user=user, records__completed_on__lte=today)),
            for_dpa=Exists(by_dpa),
        )
        .order_by("code")
    )
    for course in courses:
        if course.valid_until is not None and course.valid_until >= today:
            continue
        gaps.append(
            TrainingGap(
                kind="course_missing" if course.valid_until is None else "course_expired",
                course_code=course.code,
                course_title=course.title,
                expired_on=course.valid_until,
                required_by="all staff" if course.required_for_all_staff and not course.for_dpa else company.name,
            )
        )
    return gaps


# ---- overviews ---------------------------------------------------------------------------------


class CourseDates(NamedTuple):
    code: str
    title: str
    completed_on: dt.date | None
    expires_on: dt.date | None


class StaffTraining(NamedTuple):
    """One staff member assigned to a company: their name (`user` carries names and role only), the
    date they signed the confidentiality commitment, and the courses required of them there."""

    user: User
    commitment_signed_on: dt.date | None
    courses: list[CourseDates]


class DueTraining(NamedTuple):
    user: User
    course: Course
    completed_on: dt.date | None
    expires_on: dt.date | None  # None: required and never completed


def training_status_for_company(company: ClientCompany, *, today: dt.date | None = None) -> list[StaffTraining]:
    """The provider staff assigned to `company`, with their commitment and the dates of each course
    required of them there (the general course, and for agents and supervisors the courses the
    DPA in force requires). Names and dates only: for the client's evidence."""
    today = today or timezone.localdate()
    staff = list(
        User.objects.filter(assignments__company=company, is_active=True)
        .exclude(provider_role="")
        .only(*STAFF_FIELDS)
        .order_by("username")
    )
    if not staff:
        return []
    general = list(Course.objects.filter(required_for_all_staff=True).order_by("code"))
    by_dpa = _dpa_courses_by_company(today=today).get(company.pk, [])
    signed = _commitments(staff)
    latest = _latest_records(staff)
    result = []
    for user in staff:
        required = _unique(general + (by_dpa if user.provider_role in DPA_ROLES else []))
        courses = []
        for course in required:
            record = latest.get((user.pk, course.pk))
            courses.append(
                CourseDates(
                    course.code,
                    course.title,
                    record.completed_on if record else None,
                    record.expires_on if record else None,
                )
            )
        result.append(StaffTraining(user, signed.get(user.pk), courses))
    return result


def staff_due_within(
    days: int, *, today: dt.date | None = None, companies: QuerySet[ClientCompany] | None = None
) -> list[DueTraining]:
    """Required training of active provider staff that is valid today but expires within `days`,
    soonest first: who must renew what, and by when. With `companies`, only the courses those
    companies' DPAs require count (besides the courses required of all staff): a person who may
    not enter a company learns nothing of what its DPA requires."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=days)
    due = [
        item
        for item in _required_training(today=today, companies=companies)
        if item.expires_on is not None and today <= item.expires_on <= horizon
    ]
    return sorted(due, key=lambda item: (item.expires_on, item.user.username, item.course.code))


def staff_training_overdue(
    *, today: dt.date | None = None, companies: QuerySet[ClientCompany] | None = None
) -> list[DueTraining]:
    """Required training of active provider staff that is not valid today: expired (with the date)
    or never completed (`expires_on` None). `companies` as in `staff_due_within`."""
    today = today or timezone.localdate()
    overdue = [
        item
        for item in _required_training(today=today, companies=companies)
        if item.expires_on is None or item.expires_on < today
    ]
    return sorted(overdue, key=lambda item: (item.expires_on or dt.date.min, item.user.username, item.course.code))


def overdue_training_count(*, today: dt.date | None = None, companies: QuerySet[ClientCompany] | None = None) -> int:
    """How many (staff member, required course) pairs are not valid today: expired or never completed.
    For a monitoring gauge (every company's) and the DPO workspace (`companies`, the DPO's); a
    constant number of queries however many staff."""
    return len(staff_training_overdue(today=today, companies=companies))


def staff_without_commitment() -> list[User]:
    """Active provider staff with no signed confidentiality commitment."""
    return list(
        User.objects.filter(is_active=True)
        .exclude(provider_role="")
        .exclude(Exists(ConfidentialityCommitment.objects.filter(user=OuterRef("pk"))))
        .only(*STAFF_FIELDS)
        .order_by("username")
    )


def _required_training(*, today: dt.date, companies: QuerySet[ClientCompany] | None = None) -> list[DueTraining]:
    """Every (active staff member, required course) pair, with the latest completion. Five queries.
    With `companies`, only those companies' DPAs add courses."""
    staff = list(User.objects.filter(is_active=True).exclude(provider_role="").only(*STAFF_FIELDS))
    if not staff:
        return []
    general = list(Course.objects.filter(required_for_all_staff=True))
    by_dpa = _dpa_courses_by_company(today=today)
    assignments = Assignment.objects.filter(
        user__in=staff, company__kind=ClientCompany.Kind.CLIENT, company__status=ClientCompany.Status.ACTIVE
    )
    if companies is not None:
        assignments = assignments.filter(company__in=companies)
    assigned: dict[int, set[int]] = {}
    for user_id, company_id in assignments.values_list("user_id", "company_id"):
        assigned.setdefault(user_id, set()).add(company_id)
    latest = _latest_records(staff)
    result = []
    for user in staff:
        required = list(general)
        if user.provider_role in DPA_ROLES:
            for company_id in sorted(assigned.get(user.pk, ())):
                required += by_dpa.get(company_id, [])
        for course in _unique(required):
            record = latest.get((user.pk, course.pk))
            result.append(
                DueTraining(
                    user, course, record.completed_on if record else None, record.expires_on if record else None
                )
            )
    return result


def _dpa_courses_by_company(*, today: dt.date) -> dict[int, list[Course]]:
    """{company id: courses its DPA in force requires}, in one query."""
    from compliance.agreements.models import AgreementVersion, CourseRequirement

    requirements = CourseRequirement.objects.filter(
        Q(version__end_date__isnull=True) | Q(version__end_date__gte=today),
        version__status=AgreementVersion.Status.ACTIVE,
        version__start_date__lte=today,
    ).select_related("course", "version__agreement")
    result: dict[int, list[Course]] = {}
    for requirement in requirements:
        result.setdefault(requirement.version.agreement.company_id, []).append(requirement.course)
    return result


def _commitments(staff: list[User]) -> dict[int, dt.date]:
    rows = ConfidentialityCommitment.objects.filter(user__in=staff).values("user_id").annotate(last=Max("signed_on"))
    return {row["user_id"]: row["last"] for row in rows}


def _latest_records(staff: list[User]) -> dict[tuple[int, int], TrainingRecord]:
    """The completion that expires last, per (user, course): PostgreSQL's DISTINCT ON, one query."""
    records = (
        TrainingRecord.objects.filter(user__in=staff)
        .order_by("user_id", "course_id", "-expires_on")
        .distinct("user_id", "course_id")
    )
    return {(r.user_id, r.course_id): r for r in records}


def _unique(courses: list[Course]) -> list[Course]:
    return sorted({course.pk: course for course in courses}.values(), key=lambda course: course.code)
