"""The portal's shell, in a real browser: sign-in, the navigation a person gets, the language."""

from __future__ import annotations

from tests.browser import screenshot


def test_sign_in_shows_the_portal_and_a_wrong_password_does_not(portal):
    page = portal("acme-admin", "acme")
    assert page.url.endswith("/")
    assert page.locator("nav.portal-nav").is_visible()
    screenshot(page, "portal-today")

    refused = portal("acme-admin", "acme", password="not-the-password")
    assert "/accounts/login/" in refused.url
    assert refused.get_by_role("alert").is_visible()


def test_a_globex_user_cannot_sign_in_to_acme(portal):
    page = portal("globex-admin", "acme")
    assert page.locator("nav.portal-nav").count() == 0
    assert "Not found" in page.content()


def test_switching_to_estonian_is_remembered(portal):
    page = portal("acme-admin", "acme")
    page.select_option("#language-select", "et")
    page.click("form.language-switch button")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "et"
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "et"
    assert page.get_by_role("button", name="Logi välja").is_visible()
