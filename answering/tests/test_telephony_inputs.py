"""Signed telephony webhooks whose parameters no row could hold are refused with a 400 that names
the parameter, logged, before anything is fetched or written: no row and no file."""

from __future__ import annotations

import logging
import os
import urllib.parse

import pytest
from django.conf import settings
from django.test import Client
from django_tenants.utils import tenant_context

from answering.models import Call, Recording, Voicemail
from answering.simulator import RecordingMediaServer, new_sid, sign, tone_wav

pytestmark = pytest.mark.django_db
HOST = "acme.localhost"
NUL = "\x00"


def post(path: str, params: dict, *, signature: str | None = None):
    """A webhook signed as the provider signs it (over the full URL, query included)."""
    if signature is None:
        signature = sign(auth_token=settings.TWILIO_AUTH_TOKEN, url=f"http://{HOST}{path}", params=params)
    return Client(HTTP_HOST=HOST).post(
        path,
        urllib.parse.urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def inbound(call_sid: str | None = None) -> dict:
    return {
        "CallSid": call_sid or new_sid("CA"),
        "From": "+37251234501",
        "To": "+3726001001",
        "CallStatus": "ringing",
        "Direction": "inbound",
        "AccountSid": "AC" + "0" * 32,
    }


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def media():
    with RecordingMediaServer(account_sid=settings.TWILIO_ACCOUNT_SID, auth_token=settings.TWILIO_AUTH_TOKEN) as server:
        yield server


def files_in(root) -> list[str]:
    return [name for _, _, names in os.walk(root) for name in names]


def assert_refused_twiml(response, reason: str):
    assert response.status_code == 400
    assert response["Content-Type"] == "text/xml"
    body = response.content.decode()
    assert reason in body
    assert "<Hangup" in body


def assert_refused_json(response, *, field: str, reason: str):
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == field
    assert reason in body["detail"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CallSid", "CA" + NUL + "1"),
        ("To", "+3726001001" + NUL),
        ("From", NUL + "+37251234501"),
        ("Direction", "inbound" + NUL),
    ],
)
def test_a_nul_byte_in_an_inbound_call_is_refused_and_stores_no_call(acme, caplog, name, value):
    before = _calls(acme)
    with caplog.at_level(logging.WARNING, logger="answering.telephony"):
        response = post("/telephony/voice/", {**inbound(), name: value})
    assert_refused_twiml(response, f"the parameter {name} contains a NUL byte")
    assert _calls(acme) == before
    refusals = [r.getMessage() for r in caplog.records if "telephony webhook refused" in r.getMessage()]
    assert refusals == [f"telephony webhook refused: acme /telephony/voice/: the parameter {name} contains a NUL byte"]


def test_a_nul_byte_in_a_parameters_name_is_refused(acme):
    response = post("/telephony/status/", {**inbound(), "Call" + NUL + "Status": "completed"})
    assert_refused_json(response, field="Call\\x00Status", reason="contains a NUL byte")


def test_a_call_sid_over_64_characters_is_refused_and_stores_no_call(acme):
    before = _calls(acme)
    params = inbound("CA" + "f" * 63)
    assert_refused_twiml(post("/telephony/voice/", params), "CallSid is longer than 64 characters")
    assert _calls(acme) == before
    assert post("/telephony/voice/", inbound("CA" + "f" * 62)).status_code == 200  # 64 is fine
    assert _calls(acme) == before + 1


def test_a_nul_byte_in_the_consent_query_is_refused(acme):
    params = inbound()
    post("/telephony/voice/", params)
    response = post("/telephony/consent/?Digits=2" + "%00", {"CallSid": params["CallSid"]})
    assert_refused_twiml(response, "the parameter Digits contains a NUL byte")


@pytest.mark.parametrize(
    ("name", "value"), [("CallSid", NUL), ("RecordingSid", "RE" + NUL), ("RecordingUrl", "https://x/" + NUL)]
)
def test_a_nul_byte_in_a_recording_callback_fetches_and_stores_nothing(acme, media, media_root, name, value):
    params = inbound()
    post("/telephony/voice/", params)
    sid, url = media.add(tone_wav(0.2))
    callback = {**params, "RecordingSid": sid, "RecordingUrl": url, "RecordingDuration": "1", name: value}
    assert_refused_json(post("/telephony/recording/", callback), field=name, reason="contains a NUL byte")
    assert files_in(media_root) == []
    assert _recordings(acme) == 0


@pytest.mark.parametrize("duration", ["abc", "1.5", "-5", "²", " 3", "99999999999"])
def test_a_recording_duration_that_is_no_whole_number_is_refused_before_the_audio_is_stored(
    acme, media, media_root, duration
):
    params = inbound()
    post("/telephony/voice/", params)
    sid, url = media.add(tone_wav(0.2))
    callback = {**params, "RecordingSid": sid, "RecordingUrl": url, "RecordingDuration": duration}
    response = post("/telephony/recording/", callback)
    assert_refused_json(response, field="RecordingDuration", reason="must be a whole number of seconds")
    assert files_in(media_root) == []  # no orphan file
    assert _recordings(acme) == 0
    # The provider retries with a good value: stored once, as usual.
    assert post("/telephony/recording/", {**callback, "RecordingDuration": "7"}).status_code == 204
    with tenant_context(acme):
        assert Voicemail.objects.get(recording_sid=sid).duration_seconds == 7
    assert len(files_in(media_root)) == 1


def test_a_recording_sid_over_64_characters_is_refused(acme, media, media_root):
    params = inbound()
    post("/telephony/voice/", params)
    _, url = media.add(tone_wav(0.2))
    callback = {**params, "RecordingSid": "RE" + "0" * 63, "RecordingUrl": url, "RecordingDuration": "1"}
    assert_refused_json(post("/telephony/recording/", callback), field="RecordingSid", reason="longer than 64")
    assert files_in(media_root) == []


@pytest.mark.parametrize("duration", ["²", "-1", "99999999999"])
def test_a_call_duration_that_is_no_whole_number_is_refused_and_changes_nothing(acme, duration):
    params = inbound()
    post("/telephony/voice/", params)
    status = {**params, "CallStatus": "completed", "CallDuration": duration}
    assert_refused_json(post("/telephony/status/", status), field="CallDuration", reason="whole number")
    with tenant_context(acme):
        call = Call.objects.get(telephony_sid=params["CallSid"])
        assert (call.status, call.ended_at) == ("ringing", None)


def test_an_unsigned_malformed_request_is_still_a_403(acme):
    # The signature comes first: a stranger learns nothing about the parameter rules.
    assert post("/telephony/voice/", {**inbound(), "CallSid": NUL}, signature="bogus").status_code == 403


def test_a_failed_insert_leaves_no_orphan_file(acme, media, media_root, monkeypatch):
    params = inbound()
    post("/telephony/voice/", params)
    sid, url = media.add(tone_wav(0.2))

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Voicemail.objects, "create", broken)
    from answering import telephony

    callback = {**params, "RecordingSid": sid, "RecordingUrl": url, "RecordingDuration": "1"}
    with pytest.raises(RuntimeError):
        telephony.recording_stored(params=callback)
    assert files_in(media_root) == []


def _calls(company) -> int:
    with tenant_context(company):
        return Call.objects.count()


def _recordings(company) -> int:
    with tenant_context(company):
        return Voicemail.objects.count() + Recording.objects.count()
