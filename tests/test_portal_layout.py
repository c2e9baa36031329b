"""The portal's layout in a real browser, at a laptop's width (1366 x 768) and a phone's (390 x 844),
in English and Estonian: every screen of the navigation is on screen, or one tap away behind the
Menu button, and nothing runs off the side. A screenshot of each width goes to docs/screenshots/."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.browser import screenshot

LAPTOP, PHONE = (1366, 768), (390, 844)


def _labels(language: str) -> list[str]:
    from portal.navigation import SCREENS

    with translation.override(language):
        return [str(label) for _name, label, _admin in SCREENS]


def _in_estonian(page, live_server_port) -> None:
    page.context.add_cookies(
        [{"name": "django_language", "value": "et", "url": f"http://acme.localhost:{live_server_port}"}]
    )


@pytest.mark.parametrize("language", ["en", "et"])
@pytest.mark.parametrize(("width", "height"), [LAPTOP, PHONE], ids=["1366x768", "390x844"])
def test_every_screen_is_on_screen_or_behind_the_menu(portal, live_server_port, language, width, height):
    page = portal("acme-admin", "acme")
    if language == "et":
        _in_estonian(page, live_server_port)
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/")
    nav = page.locator("nav.portal-nav")
    menu = nav.locator("button.nav-toggle")
    links = [nav.get_by_role("link", name=label, exact=True) for label in _labels(language)]

    if (width, height) == PHONE:
        assert menu.is_visible()
        assert menu.get_attribute("aria-expanded") == "false"
        assert not any(link.is_visible() for link in links)  # folded away, out of the page's way
        menu.click()
        assert menu.get_attribute("aria-expanded") == "true"
    else:
        assert not menu.is_visible()
    for link in links:
        assert link.is_visible(), link
        box = link.bounding_box()
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= width, "a screen runs off the side"
        if (width, height) == LAPTOP:
            assert box["y"] + box["height"] <= height, "a screen is below the first screenful"
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing scrolls sideways
    assert page.locator("#time-zone").is_visible()
    if language == "en":
        screenshot(page, f"portal-navigation-{width}")


def test_on_a_phone_the_menu_leads_to_a_screen_and_escape_closes_it(portal):
    page = portal("acme-admin", "acme")
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    page.goto("/")
    menu = page.locator("nav.portal-nav button.nav-toggle")
    menu.click()
    page.locator("nav.portal-nav").get_by_role("link", name="Security", exact=True).click()
    page.wait_for_url("**/security/")
    assert not page.locator("nav.portal-nav").get_by_role("link", name="Security").is_visible()
    menu.click()
    current = page.locator("nav.portal-nav a[aria-current=page]")
    assert current.inner_text() == "Security"
    page.keyboard.press("Escape")
    assert not current.is_visible()
    assert menu.get_attribute("aria-expanded") == "false"


def test_the_browser_finds_the_favicon(portal):
    page = portal(None, "acme")
    page.goto("/accounts/login/")
    assert page.locator('link[rel="icon"]').get_attribute("href") == "/favicon.ico"
    response = page.goto("/favicon.ico")
    assert response.status == 200
    assert response.body()[:4] == b"\x00\x00\x01\x00"
