"""An issued statement survives a restore of its company in place: the restore replaces the
tables wholesale (TRUNCATE is not a row change) and copies the lines back under their issued
statement, which the line trigger allows only inside a restore's own transaction. (Outside a
restore such an INSERT is refused: test_services.py. Here the test's own transaction wraps the
restore's, so its transaction-local flag outlives it and cannot be asserted off.)"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from billing.models import Statement, StatementLine
from billing.services import statement_draft, statement_issue
from billing.tests.conftest import NOVEMBER
from tenants.models import User

pytestmark = pytest.mark.django_db


def test_a_restore_in_place_brings_back_the_issued_statement_whole(acme, november_calls, plan_of, tmp_path):
    supervisor = User.objects.get(username="supervisor")
    plan_of("thirty_second")
    now = dt.datetime(2025, 12, 3, tzinfo=dt.UTC)
    with tenant_context(acme):
        issued = statement_issue(
            statement=statement_draft(month=NOVEMBER, actor=supervisor, now=now), actor=supervisor, now=now
        )
    call_command("backup_tenant", "acme", output=str(tmp_path / "acme.backup"), stdout=io.StringIO())
    call_command("restore_tenant", str(tmp_path / "acme.backup"), in_place=True, tenant="acme", stdout=io.StringIO())
    with tenant_context(acme):
        restored = Statement.objects.get(pk=issued.pk)
        assert (restored.status, restored.total_amount) == ("issued", Decimal("1.80"))
        assert StatementLine.objects.filter(statement=restored).count() == 5
