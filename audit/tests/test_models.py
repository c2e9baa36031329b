"""The audit tables are append-only for the application: a trigger refuses every UPDATE, DELETE
and TRUNCATE of the change log, the access log and the hash chain."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry, ChainLink

pytestmark = pytest.mark.django_db


def test_audit_rows_cannot_be_changed_or_deleted_by_the_application(acme, admin_for, agent1):
    admin_for(agent1, "acme").get("/admin/answering/call/")
    with tenant_context(acme):
        entry = AccessLogEntry.objects.order_by("-pk").first()
        link = ChainLink.objects.order_by("-seq").first()
        for attempt in (
            lambda: AccessLogEntry.objects.filter(pk=entry.pk).update(fields=[]),
            lambda: AccessLogEntry.objects.filter(pk=entry.pk).delete(),
            lambda: ChainLink.objects.filter(pk=link.pk).update(hash="0" * 64),
            lambda: LogEntry.objects.all().delete(),
        ):
            with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
                attempt()


@pytest.mark.parametrize("table", ["auditlog_logentry", "audit_accesslogentry", "audit_chainlink"])
def test_audit_tables_cannot_be_truncated(acme, table):
    with tenant_context(acme):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")
        assert ChainLink.objects.exists()
