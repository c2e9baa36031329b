"""Billing's writes: drafting a month's statement, recomputing a draft, issuing it, correcting an
issued one. Each is atomic and takes `actor=`; its change-log entries (auditlog) are written in the
same transaction.

An issued statement is never changed: these services refuse, and the database's triggers refuse
any UPDATE or DELETE of it or of its lines (migration 0001), whoever sends it.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from billing.models import Plan, Statement, StatementLine
from billing.selectors import month_current, usage_for_month
from billing.usage import FIGURES, Terms, Usage
from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.models import User


def _figures(usage: Usage) -> dict:
    return {
        "calls": len(usage.calls),
        "billed_seconds": usage.billed_seconds,
        "overage_seconds": usage.overage_seconds,
        "overage_amount": usage.overage_amount,
        "call_fees_amount": usage.call_fees_amount,
        "total_amount": usage.total_amount,
    }


def _lines_write(statement: Statement, usage: Usage) -> None:
    StatementLine.objects.bulk_create(
        StatementLine(
            statement=statement,
            call_id=call.time.call_id,
            telephony_sid=call.time.telephony_sid,
            started_at=call.time.started_at,
            talk_seconds=call.time.talk,
            wrap_up_seconds=call.time.wrap_up,
            transfer_seconds=call.time.transfer,
            counted_seconds=call.counted,
            billed_seconds=call.billed_seconds,
        )
        for call in usage.calls
    )


def _plan_terms() -> Terms:
    plan = Plan.objects.first()
    if plan is None:
        raise ApplicationError("This company has no billing plan yet: set one first.", field="plan")
    return Terms.of(plan)


def _refuse_unfinished(month: dt.date, now: dt.datetime) -> None:
    if month >= month_current(now=now):
        raise ApplicationError("A statement is drawn up once its month has ended.", field="month")


def statement_draft(*, month: dt.date, actor: User, now: dt.datetime | None = None) -> Statement:
    """Draw up the statement of a past month (the company's zone), on the plan's terms. A draft of
    that month already there is recomputed instead; a month already issued needs a correction."""
    now = now or timezone.now()
    month = month.replace(day=1)
    _refuse_unfinished(month, now)
    with transaction.atomic(), change_log_actor(actor):
        draft = Statement.objects.select_for_update().filter(month=month, status=Statement.Status.DRAFT).first()
        if draft is not None:
            return statement_recompute(statement=draft, actor=actor)
        if Statement.objects.filter(month=month, status=Statement.Status.ISSUED).exists():
            raise ApplicationError(
                f"The statement of {month:%Y-%m} is issued already: issue a correction of it instead.", field="month"
            )
        return _draft_create(month=month, corrects=None, now=now)


def _draft_create(*, month: dt.date, corrects: Statement | None, now: dt.datetime) -> Statement:
    terms = _plan_terms()
    usage = usage_for_month(month=month, terms=terms)
    statement = Statement(month=month, corrects=corrects, created_at=now, **terms.as_dict(), **_figures(usage))
    statement.full_clean()
    statement.save()
    _lines_write(statement, usage)
    return statement


def statement_recompute(*, statement: Statement, actor: User) -> Statement:
    """Work a draft out again from the calls and the plan's terms as they are now."""
    with transaction.atomic(), change_log_actor(actor):
        locked = Statement.objects.select_for_update().get(pk=statement.pk)
        if locked.status != Statement.Status.DRAFT:
            raise ApplicationError("An issued statement cannot be changed: issue a correction of it.", field="status")
        terms = _plan_terms()
        usage = usage_for_month(month=locked.month, terms=terms)
        StatementLine.objects.filter(statement=locked).delete()
        for name, value in {**terms.as_dict(), **_figures(usage)}.items():
            setattr(locked, name, value)
        locked.full_clean()
        locked.save(update_fields=[*Terms.FIELDS, *FIGURES])
        _lines_write(locked, usage)
    return locked


def statement_issue(*, statement: Statement, actor: User, now: dt.datetime | None = None) -> Statement:
    """Issue a draft: from now on it is the company's statement of that month, and it never changes."""
    now = now or timezone.now()
    with transaction.atomic(), change_log_actor(actor):
        locked = Statement.objects.select_for_update().get(pk=statement.pk)
        if locked.status != Statement.Status.DRAFT:
            raise ApplicationError("This statement is issued already.", field="status")
        locked.status, locked.issued_at, locked.issued_by = Statement.Status.ISSUED, now, actor
        locked.full_clean()
        locked.save(update_fields=["status", "issued_at", "issued_by"])
    return locked


def statement_correct(*, statement: Statement, actor: User, now: dt.datetime | None = None) -> Statement:
    """A new draft of the same month, worked out afresh, that names the issued statement it
    corrects. The issued one stays as it was."""
    now = now or timezone.now()
    with transaction.atomic(), change_log_actor(actor):
        original = Statement.objects.select_for_update().get(pk=statement.pk)
        if original.status != Statement.Status.ISSUED:
            raise ApplicationError("Only an issued statement is corrected; a draft is recomputed.", field="status")
        if Statement.objects.filter(month=original.month, status=Statement.Status.DRAFT).exists():
            raise ApplicationError(
                f"There is a draft of {original.month:%Y-%m} already: issue or recompute it.", field="month"
            )
        return _draft_create(month=original.month, corrects=original, now=now)
