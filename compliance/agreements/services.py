"""The DPA lifecycle: draft -> submitted -> under DPO review -> active -> superseded, expired or
terminated. A rejected version goes back to draft with the DPO's reason.

Every write is atomic and runs under `tenants.changelog.change_log_actor`, so the change log names who did it.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from compliance.agreements.models import (
    Agreement,
    AgreementVersion,
    CategoryGrant,
    ClientComment,
    CourseRequirement,
    RetentionRule,
    SubProcessor,
    SubProcessorObjection,
)
from compliance.agreements.selectors import dpa_dpia_missing
from tenants.categories import covered_by_any, validate_category
from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.integrations import SERVICES
from tenants.models import ClientCompany, Membership, User

Status = AgreementVersion.Status

# Art. 28(3) items and how to tell that each is present.
REQUIRED_TEXT = {
    "subject_matter": "subject matter",
    "nature_and_purpose": "nature and purpose of the processing",
    "data_subject_categories": "categories of data subjects",
    "security_measures": "security measures (Art. 32)",
    "data_subject_rights_assistance": "assistance with data-subject rights",
    "end_of_processing": "deletion or return at the end",
    "audit_rights": "audit rights",
    "staff_confidentiality": "staff confidentiality",
}
EDITABLE = (Status.DRAFT,)


def dpa_draft_create(
    *, company: ClientCompany, actor: User, copy_from: AgreementVersion | None = None, **fields
) -> AgreementVersion:
    """Start a new draft version of the company's agreement, optionally copying another version."""
    if not company.is_client:
        raise ApplicationError("only a client company has a DPA", field="company")
    with transaction.atomic(), change_log_actor(actor):
        agreement, _ = Agreement.objects.get_or_create(company=company)
        number = (agreement.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        version = AgreementVersion(agreement=agreement, number=number)
        if copy_from is not None:
            for field in [*REQUIRED_TEXT, "start_date", "end_date", "breach_notification_hours"]:
                setattr(version, field, getattr(copy_from, field))
        for name, value in fields.items():
            setattr(version, name, value)
        _save(version)
        if copy_from is not None:
            for grant in copy_from.grants.all():
                CategoryGrant.objects.create(
                    version=version, role=grant.role, category=grant.category, action=grant.action
                )
            for rule in copy_from.retention_rules.all():
                RetentionRule.objects.create(version=version, category=rule.category, days=rule.days)
            for sub in copy_from.sub_processors.all():
                SubProcessor.objects.create(
                    version=version,
                    name=sub.name,
                    purpose=sub.purpose,
                    location=sub.location,
                    services=list(sub.services),
                    regions=list(sub.regions),
                    categories=list(sub.categories),
                    authorised_on=sub.authorised_on,
                    objection_window_days=sub.objection_window_days,
                )
            for requirement in copy_from.course_requirements.all():
                CourseRequirement.objects.create(version=version, course_id=requirement.course_id)
    return version


def dpa_grant_add(*, version: AgreementVersion, role: str, category: str, action: str, actor: User) -> CategoryGrant:
    """Grant a data category to a provider role, on a draft."""
    _require_status(version, EDITABLE, "grants can change only on a draft")
    try:
        validate_category(category)
    except ValueError as exc:
        raise ApplicationError(str(exc), field="category") from None
    if role not in CategoryGrant.Role.values:
        raise ApplicationError(f"'{role}' is not a provider role a DPA can grant to", field="role")
    if action not in CategoryGrant.Action.values:
        raise ApplicationError(f"'{action}' is not read or write", field="action")
    with transaction.atomic(), change_log_actor(actor):
        grant, _ = CategoryGrant.objects.get_or_create(version=version, role=role, category=category, action=action)
    return grant


def dpa_retention_set(*, version: AgreementVersion, category: str, days: int, actor: User) -> RetentionRule:
    _require_status(version, EDITABLE, "retention can change only on a draft")
    try:
        validate_category(category)
    except ValueError as exc:
        raise ApplicationError(str(exc), field="category") from None
    if days <= 0:
        raise ApplicationError("a retention period is a positive number of days", field="days")
    with transaction.atomic(), change_log_actor(actor):
        rule, _ = RetentionRule.objects.update_or_create(version=version, category=category, defaults={"days": days})
    return rule


def dpa_sub_processor_add(
    *,
    version: AgreementVersion,
    name: str,
    purpose: str,
    location: str,
    authorised_on: dt.date,
    services: list[str] = (),
    regions: list[str] = (),
    categories: list[str] = (),
    objection_window_days: int = 30,
    actor: User,
) -> SubProcessor:
    """Name a sub-processor on a draft: for which services (tenants/integrations.py SERVICES), in
    which regions (country codes, or EEA / EU) and for which data categories. Only what it names
    here can ever be sent to it (compliance/agreements/subprocessors.py)."""
    _require_status(version, EDITABLE, "sub-processors can change only on a draft")
    for category in categories:
        try:
            validate_category(category)
        except ValueError as exc:
            raise ApplicationError(str(exc), field="categories") from None
    unknown = sorted(set(services) - set(SERVICES))
    if unknown:
        raise ApplicationError(f"{', '.join(unknown)}: not a service; known: {', '.join(SERVICES)}", field="services")
    with transaction.atomic(), change_log_actor(actor):
        sub = SubProcessor(
            version=version,
            name=name,
            purpose=purpose,
            location=location,
            services=list(services),
            regions=[region.strip().upper() for region in regions if region.strip()],
            categories=list(categories),
            authorised_on=authorised_on,
            objection_window_days=objection_window_days,
        )
        _save(sub)
    return sub


def dpa_course_require(*, version: AgreementVersion, course, actor: User) -> CourseRequirement:
    """Require a course of the agents and supervisors working under this version, on a draft. Without
    it, valid, they see no personal field of the company (gates/engine.py)."""
    _require_status(version, EDITABLE, "required courses can change only on a draft")
    with transaction.atomic(), change_log_actor(actor):
        requirement, _ = CourseRequirement.objects.get_or_create(version=version, course=course)
    return requirement


def dpa_missing_items(*, version: AgreementVersion) -> list[str]:
    """The Art. 28(3) items this version still lacks, in words a person can act on."""
    missing = [label for field, label in REQUIRED_TEXT.items() if not str(getattr(version, field) or "").strip()]
    if version.start_date is None or version.end_date is None:
        missing.append("duration (start and end dates)")
    if not version.breach_notification_hours:
        missing.append("breach-notification deadline in hours")
    grants = list(version.grants.all())
    if not grants:
        missing.append("granted data categories")
    retained = {rule.category for rule in version.retention_rules.all()}
    for category in sorted({grant.category for grant in grants}):
        if not covered_by_any(retained, category) and not any(r.startswith(category + ".") for r in retained):
            missing.append(f"retention period for {category}")
    return missing


def dpa_submit(*, version: AgreementVersion, actor: User) -> AgreementVersion:
    """Submit a complete draft to the DPO. An incomplete one is refused, naming what is missing."""
    _require_status(version, (Status.DRAFT,), "only a draft can be submitted")
    missing = dpa_missing_items(version=version)
    if missing:
        raise ApplicationError("The agreement is incomplete. Missing: " + "; ".join(missing) + ".", code="incomplete")
    return _transition(version, actor, status=Status.SUBMITTED, submitted_at=timezone.now(), rejection_reason="")


def dpa_sign_for_client(*, version: AgreementVersion, actor: User) -> AgreementVersion:
    """A client admin of the company signs the version on the company's behalf."""
    _require_status(
        version, (Status.DRAFT, Status.SUBMITTED, Status.UNDER_REVIEW), "this version can no longer be signed"
    )
    _require_client_admin(version.agreement.company, actor, field="client_signed_by")
    return _transition(
        version, actor, client_signed_by=actor.get_full_name() or actor.username, client_signed_at=timezone.now()
    )


def dpa_reject_for_client(*, version: AgreementVersion, actor: User, comment: str) -> AgreementVersion:
    """A client admin declines to sign a version, saying why. A version with the DPO goes back to
    draft (its approval and any signature cleared) so the provider can revise it; the comment is
    kept as a `ClientComment` and shown to the DPO as the version's rejection reason."""
    _require_status(
        version, (Status.SUBMITTED, Status.UNDER_REVIEW), "only a version awaiting signature can be rejected"
    )
    _require_client_admin(version.agreement.company, actor, field="comment")
    comment = (comment or "").strip()
    if not comment:
        raise ApplicationError(
            gettext("say why the version is rejected, so the provider can revise it"), field="comment"
        )
    if len(comment) > 5000:
        raise ApplicationError(gettext("a comment is limited to 5,000 characters"), field="comment")
    who = actor.get_full_name() or actor.username
    with transaction.atomic(), change_log_actor(actor):
        ClientComment.objects.create(version=version, kind=ClientComment.Kind.REJECTION, comment=comment, author=actor)
        _transition(
            version,
            actor,
            status=Status.DRAFT,
            rejection_reason=f"Rejected by the client ({who}): {comment}",
            client_signed_by="",
            client_signed_at=None,
            approved_by=None,
            approved_at=None,
            submitted_at=None,
            review_started_at=None,
        )
    return version


def sub_processor_object(
    *, sub_processor: SubProcessor, actor: User, reason: str, today: dt.date | None = None
) -> SubProcessorObjection:
    """A client admin objects to a sub-processor while its objection window is open. Recorded for
    the DPO (the workspace lists objections); one objection per sub-processor."""
    company = sub_processor.version.agreement.company
    _require_client_admin(company, actor, field="reason")
    today = today or timezone.localdate()
    if sub_processor.version.status not in (Status.SUBMITTED, Status.UNDER_REVIEW, Status.ACTIVE):
        raise ApplicationError(
            gettext("this sub-processor belongs to a version that is not current"), field="sub_processor"
        )
    if not sub_processor.authorised_on <= today < sub_processor.objection_window_ends:
        raise ApplicationError(
            gettext("the objection window for %(name)s closed on %(day)s")
            % {"name": sub_processor.name, "day": sub_processor.objection_window_ends}
            if today >= sub_processor.objection_window_ends
            else gettext("the objection window for %(name)s opens on %(day)s")
            % {"name": sub_processor.name, "day": sub_processor.authorised_on},
            field="sub_processor",
            code="window_closed",
        )
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(gettext("an objection needs its reason"), field="reason")
    if len(reason) > 5000:
        raise ApplicationError(gettext("a reason is limited to 5,000 characters"), field="reason")
    try:
        with transaction.atomic(), change_log_actor(actor):
            return SubProcessorObjection.objects.create(sub_processor=sub_processor, reason=reason, raised_by=actor)
    except IntegrityError:
        raise ApplicationError(
            gettext("your company has already objected to %(name)s") % {"name": sub_processor.name},
            field="sub_processor",
            code="already_objected",
        ) from None


def sub_processor_objection_resolve(
    *, objection: SubProcessorObjection, actor: User, resolution: str
) -> SubProcessorObjection:
    """The DPO records how a client's objection was settled (withdrawn after an answer, say, or met
    by a version without the sub-processor). While an objection is open, nothing of the company's
    goes to that sub-processor; from this moment it may again, as far as the DPA in force allows."""
    _require_dpo(actor)
    if objection.resolved_at is not None:
        raise ApplicationError("this objection is already resolved", field="resolution", code="already_resolved")
    resolution = (resolution or "").strip()
    if not resolution:
        raise ApplicationError("say how the objection was resolved", field="resolution")
    if len(resolution) > 5000:
        raise ApplicationError("a resolution is limited to 5,000 characters", field="resolution")
    with transaction.atomic(), change_log_actor(actor):
        objection.resolution = resolution
        objection.resolved_by = actor
        objection.resolved_at = timezone.now()
        objection.save(update_fields=["resolution", "resolved_by", "resolved_at"])
    return objection


def dpa_review_start(*, version: AgreementVersion, actor: User) -> AgreementVersion:
    _require_dpo(actor)
    _require_status(version, (Status.SUBMITTED,), "only a submitted version can be taken into review")
    return _transition(version, actor, status=Status.UNDER_REVIEW, review_started_at=timezone.now())


def dpa_approve(*, version: AgreementVersion, actor: User) -> AgreementVersion:
    """The DPO approves a version under review (it still needs the client's signature to activate)."""
    _require_dpo(actor)
    _require_status(version, (Status.SUBMITTED, Status.UNDER_REVIEW), "only a submitted version can be approved")
    missing = dpa_missing_items(version=version)
    if missing:
        raise ApplicationError("The agreement is incomplete. Missing: " + "; ".join(missing) + ".", code="incomplete")
    _require_dpia(version)
    return _transition(
        version,
        actor,
        status=Status.UNDER_REVIEW,
        approved_by=actor,
        approved_at=timezone.now(),
        review_started_at=version.review_started_at or timezone.now(),
    )


def dpa_reject(*, version: AgreementVersion, actor: User, reason: str) -> AgreementVersion:
    """The DPO sends a version back to draft, with the reason."""
    _require_dpo(actor)
    _require_status(version, (Status.SUBMITTED, Status.UNDER_REVIEW), "only a version in review can be rejected")
    if not reason.strip():
        raise ApplicationError("a rejection needs a reason", field="rejection_reason")
    return _transition(
        version,
        actor,
        status=Status.DRAFT,
        rejection_reason=reason.strip(),
        approved_by=None,
        approved_at=None,
        submitted_at=None,
        review_started_at=None,
    )


def dpa_activate(*, version: AgreementVersion, actor: User) -> AgreementVersion:
    """Put a complete, client-signed, DPO-approved version into force; the previous one is superseded."""
    _require_dpo(actor)
    _require_status(version, (Status.UNDER_REVIEW,), "only an approved version under review can be activated")
    problems = dpa_missing_items(version=version)
    if version.client_signed_at is None:
        problems.append("the client company's signature")
    if version.approved_at is None:
        problems.append("the DPO's approval")
    problems += [f"an impact assessment (DPIA) covering {category}" for category in dpa_dpia_missing(version=version)]
    if problems:
        raise ApplicationError(
            "The version cannot be activated. Missing: " + "; ".join(problems) + ".", code="not_activatable"
        )
    now = timezone.now()
    if version.end_date is not None and version.end_date < timezone.localdate(now):
        raise ApplicationError("the version's end date has already passed", field="end_date")
    with transaction.atomic(), change_log_actor(actor):
        for previous in version.agreement.versions.select_for_update().filter(status=Status.ACTIVE):
            previous.status = Status.SUPERSEDED
            previous.ended_at = now
            previous.end_reason = f"superseded by version {version.number}"
            previous.save(update_fields=["status", "ended_at", "end_reason"])
        version.status = Status.ACTIVE
        version.activated_at = now
        _save(version)
    return version


def dpa_terminate(*, version: AgreementVersion, actor: User, reason: str) -> AgreementVersion:
    """End an active agreement now. Agents lose every personal field on their next request."""
    _require_dpo(actor)
    _require_status(version, (Status.ACTIVE,), "only the active version can be terminated")
    if not reason.strip():
        raise ApplicationError("a termination needs a reason", field="end_reason")
    return _transition(version, actor, status=Status.TERMINATED, ended_at=timezone.now(), end_reason=reason.strip())


def dpa_expire_due(*, today: dt.date | None = None) -> int:
    """Mark active versions whose end date has passed as expired. The gates already ignore them
    from the day after their end date; this records it. Returns how many expired."""
    today = today or timezone.localdate()
    expired = 0
    for version in AgreementVersion.objects.filter(status=Status.ACTIVE, end_date__lt=today):
        with transaction.atomic():
            version.status = Status.EXPIRED
            version.ended_at = timezone.now()
            version.end_reason = f"end date {version.end_date} passed"
            version.save(update_fields=["status", "ended_at", "end_reason"])
        expired += 1
    return expired


def _transition(version: AgreementVersion, actor: User, **changes) -> AgreementVersion:
    with transaction.atomic(), change_log_actor(actor):
        for name, value in changes.items():
            setattr(version, name, value)
        _save(version)
    return version


def _save(obj) -> None:
    from django.core.exceptions import ValidationError

    try:
        obj.full_clean(validate_unique=False, validate_constraints=True)
        with transaction.atomic():
            obj.save()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ApplicationError(messages[0], field=None if field == "__all__" else field) from None
    except IntegrityError as exc:
        raise ApplicationError(f"the database refused the change: {str(exc).splitlines()[0]}") from None


def _require_status(version: AgreementVersion, allowed, message: str) -> None:
    if version.status not in allowed:
        raise ApplicationError(f"{message} (this version is {version.get_status_display().lower()})", field="status")


def _require_dpia(version: AgreementVersion) -> None:
    """A special category (GDPR Art. 9) is granted only on the strength of an impact assessment."""
    missing = dpa_dpia_missing(version=version)
    if missing:
        raise ApplicationError(
            f"This version grants the special category {', '.join(missing)} (GDPR Art. 9), and no impact "
            "assessment covers it. Record a data-protection impact assessment (DPIA) of this company that names "
            f"{', '.join(missing)}, assess at least one risk in it, and link it to version {version.number} "
            "(Risk register → Risk assessments); then approve.",
            code="dpia_required",
        )


def _require_client_admin(company: ClientCompany, actor: User, *, field: str) -> None:
    is_admin = Membership.objects.filter(user=actor, company=company, role=Membership.Role.CLIENT_ADMIN).exists()
    if not is_admin:
        raise ApplicationError(
            gettext("only a client admin of the company can sign or object to its DPA"), field=field, code="forbidden"
        )


def _require_dpo(actor: User) -> None:
    if actor.provider_role != User.ProviderRole.DPO:
        raise ApplicationError("only the data-protection officer can decide on a DPA", code="forbidden")
