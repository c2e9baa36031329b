"""Taking a backup: every table and every stored file its rows name, in one snapshot, described by
a header that names the company and its migration state; the file holds no plaintext, and a backup
that cannot be made is refused in one line, leaving no file behind."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Line, Voicemail
from operations.backups.archive import (
    DATA,
    END,
    FILE,
    FILE_END,
    SEQUENCES,
    TABLE,
    TABLE_END,
    BackupReader,
    payload_json,
)
from operations.backups.backup import backup_default_name, tenant_backup
from operations.backups.catalog import schema_migrations, schema_tables
from operations.backups.tests.helpers import backup_take

pytestmark = pytest.mark.django_db


def test_the_backup_holds_no_plaintext(acme, people, tmp_path):
    path = tmp_path / "acme.backup"
    backup_take("acme", path)
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
        backup_take("nosuch", tmp_path / "x.backup")
    with pytest.raises(CommandError, match=r"^there is no client company 'tenant_template'$"):
        backup_take("tenant_template", tmp_path / "x.backup")
    (tmp_path / "exists.backup").write_bytes(b"")
    with pytest.raises(CommandError, match="already exists"):
        backup_take("acme", tmp_path / "exists.backup")
    assert not (tmp_path / "x.backup").exists()
    assert not (tmp_path / "x.backup.partial").exists()


def test_a_backup_holds_every_table_and_file_and_says_which_file_was_missing(acme, people):
    _subject, _bystander, _messages, voicemail = people
    with tenant_context(acme):
        call = Call.objects.create(
            line=Line.objects.get(phone_number="+3726001001"),
            telephony_sid="CAbkmissing".ljust(34, "0"),
            started_at=timezone.now(),
        )
        Voicemail.objects.create(call=call, recording_sid="RE" + "d" * 32, audio="audio/acme/not-in-storage.enc")
    handle, lines = io.BytesIO(), []
    summary = tenant_backup(slug="acme", handle=handle, progress=lines.append)

    assert summary["missing_files"] == ["audio/acme/not-in-storage.enc"]
    assert any(line.startswith("  warning: audio/acme/not-in-storage.enc") for line in lines)
    handle.seek(0)
    reader = BackupReader(handle)
    assert reader.header["tenant"] == {"slug": "acme", "id": acme.pk, "name": acme.name}
    assert reader.header["migrations"] == schema_migrations("acme")
    assert reader.header["tables"] == sorted(schema_tables("acme"))
    tables, files, rows = [], [], 0
    for kind, payload in reader.records():
        if kind == TABLE:
            tables.append(payload_json(payload)["name"])
        elif kind == TABLE_END:
            rows += payload_json(payload)["rows"]
        elif kind == FILE:
            files.append(payload_json(payload)["name"])
        elif kind == END:
            end = payload_json(payload)
        else:
            assert kind in (DATA, SEQUENCES, FILE_END)
    assert sorted(tables) == reader.header["tables"]
    assert voicemail.audio in files
    assert "audio/acme/not-in-storage.enc" not in files
    assert (
        (end["rows"], end["files"], end["tables"])
        == (rows, len(files), len(tables))
        == (
            summary["rows"],
            summary["files"],
            summary["tables"],
        )
    )


def test_the_default_name_says_which_company_and_when_in_utc():
    assert re.fullmatch(r"acme-\d{8}T\d{6}Z\.vastaja-backup", backup_default_name("acme"))
