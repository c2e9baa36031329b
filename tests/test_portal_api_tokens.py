"""The API tokens page in a real browser: create a token with chosen scopes, copy the secret shown
once, use it against the API, revoke it."""

from __future__ import annotations

import urllib.error
import urllib.request

from tests.browser import screenshot


def _api_status(port: int, secret: str) -> int:
    headers = {"Host": "acme.localhost", "Authorization": f"Bearer {secret}"}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/messages/", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_create_use_and_revoke_a_token(portal, live_server_port):
    from api.tokens.models import ApiToken

    page = portal("acme-admin", "acme")
    try:
        page.get_by_role("link", name="API tokens").click()
        page.get_by_label("Name").fill("Browser test robot")
        page.get_by_label("Messages: ").first.check()  # messages:read
        page.get_by_role("button", name="Create token").click()
        page.wait_for_load_state()

        secret = page.locator("#new-token-secret").input_value()
        assert secret.startswith("vst_")
        assert page.get_by_text("shown only this once").is_visible()
        screenshot(page, "portal-api-tokens")
        assert _api_status(live_server_port, secret) == 200

        page.get_by_role("button", name="Revoke Browser test robot").click()
        page.wait_for_load_state()
        assert page.get_by_text("is revoked").is_visible()
        assert page.locator("#new-token-secret").count() == 0
        assert _api_status(live_server_port, secret) == 401
    finally:
        ApiToken.objects.filter(name="Browser test robot").delete()


def test_the_api_docs_page_renders_from_vendored_files(portal):
    page = portal("acme-admin", "acme")
    external = []
    page.on("request", lambda request: external.append(request.url) if "localhost" not in request.url else None)
    page.goto("/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert page.locator(".opblock-summary-path", has_text="/api/v1/tokens/").count() >= 1
    assert external == []
    screenshot(page, "api-docs")
