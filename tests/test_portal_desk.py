"""The answering desk's portal screens in a real browser: signing in (with and without a required
one-time code), Today updating itself, acknowledging an urgent message (its escalation timer is
cancelled in the database), playing a voicemail (and the access log showing it), the call filters."""

from __future__ import annotations

import base64
import datetime as dt
import time

import pytest
from django.db import connection
from django.utils import timezone
from django_otp.oath import TOTP
from django_tenants.utils import tenant_context

from answering.models import Call, Line, Listen, Message, Voicemail
from answering.services.escalation import TIMER_ESCALATE
from answering.simulator import new_sid, tone_wav
from operations.timers.models import Timer
from operations.timers.services import timer_schedule
from portal.models import CompanySecurity
from portal.services import company_security_update
from tenants.files import encrypted_file_delete, encrypted_file_save
from tenants.models import ClientCompany, User
from tests.browser import screenshot

AUDIO = tone_wav(0.5)


@pytest.fixture
def acme_world(live_db):
    """Rows made for a browser test in acme, committed so the live server sees them, and removed
    afterwards (the access log and the change log are append-only and keep their entries)."""
    acme = ClientCompany.objects.get(schema_name="acme")
    made = {"messages": [], "calls": [], "files": []}

    def message(**fields) -> Message:
        with tenant_context(acme):
            line = Line.objects.get(phone_number="+3726001001")
            row = Message.objects.create(line=line, status="sent", **fields)
        made["messages"].append(row.pk)
        return row

    def voicemail(caller: str) -> Voicemail:
        with tenant_context(acme):
            line = Line.objects.get(phone_number="+3726001002")
            call = Call.objects.create(
                line=line,
                telephony_sid=new_sid("CA"),
                status="missed",
                caller_name=caller,
                caller_number="+37251238888",
                started_at=timezone.now(),
            )
            made["calls"].append(call.pk)
            name = encrypted_file_save(folder="audio/browser-test", content=AUDIO)
            made["files"].append(name)
            return Voicemail.objects.create(
                call=call,
                recording_sid=new_sid("RE"),
                audio=name,
                audio_bytes=len(AUDIO),
                duration_seconds=4,
                transcription=f"{caller}: please call back",
            )

    try:
        yield acme, message, voicemail
    finally:
        with tenant_context(acme):
            ids = [str(pk) for pk in made["messages"]]
            Timer.objects.filter(kind=TIMER_ESCALATE, target_id__in=ids).delete()
            Message.objects.filter(pk__in=made["messages"]).delete()
            Call.objects.filter(pk__in=made["calls"]).delete()  # their voicemail and its listens go with them
            for name in made["files"]:
                encrypted_file_delete(name)


def _code_from_secret(secret: str, *, at: float | None = None) -> str:
    totp = TOTP(base64.b32decode(secret.replace(" ", "")))
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


def test_signing_in_without_and_with_a_required_one_time_code(portal, live_db):
    page = portal("acme-admin", "acme")
    assert page.url.endswith("/")
    assert page.get_by_role("heading", name="Today · Acme Dental Clinic").is_visible()

    acme = ClientCompany.objects.get(schema_name="acme")
    admin = User.objects.get(username="acme-admin")
    try:
        company_security_update(company=acme, require_totp=True, actor=admin)
        page = portal("acme-admin", "acme")
        assert "/accounts/second-factor/setup/" in page.url  # no device yet: guided to set one up
        assert page.locator("#totp-uri").get_attribute("href").startswith("otpauth://totp/Vastaja")
        secret = page.locator("#totp-secret").inner_text()
        page.fill("#id_otp_token", "000000")
        page.click("main form.stacked button[type=submit]")
        assert page.get_by_role("alert").is_visible()
        page.wait_for_timeout(1100)  # django-otp slows down the next try after a wrong code
        first_code_at = time.time()
        page.fill("#id_otp_token", _code_from_secret(secret, at=first_code_at))
        page.click("main form.stacked button[type=submit]")
        page.wait_for_url("**/")
        assert page.get_by_role("heading", name="Today · Acme Dental Clinic").is_visible()

        again = portal("acme-admin", "acme")  # the next sign-in asks for the code
        assert "/accounts/second-factor/" in again.url
        # A code is good once: the one used above is spent, so give the code of the step after it
        # (the current step or the next, within the device's tolerance of one step, however the
        # test's time fell across a 30-second boundary).
        again.fill("#id_otp_token", _code_from_secret(secret, at=first_code_at + 30))
        again.click("main form.stacked button[type=submit]")
        again.wait_for_url("**/")
        assert again.get_by_role("heading", name="Today · Acme Dental Clinic").is_visible()
    finally:
        CompanySecurity.objects.filter(company=acme).delete()
        from django_otp.plugins.otp_totp.models import TOTPDevice

        TOTPDevice.objects.filter(user=admin, name="portal").delete()


def test_today_updates_itself_without_a_reload(portal, acme_world):
    _acme, message, voicemail = acme_world
    message(urgency="urgent", caller_name="Urgent Urmas", body="Broken tooth, in pain")
    voicemail("Viivi Voog")
    page = portal("acme-admin", "acme")
    assert page.get_by_text("Urgent Urmas").is_visible()
    page.evaluate("window.notReloaded = true")
    message(urgency="urgent", caller_name="Live Liisa", body="Arrived while the page was open")
    page.get_by_text("Live Liisa").wait_for(timeout=25_000)
    assert page.evaluate("window.notReloaded === true")
    screenshot(page, "desk-today")


def test_acknowledging_an_urgent_message_stops_its_escalation(portal, acme_world):
    acme, message, _voicemail = acme_world
    urgent = message(urgency="urgent", caller_name="Mari Tamm", body="Swelling after the extraction")
    with tenant_context(acme):
        timer_schedule(kind=TIMER_ESCALATE, target_id=urgent.pk, due_at=timezone.now() + dt.timedelta(minutes=15))
    connection.set_schema_to_public()

    page = portal("acme-admin", "acme")
    page.click("nav.portal-nav >> text=Messages")
    assert page.locator("nav.portal-nav a[aria-current=page]").inner_text() == "Messages"
    screenshot(page, "desk-messages")
    page.click(f"a[href='/messages/{urgent.pk}/']")
    assert page.get_by_role("heading", name=f"Message #{urgent.pk}").is_visible()
    assert page.get_by_text("Acknowledging stops the escalation").is_visible()
    screenshot(page, "desk-message-detail")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state()
    assert page.locator("#message-status").inner_text().startswith("Acknowledged")

    with tenant_context(acme):
        timer = Timer.objects.get(kind=TIMER_ESCALATE, target_id=str(urgent.pk))
        acknowledged = Message.objects.get(pk=urgent.pk)
    connection.set_schema_to_public()
    assert timer.cancelled_at is not None
    assert timer.fired_at is None
    assert acknowledged.status == "acknowledged"
    assert acknowledged.acknowledged_by.username == "acme-admin"


def test_playing_a_voicemail_and_the_access_log_shows_it(portal, acme_world):
    acme, _message, voicemail = acme_world
    played = voicemail("Peeter Play")
    page = portal("acme-admin", "acme")
    page.goto("/voicemail/")
    row = page.locator(f"#voicemail-{played.pk}")
    assert row.get_by_role("link", name="Peeter Play").is_visible()
    screenshot(page, "desk-voicemail")
    player = row.locator("audio")
    with page.expect_response(lambda r: r.url.endswith(f"/voicemail/{played.pk}/audio/")) as response:
        player.click()  # a real click: the page may now start playback
        player.evaluate("audio => audio.play()")
    assert response.value.status in (200, 206)
    assert response.value.header_value("content-type") == "audio/wav"

    with tenant_context(acme):
        assert Listen.objects.filter(voicemail=played, user__username="acme-admin").exists()
    connection.set_schema_to_public()
    page.goto("/access-log/?reader=company")
    entry = page.locator("tr", has_text="Audio playback").filter(has_text=f"#{played.pk}")
    assert entry.first.is_visible()
    assert "acme-admin" in entry.first.inner_text()


def test_call_filters_show_their_errors_inline(portal):
    page = portal("acme-admin", "acme")
    page.goto("/calls/")
    assert page.locator("table tbody tr").count() > 0
    screenshot(page, "desk-calls")
    page.fill("#id_date_from", "2026-05-10")
    page.fill("#id_date_to", "2026-05-01")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#id_date_to-errors").inner_text() == "The end date is before the start date."
    assert page.locator("table").count() == 0
