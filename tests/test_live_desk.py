"""The live desk in a real browser, served by daphne (ASGI: pages and the console's socket) over the
test database: two agents sign in and set themselves available; `simulate_call` places a call as
Twilio would (signed webhooks, then the <Enqueue> hold loop); it appears on exactly one console
without a reload; that agent accepts and lands on the call's answer page, in its company. The
screenshots illustrate the agent's guide."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.utils import timezone

from tests.browser import screenshot
from tests.fixtures import in_test_context

pytestmark = pytest.mark.usefixtures("live_db")
RECEPTION = "+3726001001"


@pytest.fixture(scope="module")
def asgi_port(demo_world, django_db_blocker):
    """daphne in a child process on a free port, against the test database. With no Redis the
    in-memory layer serves, and this one process runs the desk's pass (as run_demo does)."""
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
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from demo.world import DEMO_PASSWORD
    from desk.models import AgentState, Presence

    contexts, users = [], []

    def sign_in(username: str):
        context = browser.new_context(base_url=f"http://localhost:{asgi_port}", viewport={"width": 1366, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/admin/login/?next=/admin/")
        device = TOTPDevice.objects.get(user__username=username, name="demo")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = max(timezone.now().timestamp(), (device.last_t + 1) * device.step + device.t0)
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.fill("#id_otp_token", f"{totp.token():0{device.digits}d}")
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_load_state()
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
        page.get_by_role("button", name="Available").click()
        page.wait_for_load_state()
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

        offered.get_by_role("button", name="Accept").click()
        offered.wait_for_load_state()
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
