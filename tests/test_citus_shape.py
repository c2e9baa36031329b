"""What Citus schema-based sharding needs and this machine can check (docs/scaling.md): every
primary key and sequence of the template and of each company's schema is bigint, and no tenant
schema has a foreign key into another tenant schema. Read from pg_constraint and pg_sequence."""

from __future__ import annotations

import pytest
from django.conf import settings

from tenants.citus import PUBLIC, foreign_keys, keys_into_other_tenant_schemas, narrow_keys, sequences, tables

pytestmark = pytest.mark.django_db
SCHEMAS = [settings.TENANT_BASE_SCHEMA, "acme", "globex", "initech"]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_every_tenant_key_and_sequence_is_bigint(schema):
    assert tables(schema), f"{schema} has no tables"
    assert sequences(schema), f"{schema} has no sequences: the probe would pass on nothing"
    assert narrow_keys(schema) == []


@pytest.mark.parametrize("schema", SCHEMAS)
def test_no_foreign_key_between_tenant_schemas(schema):
    keys = foreign_keys(schema)
    assert any(fk[2] == schema for fk in keys), "no key within the schema: the catalogue query found nothing"
    assert keys_into_other_tenant_schemas(schema) == []


def test_the_checks_see_a_narrow_key_and_a_key_across_schemas(db):
    """The two checks fail where they must: a schema with an integer key and a key into another
    company's schema (made here, rolled back with the test)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA probe_narrow")
        cursor.execute("CREATE TABLE probe_narrow.t (id serial PRIMARY KEY, c bigint REFERENCES acme.crm_contact (id))")
    assert narrow_keys("probe_narrow") == ["t.id integer", "t_id_seq integer"]
    assert [fk[2:4] for fk in keys_into_other_tenant_schemas("probe_narrow")] == [("acme", "crm_contact")]
    assert PUBLIC not in [fk[2] for fk in keys_into_other_tenant_schemas("probe_narrow")]
