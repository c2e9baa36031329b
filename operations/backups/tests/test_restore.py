"""Restores against the real database: a restore brings everything back except what was erased
or purged after the backup, and a backup that is corrupt, foreign, under another key or from
another migration state is refused and changes nothing."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from auditlog.models import LogEntry
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_exists, tenant_context

from answering.models import Call, Message, Voicemail
from audit.chain import chain_verify
from audit.models import UnsealedEntry
from audit.retention import retention_purge
from audit.sealing import audit_seal, unchained_rows
from crm.models import Contact, ContactPhone
from crm.selectors import contact_find_by_phone
from crm.services import contact_create
from operations.backups.catalog import schema_tables
from operations.backups.models import ErasureRecord
from operations.backups.tests.helpers import SUBJECT_OTHER_PHONE, SUBJECT_PHONE, backup_take, subject_erase
from tenants.files import encrypted_file_read

pytestmark = pytest.mark.django_db
FRESH = "acme_restore_test"


def _rows(schema: str, *, without: tuple[str, ...] = ()) -> dict[str, dict[int, str]]:
    """Every row of every replaceable table, by id, as JSON (minus the columns `without`)."""
    rows = {}
    with connection.cursor() as cursor:
        for table in schema_tables(schema).values():
            if table.append_only:
                continue
            drop = "".join(f" - '{c}'" for c in without if c in table.columns)
            cursor.execute(f'SELECT id, (to_jsonb(r){drop})::text FROM "{schema}"."{table.name}" r')
            rows[table.name] = dict(cursor.fetchall())
    return rows


def _restore(path, **options) -> str:
    out = io.StringIO()
    call_command("restore_tenant", str(path), stdout=out, **options)
    return out.getvalue()


def _erased_ids(records: list[ErasureRecord]) -> dict[str, set[int]]:
    from django.apps import apps

    erased: dict[str, set[int]] = {}
    for record in records:
        erased.setdefault(apps.get_model(record.model)._meta.db_table, set()).update(record.object_ids)
    return erased


def _assert_back_except_erased(before, after, erased: dict[str, set[int]], deleted: dict[str, set[int]]):
    assert set(after) == set(before)
    for table, rows in before.items():
        assert set(after[table]) == set(rows) - deleted.get(table, set()), table
        for pk, row in rows.items():
            if pk not in erased.get(table, set()) | deleted.get(table, set()):
                assert after[table][pk] == row, (table, pk)


def _assert_subject_erased(subject, voicemail):
    subject = Contact.objects.get(pk=subject.pk)
    assert (subject.name, subject.phone_number, subject.email) == ("Erased data subject", "", "")
    assert contact_find_by_phone(number=SUBJECT_PHONE) is None
    assert contact_find_by_phone(number=SUBJECT_OTHER_PHONE) is None
    assert not ContactPhone.objects.filter(contact=subject).exists()
    assert Message.objects.get(contact=subject).body == ""
    call = Call.objects.get(contact=subject)
    assert (call.caller_number, call.caller_name, call.notes) == ("", "", "")
    voicemail = Voicemail.objects.get(pk=voicemail.pk)
    assert (voicemail.audio, voicemail.transcription) == ("", "")


def test_restore_in_place_keeps_the_erasure_and_brings_back_everything_else(
    acme, acme_admin, people, tmp_path, django_capture_on_commit_callbacks
):
    subject, bystander, messages, voicemail = people
    before = _rows("acme")
    output = backup_take("acme", tmp_path / "acme.backup")
    assert "crm_contact:" in output
    assert "done:" in output

    erasures = subject_erase(acme, acme_admin, django_capture_on_commit_callbacks)
    assert not default_storage.exists(voicemail.audio)  # the erasure deleted the audio file
    with tenant_context(acme):
        # A deletion that is not an erasure: the backup must bring it back.
        Message.objects.filter(pk=messages[bystander.pk].pk).delete()
        # A contact created after the backup: a restore returns to the backup's state.
        later = contact_create(name="After Backup", phone_number="+37255593333", actor=None)

    output = _restore(tmp_path / "acme.backup", in_place=True, tenant="acme")
    assert "applying again" in output
    assert "done:" in output

    other_number = ContactPhone.objects.none()
    with tenant_context(acme):
        _assert_subject_erased(subject, voicemail)
        assert Message.objects.get(pk=messages[bystander.pk].pk).body == "Body of Bystander Backup"
        assert not Contact.objects.filter(pk=later.pk).exists()
        assert chain_verify()[1] is None  # audit rows written since the backup are still there, chained
        # Every audit row is in the chain or waiting for it, and one seal links them all, once.
        assert unchained_rows() == []
        audit_seal()
        assert chain_verify()[1] is None
        assert not UnsealedEntry.objects.exists()
        other_number = set(ContactPhone.objects.filter(contact=subject).values_list("pk", flat=True))
    assert other_number == set()
    assert not default_storage.exists(voicemail.audio)  # never written back
    # Who took and who restored which backup is in the company's change log (public schema).
    entries = [
        e.changes_dict["backup"][1]
        for e in LogEntry.objects.get_for_object(acme).order_by("pk")
        if "backup" in e.changes_dict
    ]
    assert entries[-2].startswith("backup ")
    assert " taken " in entries[-2]
    assert entries[-1].startswith("restored in place from backup ")
    erased = _erased_ids(erasures)
    deleted = {"crm_contactphone": erased.pop("crm_contactphone")}
    _assert_back_except_erased(before, _rows("acme"), erased, deleted)


def test_restore_into_a_new_schema_keeps_the_erasure_and_copies_the_files(
    acme, acme_admin, people, tmp_path, django_capture_on_commit_callbacks
):
    subject, bystander, messages, voicemail = people
    file_columns = ("audio", "export_file")
    before = _rows("acme", without=file_columns)
    with tenant_context(acme):
        other_audio = dict(Voicemail.objects.exclude(pk=voicemail.pk).exclude(audio="").values_list("pk", "audio"))
    assert other_audio
    backup_take("acme", tmp_path / "acme.backup")
    erasures = subject_erase(acme, acme_admin, django_capture_on_commit_callbacks)
    with tenant_context(acme):
        Message.objects.filter(pk=messages[bystander.pk].pk).delete()

    try:
        output = _restore(tmp_path / "acme.backup", into_schema=FRESH)
        assert f"cloned the template into {FRESH}" in output
        connection.set_schema(FRESH)
        _assert_subject_erased(subject, voicemail)
        assert Message.objects.get(pk=messages[bystander.pk].pk).body == "Body of Bystander Backup"
        assert chain_verify()[1] is None
        assert unchained_rows() == []
        audit_seal()
        assert chain_verify()[1] is None
        assert not UnsealedEntry.objects.exists()
        # The new schema has its own copies of the files, which decrypt to the same audio.
        copies = dict(Voicemail.objects.exclude(audio="").values_list("pk", "audio"))
        assert set(copies) == set(other_audio)
        for pk, name in copies.items():
            assert name.startswith(f"audio/{FRESH}/")
            assert encrypted_file_read(name) == encrypted_file_read(other_audio[pk])
        connection.set_schema_to_public()
        erased = _erased_ids(erasures)
        deleted = {"crm_contactphone": erased.pop("crm_contactphone")}
        _assert_back_except_erased(before, _rows(FRESH, without=file_columns), erased, deleted)
    finally:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{FRESH}" CASCADE')
        # Every copy the restore wrote, even when an assertion above failed before naming them.
        for name in default_storage.listdir(f"audio/{FRESH}")[1] if default_storage.exists(f"audio/{FRESH}") else []:
            default_storage.delete(f"audio/{FRESH}/{name}")


def test_a_retention_purge_after_the_backup_is_applied_again(acme, people, tmp_path):
    subject, bystander, messages, _ = people
    old = messages[bystander.pk]
    with tenant_context(acme):
        Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=500))
    backup_take("acme", tmp_path / "acme.backup")
    with tenant_context(acme):
        run = retention_purge()
        assert run.report["purged"]["message bodies and answers"] >= 1
        assert Message.objects.get(pk=old.pk).body == ""
    assert ErasureRecord.objects.filter(company=acme, source="retention", object_ids__contains=[old.pk]).exists()

    _restore(tmp_path / "acme.backup", in_place=True, tenant="acme")
    with tenant_context(acme):
        purged = Message.objects.get(pk=old.pk)
        assert (purged.body, purged.purged_at is not None) == ("", True)
        assert Message.objects.get(pk=messages[subject.pk].pk).body == "Body of Subject Backup"


# ---- refusals: each one line, each changing nothing ------------------------------------------


def _refused(path, **options) -> str:
    with pytest.raises(CommandError) as refused:
        _restore(path, **options)
    message = str(refused.value)
    assert "\n" not in message
    return message


def _corrupt_body(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _cut_off(path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def _corrupt_header(path) -> None:
    path.write_bytes(path.read_bytes().replace(b'"name": "Acme', b'"name": "Acne', 1))


def _not_a_backup(path) -> None:
    path.write_bytes(b"PGDMP" + path.read_bytes()[5:])


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_corrupt_body, "the backup is corrupt: chunk 0 fails authentication"),
        (_cut_off, "the backup is corrupt: chunk 0 is cut off or malformed"),
        (_corrupt_header, "the backup is corrupt: chunk 0 does not belong to this header"),
        (_not_a_backup, "not a Vastaja tenant backup"),
    ],
)
def test_a_corrupt_backup_is_refused_and_changes_nothing(acme, people, tmp_path, damage, expected):
    path = tmp_path / "acme.backup"
    backup_take("acme", path)
    with tenant_context(acme):
        Contact.objects.filter(pk=people[1].pk).update(notes="changed after the backup")
    damage(path)
    before = _rows("acme")
    assert expected in _refused(path, in_place=True, tenant="acme")
    assert _rows("acme") == before
    assert _refused(path, into_schema=FRESH)
    assert not schema_exists(FRESH)


def test_a_corrupt_chunk_after_the_first_rolls_the_whole_restore_back(acme, people, tmp_path):
    # Small chunks, so the damage is met halfway through the tables, after rows were written.
    from operations.backups import archive

    path = tmp_path / "acme.backup"
    original = archive.CHUNK_BYTES
    archive.CHUNK_BYTES = 4096
    try:
        backup_take("acme", path)
    finally:
        archive.CHUNK_BYTES = original
    with tenant_context(acme):
        Contact.objects.filter(pk=people[1].pk).update(notes="changed after the backup")
    data = bytearray(path.read_bytes())
    data[-5000] ^= 0x01
    path.write_bytes(bytes(data))
    before = _rows("acme")
    assert "fails authentication" in _refused(path, in_place=True, tenant="acme")
    assert _rows("acme") == before


def test_a_backup_of_another_company_is_refused_in_place(acme, globex, people, tmp_path):
    path = tmp_path / "globex.backup"
    backup_take("globex", path)
    before_acme, before_globex = _rows("acme"), _rows("globex")
    message = _refused(path, in_place=True, tenant="acme")
    assert message == "the backup is of 'globex', not 'acme': refusing to restore one company's data over another's"
    assert _rows("acme") == before_acme
    assert _rows("globex") == before_globex


def test_in_place_needs_the_company_named(acme, tmp_path):
    path = tmp_path / "acme.backup"
    backup_take("acme", path)
    assert "--tenant" in _refused(path, in_place=True)


def test_a_backup_under_another_key_is_refused_and_a_rotated_key_still_opens_it(acme, people, tmp_path, settings):
    path = tmp_path / "acme.backup"
    settings.BACKUP_ENCRYPTION_KEY = "the-old-backup-key-0123456789"
    backup_take("acme", path)
    with tenant_context(acme):
        Contact.objects.filter(pk=people[1].pk).update(notes="changed after the backup")
    before = _rows("acme")

    settings.BACKUP_ENCRYPTION_KEY = "a-different-backup-key-9876543210"
    message = _refused(path, in_place=True, tenant="acme")
    assert message.startswith("the backup was encrypted with another key (key id ")
    assert _rows("acme") == before

    settings.BACKUP_ENCRYPTION_KEY = "a-different-backup-key-9876543210,the-old-backup-key-0123456789"
    _restore(path, in_place=True, tenant="acme")
    with tenant_context(acme):
        assert Contact.objects.get(pk=people[1].pk).notes == ""


def test_a_backup_from_another_migration_state_is_refused(acme, tmp_path):
    path = tmp_path / "acme.backup"
    backup_take("acme", path)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO acme.django_migrations (app, name, applied) VALUES ('crm', '9999_later', now())")
    before = _rows("acme")
    message = _refused(path, in_place=True, tenant="acme")
    assert message.startswith("the backup's migration state differs from schema acme (1 migration(s) newer than the")
    assert "crm.9999_later" in message
    assert _rows("acme") == before


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({}, "say where to restore: in place, or into a new schema"),
        ({"in_place": True, "into_schema": "acme_new", "tenant": "acme"}, "say where to restore"),
        ({"into_schema": "Bad-Name"}, "'Bad-Name' is not a valid schema name"),
        ({"into_schema": "globex"}, "schema 'globex' already exists: choose a new name"),
        ({"into_schema": "acme_new", "tenant": "globex"}, "the backup is of 'acme', not 'globex'"),
    ],
)
def test_a_restore_needs_one_place_to_go_and_a_new_schema_a_new_valid_name(acme, tmp_path, options, reason):
    from operations.backups.archive import BackupError
    from operations.backups.restore import tenant_restore

    path = tmp_path / "acme.backup"
    backup_take("acme", path)
    with open(path, "rb") as handle, pytest.raises(BackupError) as refused:
        tenant_restore(handle=handle, **options)
    assert reason in str(refused.value)
    assert not schema_exists("acme_new")
