"""The API's pagination: limit and offset, with bad values refused (a 400 naming the parameter)
rather than silently ignored, and their bounds in the schema."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api.pagination import StrictLimitOffsetPagination

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


def _page(query: str) -> tuple[int, int]:
    pagination = StrictLimitOffsetPagination()
    request = Request(APIRequestFactory().get(f"/api/v1/lines/?{query}"))
    return pagination.get_limit(request), pagination.get_offset(request)


def test_missing_values_are_the_defaults_and_the_bounds_are_inclusive():
    default = StrictLimitOffsetPagination.default_limit
    assert _page("") == (default, 0)
    assert _page("limit=1&offset=0") == (1, 0)
    assert _page("limit=500&offset=100000") == (500, 100000)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=abc", {"limit": ["A whole number is required."]}),
        ("limit=501", {"limit": ["Must be from 1 to 500."]}),
        ("offset=-1", {"offset": ["Must be 0 or more."]}),
    ],
)
def test_a_bad_value_says_what_is_allowed(query, message):
    with pytest.raises(ValidationError) as refused:
        _page(query)
    assert refused.value.detail == message


def test_the_schema_states_the_bounds():
    parameters = {p["name"]: p["schema"] for p in StrictLimitOffsetPagination().get_schema_operation_parameters(None)}
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 500)
    assert parameters["offset"]["minimum"] == 0
