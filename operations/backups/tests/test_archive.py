"""The backup file's format, without a database: what is written reads back record for record, and
every way a file can be damaged, reordered, cut off or made under another key is refused with a
one-line reason."""

from __future__ import annotations

import io
import struct

import pytest

from operations.backups import archive
from operations.backups.archive import (
    DATA,
    END,
    FORMAT_VERSION,
    MAGIC,
    TABLE,
    BackupError,
    BackupReader,
    BackupWriter,
    current_key_id,
    payload_json,
    read_header,
)

HEADER = {
    "format": "vastaja-tenant-backup",
    "version": FORMAT_VERSION,
    "backup_id": "b" * 32,
    "tenant": {"slug": "acme", "id": 1, "name": "Acme"},
    "schema": "acme",
    "created_at": "2026-01-01T00:00:00+00:00",
    "snapshot": "1:1:",
    "migrations": [],
}
RECORDS = [(TABLE, {"name": "crm_contact"}), (DATA, b"1\tsecret row\n" * 200), (END, {"rows": 200})]


@pytest.fixture(autouse=True)
def backup_key(settings):
    settings.BACKUP_ENCRYPTION_KEY = "the-current-backup-key-0123456789"


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(archive, "CHUNK_BYTES", 256)


def _write(records=RECORDS, header=HEADER) -> bytes:
    handle = io.BytesIO()
    writer = BackupWriter(handle, header)
    for kind, payload in records:
        writer.record(kind, payload)
    writer.close()
    assert writer.bytes_written == len(handle.getvalue())
    return handle.getvalue()


def _read(data: bytes) -> list[tuple[bytes, bytes]]:
    return list(BackupReader(io.BytesIO(data)).records())


def _split(data: bytes) -> tuple[bytes, list[bytes]]:
    """(magic and header, [each chunk with its length prefix])."""
    start = len(MAGIC) + 4 + struct.unpack(">I", data[len(MAGIC) : len(MAGIC) + 4])[0]
    head, rest, chunks = data[:start], data[start:], []
    while rest:
        end = 4 + struct.unpack(">I", rest[:4])[0]
        chunks.append(rest[:end])
        rest = rest[end:]
    return head, chunks


def _refusal(data: bytes) -> str:
    with pytest.raises(BackupError) as refused:
        _read(data)
    assert "\n" not in str(refused.value)
    return str(refused.value)


def test_what_is_written_reads_back_record_for_record(small_chunks):
    data = _write()
    assert len(_split(data)[1]) > 3  # the body spans several chunks
    back = _read(data)
    assert [kind for kind, _payload in back] == [TABLE, DATA, END]
    assert payload_json(back[0][1]) == {"name": "crm_contact"}
    assert back[1][1] == RECORDS[1][1]
    assert payload_json(back[2][1]) == {"rows": 200}
    header, _digest = read_header(io.BytesIO(data))
    assert header == {**HEADER, "key_id": current_key_id()}


def test_the_body_is_not_in_the_clear():
    assert b"secret row" not in _write()


def _swapped(head, chunks):
    return head + chunks[1] + chunks[0] + b"".join(chunks[2:])


def _last_chunk_lost(head, chunks):
    return head + b"".join(chunks[:-1])


def _padded(head, chunks):
    return head + b"".join(chunks) + b"x"


def _first_chunk_cut(head, chunks):
    return head + chunks[0][:-3]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_swapped, "chunk 1 found where chunk 0 belongs"),
        (_last_chunk_lost, "it ends before its last chunk (cut off?)"),
        (_padded, "there are bytes after its last chunk"),
        (_first_chunk_cut, "chunk 0 is cut off or malformed"),
    ],
)
def test_a_reordered_cut_off_or_padded_body_is_refused(small_chunks, damage, reason):
    head, chunks = _split(_write())
    assert reason in _refusal(damage(head, chunks))


def test_chunks_of_another_backup_do_not_belong_to_this_header(small_chunks):
    head, _chunks = _split(_write())
    _other_head, other_chunks = _split(_write(header={**HEADER, "backup_id": "c" * 32}))
    assert "chunk 0 does not belong to this header" in _refusal(head + b"".join(other_chunks))


def test_a_body_without_its_end_record_is_refused():
    assert "a record is cut off" in _refusal(_write(records=RECORDS[:2]))


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({**HEADER, "version": FORMAT_VERSION + 1}, f"format version {FORMAT_VERSION + 1}; this release reads"),
        ({**HEADER, "format": "something-else"}, "its header is not a backup header"),
        ({key: value for key, value in HEADER.items() if key != "snapshot"}, "its header has no 'snapshot'"),
    ],
)
def test_a_header_this_release_cannot_use_is_refused_before_any_decryption(header, reason):
    assert reason in _refusal(_write(header=header))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PGDMP" + b"\0" * 40, "not a Vastaja tenant backup"),
        (MAGIC + struct.pack(">I", 0), "its header is cut off or malformed"),
        (MAGIC + struct.pack(">I", 5) + b"{nope", "its header is not readable"),
    ],
)
def test_a_file_that_is_not_a_backup_is_refused(data, reason):
    assert reason in _refusal(data)


def test_a_rotated_key_still_opens_old_backups_and_a_missing_one_is_named(settings):
    old = _write()
    old_id = read_header(io.BytesIO(old))[0]["key_id"]
    settings.BACKUP_ENCRYPTION_KEY = "a-newer-backup-key-9876543210, the-current-backup-key-0123456789"
    assert current_key_id() != old_id  # new backups use the first key
    assert [kind for kind, _payload in _read(old)] == [TABLE, DATA, END]
    settings.BACKUP_ENCRYPTION_KEY = "a-newer-backup-key-9876543210"
    assert f"encrypted with another key (key id {old_id};" in _refusal(old)


def test_an_empty_key_setting_is_refused(settings):
    settings.BACKUP_ENCRYPTION_KEY = " , "
    with pytest.raises(BackupError, match="BACKUP_ENCRYPTION_KEY is empty"):
        current_key_id()


def test_an_unreadable_record_is_refused():
    with pytest.raises(BackupError, match="a record is not readable"):
        payload_json(b"\xff not json")
