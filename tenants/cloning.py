"""Fast schema cloning for onboarding.

django-tenants clones the template with pg-clone-schema, but first re-installs that 4,600-line
PL/pgSQL function on every clone and afterwards runs `migrate_schemas --fake` on the new schema.
Neither is needed: the function is installed once per process, and a DATA clone already copies
the template's `django_migrations` rows, so the new schema is exactly as migrated as the template.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_exists

_function_installed_in_process = False


def schema_clone(*, source: str, target: str) -> None:
    """Create schema `target` as a structural and data copy of `source` (the template)."""
    global _function_installed_in_process
    connection.set_schema_to_public()
    if schema_exists(target, case_sensitive=False):
        raise ValidationError(f"schema {target!r} already exists")
    if not _function_installed_in_process:
        # Once per process, so an upgraded django-tenants replaces the function on first use.
        CloneSchema()._create_clone_schema_function()
        _function_installed_in_process = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT clone_schema(%s, %s, 'DATA')", [source, target])
        # pg-clone-schema creates tables with `LIKE ... INCLUDING ALL`, which leaves out storage
        # parameters: the purged tables' fillfactor (answering migration 0052) would be lost.
        cursor.execute(
            "SELECT c.relname, array_to_string(c.reloptions, ', ') FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind = 'r' AND c.reloptions IS NOT NULL",
            [source],
        )
        quote = connection.ops.quote_name
        for table, options in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {quote(target)}.{quote(table)} SET ({options})")
