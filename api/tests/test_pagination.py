"""The API's pagination: limit and offset, with bad values refused (a 400 naming the parameter)
rather than silently ignored, and their bounds in the schema."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api.pagination import EXACT_COUNT_UP_TO, StrictLimitOffsetPagination

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
        ("offset=-1", {"offset": ["Must be from 0 to 2147483647."]}),
        ("offset=55870239561251175993966592", {"offset": ["Must be from 0 to 2147483647."]}),
    ],
)
def test_a_bad_value_says_what_is_allowed(query, message):
    with pytest.raises(ValidationError) as refused:
        _page(query)
    assert refused.value.detail == message


def test_the_schema_states_the_bounds():
    parameters = {p["name"]: p["schema"] for p in StrictLimitOffsetPagination().get_schema_operation_parameters(None)}
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 500)
    assert (parameters["offset"]["minimum"], parameters["offset"]["maximum"]) == (0, 2**31 - 1)


def test_a_page_of_100000_calls_reads_the_newest_first_index_and_never_counts_them_all(acme, client_for, acme_admin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import tenant_context

    from answering.models import Call
    from tests.bulk import rows_copied

    rows_copied(acme, Call, 100_000)
    api = client_for("acme.localhost", acme_admin)
    with CaptureQueriesContext(connection) as first:
        page = api.get("/api/v1/calls/?limit=50").json()
    assert len(page["results"]) == 50
    assert page["count_is_estimate"] is True
    assert page["count"] > 50_000
    assert page["next"]
    assert page["results"][0]["started_at"] >= page["results"][-1]["started_at"]

    listing = [q["sql"] for q in first.captured_queries if "answering_call" in q["sql"] and "LIMIT 51" in q["sql"]]
    assert len(listing) == 1, first.captured_queries
    with tenant_context(acme), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {listing[0]}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "call_newest" in plan, plan
    top = plan.splitlines()[:3]
    assert not any("Sort" in line for line in top), plan  # the index gives the order: nothing sorts 100,000 rows
    counts = [q["sql"] for q in first.captured_queries if "COUNT(" in q["sql"] and "answering_call" in q["sql"]]
    assert counts
    assert all(f"LIMIT {EXACT_COUNT_UP_TO + 1}" in sql for sql in counts), counts  # never the whole table
    assert all("answering_voicemail" not in sql for sql in counts), counts  # nor a subquery per counted row

    with CaptureQueriesContext(connection) as deeper:
        later = api.get("/api/v1/calls/?limit=200&offset=5000").json()
    assert len(later["results"]) == 200
    assert len(deeper.captured_queries) == len(first.captured_queries)  # constant in rows and pages


def test_a_short_list_counts_exactly_and_its_last_page_has_no_next(client_for, acme_admin):
    api = client_for("acme.localhost", acme_admin)
    everything = api.get("/api/v1/calls/?limit=500").json()
    assert everything["count_is_estimate"] is False
    assert everything["count"] == len(everything["results"])
    assert everything["next"] is None
    last = api.get(f"/api/v1/calls/?limit=1&offset={everything['count'] - 1}").json()
    assert last["count"] == everything["count"]
    assert last["next"] is None
    beyond = api.get(f"/api/v1/calls/?offset={everything['count'] + 10}").json()
    assert beyond["results"] == []
    assert beyond["next"] is None
    assert beyond["count"] == everything["count"]
    assert beyond["count_is_estimate"] is False


def test_a_grouped_list_and_a_plain_list_count_their_own_rows(acme):
    from django.db.models import Count
    from django_tenants.utils import tenant_context

    from answering.models import Call

    request = Request(APIRequestFactory().get("/api/v1/analytics/?limit=1"))
    with tenant_context(acme):
        per_line = Call.objects.values("line").annotate(calls=Count("id")).order_by("line")
        lines = len(list(per_line))
        assert Call.objects.count() > lines > 1  # so that counting calls would be a different answer
        pagination = StrictLimitOffsetPagination()
        assert len(pagination.paginate_queryset(per_line, request)) == 1
        assert pagination.count == lines
    plain = StrictLimitOffsetPagination()
    assert plain.paginate_queryset(list(range(7)), request) == [0]
    assert plain.count == 7
