"""Statements: drawn up from the calls, issued, and then immutable, in the service and in the
database (raw SQL is refused by the triggers); a correction is a new statement naming the old one;
each step is in the change log with its actor."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import tenant_context

from billing.models import Statement, StatementLine
from billing.services import statement_correct, statement_draft, statement_issue, statement_recompute
from billing.tests.conftest import NOVEMBER
from tenants.errors import ApplicationError
from tenants.models import User

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 12, 3, 10, tzinfo=dt.UTC)


@pytest.fixture
def supervisor(db) -> User:
    return User.objects.get(username="supervisor")


@pytest.fixture
def issued(acme, november_calls, plan_of, supervisor) -> Statement:
    plan_of("per_call")
    with tenant_context(acme):
        draft = statement_draft(month=NOVEMBER, actor=supervisor, now=NOW)
        return statement_issue(statement=draft, actor=supervisor, now=NOW)


def _raw(sql: str, params) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_statement_holds_the_months_figures_and_lines(acme, issued):
    assert (issued.status, issued.calls, issued.billed_seconds) == ("issued", 5, 480)
    assert (issued.overage_amount, issued.call_fees_amount, issued.total_amount) == (
        Decimal("3.00"),
        Decimal("0.63"),
        Decimal("3.63"),
    )
    with tenant_context(acme):
        assert sorted(StatementLine.objects.filter(statement=issued).values_list("billed_seconds", flat=True)) == [
            60,
            60,
            60,
            120,
            180,
        ]


def test_the_running_month_has_no_statement_yet(acme, november_calls, plan_of, supervisor):
    plan_of("six_second")
    with tenant_context(acme), pytest.raises(ApplicationError, match="once its month has ended"):
        statement_draft(month=NOVEMBER, actor=supervisor, now=dt.datetime(2025, 11, 30, 21, 59, tzinfo=dt.UTC))


def test_an_issued_statement_refuses_the_services(acme, issued, supervisor):
    with tenant_context(acme):
        with pytest.raises(ApplicationError, match="cannot be changed"):
            statement_recompute(statement=issued, actor=supervisor)
        with pytest.raises(ApplicationError, match="issued already"):
            statement_issue(statement=issued, actor=supervisor)
        with pytest.raises(ApplicationError, match="issue a correction"):
            statement_draft(month=NOVEMBER, actor=supervisor, now=NOW)
        issued.refresh_from_db()
    assert issued.total_amount == Decimal("3.63")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE billing_statement SET total_amount = 0 WHERE id = %s",
        "UPDATE billing_statement SET status = 'draft', issued_at = NULL WHERE id = %s",
        "DELETE FROM billing_statement WHERE id = %s",
        "UPDATE billing_statementline SET billed_seconds = 1 WHERE statement_id = %s",
        "DELETE FROM billing_statementline WHERE statement_id = %s",
        "INSERT INTO billing_statementline (statement_id, call_id, telephony_sid, started_at, talk_seconds,"
        " wrap_up_seconds, transfer_seconds, counted_seconds, billed_seconds)"
        " VALUES (%s, 999999, 'CAx', now(), 0, 0, 0, 0, 60)",
    ],
)
def test_an_issued_statement_refuses_raw_sql(acme, issued, sql):
    with tenant_context(acme):
        with pytest.raises(IntegrityError, match="issued"):
            _raw(sql, [issued.pk])
        issued.refresh_from_db()
        assert (issued.status, issued.total_amount) == ("issued", Decimal("3.63"))
        assert StatementLine.objects.filter(statement=issued).count() == 5


def test_a_draft_may_still_change_in_the_database(acme, november_calls, plan_of, supervisor):
    # The triggers refuse issued rows only: without this, the test above could pass on a trigger
    # that refuses everything.
    plan_of("six_second")
    with tenant_context(acme):
        draft = statement_draft(month=NOVEMBER, actor=supervisor, now=NOW)
        _raw("UPDATE billing_statementline SET billed_seconds = billed_seconds WHERE statement_id = %s", [draft.pk])
        _raw("UPDATE billing_statement SET calls = calls WHERE id = %s", [draft.pk])


def test_a_correction_is_a_new_statement_that_names_the_old(acme, issued, plan_of, supervisor):
    plan_of("thirty_second")  # the plan was wrong: correct the month on the right terms
    with tenant_context(acme):
        correction = statement_correct(statement=issued, actor=supervisor, now=NOW)
        assert (correction.status, correction.corrects_id, correction.total_amount) == (
            "draft",
            issued.pk,
            Decimal("1.80"),
        )
        with pytest.raises(ApplicationError, match="draft of 2025-11 already"):
            statement_correct(statement=issued, actor=supervisor, now=NOW)
        statement_issue(statement=correction, actor=supervisor, now=NOW)
        issued.refresh_from_db()
    assert (issued.status, issued.total_amount) == ("issued", Decimal("3.63"))  # the original stands


def test_statements_are_in_the_change_log_with_their_actor(acme, issued, supervisor):
    with tenant_context(acme):
        entries = LogEntry.objects.get_for_object(issued).order_by("timestamp", "pk")
        assert [e.action for e in entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
        assert {e.actor_id for e in entries} == {supervisor.pk}
        assert entries.last().changes_dict["status"] == ["draft", "issued"]
