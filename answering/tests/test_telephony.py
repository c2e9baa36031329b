"""Telephony webhooks, from the side of whoever must not get through: unsigned, tampered and
replayed callbacks, unknown numbers, suspended companies, oversized audio."""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import urllib.parse

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from answering.models import BusinessHours, Call, Line, Recording, Voicemail
from answering.simulator import RecordingMediaServer, new_sid, sign, tone_wav
from crm.models import Contact
from tenants.files import encrypted_file_read
from tenants.services import client_suspend

pytestmark = pytest.mark.django_db
HOST = "acme.localhost"
RECEPTION = "+3726001001"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def post(path: str, params: dict, *, host: str = HOST, signature: str | None = None, sign_params: dict | None = None):
    url = f"http://{host}{path}"
    if signature is None:
        signature = sign(auth_token=settings.TWILIO_AUTH_TOKEN, url=url, params=sign_params or params)
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
    return Client(HTTP_HOST=host).post(
        path, urllib.parse.urlencode(params), content_type="application/x-www-form-urlencoded", **headers
    )


def inbound(call_sid: str | None = None, *, caller: str = "+37251234501", to: str = RECEPTION) -> dict:
    return {
        "CallSid": call_sid or new_sid("CA"),
        "From": caller,
        "To": to,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "AccountSid": "AC" + "0" * 32,
    }


@pytest.fixture
def open_all_day(acme):
    with tenant_context(acme):
        for weekday in range(7):
            BusinessHours.objects.create(
                line=Line.objects.get(phone_number=RECEPTION),
                weekday=weekday,
                opens=dt.time(0),
                closes=dt.time(23, 59, 59),
            )


def test_signed_inbound_call_in_hours_is_queued_and_recorded_with_its_caller(acme, open_all_day):
    params = inbound()
    response = post("/telephony/voice/", params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    assert 'waitUrlMethod="POST">agents-acme</Enqueue>' in response.content.decode()
    with tenant_context(acme):
        call = Call.objects.get(telephony_sid=params["CallSid"])
        assert call.caller_number == "+37251234501"
        assert call.contact == Contact.objects.get(phone_bidx=call.contact.phone_bidx)  # matched by blind index
        assert call.line.phone_number == RECEPTION


def test_unsigned_tampered_and_misaddressed_webhooks_are_403_and_store_nothing(acme, open_all_day):
    params = inbound()
    unsigned = post("/telephony/voice/", params, signature="")
    tampered = post("/telephony/voice/", {**params, "From": "+37255599999"}, sign_params=params)
    forged = sign(auth_token="not-the-token", url=f"http://{HOST}/telephony/voice/", params=params)
    wrong_key = post("/telephony/voice/", params, signature=forged)
    for response in (unsigned, tampered, wrong_key):
        assert response.status_code == 403
    with tenant_context(acme):
        assert not Call.objects.filter(telephony_sid=params["CallSid"]).exists()


def test_a_signature_for_another_company_does_not_open_this_one(acme, open_all_day):
    params = inbound()
    signature = sign(
        auth_token=settings.TWILIO_AUTH_TOKEN, url="http://globex.localhost/telephony/voice/", params=params
    )
    assert post("/telephony/voice/", params, signature=signature).status_code == 403


def test_a_replayed_callback_changes_nothing(acme, open_all_day):
    params = inbound()
    post("/telephony/voice/", params)
    status = {**params, "CallStatus": "completed", "CallDuration": "42"}
    assert post("/telephony/status/", status).status_code == 204
    with tenant_context(acme):
        first = Call.objects.get(telephony_sid=params["CallSid"])
    post("/telephony/voice/", params)
    post("/telephony/status/", {**status, "CallDuration": "99"})
    with tenant_context(acme):
        again = Call.objects.get(telephony_sid=params["CallSid"])
        assert Call.objects.filter(telephony_sid=params["CallSid"]).count() == 1
    assert (again.status, again.duration_seconds, again.ended_at) == ("completed", 42, first.ended_at)


def test_a_number_that_is_no_line_gets_polite_twiml_and_nothing_is_stored(acme):
    params = inbound(to="+3726009999")
    response = post("/telephony/voice/", params)
    assert response.status_code == 200
    assert "not in service" in response.content.decode()
    with tenant_context(acme):
        assert not Call.objects.filter(telephony_sid=params["CallSid"]).exists()


def test_a_suspended_companys_webhooks_get_403(globex):
    client_suspend(company=globex, reason="unpaid")
    assert post("/telephony/voice/", inbound(to="+3726002001"), host="globex.localhost").status_code == 403


def test_after_hours_voicemail_is_fetched_encrypted_stored_and_transcribed_once(acme, media_root):
    params = inbound()
    twiml = post("/telephony/voice/", params).content.decode()
    assert "<Record" in twiml
    assert 'recordingStatusCallback="http://acme.localhost/telephony/recording/"' in twiml
    audio = tone_wav(1.0)
    with RecordingMediaServer(account_sid=settings.TWILIO_ACCOUNT_SID, auth_token=settings.TWILIO_AUTH_TOKEN) as media:
        sid, url = media.add(audio)
        callback = {
            **params,
            "RecordingSid": sid,
            "RecordingUrl": url,
            "RecordingStatus": "completed",
            "RecordingDuration": "1",
        }
        assert post("/telephony/recording/", callback).status_code == 204
        assert post("/telephony/recording/", callback).status_code == 204  # replay
    transcript = {
        **params,
        "RecordingSid": sid,
        "TranscriptionText": "Please call me about my crown",
        "TranscriptionStatus": "completed",
    }
    assert post("/telephony/transcription/", transcript).status_code == 204

    with tenant_context(acme):
        voicemail = Voicemail.objects.get(recording_sid=sid)
        assert Voicemail.objects.filter(call__telephony_sid=params["CallSid"]).count() == 1
        assert voicemail.transcription == "Please call me about my crown"
        assert encrypted_file_read(voicemail.audio) == audio
        with connection.cursor() as cursor:
            cursor.execute("SELECT row_to_json(v)::text FROM answering_voicemail v")
            assert "crown" not in " ".join(row[0] for row in cursor.fetchall())
    on_disk = b"".join(
        pathlib.Path(root, name).read_bytes() for root, _, files in os.walk(media_root) for name in files
    )
    assert on_disk
    assert b"RIFF" not in on_disk  # no WAV header: the audio is never on disk in the clear


def test_oversized_audio_is_refused_before_anything_is_stored(acme, settings, media_root):
    settings.AUDIO_MAX_BYTES = 1000
    params = inbound()
    post("/telephony/voice/", params)
    with RecordingMediaServer(account_sid=settings.TWILIO_ACCOUNT_SID, auth_token=settings.TWILIO_AUTH_TOKEN) as media:
        sid, url = media.add(tone_wav(1.0))
        response = post(
            "/telephony/recording/",
            {**params, "RecordingSid": sid, "RecordingUrl": url, "RecordingStatus": "completed"},
        )
    assert response.status_code == 400
    assert "larger than 1,000 bytes" in response.json()["detail"]
    with tenant_context(acme):
        assert not Voicemail.objects.filter(recording_sid=sid).exists()
    assert not any(files for _, _, files in os.walk(media_root))


def test_ask_consent_records_the_callers_answer(acme, open_all_day):
    with tenant_context(acme):
        Line.objects.filter(phone_number=RECEPTION).update(recording_policy="ask_consent")
    params = inbound()
    twiml = post("/telephony/voice/", params).content.decode()
    assert "<Gather" in twiml
    assert "Press 1" in twiml
    consent = post("/telephony/consent/", {**params, "Digits": "1"})
    assert "<Enqueue " in consent.content.decode()
    with tenant_context(acme):
        assert Call.objects.get(telephony_sid=params["CallSid"]).recording_consent == "given"


def test_a_recording_of_a_consented_call_keeps_the_evidence(acme, open_all_day):
    with tenant_context(acme):
        Line.objects.filter(phone_number=RECEPTION).update(recording_policy="announce")
    params = inbound()
    assert "may be recorded" in post("/telephony/voice/", params).content.decode()
    with RecordingMediaServer(account_sid=settings.TWILIO_ACCOUNT_SID, auth_token=settings.TWILIO_AUTH_TOKEN) as media:
        sid, url = media.add(tone_wav(0.5))
        post(
            "/telephony/recording/",
            {**params, "RecordingSid": sid, "RecordingUrl": url, "RecordingStatus": "completed"},
        )
    with tenant_context(acme):
        recording = Recording.objects.get(recording_sid=sid)
        assert recording.consent_evidence == "Recording announced"


def test_after_hours_forward_dials_whoever_is_on_call(globex):
    with tenant_context(globex):
        Line.objects.filter(phone_number="+3726002001").update(after_hours="forward_oncall")
        from django.utils import timezone

        from scheduling.selectors import oncall_for_line

        first = oncall_for_line(line=Line.objects.get(phone_number="+3726002001"), at=timezone.now())
    twiml = post("/telephony/voice/", inbound(to="+3726002001"), host="globex.localhost").content.decode()
    if first:
        assert f'<Dial timeout="25">{first[0].phone_number}</Dial>' in twiml
    else:  # today is the demo rota's uncovered day: voicemail instead
        assert "<Record" in twiml


def left_voicemail(company_host: str, to: str) -> str:
    params = inbound(to=to)
    post("/telephony/voice/", params, host=company_host)
    with RecordingMediaServer(account_sid=settings.TWILIO_ACCOUNT_SID, auth_token=settings.TWILIO_AUTH_TOKEN) as media:
        sid, url = media.add(tone_wav(0.5))
        post(
            "/telephony/recording/",
            {**params, "RecordingSid": sid, "RecordingUrl": url, "RecordingStatus": "completed"},
            host=company_host,
        )
    return sid


def test_playback_streams_through_the_gates_and_every_play_is_logged(acme, admin_for, agent1, agent2):
    from answering.models import Listen

    sid = left_voicemail(HOST, RECEPTION)
    with tenant_context(acme):
        voicemail = Voicemail.objects.get(recording_sid=sid)
    url = f"/admin/answering/voicemail/{voicemail.pk}/play/"
    played = admin_for(agent1, "acme").get(url)
    assert played.status_code == 200
    assert played.content.startswith(b"RIFF")
    with tenant_context(acme):
        assert Listen.objects.filter(voicemail=voicemail, user=agent1).count() == 1

    with tenant_context(acme):
        Line.objects.filter(phone_number="+3726001002").update(after_hours="voicemail")
    other = left_voicemail(HOST, "+3726001002")  # agent2 holds no grant on this line
    with tenant_context(acme):
        hidden = Voicemail.objects.get(recording_sid=other)
    assert admin_for(agent2, "acme").get(f"/admin/answering/voicemail/{hidden.pk}/play/").status_code == 404
    with tenant_context(acme):
        assert not Listen.objects.filter(voicemail=hidden).exists()


def test_without_a_voice_grant_there_is_nothing_to_play(globex, admin_for, agent1):
    from answering.models import Listen

    sid = left_voicemail("globex.localhost", "+3726002001")
    with tenant_context(globex):
        voicemail = Voicemail.objects.get(recording_sid=sid)
    client = admin_for(agent1, "globex")  # globex's DPA grants names and content, not voice
    assert client.get(f"/admin/answering/voicemail/{voicemail.pk}/play/").status_code == 404
    listing = client.get("/admin/answering/voicemail/").content.decode()
    assert "restricted by DPA" in listing
    assert "<audio" not in listing
    with tenant_context(globex):
        assert not Listen.objects.filter(voicemail=voicemail).exists()


def _inbound_queries(params: dict) -> list[str]:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert post("/telephony/voice/", params).status_code == 200
    # Left out: the refills of the per-process key cache (tenants/keys.py, KEY_CACHE_SECONDS), which
    # come and go with the clock, not with the call.
    key_cache = ('FROM "tenants_clientcompany" WHERE', 'FROM "tenants_companykey"')
    return [query["sql"] for query in captured.captured_queries if not any(k in query["sql"] for k in key_cache)]


def test_an_inbound_call_costs_the_same_queries_whoever_calls_and_however_many_contacts(acme, open_all_day):
    """The caller's blind-index lookup and the line's lookup ride in the call's own INSERT: a
    known caller, an unknown one, and a company with hundreds more contacts cost the same queries,
    and none of them reads the contacts on its own."""
    from crm.services import contact_create

    known = _inbound_queries(inbound(caller="+37251234501"))
    stranger = inbound(caller="+37259999999")
    unknown = _inbound_queries(stranger)
    with tenant_context(acme):
        for i in range(300):
            contact_create(name=f"Caller {i}", phone_number=f"+37255{i:06d}", actor=None)
    caller_123 = inbound(caller="+37255000123")
    many = _inbound_queries(caller_123)
    assert len(known) == len(unknown) == len(many), "\n".join(many)
    for queries in (known, unknown, many):
        assert not [sql for sql in queries if sql.lstrip().startswith("SELECT") and '"crm_contact"' in sql]
        assert not [sql for sql in queries if sql.lstrip().startswith("SELECT") and "phone_number" in sql]
        assert len([sql for sql in queries if "INSERT INTO answering_call" in sql]) == 1
    with tenant_context(acme):
        assert Call.objects.get(telephony_sid=caller_123["CallSid"]).contact.name == "Caller 123"
        assert Call.objects.get(telephony_sid=stranger["CallSid"]).contact is None


def test_a_replayed_inbound_call_keeps_its_first_row_and_its_contact(acme, open_all_day):
    params = inbound(caller="+37251234501")
    first = post("/telephony/voice/", params)
    again = post("/telephony/voice/", params)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    with tenant_context(acme):
        call = Call.objects.get(telephony_sid=params["CallSid"])
        assert call.contact is not None
        assert Call.objects.filter(telephony_sid=params["CallSid"]).count() == 1


def test_a_caller_is_matched_only_among_this_companys_contacts(acme, globex, open_all_day):
    """The probe runs on the company's own schema: a number that is a contact of another company
    only is an unknown caller here."""
    from crm.services import contact_create

    with tenant_context(globex):
        contact_create(name="Globex only", phone_number="+37258888888", actor=None)
    params = inbound(caller="+37258888888")
    assert post("/telephony/voice/", params).status_code == 200
    with tenant_context(acme):
        assert Call.objects.get(telephony_sid=params["CallSid"]).contact is None
