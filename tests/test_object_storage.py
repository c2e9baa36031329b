"""Audio in object storage, against a real S3-protocol server on loopback (tests/object_storage.py):
the bucket holds only ciphertext under the company's key, every channel plays from it, a lost,
altered or unreachable object is a clear answer and never a 500, and every erasure (retention
purge, offboarding) deletes the object from the bucket itself. The bucket is read directly,
around the application, so what is asserted is what really lies there."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Line, Listen, Recording, Voicemail
from answering.simulator import RecordingMediaServer, new_sid, tone_wav
from answering.tests.test_telephony import RECEPTION, inbound, left_voicemail, post
from audit.dsr import dsr_erase, dsr_open
from audit.retention import retention_purge
from config.storage import s3_storages
from crm.services import contact_create
from operations.backups.erasures import TASK_ERASED_FILES_DELETE
from operations.outbox.models import OutboxEntry
from operations.outbox.services import outbox_relay
from tenants import keys
from tenants.files import encrypted_file_read, encrypted_file_save
from tenants.services import client_offboard
from tests.object_storage import ACCESS_KEY, REGION, SECRET_KEY, free_port

pytestmark = pytest.mark.django_db
AUDIO = tone_wav(0.3)
SUBJECT_PHONE = "+37255594444"


def _voicemail(company, *, phone_number: str, audio: bytes = AUDIO, contact=None) -> Voicemail:
    with tenant_context(company):
        line = Line.objects.get(phone_number=phone_number)
        call = Call.objects.create(
            line=line, telephony_sid=new_sid("CA"), started_at=timezone.now(), status="missed", contact=contact
        )
        return Voicemail.objects.create(
            call=call,
            recording_sid=new_sid("RE"),
            audio=encrypted_file_save(folder=f"audio/{company.schema_name}", content=audio),
            audio_bytes=len(audio),
        )


def _plays(company, voicemail) -> int:
    with tenant_context(company):
        return Listen.objects.filter(voicemail=voicemail).count()


@pytest.fixture
def channels(admin_for, client_for, agent1, acme_admin):
    """Each channel's play of an acme voicemail: the provider's admin (agent1, granted acme's
    lines), the client's portal and its API (acme's admin)."""
    admin = admin_for(agent1, "acme")
    client = client_for("acme.localhost", acme_admin)
    return {
        "admin": lambda pk: admin.get(f"/admin/answering/voicemail/{pk}/play/"),
        "portal": lambda pk: client.get(f"/voicemail/{pk}/audio/"),
        "api": lambda pk: client.get(f"/api/v1/voicemail/{pk}/audio/"),
    }


def test_a_voicemail_from_the_provider_lies_in_the_bucket_as_ciphertext_only(acme, s3_bucket, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    sid = left_voicemail("acme.localhost", RECEPTION)
    with tenant_context(acme):
        voicemail = Voicemail.objects.get(recording_sid=sid)
    audio = tone_wav(0.5)  # what the provider's media server served

    assert s3_bucket.names() == {voicemail.audio}
    assert voicemail.audio.startswith("audio/acme/")
    stored = s3_bucket.read(voicemail.audio)
    assert b"RIFF" not in stored
    assert b"WAVE" not in stored
    assert audio[44:108] not in stored  # no stretch of the samples either
    assert keys.file_header_of(stored) == (acme.pk, keys.active_version(acme.pk, "file"))
    with tenant_context(acme):
        assert encrypted_file_read(voicemail.audio) == audio
    assert not any(tmp_path.rglob("*.enc"))  # nothing went to the local disk


def test_every_channel_plays_the_voicemail_from_the_bucket_decrypted(acme, s3_bucket, channels):
    voicemail = _voicemail(acme, phone_number=RECEPTION)
    for name, play in channels.items():
        response = play(voicemail.pk)
        assert response.status_code == 200, name
        assert response["Content-Type"] == "audio/wav", name
        assert response.content == AUDIO, name
    assert _plays(acme, voicemail) == 3


def test_nobody_outside_the_grants_plays_an_object_that_is_in_the_bucket(
    acme, s3_bucket, admin_for, client_for, agent2, globex_admin
):
    voicemail = _voicemail(acme, phone_number="+3726001002")  # agent2 holds no grant on this line
    assert voicemail.audio in s3_bucket.names()
    refused = [
        admin_for(agent2, "acme").get(f"/admin/answering/voicemail/{voicemail.pk}/play/"),
        client_for("acme.localhost", globex_admin).get(f"/voicemail/{voicemail.pk}/audio/"),
        client_for("globex.localhost", globex_admin).get(f"/voicemail/{voicemail.pk}/audio/"),
    ]
    assert [r.status_code for r in refused] == [404, 404, 404]
    assert all(AUDIO not in r.content for r in refused)
    assert _plays(acme, voicemail) == 0


def test_an_object_gone_from_the_bucket_is_a_clear_error_on_every_channel_and_no_play(
    acme, s3_bucket, channels, admin_for, agent2
):
    voicemail = _voicemail(acme, phone_number=RECEPTION)
    s3_bucket.remove(voicemail.audio)

    answers = {name: play(voicemail.pk) for name, play in channels.items()}
    assert {name: r.status_code for name, r in answers.items()} == {"admin": 404, "portal": 404, "api": 404}
    for name in ("admin", "portal"):
        assert answers[name].content.decode() == "This voicemail's audio is missing from storage.", name
    assert json.loads(answers["api"].content) == {
        "detail": "This voicemail's audio is missing from storage.",
        "code": "audio_missing",
    }
    assert _plays(acme, voicemail) == 0
    # Whoever may not play it learns nothing of its object: the same answer as for no voicemail.
    hidden = _voicemail(acme, phone_number="+3726001002")
    s3_bucket.remove(hidden.audio)
    outsider = admin_for(agent2, "acme").get(f"/admin/answering/voicemail/{hidden.pk}/play/")
    assert outsider.status_code == 404
    assert b"storage" not in outsider.content


def test_an_altered_object_is_refused_in_a_clear_answer(acme, s3_bucket, channels):
    voicemail = _voicemail(acme, phone_number=RECEPTION)
    stored = bytearray(s3_bucket.read(voicemail.audio))
    stored[-1] ^= 0x01
    s3_bucket.put(voicemail.audio, bytes(stored))

    answer = channels["api"](voicemail.pk)
    assert answer.status_code == 409
    assert json.loads(answer.content)["code"] == "audio_unreadable"
    assert channels["portal"](voicemail.pk).content.decode() == "This voicemail's audio cannot be decrypted."
    assert _plays(acme, voicemail) == 0


def _bucket_down(settings, bucket) -> None:
    """The same bucket's settings on a port where nothing listens: the storage is down."""
    settings.STORAGES = s3_storages(
        bucket=bucket.name,
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region=REGION,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        timeout_seconds=1,
    )


def test_a_bucket_that_does_not_answer_is_a_503_with_retry_after(acme, s3_bucket, channels, settings):
    voicemail = _voicemail(acme, phone_number=RECEPTION)
    _bucket_down(settings, s3_bucket)  # the voicemail's row is fine
    for name in ("portal", "api"):
        answer = channels[name](voicemail.pk)
        assert answer.status_code == 503, name
        assert answer["Retry-After"] == "30", name
    assert json.loads(channels["api"](voicemail.pk).content)["code"] == "storage_unavailable"
    assert _plays(acme, voicemail) == 0


def test_a_recording_callback_while_the_bucket_is_down_is_a_503_and_its_retry_stores_the_voicemail_once(
    acme, s3_bucket, settings
):
    working = settings.STORAGES
    params = inbound()
    post("/telephony/voice/", params)
    audio = tone_wav(0.4)
    with RecordingMediaServer(account_sid=settings.TWILIO_ACCOUNT_SID, auth_token=settings.TWILIO_AUTH_TOKEN) as media:
        sid, url = media.add(audio)
        callback = {**params, "RecordingSid": sid, "RecordingUrl": url, "RecordingStatus": "completed"}
        _bucket_down(settings, s3_bucket)
        refused = post("/telephony/recording/", callback)
        assert refused.status_code == 503  # not a 204: the provider must send it again
        assert refused["Retry-After"] == "30"
        assert json.loads(refused.content)["code"] == "storage_unavailable"
        with tenant_context(acme):
            assert not Voicemail.objects.filter(recording_sid=sid).exists()

        settings.STORAGES = working
        assert post("/telephony/recording/", callback).status_code == 204
        assert post("/telephony/recording/", callback).status_code == 204  # a second retry stores nothing more
    with tenant_context(acme):
        voicemail = Voicemail.objects.get(recording_sid=sid)
        assert encrypted_file_read(voicemail.audio) == audio
    assert s3_bucket.names() == {voicemail.audio}


def test_a_retention_purge_deletes_the_recording_from_the_bucket_and_keeps_the_fresh_one(
    acme, s3_bucket, django_capture_on_commit_callbacks
):
    with tenant_context(acme):
        line = Line.objects.get(phone_number=RECEPTION)
        names = {}
        for age in ("old", "fresh"):
            call = Call.objects.create(line=line, telephony_sid=new_sid("CA"), started_at=timezone.now())
            names[age] = Recording.objects.create(
                call=call,
                recording_sid=new_sid("RE"),
                audio=encrypted_file_save(folder="audio/acme", content=AUDIO),
                consent_evidence="announced",
            ).audio
        # acme's DPA keeps voice 90 days: one recording is past it.
        Recording.objects.filter(audio=names["old"]).update(created_at=timezone.now() - dt.timedelta(days=120))
        assert s3_bucket.names() == set(names.values())

        with django_capture_on_commit_callbacks(execute=True):
            run = retention_purge()
        assert run.report["purged"]["call recordings"] >= 1
        assert not Recording.objects.filter(audio=names["old"]).exists()  # the row no longer names it
        assert Recording.objects.filter(audio=names["fresh"]).exists()
    assert s3_bucket.names() == {names["fresh"]}


def test_an_erasure_while_the_bucket_is_down_deletes_the_voice_once_the_bucket_is_back(
    acme, acme_admin, s3_bucket, settings, django_capture_on_commit_callbacks, woken, eager_tasks
):
    with tenant_context(acme):
        subject = contact_create(name="Erased Later", phone_number=SUBJECT_PHONE, actor=None)
    voicemail = _voicemail(acme, phone_number=RECEPTION, contact=subject)
    bystander = _voicemail(acme, phone_number=RECEPTION)
    working = settings.STORAGES

    _bucket_down(settings, s3_bucket)
    with tenant_context(acme), django_capture_on_commit_callbacks(execute=True):
        request = dsr_open(kind="erasure", phone_number=SUBJECT_PHONE, actor=acme_admin)
        dsr_erase(request=request, actor=acme_admin)  # commits: the erasure does not wait for the bucket
    assert voicemail.audio in s3_bucket.names()  # the bucket was down at the commit
    with tenant_context(acme):
        assert Voicemail.objects.get(pk=voicemail.pk).audio == ""
        pending = OutboxEntry.objects.get(task=TASK_ERASED_FILES_DELETE, done_at__isnull=True)
        assert pending.args == [voicemail.audio]  # a random storage name, nothing personal

    settings.STORAGES = working
    with tenant_context(acme):
        assert outbox_relay() == 1  # the relay's next run (beat, or the next wake-up)
        pending.refresh_from_db()
        assert pending.done_at is not None
    assert s3_bucket.names() == {bystander.audio}


def test_an_access_export_lies_in_the_bucket_encrypted_and_once_gone_is_a_404_not_a_500(
    acme, acme_admin, s3_bucket, client_for
):
    with tenant_context(acme):
        subject = contact_create(name="Exported Person", phone_number=SUBJECT_PHONE, actor=None)
    _voicemail(acme, phone_number=RECEPTION, contact=subject)
    client = client_for("acme.localhost", acme_admin)
    raised = {"kind": "access", "phone_number": SUBJECT_PHONE}
    access = client.post("/api/v1/data-subject-requests/", raised, content_type="application/json")
    assert access.status_code == 201, access.content
    pk = access.json()["id"]
    exports = s3_bucket.names("dsr/acme/")
    assert len(exports) == 1
    stored = s3_bucket.read(exports.pop())
    assert not stored.startswith(b"PK")  # no ZIP in the clear
    assert b"Exported Person" not in stored
    downloaded = client.get(f"/api/v1/data-subject-requests/{pk}/export/")
    assert downloaded.status_code == 200
    assert downloaded.content.startswith(b"PK")
    assert client.get(f"/data-requests/{pk}/export/").status_code == 200

    for name in s3_bucket.names("dsr/acme/"):
        s3_bucket.remove(name)
    assert client.get(f"/api/v1/data-subject-requests/{pk}/export/").status_code == 404
    assert client.get(f"/data-requests/{pk}/export/").status_code == 404


def test_offboarding_deletes_the_companys_objects_from_the_bucket_and_no_other_companys(
    acme, initech, s3_bucket, django_capture_on_commit_callbacks
):
    kept = _voicemail(acme, phone_number=RECEPTION)
    with tenant_context(initech):
        line = Line.objects.order_by("pk").first()
    gone = _voicemail(initech, phone_number=line.phone_number)
    with connection.cursor() as cursor:
        # PostgreSQL drops no table with deferred checks pending: run them now, as a commit would.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    # Objects no row names: one a crash left in initech's folder, and a restored check schema's copy.
    s3_bucket.put("audio/initech/0123456789abcdef.enc", b"left by a crash")
    s3_bucket.put("dsr/initech/0123456789abcdef.enc", b"an export")
    s3_bucket.put("audio/initech_check/0123456789abcdef.enc", b"another schema's copy")
    before = s3_bucket.names()
    assert {kept.audio, gone.audio} <= before

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_offboard(company=initech, reason="contract ended")
    assert s3_bucket.names() == before  # not before the commit: a rollback could not bring them back
    for callback in callbacks:
        callback()
    assert s3_bucket.names() == {kept.audio, "audio/initech_check/0123456789abcdef.enc"}
