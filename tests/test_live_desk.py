"""The live desk in a real browser, served by daphne (ASGI: pages and the console's socket) over the
test database: two agents sign in and set themselves available; `simulate_call` places a call as
Twilio would (signed webhooks, then the <Enqueue> hold loop); it appears on exactly one console
without a reload; that agent accepts and lands on the call's answer page, in its company. The
screenshots illustrate the agent's guide."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.utils import timezone

from tests.browser import demo_totp_code, screenshot
from tests.fixtures import TWILIO_TEST_SID, in_test_context

pytestmark = pytest.mark.usefixtures("live_db")
RECEPTION = "+3726001001"


@pytest.fixture(scope="module")
def asgi_port(demo_world, django_db_blocker, twilio):
    """daphne in a child process on a free port, against the test database. With no Redis the
    in-memory layer serves, and this one process runs the desk's pass (as run_demo does). Its
    calls to Twilio's REST API go to the stand-in, which calls its webhooks back, signed."""
    from django.conf import settings
    from django.db import connection

    from demo.processes import in_subprocess_env

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with django_db_blocker.unblock():
        env = in_subprocess_env(connection.settings_dict)
    if not settings.CHANNEL_LAYER_URL:
        env["DESK_TICK_IN_WEB"] = "1"
    env.update(TWILIO_API_BASE=twilio.base_url, TWILIO_ACCOUNT_SID=TWILIO_TEST_SID)
    log_path = Path(settings.DATA_DIR) / f"test-daphne-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if process.poll() is not None:
                        log.seek(0)
                        pytest.fail(f"daphne did not start:\n{log.read()[-3000:]}")
                    time.sleep(0.1)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    log_path.unlink(missing_ok=True)


@pytest.fixture
def agents(browser, asgi_port):
    """`agents("agent1")`: a page signed in to the provider's admin (password and TOTP code)."""

    from demo.world import DEMO_PASSWORD
    from desk.models import AgentState, Presence

    contexts, users = [], []

    def sign_in(username: str):
        context = browser.new_context(base_url=f"http://localhost:{asgi_port}", viewport={"width": 1366, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/admin/login/?next=/admin/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.fill("#id_otp_token", demo_totp_code(username))
        with page.expect_navigation():  # wait for the page the click leads to, not the one before
            page.click("input[type=submit], button[type=submit]")
        assert "/admin/login/" not in page.url, page.content()[:2000]
        users.append(username)
        return page

    yield sign_in
    for context in contexts:
        context.close()
    Presence.objects.filter(user__username__in=users).update(state=AgentState.OFFLINE, reason=None)


def test_a_call_appears_on_exactly_one_console_without_a_reload_and_accept_opens_it(agents, asgi_port):
    from django.core.management import call_command
    from django_tenants.utils import tenant_context

    from answering.models import Call
    from desk.models import QueuedCall
    from tenants.models import ClientCompany

    first, second = agents("agent1"), agents("agent2")
    for page in (first, second):
        assert page.url.endswith("/admin/desk/"), page.url  # the console is the agents' landing page
        with page.expect_navigation():
            page.get_by_role("button", name="Available").click()
        page.wait_for_selector("#live-status:text('connected')")
        assert page.locator("#state").get_attribute("data-state") == "available"
    screenshot(first, "desk-console-available")

    acme = ClientCompany.objects.get(schema_name="acme")

    @in_test_context
    def calls_now() -> set[int]:
        with tenant_context(acme):
            return set(Call.objects.values_list("pk", flat=True))

    @in_test_context
    def remove(pks: set[int]) -> int:
        with tenant_context(acme):
            QueuedCall.objects.filter(company=acme, call_id__in=pks).delete()
            for call in Call.objects.filter(pk__in=pks):
                call.messages.all().delete()
                call.delete()
            return QueuedCall.objects.filter(company=acme, call_id__in=pks).count()

    before = calls_now()
    done = threading.Event()

    def place_call():
        try:
            call_command(
                "simulate_call",
                "acme",
                "--to",
                RECEPTION,
                "--in-hours",
                "--hold",
                "60",
                "--base",
                f"http://acme.localhost:{asgi_port}",
            )
        finally:
            from django.db import connection

            connection.close()  # this thread's own connection: left open, the test database could not be dropped
            done.set()

    caller = threading.Thread(target=place_call, daemon=True)
    caller.start()
    try:
        cards = None
        for _ in range(100):  # until the offer arrives, on whichever console it goes to
            cards = [page for page in (first, second) if page.locator("#offer .card").count()]
            if cards:
                break
            first.wait_for_timeout(100)
        assert cards, "the call was offered on no console"
        assert len(cards) == 1, "the call was offered on both consoles"
        offered = cards[0]
        other = second if offered is first else first
        offered.wait_for_selector("#offer .card .timer:text('waiting')")
        assert "Acme Dental reception" in offered.inner_text("#offer")
        assert other.locator("#offer .card").count() == 0
        screenshot(offered, "desk-console-offer")

        with offered.expect_navigation():
            offered.get_by_role("button", name="Accept").click()
        assert "/admin/answering/call/" in offered.url
        assert offered.url.endswith("/answer/")
        assert "Acme Dental reception" in offered.content()
        screenshot(offered, "desk-answer-after-accept")
        assert done.wait(timeout=30), "the simulated caller never left the queue"
    finally:
        done.wait(timeout=70)
        new = calls_now() - before
        assert remove(new) == 0
    assert len(new) == 1


EMERGENCIES = "+3726001002"
ON_CALL = "+37255520009"


def test_the_whole_flow_offer_accept_branch_warm_transfer_wrap_up_and_handled_everywhere(
    agents, asgi_port, browser, twilio
):
    """The issue's acceptance, end to end: two agents available; `simulate_call` rings the
    emergencies line through the stand-in; the offer reaches exactly one console (agent2 holds no
    grant on that line) within a second of the call entering the queue; agent1 accepts, answers
    down the script's emergency branch, transfers warm to the dentist on call (the stand-in
    answers as them, with signed callbacks), bridges and leaves, and wraps up; the call is then
    handled on the desk, in the admin's call list and in the portal, and cannot be answered again."""
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import tenant_context

    from answering.models import Call, Line, Script, Transfer
    from answering.scripts import script_current, script_version_draft, script_version_publish
    from demo.answering import EMERGENCY_SCRIPT
    from demo.world import DEMO_PASSWORD
    from desk.models import QueuedCall
    from scheduling.models import OnCallShift, StaffMember
    from tenants.models import ClientCompany, User
    from tests.cleanup import audit_rows_removed_after

    acme = ClientCompany.objects.get(schema_name="acme")
    twilio.reset()

    @in_test_context
    def set_up() -> dict:
        with tenant_context(acme):
            line = Line.objects.get(phone_number=EMERGENCIES)
            made = {"calls": set(Call.objects.values_list("pk", flat=True)), "script": None}
            if script_current(line=line) is None:  # the test world seeds no scripts: the demo's, here
                supervisor = User.objects.get(username="supervisor")
                script = Script.objects.create(line=line, name="Emergencies (browser test)")
                draft = script_version_draft(script=script, steps=EMERGENCY_SCRIPT, actor=supervisor)
                script_version_publish(version=draft, actor=supervisor)
                made["script"] = script.pk
            person = StaffMember.objects.create(name="Dr Valve", phone_number=ON_CALL)
            now = timezone.now()
            OnCallShift.objects.create(
                line=line, staff=person, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=1)
            )
            made["person"] = person.pk
        return made

    @in_test_context
    def tear_down(made: dict) -> None:
        with tenant_context(acme):
            new = Call.objects.exclude(pk__in=made["calls"])
            QueuedCall.objects.filter(company=acme, call_id__in=list(new.values_list("pk", flat=True))).delete()
            for call in new:
                Transfer.objects.filter(call=call).delete()
                call.messages.all().delete()
                call.delete()
            OnCallShift.objects.filter(staff_id=made["person"]).delete()
            StaffMember.objects.filter(pk=made["person"]).delete()
            if made["script"]:
                with connection.cursor() as cursor:  # a published version is immutable, by trigger
                    cursor.execute("SET session_replication_role = replica")
                    try:
                        Script.objects.filter(pk=made["script"]).delete()
                    finally:
                        cursor.execute("SET session_replication_role = DEFAULT")

    @in_test_context
    def the_call(before: set[int]) -> Call | None:
        with tenant_context(acme):
            return Call.objects.exclude(pk__in=before).first()

    @in_test_context
    def enqueued_at(call_id: int):
        queued = QueuedCall.objects.filter(company=acme, call_id=call_id).first()
        return queued.enqueued_at if queued else None

    @in_test_context
    def transfers_of(call_id: int) -> list[Transfer]:
        with tenant_context(acme):
            return list(Transfer.objects.filter(call_id=call_id))

    with audit_rows_removed_after("acme"):
        made = set_up()
        done = threading.Event()

        def place_call():
            try:
                call_command(
                    "simulate_call",
                    "acme",
                    "--to",
                    EMERGENCIES,
                    "--in-hours",
                    "--hold",
                    "60",
                    "--talk",
                    "90",
                    "--base",
                    f"http://acme.localhost:{asgi_port}",
                )
            finally:
                connection.close()
                done.set()

        try:
            first, second = agents("agent1"), agents("agent2")
            for page in (first, second):
                with page.expect_navigation():
                    page.get_by_role("button", name="Available").click()
                page.wait_for_selector("#live-status:text('connected')")
            caller = threading.Thread(target=place_call, daemon=True)
            caller.start()
            cards, seen_at = [], None
            for _ in range(200):
                cards = [page for page in (first, second) if page.locator("#offer .card").count()]
                if cards:
                    seen_at = timezone.now()
                    break
                first.wait_for_timeout(50)
            assert len(cards) == 1, "the call must be offered on exactly one console"
            assert cards[0] is first, "agent2 holds no grant on the emergencies line"
            assert second.locator("#offer .card").count() == 0
            call = the_call(made["calls"])
            waited = (seen_at - enqueued_at(call.pk)).total_seconds()
            assert waited <= 1.0, f"the offer took {waited:.2f} s to reach the console"

            with first.expect_navigation():
                first.get_by_role("button", name="Accept").click()
            assert first.url.endswith(f"/admin/answering/call/{call.pk}/answer/")
            # Accepting took the caller out of Twilio's queue at once, after the accept committed.
            for _ in range(200):
                if any(d["call_sid"] == call.telephony_sid for d in twilio.dequeues):
                    break
                first.wait_for_timeout(50)
            dequeued = [d["url"] for d in twilio.dequeues if d["call_sid"] == call.telephony_sid]
            assert dequeued == [f"http://acme.localhost:{asgi_port}/telephony/queue/result/"]
            transfer_step = first.locator('li[data-step="transfer"]')
            assert transfer_step.is_hidden()  # the default branch takes a message
            first.select_option('select[data-key="reason"]', "Emergency")  # the non-default branch
            assert transfer_step.is_visible()
            first.fill('[data-key="caller_name"]', "Mari Tamm")
            first.fill('[data-key="emergency_number"]', "5123 4501")
            transfer_step.get_by_role("button", name="Transfer").click()
            first.wait_for_selector(".transfer-panel [data-transfer-state='announcing']", timeout=10_000)
            assert ON_CALL in transfer_step.inner_text()  # acme's DPA grants its agents phone numbers
            screenshot(first, "desk-transfer-announcing")
            transfer_step.get_by_role("button", name="Bridge and leave").click()
            first.wait_for_selector(".transfer-panel [data-transfer-state='bridged']")
            assert first.locator("#id_wrap_up").input_value() == "transferred"
            assert first.locator('[data-key="caller_name"]').input_value() == "Mari Tamm"  # the answers stayed
            screenshot(first, "desk-transfer-bridged")
            with first.expect_navigation():
                first.get_by_role("button", name="Save and wrap up").click()
            assert "wrapped up for Acme Dental emergencies: transferred" in first.content()
            assert done.wait(timeout=30), "the simulated caller never hung up"

            [transfer] = transfers_of(call.pk)
            assert transfer.state == Transfer.State.BRIDGED
            people = twilio.participants(transfer.conference_name)
            assert transfer.target_call_sid in people
            assert transfer.agent_call_sid not in people
            assert [p["CallStatus"] for _, p, s in twilio.callbacks if s == 204] == ["ringing", "in-progress"]

            # Handled everywhere: the admin's call list, the desk, the portal; and not again.
            first.goto(f"/admin/answering/call/?q={call.telephony_sid}")
            row = first.locator("#result_list tbody tr").first
            assert "Transferred" in row.inner_text()
            first.goto("/admin/desk/")
            assert first.locator("#state").get_attribute("data-state") == "available"  # back after wrap-up
            assert first.locator("#offer .card").count() == 0
            first.goto(f"/admin/answering/call/{call.pk}/answer/")
            first.select_option('select[data-key="reason"]', "Other")
            first.fill('textarea[data-key="body"], input[data-key="body"]', "A second go")
            first.select_option("#id_wrap_up", "message_taken")
            with first.expect_navigation():
                first.get_by_role("button", name="Save and wrap up").click()
            assert "has already been answered" in first.content()

            portal = browser.new_context(base_url=f"http://acme.localhost:{asgi_port}")
            try:
                page = portal.new_page()
                page.goto("/accounts/login/")
                page.fill("#id_username", "acme-admin")
                page.fill("#id_password", DEMO_PASSWORD)
                with page.expect_navigation():
                    page.click("main form button[type=submit]")
                page.goto(f"/calls/{call.pk}/")
                text = page.inner_text("main")
                assert "Transferred" in text
                assert "Put through" in text
                assert "Mari Tamm" in text  # the same caller as the desk named
                screenshot(page, "portal-call-transferred")
            finally:
                portal.close()
        finally:
            done.wait(timeout=95)
            tear_down(made)
