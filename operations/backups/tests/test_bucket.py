"""Backups and restores with the files in an S3 bucket (moto's server on loopback, read directly):
a backup carries the company's objects, a restore puts them back as they were, and a data-subject
erasure deletes the subject's object from the bucket, which no restore writes back."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import tenant_context

from answering.models import Voicemail
from operations.backups.tests.helpers import backup_take, subject_erase
from tenants.files import encrypted_file_read

pytestmark = pytest.mark.django_db
FRESH = "acme_bucket_test"


def _restore(path, **options) -> str:
    out = io.StringIO()
    call_command("restore_tenant", str(path), stdout=out, **options)
    return out.getvalue()


def _acme_audio() -> dict[int, str]:
    return dict(Voicemail.objects.exclude(audio="").values_list("pk", "audio"))


def test_a_restore_in_place_puts_the_backed_up_objects_back_in_the_bucket(acme, s3_bucket, people, tmp_path):
    _, _, _, voicemail = people
    with tenant_context(acme):
        audio = {name for name in _acme_audio().values() if name in s3_bucket.names()}
    assert voicemail.audio in audio
    assert len(audio) == 2  # the subject's and the bystander's, both in the bucket
    stored = {name: s3_bucket.read(name) for name in audio}
    output = backup_take("acme", tmp_path / "acme.backup")
    assert "done:" in output

    for name in audio:  # lost from the bucket after the backup
        s3_bucket.remove(name)
    assert not audio & s3_bucket.names()
    _restore(tmp_path / "acme.backup", in_place=True, tenant="acme")

    assert audio <= s3_bucket.names()
    assert {name: s3_bucket.read(name) for name in audio} == stored  # the same ciphertext, byte for byte
    with tenant_context(acme):
        assert encrypted_file_read(voicemail.audio) == b"subject voice"


def test_an_erasure_deletes_the_subjects_object_from_the_bucket_and_no_restore_writes_it_back(
    acme, acme_admin, s3_bucket, people, tmp_path, django_capture_on_commit_callbacks
):
    _, _, _, voicemail = people
    with tenant_context(acme):
        bystander_audio = Voicemail.objects.get(recording_sid="RE" + "c" * 32).audio
    backup_take("acme", tmp_path / "acme.backup")

    subject_erase(acme, acme_admin, django_capture_on_commit_callbacks)
    assert voicemail.audio not in s3_bucket.names()
    assert bystander_audio in s3_bucket.names()  # the bystander's voice is not the subject's

    _restore(tmp_path / "acme.backup", in_place=True, tenant="acme")
    assert voicemail.audio not in s3_bucket.names()
    assert bystander_audio in s3_bucket.names()
    try:
        _restore(tmp_path / "acme.backup", into_schema=FRESH)
        connection.set_schema(FRESH)
        copy = Voicemail.objects.get(recording_sid="RE" + "c" * 32).audio
        assert Voicemail.objects.get(pk=voicemail.pk).audio == ""
        connection.set_schema_to_public()
        # The new schema gets its own copy, in the bucket under its folder; the erased subject's
        # voice is nowhere in it.
        assert s3_bucket.names(f"audio/{FRESH}/") == {copy}
        assert s3_bucket.read(copy) == s3_bucket.read(bystander_audio)
        assert encrypted_file_read(copy) == b"bystander voice"
    finally:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{FRESH}" CASCADE')
