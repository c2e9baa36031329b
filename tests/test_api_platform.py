"""The API platform's answers to bad input and unknown paths: always JSON, always clear."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("offset=-1", "offset"),
        ("offset=1.5", "offset"),
    ],
)
def test_bad_pagination_is_a_400_naming_the_parameter(client_for, acme_admin, query, field):
    response = client_for("acme.localhost", acme_admin).get(f"/api/v1/lines/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_good_pagination_pages(client_for, acme_admin):
    api = client_for("acme.localhost", acme_admin)
    everything = api.get("/api/v1/lines/").json()
    first = api.get("/api/v1/lines/?limit=1&offset=0").json()
    assert everything["count"] >= 2
    assert first["results"] == everything["results"][:1]
    assert first["next"] is not None


@pytest.mark.parametrize("path", ["/api/v1/messages/not-a-number/", "/api/v1/no-such-thing/"])
def test_a_path_that_matches_no_route_is_a_json_404(client_for, acme_admin, path):
    response = client_for("acme.localhost", acme_admin).get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_portal_path_that_matches_no_route_is_still_a_page(client_for, acme_admin):
    response = client_for("acme.localhost", acme_admin).get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
