"""Many rows at once, for the tests that need a table the size of a busy company's: copies of one of
the company's own rows (encrypted values and all), made by one INSERT ... SELECT generate_series in
the company's schema, inside the test's transaction (so rolled back with it), then ANALYZE."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import tenant_context

_NEWEST = {"answering_call": "started_at", "answering_message": "created_at"}
_UNIQUE = {"answering_call": ("telephony_sid", "'CAbulk' || g")}


def rows_copied(company, model, count: int) -> None:
    """`count` more rows of `model` (a call or a message) in `company`, copies of its oldest one,
    a minute apart, going back from now."""
    table = model._meta.db_table
    newest = _NEWEST[table]
    unique, unique_value = _UNIQUE.get(table, (None, None))
    skip = {"id", newest, unique}
    columns = [f.column for f in model._meta.concrete_fields if f.column not in skip]
    listed = ", ".join(columns)
    extra_columns = f"{unique}, " if unique else ""
    extra_values = f"{unique_value}, " if unique else ""
    with tenant_context(company):
        source = model.objects.order_by("pk").values_list("pk", flat=True).first()
        if source is None:
            raise ValueError(f"{company.schema_name} has no {model._meta.verbose_name} to copy")
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({extra_columns}{newest}, {listed}) "
                f"SELECT {extra_values}now() - g * interval '1 minute', {listed} "
                f"FROM {table}, generate_series(1, %s) g WHERE id = %s",
                [count, source],
            )
            cursor.execute(f"ANALYZE {table}")
