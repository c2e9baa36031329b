"""Onboarding by clone: a company's schema is its template's, storage parameters included."""

from __future__ import annotations

import pytest
from django.db import connection

from tenants.cloning import schema_clone

pytestmark = pytest.mark.django_db


def _options(schema: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind = 'r' AND c.reloptions IS NOT NULL",
            [schema],
        )
        return dict(cursor.fetchall())


def test_a_cloned_schema_keeps_the_purged_tables_fillfactor():
    # Without it a new company's purge would be non-HOT again (answering migration 0052).
    from django.conf import settings

    template = _options(settings.TENANT_BASE_SCHEMA)
    assert template["answering_call"] == ["fillfactor=55"]
    assert template["answering_message"] == ["fillfactor=50"]
    schema_clone(source=settings.TENANT_BASE_SCHEMA, target="clone_options_test")
    try:
        assert _options("clone_options_test") == template
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA clone_options_test CASCADE")
