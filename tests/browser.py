"""Browser tests (loaded with `-p tests.browser`): the real WSGI app on a live server over the
test database, driven by Playwright in Debian's Chromium.

The server runs in a thread of the test process, so it sees the session's demo world. A browser
test must not use the `db` fixture (its transaction would hide the test's rows from the server);
it asks for `live_db`, which allows database access without a transaction, and cleans up what it
creates. Screenshots for the README and the guides are written by `screenshot(page, name)`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def demo_totp_code(username: str) -> str:
    """The current code of `username`'s demo device, good for one sign-in. django-otp accepts a code
    only for a step after the last one it accepted (`last_t`), within one step of now. Browser tests
    sign one person in several times a minute: stepping past `last_t` each time ran ahead of the
    clock by more than that tolerance, and the third sign-in in a minute stayed on the sign-in page.
    So forget the step last accepted (replay protection is staff/tests' subject, not this one's)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=username, name="demo")
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture(scope="session")
def live_server_port(demo_world, django_db_blocker):
    """A threaded WSGI server for the whole app (static files through WhiteNoise) on 127.0.0.1.
    Chromium resolves every `*.localhost` name to loopback, so `http://acme.localhost:<port>/`
    reaches acme's portal."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


@pytest.fixture
def live_db(django_db_blocker):
    """Database access with no wrapping transaction: what the test writes, the server sees (the
    blocker is process-wide, so this also lets the server's threads in). Clean up after yourself."""
    from django.db import connections

    with django_db_blocker.unblock():
        try:
            yield
        finally:
            # Playwright's sync API runs the test under its own context variables, so the ORM
            # calls of a browser test use a connection of their own that nothing else would close;
            # left open, it keeps the session's test database from being dropped at the end.
            connections.close_all()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {CHROMIUM} is missing (apt-get install -y chromium)")
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
    # alongside it are ordinary blocking calls, which Django would otherwise refuse there.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def portal(browser, live_server_port, live_db):
    """`portal("acme-admin", "acme")`: a browser page signed in to that company's portal through
    its real sign-in form. `portal(None, "acme")` is a page that has not signed in."""
    from demo.world import DEMO_PASSWORD

    contexts = []

    def open_page(username: str | None, slug: str, *, password: str = DEMO_PASSWORD):
        context = browser.new_context(
            base_url=f"http://{slug}.localhost:{live_server_port}", viewport={"width": 1280, "height": 860}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        if username is not None:
            page.goto("/accounts/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", password)
            with page.expect_navigation():  # the page the click leads to, not the sign-in page before it
                page.click("main form button[type=submit]")
        return page

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    """Take a full-page screenshot. With UPDATE_SCREENSHOTS=1 it replaces docs/screenshots/<name>.png
    (the README's and the guides' pictures); otherwise it goes to a temporary folder, so an ordinary
    run leaves the checkout as it was."""
    import tempfile

    folder = (
        SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else Path(tempfile.gettempdir()) / "vastaja-shots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000, f"screenshot {name} is empty"
    return path
