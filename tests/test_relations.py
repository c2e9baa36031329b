"""The relations of a company's schema: each index serves a query or a constraint (issue 19,
docs/performance.md "Relations per company"). Every company pays for every relation of its schema
in the catalog, in `pg_dump`'s locks and in autovacuum's walk, so none may be there for nothing."""

import pytest
from django.db import IntegrityError, connection, transaction

# Third-party tables keep the indexes their own migrations make; docs/performance.md counts them.
THIRD_PARTY = ("auditlog_logentry", "django_admin_log", "guardian_", "scheduling_resource_services")
OUR_APPS = ("answering", "audit", "crm", "scheduling", "outbox", "timers")


def _indexes(schema: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, i.relname, ix.indisunique, ix.indpred IS NOT NULL, ix.indexprs IS NOT NULL, "
            "am.amname, ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, n) "
            "  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n), "
            "ARRAY(SELECT o.opcname FROM unnest(ix.indclass) c(oid) JOIN pg_opclass o ON o.oid = c.oid) "
            "FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid "
            "JOIN pg_am am ON am.oid = i.relam JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = %s",
            [schema],
        )
        keys = ("table", "name", "unique", "partial", "expressions", "method", "columns", "opclasses")
        return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]


def _ours(index: dict) -> bool:
    return not index["table"].startswith(THIRD_PARTY)


@pytest.mark.django_db
def test_no_company_index_serves_only_a_like_prefix_search(acme):
    """Django gives a unique or indexed CharField a second, `varchar_pattern_ops` index for
    LIKE 'prefix%'; nothing here searches a prefix, so none may come back."""
    like = [i["name"] for i in _indexes(acme.schema_name) if _ours(i) and "varchar_pattern_ops" in i["opclasses"]]
    assert like == []


@pytest.mark.django_db
def test_no_company_index_is_the_leading_part_of_another(acme):
    """A plain index on the columns another index leads with serves no query the other does not."""
    indexes = [i for i in _indexes(acme.schema_name) if _ours(i) and i["method"] == "btree" and not i["expressions"]]
    redundant = [
        (short["table"], short["name"], long["name"])
        for short in indexes
        if not short["unique"] and not short["partial"]
        for long in indexes
        if long["table"] == short["table"]
        and long["name"] != short["name"]
        and not long["partial"]
        and long["columns"][: len(short["columns"])] == short["columns"]
    ]
    assert redundant == []


@pytest.mark.django_db
def test_the_template_holds_every_index_and_constraint_the_models_name():
    """The migrations dropped and renamed in SQL what they told Django's state: the two agree in
    the template, which Django migrates. (A clone's unique constraints get PostgreSQL's default
    names from pg-clone-schema, so a company's schema is checked by what its indexes do, above.)"""
    from django.apps import apps
    from django.conf import settings

    named = {
        (model._meta.db_table, item.name)
        for label in OUR_APPS
        for model in apps.get_app_config(label).get_models()
        for item in [*model._meta.indexes, *model._meta.constraints]
    }
    schema = settings.TENANT_BASE_SCHEMA
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, i.relname FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid "
            "JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE n.nspname = %s UNION SELECT t.relname, c.conname FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = %s",
            [schema, schema],
        )
        present = set(cursor.fetchall())
    assert len(named) > 30
    assert named - present == set()


@pytest.mark.django_db
def test_a_second_line_with_a_taken_number_is_refused(acme):
    """The unique constraints stayed: as the form's field error, and in the database itself."""
    from django.core.exceptions import ValidationError
    from django_tenants.utils import tenant_context

    from answering.models import Line

    with tenant_context(acme):
        taken = Line.objects.first()
        duplicate = Line(name="Copy", phone_number=taken.phone_number)
        with pytest.raises(ValidationError) as refused:
            duplicate.full_clean()
        assert list(refused.value.message_dict) == ["phone_number"]
        assert "already exists" in refused.value.message_dict["phone_number"][0]
        with pytest.raises(IntegrityError, match=r"Key \(phone_number\)=.* already exists"), transaction.atomic():
            duplicate.save()


@pytest.mark.django_db
def test_a_replayed_call_sid_is_still_refused_by_the_database(acme):
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from answering.models import Call, Line

    with tenant_context(acme):
        line = Line.objects.first()
        Call.objects.create(line=line, telephony_sid="CA-replayed", started_at=timezone.now())
        with pytest.raises(IntegrityError, match=r"Key \(telephony_sid\)=.* already exists"), transaction.atomic():
            Call.objects.create(line=line, telephony_sid="CA-replayed", started_at=timezone.now())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sql", "index"),
    [
        ("SELECT id FROM crm_contact WHERE phone_bidx = 'x'", "contact_phone_bidx"),  # the caller lookup
        ("SELECT id FROM crm_contactphone WHERE number_bidx = 'x'", "contactphone_number_bidx"),
        ("SELECT id FROM answering_call WHERE line_id = 1", "call_line_newest"),  # its foreign key's index
        ("SELECT id FROM scheduling_resource WHERE feed_token_hash = 'x'", "resource_feed_token_hash"),
    ],
)
def test_the_lookups_keep_an_index(acme, sql, index):
    """With sequential scans ruled out (the demo's tables are tiny), the plan names the index."""
    from django_tenants.utils import tenant_context

    with tenant_context(acme), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan
