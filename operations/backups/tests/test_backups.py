"""Backups and restores against the real database: a restore brings everything back except what
was erased after the backup, and a backup that is corrupt, foreign or under another key changes
nothing."""

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

from answering.models import Call, Line, Message, Voicemail
from audit.chain import chain_verify
from audit.dsr import dsr_erase, dsr_open
from audit.retention import retention_purge
from crm.models import Contact, ContactPhone
from crm.selectors import contact_find_by_phone
from crm.services import contact_create, contact_phone_add
from operations.backups.catalog import schema_tables
from operations.backups.models import ErasureRecord
from tenants.files import encrypted_file_read, encrypted_file_save

pytestmark = pytest.mark.django_db
SUBJECT_PHONE = "+37255591111"
SUBJECT_OTHER_PHONE = "+37255591112"
FRESH = "acme_restore_test"


@pytest.fixture
def people(acme):
    """A data subject with a call, a voicemail (audio file), a message and a second number; a
    bystander with a message."""
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        subject = contact_create(
            name="Subject Backup", phone_number=SUBJECT_PHONE, email="subject@backup.ee", actor=None
        )
        contact_phone_add(contact=subject, number=SUBJECT_OTHER_PHONE, actor=None)
        bystander = contact_create(name="Bystander Backup", phone_number="+37255592222", actor=None)
        messages = {}
        for contact, sid in ((subject, "CAbk1"), (bystander, "CAbk2")):
            call = Call.objects.create(
                line=line,
                telephony_sid=sid + "0" * 29,
                started_at=timezone.now(),
                caller_number=contact.phone_number,
                caller_name=contact.name,
                notes=f"Notes of {contact.name}",
                contact=contact,
            )
            messages[contact.pk] = Message.objects.create(
                line=line, call=call, contact=contact, body=f"Body of {contact.name}"
            )
        voicemail = Voicemail.objects.create(
            call=Call.objects.get(contact=subject),
            recording_sid="RE" + "b" * 32,
            audio=encrypted_file_save(folder="audio/acme", content=b"subject voice"),
            transcription="Subject's own words",
        )
        other = Voicemail.objects.create(
            call=Call.objects.get(contact=bystander),
            recording_sid="RE" + "c" * 32,
            audio=encrypted_file_save(folder="audio/acme", content=b"bystander voice"),
        )
    created = [voicemail.audio, other.audio]
    yield subject, bystander, messages, voicemail
    for name in created:
        default_storage.delete(name)


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


def _backup(slug: str, path) -> str:
    out = io.StringIO()
    call_command("backup_tenant", slug, output=str(path), stdout=out)
    return out.getvalue()


def _restore(path, **options) -> str:
    out = io.StringIO()
    call_command("restore_tenant", str(path), stdout=out, **options)
    return out.getvalue()


def _erase_subject(acme, acme_admin, django_capture_on_commit_callbacks) -> list[ErasureRecord]:
    with tenant_context(acme), django_capture_on_commit_callbacks(execute=True):
        request = dsr_open(kind="erasure", phone_number=SUBJECT_PHONE, actor=acme_admin)
        dsr_erase(request=request, actor=acme_admin)
    return list(ErasureRecord.objects.filter(company=acme, reference=f"request {request.pk}"))


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
    output = _backup("acme", tmp_path / "acme.backup")
    assert "crm_contact:" in output
    assert "done:" in output

    erasures = _erase_subject(acme, acme_admin, django_capture_on_commit_callbacks)
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
    _backup("acme", tmp_path / "acme.backup")
    erasures = _erase_subject(acme, acme_admin, django_capture_on_commit_callbacks)
    with tenant_context(acme):
        Message.objects.filter(pk=messages[bystander.pk].pk).delete()

    try:
        output = _restore(tmp_path / "acme.backup", into_schema=FRESH)
        assert f"cloned the template into {FRESH}" in output
        connection.set_schema(FRESH)
        _assert_subject_erased(subject, voicemail)
        assert Message.objects.get(pk=messages[bystander.pk].pk).body == "Body of Bystander Backup"
        assert chain_verify()[1] is None
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
    _backup("acme", tmp_path / "acme.backup")
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


def test_the_erasure_log_holds_no_personal_value(acme, acme_admin, people, django_capture_on_commit_callbacks):
    records = _erase_subject(acme, acme_admin, django_capture_on_commit_callbacks)
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
    _backup("acme", path)
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
        _backup("acme", path)
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
    _backup("globex", path)
    before_acme, before_globex = _rows("acme"), _rows("globex")
    message = _refused(path, in_place=True, tenant="acme")
    assert message == "the backup is of 'globex', not 'acme': refusing to restore one company's data over another's"
    assert _rows("acme") == before_acme
    assert _rows("globex") == before_globex


def test_in_place_needs_the_company_named(acme, tmp_path):
    path = tmp_path / "acme.backup"
    _backup("acme", path)
    assert "--tenant" in _refused(path, in_place=True)


def test_a_backup_under_another_key_is_refused_and_a_rotated_key_still_opens_it(acme, people, tmp_path, settings):
    path = tmp_path / "acme.backup"
    settings.BACKUP_ENCRYPTION_KEY = "the-old-backup-key-0123456789"
    _backup("acme", path)
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


def test_the_backup_holds_no_plaintext(acme, people, tmp_path):
    path = tmp_path / "acme.backup"
    _backup("acme", path)
    data = path.read_bytes()
    header_end = data.index(b"}") + 1
    assert b"crm_contact" in data[:header_end]  # the header names tables, never a row
    body = data[header_end:]
    # Columns stored in the clear in the database (a line's number, a file's name) are not in the
    # clear in the backup either.
    for plain in (b"+3726001001", b"audio/acme", b"Body of", b"Bystander Backup"):
        assert plain not in data
    assert len(body) > 10_000


def test_backup_refusals_are_one_line(tmp_path):
    with pytest.raises(CommandError, match=r"^there is no client company 'nosuch'$"):
        _backup("nosuch", tmp_path / "x.backup")
    with pytest.raises(CommandError, match=r"^there is no client company 'tenant_template'$"):
        _backup("tenant_template", tmp_path / "x.backup")
    (tmp_path / "exists.backup").write_bytes(b"")
    with pytest.raises(CommandError, match="already exists"):
        _backup("acme", tmp_path / "exists.backup")
    assert not (tmp_path / "x.backup").exists()
    assert not (tmp_path / "x.backup.partial").exists()


def test_a_backup_from_another_migration_state_is_refused(acme, tmp_path):
    path = tmp_path / "acme.backup"
    _backup("acme", path)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO acme.django_migrations (app, name, applied) VALUES ('crm', '9999_later', now())")
    before = _rows("acme")
    message = _refused(path, in_place=True, tenant="acme")
    assert message.startswith("the backup's migration state differs from schema acme (1 migration(s) newer than the")
    assert "crm.9999_later" in message
    assert _rows("acme") == before


def test_every_column_that_names_a_stored_file_is_declared():
    from django.apps import apps
    from django.conf import settings
    from django.db import models

    from tenants.files import stored_file_fields

    tenant_apps = {entry.split(".apps.")[0] for entry in settings.TENANT_APPS}
    declared = {(model, name) for model, names in stored_file_fields().items() for name in names}
    for config in apps.get_app_configs():
        if config.name not in tenant_apps:
            continue
        for model in config.get_models():
            for field in model._meta.get_fields():
                looks_like_a_file = field.name == "audio" or field.name.endswith("_file")
                if looks_like_a_file and isinstance(field, models.CharField):
                    assert (model, field.name) in declared, f"{model._meta.label}.{field.name}"
    assert declared
