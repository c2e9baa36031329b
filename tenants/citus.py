"""What Citus schema-based sharding needs of the schemas, read from the database's own catalogue.

With `citus.enable_schema_based_sharding`, every schema created after it is on becomes a
distributed schema (one shard group, all its tables on one node) and the public schema's tables
stay on the coordinator, or become reference tables (copied to every node). Citus refuses foreign
keys between two distributed schemas, allows a distributed-schema table to reference a reference
table, and wants `bigint` sequences (a narrower sequence can run out or collide on workers).
docs/scaling.md is written from `manage.py citus_inventory`, which prints these.
"""

from __future__ import annotations

from django.db import connection

PUBLIC = "public"


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def tables(schema: str) -> list[str]:
    """The ordinary (and partitioned) tables of a schema."""
    return [
        name
        for (name,) in _rows(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname",
            [schema],
        )
    ]


def primary_keys(schema: str) -> list[tuple[str, str, str]]:
    """(table, column, type) of every primary-key column of the schema's tables."""
    return _rows(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) "
        "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey) "
        "WHERE k.contype = 'p' AND n.nspname = %s ORDER BY c.relname, a.attnum",
        [schema],
    )


def sequences(schema: str) -> list[tuple[str, str, int, str]]:
    """(sequence, type, max value, owning table.column) of every sequence in the schema."""
    return _rows(
        "SELECT s.relname, format_type(q.seqtypid, NULL), q.seqmax, "
        "COALESCE(t.relname || '.' || a.attname, '') "
        "FROM pg_sequence q JOIN pg_class s ON s.oid = q.seqrelid "
        "JOIN pg_namespace n ON n.oid = s.relnamespace "
        "LEFT JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
        "LEFT JOIN pg_class t ON t.oid = d.refobjid "
        "LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
        "WHERE n.nspname = %s ORDER BY s.relname",
        [schema],
    )


def foreign_keys(schema: str) -> list[tuple[str, str, str, str, str]]:
    """(table, constraint, referenced schema, referenced table, ON DELETE) of every foreign key
    declared by the schema's tables."""
    return _rows(
        "SELECT c.relname, k.conname, rn.nspname, r.relname, "
        "CASE k.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' "
        "WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END "
        "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace "
        "WHERE k.contype = 'f' AND n.nspname = %s ORDER BY c.relname, k.conname",
        [schema],
    )


def keys_into_other_tenant_schemas(schema: str) -> list[tuple[str, str, str, str, str]]:
    """Foreign keys from this tenant schema into another non-public schema: Citus refuses them."""
    return [fk for fk in foreign_keys(schema) if fk[2] not in (schema, PUBLIC)]


def narrow_keys(schema: str) -> list[str]:
    """Primary keys and sequences of the schema narrower than bigint, as `table.column type`."""
    narrow = ("integer", "smallint")
    keys = [f"{table}.{column} {kind}" for table, column, kind in primary_keys(schema) if kind in narrow]
    seqs = [f"{name} {kind}" for name, kind, _max, _owner in sequences(schema) if kind != "bigint"]
    return keys + seqs
