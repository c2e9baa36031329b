"""The guides in docs/, shown inside the product: only the named guides and screenshots are served
(a name is never a path), their screenshots and cross-links point into the product, and staff
guides are for provider staff."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import RequestFactory

from portal.guides import DOCS, GUIDES, guide, screenshot_response, staff_guide_view, staff_screenshot_view


@pytest.mark.parametrize("name", sorted(GUIDES))
def test_a_guide_has_a_title_and_its_screenshots_point_at_the_base(name):
    title, html = guide(name, screenshot_base="/base/")
    assert title
    assert 'src="screenshots/' not in html
    assert "-guide.md" not in html  # links between guides point at the product's pages


def test_an_unknown_guide_is_404():
    with pytest.raises(Http404):
        guide("../README", screenshot_base="/")


@pytest.mark.parametrize("name", ["../README.md", "x.png", "Screen.png", "a/b.png", "admin-dpo-workspace.jpg"])
def test_only_existing_png_names_are_served_as_screenshots(name):
    with pytest.raises(Http404):
        screenshot_response(name)


def _a_screenshot() -> str:
    return sorted(path.name for path in (DOCS / "screenshots").glob("*.png"))[0]


def test_a_screenshot_is_served_as_png():
    response = screenshot_response(_a_screenshot())
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


@pytest.mark.django_db
def test_staff_guides_are_for_provider_staff_and_the_client_guide_is_not_one(acme_admin, agent1):
    request = RequestFactory().get("/admin/help/agent/")
    request.user = acme_admin
    with pytest.raises(Http404):
        staff_guide_view(request, "agent")
    with pytest.raises(Http404):
        staff_screenshot_view(request, _a_screenshot())
    request.user = agent1
    with pytest.raises(Http404):
        staff_guide_view(request, "client-admin")
