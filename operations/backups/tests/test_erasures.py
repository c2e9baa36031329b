"""Erasures a restore must not undo: `erasure_apply` blanks or deletes rows and logs what it did
(never a value), `erasures_reapply` does it again on restored rows, and `erasures_after_backup`
picks the logged erasures a backup lacks, by its snapshot."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Message, Voicemail
from operations.backups.erasures import erasure_apply, erasure_apply_rows, erasures_after_backup, erasures_reapply
from operations.backups.models import ErasureRecord
from operations.backups.tests.helpers import SUBJECT_PHONE, subject_erase

pytestmark = pytest.mark.django_db
INSERT = (
    "INSERT INTO public.backups_erasurerecord (company_id, source, reference, model, object_ids, action, changes, "
    "files) VALUES (%s, 'retention', %s, 'crm.Contact', '{0}', 'update', '{}', '{}') RETURNING id"
)


def test_an_erasure_blanks_the_rows_and_logs_which_fields_and_files_never_a_value(acme, people):
    _subject, _bystander, _messages, voicemail = people
    with tenant_context(acme):
        count, names = erasure_apply(
            model=Voicemail,
            ids=[voicemail.pk],
            changes={"audio": "", "transcription": ""},
            files=["audio"],
            source=ErasureRecord.Source.ERASURE_REQUEST,
            reference="request 7 " + "x" * 200,
        )
        erased = Voicemail.objects.get(pk=voicemail.pk)
    assert (count, names) == (1, [voicemail.audio])  # the caller deletes the file when it may
    assert (erased.audio, erased.transcription) == ("", "")
    record = ErasureRecord.objects.get(company=acme, model="answering.Voicemail", object_ids=[voicemail.pk])
    assert (record.action, record.changes, record.files) == ("update", {"audio": "", "transcription": ""}, ["audio"])
    assert record.reference == ("request 7 " + "x" * 200)[:120]


def test_erasing_by_a_selection_blanks_only_its_rows_and_returns_only_their_files(acme, people):
    subject, bystander, _messages, voicemail = people
    with tenant_context(acme):
        other = Voicemail.objects.get(call__contact=bystander)
        rows = Voicemail.objects.filter(pk__in=[voicemail.pk, other.pk]).exclude(call__contact=bystander)
        ids, names = erasure_apply_rows(
            rows=rows,
            changes={"audio": "", "transcription": ""},
            files=["audio"],
            source=ErasureRecord.Source.RETENTION,
            reference="run 11",
        )
        kept = Voicemail.objects.get(pk=other.pk)
        erased = Voicemail.objects.get(pk=voicemail.pk)
    assert (ids, names) == ([voicemail.pk], [voicemail.audio])  # the bystander's file is not handed out
    assert kept.audio == other.audio  # nor is their row blanked
    assert (erased.audio, erased.transcription) == ("", "")
    record = ErasureRecord.objects.get(company=acme, reference="run 11")
    assert (record.object_ids, record.changes, record.files) == (
        [voicemail.pk],
        {"audio": "", "transcription": ""},
        ["audio"],
    )
    assert subject.pk != bystander.pk


def test_a_selection_that_matches_nothing_writes_no_log(acme, people):
    before = ErasureRecord.objects.count()
    with tenant_context(acme):
        for rows in (Message.objects.filter(pk__in=[]), Message.objects.filter(pk=-1)):
            assert erasure_apply_rows(rows=rows, changes={"body": ""}, source="retention", reference="r") == ([], [])
    assert ErasureRecord.objects.count() == before


def test_a_deletion_is_logged_without_changes(acme, people):
    _subject, bystander, messages, _voicemail = people
    message = messages[bystander.pk]
    with tenant_context(acme):
        count, names = erasure_apply(
            model=Message, ids=[message.pk], delete=True, source=ErasureRecord.Source.RETENTION, reference="run 3"
        )
        assert not Message.objects.filter(pk=message.pk).exists()
    assert (count, names) == (1, [])
    record = ErasureRecord.objects.get(company=acme, reference="run 3")
    assert (record.action, record.changes, record.object_ids) == ("delete", {}, [message.pk])


def test_nothing_to_erase_writes_no_log(acme):
    before = ErasureRecord.objects.count()
    with tenant_context(acme):
        assert erasure_apply(model=Message, ids=[], changes={"body": ""}, source="retention", reference="r") == (0, [])
    assert ErasureRecord.objects.count() == before


def test_reapplying_erases_restored_rows_again_without_logging_anew(acme, people):
    subject, _bystander, messages, _voicemail = people
    message = messages[subject.pk]
    purged_at = timezone.now().replace(microsecond=0)
    with tenant_context(acme):
        erasure_apply(
            model=Message,
            ids=[message.pk],
            changes={"body": "", "purged_at": purged_at},
            source=ErasureRecord.Source.RETENTION,
            reference="run 9",
        )
        # What a restore from an older backup brings back:
        Message.objects.filter(pk=message.pk).update(body="Body of Subject Backup", purged_at=None)
        before = ErasureRecord.objects.count()
        lines = []
        result = erasures_reapply(records=ErasureRecord.objects.filter(reference="run 9"), progress=lines.append)
        again = Message.objects.get(pk=message.pk)
    assert result == (1, 1, [])
    assert (again.body, again.purged_at) == ("", purged_at)  # the logged date is a date again, not text
    assert ErasureRecord.objects.count() == before
    assert lines == ["  retention purge (run 9): 1 answering.Message again"]


def test_an_erasure_in_flight_while_the_backup_starts_is_applied_again_and_an_earlier_one_is_not(acme):
    params = connection.get_connection_params()
    made = []
    with psycopg.connect(**params, autocommit=True) as session:
        try:
            made.append(session.execute(INSERT, [acme.pk, "snapshot test: before"]).fetchone()[0])
            # Another session writes an erasure and has not committed when the backup's snapshot is
            # taken: the backup cannot hold it, although it was recorded before the backup began.
            with psycopg.connect(**params) as in_flight:
                made.append(in_flight.execute(INSERT, [acme.pk, "snapshot test: in flight"]).fetchone()[0])
                snapshot, created_at = session.execute(
                    "SELECT pg_current_snapshot()::text, clock_timestamp()"
                ).fetchone()
                in_flight.commit()
            made.append(session.execute(INSERT, [acme.pk, "snapshot test: after"]).fetchone()[0])

            lacking = erasures_after_backup(company=acme, created_at=created_at, snapshot=snapshot)
            chosen = set(lacking.filter(pk__in=made).values_list("reference", flat=True))
            assert chosen == {"snapshot test: in flight", "snapshot test: after"}
            # The clock alone would have missed the one in flight.
            assert ErasureRecord.objects.get(pk=made[1]).recorded_at < created_at
        finally:
            session.execute("DELETE FROM public.backups_erasurerecord WHERE id = ANY(%s)", [made])


def test_the_erasure_log_holds_no_personal_value(acme, acme_admin, people, django_capture_on_commit_callbacks):
    records = subject_erase(acme, acme_admin, django_capture_on_commit_callbacks)
    assert {r.model for r in records} >= {"crm.Contact", "answering.Call", "answering.Message", "crm.ContactPhone"}
    logged = str(list(ErasureRecord.objects.filter(pk__in=[r.pk for r in records]).values()))
    for value in (
        "Subject Backup",
        SUBJECT_PHONE,
        "55591111",
        "subject@backup.ee",
        "Subject's own words",
        "Body of Subject Backup",
        "Notes of Subject Backup",
        "subject voice",
    ):
        assert value not in logged
