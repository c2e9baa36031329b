"""Raw SQL over a company's tables shows no plaintext personal value: the demo's seeded names,
numbers, e-mail addresses, notes and message bodies are searched for in every row of every table."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from answering.models import Line
from answering.services.messages import message_take
from demo.world import CALLERS
from tenants.models import User

pytestmark = pytest.mark.django_db


def _every_row_as_text(schema: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        tables = [row[0] for row in cursor.fetchall()]
        chunks = []
        for table in tables:
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{schema}"."{table}" t')
            chunks.extend(row[0] for row in cursor.fetchall())
    return "\n".join(chunks)


def test_no_table_of_a_company_holds_plaintext_personal_data(acme):
    with tenant_context(acme):
        message_take(
            line=Line.objects.get(phone_number="+3726001001"),
            actor=User.objects.get(username="agent1"),
            caller_name="Sigrid Sibul",
            caller_number="+37255577777",
            body="Broken tooth, very painful",
        )
    dump = _every_row_as_text("acme")
    assert "Acme Dental reception" in dump  # the scan reads real rows (business data is plain)
    seeded = [value for caller in CALLERS for value in caller]
    seeded += ["Sigrid Sibul", "+37255577777", "Broken tooth", "Prefers morning calls", "Asked for a call back"]
    found = [value for value in seeded if value in dump]
    assert found == []
