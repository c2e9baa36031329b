"""Rate limits: per token, and per person for session use; a 429 says when to come back."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


@override_settings(API_RATE_LIMIT="3/min")
def test_the_fourth_request_in_a_minute_is_429_with_retry_after(acme, acme_admin, issue, bearer):
    _, secret = issue(acme_admin, acme, ["lines:read"])
    api = bearer("acme.localhost", secret)

    statuses = [api.get("/api/v1/lines/").status_code for _ in range(3)]
    limited = api.get("/api/v1/lines/")

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 60
    assert "results" not in limited.json()


@override_settings(API_RATE_LIMIT="2/min")
def test_each_token_and_each_session_has_its_own_bucket(acme, acme_admin, issue, bearer, client_for):
    _, first = issue(acme_admin, acme, ["lines:read"])
    _, second = issue(acme_admin, acme, ["lines:read"])
    for _ in range(2):
        assert bearer("acme.localhost", first).get("/api/v1/lines/").status_code == 200
    assert bearer("acme.localhost", first).get("/api/v1/lines/").status_code == 429

    assert bearer("acme.localhost", second).get("/api/v1/lines/").status_code == 200
    session = client_for("acme.localhost", acme_admin)
    assert [session.get("/api/v1/lines/").status_code for _ in range(3)] == [200, 200, 429]


def test_the_counters_live_in_a_cache_that_processes_share():
    from django.conf import settings
    from django.core.cache import caches

    backend = settings.CACHES["throttle"]["BACKEND"]
    assert "locmem" not in backend
    assert "dummy" not in backend
    caches["throttle"].set("throttle-probe", [1, 2, 3], 30)
    assert caches["throttle"].get("throttle-probe") == [1, 2, 3]
