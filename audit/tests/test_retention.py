"""The retention purge, from the side of the data that must be gone, and of the data on hold."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Line, Message
from audit.models import LegalHold, RetentionRun
from audit.retention import ANONYMISED, retention_purge
from crm.models import Contact
from tenants.models import User

pytestmark = pytest.mark.django_db
LATER = dt.timedelta(days=400)  # past acme's 365-day retention


@pytest.fixture
def seeded(acme):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        kept = Contact.objects.create(name="Held Person", phone_number="+37255571111")
        gone = Contact.objects.create(name="Purged Person", phone_number="+37255572222")
        for contact, sid in ((kept, "CAkeep"), (gone, "CAgone")):
            call = Call.objects.create(
                line=line,
                telephony_sid=sid + "0" * 28,
                started_at=timezone.now(),
                caller_number=contact.phone_number,
                caller_name=contact.name,
                notes=f"Notes of {contact.name}",
                contact=contact,
            )
            Message.objects.create(
                line=line, call=call, contact=contact, body=f"Body of {contact.name}", caller_name=contact.name
            )
        dpo = User.objects.get(username="dpo")
        LegalHold.objects.create(
            contact=kept,
            reason="Court order 2-26-1234",
            created_by=dpo,
            expires_at=timezone.now() + dt.timedelta(days=800),
        )
        yield kept, gone


def _dump(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t")
        return " ".join(row[0] for row in cursor.fetchall())


def test_a_dry_run_counts_and_changes_nothing(acme, seeded):
    _, gone = seeded
    with tenant_context(acme):
        run = retention_purge(dry_run=True, now=timezone.now() + LATER)
        assert run.report["purged"]["message bodies and answers"] >= 1
        assert Message.objects.get(contact=gone).body == "Body of Purged Person"


def test_a_purge_past_retention_leaves_no_trace_of_the_purged_and_keeps_what_is_held(acme, seeded):
    kept, gone = seeded
    with tenant_context(acme):
        run = retention_purge(now=timezone.now() + LATER, batch=2)
        gone.refresh_from_db()
        assert gone.name == ANONYMISED
        assert Message.objects.get(contact=gone).body == ""
        call = Call.objects.get(contact=gone)
        assert (call.caller_number, call.caller_name, call.notes) == ("", "", "")
        assert call.line.phone_number == "+3726001001"  # the non-personal stub stays, for statistics
        assert Message.objects.get(contact=kept).body == "Body of Held Person"
        assert Contact.objects.get(pk=kept.pk).name == "Held Person"
        assert run.report["held"]["message bodies and answers"] == 1
        assert run.report["held"]["inactive contacts"] == 1
        for table in ("crm_contact", "answering_call", "answering_message"):
            text = _dump(table)
            assert "Purged Person" not in text  # encrypted anyway; this is about the values being gone
        assert contact_search(gone.pk) is None


def contact_search(pk):
    from crm.selectors import contact_find_by_phone

    found = contact_find_by_phone(number="+37255572222")
    return found if found and found.pk == pk else None


def test_a_second_run_finds_nothing_left_to_do(acme, seeded):
    with tenant_context(acme):
        retention_purge(now=timezone.now() + LATER)
        again = retention_purge(now=timezone.now() + LATER)
        assert all(count == 0 for count in again.report["purged"].values())


def test_a_run_is_one_change_log_entry_not_one_per_row(acme, seeded):
    with tenant_context(acme):
        before = LogEntry.objects.count()
        run = retention_purge(now=timezone.now() + LATER)
        new = LogEntry.objects.count() - before
        assert sum(run.report["purged"].values()) > 5
        assert new <= 2  # the run's creation and its final report
        assert LogEntry.objects.get_for_object(run).exists()


def test_without_a_dpa_in_force_nothing_is_purged(initech):
    with tenant_context(initech):
        run = retention_purge(now=timezone.now() + LATER)
        assert run.report["purged"] == {}
        assert "no DPA in force" in run.report["policy"]
        assert RetentionRun.objects.filter(pk=run.pk).exists()


def _expired_calls(line, count: int, *, prefix: str, contact=None) -> list[int]:
    Call.objects.bulk_create(
        [
            Call(
                line=line,
                telephony_sid=f"{prefix}{i:030d}",
                started_at=timezone.now(),
                caller_number="+37255570000",
                caller_name=f"Expired Caller {i}",
                notes="Old notes",
                caller_pseudonym=f"{i:064x}",
                contact=contact,
            )
            for i in range(count)
        ]
    )
    return list(Call.objects.filter(telephony_sid__startswith=prefix).order_by("pk").values_list("pk", flat=True))


def test_a_walk_over_many_batches_purges_every_due_row_and_logs_exactly_those(acme, seeded):
    from operations.backups.models import ErasureRecord

    kept, _gone = seeded
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        due = _expired_calls(line, 40, prefix="CAwalk")
        held = _expired_calls(line, 3, prefix="CAheld", contact=kept)  # ids after the due ones
        also_due = _expired_calls(line, 40, prefix="CAwlk2")
        run = retention_purge(now=timezone.now() + LATER, batch=7)
        left = Call.objects.filter(pk__in=due + also_due, anonymised_at__isnull=True).count()
        assert left == 0  # every batch boundary crossed, nothing skipped
        assert all(c.caller_name == "" for c in Call.objects.filter(pk__in=due + also_due).only("caller_name"))
        assert Call.objects.filter(pk__in=held, anonymised_at__isnull=True).count() == 3
        assert {c.caller_name for c in Call.objects.filter(pk__in=held).only("caller_name")} == {
            "Expired Caller 0",
            "Expired Caller 1",
            "Expired Caller 2",
        }
    logged = set()
    for record in ErasureRecord.objects.filter(reference=f"retention run {run.pk}: call notes and caller details"):
        logged.update(record.object_ids)
    assert set(due + also_due) <= logged  # a restore purges them again
    assert not logged & set(held)  # and never a held row
    assert run.report["held"]["call notes and caller details"] >= 3


def _hot(table: str) -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_updated(%s::regclass), pg_stat_get_xact_tuples_hot_updated(%s::regclass)",
            [table, table],
        )
        return cursor.fetchone()


def test_purged_calls_and_messages_are_hot_updates_that_write_no_index_entry(acme):
    # A non-HOT update writes a new entry into every index of its table; a HOT one writes none.
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        _expired_calls(line, 500, prefix="CAhot")
        Message.objects.bulk_create([Message(line=line, body=f"Expired body {i}") for i in range(500)])
        before = {table: _hot(table) for table in ("answering_call", "answering_message")}
        run = retention_purge(now=timezone.now() + LATER, batch=100)
        assert run.report["purged"]["call notes and caller details"] >= 500
        assert run.report["purged"]["message bodies and answers"] >= 500
        for table, (updated, hot) in before.items():
            now_updated, now_hot = _hot(table)
            assert now_updated - updated >= 500
            assert now_hot - hot == now_updated - updated, table  # every purged row stayed on its page


def test_no_index_of_a_purged_table_covers_a_column_the_purge_changes(acme):
    # Not even in a partial index's predicate: that alone makes every update non-HOT. Contacts
    # are the exception: the caller lookup needs their blind indexes, which the purge clears.
    from audit.retention import _targets

    with tenant_context(acme), connection.cursor() as cursor:
        for target in _targets():
            model = target.queryset(timezone.now()).model
            if model is Contact:
                continue
            columns = {model._meta.get_field(name).column for name in target.changes(timezone.now())}
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, a.attname, pg_get_expr(i.indpred, i.indrelid),"
                " pg_get_expr(i.indexprs, i.indrelid) FROM pg_index i"
                " LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
                " WHERE i.indrelid = %s::regclass",
                [model._meta.db_table],
            )
            for index, column, predicate, expressions in cursor.fetchall():
                assert column not in columns, f"{index} indexes {column}, which the purge of {target.name} changes"
                for text in (predicate or "", expressions or ""):
                    assert not any(c in text for c in columns), f"{index} reads a purged column in {text}"


def test_the_command_reports_its_progress_through_each_table(acme):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("retention_purge", tenant="acme", stdout=out)
    text = out.getvalue()
    assert "acme:" in text
    assert "call notes and caller details: 0 (ids up to" in text  # nothing due today, the walk still says where it is
    assert "purged:" in text
