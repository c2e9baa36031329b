"""The portal's Today, Messages, Calls and Voicemail screens, from the client's side and from
the side of another company's admin, who must not see any of it."""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, DeliveryAttempt, Line, Listen, Message, Voicemail
from answering.services.escalation import TIMER_ESCALATE
from answering.services.messages import message_take
from answering.simulator import new_sid, tone_wav
from audit.models import AccessLogEntry
from operations.timers.models import Timer
from tenants.files import encrypted_file_save
from tenants.models import Membership, User

pytestmark = pytest.mark.django_db

AUDIO = tone_wav(0.2)


def _call(line: Line, **fields) -> Call:
    values = {
        "telephony_sid": new_sid("CA"),
        "started_at": timezone.now() - dt.timedelta(minutes=5),
        "caller_name": "Kalle Kaalikas",
        "caller_number": "+37251230000",
        **fields,
    }
    return Call.objects.create(line=line, **values)


def _voicemail(
    line: Line, *, pk: int | None = None, call_pk: int | None = None, caller: str = "Kalle Kaalikas"
) -> Voicemail:
    call = _call(line, pk=call_pk, status="missed", caller_name=caller)
    return Voicemail.objects.create(
        pk=pk,
        call=call,
        recording_sid=new_sid("RE"),
        audio_bytes=len(AUDIO),
        audio=encrypted_file_save(folder="audio/test", content=AUDIO),
        duration_seconds=7,
        transcription=f"{caller}: please call me back",
    )


def _message(line: Line, *, pk: int | None = None, **fields) -> Message:
    values = {"caller_name": "Kalle Kaalikas", "body": "Toothache since Sunday", "status": "sent", **fields}
    return Message.objects.create(pk=pk, line=line, **values)


@pytest.fixture
def acme_line(acme):
    with tenant_context(acme):
        return Line.objects.get(phone_number="+3726001001")


@pytest.fixture
def acme_member(acme):
    user = User.objects.create_user("acme-member", password="x-member-pass-1")
    Membership.objects.create(user=user, company=acme, role=Membership.Role.CLIENT_MEMBER)
    return user


# ---- Today -------------------------------------------------------------------------------------


def test_today_shows_new_and_urgent_messages_calls_voicemail_appointments_and_lines(
    acme, acme_line, client_for, acme_admin
):
    with tenant_context(acme):
        _message(acme_line, urgency="urgent", caller_name="Urgent Ursula")
        _message(acme_line, caller_name="Read Rein", status="read")
        _voicemail(acme_line, caller="Voicemail Viivi")
    page = client_for("acme.localhost", acme_admin).get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Urgent Ursula" in html
    assert "badge-urgent" in html
    assert "Read Rein" not in html  # read, not urgent: not new
    assert "Voicemail Viivi" in html
    assert "Mari Tamm" in html or "Jaan Kask" in html  # the demo's recent calls
    assert "Check-up" in html or "Filling" in html or "Dental cleaning" in html  # the demo's appointments
    assert "Acme Dental reception" in html  # the lines and their on-call rota stay
    assert 'hx-trigger="every 10s"' in html


def test_the_today_panel_sends_nothing_while_nothing_changed(acme, acme_line, client_for, acme_admin):
    client = client_for("acme.localhost", acme_admin)
    first = client.get("/today/panel/")
    assert first.status_code == 200
    seen = re.search(r"seen=([0-9a-f]+)", first.content.decode()).group(1)
    with tenant_context(acme):
        logged = AccessLogEntry.objects.count()
    assert client.get(f"/today/panel/?seen={seen}").status_code == 204
    with tenant_context(acme):
        assert AccessLogEntry.objects.count() == logged  # nothing shown, nothing logged
        _message(acme_line, urgency="urgent", caller_name="Brand New")
    changed = client.get(f"/today/panel/?seen={seen}")
    assert changed.status_code == 200
    assert "Brand New" in changed.content.decode()


def test_today_reads_every_lines_rota_in_one_query_and_no_other_companys_line(
    acme, acme_line, globex, client_for, acme_admin
):
    # The on-call gaps of the lines were one query per line (bench/load.py, 2026-12-04).
    client = client_for("acme.localhost", acme_admin)
    client.get("/")  # the first request of a session reads a little more

    def queries_and_page() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            page = client.get("/")
        assert page.status_code == 200
        return len(captured.captured_queries), page.content.decode()

    before, _ = queries_and_page()
    with tenant_context(acme):
        for n in range(4):
            Line.objects.create(name=f"Extra line {n}", phone_number=f"+372600990{n}")
    after, html = queries_and_page()
    assert all(f"Extra line {n}" in html for n in range(4))
    assert after == before
    with tenant_context(globex):
        theirs = list(Line.objects.values_list("name", flat=True))
    assert theirs
    assert not [name for name in theirs if name in html]


# ---- Messages ----------------------------------------------------------------------------------


def test_message_list_filters_and_shows_a_bad_filter_next_to_its_field(acme, acme_line, client_for, acme_admin):
    with tenant_context(acme):
        _message(acme_line, caller_name="Open Olev", status="sent")
        _message(acme_line, caller_name="Done Doris", status="acknowledged")
    client = client_for("acme.localhost", acme_admin)
    html = client.get("/messages/?status=acknowledged").content.decode()
    assert "Done Doris" in html
    assert "Open Olev" not in html

    bad = client.get("/messages/?urgency=extreme&line=999999")
    assert bad.status_code == 200
    html = bad.content.decode()
    assert 'id="id_urgency-errors"' in html
    assert 'id="id_line-errors"' in html
    assert "Correct the filters" in html
    assert "Open Olev" not in html


def test_message_detail_shows_answers_with_their_categories_and_the_delivery_history(
    acme, acme_line, client_for, acme_admin
):
    answers = {"pain": {"label": "Pain level", "category": "user.health", "value": "7 of 10"}}
    with tenant_context(acme):
        message = _message(acme_line, answers=json.dumps(answers), status="delivered")
        DeliveryAttempt.objects.create(
            message=message,
            channel=DeliveryAttempt.Channel.EMAIL,
            key=f"t-{message.pk}-0",
            status=DeliveryAttempt.Status.SENT,
        )
        DeliveryAttempt.objects.create(
            message=message,
            channel=DeliveryAttempt.Channel.SMS,
            key=f"t-{message.pk}-1",
            status=DeliveryAttempt.Status.FAILED,
            escalation_level=1,
            error="unreachable",
        )
    page = client_for("acme.localhost", acme_admin).get(f"/messages/{message.pk}/")
    html = page.content.decode()
    assert "Pain level" in html
    assert "7 of 10" in html
    assert "user.health" in html
    assert "Delivery history" in html
    assert "Escalation, step 1" in html
    assert "unreachable" in html
    with tenant_context(acme):
        assert Message.objects.get(pk=message.pk).status == "read"  # opening it is reading it
        entry = AccessLogEntry.objects.filter(object_type="answering.Message", channel="portal").latest("pk")
    assert entry.user == acme_admin
    assert str(message.pk) in entry.object_ids
    assert "answers" in entry.fields


def test_acknowledging_an_urgent_message_in_the_portal_cancels_its_escalation(
    acme, acme_line, client_for, acme_admin, agent1
):
    with tenant_context(acme):
        message = message_take(
            line=acme_line, actor=agent1, urgency="urgent", caller_name="Mari Tamm", body="Swollen cheek"
        )
        timer = Timer.objects.get(kind=TIMER_ESCALATE, target_id=str(message.pk))
        assert timer.cancelled_at is None
    client = client_for("acme.localhost", acme_admin)
    assert client.get(f"/messages/{message.pk}/acknowledge/").status_code == 405  # a change needs a POST
    response = client.post(f"/messages/{message.pk}/acknowledge/")
    assert response.status_code == 302
    with tenant_context(acme):
        message.refresh_from_db()
        timer.refresh_from_db()
    assert message.status == "acknowledged"
    assert message.acknowledged_by == acme_admin
    assert timer.cancelled_at is not None
    assert timer.fired_at is None
    assert "acknowledged" in client.get(response.url).content.decode().lower()


def test_acknowledging_needs_the_csrf_token(acme, acme_line, acme_admin):
    from django.test import Client

    from portal.middleware import SESSION_SCHEMA_KEY

    with tenant_context(acme):
        message = _message(acme_line)
    client = Client(HTTP_HOST="acme.localhost", enforce_csrf_checks=True)
    client.force_login(acme_admin)
    session = client.session
    session[SESSION_SCHEMA_KEY] = "acme"
    session.save()
    assert client.post(f"/messages/{message.pk}/acknowledge/").status_code == 403
    with tenant_context(acme):
        assert Message.objects.get(pk=message.pk).status == "sent"


# ---- Calls -------------------------------------------------------------------------------------


def test_call_list_filters_by_line_dates_disposition_and_agent(acme, acme_line, client_for, acme_admin, agent1):
    with tenant_context(acme):
        other_line = Line.objects.get(phone_number="+3726001002")
        _call(acme_line, caller_name="Filter Fred", disposition="info_given", agent=agent1)
        _call(other_line, caller_name="Other Olga", disposition="message_taken", agent=agent1)
        _call(acme_line, caller_name="Old Oskar", started_at=timezone.now() - dt.timedelta(days=40))
    client = client_for("acme.localhost", acme_admin)
    # The portal's date filters are days in the company's own zone, not the server's (UTC).
    today_there = timezone.localdate(timezone=zoneinfo.ZoneInfo(acme.time_zone))
    today = today_there.isoformat()

    html = client.get(f"/calls/?line={acme_line.pk}&disposition=info_given&agent={agent1.pk}").content.decode()
    assert "Filter Fred" in html
    assert "Other Olga" not in html
    assert "Old Oskar" not in html
    week_ago = (today_there - dt.timedelta(days=7)).isoformat()
    html = client.get(f"/calls/?date_from={week_ago}&date_to={today}").content.decode()
    assert "Filter Fred" in html
    assert "Other Olga" in html
    assert "Old Oskar" not in html


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [
        ("date_from=2026-05-10&date_to=2026-05-01", "date_to", "The end date is before the start date."),
        ("date_from=2026-13-45", "date_from", "Enter a valid date."),
        ("disposition=teleported", "disposition", "Select a valid choice."),
        ("agent=999999", "agent", "Select a valid choice."),
    ],
)
def test_a_bad_call_filter_is_an_inline_error(client_for, acme_admin, query, field, says):
    response = client_for("acme.localhost", acme_admin).get(f"/calls/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    errors = re.search(rf'<ul class="errorlist" id="id_{field}-errors" role="alert">(.*?)</ul>', html, re.S)
    assert errors
    assert says in errors.group(1)
    assert "Correct the filters" in html


def test_call_detail_shows_the_call_its_messages_and_voicemail(acme, acme_line, client_for, acme_admin):
    with tenant_context(acme):
        voicemail = _voicemail(acme_line, caller="Detail Dagmar")
        _message(acme_line, call=voicemail.call, body="Please ring back after five")
    html = client_for("acme.localhost", acme_admin).get(f"/calls/{voicemail.call_id}/").content.decode()
    assert "Detail Dagmar" in html
    assert "Please ring back after five" in html
    assert f'src="/voicemail/{voicemail.pk}/audio/"' in html


# ---- Voicemail ---------------------------------------------------------------------------------


def test_a_portal_play_streams_the_audio_and_is_in_listen_and_the_access_log(acme, acme_line, client_for, acme_admin):
    with tenant_context(acme):
        voicemail = _voicemail(acme_line, caller="Played Piret")
    client = client_for("acme.localhost", acme_admin)
    html = client.get("/voicemail/").content.decode()
    assert "Played Piret" in html
    assert f'src="/voicemail/{voicemail.pk}/audio/"' in html

    played = client.get(f"/voicemail/{voicemail.pk}/audio/", HTTP_RANGE="bytes=0-")
    assert played.status_code == 206
    assert played["Content-Type"] == "audio/wav"
    assert played.content == AUDIO
    assert played["Cache-Control"] == "private, no-store"
    seek = client.get(f"/voicemail/{voicemail.pk}/audio/", HTTP_RANGE="bytes=100-199")
    assert seek.status_code == 206
    assert seek.content == AUDIO[100:200]
    with tenant_context(acme):
        assert Listen.objects.filter(voicemail=voicemail, user=acme_admin).count() == 1  # seeking is not a new play
        entry = AccessLogEntry.objects.filter(channel="playback", object_type="answering.Voicemail").latest("pk")
    assert entry.user == acme_admin
    assert entry.object_ids == [str(voicemail.pk)]
    assert entry.fields == ["audio"]

    # The client admin's access log lists the provider by default, and the team's own plays apart.
    team_log = b"".join(client.get("/access-log/export.csv?reader=company").streaming_content).decode()
    assert any("acme-admin" in row and "playback" in row for row in team_log.splitlines())
    provider_log = b"".join(client.get("/access-log/export.csv").streaming_content).decode()
    assert "playback" not in provider_log  # no one at the provider played anything


def test_the_unheard_filter_leaves_out_what_the_team_played(acme, acme_line, client_for, acme_admin):
    with tenant_context(acme):
        heard = _voicemail(acme_line, caller="Heard Hugo")
        _voicemail(acme_line, caller="Fresh Frida")
        Listen.objects.create(voicemail=heard, user=acme_admin)
    html = client_for("acme.localhost", acme_admin).get("/voicemail/?unheard=1").content.decode()
    assert "Fresh Frida" in html
    assert "Heard Hugo" not in html


# ---- The person who must not see it ------------------------------------------------------------


@pytest.fixture
def acme_rows(acme, acme_line):
    """Acme rows with ids no globex row has, so a 404 on globex means "not found", not "another row"."""
    with tenant_context(acme):
        voicemail = _voicemail(acme_line, pk=9_000_001, call_pk=9_000_002, caller="Secret Sirje")
        message = _message(acme_line, pk=9_000_003, caller_name="Secret Sirje", urgency="urgent", call_id=9_000_002)
    return {"message": message.pk, "call": 9_000_002, "voicemail": voicemail.pk}


def test_globex_admin_gets_404_for_acme_ids_and_no_acme_row_in_any_list(
    acme, globex, acme_rows, client_for, globex_admin
):
    client = client_for("globex.localhost", globex_admin)
    for path in (
        f"/messages/{acme_rows['message']}/",
        f"/calls/{acme_rows['call']}/",
        f"/voicemail/{acme_rows['voicemail']}/audio/",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/messages/{acme_rows['message']}/acknowledge/").status_code == 404
    for path in ("/", "/today/panel/", "/messages/", "/calls/", "/voicemail/", "/messages/?urgency=urgent"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert "Secret Sirje" not in html, path
        assert "Acme Dental" not in html, path
    with tenant_context(acme):
        assert Message.objects.get(pk=acme_rows["message"]).status == "sent"
        assert not Listen.objects.filter(voicemail_id=acme_rows["voicemail"]).exists()


def test_acme_pages_are_404_to_globex_admin_on_acmes_host(acme_rows, client_for, globex_admin):
    client = client_for("acme.localhost", globex_admin)
    for path in (
        "/",
        "/messages/",
        f"/messages/{acme_rows['message']}/",
        "/calls/",
        "/voicemail/",
        f"/voicemail/{acme_rows['voicemail']}/audio/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"Secret Sirje" not in response.content


def test_a_member_reads_and_acknowledges_but_cannot_open_admin_pages(acme, acme_line, client_for, acme_member):
    with tenant_context(acme):
        message = _message(acme_line, caller_name="Member Mart")
    client = client_for("acme.localhost", acme_member)
    assert "Member Mart" in client.get("/messages/").content.decode()
    assert client.post(f"/messages/{message.pk}/acknowledge/").status_code == 302
    assert client.get("/security/").status_code == 404
    assert client.get("/access-log/").status_code == 404
    nav = client.get("/").content.decode()
    assert 'href="/security/"' not in nav
    assert 'href="/messages/"' in nav
