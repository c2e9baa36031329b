"""Putting the shared demo world back after a test that commits (browser tests, races on `live_db`).

A company's audit tables are append-only (a trigger refuses DELETE), as they must be for the
application. A test that wrote audit rows removes them here with the triggers off for its own
session (`session_replication_role = replica`, which the test database's superuser may set): only
the rows added since the test began, so the chain ends where it ended before and still verifies;
a row written before the test that a seal inside it linked waits in the sealer's queue again.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection

# The sealer's queue too: a row the block queued and did not seal goes with the row it names.
AUDIT_TABLES = (
    ("auditlog_logentry", "id"),
    ("audit_accesslogentry", "id"),
    ("audit_chainlink", "seq"),
    ("audit_unsealedentry", "id"),
)


def _high_marks(schema: str) -> dict[str, int]:
    marks = {}
    with connection.cursor() as cursor:
        for table, key in AUDIT_TABLES:
            cursor.execute(f'SELECT COALESCE(MAX({key}), 0) FROM "{schema}"."{table}"')
            marks[table] = cursor.fetchone()[0]
    return marks


@contextmanager
def audit_rows_removed_after(*schemas: str):
    """Delete, on the way out, the audit rows the block added to these companies' schemas."""
    marks = {schema: _high_marks(schema) for schema in schemas}
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            try:
                for schema, tables in marks.items():
                    # A seal inside the block may have linked rows written before it (queued by a
                    # test that did not seal): their links go below, so they wait in the queue again.
                    cursor.execute(
                        f'SELECT kind, ref_id FROM "{schema}"."audit_chainlink" WHERE seq > %s '
                        "AND ((kind = 'access' AND ref_id <= %s) OR (kind = 'change' AND ref_id <= %s)) ORDER BY seq",
                        [tables["audit_chainlink"], tables["audit_accesslogentry"], tables["auditlog_logentry"]],
                    )
                    older = cursor.fetchall()
                    for table, key in AUDIT_TABLES:
                        cursor.execute(f'DELETE FROM "{schema}"."{table}" WHERE {key} > %s', [tables[table]])
                    for kind, ref_id in older:
                        cursor.execute(
                            f'INSERT INTO "{schema}"."audit_unsealedentry" (kind, ref_id) VALUES (%s, %s) '
                            "ON CONFLICT DO NOTHING",
                            [kind, ref_id],
                        )
            finally:
                cursor.execute("SET session_replication_role = DEFAULT")


def users_delete(*usernames: str, membership_ids=(), tenant_schema: str = "initech") -> None:
    """Delete test users and the public change-log rows about or by them. The user table's reverse
    relations include tenant tables (object permissions), so the delete runs with a company's schema
    on the search path; the users must have left no rows in any company's schema."""
    from auditlog.models import LogEntry
    from django_tenants.utils import schema_context

    from tenants.models import Membership, User

    connection.set_schema_to_public()
    users = list(User.objects.filter(username__in=usernames).values_list("pk", flat=True))
    memberships = {str(pk) for pk in Membership.objects.filter(user__in=users).values_list("pk", flat=True)}
    memberships |= {str(pk) for pk in membership_ids}  # those already gone, whose change-log rows remain
    Membership.objects.filter(user__in=users).delete()
    LogEntry.objects.filter(actor__in=users).delete()
    LogEntry.objects.filter(content_type__model="membership", object_pk__in=memberships).delete()
    with schema_context(tenant_schema):
        User.objects.filter(pk__in=users).delete()
    connection.set_schema_to_public()


@contextmanager
def checkpoints_removed_after():
    """Delete, on the way out, the audit checkpoints (public, append-only) the block signed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM public.tenants_auditcheckpoint")
        mark = cursor.fetchone()[0]
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            try:
                cursor.execute("DELETE FROM public.tenants_auditcheckpoint WHERE id > %s", [mark])
            finally:
                cursor.execute("SET session_replication_role = DEFAULT")
