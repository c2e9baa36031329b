"""The answering API v1 (calls, voicemail, messages): filters and ordering, bad input as a 400
that names the parameter, every play logged, and nothing of acme reaching globex."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.api import urls as api_urls
from answering.models import Call, Line, Listen, Message, Voicemail
from answering.services.escalation import TIMER_ESCALATE
from answering.services.messages import message_take
from answering.simulator import new_sid, tone_wav
from api.base import TenantAPIView
from audit.models import AccessLogEntry
from operations.timers.models import Timer
from tenants.files import encrypted_file_save

pytestmark = pytest.mark.django_db

AUDIO = tone_wav(0.2)


@pytest.fixture
def acme_api(client_for, acme_admin):
    return client_for("acme.localhost", acme_admin)


@pytest.fixture
def globex_api(client_for, globex_admin):
    return client_for("globex.localhost", globex_admin)


@pytest.fixture
def acme_data(acme, agent1):
    """Acme rows with ids that globex does not have."""
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        other = Line.objects.get(phone_number="+3726001002")
        now = timezone.now()
        call = Call.objects.create(
            pk=8_000_001,
            line=line,
            telephony_sid=new_sid("CA"),
            started_at=now,
            caller_name="Api Anu",
            caller_number="+37251239999",
            agent=agent1,
            disposition="message_taken",
            duration_seconds=300,
            status="completed",
        )
        old = Call.objects.create(
            pk=8_000_002,
            line=other,
            telephony_sid=new_sid("CA"),
            started_at=now - dt.timedelta(days=30),
            caller_name="Old Olev",
            status="missed",
            duration_seconds=5,
        )
        voicemail = Voicemail.objects.create(
            pk=8_000_003,
            call=old,
            recording_sid=new_sid("RE"),
            audio=encrypted_file_save(folder="audio/test", content=AUDIO),
            audio_bytes=len(AUDIO),
            duration_seconds=9,
            transcription="Old Olev: call me",
        )
        answers = {"allergy": {"label": "Allergies", "category": "user.health", "value": "penicillin"}}
        message = Message.objects.create(
            pk=8_000_004,
            line=line,
            call=call,
            caller_name="Api Anu",
            body="Crown fell",
            urgency="urgent",
            status="sent",
            answers=json.dumps(answers),
        )
    return {"line": line, "other": other, "call": call, "old": old, "voicemail": voicemail, "message": message}


def _rows(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


# ---- Calls -------------------------------------------------------------------------------------


def test_calls_filter_and_order(acme_api, acme_data, agent1):
    line = acme_data["line"]
    names = [row["caller_name"] for row in _rows(acme_api.get(f"/api/v1/calls/?line={line.pk}&agent=agent1"))]
    assert names == ["Api Anu"]
    rows = _rows(acme_api.get("/api/v1/calls/?disposition=message_taken&status=completed"))
    assert [row["id"] for row in rows] == [acme_data["call"].pk]
    week_ago = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    ids = [row["id"] for row in _rows(acme_api.get(f"/api/v1/calls/?date_from={week_ago}&limit=200"))]
    assert acme_data["call"].pk in ids
    assert acme_data["old"].pk not in ids
    by_duration = _rows(acme_api.get("/api/v1/calls/?ordering=-duration_seconds&limit=1"))
    assert by_duration[0]["id"] == acme_data["call"].pk
    detail = acme_api.get(f"/api/v1/calls/{acme_data['old'].pk}/").json()
    assert detail["caller_name"] == "Old Olev"
    assert detail["has_voicemail"] is True
    assert detail["line"] == "Acme Dental emergencies"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date_from=2026-05-10&date_to=2026-05-01", "date_to"),
        ("date_from=yesterday", "date_from"),
        ("disposition=teleported", "disposition"),
        ("status=exploded", "status"),
        ("agent=nobody-at-all", "agent"),
        ("agent=acme-admin", "agent"),  # a client user is not an agent
        ("line=abc", "line"),
        ("line=99999999", "line"),
        ("ordering=caller_name", "ordering"),  # not an ordering the client may use (encrypted)
    ],
)
def test_a_bad_call_filter_is_a_400_naming_it(acme_api, query, field):
    response = acme_api.get(f"/api/v1/calls/?{query}")
    assert response.status_code == 400
    assert field in response.json()


# ---- Voicemail ---------------------------------------------------------------------------------


def test_voicemail_list_detail_and_audio(acme, acme_api, acme_data, acme_admin):
    voicemail = acme_data["voicemail"]
    rows = _rows(acme_api.get("/api/v1/voicemail/?unheard=true"))
    row = next(row for row in rows if row["id"] == voicemail.pk)
    assert row["caller_name"] == "Old Olev"
    assert row["transcription"] == "Old Olev: call me"
    assert row["heard_by_client"] is False
    assert row["audio_url"] == f"http://acme.localhost/api/v1/voicemail/{voicemail.pk}/audio/"

    audio = acme_api.get(f"/api/v1/voicemail/{voicemail.pk}/audio/")
    assert audio.status_code == 200
    assert audio["Content-Type"] == "audio/wav"
    assert audio.content == AUDIO
    part = acme_api.get(f"/api/v1/voicemail/{voicemail.pk}/audio/", HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206
    assert part.content == AUDIO[10:20]
    assert part["Content-Range"] == f"bytes 10-19/{len(AUDIO)}"
    past = acme_api.get(f"/api/v1/voicemail/{voicemail.pk}/audio/", HTTP_RANGE=f"bytes={len(AUDIO) + 5}-")
    assert past.status_code == 416
    as_wav = acme_api.get(f"/api/v1/voicemail/{voicemail.pk}/audio/", HTTP_ACCEPT="audio/wav")
    assert as_wav.status_code == 200

    with tenant_context(acme):
        assert Listen.objects.filter(voicemail=voicemail, user=acme_admin).count() == 2  # the two whole plays
        plays = AccessLogEntry.objects.filter(channel="playback", object_type="answering.Voicemail", user=acme_admin)
        assert plays.count() == 2
    assert acme_api.get(f"/api/v1/voicemail/{voicemail.pk}/").json()["heard_by_client"] is True
    assert voicemail.pk not in [r["id"] for r in _rows(acme_api.get("/api/v1/voicemail/?unheard=true"))]
    assert acme_api.get("/api/v1/voicemail/?ordering=sideways").status_code == 400


# ---- Messages ----------------------------------------------------------------------------------


def test_messages_filter_order_and_carry_their_answers(acme_api, acme_data):
    rows = _rows(acme_api.get(f"/api/v1/messages/?urgency=urgent&status=sent&line={acme_data['line'].pk}"))
    row = next(row for row in rows if row["id"] == acme_data["message"].pk)
    assert row["answers"] == [
        {"key": "allergy", "label": "Allergies", "category": "user.health", "value": "penicillin"}
    ]
    assert row["call_id"] == acme_data["call"].pk
    assert acme_api.get("/api/v1/messages/?ordering=created_at").status_code == 200
    bad = acme_api.get("/api/v1/messages/?urgency=sometime&ordering=body")
    assert bad.status_code == 400
    assert set(bad.json()) == {"urgency", "ordering"}


def test_acknowledging_over_the_api_cancels_the_escalation_timer(acme, acme_api, agent1):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001002")
        message = message_take(line=line, actor=agent1, urgency="urgent", caller_name="Jaan Kask", body="Bleeding")
    response = acme_api.post(f"/api/v1/messages/{message.pk}/acknowledge/")
    assert response.json()["status"] == "acknowledged"
    with tenant_context(acme):
        timer = Timer.objects.get(kind=TIMER_ESCALATE, target_id=str(message.pk))
    assert timer.cancelled_at is not None


# ---- The other company -------------------------------------------------------------------------


def test_globex_gets_404_for_every_acme_id_and_the_refusal_is_logged(globex, globex_api, acme_data):
    for path in (
        f"/api/v1/calls/{acme_data['call'].pk}/",
        f"/api/v1/voicemail/{acme_data['voicemail'].pk}/",
        f"/api/v1/voicemail/{acme_data['voicemail'].pk}/audio/",
        f"/api/v1/messages/{acme_data['message'].pk}/",
    ):
        assert globex_api.get(path).status_code == 404, path
    assert globex_api.post(f"/api/v1/messages/{acme_data['message'].pk}/acknowledge/").status_code == 404
    with tenant_context(globex):
        refused = AccessLogEntry.objects.filter(refused=True, object_ids=[str(acme_data["voicemail"].pk)])
        assert refused.filter(object_type="answering.Voicemail").count() == 2


def test_no_globex_list_contains_an_acme_row(globex_api, acme_data):
    for path in (
        "/api/v1/calls/?limit=500",
        "/api/v1/voicemail/?limit=500",
        "/api/v1/messages/?limit=500",
        "/api/v1/calls/?ordering=-duration_seconds",
        "/api/v1/messages/?urgency=urgent",
    ):
        body = globex_api.get(path).content.decode()
        assert "Api Anu" not in body, path
        assert "Old Olev" not in body, path
        assert "Acme Dental" not in body, path
    # An acme line's id is not a globex line: a filter on it is refused, not answered with acme rows.
    assert globex_api.get(f"/api/v1/calls/?line={acme_data['other'].pk + 1000}").status_code == 400


def test_acme_api_is_404_to_globex_admin_on_acmes_host(client_for, globex_admin, acme_data):
    api = client_for("acme.localhost", globex_admin)
    for path in ("/api/v1/calls/", "/api/v1/voicemail/", f"/api/v1/voicemail/{acme_data['voicemail'].pk}/audio/"):
        assert api.get(path).status_code == 404, path


def test_every_answering_api_view_names_its_scope():
    for pattern in api_urls.urlpatterns:
        view = pattern.callback.view_class
        assert issubclass(view, TenantAPIView)
        assert view.api_scope in ("lines", "messages", "calls", "voicemail", "webhooks"), view
