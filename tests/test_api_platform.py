"""The API platform's answers to unknown paths: always JSON under /api/, always clear."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/messages/not-a-number/", "/api/v1/no-such-thing/"])
def test_a_path_that_matches_no_route_is_a_json_404(client_for, acme_admin, path):
    response = client_for("acme.localhost", acme_admin).get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_portal_path_that_matches_no_route_is_still_a_page(client_for, acme_admin):
    response = client_for("acme.localhost", acme_admin).get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
